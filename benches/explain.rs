//! What an explanation costs. Per bundle, on one allowed and one denied
//! request from its conformance cases: a plain decision (`decide`, the
//! path an explanation must not slow down), an explained one (`explain`:
//! the decision and its trace) and one rendered for people and tools
//! (`explain+json`: the trace turned into the owned tree and JSON).
//! Each explained decision is checked to equal the plain one before timing.
//!
//! That the plain path is unchanged by the hook is shown by running
//! `cargo bench --bench decide` against a baseline of the commit before
//! explanations (docs/performance.md, "Explanations").

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::unstable::cases;
use portcullis::{PolicySet, Request};
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bench_explain(c: &mut Criterion) {
    for bundle in ["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"] {
        let policy = PolicySet::from_file(root().join(format!("policies/{bundle}.pcl"))).unwrap();
        let file = cases::read(&root().join(format!("tests/conformance/{bundle}.json"))).unwrap();
        let mut group = c.benchmark_group(format!("explain/{bundle}"));
        for wanted in ["allow", "deny"] {
            let Some(case) = file.cases.iter().find(|c| c.expect.decision == wanted) else {
                continue;
            };
            let mut data = file.data.clone();
            data.extend(case.data.clone());
            let data = policy.load_data(&serde_json::Value::Object(data)).unwrap();
            let request = Request::from_json(&case.request).unwrap();
            let plain = policy.decide(&request, &data);
            assert_eq!(plain.outcome.as_str(), wanted, "{bundle}: {}", case.name);
            assert_eq!(policy.explain(&request, &data).decision(), &plain);
            group.bench_function(format!("{wanted}/decide"), |b| {
                b.iter(|| policy.decide(black_box(&request), &data))
            });
            group.bench_function(format!("{wanted}/explain"), |b| {
                b.iter(|| policy.explain(black_box(&request), &data))
            });
            group.bench_function(format!("{wanted}/explain+statements"), |b| {
                b.iter(|| policy.explain(black_box(&request), &data).statements())
            });
            group.bench_function(format!("{wanted}/explain+text"), |b| {
                b.iter(|| policy.explain(black_box(&request), &data).to_string())
            });
            group.bench_function(format!("{wanted}/explain+json"), |b| {
                b.iter(|| policy.explain(black_box(&request), &data).to_json())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_explain);
criterion_main!(benches);
