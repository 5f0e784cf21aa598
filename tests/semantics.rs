//! The semantics table: one row per class of wrong allow found by testing
//! the bundles against independent models of their specs. Each row states
//! the strict rule and fails if the engine goes back to the lenient one.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Data, Decision, Outcome, PolicySet, Request};
use serde_json::{json, Value};

fn policy(src: &str) -> PolicySet {
    PolicySet::from_source(src).unwrap_or_else(|e| panic!("{}", e.summary()))
}

fn decide(p: &PolicySet, request: Value) -> Decision {
    decide_with(p, request, json!({}))
}

fn decide_with(p: &PolicySet, request: Value, data: Value) -> Decision {
    let req = Request::from_json(&request).unwrap_or_else(|e| panic!("{e}"));
    p.decide(&req, &Data::from_json(&data).unwrap())
}

fn bundle(name: &str) -> PolicySet {
    PolicySet::from_file(format!("policies/{name}.pcl"))
        .unwrap_or_else(|e| panic!("{}", e.summary()))
}

const UPPER: &str = "B0000000-0000-4000-8000-00000000000A";
const LOWER: &str = "b0000000-0000-4000-8000-00000000000a";

// 1. No implicit UUID case folding -------------------------------------------

#[test]
fn row1_uuids_compare_exactly_in_every_operation() {
    let p = policy(
        r#"actions: eq, ne, member, distinct, kind, canonical
        principals { user == .id  subject == .sub as uuid }
        policy p for eq { allow when resource.a == resource.b }
        policy q for ne { deny when resource.a != resource.b  allow }
        policy r for member { allow when resource.a in resource.list }
        policy s for distinct { allow when len(distinct([resource.a, resource.b])) == 1 }
        policy t for kind { allow when principal matches user:{resource.b} }
        policy u for canonical { allow when principal matches subject:{resource.b} and uuid(resource.a) == uuid(resource.b) }"#,
    );
    let long: Vec<String> = (0..40)
        .map(|i| format!("x{i}"))
        .chain([LOWER.to_string()])
        .collect();
    let resource = json!({"a": UPPER, "b": LOWER, "list": long});
    let principal = json!({"id": UPPER, "sub": UPPER});
    for action in ["eq", "ne", "member", "distinct", "kind"] {
        let d = decide(
            &p,
            json!({"action": action, "principal": principal, "resource": resource}),
        );
        assert_eq!(d.outcome, Outcome::Deny, "{action}: {}", d.reason);
    }
    let d = decide(
        &p,
        json!({"action": "canonical", "principal": principal, "resource": resource}),
    );
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
    // rs-server: a login differing only in case is another login.
    let rs = bundle("rs-server");
    let d = decide(
        &rs,
        json!({"action": "read", "principal": {"login": UPPER, "roles": []},
               "resource": {"owner": LOWER}, "context": {"collections": ["S1"]}}),
    );
    assert_eq!(d.outcome, Outcome::Deny, "{}", d.reason);
}

// 2. Digit leniency only where declared ------------------------------------

#[test]
fn row2_digit_ids_read_as_numbers_only_on_kinds_declared_as_int() {
    let fm = bundle("flexmeasures");
    let caller = json!({"id": 7, "roles": ["7", "0"], "account": {"id": 3, "roles": ["0"]}});
    for (acl, want) in [
        ("user:007", Outcome::Allow),
        ("account:03", Outcome::Allow),
        ("role:07", Outcome::Deny),
        ("role:7", Outcome::Allow),
        ("account-role:00", Outcome::Deny),
        ("account-role:0", Outcome::Allow),
    ] {
        let d = decide(
            &fm,
            json!({"action": "read", "principal": caller, "resource": {"acl": {"read": acl}}, "context": {}}),
        );
        assert_eq!(d.outcome, want, "{acl}: {}", d.reason);
    }
}

// 3. Exact numbers ------------------------------------------------------------

