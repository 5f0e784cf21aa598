//! The residual condition: what is left of a policy once everything but the
//! resource is known, over the resource's attributes.
//!
//! Every condition is total: it is true or false of any resource, never an
//! error. A path names a value inside the resource (or inside an element of
//! a list the condition quantifies over); its *type* is one of `absent`
//! (some step of the path is missing, or is not a record), `null`, `bool`,
//! `int`, `number` (a JSON number with a fraction or exponent), `string`,
//! `list` or `record`. Atoms other than `type` are false when the value is
//! absent or of a type they do not apply to. `docs/filtering.md` documents
//! the JSON form (`"version": 1`).

use crate::value::{is_uuid_text, val_cmp, val_eq, Val, Value};
use std::cmp::Ordering;
use std::sync::Arc;

/// A set of value types; `absent` is one of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Types(pub u8);

impl Types {
    /// The path does not reach a value.
    pub const ABSENT: Types = Types(1);
    /// `null`.
    pub const NULL: Types = Types(2);
    /// `true` or `false`.
    pub const BOOL: Types = Types(4);
    /// An integer.
    pub const INT: Types = Types(8);
    /// A number with a fraction or exponent.
    pub const NUMBER: Types = Types(16);
    /// A string.
    pub const STRING: Types = Types(32);
    /// A list.
    pub const LIST: Types = Types(64);
    /// A record.
    pub const RECORD: Types = Types(128);
    /// No type.
    pub const NONE: Types = Types(0);
    /// Every type.
    pub const ALL: Types = Types(255);
    /// Every type but absent.
    pub const PRESENT: Types = Types(254);
    /// Integers and numbers.
    pub const NUMERIC: Types = Types(8 | 16);
    /// Names in the JSON form, in order.
    pub const NAMES: [(&'static str, Types); 8] = [
        ("absent", Types::ABSENT),
        ("null", Types::NULL),
        ("bool", Types::BOOL),
        ("int", Types::INT),
        ("number", Types::NUMBER),
        ("string", Types::STRING),
        ("list", Types::LIST),
        ("record", Types::RECORD),
    ];

    /// Both sets.
    pub fn or(self, other: Types) -> Types {
        Types(self.0 | other.0)
    }
    /// What both sets hold.
    pub fn and(self, other: Types) -> Types {
        Types(self.0 & other.0)
    }
    /// This set without `other`.
    pub fn minus(self, other: Types) -> Types {
        Types(self.0 & !other.0)
    }
    /// Whether the sets share a type.
    pub fn meets(self, other: Types) -> bool {
        self.0 & other.0 != 0
    }
    /// Whether every type of this set is in `other`.
    pub fn within(self, other: Types) -> bool {
        self.0 & !other.0 == 0
    }
    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The type of a value.
    pub fn of(v: &Value) -> Types {
        match v {
            Value::Null => Types::NULL,
            Value::Bool(_) => Types::BOOL,
            Value::Int(_) => Types::INT,
            Value::Float(_) => Types::NUMBER,
            Value::Str(_) => Types::STRING,
            Value::List(_) => Types::LIST,
            Value::Record(_) => Types::RECORD,
        }
    }

    /// The types a value must have to equal `v`: integers and numbers
    /// compare by exact value.
    pub fn equal_to(v: &Value) -> Types {
        match v {
            Value::Int(_) | Value::Float(_) => Types::NUMERIC,
            other => Types::of(other),
        }
    }

    /// The names of the types in the set, in the JSON form's order.
    pub fn names(self) -> Vec<&'static str> {
        Types::NAMES
            .iter()
            .filter(|(_, t)| self.meets(*t))
            .map(|(n, _)| *n)
            .collect()
    }
}

/// A place in the resource: a field path from the resource, or from the
/// element an enclosing `exists` is looking at (`var`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Path {
    /// The `exists` whose element the path starts from; `None`: the resource.
    pub var: Option<u32>,
    /// Field names, outermost first.
    pub steps: Vec<Arc<str>>,
}

impl Path {
    /// The resource itself.
    pub fn root() -> Path {
        Path {
            var: None,
            steps: Vec::new(),
        }
    }

