//! Runs one benchmark workload outside criterion, for profilers and for
//! peak memory (`/usr/bin/time -v`):
//!
//! ```text
//! cargo run --release --example workload -- w1 allow 100000   # decide 100,000 times
//! cargo run --release --example workload -- w5 compile 1      # only load and compile
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a measuring tool"
)]

#[path = "../benches/workloads/facts.rs"]
mod facts;

use portcullis::{PolicySet, Request};
use std::hint::black_box;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let which = args.first().map_or("w1", String::as_str);
    let mode = args.get(1).map_or("allow", String::as_str);
    let times: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(1);
    let w = match which {
        "w1" => facts::w1(),
        "w2" => facts::w2(),
        "w2d" => facts::w2_data(),
        "w3" => facts::w3(),
        "w4" => facts::w4(),
        "w4d" => facts::w4_data(),
        "w5" => facts::w5(),
        other => panic!("unknown workload `{other}`: w1 to w5"),
    };
    let policy = PolicySet::from_source(&w.policy).unwrap();
    if mode == "compile" {
        println!("{}: compiled {} actions", w.name, policy.actions().count());
        return;
    }
    let data = policy.load_data(&w.data).unwrap();
    let json = if mode == "allow" { &w.allow } else { &w.deny };
    let request = Request::from_json(json).unwrap();
    let mut last = None;
    for _ in 0..times {
        last = Some(policy.decide(black_box(&request), &data));
    }
    let d = last.unwrap();
    println!("{} {mode}: {} ({})", w.name, d.outcome.as_str(), d.reason);
}