#[test]
fn row3_numbers_are_exact_or_refused() {
    let big = Request::from_json(
        &json!({"action": "read", "principal": {"id": 18446744073709551615u64}}),
    );
    let e = big.unwrap_err();
    assert_eq!(
        (e.code, e.field.as_str()),
        (Code::InvalidRequest, "request.principal.id")
    );
    // A double cannot hold every integer from 2^53 on: such a number may not
    // be the one that was sent, so it is refused rather than rounded.
    for text in ["9007199254740993.0", "9007199254740992.0", "1e300"] {
        let json = format!(r#"{{"action": "read", "resource": {{"x": {text}}}}}"#);
        let e = Request::from_json_str(&json).unwrap_err();
        assert_eq!(e.field, "request.resource.x", "{text}");
    }
    let e = Data::from_json(&json!({"ids": [1, 18446744073709551614u64]})).unwrap_err();
    assert_eq!(e.field, "data.ids[1]");
    let p = policy(
        r#"actions: read
        principals { user == .id as int }
        policy p for read { allow when resource.i == resource.f and principal matches user:{resource.f} }"#,
    );
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"id": 9007199254740993i64},
               "resource": {"i": 9007199254740993i64, "f": 9007199254740992i64}}),
    );
    assert_eq!(d.outcome, Outcome::Deny, "{}", d.reason);
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"id": 7}, "resource": {"i": 7, "f": 7.0}}),
    );
    assert_eq!(
        d.outcome,
        Outcome::Allow,
        "an integer equals the same number as a float"
    );
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"id": 7}, "resource": {"i": 7, "f": 7.5}}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
}

// 4. Absent is not null ---------------------------------------------------------

#[test]
fn row4_an_absent_relation_is_not_a_null_one() {
    let fm = bundle("flexmeasures");
    let caller = json!({"id": 1, "roles": [], "account": {"id": 9, "roles": []}});
    for resource in [
        json!({"type": "Sensor", "id": 1}),
        json!({"type": "GenericAsset", "id": 1, "account_id": null}),
        json!({"type": "GenericAsset", "id": 1, "account": {"id": "9"}}),
    ] {
        let d = decide(
            &fm,
            json!({"action": "read", "principal": caller, "resource": resource}),
        );
        assert_eq!(d.outcome, Outcome::Deny, "{resource}: {}", d.reason);
    }
    // The spec's public asset: an account that is present and null.
    let d = decide(
        &fm,
        json!({"action": "read", "principal": caller, "resource": {"type": "GenericAsset", "id": 1, "account": null}, "context": {}}),
    );
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
    let p = policy(
        r#"actions: read
        policy p for read in order { allow when resource.account == null }"#,
    );
    let d = decide(&p, json!({"action": "read", "resource": {}}));
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.map(|e| e.code), Some(Code::AbsentField));
    let tested = policy(
        r#"actions: read
        policy p for read in order { allow when (resource.account ?? "none") == null or not has(resource, "account") }"#,
    );
    assert_eq!(
        decide(&tested, json!({"action": "read", "resource": {}})).outcome,
        Outcome::Allow
    );
}

// 5. Contracts are checked, everywhere -----------------------------------------

