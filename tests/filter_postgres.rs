//! Differential tests of the filter on a real PostgreSQL server: the rows
//! of `tests/filter_sqlite.rs`, in typed columns (`uuid`, `boolean`,
//! `bigint`, `text`). The server's address comes from `PORTCULLIS_PG_URL`
//! (`eval "$(scripts/postgres)"` starts one on loopback; see the README).
//! Without it the tests fail under CI (`CI` set) and are skipped, saying
//! so, elsewhere.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails loudly"
)]

mod filter_common;

use filter_common::*;
use portcullis::filter::sql::{Dialect, Param, Where};
use postgres::types::ToSql;
use postgres::{Client, NoTls};
use proptest::prelude::*;
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap};

struct Pg {
    client: Client,
}

/// A client on its own schema, or `None` when no server is configured.
fn connect(schema: &str) -> Option<Pg> {
    let Ok(url) = std::env::var("PORTCULLIS_PG_URL") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "PORTCULLIS_PG_URL is not set: CI must start PostgreSQL (scripts/postgres)"
        );
        eprintln!("skipped: set PORTCULLIS_PG_URL (see README, `eval \"$(scripts/postgres)\"`)");
        return None;
    };
    let mut client =
        Client::connect(&url, NoTls).unwrap_or_else(|e| panic!("cannot connect to {url}: {e}"));
    client
        .batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}; SET search_path TO {schema}"
        ))
        .unwrap();
    Some(Pg { client })
}

fn cast(ty: Ty) -> &'static str {
    match ty {
        Ty::Int => "bigint",
        Ty::Text => "text",
        Ty::Bool => "boolean",
        Ty::Uuid => "uuid",
    }
}

impl Db for Pg {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn reset(&mut self, tables: &[Table], data: &Dataset) {
        for t in tables {
            self.client
                .batch_execute(&format!(
                    "DROP TABLE IF EXISTS \"{}\"; {}",
                    t.name,
                    ddl(t, Dialect::Postgres)
                ))
                .unwrap();
        }
        for (name, rows) in data {
            let t = tables.iter().find(|t| t.name == *name).unwrap();
            let cols: Vec<String> = t.cols.iter().map(|(c, _, _)| format!("\"{c}\"")).collect();
            let marks: Vec<String> = t
                .cols
                .iter()
                .enumerate()
                .map(|(i, (_, ty, _))| match ty {
                    Ty::Uuid => format!("CAST(CAST(${} AS text) AS uuid)", i + 1),
                    other => format!("CAST(${} AS {})", i + 1, cast(*other)),
                })
                .collect();
            let sql = format!(
                "INSERT INTO \"{name}\" ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            );
            for row in rows {
                let values: Vec<Box<dyn ToSql + Sync>> = row
                    .iter()
                    .zip(&t.cols)
                    .map(|(v, (_, ty, _))| -> Box<dyn ToSql + Sync> {
                        match ty {
                            Ty::Int => Box::new(v.as_i64()),
                            Ty::Bool => Box::new(v.as_bool()),
                            Ty::Text | Ty::Uuid => Box::new(v.as_str().map(str::to_string)),
                        }
                    })
                    .collect();
                let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
                self.client.execute(&sql, &refs).unwrap();
            }
        }
    }

    fn select(&mut self, table: &str, w: &Where) -> BTreeSet<i64> {
        let sql = format!("SELECT \"pk\" FROM \"{table}\" WHERE {}", w.clause);
        let values: Vec<Box<dyn ToSql + Sync>> = w
            .params
            .iter()
            .map(|p| -> Box<dyn ToSql + Sync> {
                match p {
                    Param::Int(i) => Box::new(*i),
                    Param::Text(s) => Box::new(s.clone()),
                    Param::Bool(b) => Box::new(*b),
                }
            })
            .collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|b| b.as_ref()).collect();
        let rows = self
            .client
            .query(&sql, &refs)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        rows.iter().map(|r| r.get::<_, i64>(0)).collect()
    }

    fn load(&mut self, tables: &[Table]) -> HashMap<String, Vec<HashMap<String, Json>>> {
        let mut out = HashMap::new();
        for t in tables {
            let cols: Vec<String> = t
                .cols
                .iter()
                .map(|(c, ty, _)| match ty {
                    Ty::Uuid => format!("CAST(\"{c}\" AS text)"),
                    _ => format!("\"{c}\""),
                })
                .collect();
            let sql = format!(
                "SELECT {} FROM \"{}\" ORDER BY \"pk\"",
                cols.join(", "),
                t.name
            );
            let rows = self.client.query(&sql, &[]).unwrap();
            let mut table = Vec::new();
            for r in rows {
                let mut row = HashMap::new();
                for (i, (c, ty, _)) in t.cols.iter().enumerate() {
                    let v = match ty {
                        Ty::Int => r.get::<_, Option<i64>>(i).map_or(Json::Null, |x| json!(x)),
                        Ty::Bool => r.get::<_, Option<bool>>(i).map_or(Json::Null, |x| json!(x)),
                        Ty::Text | Ty::Uuid => r
                            .get::<_, Option<String>>(i)
                            .map_or(Json::Null, |x| json!(x)),
                    };
                    row.insert(c.to_string(), v);
                }
                table.push(row);
            }
            out.insert(t.name.to_string(), table);
        }
        out
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Runs one example's generated datasets against the server.
fn run(schema: &str, example: Example, data: BoxedStrategy<Dataset>) {
    let Some(pg) = connect(schema) else {
        return;
    };
    let pg = std::cell::RefCell::new(pg);
    let mut runner = proptest::test_runner::TestRunner::new(config());
    let result = runner.run(&data, |d| check(&mut *pg.borrow_mut(), &example, &d));
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[test]
fn flip_projects_on_postgres() {
    run(
        "pcl_flip_projects",
        flip_projects("flip-projects.mapping.json", Ty::Uuid),
        flip_data(false),
    );
}

#[test]
fn flip_projects_as_text_on_postgres() {
    run(
        "pcl_flip_projects_text",
        flip_projects("flip-projects-text.mapping.json", Ty::Text),
        flip_data(true),
    );
}

#[test]
fn flip_models_on_postgres() {
    run(
        "pcl_flip_models",
        flip_models("flip-models.mapping.json", Ty::Uuid),
        flip_data(false),
    );
}

#[test]
fn flask_rbac_products_on_postgres() {
    run("pcl_flask", flask_products(), flask_data());
}

#[test]
fn diracx_jobs_on_postgres() {
    run("pcl_diracx", diracx_jobs(), diracx_data());
}

#[test]
fn flexmeasures_assets_on_postgres() {
    run(
        "pcl_flexmeasures",
        flexmeasures_assets(),
        flexmeasures_data(),
    );
}
