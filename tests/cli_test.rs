//! `portcullis test` through the binary: a failing case shows expected,
//! actual and the explanation; `--format junit` and `--format json`;
//! `--coverage`, `--coverage-min`, `--lcov`; `expect.claims` and
//! `expect.error`; `--data`; and a file that cannot be run never ends in a
//! line a script could read as clean.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use std::path::{Path, PathBuf};
use std::process::Output;

const POLICY: &str = r#"token actions: token.issue
actions: read

principals {
  user == .id
}

request {
  principal: { id: int, vo?: string }?
  resource: { owner?: int }?
}

policy docs for read in order {
  anonymous: unauthenticated "log in first" when principal == null
  owner: allow when principal matches user:{resource.owner} and data.open == true
  deny "only the owner"
}

policy issue for token.issue {
  allow when principal != null
  claims access: { vo: principal.vo ?? "none", id: principal.id }
}
"#;

/// A folder holding `docs.pcl` and the given case files.
fn folder(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcl-cli-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docs.pcl"), POLICY).unwrap();
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

fn run(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("test")
        .args(["--policies", "."])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

const CASES: &str = r#"{"bundle": "docs", "data": {"open": true}, "cases": [
  {"name": "owner reads", "request": {"principal": {"id": 1}, "action": "read", "resource": {"owner": 1}, "context": {}},
   "expect": {"decision": "allow"}},
  {"name": "anonymous", "request": {"principal": null, "action": "read", "resource": null, "context": {}},
   "expect": {"decision": "unauthenticated", "reason": "log in"}},
  {"name": "a stranger", "request": {"principal": {"id": 2}, "action": "read", "resource": {"owner": 1}, "context": {}},
   "expect": {"decision": "deny"}},
  {"name": "a malformed caller is refused", "request": {"principal": {"id": "1"}, "action": "read", "resource": null, "context": {}},
   "expect": {"error": "PCL401"}},
  {"name": "a token carries its claims", "request": {"principal": {"id": 7, "vo": "lhcb"}, "action": "token.issue", "resource": null, "context": {}},
   "expect": {"decision": "allow", "claims": {"access": {"issue": {"vo": "lhcb"}}}}}
]}"#;

const WRONG: &str = r#"{"bundle": "docs", "data": {"open": true}, "cases": [
  {"name": "wrong on purpose", "request": {"principal": {"id": 2}, "action": "read", "resource": {"owner": 1}, "context": {}},
   "expect": {"decision": "allow"}},
  {"name": "wrong claims", "request": {"principal": {"id": 7, "vo": "lhcb"}, "action": "token.issue", "resource": null, "context": {}},
   "expect": {"decision": "allow", "claims": {"access": {"issue": {"vo": "atlas"}}}}},
  {"name": "wrong refusal", "request": {"principal": {"id": "1"}, "action": "read", "resource": null, "context": {}},
   "expect": {"error": "PCL500"}},
  {"name": "not refused at all", "request": {"principal": {"id": 1}, "action": "read", "resource": {"owner": 1}, "context": {}},
   "expect": {"error": "PCL401"}}
]}"#;

