//! The step budget bounds a decision: each input that used to take seconds
//! (or minutes, or gigabytes) for one decision now decides, or fails closed
//! with the step-limit error, within the budget, and what it is charged
//! (`Decision::cost`) is what it did. Assertions are on costs, never on
//! time. Ends with a property test: over every bundled policy and its
//! example requests and data, a decision's cost grows about linearly with
//! the size of the input.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Data, Decision, Limits, Outcome, PolicySet, Request};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bundle(name: &str) -> PolicySet {
    PolicySet::from_file(root().join("policies").join(format!("{name}.pcl"))).unwrap()
}

fn source(text: &str) -> PolicySet {
    PolicySet::from_named_source("cost.pcl", text, Path::new("."), Limits::default()).unwrap()
}

fn decide(policy: &PolicySet, request: &Value, data: &Data) -> Decision {
    let d = policy.decide(&Request::from_json(request).unwrap(), data);
    assert!(
        d.cost <= policy.limits().max_eval_steps,
        "charged {} over a budget of {}",
        d.cost,
        policy.limits().max_eval_steps
    );
    d
}

/// Decided without an error, with this outcome, charged at most `bound`.
fn decided(d: &Decision, outcome: Outcome, bound: u64) {
    assert_eq!(d.error, None, "{}", d.reason);
    assert_eq!(d.outcome, outcome, "{}", d.reason);
    assert!(
        d.cost <= bound,
        "charged {}, expected at most {bound}",
        d.cost
    );
}

/// Failed closed on the step limit, charged exactly the budget.
fn out_of_steps(d: &Decision, limits: &Limits) {
    assert_eq!(d.outcome, Outcome::Deny);
    let e = d
        .error
        .as_ref()
        .unwrap_or_else(|| panic!("no error: {}", d.reason));
    assert_eq!(e.code, Code::EvalLimit, "{}", e.message);
    assert!(
        d.reason.contains("more steps than the limit"),
        "{}",
        d.reason
    );
    assert_eq!(d.cost, limits.max_eval_steps);
}

// ------------------------------------------------------------ the attacks

/// FlexMeasures: an ACL of 20,000 `role:` descriptors against a caller
/// holding 500,000 roles. Each descriptor used to scan the roles.
#[test]
fn an_or_list_of_descriptors_against_many_roles() {
    let policy = bundle("flexmeasures");
    let roles: Vec<String> = (0..500_000).map(|i| format!("r{i}")).collect();
    let mut acl: Vec<Value> = (0..20_000).map(|i| json!(format!("role:x{i}"))).collect();
    let request = |acl: &[Value]| {
        json!({
            "principal": {"id": 19, "roles": roles, "account": {"id": 3, "roles": []}},
            "action": "read",
            "resource": {"acl": {"read": acl}},
            "context": {},
        })
    };
    let d = decide(&policy, &request(&acl), &Data::empty());
    decided(&d, Outcome::Deny, 3_500_000);
    assert!(
        d.reason.starts_with("Authorization failure"),
        "{}",
        d.reason
    );
    // Hashing the roles: about 4 steps per role (the shape check, two
    // scans for `"admin" in principal.roles`, one index) plus a few dozen
    // per descriptor and the reason that lists them all; a scan per
    // descriptor would be 10,000,000,000.
    assert!(d.cost > 500_000, "{}", d.cost);

    *acl.last_mut().unwrap() = json!("role:r499999");
    let d = decide(&policy, &request(&acl), &Data::empty());
    decided(&d, Outcome::Allow, 3_500_000);
    assert_eq!(&*d.statements[0].id, "check_access.acl");
}

/// DiracX: `distinct` over 50,000 pilot stamps used to compare every pair.
#[test]
fn distinct_over_many_pilot_stamps() {
    let policy = bundle("diracx");
    let stamps: Vec<String> = (0..100_000)
        .map(|i| format!("stamp-{}", i % 50_000))
        .collect();
    let pilots: Vec<Value> = (0..50_000)
        .map(|i| json!({"pilot_stamp": format!("stamp-{i}"), "vo": "lhcb"}))
        .collect();
    let data = policy.load_data(&json!({ "pilots": pilots })).unwrap();
    let request = |stamps: &[String]| {
        json!({
            "principal": {"preferred_username": "admin", "dirac_group": "admins", "vo": "lhcb",
                          "properties": ["ServiceAdministrator"]},
            "action": "pilot.manage_pilots",
            "resource": {"pilot_stamps": stamps},
        })
    };
    let d = decide(&policy, &request(&stamps), &data);
    decided(&d, Outcome::Allow, 1_500_000);

    let mut unknown = stamps.clone();
    unknown.push("stamp-none".into());
    let d = decide(&policy, &request(&unknown), &data);
    decided(&d, Outcome::Deny, 1_500_000);
    assert_eq!(&*d.reason, "At least one pilot does not exist.");
}

