//! Step two: static types and their rules.
//!
//! Input: the types `lower.rs` infers while it resolves names. Output: type
//! mismatch findings (`PCL206`) and unknown-field findings (`PCL201`).
//! Invariant: `Ty::Any` never causes a finding: only what is known to be
//! wrong is reported, so policies without declared shapes check cleanly.

use crate::ast::{BinOp, ShapeBase, ShapeType, Span};
use crate::diagnostics::{did_you_mean, Code, Finding};
use std::fmt;

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
    List(Box<Ty>),
    /// A record; `None` when its fields are not known.
    Record(Option<Vec<(String, Ty)>>),
    Principal,
    Pattern,
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
        })
    }
}

impl Ty {
    /// The static type of a declared shape.
    pub fn of_shape(shape: &ShapeType) -> Ty {
        match &shape.base {
            ShapeBase::Any => Ty::Any,
            ShapeBase::Bool => Ty::Bool,
            ShapeBase::Int => Ty::Int,
            ShapeBase::Number => Ty::Number,
            ShapeBase::String => Ty::Str,
            ShapeBase::Uuid => Ty::Uuid,
            ShapeBase::List(inner) => Ty::List(Box::new(Ty::of_shape(inner))),
            ShapeBase::OneOf(_) => Ty::Any,
            ShapeBase::Record(fields) => Ty::Record(Some(
                fields
                    .iter()
                    .filter(|f| !f.rest)
                    .map(|f| (f.name.name.clone(), Ty::of_shape(&f.ty)))
                    .collect(),
            )),
        }
    }

    fn is_numeric(&self) -> bool {
        matches!(self, Ty::Int | Ty::Number)
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

fn mismatch(span: Span, message: String, label: String, help: &str) -> Box<Finding> {
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
                || (lhs.is_text() && rhs.is_text());
            if ok {
                Ok(Ty::Bool)
            } else {
                Err(mismatch(
                    span,
                    format!("`{}` cannot order {lhs} and {rhs}", op.as_str()),
                    "these cannot be ordered".into(),
                    "order numbers with numbers and strings with strings",
                ))
            }
        }
        BinOp::In | BinOp::NotIn => match rhs {
            Ty::Any | Ty::Null | Ty::List(_) | Ty::Record(_) => Ok(Ty::Bool),
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
            (t, Ty::Pattern) => Err(mismatch(
                span,
                format!("a pattern matches text, found {t}"),
                "not text".into(),
                "apply the pattern to a string, such as `string(x) matches re\"...\"`",
            )),
            (_, t @ (Ty::Bool | Ty::Int | Ty::Number)) => Err(mismatch(
                span,
                format!(
                    "`matches` needs a principal descriptor or a pattern on its right, found {t}"
                ),
                format!("{t}"),
                "write `principal matches role:admin` or `text matches re\"...\"`",
            )),
            _ => Ok(Ty::Bool),
        },
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
        Ty::Record(Some(fields)) => match fields.iter().find(|(n, _)| n == name) {
            Some((_, t)) => Ok(t.clone()),
            None => {
                let mut f = Finding::new(
                    Code::UnknownField,
                    span,
                    format!("no field `{name}` in the declared shape"),
                )
                .label("unknown field");
                f = match did_you_mean(name, fields.iter().map(|(n, _)| n.as_str())) {
                    Some(s) => f.help(format!("did you mean `{s}`?")),
                    None => f.help(format!(
                        "declared fields: {}",
                        fields
                            .iter()
                            .map(|(n, _)| format!("`{n}`"))
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
        assert!(binary(
            BinOp::In,
            &Ty::Str,
            &Ty::List(Box::new(Ty::Str)),
            Span::default()
        )
        .is_ok());
    }

    #[test]
    fn unknown_fields_suggest_close_names() {
        let rec = Ty::Record(Some(vec![("roles".into(), Ty::Any)]));
        let err = field(&rec, "role", Span::default()).unwrap_err();
        assert_eq!(err.code, Code::UnknownField);
        assert_eq!(err.help.as_deref(), Some("did you mean `roles`?"));
        assert!(field(&Ty::Int, "x", Span::default()).is_err());
    }

    #[test]
    fn principal_ids_follow_the_field_type() {
        assert!(principal_text("user", "abc", &Ty::Int, Span::default()).is_err());
        assert!(principal_text("user", "007", &Ty::Int, Span::default()).is_ok());
        assert!(principal_text("role", "", &Ty::Any, Span::default()).is_err());
    }
}
