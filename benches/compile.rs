//! Load and compile time of policy sets of 10 to 10,000 statements, in the
//! W5 shape (one grant per document): parse, check, lower and index. The
//! policy text is generated once, outside the timed loop.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

#[path = "workloads/facts.rs"]
mod facts;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::PolicySet;

fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("compile_w5");
    for n in [10usize, 100, 1_000, 10_000] {
        let source = facts::w5_source(n, 0);
        assert!(PolicySet::from_source(&source).is_ok());
        if n >= 1_000 {
            g.sample_size(10);
        }
        g.bench_function(n.to_string(), |b| {
            b.iter(|| PolicySet::from_source(black_box(&source)).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, compile);
criterion_main!(benches);
