//! Differential test of the `flask-rbac` bundle against a reference model.
//!
//! The model below is written from the bundle's spec
//! (`../shared/spec/bundles/flask-rbac.md`), not from
//! `policies/flask-rbac.pcl`. It decides plain `serde_json` requests and says
//! whether each request and its data are inside the bundle's contract.
//! Properties: on every contract-valid request the bundle's decision equals
//! the model's (outcome; the reason texts the spec fixes; on allow the exact
//! filters and the exact resolved subject); on every contract-invalid request
//! the bundle never allows. The model is itself checked against the shared
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
    /// On allow: the exact filters.
    filters: Option<Value>,
    /// On allow: the exact resolved subject.
    principal: Option<Value>,
    /// The spec rule (or, when invalid, the contract clause) that decided.
    rule: &'static str,
}

impl Expected {
    fn invalid(clause: &'static str) -> Self {
        Expected {
            valid: false,
            outcome: "deny",
            reason: None,
            filters: None,
            principal: None,
            rule: clause,
        }
    }
    fn refuse(outcome: &'static str, rule: &'static str, reason: Option<String>) -> Self {
        Expected {
            valid: true,
            outcome,
            reason,
            filters: None,
            principal: None,
            rule,
        }
    }
}

/// The shipped role configuration: role, object, permissions, filters
/// (column, subject attribute).
type Grant = (
    &'static str,
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);
const CONFIG: &[Grant] = &[
    (
        "operator",
        "products",
        &["list", "create", "update", "delete"],
        &[],
    ),
    (
        "operator",
        "accounts",
        &["list", "get", "create", "delete"],
        &[],
    ),
    ("admin", "products", &["list", "create", "update"], &[]),
    (
        "admin",
        "accounts",
        &["list", "get"],
        &[("id", "account_id")],
    ),
    (
        "member",
        "products",
        &["list"],
        &[("account_id", "account_id"), ("owner", "owner")],
    ),
    (
        "auditor",
        "billing.invoices",
        &["list", "get"],
        &[("account", "account_name"), ("created_by", "owner")],
    ),
    ("auditor", "accounts", &[], &[("id", "account_id")]),
];

/// Past this nesting the engine refuses request JSON (`max_value_depth`,
/// docs/robustness.md); such requests are outside every contract.
const MAX_DEPTH: usize = 120;

/// A JSON integer that Portcullis can hold exactly (64-bit signed); a
/// larger one is outside the contract (stricter reading of "int").
fn is_integer(v: &Value) -> bool {
    matches!(v, Value::Number(n) if n.is_i64())
}

/// The data contract: the account table, the operator group, the flag.
struct Config<'a> {
    accounts: &'a [Value],
    operator_group: &'a Map<String, Value>,
    use_operator_group: bool,
}

