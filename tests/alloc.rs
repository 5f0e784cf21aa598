//! No allocation on the decision path: once the policy is compiled and the
//! request built, deciding W1, W2, W4 and W5 (allowed and denied) allocates
//! nothing. Counted with a counting global allocator, per thread, so the
//! test harness's own threads do not disturb the count.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

#[path = "../benches/workloads/facts.rs"]
mod facts;

use portcullis::{Outcome, PolicySet, Request};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded to the system allocator unchanged; the
// counter is a const-initialised thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|n| n.set(n.get() + 1));
        // SAFETY: forwarded as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

/// Decides the workload's two requests and returns the allocations each
/// decision made, after one warm-up decision.
fn count(w: &facts::Workload) -> [(Outcome, u64); 2] {
    let policy = PolicySet::from_source(&w.policy).unwrap();
    let data = policy.load_data(&w.data).unwrap();
    [&w.allow, &w.deny].map(|json| {
        let request = Request::from_json(json).unwrap();
        drop(policy.decide(&request, &data));
        let before = allocations();
        let decision = policy.decide(&request, &data);
        let made = allocations() - before;
        (decision.outcome, made)
    })
}

#[test]
fn the_counter_counts() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8, 2, 3]);
    assert_eq!(allocations() - before, 1);
    drop(v);
}

#[test]
fn deciding_w1_w2_w4_w5_allocates_nothing() {
    for w in [
        facts::w1(),
        facts::w2(),
        facts::w2_data(),
        facts::w4(),
        facts::w4_data(),
        facts::w5(),
    ] {
        let [allow, deny] = count(&w);
        assert_eq!(allow, (Outcome::Allow, 0), "{} allowed", w.name);
        assert_eq!(deny, (Outcome::Deny, 0), "{} denied", w.name);
    }
}

#[test]
fn w3_decides_as_expected() {
    // W3 builds lists of granted collections per decision, so it allocates;
    // only its decisions are checked here.
    let [allow, deny] = count(&facts::w3());
    assert_eq!(allow.0, Outcome::Allow);
    assert_eq!(deny.0, Outcome::Deny);
}
