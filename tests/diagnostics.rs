//! Golden tests for `portcullis check`: each `tests/diagnostics/*.pcl` is a
//! bad policy, checked as the CLI checks it, and its report is compared
//! exactly with `<name>.txt` (plain text) and `<name>.json`. The SARIF and
//! GitHub renderings of all of them together are compared with
//! `all.sarif` and `all.github`.
//!
//! After an intended change of output, regenerate the expected files with
//! `BLESS=1 cargo test --test diagnostics` and review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking"
)]

use portcullis::unstable::diagnostics::Code;
use portcullis::unstable::lint::{check_paths, Options};
use portcullis::unstable::output::{render, Format};
use std::path::{Path, PathBuf};

mod golden;
use golden::golden;

const DIR: &str = "tests/diagnostics";

/// The bad policies, by name (the folder `layers/` holds files they import).
fn cases() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcl"))
        .map(|p| Path::new(DIR).join(p.file_name().unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn every_bad_policy_renders_as_its_golden_text_and_json() {
    let mut failures = Vec::new();
    for case in cases() {
        let report = check_paths(std::slice::from_ref(&case), &Options::default()).unwrap();
        assert!(
            !report.findings.is_empty(),
            "{} produces no finding",
            case.display()
        );
        let plain = render(&report, Format::Human { color: false });
        assert!(!plain.contains('\u{1b}'), "plain text holds escape codes");
        for (ext, text) in [("txt", plain), ("json", render(&report, Format::Json))] {
            if let Err(e) = golden(&case.with_extension(ext), &text) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn each_code_named_in_a_file_name_is_what_that_file_reports() {
    for case in cases() {
        let stem = case.file_stem().unwrap().to_string_lossy().to_string();
        let Some(code) = stem.split('-').next().and_then(Code::parse) else {
            continue;
        };
        let report = check_paths(std::slice::from_ref(&case), &Options::default()).unwrap();
        assert!(
            report.findings.iter().any(|f| f.code == code),
            "{stem} does not report {code}: {:?}",
            report
                .findings
                .iter()
                .map(|f| f.code.code())
                .collect::<Vec<_>>()
        );
    }
}

#[test]
fn every_lint_and_load_error_has_a_golden_case() {
    let names: Vec<String> = cases()
        .iter()
        .map(|c| c.file_stem().unwrap().to_string_lossy().to_string())
        .collect();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| {
            c.code().starts_with("PCL1")
                || c.code().starts_with("PCL2")
                || c.code().starts_with("PCL3")
        })
        .filter(|c| **c != Code::LimitExceeded)
        .filter(|c| !names.iter().any(|n| n.starts_with(c.code())))
        .map(|c| c.code())
        .collect();
    assert!(missing.is_empty(), "no golden case for {missing:?}");
}

#[test]
fn all_cases_render_as_golden_sarif_and_github_annotations() {
    let report = check_paths(&cases(), &Options::default()).unwrap();
    let sarif = render(&report, Format::Sarif);
    let doc: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    assert_eq!(doc["version"], "2.1.0");
    let rules = doc["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for result in doc["runs"][0]["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(uri.starts_with("tests/diagnostics/"), "{uri}");
    }
    let mut failures = Vec::new();
    for (name, text) in [
        ("all.sarif", sarif),
        ("all.github", render(&report, Format::Github)),
    ] {
        if let Err(e) = golden(&Path::new(DIR).join(name), &text) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn the_bundled_policies_check_clean() {
    let report = check_paths(&[PathBuf::from("policies")], &Options::default()).unwrap();
    assert!(
        report.findings.is_empty(),
        "{}",
        render(&report, Format::Human { color: false })
    );
    assert!(report.files >= 6);
}
