//! Principal descriptors held as data are read when the data is loaded
//! (`PolicySet::load_data`), so decisions neither parse their `kind:value`
//! texts nor check their shape again. The reading must change no decision:
//! the same descriptor decides the same whether it arrives in the request,
//! in data that was not loaded for the set, or in loaded data, whatever it
//! holds (unknown kinds, bare kinds, `role:`, nulls, tuples, malformed
//! nesting, numbers), and data loaded for one set never lends its reading
//! to another.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, Decision, PolicySet, Request};
use proptest::prelude::*;
use serde_json::{json, Value};

/// Kinds of every sort: compared as integers, read from a list, a bare
/// kind that matches anyone, and one that makes its tuple match anyone.
const KINDS: &str = r#"
principals {
  user     == .id as int
  account  == .account.id as int
  role     in .roles
  member   in .account.roles
  anyone   anyone
  wide     anyone, even in tuples
}
"#;

fn source(kinds: &str) -> String {
    format!(
        r#"
actions: read, update

{kinds}

policy assets for read, update in order {{
  by_request: allow "request" when has(resource, "acl") and principal matches resource.acl
  by_data: allow "data" when has(data, "asset") and principal matches data.asset.acl
  deny "no match"
}}
"#
    )
}

fn policy(kinds: &str) -> PolicySet {
    PolicySet::from_source(&source(kinds)).unwrap_or_else(|e| panic!("{}", e.summary()))
}

/// What a decision says, cost aside (a read descriptor costs less).
fn said(d: &Decision) -> (String, String, Option<String>) {
    (
        d.outcome.as_str().to_string(),
        d.reason.to_string(),
        d.error.as_ref().map(|e| e.code.code().to_string()),
    )
}

fn caller(id: i64, account: i64, roles: &[&str], account_roles: &[&str]) -> Value {
    json!({
        "id": id,
        "roles": roles,
        "account": { "id": account, "roles": account_roles },
    })
}

/// Decides `acl` three ways and returns what each said: in the request,
/// in data not loaded for the set, and in data loaded for it. The reasons
/// name the statement that matched, which differs by where the ACL is, so
/// the reason is reduced to the outcome's own words (and the statement's
/// name in an error to what the two share).
fn three_ways(
    p: &PolicySet,
    principal: &Value,
    acl: &Value,
) -> [(String, String, Option<String>); 3] {
    let in_request = json!({
        "principal": principal,
        "action": "read",
        "resource": { "acl": acl },
    });
    let in_data = json!({ "principal": principal, "action": "read", "resource": {} });
    let data = json!({ "asset": { "acl": acl } });
    let request = Request::from_json(&in_request).unwrap();
    let by_data = Request::from_json(&in_data).unwrap();
    let plain = Data::from_json(&data).unwrap();
    let loaded = p.load_data(&data).unwrap();
    let neutral = |mut s: (String, String, Option<String>)| {
        if s.1 == "request" || s.1 == "data" {
            s.1 = "matched".into();
        }
        s.1 = s.1.replace("by_request", "by").replace("by_data", "by");
        s
    };
    [
        neutral(said(&p.decide(&request, &Data::empty()))),
        neutral(said(&p.decide(&by_data, &plain))),
        neutral(said(&p.decide(&by_data, &loaded))),
    ]
}

#[test]
fn a_loaded_acl_decides_as_one_in_the_request() {
    let p = policy(KINDS);
    let alice = caller(5, 7, &["viewer", "consultant"], &["ESCo"]);
    let cases = [
        (json!(["user:5"]), "allow"),
        (json!(["user:005"]), "allow"),
        (json!(["user:6", "role:consultant"]), "allow"),
        (json!([["account:7", "role:consultant"]]), "allow"),
        (json!([["account:7", "role:CEO"]]), "deny"),
        (json!([["account:7", "anyone"]]), "allow"),
        (json!([["account:8", "wide"]]), "allow"),
        (json!([["account:8", "anyone"]]), "deny"),
        (json!([[]]), "deny"),
        (
            json!([null, "nobody:5", "role:", "user", "anyone:x"]),
            "deny",
        ),
        (json!(["anyone"]), "allow"),
        (json!(["member:ESCo"]), "allow"),
        // Malformed wherever the bad item stands: refused, never allowed.
        (json!(["user:5", [["user:5"]]]), "deny"),
        (json!(["user:5", 5]), "deny"),
        (json!([["user:5", 5]]), "deny"),
    ];
    for (acl, want) in cases {
        let [a, b, c] = three_ways(&p, &alice, &acl);
        assert_eq!(a.0, want, "{acl} in the request");
        assert_eq!(a, b, "{acl}: request and unloaded data");
        assert_eq!(a, c, "{acl}: request and loaded data");
    }
}

#[test]
fn malformed_loaded_acls_fail_closed_with_the_code() {
    let p = policy(KINDS);
    let alice = caller(5, 7, &[], &[]);
    for acl in [json!(["user:5", [["user:5"]]]), json!(["user:5", {"a": 1}])] {
        let [_, _, loaded] = three_ways(&p, &alice, &acl);
        assert_eq!(loaded.0, "deny");
        assert_eq!(loaded.2.as_deref(), Some("PCL501"), "{acl}");
    }
}

