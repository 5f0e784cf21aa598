//! The facts of the benchmark workloads W1-W5 (`../shared/bench/WORKLOADS.md`),
//! shared by `benches/workloads.rs`, `tests/alloc.rs` and the Cedar
//! comparison in `benches/compare/`, so that every engine decides the same
//! requests over the same data.
//!
//! Requests and data are JSON values; each engine builds its own form from
//! them outside the timed loop.

#![allow(dead_code, reason = "each includer uses a part")]

use serde_json::{json, Value};
use std::fmt::Write as _;

/// One workload: the policy, its data, and the two timed requests.
pub struct Workload {
    pub name: &'static str,
    pub policy: String,
    pub data: Value,
    pub allow: Value,
    pub deny: Value,
}

pub const W1_PCL: &str = include_str!("w1_rbac.pcl");
pub const W2_PCL: &str = include_str!("w2_acl.pcl");
pub const W3_PCL: &str = include_str!("w3_wildcard.pcl");
pub const W4_PCL: &str = include_str!("w4_membership.pcl");
pub const W4_DATA_PCL: &str = include_str!("w4_membership_data.pcl");
pub const W2_DATA_PCL: &str = include_str!("w2_acl_data.pcl");
pub const W5_PCL: &str = include_str!("w5_scale.pcl");

pub const PERMISSIONS: [&str; 4] = ["create", "read", "update", "delete"];

/// W1: whether role `r` holds permission `p` on object `o`.
pub fn w1_holds(r: usize, o: usize, p: usize) -> bool {
    (r * 7 + o * 3 + p) % 5 < 3
}

pub fn w1_role(r: usize) -> String {
    format!("role_{r:02}")
}

pub fn w1_object(o: usize) -> String {
    format!("object_{o:02}")
}

/// W1 data: `{"roles": {"role_00": {"object_00": ["create", ...]}}}`.
pub fn w1_matrix() -> Value {
    let mut roles = serde_json::Map::new();
    for r in 0..10 {
        let mut objects = serde_json::Map::new();
        for o in 0..20 {
            let held: Vec<&str> = (0..4)
                .filter(|p| w1_holds(r, o, *p))
                .filter_map(|p| PERMISSIONS.get(p).copied())
                .collect();
            objects.insert(w1_object(o), json!(held));
        }
        roles.insert(w1_role(r), Value::Object(objects));
    }
    json!({ "roles": roles })
}

pub fn w1_request(action: &str) -> Value {
    json!({ "principal": { "role": "role_07" }, "action": action })
}

pub fn w1() -> Workload {
    Workload {
        name: "w1_rbac",
        policy: W1_PCL.to_string(),
        data: w1_matrix(),
        allow: w1_request("object_13.update"),
        deny: w1_request("object_13.create"),
    }
}

/// W2: the asset's ACL, per permission an OR list; nested lists are AND tuples.
pub fn w2_acl() -> Value {
    json!({
        "create-children": ["account:7", ["account:3", "role:account-admin"], "user:14",
                            ["account-role:MDC", "role:consultant"], "role:site-manager"],
        "read": ["account:3", ["account:7", "role:viewer"], "account-role:Prosumer",
                 ["role:consultant", "account-role:ESCo"], "user:99"],
        "update": ["user:14", ["account:3", "role:CEO"], "account-role:MDC",
                   ["account:7", "role:consultant"], "user:15"],
        "delete": ["user:14", ["account:3", "role:CEO"], "account-role:MDC",
                   ["account:7", "role:account-admin"], "role:site-manager"],
    })
}

pub const W2_CALLER_ID: i64 = 5;

pub fn w2_request(x: &str) -> Value {
    json!({
        "principal": {
            "id": W2_CALLER_ID,
            "roles": ["viewer", x, "auditor"],
            "account": { "id": 7, "roles": ["ESCo", "Prosumer"] },
        },
        "action": "update",
        "resource": { "id": 42, "acl": w2_acl() },
    })
}

pub fn w2() -> Workload {
    Workload {
        name: "w2_acl",
        policy: W2_PCL.to_string(),
        data: json!({}),
        allow: w2_request("consultant"),
        deny: w2_request("CEO"),
    }
}

/// W2 with the asset (and its ACL) as data loaded once; the request names
/// asset 42.
pub fn w2_data() -> Workload {
    let request = |x: &str| {
        let mut r = w2_request(x);
        r["resource"] = json!({ "id": "42" });
        r
    };
    Workload {
        name: "w2_acl_data",
        policy: W2_DATA_PCL.to_string(),
        data: json!({ "assets": { "42": { "id": 42, "acl": w2_acl() } } }),
        allow: request("consultant"),
        deny: request("CEO"),
    }
}

