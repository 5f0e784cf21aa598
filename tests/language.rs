//! Each construct of the language, end to end through the public API.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Data, Decision, Outcome, PolicySet, Request};
use serde_json::json;

fn policy(src: &str) -> PolicySet {
    PolicySet::from_source(src).unwrap_or_else(|e| panic!("{}", e.summary()))
}

fn decide(p: &PolicySet, request: serde_json::Value, data: serde_json::Value) -> Decision {
    let req = Request::from_json(&request).unwrap();
    let data = Data::from_json(&data).unwrap();
    p.decide(&req, &data)
}

fn outcome(p: &PolicySet, request: serde_json::Value) -> Outcome {
    decide(p, request, json!({})).outcome
}

fn compile_error(src: &str) -> Code {
    let err = PolicySet::from_source(src)
        .err()
        .unwrap_or_else(|| panic!("compiled: {src}"));
    let code = err.errors().next().unwrap().code;
    code
}

// 1. Requests ---------------------------------------------------------------

#[test]
fn paths_read_requests_headers_and_data() {
    let p = policy(
        r#"actions: read
        policy p for read in order {
          allow when context.headers["X-API-Key"] == "k1" and resource.project.owner_id == 5 and data.flags.on == true
        }"#,
    );
    let req = json!({"action": "read", "resource": {"project": {"owner_id": 5}}, "context": {"headers": {"X-API-Key": "k1"}}});
    assert_eq!(
        decide(&p, req.clone(), json!({"flags": {"on": true}})).outcome,
        Outcome::Allow
    );
    assert_eq!(
        decide(&p, req, json!({"flags": {"on": false}})).outcome,
        Outcome::Deny
    );
}

#[test]
fn values_of_every_kind_compare() {
    let p = policy(
        r#"actions: read
        policy p for read { allow when resource.s == "x" and resource.i == 3 and resource.b == true
          and resource.n == null and resource.l == [1, "a"] and resource.r == {k: [true]}
          and (resource.absent ?? null) == null and not has(resource, "absent") and has(resource, "n") }"#,
    );
    let r = json!({"action": "read", "resource": {"s": "x", "i": 3, "b": true, "n": null, "l": [1, "a"], "r": {"k": [true]}}});
    assert_eq!(outcome(&p, r), Outcome::Allow);
}

#[test]
fn uuids_compare_exactly_unless_the_policy_asks_for_uuid() {
    let owner = json!({"action": "read", "principal": {"id": "B0000000-0000-4000-8000-00000000000A"},
                       "resource": {"owner_id": "b0000000-0000-4000-8000-00000000000a", "members": []}});
    let member = json!({"action": "read", "principal": {"id": "c0000000-0000-4000-8000-00000000000a"},
                        "resource": {"owner_id": null, "members": ["C0000000-0000-4000-8000-00000000000A"]}});
    let exact = policy(
        r#"actions: read
        principals { user == .id }
        policy p for read { allow when principal matches user:{resource.owner_id} or principal.id in resource.members }"#,
    );
    assert_eq!(outcome(&exact, owner.clone()), Outcome::Deny);
    assert_eq!(outcome(&exact, member.clone()), Outcome::Deny);
    let canonical = policy(
        r#"actions: read
        principals { user == .id as uuid }
        policy p for read { allow when principal matches user:{resource.owner_id}
          or uuid(principal.id) in [uuid(m) for m in resource.members] }"#,
    );
    assert_eq!(outcome(&canonical, owner), Outcome::Allow);
    assert_eq!(outcome(&canonical, member), Outcome::Allow);
}

#[test]
fn declared_shapes_type_check_paths() {
    assert_eq!(
        compile_error(
            r#"actions: read
            request { principal: { id: int }? }
            policy p for read { allow when principal.idd == 1 }"#
        ),
        Code::UnknownField
    );
    assert_eq!(
        compile_error(
            r#"actions: read
            request { principal: { id: uuid }? }
            policy p for read { allow when principal.id == 7 }"#
        ),
        Code::TypeMismatch
    );
    assert_eq!(
        compile_error("actions: read\npolicy p for read { allow when 3 in 4 }"),
        Code::TypeMismatch
    );
    assert_eq!(
        compile_error("actions: read\npolicy p for read { allow when 3 like \"x*\" }"),
        Code::TypeMismatch
    );
}

