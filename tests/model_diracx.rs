//! A reference model of the `diracx` bundle, written from its spec
//! (`spec/bundles/diracx.md`) and not from `policies/diracx.pcl`, and a
//! differential property test that runs generated requests through both.
//!
//! Properties:
//! - on every contract-valid request the bundle decides as the model does
//!   (outcome, and the reasons the spec fixes);
//! - on every contract-invalid request the bundle never allows;
//! - every shared conformance case and every edge case agrees with the model
//!   (this checks the model itself).
//!
//! The property test collects every disagreement of a run, shrinks one per
//! class and names the class in its failure message, so one run shows every
//! kind of failure at once rather than the first.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, Outcome, PolicySet, Request};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestRunner};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;
mod common;

use common::exact_numbers;

// ================================================================== model

/// Why a request is outside the bundle's request contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Violation {
    /// A required key is absent (absent is not null).
    Missing,
    /// `null` where the contract does not allow it.
    Null,
    /// A float where an integer is expected (`7.0` is not an integer).
    Float,
    /// A number Portcullis cannot hold exactly.
    Number,
    /// Any other wrong type or shape.
    Shape,
}

/// What the spec says a request gets.
#[derive(Clone, Debug)]
struct Expected {
    outcome: Outcome,
    /// A substring the reason must contain, where the spec fixes one.
    reason: Option<String>,
    /// Whether the request and data are inside the contract.
    valid: bool,
    /// The first contract violation, when not valid.
    violation: Option<(Violation, String)>,
}

/// Collects the first contract violation.
#[derive(Default)]
struct Contract {
    first: Option<(Violation, String)>,
}

impl Contract {
    fn fail(&mut self, kind: Violation, at: &str, what: impl std::fmt::Display) {
        if self.first.is_none() {
            self.first = Some((kind, format!("{at}: {what}")));
        }
    }

    fn bad(&mut self, at: &str, expected: &str, found: &Value) {
        let kind = match found {
            Value::Null => Violation::Null,
            Value::Number(n) if expected.contains("integer") && !is_int(n) => Violation::Float,
            _ => Violation::Shape,
        };
        self.fail(kind, at, format!("expected {expected}, found {found}"));
    }

    fn decided(self, outcome: Outcome, reason: Option<&str>) -> Expected {
        Expected {
            outcome,
            reason: reason.map(String::from),
            valid: self.first.is_none(),
            violation: self.first,
        }
    }
}

fn allow(c: Contract) -> Expected {
    c.decided(Outcome::Allow, None)
}

fn deny(c: Contract, reason: Option<&str>) -> Expected {
    c.decided(Outcome::Deny, reason)
}

const ACTIONS: [&str; 18] = [
    "wms.create",
    "wms.read",
    "wms.manage",
    "wms.query",
    "wms.pilot",
    "sandbox.create",
    "sandbox.read",
    "sandbox.manage",
    "pilot.manage_pilots",
    "pilot.read_pilot_metadata",
    "rss.read",
    "config.read",
    "well_known.read",
    "lollygag.create",
    "lollygag.read",
    "lollygag.manage",
    "my_pilots.create",
    "my_pilots.read",
];

fn declared(action: &str) -> bool {
    ACTIONS.contains(&action)
}

fn is_int(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64()
}

/// A JSON integer, exactly (no float is an integer, not even `7.0`).
fn int(v: &Value) -> Option<i128> {
    let n = v.as_number()?;
    n.as_i64()
        .map(i128::from)
        .or_else(|| n.as_u64().map(i128::from))
}

fn object<'a>(c: &mut Contract, v: &'a Value, at: &str) -> Option<&'a Map<String, Value>> {
    let o = v.as_object();
    if o.is_none() {
        c.bad(at, "an object", v);
    }
    o
}

fn required_str<'a>(c: &mut Contract, o: &'a Map<String, Value>, key: &str, at: &str) -> &'a str {
    let at = format!("{at}.{key}");
    match o.get(key) {
        Some(Value::String(s)) => s,
        None => {
            c.fail(Violation::Missing, &at, "missing; expected a string");
            ""
        }
        Some(other) => {
            c.bad(&at, "a string", other);
            ""
        }
    }
}

fn required_int(c: &mut Contract, o: &Map<String, Value>, key: &str, at: &str) -> Option<i128> {
    let at = format!("{at}.{key}");
    match o.get(key) {
        None => {
            c.fail(Violation::Missing, &at, "missing; expected an integer");
            None
        }
        Some(v) => {
            let n = int(v);
            if n.is_none() {
                c.bad(&at, "an integer", v);
            }
            n
        }
    }
}

/// A policy parameter: absent and `null` mean the same (upstream gives
/// every parameter a default); otherwise `read` must accept it.
fn param<'a, T>(
    c: &mut Contract,
    o: Option<&'a Map<String, Value>>,
    key: &str,
    at: &str,
    expected: &str,
    read: impl Fn(&'a Value) -> Option<T>,
) -> Option<T> {
    let v = o?.get(key).filter(|v| !v.is_null())?;
    let t = read(v);
    if t.is_none() {
        c.bad(&format!("{at}.{key}"), expected, v);
    }
    t
}

fn strings(v: &Value) -> Option<Vec<&str>> {
    v.as_array()?.iter().map(Value::as_str).collect()
}

fn ints(v: &Value) -> Option<Vec<i128>> {
    v.as_array()?.iter().map(int).collect()
}

/// The caller as the verified access token describes it.
struct Caller<'a> {
    username: &'a str,
    group: &'a str,
    vo: &'a str,
    properties: Vec<&'a str>,
}

impl Caller<'_> {
    fn has(&self, property: &str) -> bool {
        self.properties.contains(&property)
    }
}

fn caller<'a>(c: &mut Contract, p: &'a Map<String, Value>) -> Caller<'a> {
    let at = "principal";
    let username = required_str(c, p, "preferred_username", at);
    let group = required_str(c, p, "dirac_group", at);
    let vo = required_str(c, p, "vo", at);
    // "absent means []"; `null` is not an array of strings (stricter).
    let properties = match p.get("properties") {
        None => Vec::new(),
        Some(v) => strings(v).unwrap_or_else(|| {
            c.bad("principal.properties", "an array of strings", v);
            Vec::new()
        }),
    };
    // `sub` and `policies` are read by no rule. The shared cases leave
    // `policies` out, so neither is required; each has its shape when given.
    match p.get("sub") {
        None | Some(Value::String(_)) => {}
        Some(other) => c.bad("principal.sub", "a string", other),
    }
    match p.get("policies") {
        None | Some(Value::Object(_)) => {}
        Some(other) => c.bad("principal.policies", "an object", other),
    }
    Caller {
        username,
        group,
        vo,
        properties,
    }
}

