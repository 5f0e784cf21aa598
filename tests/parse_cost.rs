//! The parser's work grows linearly with the text, with no budget to stop
//! it: pest backtracks, so a grammar that could parse one start twice would
//! grow as a power of the nesting. Measured in pest rule calls, found by
//! bisecting pest's call limit (this test binary's own process-wide
//! setting; the library never sets it), so nothing here depends on time.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail loudly"
)]

use std::num::NonZeroUsize;
use std::sync::Mutex;

/// The call limit is one setting for this whole process: measurements
/// take turns.
static TURN: Mutex<()> = Mutex::new(());

/// The fewest pest rule calls under which the longest parse attempt of
/// `text` finishes (the parser retries after each syntax error).
fn calls(text: &str) -> usize {
    let _turn = TURN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let _reset = Reset;
    let gives_up = |limit: usize| {
        pest::set_call_limit(NonZeroUsize::new(limit));
        let result = portcullis::unstable::syntax::parse(text);
        matches!(result, Err(e) if e.iter().any(|f| f.message.contains("too tangled")))
    };
    let (mut low, mut high) = (1usize, 1usize);
    while gives_up(high) {
        low = high;
        high *= 2;
        // Far more than any input here needs: past it the work is not
        // linear, and bisecting further would take minutes.
        assert!(
            high <= 1 << 22,
            "more than {} calls for {} bytes",
            1 << 22,
            text.len()
        );
    }
    while low + 1 < high {
        let mid = (low + high) / 2;
        if gives_up(mid) {
            low = mid;
        } else {
            high = mid;
        }
    }
    high
}

/// Leaves pest without a call limit, also when a measurement fails.
struct Reset;

impl Drop for Reset {
    fn drop(&mut self) {
        pest::set_call_limit(None);
    }
}

/// Text that opens `opener` `depth` times and then breaks, so every level
/// fails and backtracks.
fn nested(opener: &str, depth: usize) -> String {
    format!("actions: a\nlet x = {} if\n", opener.repeat(depth))
}

#[test]
fn nested_openers_cost_linear_work() {
    // (opener, depth): strings nest in interpolations at most four deep,
    // so those families are measured at two and four levels.
    for (opener, depth) in [
        ("[ ", 16),
        ("( ", 16),
        ("{ ", 16),
        ("{a: ", 16),
        ("{k: v for k, v in ", 16),
        ("any x in ", 16),
        ("any x in r:{ ", 16),
        ("any x in r:\"{ ", 2),
        ("if ", 16),
        ("not ", 16),
        ("r:{ ", 16),
        ("[x for x in ", 16),
        ("{\"a{ ", 2),
        ("{\"{ ", 2),
        ("({ \"{ ", 2),
        ("\"{ ", 2),
    ] {
        let (small, large) = (nested(opener, depth), nested(opener, 2 * depth));
        let (a, b) = (calls(&small), calls(&large));
        // Twice the nesting: at most about twice the work (the text is
        // less than twice as long, so linear work grows by less).
        assert!(
            b * 10 <= a * 22,
            "{opener:?}: {a} calls at depth {depth}, {b} at {}",
            2 * depth
        );
    }
}

#[test]
fn fuzz_findings_and_bundles_cost_a_few_calls_per_byte() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<_> = std::fs::read_dir(root.join("tests/fuzz-regressions"))
        .unwrap()
        .map(|e| (e.unwrap().path(), 100))
        .collect();
    for bundle in ["diracx", "flask-rbac", "flexmeasures", "flip", "rs-server"] {
        files.push((root.join(format!("policies/{bundle}.pcl")), 30));
    }
    for (path, per_byte) in files {
        let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
        let n = calls(&text);
        assert!(
            n <= per_byte * text.len(),
            "{}: {n} calls for {} bytes",
            path.display(),
            text.len()
        );
    }
}