#[test]
fn declared_shapes_check_requests() {
    let p = policy(
        r#"actions: read
        request { principal: { id: int, roles: [string] }? }
        policy p for read { allow }"#,
    );
    let bad =
        Request::from_json(&json!({"action": "read", "principal": {"id": 1, "roles": ["a", 2]}}))
            .unwrap();
    let err = p.validate(&bad, &Data::empty()).unwrap_err();
    assert_eq!(err.field, "request.principal.roles[1]");
    assert!(err.message.contains("expected a string, found an integer"));
    // Deciding such a request fails closed, naming the field.
    let d = p.decide(&bad, &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.reason.contains("request.principal.roles[1]"),
        "{}",
        d.reason
    );
}

// 2. Principals --------------------------------------------------------------

const ACL: &str = r#"
    actions: read
    principals {
      user         == .id as int
      account      == .account.id as int
      role         in .roles
      account-role in .account.roles
      every-logged-in-user anyone
    }
"#;

fn caller() -> serde_json::Value {
    json!({"id": 14, "roles": ["CEO"], "account": {"id": 3, "roles": ["MDC"]}})
}

#[test]
fn principal_literals_tuples_and_or_lists() {
    for (descriptor, want) in [
        ("user:14", Outcome::Allow),
        ("user:014", Outcome::Allow),
        ("user:15", Outcome::Deny),
        ("(account:3, role:CEO)", Outcome::Allow),
        ("(account:3, role:CFO)", Outcome::Deny),
        ("[user:99, (account:3, role:CEO)]", Outcome::Allow),
        ("[user:99, account-role:ESCo]", Outcome::Deny),
        ("account-role:MDC", Outcome::Allow),
        ("every-logged-in-user", Outcome::Allow),
        ("account:{resource.account_id}", Outcome::Allow),
        ("account:{resource.missing}", Outcome::Deny),
    ] {
        let p = policy(&format!(
            "{ACL}\npolicy p for read {{ allow when principal matches {descriptor} }}"
        ));
        let req = json!({"action": "read", "principal": caller(), "resource": {"account_id": 3}});
        assert_eq!(outcome(&p, req), want, "{descriptor}");
    }
}

#[test]
fn descriptors_in_policy_and_in_data_agree() {
    let pairs = [
        ("user:14", json!("user:14")),
        (
            "[user:1, (account:3, role:CEO)]",
            json!(["user:1", ["account:3", "role:CEO"]]),
        ),
        (
            "[(account:3, role:CFO), account-role:MDC]",
            json!([["account:3", "role:CFO"], "account-role:MDC"]),
        ),
        (
            "(account:4, every-logged-in-user)",
            json!([["account:4", "every-logged-in-user"]]),
        ),
        ("[]", json!([])),
        ("[role:CEO]", json!(["role:CEO"])),
        // A tuple member must be one principal: a list inside a tuple is
        // malformed wherever it is written (an error, so a deny).
        (
            "[(account:3, [role:CEO, role:CFO])]",
            json!([["account:3", ["role:CEO", "role:CFO"]]]),
        ),
        ("[(user:14, null)]", json!([["user:14", null]])),
    ];
    let callers = [
        caller(),
        json!({"id": 1, "roles": [], "account": {"id": 9, "roles": []}}),
        json!(null),
    ];
    for (written, data) in pairs {
        let by_policy = policy(&format!(
            "{ACL}\npolicy p for read {{ allow when principal matches {written} }}"
        ));
        let by_data = policy(&format!(
            "{ACL}\npolicy p for read {{ allow when principal matches resource.acl }}"
        ));
        for c in &callers {
            let a = outcome(&by_policy, json!({"action": "read", "principal": c}));
            let b = outcome(
                &by_data,
                json!({"action": "read", "principal": c, "resource": {"acl": data}}),
            );
            assert_eq!(a, b, "{written} vs {data} for {c}");
        }
    }
}