#[test]
fn passing_cases_end_in_the_summary_line() {
    let dir = folder("pass", &[("cases.json", CASES)]);
    let out = run(&dir, &["cases.json"]);
    assert_eq!(
        text(&out.stdout),
        "5 passed, 0 failed\n",
        "{}",
        text(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn a_failing_case_shows_expected_actual_and_why() {
    let dir = folder("fail", &[("wrong.json", WRONG)]);
    let out = run(&dir, &["wrong.json"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAIL wrong.json: wrong on purpose"),
        "{stdout}"
    );
    assert!(
        stdout.contains("decision: expected allow, got deny"),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected: {\"decision\":\"allow\"}"),
        "{stdout}"
    );
    assert!(
        stdout.contains("actual:   {\"decision\":\"deny\""),
        "{stdout}"
    );
    // The explanation names the part of the owner's condition that failed.
    assert!(stdout.contains("why:"), "{stdout}");
    assert!(
        stdout.contains("false  principal matches user:{resource.owner}   <- fails"),
        "{stdout}"
    );
    assert!(stdout.contains("claims: expected a subset of"), "{stdout}");
    assert!(
        stdout.contains("error: expected PCL500, got PCL401"),
        "{stdout}"
    );
    assert!(
        stdout.contains("error: expected PCL401, got none"),
        "{stdout}"
    );
    assert!(stdout.ends_with("0 passed, 4 failed\n"), "{stdout}");
}

#[test]
fn a_file_that_cannot_be_run_prints_no_summary_line() {
    let broken_policy = "actions: read\npolicy p for read {\n  allow when\n}\n";
    let dir = folder(
        "unusable",
        &[
            ("cases.json", CASES),
            ("missing-bundle.json", r#"{"bundle": "nope", "cases": []}"#),
            ("broken.pcl", broken_policy),
            ("broken.json", r#"{"bundle": "broken", "cases": []}"#),
        ],
    );
    for args in [
        &["cases.json", "missing-bundle.json"][..],
        &["broken.json"],
        &["cases.json", "absent.json"],
    ] {
        let out = run(&dir, args);
        let stdout = text(&out.stdout);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(!stdout.contains("passed"), "{args:?}: {stdout}");
        assert!(text(&out.stderr).contains("could not be run"), "{args:?}");
    }
}

#[test]
fn junit_has_a_suite_per_file_and_a_failure_per_failing_case() {
    let dir = folder("junit", &[("cases.json", CASES), ("wrong.json", WRONG)]);
    let out = run(&dir, &["cases.json", "wrong.json", "--format", "junit"]);
    let xml = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"portcullis\" tests=\"9\" failures=\"4\" errors=\"0\">"), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 2);
    assert_eq!(xml.matches("<testcase ").count(), 9);
    assert_eq!(xml.matches("<failure ").count(), 4);
    assert_eq!(xml.matches("</failure>").count(), 4);
    assert!(
        xml.contains("<testcase name=\"owner reads\" classname=\"./docs.pcl\"/>"),
        "{xml}"
    );
    assert!(xml.trim_end().ends_with("</testsuites>"));
    // Markup inside messages is escaped.
    assert!(xml.contains("&lt;- fails"), "{xml}");
    assert!(!xml.contains("<- fails"), "{xml}");
    let unusable = folder(
        "junit-bad",
        &[("missing.json", r#"{"bundle": "nope", "cases": []}"#)],
    );
    let out = run(&unusable, &["missing.json", "--format", "junit"]);
    let xml = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2));
    assert!(xml.contains("errors=\"1\""), "{xml}");
    assert!(
        xml.contains("<error message=\"`bundle`: unknown bundle `nope`"),
        "{xml}"
    );
}

#[test]
fn json_reports_every_case_and_whether_the_run_is_complete() {
    let dir = folder("json", &[("cases.json", CASES), ("wrong.json", WRONG)]);
    let out = run(&dir, &["cases.json", "wrong.json", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["version"], 1);
    assert_eq!(report["complete"], true);
    assert_eq!(
        report["summary"],
        serde_json::json!({"passed": 5, "failed": 4, "unusable_files": 0})
    );
    let wrong = &report["files"][1];
    assert_eq!(wrong["file"], "wrong.json");
    let case = &wrong["cases"][0];
    assert_eq!(case["passed"], false);
    assert_eq!(case["expected"], serde_json::json!({"decision": "allow"}));
    assert_eq!(case["actual"]["decision"], "deny");
    let statements = case["explanation"]["statements"].as_array().unwrap();
    assert!(statements
        .iter()
        .any(|s| s["id"] == "docs.owner" && s["status"] == "not-applied"));
    // A passing case carries no explanation unless coverage asks for all.
    assert!(report["files"][0]["cases"][0].get("explanation").is_none());
    assert!(report.get("coverage").is_none());
    let out = run(&dir, &["cases.json", "missing.json", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["complete"], false);
    assert_eq!(report["files"][1]["error"]["code"], "PCL703");
}

#[test]
fn coverage_counts_statements_that_decided_and_conditions_seen_both_ways() {
    let dir = folder("coverage", &[("cases.json", CASES)]);
    let out = run(&dir, &["cases.json", "--coverage", "--lcov", "cases.lcov"]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    // Four statements, each decided a case; `principal == null` was seen
    // true and false, the owner's `data.open == true` only true, and the
    // token's `principal != null` only true.
    assert!(
        stdout.contains("./docs.pcl: 4 of 4 statements, 3 of 5 condition parts (77.8%)"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 15: `data.open == true` never false"),
        "{stdout}"
    );
    assert!(
        stdout.contains("line 20: `principal != null` never false"),
        "{stdout}"
    );
    assert!(stdout.ends_with("5 passed, 0 failed\n"));
    let lcov = std::fs::read_to_string(dir.join("cases.lcov")).unwrap();
    assert!(lcov.starts_with("TN:portcullis\nSF:./docs.pcl\n"), "{lcov}");
    assert!(lcov.contains("DA:15,1\n"), "{lcov}");
    assert!(lcov.contains("BRDA:15,1,4,1\nBRDA:15,1,5,0\n"), "{lcov}");
    assert!(lcov.contains("BRF:10\nBRH:8\nLF:4\nLH:4\n"), "{lcov}");
    assert!(lcov.trim_end().ends_with("end_of_record"));
    // Below the minimum the run fails, with the cases all passing.
    let out = run(&dir, &["cases.json", "--coverage-min", "80"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("coverage 77.8% is below the minimum of 80%"));
    let out = run(&dir, &["cases.json", "--coverage-min", "77"]);
    assert_eq!(out.status.code(), Some(0));
    // JSON carries the same figures.
    let out = run(&dir, &["cases.json", "--coverage", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["coverage"]["totals"]["conditions_both"], 3);
    assert_eq!(report["coverage"]["totals"]["statements_decided"], 4);
}

#[test]
fn data_given_with_data_is_under_every_case_file() {
    let cases = r#"{"bundle": "docs", "cases": [
      {"name": "open comes from --data", "request": {"principal": {"id": 1}, "action": "read", "resource": {"owner": 1}, "context": {}},
       "expect": {"decision": "allow"}}]}"#;
    let dir = folder(
        "data",
        &[("cases.json", cases), ("shared.json", r#"{"open": true}"#)],
    );
    let out = run(&dir, &["cases.json", "--data", "shared.json"]);
    assert_eq!(text(&out.stdout), "1 passed, 0 failed\n");
    let out = run(&dir, &["cases.json"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "without the data the read errors and denies"
    );
    std::fs::write(dir.join("list.json"), "[1]").unwrap();
    let out = run(&dir, &["cases.json", "--data", "list.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out.stdout).contains("passed"));
    assert!(
        text(&out.stderr).contains("not a JSON object"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_case_without_decision_or_error_or_with_an_unknown_code_is_refused() {
    let none = r#"{"bundle": "docs", "cases": [{"name": "x", "request": {"action": "read"}, "expect": {}}]}"#;
    let bad_code = r#"{"bundle": "docs", "cases": [{"name": "x", "request": {"action": "read"}, "expect": {"error": "E401"}}]}"#;
    let dir = folder("invalid", &[("none.json", none), ("code.json", bad_code)]);
    let out = run(&dir, &["none.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("needs a `decision` or an `error`"));
    let out = run(&dir, &["code.json"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`E401` is not a code"));
}
