//! Differential tests of the filter on SQLite (embedded): for generated
//! rows of each bundle example, with NULLs, absent values and missing
//! related rows among them, the decision on every row allows exactly when
//! the row is in `SELECT ... WHERE <filter>`.

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
use proptest::prelude::*;
use rusqlite::types::Value as Sql;
use serde_json::{json, Value as Json};
use std::collections::{BTreeSet, HashMap};

struct Sqlite {
    conn: rusqlite::Connection,
}

impl Sqlite {
    fn new() -> Sqlite {
        Sqlite {
            conn: rusqlite::Connection::open_in_memory().unwrap(),
        }
    }
}

fn to_sql(v: &Json, ty: Ty) -> Sql {
    match (v, ty) {
        (Json::Null, _) => Sql::Null,
        (Json::Bool(b), _) => Sql::Integer(i64::from(*b)),
        (Json::Number(n), _) => Sql::Integer(n.as_i64().unwrap()),
        (Json::String(s), _) => Sql::Text(s.clone()),
        other => panic!("no SQL value for {other:?}"),
    }
}

impl Db for Sqlite {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn reset(&mut self, tables: &[Table], data: &Dataset) {
        for t in tables {
            self.conn
                .execute(&format!("DROP TABLE IF EXISTS \"{}\"", t.name), [])
                .unwrap();
            self.conn.execute(&ddl(t, Dialect::Sqlite), []).unwrap();
        }
        for (name, rows) in data {
            let t = tables.iter().find(|t| t.name == *name).unwrap();
            let cols: Vec<String> = t.cols.iter().map(|(c, _, _)| format!("\"{c}\"")).collect();
            let marks: Vec<&str> = t.cols.iter().map(|_| "?").collect();
            let sql = format!(
                "INSERT INTO \"{name}\" ({}) VALUES ({})",
                cols.join(", "),
                marks.join(", ")
            );
            for row in rows {
                let values: Vec<Sql> = row
                    .iter()
                    .zip(&t.cols)
                    .map(|(v, (_, ty, _))| to_sql(v, *ty))
                    .collect();
                self.conn
                    .execute(&sql, rusqlite::params_from_iter(values))
                    .unwrap();
            }
        }
    }

    fn select(&mut self, table: &str, w: &Where) -> BTreeSet<i64> {
        let sql = format!("SELECT \"pk\" FROM \"{table}\" WHERE {}", w.clause);
        let params: Vec<Sql> = w
            .params
            .iter()
            .map(|p| match p {
                Param::Int(i) => Sql::Integer(*i),
                Param::Text(s) => Sql::Text(s.clone()),
                Param::Bool(b) => Sql::Integer(i64::from(*b)),
            })
            .collect();
        let mut stmt = self
            .conn
            .prepare(&sql)
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
        let rows = stmt
            .query_map(rusqlite::params_from_iter(params), |r| r.get::<_, i64>(0))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn load(&mut self, tables: &[Table]) -> HashMap<String, Vec<HashMap<String, Json>>> {
        let mut out = HashMap::new();
        for t in tables {
            let cols: Vec<String> = t.cols.iter().map(|(c, _, _)| format!("\"{c}\"")).collect();
            let sql = format!(
                "SELECT {} FROM \"{}\" ORDER BY \"pk\"",
                cols.join(", "),
                t.name
            );
            let mut stmt = self.conn.prepare(&sql).unwrap();
            let rows = stmt
                .query_map([], |r| {
                    let mut row = HashMap::new();
                    for (i, (c, ty, _)) in t.cols.iter().enumerate() {
                        let v: Sql = r.get(i)?;
                        let j = match (v, ty) {
                            (Sql::Null, _) => Json::Null,
                            (Sql::Integer(i), Ty::Bool) => json!(i != 0),
                            (Sql::Integer(i), _) => json!(i),
                            (Sql::Text(s), _) => json!(s),
                            (other, _) => panic!("unexpected {other:?}"),
                        };
                        row.insert(c.to_string(), j);
                    }
                    Ok(row)
                })
                .unwrap();
            out.insert(t.name.to_string(), rows.map(Result::unwrap).collect());
        }
        out
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn flip_projects_with_uuid_text(data in flip_data(true)) {
        check(&mut Sqlite::new(), &flip_projects("flip-projects-text.mapping.json", Ty::Text), &data)?;
    }

    #[test]
    fn flip_projects_with_uuid_columns(data in flip_data(false)) {
        check(&mut Sqlite::new(), &flip_projects("flip-projects.mapping.json", Ty::Uuid), &data)?;
    }

    #[test]
    fn flip_models_with_uuid_text(data in flip_data(true)) {
        check(&mut Sqlite::new(), &flip_models("flip-models-text.mapping.json", Ty::Text), &data)?;
    }

    #[test]
    fn flask_rbac_products(data in flask_data()) {
        check(&mut Sqlite::new(), &flask_products(), &data)?;
    }

    #[test]
    fn diracx_jobs_list(data in diracx_data()) {
        check(&mut Sqlite::new(), &diracx_jobs(), &data)?;
    }

    #[test]
    fn flexmeasures_assets_read(data in flexmeasures_data()) {
        check(&mut Sqlite::new(), &flexmeasures_assets(), &data)?;
    }
}