#[test]
fn tuple_members_from_values_match_like_literals() {
    // The every-logged-in-user member widens a tuple whether it is written
    // in place, bound by `let`, or held as data.
    let wide = r#"actions: read
        principals { account == .account.id  every-logged-in-user anyone, even in tuples }
        let anyone = every-logged-in-user"#;
    for descriptor in [
        "(account:4, every-logged-in-user)",
        "(account:4, anyone)",
        "resource.acl",
    ] {
        let p = policy(&format!(
            "{wide}\npolicy p for read {{ allow when principal matches {descriptor} }}"
        ));
        let req = json!({"action": "read", "principal": caller(),
                         "resource": {"acl": [["account:4", "every-logged-in-user"]]}});
        assert_eq!(outcome(&p, req), Outcome::Allow, "{descriptor}");
    }
    let nested = policy(&format!(
        "{ACL}\npolicy p for read {{ allow when principal matches [(account:3, [role:CEO])] }}"
    ));
    let d = decide(
        &nested,
        json!({"action": "read", "principal": caller()}),
        json!({}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.reason.contains("AND tuple holds principals"),
        "{}",
        d.reason
    );
}

#[test]
fn principals_in_reasons_print_their_kind_names() {
    let p = policy(&format!(
        "{ACL}\npolicy p for read {{ deny \"needs {{user:14}} or {{[account:{{resource.a}}, (user:7, role:CEO)]}}\" when true }}"
    ));
    let d = decide(
        &p,
        json!({"action": "read", "principal": caller(), "resource": {"a": 3}}),
        json!({}),
    );
    assert_eq!(
        d.reason.as_ref(),
        r#"needs user:14 or ["account:3",["user:7","role:CEO"]]"#
    );
}

#[test]
fn membership_kinds_compare_exactly_unless_declared_as_int() {
    let exact = policy(
        r#"actions: read
        principals { group in .groups }
        policy p for read { allow when principal matches group:{resource.group} }"#,
    );
    let int = policy(
        r#"actions: read
        principals { group in .groups as int }
        policy p for read { allow when principal matches group:{resource.group} }"#,
    );
    for (group, exactly, as_int) in [
        (json!("7"), Outcome::Deny, Outcome::Allow),
        (json!(7), Outcome::Allow, Outcome::Allow),
        (json!("007"), Outcome::Deny, Outcome::Allow),
        (json!("x"), Outcome::Allow, Outcome::Deny),
        (json!("8"), Outcome::Deny, Outcome::Deny),
    ] {
        let req = json!({"action": "read", "principal": {"groups": [7, "x"]}, "resource": {"group": group}});
        assert_eq!(outcome(&exact, req.clone()), exactly, "{group}");
        assert_eq!(outcome(&int, req), as_int, "{group} as int");
    }
}

#[test]
fn kinds_are_declared_by_the_policy_not_hard_wired() {
    let p = policy(
        r#"actions: read
        principals { user == .login  team in .groups }
        policy p for read { allow when principal matches [user:alice, team:ops] }"#,
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"login": "alice", "groups": []}})
        ),
        Outcome::Allow
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"login": "bob", "groups": ["ops"]}})
        ),
        Outcome::Allow
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"login": "bob", "groups": ["dev"]}})
        ),
        Outcome::Deny
    );
    assert_eq!(
        compile_error(&format!(
            "{ACL}\npolicy p for read {{ allow when principal matches group:5 }}"
        )),
        Code::UnknownPrincipalKind
    );
}

#[test]
fn malformed_principal_literals_are_compile_errors() {
    let typed = r#"actions: read
        request { principal: { id: int, roles: [string] }? }
        principals { user == .id  role in .roles }"#;
    assert_eq!(
        compile_error(&format!(
            "{typed}\npolicy p for read {{ allow when principal matches user:abc }}"
        )),
        Code::MalformedPrincipal
    );
    assert_eq!(
        compile_error(&format!(
            "{typed}\npolicy p for read {{ allow when principal matches role:\"\" }}"
        )),
        Code::MalformedPrincipal
    );
}

// 3. Actions -----------------------------------------------------------------

#[test]
fn undeclared_actions_are_denied_by_name() {
    let p = policy("actions: read\npolicy p for read { allow }");
    let d = decide(&p, json!({"action": "write", "principal": {}}), json!({}));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("`write`"), "{}", d.reason);
    assert_eq!(
        compile_error("actions: read\npolicy p for raed { allow }"),
        Code::UndeclaredAction
    );
}

// 4. Ownership and membership ------------------------------------------------

