//! Differential test of the `flexmeasures` bundle against a reference model.
//!
//! The model below is written from the bundle's spec
//! (`../shared/spec/bundles/flexmeasures.md`), not from
//! `policies/flexmeasures.pcl`. It decides plain `serde_json` requests and
//! says whether each request is inside the bundle's request contract.
//! Properties: on every contract-valid request the bundle's decision equals
//! the model's (outcome, and the reason text where the spec fixes one; the
//! bundle returns no filters and no resolved principal); on every
//! contract-invalid request the bundle never allows. The model is itself
//! checked against the shared conformance cases and the bundle's edge cases.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, PolicySet, Request};
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::sync::OnceLock;
mod common;

use common::{case_file, cases_with_data, depth, exact_numbers};

// ================================================================ the model

/// What the spec says about one request.
#[derive(Clone, Debug)]
struct Expected {
    /// Whether request and data are inside the bundle's contract.
    valid: bool,
    /// `allow`, `deny` or `unauthenticated` (meaningful when `valid`).
    outcome: &'static str,
    /// A text the reason must contain, where the spec fixes one.
    reason: Option<String>,
    /// The spec rule (or, when invalid, the contract clause) that decided.
    rule: &'static str,
}

impl Expected {
    fn invalid(clause: &'static str) -> Self {
        Expected {
            valid: false,
            outcome: "deny",
            reason: None,
            rule: clause,
        }
    }
    fn allow(rule: &'static str) -> Self {
        Expected {
            valid: true,
            outcome: "allow",
            reason: None,
            rule,
        }
    }
    fn deny(rule: &'static str, reason: Option<String>) -> Self {
        Expected {
            valid: true,
            outcome: "deny",
            reason,
            rule,
        }
    }
    fn unauthenticated(rule: &'static str) -> Self {
        Expected {
            valid: true,
            outcome: "unauthenticated",
            reason: None,
            rule,
        }
    }
}

const PERMISSIONS: [&str; 4] = ["create-children", "read", "update", "delete"];
const MODEL_TYPES: [&str; 6] = [
    "Account",
    "User",
    "GenericAsset",
    "Sensor",
    "UserAuditLog",
    "AccountAuditLog",
];

/// Past this nesting the engine refuses request JSON (`max_value_depth`,
/// docs/robustness.md); such requests are outside every contract. The
/// generators stay well below it or well above it.
const MAX_DEPTH: usize = 120;

/// The logged-in caller, as the spec reads it.
struct Caller<'a> {
    /// `principal.id` in decimal, exactly as the JSON integer.
    id: String,
    roles: Vec<&'a str>,
    /// `principal.account.id` in decimal.
    account_id: String,
    account_roles: Vec<&'a str>,
}

/// A JSON integer in decimal; `None` for anything else (floats such as
/// `7.0`, strings, booleans). The contract's ids are integers, and
/// Portcullis integers are 64-bit signed (docs/language.md, section 12): a
/// larger one cannot be held exactly, so it is outside every contract and
/// refused (the stricter reading of "integer").
fn integer(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) if n.is_i64() => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    v?.as_array()?.iter().map(Value::as_str).collect()
}

fn caller(p: &Value) -> Result<Caller<'_>, &'static str> {
    let Value::Object(p) = p else {
        return Err("contract: principal is neither an object nor null");
    };
    let id = p
        .get("id")
        .and_then(integer)
        .ok_or("contract: principal.id is not an integer (missing, null, float, string, ...)")?;
    let roles =
        strings(p.get("roles")).ok_or("contract: principal.roles is not an array of strings")?;
    let Some(Value::Object(account)) = p.get("account") else {
        return Err("contract: principal.account is not an object");
    };
    let account_id = account
        .get("id")
        .and_then(integer)
        .ok_or("contract: principal.account.id is not an integer")?;
    let account_roles = strings(account.get("roles"))
        .ok_or("contract: principal.account.roles is not an array of strings")?;
    Ok(Caller {
        id,
        roles,
        account_id,
        account_roles,
    })
}

/// `<n>` is one or more ASCII digits equal, as a number, to `id`
/// (`user:007` is user 7; exact for any size).
fn same_number(digits: &str, id: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let trimmed = digits.trim_start_matches('0');
    let trimmed = if trimmed.is_empty() { "0" } else { trimmed };
    trimmed == id
}

/// One principal string against the caller (the spec's table).
fn principal_matches(s: &str, c: &Caller<'_>) -> bool {
    if s == "every-logged-in-user" {
        true
    } else if let Some(name) = s.strip_prefix("account-role:") {
        c.account_roles.contains(&name)
    } else if let Some(n) = s.strip_prefix("account:") {
        same_number(n, &c.account_id)
    } else if let Some(n) = s.strip_prefix("user:") {
        same_number(n, &c.id)
    } else if let Some(name) = s.strip_prefix("role:") {
        c.roles.contains(&name)
    } else {
        false
    }
}

/// An AND tuple of strings and `null`s (checked by `well_formed`). Empty
/// matches nobody (upstream's fix `c3f345a6c`). A tuple holding
/// `every-logged-in-user` matches "whatever its other members are";
/// otherwise every member must match, and a `null` member matches nobody
/// (the spec: "a null item in a list likewise matches nobody").
fn tuple_matches(members: &[Value], c: &Caller<'_>) -> bool {
    if members.is_empty() {
        return false;
    }
    if members.iter().any(|m| m == "every-logged-in-user") {
        return true;
    }
    members
        .iter()
        .all(|m| m.as_str().is_some_and(|s| principal_matches(s, c)))
}