    /// The element of the `exists` numbered `var`.
    pub fn element(var: u32) -> Path {
        Path {
            var: Some(var),
            steps: Vec::new(),
        }
    }

    /// This path, one field further.
    pub fn child(&self, name: &str) -> Path {
        let mut steps = self.steps.clone();
        steps.push(Arc::from(name));
        Path {
            var: self.var,
            steps,
        }
    }

    /// The path without its last step, if it has one.
    pub fn parent(&self) -> Option<Path> {
        let mut steps = self.steps.clone();
        steps.pop()?;
        Some(Path {
            var: self.var,
            steps,
        })
    }

    /// `resource.a.b`, or `e1.a` inside an `exists`.
    pub fn dotted(&self) -> String {
        let mut out = match self.var {
            None => "resource".to_string(),
            Some(v) => format!("e{v}"),
        };
        for s in &self.steps {
            out.push('.');
            out.push_str(s);
        }
        out
    }
}

/// An ordering comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OrderOp {
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl OrderOp {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            OrderOp::Lt => "lt",
            OrderOp::Le => "le",
            OrderOp::Gt => "gt",
            OrderOp::Ge => "ge",
        }
    }

    /// The same comparison with its operands swapped.
    pub fn swapped(self) -> OrderOp {
        match self {
            OrderOp::Lt => OrderOp::Gt,
            OrderOp::Le => OrderOp::Ge,
            OrderOp::Gt => OrderOp::Lt,
            OrderOp::Ge => OrderOp::Le,
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            OrderOp::Lt => o.is_lt(),
            OrderOp::Le => o.is_le(),
            OrderOp::Gt => o.is_gt(),
            OrderOp::Ge => o.is_ge(),
        }
    }
}

/// A test of a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TextOp {
    /// The whole string matches a glob: `*` is any run of characters, every
    /// other character stands for itself.
    Like,
    /// The string starts with the value.
    StartsWith,
    /// The string ends with the value.
    EndsWith,
    /// The value occurs in the string.
    Contains,
}

impl TextOp {
    /// The JSON name.
    pub fn name(self) -> &'static str {
        match self {
            TextOp::Like => "like",
            TextOp::StartsWith => "starts_with",
            TextOp::EndsWith => "ends_with",
            TextOp::Contains => "contains",
        }
    }
}

/// A test of the value at a path. Each is false when the value is absent.
#[derive(Clone, Debug, PartialEq)]
pub enum Atom {
    /// The value's type is one of `types`.
    Type {
        /// Where.
        path: Path,
        /// Allowed types.
        types: Types,
    },
    /// The value equals a scalar exactly: same type (an integer and a number
    /// of the same value are equal), strings byte for byte.
    Eq {
        /// Where.
        path: Path,
        /// A boolean, integer, number or string.
        value: Value,
    },
    /// The value equals one of the scalars.
    In {
        /// Where.
        path: Path,
        /// Booleans, integers, numbers or strings.
        values: Vec<Value>,
    },
    /// The value orders against a number (numbers only) or a string
    /// (strings only, by code point).
    Order {
        /// Where.
        path: Path,
        /// `<`, `<=`, `>`, `>=`, value at the path on the left.
        op: OrderOp,
        /// A number or a string.
        value: Value,
    },
    /// Both values are present and equal exactly (null equals null).
    EqPath {
        /// One side.
        path: Path,
        /// The other side.
        other: Path,
    },
    /// The value is a string passing a text test.
    Text {
        /// Where.
        path: Path,
        /// Which test.
        op: TextOp,
        /// The glob, prefix, suffix or part.
        value: String,
    },
    /// The value is a string in the hyphenated UUID form (any letter case).
    IsUuid {
        /// Where.
        path: Path,
    },
    /// The value is a hyphenated UUID equal to `value` ignoring letter case.
    UuidEq {
        /// Where.
        path: Path,
        /// A UUID in lower case.
        value: String,
    },
    /// Both values are hyphenated UUIDs, equal ignoring letter case.
    UuidEqPath {
        /// One side.
        path: Path,
        /// The other side.
        other: Path,
    },
    /// The value is a list with an element for which `cond` holds; inside
    /// `cond`, paths with `var` start from that element.
    Exists {
        /// The list.
        path: Path,
        /// The number naming the element.
        var: u32,
        /// What the element must satisfy.
        cond: Box<Condition>,
    },
}