/// W3: alice's 50 role strings.
pub fn w3_roles() -> Vec<String> {
    let mut roles: Vec<String> = [
        "offline_access",
        "uma_authorization",
        "default-roles-rspython",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let owners = ["carol", "dave", "erin", "frank"];
    let actions = ["read", "write", "download"];
    for k in 0..34 {
        let o = owners.get(k % 4).copied().unwrap_or("carol");
        let a = actions.get(k % 3).copied().unwrap_or("read");
        roles.push(format!("rs_catalog_{o}:s{k}_archive_{a}"));
    }
    roles.push("rs_catalog_bob:*_download".into());
    roles.push("rs_catalog_carol:*_read".into());
    roles.push("rs_catalog_*:*_write".into());
    for i in 0..8 {
        roles.push(format!("rs_catalog_bob:s2_l1_0{i}_read"));
    }
    for i in 8..10 {
        roles.push(format!("rs_catalog_*:s2_l1_0{i}_read"));
    }
    roles
}

pub fn w3_collections(allowed: bool) -> Vec<String> {
    let mut c: Vec<String> = (0..10).map(|i| format!("s2_l1_{i:02}")).collect();
    if !allowed {
        if let Some(last) = c.last_mut() {
            *last = "s2_l1_10".into();
        }
    }
    c
}

pub fn w3_request(allowed: bool) -> Value {
    json!({
        "principal": { "login": "alice", "roles": w3_roles() },
        "action": "read",
        "resource": { "owner": "bob" },
        "context": { "collections": w3_collections(allowed) },
    })
}

pub fn w3() -> Workload {
    Workload {
        name: "w3_wildcard",
        policy: W3_PCL.to_string(),
        data: json!({}),
        allow: w3_request(true),
        deny: w3_request(false),
    }
}

/// W4: a deterministic UUID for user `n`.
pub fn w4_uuid(n: u64) -> String {
    format!(
        "{:08x}-0000-4000-8000-{:012x}",
        0x5eed_0000u64 + n,
        n * 7919
    )
}

pub const W4_MEMBERS: u64 = 1000;

pub fn w4_owner() -> String {
    w4_uuid(100_000)
}

pub fn w4_members() -> Vec<String> {
    (0..W4_MEMBERS).map(w4_uuid).collect()
}

pub fn w4_request(caller: &str) -> Value {
    json!({
        "principal": { "id": caller, "permissions": ["CAN_CREATE_PROJECTS"] },
        "action": "contribute",
        "resource": { "project": { "id": w4_uuid(200_000), "owner_id": w4_owner(), "members": w4_members() } },
    })
}

pub fn w4() -> Workload {
    Workload {
        name: "w4_membership",
        policy: W4_PCL.to_string(),
        data: json!({}),
        allow: w4_request(&w4_uuid(W4_MEMBERS - 1)),
        deny: w4_request(&w4_uuid(W4_MEMBERS + 7)),
    }
}

/// W4 with the project held as data (loaded once, decided against many
/// times); the request carries only the caller and the project id.
pub fn w4_data() -> Workload {
    let project = w4_uuid(200_000);
    let request = |caller: &str| {
        json!({
            "principal": { "id": caller, "permissions": ["CAN_CREATE_PROJECTS"] },
            "action": "contribute",
            "resource": { "project_id": project },
        })
    };
    Workload {
        name: "w4_membership_data",
        policy: W4_DATA_PCL.to_string(),
        data: json!({ "projects": { project.clone(): {
            "id": project, "owner_id": w4_owner(), "members": w4_members()
        } } }),
        allow: request(&w4_uuid(W4_MEMBERS - 1)),
        deny: request(&w4_uuid(W4_MEMBERS + 7)),
    }
}

/// W5: the `grants` policy for `read` with documents `0..reads`, and an
/// `others` policy for `write` with documents `0..writes`.
pub fn w5_source(reads: usize, writes: usize) -> String {
    let mut s = String::with_capacity(W5_PCL.len() + (reads + writes) * 84 + 64);
    s.push_str(W5_PCL);
    for (policy, action, n) in [("grants", "read", reads), ("others", "write", writes)] {
        if n == 0 {
            continue;
        }
        let _ = writeln!(s, "\npolicy {policy} for {action} {{");
        for i in 0..n {
            let _ = writeln!(
                s,
                "  g{i:05}: allow when resource.id == \"d{i:05}\" and principal matches user:u{i:05}"
            );
        }
        s.push_str("}\n");
    }
    s
}

pub fn w5_request(user: usize, doc: usize) -> Value {
    json!({
        "principal": { "id": format!("u{user:05}") },
        "action": "read",
        "resource": { "id": format!("d{doc:05}") },
    })
}

pub fn w5() -> Workload {
    Workload {
        name: "w5_scale",
        policy: w5_source(10_000, 0),
        data: json!({}),
        allow: w5_request(5000, 5000),
        deny: w5_request(5000, 5001),
    }
}

pub fn all() -> Vec<Workload> {
    vec![w1(), w2(), w3(), w4(), w5()]
}
