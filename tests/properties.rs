//! Property tests (proptest, structure-aware, shrinking): the parser on
//! arbitrary text, the compiler on generated policies that follow the
//! grammar, and decisions on arbitrary request and data JSON against every
//! bundled policy. Nothing may panic, and an evaluation error never allows.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Data, Decision, Outcome, PolicySet, Request};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::sync::OnceLock;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// A decision that erred must not allow.
fn fails_closed(d: &Decision) -> Result<(), TestCaseError> {
    if d.error.is_some() {
        prop_assert_ne!(d.outcome, Outcome::Allow, "an error allowed: {}", d.reason);
    }
    Ok(())
}

// ------------------------------------------------------------- generators

/// Words the grammar knows, so random text reaches deep into the parser.
const WORDS: &[&str] = &[
    "actions:",
    "policy",
    "for",
    "in",
    "order",
    "{",
    "}",
    "(",
    ")",
    "[",
    "]",
    ",",
    ":",
    "allow",
    "deny",
    "unauthenticated",
    "when",
    "with",
    "let",
    "rule",
    "=",
    "==",
    "!=",
    "<",
    "and",
    "or",
    "not",
    "matches",
    "like",
    "??",
    "if",
    "then",
    "else",
    "match",
    "=>",
    "_",
    "any",
    "all",
    "first",
    "x",
    "principal",
    "resource",
    "action",
    "context",
    "data",
    ".",
    "\"s\"",
    "1",
    "null",
    "true",
    "user:1",
    "role:a",
    "re\"a+\"",
    "import",
    "override",
    "principals",
    "request",
    "authenticate",
    "open",
    "public",
    "token",
    "claims",
    "access",
    "//c\n",
    "\n",
    "*",
];

fn token_soup() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(WORDS), 0..60).prop_map(|w| w.join(" "))
}

/// Paths into the request: typed `any`, so every use type-checks.
fn path() -> impl Strategy<Value = String> {
    prop::sample::select(
        &[
            "principal",
            "principal.id",
            "principal.roles",
            "resource.owner",
            "resource.list",
            "resource.acl[action]",
            "context.headers[\"k\"]",
            "data.rows",
            "resource.list[0]",
            "data.rows[resource.owner].id",
        ][..],
    )
    .prop_map(str::to_string)
}

/// Values: request paths, literals and what the language builds from them.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("1".to_string()),
        Just("\"text\"".to_string()),
        Just("principal".to_string()),
        Just("principal.id".to_string()),
        Just("principal.roles".to_string()),
        Just("resource.owner".to_string()),
        Just("resource.list".to_string()),
        Just("resource.acl[action]".to_string()),
        Just("context.headers[\"k\"]".to_string()),
        Just("data.rows".to_string()),
        Just("action".to_string()),
    ];
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|a| format!("[{a}, {a}]")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{{k: {a}, j: {b}}}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a} ?? {b})")),
            (path(), inner.clone()).prop_map(|(a, b)| format!("[x for x in {a} if x == {b}]")),
            (path(), inner).prop_map(|(a, b)| format!("(first x in {a}: x == {b})")),
            path().prop_map(|a| format!("{a}.id")),
            (
                prop::sample::select(
                    &[
                        "upper",
                        "len",
                        "string",
                        "distinct",
                        "keys",
                        "uuid",
                        "int",
                        "before_last_dot"
                    ][..]
                ),
                path()
            )
                .prop_map(|(f, a)| if f == "before_last_dot" {
                    format!("before_last({a}, \".\")")
                } else {
                    format!("{f}({a})")
                }),
        ]
    })
}

/// Boolean conditions built from the grammar's productions.
fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("true".to_string()),
        (
            value(),
            prop::sample::select(&["==", "!=", "<", "in", "not in", "like"][..]),
            value()
        )
            .prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        value().prop_map(|a| format!("principal matches {a}")),
        Just("principal matches [user:1, (role:a, role:{resource.owner})]".to_string()),
        path().prop_map(|a| format!("{a} matches re\"[a-z]+\"")),
        (path(), path()).prop_map(|(a, b)| format!("starts_with({a}, {b})")),
        path().prop_map(|a| format!("secret_eq({a}, data.digest)")),
        path().prop_map(|a| format!("secret_lookup({a}, data.rows, \"digest\") != null")),
        value().prop_map(|a| format!("empty({a})")),
    ];
    leaf.prop_recursive(3, 24, 3, |inner| {
        prop_oneof![
            (
                inner.clone(),
                prop::sample::select(&["and", "or"][..]),
                inner.clone()
            )
                .prop_map(|(a, op, b)| format!("({a} {op} {b})")),
            inner.clone().prop_map(|a| format!("not {a}")),
            (
                prop::sample::select(&["any", "all"][..]),
                path(),
                inner.clone()
            )
                .prop_map(|(q, a, b)| format!("({q} x in {a}: {b})")),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| format!("(if {a} then {b} else {c})")),
            (value(), inner.clone(), inner)
                .prop_map(|(a, b, c)| format!("match {a} {{ \"x\" | 1 => {b}, _ => {c} }}")),
        ]
    })
}