/// The resource and context parameters (absent and `null` are `None`).
struct Params<'a> {
    job_ids: Option<Vec<i128>>,
    pfns: Option<Vec<&'a str>>,
    pilot_stamps: Option<Vec<&'a str>>,
    target_vo: Option<&'a str>,
    required_prefix: Option<&'a str>,
    se_name: Option<&'a str>,
    allow_legacy_pilots: bool,
}

fn params<'a>(c: &mut Contract, resource: &'a Value, context: &'a Value) -> Params<'a> {
    // A `null` resource or context means `{}`.
    let r = if resource.is_null() {
        None
    } else {
        object(c, resource, "resource")
    };
    let x = if context.is_null() {
        None
    } else {
        object(c, context, "context")
    };
    Params {
        job_ids: param(c, r, "job_ids", "resource", "an array of integers", ints),
        pfns: param(c, r, "pfns", "resource", "an array of strings", strings),
        pilot_stamps: param(
            c,
            r,
            "pilot_stamps",
            "resource",
            "an array of strings",
            strings,
        ),
        target_vo: param(c, r, "target_vo", "resource", "a string", Value::as_str),
        required_prefix: param(
            c,
            x,
            "required_prefix",
            "context",
            "a string",
            Value::as_str,
        ),
        se_name: param(c, x, "se_name", "context", "a string", Value::as_str),
        allow_legacy_pilots: param(
            c,
            x,
            "allow_legacy_pilots",
            "context",
            "a boolean",
            Value::as_bool,
        )
        .unwrap_or(false),
    }
}

struct Job<'a> {
    id: Option<i128>,
    owner: &'a str,
    vo: &'a str,
}

struct SandboxOwner<'a> {
    id: Option<i128>,
    owner: &'a str,
    group: &'a str,
    vo: &'a str,
}

struct Sandbox<'a> {
    se_name: &'a str,
    pfn: &'a str,
    owner_id: Option<i128>,
}

struct Pilot<'a> {
    stamp: &'a str,
    vo: &'a str,
}

#[derive(Default)]
struct Tables<'a> {
    jobs: Vec<Job<'a>>,
    sandbox_owners: Vec<SandboxOwner<'a>>,
    sandboxes: Vec<Sandbox<'a>>,
    pilots: Vec<Pilot<'a>>,
}

/// The rows of `data.<table>` (absent is empty).
fn rows<'a>(
    c: &mut Contract,
    data: &'a Map<String, Value>,
    table: &str,
) -> Vec<&'a Map<String, Value>> {
    let at = format!("data.{table}");
    match data.get(table) {
        None => Vec::new(),
        Some(Value::Array(items)) => items.iter().filter_map(|i| object(c, i, &at)).collect(),
        Some(other) => {
            c.bad(&at, "an array", other);
            Vec::new()
        }
    }
}

fn tables<'a>(c: &mut Contract, data: &'a Value) -> Tables<'a> {
    let Some(d) = object(c, data, "data") else {
        return Tables::default();
    };
    let mut t = Tables::default();
    for r in rows(c, d, "jobs") {
        let at = "data.jobs[]";
        let id = required_int(c, r, "job_id", at);
        let owner = required_str(c, r, "owner", at);
        required_str(c, r, "owner_group", at);
        let vo = required_str(c, r, "vo", at);
        t.jobs.push(Job { id, owner, vo });
    }
    for r in rows(c, d, "sandbox_owners") {
        let at = "data.sandbox_owners[]";
        let id = required_int(c, r, "owner_id", at);
        if id.is_some_and(|i| i <= 0) {
            c.fail(Violation::Shape, at, "owner ids are positive");
        }
        t.sandbox_owners.push(SandboxOwner {
            id,
            owner: required_str(c, r, "owner", at),
            group: required_str(c, r, "owner_group", at),
            vo: required_str(c, r, "vo", at),
        });
    }
    for r in rows(c, d, "sandboxes") {
        let at = "data.sandboxes[]";
        t.sandboxes.push(Sandbox {
            se_name: required_str(c, r, "se_name", at),
            pfn: required_str(c, r, "pfn", at),
            owner_id: required_int(c, r, "owner_id", at),
        });
    }
    for r in rows(c, d, "pilots") {
        let at = "data.pilots[]";
        t.pilots.push(Pilot {
            stamp: required_str(c, r, "pilot_stamp", at),
            vo: required_str(c, r, "vo", at),
        });
    }
    t
}

fn wms(kind: &str, who: &Caller, p: &Params, t: &Tables, c: Contract) -> Expected {
    // `pilot` is treated as `manage`.
    let kind = if kind == "pilot" { "manage" } else { kind };
    if kind == "create" {
        if p.job_ids.is_some() {
            return deny(c, Some("job_ids"));
        }
        return if who.has("NormalUser") {
            allow(c)
        } else {
            deny(c, None)
        };
    }
    if who.has("GenericPilot") && kind == "manage" {
        return allow(c);
    }
    if who.has("JobAdministrator") {
        return allow(c);
    }
    if !who.has("NormalUser") {
        return deny(c, None);
    }
    if kind == "query" {
        return if p.job_ids.is_some() {
            deny(c, Some("job_ids"))
        } else {
            allow(c)
        };
    }
    let Some(ids) = &p.job_ids else {
        return deny(c, Some("job_ids"));
    };
    let distinct: BTreeSet<i128> = ids.iter().copied().collect();
    let owned = |id: i128| {
        t.jobs
            .iter()
            .any(|j| j.id == Some(id) && j.owner == who.username && j.vo == who.vo)
    };
    if !distinct.is_empty() && distinct.iter().all(|&id| owned(id)) {
        allow(c)
    } else {
        deny(c, None)
    }
}

