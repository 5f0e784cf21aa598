//! Types of arithmetic (`+ - * / %`) and of the value built-ins
//! (decimals, IP addresses, time, `split`, `join`, `union`, ...), and the
//! conversions of constant text done once at compile time:
//! `ip("10.0.0.0/8")` is a compiled value, and text that is not one is
//! `PCL226`.

use super::types::{mismatch, same, string_arg, Ty};
use super::*;
use crate::ast::BinOp;
use crate::value::{scalar, Scalar};

const ARITH_HELP: &str = "`+` adds integers, decimals, and durations to timestamps, and joins strings or lists; `-`, `*`, `/` and `%` work on integers and decimals, `-` also on timestamps and durations";

/// The type of `a op b` for an arithmetic operator.
pub(super) fn binary(op: BinOp, lhs: &Ty, rhs: &Ty, span: Span) -> Result<Ty, Box<Finding>> {
    use Ty::*;
    let additive = matches!(op, BinOp::Add | BinOp::Sub);
    Ok(match (lhs, rhs) {
        (Int, Int) => Int,
        (Decimal, Int | Decimal) | (Int, Decimal) => Decimal,
        (Time, Duration) | (Duration, Time) if op == BinOp::Add => Time,
        (Time, Duration) if op == BinOp::Sub => Time,
        (Time, Time) if op == BinOp::Sub => Duration,
        (Duration, Duration) if additive => Duration,
        (Duration, Int) | (Int, Duration) if op == BinOp::Mul => Duration,
        (Str | Uuid, Str | Uuid) if op == BinOp::Add => Str,
        (List(a), List(b)) if op == BinOp::Add => {
            if same(a, b) {
                lhs.clone()
            } else {
                Ty::list(Any)
            }
        }
        // Known only at decision time: a `number` may hold an integer.
        (Any, _) | (_, Any) => Any,
        (Number, Int | Number | Decimal) | (Int | Decimal, Number) => Any,
        _ => {
            return Err(mismatch(
                span,
                format!("`{}` cannot combine {lhs} and {rhs}", op.as_str()),
                format!("{lhs} and {rhs}"),
                ARITH_HELP,
            ))
        }
    })
}

/// `x in r` where `r` is an IP range.
pub(super) fn in_range(lhs: &Ty, span: Span) -> Result<Ty, Box<Finding>> {
    match lhs {
        Ty::Ip | Ty::Any => Ok(Ty::Bool),
        other => Err(mismatch(
            span,
            format!("`in` an IP range needs an IP address on its left, found {other}"),
            "not an IP address".into(),
            "convert the text first: `ip(context.address) in ip(\"10.0.0.0/8\")`",
        )),
    }
}

fn expect(ty: &Ty, ok: &[Ty], span: Span, function: &str, what: &str) -> Option<Box<Finding>> {
    if matches!(ty, Ty::Any) || ok.contains(ty) {
        return None;
    }
    Some(mismatch(
        span,
        format!("`{function}` needs {what}, found {ty}"),
        format!("not {what}"),
        &format!(
            "see {}",
            docs_url("language#23-numbers-ip-addresses-strings-lists-and-time")
        ),
    ))
}