impl Atom {
    /// The path the atom tests.
    pub fn path(&self) -> &Path {
        match self {
            Atom::Type { path, .. }
            | Atom::Eq { path, .. }
            | Atom::In { path, .. }
            | Atom::Order { path, .. }
            | Atom::EqPath { path, .. }
            | Atom::Text { path, .. }
            | Atom::IsUuid { path }
            | Atom::UuidEq { path, .. }
            | Atom::UuidEqPath { path, .. }
            | Atom::Exists { path, .. } => path,
        }
    }
}

/// A condition over the resource.
#[derive(Clone, Debug, PartialEq)]
pub enum Condition {
    /// Always.
    True,
    /// Never.
    False,
    /// One test.
    Atom(Atom),
    /// Negation.
    Not(Box<Condition>),
    /// All of them (never empty or single).
    And(Vec<Condition>),
    /// Any of them (never empty or single).
    Or(Vec<Condition>),
}

impl Condition {
    /// An atom.
    pub fn atom(a: Atom) -> Condition {
        match a {
            Atom::Type { types, .. } if types.is_empty() => Condition::False,
            Atom::Type { types, .. } if types == Types::ALL => Condition::True,
            Atom::In { values, .. } if values.is_empty() => Condition::False,
            Atom::Exists { cond, .. } if *cond == Condition::False => Condition::False,
            a => Condition::Atom(a),
        }
    }

    /// `type(path) ∈ types`.
    pub fn types(path: &Path, types: Types) -> Condition {
        Condition::atom(Atom::Type {
            path: path.clone(),
            types,
        })
    }

    /// All of them, simplified.
    pub fn and(items: impl IntoIterator<Item = Condition>) -> Condition {
        let mut out: Vec<Condition> = Vec::new();
        for c in items {
            match c {
                Condition::True => {}
                Condition::False => return Condition::False,
                Condition::And(inner) => {
                    for i in inner {
                        if !out.contains(&i) {
                            out.push(i);
                        }
                    }
                }
                other => {
                    if !out.contains(&other) {
                        out.push(other);
                    }
                }
            }
        }
        for c in &out {
            if let Condition::Not(inner) = c {
                if out.contains(inner) {
                    return Condition::False;
                }
            }
        }
        let out = merge_types(out, true);
        if out.contains(&Condition::False) {
            return Condition::False;
        }
        let mut out = out;
        match out.len() {
            0 => Condition::True,
            1 => out.pop().unwrap_or(Condition::True),
            _ => Condition::And(out),
        }
    }

    /// Any of them, simplified.
    pub fn or(items: impl IntoIterator<Item = Condition>) -> Condition {
        let mut out: Vec<Condition> = Vec::new();
        for c in items {
            match c {
                Condition::False => {}
                Condition::True => return Condition::True,
                Condition::Or(inner) => {
                    for i in inner {
                        if !out.contains(&i) {
                            out.push(i);
                        }
                    }
                }
                other => {
                    if !out.contains(&other) {
                        out.push(other);
                    }
                }
            }
        }
        for c in &out {
            if let Condition::Not(inner) = c {
                if out.contains(inner) {
                    return Condition::True;
                }
            }
        }
        let out = merge_types(out, false);
        if out.contains(&Condition::True) {
            return Condition::True;
        }
        let mut out = out;
        match out.len() {
            0 => Condition::False,
            1 => out.pop().unwrap_or(Condition::False),
            _ => Condition::Or(out),
        }
    }