fn sandbox(kind: &str, who: &Caller, p: &Params, t: &Tables, c: Contract) -> Expected {
    if kind == "create" {
        return if who.has("NormalUser") {
            allow(c)
        } else {
            deny(c, None)
        };
    }
    if who.has("JobAdministrator") {
        return allow(c);
    }
    if !who.has("NormalUser") {
        return deny(c, None);
    }
    let pfns = match &p.pfns {
        Some(pfns) if !pfns.is_empty() => pfns,
        _ => return allow(c),
    };
    let Some(prefix) = p.required_prefix else {
        return deny(c, Some("required_prefix"));
    };
    let Some(se_name) = p.se_name else {
        return deny(c, Some("se_name"));
    };
    // Sandbox ownership includes the group.
    let owner_id = t
        .sandbox_owners
        .iter()
        .find(|o| o.owner == who.username && o.group == who.group && o.vo == who.vo)
        .and_then(|o| o.id);
    for pfn in pfns {
        if !pfn.starts_with(prefix) {
            let reason = format!("Invalid PFN. PFN must start with {prefix}");
            return deny(c, Some(&reason));
        }
        let sandbox_owner = t
            .sandboxes
            .iter()
            .find(|s| s.se_name == se_name && s.pfn == *pfn)
            .and_then(|s| s.owner_id);
        if owner_id.is_none() || sandbox_owner != owner_id {
            let reason = format!("{} is not the owner of the sandbox", who.username);
            return deny(c, Some(&reason));
        }
    }
    allow(c)
}

fn pilot(kind: &str, who: &Caller, p: &Params, t: &Tables, c: Contract) -> Expected {
    let admin = who.has("ServiceAdministrator");
    let stamps: BTreeSet<&str> = p.pilot_stamps.iter().flatten().copied().collect();
    if kind == "manage_pilots" {
        let legacy = p.allow_legacy_pilots && who.has("GenericPilot");
        if !(admin || legacy) {
            return deny(c, Some("Insufficient permissions to manage pilots."));
        }
        if !admin && stamps.len() > 1 {
            return deny(
                c,
                Some("Insufficient permissions to modify more than one pilot."),
            );
        }
        if p.target_vo.is_some_and(|vo| vo != who.vo) && !admin {
            return deny(c, Some("Pilots can only be registered for your own VO."));
        }
    } else if who.has("GenericPilot") {
        return deny(c, Some("Pilots cannot read other pilots' metadata."));
    }
    if !stamps.is_empty() {
        let found: Vec<Option<&Pilot>> = stamps
            .iter()
            .map(|s| t.pilots.iter().find(|p| p.stamp == *s))
            .collect();
        if found.iter().any(Option::is_none) {
            return deny(c, Some("At least one pilot does not exist."));
        }
        if !admin && found.iter().flatten().any(|p| p.vo != who.vo) {
            return deny(
                c,
                Some("Insufficient permissions to access all of the provided pilots."),
            );
        }
    }
    allow(c)
}

/// inside the bundle's contract.
fn decide(request: &Value, data: &Value) -> Expected {
    let mut c = Contract::default();
    // The engine's request format: an object with a string `action`;
    // `principal` and `context` are objects or null, and an absent one reads
    // as null (docs/language.md, "Requests").
    let Some(req) = object(&mut c, request, "request") else {
        return deny(c, None);
    };
    for k in req.keys() {
        if !matches!(k.as_str(), "principal" | "action" | "resource" | "context") {
            c.fail(Violation::Shape, "request", format!("unknown key `{k}`"));
        }
    }
    let Some(Value::String(action)) = req.get("action") else {
        c.fail(Violation::Shape, "request.action", "expected a string");
        return deny(c, None);
    };
    let principal = req.get("principal").unwrap_or(&Value::Null);
    let resource = req.get("resource").unwrap_or(&Value::Null);
    let context = req.get("context").unwrap_or(&Value::Null);
    for (name, v) in [("principal", principal), ("context", context)] {
        if !(v.is_null() || v.is_object()) {
            c.bad(&format!("request.{name}"), "an object or null", v);
        }
    }
    // Numbers Portcullis cannot hold exactly (integers beyond 64 bits,
    // signed; integral doubles from 2^53 on) are refused whatever the
    // action: the request or data cannot even be read.
    if !exact_numbers(request) || !exact_numbers(data) {
        c.fail(
            Violation::Number,
            "request",
            "a number that cannot be held exactly",
        );
    }
    if c.first.is_some() {
        return deny(c, None);
    }
    // Rule 1, before anything else.
    if !declared(action) {
        return deny(c, Some(action));
    }
    // The public route has no token and reads nothing of the request: "allow,
    // with or without a principal", whatever else it carries.
    if action == "well_known.read" {
        return allow(c);
    }
    // The stricter reading of "`principal`: object or null": the key is part
    // of the request (absent is not null; `null` is "no valid token"). The
    // spec's "absent means null" is said of resource and context fields.
    if !req.contains_key("principal") {
        c.fail(Violation::Missing, "request.principal", "missing");
    }
    let who = principal.as_object().map(|p| caller(&mut c, p));
    let p = params(&mut c, resource, context);
    let t = tables(&mut c, data);
    // Rule 2.
    let Some(who) = who else {
        return if action == "well_known.read" {
            allow(c)
        } else {
            c.decided(
                Outcome::Unauthenticated,
                Some("Authorization header is missing"),
            )
        };
    };
    let (policy, kind) = action.split_once('.').unwrap_or((action, ""));
    match policy {
        "wms" => wms(kind, &who, &p, &t, c),
        "sandbox" => sandbox(kind, &who, &p, &t, c),
        "pilot" => pilot(kind, &who, &p, &t, c),
        "lollygag" if kind == "manage" => {
            if who.has("GubbinsSensei") {
                allow(c)
            } else {
                deny(c, Some("Streng verboten !!"))
            }
        }
        // rss.read, config.read, well_known.read, the other gubbins actions.
        _ => allow(c),
    }
}

// =========================================================== the bundle

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn policy() -> &'static PolicySet {
    static POLICY: OnceLock<PolicySet> = OnceLock::new();
    POLICY.get_or_init(|| {
        PolicySet::from_file(root().join("policies/diracx.pcl"))
            .unwrap_or_else(|e| panic!("{}", e.summary()))
    })
}

/// What the engine answered.
#[derive(Debug)]
struct Got {
    /// `None` when the request or data could not even be read.
    outcome: Option<Outcome>,
    reason: String,
    error: Option<String>,
    validates: bool,
}

