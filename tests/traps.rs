//! The trap lints (PCL311-PCL316): what they catch, beyond the goldens in
//! tests/diagnostics, and what they must leave alone.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use portcullis::unstable::lint::{check_source, Options};

fn codes(text: &str) -> Vec<&'static str> {
    check_source("policy.pcl", text, &Options::default())
        .findings
        .iter()
        .map(|f| f.code.code())
        .collect()
}

#[test]
fn a_parenthesised_quantifier_or_condition_is_what_the_author_meant() {
    let base = "actions: read\npolicy p for read {\n  allow when ";
    for clean in [
        "(any r in principal.roles: r == \"a\") or resource.public == true",
        "any r in principal.roles: (r == \"a\" or resource.public == true)",
        "any r in principal.roles: r == \"a\" or r == \"b\"",
        "any r in principal.roles: resource.x == 1 and resource.y == 2",
    ] {
        assert_eq!(
            codes(&format!("{base}{clean}\n}}\n")),
            Vec::<&str>::new(),
            "{clean}"
        );
    }
    let wide =
        format!("{base}any r in principal.roles: r == \"a\" or resource.public == true\n}}\n");
    assert_eq!(codes(&wide), ["PCL311"]);
}

#[test]
fn a_refusal_with_a_condition_or_overridden_away_overrules_nothing() {
    let conditional = "actions: read\n\
        policy a for read in order {\n  allow when principal.id == 1\n  deny \"x\" when resource.locked == true\n}\n\
        policy b for read {\n  allow when principal.id == 2\n}\n";
    assert_eq!(codes(conditional), Vec::<&str>::new());
    let catch_all = "actions: read\n\
        policy a for read in order {\n  allow when principal.id == 1\n  deny \"x\"\n}\n\
        policy b for read {\n  allow when principal.id == 2\n}\n";
    assert_eq!(codes(catch_all), ["PCL312"]);
    // Unordered: an unconditional refusal anywhere decides.
    let unordered = "actions: read\n\
        policy a for read {\n  deny \"closed\"\n}\n\
        policy b for read {\n  allow when principal.id == 2\n}\n";
    assert!(codes(unordered).contains(&"PCL312"));
    // A glob covers what it matches; a policy without `for` covers nothing.
    let glob = "actions: read, list\n\
        policy a for * in order {\n  allow when principal.id == 1\n  deny \"x\"\n}\n\
        policy b for read {\n  allow when principal.id == 2\n}\n";
    assert_eq!(codes(glob), ["PCL312"]);
    let nothing = "actions: read\n\
        policy a in order {\n  deny \"x\"\n}\n\
        policy b for read {\n  allow when principal.id == 2\n}\n";
    assert!(!codes(nothing).contains(&"PCL312"));
}

#[test]
fn defaulted_reads_are_clean_under_a_shape_or_a_contract_for_every_action() {
    let shaped = "actions: read\nrequest {\n  resource: { locked?: bool }\n}\n\
        policy p for read {\n  deny \"locked\" when resource.locked ?? false\n  allow when principal != null\n}\n";
    assert_eq!(codes(shaped), Vec::<&str>::new());
    let contract = "actions: read, list\nrequest for read, list {\n  resource: any\n}\n\
        policy p for read, list {\n  allow when resource.public ?? false\n}\n";
    assert_eq!(codes(contract), Vec::<&str>::new());
    let half = "actions: read, list\nrequest for read {\n  resource: any\n}\n\
        policy p for read, list {\n  allow when resource.public ?? false\n}\n";
    assert_eq!(codes(half), ["PCL313"]);
    // A plain read errors (and denies) on a misspelling: not reported.
    let plain = "actions: read\npolicy p for read {\n  allow when resource.public == true\n}\n";
    assert_eq!(codes(plain), Vec::<&str>::new());
}

#[test]
fn unauthenticated_fires_when_some_action_admits_a_null_caller() {
    let nullable = "actions: read\nrequest {\n  principal: { id: int }?\n}\n\
        policy p for read in order {\n  unauthenticated \"in\" when principal == null\n  allow when principal.id == 1\n}\n";
    assert_eq!(codes(nullable), Vec::<&str>::new());
    let undeclared = "actions: read\n\
        policy p for read in order {\n  unauthenticated \"in\" when principal == null\n  allow when principal.id == 1\n}\n";
    assert_eq!(codes(undeclared), Vec::<&str>::new());
    let in_and = "actions: read\nrequest {\n  principal: { id: int }\n}\n\
        policy p for read in order {\n  unauthenticated \"in\" when resource != null and principal == null\n  allow when principal.id == 1\n}\n";
    assert_eq!(codes(in_and), ["PCL314"]);
    let authenticate = "actions: read\nrequest {\n  principal: { id: int }\n}\n\
        authenticate {\n  unauthenticated \"in\" when principal == null\n}\n\
        policy p for read {\n  allow when principal.id == 1\n}\n";
    assert_eq!(codes(authenticate), ["PCL314"]);
}

#[test]
fn typed_conditions_and_boolean_defaults_are_not_bare() {
    let typed = "actions: read\nrequest {\n  resource: { public: bool }\n}\n\
        policy p for read {\n  allow when resource.public\n}\n";
    assert_eq!(codes(typed), Vec::<&str>::new());
    let rule = "actions: read\nrequest {\n  resource: { public?: any }\n}\n\
        rule open = resource.public == true\n\
        policy p for read {\n  allow when open and (resource.public ?? false)\n}\n";
    assert_eq!(codes(rule), Vec::<&str>::new());
    let let_bare =
        "actions: read\npolicy p for read {\n  let flag = resource.flag\n  allow when flag\n}\n";
    assert_eq!(codes(let_bare), ["PCL315"]);
}

#[test]
fn descriptors_read_from_the_request_or_data_are_not_judged() {
    let data = "actions: read\nprincipals {\n  user == .id\n}\n\
        policy p for read {\n  allow when principal matches data.acl[action]\n  allow when principal matches resource.owners\n}\n";
    assert_eq!(codes(data), Vec::<&str>::new());
    let good = "actions: read\nprincipals {\n  user == .id\n  everyone anyone\n}\n\
        let readers = [\"user:1\", \"everyone\", [\"user:2\", \"user:3\"]]\n\
        policy p for read {\n  allow when principal matches readers\n}\n";
    assert_eq!(codes(good), Vec::<&str>::new());
    // A list of strings that no `matches` reads is not a descriptor.
    let other = "actions: read\nprincipals {\n  user == .id\n}\n\
        let urls = [\"https://example.org\"]\n\
        policy p for read {\n  allow when resource.url in urls\n}\n";
    assert_eq!(codes(other), Vec::<&str>::new());
}
