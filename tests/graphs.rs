//! Graphs over data (`graph` declarations): reachability at any depth,
//! cycles, domains, entity rows, exact node comparison, the closure built
//! once at load against the walk a decision makes on unloaded data, the
//! cost charged, malformed rows failing closed, and the filter refusing a
//! graph question about the resource.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails loudly"
)]

use portcullis::{Code, Data, Limits, Outcome, PolicySet, Request};
use serde_json::{json, Value as Json};

const RBAC: &str = r#"actions: read

graph roles = data.g edge [0] -> [1]

policy p for read {
  allow when resource.role in roles(principal.sub)
}
"#;

fn request(sub: Json, role: Json) -> Request {
    Request::from_json(
        &json!({"action": "read", "principal": {"sub": sub}, "resource": {"role": role}}),
    )
    .unwrap()
}

/// The decision with data loaded (closure) and passed raw (walk) agree;
/// returns the outcome.
fn decide(set: &PolicySet, data: &Json, r: &Request) -> Outcome {
    let loaded = set.load_data(data).unwrap();
    let raw = Data::from_json(data).unwrap();
    let a = set.decide(r, &loaded);
    let b = set.decide(r, &raw);
    assert_eq!(a.outcome, b.outcome, "{:?} / {:?}", a.reason, b.reason);
    a.outcome
}

fn chain(n: usize) -> Json {
    let rows: Vec<Json> = (0..n)
        .map(|i| json!([format!("n{i}"), format!("n{}", i + 1)]))
        .collect();
    json!({ "g": rows })
}

#[test]
fn a_deep_chain_is_followed_to_its_end_and_not_backwards() {
    let set = PolicySet::from_source(RBAC).unwrap();
    let data = chain(10_000);
    assert_eq!(
        decide(&set, &data, &request(json!("n0"), json!("n10000"))),
        Outcome::Allow
    );
    assert_eq!(
        decide(&set, &data, &request(json!("n5000"), json!("n9999"))),
        Outcome::Allow
    );
    assert_eq!(
        decide(&set, &data, &request(json!("n10000"), json!("n0"))),
        Outcome::Deny
    );
    assert_eq!(
        decide(&set, &data, &request(json!("n1"), json!("n0"))),
        Outcome::Deny
    );
}

#[test]
fn cycles_terminate_and_every_node_is_itself() {
    let set = PolicySet::from_source(RBAC).unwrap();
    let data = json!({"g": [["a", "b"], ["b", "c"], ["c", "a"], ["c", "d"]]});
    for (from, to, allow) in [
        ("a", "d", true),
        ("b", "a", true),
        ("d", "a", false),
        ("d", "d", true),
        ("zed", "zed", true),
        ("zed", "a", false),
    ] {
        let want = if allow { Outcome::Allow } else { Outcome::Deny };
        assert_eq!(
            decide(&set, &data, &request(json!(from), json!(to))),
            want,
            "{from} -> {to}"
        );
    }
}

#[test]
fn nodes_compare_exactly() {
    let set = PolicySet::from_source(RBAC).unwrap();
    let data = json!({"g": [[7, "admin"], ["8", "admin"]]});
    assert_eq!(
        decide(&set, &data, &request(json!(7), json!("admin"))),
        Outcome::Allow
    );
    assert_eq!(
        decide(&set, &data, &request(json!("7"), json!("admin"))),
        Outcome::Deny
    );
    assert_eq!(
        decide(&set, &data, &request(json!(8), json!("admin"))),
        Outcome::Deny
    );
    assert_eq!(
        decide(&set, &data, &request(json!("8"), json!("Admin"))),
        Outcome::Deny
    );
}

#[test]
fn domains_scope_their_edges() {
    let set = PolicySet::from_source(
        "actions: read\ngraph roles = data.g edge .u -> .r within .d\npolicy p for read {\n  allow when \"admin\" in roles(principal.sub, resource.dom)\n}\n",
    )
    .unwrap();
    let data = json!({"g": [{"u": "alice", "r": "lead", "d": "d1"}, {"u": "lead", "r": "admin", "d": "d1"},
                             {"u": "bob", "r": "lead", "d": "d2"}]});
    let r = |sub: &str, dom: &str| {
        Request::from_json(
            &json!({"action": "read", "principal": {"sub": sub}, "resource": {"dom": dom}}),
        )
        .unwrap()
    };
    assert_eq!(decide(&set, &data, &r("alice", "d1")), Outcome::Allow);
    assert_eq!(decide(&set, &data, &r("alice", "d2")), Outcome::Deny);
    assert_eq!(decide(&set, &data, &r("bob", "d2")), Outcome::Deny);
}