/// A policy file from generated pieces.
fn policy() -> impl Strategy<Value = String> {
    (
        expr(),
        value(),
        expr(),
        any::<bool>(),
        prop::sample::select(&["allow", "deny \"no {action}\"", "unauthenticated \"who\""][..]),
    )
        .prop_map(|(a, b, c, ordered, outcome)| {
            let order = if ordered { " in order" } else { "" };
            format!(
                "actions: read, write\nprincipals {{ user == .id  role in .roles }}\n\
                 rule r(x) = {c}\nlet l = {b}\n\
                 policy p for read{order} {{\n  {outcome} when {a}\n  allow when r(l) with {{ filters: {{ k: {b} }}, principal: {{ who: l }} }}\n}}\n"
            )
        })
}

/// Arbitrary JSON, with the field names the bundles read mixed in.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        (-1e6f64..1e6).prop_map(|f| json!(f)),
        "[a-zA-Z0-9_:. -]{0,12}".prop_map(Value::String),
        Just(json!("b0000000-0000-4000-8000-000000000002")),
        Just(json!("rs_catalog_a:b_read")),
        Just(json!("Admin")),
        Just(json!("NormalUser")),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "id",
                "roles",
                "account",
                "login",
                "owner",
                "owner_id",
                "members",
                "project",
                "model",
                "query",
                "project_id",
                "headers",
                "collections",
                "owner_prefix",
                "job_ids",
                "pfns",
                "properties",
                "vo",
                "preferred_username",
                "dirac_group",
                "x-auth-account",
                "x-auth-role",
                "Authorization",
                "acl",
                "type",
                "trusts",
                "jobs",
                "accounts",
            ][..]
        )
        .prop_map(str::to_string),
        "[a-z]{1,6}",
    ]
}

fn bundle_request() -> impl Strategy<Value = (Value, Value)> {
    let action = prop::sample::select(
        &[
            "read",
            "update",
            "delete",
            "create-children",
            "modify-roles",
            "write",
            "download",
            "products.list",
            "access_project",
            "modify_model",
            "authenticate_trust",
            "authenticate_internal_service",
            "wms.read",
            "sandbox.read",
            "pilot.manage_pilots",
            "config.read",
            "well_known.read",
            "token.issue",
            "nope",
        ][..],
    );
    (action, json_value(), json_value(), json_value(), json_value()).prop_map(
        |(action, principal, resource, context, data)| {
            (
                json!({"action": action, "principal": principal, "resource": resource, "context": context}),
                data,
            )
        },
    )
}

fn bundles() -> &'static Vec<(String, PolicySet)> {
    static SETS: OnceLock<Vec<(String, PolicySet)>> = OnceLock::new();
    SETS.get_or_init(|| {
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        ["flexmeasures", "rs-server", "flask-rbac", "flip", "diracx"]
            .iter()
            .map(|b| {
                let set = PolicySet::from_file(root.join(format!("policies/{b}.pcl"))).unwrap();
                (b.to_string(), set)
            })
            .collect()
    })
}

// ------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn the_parser_never_panics_on_any_text(text in "\\PC{0,200}") {
        // Text that does not load says why, with an error-level finding.
        if let Err(e) = PolicySet::from_source(&text) {
            prop_assert!(e.errors().next().is_some(), "refused without an error: {e:?}");
        }
    }

    #[test]
    fn the_parser_never_panics_on_token_soup(text in token_soup()) {
        // Text that does not load says why, with an error-level finding.
        if let Err(e) = PolicySet::from_source(&text) {
            prop_assert!(e.errors().next().is_some(), "refused without an error: {e:?}");
        }
    }

    #[test]
    fn generated_policies_compile_or_explain_and_decide_fail_closed(
        src in policy(),
        (request, data) in bundle_request(),
    ) {
        match PolicySet::from_source(&src) {
            Ok(set) => {
                let mut request = request;
                request["action"] = json!("read");
                if let (Ok(r), Ok(d)) = (Request::from_json(&request), Data::from_json(&data)) {
                    fails_closed(&set.decide(&r, &d))?;
                }
            }
            Err(e) => {
                let first = e.errors().next();
                prop_assert!(first.is_some(), "a failed compile reports a finding");
            }
        }
    }

    #[test]
    fn check_reports_instead_of_panicking(src in prop_oneof![policy(), token_soup(), "\\PC{0,200}"]) {
        let options = portcullis::unstable::lint::Options::default();
        let report = portcullis::unstable::lint::check_source("p.pcl", &src, &options);
        // Text the library refuses is never reported clean by `check`.
        if PolicySet::from_source(&src).is_err() {
            prop_assert!(report.errors() > 0, "check passed text the library refuses");
        }
    }

    #[test]
    fn formatting_keeps_meaning_and_is_idempotent(src in prop_oneof![policy(), token_soup()]) {
        // `format_source` itself refuses output that parses differently
        // or loses a comment, so success means the meaning was kept.
        match portcullis::unstable::fmt::format_source("p.pcl", &src) {
            Ok(once) => {
                let twice = portcullis::unstable::fmt::format_source("p.pcl", &once).ok();
                prop_assert_eq!(twice, Some(once));
            }
            Err(e) => prop_assert!(
                portcullis::unstable::syntax::parse(&src).is_err(),
                "text that parses was refused: {}", e.summary()
            ),
        }
    }

    #[test]
    fn bundles_decide_any_request_fail_closed((request, data) in bundle_request()) {
        let (Ok(r), Ok(d)) = (Request::from_json(&request), Data::from_json(&data)) else {
            return Ok(());
        };
        for (_, set) in bundles() {
            fails_closed(&set.decide(&r, &d))?;
        }
    }
}
