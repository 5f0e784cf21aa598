//! The examples of docs/language.md are real: every ```pcl block compiles,
//! and every ```json block that follows a ```pcl block directly (only blank
//! lines between them) is a case decided against that policy.
//!
//! A case is an object, or a list of objects, of the form
//!
//! ```json
//! {"request": {"action": "read", "principal": {"id": 1}},
//!  "data": {},
//!  "expect": "allow",
//!  "reason": "optional: the exact reason",
//!  "statement": "optional: the id of the first deciding statement",
//!  "filters": {}, "principal": {}, "claims": {}}
//! ```
//!
//! `data`, `reason`, `statement`, `filters`, `principal` and `claims` are
//! optional; when given they must equal what the decision returns.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, PolicySet, Request};
use serde_json::Value;

/// A fenced block of the document.
struct Block {
    /// The info string after the opening fence (`pcl`, `json`, `text`).
    lang: String,
    /// 1-based line of the opening fence.
    line: usize,
    /// The text between the fences.
    text: String,
    /// Whether only blank lines separate it from the previous block.
    follows_previous: bool,
}

fn blocks(markdown: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<Block> = None;
    let mut gap_is_blank = false;
    for (i, line) in markdown.lines().enumerate() {
        let fence = line.trim_start().starts_with("```");
        match open.as_mut() {
            Some(block) => {
                if fence && line.trim() == "```" {
                    out.push(open.take().unwrap());
                    gap_is_blank = true;
                } else {
                    block.text.push_str(line);
                    block.text.push('\n');
                }
            }
            None if fence => {
                open = Some(Block {
                    lang: line.trim().trim_start_matches('`').trim().to_string(),
                    line: i + 1,
                    text: String::new(),
                    follows_previous: gap_is_blank,
                });
            }
            None => {
                if !line.trim().is_empty() {
                    gap_is_blank = false;
                }
            }
        }
    }
    if let Some(block) = open {
        panic!(
            "docs/language.md: the block opened at line {} is never closed",
            block.line
        );
    }
    out
}

/// Decides one case; returns what differs from the expectation.
fn check_case(policy: &PolicySet, case: &Value) -> Result<(), String> {
    let request = case.get("request").ok_or("the case has no `request`")?;
    let request = Request::from_json(request).map_err(|e| format!("bad request: {e}"))?;
    let data = match case.get("data") {
        Some(d) => Data::from_json(d).map_err(|e| format!("bad data: {e}"))?,
        None => Data::empty(),
    };
    let expect = case
        .get("expect")
        .and_then(Value::as_str)
        .ok_or("the case has no `expect` string")?;
    let decision = policy.decide(&request, &data);
    let got = decision.to_json();
    let mut problems = Vec::new();
    if decision.outcome.as_str() != expect {
        problems.push(format!(
            "expected {expect}, got {} (reason: {:?})",
            decision.outcome.as_str(),
            &*decision.reason
        ));
    }
    if let Some(reason) = case.get("reason").and_then(Value::as_str) {
        if &*decision.reason != reason {
            problems.push(format!(
                "expected reason {reason:?}, got {:?}",
                &*decision.reason
            ));
        }
    }
    if let Some(statement) = case.get("statement").and_then(Value::as_str) {
        let first = decision.statements.first().map(|s| &*s.id);
        if first != Some(statement) {
            problems.push(format!(
                "expected deciding statement {statement:?}, got {first:?}"
            ));
        }
    }
    for key in ["filters", "principal", "claims"] {
        if let Some(want) = case.get(key) {
            let have = got.get(key).unwrap_or(&Value::Null);
            if have != want {
                problems.push(format!("expected {key} {want}, got {have}"));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn every_pcl_example_compiles_and_every_case_decides_as_documented() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md");
    let markdown =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let blocks = blocks(&markdown);

    let mut failures = Vec::new();
    let mut compiled = 0usize;
    // The lines of the pcl blocks that have at least one case.
    let mut decided = std::collections::HashSet::new();
    let mut cases = 0usize;
    let mut current: Option<(usize, PolicySet)> = None;

    for block in &blocks {
        match block.lang.as_str() {
            "pcl" => {
                current = None;
                // Imports resolve inside the repository, where the examples
                // are written as if they sat.
                match PolicySet::from_named_source(
                    "example.pcl",
                    &block.text,
                    std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
                    portcullis::Limits::default(),
                ) {
                    Ok(policy) => {
                        compiled += 1;
                        current = Some((block.line, policy));
                    }
                    Err(e) => failures.push(format!(
                        "docs/language.md:{}: the pcl block does not compile:\n{}",
                        block.line,
                        e.summary()
                    )),
                }
            }
            "json" if block.follows_previous => {
                let Some((policy_line, policy)) = current.as_ref() else {
                    continue;
                };
                let json: Value = match serde_json::from_str(&block.text) {
                    Ok(v) => v,
                    Err(e) => {
                        failures.push(format!(
                            "docs/language.md:{}: the json case is not valid JSON: {e}",
                            block.line
                        ));
                        continue;
                    }
                };
                let list = match json {
                    Value::Array(items) => items,
                    one => vec![one],
                };
                for (i, case) in list.iter().enumerate() {
                    cases += 1;
                    if let Err(why) = check_case(policy, case) {
                        failures.push(format!(
                            "docs/language.md:{} (case {} of the policy at line {policy_line}): {why}",
                            block.line,
                            i + 1
                        ));
                    }
                }
                decided.insert(*policy_line);
            }
            _ => current = None,
        }
    }

    eprintln!(
        "docs/language.md: {compiled} pcl examples compiled, {} of them decided over {cases} cases",
        decided.len()
    );
    assert!(
        failures.is_empty(),
        "{} problem(s) in docs/language.md:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(
        compiled >= 15,
        "docs/language.md holds {compiled} pcl examples; at least 15 expected"
    );
    assert!(
        decided.len() >= 8,
        "docs/language.md decides {} examples ({cases} cases); at least 8 expected",
        decided.len()
    );
}