#[test]
fn malformed_rows_are_refused_at_load_and_deny_otherwise() {
    let set = PolicySet::from_source(RBAC).unwrap();
    for bad in [
        json!({"g": [["a"]]}),
        json!({"g": [["a", null]]}),
        json!({"g": "a"}),
        json!({"g": [5]}),
    ] {
        let e = set.load_data(&bad).unwrap_err();
        assert_eq!(e.code, Code::GraphData, "{bad}: {e:?}");
        let d = set.decide(
            &request(json!("a"), json!("b")),
            &Data::from_json(&bad).unwrap(),
        );
        assert_eq!(d.outcome, Outcome::Deny);
        assert_eq!(d.error.unwrap().code, Code::GraphData, "{bad}");
    }
    // Absent rows load (other policies may not need them) but deny when asked.
    let data = set.load_data(&json!({})).unwrap();
    let d = set.decide(&request(json!("a"), json!("b")), &data);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::GraphData);
    // A null list has no rows.
    let data = set.load_data(&json!({"g": null})).unwrap();
    assert_eq!(
        set.decide(&request(json!("a"), json!("a")), &data).outcome,
        Outcome::Allow
    );
}

#[test]
fn a_walk_is_charged_and_bounded_by_the_step_limit() {
    let tight = Limits {
        max_eval_steps: 2_000,
        max_graph_closure: 0,
        ..Limits::default()
    };
    let set =
        PolicySet::from_named_source("g.pcl", RBAC, std::path::Path::new("."), tight).unwrap();
    let data = set.load_data(&chain(10_000)).unwrap();
    let d = set.decide(&request(json!("n0"), json!("n10000")), &data);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(d.error.unwrap().code, Code::EvalLimit);
    // Near the start, the walk is short and allowed.
    let d = set.decide(&request(json!("n0"), json!("n10")), &data);
    assert_eq!(d.outcome, Outcome::Allow);
    // With the closure (2,000 nodes: 2 million pairs), a question at any
    // depth costs a few steps.
    let set = PolicySet::from_source(RBAC).unwrap();
    let data = set.load_data(&chain(2_000)).unwrap();
    let d = set.decide(&request(json!("n0"), json!("n2000")), &data);
    assert_eq!(d.outcome, Outcome::Allow);
    assert!(d.cost < 50, "cost {}", d.cost);
}

#[test]
fn entity_rows_resolve_by_key() {
    let set = PolicySet::from_source(
        "actions: view\ngraph entities = data.entities node .uid parents .parents\npolicy p for view {\n  allow when ((entities[principal.uid] ?? null).attrs.level ?? 0) == 3 or \"g\" in entities(principal.uid)\n}\n",
    )
    .unwrap();
    let data = json!({"entities": [
        {"uid": "a", "attrs": {"level": 3}, "parents": []},
        {"uid": "b", "attrs": {"level": 1}, "parents": ["f"]},
        {"uid": "f", "attrs": {}, "parents": ["g"]},
    ]});
    let r = |uid: &str| {
        Request::from_json(&json!({"action": "view", "principal": {"uid": uid}})).unwrap()
    };
    assert_eq!(decide(&set, &data, &r("a")), Outcome::Allow);
    assert_eq!(decide(&set, &data, &r("b")), Outcome::Allow);
    assert_eq!(decide(&set, &data, &r("f")), Outcome::Allow);
    assert_eq!(decide(&set, &data, &r("zed")), Outcome::Deny);
    // Two rows with one key.
    let dup = json!({"entities": [{"uid": "a", "parents": []}, {"uid": "a", "parents": []}]});
    assert_eq!(set.load_data(&dup).unwrap_err().code, Code::GraphData);
}

#[test]
fn a_listed_closure_holds_each_node_once() {
    let set = PolicySet::from_source(
        "actions: read\ngraph roles = data.g edge [0] -> [1]\npolicy p for read {\n  allow when roles(principal.sub) == resource.want\n}\n",
    )
    .unwrap();
    let data = json!({"g": [["a", "b"], ["a", "c"], ["b", "c"], ["c", "a"]]});
    let r = Request::from_json(&json!({"action": "read", "principal": {"sub": "a"}, "resource": {"want": ["a", "b", "c"]}}))
        .unwrap();
    assert_eq!(decide(&set, &data, &r), Outcome::Allow);
}