/// Record comprehensions kept their keys unique by scanning the keys so far.
#[test]
fn a_record_comprehension_over_many_keys() {
    let policy = source(
        "actions: a\npolicy p for a {\n  let m = {k: v for k, v in resource.r}\n  allow when len(m) == 100000 and m[\"k99999\"] == 99999\n}",
    );
    let r: serde_json::Map<String, Value> =
        (0..100_000).map(|i| (format!("k{i}"), json!(i))).collect();
    let d = decide(
        &policy,
        &json!({"action": "a", "resource": {"r": r}}),
        &Data::empty(),
    );
    // A step per key and a scan of the built record for the one lookup.
    decided(&d, Outcome::Allow, 1_000_000);
}

/// RS-Server: the owner (500 kB) interpolated once per requested collection
/// (100,000) to strip `<owner>_` from each.
#[test]
fn an_owner_interpolated_per_collection() {
    let policy = bundle("rs-server");
    let owner = "o".repeat(500_000);
    let collections: Vec<String> = (0..100_000).map(|i| format!("x_S{i}")).collect();
    let request = |roles: &[&str]| {
        json!({
            "principal": {"login": "pyteam", "roles": roles},
            "action": "read",
            "resource": {"owner": owner},
            "context": {"collections": collections, "owner_prefix": true},
        })
    };
    // The template is built once per decision (its 500 kB charged once);
    // each collection then costs a few dozen steps and its own bytes.
    let d = decide(&policy, &request(&["rs_catalog_*:*_read"]), &Data::empty());
    decided(&d, Outcome::Allow, 5_000_000);
    let d = decide(&policy, &request(&["rs_catalog_*:S1_read"]), &Data::empty());
    decided(&d, Outcome::Deny, 5_000_000);
    assert!(d.reason.starts_with("No role grants read"), "{}", d.reason);
}

/// flask-rbac: a header record of 500,000 keys read once per account row.
#[test]
fn a_wide_header_record_read_per_row() {
    let policy = bundle("flask-rbac");
    let mut headers: serde_json::Map<String, Value> = (0..500_000)
        .map(|i| (format!("x-h{i}"), json!("v")))
        .collect();
    headers.insert("x-auth-account".into(), json!("valid_account"));
    headers.insert("x-auth-role".into(), json!("member"));
    headers.insert("x-auth-user".into(), json!("owner"));
    let mut accounts: Vec<Value> = (0..50_000)
        .map(|i| json!({"id": i + 10, "name": format!("a{i}")}))
        .collect();
    accounts.push(json!({"id": 1, "name": "valid_account"}));
    let data = policy
        .load_data(&json!({ "accounts": accounts, "operator_group": {} }))
        .unwrap();
    let request = json!({"principal": null, "action": "products.list", "resource": null,
                         "context": {"headers": headers}});
    let d = decide(&policy, &request, &data);
    // About 20 key comparisons per row (a binary search), not 500,000, plus
    // a step per header for the contract (every header is a string).
    decided(&d, Outcome::Allow, 3_000_000);
    assert_eq!(
        d.filters.unwrap().to_json(),
        json!({"account_id": 1, "owner": "owner"})
    );
}

/// `like` with a caller's glob: text of 1 MB against a glob of 1 MB used to
/// backtrack for minutes.
#[test]
fn a_callers_glob_over_long_text() {
    let policy =
        source("actions: a\npolicy p for a { allow when resource.text like resource.glob }");
    let text = "ab".repeat(500_000);
    for (glob, outcome) in [
        (format!("{}c", "*a".repeat(500_000)), Outcome::Deny),
        (format!("{}*", "a*".repeat(400_000)), Outcome::Allow),
        (format!("*{}*b", "a".repeat(1_000)), Outcome::Deny),
        (format!("{}*", "ab*b".repeat(100_000)), Outcome::Allow),
        (format!("{}*ab", "*ab".repeat(333_333)), Outcome::Allow),
    ] {
        // Its bytes, and a step per piece between `*`s.
        let pieces = glob.matches('*').count();
        let bound = ((text.len() + glob.len()) / 64 + pieces + 100) as u64;
        let request = json!({"action": "a", "resource": {"text": text, "glob": glob}});
        decided(&decide(&policy, &request, &Data::empty()), outcome, bound);
    }
}