    /// The negation, simplified.
    #[expect(
        clippy::should_implement_trait,
        reason = "a constructor that simplifies, like `and` and `or`"
    )]
    pub fn not(c: Condition) -> Condition {
        match c {
            Condition::True => Condition::False,
            Condition::False => Condition::True,
            Condition::Not(inner) => *inner,
            // A type test's negation is the test of the other types.
            Condition::Atom(Atom::Type { path, types }) => Condition::atom(Atom::Type {
                path,
                types: Types::ALL.minus(types),
            }),
            other => Condition::Not(Box::new(other)),
        }
    }

    /// Number of nodes, for limits.
    pub fn size(&self) -> usize {
        match self {
            Condition::True | Condition::False => 1,
            Condition::Atom(Atom::Exists { cond, .. }) => 1 + cond.size(),
            Condition::Atom(Atom::In { values, .. }) => 1 + values.len(),
            Condition::Atom(_) => 1,
            Condition::Not(c) => 1 + c.size(),
            Condition::And(cs) | Condition::Or(cs) => {
                1 + cs.iter().map(Condition::size).sum::<usize>()
            }
        }
    }

    /// Whether the condition holds of a resource. This is the meaning of
    /// the residual that renderers must keep.
    pub fn holds(&self, resource: &Value) -> bool {
        self.holds_in(resource, &mut Vec::new())
    }

    fn holds_in<'v>(&self, resource: &'v Value, vars: &mut Vec<(u32, &'v Value)>) -> bool {
        match self {
            Condition::True => true,
            Condition::False => false,
            Condition::Not(c) => !c.holds_in(resource, vars),
            Condition::And(cs) => cs.iter().all(|c| c.holds_in(resource, vars)),
            Condition::Or(cs) => cs.iter().any(|c| c.holds_in(resource, vars)),
            Condition::Atom(a) => a.holds_in(resource, vars),
        }
    }
}

/// Type tests of one path joined into one: intersected under `and`,
/// united under `or`.
fn merge_types(items: Vec<Condition>, and: bool) -> Vec<Condition> {
    let mut out: Vec<Condition> = Vec::with_capacity(items.len());
    for c in items {
        if let Condition::Atom(Atom::Type { path, types }) = &c {
            let found = out.iter_mut().find_map(|o| match o {
                Condition::Atom(Atom::Type { path: q, types: t }) if q == path => Some(t),
                _ => None,
            });
            if let Some(t) = found {
                *t = if and { t.and(*types) } else { t.or(*types) };
                continue;
            }
        }
        out.push(c);
    }
    out.into_iter()
        .map(|c| match c {
            Condition::Atom(Atom::Type { types, .. }) if types.is_empty() => Condition::False,
            Condition::Atom(Atom::Type { types, .. }) if types == Types::ALL => Condition::True,
            other => other,
        })
        .collect()
}

/// The value a path reaches, or `None` when it is absent.
pub fn value_at<'v>(
    resource: &'v Value,
    vars: &[(u32, &'v Value)],
    path: &Path,
) -> Option<&'v Value> {
    let mut cur = match path.var {
        None => resource,
        Some(v) => vars.iter().rev().find(|(n, _)| *n == v).map(|(_, e)| *e)?,
    };
    for step in &path.steps {
        cur = match cur {
            Value::Record(r) => r.get(step)?,
            _ => return None,
        };
    }
    Some(cur)
}