#[test]
fn ownership_and_membership_through_relations() {
    let p = policy(
        r#"actions: contribute
        principals { user == .id  role in .roles }
        rule owns(project) = project != null and principal matches user:{project.owner_id}
        rule member(project) = principal.id in project.members
        policy p for contribute in order {
          allow when owns(resource.project)
          allow when member(resource.project) and principal matches role:Researcher
        }"#,
    );
    let req = |id: i64, roles: serde_json::Value, project: serde_json::Value| json!({"action": "contribute", "principal": {"id": id, "roles": roles}, "resource": {"project": project}});
    let project = json!({"owner_id": 1, "members": [2, 3]});
    assert_eq!(
        outcome(&p, req(1, json!([]), project.clone())),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&p, req(2, json!(["Researcher"]), project.clone())),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&p, req(2, json!(["Viewer"]), project.clone())),
        Outcome::Deny
    );
    assert_eq!(
        outcome(&p, req(4, json!(["Researcher"]), project)),
        Outcome::Deny
    );
    // A missing relation is null, not a crash.
    assert_eq!(outcome(&p, req(1, json!([]), json!(null))), Outcome::Deny);
}

// 5. Wildcards and patterns ----------------------------------------------------

#[test]
fn globs_and_patterns_with_named_captures() {
    let p = policy(
        r#"actions: read
        let role_pattern = re"rs_catalog_(?P<owner>.*):(?P<collection>.+)_(?P<action>read|write|download)"
        rule grant(role) = captures(role, role_pattern)
        policy p for read in order {
          deny "no glob" when not (any r in principal.roles: r like "rs_catalog_*")
          allow when any r in principal.roles:
            grant(r) != null and grant(r).owner == "toto:S1" and grant(r).collection == "L1" and grant(r).action == "read"
        }"#,
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"roles": ["rs_catalog_toto:S1:L1_read"]}})
        ),
        Outcome::Allow
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"roles": ["rs_catalog_toto:S1:L1_read\n"]}})
        ),
        Outcome::Deny
    );
    assert_eq!(
        outcome(
            &p,
            json!({"action": "read", "principal": {"roles": ["xrs_catalog_toto:S1:L1_read"]}})
        ),
        Outcome::Deny
    );
    assert_eq!(
        compile_error("actions: read\nlet x = re\"(unclosed\"\npolicy p for read { allow }"),
        Code::InvalidPattern
    );
}

#[test]
fn glob_over_action_names_in_policies() {
    let p = policy("actions: wms.read, wms.write, rss.read\npolicy wms for wms.* { allow }\npolicy rss for rss.read { deny }");
    assert_eq!(outcome(&p, json!({"action": "wms.write"})), Outcome::Allow);
    assert_eq!(outcome(&p, json!({"action": "rss.read"})), Outcome::Deny);
}

// 6. Quantifiers, functions and rules -------------------------------------------

#[test]
fn quantifiers_and_helpers() {
    let p = policy(
        r#"actions: read
        rule strip(c) = strip_prefix(c, "{resource.owner}_")
        policy p for read in order {
          allow when (all c in context.collections: strip(c) in ["S1", "toto_S2"])
            and (any c in context.collections: starts_with(c, "toto_"))
            and (count c in context.collections: true) == 3
            and (first c in context.collections: ends_with(c, "2")) == "toto_toto_S2"
            and len(distinct([1, 1, 2])) == 2
        }"#,
    );
    let req = json!({"action": "read", "resource": {"owner": "toto"}, "context": {"collections": ["toto_S1", "S1", "toto_toto_S2"]}});
    assert_eq!(outcome(&p, req), Outcome::Allow);
}

#[test]
fn recursion_between_rules_is_a_compile_error() {
    assert_eq!(compile_error("actions: read\nrule a(x) = b(x)\nrule b(x) = a(x)\npolicy p for read { allow when a(1) }"), Code::RecursiveRule);
    assert_eq!(
        compile_error("actions: read\nlet x = y\nlet y = x\npolicy p for read { allow when x }"),
        Code::RecursiveRule
    );
    assert_eq!(
        compile_error("actions: read\nrule a(x) = x\npolicy p for read { allow when a(1, 2) }"),
        Code::WrongArity
    );
    assert_eq!(
        compile_error("actions: read\npolicy p for read { allow when uper(\"a\") == \"A\" }"),
        Code::UnknownFunction
    );
}

// 7. Decisions ----------------------------------------------------------------

