//! Hostile inputs: requests and policies built to make one decision (or one
//! compile) do quadratic or exponential work. Each used to take seconds to
//! minutes (or gigabytes); each is now decided, or refused at the step
//! limit, within its budget (`tests/cost.rs` asserts the costs). Measures,
//! per input, one decision on a request built once (JSON reading is not
//! timed), or one compile:
//!
//! - `flexmeasures_or_list`: an ACL of 20,000 `role:` descriptors, none
//!   held, against a caller with 500,000 roles;
//! - `diracx_distinct`: `distinct` over 100,000 pilot stamps (50,000
//!   distinct), each then looked up among 50,000 known pilots;
//! - `record_comprehension`: `{k: v for k, v in r}` over 100,000 keys;
//! - `rs_server_owner`: a 500 kB owner stripped from each of 100,000
//!   requested collections;
//! - `flask_rbac_headers`: a header record of 500,000 keys read once per
//!   row of 50,000 accounts;
//! - `like_glob`: a caller's glob of 1 MB (`*a*a*...`) against text of
//!   1 MB, which it matches;
//! - `chained_lets_compile`: compiling 20,000 lets, each nesting the last;
//! - `data_1m_rows`: a bare allow with 1,000,000 rows of data validated
//!   when loaded (`load_data`), and, for comparison, unvalidated.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::{Data, Limits, Outcome, PolicySet, Request};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn bundle(name: &str) -> PolicySet {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    PolicySet::from_file(root.join("policies").join(format!("{name}.pcl"))).unwrap()
}

fn source(text: &str) -> PolicySet {
    PolicySet::from_named_source("hostile.pcl", text, Path::new("."), Limits::default()).unwrap()
}

/// Times one decision after checking it decides as expected, without an
/// error, within the budget.
fn bench_decision(
    c: &mut Criterion,
    name: &str,
    policy: &PolicySet,
    request: &Value,
    data: &Data,
    want: Outcome,
) {
    let request = Request::from_json(request).unwrap();
    let d = policy.decide(&request, data);
    assert_eq!(d.outcome, want, "{name}: {}", d.reason);
    assert!(d.error.is_none(), "{name}: {}", d.reason);
    println!("{name}: {} steps", d.cost);
    c.bench_function(name, |b| {
        b.iter(|| policy.decide(black_box(&request), data))
    });
}

fn hostile(c: &mut Criterion) {
    let roles: Vec<String> = (0..500_000).map(|i| format!("r{i}")).collect();
    let acl: Vec<String> = (0..20_000).map(|i| format!("role:x{i}")).collect();
    bench_decision(
        c,
        "flexmeasures_or_list",
        &bundle("flexmeasures"),
        &json!({
            "principal": {"id": 19, "roles": roles, "account": {"id": 3, "roles": []}},
            "action": "read",
            "resource": {"acl": {"read": acl}},
        }),
        &Data::empty(),
        Outcome::Deny,
    );

    let diracx = bundle("diracx");
    let stamps: Vec<String> = (0..100_000)
        .map(|i| format!("stamp-{}", i % 50_000))
        .collect();
    let pilots: Vec<Value> = (0..50_000)
        .map(|i| json!({"pilot_stamp": format!("stamp-{i}"), "vo": "lhcb"}))
        .collect();
    bench_decision(
        c,
        "diracx_distinct",
        &diracx,
        &json!({
            "principal": {"preferred_username": "admin", "dirac_group": "admins", "vo": "lhcb",
                          "properties": ["ServiceAdministrator"]},
            "action": "pilot.manage_pilots",
            "resource": {"pilot_stamps": stamps},
        }),
        &diracx.load_data(&json!({ "pilots": pilots })).unwrap(),
        Outcome::Allow,
    );

    let r: serde_json::Map<String, Value> =
        (0..100_000).map(|i| (format!("k{i}"), json!(i))).collect();
    bench_decision(
        c,
        "record_comprehension",
        &source("actions: a\npolicy p for a {\n  let m = {k: v for k, v in resource.r}\n  allow when len(m) == 100000\n}"),
        &json!({"action": "a", "resource": {"r": r}}),
        &Data::empty(),
        Outcome::Allow,
    );

    let owner = "o".repeat(500_000);
    let collections: Vec<String> = (0..100_000).map(|i| format!("x_S{i}")).collect();
    bench_decision(
        c,
        "rs_server_owner",
        &bundle("rs-server"),
        &json!({
            "principal": {"login": "pyteam", "roles": ["rs_catalog_*:*_read"]},
            "action": "read",
            "resource": {"owner": owner},
            "context": {"collections": collections, "owner_prefix": true},
        }),
        &Data::empty(),
        Outcome::Allow,
    );

    let rbac = bundle("flask-rbac");
    let mut headers: serde_json::Map<String, Value> = (0..500_000)
        .map(|i| (format!("x-h{i}"), json!("v")))
        .collect();
    headers.insert("x-auth-account".into(), json!("valid_account"));
    headers.insert("x-auth-role".into(), json!("member"));
    let mut accounts: Vec<Value> = (0..50_000)
        .map(|i| json!({"id": i + 10, "name": format!("a{i}")}))
        .collect();
    accounts.push(json!({"id": 1, "name": "valid_account"}));
    bench_decision(
        c,
        "flask_rbac_headers",
        &rbac,
        &json!({"action": "products.list", "context": {"headers": headers}}),
        &rbac.load_data(&json!({ "accounts": accounts })).unwrap(),
        Outcome::Allow,
    );

    bench_decision(
        c,
        "like_glob",
        &source("actions: a\npolicy p for a { allow when resource.text like resource.glob }"),
        &json!({"action": "a", "resource": {
            "text": "ab".repeat(500_000),
            "glob": format!("*{}*", "a*".repeat(500_000)),
        }}),
        &Data::empty(),
        Outcome::Allow,
    );

    let mut lets = String::from("actions: a\nlet l0 = [1]\n");
    for i in 1..20_000 {
        let p = i - 1;
        lets.push_str(&format!("let l{i} = [l{p}, {{a: l{p}, b: [l{p}]}}]\n"));
    }
    lets.push_str("policy p for a { allow when l19999 != null }\n");
    c.bench_function("chained_lets_compile", |b| {
        b.iter(|| source(black_box(&lets)))
    });

    let rows: Vec<Value> = (0..1_000_000)
        .map(|i| json!({"id": i, "name": "n"}))
        .collect();
    let json = json!({ "rows": rows });
    let policy = source(
        "actions: a\ndata { rows: [{ id: int, name: string }] }\npolicy p for a { allow when principal != null }",
    );
    let request = json!({"action": "a", "principal": {"id": 1}});
    bench_decision(
        c,
        "data_1m_rows/loaded",
        &policy,
        &request,
        &policy.load_data(&json).unwrap(),
        Outcome::Allow,
    );
    bench_decision(
        c,
        "data_1m_rows/unvalidated",
        &policy,
        &request,
        &Data::from_json(&json).unwrap(),
        Outcome::Allow,
    );
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = hostile
}
criterion_main!(benches);
