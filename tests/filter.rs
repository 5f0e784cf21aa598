//! The filter against the decision itself: for policies that use the
//! language's constructs (ordered and unordered blocks, several policies,
//! contracts, `??`, quantifiers, principal matching, built records, row
//! filters, `authenticate`), and random resources of every type (absent
//! fields, nulls, wrong types, lists and records), a resource passes the
//! residual exactly when the decision allows it, through the statement and
//! with the row filters the filter names. Constructs no condition can
//! express are refused with `PCL600`/`PCL601`, never widened.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails loudly"
)]

#[allow(dead_code, reason = "the filter tests read case files only")]
mod common;

use portcullis::filter::{FilterKind, Schema};
use portcullis::{Code, Data, PolicySet, Request, Value};
use proptest::prelude::*;
use serde_json::{json, Value as Json};

fn leaf() -> impl Strategy<Value = Json> {
    prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::Bool),
        (-2i64..4).prop_map(|i| json!(i)),
        prop::sample::select(vec![1.0f64, 1.5, 2.0]).prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "x",
            "y",
            "xy",
            "alice",
            "Alice",
            "al",
            "secret",
            "",
            "7",
            "b0000000-0000-4000-8000-00000000000a",
            "B0000000-0000-4000-8000-00000000000A",
            "user:alice",
        ])
        .prop_map(|s| json!(s)),
    ]
}

const KEYS: [&str; 9] = [
    "owner", "kind", "n", "a", "b", "tags", "frozen", "acl", "project",
];

fn value() -> impl Strategy<Value = Json> {
    leaf().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Json::Array),
            prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), inner, 0..4).prop_map(
                |m| Json::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            ),
        ]
    })
}

