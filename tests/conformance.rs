//! Runs every shared conformance case file, and each bundle's own edge
//! cases, through the same code path as `portcullis test`.

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

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(file: &Path) {
    let options = Options {
        policy: None,
        policies: root().join("policies"),
        ..Options::default()
    };
    let results = cases::run(file, &options, &mut HashMap::new()).unwrap_or_else(|e| panic!("{e}"));
    assert!(!results.is_empty(), "{} holds no cases", file.display());
    let failures: Vec<String> = results
        .iter()
        .filter_map(|r| r.failure.as_ref().map(|why| format!("{}: {why}", r.name)))
        .collect();
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        file.display(),
        failures.join("\n")
    );
}

macro_rules! case_files {
    ($($name:ident => $path:literal,)*) => {
        $(
            #[test]
            fn $name() {
                run(&root().join($path));
            }
        )*
    };
}

case_files! {
    conformance_diracx => "tests/conformance/diracx.json",
    conformance_flask_rbac => "tests/conformance/flask-rbac.json",
    conformance_flexmeasures => "tests/conformance/flexmeasures.json",
    conformance_flip => "tests/conformance/flip.json",
    conformance_rs_server => "tests/conformance/rs-server.json",
    edges_diracx => "tests/bundles/diracx.json",
    edges_flask_rbac => "tests/bundles/flask-rbac.json",
    edges_flexmeasures => "tests/bundles/flexmeasures.json",
    edges_flip => "tests/bundles/flip.json",
    edges_rs_server => "tests/bundles/rs-server.json",
}

/// The shared cases are kept byte-identical to `../shared/conformance`
/// when that folder is present (it is in CI and in development).
#[test]
fn conformance_copies_match_shared() {
    let shared = root().join("../shared/conformance");
    let Ok(entries) = std::fs::read_dir(&shared) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let ours = std::fs::read(root().join("tests/conformance").join(&name))
            .unwrap_or_else(|_| panic!("tests/conformance lacks {name:?}"));
        let theirs = std::fs::read(entry.path()).unwrap();
        assert!(
            ours == theirs,
            "tests/conformance/{name:?} differs from shared"
        );
    }
}

/// Every bundle folder entry has its case files.
#[test]
fn every_bundle_has_conformance_and_edge_cases() {
    for entry in std::fs::read_dir(root().join("policies"))
        .unwrap()
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "pcl") {
            let stem = path.file_stem().unwrap().to_string_lossy().to_string();
            assert!(
                root()
                    .join(format!("tests/conformance/{stem}.json"))
                    .is_file(),
                "no conformance cases for {stem}"
            );
            assert!(
                root().join(format!("tests/bundles/{stem}.json")).is_file(),
                "no edge cases for {stem}"
            );
        }
    }
}

