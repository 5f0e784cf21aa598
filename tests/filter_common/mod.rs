//! The differential harness of the filter: generated rows go into a real
//! database, and for every row the decision on the resource the mapping
//! makes of it must allow exactly when the row is in
//! `SELECT pk FROM table WHERE <filter>`.
//!
//! Shared by `tests/filter_sqlite.rs` and `tests/filter_postgres.rs`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    dead_code,
    reason = "test code fails loudly"
)]

use portcullis::filter::mapping::{Mapping, Node, NullAs};
use portcullis::filter::sql::{self, Dialect, Param, Where};
use portcullis::{Data, PolicySet, Request};
use proptest::prelude::*;
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;

/// Column types of the test tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ty {
    Int,
    Text,
    Bool,
    Uuid,
}

#[derive(Clone, Debug)]
pub struct Table {
    pub name: &'static str,
    /// Name, type, NOT NULL.
    pub cols: Vec<(&'static str, Ty, bool)>,
}

/// Rows of every table, cells in column order (JSON null for NULL).
pub type Dataset = Vec<(&'static str, Vec<Vec<Json>>)>;

/// A database the harness can fill and query.
pub trait Db {
    fn dialect(&self) -> Dialect;
    fn reset(&mut self, tables: &[Table], data: &Dataset);
    fn select(&mut self, table: &str, w: &Where) -> BTreeSet<i64>;
    /// Every table, rows as column → JSON value, as the application reads them.
    fn load(&mut self, tables: &[Table]) -> HashMap<String, Vec<HashMap<String, Json>>>;
}

/// One bundle example: a policy, a mapping, tables, requests.
pub struct Example {
    pub name: &'static str,
    pub policy: PolicySet,
    pub mapping: Mapping,
    pub tables: Vec<Table>,
    pub data: Data,
    pub requests: Vec<Json>,
    /// The rows are the resource (else the request keeps its resource and
    /// rows are scoped by the row filters alone, as flask-rbac's).
    pub resource_from_row: bool,
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn policy(name: &str) -> PolicySet {
    PolicySet::from_file(root().join("policies").join(name)).unwrap()
}

pub fn mapping(name: &str) -> Mapping {
    let text = std::fs::read_to_string(root().join("examples/filters").join(name)).unwrap();
    Mapping::from_json_str(&text).unwrap()
}

pub fn data(policy: &PolicySet, name: &str) -> Data {
    let text = std::fs::read_to_string(root().join("examples/data").join(name)).unwrap();
    policy
        .load_data(&serde_json::from_str(&text).unwrap())
        .unwrap()
}

fn matching<'r>(
    rows: &'r [HashMap<String, Json>],
    on: &[(String, String)],
    row: &HashMap<String, Json>,
) -> Vec<&'r HashMap<String, Json>> {
    rows.iter()
        .filter(|r| {
            on.iter().all(|(theirs, ours)| {
                let (a, b) = (&r[theirs.as_str()], &row[ours.as_str()]);
                !a.is_null() && a == b
            })
        })
        .collect()
}

/// The resource the mapping makes of a row.
pub fn build(
    fields: &[(String, Node)],
    row: &HashMap<String, Json>,
    db: &HashMap<String, Vec<HashMap<String, Json>>>,
) -> Json {
    let mut out = serde_json::Map::new();
    for (name, node) in fields {
        if let Some(v) = build_node(node, row, db) {
            out.insert(name.clone(), v);
        }
    }
    Json::Object(out)
}

fn build_node(
    node: &Node,
    row: &HashMap<String, Json>,
    db: &HashMap<String, Vec<HashMap<String, Json>>>,
) -> Option<Json> {
    match node {
        Node::Column { column, null, .. } => {
            let v = row[column.as_str()].clone();
            if v.is_null() && *null == NullAs::Absent {
                None
            } else {
                Some(v)
            }
        }
        Node::Fields(f) => Some(build(f, row, db)),
        Node::One {
            join,
            fields,
            missing,
        } => {
            let found = matching(&db[join.table.as_str()], &join.on, row);
            assert!(found.len() <= 1, "a `one` join found {} rows", found.len());
            match found.first() {
                Some(r) => Some(build(fields, r, db)),
                None if *missing == NullAs::Absent => None,
                None => Some(Json::Null),
            }
        }
        Node::Many { join, element, .. } => {
            let found = matching(&db[join.table.as_str()], &join.on, row);
            Some(Json::Array(
                found
                    .into_iter()
                    .filter_map(|r| build_node(element, r, db))
                    .collect(),
            ))
        }
    }
}

/// Runs every request of the example against one dataset.
pub fn check(db: &mut dyn Db, ex: &Example, dataset: &Dataset) -> Result<(), TestCaseError> {
    db.reset(&ex.tables, dataset);
    let loaded = db.load(&ex.tables);
    let root_rows = &loaded[ex.mapping.table.as_str()];
    for req in &ex.requests {
        let request = Request::from_json(req).unwrap();
        let filter = ex
            .policy
            .filter_with(&request, &ex.data, &ex.mapping.schema())
            .unwrap_or_else(|e| panic!("{}: no filter for {req}: {e:?}", ex.name));
        let w = sql::render(&filter, &ex.mapping, db.dialect()).unwrap();
        let selected = db.select(&ex.mapping.table, &w);
        for row in root_rows {
            let pk = row["pk"].as_i64().unwrap();
            let built = build(&ex.mapping.fields, row, &loaded);
            let mut full = req.clone();
            let resource = if ex.resource_from_row {
                let mut r = req.get("resource").cloned().unwrap_or(json!({}));
                for (k, v) in built.as_object().unwrap() {
                    r[k] = v.clone();
                }
                full["resource"] = r.clone();
                Some(r)
            } else {
                None
            };
            let decision = ex
                .policy
                .decide(&Request::from_json(&full).unwrap(), &ex.data);
            let mut expected = decision.is_allowed();
            if let (true, Some(portcullis::Value::Record(f))) = (expected, &decision.filters) {
                for (k, v) in f.iter() {
                    expected &= built.get(k) == Some(&v.to_json());
                }
            }
            let got = selected.contains(&pk);
            prop_assert_eq!(
                expected,
                got,
                "{}: row {} decided {:?} ({}) but the filter {} it\nrequest: {}\nresource: {}\nwhere: {}\nparams: {:?}\nresidual: {}",
                ex.name,
                pk,
                decision.outcome,
                decision.reason,
                if got { "selects" } else { "leaves out" },
                req,
                resource.clone().unwrap_or(Json::Null),
                w.clause,
                w.params,
                filter.to_json()
            );
            if let Some(r) = resource {
                let value = portcullis::Value::from_json(&r, 128).unwrap();
                prop_assert_eq!(
                    decision.is_allowed(),
                    filter.allows(&value),
                    "{}: the residual itself disagrees on {}",
                    ex.name,
                    r
                );
            }
        }
    }
    Ok(())
}

// ------------------------------------------------------------------ examples

const U: [&str; 4] = [
    "b0000000-0000-4000-8000-00000000000a",
    "b0000000-0000-4000-8000-00000000000b",
    "b0000000-0000-4000-8000-00000000000c",
    "b0000000-0000-4000-8000-00000000000d",
];

/// A user id: one of four, in either case; with `garbage`, sometimes not a UUID.
fn user(garbage: bool) -> BoxedStrategy<Json> {
    let ids = (0..U.len(), any::<bool>()).prop_map(|(i, upper)| {
        let s = U[i];
        json!(if upper {
            s.to_uppercase()
        } else {
            s.to_string()
        })
    });
    if garbage {
        prop_oneof![6 => ids, 1 => Just(json!("not-a-uuid")), 1 => Just(json!("")), 1 => Just(Json::Null)].boxed()
    } else {
        prop_oneof![8 => ids, 1 => Just(Json::Null)].boxed()
    }
}

fn project_id(i: usize) -> String {
    format!("c0000000-0000-4000-8000-00000000000{i}")
}

fn flip_requests(action: &str) -> Vec<Json> {
    let p =
        |id: &str, roles: Json| json!({"principal": {"id": id, "roles": roles}, "action": action});
    vec![
        p(U[0], json!(["Researcher"])),
        p(&U[0].to_uppercase(), json!(["Researcher"])),
        p(U[1], json!(["Viewer"])),
        p(U[2], json!([])),
        p(U[3], json!(["Admin"])),
        json!({"principal": null, "action": action}),
        json!({"principal": {"id": "not-a-uuid", "roles": []}, "action": action}),
    ]
}

fn flip_tables(uuid: Ty) -> Vec<Table> {
    vec![
        Table {
            name: "projects",
            cols: vec![
                ("pk", Ty::Int, true),
                ("id", uuid, true),
                ("owner_id", uuid, false),
                ("deleted", Ty::Bool, false),
            ],
        },
        Table {
            name: "project_members",
            cols: vec![
                ("pk", Ty::Int, true),
                ("project_id", uuid, false),
                ("user_id", uuid, false),
            ],
        },
        Table {
            name: "models",
            cols: vec![
                ("pk", Ty::Int, true),
                ("id", uuid, true),
                ("owner_id", uuid, false),
                ("project_id", uuid, false),
            ],
        },
    ]
}

/// FLIP: projects (and their members) and models; with `garbage`, user
/// ids that are not UUIDs too (TEXT columns).
pub fn flip_data(garbage: bool) -> BoxedStrategy<Dataset> {
    let project = (user(garbage), prop::option::of(any::<bool>()));
    let member = (0..5usize, user(garbage));
    let model = (user(garbage), prop::option::of(0..5usize));
    (
        prop::collection::vec(project, 0..5),
        prop::collection::vec(member, 0..10),
        prop::collection::vec(model, 0..6),
    )
        .prop_map(|(projects, members, models)| {
            let projects: Vec<Vec<Json>> = projects
                .into_iter()
                .enumerate()
                .map(|(i, (owner, deleted))| {
                    vec![
                        json!(i),
                        json!(project_id(i)),
                        owner,
                        deleted.map_or(Json::Null, Json::Bool),
                    ]
                })
                .collect();
            let members = members
                .into_iter()
                .enumerate()
                .map(|(i, (p, u))| vec![json!(i), json!(project_id(p)), u])
                .collect();
            let models = models
                .into_iter()
                .enumerate()
                .map(|(i, (owner, p))| {
                    vec![
                        json!(i),
                        json!(format!("d0000000-0000-4000-8000-00000000000{}", i % 10)),
                        owner,
                        p.map_or(Json::Null, |p| json!(project_id(p))),
                    ]
                })
                .collect();
            vec![
                ("projects", projects),
                ("project_members", members),
                ("models", models),
            ]
        })
        .boxed()
}

pub fn flip_projects(mapping_file: &str, uuid: Ty) -> Example {
    let policy = policy("flip.pcl");
    Example {
        name: "flip access_project",
        data: Data::empty(),
        mapping: mapping(mapping_file),
        tables: flip_tables(uuid),
        requests: flip_requests("access_project"),
        resource_from_row: true,
        policy,
    }
}

pub fn flip_models(mapping_file: &str, uuid: Ty) -> Example {
    let policy = policy("flip.pcl");
    Example {
        name: "flip access_model",
        data: Data::empty(),
        mapping: mapping(mapping_file),
        tables: flip_tables(uuid),
        requests: flip_requests("access_model"),
        resource_from_row: true,
        policy,
    }
}

/// flask-rbac: products scoped by the role's row filters.
pub fn flask_products() -> Example {
    let policy = policy("flask-rbac.pcl");
    let data = data(&policy, "flask-rbac.json");
    let r = |headers: Json| json!({"principal": null, "action": "products.list", "resource": null, "context": {"headers": headers}});
    Example {
        name: "flask-rbac products.list",
        data,
        mapping: mapping("flask-rbac-products.mapping.json"),
        tables: vec![Table {
            name: "products",
            cols: vec![
                ("pk", Ty::Int, true),
                ("account_id", Ty::Int, false),
                ("owner", Ty::Text, false),
                ("name", Ty::Text, false),
            ],
        }],
        requests: vec![
            r(
                json!({"x-auth-account": "valid_account", "x-auth-role": "member", "x-auth-user": "owner"}),
            ),
            r(json!({"x-auth-account": "valid_account", "x-auth-role": "member"})),
            r(json!({"x-auth-account": "devel", "x-auth-role": "member", "x-auth-user": "Owner"})),
            r(json!({"x-auth-account": "valid_account", "x-auth-role": "admin"})),
            r(json!({"x-auth-account": "devel", "x-auth-role": "admin"})),
            r(json!({"x-auth-account": "nobody", "x-auth-role": "member"})),
            r(json!({"x-auth-account": "valid_account", "x-auth-role": "auditor"})),
        ],
        resource_from_row: false,
        policy,
    }
}

pub fn flask_data() -> BoxedStrategy<Dataset> {
    let product = (
        prop_oneof![Just(Json::Null), (1i64..4).prop_map(|i| json!(i))],
        prop_oneof![
            Just(Json::Null),
            Just(json!("owner")),
            Just(json!("Owner")),
            Just(json!("other")),
            Just(json!(""))
        ],
    );
    prop::collection::vec(product, 0..12)
        .prop_map(|rows| {
            vec![(
                "products",
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (a, o))| vec![json!(i), a, o, json!(format!("p{i}"))])
                    .collect(),
            )]
        })
        .boxed()
}

