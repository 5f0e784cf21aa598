//! Keeps docs/diagnostics.md true: one section per code, each with a bad
//! and a fixed example, and every example run.
//!
//! Blocks, by info string: `pcl bad` must report the section's code and
//! `pcl fixed` nothing at all (each is written as a file beside the
//! section's `pcl file=NAME` blocks and checked as `portcullis check`
//! would); `json bad-request` must be refused with the code (no `pcl
//! policy` block) or decided with that error (with one), `json
//! fixed-request` accepted and decided without error. `no-run` blocks are
//! only shown.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use portcullis::diagnostics::Code;
use portcullis::lint::{check_paths, Options};
use portcullis::{Data, PolicySet, Request};
use std::path::PathBuf;

struct Block {
    info: String,
    text: String,
}

struct Section {
    code: Code,
    blocks: Vec<Block>,
}

fn sections() -> Vec<Section> {
    let doc = std::fs::read_to_string("docs/diagnostics.md").unwrap();
    let mut out: Vec<Section> = Vec::new();
    let mut lines = doc.lines();
    while let Some(line) = lines.next() {
        if let Some(title) = line.strip_prefix("## PCL") {
            let word = format!("PCL{}", title.split_whitespace().next().unwrap());
            let code = Code::parse(&word).unwrap_or_else(|| panic!("unknown code {word}"));
            let name = title.split_whitespace().nth(1).unwrap_or("");
            assert_eq!(name, code.name(), "heading of {word}");
            out.push(Section {
                code,
                blocks: Vec::new(),
            });
        } else if let Some(info) = line.strip_prefix("```").filter(|i| !i.is_empty()) {
            let mut text = String::new();
            for l in lines.by_ref() {
                if l.starts_with("```") {
                    break;
                }
                text.push_str(l);
                text.push('\n');
            }
            if let Some(section) = out.last_mut() {
                section.blocks.push(Block {
                    info: info.trim().to_string(),
                    text,
                });
            }
        }
    }
    out
}

fn block<'s>(section: &'s Section, info: &str) -> Option<&'s Block> {
    section.blocks.iter().find(|b| b.info == info)
}

/// Writes the section's files and `name`, and checks `name`.
fn check_in_dir(section: &Section, name: &str, text: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!(
        "pcl-doc-{}-{}",
        std::process::id(),
        section.code.code()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    for b in &section.blocks {
        if let Some(file) = b.info.strip_prefix("pcl file=") {
            std::fs::write(dir.join(file), &b.text).unwrap();
        }
    }
    let path: PathBuf = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let report = check_paths(&[path], &Options::default()).unwrap();
    report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.code.code(), f.message))
        .collect()
}

#[test]
fn every_code_has_exactly_one_section_in_registry_order() {
    let found: Vec<Code> = sections().iter().map(|s| s.code).collect();
    assert_eq!(found, Code::ALL.to_vec());
}

#[test]
fn every_section_has_a_bad_and_a_fixed_example() {
    for s in sections() {
        let has = |role: &str| {
            s.blocks
                .iter()
                .any(|b| b.info.split_whitespace().any(|w| w == role))
        };
        assert!(
            has("bad") || has("bad-request"),
            "{} has no bad example",
            s.code
        );
        assert!(
            has("fixed") || has("fixed-request"),
            "{} has no fixed example",
            s.code
        );
    }
}

#[test]
fn bad_policies_report_their_code_and_fixed_ones_nothing() {
    let mut ran = 0;
    for s in sections() {
        if let Some(bad) = block(&s, "pcl bad") {
            let found = check_in_dir(&s, "bad.pcl", &bad.text);
            assert!(
                found.iter().any(|f| f.starts_with(s.code.code())),
                "{}: the bad example reports {found:?}",
                s.code
            );
            ran += 1;
        }
        if let Some(fixed) = block(&s, "pcl fixed") {
            let found = check_in_dir(&s, "fixed.pcl", &fixed.text);
            assert!(
                found.is_empty(),
                "{}: the fixed example reports {found:?}",
                s.code
            );
            ran += 1;
        }
    }
    assert!(ran >= 60, "only {ran} examples ran");
}

#[test]
fn bad_requests_are_refused_or_decided_with_their_code() {
    for s in sections() {
        let Some(bad) = block(&s, "json bad-request") else {
            continue;
        };
        let fixed = block(&s, "json fixed-request").unwrap();
        match block(&s, "pcl policy") {
            None => {
                let err = Request::from_json_str(&bad.text).unwrap_err();
                assert_eq!(err.code, s.code, "{}: {err}", s.code);
                Request::from_json_str(&fixed.text)
                    .unwrap_or_else(|e| panic!("{}: fixed request refused: {e}", s.code));
            }
            Some(policy) => {
                let set = PolicySet::from_source(&policy.text).unwrap();
                let decide =
                    |text: &str| set.decide(&Request::from_json_str(text).unwrap(), &Data::empty());
                let d = decide(&bad.text);
                assert!(!d.is_allowed(), "{}: an error allowed", s.code);
                assert_eq!(
                    d.error.as_ref().map(|e| e.code),
                    Some(s.code),
                    "{}: {}",
                    s.code,
                    d.reason
                );
                let d = decide(&fixed.text);
                assert!(
                    d.error.is_none(),
                    "{}: fixed request errs: {}",
                    s.code,
                    d.reason
                );
            }
        }
    }
}
