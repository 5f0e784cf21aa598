//! Differential test of the `rs-server` bundle against a reference model.
//!
//! The model below is written from the bundle's spec
//! (`../shared/spec/bundles/rs-server.md`), not from
//! `policies/rs-server.pcl`. It decides plain `serde_json` requests and says
//! whether each request is inside the bundle's request contract.
//! Properties: on every contract-valid request the bundle's decision equals
//! the model's (outcome, the action named in an unknown action's reason, no
//! filters and no resolved principal); on every contract-invalid request the
//! bundle never allows. The model is itself checked against the shared
//! conformance cases and the bundle's edge cases.

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
use serde_json::{json, Value};
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

const ACTIONS: [&str; 3] = ["read", "write", "download"];

/// Past this nesting the engine refuses request JSON (`max_value_depth`,
/// docs/robustness.md); such requests are outside every contract. The
/// generators stay well below it or well above it.
const MAX_DEPTH: usize = 120;

fn strings(v: Option<&Value>) -> Option<Vec<&str>> {
    v?.as_array()?.iter().map(Value::as_str).collect()
}

/// An optional boolean: absent is `default`; anything but a boolean
/// (including `null`) is outside the contract.
fn optional_bool(v: Option<&Value>, default: bool) -> Option<bool> {
    match v {
        None => Some(default),
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => None,
    }
}

/// A catalog role `(owner, collection, action)`, read as the spec's
/// anchored pattern `^rs_catalog_(.*):(.+)_(read|write|download)$` with `.`
/// not matching a line feed: the owner extends to the last `:` of the body
/// that leaves a non-empty collection.
fn catalog_role(role: &str) -> Option<(&str, &str, &str)> {
    if role.contains('\n') {
        return None;
    }
    let body = role.strip_prefix("rs_catalog_")?;
    let (body, action) = ACTIONS.iter().find_map(|a| {
        body.strip_suffix(a)
            .and_then(|b| b.strip_suffix('_'))
            .map(|b| (b, *a))
    })?;
    let colon = body
        .char_indices()
        .filter(|&(i, c)| c == ':' && i + 1 < body.len())
        .map(|(i, _)| i)
        .next_back()?;
    Some((&body[..colon], &body[colon + 1..], action))
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
    if depth(request) > MAX_DEPTH {
        return Expected::invalid("contract: request nested past the engine's value depth");
    }
    if !exact_numbers(request) || !exact_numbers(data) {
        return Expected::invalid("contract: a number that cannot be held exactly");
    }
    let caller = match principal {
        Value::Null => None,
        Value::Object(p) => {
            let Some(Value::String(login)) = p.get("login") else {
                return Expected::invalid("contract: principal.login is not a string");
            };
            let Some(roles) = strings(p.get("roles")) else {
                return Expected::invalid("contract: principal.roles is not an array of strings");
            };
            Some((login.as_str(), roles))
        }
        _ => return Expected::invalid("contract: principal is neither an object nor null"),
    };
    let Some(Value::String(owner)) = resource.get("owner") else {
        return Expected::invalid("contract: resource.owner is not a string");
    };
    if !context.is_object() {
        return Expected::invalid("contract: context is not an object");
    }
    let Some(collections) = strings(context.get("collections")) else {
        return Expected::invalid("contract: context.collections is not an array of strings");
    };
    let Some(owner_prefix) = optional_bool(context.get("owner_prefix"), false) else {
        return Expected::invalid(
            "contract: context.owner_prefix is present but not a boolean (null is not absent)",
        );
    };
    if !data.is_object() {
        return Expected::invalid("contract: data is not an object");
    }
    let Some(local_mode) = optional_bool(data.get("local_mode"), false) else {
        return Expected::invalid(
            "contract: data.local_mode is present but not a boolean (null is not absent)",
        );
    };
    let action = action.as_str();
    // Rule 1: the closed action set, before local mode and the owner.
    if !ACTIONS.contains(&action) {
        return Expected::deny("rule 1: unknown action", Some(action.to_string()));
    }
    if local_mode {
        return Expected::allow("rule 2: local mode");
    }
    let Some((login, roles)) = caller else {
        return Expected::unauthenticated("rule 3: no caller");
    };
    if login == owner {
        return Expected::allow("rule 4: owner");
    }
    let prefix = format!("{owner}_");
    let granted = |id: &str| {
        let id = if owner_prefix {
            id.strip_prefix(prefix.as_str()).unwrap_or(id)
        } else {
            id
        };
        roles
            .iter()
            .filter_map(|r| catalog_role(r))
            .any(|(o, c, a)| (c == "*" || c == id) && (o == "*" || o == owner) && a == action)
    };
    if collections.iter().all(|id| granted(id)) {
        if collections.is_empty() {
            Expected::allow("rule 6: no collection asked")
        } else {
            Expected::allow("rule 6: every collection granted")
        }
    } else {
        Expected::deny("rule 5: a collection is not granted", None)
    }
}

// ============================================================== the bundle

