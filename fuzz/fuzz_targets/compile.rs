//! The compiler on token streams that follow the grammar: each input byte
//! picks the next token, so most inputs get past the parser and exercise
//! name resolution, type checks, lowering and then a decision.
#![no_main]
use libfuzzer_sys::fuzz_target;

const TOKENS: &[&str] = &[
    "actions: a, b\n", "policy p for a ", "policy q for * ", "in order ", "{ ", "} ", "( ", ") ",
    "[ ", "] ", ", ", ": ", "allow ", "deny \"no {action}\" ", "unauthenticated \"who\" ",
    "when ", "with { filters: { k: 1 } } ", "let x = ", "rule r(y) = ", "r(1) ", "x ", "y ",
    "== ", "!= ", "< ", "and ", "or ", "not ", "in ", "matches ", "like \"a*\" ", "?? ",
    "if ", "then ", "else ", "match x { \"a\" => true, _ => false } ", "any z in ", "all z in ",
    "z ", "principal ", "principal.id ", "resource.owner ", "context.headers[\"k\"] ",
    "data.rows ", "action ", "\"s\" ", "1 ", "null ", "true ", "user:1 ", "role:{x} ",
    "re\"[a-z]+\" ", "upper(", "len(", "secret_eq(", "captures(", "principals { user == .id } ",
    "request { principal: { id: int }? } ", "authenticate { ", "open actions: b\n", "\n",
    "override policy p ", "claims access: { k: 1 } ",
    "actions: \"GET /a\", \"urn:x:*\"\n", "policy g for \"GET /a\" ",
    "data { m: { [string]: { re: regex } } } ", "data.m[principal.id].re ", "regex_match(",
    "path_match(", "path_params(", "\"/u/:id/*\" ", "resource.path ",
];

fuzz_target!(|bytes: &[u8]| {
    let text: String = bytes
        .iter()
        .map(|b| TOKENS[*b as usize % TOKENS.len()])
        .collect();
    if let Ok(set) = portcullis::PolicySet::from_source(&text) {
        let request = serde_json::json!({
            "action": "a", "principal": {"id": 1}, "resource": {"owner": "o", "path": "/u/1/x"},
            "context": {"headers": {"k": "v"}}
        });
        let request = portcullis::Request::from_json(&request).expect("a valid request");
        let d = set.decide(&request, &portcullis::Data::empty());
        assert!(
            d.error.is_none() || d.outcome != portcullis::Outcome::Allow,
            "an error allowed"
        );
    }
});