/// DiracX: the jobs a caller may see.
pub fn diracx_jobs() -> Example {
    let policy = policy("diracx/jobs.pcl");
    let p = |name: &str, vo: &str, props: Json| json!({"principal": {"preferred_username": name, "dirac_group": format!("{vo}_user"), "vo": vo, "properties": props}, "action": "jobs.list"});
    Example {
        name: "diracx jobs.list",
        data: Data::empty(),
        mapping: mapping("diracx-jobs.mapping.json"),
        tables: vec![Table {
            name: "jobs",
            cols: vec![
                ("pk", Ty::Int, true),
                ("job_id", Ty::Int, true),
                ("owner", Ty::Text, false),
                ("owner_group", Ty::Text, false),
                ("vo", Ty::Text, false),
            ],
        }],
        requests: vec![
            p("alice", "lhcb", json!(["NormalUser"])),
            p("alice", "lhcb", json!(["NormalUser", "JobSharing"])),
            p("bob", "dteam", json!(["JobAdministrator"])),
            p("alice", "lhcb", json!(["JobSharing"])),
            json!({"principal": null, "action": "jobs.list"}),
        ],
        resource_from_row: true,
        policy,
    }
}

pub fn diracx_data() -> BoxedStrategy<Dataset> {
    let text = |xs: &'static [&'static str]| prop_oneof![6 => prop::sample::select(xs).prop_map(|s| json!(s)), 1 => Just(Json::Null)];
    let job = (
        text(&["alice", "bob", "Alice"]),
        text(&["lhcb_user", "lhcb_prod", "dteam_user"]),
        text(&["lhcb", "dteam", "LHCb"]),
    );
    prop::collection::vec(job, 0..12)
        .prop_map(|rows| {
            vec![(
                "jobs",
                rows.into_iter()
                    .enumerate()
                    .map(|(i, (o, g, v))| vec![json!(i), json!(100 + i), o, g, v])
                    .collect(),
            )]
        })
        .boxed()
}