/// A resource: mostly a record over the keys, sometimes anything.
fn resource() -> impl Strategy<Value = Json> {
    prop_oneof![
        6 => prop::collection::btree_map(prop::sample::select(KEYS.to_vec()), value(), 0..6)
            .prop_map(|m| Json::Object(m.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        1 => value(),
    ]
}

struct Case {
    policy: PolicySet,
    requests: Vec<Json>,
}

fn case(text: &str, requests: Vec<Json>) -> Case {
    Case {
        policy: PolicySet::from_source(text).unwrap_or_else(|e| panic!("{}\n{text}", e.summary())),
        requests,
    }
}

fn cases() -> Vec<Case> {
    let alice =
        json!({"name": "alice", "id": "b0000000-0000-4000-8000-00000000000a", "roles": ["editor"]});
    let admin =
        json!({"name": "root", "id": "b0000000-0000-4000-8000-00000000000b", "roles": ["admin"]});
    let req = |p: &Json| json!({"principal": p, "action": "read"});
    let both = vec![
        req(&alice),
        req(&admin),
        json!({"principal": null, "action": "read"}),
    ];
    vec![
        case(
            r#"actions: read
            policy p for read in order {
              deny "frozen" when resource.frozen == true
              owner: allow when resource.owner == principal.name
              allow when resource.n > 1 and resource.kind in ["x", "y"]
              deny
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            policy p for read {
              mine: allow when (resource.owner ?? null) == principal.name
              deny when (resource.kind ?? "") == "secret"
              admin: allow when "admin" in principal.roles
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            policy a for read { allow when resource.a == 1 }
            policy b for read { deny when resource.b == true  allow when resource.b == false }
            policy c for read { allow when (resource.kind ?? null) == "x" }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            policy p for read in order {
              tagged: allow when any t in resource.tags: t == "x"
              every: allow when all t in (resource.tags ?? []): t == "y" or t == principal.name
              allow when "alice" in resource.tags
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            policy p for read in order {
              allow when type_of(resource.n) == "int" and resource.n >= 2
              allow when has(resource, "kind") and resource.kind like "x*"
              allow when match (resource.kind ?? null) { "x" => false, "y" => resource.a == 1, null => resource.b == true, _ => false }
              allow when starts_with(resource.owner ?? "", "al") and (resource.tags ?? []) != []
              allow when if (resource.frozen ?? false) == true then false else resource.n == 2
              deny
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            principals { user == .id as uuid  role in .roles  anyone-at-all anyone }
            policy p for read in order {
              owner: allow when principal matches user:{resource.owner}
              pair: allow when principal matches (role:editor, user:{resource.project.owner ?? null})
              listed: allow when principal matches [role:admin, user:{resource.kind}]
              wide: allow when principal matches [(anyone-at-all,), user:{resource.a}] and (resource.b ?? null) == "x"
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            request {
              principal: { name: string, id: uuid, roles: [string] }?
              resource: { owner: string, tags?: [string], n?: int | string, project: { owner: uuid }? }
            }
            policy p for read in order {
              unauthenticated "who?" when principal == null
              allow when resource.owner == principal.name
              allow when (resource.project ?? null) != null and uuid(resource.project.owner) == uuid(principal.id)
              allow when "x" in (resource.tags ?? [])
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            principals { user == .name }
            rule acl(r) = { read: [user:{r.owner}, user:{r.kind ?? null}], write: user:admin }
            policy p for read in order {
              let d = acl(resource)
              shared: allow "shared with {principal.name}" when principal matches d[action]
                with { filters: { owner: principal.name }, principal: { via: "acl" } }
              kinds: allow when (resource.kind ?? null) in ["x", "y", null]
                with { filters: { kind: "listed" } }
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            authenticate {
              unauthenticated "log in" when principal == null
              deny "locked" when (resource.frozen ?? false) == true
            }
            policy p for read { allow when resource.n != 0 }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            open actions: peek
            public actions: ping
            policy p for read { allow when resource.a == 1 }"#,
            vec![
                json!({"principal": alice, "action": "peek"}),
                json!({"principal": null, "action": "peek"}),
                json!({"principal": null, "action": "ping"}),
                json!({"principal": alice, "action": "delete"}),
                req(&alice),
            ],
        ),
        case(
            r#"actions: read
            let limits = {x: 1, y: 2}
            policy p for read in order {
              let k = resource.kind ?? "none"
              deny when k == "secret"
              allow when (limits[k] ?? 0) == 1 or [resource.a ?? null, 1] == [2, 1]
              allow when {a: resource.a ?? null} == {a: true}
            }"#,
            both.clone(),
        ),
        case(
            r#"actions: read
            policy p for read in order {
              allow when resource == null
              allow when resource.a == "x" and resource.b.c == "y"
              allow when (resource.project.owner ?? "") == "alice"
            }"#,
            both,
        ),
    ]
}

/// A request of a case and its filter, computed once.
struct Prepared {
    policy: std::sync::Arc<PolicySet>,
    request: Json,
    filter: portcullis::Filter,
}

fn prepare() -> Vec<Prepared> {
    let mut out = Vec::new();
    for c in cases() {
        let policy = std::sync::Arc::new(c.policy);
        for req in c.requests {
            let request = Request::from_json(&req).unwrap();
            let filter = policy
                .filter_with(&request, &Data::empty(), &Schema::open())
                .unwrap_or_else(|e| panic!("no filter for {req}: {e:?}"));
            out.push(Prepared {
                policy: policy.clone(),
                request: req,
                filter,
            });
        }
    }
    out
}

fn check(p: &Prepared, resource: &Json) -> Result<(), TestCaseError> {
    let (req, filter) = (&p.request, &p.filter);
    let mut full = req.clone();
    full["resource"] = resource.clone();
    let decision = p
        .policy
        .decide(&Request::from_json(&full).unwrap(), &Data::empty());
    let value = Value::from_json(resource, 128).unwrap();
    prop_assert_eq!(
        decision.is_allowed(),
        filter.allows(&value),
        "decided {:?} ({}) on {} for {}\nresidual: {}",
        decision.outcome,
        decision.reason,
        resource,
        req,
        filter.to_json()
    );
    if let (true, Some(decided)) = (decision.is_allowed(), decision.statements.first()) {
        let branch = filter.allows.iter().find(|a| a.when.holds(&value));
        let branch =
            branch.unwrap_or_else(|| panic!("no branch holds of {resource}: {}", filter.to_json()));
        prop_assert_eq!(
            &branch.statement.id,
            &decided.id,
            "deciding statement on {}",
            resource
        );
        prop_assert_eq!(
            branch.filters.as_ref(),
            decision.filters.as_ref(),
            "row filters on {}",
            resource
        );
        let n = filter
            .allows
            .iter()
            .filter(|a| a.when.holds(&value))
            .count();
        prop_assert_eq!(n, 1, "branches are exclusive: {}", filter.to_json());
    }
    Ok(())
}

#[test]
fn the_residual_allows_exactly_what_the_decision_allows() {
    let prepared = prepare();
    let config = ProptestConfig {
        cases: 3000,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = proptest::test_runner::TestRunner::new(config);
    let result = runner.run(&resource(), |r| {
        for p in &prepared {
            check(p, &r)?;
        }
        Ok(())
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

fn refused(text: &str, request: Json, data: Json) -> portcullis::FilterError {
    let set = PolicySet::from_source(text).unwrap_or_else(|e| panic!("{}", e.summary()));
    let data = set.load_data(&data).unwrap();
    match set.filter(&Request::from_json(&request).unwrap(), &data) {
        Ok(f) => panic!("expected a refusal, got {}", f.to_json()),
        Err(e) => e,
    }
}

#[test]
fn constructs_no_condition_can_express_are_refused_by_name() {
    let req = json!({"principal": {"name": "alice"}, "action": "read"});
    for (body, names) in [
        ("allow when secret_eq(resource.key, \"5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8\")", "secret_eq"),
        ("allow when resource.name matches re\"a.*\"", "regular expression"),
        ("allow when lower(resource.name) == \"alice\"", "lower"),
        ("allow when resource.tags[0] == \"x\"", "by position"),
        ("allow when (count t in resource.tags: t == \"x\") > 1", "count"),
        ("allow when any t in resource.tags: t > 1", "may fail on an element"),
        ("allow when principal matches resource.acl", "descriptor read from the resource"),
        ("allow when data.list[resource.n] == 1", "key is read from the resource"),
    ] {
        let text = format!("actions: read\nprincipals {{ user == .name }}\npolicy p for read {{\n  {body}\n}}");
        let e = refused(&text, req.clone(), json!({"list": [1, 2]}));
        assert_eq!(e.code, Code::FilterUnsupported, "{body}: {e:?}");
        assert!(e.message.contains(names), "{body}: {}", e.message);
        let s = e.statement.as_ref().expect("the statement is named");
        assert_eq!(&*s.id, "p#1");
        assert!(e.span.is_some(), "{body}: the construct's span");
    }
}

#[test]
fn a_data_lookup_keyed_by_the_resource_refuses_past_its_limit() {
    let rows: Vec<Json> = (0..600)
        .map(|i| json!({"id": i, "owner": format!("u{i}")}))
        .collect();
    let text = "actions: read\npolicy p for read {\n  allow when (first r in data.rows: r.id == resource.row).owner == principal.name\n}";
    let e = refused(
        text,
        json!({"principal": {"name": "u1"}, "action": "read"}),
        json!({"rows": rows}),
    );
    assert_eq!(e.code, Code::FilterLimit, "{e:?}");
    // A small table unrolls into a condition.
    let set = PolicySet::from_source(text).unwrap();
    let data = set
        .load_data(&json!({"rows": [{"id": 1, "owner": "u1"}, {"id": 2, "owner": "u2"}]}))
        .unwrap();
    let f = set
        .filter(
            &Request::from_json(&json!({"principal": {"name": "u1"}, "action": "read"})).unwrap(),
            &data,
        )
        .unwrap();
    assert_eq!(f.kind, FilterKind::Residual);
    assert!(f.allows(&Value::from_json(&json!({"row": 1}), 8).unwrap()));
    assert!(!f.allows(&Value::from_json(&json!({"row": 2}), 8).unwrap()));
    assert!(!f.allows(&Value::from_json(&json!({"row": "1"}), 8).unwrap()));
}

#[test]
fn constant_answers_carry_the_decision() {
    let set = PolicySet::from_source(
        "actions: read\nundeclared actions: deny \"no {action}\"\npolicy p for read in order {\n  anon: unauthenticated \"log in\" when principal == null\n  admin: allow when \"admin\" in principal.roles\n  allow when resource.a == 1\n}",
    )
    .unwrap();
    let f = |r: Json| {
        set.filter(&Request::from_json(&r).unwrap(), &Data::empty())
            .unwrap()
    };
    let anon = f(json!({"principal": null, "action": "read"}));
    assert_eq!(anon.kind, FilterKind::Never);
    let refusal = anon.refusal.unwrap();
    assert_eq!(refusal.outcome, portcullis::Outcome::Unauthenticated);
    assert_eq!(refusal.reason.as_deref(), Some("log in"));
    let admin = f(json!({"principal": {"roles": ["admin"]}, "action": "read"}));
    assert_eq!(admin.kind, FilterKind::Always);
    assert_eq!(&*admin.allows[0].statement.id, "p.admin");
    let undeclared = f(json!({"principal": {"roles": []}, "action": "write"}));
    assert_eq!(undeclared.kind, FilterKind::Never);
    assert_eq!(
        undeclared.refusal.unwrap().reason.as_deref(),
        Some("no write")
    );
    let user = f(json!({"principal": {"roles": []}, "action": "read"}));
    assert_eq!(user.kind, FilterKind::Residual);
    assert_eq!(user.to_json()["version"], 1);
    assert_eq!(
        user.to_json()["condition"],
        json!({"op": "eq", "path": ["a"], "value": 1})
    );
}

#[test]
fn a_partly_known_resource_fixes_its_keys() {
    let set = PolicySet::from_source(
        "actions: read\npolicy p for read in order {\n  allow when resource.type == \"doc\" and resource.owner == principal.name\n  allow when resource.type == \"memo\"\n}",
    )
    .unwrap();
    let f = |r: Json| {
        set.filter(&Request::from_json(&r).unwrap(), &Data::empty())
            .unwrap()
    };
    let docs =
        f(json!({"principal": {"name": "al"}, "action": "read", "resource": {"type": "doc"}}));
    assert_eq!(
        docs.condition.to_json(),
        json!({"op": "eq", "path": ["owner"], "value": "al"})
    );
    let memos =
        f(json!({"principal": {"name": "al"}, "action": "read", "resource": {"type": "memo"}}));
    assert_eq!(memos.kind, FilterKind::Always);
    let known = f(json!({"principal": {"name": "al"}, "action": "read", "resource": null}));
    assert_eq!(known.kind, FilterKind::Never);
}

#[test]
fn mappings_are_checked_when_loaded() {
    use portcullis::filter::mapping::Mapping;
    let bad = |m: Json, word: &str| {
        let e = Mapping::from_json(&m).unwrap_err();
        assert_eq!(e.code, Code::InvalidMapping, "{m}");
        assert!(e.message.contains(word), "{m}: {}", e.message);
    };
    let col = |c: &str, t: &str| json!({"column": c, "type": t});
    bad(
        json!({"version": 2, "table": "t", "resource": {}}),
        "must be 1",
    );
    bad(
        json!({"version": 1, "table": "t; drop", "resource": {}}),
        "plain SQL name",
    );
    bad(
        json!({"version": 1, "table": "t", "resource": {"a": col("a", "float")}}),
        "`type`",
    );
    bad(
        json!({"version": 1, "table": "t", "resource": {"a": {"column": "a", "type": "int", "nul": "x"}}}),
        "unknown key `nul`",
    );
    bad(
        json!({"version": 1, "table": "t", "resource": {"a": {"table": "x"}}}),
        "a field maps to",
    );
    bad(
        json!({"version": 1, "table": "t", "resource": {"a": {"many": {"table": "c", "on": {"p": "id"}},
            "element": {"column": "v", "type": "int", "null": "absent"}}}}),
        "cannot be absent",
    );
    bad(
        json!({"version": 1, "table": "t", "resource": {"a": {"one": {"table": "c", "on": {}}, "fields": {}}}}),
        "`on`",
    );
    bad(
        json!({"version": 1, "table": "t", "extra": 1, "resource": {}}),
        "unknown key `extra`",
    );

    let set = PolicySet::from_source(
        "actions: read\nrequest { resource: { owner: string, tags?: [string] } }\npolicy p for read { allow when resource.owner == \"x\" }",
    )
    .unwrap();
    let check = |m: Json| Mapping::from_json(&m).unwrap().check(&set, "read");
    assert!(
        check(json!({"version": 1, "table": "t", "resource": {"owner": col("o", "string")}}))
            .is_ok()
    );
    let mismatch = |m: Json, word: &str| {
        let e = check(m.clone()).unwrap_err();
        assert_eq!(e.code, Code::MappingMismatch, "{m}");
        assert!(e.message.contains(word), "{m}: {}", e.message);
    };
    mismatch(
        json!({"version": 1, "table": "t", "resource": {}}),
        "requires this field",
    );
    mismatch(
        json!({"version": 1, "table": "t", "resource": {"owner": col("o", "int")}}),
        "no row would fit",
    );
    mismatch(
        json!({"version": 1, "table": "t", "resource": {"owner": col("o", "string"), "extra": col("e", "int")}}),
        "does not declare",
    );
    mismatch(
        json!({"version": 1, "table": "t", "resource": {"owner": col("o", "string"),
            "tags": {"many": {"table": "tags", "on": {"doc": "id"}}, "element": col("v", "int")}}}),
        "no row would fit",
    );
}

#[test]
fn sql_keeps_comparisons_exact() {
    use portcullis::filter::mapping::Mapping;
    use portcullis::filter::sql::{render, Dialect, Param};
    let set = PolicySet::from_source(
        "actions: read\npolicy p for read in order {\n  allow when resource.n == \"7\"\n  allow when resource.n == 2\n  allow when resource.n < data.bound and resource.n > -1\n  allow when resource.s like \"a*_%?\"\n}",
    )
    .unwrap();
    let m = Mapping::from_json(&json!({"version": 1, "table": "t", "resource": {
        "n": {"column": "n", "type": "int"}, "s": {"column": "s", "type": "string"}}}))
    .unwrap();
    let data = set.load_data(&json!({"bound": 2.5})).unwrap();
    let f = set
        .filter_with(
            &Request::from_json(&json!({"principal": null, "action": "read"})).unwrap(),
            &data,
            &m.schema(),
        )
        .unwrap();
    let w = render(&f, &m, Dialect::Sqlite).unwrap();
    // No text meets the integer column; 2.5 is the integer bound 2.
    assert!(!w.params.contains(&Param::Text("7".into())), "{w:?}");
    assert!(w.params.contains(&Param::Int(2)), "{w:?}");
    assert!(w.clause.contains("\"t\".\"n\" <= ?"), "{}", w.clause);
    assert!(w.params.contains(&Param::Text("a*_%[?]".into())), "{w:?}");
    let w = render(&f, &m, Dialect::Postgres).unwrap();
    assert!(w.params.contains(&Param::Text("a%\\_\\%?".into())), "{w:?}");
    assert!(w.clause.contains("LIKE CAST($"), "{}", w.clause);
}

/// Every conformance and edge case of the bundles, its resource taken out:
/// where the bundle's policy gives a filter (some refuse, by name), it
/// admits the case's resource exactly when the case's decision allows.
#[test]
fn the_bundle_cases_agree_with_their_filters() {
    let (mut agreed, mut refused) = (0, 0);
    for bundle in ["flip", "flexmeasures", "diracx", "flask-rbac", "rs-server"] {
        let set = PolicySet::from_file(format!(
            "{}/policies/{bundle}.pcl",
            env!("CARGO_MANIFEST_DIR")
        ))
        .unwrap();
        for dir in ["conformance", "bundles"] {
            let file = common::case_file(&format!("{dir}/{bundle}.json"));
            for (case, data) in common::cases_with_data(&file) {
                let Ok(request) = Request::from_json(&case["request"]) else {
                    continue;
                };
                let Ok(data) = set.load_data(&data) else {
                    continue;
                };
                let Some(resource) = case["request"].get("resource") else {
                    continue;
                };
                let mut without = case["request"].clone();
                without.as_object_mut().unwrap().remove("resource");
                let unknown = Request::from_json(&without).unwrap();
                match set.filter(&unknown, &data) {
                    Ok(f) => {
                        let allowed = set.decide(&request, &data).is_allowed();
                        let value = Value::from_json(resource, 128).unwrap();
                        assert_eq!(
                            f.allows(&value),
                            allowed,
                            "{bundle} {}: {}",
                            case["name"],
                            f.to_json()
                        );
                        agreed += 1;
                    }
                    Err(e) => {
                        assert!(
                            matches!(e.code, Code::FilterUnsupported | Code::FilterLimit),
                            "{bundle} {}: {e:?}",
                            case["name"]
                        );
                        refused += 1;
                    }
                }
            }
        }
    }
    eprintln!("{agreed} bundle cases agreed with their filter, {refused} refused");
    assert!(agreed > 100, "{agreed} cases agreed, {refused} refused");
}