fn config(data: &Value) -> Result<Config<'_>, &'static str> {
    let accounts = data
        .get("accounts")
        .and_then(Value::as_array)
        .ok_or("contract: data.accounts is not an array")?;
    if !accounts
        .iter()
        .all(|a| a.get("id").is_some_and(is_integer) && a.get("name").is_some_and(Value::is_string))
    {
        return Err("contract: a data.accounts row is not { id: int, name: string }");
    }
    let operator_group = data
        .get("operator_group")
        .and_then(Value::as_object)
        .ok_or("contract: data.operator_group is not an object (null is not an empty group)")?;
    if !operator_group
        .values()
        .all(|v| v.as_array().is_some_and(|l| l.iter().all(Value::is_string)))
    {
        return Err("contract: data.operator_group maps a name to something but a list of strings");
    }
    // Optional with default `true`; `null` is not a boolean. (Stricter
    // reading: upstream's Python would read `None` as off, a default would
    // read it as on; the spec says boolean, so neither is decided.)
    let use_operator_group = match data.get("use_operator_group") {
        None => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(
            "contract: data.use_operator_group is present but not a boolean (null is not absent)",
        ),
    };
    Ok(Config {
        accounts,
        operator_group,
        use_operator_group,
    })
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
    if !principal.is_null() || !resource.is_null() {
        return Expected::invalid("contract: principal or resource is not null");
    }
    let Some(headers) = context.get("headers").and_then(Value::as_object) else {
        return Expected::invalid("contract: context.headers is not an object");
    };
    if !headers.values().all(Value::is_string) {
        return Expected::invalid("contract: a header value is not a string");
    }
    if headers.keys().any(|k| k.chars().any(char::is_uppercase)) {
        return Expected::invalid("contract: a header name is not lower case");
    }
    let cfg = match config(data) {
        Ok(c) => c,
        Err(clause) => return Expected::invalid(clause),
    };
    // A header that is absent or empty counts as missing.
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    // Rule 1.
    let Some(account_name) = header("x-auth-account") else {
        return Expected::refuse(
            "unauthenticated",
            "rule 1: no account header",
            Some("Account name is required in x-auth-account header.".into()),
        );
    };
    // Rule 2: exact name.
    let Some(account) = cfg
        .accounts
        .iter()
        .find(|a| a.get("name").and_then(Value::as_str) == Some(account_name))
    else {
        return Expected::refuse(
            "unauthenticated",
            "rule 2: unknown account",
            Some("Invalid auth parameters. Account name is not found.".into()),
        );
    };
    // Rule 3: absent is null, an empty value stays "".
    let owner = headers.get("x-auth-user").cloned().unwrap_or(Value::Null);
    // Rule 4.
    let Some(requested) = header("x-auth-role") else {
        return Expected::refuse(
            "unauthenticated",
            "rule 4: no role header",
            Some("Role name is required in x-auth-role header.".into()),
        );
    };
    // Rule 5.
    let granted = if cfg.use_operator_group {
        let is_operator = cfg
            .operator_group
            .get(account_name)
            .and_then(Value::as_array)
            .is_some_and(|l| l.iter().any(|r| r.as_str() == Some(requested)));
        if requested == "operator" && !is_operator {
            return Expected::refuse(
                "deny",
                "rule 5: not operator",
                Some("You are not operator".into()),
            );
        }
        if is_operator {
            "operator"
        } else {
            requested
        }
    } else {
        requested
    };
    // Rule 6.
    if !CONFIG.iter().any(|(role, ..)| *role == granted) {
        return Expected::refuse(
            "unauthenticated",
            "rule 6: unknown role",
            Some("Invalid auth parameters. Role name is not found.".into()),
        );
    }
    // Rule 7: split at the last `.`.
    let Some((object, permission)) = action.rsplit_once('.') else {
        return Expected::refuse("deny", "rule 7: action without a dot", None);
    };
    let Some((.., filters)) = CONFIG.iter().find(|(role, obj, perms, _)| {
        *role == granted && *obj == object && perms.contains(&permission)
    }) else {
        return Expected::refuse(
            "deny",
            "rule 7: permission not granted",
            Some(format!(
                "Access to {action} forbidden for role {}",
                granted.to_uppercase()
            )),
        );
    };
    // Rule 8.
    let subject = json!({
        "account_id": account["id"],
        "account_name": account_name,
        "role": granted,
        "owner": owner,
    });
    let filters: Map<String, Value> = filters
        .iter()
        .map(|(column, source)| (column.to_string(), subject[*source].clone()))
        .collect();
    Expected {
        valid: true,
        outcome: "allow",
        reason: None,
        filters: Some(Value::Object(filters)),
        principal: Some(subject),
        rule: "rule 8: allow",
    }
}

// ============================================================== the bundle

fn policy() -> &'static PolicySet {
    static POLICY: OnceLock<PolicySet> = OnceLock::new();
    POLICY.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/flask-rbac.pcl");
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
    if want.outcome == "allow" {
        if got.filters != want.filters {
            return Some(format!("valid request: filters of [{}] differ", want.rule));
        }
        if got.principal != want.principal {
            return Some(format!(
                "valid request: resolved principal of [{}] differs",
                want.rule
            ));
        }
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
    if ["9007199254740993", "18446744073709551615", ".0"]
        .iter()
        .any(|s| text.contains(s))
    {
        out.push("lossy big integers / int-float comparison through floats");
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
    "rule 1: no account header",
    "rule 2: unknown account",
    "rule 4: no role header",
    "rule 5: not operator",
    "rule 6: unknown role",
    "rule 7: action without a dot",
    "rule 7: permission not granted",
    "rule 8: allow",
];

/// Case count: several thousand requests per `cargo test` run.
const CASES: u32 = 8000;

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

/// A header: usually one of `good`, sometimes absent, empty or a near miss.
fn header(good: Vec<&'static str>, odd: Vec<&'static str>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        50 => select(good).prop_map(|s| Some(json!(s))),
        2 => Just(None),
        1 => Just(Some(json!(""))),
        3 => select(odd).prop_map(|s| Some(json!(s))),
    ]
    .boxed()
}