impl Atom {
    fn holds_in<'v>(&self, resource: &'v Value, vars: &mut Vec<(u32, &'v Value)>) -> bool {
        let at = |p: &Path, vars: &[(u32, &'v Value)]| value_at(resource, vars, p);
        match self {
            Atom::Type { path, types } => match at(path, vars) {
                None => types.meets(Types::ABSENT),
                Some(v) => types.meets(Types::of(v)),
            },
            Atom::Eq { path, value } => {
                at(path, vars).is_some_and(|v| val_eq(&Val::from(v), &Val::from(value)))
            }
            Atom::In { path, values } => at(path, vars)
                .is_some_and(|v| values.iter().any(|w| val_eq(&Val::from(v), &Val::from(w)))),
            Atom::Order { path, op, value } => at(path, vars).is_some_and(|v| {
                let comparable = matches!(
                    (v, value),
                    (
                        Value::Int(_) | Value::Float(_),
                        Value::Int(_) | Value::Float(_)
                    ) | (Value::Str(_), Value::Str(_))
                );
                comparable && val_cmp(&Val::from(v), &Val::from(value)).is_some_and(|o| op.holds(o))
            }),
            Atom::EqPath { path, other } => match (at(path, vars), at(other, vars)) {
                (Some(a), Some(b)) => val_eq(&Val::from(a), &Val::from(b)),
                _ => false,
            },
            Atom::Text { path, op, value } => match at(path, vars) {
                Some(Value::Str(s)) => match op {
                    TextOp::Like => crate::value::glob_match(value, s),
                    TextOp::StartsWith => s.starts_with(value.as_str()),
                    TextOp::EndsWith => s.ends_with(value.as_str()),
                    TextOp::Contains => s.contains(value.as_str()),
                },
                _ => false,
            },
            Atom::IsUuid { path } => {
                matches!(at(path, vars), Some(Value::Str(s)) if is_uuid_text(s))
            }
            Atom::UuidEq { path, value } => matches!(at(path, vars),
                Some(Value::Str(s)) if is_uuid_text(s) && s.eq_ignore_ascii_case(value)),
            Atom::UuidEqPath { path, other } => match (at(path, vars), at(other, vars)) {
                (Some(Value::Str(a)), Some(Value::Str(b))) => {
                    is_uuid_text(a) && is_uuid_text(b) && a.eq_ignore_ascii_case(b)
                }
                _ => false,
            },
            Atom::Exists { path, var, cond } => match at(path, vars) {
                Some(Value::List(items)) => items.items().iter().any(|item| {
                    vars.push((*var, item));
                    let hit = cond.holds_in(resource, vars);
                    vars.pop();
                    hit
                }),
                _ => false,
            },
        }
    }
}

// ------------------------------------------------------------------ JSON

fn path_json(out: &mut serde_json::Map<String, serde_json::Value>, key: &str, p: &Path) {
    out.insert(
        key.to_string(),
        serde_json::Value::Array(
            p.steps
                .iter()
                .map(|s| serde_json::Value::from(s.as_ref()))
                .collect(),
        ),
    );
    if let Some(v) = p.var {
        let var_key = if key == "path" { "var" } else { "other_var" };
        out.insert(var_key.to_string(), format!("e{v}").into());
    }
}

impl Condition {
    /// The JSON form (`docs/filtering.md`).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        match self {
            Condition::True => json!(true),
            Condition::False => json!(false),
            Condition::Not(c) => json!({ "not": c.to_json() }),
            Condition::And(cs) => {
                json!({ "and": cs.iter().map(Condition::to_json).collect::<Vec<_>>() })
            }
            Condition::Or(cs) => {
                json!({ "or": cs.iter().map(Condition::to_json).collect::<Vec<_>>() })
            }
            Condition::Atom(a) => {
                let mut m = serde_json::Map::new();
                let op = match a {
                    Atom::Type { types, .. } => {
                        m.insert("types".into(), types.names().into());
                        "type"
                    }
                    Atom::Eq { value, .. } => {
                        m.insert("value".into(), value.to_json());
                        "eq"
                    }
                    Atom::In { values, .. } => {
                        m.insert("values".into(), values.iter().map(Value::to_json).collect());
                        "in"
                    }
                    Atom::Order { op, value, .. } => {
                        m.insert("value".into(), value.to_json());
                        op.name()
                    }
                    Atom::EqPath { other, .. } => {
                        path_json(&mut m, "other", other);
                        "eq_path"
                    }
                    Atom::Text { op, value, .. } => {
                        let key = if *op == TextOp::Like { "glob" } else { "value" };
                        m.insert(key.into(), value.as_str().into());
                        op.name()
                    }
                    Atom::IsUuid { .. } => "is_uuid",
                    Atom::UuidEq { value, .. } => {
                        m.insert("value".into(), value.as_str().into());
                        "uuid_eq"
                    }
                    Atom::UuidEqPath { other, .. } => {
                        path_json(&mut m, "other", other);
                        "uuid_eq_path"
                    }
                    Atom::Exists { var, cond, .. } => {
                        m.insert("as".into(), format!("e{var}").into());
                        m.insert("where".into(), cond.to_json());
                        "exists"
                    }
                };
                path_json(&mut m, "path", a.path());
                m.insert("op".into(), op.into());
                serde_json::Value::Object(m)
            }
        }
    }
}