/// FlexMeasures: the generic assets a user may read.
pub fn flexmeasures_assets() -> Example {
    let policy = policy("flexmeasures.pcl");
    let p = |principal: Json| json!({"principal": principal, "action": "read", "resource": {"type": "GenericAsset"}, "context": {}});
    let user = |id: i64, roles: Json, account: i64, account_roles: Json| json!({"id": id, "roles": roles, "account": {"id": account, "roles": account_roles}});
    Example {
        name: "flexmeasures read GenericAsset",
        data: Data::empty(),
        mapping: mapping("flexmeasures-assets.mapping.json"),
        tables: vec![
            Table {
                name: "assets",
                cols: vec![
                    ("pk", Ty::Int, true),
                    ("id", Ty::Int, true),
                    ("name", Ty::Text, false),
                    ("account_id", Ty::Int, false),
                ],
            },
            Table {
                name: "accounts",
                cols: vec![
                    ("pk", Ty::Int, true),
                    ("id", Ty::Int, true),
                    ("consultancy_account_id", Ty::Int, false),
                ],
            },
        ],
        requests: vec![
            p(user(5, json!([]), 3, json!([]))),
            p(user(6, json!(["consultant"]), 2, json!([]))),
            p(user(7, json!(["admin"]), 1, json!([]))),
            p(user(8, json!(["admin-reader"]), 1, json!([]))),
            p(user(9, json!(["account-admin"]), 4, json!([]))),
            p(Json::Null),
        ],
        resource_from_row: true,
        policy,
    }
}