fn headers() -> BoxedStrategy<Value> {
    let account = header(
        vec!["valid_account", "devel", "ops"],
        vec![
            "Valid_Account",
            "valid_account ",
            "unknown",
            "ops\n",
            "DEVEL",
            "1",
            "B0000000-0000-4000-8000-00000000000A",
            "B0000000-0000-4000-8000-00000000000A",
            "B0000000-0000-4000-8000-00000000000A",
            "b0000000-0000-4000-8000-00000000000a",
        ],
    );
    let role = header(
        vec!["operator", "admin", "member", "auditor"],
        vec![
            "Admin",
            "superuser",
            "products",
            "admin ",
            "OPERATOR",
            "ADMIN",
            "root",
        ],
    );
    let user = prop_oneof![
        6 => select(vec!["owner", "bob", "alice"]).prop_map(|s| Some(json!(s))),
        3 => Just(None),
        1 => Just(Some(json!(""))),
    ];
    let extra = prop_oneof![
        30 => Just(None),
        4 => Just(Some(("x-request-id", json!("abc")))),
        2 => Just(Some(("authorization", json!("Bearer t")))),
        1 => select(vec![
            ("X-Auth-Role", json!("operator")),
            ("X-Auth-Account", json!("ops")),
            ("x-auth-role", json!(5)),
            ("x-auth-account", Value::Null),
            ("x-auth-user", json!(["owner"])),
            ("x-auth-user", Value::Null),
            ("x-deep", nest(json!("a"), 200)),
        ])
        .prop_map(Some),
    ];
    (account, role, user, extra)
        .prop_map(|(a, r, u, e)| {
            let mut h = object(vec![
                ("x-auth-account", a),
                ("x-auth-role", r),
                ("x-auth-user", u),
            ]);
            if let Some((k, v)) = e {
                h[k] = v;
            }
            h
        })
        .boxed()
}

fn action() -> BoxedStrategy<String> {
    let object = prop_oneof![
        12 => select(vec!["products", "accounts", "billing.invoices"]),
        1 => select(vec!["invoices", "billing", "widgets", "", "Products", "products ", "billing.invoices.get"]),
    ];
    let permission = prop_oneof![
        12 => select(vec!["list", "get", "create", "update", "delete"]),
        1 => select(vec!["copy", "", "List", "list "]),
    ];
    let granted = select(vec![
        "products.list",
        "products.list",
        "products.create",
        "products.update",
        "products.delete",
        "accounts.list",
        "accounts.get",
        "accounts.create",
        "accounts.delete",
        "billing.invoices.list",
        "billing.invoices.get",
    ]);
    prop_oneof![
        20 => granted.prop_map(String::from),
        20 => (object, permission).prop_map(|(o, p)| format!("{o}.{p}")),
        1 => select(vec!["products", "", "list", "accounts", "."]).prop_map(String::from),
    ]
    .boxed()
}

fn context() -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        60 => headers().prop_map(|h| Some(json!({ "headers": h }))),
        1 => prop_oneof![
            Just(None),
            Just(Some(Value::Null)),
            Just(Some(json!({}))),
            Just(Some(json!({ "headers": null }))),
            Just(Some(json!({ "headers": [["x-auth-account", "ops"]] }))),
        ],
    ]
    .boxed()
}

fn data() -> BoxedStrategy<Value> {
    let accounts = prop_oneof![
        40 => Just(json!([
            { "id": 1, "name": "valid_account" },
            { "id": 2, "name": "devel" },
            { "id": 3, "name": "ops" }
        ])),
        2 => Just(json!([
            { "id": 9_007_199_254_740_993_i64, "name": "valid_account" },
            { "id": u64::MAX, "name": "devel" },
            { "id": 0, "name": "ops" }
        ])),
        1 => Just(json!([{ "id": 1, "name": "valid_account" }])),
        1 => Just(json!([{ "id": 1, "name": "valid_account" }, { "id": 2, "name": "devel" }])),
        6 => Just(json!([
            { "id": 1, "name": "valid_account" },
            { "id": 4, "name": "b0000000-0000-4000-8000-00000000000a" }
        ])),
        1 => select(vec![
            json!([{ "id": "1", "name": "valid_account" }]),
            json!([{ "id": 1.0, "name": "valid_account" }]),
            json!(null),
        ]),
    ];
    let group = prop_oneof![
        30 => Just(Some(json!({ "devel": ["admin"], "ops": ["operator"] }))),
        2 => Just(Some(json!({}))),
        2 => Just(Some(json!({ "valid_account": ["operator", "member"], "devel": ["admin", "auditor"] }))),
        1 => Just(Some(json!({ "B0000000-0000-4000-8000-00000000000A": ["member"] }))),
        1 => select(vec![None, Some(Value::Null), Some(json!({ "ops": "operator" })), Some(json!({ "ops": [null] }))]),
    ];
    let flag = prop_oneof![
        18 => Just(Some(json!(true))),
        9 => Just(None),
        12 => Just(Some(json!(false))),
        1 => select(vec![json!(null), json!("false"), json!(0)]).prop_map(Some),
    ];
    (accounts, group, flag)
        .prop_map(|(a, g, f)| {
            object(vec![
                ("accounts", Some(a)),
                ("operator_group", g),
                ("use_operator_group", f),
            ])
        })
        .boxed()
}

