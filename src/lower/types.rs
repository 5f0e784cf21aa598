//! Step two: static types and their rules.
//!
//! Input: the types `lower.rs` infers while it resolves names. Output: type
//! mismatch findings (`PCL206`) and unknown-field findings (`PCL201`).
//! Invariants:
//! - `Ty::Any` never causes a finding: only what is known to be wrong is
//!   reported, so policies without declared shapes check cleanly;
//! - checking is linear in the policy: a type is copied wherever a name is
//!   used, so copies share their parts (`Rc`) and cost nothing, types nest
//!   at most [`MAX_TYPE_DEPTH`] deep (deeper parts are `Any`), a record
//!   type finds its fields by hash, and comparing two types looks at a
//!   bounded number of nodes ([`same`]).

use crate::ast::{BinOp, ShapeBase, ShapeType, Span};
use crate::diagnostics::{did_you_mean, Code, Finding};
use std::collections::HashMap;
use std::fmt;
use std::rc::Rc;

/// A static type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Ty {
    Any,
    Null,
    Bool,
    Int,
    Number,
    Str,
    Uuid,
    /// Built with [`Ty::list`].
    List(Rc<Ty>),
    /// A record, built with [`Ty::record`]; `None` when its fields are not
    /// known.
    Record(Option<Rc<RecordTy>>),
    Principal,
    Pattern,
    /// A fixed-point decimal (`0.75`, `decimal(x)`).
    Decimal,
    /// An IP address or range (`ip(x)`).
    Ip,
    /// A timestamp (`timestamp(x)`).
    Time,
    /// A duration (`duration(x)`).
    Duration,
}

/// Types nest no deeper than this; a deeper element or field is `Any`.
pub(crate) const MAX_TYPE_DEPTH: usize = 32;

/// Record types of more fields than this find a field by hash.
const HASHED_FIELDS: usize = 16;

/// The fields of a record type, in order.
#[derive(Debug)]
pub(crate) struct RecordTy {
    fields: Vec<(String, Ty)>,
    by_name: Option<HashMap<String, usize>>,
    /// The type of every field not named (`*: T`, `[string]: T`): a map's
    /// values. `None`: other fields are not known.
    rest: Option<Ty>,
    depth: usize,
}

impl PartialEq for RecordTy {
    fn eq(&self, other: &Self) -> bool {
        self.fields == other.fields && self.rest == other.rest
    }
}

impl RecordTy {
    /// The type of field `name`.
    pub fn get(&self, name: &str) -> Option<&Ty> {
        match &self.by_name {
            Some(map) => map
                .get(name)
                .and_then(|i| self.fields.get(*i))
                .map(|(_, t)| t),
            None => self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t),
        }
        .or(self.rest.as_ref())
    }

    /// The type of the fields the record does not name, if declared.
    pub fn rest(&self) -> Option<&Ty> {
        self.rest.as_ref()
    }

    /// The field names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(|(n, _)| n.as_str())
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Ty::Any => "any value",
            Ty::Null => "null",
            Ty::Bool => "a boolean",
            Ty::Int => "an integer",
            Ty::Number => "a number",
            Ty::Str => "a string",
            Ty::Uuid => "a UUID",
            Ty::List(_) => "a list",
            Ty::Record(_) => "a record",
            Ty::Principal => "a principal",
            Ty::Pattern => "a pattern",
            Ty::Decimal => "a decimal",
            Ty::Ip => "an IP address",
            Ty::Time => "a timestamp",
            Ty::Duration => "a duration",
        })
    }
}

impl Ty {
    /// A list of `elem`; past [`MAX_TYPE_DEPTH`] a list of anything.
    pub fn list(elem: Ty) -> Ty {
        if elem.depth() >= MAX_TYPE_DEPTH {
            return Ty::List(Rc::new(Ty::Any));
        }
        Ty::List(Rc::new(elem))
    }

    /// A record of these fields; past [`MAX_TYPE_DEPTH`] a record whose
    /// fields are not known.
    pub fn record(fields: Vec<(String, Ty)>) -> Ty {
        Ty::record_with_rest(fields, None)
    }

    /// A record of these fields whose other fields are each a `rest`
    /// (a map's values, when it names none).
    pub fn record_with_rest(fields: Vec<(String, Ty)>, rest: Option<Ty>) -> Ty {
        let depth = fields
            .iter()
            .map(|(_, t)| t)
            .chain(rest.as_ref())
            .map(Ty::depth)
            .max()
            .unwrap_or(0)
            + 1;
        if depth > MAX_TYPE_DEPTH {
            return Ty::Record(None);
        }
        let by_name = (fields.len() > HASHED_FIELDS).then(|| {
            let mut map = HashMap::with_capacity(fields.len());
            for (i, (n, _)) in fields.iter().enumerate() {
                map.entry(n.clone()).or_insert(i);
            }
            map
        });
        Ty::Record(Some(Rc::new(RecordTy {
            fields,
            by_name,
            rest,
            depth,
        })))
    }