/// `user_matches_principals`: a string is an OR list of one; an OR list
/// matches when one item does; `null` (as descriptor or item) matches
/// nobody. A malformed descriptor (a number, boolean or object where a
/// principal belongs, or nesting deeper than a tuple in a list) matches
/// nobody as a whole: the spec calls it malformed without saying more, so
/// the stricter reading, where a well-formed item beside a malformed one
/// does not rescue it.
fn descriptor_matches(d: &Value, c: &Caller<'_>) -> bool {
    if !well_formed(d) {
        return false;
    }
    match d {
        Value::String(_) => tuple_matches(std::slice::from_ref(d), c),
        Value::Array(items) => items.iter().any(|item| match item {
            Value::String(_) => tuple_matches(std::slice::from_ref(item), c),
            Value::Array(members) => tuple_matches(members, c),
            _ => false,
        }),
        _ => false,
    }
}

/// Whether a descriptor has the form CASES.md gives: a string, `null`, or
/// an OR list of strings, `null`s and AND tuples of strings (and `null`s,
/// which match nobody).
fn well_formed(d: &Value) -> bool {
    match d {
        Value::String(_) | Value::Null => true,
        Value::Array(items) => items.iter().all(|item| match item {
            Value::String(_) | Value::Null => true,
            Value::Array(members) => members.iter().all(|m| m.is_string() || m.is_null()),
            _ => false,
        }),
        _ => false,
    }
}

/// An account object `{ id, consultancy_account_id? }`: (A, C) in decimal,
/// `None` for a null consultancy.
fn account_ids(v: Option<&Value>) -> Result<(String, Option<String>), &'static str> {
    let Some(Value::Object(a)) = v else {
        return Err("contract: an account attribute is not an account object");
    };
    let id = a
        .get("id")
        .and_then(integer)
        .ok_or("contract: an account object's id is not an integer")?;
    let consultancy = match a.get("consultancy_account_id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            integer(v).ok_or("contract: consultancy_account_id is neither an integer nor null")?,
        ),
    };
    Ok((id, consultancy))
}

/// `account:<id>`; a null id renders as `account:None`, which matches nobody.
fn account_principal(id: Option<&String>) -> Value {
    match id {
        Some(id) => Value::String(format!("account:{id}")),
        None => Value::String("account:None".into()),
    }
}

fn account_read_acl(a: &str, c: Option<&String>) -> Value {
    let mut list = vec![account_principal(Some(&a.to_string()))];
    if c.is_some() {
        list.push(json!([account_principal(c), "role:consultant"]));
    }
    Value::Array(list)
}

fn asset_acl(account: Option<&Value>, action: &str) -> Result<Option<Value>, &'static str> {
    let ids = match account {
        Some(Value::Null) => None,
        Some(v) => Some(account_ids(Some(v))?),
        None => return Err("contract: an asset's account is missing (null is the public asset)"),
    };
    let a = ids.as_ref().map(|(a, _)| a.clone());
    Ok(match action {
        "create-children" | "update" => Some(account_principal(a.as_ref())),
        "read" => Some(match &ids {
            Some((a, c)) => account_read_acl(a, c.as_ref()),
            None => json!("every-logged-in-user"),
        }),
        "delete" => Some(json!([[
            account_principal(a.as_ref()),
            "role:account-admin"
        ]])),
        _ => None,
    })
}

fn id_attribute(r: &Map<String, Value>, key: &str) -> Result<String, &'static str> {
    r.get(key)
        .and_then(integer)
        .ok_or("contract: a typed resource's id is not an integer")
}

/// The ACL entry of a typed resource for `action` (`None`: no entry), or
/// the contract clause its attributes break.
fn model_acl(
    r: &Map<String, Value>,
    ty: &str,
    action: &str,
) -> Result<Option<Value>, &'static str> {
    let user_log_acl = |u: &String, a: &String, c: Option<&String>| {
        json!([
            format!("user:{u}"),
            [account_principal(Some(a)), "role:account-admin"],
            [account_principal(c), "role:consultant"]
        ])
    };
    match ty {
        "Account" => {
            let a = id_attribute(r, "id")?;
            let c = account_ids(Some(&Value::Object(r.clone())))?.1;
            Ok(match action {
                "create-children" => Some(json!([[format!("account:{a}"), "role:account-admin"]])),
                "read" => Some(account_read_acl(&a, c.as_ref())),
                "update" => Some(json!(format!("account:{a}"))),
                _ => None,
            })
        }
        "User" => {
            let u = id_attribute(r, "id")?;
            let (a, c) = account_ids(r.get("account"))?;
            Ok(match action {
                "read" => Some(json!(format!("account:{a}"))),
                "update" => Some(user_log_acl(&u, &a, c.as_ref())),
                _ => None,
            })
        }
        "GenericAsset" => {
            id_attribute(r, "id")?;
            asset_acl(r.get("account"), action)
        }
        "Sensor" => {
            id_attribute(r, "id")?;
            let Some(Value::Object(asset)) = r.get("generic_asset") else {
                return Err("contract: a sensor's generic_asset is not an object");
            };
            id_attribute(asset, "id")?;
            let acl = asset_acl(asset.get("account"), action)?;
            Ok(match action {
                // The asset's `update` is `account:A`; the sensor's is the tuple.
                "update" => asset_acl(asset.get("account"), "delete")?,
                _ => acl,
            })
        }
        "UserAuditLog" => match r.get("user") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(user)) => {
                let u = id_attribute(user, "id")?;
                let (a, c) = account_ids(user.get("account"))?;
                Ok((action == "read").then(|| user_log_acl(&u, &a, c.as_ref())))
            }
            Some(_) => Err("contract: an audit log's user is neither an object nor null"),
        },
        "AccountAuditLog" => match r.get("account") {
            None | Some(Value::Null) => Ok(None),
            Some(v) => {
                let (a, c) = account_ids(Some(v))?;
                Ok((action == "read").then(|| {
                    json!([
                        [format!("account:{a}"), "role:account-admin"],
                        [account_principal(c.as_ref()), "role:consultant"]
                    ])
                }))
            }
        },
        _ => Ok(None),
    }
}