/// Chained lets were type-checked in quadratic time and memory (20,000:
/// over 6 GB): each let's type nested the last one's and was copied whole.
#[test]
fn long_chains_of_lets_compile_and_fail_closed() {
    let n = 20_000;
    let mut src = String::from("actions: a\nlet l0 = [1]\n");
    for i in 1..n {
        let p = i - 1;
        src.push_str(&format!("let l{i} = [l{p}, {{a: l{p}, b: [l{p}]}}]\n"));
    }
    src.push_str(&format!(
        "policy p for a {{\n  let b0 = {{x: [l{}]}}\n",
        n - 1
    ));
    for i in 1..n {
        src.push_str(&format!(
            "  let b{i} = {{x: [b{}], y: b{} }}\n",
            i - 1,
            i - 1
        ));
    }
    src.push_str(&format!("  allow when b{} != null\n}}\n", n - 1));
    with_stack(move || {
        let policy = source(&src);
        let d = decide(&policy, &json!({"action": "a"}), &Data::empty());
        assert_eq!(d.outcome, Outcome::Deny);
        assert_eq!(d.error.map(|e| e.code), Some(Code::EvalLimit));
    });
}

/// Runs `f` on a thread with room for a debug build's deep recursion.
fn with_stack(f: impl FnOnce() + Send + 'static) {
    let done = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(f)
        .unwrap()
        .join();
    assert!(done.is_ok());
}

/// Values a decision builds are held to `Limits::max_value_depth`.
#[test]
fn values_built_by_a_decision_respect_the_depth_limit() {
    with_stack(values_built_within_the_depth_limit);
}

fn values_built_within_the_depth_limit() {
    let chain = |n: usize| {
        let mut src = String::from("actions: a\nlet l0 = 1\n");
        for i in 1..=n {
            src.push_str(&format!("let l{i} = [l{}]\n", i - 1));
        }
        src.push_str(&format!(
            "policy p for a {{ allow when l{n} != null with {{ principal: {{ v: l{n} }} }} }}"
        ));
        source(&src)
    };
    let request = json!({"action": "a"});
    decided(
        &decide(&chain(120), &request, &Data::empty()),
        Outcome::Allow,
        100_000,
    );
    let d = decide(&chain(200), &request, &Data::empty());
    assert_eq!(d.outcome, Outcome::Deny);
    let e = d.error.unwrap();
    assert_eq!(e.code, Code::EvalLimit);
    assert!(
        e.message.contains("nested more than 128 levels"),
        "{}",
        e.message
    );
    // Comprehensions too, under a tighter limit.
    let tight = Limits {
        max_value_depth: 3,
        ..Limits::default()
    };
    let policy = PolicySet::from_named_source(
        "d.pcl",
        "actions: a\npolicy p for a {\n  allow when (resource.deep ?? false) != true and [[[x]] for x in resource.xs] != null\n  allow when resource.deep == true and [[[[x]]] for x in resource.xs] != null\n}",
        Path::new("."),
        tight,
    )
    .unwrap();
    let shallow = json!({"action": "a", "resource": {"xs": [1, 2]}});
    let deep = json!({"action": "a", "resource": {"xs": [1, 2], "deep": true}});
    decided(
        &decide(&policy, &shallow, &Data::empty()),
        Outcome::Allow,
        1_000,
    );
    let d = decide(&policy, &deep, &Data::empty());
    assert_eq!(d.error.unwrap().code, Code::EvalLimit);
}

/// Work that loops do not count: rules calling rules twice (2^60 calls),
/// a value built from shared parts (2^60 items when copied or compared).
#[test]
fn work_without_loops_is_charged_too() {
    let limits = Limits::default();
    let mut rules = String::from("actions: a\nrule r0 = resource.x == 1\nlet v0 = [1]\n");
    for i in 1..=60 {
        rules.push_str(&format!(
            "rule r{i} = r{p} or r{p}\nlet v{i} = [v{p}, v{p}]\n",
            p = i - 1
        ));
    }
    let request = json!({"action": "a", "resource": {"x": 2}});
    for condition in [
        "r60",
        "v60 == v60",
        "len(string(v60)) > 0",
        "\"{v60}\" != \"\"",
    ] {
        let policy = source(&format!(
            "{rules}policy p for a {{ allow when {condition} }}"
        ));
        out_of_steps(&decide(&policy, &request, &Data::empty()), &limits);
    }
    let policy = source(&format!(
        "{rules}policy p for a {{ allow with {{ filters: {{ v: v60 }} }} }}"
    ));
    out_of_steps(&decide(&policy, &request, &Data::empty()), &limits);
}