#[test]
fn default_deny_and_deny_overrides_allow() {
    let p = policy(
        r#"actions: read, write
        policy p for read, write {
          allow when principal.id == 1
          banned: deny "banned" when (principal.banned ?? false) == true
        }"#,
    );
    assert_eq!(
        outcome(&p, json!({"action": "read", "principal": {"id": 1}})),
        Outcome::Allow
    );
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"id": 1, "banned": true}}),
        json!({}),
    );
    assert_eq!(
        (d.outcome, &*d.reason, &*d.statements[0].id),
        (Outcome::Deny, "banned", "p.banned")
    );
    let d = decide(
        &p,
        json!({"action": "write", "principal": {"id": 2}}),
        json!({}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.statements.is_empty());
    assert!(d.reason.contains("no statement allows"));
}

#[test]
fn outputs_filters_principal_and_claims() {
    let p = policy(
        r#"actions: list
        policy p for list {
          allow with { filters: {account_id: principal.account, owner: null}, principal: {name: "x"}, claims: {scope: "r"} }
        }"#,
    );
    let d = decide(
        &p,
        json!({"action": "list", "principal": {"account": 7}}),
        json!({}),
    );
    assert_eq!(
        d.filters.unwrap().to_json(),
        json!({"account_id": 7, "owner": null})
    );
    assert_eq!(d.principal.unwrap().to_json(), json!({"name": "x"}));
    assert_eq!(d.claims.unwrap().to_json(), json!({"scope": "r"}));
    assert_eq!(
        compile_error("actions: a\npolicy p for a { deny with { filters: {} } }"),
        Code::InvalidOutput
    );
    assert_eq!(
        compile_error("actions: a\npolicy p for a { allow with { filter: {} } }"),
        Code::InvalidOutput
    );
}

