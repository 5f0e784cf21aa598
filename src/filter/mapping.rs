//! The mapping of resource paths to the columns and relations of a
//! database (`docs/filtering.md`, "The mapping"): checked when it is loaded,
//! it gives the SQL renderer its columns and the filter its [`Schema`].
//!
//! Invariants: every SQL name is a plain identifier (letters, digits, `_`);
//! the meaning of a row as a resource is fixed by the mapping alone (what a
//! NULL column, a missing joined row and a missing related row are).

use super::facts::Know;
use super::residual::Types;
use super::{FilterError, Schema};
use crate::diagnostics::Code;
use crate::ir::{Shape, ShapeBase};
use crate::PolicySet;
use serde_json::Value as Json;
use std::sync::Arc;

/// The type a column holds, as the resource sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// A 64-bit integer.
    Int,
    /// Text.
    String,
    /// A boolean (SQLite: the integers 0 and 1).
    Bool,
    /// A UUID: text in the hyphenated form (PostgreSQL: a `uuid` column).
    Uuid,
}

impl ColumnType {
    /// The resource type of a non-NULL value.
    pub fn types(self) -> Types {
        match self {
            ColumnType::Int => Types::INT,
            ColumnType::Bool => Types::BOOL,
            ColumnType::String | ColumnType::Uuid => Types::STRING,
        }
    }

    fn name(self) -> &'static str {
        match self {
            ColumnType::Int => "int",
            ColumnType::String => "string",
            ColumnType::Bool => "bool",
            ColumnType::Uuid => "uuid",
        }
    }
}

/// What a SQL NULL in a column, or a missing joined row, stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NullAs {
    /// JSON `null`.
    Null,
    /// The key is absent.
    Absent,
    /// Never NULL (`NOT NULL`; a joined row that always exists).
    Never,
}

impl NullAs {
    /// The resource type it gives.
    pub fn types(self) -> Types {
        match self {
            NullAs::Null => Types::NULL,
            NullAs::Absent => Types::ABSENT,
            NullAs::Never => Types::NONE,
        }
    }
}

/// How one table's rows join another's: `child.column = parent.column` pairs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Join {
    /// The other table.
    pub table: String,
    /// `(column of the other table, column of this one)`.
    pub on: Vec<(String, String)>,
}

/// One node of the mapping.
#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    /// A column of the current table.
    Column {
        /// Its name.
        column: String,
        /// What it holds.
        ty: ColumnType,
        /// What NULL means.
        null: NullAs,
    },
    /// A record made of fields of the current table.
    Fields(Vec<(String, Node)>),
    /// A record from the one row of another table that joins this one
    /// (its join columns must be a key of that table).
    One {
        /// How.
        join: Join,
        /// Its fields, over the joined table.
        fields: Vec<(String, Node)>,
        /// What a missing row stands for.
        missing: NullAs,
    },
    /// A list: one element per row of another table that joins this one.
    Many {
        /// How.
        join: Join,
        /// Each element, over the joined table (a column or fields).
        element: Box<Node>,
        /// Columns that order the elements (the policy sees them in this order).
        order: Vec<String>,
    },
}

/// A mapping of a resource to one table and its relations.
#[derive(Clone, Debug, PartialEq)]
pub struct Mapping {
    /// The table the rows come from.
    pub table: String,
    /// How the query names it (`FROM table AS alias`); the table by default.
    pub alias: Option<String>,
    /// The resource's fields.
    pub fields: Vec<(String, Node)>,
}

fn bad(at: &str, message: impl Into<String>) -> FilterError {
    FilterError::new(
        Code::InvalidMapping,
        format!("mapping `{at}`: {}", message.into()),
    )
    .help(format!(
        "see {}",
        crate::diagnostics::docs_url("filtering#the-mapping")
    ))
}

fn ident(at: &str, v: Option<&Json>, what: &str) -> Result<String, FilterError> {
    let s = v
        .and_then(Json::as_str)
        .ok_or_else(|| bad(at, format!("needs `{what}`, a string")))?;
    let ok = !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .enumerate()
            .all(|(i, b)| b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit()));
    if ok {
        Ok(s.to_string())
    } else {
        Err(bad(
            at,
            format!("`{s}` is not a plain SQL name (letters, digits and `_`, not starting with a digit)"),
        ))
    }
}

fn only(at: &str, obj: &serde_json::Map<String, Json>, keys: &[&str]) -> Result<(), FilterError> {
    for k in obj.keys() {
        if !keys.contains(&k.as_str()) {
            return Err(bad(
                at,
                format!("unknown key `{k}`; expected one of {}", keys.join(", ")),
            ));
        }
    }
    Ok(())
}

fn null_as(at: &str, v: Option<&Json>, key: &str) -> Result<NullAs, FilterError> {
    match v.map(|v| v.as_str()) {
        None => Ok(NullAs::Null),
        Some(Some("null")) => Ok(NullAs::Null),
        Some(Some("absent")) => Ok(NullAs::Absent),
        Some(Some("never")) => Ok(NullAs::Never),
        _ => Err(bad(
            at,
            format!("`{key}` is \"null\", \"absent\" or \"never\""),
        )),
    }
}