/// The contract of `data`: `roles` is an array of `{ id: int, name: string }`.
fn role_table(data: &Value) -> Result<Vec<(String, &str)>, &'static str> {
    let rows = data
        .get("roles")
        .and_then(Value::as_array)
        .ok_or("contract: data.roles is not an array")?;
    rows.iter()
        .map(|row| {
            let id = row.get("id").and_then(integer);
            let name = row.get("name").and_then(Value::as_str);
            id.zip(name)
                .ok_or("contract: a data.roles row is not { id: int, name: string }")
        })
        .collect()
}

/// The spec's decision for `request` given `data`.
fn decide(request: &Value, data: &Value) -> Expected {
    let Value::Object(req) = request else {
        return Expected::invalid("contract: the request is not an object");
    };
    if req
        .keys()
        .any(|k| !matches!(k.as_str(), "principal" | "action" | "resource" | "context"))
    {
        return Expected::invalid("contract: the request has an unknown top-level field");
    }
    let (Some(principal), Some(Value::String(action)), Some(resource), Some(context)) = (
        req.get("principal"),
        req.get("action"),
        req.get("resource"),
        req.get("context"),
    ) else {
        return Expected::invalid(
            "contract: principal, action (string), resource or context missing (absent is not null)",
        );
    };
    if !context.is_object() {
        return Expected::invalid("contract: context is not an object");
    }
    if depth(request) > MAX_DEPTH {
        return Expected::invalid("contract: request nested past the engine's value depth");
    }
    if !exact_numbers(request) || !exact_numbers(data) {
        return Expected::invalid("contract: a number that cannot be held exactly");
    }
    let roles = match role_table(data) {
        Ok(r) => r,
        Err(clause) => return Expected::invalid(clause),
    };
    let caller = match principal {
        Value::Null => None,
        p => match caller(p) {
            Ok(c) => Some(c),
            Err(clause) => return Expected::invalid(clause),
        },
    };
    let action = action.as_str();
    if action == "modify-roles" {
        return modify_roles(caller.as_ref(), resource, &roles);
    }
    // Rule 1: the action set is closed and checked first.
    if !PERMISSIONS.contains(&action) {
        return Expected::deny(
            "rule 1: unknown action",
            Some(format!("Permission '{action}' cannot be handled.")),
        );
    }
    // The resource's shape, checked before any rule reads it.
    let principals = match resource {
        Value::Null => None,
        Value::Object(r) => match r.get("acl") {
            // `acl` present: used, even beside a `type`. A null `acl` has no
            // entries (edge case "acl null beside a type").
            Some(Value::Null) => Some(Some(None)),
            Some(Value::Object(acl)) => Some(Some(acl.get(action).cloned())),
            Some(_) => return Expected::invalid("contract: resource.acl is not an object"),
            None => match r.get("type").and_then(Value::as_str) {
                Some(ty) if MODEL_TYPES.contains(&ty) => match model_acl(r, ty, action) {
                    Ok(entry) => Some(Some(entry)),
                    Err(clause) => return Expected::invalid(clause),
                },
                _ => Some(None),
            },
        },
        _ => return Expected::invalid("contract: resource is neither an object nor null"),
    };
    // Rule 2.
    let Some(caller) = caller else {
        return Expected::unauthenticated("rule 2: anonymous");
    };
    // Rule 3 (admins too).
    let Some(holder) = principals else {
        return Expected::deny(
            "rule 3: no context",
            Some(format!(
                "Context needs {action}-permission, but no context was passed."
            )),
        );
    };
    // Rule 4 (admins too).
    let Some(entry) = holder else {
        return Expected::deny(
            "rule 4: not an ACL holder",
            Some("is no AuthModelMixin".into()),
        );
    };
    // Rule 6: user roles only; an account role `admin` is no bypass.
    if caller.roles.contains(&"admin") {
        return Expected::allow("rule 6: admin bypass");
    }
    if caller.roles.contains(&"admin-reader") && action == "read" {
        return Expected::allow("rule 6: admin-reader reads");
    }
    // Rules 5 and 7: a missing entry is the empty OR list.
    if entry
        .as_ref()
        .is_some_and(|d| descriptor_matches(d, &caller))
    {
        return Expected::allow("rule 7: principals match");
    }
    // The spec does not say how a malformed descriptor is refused (the
    // engine fails closed with PCL501); only that it allows nobody.
    if entry.as_ref().is_some_and(|d| !well_formed(d)) {
        return Expected::deny("rule 8: malformed descriptor matches nobody", None);
    }
    Expected::deny(
        "rule 8: no principal matches",
        Some("Authorization failure".into()),
    )
}