#[test]
fn errors_fail_closed_with_the_error_as_reason() {
    let p = policy(
        r#"actions: a, b
        policy p for a { allow when principal.name like "x*" }
        policy q for b { allow when true
                         deny when principal.flag }"#,
    );
    let d = decide(
        &p,
        json!({"action": "a", "principal": {"name": 5}}),
        json!({}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("`like` matches strings"), "{}", d.reason);
    assert_eq!(&*d.statements[0].id, "p#1");
    // An erroring deny denies even though an allow applies.
    let d = decide(
        &p,
        json!({"action": "b", "principal": {"flag": "yes"}}),
        json!({}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::EvalTypeError);
}

// 8. Credentials ---------------------------------------------------------------

#[test]
fn secrets_are_compared_as_digests_over_every_candidate() {
    let p = policy(
        r#"actions: auth
        policy p for auth in order {
          let key = context.headers.Authorization ?? null
          unauthenticated "missing" when empty(key)
          let row = secret_lookup(key, data.trusts, "api_key_hash")
          allow when row != null with { principal: {id: row.id} }
          unauthenticated "Invalid API Key."
        }"#,
    );
    // sha256("abc")
    let digest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    let data = json!({"trusts": [{"id": 1, "api_key_hash": digest}, {"id": 2, "api_key_hash": null}, {"id": 3, "api_key_hash": digest}]});
    let ok = decide(
        &p,
        json!({"action": "auth", "context": {"headers": {"Authorization": "abc"}}}),
        data.clone(),
    );
    assert_eq!(ok.outcome, Outcome::Allow);
    assert_eq!(ok.principal.unwrap().to_json(), json!({"id": 3}));
    let bad = decide(
        &p,
        json!({"action": "auth", "context": {"headers": {"Authorization": digest}}}),
        data.clone(),
    );
    assert_eq!(
        (bad.outcome, &*bad.reason),
        (Outcome::Unauthenticated, "Invalid API Key.")
    );
    assert!(!bad.reason.contains("abc") && !format!("{bad:?}").contains("\"abc\""));
    let missing = decide(
        &p,
        json!({"action": "auth", "context": {"headers": {}}}),
        data,
    );
    assert_eq!(missing.outcome, Outcome::Unauthenticated);
}

// 9. Composition ----------------------------------------------------------------

#[test]
fn imports_overrides_open_and_public_actions() {
    let dir = std::env::temp_dir().join(format!("pcl-lang-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("base.pcl"),
        "actions: read\nopen actions: config\npublic actions: health\npolicy reader for read { deny \"base\" }",
    )
    .unwrap();
    let p = PolicySet::from_named_source(
        "ext.pcl",
        "import \"base.pcl\"\noverride policy reader { allow }",
        &dir,
        portcullis::Limits::default(),
    )
    .unwrap();
    assert_eq!(
        outcome(&p, json!({"action": "read", "principal": {}})),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&p, json!({"action": "config", "principal": {}})),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&p, json!({"action": "config", "principal": null})),
        Outcome::Unauthenticated
    );
    assert_eq!(
        outcome(&p, json!({"action": "health", "principal": null})),
        Outcome::Allow
    );
    let missing = PolicySet::from_named_source(
        "x.pcl",
        "import \"nope.pcl\"",
        &dir,
        portcullis::Limits::default(),
    );
    assert_eq!(
        missing.unwrap_err().errors().next().unwrap().code,
        Code::UnresolvedImport
    );
    std::fs::write(dir.join("loop.pcl"), "import \"loop.pcl\"").unwrap();
    let looped = PolicySet::from_file(dir.join("loop.pcl"));
    assert_eq!(
        looped.unwrap_err().errors().next().unwrap().code,
        Code::ImportCycle
    );
    assert_eq!(
        compile_error("actions: a\npolicy p for a { allow }\npolicy p for a { deny }"),
        Code::DuplicatePolicy
    );
}

#[test]
fn authenticate_runs_before_every_non_public_action() {
    let p = policy(
        r#"actions: read
        open actions: config
        public actions: health
        authenticate { unauthenticated "Authorization header is missing" when principal == null }
        policy p for read { allow }"#,
    );
    for action in ["read", "config"] {
        let d = decide(&p, json!({"action": action, "principal": null}), json!({}));
        assert_eq!(
            (d.outcome, &*d.reason),
            (Outcome::Unauthenticated, "Authorization header is missing")
        );
    }
    assert_eq!(outcome(&p, json!({"action": "health"})), Outcome::Allow);
}

// 10. Ordered checks -------------------------------------------------------------

#[test]
fn ordered_checks_decide_by_the_first_that_applies() {
    let p = policy(
        r#"actions: read
        undeclared actions: deny "Permission '{action}' cannot be handled."
        policy p for read in order {
          anonymous:  unauthenticated when principal == null
          no-context: deny "no context" when resource == null
          admin:      allow when "admin" in principal.roles
          acl:        allow when principal.id in resource.readers
          deny "Authorization failure"
        }"#,
    );
    let check = |req: serde_json::Value, want: (Outcome, &str)| {
        let d = decide(&p, req, json!({}));
        assert_eq!(
            (
                d.outcome,
                d.statements
                    .first()
                    .map(|s| s.id.to_string())
                    .unwrap_or_default()
                    .as_str()
            ),
            want
        );
    };
    check(
        json!({"action": "read"}),
        (Outcome::Unauthenticated, "p.anonymous"),
    );
    check(
        json!({"action": "read", "principal": {"roles": ["admin"]}}),
        (Outcome::Deny, "p.no-context"),
    );
    check(
        json!({"action": "read", "principal": {"roles": ["admin"]}, "resource": {}}),
        (Outcome::Allow, "p.admin"),
    );
    check(
        json!({"action": "read", "principal": {"id": 1, "roles": []}, "resource": {"readers": [1]}}),
        (Outcome::Allow, "p.acl"),
    );
    check(
        json!({"action": "read", "principal": {"id": 2, "roles": []}, "resource": {"readers": [1]}}),
        (Outcome::Deny, "p#5"),
    );
    let d = decide(&p, json!({"action": "write"}), json!({}));
    assert_eq!(&*d.reason, "Permission 'write' cannot be handled.");
}

// 11. Reasons and data lookups ------------------------------------------------------

#[test]
fn reasons_interpolate_and_rows_are_looked_up() {
    let p = policy(
        r#"actions: *
        policy p for * in order {
          let object = before_last(action, ".")
          deny "malformed action" when object == null
          let row = first s in data.sandboxes: s.se_name == context.se and s.pfn == resource.pfn
          deny "Access to {action} forbidden for role {upper(context.role)} on {after_last(action, ".")}" when row == null
          allow when row.owner_id == 7
        }"#,
    );
    let d = decide(
        &p,
        json!({"action": "billing.invoices.get", "context": {"role": "admin", "se": "s3"}, "resource": {"pfn": "/x"}}),
        json!({"sandboxes": [{"se_name": "s3", "pfn": "/y", "owner_id": 7}]}),
    );
    assert_eq!(
        &*d.reason,
        "Access to billing.invoices.get forbidden for role ADMIN on get"
    );
    let d = decide(
        &p,
        json!({"action": "a.b", "context": {"role": "x", "se": "s3"}, "resource": {"pfn": "/y"}}),
        json!({"sandboxes": [{"se_name": "s3", "pfn": "/y", "owner_id": 7}]}),
    );
    assert_eq!(d.outcome, Outcome::Allow);
    assert_eq!(outcome(&p, json!({"action": "nodot"})), Outcome::Deny);
}

#[test]
fn syntax_errors_report_every_item_and_position() {
    let err =
        PolicySet::from_source("actions: read\npolicy p for read { allow when ( }").unwrap_err();
    let f = err.errors().next().unwrap();
    assert_eq!(f.code, Code::SyntaxError);
    assert_eq!(f.line_col().unwrap().0, 2);
    assert!(f.help.is_some());
}

#[test]
fn matches_with_a_pattern_tests_the_whole_text() {
    let p = policy(
        r#"actions: read
        policy p for read { allow when resource.name matches re"rs_[a-z]+" }"#,
    );
    let name = |n: serde_json::Value| json!({"action": "read", "resource": {"name": n}});
    assert_eq!(outcome(&p, name(json!("rs_cat"))), Outcome::Allow);
    assert_eq!(outcome(&p, name(json!("rs_cat!"))), Outcome::Deny);
    assert_eq!(outcome(&p, name(json!("xrs_cat"))), Outcome::Deny);
    assert_eq!(outcome(&p, name(json!(null))), Outcome::Deny);
    let d = decide(&p, name(json!(7)), json!({}));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("a pattern matches text"), "{}", d.reason);
}

