//! SQL for a filter: a `WHERE` clause with bind parameters, for SQLite and
//! PostgreSQL, from a [`Mapping`].
//!
//! Invariants:
//! - the clause holds of a row exactly when the filter's condition holds of
//!   the resource the mapping makes of that row, and the row filters of
//!   the deciding statement match it;
//! - every value from the request is a bind parameter, never SQL text; SQL
//!   names come from the mapping, which allows plain identifiers only;
//! - comparisons keep the engine's exactness: strings byte for byte
//!   (`COLLATE BINARY`, `COLLATE "C"`), no cross-type equality (a text value
//!   never equals an integer column), integers against fractions exactly.

use super::mapping::{ColumnType, Join, Mapping, Node, NullAs};
use super::residual::{Atom, Condition, OrderOp, Path, TextOp, Types};
use super::{Filter, FilterError};
use crate::diagnostics::Code;
use crate::value::Value;
use std::fmt::Write as _;

/// Which database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.37 or later (tables `STRICT`, booleans as 0 and 1).
    Sqlite,
    /// PostgreSQL 12 or later.
    Postgres,
}

impl Dialect {
    /// `sqlite` or `postgres`.
    pub fn parse(s: &str) -> Option<Dialect> {
        match s {
            "sqlite" => Some(Dialect::Sqlite),
            "postgres" | "postgresql" => Some(Dialect::Postgres),
            _ => None,
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Sqlite => "sqlite",
            Dialect::Postgres => "postgres",
        }
    }
}

/// A bind parameter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Param {
    /// An integer (SQLite booleans too).
    Int(i64),
    /// Text.
    Text(String),
    /// A PostgreSQL boolean.
    Bool(bool),
}

impl Param {
    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Param::Int(i) => (*i).into(),
            Param::Text(s) => s.as_str().into(),
            Param::Bool(b) => (*b).into(),
        }
    }
}

/// A `WHERE` clause and its parameters, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Where {
    /// The clause (without the `WHERE` keyword).
    pub clause: String,
    /// Its parameters: `?` in order for SQLite, `$1`... for PostgreSQL.
    pub params: Vec<Param>,
}

fn unmappable(message: String) -> FilterError {
    FilterError::new(Code::FilterUnmappable, message).help(format!(
        "row filters name mapped fields, and take scalars (see {})",
        crate::diagnostics::docs_url("filtering#rendering")
    ))
}

/// Renders a filter as a `WHERE` clause over the mapping's table.
pub fn render(filter: &Filter, mapping: &Mapping, dialect: Dialect) -> Result<Where, FilterError> {
    let mut r = Renderer {
        mapping,
        dialect,
        params: Vec::new(),
        next_alias: 1,
        vars: Vec::new(),
    };
    let root = mapping
        .alias
        .clone()
        .unwrap_or_else(|| mapping.table.clone());
    // A row filter names a field of the resource the mapping must have:
    // one it lacks is a mistake, not an absent field.
    for a in &filter.allows {
        if let Some(Value::Record(r)) = &a.filters {
            for (k, _) in r.iter() {
                if !mapping.fields.iter().any(|(n, _)| n == k) {
                    return Err(unmappable(format!(
                        "the row filter `{k}` of `{}` names no field of the mapping",
                        a.statement.id
                    )));
                }
            }
        }
    }
    let cond = full_condition(filter)?;
    let clause = r.cond(&cond, &root)?;
    Ok(Where {
        clause,
        params: r.params,
    })
}