/// `can_modify_role`.
fn modify_roles(
    caller: Option<&Caller<'_>>,
    resource: &Value,
    table: &[(String, &str)],
) -> Expected {
    let Some(items) = resource.get("roles").and_then(Value::as_array) else {
        return Expected::invalid("contract: modify-roles resource is not { roles: [...] }");
    };
    let mut names = Vec::new();
    for item in items {
        match item {
            // A role id sent as text (`"2"`, the admin role's id) is neither
            // a name nor an integer id: the stricter reading of the spec's
            // "a role name (string) or a role id (integer)" refuses it.
            Value::String(s) if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => {
                return Expected::invalid(
                    "contract: a modify-roles item is a role id written as text",
                )
            }
            Value::String(s) => names.push(Some(s.as_str())),
            v => match integer(v) {
                Some(id) => names.push(table.iter().find(|(i, _)| *i == id).map(|(_, n)| *n)),
                None => {
                    return Expected::invalid(
                        "contract: a modify-roles item is neither a string nor an integer",
                    )
                }
            },
        }
    }
    let Some(caller) = caller else {
        return Expected::unauthenticated("modify-roles 1: anonymous");
    };
    let has = |r: &str| caller.roles.contains(&r);
    for name in names {
        let ok = match name {
            None => false,
            Some("admin") => false,
            Some("admin-reader") => has("admin"),
            Some("account-admin") => has("admin") || has("consultant"),
            Some("consultant") => has("admin") || has("account-admin"),
            Some(_) => true,
        };
        if !ok {
            return Expected::deny("modify-roles 2: an item is refused", None);
        }
    }
    Expected::allow("modify-roles 3: every item passed")
}

// ============================================================== the bundle

fn policy() -> &'static PolicySet {
    static POLICY: OnceLock<PolicySet> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/flexmeasures.pcl");
        PolicySet::from_file(path).unwrap_or_else(|e| panic!("{}", e.summary()))
    })
}

/// What the bundle answered.
#[derive(Debug)]
struct Got {
    outcome: String,
    reason: String,
    filters: Option<Value>,
    principal: Option<Value>,
    /// The error code when the decision failed closed.
    error: Option<&'static str>,
}

fn engine(request: &Value, data: &Value) -> Got {
    let refused = |why: String| Got {
        outcome: "deny".into(),
        reason: why,
        filters: None,
        principal: None,
        error: Some("refused"),
    };
    let data = match Data::from_json(data) {
        Ok(d) => d,
        Err(e) => return refused(format!("data refused: {e}")),
    };
    let request = match Request::from_json(request) {
        Ok(r) => r,
        Err(e) => return refused(format!("request refused: {e}")),
    };
    let d = policy().decide(&request, &data);
    Got {
        outcome: d.outcome.as_str().into(),
        reason: d.reason.to_string(),
        filters: d.filters.as_ref().map(portcullis::Value::to_json),
        principal: d.principal.as_ref().map(portcullis::Value::to_json),
        error: d.error.as_ref().map(|e| e.code.code()),
    }
}

/// The class of a disagreement between model and bundle, or `None`.
fn disagreement(want: &Expected, got: &Got) -> Option<String> {
    let class = disagreement_kind(want, got)?;
    Some(match got.error {
        Some(code) => format!("{class} (bundle error {code})"),
        None => class,
    })
}

fn disagreement_kind(want: &Expected, got: &Got) -> Option<String> {
    if !want.valid {
        return (got.outcome == "allow")
            .then(|| format!("invalid request allowed [{}]", want.rule));
    }
    if got.outcome != want.outcome {
        return Some(format!(
            "valid request: spec says {} by [{}], bundle says {}",
            want.outcome, want.rule, got.outcome
        ));
    }
    if let Some(r) = &want.reason {
        if !got.reason.contains(r.as_str()) {
            return Some(format!("valid request: reason of [{}] differs", want.rule));
        }
    }
    if want.outcome == "allow" && (got.filters.is_some() || got.principal.is_some()) {
        return Some(format!(
            "valid request: allow by [{}] returns filters or a principal, the spec defines none",
            want.rule
        ));
    }
    None
}

/// Engine bug classes the lead is fixing that a request's text suggests.
fn hints(class: &str, request: &Value, data: &Value) -> Vec<&'static str> {
    let text = format!("{request}{data}");
    let mut out = Vec::new();
    if class.contains("absent is not null") || class.contains("null is not") {
        out.push("absent fields reading as null");
    } else if class.starts_with("invalid request allowed") {
        out.push("unchecked contracts (`resource: any`, no shape checks below depth 64)");
    }
    if [
        "9007199254740993",
        "9007199254740992",
        "18446744073709551615",
        "18446744073709551616",
        ".0",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
        out.push("lossy big integers / int-float comparison through floats");
    }
    if [
        "role:0",
        "role:+",
        "role: ",
        "user:0",
        "account:0",
        "user:+",
        "user: ",
        "account: ",
    ]
    .iter()
    .any(|s| text.contains(s))
    {
        out.push("digit-id leniency");
    }
    if text.contains("B0000000-0000-4000-8000-00000000000A")
        && text.contains("b0000000-0000-4000-8000-00000000000a")
    {
        out.push("implicit UUID case-insensitive string comparison");
    }
    out
}

// ============================================================== generators

