//! Every kind of evaluation error denies, never allows, with the error in
//! the reason; and the rule for how an erroring statement affects the
//! others, in ordered and unordered policies and across policies:
//!
//! - an error in any statement that is reached ends the decision: deny,
//!   with the error (and the statement) as the reason;
//! - so an erroring `allow` never allows, and an erroring `deny` denies;
//! - in an unordered policy refusals are tried before allows, so a refusal
//!   that applies is returned before any allow is evaluated, and an erroring
//!   refusal denies even when an allow would apply; allows are then tried
//!   in order until one applies (an error before that denies);
//! - in an ordered policy the walk stops at the first statement that
//!   applies or errors;
//! - across policies for one action, the first refusal or error (in
//!   declaration order) decides, before any allow.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, Decision, Outcome, PolicySet, Request};
use serde_json::json;

fn decide(src: &str, request: serde_json::Value) -> Decision {
    let set = PolicySet::from_source(src).unwrap_or_else(|e| panic!("{}", e.summary()));
    set.decide(&Request::from_json(&request).unwrap(), &Data::empty())
}

fn request() -> serde_json::Value {
    json!({
        "action": "a",
        "principal": {"id": 1, "name": "ann"},
        "resource": {"id": "not-a-uuid", "n": 3, "s": "text", "list": [1, 2], "rec": {"k": 1}},
        "context": {"headers": {}},
    })
}

/// One condition per kind of evaluation error.
const ERRORS: &[(&str, &str)] = &[
    ("missing attribute", "resource.s.owner == 1"),
    ("wrong type for a built-in", "upper(resource.n) == \"3\""),
    ("bad UUID", "uuid(resource.id) == uuid(resource.id)"),
    (
        "missing header",
        "starts_with(context.headers[\"Authorization\"], \"Bearer \")",
    ),
    (
        "null where a value was expected",
        "len(resource.missing) == 0",
    ),
    (
        "a number where a record was expected",
        "{k: v for k, v in resource.n} == {}",
    ),
    ("ordering of types that do not mix", "resource.n < \"4\""),
    ("non-boolean condition", "resource.s"),
    ("`in` on a non-list", "1 in resource.n"),
    (
        "pattern against a number",
        "resource.n matches re\"[0-9]+\"",
    ),
    ("malformed descriptor", "principal matches resource.rec"),
    ("glob on null", "resource.missing like \"a*\""),
    (
        "secret of the wrong type",
        "secret_eq(resource.list, \"00\")",
    ),
];

const KINDS: &str = "principals { user == .id }\n";

#[test]
fn every_kind_of_error_denies_with_the_error_as_reason() {
    for (kind, condition) in ERRORS {
        for header in ["in order", ""] {
            // As an allow: never allows.
            let src =
                format!("actions: a\n{KINDS}policy p for a {header} {{ allow when {condition} }}");
            let d = decide(&src, request());
            assert_eq!(d.outcome, Outcome::Deny, "{kind} ({header}): {}", d.reason);
            assert!(d.error.is_some(), "{kind}: the error is carried");
            assert!(
                d.reason.contains("evaluation error in `p#1`"),
                "{kind}: reason names the statement: {}",
                d.reason
            );
            assert_eq!(d.statements.len(), 1, "{kind}");
            // As a deny guarding an allow: denies.
            let src = format!(
                "actions: a\n{KINDS}policy p for a {header} {{ deny \"no\" when {condition}\n allow }}"
            );
            let d = decide(&src, request());
            assert_eq!(d.outcome, Outcome::Deny, "{kind} as deny ({header})");
            assert!(d.error.is_some(), "{kind} as deny");
        }
    }
}

#[test]
fn how_an_error_in_one_statement_affects_the_others() {
    let error = "upper(resource.n) == \"3\"";
    // Unordered: an erroring refusal denies although an allow applies.
    let d = decide(
        &format!("actions: a\npolicy p for a {{ allow\n deny when {error} }}"),
        request(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.error.is_some());
    // Unordered: an erroring allow reached before any allow applies denies.
    let d = decide(
        &format!("actions: a\npolicy p for a {{ allow when {error}\n allow }}"),
        request(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.error.is_some());
    // Unordered: refusals come first, so an applying refusal is returned
    // before an allow's error is reached.
    let d = decide(
        &format!("actions: a\npolicy p for a {{ allow when {error}\n unauthenticated \"who?\" }}"),
        request(),
    );
    assert_eq!(d.outcome, Outcome::Unauthenticated);
    assert_eq!(d.reason.as_ref(), "who?");
    // Ordered: the first statement that applies decides; later errors are
    // never reached.
    let d = decide(
        &format!("actions: a\npolicy p for a in order {{ allow\n deny when {error} }}"),
        request(),
    );
    assert_eq!(d.outcome, Outcome::Allow);
    // Ordered: an error before any applying statement denies.
    let d = decide(
        &format!("actions: a\npolicy p for a in order {{ allow when {error}\n allow }}"),
        request(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.error.is_some());
    // Across policies: one policy allows, another errors: deny.
    for order in [("allowing", "erroring"), ("erroring", "allowing")] {
        let body = |name: &str| {
            if name == "allowing" {
                "policy allowing for a { allow }".to_string()
            } else {
                format!("policy erroring for a {{ allow when {error} }}")
            }
        };
        let src = format!("actions: a\n{}\n{}", body(order.0), body(order.1));
        let d = decide(&src, request());
        assert_eq!(d.outcome, Outcome::Deny, "{order:?}");
        assert!(d.error.is_some(), "{order:?}");
    }
}