fn engine(request: &Value, data: &Value) -> Got {
    let refused = |why: String| Got {
        outcome: None,
        reason: why,
        error: None,
        validates: false,
    };
    let request = match Request::from_json(request) {
        Ok(r) => r,
        Err(e) => return refused(format!("request refused: {e}")),
    };
    let data = match Data::from_json(data) {
        Ok(d) => d,
        Err(e) => return refused(format!("data refused: {e}")),
    };
    let d = policy().decide(&request, &data);
    Got {
        outcome: Some(d.outcome),
        reason: d.reason.to_string(),
        error: d.error.as_ref().map(|e| e.code.code().to_string()),
        validates: policy().validate(&request, &data).is_ok(),
    }
}

/// A disagreement between the bundle and the model, with its class.
#[derive(Clone, Debug)]
struct Mismatch {
    class: String,
    detail: String,
}

/// Whether an integer anywhere in the value is beyond what an `i64` (and
/// so a lossless conversion) holds.
fn has_huge_int(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.is_u64() && !n.is_i64(),
        Value::Array(items) => items.iter().any(has_huge_int),
        Value::Object(m) => m.values().any(has_huge_int),
        _ => false,
    }
}

/// Every string anywhere inside a value.
fn all_strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(items) => items.iter().for_each(|i| all_strings(i, out)),
        Value::Object(m) => m.values().for_each(|i| all_strings(i, out)),
        _ => {}
    }
}

/// Whether some string looks like a UUID with upper-case hex digits.
fn has_upper_uuid(v: &Value) -> bool {
    let mut all = Vec::new();
    all_strings(v, &mut all);
    all.iter().any(|s| {
        s.len() == 36
            && s.char_indices().all(|(i, c)| {
                if matches!(i, 8 | 13 | 18 | 23) {
                    c == '-'
                } else {
                    c.is_ascii_hexdigit()
                }
            })
            && s.chars().any(|c| c.is_ascii_uppercase())
    })
}

/// The class a disagreement most likely belongs to. The engine classes are
/// known engine defects being fixed separately; anything else is a bundle
/// bug or a model bug to look at.
fn classify(request: &Value, data: &Value, want: &Expected, got: &Got) -> String {
    let action = request.get("action").and_then(Value::as_str).unwrap_or("");
    if !want.valid {
        let family = match want.violation.as_ref().map(|v| v.0) {
            Some(Violation::Null) => {
                "absent and null conflated (an explicit null accepted where the field is optional but not nullable)"
            }
            Some(Violation::Missing) => {
                "absent fields read as null (an absent required key is accepted)"
            }
            Some(Violation::Float) => {
                "lossy big integers and int/float comparison (a float accepted as an integer)"
            }
            _ => "unchecked contracts (no shape check on the request)",
        };
        let at = want
            .violation
            .as_ref()
            .and_then(|v| v.1.split(": ").next())
            .unwrap_or("?");
        return format!("{family}, at {at}");
    }
    if got.outcome.is_none() {
        return "the engine refuses to read a contract-valid request".into();
    }
    if !declared(action) && policy().actions().any(|a| a == action) {
        return "token/issuance action (declared by the policy, no request action of the spec) decided without a deciding statement".into();
    }
    if got.outcome == Some(Outcome::Allow) && !declared(action) {
        return "undeclared action allowed".into();
    }
    if has_huge_int(request) || has_huge_int(data) {
        return "lossy big integers and int/float comparison (integers beyond i64 compared as floats)".into();
    }
    if got.outcome == Some(want.outcome) && !got.validates {
        return "validate() refuses a contract-valid request".into();
    }
    if has_upper_uuid(request) {
        return "implicit UUID case-insensitive string comparison (strings compare exactly in this bundle)".into();
    }
    "bundle disagrees with the spec (or a model bug)".into()
}

/// The model's expectation, and the disagreement if the bundle differs.
fn check(request: &Value, data: &Value) -> (Expected, Option<Mismatch>) {
    let want = decide(request, data);
    let got = engine(request, data);
    let mut diffs = Vec::new();
    if want.valid {
        if got.outcome != Some(want.outcome) {
            diffs.push(format!(
                "outcome: spec {}, bundle {:?}",
                want.outcome,
                got.outcome.map(|o| o.as_str())
            ));
        }
        if let Some(reason) = &want.reason {
            if !got.reason.contains(reason.as_str()) {
                diffs.push(format!(
                    "reason: spec wants {reason:?}, bundle says {:?}",
                    got.reason
                ));
            }
        }
        let action = request.get("action").and_then(Value::as_str).unwrap_or("");
        // validate() agrees with decide(): the public action, whose request
        // nothing reads, validates whatever it carries.
        if diffs.is_empty() && !got.validates && declared(action) {
            diffs.push("validate() refuses it".into());
        }
    } else if got.outcome == Some(Outcome::Allow) {
        diffs.push(format!(
            "allowed a contract-invalid request ({})",
            want.violation.as_ref().map_or("?", |v| v.1.as_str())
        ));
    }
    if diffs.is_empty() {
        return (want, None);
    }
    let class = classify(request, data, &want, &got);
    let detail = format!(
        "{}; bundle reason {:?}{}",
        diffs.join("; "),
        got.reason,
        got.error
            .as_ref()
            .map_or(String::new(), |e| format!(" (error {e})"))
    );
    (want, Some(Mismatch { class, detail }))
}

// ============================================================ generators

/// A value nested in `depth` one-element arrays.
fn nest(depth: usize, leaf: Value) -> Value {
    (0..depth).fold(leaf, |v, _| Value::Array(vec![v]))
}

/// A key's value, or absent (`None`) now and then.
fn field(s: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![60 => s.prop_map(Some), 1 => Just(None)].boxed()
}

/// An optional parameter: absent, `null`, or a value.
fn param_value(s: BoxedStrategy<Value>, absent: u32) -> BoxedStrategy<Option<Value>> {
    prop_oneof![absent => Just(None), 1 => Just(Some(Value::Null)), 8 => s.prop_map(Some)].boxed()
}