#[test]
fn row5_requests_outside_their_contract_never_allow() {
    let fm = bundle("flexmeasures");
    let caller = json!({"id": 1, "roles": [], "account": {"id": 9, "roles": []}});
    let data = json!({"roles": [{"id": 1, "name": "account-admin"}, {"id": 2, "name": "admin"}]});
    // 2 is the admin role's id: no spelling of it may pass as a harmless name.
    for (role, by_contract) in [
        (json!(2.0), true),
        (json!(true), true),
        (json!({"id": 2}), true),
        (json!(null), true),
        (json!("2"), false),
        (json!(2), false),
    ] {
        let d = decide_with(
            &fm,
            json!({"action": "modify-roles", "principal": caller, "resource": {"roles": [role]}, "context": {}}),
            data.clone(),
        );
        assert_eq!(d.outcome, Outcome::Deny, "{role}: {}", d.reason);
        let refused = d.error.map(|e| e.code) == Some(Code::InvalidRequest);
        assert_eq!(refused, by_contract, "{role}: {}", d.reason);
    }
    // Shapes hold at every depth: a mismatch 70 levels down is found.
    let mut shape = String::from("int");
    let mut value = json!("not an int");
    for _ in 0..70 {
        shape = format!("{{ x: {shape} }}");
        value = json!({ "x": value });
    }
    let p = policy(&format!(
        "actions: read\nrequest {{ resource: {shape} }}\npolicy p for read {{ allow }}"
    ));
    let d = decide(&p, json!({"action": "read", "resource": value}));
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains(".x.x.x"), "{}", d.reason);
    // A key that must be there must be there, even if it may be null.
    let p = policy(
        "actions: read\nrequest { resource: { owner: string? } }\npolicy p for read { allow }",
    );
    assert_eq!(
        decide(&p, json!({"action": "read", "resource": {}})).outcome,
        Outcome::Deny
    );
    assert_eq!(
        decide(&p, json!({"action": "read", "resource": {"owner": null}})).outcome,
        Outcome::Allow
    );
}

// 6. One kind per field ------------------------------------------------------

#[test]
fn row6_two_kinds_on_one_field_do_not_compile() {
    let err = PolicySet::from_source(
        r#"actions: read
        principals { staff == .id  patient == .id }
        policy p for read { allow when principal matches staff:{resource.author} }"#,
    )
    .err()
    .unwrap();
    assert_eq!(err.errors().next().unwrap().code, Code::AmbiguousKind);
    let p = policy(
        r#"actions: read
        principals { staff == .staff_id  patient == .patient_id }
        policy p for read { allow when principal matches staff:{resource.author} }"#,
    );
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"patient_id": 4}, "resource": {"author": 4}}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
}

// 7. No allow without a statement ---------------------------------------------