#[test]
fn comprehensions_over_null_are_empty() {
    let p = policy(
        r#"actions: read
        policy p for read {
          allow when {k: v for k, v in resource.missing} == {} and [x for x in resource.missing] == []
        }"#,
    );
    assert_eq!(outcome(&p, json!({"action": "read"})), Outcome::Allow);
}

#[test]
fn open_actions_require_a_caller_even_with_an_authenticate_block() {
    let p = policy(
        r#"actions: read
        open actions: ping
        authenticate { deny "banned" when (principal.banned ?? false) == true }"#,
    );
    assert_eq!(
        outcome(&p, json!({"action": "ping", "principal": null})),
        Outcome::Unauthenticated
    );
    assert_eq!(
        outcome(&p, json!({"action": "ping", "principal": {"id": 1}})),
        Outcome::Allow
    );
    assert_eq!(
        outcome(&p, json!({"action": "ping", "principal": {"banned": true}})),
        Outcome::Deny
    );
}

#[test]
fn a_missing_secret_matches_nothing() {
    // Any configured digest: with no key presented nothing is compared.
    let p = policy(
        r#"actions: read
        policy p for read in order {
          allow when secret_eq(context.key ?? null, "b3d5a8b3a5c8a3f2d4e4a5d2c1f6b6a7c8d9e0f1a2b3c4d5e6f708192a3b4c5d")
          allow when secret_lookup(context.key ?? null, data.rows, "digest") != null
          unauthenticated "no key"
        }"#,
    );
    let d = decide(
        &p,
        json!({"action": "read", "context": {}}),
        json!({"rows": [{"digest": "x"}]}),
    );
    assert_eq!(d.outcome, Outcome::Unauthenticated);
    assert_eq!(d.reason.as_ref(), "no key");
}