/// Every rule of the model, each of which a run must reach.
const SPEC_RULES: &[&str] = &[
    "rule 1: unknown action",
    "rule 2: anonymous",
    "rule 3: no context",
    "rule 4: not an ACL holder",
    "rule 6: admin bypass",
    "rule 6: admin-reader reads",
    "rule 7: principals match",
    "rule 8: malformed descriptor matches nobody",
    "rule 8: no principal matches",
    "modify-roles 1: anonymous",
    "modify-roles 2: an item is refused",
    "modify-roles 3: every item passed",
];

/// Case count: several thousand requests per `cargo test` run.
const CASES: u32 = 8000;

const USER_IDS: &[i64] = &[1, 7, 14];
const ACCOUNT_IDS: &[i64] = &[1, 3, 4];
const ROLES: &[&str] = &[
    "admin",
    "admin-reader",
    "account-admin",
    "consultant",
    "CEO",
    "ceo",
    "Admin",
    "7",
    "",
    "b0000000-0000-4000-8000-00000000000a",
];
const ACCOUNT_ROLES: &[&str] = &[
    "Prosumer",
    "MDC",
    "admin",
    "Consultancy",
    "7",
    "b0000000-0000-4000-8000-00000000000a",
];
const ID_SPELLINGS: &[&str] = &[
    "1",
    "7",
    "14",
    "3",
    "4",
    "007",
    "01",
    "03",
    "0",
    "+7",
    "-1",
    " 7",
    "7 ",
    "7.0",
    "1e0",
    "",
    "abc",
    "None",
    "9007199254740993",
    "9007199254740992",
    "18446744073709551615",
    "018446744073709551615",
    "18446744073709551616",
];
const NAME_SPELLINGS: &[&str] = &[
    "admin",
    "admin-reader",
    "account-admin",
    "consultant",
    "CEO",
    "Admin",
    "7",
    "07",
    "",
    "Prosumer",
    "MDC",
    "mdc",
    "B0000000-0000-4000-8000-00000000000A",
    "b0000000-0000-4000-8000-00000000000a",
];
const ODD_ATOMS: &[&str] = &[
    "every-logged-in-user",
    "Every-Logged-In-User",
    "every-logged-in-user ",
    "group:5",
    "User:14",
    "user",
    "role",
    "",
    "*",
    "role:*",
    "user:*",
];

fn big_or_odd_number() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(json!(9_007_199_254_740_993_i64)),
        Just(json!(9_007_199_254_740_992_i64)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(serde_json::from_str::<Value>("18446744073709551616").unwrap()),
    ]
    .boxed()
}

/// An integer field that is usually a pool integer, sometimes an edge
/// number, sometimes the wrong type or missing (`None`).
fn int_field(pool: &'static [i64]) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        200 => select(pool).prop_map(|n| Some(json!(n))),
        12 => big_or_odd_number().prop_map(Some),
        1 => prop_oneof![
            select(pool).prop_map(|n| Some(json!(n as f64))),
            select(pool).prop_map(|n| Some(json!(n.to_string()))),
            Just(Some(json!(true))),
            select(pool).prop_map(|n| Some(json!({ "id": n }))),
            Just(Some(Value::Null)),
            Just(None),
        ],
    ]
    .boxed()
}

fn string_list(pool: &'static [&'static str]) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        100 => prop::collection::vec(select(pool), 0..4).prop_map(|v| Some(json!(v))),
        1 => prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            select(pool).prop_map(|s| Some(json!(s))),
            select(pool).prop_map(|s| Some(json!([s, 1]))),
            select(pool).prop_map(|s| Some(json!([[s]]))),
        ],
    ]
    .boxed()
}

