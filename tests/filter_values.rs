//! The filter and the value operations (arithmetic, decimals, IP
//! addresses, time, the string and list built-ins): applied to the
//! resource they are refused with `PCL600`, never approximated; parts that
//! do not read the resource are computed as a decision computes them.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, PolicySet, Request};
use serde_json::json;

fn policy(body: &str) -> PolicySet {
    let text = format!("actions: read\npolicy p for read {{\n  {body}\n}}");
    PolicySet::from_source(&text).unwrap_or_else(|e| panic!("{body}: {}", e.summary()))
}

fn request() -> Request {
    Request::from_json(&json!({
        "principal": {"name": "alice", "quota": 10},
        "action": "read",
        "context": {"now": "2024-05-01T12:00:00Z", "address": "10.1.2.3"}
    }))
    .unwrap()
}

#[test]
fn value_operations_on_the_resource_are_refused() {
    for (body, names) in [
        ("allow when resource.size + 1 > 3", "arithmetic"),
        (
            "allow when resource.size * 2 < principal.quota",
            "arithmetic",
        ),
        ("allow when resource.name + \"x\" == \"ax\"", "arithmetic"),
        ("allow when decimal(resource.score) >= 0.75", "decimal"),
        ("allow when resource.score >= 0.75", "decimal"),
        ("allow when resource.score == 0.5", "decimal"),
        ("allow when resource.score in [0.5, 1]", "decimal"),
        (
            "allow when ip(resource.address) in ip(\"10.0.0.0/8\")",
            "ip",
        ),
        (
            "allow when in_range(resource.address, \"10.0.0.0/8\")",
            "in_range",
        ),
        (
            "allow when timestamp(resource.created) < timestamp(context.now)",
            "timestamp",
        ),
        (
            "allow when contains_any(resource.tags, [\"a\"])",
            "contains_any",
        ),
        ("allow when \"a\" in split(resource.path, \"/\")", "split"),
        ("allow when join(resource.tags, \",\") == \"a\"", "join"),
        ("allow when len(union(resource.tags, [\"a\"])) > 1", "union"),
    ] {
        let set = policy(body);
        let data = set.load_data(&json!({})).unwrap();
        match set.filter(&request(), &data) {
            Ok(f) => panic!("{body}: expected a refusal, got {}", f.to_json()),
            Err(e) => {
                assert_eq!(e.code, Code::FilterUnsupported, "{body}: {e:?}");
                assert!(
                    e.message.contains(names),
                    "{body}: {} does not name {names}",
                    e.message
                );
            }
        }
    }
}

#[test]
fn value_operations_that_do_not_read_the_resource_are_computed() {
    let open = "allow when resource.owner == principal.name and ip(context.address) in ip(\"10.0.0.0/8\") and timestamp(context.now) + duration(\"1h\") < timestamp(\"2030-01-01T00:00:00Z\") and principal.quota * 2 == 20";
    let set = policy(open);
    let data = set.load_data(&json!({})).unwrap();
    let f = set.filter(&request(), &data).unwrap();
    let text = f.to_json().to_string();
    assert!(text.contains("owner"), "{text}");
    assert!(text.contains("alice"), "{text}");
    // The same with a closed part that is false: no resource is allowed.
    let closed = "allow when resource.owner == principal.name and ip(context.address) in ip(\"192.168.0.0/16\")";
    let set = policy(closed);
    let f = set.filter(&request(), &data).unwrap();
    assert!(
        !f.to_json().to_string().contains("owner"),
        "{}",
        f.to_json()
    );
}