#[test]
fn unknown_bundle_and_malformed_files_are_errors() {
    let dir = std::env::temp_dir().join(format!("pcl-cases-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let options = Options {
        policy: None,
        policies: root().join("policies"),
        ..Options::default()
    };
    let unknown = dir.join("unknown.json");
    std::fs::write(&unknown, r#"{"bundle": "nope", "cases": []}"#).unwrap();
    let err = cases::run(&unknown, &options, &mut HashMap::new()).unwrap_err();
    assert!(err.message().contains("unknown bundle `nope`"), "{err}");
    let malformed = dir.join("malformed.json");
    std::fs::write(
        &malformed,
        r#"{"bundle": "flip", "cases": [{"name": "x"}]}"#,
    )
    .unwrap();
    let err = cases::run(&malformed, &options, &mut HashMap::new()).unwrap_err();
    assert!(err.message().contains("missing field"), "{err}");
    let extra = dir.join("extra.json");
    std::fs::write(&extra, r#"{"bundle": "flip", "cases": [], "surprise": 1}"#).unwrap();
    let err = cases::run(&extra, &options, &mut HashMap::new()).unwrap_err();
    assert!(err.message().contains("unknown field `surprise`"), "{err}");
    let traversal = dir.join("traversal.json");
    std::fs::write(&traversal, r#"{"bundle": "../secret", "cases": []}"#).unwrap();
    assert!(cases::run(&traversal, &options, &mut HashMap::new()).is_err());
}

#[test]
fn a_failing_case_reports_what_differed_and_who_decided() {
    let dir = std::env::temp_dir().join(format!("pcl-fail-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("wrong.json");
    std::fs::write(
        &file,
        r#"{"bundle": "flexmeasures", "cases": [{"name": "wrong on purpose",
            "request": {"principal": null, "action": "read", "resource": null, "context": {}},
            "expect": {"decision": "allow"}}]}"#,
    )
    .unwrap();
    let options = Options {
        policy: None,
        policies: root().join("policies"),
        ..Options::default()
    };
    let results = cases::run(&file, &options, &mut HashMap::new()).unwrap();
    let why = results[0]
        .failure
        .as_ref()
        .expect("the case fails")
        .to_string();
    assert!(
        why.contains("decision: expected allow, got unauthenticated"),
        "{why}"
    );
    assert!(why.contains("check_access.anonymous"), "{why}");
}

/// A request that breaks a bundle's contract is refused with the field
/// named, by the library and by the case runner (a failure, never a pass).
#[test]
fn requests_that_break_a_bundle_contract_name_the_field() {
    use portcullis::{Data, Outcome, PolicySet, Request};
    use serde_json::json;
    let table = [
        (
            "flip",
            json!({"principal": {"id": "14", "roles": []}, "action": "access_project",
                   "resource": {"project": null}}),
            "request.principal.id",
        ),
        (
            "flip",
            json!({"principal": {"id": "b0000000-0000-4000-8000-000000000003", "roles": ["Viewer"]},
                   "action": "access_project",
                   "resource": {"project": {"id": "c0000000-0000-4000-8000-000000000001",
                                            "owner_id": "b0000000-0000-4000-8000-000000000002",
                                            "members": "b0000000-0000-4000-8000-000000000003"}}}),
            "request.resource.project.members",
        ),
        (
            "rs-server",
            json!({"principal": {"login": "bob", "roles": []}, "action": "read",
                   "resource": {"owner": "toto"}, "context": {}}),
            "request.context.collections",
        ),
        (
            "diracx",
            json!({"principal": {"preferred_username": "alice", "dirac_group": "lhcb_user",
                                 "vo": "lhcb", "properties": "NormalUser"},
                   "action": "wms.query"}),
            "request.principal.properties",
        ),
        (
            "flask-rbac",
            json!({"principal": null, "action": "products.list", "resource": null,
                   "context": {"headers": {"x-auth-account": 1}}}),
            "request.context.headers.x-auth-account",
        ),
        (
            "flexmeasures",
            json!({"principal": {"id": 1, "roles": []}, "action": "read", "resource": {}, "context": {}}),
            "request.principal.account",
        ),
        (
            "flexmeasures",
            json!({"principal": null, "action": "read", "resource": {}}),
            "request.context",
        ),
    ];
    for (bundle, request, field) in table {
        let set = PolicySet::from_file(root().join(format!("policies/{bundle}.pcl")))
            .unwrap_or_else(|e| panic!("{}", e.summary()));
        let decision = set.decide(&Request::from_json(&request).unwrap(), &Data::default());
        assert_eq!(decision.outcome, Outcome::Deny, "{bundle}: {request}");
        assert!(
            decision.reason.contains(field),
            "{bundle}: reason {:?} should name {field}",
            decision.reason
        );

        let file = std::env::temp_dir().join(format!(
            "portcullis-contract-{bundle}-{}.json",
            std::process::id()
        ));
        // Data that fits, so the request is what breaks the contract.
        let data = if bundle == "flask-rbac" {
            json!({"accounts": [], "operator_group": {}})
        } else {
            json!({})
        };
        let case = json!({"bundle": bundle, "data": data, "cases": [
            {"name": "breaks the contract", "request": request, "expect": {"decision": "deny"}}
        ]});
        std::fs::write(&file, case.to_string()).unwrap();
        let options = Options {
            policy: None,
            policies: root().join("policies"),
            ..Options::default()
        };
        let results = cases::run(&file, &options, &mut HashMap::new()).unwrap();
        let failure = results[0]
            .failure
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default();
        assert!(failure.contains(field), "{bundle}: {failure:?}");
        let _ = std::fs::remove_file(&file);
    }
}
