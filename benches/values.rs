//! Decision time of the value operations: CIDR containment, decimal and
//! timestamp comparisons, integer arithmetic, and a split over a long
//! string. Each policy is a one-statement allow, so the time is the
//! operation's plus a small fixed cost of deciding; each request's
//! decision is checked before timing.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::{Data, PolicySet, Request};
use serde_json::json;

fn policy(condition: &str) -> PolicySet {
    let text = format!("actions: read\n\npolicy p for read {{\n  allow when {condition}\n}}\n");
    PolicySet::from_source(&text).unwrap()
}

fn bench_values(c: &mut Criterion) {
    let mut group = c.benchmark_group("values");
    let cases: [(&str, &str, serde_json::Value); 6] = [
        ("baseline", "context.x == 3", json!({"x": 3})),
        (
            "cidr_contains",
            "ip(context.address) in ip(\"10.0.0.0/8\")",
            json!({"address": "10.20.30.40"}),
        ),
        (
            "cidr_contains_v6",
            "ip(context.address) in ip(\"2001:db8::/32\")",
            json!({"address": "2001:db8:1:2:3:4:5:6"}),
        ),
        (
            "decimal_compare",
            "decimal(context.score) >= 0.75",
            json!({"score": "0.8125"}),
        ),
        (
            "time_compare",
            "timestamp(context.now) < timestamp(context.expires) + duration(\"1h\")",
            json!({"now": "2024-05-01T12:30:00Z", "expires": "2024-05-01T12:00:00+00:00"}),
        ),
        (
            "arithmetic",
            "context.a * 3 + context.b - 7 > context.c",
            json!({"a": 20, "b": 5, "c": 40}),
        ),
    ];
    for (name, condition, context) in cases {
        let set = policy(condition);
        let request = Request::from_json(&json!({"action": "read", "context": context})).unwrap();
        let data = Data::empty();
        assert_eq!(
            set.decide(&request, &data).outcome.as_str(),
            "allow",
            "{name}"
        );
        group.bench_function(name, |b| b.iter(|| set.decide(black_box(&request), &data)));
    }
    // Work proportional to the input: a 4 KiB string split into 1,000 parts.
    let long: Vec<String> = (0..1000).map(|i| format!("p{i:03}")).collect();
    let set = policy("len(split(context.path, \"/\")) == 1000");
    let request =
        Request::from_json(&json!({"action": "read", "context": {"path": long.join("/")}}))
            .unwrap();
    assert_eq!(
        set.decide(&request, &Data::empty()).outcome.as_str(),
        "allow"
    );
    group.bench_function("split_1000", |b| {
        b.iter(|| set.decide(black_box(&request), &Data::empty()))
    });
    group.finish();
}

criterion_group!(benches, bench_values);
criterion_main!(benches);