impl Lowerer<'_> {
    /// The type of a value built-in, checking its arguments; `None` for
    /// the other built-ins.
    pub(super) fn value_builtin_type(
        &mut self,
        b: Builtin,
        tys: &[Ty],
        args: &[ast::Expr],
    ) -> Option<Ty> {
        let name = b.name();
        let at = |i: usize| args.get(i).map_or(Span::default(), |a| a.span);
        let ty = |i: usize| tys.get(i).cloned().unwrap_or(Ty::Any);
        let text_or = |t: Ty| vec![Ty::Str, Ty::Uuid, t];
        let list_ok = |t: &Ty| matches!(t, Ty::List(_) | Ty::Null);
        let mut problems: Vec<Box<Finding>> = Vec::new();
        let result = match b {
            Builtin::Add | Builtin::Sub | Builtin::Mul | Builtin::Div | Builtin::Rem => Ty::Any,
            Builtin::Decimal => {
                problems.extend(expect(
                    &ty(0),
                    &[Ty::Str, Ty::Int, Ty::Number, Ty::Decimal],
                    at(0),
                    name,
                    "text or a number",
                ));
                Ty::Decimal
            }
            Builtin::Ip
            | Builtin::IsIpv4
            | Builtin::IsIpv6
            | Builtin::IsLoopback
            | Builtin::IsMulticast => {
                problems.extend(expect(
                    &ty(0),
                    &text_or(Ty::Ip),
                    at(0),
                    name,
                    "text or an IP address",
                ));
                if b == Builtin::Ip {
                    Ty::Ip
                } else {
                    Ty::Bool
                }
            }
            Builtin::InRange => {
                for i in 0..2 {
                    problems.extend(expect(
                        &ty(i),
                        &text_or(Ty::Ip),
                        at(i),
                        name,
                        "text or an IP address",
                    ));
                }
                Ty::Bool
            }
            Builtin::Timestamp => {
                problems.extend(expect(
                    &ty(0),
                    &text_or(Ty::Time),
                    at(0),
                    name,
                    "text or a timestamp",
                ));
                Ty::Time
            }
            Builtin::Duration => {
                problems.extend(expect(
                    &ty(0),
                    &text_or(Ty::Duration),
                    at(0),
                    name,
                    "text or a duration",
                ));
                Ty::Duration
            }
            Builtin::Split => {
                for i in 0..2 {
                    problems.extend(string_arg(&ty(i), at(i), name).err());
                }
                Ty::list(Ty::Str)
            }
            Builtin::Join => {
                if !matches!(ty(0), Ty::Any) && !list_ok(&ty(0)) {
                    problems.extend(expect(&ty(0), &[], at(0), name, "a list of strings"));
                }
                problems.extend(string_arg(&ty(1), at(1), name).err());
                Ty::Str
            }
            Builtin::Union
            | Builtin::Intersection
            | Builtin::ContainsAny
            | Builtin::ContainsAll => {
                for i in 0..2 {
                    if !matches!(ty(i), Ty::Any) && !list_ok(&ty(i)) {
                        problems.extend(expect(&ty(i), &[], at(i), name, "a list"));
                    }
                }
                match b {
                    Builtin::ContainsAny | Builtin::ContainsAll => Ty::Bool,
                    _ if same(&ty(0), &ty(1)) && list_ok(&ty(0)) => ty(0),
                    _ => Ty::list(Ty::Any),
                }
            }
            _ => return None,
        };
        for f in problems {
            self.report(f);
        }
        Some(result)
    }

    /// A conversion of constant text, done now: `Some` with the compiled
    /// value (or with the call, after reporting `PCL226`), `None` where the
    /// argument is not a constant.
    pub(super) fn fold_conversion(
        &mut self,
        b: Builtin,
        args: &[Expr],
        span: Span,
    ) -> Option<Expr> {
        let [Expr::Const(v)] = args else {
            return None;
        };
        let parsed: Result<Scalar, &'static str> = match (b, v) {
            (Builtin::Decimal, Value::Str(s)) => scalar::parse_decimal(s).map(Scalar::decimal),
            (Builtin::Decimal, Value::Int(i)) => i
                .checked_mul(scalar::DECIMAL_ONE)
                .map(Scalar::decimal)
                .ok_or("the decimal is out of range"),
            (Builtin::Ip, Value::Str(s)) => scalar::parse_ip(s).map(Scalar::Ip),
            (Builtin::Timestamp, Value::Str(s)) => scalar::parse_time(s).map(Scalar::Time),
            (Builtin::Duration, Value::Str(s)) => scalar::parse_duration(s).map(Scalar::duration),
            _ => return None,
        };
        match parsed {
            Ok(x) => Some(Expr::Scalar(x)),
            Err(why) => {
                self.report(
                    Finding::new(
                        Code::InvalidValueLiteral,
                        span,
                        format!(
                            "this is not a valid {}",
                            match b {
                                Builtin::Ip => "IP address",
                                Builtin::Timestamp => "RFC 3339 timestamp",
                                other => other.name(),
                            }
                        ),
                    )
                    .label(why)
                    .help(format!(
                        "see {}",
                        docs_url("language#23-numbers-ip-addresses-strings-lists-and-time")
                    )),
                );
                None
            }
        }
    }
}