fn object(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

fn principal() -> BoxedStrategy<Option<Value>> {
    let account = (int_field(ACCOUNT_IDS), string_list(ACCOUNT_ROLES))
        .prop_map(|(id, roles)| object(vec![("id", id), ("roles", roles)]));
    let account = prop_oneof![
        60 => account.prop_map(Some),
        1 => prop_oneof![Just(None), Just(Some(Value::Null))],
    ];
    let user = (
        int_field(USER_IDS),
        string_list(ROLES),
        account,
        any::<bool>(),
    )
        .prop_map(|(id, roles, account, extra)| {
            let mut p = object(vec![("id", id), ("roles", roles), ("account", account)]);
            if extra {
                p["login"] = json!("someone");
            }
            p
        });
    prop_oneof![
        8 => Just(Some(Value::Null)),
        50 => user.prop_map(Some),
        1 => prop_oneof![Just(None), Just(Some(json!("user:7")))],
    ]
    .boxed()
}

fn atom() -> BoxedStrategy<String> {
    let user = prop_oneof![
        4 => select(vec!["1", "7", "14"]),
        1 => select(ID_SPELLINGS),
    ];
    let account = prop_oneof![
        4 => select(vec!["1", "3", "4"]),
        1 => select(ID_SPELLINGS),
    ];
    let role = prop_oneof![
        4 => select(vec!["admin", "account-admin", "consultant", "CEO"]),
        1 => select(NAME_SPELLINGS),
    ];
    let account_role = prop_oneof![
        4 => select(vec!["Prosumer", "MDC"]),
        1 => select(NAME_SPELLINGS),
    ];
    prop_oneof![
        4 => user.prop_map(|n| format!("user:{n}")),
        4 => account.prop_map(|n| format!("account:{n}")),
        4 => role.prop_map(|r| format!("role:{r}")),
        2 => account_role.prop_map(|r| format!("account-role:{r}")),
        1 => select(ODD_ATOMS).prop_map(String::from),
    ]
    .boxed()
}

/// Wraps `v` in `levels` one-item arrays.
fn nest(v: Value, levels: usize) -> Value {
    (0..levels).fold(v, |v, _| json!([v]))
}

fn descriptor() -> BoxedStrategy<Value> {
    let item = prop_oneof![
        8 => atom().prop_map(Value::String),
        4 => prop::collection::vec(atom(), 0..4).prop_map(|v| json!(v)),
        1 => Just(Value::Null),
        1 => (atom(), select(vec![1usize, 2, 4, 60, 150])).prop_map(|(a, n)| nest(json!(a), n + 1)),
        1 => prop_oneof![Just(json!(5)), Just(json!(true)), Just(json!({ "user": 1 }))],
        1 => atom().prop_map(|a| json!([a, null])),
        1 => atom().prop_map(|a| json!(["every-logged-in-user", [a]])),
    ];
    prop_oneof![
        6 => atom().prop_map(Value::String),
        10 => prop::collection::vec(item, 0..4).prop_map(Value::Array),
        1 => Just(Value::Null),
        1 => prop_oneof![Just(json!(7)), Just(json!(true)), Just(json!({})), Just(json!({ "read": "user:1" }))],
    ]
    .boxed()
}

fn acl() -> BoxedStrategy<Value> {
    let entry = prop_oneof![1 => Just(None), 3 => descriptor().prop_map(Some)];
    (
        entry.clone(),
        entry.clone(),
        entry.clone(),
        entry,
        prop::option::weighted(0.1, descriptor()),
    )
        .prop_map(|(c, r, u, d, w)| {
            object(vec![
                ("create-children", c),
                ("read", r),
                ("update", u),
                ("delete", d),
                ("write", w),
            ])
        })
        .boxed()
}

fn consultancy() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        3 => Just(Some(Value::Null)),
        2 => Just(None),
        4 => int_field(ACCOUNT_IDS),
    ]
    .boxed()
}

fn account_object() -> BoxedStrategy<Value> {
    (int_field(ACCOUNT_IDS), consultancy())
        .prop_map(|(id, c)| object(vec![("id", id), ("consultancy_account_id", c)]))
        .boxed()
}

/// An account attribute that may be null (public) or missing (`None`).
fn maybe_account() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        14 => account_object().prop_map(Some),
        4 => Just(Some(Value::Null)),
        1 => prop_oneof![Just(None), Just(Some(json!(3)))],
    ]
    .boxed()
}

fn typed_resource() -> BoxedStrategy<Value> {
    let ty = |t: &str| Some(json!(t));
    prop_oneof![
        (int_field(ACCOUNT_IDS), consultancy()).prop_map(move |(id, c)| object(vec![
            ("type", ty("Account")),
            ("id", id),
            ("consultancy_account_id", c)
        ])),
        (int_field(USER_IDS), maybe_account()).prop_map(move |(id, a)| object(vec![
            ("type", ty("User")),
            ("id", id),
            ("account", a)
        ])),
        (int_field(&[9, 3]), maybe_account()).prop_map(move |(id, a)| object(vec![
            ("type", ty("GenericAsset")),
            ("id", id),
            ("account", a)
        ])),
        (int_field(&[40]), int_field(&[9]), maybe_account()).prop_map(move |(id, g, a)| {
            let asset = prop_asset(g, a);
            object(vec![
                ("type", ty("Sensor")),
                ("id", id),
                ("generic_asset", asset),
            ])
        }),
        (int_field(USER_IDS), maybe_account(), 0..8u8).prop_map(move |(id, a, shape)| {
            let user = match shape {
                0 => None,
                1 => Some(Value::Null),
                _ => Some(object(vec![("id", id), ("account", a)])),
            };
            object(vec![("type", ty("UserAuditLog")), ("user", user)])
        }),
        maybe_account()
            .prop_map(move |a| object(vec![("type", ty("AccountAuditLog")), ("account", a)])),
    ]
    .boxed()
}

fn prop_asset(id: Option<Value>, account: Option<Value>) -> Option<Value> {
    Some(object(vec![("id", id), ("account", account)]))
}

fn permission_resource() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        2 => Just(Some(Value::Null)),
        8 => acl().prop_map(|a| Some(json!({ "acl": a }))),
        1 => (acl(), typed_resource()).prop_map(|(a, mut t)| {
            t["acl"] = a;
            Some(t)
        }),
        1 => typed_resource().prop_map(|mut t| {
            t["acl"] = Value::Null;
            Some(t)
        }),
        1 => prop_oneof![
            Just(json!({ "acl": null })),
            Just(json!({ "acl": "user:1" })),
            Just(json!({ "acl": ["user:1"] })),
            Just(json!({ "acl": {} })),
        ]
        .prop_map(Some),
        10 => typed_resource().prop_map(Some),
        1 => prop_oneof![
            Just(json!({ "name": "dashboard" })),
            Just(json!({ "type": "Annotation", "id": 4 })),
            Just(json!({ "type": "account", "id": 1 })),
            Just(json!({ "type": 5 })),
            Just(json!({ "type": null })),
            Just(json!({})),
        ]
        .prop_map(Some),
        1 => prop_oneof![Just(json!("x")), Just(json!(5)), Just(json!([]))].prop_map(Some),
        1 => Just(None),
    ]
    .boxed()
}

