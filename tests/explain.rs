//! Explanations (`PolicySet::explain`, `portcullis eval --explain`): the
//! decision is the plain one, cost included, on every case file; every
//! statement before the deciding one is explained, including those the
//! statement index skips; credentials never show; and goldens in
//! `tests/explain/` fix the text and JSON renderings.
//!
//! Each `tests/explain/<name>.case.json` names a policy, a request and
//! optionally data; its renderings are `<name>.txt` and `<name>.out.json`.
//! After an intended change of output, regenerate them with
//! `BLESS=1 cargo test --test explain` and review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use portcullis::unstable::cases;
use portcullis::{Data, PolicySet, Request, StatementStatus};
use std::path::{Path, PathBuf};

mod golden;
use golden::golden;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

const BUNDLES: &[&str] = &["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"];

#[test]
fn explained_decisions_are_the_plain_decisions_cost_included() {
    let mut compared = 0;
    for bundle in BUNDLES {
        let policy = PolicySet::from_file(root().join(format!("policies/{bundle}.pcl"))).unwrap();
        for dir in ["tests/conformance", "tests/bundles"] {
            let file = cases::read(&root().join(format!("{dir}/{bundle}.json"))).unwrap();
            for case in &file.cases {
                let Ok(request) = Request::from_json(&case.request) else {
                    continue;
                };
                let mut data = file.data.clone();
                data.extend(case.data.clone());
                let json = serde_json::Value::Object(data);
                let unchecked = Data::from_json(&json).unwrap();
                let loaded = policy.load_data(&json);
                for data in [Some(unchecked), loaded.ok()].into_iter().flatten() {
                    let plain = policy.decide(&request, &data);
                    let explained = policy.explain(&request, &data);
                    assert_eq!(
                        explained.decision(),
                        &plain,
                        "{bundle} {dir}: {}",
                        case.name
                    );
                    check_statuses(&explained, &case.name);
                    compared += 1;
                }
            }
        }
    }
    assert!(compared > 400, "only {compared} decisions compared");
}

/// What the statuses must say of a decision: the statements that decided
/// are `decided` (or `error` when the decision failed), nothing else is.
fn check_statuses(ex: &portcullis::Explanation<'_>, name: &str) {
    let d = ex.decision();
    let statements = ex.statements();
    let decided: Vec<&str> = statements
        .iter()
        .filter(|s| s.status == StatementStatus::Decided)
        .map(|s| s.id.as_ref())
        .collect();
    if d.error.is_none() {
        let want: Vec<&str> = d.statements.iter().map(|s| s.id.as_ref()).collect();
        assert_eq!(decided, want, "{name}");
    } else {
        assert!(
            decided.is_empty(),
            "{name}: a failed decision has no decider"
        );
    }
    for s in &statements {
        match s.status {
            StatementStatus::NotApplied => {
                assert!(s.failed.is_some(), "{name}: {} says nothing failed", s.id)
            }
            StatementStatus::Error => assert!(s.error.is_some(), "{name}: {}", s.id),
            StatementStatus::NotReached => assert!(s.condition.is_none(), "{name}: {}", s.id),
            _ => {}
        }
    }
}

fn decide_text(policy: &str, request: &str) -> (String, serde_json::Value, Vec<StatementStatus>) {
    let set = PolicySet::from_source(policy).unwrap();
    let request = Request::from_json_str(request).unwrap();
    let data = Data::empty();
    let ex = set.explain(&request, &data);
    assert_eq!(ex.decision(), &set.decide(&request, &data));
    let statuses = ex.statements().iter().map(|s| s.status).collect();
    (ex.to_string(), ex.to_json(), statuses)
}