fn policy() -> &'static PolicySet {
    static POLICY: OnceLock<PolicySet> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/rs-server.pcl");
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

/// Engine bug classes the lead is fixing that a request's text suggests
/// (its invalid clauses name their class themselves).
fn hints(class: &str, request: &Value, data: &Value) -> Vec<&'static str> {
    let text = format!("{request}{data}");
    let mut out = Vec::new();
    if class.contains("absent is not null") || class.contains("null is not") {
        out.push("absent fields reading as null");
    } else if class.starts_with("invalid request allowed") {
        out.push("unchecked contracts (`resource: any`, no shape checks below depth 64)");
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
    "rule 2: local mode",
    "rule 3: no caller",
    "rule 4: owner",
    "rule 5: a collection is not granted",
    "rule 6: no collection asked",
    "rule 6: every collection granted",
];

/// Case count: several thousand requests per `cargo test` run.
const CASES: u32 = 8000;

const LOGINS: &[&str] = &[
    "toto",
    "pyteam",
    "titi",
    "Toto",
    "",
    "toto ",
    "b0000000-0000-4000-8000-00000000000a",
];
const OWNERS: &[&str] = &[
    "toto",
    "titi",
    "my_team",
    "a:b",
    "*",
    "",
    "toto:S1",
    "Toto",
    "B0000000-0000-4000-8000-00000000000A",
    "b0000000-0000-4000-8000-00000000000a",
];
const COLLECTIONS: &[&str] = &[
    "S1",
    "S1_L1",
    "S2_L3",
    "toto_S1",
    "toto_S1_L1",
    "toto_",
    "toto",
    "titi_S1",
    "*",
    "",
    "S1:L1",
    "b:",
    "L1",
    "S1_read",
    "B0000000-0000-4000-8000-00000000000A",
    "b0000000-0000-4000-8000-00000000000a",
];

fn role() -> BoxedStrategy<String> {
    let prefix = prop_oneof![
        40 => Just("rs_catalog_"),
        1 => select(vec!["xrs_catalog_", "RS_CATALOG_", "rs_catalog", "rs_catalog__", " rs_catalog_"]),
    ];
    let owner = prop_oneof![
        8 => select(OWNERS),
        1 => select(vec!["to*", "*:x", "a:b:", "my_team:S1"]),
    ];
    let sep = prop_oneof![20 => Just(":"), 1 => select(vec!["_", "::", ""])];
    let collection = prop_oneof![
        8 => select(COLLECTIONS),
        1 => select(vec!["S1*", "*S1", "**", "S1_read_", "L1:"]),
    ];
    let suffix = prop_oneof![
        20 => select(vec!["_read", "_write", "_download"]),
        1 => select(vec!["_READ", "_readx", "_read ", "_read\n", "\n_read", "_read_write", "", "_delete", "read", "_read\r"]),
    ];
    prop_oneof![
        20 => (prefix, owner, sep, collection, suffix).prop_map(|(p, o, s, c, a)| format!("{p}{o}{s}{c}{a}")),
        1 => select(vec!["offline_access", "rs_adgs_read", "uma_authorization", "rs_catalog_toto:_read", "rs_catalog_:*_read", "rs_catalog_*:*_read"]).prop_map(String::from),
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

/// Wraps `v` in `levels` one-item arrays.
fn nest(v: Value, levels: usize) -> Value {
    (0..levels).fold(v, |v, _| json!([v]))
}

fn odd_value() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        Just(Some(json!(5))),
        Just(Some(json!(true))),
        Just(Some(json!(["toto"]))),
        Just(Some(json!({ "login": "toto" }))),
    ]
    .boxed()
}

fn principal() -> BoxedStrategy<Option<Value>> {
    let login = prop_oneof![60 => select(LOGINS).prop_map(|s| Some(json!(s))), 1 => odd_value()];
    let roles = prop_oneof![
        60 => prop::collection::vec(role(), 0..4).prop_map(|v| Some(json!(v))),
        1 => odd_value(),
        1 => role().prop_map(|r| Some(json!(r))),
        1 => role().prop_map(|r| Some(json!([r, 5]))),
        1 => role().prop_map(|r| Some(json!([[r]]))),
    ];
    let user = (login, roles).prop_map(|(l, r)| object(vec![("login", l), ("roles", r)]));
    prop_oneof![
        8 => Just(Some(Value::Null)),
        50 => user.prop_map(Some),
        1 => prop_oneof![Just(None), Just(Some(json!("toto")))],
    ]
    .boxed()
}

fn resource() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        60 => select(OWNERS).prop_map(|o| Some(json!({ "owner": o }))),
        1 => odd_value().prop_map(|o| Some(object(vec![("owner", o)]))),
        1 => prop_oneof![Just(None), Just(Some(Value::Null)), Just(Some(json!("toto")))],
    ]
    .boxed()
}

