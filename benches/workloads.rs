//! The shared workloads W1-W5 (`benches/workloads/facts.rs`): each written
//! as a Portcullis policy (`benches/workloads/*.pcl`) beside a hand-written
//! Rust function doing the same check, in one criterion group. Both are
//! checked to give the expected decision before anything is timed.
//!
//! Measured per workload, for one allowed and one denied request:
//! - `portcullis/prebuilt`: `PolicySet::decide` on a `Request` built once;
//! - `portcullis/json`: `PolicySet::decide_json`, from request text;
//! - `rust`: the hand-written check on facts already in Rust structures.
//!
//! The `flatness` group decides one request against 10 statements and
//! against 10,000 (unrelated resources, or unrelated actions).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

#[path = "workloads/facts.rs"]
mod facts;
#[path = "workloads/reference.rs"]
mod reference;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkGroup, Criterion};
use facts::Workload;
use portcullis::{Data, Outcome, PolicySet, Request};

fn compile(w: &Workload) -> PolicySet {
    PolicySet::from_source(&w.policy).unwrap_or_else(|e| panic!("{}: {e:?}", w.name))
}

/// Times Portcullis on a workload, prebuilt and from JSON, after checking
/// both requests decide as expected.
fn bench_portcullis(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    w: &Workload,
) {
    let policy = compile(w);
    let data = policy.load_data(&w.data).unwrap();
    for (label, json, want) in [
        ("allow", &w.allow, Outcome::Allow),
        ("deny", &w.deny, Outcome::Deny),
    ] {
        let request = Request::from_json(json).unwrap();
        let text = serde_json::to_string(json).unwrap();
        let d = policy.decide(&request, &data);
        assert_eq!(d.outcome, want, "{} {label}: {}", w.name, d.reason);
        assert_eq!(policy.decide_json(&text, &data).outcome, want);
        group.bench_function(format!("portcullis/prebuilt/{label}"), |b| {
            b.iter(|| policy.decide(black_box(&request), black_box(&data)))
        });
        group.bench_function(format!("portcullis/json/{label}"), |b| {
            b.iter(|| policy.decide_json(black_box(&text), black_box(&data)))
        });
    }
}

fn bench_reference<F: Fn(bool) -> bool>(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    check: F,
) {
    assert!(check(true), "the reference allows the allowed request");
    assert!(!check(false), "the reference denies the denied request");
    for (label, allowed) in [("allow", true), ("deny", false)] {
        group.bench_function(format!("rust/{label}"), |b| {
            b.iter(|| check(black_box(allowed)))
        });
    }
}

fn workloads(c: &mut Criterion) {
    let refs = reference::Facts::new();

    let mut g = c.benchmark_group("w1_rbac");
    bench_portcullis(&mut g, &facts::w1());
    bench_reference(&mut g, |allowed| refs.w1(allowed));
    g.finish();

    let mut g = c.benchmark_group("w2_acl");
    bench_portcullis(&mut g, &facts::w2());
    bench_reference(&mut g, |allowed| refs.w2(allowed));
    g.finish();

    let mut g = c.benchmark_group("w2_acl_data");
    bench_portcullis(&mut g, &facts::w2_data());
    bench_reference(&mut g, |allowed| refs.w2(allowed));
    g.finish();

    let mut g = c.benchmark_group("w3_wildcard");
    bench_portcullis(&mut g, &facts::w3());
    bench_reference(&mut g, |allowed| refs.w3(allowed));
    g.finish();

    let mut g = c.benchmark_group("w4_membership");
    bench_portcullis(&mut g, &facts::w4());
    bench_reference(&mut g, |allowed| refs.w4(allowed));
    g.finish();

    let mut g = c.benchmark_group("w4_membership_data");
    bench_portcullis(&mut g, &facts::w4_data());
    bench_reference(&mut g, |allowed| refs.w4_data(allowed));
    g.finish();

    let mut g = c.benchmark_group("w5_scale");
    bench_portcullis(&mut g, &facts::w5());
    bench_reference(&mut g, |allowed| refs.w5(allowed));
    g.finish();
}

/// One decision against 10 statements, and against 10,000 of which 9,990
/// concern other resources (same action) or other actions.
fn flatness(c: &mut Criterion) {
    let mut g = c.benchmark_group("flatness");
    let request = Request::from_json(&facts::w5_request(5, 5)).unwrap();
    let data = Data::empty();
    for (label, reads, writes) in [
        ("10", 10, 0),
        ("10000-other-resources", 10_000, 0),
        ("10000-other-actions", 10, 9_990),
    ] {
        let policy = PolicySet::from_source(&facts::w5_source(reads, writes)).unwrap();
        assert!(policy.decide(&request, &data).is_allowed());
        g.bench_function(label, |b| {
            b.iter(|| policy.decide(black_box(&request), black_box(&data)))
        });
    }
    g.finish();
}

criterion_group!(benches, workloads, flatness);
criterion_main!(benches);
