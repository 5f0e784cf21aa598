//! What `portcullis test` prints: for people (a failing case with what it
//! expected, what came back and why), JUnit XML for CI test reports, and
//! one JSON document (docs/cases.md, "Reports").
//!
//! Input: the outcome of each case file. Output: text. Invariant: a run in
//! which a file could not be run never looks clean — the human report has
//! no `N passed, N failed` line, JUnit records the file as an error, and
//! JSON says `"complete": false`.

use super::cases::{CaseResult, FileError};
use super::coverage::Coverage;
use crate::diagnostics::{escape_controls, Code};
use std::fmt::Write as _;
use std::path::PathBuf;

/// One case file's outcome.
#[derive(Debug)]
pub struct FileOutcome {
    /// The case file.
    pub path: PathBuf,
    /// Its cases' results, or why it could not be run.
    pub result: Result<FileCases, FileError>,
}

/// The cases of a file that ran.
#[derive(Debug)]
pub struct FileCases {
    /// The policy they were decided with.
    pub policy: PathBuf,
    /// One per case.
    pub cases: Vec<CaseResult>,
}

/// Counts over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    /// Case files that could not be run.
    pub unusable: usize,
}

/// The counts of a run.
pub fn summary(files: &[FileOutcome]) -> Summary {
    let mut s = Summary::default();
    for f in files {
        match &f.result {
            Ok(run) => {
                for c in &run.cases {
                    if c.failure.is_some() {
                        s.failed += 1;
                    } else {
                        s.passed += 1;
                    }
                }
            }
            Err(_) => s.unusable += 1,
        }
    }
    s
}

/// A failing case for people: what differed, what was expected, what came
/// back, and the explanation, indented under the `FAIL` line.
pub fn human_failure(file: &std::path::Path, case: &CaseResult) -> String {
    let mut out = format!("FAIL {}: {}\n", file.display(), case.name);
    if let Some(why) = &case.failure {
        let _ = writeln!(out, "     {why}");
    }
    let _ = writeln!(out, "     expected: {}", case.expected);
    match &case.actual {
        Some(actual) => {
            let _ = writeln!(out, "     actual:   {actual}");
        }
        None => out.push_str("     actual:   refused before deciding\n"),
    }
    if let Some(explained) = &case.explanation {
        out.push_str("     why:\n");
        for line in explained.text.lines() {
            if line.is_empty() {
                out.push('\n');
            } else {
                let _ = writeln!(out, "       {line}");
            }
        }
    }
    escape_controls(&out).into_owned()
}

/// Text for XML content and attributes: markup escaped, and characters
/// XML 1.0 cannot hold (controls other than tab and line breaks) shown as
/// `\u{..}`.
fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{7f}' || c == '\u{fffe}' || c == '\u{ffff}' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: a `testsuite` per case file (named by its path), a
/// `testcase` per case (class: the policy), a `failure` with what differed
/// and the explanation; a file that could not be run is a suite holding
/// one `error`.
pub fn junit(files: &[FileOutcome]) -> String {
    let total = summary(files);
    let tests = total.passed + total.failed;
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"portcullis\" tests=\"{tests}\" failures=\"{}\" errors=\"{}\">",
        total.failed, total.unusable
    );
    for f in files {
        let name = xml(&f.path.display().to_string());
        match &f.result {
            Ok(run) => {
                let failures = run.cases.iter().filter(|c| c.failure.is_some()).count();
                let class = xml(&run.policy.display().to_string());
                let _ = writeln!(
                    out,
                    "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\">",
                    run.cases.len()
                );
                for case in &run.cases {
                    let case_name = xml(&case.name);
                    match &case.failure {
                        None => {
                            let _ = writeln!(
                                out,
                                "    <testcase name=\"{case_name}\" classname=\"{class}\"/>"
                            );
                        }
                        Some(why) => {
                            let _ = writeln!(
                                out,
                                "    <testcase name=\"{case_name}\" classname=\"{class}\">\n      <failure message=\"{}\" type=\"mismatch\">{}</failure>\n    </testcase>",
                                xml(&why.to_string()),
                                xml(&human_failure(&f.path, case))
                            );
                        }
                    }
                }
                out.push_str("  </testsuite>\n");
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "  <testsuite name=\"{name}\" tests=\"0\" failures=\"0\" errors=\"1\">\n    <error message=\"{}\" type=\"{}\"/>\n  </testsuite>",
                    xml(&e.message()),
                    Code::InvalidCaseFile.code()
                );
            }
        }
    }
    out.push_str("</testsuites>\n");
    out
}

/// The JSON report (docs/cases.md, "Reports").
pub fn json(files: &[FileOutcome], coverage: Option<&Coverage>) -> serde_json::Value {
    let total = summary(files);
    let files: Vec<serde_json::Value> = files
        .iter()
        .map(|f| {
            let path = f.path.display().to_string();
            match &f.result {
                Ok(run) => {
                    let cases: Vec<serde_json::Value> = run
                        .cases
                        .iter()
                        .map(|c| {
                            let mut case = serde_json::json!({
                                "name": c.name,
                                "passed": c.failure.is_none(),
                                "expected": c.expected,
                                "actual": c.actual,
                            });
                            if let (Some(why), Some(obj)) = (&c.failure, case.as_object_mut()) {
                                obj.insert("failure".into(), why.to_string().into());
                            }
                            if let (Some(ex), Some(obj)) = (&c.explanation, case.as_object_mut()) {
                                obj.insert(
                                    "explanation".into(),
                                    serde_json::json!({ "statements": ex.statements }),
                                );
                            }
                            case
                        })
                        .collect();
                    serde_json::json!({
                        "file": path,
                        "policy": run.policy.display().to_string(),
                        "cases": cases,
                    })
                }
                Err(e) => serde_json::json!({
                    "file": path,
                    "error": { "code": Code::InvalidCaseFile.code(), "message": e.message() },
                }),
            }
        })
        .collect();
    let mut report = serde_json::json!({
        "version": 1,
        "complete": total.unusable == 0,
        "summary": {
            "passed": total.passed,
            "failed": total.failed,
            "unusable_files": total.unusable,
        },
        "files": files,
    });
    if let (Some(c), Some(obj)) = (coverage, report.as_object_mut()) {
        obj.insert("coverage".into(), c.to_json());
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xml_escapes_markup_and_controls() {
        assert_eq!(
            xml("a<b & \"c\" 'd'>"),
            "a&lt;b &amp; &quot;c&quot; &apos;d&apos;&gt;"
        );
        assert_eq!(xml("x\u{1b}[31m\ty"), "x\\u{1b}[31m\ty");
    }
}