fn context() -> BoxedStrategy<Option<Value>> {
    let collections = prop_oneof![
        60 => prop::collection::vec(select(COLLECTIONS), 0..4).prop_map(|v| Some(json!(v))),
        1 => odd_value(),
        1 => Just(Some(json!("S1"))),
        1 => Just(Some(json!(["S1", 5]))),
        1 => select(vec![4usize, 60, 200]).prop_map(|n| Some(json!([nest(json!("S1"), n)]))),
    ];
    let owner_prefix = prop_oneof![
        8 => Just(None),
        4 => Just(Some(json!(false))),
        8 => Just(Some(json!(true))),
        1 => select(vec![json!(null), json!("true"), json!(1), json!([true])]).prop_map(Some),
    ];
    let extra = prop_oneof![9 => Just(None), 1 => Just(Some(json!({ "x": [1, 2] })))];
    prop_oneof![
        60 => (collections, owner_prefix, extra).prop_map(|(c, o, e)| Some(object(vec![
            ("collections", c),
            ("owner_prefix", o),
            ("extra", e)
        ]))),
        1 => prop_oneof![Just(None), Just(Some(Value::Null)), Just(Some(json!({})))],
    ]
    .boxed()
}

fn action() -> BoxedStrategy<String> {
    prop_oneof![
        20 => select(ACTIONS.to_vec()).prop_map(String::from),
        1 => select(vec!["delete", "DELETE", "list", "Read", "", "upload", "read ", "*"]).prop_map(String::from),
    ]
    .boxed()
}

fn data() -> BoxedStrategy<Value> {
    prop_oneof![
        8 => Just(json!({})),
        8 => Just(json!({ "local_mode": false })),
        2 => Just(json!({ "local_mode": true })),
        1 => select(vec![json!(null), json!("true"), json!(1), json!("false")]).prop_map(|v| json!({ "local_mode": v })),
    ]
    .boxed()
}

fn request_and_data() -> BoxedStrategy<(Value, Value)> {
    (
        principal(),
        action(),
        resource(),
        context(),
        0..80u8,
        data(),
    )
        .prop_map(|(p, a, r, c, twist, data)| {
            let mut req = object(vec![
                ("principal", p),
                ("action", Some(json!(a))),
                ("resource", r),
                ("context", c),
            ]);
            if twist == 1 {
                req["extra"] = json!(1);
            }
            (req, data)
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
        "the rs-server bundle disagrees with its spec model on {} classes (tally {tally:?}):\n{}",
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
    let conformance = model_against(&case_file("conformance/rs-server.json"), true);
    let edges = model_against(&case_file("bundles/rs-server.json"), false);
    assert!(
        conformance.is_empty() && edges.is_empty(),
        "model disagrees with cases:\nconformance:\n{}\nedges:\n{}",
        conformance.join("\n"),
        edges.join("\n")
    );
}

/// The spec's table of catalog roles, and rule 5's owner-prefix example.
#[test]
fn model_reads_the_spec_examples() {
    let table = [
        (
            "rs_catalog_toto:S1_L1_read",
            Some(("toto", "S1_L1", "read")),
        ),
        ("rs_catalog_*:*_download", Some(("*", "*", "download"))),
        (
            "rs_catalog_my_team:S1_write",
            Some(("my_team", "S1", "write")),
        ),
        (
            "rs_catalog_toto:S1:L1_read",
            Some(("toto:S1", "L1", "read")),
        ),
        ("rs_catalog_a:b:_read", Some(("a", "b:", "read"))),
        (
            "rs_catalog_toto:S1_read_write",
            Some(("toto", "S1_read", "write")),
        ),
        (
            "rs_catalog_toto:S1_read_read",
            Some(("toto", "S1_read", "read")),
        ),
        ("rs_catalog_*:x:*_read", Some(("*:x", "*", "read"))),
        ("rs_catalog_:S1_read", Some(("", "S1", "read"))),
        ("rs_catalog_toto:_read", None),
        ("rs_catalog_toto_S1_read", None),
        ("rs_catalog_toto:S1_READ", None),
        ("rs_catalog_toto:S1_readx", None),
        ("rs_catalog_toto:S1_read ", None),
        ("xrs_catalog_toto:S1_read", None),
        ("RS_CATALOG_toto:S1_read", None),
        ("rs_catalog_toto:S1_read\n", None),
        ("rs_catalog_read", None),
        ("rs_catalog_:_read", None),
        ("rs_catalog_::_read", Some(("", ":", "read"))),
    ];
    for (role, want) in table {
        assert_eq!(catalog_role(role), want, "{role:?}");
    }
    let req = json!({
        "principal": { "login": "pyteam", "roles": ["rs_catalog_toto:toto_S1_read"] },
        "action": "read",
        "resource": { "owner": "toto" },
        "context": { "collections": ["toto_toto_S1"], "owner_prefix": true }
    });
    assert_eq!(decide(&req, &json!({})).outcome, "allow");
    let mut null_prefix = req.clone();
    null_prefix["context"]["owner_prefix"] = Value::Null;
    assert!(!decide(&null_prefix, &json!({})).valid);
}