/// An object of the keys whose value is not `None`.
fn obj(fields: Vec<(&str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

/// A string from a weighted pool, or now and then a wrong type.
fn text(pool: Vec<(u32, &'static str)>) -> BoxedStrategy<Value> {
    let total: u32 = pool.iter().map(|p| p.0).sum();
    let weighted: Vec<&'static str> = pool
        .iter()
        .flat_map(|(w, s)| std::iter::repeat_n(*s, *w as usize))
        .collect();
    prop_oneof![
        total * 20 => select(weighted).prop_map(|s| json!(s)),
        1 => select(vec![json!(5), json!(5.0), Value::Null, json!(["alice"]), json!({ "name": "alice" }), json!(true)]),
    ]
    .boxed()
}

/// A user name that looks like a UUID, in both cases.
const UUID_NAME: &str = "5f0c3a2e-0000-4000-8000-00000000000a";
const UUID_NAME_UPPER: &str = "5F0C3A2E-0000-4000-8000-00000000000A";
/// A pilot stamp that looks like a UUID, in both cases.
const UUID_STAMP: &str = "0e8a1f2c-0000-4000-8000-00000000000b";
const UUID_STAMP_UPPER: &str = "0E8A1F2C-0000-4000-8000-00000000000B";

fn usernames() -> Vec<(u32, &'static str)> {
    vec![
        (8, "alice"),
        (2, "bob"),
        (1, "carol"),
        (1, "pilot"),
        (1, "Alice"),
        (1, "alice "),
        (1, ""),
        // Names compare exactly: no digit leniency, no UUID case folding.
        (1, "007"),
        (1, "7"),
        (1, UUID_NAME),
        (1, UUID_NAME_UPPER),
    ]
}

fn groups() -> Vec<(u32, &'static str)> {
    vec![
        (6, "lhcb_user"),
        (2, "lhcb_prod"),
        (1, "lhcb_admin"),
        (1, "gridpp_user"),
        (1, "LHCB_USER"),
    ]
}

fn vos() -> Vec<(u32, &'static str)> {
    vec![(8, "lhcb"), (2, "gridpp"), (1, "LHCb"), (1, " lhcb")]
}

fn property() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => Just(json!("NormalUser")),
        2 => Just(json!("JobAdministrator")),
        2 => Just(json!("GenericPilot")),
        2 => Just(json!("ServiceAdministrator")),
        1 => Just(json!("GubbinsSensei")),
        1 => select(vec!["normaluser", "NormalUser ", "NORMALUSER", "*", "", "JobAdmin", "Normal_User"]).prop_map(|s| json!(s)),
    ]
    .boxed()
}

fn properties() -> BoxedStrategy<Option<Value>> {
    // Mostly the property sets of real groups, so every policy's paths are
    // reached; then random sets and malformed ones.
    let profile = |props: &[&str]| Some(json!(props));
    prop_oneof![
        10 => Just(profile(&["NormalUser"])),
        3 => Just(profile(&["JobAdministrator"])),
        2 => Just(profile(&["NormalUser", "JobAdministrator"])),
        4 => Just(profile(&["GenericPilot"])),
        3 => Just(profile(&["ServiceAdministrator"])),
        1 => Just(profile(&["ServiceAdministrator", "GenericPilot"])),
        3 => Just(profile(&["NormalUser", "GubbinsSensei"])),
        1 => Just(profile(&[])),
        2 => Just(None),
        12 => vec(property(), 0..3).prop_map(|v| Some(Value::Array(v))),
        1 => select(vec![
            Value::Null,
            json!("NormalUser"),
            json!([["NormalUser"]]),
            json!([["NormalUser", "JobAdministrator"]]),
            json!(["NormalUser", 1]),
            json!([nest(70, json!("JobAdministrator"))]),
            json!({ "NormalUser": true }),
        ])
        .prop_map(Some),
    ]
    .boxed()
}

/// The `principal` key: `None` is absent (anonymous, like `null`).
fn principal() -> BoxedStrategy<Option<Value>> {
    let sub = prop_oneof![
        20 => Just(Some(json!("lhcb:alice-sub"))),
        1 => Just(None),
        1 => select(vec![json!(5), Value::Null]).prop_map(Some),
    ];
    let policies = prop_oneof![
        3 => Just(None),
        3 => Just(Some(json!({}))),
        1 => Just(Some(json!({ "wms": { "PolicySpecific": "OpenAccessForTest" } }))),
        1 => select(vec![json!("x"), json!([]), Value::Null]).prop_map(Some),
    ];
    let user = (
        sub,
        field(text(usernames())),
        field(text(groups())),
        field(text(vos())),
        properties(),
        policies,
    )
        .prop_map(|(sub, name, group, vo, props, policies)| {
            obj(vec![
                ("sub", sub),
                ("preferred_username", name),
                ("dirac_group", group),
                ("vo", vo),
                ("properties", props),
                ("policies", policies),
            ])
        });
    prop_oneof![
        3 => Just(Some(Value::Null)),
        1 => Just(None),
        30 => user.prop_map(Some),
        1 => select(vec![json!({}), json!("alice"), json!([]), json!(7)]).prop_map(Some),
    ]
    .boxed()
}

/// Job ids: small ones that exist, ones that do not, and numbers near the
/// limits of exact float and `i64` arithmetic.
fn job_id() -> BoxedStrategy<Value> {
    prop_oneof![
        40 => (1..=6_i64).prop_map(|i| json!(i)),
        4 => select(vec![
            json!(99),
            json!(0),
            json!(-1),
            json!(9_007_199_254_740_992_i64),
            json!(9_007_199_254_740_993_i64),
            json!(18_446_744_073_709_551_615_u64),
            json!(18_446_744_073_709_551_614_u64),
            json!(i64::MAX),
            json!(i64::MIN),
        ]),
        1 => select(vec![
            json!("2"),
            json!(2.0),
            json!(7.0),
            json!(1.0),
            json!(true),
            json!({ "id": 2 }),
            json!([1]),
            Value::Null,
            json!(1e300),
            json!(9_007_199_254_740_992.0),
            json!(1.8446744073709552e19),
        ]),
    ]
    .boxed()
}

fn job_ids() -> BoxedStrategy<Value> {
    prop_oneof![
        6 => Just(json!([])),
        40 => vec(job_id(), 1..4).prop_map(Value::Array),
        1 => select(vec![json!("1"), json!(1), json!({ "1": true }), json!([[1, 2]]), nest(70, json!(1))]),
    ]
    .boxed()
}

/// The PFNs the data knows (`/S3/<bucket>/<vo>/<group>/<user>/...`).
const PFNS: [&str; 10] = [
    "/S3/sandboxes/lhcb/lhcb_user/alice/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/alice/sha256:bbbb.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_prod/alice/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_prod/alice/sha256:bbbb.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/bob/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/bob/sha256:bbbb.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/carol/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/gridpp/gridpp_user/alice/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/7/sha256:aaaa.tar.bz2",
    "/S3/sandboxes/lhcb/lhcb_user/5f0c3a2e-0000-4000-8000-00000000000a/sha256:aaaa.tar.bz2",
];

/// Sandbox owners the data may hold: `(owner, group, vo)`, owner id is the
/// index plus one.
const OWNERS: [(&str, &str, &str); 6] = [
    ("alice", "lhcb_user", "lhcb"),
    ("alice", "lhcb_prod", "lhcb"),
    ("bob", "lhcb_user", "lhcb"),
    ("alice", "gridpp_user", "gridpp"),
    ("7", "lhcb_user", "lhcb"),
    (UUID_NAME, "lhcb_user", "lhcb"),
];

fn pfn() -> BoxedStrategy<Value> {
    prop_oneof![
        12 => select(PFNS[..2].to_vec()).prop_map(|s| json!(s)),
        12 => select(PFNS.to_vec()).prop_map(|s| json!(s)),
        1 => select(vec![
            "/s3/sandboxes/lhcb/lhcb_user/alice/sha256:aaaa.tar.bz2",
            "ProductionSEName|/S3/sandboxes/lhcb/lhcb_user/alice/sha256:aaaa.tar.bz2",
            "/S3/sandboxes/lhcb/lhcb_user/alice/../bob/sha256:aaaa.tar.bz2",
            "/S3/sandboxes/lhcb/lhcb_user/alice",
            "/S3/sandboxes/lhcb/lhcb_user/007/sha256:aaaa.tar.bz2",
            "/S3/sandboxes/lhcb/lhcb_user/5F0C3A2E-0000-4000-8000-00000000000A/sha256:aaaa.tar.bz2",
            "",
        ])
        .prop_map(|s| json!(s)),
        1 => select(vec![json!(5), Value::Null, json!(["/S3"]), json!({ "pfn": PFNS[0] })]),
    ]
    .boxed()
}

fn pfns() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => Just(json!([])),
        24 => vec(pfn(), 1..3).prop_map(Value::Array),
        1 => select(vec![json!(PFNS[0]), json!([[PFNS[0]]]), json!(5)]),
    ]
    .boxed()
}