    /// Nesting depth: a walk down a chain of list types, which
    /// [`Ty::list`] keeps within [`MAX_TYPE_DEPTH`].
    fn depth(&self) -> usize {
        let mut t = self;
        let mut d = 0;
        loop {
            match t {
                Ty::List(inner) => {
                    d += 1;
                    t = inner;
                }
                Ty::Record(Some(r)) => return d + r.depth,
                _ => return d,
            }
        }
    }

    /// The static type of a declared shape.
    pub fn of_shape(shape: &ShapeType) -> Ty {
        match &shape.base {
            ShapeBase::Any => Ty::Any,
            ShapeBase::Bool => Ty::Bool,
            ShapeBase::Int => Ty::Int,
            ShapeBase::Number => Ty::Number,
            ShapeBase::String => Ty::Str,
            ShapeBase::Uuid => Ty::Uuid,
            ShapeBase::Regex => Ty::Pattern,
            ShapeBase::List(inner) => Ty::list(Ty::of_shape(inner)),
            ShapeBase::OneOf(_) => Ty::Any,
            ShapeBase::Record(fields) => Ty::of_fields(fields),
        }
    }

    /// The static type of a record shape's fields, its `*: T` (or
    /// `[string]: T`) rest field included.
    pub fn of_fields(fields: &[crate::ast::ShapeField]) -> Ty {
        Ty::record_with_rest(
            fields
                .iter()
                .filter(|f| !f.rest)
                .map(|f| (f.name.name.clone(), Ty::of_shape(&f.ty)))
                .collect(),
            fields.iter().find(|f| f.rest).map(|f| Ty::of_shape(&f.ty)),
        )
    }

    pub(crate) fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Number | Ty::Decimal)
    }

    fn is_text(&self) -> bool {
        matches!(self, Ty::Str | Ty::Uuid)
    }

    /// Whether values of both types could ever be equal.
    fn comparable(&self, other: &Ty) -> bool {
        match (self, other) {
            (Ty::Any, _) | (_, Ty::Any) | (Ty::Null, _) | (_, Ty::Null) => true,
            (a, b) if a.is_numeric() && b.is_numeric() => true,
            (a, b) if a.is_text() && b.is_text() => true,
            (Ty::List(_), Ty::List(_)) | (Ty::Record(_), Ty::Record(_)) => true,
            (a, b) => std::mem::discriminant(a) == std::mem::discriminant(b),
        }
    }

    /// The element type, for quantifiers and comprehensions.
    pub fn element(&self) -> Ty {
        match self {
            Ty::List(inner) => (**inner).clone(),
            _ => Ty::Any,
        }
    }
}

/// How many type nodes [`same`] looks at before it gives up.
const SAME_BUDGET: usize = 64;

/// Whether two types are the same. Shared parts are equal at once; past
/// [`SAME_BUDGET`] nodes the types count as different, so callers fall
/// back to `Any` (which never causes a finding) rather than compare big
/// types once per use.
pub(crate) fn same(a: &Ty, b: &Ty) -> bool {
    fn within(a: &Ty, b: &Ty, budget: &mut usize) -> bool {
        if *budget == 0 {
            return false;
        }
        *budget -= 1;
        match (a, b) {
            (Ty::List(x), Ty::List(y)) => Rc::ptr_eq(x, y) || within(x, y, budget),
            (Ty::Record(Some(x)), Ty::Record(Some(y))) => {
                Rc::ptr_eq(x, y)
                    || (x.fields.len() == y.fields.len()
                        && match (&x.rest, &y.rest) {
                            (Some(t), Some(u)) => within(t, u, budget),
                            (None, None) => true,
                            _ => false,
                        }
                        && x.fields
                            .iter()
                            .zip(&y.fields)
                            .all(|((n, t), (m, u))| n == m && within(t, u, budget)))
            }
            (Ty::List(_), _) | (Ty::Record(Some(_)), _) => false,
            _ => a == b,
        }
    }
    let mut budget = SAME_BUDGET;
    within(a, b, &mut budget)
}

pub(super) fn mismatch(span: Span, message: String, label: String, help: &str) -> Box<Finding> {
    Box::new(
        Finding::new(Code::TypeMismatch, span, message)
            .label(label)
            .help(help),
    )
}