fn join(at: &str, v: Option<&Json>) -> Result<Join, FilterError> {
    let obj = v
        .and_then(Json::as_object)
        .ok_or_else(|| bad(at, "needs an object with `table` and `on`"))?;
    only(at, obj, &["table", "on"])?;
    let table = ident(at, obj.get("table"), "table")?;
    let on_obj = obj
        .get("on")
        .and_then(Json::as_object)
        .filter(|o| !o.is_empty())
        .ok_or_else(|| {
            bad(
                at,
                "`on` maps columns of the joined table to columns of this one",
            )
        })?;
    let mut on = Vec::new();
    for (theirs, ours) in on_obj {
        on.push((
            ident(at, Some(&Json::String(theirs.clone())), "on")?,
            ident(at, Some(ours), "on")?,
        ));
    }
    Ok(Join { table, on })
}

fn fields(at: &str, v: Option<&Json>) -> Result<Vec<(String, Node)>, FilterError> {
    let obj = v
        .and_then(Json::as_object)
        .ok_or_else(|| bad(at, "needs `fields`, an object of field name to mapping"))?;
    let mut out = Vec::new();
    for (name, node) in obj {
        out.push((
            name.clone(),
            self::node(&format!("{at}.{name}"), node, false)?,
        ));
    }
    Ok(out)
}

fn node(at: &str, v: &Json, element: bool) -> Result<Node, FilterError> {
    let obj = v
        .as_object()
        .ok_or_else(|| bad(at, "a field maps to an object"))?;
    if obj.contains_key("column") {
        only(at, obj, &["column", "type", "null"])?;
        let ty = match obj.get("type").and_then(Json::as_str) {
            Some("int") => ColumnType::Int,
            Some("string") => ColumnType::String,
            Some("bool") => ColumnType::Bool,
            Some("uuid") => ColumnType::Uuid,
            _ => {
                return Err(bad(
                    at,
                    "`type` is \"int\", \"string\", \"bool\" or \"uuid\"",
                ))
            }
        };
        let null = null_as(at, obj.get("null"), "null")?;
        if element && null == NullAs::Absent {
            return Err(bad(
                at,
                "a list element cannot be absent; use \"null\" or \"never\"",
            ));
        }
        return Ok(Node::Column {
            column: ident(at, obj.get("column"), "column")?,
            ty,
            null,
        });
    }
    if obj.contains_key("many") {
        if element {
            return Err(bad(at, "a list element is a column or fields"));
        }
        only(at, obj, &["many", "element", "order"])?;
        let element = obj
            .get("element")
            .ok_or_else(|| bad(at, "needs `element`"))?;
        let mut order = Vec::new();
        if let Some(o) = obj.get("order") {
            let items = o
                .as_array()
                .ok_or_else(|| bad(at, "`order` is a list of column names"))?;
            for i in items {
                order.push(ident(at, Some(i), "order")?);
            }
        }
        return Ok(Node::Many {
            join: join(&format!("{at}.many"), obj.get("many"))?,
            element: Box::new(node(&format!("{at}.element"), element, true)?),
            order,
        });
    }
    if obj.contains_key("one") {
        if element {
            return Err(bad(at, "a list element is a column or fields"));
        }
        only(at, obj, &["one", "fields", "missing"])?;
        return Ok(Node::One {
            join: join(&format!("{at}.one"), obj.get("one"))?,
            fields: fields(at, obj.get("fields"))?,
            missing: null_as(at, obj.get("missing"), "missing")?,
        });
    }
    if obj.contains_key("fields") {
        only(at, obj, &["fields"])?;
        return Ok(Node::Fields(fields(at, obj.get("fields"))?));
    }
    Err(bad(
        at,
        "a field maps to a `column`, `fields`, `one` (a joined row) or `many` (related rows)",
    ))
}

impl Mapping {
    /// Reads a mapping from JSON text.
    pub fn from_json_str(text: &str) -> Result<Mapping, FilterError> {
        let json: Json =
            serde_json::from_str(text).map_err(|e| bad("", format!("not valid JSON: {e}")))?;
        Mapping::from_json(&json)
    }

    /// Reads a mapping from JSON.
    pub fn from_json(json: &Json) -> Result<Mapping, FilterError> {
        let obj = json
            .as_object()
            .ok_or_else(|| bad("", "a mapping is a JSON object"))?;
        only("", obj, &["version", "table", "alias", "resource"])?;
        match obj.get("version") {
            Some(v) if v.as_u64() == Some(super::VERSION) => {}
            _ => return Err(bad("version", "must be 1")),
        }
        let alias = match obj.get("alias") {
            None => None,
            Some(a) => Some(ident("alias", Some(a), "alias")?),
        };
        Ok(Mapping {
            table: ident("table", obj.get("table"), "table")?,
            alias,
            fields: fields("resource", obj.get("resource"))?,
        })
    }