#[test]
fn overrides_replace_lower_layers_only_once_per_layer() {
    assert_eq!(
        compile_error("actions: a\npolicy p for a { deny }\noverride policy p { allow }"),
        Code::DuplicatePolicy
    );
    let dir = std::env::temp_dir().join(format!("pcl-layers-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("core.pcl"), "actions: a\npolicy p for a { deny }").unwrap();
    std::fs::write(
        dir.join("mid.pcl"),
        "import \"core.pcl\"\noverride policy p { deny \"mid\" }",
    )
    .unwrap();
    let twice = PolicySet::from_named_source(
        "ext.pcl",
        "import \"core.pcl\"\noverride policy p { allow }\noverride policy p { deny }",
        &dir,
        portcullis::Limits::default(),
    );
    assert_eq!(
        twice.unwrap_err().errors().next().unwrap().code,
        Code::DuplicatePolicy
    );
    // Layer over layer: the highest override is in force.
    let top = PolicySet::from_named_source(
        "top.pcl",
        "import \"mid.pcl\"\noverride policy p { allow }",
        &dir,
        portcullis::Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{}", e.summary()));
    assert_eq!(outcome(&top, json!({"action": "a"})), Outcome::Allow);
}

#[test]
fn local_names_may_not_hide_request_roots_or_built_ins() {
    for src in [
        "actions: a\npolicy p for a { let principal = 1\n allow when principal == 1 }",
        "actions: a\nrule r(resource) = resource.x\npolicy p for a { allow when r(1) == 1 }",
        "actions: a\npolicy p for a { allow when any data in [1]: data == 1 }",
        "actions: a\npolicy p for a { allow when [upper for upper in [1]] == [1] }",
    ] {
        // PCL219 since codes stopped being reused (it was PCL208, which
        // now means only two definitions of one name).
        assert_eq!(compile_error(src), Code::ReservedName, "{src}");
    }
}

#[test]
fn membership_in_long_data_lists_agrees_with_a_scan() {
    // Data lists are indexed when built; the same list in the request is
    // scanned. Both must answer alike, exactly (UUID case and all).
    let p = policy(
        r#"actions: read
        policy p for read { allow when (resource.x in data.list) == (resource.x in resource.list) }"#,
    );
    let mut list: Vec<serde_json::Value> = (0..40).map(|i| json!(format!("m{i}"))).collect();
    list.push(json!("A0000000-0000-4000-8000-00000000000B"));
    list.push(json!("007"));
    let data = json!({"list": list.clone()});
    for x in [
        json!("m3"),
        json!("m39"),
        json!("m40"),
        json!("a0000000-0000-4000-8000-00000000000b"),
        json!("A0000000-0000-4000-8000-00000000000B"),
        json!("a0000000-0000-4000-8000-00000000000c"),
        json!("007"),
        json!("7"),
        json!(7),
        json!(null),
        json!(["m3"]),
        json!(""),
    ] {
        let req = json!({"action": "read", "resource": {"x": x, "list": list}});
        assert_eq!(decide(&p, req, data.clone()).outcome, Outcome::Allow, "{x}");
    }
    let hit = policy(
        r#"actions: read
        policy p for read { allow when resource.x in data.list }"#,
    );
    let req = json!({"action": "read", "resource": {"x": "A0000000-0000-4000-8000-00000000000B"}});
    assert_eq!(decide(&hit, req, data.clone()).outcome, Outcome::Allow);
    // Exact: the same UUID in lower case is not a member.
    let req = json!({"action": "read", "resource": {"x": "a0000000-0000-4000-8000-00000000000b"}});
    assert_eq!(decide(&hit, req, data).outcome, Outcome::Deny);
}

#[test]
fn record_shapes_with_a_rest_field_check_every_other_field() {
    let p = policy(
        r#"actions: read
        request { context: { headers: { "x-user"?: string, *: string } } }
        policy p for read { allow }"#,
    );
    let ok = json!({"action": "read", "context": {"headers": {"x-user": "a", "x-other": "b"}}});
    assert_eq!(outcome(&p, ok), Outcome::Allow);
    let bad = json!({"action": "read", "context": {"headers": {"x-user": "a", "x-other": 3}}});
    let d = decide(&p, bad, json!({}));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.reason.contains("request.context.headers.x-other"),
        "{}",
        d.reason
    );
}

#[test]
fn request_for_contracts_name_declared_actions_once() {
    assert_eq!(
        compile_error("actions: a\nrequest for b { resource: any }\npolicy p for a { allow }"),
        Code::UndeclaredAction
    );
    assert_eq!(
        compile_error(
            "actions: a\nrequest for a { resource: any }\nrequest for a { context: any }\npolicy p for a { allow }"
        ),
        Code::DuplicateDefinition
    );
    assert_eq!(
        compile_error("actions: a\ndata for a { rows: any }\npolicy p for a { allow }"),
        Code::InvalidOutput
    );
    assert_eq!(
        compile_error("actions: a\nrequest for a { headers: any }\npolicy p for a { allow }"),
        Code::UnknownField
    );
}