fn roles_resource() -> BoxedStrategy<Option<Value>> {
    let item = prop_oneof![
        6 => select(vec!["admin", "admin-reader", "account-admin", "consultant", "gardener", "Admin", "2"]).prop_map(|s| json!(s)),
        4 => select(vec![1i64, 2, 3, 4, 5, 6, 99, 0, -1]).prop_map(|n| json!(n)),
        1 => big_or_odd_number(),
        1 => prop_oneof![Just(json!(2.0)), Just(json!(true)), Just(json!({ "id": 2 })), Just(Value::Null), Just(json!(["admin"]))],
    ];
    prop_oneof![
        12 => prop::collection::vec(item, 0..4).prop_map(|v| Some(json!({ "roles": v }))),
        1 => prop_oneof![
            Just(Value::Null),
            Just(json!({})),
            Just(json!({ "roles": null })),
            Just(json!({ "roles": "consultant" })),
            Just(json!({ "acl": { "read": "every-logged-in-user" } })),
        ]
        .prop_map(Some),
    ]
    .boxed()
}

fn action() -> BoxedStrategy<String> {
    prop_oneof![
        16 => select(PERMISSIONS.to_vec()).prop_map(String::from),
        4 => Just("modify-roles".to_string()),
        1 => select(vec!["write", "Read", "read ", "approve", "", "modify_roles", "READ"]).prop_map(String::from),
    ]
    .boxed()
}

fn context() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        90 => Just(Some(json!({}))),
        6 => Just(Some(json!({ "x": 1, "headers": {} }))),
        2 => select(vec![3usize, 50, 200]).prop_map(|n| Some(json!({ "deep": nest(json!(1), n) }))),
        1 => prop_oneof![Just(None), Just(Some(Value::Null)), Just(Some(json!([])))],
    ]
    .boxed()
}

fn data() -> BoxedStrategy<Value> {
    let standard = json!([
        { "id": 1, "name": "account-admin" },
        { "id": 2, "name": "admin" },
        { "id": 3, "name": "admin-reader" },
        { "id": 4, "name": "consultant" }
    ]);
    let extended = json!([
        { "id": 1, "name": "account-admin" },
        { "id": 2, "name": "admin" },
        { "id": 3, "name": "admin-reader" },
        { "id": 4, "name": "consultant" },
        { "id": 5, "name": "Admin" },
        { "id": 6, "name": "gardener" },
        { "id": 9_007_199_254_740_993_i64, "name": "admin-reader" }
    ]);
    prop_oneof![
        6 => Just(json!({ "roles": standard })),
        2 => Just(json!({ "roles": extended })),
        1 => Just(json!({ "roles": [] })),
    ]
    .boxed()
}

fn request_and_data() -> BoxedStrategy<(Value, Value)> {
    (
        principal(),
        action(),
        permission_resource(),
        roles_resource(),
        context(),
        0..80u8,
        data(),
    )
        .prop_map(|(p, a, perm, roles, c, twist, data)| {
            let resource = if (a == "modify-roles") == (twist != 0) {
                roles
            } else {
                perm
            };
            let mut r = object(vec![
                ("principal", p),
                ("action", Some(json!(a))),
                ("resource", resource),
                ("context", c),
            ]);
            if twist == 1 {
                r["extra"] = json!(1);
            }
            (r, data)
        })
        .boxed()
}

// ================================================================ harness

/// One class of disagreement: how often, and its shrunk smallest request.
struct Finding {
    count: usize,
    minimal: (Value, Value),
}

fn class_of(case: &(Value, Value)) -> Option<String> {
    disagreement(&decide(&case.0, &case.1), &engine(&case.0, &case.1))
}

/// Shrinks a failing tree while it keeps failing with the same class.
fn shrink(tree: &mut impl ValueTree<Value = (Value, Value)>, class: &str) -> (Value, Value) {
    let mut minimal = tree.current();
    if !tree.simplify() {
        return minimal;
    }
    for _ in 0..2000 {
        let case = tree.current();
        if class_of(&case).as_deref() == Some(class) {
            minimal = case;
            if !tree.simplify() {
                break;
            }
        } else if !tree.complicate() {
            break;
        }
    }
    minimal
}

fn describe(class: &str, f: &Finding) -> String {
    let (request, data) = &f.minimal;
    let want = decide(request, data);
    let got = engine(request, data);
    let hints = hints(class, request, data);
    format!(
        "- {class} ({} cases)\n  request: {request}\n  data: {data}\n  spec: {} {} reason {:?}\n  bundle: {} reason {:?} filters {:?} principal {:?}{}",
        f.count,
        if want.valid { "valid," } else { "invalid," },
        want.outcome,
        want.reason,
        got.outcome,
        got.reason,
        got.filters,
        got.principal,
        if hints.is_empty() {
            String::new()
        } else {
            format!("\n  suspected engine class: {}", hints.join("; "))
        }
    )
}

