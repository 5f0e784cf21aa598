//! Ports of other engines' example models (`tests/peers/<project>/<model>/`),
//! each decided through the same code path as `portcullis test` against the
//! results that project's own tests assert. A port is a folder holding
//! `<model>.pcl` (the policy, written natively), `cases.json` (a case file
//! whose `bundle` is `<model>`, each case's `source` naming the upstream
//! file and test the expectation comes from) and, where the model has them,
//! the upstream facts as data. Nothing is precomputed into the data.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::unstable::cases::{self, Options};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn peers() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/peers")
}

/// Every `tests/peers/<project>/<model>` folder with a `cases.json`.
fn ports() -> Vec<PathBuf> {
    let mut found = Vec::new();
    for project in std::fs::read_dir(peers()).unwrap() {
        let project = project.unwrap().path();
        if !project.is_dir() {
            continue;
        }
        for model in std::fs::read_dir(&project).unwrap() {
            let model = model.unwrap().path();
            if model.join("cases.json").is_file() {
                found.push(model);
            }
        }
    }
    found.sort();
    found
}

fn run(dir: &Path) -> Result<usize, String> {
    let file = dir.join("cases.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    for case in json["cases"].as_array().unwrap() {
        let source = case["source"].as_str().unwrap_or("");
        if source.trim().is_empty() {
            return Err(format!("case {:?} names no upstream source", case["name"]));
        }
    }
    let options = Options {
        policy: None,
        policies: dir.to_path_buf(),
        ..Options::default()
    };
    let results = cases::run(&file, &options, &mut HashMap::new()).map_err(|e| e.to_string())?;
    if results.is_empty() {
        return Err("no cases".into());
    }
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.failure.as_ref().map(|why| format!("  {}: {why}", r.name)))
        .collect();
    if failures.is_empty() {
        Ok(results.len())
    } else {
        Err(failures.join("\n"))
    }
}

#[test]
fn every_port_gives_the_upstream_results() {
    let ports = ports();
    let mut report = String::new();
    let mut total = 0;
    for dir in &ports {
        match run(dir) {
            Ok(n) => total += n,
            Err(why) => report.push_str(&format!("{}:\n{why}\n", dir.display())),
        }
    }
    assert!(report.is_empty(), "{report}");
    eprintln!("{} ports, {total} cases", ports.len());
}

/// The ports the project promises (issue: casbin-rs's example models and
/// Cedar's TinyTodo and CLI sample-data sandboxes); a missing one fails.
#[test]
fn every_promised_port_is_there() {
    let have: Vec<String> = ports()
        .iter()
        .map(|p| {
            let model = p.file_name().unwrap().to_string_lossy().into_owned();
            let project = p
                .parent()
                .unwrap()
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned();
            format!("{project}/{model}")
        })
        .collect();
    let promised = [
        "casbin/basic",
        "casbin/basic_with_root",
        "casbin/rbac",
        "casbin/rbac_with_hierarchy",
        "casbin/rbac_with_resource_roles",
        "casbin/rbac_with_domains",
        "casbin/rbac_with_deny",
        "casbin/priority",
        "casbin/keymatch",
        "casbin/keymatch2",
        "casbin/ipmatch",
        "casbin/abac",
        "cedar/tinytodo",
        "cedar/sandbox_a_policies_1",
        "cedar/sandbox_b_policies_4",
        "cedar/sandbox_b_policies_6",
        "cedar/sandbox_c_policies",
    ];
    let missing: Vec<&str> = promised
        .iter()
        .copied()
        .filter(|p| !have.iter().any(|h| h == p))
        .collect();
    assert!(missing.is_empty(), "missing ports: {missing:?}");
}
