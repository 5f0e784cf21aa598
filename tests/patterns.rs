//! Patterns from data and the request, path patterns, map shapes and
//! quoted action names (docs/language.md section 24).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::{Code, Limits, Outcome, PolicySet, Request};
use serde_json::json;

const ROUTES: &str = r#"
actions: GET, POST

request {
  principal: { name: string },
  resource: { path: string },
  context?: { method?: regex },
}

data {
  routes: [{ who: string, path: string, method: regex }],
}

policy routes for GET, POST {
  allow when any r in data.routes:
    r.who == principal.name and path_match(resource.path, r.path) and action matches r.method
  by-context: allow when principal.name == "ops" and action matches context.method
}
"#;

fn routes() -> PolicySet {
    PolicySet::from_source(ROUTES).unwrap()
}

fn ask(who: &str, action: &str, path: &str) -> Request {
    Request::from_json(&json!({
        "principal": {"name": who}, "action": action, "resource": {"path": path}
    }))
    .unwrap()
}

fn rows() -> serde_json::Value {
    json!({"routes": [
        {"who": "alice", "path": "/users/:id/books/*", "method": "GET|HEAD"},
        {"who": "bob", "path": "/admin/{section}", "method": "POST"},
    ]})
}

#[test]
fn data_patterns_decide_anchored_and_by_segment() {
    let set = routes();
    let data = set.load_data(&rows()).unwrap();
    let allow = |who, action, path| set.decide(&ask(who, action, path), &data).outcome;
    assert_eq!(allow("alice", "GET", "/users/7/books/1/2"), Outcome::Allow);
    assert_eq!(allow("alice", "GET", "/users/7/books"), Outcome::Deny);
    assert_eq!(allow("alice", "GET", "/users//books/1"), Outcome::Deny);
    // Anchored: `GET|HEAD` is not found inside `POST`, nor `GET` in `GETX`.
    assert_eq!(allow("alice", "POST", "/users/7/books/1"), Outcome::Deny);
    assert_eq!(allow("bob", "POST", "/admin/keys"), Outcome::Allow);
    assert_eq!(allow("bob", "POST", "/admin/keys/1"), Outcome::Deny);
    assert_eq!(allow("bob", "GET", "/admin/keys"), Outcome::Deny);
}

#[test]
fn a_data_pattern_that_does_not_compile_refuses_the_data() {
    let set = routes();
    let mut bad = rows();
    bad["routes"][1]["method"] = json!("(POST");
    let e = set.load_data(&bad).unwrap_err();
    assert_eq!(e.code, Code::InvalidPatternText);
    assert_eq!(e.field, "data.routes[1].method");
    // Data not loaded for the set compiles when the decision meets the
    // pattern, and fails closed.
    let unchecked = portcullis::Data::from_json(&bad).unwrap();
    let d = set.decide(&ask("bob", "POST", "/admin/keys"), &unchecked);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::InvalidPatternText);
}

#[test]
fn data_patterns_are_compiled_once_at_load() {
    let set = routes();
    let loaded = set.load_data(&rows()).unwrap();
    let unchecked = portcullis::Data::from_json(&rows()).unwrap();
    let r = ask("bob", "POST", "/admin/keys");
    let with_cache = set.decide(&r, &loaded);
    let without = set.decide(&r, &unchecked);
    assert_eq!(with_cache.outcome, Outcome::Allow);
    assert_eq!(without.outcome, Outcome::Allow);
    // Compiling during a decision is charged; a loaded pattern is not
    // compiled again.
    assert!(
        without.cost > with_cache.cost + 256,
        "{} vs {}",
        without.cost,
        with_cache.cost
    );
    // An explanation decides as the decision does, cost included.
    assert_eq!(set.explain(&r, &loaded).decision().cost, with_cache.cost);
}

#[test]
fn request_patterns_compile_per_decision_within_the_limits() {
    let set = routes();
    let data = set.load_data(&rows()).unwrap();
    let with = |method: &str| {
        Request::from_json(&json!({
            "principal": {"name": "ops"}, "action": "POST",
            "resource": {"path": "/x"}, "context": {"method": method}
        }))
        .unwrap()
    };
    assert_eq!(set.decide(&with("GET|POST"), &data).outcome, Outcome::Allow);
    assert_eq!(set.decide(&with("GET"), &data).outcome, Outcome::Deny);
    let d = set.decide(&with("(unclosed"), &data);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::InvalidPatternText);
    // Past the size limit: refused, not compiled.
    let small = Limits {
        max_regex_size: 1 << 10,
        ..Limits::default()
    };
    let set = PolicySet::from_named_source_with("<p>", ROUTES, None, small).unwrap();
    let data = set.load_data(&rows()).unwrap();
    let d = set.decide(&with("a{100}{100}"), &data);
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("more than"), "{}", d.reason);
    // A budget too small for the compile denies before compiling.
    let tight = Limits {
        max_eval_steps: 200,
        ..Limits::default()
    };
    let set = PolicySet::from_named_source_with("<p>", ROUTES, None, tight).unwrap();
    let data = set.load_data(&rows()).unwrap();
    let d = set.decide(&with("GET|POST"), &data);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::EvalLimit);
}

fn compile_codes(text: &str) -> Vec<Code> {
    match PolicySet::from_source(text) {
        Ok(_) => Vec::new(),
        Err(e) => e.findings.iter().map(|f| f.code).collect(),
    }
}