/// The budget is configurable, a decision never goes past it, and one that
/// needs more denies with the step-limit error.
#[test]
fn the_budget_is_a_real_bound() {
    let src = "actions: a\npolicy p for a { allow when resource.s like \"*a*a*a*b\" }";
    let request = json!({"action": "a", "resource": {"s": "a".repeat(640_000)}});
    let roomy = source(src);
    let d = decide(&roomy, &request, &Data::empty());
    decided(&d, Outcome::Deny, 20_000);
    assert!(d.cost >= 10_000, "the text's bytes are charged: {}", d.cost);
    let tight = Limits {
        max_eval_steps: 5_000,
        ..Limits::default()
    };
    let policy = PolicySet::from_named_source("t.pcl", src, Path::new("."), tight.clone()).unwrap();
    out_of_steps(&decide(&policy, &request, &Data::empty()), &tight);
}

/// Data is validated against the policy's `data` shape once, when loaded.
#[test]
fn data_is_validated_once_when_loaded() {
    let policy = source(
        "actions: a\ndata { rows: [{ id: int, name: string }] }\npolicy p for a { allow when principal != null }",
    );
    let rows: Vec<Value> = (0..200_000)
        .map(|i| json!({"id": i, "name": "n"}))
        .collect();
    let json = json!({ "rows": rows });
    let request = json!({"action": "a", "principal": {"id": 1}});
    let loaded = policy.load_data(&json).unwrap();
    let d = decide(&policy, &request, &loaded);
    decided(&d, Outcome::Allow, 20);
    // Data read without the policy is checked on every decision.
    let unchecked = Data::from_json(&json).unwrap();
    let d = decide(&policy, &request, &unchecked);
    decided(&d, Outcome::Allow, 1_000_000);
    assert!(d.cost > 200_000, "{}", d.cost);
    // Checking it once makes it loaded data; changing it makes it unchecked.
    let checked = policy.check_data(unchecked).unwrap();
    assert!(decide(&policy, &request, &checked).cost <= 20);
    let changed = checked.with("extra", 1);
    assert!(decide(&policy, &request, &changed).cost > 200_000);
    // Data checked for another policy set is checked again.
    let other = source(
        "actions: a\ndata { rows: [{ id: string }] }\npolicy p for a { allow when principal != null }",
    );
    let d = decide(&other, &request, &loaded);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::InvalidRequest);
    // Bad data is refused when loaded, naming the field.
    let bad = json!({"rows": [{"id": 1, "name": "n"}, {"id": "2", "name": "n"}]});
    let e = policy.load_data(&bad).unwrap_err();
    assert_eq!(e.field, "data.rows[1].id");
}

// ------------------------------------------------------------ growth

/// A bundle's name, policy, example requests and example data.
type Bundle = (String, PolicySet, Vec<Value>, Value);

/// The bundles with their example requests and data.
fn bundles() -> &'static [Bundle] {
    static B: std::sync::OnceLock<Vec<Bundle>> = std::sync::OnceLock::new();
    B.get_or_init(|| {
        let read = |p: PathBuf| -> Value {
            serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
        };
        let mut out = Vec::new();
        for name in ["diracx", "flask-rbac", "flexmeasures", "flip", "rs-server"] {
            let mut requests: Vec<PathBuf> = std::fs::read_dir(root().join("examples/requests"))
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| {
                    p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(|n| n.starts_with(&format!("{name}-")))
                })
                .collect();
            requests.sort();
            assert!(!requests.is_empty(), "{name} has no example request");
            let data = read(root().join(format!("examples/data/{name}.json")));
            out.push((
                name.to_string(),
                bundle(name),
                requests.into_iter().map(read).collect(),
                data,
            ));
        }
        out
    })
}

/// How one node of an example grows: a string to `n` bytes, a list to `n`
/// items (copies of its own, strings made distinct), a record by `n`
/// fields; or, when deep, any value wrapped in `n / 20` lists.
#[derive(Clone, Copy, Debug)]
enum Grow {
    Natural,
    Deep,
}

