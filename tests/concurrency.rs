//! One compiled policy set per bundle, shared by many threads deciding at
//! once: every decision must be the one the conformance cases expect.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, Outcome, PolicySet, Request};
use serde_json::Value;
use std::sync::Arc;

fn root() -> std::path::PathBuf {
    std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (request, data, expected outcome) for every case of a conformance file;
/// case data is laid over the file's data key by key.
fn cases(bundle: &str) -> Vec<(Request, Data, Outcome)> {
    let path = root().join(format!("tests/conformance/{bundle}.json"));
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let base = file.get("data").cloned().unwrap_or(Value::Null);
    file["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|case| {
            let mut data = base.as_object().cloned().unwrap_or_default();
            if let Some(extra) = case.get("data").and_then(Value::as_object) {
                data.extend(extra.clone());
            }
            let want = match case["expect"]["decision"].as_str().unwrap() {
                "allow" => Outcome::Allow,
                "deny" => Outcome::Deny,
                _ => Outcome::Unauthenticated,
            };
            (
                Request::from_json(&case["request"]).unwrap(),
                Data::from_json(&Value::Object(data)).unwrap(),
                want,
            )
        })
        .collect()
}

#[test]
fn threads_share_one_compiled_policy_and_agree_on_every_decision() {
    let bundles = ["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"];
    let mut workers = Vec::new();
    for bundle in bundles {
        let set =
            Arc::new(PolicySet::from_file(root().join(format!("policies/{bundle}.pcl"))).unwrap());
        let cases = Arc::new(cases(bundle));
        for t in 0..4usize {
            let (set, cases) = (Arc::clone(&set), Arc::clone(&cases));
            workers.push(std::thread::spawn(move || {
                let mut decided = 0;
                for round in 0..20 {
                    // Each thread walks the cases from a different start.
                    for i in 0..cases.len() {
                        let (request, data, want) = &cases[(i + t * 7 + round) % cases.len()];
                        let got = set.decide(request, data).outcome;
                        assert_eq!(got, *want, "{bundle}: {request:?}");
                        decided += 1;
                    }
                }
                decided
            }));
        }
    }
    let total: usize = workers.into_iter().map(|w| w.join().unwrap()).sum();
    assert!(total > 10_000, "{total} decisions");
}
