//! Credentials: the candidate walk compares every row whatever matched
//! (counted through the engine's instrumented comparison, not timed), and a
//! presented secret never shows up in what the engine says. One test
//! function compares secrets, so no other test in this binary moves the
//! global counter.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{secret_comparisons, Data, Outcome, PolicySet, Request};
use serde_json::json;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lower-case hex SHA-256, computed here independently of the engine.
fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_candidate_is_compared_and_secrets_never_leak() {
    let flip = PolicySet::from_file(root().join("policies/flip.pcl")).unwrap();
    let rows = 25;
    let trusts: Vec<serde_json::Value> = (0..rows)
        .map(|i| {
            json!({"id": format!("7a000000-0000-4000-8000-{i:012}"), "name": format!("T{i}"),
                   "api_key_hash": digest(&format!("key-{i}"))})
        })
        .collect();
    let data = Data::from_json(&json!({ "trusts": trusts })).unwrap();
    let ask = |key: &str| {
        let request = Request::from_json(&json!({
            "action": "authenticate_trust", "principal": null, "resource": null,
            "context": {"headers": {"Authorization": key}}
        }))
        .unwrap();
        let before = secret_comparisons();
        let d = flip.decide(&request, &data);
        (d, secret_comparisons() - before)
    };
    // First row, last row, no row: the same number of comparisons.
    for (key, want) in [
        ("key-0", Outcome::Allow),
        (&*format!("key-{}", rows - 1), Outcome::Allow),
        ("key-none", Outcome::Unauthenticated),
    ] {
        let (d, compared) = ask(key);
        assert_eq!(d.outcome, want, "{key}");
        assert_eq!(
            compared, rows as u64,
            "{key}: every candidate, no early exit"
        );
        for text in [
            d.reason.to_string(),
            format!("{d:?}"),
            format!("{:?}", d.principal.as_ref().map(portcullis::Value::to_json)),
        ] {
            assert!(!text.contains(key), "{key} leaked: {text}");
            assert!(
                !text.contains(&digest(key)),
                "digest of {key} leaked: {text}"
            );
        }
    }

    // A secret of the wrong type is an error that names the type, never the
    // value; the internal key check behaves the same.
    let request = Request::from_json(&json!({
        "action": "authenticate_internal_service", "principal": null, "resource": null,
        "context": {"headers": {"X-Internal-Service-Key": "hunter2-secret"}}
    }))
    .unwrap();
    let configured =
        Data::from_json(&json!({"internal_service_key_hash": digest("other")})).unwrap();
    let before = secret_comparisons();
    let d = flip.decide(&request, &configured);
    assert_eq!(secret_comparisons() - before, 1);
    assert_eq!(d.outcome, Outcome::Unauthenticated);
    assert!(!format!("{d:?}").contains("hunter2"));

    let p = PolicySet::from_source(
        r#"actions: a
        policy p for a { allow when secret_eq(context.key, "00") }"#,
    )
    .unwrap();
    let odd =
        Request::from_json(&json!({"action": "a", "context": {"key": ["hunter2-list"]}})).unwrap();
    let d = p.decide(&odd, &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(
        d.reason.contains("a presented secret must be a string"),
        "{}",
        d.reason
    );
    assert!(!format!("{d:?}").contains("hunter2"), "{d:?}");
}

#[test]
fn text_that_is_not_a_uuid_is_described_not_quoted() {
    let p = PolicySet::from_source(
        r#"actions: a
        policy p for a { allow when uuid(context.headers.authorization) == "x" }"#,
    )
    .unwrap();
    let token = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu";
    let request = Request::from_json(&json!({
        "action": "a", "context": {"headers": {"authorization": token}}
    }))
    .unwrap();
    let d = p.decide(&request, &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    let error = d.error.as_ref().unwrap();
    assert_eq!(error.code, portcullis::Code::InvalidUuid);
    assert!(
        error
            .message
            .contains(&format!("{} characters", token.len())),
        "{}",
        error.message
    );
    for text in [
        d.reason.to_string(),
        format!("{d:?}"),
        d.to_json().to_string(),
    ] {
        assert!(!text.contains("eyJhbGci"), "the token leaked: {text}");
    }
}