#[test]
fn the_filter_refuses_a_graph_question_about_the_resource() {
    // A question about the caller is answered, as a decision answers it:
    // the resource's role is one of the caller's.
    let set = PolicySet::from_source(RBAC).unwrap();
    let data = set.load_data(&json!({"g": [["a", "b"]]})).unwrap();
    let r = Request::from_json(&json!({"action": "read", "principal": {"sub": "a"}})).unwrap();
    let f = set.filter(&r, &data).unwrap();
    assert_eq!(
        f.to_json()["condition"],
        json!({"op": "in", "path": ["role"], "values": ["a", "b"]})
    );
    // A question about the resource needs the graph in the database.
    let set = PolicySet::from_source(
        "actions: read\ngraph roles = data.g edge [0] -> [1]\npolicy p for read {\n  allow when resource.owner in roles(resource.team)\n}\n",
    )
    .unwrap();
    let e = set.filter(&r, &data).unwrap_err();
    assert_eq!(e.code, Code::FilterUnsupported);
    assert!(e.message.contains("graph"), "{}", e.message);
}

#[test]
fn a_principal_kind_reads_through_a_directory() {
    let set = PolicySet::from_source(
        "actions: read\nprincipals {\n  user == .id\n  role in data.users[.id].roles\n  tier == data.users[.id].tier\n}\npolicy p for read {\n  allow when principal matches [role:admin, (role:staff, tier:{2})] or principal matches resource.acl\n}\n",
    )
    .unwrap();
    let data = json!({"users": {"alice": {"roles": ["admin"], "tier": 1}, "bob": {"roles": ["staff"], "tier": 2},
                                "carl": {"roles": ["staff"], "tier": 1}}});
    let r = |id: Json, acl: Json| {
        Request::from_json(
            &json!({"action": "read", "principal": {"id": id}, "resource": {"acl": acl}}),
        )
        .unwrap()
    };
    let d = |id: Json, acl: Json| set.decide(&r(id, acl), &set.load_data(&data).unwrap());
    assert_eq!(d(json!("alice"), json!(null)).outcome, Outcome::Allow);
    assert_eq!(d(json!("bob"), json!(null)).outcome, Outcome::Allow);
    assert_eq!(d(json!("carl"), json!(null)).outcome, Outcome::Deny);
    // A descriptor held as data matches through the directory too.
    assert_eq!(
        d(json!("carl"), json!("role:staff")).outcome,
        Outcome::Allow
    );
    // Absent rows and keys of the wrong type fail closed.
    let e = d(json!("zed"), json!(null));
    assert_eq!(
        (e.outcome, e.error.unwrap().code),
        (Outcome::Deny, Code::AbsentField)
    );
    let e = d(json!(7), json!(null));
    assert_eq!(
        (e.outcome, e.error.unwrap().code),
        (Outcome::Deny, Code::EvalTypeError)
    );
    // The filter does not widen: a descriptor on the resource is refused.
    let filter = set.filter(
        &Request::from_json(&json!({"action": "read", "principal": {"id": "carl"}})).unwrap(),
        &set.load_data(&data).unwrap(),
    );
    assert_eq!(filter.unwrap_err().code, Code::FilterUnsupported);
}

#[test]
fn graph_rows_are_checked_against_a_declared_data_shape() {
    let err = PolicySet::from_source(
        "actions: read\ndata {\n  g: [[string]]\n}\ngraph roles = data.gg edge [0] -> [1]\npolicy p for read {\n  allow when \"a\" in roles(\"b\")\n}\n",
    )
    .unwrap_err();
    assert!(err.summary().contains("PCL201"), "{}", err.summary());
    for bad in [
        "allow when \"a\" in roles",
        "allow when roles[\"a\"] == null",
        "allow when \"a\" in roles(\"b\", \"c\")",
    ] {
        let text = format!("actions: read\ngraph roles = data.g edge [0] -> [1]\npolicy p for read {{\n  {bad}\n}}\n");
        assert!(PolicySet::from_source(&text).is_err(), "{bad}");
    }
}
