//! Hand-written Rust for the checks of W1-W5: what an application would
//! write without a policy engine, over the same facts held in plain Rust
//! structures (built once, outside the timed loop). Each takes whether to
//! ask the allowed or the denied request of its workload.

use crate::facts;
use std::collections::{HashMap, HashSet};

pub struct Facts {
    /// W1: role -> object -> permissions.
    w1: HashMap<String, HashMap<String, Vec<String>>>,
    /// W2: permission -> OR list of AND tuples of `kind:value` strings.
    w2_acl: HashMap<String, Vec<Vec<String>>>,
    w2_callers: [W2Caller; 2],
    /// W3: the caller's role strings, and the collections asked for.
    w3_roles: Vec<String>,
    w3_collections: [Vec<String>; 2],
    /// W4: the project and the two callers.
    w4_owner: String,
    w4_members: Vec<String>,
    w4_callers: [(String, Vec<String>); 2],
    /// W4 with the project loaded once: its members as a set of
    /// lower-cased ids, as an application keeping entities would.
    w4_member_set: HashSet<String>,
    /// W5: document -> the user granted `read` on it.
    w5: HashMap<String, String>,
}

pub struct W2Caller {
    id: i64,
    account: i64,
    roles: Vec<String>,
    account_roles: Vec<String>,
}

impl Facts {
    pub fn new() -> Facts {
        let w1 = (0..10)
            .map(|r| {
                let objects = (0..20)
                    .map(|o| {
                        let held = (0..4)
                            .filter(|p| facts::w1_holds(r, o, *p))
                            .filter_map(|p| facts::PERMISSIONS.get(p).map(|s| s.to_string()))
                            .collect();
                        (facts::w1_object(o), held)
                    })
                    .collect();
                (facts::w1_role(r), objects)
            })
            .collect();
        let w2_acl = facts::w2_acl()
            .as_object()
            .into_iter()
            .flatten()
            .map(|(perm, list)| {
                let items = list
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|item| match item {
                        serde_json::Value::Array(tuple) => tuple
                            .iter()
                            .filter_map(|m| m.as_str().map(str::to_string))
                            .collect(),
                        other => other.as_str().map(str::to_string).into_iter().collect(),
                    })
                    .collect();
                (perm.clone(), items)
            })
            .collect();
        let w2_caller = |x: &str| W2Caller {
            id: facts::W2_CALLER_ID,
            account: 7,
            roles: vec!["viewer".into(), x.into(), "auditor".into()],
            account_roles: vec!["ESCo".into(), "Prosumer".into()],
        };
        let w4_caller = |n| (facts::w4_uuid(n), vec!["CAN_CREATE_PROJECTS".to_string()]);
        Facts {
            w1,
            w2_acl,
            w2_callers: [w2_caller("consultant"), w2_caller("CEO")],
            w3_roles: facts::w3_roles(),
            w3_collections: [facts::w3_collections(true), facts::w3_collections(false)],
            w4_owner: facts::w4_owner(),
            w4_members: facts::w4_members(),
            w4_member_set: facts::w4_members()
                .iter()
                .map(|m| m.to_ascii_lowercase())
                .collect(),
            w4_callers: [
                w4_caller(facts::W4_MEMBERS - 1),
                w4_caller(facts::W4_MEMBERS + 7),
            ],
            w5: (0..10_000)
                .map(|i| (format!("d{i:05}"), format!("u{i:05}")))
                .collect(),
        }
    }

    /// W1: split the action at the last dot, look the permission up.
    pub fn w1(&self, allowed: bool) -> bool {
        let action = if allowed {
            "object_13.update"
        } else {
            "object_13.create"
        };
        let Some((object, permission)) = action.rsplit_once('.') else {
            return false;
        };
        self.w1
            .get("role_07")
            .and_then(|objects| objects.get(object))
            .is_some_and(|held| held.iter().any(|p| p == permission))
    }

    /// W2: admin bypasses, then the ACL's OR list of AND tuples.
    pub fn w2(&self, allowed: bool) -> bool {
        let caller = &self.w2_callers[usize::from(!allowed)];
        let action = "update";
        let has_role = |r: &str| caller.roles.iter().any(|x| x == r);
        if has_role("admin") || (action == "read" && has_role("admin-reader")) {
            return true;
        }
        let matches = |principal: &str| match principal.split_once(':') {
            Some(("user", v)) => v.parse() == Ok(caller.id),
            Some(("account", v)) => v.parse() == Ok(caller.account),
            Some(("role", v)) => has_role(v),
            Some(("account-role", v)) => caller.account_roles.iter().any(|x| x == v),
            _ => false,
        };
        self.w2_acl.get(action).is_some_and(|or_list| {
            or_list
                .iter()
                .any(|tuple| !tuple.is_empty() && tuple.iter().all(|p| matches(p)))
        })
    }

    /// W3: parse each role string once, then check every collection.
    pub fn w3(&self, allowed: bool) -> bool {
        let (login, owner, action) = ("alice", "bob", "read");
        if login == owner {
            return true;
        }
        let mut granted: Vec<&str> = Vec::new();
        for role in &self.w3_roles {
            let Some(rest) = role.strip_prefix("rs_catalog_") else {
                continue;
            };
            let Some((scope, act)) = rest.rsplit_once('_') else {
                continue;
            };
            if act != action {
                continue;
            }
            let Some((role_owner, collection)) = scope.rsplit_once(':') else {
                continue;
            };
            if (role_owner == "*" || role_owner == owner) && !collection.is_empty() {
                granted.push(collection);
            }
        }
        let any = granted.contains(&"*");
        self.w3_collections[usize::from(!allowed)]
            .iter()
            .all(|c| any || granted.contains(&c.as_str()))
    }

    /// W4: manager, owner, or member with the create permission.
    pub fn w4(&self, allowed: bool) -> bool {
        let (id, permissions) = &self.w4_callers[usize::from(!allowed)];
        let has = |p: &str| permissions.iter().any(|x| x == p);
        has("CAN_MANAGE_PROJECTS")
            || self.w4_owner.eq_ignore_ascii_case(id)
            || (has("CAN_CREATE_PROJECTS")
                && self.w4_members.iter().any(|m| m.eq_ignore_ascii_case(id)))
    }

    /// W4 over loaded entities: the member test is a set lookup.
    pub fn w4_data(&self, allowed: bool) -> bool {
        let (id, permissions) = &self.w4_callers[usize::from(!allowed)];
        let has = |p: &str| permissions.iter().any(|x| x == p);
        has("CAN_MANAGE_PROJECTS")
            || self.w4_owner.eq_ignore_ascii_case(id)
            || (has("CAN_CREATE_PROJECTS") && self.w4_member_set.contains(&id.to_ascii_lowercase()))
    }

    /// W5: the grant of the document, if any, names the caller.
    pub fn w5(&self, allowed: bool) -> bool {
        let doc = if allowed { "d05000" } else { "d05001" };
        self.w5.get(doc).is_some_and(|u| u == "u05000")
    }
}
