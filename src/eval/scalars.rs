//! Arithmetic (`+ - * / %`), decimals, IP addresses, timestamps and
//! durations, and the string and list built-ins `split`, `join`, `union`,
//! `intersection`, `contains_any`, `contains_all`.
//!
//! Invariants: every result is exact or an error (`PCL508`), never a
//! rounded value; text that is not what a conversion needs is `PCL509`;
//! work proportional to the input (bytes joined or split, items combined)
//! is charged before it is done.

use super::*;
use crate::value::scalar::{self, Ip, Time, DECIMAL_ONE};
use crate::value::Scalar;

#[cold]
fn arith_error(span: Span, message: String) -> Box<EvalError> {
    error(Code::ArithmeticError, span, message)
}

#[cold]
fn bad_text(span: Span, what: &str, why: &str) -> Box<EvalError> {
    error(Code::InvalidValueText, span, format!("not {what}: {why}"))
}

fn overflow(b: Builtin, span: Span) -> Box<EvalError> {
    arith_error(
        span,
        format!("`{}` overflows: the result does not fit", b.name()),
    )
}

impl<'a> Evaluator<'a> {
    /// The built-ins of this file, or `None` for the others.
    pub(super) fn value_builtin(
        &mut self,
        b: Builtin,
        args: &'a [Expr],
        span: Span,
    ) -> Option<R<Val<'a>>> {
        let handled = matches!(
            b,
            Builtin::Add
                | Builtin::Sub
                | Builtin::Mul
                | Builtin::Div
                | Builtin::Rem
                | Builtin::Decimal
                | Builtin::Ip
                | Builtin::Timestamp
                | Builtin::Duration
                | Builtin::InRange
                | Builtin::IsIpv4
                | Builtin::IsIpv6
                | Builtin::IsLoopback
                | Builtin::IsMulticast
                | Builtin::Split
                | Builtin::Join
                | Builtin::Union
                | Builtin::Intersection
                | Builtin::ContainsAny
                | Builtin::ContainsAll
        );
        handled.then(|| self.value_call(b, args, span))
    }

    fn value_call(&mut self, b: Builtin, args: &'a [Expr], span: Span) -> R<Val<'a>> {
        let arg = |i: usize| args.get(i).unwrap_or(&NULL_EXPR);
        let a = self.eval(arg(0))?;
        let two = matches!(
            b,
            Builtin::Add
                | Builtin::Sub
                | Builtin::Mul
                | Builtin::Div
                | Builtin::Rem
                | Builtin::InRange
                | Builtin::Split
                | Builtin::Join
                | Builtin::Union
                | Builtin::Intersection
                | Builtin::ContainsAny
                | Builtin::ContainsAll
        );
        let c = if two { self.eval(arg(1))? } else { Val::Null };
        match b {
            Builtin::Add | Builtin::Sub | Builtin::Mul | Builtin::Div | Builtin::Rem => {
                self.arith(b, a, c, span)
            }
            Builtin::Decimal => self.decimal_arg(a, span),
            Builtin::Ip => Ok(Val::Scalar(Scalar::Ip(self.ip_arg(&a, b, span)?))),
            Builtin::Timestamp => match &a {
                Val::Scalar(Scalar::Time(_)) => Ok(a),
                _ => {
                    let s = self.text_arg(&a, b, span)?;
                    scalar::parse_time(s)
                        .map(|t| Val::Scalar(Scalar::Time(t)))
                        .map_err(|why| bad_text(span, "a timestamp", why))
                }
            },
            Builtin::Duration => match &a {
                Val::Scalar(Scalar::Duration(_)) => Ok(a),
                _ => {
                    let s = self.text_arg(&a, b, span)?;
                    scalar::parse_duration(s)
                        .map(|d| Val::Scalar(Scalar::duration(d)))
                        .map_err(|why| bad_text(span, "a duration", why))
                }
            },
            Builtin::InRange => {
                let x = self.ip_arg(&a, b, span)?;
                let r = self.ip_arg(&c, b, span)?;
                Ok(Val::Bool(x.in_range(r)))
            }
            Builtin::IsIpv4 | Builtin::IsIpv6 | Builtin::IsLoopback | Builtin::IsMulticast => {
                let x = self.ip_arg(&a, b, span)?;
                Ok(Val::Bool(match b {
                    Builtin::IsIpv4 => !x.v6,
                    Builtin::IsIpv6 => x.v6,
                    Builtin::IsLoopback => x.is_loopback(),
                    _ => x.is_multicast(),
                }))
            }
            Builtin::Split => self.split(a, &c, span),
            Builtin::Join => self.join(&a, &c, span),
            Builtin::Union => {
                let (x, y) = (iterate(&a, span)?, iterate(&c, span)?);
                self.charge((x.len() + y.len()) as u64, span)?;
                let all: Vec<Val<'a>> = x.iter().chain(y.iter()).collect();
                let out = Self::paid(
                    cost::distinct(&ListView::Owned(&all), &mut self.meter),
                    span,
                )?;
                Ok(Val::OwnedList(out.into()))
            }
            Builtin::Intersection => {
                let x = iterate(&a, span)?;
                let unique = Self::paid(cost::distinct(&x, &mut self.meter), span)?;
                let mut out = Vec::new();
                for item in unique {
                    self.spend(span)?;
                    if self.member(&c, &item, span)? {
                        out.push(item);
                    }
                }
                Ok(Val::OwnedList(out.into()))
            }
            _ => {
                // contains_any / contains_all: the items of the second list
                // looked up in the first.
                let wanted = iterate(&c, span)?;
                let all = b == Builtin::ContainsAll;
                for item in wanted.iter() {
                    self.spend(span)?;
                    if self.member(&a, &item, span)? != all {
                        return Ok(Val::Bool(!all));
                    }
                }
                Ok(Val::Bool(all))
            }
        }
    }

    /// `x in list`, with null as the empty list.
    fn member(&mut self, list: &Val<'a>, x: &Val<'a>, span: Span) -> R<bool> {
        if list.is_null() {
            return Ok(false);
        }
        if list.as_list().is_none() {
            return Err(type_error(
                span,
                format!("expected a list, found {}", list.type_name()),
            ));
        }
        self.contains(list, x, span)
    }

    fn text_arg<'v>(&mut self, v: &'v Val<'a>, b: Builtin, span: Span) -> R<&'v str> {
        match v.as_str() {
            Some(s) => {
                self.charge_bytes(s.len(), span)?;
                Ok(s)
            }
            None => Err(type_error(
                span,
                format!("`{}` needs a string, found {}", b.name(), v.type_name()),
            )),
        }
    }

    fn ip_arg(&mut self, v: &Val<'a>, b: Builtin, span: Span) -> R<Ip> {
        match v {
            Val::Scalar(Scalar::Ip(ip)) => Ok(*ip),
            _ => {
                let s = self.text_arg(v, b, span)?;
                scalar::parse_ip(s).map_err(|why| bad_text(span, "an IP address", why))
            }
        }
    }

    fn decimal_arg(&mut self, a: Val<'a>, span: Span) -> R<Val<'a>> {
        let d = match &a {
            Val::Scalar(Scalar::Decimal(_)) => return Ok(a),
            Val::Int(i) => i
                .checked_mul(DECIMAL_ONE)
                .ok_or_else(|| overflow(Builtin::Decimal, span))?,
            Val::Float(f) => scalar::decimal_of_float(*f).ok_or_else(|| {
                bad_text(
                    span,
                    "a decimal",
                    "the number has more than four fractional digits, or is out of range",
                )
            })?,
            _ => {
                let s = self.text_arg(&a, Builtin::Decimal, span)?;
                scalar::parse_decimal(s).map_err(|why| bad_text(span, "a decimal", why))?
            }
        };
        Ok(Val::Scalar(Scalar::decimal(d)))
    }

    /// `a + b` and the other operators.
    pub(super) fn arith(&mut self, b: Builtin, x: Val<'a>, y: Val<'a>, span: Span) -> R<Val<'a>> {
        use Scalar::{Decimal, Duration};
        let ov = || overflow(b, span);
        Ok(match (&x, &y) {
            (Val::Int(p), Val::Int(q)) => Val::Int(int_op(b, *p, *q, span)?),
            (Val::Scalar(Decimal(_)), Val::Int(_) | Val::Scalar(Decimal(_)))
            | (Val::Int(_), Val::Scalar(Decimal(_))) => {
                Val::Scalar(Scalar::decimal(decimal_op(b, &x, &y, span)?))
            }
            (Val::Scalar(Scalar::Time(t)), Val::Scalar(Duration(d))) if b == Builtin::Add => {
                Val::Scalar(Scalar::Time(shift(*t, i128::from(d.get())).ok_or_else(ov)?))
            }
            (Val::Scalar(Duration(d)), Val::Scalar(Scalar::Time(t))) if b == Builtin::Add => {
                Val::Scalar(Scalar::Time(shift(*t, i128::from(d.get())).ok_or_else(ov)?))
            }
            (Val::Scalar(Scalar::Time(t)), Val::Scalar(Duration(d))) if b == Builtin::Sub => {
                Val::Scalar(Scalar::Time(shift(*t, -i128::from(d.get())).ok_or_else(ov)?))
            }
            (Val::Scalar(Scalar::Time(s)), Val::Scalar(Scalar::Time(t))) if b == Builtin::Sub => {
                let n = s.total_nanos() - t.total_nanos();
                Val::Scalar(Scalar::duration(i64::try_from(n).map_err(|_| ov())?))
            }
            (Val::Scalar(Duration(p)), Val::Scalar(Duration(q)))
                if matches!(b, Builtin::Add | Builtin::Sub) =>
            {
                Val::Scalar(Scalar::duration(int_op(b, p.get(), q.get(), span)?))
            }
            (Val::Scalar(Duration(p)), Val::Int(q)) | (Val::Int(q), Val::Scalar(Duration(p)))
                if b == Builtin::Mul =>
            {
                Val::Scalar(Scalar::duration(p.get().checked_mul(*q).ok_or_else(ov)?))
            }
            _ if b == Builtin::Add && x.as_str().is_some() && y.as_str().is_some() => {
                let (s, t) = (x.as_str().unwrap_or(""), y.as_str().unwrap_or(""));
                self.charge_bytes(s.len() + t.len(), span)?;
                if s.is_empty() {
                    return Ok(y);
                }
                if t.is_empty() {
                    return Ok(x);
                }
                let mut out = String::with_capacity(s.len() + t.len());
                out.push_str(s);
                out.push_str(t);
                Val::OwnedStr(out.into())
            }
            _ if b == Builtin::Add
                && !matches!(x, Val::Tuple(_))
                && !matches!(y, Val::Tuple(_))
                && x.as_list().is_some()
                && y.as_list().is_some() =>
            {
                let (p, q) = (iterate(&x, span)?, iterate(&y, span)?);
                self.charge((p.len() + q.len()) as u64, span)?;
                let all: Vec<Val<'a>> = p.iter().chain(q.iter()).collect();
                Val::OwnedList(all.into())
            }
            (Val::Float(_), _) | (_, Val::Float(_)) => {
                return Err(type_error(
                    span,
                    format!(
                        "`{}` of a number with a fraction or exponent read from JSON would round: convert it with `decimal(...)` first",
                        b.name()
                    ),
                ))
            }
            _ => {
                return Err(type_error(
                    span,
                    format!(
                        "`{}` cannot combine {} and {}",
                        b.name(),
                        x.type_name(),
                        y.type_name()
                    ),
                ))
            }
        })
    }

    fn split(&mut self, a: Val<'a>, sep: &Val<'a>, span: Span) -> R<Val<'a>> {
        let (Some(s), Some(p)) = (a.as_str(), sep.as_str()) else {
            return Err(type_error(
                span,
                format!(
                    "`split` needs two strings, found {} and {}",
                    a.type_name(),
                    sep.type_name()
                ),
            ));
        };
        if p.is_empty() {
            return Err(type_error(
                span,
                "`split` needs a non-empty separator".into(),
            ));
        }
        self.charge_bytes(s.len() + p.len(), span)?;
        let mut out = Vec::new();
        let mut at = 0;
        for piece in s.split(p) {
            // A step per piece built.
            self.spend(span)?;
            let v = match &a {
                Val::Str(borrowed) => borrowed
                    .get(at..at + piece.len())
                    .map_or(Val::Null, Val::Str),
                _ => Val::OwnedStr(piece.into()),
            };
            at += piece.len() + p.len();
            out.push(v);
        }
        Ok(Val::OwnedList(out.into()))
    }

    fn join(&mut self, list: &Val<'a>, sep: &Val<'a>, span: Span) -> R<Val<'a>> {
        let Some(p) = sep.as_str() else {
            return Err(type_error(
                span,
                format!("`join` needs a string separator, found {}", sep.type_name()),
            ));
        };
        let items = iterate(list, span)?;
        let mut out = String::new();
        for (i, item) in items.iter().enumerate() {
            let Some(s) = item.as_str() else {
                return Err(type_error(
                    span,
                    format!("`join` joins strings, found {}", item.type_name()),
                ));
            };
            self.spend(span)?;
            self.charge_bytes(s.len() + p.len(), span)?;
            if i > 0 {
                out.push_str(p);
            }
            out.push_str(s);
        }
        Ok(Val::OwnedStr(out.into()))
    }
}