#[test]
fn bundle_agrees_with_model_on_generated_requests() {
    let config = ProptestConfig {
        cases: CASES,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    let mut runner = TestRunner::new(config.clone());
    let strategy = request_and_data();
    let mut findings: BTreeMap<String, Finding> = BTreeMap::new();
    let mut tally: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut rules: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..config.cases {
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        let case = tree.current();
        let want = decide(&case.0, &case.1);
        *tally
            .entry(if want.valid { want.outcome } else { "invalid" })
            .or_default() += 1;
        *rules.entry(want.rule).or_default() += 1;
        if let Some(class) = disagreement(&want, &engine(&case.0, &case.1)) {
            if let Some(f) = findings.get_mut(&class) {
                f.count += 1;
            } else {
                let minimal = shrink(&mut tree, &class);
                findings.insert(class, Finding { count: 1, minimal });
            }
        }
    }
    let n = config.cases as usize;
    let share = |k: &str| tally.get(k).copied().unwrap_or(0) * 100 / n;
    // The generators must reach every outcome, or the test is vacuous.
    assert!(
        share("allow") >= 8
            && share("deny") >= 15
            && share("unauthenticated") >= 3
            && share("invalid") >= 5,
        "outcome shares too small: {tally:?}; by rule: {rules:#?}"
    );
    let unreached: Vec<&&str> = SPEC_RULES
        .iter()
        .filter(|r| rules.get(**r).copied().unwrap_or(0) < 10)
        .collect();
    assert!(
        unreached.is_empty(),
        "spec rules reached fewer than 10 times: {unreached:?}; by rule: {rules:#?}"
    );
    assert!(
        findings.is_empty(),
        "the flexmeasures bundle disagrees with its spec model on {} classes (tally {tally:?}):\n{}",
        findings.len(),
        findings
            .iter()
            .map(|(class, f)| describe(class, f))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// ====================================================== the model's own check

/// Runs the model over one case file; returns the cases it disagrees with.
fn model_against(file: &Value, require_valid: bool) -> Vec<String> {
    let mut out = Vec::new();
    for (case, data) in cases_with_data(file) {
        let want = decide(&case["request"], &data);
        let expect = &case["expect"];
        let decision = expect["decision"].as_str().unwrap();
        let name = case["name"].as_str().unwrap();
        let mut problems = Vec::new();
        if !want.valid {
            if require_valid {
                problems.push(format!("model calls it invalid ({})", want.rule));
            }
            if decision == "allow" {
                problems.push("model calls it invalid but the case allows".into());
            }
        } else {
            if want.outcome != decision {
                problems.push(format!("model {} by [{}]", want.outcome, want.rule));
            }
            if let (Some(m), Some(r)) = (&want.reason, expect.get("reason").and_then(Value::as_str))
            {
                if !m.contains(r) && !r.contains(m.as_str()) {
                    problems.push(format!("model reason {m:?} vs case reason {r:?}"));
                }
            }
        }
        if !problems.is_empty() {
            out.push(format!(
                "{name}: expects {decision}; {}",
                problems.join("; ")
            ));
        }
    }
    out
}

#[test]
fn model_agrees_with_case_files() {
    let conformance = model_against(&case_file("conformance/flexmeasures.json"), true);
    let edges = model_against(&case_file("bundles/flexmeasures.json"), false);
    assert!(
        conformance.is_empty() && edges.is_empty(),
        "model disagrees with cases:\nconformance:\n{}\nedges:\n{}",
        conformance.join("\n"),
        edges.join("\n")
    );
}

/// The model's reading of the spec's own examples, beyond the case files.
#[test]
fn model_reads_the_spec_examples() {
    let data = json!({ "roles": [{ "id": 1, "name": "account-admin" }, { "id": 2, "name": "admin" }, { "id": 3, "name": "admin-reader" }, { "id": 4, "name": "consultant" }] });
    let p = json!({ "id": 7, "roles": [], "account": { "id": 3, "roles": [] } });
    let read = |acl: Value| {
        decide(
            &json!({ "principal": p, "action": "read", "resource": { "acl": { "read": acl } }, "context": {} }),
            &data,
        )
        .outcome
    };
    assert_eq!(read(json!("user:007")), "allow");
    assert_eq!(read(json!("user:0000000000000000000007")), "allow");
    assert_eq!(read(json!("user: 7")), "deny");
    assert_eq!(read(json!("user:+7")), "deny");
    assert_eq!(read(json!("user:7.0")), "deny");
    assert_eq!(
        read(json!(["account:999", "every-logged-in-user"])),
        "allow"
    );
    assert_eq!(
        read(json!([["account:999", "every-logged-in-user"]])),
        "allow"
    );
    assert_eq!(read(json!([["account:3", "role:x"]])), "deny");
    assert_eq!(read(json!([["account:3"]])), "allow");
    assert_eq!(read(json!([[]])), "deny");
    assert_eq!(read(json!(null)), "deny");
    let big = json!({ "id": i64::MAX, "roles": [], "account": { "id": 3, "roles": [] } });
    let read_big = |acl: &str| {
        decide(
            &json!({ "principal": big, "action": "read", "resource": { "acl": { "read": acl } }, "context": {} }),
            &data,
        )
        .outcome
    };
    assert_eq!(read_big("user:9223372036854775807"), "allow");
    assert_eq!(read_big("user:0009223372036854775807"), "allow");
    assert_eq!(read_big("user:9223372036854775806"), "deny");
    assert_eq!(read_big("user:9223372036854775808"), "deny");
    let beyond = json!({ "principal": { "id": u64::MAX, "roles": [], "account": { "id": 3, "roles": [] } }, "action": "read", "resource": { "acl": { "read": "user:18446744073709551615" } }, "context": {} });
    assert!(!decide(&beyond, &data).valid);
    let float = json!({ "principal": { "id": 7.0, "roles": [], "account": { "id": 3, "roles": [] } }, "action": "read", "resource": { "acl": { "read": "user:7" } }, "context": {} });
    assert!(!decide(&float, &data).valid);
}
