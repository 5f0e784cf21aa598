//! The facade, used only through what the crate re-exports.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{
    Code, Data, Decision, Limits, Outcome, PolicyError, PolicySet, Record, Request, Value,
};
use std::sync::Arc;

fn assert_send_sync<T: Send + Sync>() {}

#[test]
fn compiled_policies_and_decisions_cross_threads() {
    assert_send_sync::<PolicySet>();
    assert_send_sync::<Decision>();
    assert_send_sync::<Request>();
    assert_send_sync::<PolicyError>();
}

const POLICY: &str = r#"
    actions: read
    principals { user == .id }
    policy p for read in order {
      anon: unauthenticated when principal == null
      owner: allow when principal matches user:{resource.owner}
      deny "not yours"
    }
"#;

#[test]
fn many_threads_decide_with_one_compiled_policy() {
    let policy = Arc::new(PolicySet::from_source(POLICY).unwrap());
    let handles: Vec<_> = (0..4)
        .map(|t| {
            let policy = Arc::clone(&policy);
            std::thread::spawn(move || {
                for i in 0..500i64 {
                    let owner = if i % 2 == 0 { t } else { t + 100 };
                    let req = Request::builder("read")
                        .principal(Record::from_iter([("id".to_string(), Value::Int(t))]))
                        .resource(Record::from_iter([(
                            "owner".to_string(),
                            Value::Int(owner),
                        )]))
                        .build();
                    let d = policy.decide(&req, &Data::empty());
                    let want = if i % 2 == 0 {
                        Outcome::Allow
                    } else {
                        Outcome::Deny
                    };
                    assert_eq!(d.outcome, want);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn builder_and_json_requests_decide_alike() {
    let policy = PolicySet::from_source(POLICY).unwrap();
    let built = Request::builder("read")
        .principal(Record::from_iter([("id".to_string(), Value::Int(3))]))
        .resource(Record::from_iter([("owner".to_string(), Value::Int(3))]))
        .build();
    let parsed = Request::from_json_str(
        r#"{"principal": {"id": 3}, "action": "read", "resource": {"owner": 3}}"#,
    )
    .unwrap();
    assert_eq!(built, parsed);
    let a = policy.decide(&built, &Data::empty());
    let b = policy.decide_json(
        r#"{"principal": {"id": 3}, "action": "read", "resource": {"owner": 3}}"#,
        &Data::empty(),
    );
    assert_eq!(a, b);
    assert_eq!(a.outcome, Outcome::Allow);
    assert_eq!(&*a.statements[0].id, "p.owner");
    assert_eq!(a.statements[0].line, 6);
}

#[test]
fn unreadable_json_requests_deny_with_the_error() {
    let policy = PolicySet::from_source(POLICY).unwrap();
    let d = policy.decide_json("{not json", &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.as_ref().unwrap().code, Code::InvalidJson);
    assert!(d.reason.contains("invalid request"));
}

#[test]
fn policy_errors_are_diagnostics_with_codes_spans_and_help() {
    let err = PolicySet::from_source(
        "actions: read\npolicy p for read { allow when is_admn }\nrule is_admin = true",
    )
    .unwrap_err();
    let f = err.errors().next().unwrap();
    assert_eq!(f.code, Code::UnknownName);
    assert_eq!(f.help.as_deref(), Some("did you mean `is_admin`?"));
    assert_eq!(f.line_col(), Some((2, 32)));
    let text = format!("{}", err);
    assert!(text.contains("unknown name `is_admn`"), "{text}");
    let diag: &dyn miette::Diagnostic = f;
    assert_eq!(diag.code().unwrap().to_string(), "PCL200");
    assert!(diag.labels().unwrap().next().is_some());
}

#[test]
fn limits_are_configurable() {
    let tight = Limits {
        max_eval_steps: 10,
        ..Limits::default()
    };
    let policy = PolicySet::from_named_source(
        "limits.pcl",
        "actions: read\npolicy p for read { allow when count x in resource.items: true > 5 }",
        std::path::Path::new("."),
        tight,
    );
    // `count x in xs: true > 5` parses as a quantifier whose body is `true > 5`: a type error.
    assert!(policy.is_err());
    let policy = PolicySet::from_named_source(
        "limits.pcl",
        "actions: read\npolicy p for read { allow when any x in resource.items: x == 99 }",
        std::path::Path::new("."),
        Limits {
            max_eval_steps: 10,
            ..Limits::default()
        },
    )
    .unwrap();
    let items: Vec<i64> = (0..100).collect();
    let req = Request::builder("read")
        .resource(Record::from_iter([(
            "items".to_string(),
            Value::from(items),
        )]))
        .build();
    let d = policy.decide(&req, &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::EvalLimit);
}

#[test]
fn actions_and_warnings_are_visible() {
    let policy =
        PolicySet::from_source("actions: read, write\npolicy p for read { allow }").unwrap();
    assert_eq!(policy.actions().collect::<Vec<_>>(), ["read", "write"]);
    assert_eq!(policy.warnings().len(), 1);
    assert_eq!(policy.warnings()[0].code, Code::UncoveredAction);
}

#[test]
fn decisions_serialise_for_the_cli() {
    let policy = PolicySet::from_source(POLICY).unwrap();
    let d = policy.decide_json(
        r#"{"principal": {"id": 3}, "action": "read", "resource": {"owner": 4}}"#,
        &Data::empty(),
    );
    let json = d.to_json();
    assert_eq!(json["decision"], "deny");
    assert_eq!(json["reason"], "not yours");
    assert_eq!(json["statements"][0]["id"], "p#3");
}
