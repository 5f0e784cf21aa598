//! Portcullis beside cedar-policy on W1-W5, in one run. Both engines get
//! the same facts (`benches/workloads/facts.rs`); each Cedar decision is
//! checked equal to Portcullis's before anything is timed. Requests and
//! entities are built outside the timed loop for both engines.
//!
//! Run from the repository root:
//! `cargo bench --manifest-path benches/compare/Cargo.toml`

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "benchmark setup")]

#[path = "../../workloads/facts.rs"]
mod facts;

use cedar_policy::{Authorizer, Context, Decision, Entities, EntityUid, PolicySet, Request};
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};
use std::str::FromStr;

/// One Cedar decision: a policy set, entities and one or more requests
/// (W3 asks once per collection; every one must allow).
struct CedarCase {
    requests: Vec<Request>,
}

struct CedarWorkload {
    policies: PolicySet,
    /// Entities for the allowed and the denied case.
    entities: [Entities; 2],
    allow: CedarCase,
    deny: CedarCase,
}

fn uid(text: &str) -> EntityUid {
    EntityUid::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn entity_ref(ty: &str, id: &str) -> Value {
    json!({ "__entity": { "type": ty, "id": id } })
}

fn request(principal: &str, action: &str, resource: &str, context: Value) -> Request {
    Request::new(
        uid(principal),
        uid(action),
        uid(resource),
        Context::from_json_value(context, None).unwrap(),
        None,
    )
    .unwrap()
}

fn entities(list: Value) -> Entities {
    Entities::from_json_value(list, None).unwrap()
}

/// W1: one `permit` per granted (role, object, permission) cell, as Cedar
/// would be written for a role matrix; actions are `<object>.<permission>`.
fn cedar_w1() -> CedarWorkload {
    let mut text = String::new();
    for r in 0..10 {
        for o in 0..20 {
            for (p, perm) in facts::PERMISSIONS.iter().enumerate() {
                if facts::w1_holds(r, o, p) {
                    text.push_str(&format!(
                        "permit(principal == Role::\"{}\", action == Action::\"{}.{perm}\", resource);\n",
                        facts::w1_role(r),
                        facts::w1_object(o)
                    ));
                }
            }
        }
    }
    let case = |action: &str| CedarCase {
        requests: vec![request(
            r#"Role::"role_07""#,
            &format!("Action::\"{action}\""),
            r#"Object::"object_13""#,
            json!({}),
        )],
    };
    CedarWorkload {
        policies: PolicySet::from_str(&text).unwrap(),
        entities: [entities(json!([])), entities(json!([]))],
        allow: case("object_13.update"),
        deny: case("object_13.create"),
    }
}

/// W2: the admin bypasses and the asset's ACL, one `permit` per
/// permission, the OR list as `||` and AND tuples as `&&`.
fn cedar_w2() -> CedarWorkload {
    let text = r#"
permit(principal, action, resource) when { principal.roles.contains("admin") };
permit(principal, action == Action::"read", resource) when { principal.roles.contains("admin-reader") };
permit(principal, action == Action::"create-children", resource == Asset::"42") when {
  principal.account.id == 7 || (principal.account.id == 3 && principal.roles.contains("account-admin"))
  || principal.id == 14 || (principal.account.roles.contains("MDC") && principal.roles.contains("consultant"))
  || principal.roles.contains("site-manager") };
permit(principal, action == Action::"read", resource == Asset::"42") when {
  principal.account.id == 3 || (principal.account.id == 7 && principal.roles.contains("viewer"))
  || principal.account.roles.contains("Prosumer") || (principal.roles.contains("consultant") && principal.account.roles.contains("ESCo"))
  || principal.id == 99 };
permit(principal, action == Action::"update", resource == Asset::"42") when {
  principal.id == 14 || (principal.account.id == 3 && principal.roles.contains("CEO"))
  || principal.account.roles.contains("MDC") || (principal.account.id == 7 && principal.roles.contains("consultant"))
  || principal.id == 15 };
permit(principal, action == Action::"delete", resource == Asset::"42") when {
  principal.id == 14 || (principal.account.id == 3 && principal.roles.contains("CEO"))
  || principal.account.roles.contains("MDC") || (principal.account.id == 7 && principal.roles.contains("account-admin"))
  || principal.roles.contains("site-manager") };
"#;
    let world = |x: &str| {
        entities(json!([
            { "uid": { "type": "User", "id": "5" }, "parents": [],
              "attrs": { "id": facts::W2_CALLER_ID, "roles": ["viewer", x, "auditor"],
                         "account": { "id": 7, "roles": ["ESCo", "Prosumer"] } } },
            { "uid": { "type": "Asset", "id": "42" }, "parents": [], "attrs": {} },
        ]))
    };
    let case = || CedarCase {
        requests: vec![request(r#"User::"5""#, r#"Action::"update""#, r#"Asset::"42""#, json!({}))],
    };
    CedarWorkload {
        policies: PolicySet::from_str(text).unwrap(),
        entities: [world("consultant"), world("CEO")],
        allow: case(),
        deny: case(),
    }
}

/// W3: Cedar cannot take a string apart, so the application does what
/// Cedar cannot: per requested collection, one request whose resource lists
/// the four role strings that would grant it (`rs_catalog_<bob|*>:<c|*>_read`);
/// the caller's 50 role strings are a set on the principal. Every request
/// must allow. The requests are built outside the timed loop, as for the
/// other workloads, so Cedar is not charged for that expansion.
fn cedar_w3_requests(collections: &[String]) -> (Entities, Vec<Request>) {
    let mut list = vec![json!({
        "uid": { "type": "User", "id": "alice" }, "parents": [],
        "attrs": { "login": "alice", "roles": facts::w3_roles() },
    })];
    let mut requests = Vec::new();
    for c in collections {
        let keys: Vec<String> = ["bob", "*"]
            .iter()
            .flat_map(|o| [c.as_str(), "*"].map(|k| format!("rs_catalog_{o}:{k}_read")))
            .collect();
        list.push(json!({
            "uid": { "type": "Collection", "id": c }, "parents": [],
            "attrs": { "owner": "bob", "keys": keys },
        }));
        requests.push(request(
            r#"User::"alice""#,
            r#"Action::"read""#,
            &format!("Collection::\"{c}\""),
            json!({}),
        ));
    }
    (entities(Value::Array(list)), requests)
}

fn cedar_w3_policies() -> PolicySet {
    PolicySet::from_str(
        r#"
permit(principal, action, resource) when { principal.login == resource.owner };
permit(principal, action, resource) when { principal.roles.containsAny(resource.keys) };
"#,
    )
    .unwrap()
}

fn cedar_w3() -> CedarWorkload {
    let (allow_entities, allow) = cedar_w3_requests(&facts::w3_collections(true));
    let (deny_entities, deny) = cedar_w3_requests(&facts::w3_collections(false));
    CedarWorkload {
        policies: cedar_w3_policies(),
        entities: [allow_entities, deny_entities],
        allow: CedarCase { requests: allow },
        deny: CedarCase { requests: deny },
    }
}

/// W4: the project with its 1,000 members as a set of users.
fn cedar_w4() -> CedarWorkload {
    let text = r#"
permit(principal, action == Action::"contribute", resource) when { principal.permissions.contains("CAN_MANAGE_PROJECTS") };
permit(principal, action == Action::"contribute", resource) when { resource.owner == principal };
permit(principal, action == Action::"contribute", resource) when {
  principal.permissions.contains("CAN_CREATE_PROJECTS") && resource.members.contains(principal) };
"#;
    let member = facts::w4_uuid(facts::W4_MEMBERS - 1);
    let stranger = facts::w4_uuid(facts::W4_MEMBERS + 7);
    let members: Vec<Value> = facts::w4_members()
        .iter()
        .map(|m| entity_ref("User", m))
        .collect();
    let user = |id: &str| {
        json!({ "uid": { "type": "User", "id": id }, "parents": [],
                "attrs": { "permissions": ["CAN_CREATE_PROJECTS"] } })
    };
    let list = json!([
        user(&member),
        user(&stranger),
        { "uid": { "type": "Project", "id": "p" }, "parents": [],
          "attrs": { "owner": entity_ref("User", &facts::w4_owner()), "members": members } },
    ]);
    let case = |id: &str| CedarCase {
        requests: vec![request(
            &format!("User::\"{id}\""),
            r#"Action::"contribute""#,
            r#"Project::"p""#,
            json!({}),
        )],
    };
    CedarWorkload {
        policies: PolicySet::from_str(text).unwrap(),
        entities: [entities(list.clone()), entities(list)],
        allow: case(&member),
        deny: case(&stranger),
    }
}

/// W5: 10,000 `permit`s, one per document.
fn cedar_w5_policies(n: usize) -> String {
    let mut text = String::new();
    for i in 0..n {
        text.push_str(&format!(
            "permit(principal == User::\"u{i:05}\", action == Action::\"read\", resource == Document::\"d{i:05}\");\n"
        ));
    }
    text
}

fn cedar_w5() -> CedarWorkload {
    let case = |doc: &str| CedarCase {
        requests: vec![request(
            r#"User::"u05000""#,
            r#"Action::"read""#,
            &format!("Document::\"{doc}\""),
            json!({}),
        )],
    };
    CedarWorkload {
        policies: PolicySet::from_str(&cedar_w5_policies(10_000)).unwrap(),
        entities: [entities(json!([])), entities(json!([]))],
        allow: case("d05000"),
        deny: case("d05001"),
    }
}

fn cedar_decide(auth: &Authorizer, policies: &PolicySet, entities: &Entities, case: &CedarCase) -> bool {
    !case.requests.is_empty()
        && case
            .requests
            .iter()
            .all(|r| auth.is_authorized(r, policies, entities).decision() == Decision::Allow)
}

fn portcullis(w: &facts::Workload) -> (portcullis::PolicySet, portcullis::Data, [portcullis::Request; 2]) {
    let policy = portcullis::PolicySet::from_source(&w.policy).unwrap();
    let data = portcullis::Data::from_json(&w.data).unwrap();
    let requests = [&w.allow, &w.deny].map(|r| portcullis::Request::from_json(r).unwrap());
    (policy, data, requests)
}

fn compare(c: &mut Criterion) {
    let auth = Authorizer::new();
    let all = [
        (facts::w1(), cedar_w1()),
        (facts::w2(), cedar_w2()),
        (facts::w3(), cedar_w3()),
        (facts::w4(), cedar_w4()),
        (facts::w4_data(), cedar_w4()),
        (facts::w5(), cedar_w5()),
    ];
    for (w, cw) in &all {
        let (policy, data, requests) = portcullis(w);
        let mut g = c.benchmark_group(w.name);
        if w.name == "w5_scale" {
            g.sample_size(10);
        }
        for (i, (label, want)) in [("allow", true), ("deny", false)].into_iter().enumerate() {
            let request = &requests[i];
            let ours = policy.decide(request, &data).is_allowed();
            assert_eq!(ours, want, "portcullis {} {label}", w.name);
            let case = if want { &cw.allow } else { &cw.deny };
            let entities = &cw.entities[i];
            let theirs = cedar_decide(&auth, &cw.policies, entities, case);
            assert_eq!(theirs, ours, "cedar disagrees on {} {label}", w.name);
            g.bench_function(format!("portcullis/{label}"), |b| {
                b.iter(|| policy.decide(black_box(request), black_box(&data)))
            });
            g.bench_function(format!("cedar/{label}"), |b| {
                b.iter(|| cedar_decide(&auth, &cw.policies, black_box(entities), case))
            });
        }
        g.finish();
    }
}

/// Loading and compiling the 10,000 W5 statements in each engine.
fn compile(c: &mut Criterion) {
    let mut g = c.benchmark_group("w5_compile");
    g.sample_size(10);
    let ours = facts::w5_source(10_000, 0);
    let theirs = cedar_w5_policies(10_000);
    g.bench_function("portcullis", |b| {
        b.iter(|| portcullis::PolicySet::from_source(black_box(&ours)).unwrap())
    });
    g.bench_function("cedar", |b| b.iter(|| PolicySet::from_str(black_box(&theirs)).unwrap()));
    g.finish();
}

criterion_group!(benches, compare, compile);
criterion_main!(benches);