#[test]
fn credentials_never_show() {
    let policy = r#"
        actions: login
        principals { user == .id }
        rule key_ok(presented) = presented != null and len(presented) > 3
        policy login for login in order {
          key: allow when secret_eq(context.headers["X-API-Key"] ?? "", "00") and context.user != null
          header: allow when context.headers["Authorization"] == "Bearer letmein"
          pass: allow when principal.password == "swordfish"
          keyok: allow when key_ok(context.api_token) and false
          anytoken: allow when any t in context.tokens: t == "x"
          deny "no"
        }
    "#;
    let request = r#"{"principal": {"id": 1, "password": "hunter2-pw"},
        "action": "login", "resource": {},
        "context": {"headers": {"X-API-Key": "sekrit-key", "Authorization": "Bearer sekrit-bearer"},
                    "user": null, "api_token": "sekrit-token", "tokens": ["sekrit-list"]}}"#;
    let (text, json, statuses) = decide_text(policy, request);
    let json = json.to_string();
    for secret in ["hunter2", "sekrit", "Bearer sekrit"] {
        assert!(!text.contains(secret), "{secret} shown:\n{text}");
        assert!(!json.contains(secret), "{secret} shown:\n{json}");
    }
    assert!(text.contains("<secret>"), "{text}");
    assert!(statuses
        .iter()
        .all(|s| *s == StatementStatus::NotApplied || *s == StatementStatus::Decided));
}

#[test]
fn statements_the_index_skips_are_explained_as_a_scan_sees_them() {
    // Eight or more statements keyed by `resource.kind == ...` are indexed:
    // a decision for "h" never evaluates the others, the explanation does.
    let mut policy = String::from("actions: read\npolicy p for read in order {\n");
    for k in ["a", "b", "c", "d", "e", "f", "g", "h"] {
        policy.push_str(&format!(
            "  {k}: allow when resource.kind == \"{k}\" and principal.ok\n"
        ));
    }
    policy.push_str("  deny \"no\"\n}\n");
    let request = r#"{"principal": {"ok": true}, "action": "read", "resource": {"kind": "h"}}"#;
    let (text, _, statuses) = decide_text(&policy, request);
    let mut want = vec![StatementStatus::NotApplied; 7];
    want.push(StatementStatus::Decided);
    want.push(StatementStatus::NotReached);
    assert_eq!(statuses, want, "{text}");
    assert!(text.contains("resource.kind == \"a\""), "{text}");
}

#[test]
fn an_allow_overruled_by_another_policy_applied_but_did_not_decide() {
    let policy = r#"
        actions: read
        policy open for read { allow when true }
        policy closed for read { deny "closed" when resource.closed }
    "#;
    let request = r#"{"principal": null, "action": "read", "resource": {"closed": true}}"#;
    let (text, json, statuses) = decide_text(policy, request);
    assert_eq!(
        statuses,
        [StatementStatus::Applied, StatementStatus::Decided],
        "{text}"
    );
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["explanation"]["statements"][0]["status"], "applied");
}

#[test]
fn an_error_names_the_statement_and_the_part_that_failed() {
    let policy = r#"
        actions: read
        policy p for read in order {
          a: allow when resource.public or resource.owner == principal.id
          deny "no"
        }
    "#;
    let request = r#"{"principal": {"id": 1}, "action": "read", "resource": {"public": false}}"#;
    let (text, json, statuses) = decide_text(policy, request);
    assert_eq!(
        statuses,
        [StatementStatus::Error, StatementStatus::NotReached],
        "{text}"
    );
    let a = &json["explanation"]["statements"][0];
    assert!(a["error"].as_str().unwrap().contains("owner"), "{a}");
    let parts = &a["condition"]["children"];
    assert_eq!(parts[0]["result"], "false");
    assert_eq!(parts[1]["result"], "error");
    assert_eq!(json["error"]["code"], "PCL504");
}

#[test]
fn a_failing_all_shows_the_element_it_stopped_at() {
    let policy = r#"
        actions: read
        policy p for read in order {
          a: allow when all c in resource.collections: c in principal.granted
          deny "no"
        }
    "#;
    let request = r#"{"principal": {"granted": ["x", "y"]}, "action": "read",
        "resource": {"collections": ["x", "z", "y"]}}"#;
    let (text, json, _) = decide_text(policy, request);
    let all = &json["explanation"]["statements"][0]["condition"];
    assert_eq!(all["kind"], "all");
    assert!(
        all["seen"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["expr"] == "c (element 1)" && s["value"] == "\"z\""),
        "{text}"
    );
    assert_eq!(all["children"][0]["text"], "c in principal.granted");
    assert_eq!(all["children"][0]["result"], "false");
    assert_eq!(
        json["explanation"]["statements"][0]["failed"],
        "c in principal.granted"
    );
}