fn stamp() -> BoxedStrategy<Value> {
    prop_oneof![
        30 => select(vec!["stamp-a", "stamp-a", "stamp-b", "stamp-g", "nope", "Stamp-a", "", UUID_STAMP, UUID_STAMP_UPPER, "7", "007"])
            .prop_map(|s| json!(s)),
        1 => select(vec![json!(5), Value::Null, json!(["stamp-a"])]),
    ]
    .boxed()
}

fn pilot_stamps() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => Just(json!([])),
        20 => vec(stamp(), 1..3).prop_map(Value::Array),
        1 => select(vec![json!("stamp-a"), json!([["stamp-a"]]), json!({})]),
    ]
    .boxed()
}

fn resource() -> BoxedStrategy<Option<Value>> {
    let r = (
        param_value(job_ids(), 4),
        param_value(pfns(), 3),
        param_value(pilot_stamps(), 3),
        param_value(text(vos()), 6),
    )
        .prop_map(|(j, f, s, v)| {
            obj(vec![
                ("job_ids", j),
                ("pfns", f),
                ("pilot_stamps", s),
                ("target_vo", v),
            ])
        });
    prop_oneof![
        2 => Just(Some(Value::Null)),
        1 => Just(None),
        30 => r.prop_map(Some),
        1 => select(vec![json!("x"), json!([]), json!(5), json!([{ "job_ids": [1] }])]).prop_map(Some),
    ]
    .boxed()
}

fn context() -> BoxedStrategy<Option<Value>> {
    let prefix = text(vec![
        (8, "/S3/sandboxes/lhcb/lhcb_user/alice/"),
        (2, "/S3/sandboxes/lhcb/lhcb_prod/alice/"),
        (2, "/S3/sandboxes/lhcb/lhcb_user/bob/"),
        (1, "/S3/sandboxes/"),
        (1, ""),
        (1, "/s3/sandboxes/lhcb/lhcb_user/alice/"),
        (1, "/S3/sandboxes/lhcb/lhcb_user/7/"),
        (1, "/S3/sandboxes/lhcb/lhcb_user/007/"),
        (
            1,
            "/S3/sandboxes/lhcb/lhcb_user/5f0c3a2e-0000-4000-8000-00000000000a/",
        ),
        (
            1,
            "/S3/sandboxes/lhcb/lhcb_user/5F0C3A2E-0000-4000-8000-00000000000A/",
        ),
    ]);
    let se = text(vec![
        (8, "ProductionSEName"),
        (2, "OtherSE"),
        (1, "productionsename"),
    ]);
    let legacy = prop_oneof![
        20 => any::<bool>().prop_map(|b| json!(b)),
        1 => select(vec![json!("true"), json!(1), json!([true])]),
    ];
    let x = (
        param_value(prefix, 2),
        param_value(se, 2),
        param_value(legacy.boxed(), 3),
    )
        .prop_map(|(p, s, l)| {
            obj(vec![
                ("required_prefix", p),
                ("se_name", s),
                ("allow_legacy_pilots", l),
            ])
        });
    prop_oneof![
        2 => Just(Some(Value::Null)),
        1 => Just(None),
        2 => Just(Some(json!({}))),
        20 => x.prop_map(Some),
    ]
    .boxed()
}

/// The job ids the data may hold; the big ones sit next to ids requests
/// use, one float rounding apart.
const DATA_JOB_IDS: [i128; 9] = [
    1,
    2,
    3,
    4,
    5,
    6,
    9_007_199_254_740_992,
    18_446_744_073_709_551_614,
    i64::MAX as i128,
];

fn int_json(i: i128) -> Value {
    match (i64::try_from(i), u64::try_from(i)) {
        (Ok(i), _) => json!(i),
        (_, Ok(u)) => json!(u),
        _ => Value::Null,
    }
}