fn request_and_data() -> BoxedStrategy<(Value, Value)> {
    let null_or_odd = prop_oneof![
        60 => Just(Some(Value::Null)),
        1 => select(vec![None, Some(json!({ "id": 1 })), Some(json!("ops"))]),
    ];
    (
        null_or_odd.clone(),
        action(),
        null_or_odd,
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
        "- {class} ({} cases)\n  request: {request}\n  data: {data}\n  spec: {} {} reason {:?} filters {:?} principal {:?}\n  bundle: {} reason {:?} filters {:?} principal {:?}{}",
        f.count,
        if want.valid { "valid," } else { "invalid," },
        want.outcome,
        want.reason,
        want.filters,
        want.principal,
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
        "the flask-rbac bundle disagrees with its spec model on {} classes (tally {tally:?}):\n{}",
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
            if let Some(f) = expect.get("filters") {
                if want.filters.as_ref() != Some(f) {
                    problems.push(format!("model filters {:?}", want.filters));
                }
            }
            if let Some(Value::Object(p)) = expect.get("principal") {
                let got = want.principal.clone().unwrap_or(Value::Null);
                if p.iter().any(|(k, v)| got.get(k) != Some(v)) {
                    problems.push(format!("model principal {got}"));
                }
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
    let conformance = model_against(&case_file("conformance/flask-rbac.json"), true);
    let edges = model_against(&case_file("bundles/flask-rbac.json"), false);
    assert!(
        conformance.is_empty() && edges.is_empty(),
        "model disagrees with cases:\nconformance:\n{}\nedges:\n{}",
        conformance.join("\n"),
        edges.join("\n")
    );
}

/// The spec's worked examples, and the readings the model takes.
#[test]
fn model_reads_the_spec_examples() {
    let data = json!({
        "accounts": [{ "id": 1, "name": "valid_account" }, { "id": 2, "name": "devel" }, { "id": 3, "name": "ops" }],
        "operator_group": { "devel": ["admin"], "ops": ["operator"] }
    });
    let ask = |action: &str, account: &str, role: &str| {
        decide(
            &json!({
                "principal": null, "action": action, "resource": null,
                "context": { "headers": { "x-auth-account": account, "x-auth-role": role, "x-auth-user": "owner" } }
            }),
            &data,
        )
    };
    let e = ask("products.list", "valid_account", "member");
    assert_eq!(e.outcome, "allow");
    assert_eq!(
        e.filters,
        Some(json!({ "account_id": 1, "owner": "owner" }))
    );
    assert_eq!(
        ask("accounts.get", "valid_account", "admin").filters,
        Some(json!({ "id": 1 }))
    );
    let e = ask("products.delete", "devel", "admin");
    assert_eq!((e.outcome, e.filters), ("allow", Some(json!({}))));
    let e = ask("products.copy", "devel", "admin");
    assert_eq!(
        e.reason.as_deref(),
        Some("Access to products.copy forbidden for role OPERATOR")
    );
    assert_eq!(
        ask("products.list", "devel", "operator").reason.as_deref(),
        Some("You are not operator")
    );
    assert_eq!(
        ask("products.list", "valid_account", "invalid_role").outcome,
        "unauthenticated"
    );
    assert_eq!(
        ask("accounts.list", "valid_account", "auditor").outcome,
        "deny"
    );
    assert_eq!(
        ask("billing.invoices.get", "ops", "auditor").outcome,
        "allow"
    );
    let mut null_flag = data.clone();
    null_flag["use_operator_group"] = Value::Null;
    assert!(!decide(&json!({ "principal": null, "action": "products.list", "resource": null, "context": { "headers": {} } }), &null_flag).valid);
}
