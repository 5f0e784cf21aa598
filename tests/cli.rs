//! The `portcullis` binary, run as a user would: stdout, stderr, exit codes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn portcullis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(root())
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn temp(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcl-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn eval_allows_with_exit_0_and_prints_the_decision() {
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        "examples/requests/flexmeasures-read.json",
        "--data",
        "examples/data/flexmeasures.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["decision"], "allow");
    assert_eq!(json["statements"][0]["id"], "check_access.acl");
    assert_eq!(json["statements"][0]["file"], "policies/flexmeasures.pcl");
    assert!(json["statements"][0]["line"].as_u64().unwrap() > 0);
}

#[test]
fn eval_refuses_with_exit_3_and_a_reason() {
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        "examples/requests/flexmeasures-update-denied.json",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["decision"], "deny");
    assert!(json["reason"]
        .as_str()
        .unwrap()
        .contains("Authorization failure"));
}

#[test]
fn eval_unauthenticated_exits_3() {
    let req = temp(
        "anon.json",
        r#"{"principal": null, "action": "read", "resource": null, "context": {}}"#,
    );
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        s(&req),
    ]);
    assert_eq!(o.status.code(), Some(3));
    assert!(stdout(&o).contains(r#""decision":"unauthenticated""#));
}

#[test]
fn eval_outputs_filters_and_principal() {
    let req = temp(
        "flask.json",
        r#"{"principal": null, "action": "products.list", "resource": null,
            "context": {"headers": {"x-auth-account": "a", "x-auth-role": "member", "x-auth-user": "bob"}}}"#,
    );
    let data = temp(
        "flask-data.json",
        r#"{"accounts": [{"id": 4, "name": "a"}], "operator_group": {}}"#,
    );
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flask-rbac.pcl",
        "--request",
        s(&req),
        "--data",
        s(&data),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(
        json["filters"],
        serde_json::json!({"account_id": 4, "owner": "bob"})
    );
    assert_eq!(json["principal"]["account_name"], "a");
}

#[test]
fn eval_with_a_broken_policy_exits_2_with_a_diagnostic() {
    let policy = temp(
        "broken.pcl",
        "actions: read\npolicy p for read { allow when }\n",
    );
    let req = temp("r.json", r#"{"action": "read"}"#);
    let o = portcullis(&["eval", "--policy", s(&policy), "--request", s(&req)]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("PCL100"), "{err}");
    assert!(err.contains("expected"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn eval_with_a_malformed_request_exits_2_naming_the_field() {
    let req = temp("bad.json", r#"{"principal": 5, "action": "read"}"#);
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        s(&req),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("request.principal"), "{}", stderr(&o));
    let req = temp("notjson.json", "{ nope");
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        s(&req),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("PCL400"), "{}", stderr(&o));
}

#[test]
fn eval_with_a_request_that_breaks_the_declared_shape_exits_2() {
    let req = temp(
        "shape.json",
        r#"{"principal": {"id": "14", "roles": [], "account": {"id": 1, "roles": []}}, "action": "read", "resource": null}"#,
    );
    let o = portcullis(&[
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        s(&req),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    assert!(err.contains("request.principal.id"), "{err}");
    assert!(err.contains("expected an integer, found a string"), "{err}");
}

#[test]
fn eval_with_missing_files_exits_2() {
    let o = portcullis(&["eval", "--policy", "nope.pcl", "--request", "nope.json"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("nope.pcl"));
}

#[test]
fn test_command_runs_all_conformance_files() {
    let files: Vec<String> = std::fs::read_dir(root().join("tests/conformance"))
        .unwrap()
        .map(|e| {
            format!(
                "tests/conformance/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    let mut args = vec!["test"];
    args.extend(files.iter().map(String::as_str));
    let o = portcullis(&args);
    let out = stdout(&o);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    let last = out.lines().last().unwrap();
    assert!(last.ends_with(" passed, 0 failed"), "{last}");
}

#[test]
fn test_command_reports_failures_with_exit_1() {
    let cases = temp(
        "failing.json",
        r#"{"bundle": "flexmeasures", "cases": [
            {"name": "passes", "request": {"principal": null, "action": "read", "resource": null, "context": {}}, "expect": {"decision": "unauthenticated"}},
            {"name": "fails", "request": {"principal": null, "action": "read", "resource": null, "context": {}}, "expect": {"decision": "allow"}}]}"#,
    );
    let o = portcullis(&["test", s(&cases)]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    assert!(out.contains("FAIL") && out.contains("fails"), "{out}");
    assert!(out.contains("expected allow, got unauthenticated"), "{out}");
    assert!(out.trim_end().ends_with("1 passed, 1 failed"), "{out}");
}

#[test]
fn test_command_with_an_unreadable_case_file_exits_2() {
    let cases = temp("garbage.json", "[1, 2");
    let o = portcullis(&["test", s(&cases)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("garbage.json"), "{}", stderr(&o));
    let o = portcullis(&["test", "does-not-exist.json"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn test_command_policy_override() {
    let policy = temp("allow-all.pcl", "actions: *\npolicy all for * { allow }\n");
    let cases = temp(
        "override.json",
        r#"{"bundle": "whatever", "cases": [{"name": "x", "request": {"action": "anything"}, "expect": {"decision": "allow"}}]}"#,
    );
    let o = portcullis(&["test", "--policy", s(&policy), s(&cases)]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), stderr(&o));
}

#[test]
fn usage_errors_exit_2() {
    let o = portcullis(&["frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
    let o = portcullis(&["eval"]);
    assert_eq!(o.status.code(), Some(2));
}

/// Every shipped example request decides with its bundle (the file name's
/// prefix) and that bundle's example data: `-denied` examples exit 3, the
/// others 0. Keeps the examples the README points at true.
#[test]
fn every_example_request_decides_as_its_name_says() {
    let bundles = ["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"];
    let mut seen = 0;
    for entry in std::fs::read_dir(root().join("examples/requests")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let bundle = bundles
            .iter()
            .filter(|b| name.starts_with(&format!("{b}-")))
            .max_by_key(|b| b.len())
            .unwrap_or_else(|| panic!("{name}: no bundle prefix"));
        let policy = format!("policies/{bundle}.pcl");
        let request = format!("examples/requests/{name}.json");
        let data = format!("examples/data/{bundle}.json");
        let mut args = vec!["eval", "--policy", &policy, "--request", &request];
        if root().join(&data).exists() {
            args.extend(["--data", data.as_str()]);
        }
        let out = portcullis(&args);
        let want = if name.ends_with("-denied") { 3 } else { 0 };
        assert_eq!(
            out.status.code(),
            Some(want),
            "{name}: {}{}",
            stdout(&out),
            stderr(&out)
        );
        seen += 1;
    }
    assert!(seen >= bundles.len(), "one example per bundle at least");
}