pub fn flexmeasures_data() -> BoxedStrategy<Dataset> {
    let asset = (prop::option::of(1i64..6), any::<bool>());
    let consultancy = prop::option::of(1i64..5);
    (
        prop::collection::vec(asset, 0..10),
        prop::collection::vec(consultancy, 4),
    )
        .prop_map(|(assets, consultancies)| {
            let accounts = consultancies
                .into_iter()
                .enumerate()
                .map(|(i, c)| vec![json!(i), json!(i + 1), c.map_or(Json::Null, |c| json!(c))])
                .collect();
            let assets = assets
                .into_iter()
                .enumerate()
                .map(|(i, (a, named))| {
                    vec![
                        json!(i),
                        json!(10 + i),
                        if named {
                            json!(format!("asset {i}"))
                        } else {
                            Json::Null
                        },
                        a.map_or(Json::Null, |a| json!(a)),
                    ]
                })
                .collect();
            vec![("assets", assets), ("accounts", accounts)]
        })
        .boxed()
}

// ------------------------------------------------------------------ SQL helpers

pub fn ddl(t: &Table, dialect: Dialect) -> String {
    let cols: Vec<String> = t
        .cols
        .iter()
        .map(|(n, ty, not_null)| {
            let base = match (dialect, ty) {
                (Dialect::Sqlite, Ty::Int) => "INTEGER".to_string(),
                (Dialect::Sqlite, Ty::Text | Ty::Uuid) => "TEXT".to_string(),
                (Dialect::Sqlite, Ty::Bool) => format!("INTEGER CHECK (\"{n}\" IN (0, 1))"),
                (Dialect::Postgres, Ty::Int) => "bigint".to_string(),
                (Dialect::Postgres, Ty::Text) => "text".to_string(),
                (Dialect::Postgres, Ty::Uuid) => "uuid".to_string(),
                (Dialect::Postgres, Ty::Bool) => "boolean".to_string(),
            };
            format!("\"{n}\" {base}{}", if *not_null { " NOT NULL" } else { "" })
        })
        .collect();
    let strict = if dialect == Dialect::Sqlite {
        " STRICT"
    } else {
        ""
    };
    format!("CREATE TABLE \"{}\" ({}){strict}", t.name, cols.join(", "))
}

pub fn params_json(w: &Where) -> Vec<Param> {
    w.params.clone()
}
