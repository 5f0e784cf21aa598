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
    "graph gr = data.rows edge [0] -> [1]\n", "graph ge = data.ents node .id parents .ps\n",
    "graph gd = data.dom edge [0] -> [1] within [2]\n", "gr(", "ge(", "ge[", "gd(",
    "principals { role in data.users[.id].roles } ",
    // Values: arithmetic, decimals, IP addresses, time, strings and lists.
    "+ ", "- ", "* ", "/ ", "% ", "0.75 ", "-12.5 ", "9223372036854775807 ", "ip(",
    "ip(\"10.0.0.0/8\") ", "ip(\"::1\") ", "in_range(", "is_loopback(", "decimal(",
    "timestamp(", "timestamp(\"2024-05-01T12:00:00Z\") ", "duration(\"1h30m\") ", "split(",
    "join(", "union(", "intersection(", "contains_any(", "contains_all(", "\"a,b\" ",
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
        // Rows for the graphs the tokens declare, with a cycle.
        let data = serde_json::json!({
            "rows": [["o", 1], [1, "o"], [1, 2]],
            "ents": [{"id": 1, "ps": ["o"]}, {"id": "o", "ps": [1]}],
            "dom": [["o", 1, "d"]],
            "users": {"1": {"roles": ["o"]}},
        });
        let data = portcullis::Data::from_json(&data).expect("valid data");
        if let Ok(loaded) = set.load_data(&data.root().to_json()) {
            let a = set.decide(&request, &loaded);
            let b = set.decide(&request, &data);
            assert_eq!(a.outcome, b.outcome, "loaded and unloaded data decide alike");
        }
        let d = set.decide(&request, &data);
        assert!(
            d.error.is_none() || d.outcome != portcullis::Outcome::Allow,
            "an error allowed"
        );
    }
});
