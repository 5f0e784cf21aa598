//! The filter's cost: computing the filter of a request for each bundle
//! example (and its SQL), and listing the rows a caller may see out of
//! 100,000 through the SQLite filter against loading every row and
//! deciding each.
//!
//! `cargo bench --bench filter`; figures in docs/filtering.md.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "benchmark set-up fails loudly"
)]

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use portcullis::filter::mapping::Mapping;
use portcullis::filter::sql::{render, Dialect, Param};
use portcullis::{Data, PolicySet, Record, Request, Value};
use std::path::Path;

const ROWS: usize = 100_000;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(p: &str) -> String {
    std::fs::read_to_string(root().join(p)).unwrap()
}

struct Example {
    name: &'static str,
    policy: PolicySet,
    request: Request,
    data: Data,
    mapping: Mapping,
}

fn example(
    name: &'static str,
    policy: &str,
    request: &str,
    data: Option<&str>,
    mapping: &str,
) -> Example {
    let policy = PolicySet::from_file(root().join(policy)).unwrap();
    let data = match data {
        Some(d) => policy
            .load_data(&serde_json::from_str(&read(d)).unwrap())
            .unwrap(),
        None => Data::empty(),
    };
    Example {
        name,
        request: Request::from_json_str(&read(request)).unwrap(),
        mapping: Mapping::from_json_str(&read(mapping)).unwrap(),
        policy,
        data,
    }
}

fn examples() -> Vec<Example> {
    vec![
        example(
            "flip-projects",
            "policies/flip.pcl",
            "examples/filters/flip-projects.request.json",
            None,
            "examples/filters/flip-projects.mapping.json",
        ),
        example(
            "flip-models",
            "policies/flip.pcl",
            "examples/filters/flip-models.request.json",
            None,
            "examples/filters/flip-models.mapping.json",
        ),
        example(
            "flexmeasures-assets",
            "policies/flexmeasures.pcl",
            "examples/filters/flexmeasures-assets.request.json",
            None,
            "examples/filters/flexmeasures-assets.mapping.json",
        ),
        example(
            "diracx-jobs",
            "policies/diracx/jobs.pcl",
            "examples/filters/diracx-jobs.request.json",
            None,
            "examples/filters/diracx-jobs.mapping.json",
        ),
        example(
            "flask-rbac-products",
            "policies/flask-rbac.pcl",
            "examples/filters/flask-rbac-products.request.json",
            Some("examples/data/flask-rbac.json"),
            "examples/filters/flask-rbac-products.mapping.json",
        ),
    ]
}

fn compute(c: &mut Criterion) {
    let mut group = c.benchmark_group("filter");
    for ex in examples() {
        let schema = ex.mapping.schema();
        group.bench_function(format!("{}/compute", ex.name), |b| {
            b.iter(|| {
                ex.policy
                    .filter_with(black_box(&ex.request), &ex.data, &schema)
                    .unwrap()
            })
        });
        let filter = ex
            .policy
            .filter_with(&ex.request, &ex.data, &schema)
            .unwrap();
        group.bench_function(format!("{}/sql", ex.name), |b| {
            b.iter(|| render(black_box(&filter), &ex.mapping, Dialect::Sqlite).unwrap())
        });
    }
    group.finish();
}

const OWNERS: [&str; 50] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory",
    "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "xavier", "yolanda",
    "zoe", "ann", "ben", "cat", "dan", "eve", "fay", "gus", "hal", "ida", "jon", "kim", "lee",
    "max", "ned", "oda", "pam", "quin", "ray", "sam", "tom", "uma", "val", "wes", "xia", "yan",
    "zed", "amy", "bo",
];
const VOS: [&str; 4] = ["lhcb", "dteam", "belle", "ctao"];

/// 100,000 jobs: 50 owners, 4 VOs, a NULL owner now and then.
fn jobs() -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE TABLE jobs (pk INTEGER PRIMARY KEY, job_id INTEGER NOT NULL, owner TEXT, owner_group TEXT, vo TEXT) STRICT;
         CREATE INDEX jobs_owner ON jobs (owner);",
    )
    .unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut insert = tx
            .prepare("INSERT INTO jobs VALUES (?, ?, ?, ?, ?)")
            .unwrap();
        for i in 0..ROWS {
            let owner = (i % 997 != 0).then(|| OWNERS[(i * 7) % OWNERS.len()]);
            let vo = VOS[(i / 3) % VOS.len()];
            insert
                .execute(rusqlite::params![
                    i as i64,
                    1_000_000 + i as i64,
                    owner,
                    format!("{vo}_user"),
                    vo
                ])
                .unwrap();
        }
    }
    tx.commit().unwrap();
    conn
}

fn list(c: &mut Criterion) {
    let ex = example(
        "diracx-jobs",
        "policies/diracx/jobs.pcl",
        "examples/filters/diracx-jobs.request.json",
        None,
        "examples/filters/diracx-jobs.mapping.json",
    );
    let conn = jobs();
    let schema = ex.mapping.schema();
    let through_filter = || -> Vec<i64> {
        let filter = ex
            .policy
            .filter_with(&ex.request, &ex.data, &schema)
            .unwrap();
        let w = render(&filter, &ex.mapping, Dialect::Sqlite).unwrap();
        let params: Vec<rusqlite::types::Value> = w
            .params
            .iter()
            .map(|p| match p {
                Param::Int(i) => rusqlite::types::Value::Integer(*i),
                Param::Text(s) => rusqlite::types::Value::Text(s.clone()),
                Param::Bool(b) => rusqlite::types::Value::Integer(i64::from(*b)),
            })
            .collect();
        let mut stmt = conn
            .prepare_cached(&format!("SELECT pk FROM jobs WHERE {}", w.clause))
            .unwrap();
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))
            .unwrap();
        rows.map(Result::unwrap).collect()
    };
    let one_by_one = || -> Vec<i64> {
        let mut stmt = conn
            .prepare_cached("SELECT pk, job_id, owner, owner_group, vo FROM jobs")
            .unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut out = Vec::new();
        while let Some(r) = rows.next().unwrap() {
            let mut resource = Record::new();
            resource.insert("job_id", Value::Int(r.get::<_, i64>(1).unwrap()));
            for (i, name) in [(2, "owner"), (3, "owner_group"), (4, "vo")] {
                let v: Option<String> = r.get(i).unwrap();
                resource.insert(name, v.map_or(Value::Null, Value::str));
            }
            let request = Request::builder("jobs.list")
                .principal(ex.request.principal.clone())
                .resource(Value::Record(resource))
                .build();
            if ex.policy.decide(&request, &ex.data).is_allowed() {
                out.push(r.get::<_, i64>(0).unwrap());
            }
        }
        out
    };
    let (a, b) = (through_filter(), one_by_one());
    assert_eq!(a, b, "the filter lists what deciding each row lists");
    assert!(
        !a.is_empty() && a.len() < ROWS / 10,
        "{} rows visible",
        a.len()
    );
    eprintln!("{} of {ROWS} jobs visible to alice", a.len());
    let mut group = c.benchmark_group("list 100000 jobs");
    group.sample_size(10);
    group.bench_function("through the filter (SQLite)", |bench| {
        bench.iter(|| black_box(through_filter()))
    });
    group.bench_function("load every row and decide each", |bench| {
        bench.iter(|| black_box(one_by_one()))
    });
    group.finish();
}

criterion_group!(benches, compute, list);
criterion_main!(benches);