/// Every node's path, as indexes into arrays and keys of objects.
fn paths(v: &Value, here: &mut Vec<Value>, out: &mut Vec<Vec<Value>>) {
    out.push(here.clone());
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                here.push(json!(i));
                paths(item, here, out);
                here.pop();
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                here.push(json!(k));
                paths(item, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn node<'v>(v: &'v mut Value, path: &[Value]) -> &'v mut Value {
    path.iter().fold(v, |v, seg| match seg {
        Value::Number(i) => &mut v[i.as_u64().unwrap() as usize],
        Value::String(k) => &mut v[k.as_str()],
        _ => panic!("not a path segment: {seg}"),
    })
}

/// The example with one node grown to size `n`; `None` if that kind of
/// growth does not fit the node.
fn grown(base: &Value, path: &[Value], how: Grow, n: usize) -> Option<Value> {
    let mut v = base.clone();
    let at = node(&mut v, path);
    match (how, &mut *at) {
        (Grow::Natural, Value::String(s)) => {
            let seed = if s.is_empty() {
                "x".to_string()
            } else {
                s.clone()
            };
            *s = seed.repeat(n / seed.len() + 1);
        }
        (Grow::Natural, Value::Array(items)) => {
            let seed = if items.is_empty() {
                vec![json!("x")]
            } else {
                items.clone()
            };
            for i in items.len()..n {
                let item = match &seed[i % seed.len()] {
                    Value::String(s) => json!(format!("{s}~{i}")),
                    other => other.clone(),
                };
                items.push(item);
            }
        }
        (Grow::Natural, Value::Object(map)) => {
            for i in 0..n {
                map.insert(format!("k{i}"), json!(format!("v{i}")));
            }
        }
        (_, at) => {
            for _ in 0..n / 20 {
                *at = json!([at.take()]);
            }
        }
    }
    Some(v)
}

/// Decides a request and data given as JSON; input that cannot be read
/// at all (too deep for the reader) is `None`.
fn cost_of(policy: &PolicySet, request: &Value, data: &Value) -> Option<Decision> {
    let request = Request::from_json(request).ok()?;
    let data = match policy.load_data(data) {
        Ok(d) => d,
        // Data that does not fit is checked, and refused, by the decision.
        Err(_) => Data::from_json(data).ok()?,
    };
    Some(policy.decide(&request, &data))
}

/// A decision, or a clear error: a denial with a code, a message and a
/// reason, charged within the budget.
fn well_formed(d: &Decision, limits: &Limits) -> Result<(), TestCaseError> {
    prop_assert!(d.cost <= limits.max_eval_steps);
    if let Some(e) = &d.error {
        prop_assert_eq!(d.outcome, Outcome::Deny);
        prop_assert!(!e.message.is_empty());
        prop_assert!(e.code.code().starts_with("PCL4") || e.code.code().starts_with("PCL5"));
        prop_assert!(!d.reason.is_empty());
    }
    Ok(())
}

fn grow() -> impl Strategy<Value = Grow> {
    prop_oneof![3 => Just(Grow::Natural), 1 => Just(Grow::Deep)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 192,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Growing one node of an example request or its data four times over
    /// multiplies the decision's cost by about four at most (a quadratic
    /// cost would multiply it by sixteen).
    #[test]
    fn cost_grows_about_linearly_with_the_input(
        which in 0usize..5,
        example in 0usize..4,
        in_data in any::<bool>(),
        pick in any::<prop::sample::Index>(),
        how in grow(),
        n in 200usize..600,
    ) {
        let (name, policy, requests, data) = &bundles()[which];
        let request = &requests[example % requests.len()];
        let doc = if in_data { data } else { request };
        let mut all = Vec::new();
        paths(doc, &mut Vec::new(), &mut all);
        // A request's top level has fixed fields; data's may be any.
        all.retain(|p| in_data || !p.is_empty());
        let path = pick.get(&all);
        let (Some(small), Some(large)) = (grown(doc, path, how, n), grown(doc, path, how, 4 * n)) else {
            return Err(TestCaseError::reject("growth does not fit the node"));
        };
        let run = |grown: &Value| {
            if in_data { cost_of(policy, request, grown) } else { cost_of(policy, grown, data) }
        };
        let (Some(a), Some(b)) = (run(&small), run(&large)) else {
            return Err(TestCaseError::reject("the input cannot be read"));
        };
        well_formed(&a, policy.limits())?;
        well_formed(&b, policy.limits())?;
        prop_assert!(
            b.cost <= 5 * a.cost + 1_000,
            "{name}: growing {path:?} ({how:?}) from {n} to {}: cost {} -> {} ({} -> {})",
            4 * n, a.cost, b.cost, a.reason, b.reason
        );
    }
}
