//! Decision time of each bundled policy, on one allowed and one denied
//! request taken from its conformance cases: prebuilt requests (what an
//! application pays once it holds a `Request`) and from JSON text (the whole
//! path from the wire). Each request's decision is checked before timing.

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

fn bench_bundles(c: &mut Criterion) {
    for bundle in ["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"] {
        let policy_path = root().join(format!("policies/{bundle}.pcl"));
        let Ok(policy) = PolicySet::from_file(&policy_path) else {
            continue;
        };
        let file = cases::read(&root().join(format!("tests/conformance/{bundle}.json"))).unwrap();
        let mut group = c.benchmark_group(format!("decide/{bundle}"));
        for wanted in ["allow", "deny"] {
            let Some(case) = file.cases.iter().find(|c| c.expect.decision == wanted) else {
                continue;
            };
            let mut data = file.data.clone();
            data.extend(case.data.clone());
            let data = policy.load_data(&serde_json::Value::Object(data)).unwrap();
            let request = Request::from_json(&case.request).unwrap();
            let text = serde_json::to_string(&case.request).unwrap();
            assert_eq!(
                policy.decide(&request, &data).outcome.as_str(),
                wanted,
                "{bundle}: {}",
                case.name
            );
            group.bench_function(format!("{wanted}/prebuilt"), |b| {
                b.iter(|| policy.decide(black_box(&request), &data))
            });
            group.bench_function(format!("{wanted}/json"), |b| {
                b.iter(|| policy.decide_json(black_box(&text), &data))
            });
        }
        group.finish();
    }
}

criterion_group!(benches, bench_bundles);
criterion_main!(benches);
