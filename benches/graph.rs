//! Graphs over data: a membership test against a 10,000-node role graph
//! once the data is loaded (the closure computed at load, so a question is
//! two hashed lookups and a binary search), the load itself (rows read,
//! closure computed), and the same question on data that was not loaded
//! (read and walked by the decision), for scale.
//!
//! The graph: roles `r0`..`r9999`, each role `ri` (i > 0) held by its
//! parent-to-be in a 4-ary tree (`ri -> r((i-1)/4)`), and every seventh
//! role also inheriting a pseudo-random lower role: a hierarchy seven or
//! more levels deep with shared ancestors.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::{Data, Outcome, PolicySet, Request};
use serde_json::{json, Value as Json};

const POLICY: &str = r#"actions: read

request {
  principal: { role: string }
  resource: { needs: string }
}
data {
  g: [[string]]
}

graph roles = data.g edge [0] -> [1]

policy p for read {
  allow when resource.needs in roles(principal.role)
}
"#;

fn graph(n: usize) -> Json {
    let mut rows = Vec::new();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for i in 1..n {
        rows.push(json!([format!("r{i}"), format!("r{}", (i - 1) / 4)]));
        if i % 7 == 0 {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let j = (seed >> 33) as usize % i;
            rows.push(json!([format!("r{i}"), format!("r{j}")]));
        }
    }
    json!({ "g": rows })
}

fn request(role: &str, needs: &str) -> Request {
    Request::from_json(&json!({
        "action": "read",
        "principal": { "role": role },
        "resource": { "needs": needs },
    }))
    .unwrap()
}

fn bench_graph(c: &mut Criterion) {
    let set = PolicySet::from_source(POLICY).unwrap();
    let json = graph(10_000);
    let data = set.load_data(&json).unwrap();
    let raw = Data::from_json(&json).unwrap();
    let deep = request("r9999", "r0");
    let unrelated = request("r9999", "r9998");
    assert_eq!(set.decide(&deep, &data).outcome, Outcome::Allow);
    assert_eq!(set.decide(&unrelated, &data).outcome, Outcome::Deny);
    assert_eq!(set.decide(&deep, &raw).outcome, Outcome::Allow);

    let mut group = c.benchmark_group("graph");
    group.bench_function("member/allow", |b| {
        b.iter(|| set.decide(black_box(&deep), &data))
    });
    group.bench_function("member/deny", |b| {
        b.iter(|| set.decide(black_box(&unrelated), &data))
    });
    // The same decision without the graph: what the membership test adds.
    let plain = PolicySet::from_source(&POLICY.replace(
        "resource.needs in roles(principal.role)",
        "resource.needs != principal.role",
    ))
    .unwrap();
    let plain_data = plain.load_data(&json).unwrap();
    assert_eq!(plain.decide(&deep, &plain_data).outcome, Outcome::Allow);
    group.bench_function("baseline/allow", |b| {
        b.iter(|| plain.decide(black_box(&deep), &plain_data))
    });
    group.bench_function("load/10000", |b| {
        b.iter(|| set.load_data(black_box(&json)).unwrap())
    });
    group.sample_size(10);
    group.bench_function("unloaded/allow", |b| {
        b.iter(|| set.decide(black_box(&deep), &raw))
    });
    group.finish();
}

criterion_group!(benches, bench_graph);
criterion_main!(benches);