#[test]
fn text_matched_against_a_string_is_a_type_error() {
    let text = r#"
actions: read
request { resource: { path: string } }
data { re: string }
policy p for read { allow when resource.path matches data.re }
"#;
    assert_eq!(compile_codes(text), vec![Code::TextMatchesDescriptor]);
    // Declared a pattern, it is one.
    assert!(compile_codes(&text.replace("re: string", "re: regex")).is_empty());
    // A pattern where a descriptor is expected is refused too.
    let text = r#"
actions: read
principals { role in .roles }
data { re: regex }
policy p for read { allow when principal matches data.re }
"#;
    assert_eq!(compile_codes(text), vec![Code::TextMatchesDescriptor]);
}

#[test]
fn path_params_name_the_segments() {
    let text = r#"
actions: read
request { principal: { id: string }, resource: { path: string } }
policy p for read {
  let params = path_params(resource.path, "/users/{{id}}/books/:book")
  allow when params != null and params.id == principal.id
}
"#;
    let set = PolicySet::from_source(text).unwrap();
    let data = portcullis::Data::empty();
    let ask = |id: &str, path: &str| {
        let r = Request::from_json(
            &json!({"principal": {"id": id}, "action": "read", "resource": {"path": path}}),
        )
        .unwrap();
        set.decide(&r, &data).outcome
    };
    assert_eq!(ask("7", "/users/7/books/3"), Outcome::Allow);
    assert_eq!(ask("8", "/users/7/books/3"), Outcome::Deny);
    assert_eq!(ask("7", "/users/7/books"), Outcome::Deny);
}

#[test]
fn map_shapes_type_and_check_every_key() {
    let text = r#"
actions: read
request { principal: { id: string } }
data { users: { [string]: { roles: [string] } } }
policy p for read { allow when "admin" in data.users[principal.id].roles }
"#;
    let set = PolicySet::from_source(text).unwrap();
    let data = set
        .load_data(&json!({"users": {"u1": {"roles": ["admin"]}, "u2": {"roles": []}}}))
        .unwrap();
    let ask = |id: &str| {
        let r = Request::from_json(&json!({"principal": {"id": id}, "action": "read"})).unwrap();
        set.decide(&r, &data).outcome
    };
    assert_eq!(ask("u1"), Outcome::Allow);
    assert_eq!(ask("u2"), Outcome::Deny);
    assert_eq!(ask("nobody"), Outcome::Deny);
    let e = set
        .load_data(&json!({"users": {"u3": {"roles": "admin"}}}))
        .unwrap_err();
    assert_eq!(e.field, "data.users.u3.roles");
    // The value type is known: a misspelt field is caught at compile time.
    assert_eq!(
        compile_codes(&text.replace("].roles", "].rolez")),
        vec![Code::UnknownField]
    );
}

#[test]
fn quoted_action_names_declare_select_and_decide() {
    let text = r#"
actions: "GET /todos", "urn:example:read", plain

request for "GET /todos" { resource: { list: string } }

policy todos for "GET /todos" {
  allow when resource.list == "mine"
}

policy urns for "urn:example:*", plain {
  allow when principal != null
}
"#;
    let set = PolicySet::from_source(text).unwrap();
    assert_eq!(
        set.actions().collect::<Vec<_>>(),
        vec!["GET /todos", "urn:example:read", "plain"]
    );
    let data = portcullis::Data::empty();
    let d = set.decide_json(
        r#"{"action": "GET /todos", "principal": null, "resource": {"list": "mine"}}"#,
        &data,
    );
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
    let d = set.decide_json(
        r#"{"action": "urn:example:read", "principal": {"id": 1}}"#,
        &data,
    );
    assert_eq!(d.outcome, Outcome::Allow, "{}", d.reason);
    let d = set.decide_json(
        r#"{"action": "GET /todos", "resource": {"list": 3}}"#,
        &data,
    );
    assert_eq!(d.outcome, Outcome::Deny);
    // An empty quoted name, or a glob in a declaration, is refused.
    assert_eq!(compile_codes("actions: \"\"\n"), vec![Code::SyntaxError]);
    assert_eq!(
        compile_codes("actions: \"GET /*\"\n"),
        vec![Code::GlobInDeclaration]
    );
}

#[test]
fn the_filter_refuses_patterns_over_the_resource() {
    let set = routes();
    let data = set.load_data(&rows()).unwrap();
    // The resource unknown: `path_match` over it cannot be a column
    // condition, so the filter refuses rather than widen.
    let r = Request::from_json(&json!({"principal": {"name": "alice"}, "action": "GET"})).unwrap();
    let e = set.filter(&r, &data).unwrap_err();
    assert_eq!(e.code, Code::FilterUnsupported, "{}", e.message);
    let text = r#"
actions: read
request { resource: { name: string } }
data { re: regex }
policy p for read { allow when resource.name matches data.re }
"#;
    let set = PolicySet::from_source(text).unwrap();
    let data = set.load_data(&json!({"re": "a.*"})).unwrap();
    let r = Request::from_json(&json!({"action": "read"})).unwrap();
    let e = set.filter(&r, &data).unwrap_err();
    assert_eq!(e.code, Code::FilterUnsupported, "{}", e.message);
}
