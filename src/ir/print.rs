//! An IR expression shown as policy text, for explanations: names come
//! back from [`Names`], operators are written as the language spells them
//! and parentheses are added where precedence needs them. The text is the
//! expression lowering made (a hoisted template shows as the template, a
//! folded constant as its value), not a copy of the source.
//!
//! Invariant: printing is bounded by the size of the expression; nothing
//! here runs during a decision.

use super::{Builtin, CmpOp, Expr, Program, Root, TemplatePart};
use crate::ast::Quantifier;
use crate::value::Value;
use std::fmt::Write as _;

/// How tightly an expression binds, loosest first (as the grammar's Pratt
/// table orders them).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Prec {
    /// Quantifiers, `if`: their last part extends to the end.
    Open,
    Or,
    And,
    Not,
    Compare,
    /// `+`, `-`.
    Sum,
    /// `*`, `/`, `%`.
    Product,
    Coalesce,
    Atom,
}

/// `e` as policy text.
pub(crate) fn expr_text(program: &Program, e: &Expr) -> String {
    let mut out = String::with_capacity(48);
    Printer { program, depth: 0 }.expr(e, Prec::Open, &mut out);
    out
}

/// A value as a policy literal: strings quoted, lists and records in
/// brackets.
pub(crate) fn value_text(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Value::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(x) => {
            let _ = write!(out, "{x}");
        }
        Value::Str(s) => quoted(s, out),
        Value::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                value_text(item, out);
            }
            out.push(']');
        }
        Value::Record(r) => {
            out.push('{');
            for (i, (k, item)) in r.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                key_text(k, out);
                out.push_str(": ");
                value_text(item, out);
            }
            out.push('}');
        }
    }
}

/// A string literal: quoted, with the escapes the grammar reads (braces
/// doubled, since `{` starts an interpolation).
pub(crate) fn quoted(s: &str, out: &mut String) {
    out.push('"');
    literal_text(s, out);
    out.push('"');
}

fn literal_text(s: &str, out: &mut String) {
    let mut rest = s;
    while let Some(at) = rest.find(['"', '\\', '\n', '\t', '\r', '{', '}']) {
        out.push_str(rest.get(..at).unwrap_or(""));
        let escaped = match rest.as_bytes().get(at) {
            Some(b'"') => "\\\"",
            Some(b'\\') => "\\\\",
            Some(b'\n') => "\\n",
            Some(b'\t') => "\\t",
            Some(b'\r') => "\\r",
            Some(b'{') => "{{",
            _ => "}}",
        };
        out.push_str(escaped);
        rest = rest.get(at + 1..).unwrap_or("");
    }
    out.push_str(rest);
}

/// A record key: bare when it is a word, else quoted.
pub(crate) fn key_text(k: &str, out: &mut String) {
    if is_word(k) {
        out.push_str(k);
    } else {
        quoted(k, out);
    }
}

fn is_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A field name written after a dot: a word, with inner hyphens.
fn is_key_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.first()
        .is_some_and(|c| c.is_ascii_alphabetic() || *c == b'_')
        && b.iter().enumerate().all(|(i, c)| {
            c.is_ascii_alphanumeric()
                || *c == b'_'
                || *c == b'-'
                    && b.get(i + 1)
                        .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_')
        })
}

/// Text a principal literal may hold bare (`role:admin`, `user:14`).
fn is_principal_text(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_-.@*+".contains(&b))
}

/// Past this depth an expression prints as `…` (the IR nests at most as
/// deep as the parser allows, but a rule inlined in a let is not printed
/// through).
const MAX_DEPTH: usize = 64;

struct Printer<'p> {
    program: &'p Program,
    depth: usize,
}