#[test]
fn data_loaded_for_one_set_never_lends_its_reading_to_another() {
    // The same kind names in another order: kind numbers differ, so a
    // reading made for the first set would name the wrong kinds.
    let first = policy(KINDS);
    let second = policy(
        r#"
principals {
  role     in .roles
  member   in .account.roles
  anyone   anyone
  wide     anyone, even in tuples
  account  == .account.id as int
  user     == .id as int
}
"#,
    );
    let alice = caller(5, 7, &["viewer"], &[]);
    let data = json!({ "asset": { "acl": ["role:5", "user:viewer", ["account:viewer"]] } });
    let request = Request::from_json(&json!({
        "principal": alice, "action": "read", "resource": {}
    }))
    .unwrap();
    let loaded_first = first.load_data(&data).unwrap();
    let d = second.decide(&request, &loaded_first);
    assert_eq!(d.outcome.as_str(), "deny", "{}", d.reason);
    // Loading again for the second set replaces the first set's reading.
    let reloaded = second.check_data(loaded_first.clone()).unwrap();
    assert_eq!(second.decide(&request, &reloaded).outcome.as_str(), "deny");
    assert_eq!(first.decide(&request, &reloaded).outcome.as_str(), "deny");
    let allowed = json!({ "asset": { "acl": ["user:5"] } });
    let for_first = first.load_data(&allowed).unwrap();
    assert_eq!(
        second.decide(&request, &for_first).outcome.as_str(),
        "allow"
    );
    assert_eq!(first.decide(&request, &for_first).outcome.as_str(), "allow");
}

/// Descriptor texts of every sort, and values that are no descriptor.
fn item() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        (0i64..8).prop_map(|n| json!(format!("user:{n}"))),
        (0i64..8).prop_map(|n| json!(format!("user:00{n}"))),
        (0i64..8).prop_map(|n| json!(format!("account:{n}"))),
        prop::sample::select(vec!["a", "b", "c", "", "A"]).prop_map(|r| json!(format!("role:{r}"))),
        prop::sample::select(vec!["a", "b", "x"]).prop_map(|r| json!(format!("member:{r}"))),
        Just(json!("anyone")),
        Just(json!("wide")),
        Just(json!("anyone:")),
        Just(json!("user")),
        Just(json!("nobody:1")),
        Just(json!("user:-1")),
        Just(json!(null)),
    ];
    let leaf = prop_oneof![
        8 => text.clone(),
        1 => Just(json!(3)),
        1 => Just(json!({"role": "a"})),
    ];
    prop_oneof![
        6 => leaf.clone(),
        3 => prop::collection::vec(text, 0..4).prop_map(Value::from),
        1 => prop::collection::vec(prop::collection::vec(leaf, 0..2).prop_map(Value::from), 0..2)
            .prop_map(Value::from),
    ]
}

fn principal() -> impl Strategy<Value = Value> {
    let names = prop::sample::subsequence(vec!["a", "b", "c", "", "x"], 0..3);
    prop_oneof![
        9 => (0i64..8, 0i64..8, names.clone(), names).prop_map(|(id, acc, r, m)| caller(id, acc, &r, &m)),
        1 => Just(json!(null)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1500, ..ProptestConfig::default() })]

    #[test]
    fn every_acl_decides_the_same_three_ways(
        principal in principal(),
        acl in prop_oneof![
            9 => prop::collection::vec(item(), 0..6).prop_map(Value::from),
            1 => item(),
        ],
    ) {
        let p = policy(KINDS);
        let [a, b, c] = three_ways(&p, &principal, &acl);
        prop_assert_eq!(&a, &b, "request and unloaded data: {}", acl);
        prop_assert_eq!(&a, &c, "request and loaded data: {}", acl);
    }
}

#[test]
fn a_loaded_acl_is_not_parsed_or_checked_again() {
    // The decision against loaded data skips the shape check and the
    // parsing a decision against the same data unloaded pays: fewer steps.
    let p = policy(KINDS);
    let acl: Vec<Value> = (0..200)
        .map(|i| json!(format!("role:r{i}")))
        .chain([json!(["account:7", "role:r7"])])
        .collect();
    let data = json!({ "asset": { "acl": acl } });
    let request = Request::from_json(&json!({
        "principal": caller(5, 7, &["r7x"], &[]), "action": "read", "resource": {}
    }))
    .unwrap();
    let plain = p.decide(&request, &Data::from_json(&data).unwrap());
    let loaded = p.decide(&request, &p.load_data(&data).unwrap());
    assert_eq!(said(&plain), said(&loaded));
    assert_eq!(loaded.outcome.as_str(), "deny");
    assert!(
        loaded.cost < plain.cost,
        "loaded {} against unloaded {}",
        loaded.cost,
        plain.cost
    );
}

#[test]
fn a_malformed_item_after_a_failed_match_is_still_reported_as_malformed() {
    // `account:7` reads the caller's `.account.id`, which this caller lacks
    // (PCL504); the number after it makes the descriptor malformed
    // (PCL501), which is what the refusal names, in the request as in data.
    let p = policy(KINDS);
    let no_account = json!({ "id": 5, "roles": [] });
    let [request, unloaded, loaded] = three_ways(&p, &no_account, &json!(["account:7", 5]));
    assert_eq!(request.0, "deny");
    assert_eq!(request.2.as_deref(), Some("PCL501"), "{}", request.1);
    assert_eq!(request, unloaded);
    assert_eq!(request, loaded);
    // Well formed, the failed match is the reason.
    let [request, _, loaded] = three_ways(&p, &no_account, &json!(["account:7", "user:6"]));
    assert_eq!(request.2.as_deref(), Some("PCL504"), "{}", request.1);
    assert_eq!(request, loaded);
}