#[test]
fn explanations_render_as_their_goldens() {
    let dir = root().join("tests/explain");
    let mut names: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".case.json"))
        .collect();
    names.sort();
    assert!(names.len() >= 5, "too few explanation goldens");
    let mut failures = Vec::new();
    for case in names {
        let spec: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&case).unwrap()).unwrap();
        let policy_path = spec["policy"].as_str().unwrap();
        // Relative to the repository, so that file names in the output are.
        let policy = PolicySet::from_file(policy_path).unwrap();
        let request = Request::from_json(&spec["request"]).unwrap();
        let data = match spec.get("data") {
            Some(d) => policy.load_data(d).unwrap(),
            None => Data::empty(),
        };
        let ex = policy.explain(&request, &data);
        let stem = case
            .to_string_lossy()
            .trim_end_matches(".case.json")
            .to_string();
        let json = serde_json::to_string_pretty(&ex.to_json()).unwrap() + "\n";
        for (path, text) in [
            (format!("{stem}.txt"), ex.to_string()),
            (format!("{stem}.out.json"), json),
        ] {
            if let Err(e) = golden(Path::new(&path), &text) {
                failures.push(e);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn eval_explain_prints_a_tree_and_json_with_format_json() {
    let bin = env!("CARGO_BIN_EXE_portcullis");
    let args = [
        "eval",
        "--policy",
        "policies/flexmeasures.pcl",
        "--request",
        "examples/requests/flexmeasures-update-denied.json",
        "--data",
        "examples/data/flexmeasures.json",
        "--explain",
    ];
    let human = std::process::Command::new(bin)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(human.status.code(), Some(3));
    let text = String::from_utf8(human.stdout).unwrap();
    assert!(text.starts_with("deny"), "{text}");
    assert!(text.contains("did not apply"), "{text}");
    let json = std::process::Command::new(bin)
        .args(args)
        .args(["--format", "json"])
        .current_dir(root())
        .output()
        .unwrap();
    assert_eq!(json.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["decision"], "deny");
    assert!(!v["explanation"]["statements"]
        .as_array()
        .unwrap()
        .is_empty());
    // Without --explain the output is the decision alone, as before.
    let plain = std::process::Command::new(bin)
        .args(&args[..7])
        .current_dir(root())
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&plain.stdout).unwrap();
    assert!(v.get("explanation").is_none());
}

/// The fenced block of `lang` that first follows `after` in `text`.
fn block_after<'t>(text: &'t str, after: &str, lang: &str) -> &'t str {
    let from = text.find(after).unwrap_or_else(|| panic!("no `{after}`"));
    let rest = &text[from..];
    let open = rest.find(&format!("```{lang}\n")).unwrap() + lang.len() + 4;
    let len = rest[open..].find("```\n").unwrap();
    &rest[open..open + len]
}

#[test]
fn the_documented_explanation_is_what_explain_prints() {
    let doc = std::fs::read_to_string(root().join("docs/language.md")).unwrap();
    let policy = block_after(&doc, "### 11.4 Explanations", "pcl");
    let case: serde_json::Value =
        serde_json::from_str(block_after(&doc, "### 11.4 Explanations", "json")).unwrap();
    let want = block_after(&doc, "`portcullis eval --explain` prints:", "text");
    let set = PolicySet::from_named_source(
        "documents.pcl",
        policy,
        &root(),
        portcullis::Limits::default(),
    )
    .unwrap();
    let request = Request::from_json(&case["request"]).unwrap();
    let data = Data::empty();
    assert_eq!(set.explain(&request, &data).to_string(), want);
}

#[test]
fn the_json_text_is_the_json_value() {
    let policy = PolicySet::from_file(root().join("policies/flip.pcl")).unwrap();
    let file = cases::read(&root().join("tests/conformance/flip.json")).unwrap();
    for case in file.cases.iter().take(20) {
        let Ok(request) = Request::from_json(&case.request) else {
            continue;
        };
        let mut data = file.data.clone();
        data.extend(case.data.clone());
        let data = Data::from_json(&serde_json::Value::Object(data)).unwrap();
        let ex = policy.explain(&request, &data);
        let text: serde_json::Value = serde_json::from_str(&ex.to_json_string()).unwrap();
        assert_eq!(text, ex.to_json(), "{}", case.name);
    }
}