impl Printer<'_> {
    fn expr(&mut self, e: &Expr, outer: Prec, out: &mut String) {
        if self.depth >= MAX_DEPTH {
            out.push('…');
            return;
        }
        self.depth += 1;
        let prec = prec(e);
        let paren = prec < outer;
        if paren {
            out.push('(');
        }
        self.node(e, out);
        if paren {
            out.push(')');
        }
        self.depth -= 1;
    }

    fn name(&self, names: &[super::Name], i: u32, fallback: &str, out: &mut String) {
        match names.get(i as usize).filter(|n| !n.is_empty()) {
            Some(n) => out.push_str(n),
            None => {
                let _ = write!(out, "{fallback}{i}");
            }
        }
    }

    fn list(&mut self, items: &[Expr], out: &mut String) {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            self.expr(item, Prec::Open, out);
        }
    }

    fn node(&mut self, e: &Expr, out: &mut String) {
        let names = &self.program.names;
        match e {
            Expr::Const(v) => value_text(v, out),
            Expr::Root(r) => out.push_str(root_name(*r)),
            Expr::Var(slot) => self.name(&names.slots, *slot, "_", out),
            Expr::Let(id) => match names.lets.get(*id as usize).filter(|n| !n.is_empty()) {
                Some(n) => out.push_str(n),
                // A value lowering hoisted (a template built once): show it.
                None => match self.program.lets.get(*id as usize) {
                    Some(x) => self.expr(x, Prec::Atom, out),
                    None => out.push('…'),
                },
            },
            Expr::Field(base, name, _) => {
                self.expr(base, Prec::Atom, out);
                if is_key_name(name) {
                    out.push('.');
                    out.push_str(name);
                } else {
                    out.push('[');
                    quoted(name, out);
                    out.push(']');
                }
            }
            Expr::Index(base, key, _) => {
                self.expr(base, Prec::Atom, out);
                out.push('[');
                self.expr(key, Prec::Open, out);
                out.push(']');
            }
            Expr::Call(rule, args) => {
                self.name(&names.rules, *rule, "rule", out);
                if !args.is_empty() {
                    out.push('(');
                    self.list(args, out);
                    out.push(')');
                }
            }
            Expr::Graph(q) => {
                let name = self.program.graphs.get(q.graph as usize);
                out.push_str(name.map_or("graph", |g| &g.name));
                let (open, close) = match q.op {
                    crate::ir::GraphOp::Reach => ('(', ')'),
                    crate::ir::GraphOp::Row => ('[', ']'),
                };
                out.push(open);
                self.list(&q.args, out);
                out.push(close);
            }
            Expr::Builtin(b, args, _) if b.is_operator() => {
                let (l, r) = (args.first(), args.get(1));
                if let (Some(l), Some(r)) = (l, r) {
                    self.infix(l, b.name(), r, prec(e), out);
                }
            }
            Expr::Scalar(x) => out.push_str(&x.policy_text()),
            Expr::Builtin(b, args, _) => {
                out.push_str(b.name());
                out.push('(');
                self.list(args, out);
                out.push(')');
            }
            Expr::Not(x, _) => {
                out.push_str("not ");
                self.expr(x, Prec::Not, out);
            }
            Expr::And(l, r, _) => self.infix(l, "and", r, Prec::And, out),
            Expr::Or(l, r, _) => self.infix(l, "or", r, Prec::Or, out),
            Expr::Coalesce(l, r) => self.infix(l, "??", r, Prec::Coalesce, out),
            Expr::Cmp(op, l, r, _) => self.infix(l, cmp_name(*op), r, Prec::Compare, out),
            Expr::In {
                item, set, negate, ..
            } => {
                let op = if *negate { "not in" } else { "in" };
                self.infix(item, op, set, Prec::Compare, out);
            }
            Expr::Like(l, r, _) => self.infix(l, "like", r, Prec::Compare, out),
            Expr::Matches(l, r, _) => self.infix(l, "matches", r, Prec::Compare, out),
            Expr::Quant {
                q,
                slot,
                over,
                body,
                ..
            } => {
                out.push_str(quantifier_name(*q));
                out.push(' ');
                self.name(&names.slots, *slot, "_", out);
                out.push_str(" in ");
                self.expr(over, Prec::Atom, out);
                out.push_str(": ");
                self.expr(body, Prec::Open, out);
            }
            Expr::If(c, a, b, _) => {
                out.push_str("if ");
                self.expr(c, Prec::Open, out);
                out.push_str(" then ");
                self.expr(a, Prec::Open, out);
                out.push_str(" else ");
                self.expr(b, Prec::Open, out);
            }
            Expr::Match(subject, arms, default) => {
                out.push_str("match ");
                self.expr(subject, Prec::Open, out);
                out.push_str(" { ");
                for (i, (pats, x)) in arms.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    for (j, p) in pats.iter().enumerate() {
                        if j > 0 {
                            out.push_str(" | ");
                        }
                        value_text(p, out);
                    }
                    out.push_str(" => ");
                    self.expr(x, Prec::Open, out);
                }
                if let Some(d) = default {
                    out.push_str(", _ => ");
                    self.expr(d, Prec::Open, out);
                }
                out.push_str(" }");
            }
            Expr::List(items) => {
                out.push('[');
                self.list(items, out);
                out.push(']');
            }
            Expr::Tuple(items) => {
                out.push('(');
                self.list(items, out);
                out.push(')');
            }
            Expr::Record(fields) => {
                out.push('{');
                for (i, (k, x)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    key_text(k, out);
                    out.push_str(": ");
                    self.expr(x, Prec::Open, out);
                }
                out.push('}');
            }
            Expr::Template(parts) => {
                out.push('"');
                self.template(parts, out);
                out.push('"');
            }
            Expr::Principal(kind, value) => {
                let kind_name = self.program.kind_names.get(*kind as usize);
                out.push_str(kind_name.map_or("?", |k| k.as_ref()));
                out.push(':');
                match value.as_ref() {
                    Expr::Const(Value::Str(s)) if is_principal_text(s) => out.push_str(s),
                    Expr::Const(Value::Int(i)) => {
                        let _ = write!(out, "{i}");
                    }
                    Expr::Const(v) => value_text(v, out),
                    Expr::Template(parts) => {
                        out.push('"');
                        self.template(parts, out);
                        out.push('"');
                    }
                    other => {
                        out.push('{');
                        self.expr(other, Prec::Open, out);
                        out.push('}');
                    }
                }
            }
            Expr::Pattern(id) => {
                out.push_str("re\"");
                if let Some(re) = self.program.patterns.get(*id as usize) {
                    // Patterns compile anchored; show what the policy wrote.
                    let src = re.as_str();
                    let src = src
                        .strip_prefix("^(?:")
                        .and_then(|s| s.strip_suffix(")$"))
                        .unwrap_or(src);
                    out.push_str(&src.replace('"', "\\\""));
                }
                out.push('"');
            }
            Expr::ListComp {
                elem,
                slot,
                over,
                cond,
                ..
            } => {
                out.push('[');
                self.expr(elem, Prec::Open, out);
                out.push_str(" for ");
                self.name(&names.slots, *slot, "_", out);
                out.push_str(" in ");
                self.expr(over, Prec::Atom, out);
                if let Some(c) = cond {
                    out.push_str(" if ");
                    self.expr(c, Prec::Open, out);
                }
                out.push(']');
            }
            Expr::RecordComp {
                key,
                value,
                key_slot,
                value_slot,
                over,
                cond,
                ..
            } => {
                out.push('{');
                self.expr(key, Prec::Open, out);
                out.push_str(": ");
                self.expr(value, Prec::Open, out);
                out.push_str(" for ");
                self.name(&names.slots, *key_slot, "_", out);
                out.push_str(", ");
                self.name(&names.slots, *value_slot, "_", out);
                out.push_str(" in ");
                self.expr(over, Prec::Atom, out);
                if let Some(c) = cond {
                    out.push_str(" if ");
                    self.expr(c, Prec::Open, out);
                }
                out.push('}');
            }
        }
    }

    fn template(&mut self, parts: &[TemplatePart], out: &mut String) {
        for p in parts {
            match p {
                TemplatePart::Text(t) => literal_text(t, out),
                TemplatePart::Expr(x) => {
                    out.push('{');
                    self.expr(x, Prec::Open, out);
                    out.push('}');
                }
            }
        }
    }

    /// A left-associative operator: the right operand binds one tighter.
    fn infix(&mut self, l: &Expr, op: &str, r: &Expr, prec: Prec, out: &mut String) {
        self.expr(l, prec, out);
        out.push(' ');
        out.push_str(op);
        out.push(' ');
        self.expr(r, tighter(prec), out);
    }
}