/// The condition with the deciding statement's row filters applied.
pub fn full_condition(filter: &Filter) -> Result<Condition, FilterError> {
    let rows = |f: &Option<Value>| -> Result<Condition, FilterError> {
        match f {
            None => Ok(Condition::True),
            Some(Value::Record(r)) => {
                let mut out = Vec::new();
                for (k, v) in r.iter() {
                    let p = Path::root().child(k);
                    out.push(match v {
                        Value::Null => Condition::types(&p, Types::NULL),
                        Value::Bool(_) | Value::Int(_) | Value::Float(_) | Value::Str(_) => {
                            Condition::atom(Atom::Eq {
                                path: p,
                                value: v.clone(),
                            })
                        }
                        _ => {
                            return Err(unmappable(format!(
                                "the row filter `{k}` is {}, not a scalar",
                                v.type_name()
                            )))
                        }
                    });
                }
                Ok(Condition::and(out))
            }
            Some(Value::Null) => Err(unmappable(
                "an allowing statement returns `filters: null`, which must not be read as \"no restriction\"".to_string(),
            )),
            Some(other) => Err(unmappable(format!("row filters are {}, not a record", other.type_name()))),
        }
    };
    if filter.allows.is_empty() {
        return Ok(filter.condition.clone());
    }
    let first = filter
        .allows
        .first()
        .map(|a| a.filters.clone())
        .unwrap_or(None);
    if filter.allows.iter().all(|a| a.filters == first) {
        return Ok(Condition::and([filter.condition.clone(), rows(&first)?]));
    }
    let mut alts = Vec::new();
    for a in &filter.allows {
        alts.push(Condition::and([a.when.clone(), rows(&a.filters)?]));
    }
    Ok(Condition::or(alts))
}

/// Where a path leads in the database.
enum End<'m> {
    Column {
        alias: String,
        column: &'m str,
        ty: ColumnType,
        null: NullAs,
    },
    Record,
    List {
        alias: String,
        join: &'m Join,
        element: &'m Node,
    },
    Absent,
}

/// A joined row on the way: present or not.
struct Hop<'m> {
    join: &'m Join,
    parent: String,
    alias: String,
    /// What the path is when the row is missing.
    missing: Types,
}

struct Loc<'m> {
    hops: Vec<Hop<'m>>,
    end: End<'m>,
}

struct Renderer<'m> {
    mapping: &'m Mapping,
    dialect: Dialect,
    params: Vec<Param>,
    next_alias: u32,
    /// Elements of enclosing `exists`: var, node, alias.
    vars: Vec<(u32, &'m Node, String)>,
}

fn q(name: &str) -> String {
    format!("\"{name}\"")
}

impl<'m> Renderer<'m> {
    fn alias(&mut self) -> String {
        let a = format!("f{}", self.next_alias);
        self.next_alias += 1;
        a
    }

    fn param(&mut self, p: Param) -> String {
        self.params.push(p.clone());
        match self.dialect {
            Dialect::Sqlite => "?".to_string(),
            Dialect::Postgres => {
                let n = self.params.len();
                match p {
                    Param::Int(_) => format!("CAST(${n} AS bigint)"),
                    Param::Text(_) => format!("CAST(${n} AS text)"),
                    Param::Bool(_) => format!("CAST(${n} AS boolean)"),
                }
            }
        }
    }