fn shift(t: Time, nanos: i128) -> Option<Time> {
    Time::from_nanos(t.total_nanos().checked_add(nanos)?)
}

fn int_op(b: Builtin, p: i64, q: i64, span: Span) -> R<i64> {
    let r = match b {
        Builtin::Add => p.checked_add(q),
        Builtin::Sub => p.checked_sub(q),
        Builtin::Mul => p.checked_mul(q),
        Builtin::Div | Builtin::Rem if q == 0 => {
            return Err(arith_error(span, format!("`{}` by zero", b.name())))
        }
        Builtin::Div => p.checked_div(q),
        _ => p.checked_rem(q),
    };
    r.ok_or_else(|| overflow(b, span))
}

/// Decimal arithmetic: exact, or an error where the result would need
/// more than four fractional digits.
fn decimal_op(b: Builtin, x: &Val, y: &Val, span: Span) -> R<i64> {
    let raw = |v: &Val| -> R<i128> {
        Ok(match v {
            Val::Scalar(Scalar::Decimal(d)) => i128::from(d.get()),
            Val::Int(i) => i128::from(*i) * i128::from(DECIMAL_ONE),
            _ => 0,
        })
    };
    let (p, q) = (raw(x)?, raw(y)?);
    let one = i128::from(DECIMAL_ONE);
    let inexact = || {
        arith_error(
            span,
            format!(
                "`{}` of these decimals is not exact in four fractional digits",
                b.name()
            ),
        )
    };
    let r = match b {
        Builtin::Add => p + q,
        Builtin::Sub => p - q,
        Builtin::Mul => {
            let full = p.checked_mul(q).ok_or_else(|| overflow(b, span))?;
            if full % one != 0 {
                return Err(inexact());
            }
            full / one
        }
        Builtin::Div | Builtin::Rem if q == 0 => {
            return Err(arith_error(span, format!("`{}` by zero", b.name())))
        }
        Builtin::Div => {
            let n = p * one;
            if n % q != 0 {
                return Err(inexact());
            }
            n / q
        }
        _ => p % q,
    };
    i64::try_from(r).map_err(|_| overflow(b, span))
}