/// The type of `a op b`, or the finding that it can never work.
pub(crate) fn binary(op: BinOp, lhs: &Ty, rhs: &Ty, span: Span) -> Result<Ty, Box<Finding>> {
    match op {
        BinOp::And | BinOp::Or => {
            for t in [lhs, rhs] {
                if !matches!(t, Ty::Bool | Ty::Any) {
                    return Err(mismatch(
                        span,
                        format!("`{}` needs booleans, found {t}", op.as_str()),
                        "not a boolean".into(),
                        "compare the value explicitly, as in `x != null` or `x == true`",
                    ));
                }
            }
            Ok(Ty::Bool)
        }
        BinOp::Eq | BinOp::Ne => {
            if lhs.comparable(rhs) {
                Ok(Ty::Bool)
            } else {
                Err(mismatch(
                    span,
                    format!("comparing {lhs} with {rhs} is always {}", op == BinOp::Ne),
                    format!("{lhs} on the left, {rhs} on the right"),
                    "compare values of one type; convert with `int(...)` or `string(...)` if needed",
                ))
            }
        }
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
            let ok = matches!((lhs, rhs), (Ty::Any, _) | (_, Ty::Any))
                || (lhs.is_numeric() && rhs.is_numeric())
                || (lhs.is_text() && rhs.is_text())
                || matches!(
                    (lhs, rhs),
                    (Ty::Time, Ty::Time) | (Ty::Duration, Ty::Duration)
                );
            if ok {
                Ok(Ty::Bool)
            } else {
                Err(mismatch(
                    span,
                    format!("`{}` cannot order {lhs} and {rhs}", op.as_str()),
                    "these cannot be ordered".into(),
                    "order numbers with numbers, strings with strings, timestamps with timestamps and durations with durations",
                ))
            }
        }
        BinOp::In | BinOp::NotIn => match rhs {
            Ty::Any | Ty::Null | Ty::List(_) | Ty::Record(_) => Ok(Ty::Bool),
            Ty::Ip => super::arith::in_range(lhs, span),
            other => Err(mismatch(
                span,
                format!(
                    "`{}` needs a list or a record on its right, found {other}",
                    op.as_str()
                ),
                "not a list or record".into(),
                "use `contains(text, part)` for substrings",
            )),
        },
        BinOp::Like => {
            for t in [lhs, rhs] {
                if !matches!(t, Ty::Any | Ty::Str | Ty::Uuid) {
                    return Err(mismatch(
                        span,
                        format!("`like` matches strings, found {t}"),
                        "not a string".into(),
                        "write `text like \"glob*\"`",
                    ));
                }
            }
            Ok(Ty::Bool)
        }
        BinOp::Matches => match (lhs, rhs) {
            (Ty::Any | Ty::Null | Ty::Str | Ty::Uuid, Ty::Pattern) | (_, Ty::Any) => Ok(Ty::Bool),
            (Ty::Str | Ty::Uuid, Ty::Str) => Err(Box::new(
                Finding::new(
                    Code::TextMatchesDescriptor,
                    span,
                    "`matches` between text and a string: the string is read as a principal descriptor, which text never matches",
                )
                .label("text matched against a descriptor")
                .help("to match text against pattern text held as data, declare that field `regex` in the data shape (`re: regex`), or call `regex_match(text, pattern)`; for a glob write `text like pattern`"),
            )),
            (t, Ty::Pattern) => Err(mismatch(
                span,
                format!("a pattern matches text, found {t}"),
                "not text".into(),
                "apply the pattern to a string, such as `string(x) matches re\"...\"`",
            )),
            (
                _,
                t @ (Ty::Bool
                | Ty::Int
                | Ty::Number
                | Ty::Decimal
                | Ty::Ip
                | Ty::Time
                | Ty::Duration),
            ) => Err(mismatch(
                span,
                format!(
                    "`matches` needs a principal descriptor or a pattern on its right, found {t}"
                ),
                format!("{t}"),
                "write `principal matches role:admin` or `text matches re\"...\"`",
            )),
            _ => Ok(Ty::Bool),
        },
        BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Rem => {
            super::arith::binary(op, lhs, rhs, span)
        }
        BinOp::Coalesce => Ok(if matches!(lhs, Ty::Null) {
            rhs.clone()
        } else {
            lhs.clone()
        }),
    }
}

