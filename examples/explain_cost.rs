//! Decides, or explains, the first allowed or denied conformance case of a
//! bundle many times: a steady loop for instruction counts under
//! `valgrind --tool=cachegrind`, which a shared machine's timings are too
//! noisy to show (docs/performance.md, "Explanations"):
//!
//! ```text
//! cargo run --release --example explain_cost -- flip deny decide 1000
//! cargo run --release --example explain_cost -- flip deny explain 1000
//! cargo run --release --example explain_cost -- flip deny explain+json 1000
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a measuring tool"
)]

use portcullis::unstable::cases;
use portcullis::{PolicySet, Request};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let bundle = args.first().map_or("flip", String::as_str);
    let wanted = args.get(1).map_or("allow", String::as_str);
    let mode = args.get(2).map_or("decide", String::as_str);
    let times: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(1);
    let policy = PolicySet::from_file(format!("policies/{bundle}.pcl")).unwrap();
    let file = cases::read(std::path::Path::new(&format!(
        "tests/conformance/{bundle}.json"
    )))
    .unwrap();
    let case = file
        .cases
        .iter()
        .find(|c| c.expect.decision == wanted)
        .unwrap();
    let mut data = file.data.clone();
    data.extend(case.data.clone());
    let data = policy.load_data(&serde_json::Value::Object(data)).unwrap();
    let request = Request::from_json(&case.request).unwrap();
    let mut outcome = String::new();
    for _ in 0..times {
        outcome = match mode {
            "decide" => policy
                .decide(black_box(&request), &data)
                .outcome
                .as_str()
                .to_string(),
            "explain" => policy
                .explain(black_box(&request), &data)
                .decision()
                .outcome
                .as_str()
                .to_string(),
            "explain+json" => {
                policy.explain(black_box(&request), &data).to_json()["decision"].to_string()
            }
            "explain+statements" => policy.explain(black_box(&request), &data).statements().len().to_string(),
            "explain+json-text" => policy.explain(black_box(&request), &data).to_json_string(),
            "explain+text" => policy.explain(black_box(&request), &data).to_string(),
            other => panic!("unknown mode `{other}`: decide, explain, explain+statements, explain+text or explain+json"),
        };
    }
    println!("{bundle} {wanted} {mode}: {outcome}");
}