fn data() -> BoxedStrategy<Value> {
    let owner = select(vec![
        "alice", "alice", "alice", "alice", "bob", "carol", "7", UUID_NAME,
    ]);
    let group = select(vec!["lhcb_user", "lhcb_user", "lhcb_prod", "gridpp_user"]);
    let vo = select(vec!["lhcb", "lhcb", "lhcb", "gridpp"]);
    let job = prop::option::weighted(0.8, (owner.clone(), group.clone(), vo.clone()));
    // The big ids are rare: an engine that cannot read them refuses the
    // whole data, which would hide every other disagreement.
    let big = prop::option::weighted(0.05, (owner, group, vo));
    let small_count = DATA_JOB_IDS.iter().filter(|i| **i < 100).count();
    let jobs = (vec(job, small_count), vec(big, DATA_JOB_IDS.len() - small_count)).prop_map(|(small, big)| {
        let rows: Vec<Value> = small
            .into_iter()
            .chain(big)
            .zip(DATA_JOB_IDS)
            .filter_map(|(row, id)| {
                row.map(|(o, g, v)| json!({ "job_id": int_json(id), "owner": o, "owner_group": g, "vo": v }))
            })
            .collect();
        Value::Array(rows)
    });
    let owners = vec(prop::bool::weighted(0.85), OWNERS.len()).prop_map(|present| {
        let rows: Vec<Value> = OWNERS
            .iter()
            .zip(present)
            .enumerate()
            .filter(|(_, (_, p))| *p)
            .map(|(i, ((o, g, v), _))| json!({ "owner_id": i + 1, "owner": o, "owner_group": g, "vo": v }))
            .collect();
        Value::Array(rows)
    });
    // Each (storage element, PFN) row, with mostly the owner id its path
    // names, else any id (5 is nobody).
    let sandbox = prop::option::weighted(
        0.75,
        prop_oneof![4 => Just(None), 1 => (1..=5_usize).prop_map(Some)],
    );
    let sandboxes = vec(sandbox, PFNS.len() * 2).prop_map(|rows| {
        let mut out = Vec::new();
        for (i, row) in rows.into_iter().enumerate() {
            let Some(id) = row else { continue };
            let se = if i < PFNS.len() {
                "ProductionSEName"
            } else {
                "OtherSE"
            };
            let pfn = PFNS[i % PFNS.len()];
            let natural = OWNERS
                .iter()
                .position(|(o, g, v)| pfn.starts_with(&format!("/S3/sandboxes/{v}/{g}/{o}/")))
                .map_or(5, |i| i + 1);
            out.push(json!({ "se_name": se, "pfn": pfn, "owner_id": id.unwrap_or(natural) }));
        }
        Value::Array(out)
    });
    let stamps = ["stamp-a", "stamp-b", "stamp-g", "stamp-x", UUID_STAMP, "7"];
    let pilots = vec(
        prop::option::weighted(0.8, select(vec!["lhcb", "lhcb", "gridpp"])),
        stamps.len(),
    )
    .prop_map(move |rows| {
        let rows: Vec<Value> = rows
            .into_iter()
            .zip(stamps)
            .filter_map(|(vo, s)| vo.map(|vo| json!({ "pilot_stamp": s, "vo": vo })))
            .collect();
        Value::Array(rows)
    });
    let table = |s: BoxedStrategy<Value>| prop_oneof![12 => s.prop_map(Some), 1 => Just(None)];
    (
        table(jobs.boxed()),
        table(owners.boxed()),
        table(sandboxes.boxed()),
        table(pilots.boxed()),
    )
        .prop_map(|(j, o, s, p)| {
            obj(vec![
                ("jobs", j),
                ("sandbox_owners", o),
                ("sandboxes", s),
                ("pilots", p),
            ])
        })
        .boxed()
}

/// Action names: the spec's, the ones the policy declares beyond them (so
/// issuance or helper actions are exercised), and near misses.
fn other_actions() -> Vec<String> {
    let mut extra: Vec<String> = policy()
        .actions()
        .filter(|a| !declared(a))
        .map(String::from)
        .collect();
    extra.extend(
        [
            "wms.delete",
            "sandbox.query",
            "read",
            "jobs.delete",
            "WMS.read",
            "wms.Read",
            "wms.read ",
            "wms.*",
            "*",
            "",
            "wms",
            "pilot.manage",
            "lollygag.delete",
            "well_known",
            "config.write",
            "gubbins.lollygag.read",
        ]
        .map(String::from),
    );
    extra
}

fn request() -> BoxedStrategy<(Value, Value)> {
    let action = prop_oneof![
        14 => select(ACTIONS[..5].to_vec()),
        12 => select(ACTIONS[5..8].to_vec()),
        10 => select(ACTIONS[8..10].to_vec()),
        5 => select(ACTIONS[10..].to_vec()),
    ]
    .prop_map(String::from);
    let action = prop_oneof![12 => action, 2 => select(other_actions())];
    let req = (principal(), action, resource(), context()).prop_map(|(p, a, r, c)| {
        obj(vec![
            ("principal", p),
            ("action", Some(json!(a))),
            ("resource", r),
            ("context", c),
        ])
    });
    (req, data()).boxed()
}

// ================================================================ runner

/// A class of disagreement, with the smallest shrunk example seen.
struct Found {
    count: usize,
    request: Value,
    data: Value,
    want: Expected,
    detail: String,
}

fn size(v: &Value) -> usize {
    v.to_string().len()
}

/// A step into a JSON value.
enum Step {
    Key(String),
    Index(usize),
}

/// The paths of every node below the root, outermost first.
fn node_paths(v: &Value) -> Vec<Vec<Step>> {
    fn walk(
        v: &Value,
        at: &mut Vec<(bool, String, usize)>,
        out: &mut Vec<Vec<(bool, String, usize)>>,
    ) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    at.push((true, k.clone(), 0));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    at.push((false, String::new(), i));
                    out.push(at.clone());
                    walk(child, at, out);
                    at.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out.sort_by_key(Vec::len);
    out.into_iter()
        .map(|p| {
            p.into_iter()
                .map(|(key, k, i)| if key { Step::Key(k) } else { Step::Index(i) })
                .collect()
        })
        .collect()
}

/// The value with the node at `path` removed (a key or a list element).
fn without(v: &Value, path: &[Step]) -> Value {
    let mut out = v.clone();
    let mut node = &mut out;
    let Some((last, init)) = path.split_last() else {
        return out;
    };
    for step in init {
        node = match step {
            Step::Key(k) => &mut node[k.as_str()],
            Step::Index(i) => &mut node[*i],
        };
    }
    match (last, node) {
        (Step::Key(k), Value::Object(m)) => {
            m.remove(k);
        }
        (Step::Index(i), Value::Array(items)) => {
            items.remove(*i);
        }
        _ => {}
    }
    out
}