    /// What the rows can hold, for [`PolicySet::filter_with`].
    pub fn schema(&self) -> Schema {
        Schema {
            know: record_know(&self.fields, Types::NONE),
        }
    }

    /// Checks the mapping against what the policy's contract for `action`
    /// says of the resource: a mapped field the contract does not declare,
    /// a column whose type the contract refuses, a field the contract
    /// requires that the mapping lacks.
    pub fn check(&self, policy: &PolicySet, action: &str) -> Result<(), FilterError> {
        let Some(shape) = policy.resource_contract(action) else {
            return Ok(());
        };
        check_fields("resource", &self.fields, shape)
    }
}

fn record_know(fields: &[(String, Node)], missing: Types) -> Know {
    let mut k = Know::of(Types::RECORD.or(missing));
    k.fields = fields
        .iter()
        .map(|(n, node)| (Arc::from(n.as_str()), node_know(node)))
        .collect();
    k.others = Some(Box::new(Know::of(Types::ABSENT)));
    k
}

fn node_know(n: &Node) -> Know {
    match n {
        Node::Column { ty, null, .. } => {
            let mut k = Know::of(ty.types().or(null.types()));
            k.uuid = *ty == ColumnType::Uuid;
            k
        }
        Node::Fields(f) => record_know(f, Types::NONE),
        Node::One {
            fields, missing, ..
        } => record_know(fields, missing.types()),
        Node::Many { element, .. } => {
            let mut k = Know::of(Types::LIST);
            k.elem = Some(Box::new(node_know(element)));
            k
        }
    }
}

fn mismatch(at: &str, message: String) -> FilterError {
    FilterError::new(Code::MappingMismatch, format!("mapping `{at}`: {message}"))
        .help("the mapping and the policy's request contract must describe the same resource")
}

fn check_fields(at: &str, fields: &[(String, Node)], shape: &Shape) -> Result<(), FilterError> {
    let (declared, rest) = match &shape.base {
        ShapeBase::Record(d, rest) => (d, rest),
        ShapeBase::Any => return Ok(()),
        ShapeBase::OneOf(_) => return Ok(()),
        _ => {
            return Err(mismatch(
                at,
                format!(
                    "the contract says {} here, the mapping a record",
                    shape_word(shape)
                ),
            ))
        }
    };
    for (name, node) in fields {
        let here = format!("{at}.{name}");
        match declared.iter().find(|(n, _, _)| n.as_ref() == name) {
            Some((_, _, s)) => check_node(&here, node, s)?,
            None => match rest {
                Some(r) => check_node(&here, node, r)?,
                None => {
                    return Err(mismatch(
                        &here,
                        "the contract does not declare this field; declare it in the `request` shape, or leave it out of the mapping".to_string(),
                    ))
                }
            },
        }
    }
    for (name, optional, _) in declared {
        if !optional && !fields.iter().any(|(n, _)| n == name.as_ref()) {
            return Err(mismatch(
                &format!("{at}.{name}"),
                "the contract requires this field, and the mapping has no column for it: no row would fit".to_string(),
            ));
        }
    }
    Ok(())
}

fn check_node(at: &str, node: &Node, shape: &Shape) -> Result<(), FilterError> {
    let know = node_know(node);
    let allowed = Know::from_shape(shape)
        .types
        .or(Types::ABSENT)
        .or(Types::NULL);
    if !know
        .types
        .meets(allowed.minus(Types::NULL).minus(Types::ABSENT))
        && !know.types.within(Types::NULL.or(Types::ABSENT))
    {
        let what = match node {
            Node::Column { ty, .. } => format!("a column of type {}", ty.name()),
            Node::Many { .. } => "a list of related rows".to_string(),
            _ => "a record".to_string(),
        };
        return Err(mismatch(
            at,
            format!(
                "the contract says {} here, the mapping {what}: no row would fit",
                shape_word(shape)
            ),
        ));
    }
    match (node, &shape.base) {
        (Node::Fields(f) | Node::One { fields: f, .. }, _) => check_fields(at, f, shape),
        (Node::Many { element, .. }, ShapeBase::List(inner)) => {
            check_node(&format!("{at}[]"), element, inner)
        }
        _ => Ok(()),
    }
}

fn shape_word(shape: &Shape) -> &'static str {
    match &shape.base {
        ShapeBase::Any => "any value",
        ShapeBase::Bool => "a boolean",
        ShapeBase::Int => "an integer",
        ShapeBase::Number => "a number",
        ShapeBase::String => "a string",
        ShapeBase::Regex => "a pattern (a string)",
        ShapeBase::Uuid => "a UUID",
        ShapeBase::OneOf(_) => "one of several types",
        ShapeBase::List(_) => "a list",
        ShapeBase::Record(..) => "a record",
    }
}
