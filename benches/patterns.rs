//! Patterns from data and path patterns: decisions against 100 rows whose
//! method patterns (`regex`, compiled once at load) and path patterns
//! (globs with `like`, segments with `path_match`) come from data, and a
//! method pattern that arrives with the request (compiled per decision).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark setup"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::{Outcome, PolicySet, Request};
use serde_json::json;

const POLICY: &str = r#"
actions: GET, POST

request {
  principal: { name: string },
  resource: { path: string },
  context?: { method?: regex },
}

data {
  rules: [{ who: string, glob: string, path: string, method: regex }],
}

policy globs for GET {
  allow when any r in data.rules:
    r.who == principal.name and resource.path like r.glob and action matches r.method
}

policy segments for POST {
  allow when any r in data.rules:
    r.who == principal.name and path_match(resource.path, r.path) and action matches r.method
  allow when principal.name == "ops" and action matches context.method
}
"#;

fn rows() -> serde_json::Value {
    let rules: Vec<_> = (0..100)
        .map(|i| {
            json!({
                "who": format!("user{i:03}"),
                "glob": format!("/tenants/{i}/*"),
                "path": format!("/tenants/{i}/items/:id"),
                "method": "(GET)|(POST)|(PUT)",
            })
        })
        .collect();
    json!({ "rules": rules })
}

fn request(who: &str, action: &str, path: &str) -> Request {
    Request::from_json(&json!({
        "principal": {"name": who}, "action": action, "resource": {"path": path},
        "context": {"method": "POST|PUT"}
    }))
    .unwrap()
}

fn patterns(c: &mut Criterion) {
    let set = PolicySet::from_source(POLICY).unwrap();
    let data = set.load_data(&rows()).unwrap();
    let mut g = c.benchmark_group("patterns");
    for (name, r, want) in [
        (
            "data_regex_glob/allow",
            request("user099", "GET", "/tenants/99/a/b"),
            Outcome::Allow,
        ),
        (
            "data_regex_glob/deny",
            request("user099", "GET", "/tenants/98/a/b"),
            Outcome::Deny,
        ),
        (
            "path_match/allow",
            request("user099", "POST", "/tenants/99/items/7"),
            Outcome::Allow,
        ),
        (
            "path_match/deny",
            request("user099", "POST", "/tenants/99/items/7/x"),
            Outcome::Deny,
        ),
        (
            "request_regex/allow",
            request("ops", "POST", "/x"),
            Outcome::Allow,
        ),
    ] {
        assert_eq!(set.decide(&r, &data).outcome, want, "{name}");
        g.bench_function(name, |b| {
            b.iter(|| set.decide(black_box(&r), black_box(&data)))
        });
    }
    g.bench_function("load_data_100_patterns", |b| {
        let json = rows();
        b.iter(|| set.load_data(black_box(&json)).unwrap())
    });
    g.finish();
}

criterion_group!(benches, patterns);
criterion_main!(benches);
