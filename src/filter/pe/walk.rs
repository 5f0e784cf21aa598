//! Walking the IR: an expression's span and its direct children, for the
//! partial evaluator's "does this read the resource" questions and errors.

use crate::ast::Span;
use crate::ir::{self, Expr};

pub(super) fn span(e: &Expr) -> Option<Span> {
    match e {
        Expr::Field(_, _, s)
        | Expr::Index(_, _, s)
        | Expr::Builtin(_, _, s)
        | Expr::Not(_, s)
        | Expr::And(_, _, s)
        | Expr::Or(_, _, s)
        | Expr::Cmp(_, _, _, s)
        | Expr::Like(_, _, s)
        | Expr::Matches(_, _, s)
        | Expr::If(_, _, _, s) => Some(*s),
        Expr::In { span, .. }
        | Expr::Quant { span, .. }
        | Expr::ListComp { span, .. }
        | Expr::RecordComp { span, .. } => Some(*span),
        Expr::Graph(q) => Some(q.span),
        _ => None,
    }
    .filter(|s| s.end > s.start)
}

/// The direct children of an expression (rule bodies and lets not entered).
pub(super) fn children<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    match e {
        Expr::Const(_)
        | Expr::Root(_)
        | Expr::Var(_)
        | Expr::Let(_)
        | Expr::Pattern(_)
        | Expr::Scalar(_) => {}
        Expr::Field(b, _, _) | Expr::Not(b, _) | Expr::Principal(_, b) => f(b),
        Expr::Index(a, b, _)
        | Expr::And(a, b, _)
        | Expr::Or(a, b, _)
        | Expr::Coalesce(a, b)
        | Expr::Cmp(_, a, b, _)
        | Expr::Like(a, b, _)
        | Expr::Matches(a, b, _) => {
            f(a);
            f(b)
        }
        Expr::In { item, set, .. } => {
            f(item);
            f(set)
        }
        Expr::Call(_, args) | Expr::Builtin(_, args, _) | Expr::List(args) | Expr::Tuple(args) => {
            args.iter().for_each(f)
        }
        Expr::Graph(q) => q.args.iter().for_each(f),
        Expr::Quant { over, body, .. } => {
            f(over);
            f(body)
        }
        Expr::If(a, b, c, _) => {
            f(a);
            f(b);
            f(c)
        }
        Expr::Match(s, arms, d) => {
            f(s);
            arms.iter().for_each(|(_, x)| f(x));
            if let Some(d) = d {
                f(d)
            }
        }
        Expr::Record(fields) => fields.iter().for_each(|(_, x)| f(x)),
        Expr::Template(parts) => parts.iter().for_each(|p| {
            if let ir::TemplatePart::Expr(x) = p {
                f(x)
            }
        }),
        Expr::ListComp {
            elem, over, cond, ..
        } => {
            f(elem);
            f(over);
            if let Some(c) = cond {
                f(c)
            }
        }
        Expr::RecordComp {
            key,
            value,
            over,
            cond,
            ..
        } => {
            f(key);
            f(value);
            f(over);
            if let Some(c) = cond {
                f(c)
            }
        }
    }
}