    fn resolve(&mut self, p: &Path, root: &str) -> Result<Loc<'m>, FilterError> {
        let (mut node, mut alias): (NodeRef<'m>, String) = match p.var {
            None => (NodeRef::Fields(&self.mapping.fields), root.to_string()),
            Some(v) => match self.vars.iter().rev().find(|(n, _, _)| *n == v) {
                Some((_, node, alias)) => (NodeRef::Node(node), alias.clone()),
                None => {
                    return Err(unmappable(format!(
                        "`{}` is outside its `exists`",
                        p.dotted()
                    )))
                }
            },
        };
        let mut hops = Vec::new();
        for (i, step) in p.steps.iter().enumerate() {
            let last = i + 1 == p.steps.len();
            let fields: &'m [(String, Node)] = match node {
                NodeRef::Fields(f) => f,
                NodeRef::Node(Node::Fields(f)) => f,
                _ => {
                    return Ok(Loc {
                        hops,
                        end: End::Absent,
                    })
                }
            };
            let Some((_, child)) = fields.iter().find(|(n, _)| n.as_str() == step.as_ref()) else {
                return Ok(Loc {
                    hops,
                    end: End::Absent,
                });
            };
            match child {
                Node::One {
                    join,
                    fields,
                    missing,
                } => {
                    let a = self.alias();
                    hops.push(Hop {
                        join,
                        parent: alias.clone(),
                        alias: a.clone(),
                        missing: if last { missing.types() } else { Types::ABSENT },
                    });
                    alias = a;
                    node = NodeRef::Fields(fields);
                }
                other => node = NodeRef::Node(other),
            }
        }
        let end = match node {
            NodeRef::Fields(_)
            | NodeRef::Node(Node::Fields(_))
            | NodeRef::Node(Node::One { .. }) => End::Record,
            NodeRef::Node(Node::Column { column, ty, null }) => End::Column {
                alias,
                column,
                ty: *ty,
                null: *null,
            },
            NodeRef::Node(Node::Many { join, element, .. }) => End::List {
                alias,
                join,
                element,
            },
        };
        Ok(Loc { hops, end })
    }

    fn join_cond(&self, h: &Hop) -> String {
        h.join
            .on
            .iter()
            .map(|(theirs, ours)| {
                format!(
                    "{}.{} = {}.{}",
                    q(&h.alias),
                    q(theirs),
                    q(&h.parent),
                    q(ours)
                )
            })
            .collect::<Vec<_>>()
            .join(" AND ")
    }

    /// `inner` where every joined row on the way exists; `missing` where
    /// one is missing and its type is allowed.
    fn through(&self, hops: &[Hop], allowed_missing: Types, inner: String) -> String {
        let Some((h, rest)) = hops.split_first() else {
            return inner;
        };
        let deeper = self.through(rest, allowed_missing, inner);
        let from = format!(
            "FROM {} AS {} WHERE {}",
            q(&h.join.table),
            q(&h.alias),
            self.join_cond(h)
        );
        let exists = match deeper.as_str() {
            "FALSE" => None,
            "TRUE" => Some(format!("EXISTS (SELECT 1 {from})")),
            _ => Some(format!("EXISTS (SELECT 1 {from} AND {deeper})")),
        };
        let missing = h
            .missing
            .meets(allowed_missing)
            .then(|| format!("NOT EXISTS (SELECT 1 {from})"));
        match (exists, missing) {
            (Some(e), Some(m)) => format!("({e} OR {m})"),
            (Some(e), None) => e,
            (None, Some(m)) => m,
            (None, None) => "FALSE".to_string(),
        }
    }

    fn col(&self, alias: &str, column: &str, ty: ColumnType) -> String {
        let c = format!("{}.{}", q(alias), q(column));
        match (self.dialect, ty) {
            (Dialect::Postgres, ColumnType::Uuid) => format!("CAST({c} AS text)"),
            _ => c,
        }
    }

    fn text_cmp(&self, c: &str, op: &str, rhs: &str) -> String {
        match self.dialect {
            Dialect::Sqlite => format!("{c} {op} {rhs} COLLATE BINARY"),
            Dialect::Postgres => format!("({c} COLLATE \"C\") {op} {rhs}"),
        }
    }

    fn is_uuid_sql(&self, c: &str) -> String {
        let hex = "[0123456789ABCDEFabcdef]";
        match self.dialect {
            Dialect::Sqlite => {
                let mut g = String::new();
                for (i, n) in [8, 4, 4, 4, 12].iter().enumerate() {
                    if i > 0 {
                        g.push('-');
                    }
                    for _ in 0..*n {
                        g.push_str(hex);
                    }
                }
                format!("({c} GLOB '{g}')")
            }
            Dialect::Postgres => format!(
                "({c} COLLATE \"C\" ~ '^{hex}{{8}}-{hex}{{4}}-{hex}{{4}}-{hex}{{4}}-{hex}{{12}}$')"
            ),
        }
    }

    /// A scalar as a parameter for a column of type `ty`, or `None` when no
    /// value of the column can equal it.
    fn scalar(&mut self, ty: ColumnType, v: &Value) -> Option<String> {
        match (ty, v) {
            (ColumnType::Int, Value::Int(i)) => Some(self.param(Param::Int(*i))),
            (ColumnType::Int, Value::Float(f)) => {
                let i = *f as i64;
                (f.fract() == 0.0 && (i as f64) == *f && f.abs() < 9.2e18)
                    .then(|| self.param(Param::Int(i)))
            }
            (ColumnType::String | ColumnType::Uuid, Value::Str(s)) => {
                Some(self.param(Param::Text(s.to_string())))
            }
            (ColumnType::Bool, Value::Bool(b)) => Some(match self.dialect {
                Dialect::Sqlite => self.param(Param::Int(i64::from(*b))),
                Dialect::Postgres => self.param(Param::Bool(*b)),
            }),
            _ => None,
        }
    }

    fn column_eq(&mut self, c: &str, ty: ColumnType, v: &Value) -> String {
        match self.scalar(ty, v) {
            None => "FALSE".to_string(),
            Some(p) if matches!(ty, ColumnType::String | ColumnType::Uuid) => {
                self.text_cmp(c, "=", &p)
            }
            Some(p) => format!("{c} = {p}"),
        }
    }

    fn cond(&mut self, c: &Condition, root: &str) -> Result<String, FilterError> {
        Ok(match c {
            Condition::True => "TRUE".to_string(),
            Condition::False => "FALSE".to_string(),
            Condition::Not(inner) => format!("NOT ({})", self.cond(inner, root)?),
            Condition::And(cs) | Condition::Or(cs) => {
                let sep = if matches!(c, Condition::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let mut parts = Vec::new();
                for x in cs {
                    parts.push(format!("({})", self.cond(x, root)?));
                }
                parts.join(sep)
            }
            Condition::Atom(a) => self.atom(a, root)?,
        })
    }

    fn atom(&mut self, a: &Atom, root: &str) -> Result<String, FilterError> {
        if let Atom::Type { path, types } = a {
            return self.type_test(path, *types, root);
        }
        if let Atom::EqPath { path, other } | Atom::UuidEqPath { path, other } = a {
            let uuid = matches!(a, Atom::UuidEqPath { .. });
            return self.pair(path, other, uuid, root);
        }
        let loc = self.resolve(a.path(), root)?;
        let inner = match (&loc.end, a) {
            (End::Absent, _) | (End::Record, _) => return Ok("FALSE".to_string()),
            (
                End::List {
                    alias,
                    join,
                    element,
                    ..
                },
                Atom::Exists { var, cond, .. },
            ) => {
                let child = self.alias();
                self.vars.push((*var, element, child.clone()));
                let body = self.cond(cond, root);
                self.vars.pop();
                let link = join
                    .on
                    .iter()
                    .map(|(theirs, ours)| {
                        format!("{}.{} = {}.{}", q(&child), q(theirs), q(alias), q(ours))
                    })
                    .collect::<Vec<_>>()
                    .join(" AND ");
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {} WHERE {link} AND ({}))",
                    q(&join.table),
                    q(&child),
                    body?
                )
            }
            (End::List { .. }, _) => return Ok("FALSE".to_string()),
            (End::Column { .. }, Atom::Exists { .. }) => return Ok("FALSE".to_string()),
            (
                End::Column {
                    alias,
                    column,
                    ty,
                    null,
                },
                _,
            ) => {
                let (alias, column, ty, null) = (alias.clone(), *column, *ty, *null);
                let c = self.col(&alias, column, ty);
                let test = self.column_atom(&c, ty, a);
                // SQL's NULL is neither true nor false: a test of a NULL
                // column is made false, so that NOT keeps its meaning.
                if null == NullAs::Never || test == "FALSE" {
                    test
                } else {
                    format!("({}.{} IS NOT NULL AND {test})", q(&alias), q(column))
                }
            }
        };
        Ok(self.through(&loc.hops, Types::NONE, inner))
    }

    fn column_atom(&mut self, c: &str, ty: ColumnType, a: &Atom) -> String {
        let text = matches!(ty, ColumnType::String | ColumnType::Uuid);
        match a {
            Atom::Eq { value, .. } => self.column_eq(c, ty, value),
            Atom::In { values, .. } => {
                let mut ps = Vec::new();
                for v in values {
                    if let Some(p) = self.scalar(ty, v) {
                        ps.push(p);
                    }
                }
                if ps.is_empty() {
                    "FALSE".to_string()
                } else if text {
                    let lhs = match self.dialect {
                        Dialect::Sqlite => format!("{c} COLLATE BINARY"),
                        Dialect::Postgres => format!("({c} COLLATE \"C\")"),
                    };
                    format!("{lhs} IN ({})", ps.join(", "))
                } else {
                    format!("{c} IN ({})", ps.join(", "))
                }
            }
            Atom::Order { op, value, .. } => {
                let sym = match op {
                    OrderOp::Lt => "<",
                    OrderOp::Le => "<=",
                    OrderOp::Gt => ">",
                    OrderOp::Ge => ">=",
                };
                match (ty, value) {
                    (ColumnType::Int, Value::Int(i)) => {
                        let p = self.param(Param::Int(*i));
                        format!("{c} {sym} {p}")
                    }
                    (ColumnType::Int, Value::Float(f)) => {
                        // An integer against a fraction, exactly.
                        let bound = match op {
                            OrderOp::Lt | OrderOp::Le if f.fract() != 0.0 => (f.floor(), "<="),
                            OrderOp::Gt | OrderOp::Ge if f.fract() != 0.0 => (f.ceil(), ">="),
                            _ => (*f, sym),
                        };
                        if bound.0 >= 9.2e18 {
                            if matches!(op, OrderOp::Lt | OrderOp::Le) {
                                format!("{c} IS NOT NULL")
                            } else {
                                "FALSE".to_string()
                            }
                        } else if bound.0 <= -9.2e18 {
                            if matches!(op, OrderOp::Gt | OrderOp::Ge) {
                                format!("{c} IS NOT NULL")
                            } else {
                                "FALSE".to_string()
                            }
                        } else {
                            let p = self.param(Param::Int(bound.0 as i64));
                            format!("{c} {} {p}", bound.1)
                        }
                    }
                    (ColumnType::String | ColumnType::Uuid, Value::Str(s)) => {
                        let p = self.param(Param::Text(s.to_string()));
                        self.text_cmp(c, sym, &p)
                    }
                    _ => "FALSE".to_string(),
                }
            }
            Atom::Text { op, value, .. } if text => {
                let pattern = match self.dialect {
                    Dialect::Sqlite => {
                        let esc = |s: &str, star: bool| {
                            let mut o = String::new();
                            for ch in s.chars() {
                                match ch {
                                    '*' if star => o.push('*'),
                                    '*' => o.push_str("[*]"),
                                    '?' => o.push_str("[?]"),
                                    '[' => o.push_str("[[]"),
                                    other => o.push(other),
                                }
                            }
                            o
                        };
                        match op {
                            TextOp::Like => esc(value, true),
                            TextOp::StartsWith => format!("{}*", esc(value, false)),
                            TextOp::EndsWith => format!("*{}", esc(value, false)),
                            TextOp::Contains => format!("*{}*", esc(value, false)),
                        }
                    }
                    Dialect::Postgres => {
                        let esc = |s: &str, star: bool| {
                            let mut o = String::new();
                            for ch in s.chars() {
                                match ch {
                                    '*' if star => o.push('%'),
                                    '%' | '_' | '\\' => {
                                        o.push('\\');
                                        o.push(ch)
                                    }
                                    other => o.push(other),
                                }
                            }
                            o
                        };
                        match op {
                            TextOp::Like => esc(value, true),
                            TextOp::StartsWith => format!("{}%", esc(value, false)),
                            TextOp::EndsWith => format!("%{}", esc(value, false)),
                            TextOp::Contains => format!("%{}%", esc(value, false)),
                        }
                    }
                };
                let p = self.param(Param::Text(pattern));
                match self.dialect {
                    Dialect::Sqlite => format!("{c} GLOB {p}"),
                    Dialect::Postgres => format!("({c} COLLATE \"C\") LIKE {p} ESCAPE '\\'"),
                }
            }
            Atom::IsUuid { .. } if ty == ColumnType::Uuid => format!("{c} IS NOT NULL"),
            Atom::IsUuid { .. } if text => self.is_uuid_sql(c),
            Atom::UuidEq { value, .. } if text => {
                let p = self.param(Param::Text(value.to_ascii_lowercase()));
                let eq = self.text_cmp(&format!("lower({c})"), "=", &p);
                if ty == ColumnType::Uuid {
                    eq
                } else {
                    format!("{} AND {eq}", self.is_uuid_sql(c))
                }
            }
            _ => "FALSE".to_string(),
        }
    }

    fn type_test(&mut self, p: &Path, types: Types, root: &str) -> Result<String, FilterError> {
        let loc = self.resolve(p, root)?;
        let inner = match &loc.end {
            End::Absent => {
                return Ok(if types.meets(Types::ABSENT) {
                    "TRUE"
                } else {
                    "FALSE"
                }
                .to_string());
            }
            End::Record => if types.meets(Types::RECORD) {
                "TRUE"
            } else {
                "FALSE"
            }
            .to_string(),
            End::List { .. } => if types.meets(Types::LIST) {
                "TRUE"
            } else {
                "FALSE"
            }
            .to_string(),
            End::Column {
                alias,
                column,
                ty,
                null,
            } => {
                let c = format!("{}.{}", q(alias), q(column));
                let value = types.meets(ty.types());
                let nul = *null != NullAs::Never && types.meets(null.types());
                match (value, nul) {
                    (true, true) => "TRUE".to_string(),
                    (true, false) if *null == NullAs::Never => "TRUE".to_string(),
                    (true, false) => format!("{c} IS NOT NULL"),
                    (false, true) => format!("{c} IS NULL"),
                    (false, false) => "FALSE".to_string(),
                }
            }
        };
        Ok(self.through(&loc.hops, types, inner))
    }

    fn pair(&mut self, p: &Path, o: &Path, uuid: bool, root: &str) -> Result<String, FilterError> {
        let a = self.resolve(p, root)?;
        let b = self.resolve(o, root)?;
        let (
            End::Column {
                alias: aa,
                column: ac,
                ty: at,
                null: an,
            },
            End::Column {
                alias: ba,
                column: bc,
                ty: bt,
                null: bn,
            },
        ) = (&a.end, &b.end)
        else {
            return Ok("FALSE".to_string());
        };
        let x = self.col(aa, ac, *at);
        let y = self.col(ba, bc, *bt);
        let text = |t: ColumnType| matches!(t, ColumnType::String | ColumnType::Uuid);
        // Both present (not NULL) before any comparison, so the test is
        // never NULL.
        let present = format!(
            "{}.{} IS NOT NULL AND {}.{} IS NOT NULL",
            q(aa),
            q(ac),
            q(ba),
            q(bc)
        );
        let inner = if uuid {
            if !(text(*at) && text(*bt)) {
                "FALSE".to_string()
            } else {
                let mut parts = Vec::new();
                for (t, c) in [(*at, &x), (*bt, &y)] {
                    if t == ColumnType::String {
                        parts.push(self.is_uuid_sql(c));
                    } else {
                        parts.push(format!("{c} IS NOT NULL"));
                    }
                }
                parts.push(self.text_cmp(&format!("lower({x})"), "=", &format!("lower({y})")));
                format!("{present} AND {}", parts.join(" AND "))
            }
        } else {
            let same = at.types() == bt.types();
            let mut alts = Vec::new();
            if same {
                let eq = if text(*at) {
                    self.text_cmp(&x, "=", &y)
                } else {
                    format!("{x} = {y}")
                };
                alts.push(format!("({present} AND {eq})"));
            }
            if *an == NullAs::Null && *bn == NullAs::Null {
                alts.push(format!(
                    "({}.{} IS NULL AND {}.{} IS NULL)",
                    q(aa),
                    q(ac),
                    q(ba),
                    q(bc)
                ));
            }
            if alts.is_empty() {
                "FALSE".to_string()
            } else {
                alts.join(" OR ")
            }
        };
        let inner = self.through(&b.hops, Types::NONE, format!("({inner})"));
        Ok(self.through(&a.hops, Types::NONE, inner))
    }
}

#[derive(Clone, Copy)]
enum NodeRef<'m> {
    Fields(&'m [(String, Node)]),
    Node(&'m Node),
}

impl Where {
    /// The clause with its parameters, for people: `clause` then `-- params: [...]`.
    pub fn text(&self) -> String {
        let mut out = self.clause.clone();
        let params: Vec<serde_json::Value> = self.params.iter().map(Param::to_json).collect();
        let _ = write!(out, "\n-- params: {}", serde_json::Value::Array(params));
        out
    }
}