/// The type of `base.name`, or the finding that the field cannot exist.
pub(crate) fn field(base: &Ty, name: &str, span: Span) -> Result<Ty, Box<Finding>> {
    match base {
        Ty::Record(Some(fields)) => match fields.get(name) {
            Some(t) => Ok(t.clone()),
            None => {
                let mut f = Finding::new(
                    Code::UnknownField,
                    span,
                    format!("no field `{name}` in the declared shape"),
                )
                .label("unknown field");
                f = match did_you_mean(name, fields.names().take(SUGGESTED)) {
                    Some(s) => f.help(format!("did you mean `{s}`?")),
                    None => f.help(format!(
                        "declared fields: {}",
                        fields
                            .names()
                            .take(SUGGESTED)
                            .map(|n| format!("`{n}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )),
                };
                Err(Box::new(f))
            }
        },
        Ty::Any | Ty::Null | Ty::Record(None) => Ok(Ty::Any),
        other => Err(mismatch(
            span,
            format!("{other} has no field `{name}`"),
            "not a record".into(),
            "only records have fields",
        )),
    }
}

/// The most names a finding's help looks through or lists, so that a
/// policy of many mistakes is not checked in quadratic time.
pub(crate) const SUGGESTED: usize = 200;

/// A condition (`when`, `if`, `not`, quantifier bodies) must be boolean.
pub(crate) fn condition(ty: &Ty, span: Span, what: &str) -> Result<(), Box<Finding>> {
    match ty {
        Ty::Bool | Ty::Any => Ok(()),
        other => Err(mismatch(
            span,
            format!("{what} must be a boolean, found {other}"),
            "not a boolean".into(),
            "compare the value explicitly, as in `x != null` or `x == true`",
        )),
    }
}

/// Arguments of built-ins that need strings.
pub(crate) fn string_arg(ty: &Ty, span: Span, function: &str) -> Result<(), Box<Finding>> {
    match ty {
        Ty::Any | Ty::Null | Ty::Str | Ty::Uuid => Ok(()),
        other => Err(mismatch(
            span,
            format!("`{function}` needs a string, found {other}"),
            "not a string".into(),
            "convert with `string(...)` first",
        )),
    }
}

/// Whether a principal literal's text can be an id of the given field type.
pub(crate) fn principal_text(
    kind: &str,
    text: &str,
    field_ty: &Ty,
    span: Span,
) -> Result<(), Box<Finding>> {
    let bad = |what: &str, help: &str| {
        Err(Box::new(
            Finding::new(
                Code::MalformedPrincipal,
                span,
                format!("`{kind}:{text}` is not a valid {kind} {what}"),
            )
            .label("malformed principal")
            .help(help.to_string()),
        ))
    };
    if text.is_empty() {
        return bad("name", "write a non-empty value after the colon");
    }
    match field_ty {
        Ty::Int if !text.bytes().all(|b| b.is_ascii_digit()) => {
            bad("id", "this kind's ids are integers: write digits only")
        }
        Ty::Uuid if !crate::value::is_uuid_text(text) => {
            bad("id", "this kind's ids are UUIDs: write the hyphenated form")
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuid_and_int_do_not_compare() {
        assert!(binary(BinOp::Eq, &Ty::Uuid, &Ty::Int, Span::default()).is_err());
        assert!(binary(BinOp::Eq, &Ty::Uuid, &Ty::Str, Span::default()).is_ok());
        assert!(binary(BinOp::Eq, &Ty::Any, &Ty::Int, Span::default()).is_ok());
    }

    #[test]
    fn in_needs_a_collection() {
        assert!(binary(BinOp::In, &Ty::Str, &Ty::Int, Span::default()).is_err());
        assert!(binary(BinOp::In, &Ty::Str, &Ty::list(Ty::Str), Span::default()).is_ok());
    }

    #[test]
    fn unknown_fields_suggest_close_names() {
        let rec = Ty::record(vec![("roles".into(), Ty::Any)]);
        let err = field(&rec, "role", Span::default()).unwrap_err();
        assert_eq!(err.code, Code::UnknownField);
        assert_eq!(err.help.as_deref(), Some("did you mean `roles`?"));
        assert!(field(&Ty::Int, "x", Span::default()).is_err());
    }

    #[test]
    fn types_stay_small_and_compare_in_bounded_time() {
        let mut t = Ty::Int;
        for _ in 0..10_000 {
            t = Ty::list(t);
        }
        assert!(t.depth() <= MAX_TYPE_DEPTH);
        let wide: Vec<(String, Ty)> = (0..1_000).map(|i| (format!("f{i}"), Ty::Int)).collect();
        let a = Ty::record(wide.clone());
        let b = Ty::record(wide);
        assert!(same(&a, &a.clone()), "shared types are the same at once");
        assert!(!same(&a, &b), "a big comparison gives up");
        assert_eq!(field(&a, "f999", Span::default()).unwrap(), Ty::Int);
        assert!(same(&Ty::list(Ty::Str), &Ty::list(Ty::Str)));
        assert!(!same(&Ty::list(Ty::Str), &Ty::list(Ty::Int)));
    }

    #[test]
    fn principal_ids_follow_the_field_type() {
        assert!(principal_text("user", "abc", &Ty::Int, Span::default()).is_err());
        assert!(principal_text("user", "007", &Ty::Int, Span::default()).is_ok());
        assert!(principal_text("role", "", &Ty::Any, Span::default()).is_err());
    }
}