fn tighter(p: Prec) -> Prec {
    match p {
        Prec::Open => Prec::Or,
        Prec::Or => Prec::And,
        Prec::And => Prec::Not,
        Prec::Not => Prec::Compare,
        Prec::Compare => Prec::Sum,
        Prec::Sum => Prec::Product,
        Prec::Product => Prec::Coalesce,
        Prec::Coalesce | Prec::Atom => Prec::Atom,
    }
}

fn prec(e: &Expr) -> Prec {
    match e {
        Expr::Quant { .. } | Expr::If(..) => Prec::Open,
        Expr::Or(..) => Prec::Or,
        Expr::And(..) => Prec::And,
        Expr::Not(..) => Prec::Not,
        Expr::Cmp(..) | Expr::In { .. } | Expr::Like(..) | Expr::Matches(..) => Prec::Compare,
        Expr::Builtin(Builtin::Add | Builtin::Sub, ..) => Prec::Sum,
        Expr::Builtin(Builtin::Mul | Builtin::Div | Builtin::Rem, ..) => Prec::Product,
        Expr::Coalesce(..) => Prec::Coalesce,
        _ => Prec::Atom,
    }
}

pub(crate) fn root_name(r: Root) -> &'static str {
    match r {
        Root::Principal => "principal",
        Root::Action => "action",
        Root::Resource => "resource",
        Root::Context => "context",
        Root::Data => "data",
    }
}

fn cmp_name(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "==",
        CmpOp::Ne => "!=",
        CmpOp::Lt => "<",
        CmpOp::Le => "<=",
        CmpOp::Gt => ">",
        CmpOp::Ge => ">=",
    }
}

fn quantifier_name(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Any => "any",
        Quantifier::All => "all",
        Quantifier::First => "first",
        Quantifier::Last => "last",
        Quantifier::Count => "count",
    }
}

/// Whether a built-in's arguments are credentials (never shown).
pub(crate) fn takes_secrets(b: Builtin) -> bool {
    matches!(b, Builtin::SecretEq | Builtin::SecretLookup)
}
