//! Compiling a policy leaves no process-wide state behind: pest's call
//! limit is the host's, and parses on different threads do not take turns.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, PolicySet};
use std::num::NonZeroUsize;
use std::sync::{Arc, Barrier};

/// The host application's own pest grammar: nested lists.
mod host {
    #[derive(pest_derive::Parser)]
    #[grammar_inline = r#"
        list = { "[" ~ (list ~ ("," ~ list)*)? ~ "]" }
        doc  = { SOI ~ list ~ EOI }
    "#]
    pub struct HostParser;
}

/// A document whose parse needs about a million rule calls.
fn big_document() -> String {
    format!("[{}[]]", "[[]],".repeat(100_000))
}

fn host_parse(text: &str) -> Result<(), String> {
    use pest::Parser;
    host::HostParser::parse(host::Rule::doc, text)
        .map(|_| ())
        .map_err(|e| e.variant.message().into_owned())
}

const POLICY: &str = "actions: read\npolicy p for read { allow when principal.id == 1 }\n";

#[test]
fn compiling_a_policy_leaves_pests_call_limit_to_the_host() {
    let doc = big_document();
    // No limit set by the host: none after compiling either.
    PolicySet::from_source(POLICY).unwrap();
    host_parse(&doc).unwrap();
    // A limit the host set is still its own after compiling: high enough
    // for the big document, and still in force for a bigger one.
    pest::set_call_limit(NonZeroUsize::new(3_000_000));
    PolicySet::from_source(POLICY).unwrap();
    let result = host_parse(&doc);
    let bigger = format!("[{}[]]", "[[]],".repeat(400_000));
    let refused = host_parse(&bigger);
    pest::set_call_limit(None);
    result.unwrap();
    assert!(refused.unwrap_err().contains("call limit"));
}

#[test]
fn parses_on_two_threads_run_at_once() {
    let sources: Vec<String> = ["flip", "flask-rbac"]
        .iter()
        .map(|b| {
            std::fs::read_to_string(format!("{}/policies/{b}.pcl", env!("CARGO_MANIFEST_DIR")))
                .unwrap()
        })
        .collect();
    let start = Arc::new(Barrier::new(sources.len()));
    let workers: Vec<_> = sources
        .into_iter()
        .map(|text| {
            let start = Arc::clone(&start);
            std::thread::spawn(move || {
                start.wait();
                (0..20)
                    .map(|_| portcullis::unstable::syntax::parse(&text).map(|f| f.items.len()))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for worker in workers {
        let counts = worker.join().unwrap();
        let first = counts[0].clone().unwrap();
        assert!(first > 0);
        assert!(counts.iter().all(|c| c.as_ref().ok() == Some(&first)));
    }
    // Nothing in the parser serialises parses or touches pest's settings:
    // no lock, no process-wide limit (the test above shows the limit is
    // left alone; this names the cause if it ever comes back).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/syntax");
    let mut read = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let syntax = std::fs::read_to_string(&path).unwrap();
        read += 1;
        for forbidden in ["set_call_limit(", "Mutex", "static PARSE"] {
            assert!(
                !syntax.contains(forbidden),
                "{} uses {forbidden}",
                path.display()
            );
        }
    }
    assert!(read >= 2, "the syntax stage's files were not found");
}

#[test]
fn the_parsers_own_limits_still_refuse_tangled_text() {
    let deep = format!("actions: a\nlet x = {}1", "[".repeat(10_000));
    let err = PolicySet::from_source(&deep).unwrap_err();
    assert_eq!(err.errors().next().unwrap().code, Code::TooDeep);
}