/// Greedy JSON-level minimisation after proptest's own shrinking: drop
/// keys and list elements (of the request and the data) while the
/// disagreement stays in the same class.
fn minimise(best: &mut (Value, Value, Expected, String), class: &str) {
    let mut budget = 300;
    'again: while budget > 0 {
        let pair = json!([best.0, best.1]);
        for path in node_paths(&pair) {
            if path.len() < 2 || matches!(path.get(1), Some(Step::Key(k)) if k == "action") {
                continue;
            }
            if budget == 0 {
                break 'again;
            }
            budget -= 1;
            let smaller = without(&pair, &path);
            let (r, d) = (smaller[0].clone(), smaller[1].clone());
            if let (w, Some(m)) = check(&r, &d) {
                if m.class == class {
                    *best = (r, d, w, m.detail);
                    continue 'again;
                }
            }
        }
        break;
    }
}

/// Runs `cases` generated requests through model and bundle; returns the
/// disagreements per class and the model's outcome counts on valid
/// requests, plus the number of invalid ones.
fn survey(cases: u32) -> (BTreeMap<String, Found>, BTreeMap<&'static str, usize>) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let strategy = request();
    let mut found: BTreeMap<String, Found> = BTreeMap::new();
    let mut tally: BTreeMap<&'static str, usize> = BTreeMap::new();
    for _ in 0..cases {
        let mut tree = strategy.new_tree(&mut runner).unwrap();
        let (request, data) = tree.current();
        let (want, mismatch) = check(&request, &data);
        let key = if want.valid {
            want.outcome.as_str()
        } else {
            "invalid"
        };
        *tally.entry(key).or_default() += 1;
        let Some(first) = mismatch else { continue };
        let class = first.class.clone();
        let seen = found.get(&class).map_or(0, |f| f.count);
        let mut best = (request, data, want, first.detail);
        // Shrink the first few of each class as proptest does: simplify
        // while it still fails the same way, step back when it does not.
        let mut budget = if seen < SHRINKS { 200 } else { 0 };
        if budget > 0 && tree.simplify() {
            while budget > 0 {
                budget -= 1;
                let (r, d) = tree.current();
                match check(&r, &d) {
                    (w, Some(m)) if m.class == class => {
                        best = (r, d, w, m.detail);
                        if !tree.simplify() {
                            break;
                        }
                    }
                    _ => {
                        if !tree.complicate() {
                            break;
                        }
                    }
                }
            }
        }
        if seen < SHRINKS {
            minimise(&mut best, &class);
        }
        let entry = found.entry(class).or_insert_with(|| Found {
            count: 0,
            request: best.0.clone(),
            data: best.1.clone(),
            want: best.2.clone(),
            detail: best.3.clone(),
        });
        entry.count += 1;
        if size(&best.0) + size(&best.1) < size(&entry.request) + size(&entry.data) {
            entry.request = best.0;
            entry.data = best.1;
            entry.want = best.2;
            entry.detail = best.3;
        }
    }
    (found, tally)
}

/// Several thousand requests in a debug build.
const CASES: u32 = 6000;
/// How many examples of each class are shrunk.
const SHRINKS: usize = 2;

#[test]
fn bundle_agrees_with_the_model_on_generated_requests() {
    let (found, tally) = survey(CASES);
    eprintln!("diracx: model outcomes over {CASES} generated requests: {tally:?}");
    let mut report = String::new();
    // The generators must reach every outcome, and both sides of the
    // contract, often enough that the comparison means something.
    let share = |k: &str| tally.get(k).copied().unwrap_or(0) * 100 / CASES as usize;
    for (outcome, low, high) in [
        ("allow", 15, 100),
        ("deny", 15, 100),
        ("unauthenticated", 5, 100),
        ("invalid", 10, 45),
    ] {
        if !(low..=high).contains(&share(outcome)) {
            report.push_str(&format!(
                "\n[generators] {outcome}: {}%, want {low}% to {high}%\n",
                share(outcome)
            ));
        }
    }
    for (class, f) in &found {
        report.push_str(&format!(
            "\n[{class}] {} of {CASES} requests; smallest:\n  request: {}\n  data: {}\n  spec: {} (valid: {}{})\n  {}\n",
            f.count,
            f.request,
            f.data,
            f.want.outcome,
            f.want.valid,
            f.want.violation.as_ref().map_or(String::new(), |v| format!(", {}", v.1)),
            f.detail
        ));
    }
    assert!(
        report.is_empty(),
        "diracx disagrees with its spec model ({tally:?}):{report}"
    );
}

// =========================================================== case files

fn cases_agree(path: &str) {
    let text = std::fs::read_to_string(root().join(path)).unwrap();
    let file: Value = serde_json::from_str(&text).unwrap();
    let base = file
        .get("data")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let mut failures = Vec::new();
    let cases = file["cases"].as_array().unwrap();
    assert!(!cases.is_empty());
    for case in cases {
        let mut data = base.clone();
        if let Some(own) = case.get("data").and_then(Value::as_object) {
            for (k, v) in own {
                data.insert(k.clone(), v.clone());
            }
        }
        let want = decide(&case["request"], &Value::Object(data));
        let expect = &case["expect"];
        let name = case["name"].as_str().unwrap_or("?");
        let mut diffs = Vec::new();
        if !want.valid {
            diffs.push(format!(
                "model finds it contract-invalid: {:?}",
                want.violation
            ));
        }
        if expect["decision"].as_str() != Some(want.outcome.as_str()) {
            diffs.push(format!(
                "model says {}, case says {}",
                want.outcome, expect["decision"]
            ));
        }
        if let Some(reason) = expect.get("reason").and_then(Value::as_str) {
            if !want.reason.as_deref().is_some_and(|r| r.contains(reason)) {
                diffs.push(format!("model reason {:?} lacks {reason:?}", want.reason));
            }
        }
        if !diffs.is_empty() {
            failures.push(format!("{name}: {}", diffs.join("; ")));
        }
    }
    assert!(failures.is_empty(), "{path}:\n{}", failures.join("\n"));
}

#[test]
fn model_agrees_with_the_shared_conformance_cases() {
    cases_agree("tests/conformance/diracx.json");
}

#[test]
fn model_agrees_with_the_bundle_edge_cases() {
    cases_agree("tests/bundles/diracx.json");
}

#[test]
fn model_reads_integers_exactly() {
    assert_eq!(
        int(&json!(18_446_744_073_709_551_615_u64)),
        Some(18_446_744_073_709_551_615)
    );
    assert_ne!(
        int(&json!(9_007_199_254_740_993_i64)),
        int(&json!(9_007_199_254_740_992_i64))
    );
    assert_eq!(int(&json!(7.0)), None);
    assert_eq!(int(&json!("7")), None);
}