#[test]
fn row7_issuance_needs_an_allowing_statement() {
    let p = policy(
        r#"token actions: token.issue
        actions: read
        policy jobs for read { allow claims access: { vo: principal.vo } }
        policy issue for token.issue { allow when "NormalUser" in principal.properties }"#,
    );
    let d = decide(
        &p,
        json!({"action": "token.issue", "principal": {"vo": "lhcb", "properties": []}}),
    );
    assert_eq!(d.outcome, Outcome::Deny, "{}", d.reason);
    assert!(d.claims.is_none());
    let d = decide(
        &p,
        json!({"action": "token.issue", "principal": {"vo": "lhcb", "properties": ["NormalUser"]}}),
    );
    assert_eq!(d.outcome, Outcome::Allow);
    assert_eq!(
        d.claims.unwrap().to_json(),
        json!({"access": {"jobs": {"vo": "lhcb"}}, "refresh": {}})
    );
    // A token action no policy covers is reported, and denied, not open.
    let uncovered =
        policy("token actions: token.issue\nactions: read\npolicy p for read { allow }");
    assert!(uncovered
        .warnings()
        .iter()
        .any(|w| w.code == Code::UncoveredAction));
    let d = decide(
        &uncovered,
        json!({"action": "token.issue", "principal": {"vo": "lhcb"}}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    // DiracX: issuance is no route of the spec, so the shipped bundle does
    // not declare it and refuses it, naming it.
    let dx = bundle("diracx");
    let d = decide(
        &dx,
        json!({"action": "token.issue", "principal": {"preferred_username": "a", "dirac_group": "g", "vo": "v"}}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("token.issue"), "{}", d.reason);
    assert!(d.claims.is_none());
}

// 8. Outputs keep AND ----------------------------------------------------------

#[test]
fn row8_an_and_tuple_in_an_output_reads_back_as_a_tuple() {
    let writer = policy(
        r#"actions: share
        principals { account == .account as int  role in .roles }
        policy p for share {
          allow with { principal: { acl: (account:3, role:CEO), list: [user, (account:3, role:CEO)] } }
        }
        let user = account:4"#,
    );
    let d = decide(
        &writer,
        json!({"action": "share", "principal": {"account": 1, "roles": []}}),
    );
    let out = d.principal.unwrap().to_json();
    assert_eq!(out["acl"], json!([["account:3", "role:CEO"]]));
    assert_eq!(out["list"], json!(["account:4", ["account:3", "role:CEO"]]));
    let reader = policy(
        r#"actions: read
        principals { account == .account as int  role in .roles }
        policy p for read { allow when principal matches resource.acl }"#,
    );
    // Account 3 without the role: the tuple must not widen into an OR list.
    let d = decide(
        &reader,
        json!({"action": "read", "principal": {"account": 3, "roles": []}, "resource": {"acl": out["acl"]}}),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    let d = decide(
        &reader,
        json!({"action": "read", "principal": {"account": 3, "roles": ["CEO"]}, "resource": {"acl": out["acl"]}}),
    );
    assert_eq!(d.outcome, Outcome::Allow);
}

// Also: FLIP's key actions read only the key ---------------------------------

#[test]
fn flip_key_actions_ignore_principal_and_resource() {
    let flip = bundle("flip");
    for (principal, resource) in [
        (json!({"id": "not-a-uuid"}), json!({"anything": 1})),
        (json!(null), json!("x")),
        (json!({"id": LOWER, "roles": ["Admin"]}), json!(null)),
    ] {
        for action in ["authenticate_internal_service", "authenticate_trust"] {
            let d = decide_with(
                &flip,
                json!({"action": action, "principal": principal, "resource": resource, "context": {"headers": {}}}),
                json!({"internal_service_key_hash": "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"}),
            );
            assert_eq!(
                d.outcome,
                Outcome::Unauthenticated,
                "{action} {principal}: {}",
                d.reason
            );
        }
    }
}

// Also: a descriptor held as data is checked whole ----------------------------

#[test]
fn a_malformed_descriptor_refuses_wherever_the_bad_item_stands() {
    let p = policy(
        r#"actions: read
        principals { user == .id as int }
        policy p for read { allow when principal matches resource.acl }"#,
    );
    for acl in [
        json!(["user:1", 5]),
        json!([5, "user:1"]),
        json!(["user:1", [["user:1"]]]),
        json!(["user:1", {"user": 1}]),
    ] {
        let d = decide(
            &p,
            json!({"action": "read", "principal": {"id": 1}, "resource": {"acl": acl}}),
        );
        assert_eq!(d.outcome, Outcome::Deny, "{acl}");
        assert_eq!(
            d.error.map(|e| e.code),
            Some(Code::MalformedDescriptor),
            "{acl}"
        );
    }
    let d = decide(
        &p,
        json!({"action": "read", "principal": {"id": 1}, "resource": {"acl": ["user:1", null, ["user:2", null]]}}),
    );
    assert_eq!(d.outcome, Outcome::Allow);
}

// A model ACL is upstream's text, `account:<id>`, which only ASCII digits
// match: an account with a negative id is matched by nobody, even by a
// caller of that account (found by the FlexMeasures model test).
#[test]
fn a_model_acl_names_no_account_with_a_negative_id() {
    let p = bundle("flexmeasures");
    let request = |id: i64| {
        json!({
            "action": "create-children", "context": {},
            "principal": {"account": {"id": id, "roles": []}, "id": 1, "roles": []},
            "resource": {"account": {"consultancy_account_id": null, "id": id}, "id": 9, "type": "GenericAsset"},
        })
    };
    let data = json!({"roles": [{"id": 1, "name": "account-admin"}]});
    let d = decide_with(&p, request(-1), data.clone());
    assert_eq!(d.outcome, Outcome::Deny, "{}", d.reason);
    assert!(d.error.is_none(), "{:?}", d.error);
    let d = decide_with(&p, request(3), data);
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
}
