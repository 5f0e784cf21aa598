//! `portcullis check` run as CI runs it: exit codes, formats, severity
//! options, pragmas and the summary line.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use std::path::PathBuf;
use std::process::{Command, Output};

fn check(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("check")
        .args(args)
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A folder of its own holding one policy file.
fn policy(name: &str, body: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcl-check-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.pcl"));
    std::fs::write(&path, body).unwrap();
    path
}

const WARNS: &str =
    "actions: read\nrule spare = true\npolicy p for read {\n  allow when principal != null\n}\n";

#[test]
fn bundled_policies_check_clean_with_exit_0_by_default() {
    let out = check(&[], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(text(&out.stdout), "checked 7 files: 0 errors, 0 warnings\n");
}

#[test]
fn errors_exit_1_with_a_summary_line() {
    let out = check(&["tests/diagnostics/PCL206-type-mismatch.pcl"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("PCL206"), "{stdout}");
    assert!(
        stdout.ends_with("checked 1 file: 3 errors, 0 warnings\n"),
        "{stdout}"
    );
}

#[test]
fn warnings_pass_unless_denied() {
    let path = policy("warns", WARNS);
    let path = path.to_str().unwrap();
    let out = check(&[path], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("1 warning"));

    let out = check(&[path, "--deny", "warnings"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stdout).contains("1 error, 0 warnings"));

    let out = check(&[path, "--deny", "unused-definition"], &[]);
    assert_eq!(out.status.code(), Some(1));

    let out = check(&[path, "--allow", "PCL306"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "checked 1 file: 0 errors, 0 warnings\n");
}

#[test]
fn lints_that_are_errors_can_be_lowered_but_load_errors_cannot() {
    let path = "tests/diagnostics/PCL307-credential-not-constant-time.pcl";
    assert_eq!(check(&[path], &[]).status.code(), Some(1));
    let out = check(&[path, "--warn", "PCL307"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));

    let out = check(
        &[
            "tests/diagnostics/PCL206-type-mismatch.pcl",
            "--allow",
            "PCL206",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot be lowered"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let out = check(&["no/such/folder"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/folder"));

    let out = check(&["--deny", "PCL999"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unknown code `PCL999`"));

    let out = check(&["--format", "xml"], &[]);
    assert_eq!(out.status.code(), Some(2));

    let empty = std::env::temp_dir().join(format!("pcl-check-empty-{}", std::process::id()));
    std::fs::create_dir_all(&empty).unwrap();
    let out = check(&[empty.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no .pcl files"));
}

#[test]
fn machine_formats_keep_stdout_a_single_document() {
    let file = "tests/diagnostics/PCL305-impossible-pattern.pcl";
    for format in ["json", "sarif"] {
        let out = check(&[file, "--format", format], &[]);
        assert_eq!(out.status.code(), Some(0));
        let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(doc.is_object());
        assert_eq!(text(&out.stderr), "checked 1 file: 0 errors, 3 warnings\n");
    }
    let out = check(&[file, "--format", "github"], &[]);
    let stdout = text(&out.stdout);
    assert_eq!(stdout.matches("::warning file=").count(), 3, "{stdout}");
}

#[test]
fn json_findings_carry_position_span_and_help() {
    let out = check(
        &[
            "tests/diagnostics/PCL201-unknown-field.pcl",
            "--format",
            "json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &doc["findings"][0];
    assert_eq!(f["code"], "PCL201");
    assert_eq!(f["name"], "unknown-field");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["file"], "tests/diagnostics/PCL201-unknown-field.pcl");
    assert_eq!(
        (f["line"].as_u64(), f["column"].as_u64()),
        (Some(5), Some(24))
    );
    assert_eq!(f["end_column"], 27);
    assert_eq!(f["help"], "did you mean `id`?");
    assert_eq!(doc["summary"]["errors"], 1);
}

#[test]
fn a_pragma_next_to_a_statement_changes_only_that_statement() {
    let body = "actions: read\n\
                // portcullis: allow(unused-definition)\n\
                rule kept = true\n\
                rule spare = true\n\
                policy p for read {\n  allow when principal != null\n}\n";
    let path = policy("pragma", body);
    let out = check(&[path.to_str().unwrap()], &[]);
    let stdout = text(&out.stdout);
    assert!(!stdout.contains("`kept`"), "{stdout}");
    assert!(stdout.contains("`spare`"), "{stdout}");
    // The pragma wins over the command line.
    let out = check(&[path.to_str().unwrap(), "--deny", "warnings"], &[]);
    assert!(text(&out.stdout).contains("1 error, 0 warnings"));
}

#[test]
fn plain_output_has_no_escape_codes_when_piped_or_no_color() {
    for env in [&[][..], &[("NO_COLOR", "1")][..]] {
        let out = check(&["tests/diagnostics/PCL200-unknown-name.pcl"], env);
        assert!(
            !out.stdout.contains(&0x1b),
            "escape codes in {}",
            text(&out.stdout)
        );
        assert!(text(&out.stdout).contains("unknown name `is_admn`"));
    }
}

#[test]
fn syntax_errors_recover_to_report_later_items() {
    let out = check(
        &[
            "tests/diagnostics/PCL100-syntax-error.pcl",
            "--format",
            "json",
        ],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let lines: Vec<u64> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["line"].as_u64().unwrap())
        .collect();
    // The second is an unclosed `(`: reported on line 9, where it opens.
    assert_eq!(lines, [6, 9]);
}
