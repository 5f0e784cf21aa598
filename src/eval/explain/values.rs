//! Values shown beside a condition: bounded (long strings, lists and
//! records cut), written as policy text, and never a credential — what a
//! name the linter calls a credential reads, the arguments of
//! `secret_eq`/`secret_lookup`, and record fields with such names are
//! `<secret>`.

use super::*;
use crate::ir::print::{key_text, takes_secrets, value_text};

pub(super) const SECRET: &str = "<secret>";

/// Which lets hold credentials, found once per rendering: a let may be
/// read by many nodes, and lets read lets.
pub(super) struct Secrets<'p> {
    pub(super) program: &'p Program,
    lets: std::cell::RefCell<HashMap<u32, bool>>,
}

impl<'p> Secrets<'p> {
    pub(super) fn new(program: &'p Program) -> Self {
        Secrets {
            program,
            lets: Default::default(),
        }
    }

    fn let_holds_secret(&self, id: u32) -> bool {
        if let Some(known) = self.lets.borrow().get(&id) {
            return *known;
        }
        // Lets cannot reach themselves; the guard keeps a walk finite anyway.
        self.lets.borrow_mut().insert(id, true);
        let secret = self
            .program
            .lets
            .get(id as usize)
            .is_some_and(|x| secret_expr(self, x, 0, &[]));
        self.lets.borrow_mut().insert(id, secret);
        secret
    }
}

/// A string quoted as JSON quotes it (values and reasons are data, not
/// policy text: braces are not doubled).
pub(super) fn json_quoted(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Whether `e` reads a credential: through a field, key, variable, let or
/// rule the linter would call one, or a variable in `slots` (a rule
/// parameter given a credential, a loop variable over credentials).
pub(super) fn secret_expr(sec: &Secrets<'_>, e: &Expr, depth: usize, slots: &[u32]) -> bool {
    if depth > 32 {
        return true;
    }
    let p = sec.program;
    let d = depth + 1;
    let secret_expr = |_: &Program, e: &Expr, d: usize| secret_expr(sec, e, d, slots);
    let name_of =
        |names: &[ir::Name], i: u32| names.get(i as usize).is_some_and(|n| credential_name(n));
    match e {
        Expr::Const(_) | Expr::Root(_) | Expr::Pattern(_) | Expr::Scalar(_) => false,
        Expr::Var(slot) => slots.contains(slot) || name_of(&p.names.slots, *slot),
        Expr::Let(id) => name_of(&p.names.lets, *id) || sec.let_holds_secret(*id),
        Expr::Field(b, name, _) => credential_name(name) || secret_expr(p, b, d),
        Expr::Index(b, k, _) => {
            matches!(&**k, Expr::Const(Value::Str(s)) if credential_name(s))
                || secret_expr(p, b, d)
                || secret_expr(p, k, d)
        }
        Expr::Call(rule, args) => {
            name_of(&p.names.rules, *rule) || args.iter().any(|a| secret_expr(p, a, d))
        }
        // Their result is a boolean or a row, never the credential itself.
        Expr::Builtin(b, _, _) if takes_secrets(*b) => false,
        Expr::Builtin(_, args, _) | Expr::List(args) | Expr::Tuple(args) => {
            args.iter().any(|a| secret_expr(p, a, d))
        }
        Expr::Graph(q) => q.args.iter().any(|a| secret_expr(p, a, d)),
        Expr::Not(x, _) | Expr::Principal(_, x) => secret_expr(p, x, d),
        Expr::And(a, b, _)
        | Expr::Or(a, b, _)
        | Expr::Coalesce(a, b)
        | Expr::Cmp(_, a, b, _)
        | Expr::Like(a, b, _)
        | Expr::Matches(a, b, _) => secret_expr(p, a, d) || secret_expr(p, b, d),
        Expr::In { item, set, .. } => secret_expr(p, item, d) || secret_expr(p, set, d),
        Expr::If(c, a, b, _) => {
            secret_expr(p, c, d) || secret_expr(p, a, d) || secret_expr(p, b, d)
        }
        Expr::Match(s, arms, default) => {
            secret_expr(p, s, d)
                || arms.iter().any(|(_, x)| secret_expr(p, x, d))
                || default.as_ref().is_some_and(|x| secret_expr(p, x, d))
        }
        Expr::Record(fields) => fields
            .iter()
            .any(|(k, x)| credential_name(k) || secret_expr(p, x, d)),
        Expr::Template(parts) => parts.iter().any(|part| match part {
            ir::TemplatePart::Expr(x) => secret_expr(p, x, d),
            ir::TemplatePart::Text(_) => false,
        }),
        Expr::Quant { over, body, .. } => secret_expr(p, over, d) || secret_expr(p, body, d),
        Expr::ListComp { elem, over, .. } => secret_expr(p, elem, d) || secret_expr(p, over, d),
        Expr::RecordComp {
            key, value, over, ..
        } => secret_expr(p, key, d) || secret_expr(p, value, d) || secret_expr(p, over, d),
    }
}

/// Longest text shown, in characters; most items of a list or fields of a
/// record; deepest nesting shown.
const MAX_TEXT: usize = 80;
const MAX_ITEMS: usize = 8;
const MAX_DEPTH: usize = 3;

/// A value as policy text, bounded, with credentials hidden.
pub(super) fn shown(p: &Program, v: &Val, secret: bool) -> String {
    if secret {
        return SECRET.into();
    }
    let mut out = String::with_capacity(32);
    shown_into(p, v, 0, &mut out);
    out
}

fn shown_into(p: &Program, v: &Val, depth: usize, out: &mut String) {
    let more = |n: usize, out: &mut String| {
        if n > MAX_ITEMS {
            let _ = write!(out, ", … {} more", n - MAX_ITEMS);
        }
    };
    match v {
        Val::Null => out.push_str("null"),
        Val::Bool(b) => {
            let _ = write!(out, "{b}");
        }
        Val::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Val::Float(x) => {
            let _ = write!(out, "{x}");
        }
        Val::Scalar(x) => {
            let _ = write!(out, "{}", x.policy_text());
        }
        Val::Str(_) | Val::OwnedStr(_) => {
            let s = v.as_str().unwrap_or("");
            match s.char_indices().nth(MAX_TEXT) {
                Some((cut, _)) => {
                    json_quoted(s.get(..cut).unwrap_or(""), out);
                    out.pop();
                    out.push_str("…\"");
                }
                None => json_quoted(s, out),
            }
        }
        Val::Pattern(id) => match p.patterns.get(*id as usize) {
            Some(re) => {
                let mut t = String::new();
                value_text(&Value::str(re.as_str()), &mut t);
                out.push_str("re");
                out.push_str(&t);
            }
            None => out.push_str("re\"\""),
        },
        Val::Principal(pv) => {
            let kind = p
                .kind_names
                .get(pv.kind as usize)
                .map_or("?", |k| k.as_ref());
            out.push_str(kind);
            out.push(':');
            shown_into(p, &pv.value, depth, out);
        }
        _ if depth >= MAX_DEPTH => out.push('…'),
        Val::List(_) | Val::OwnedList(_) | Val::Tuple(_) => {
            let (open, close) = if matches!(v, Val::Tuple(_)) {
                ('(', ')')
            } else {
                ('[', ']')
            };
            out.push(open);
            if let Some(items) = v.as_list() {
                for (i, item) in items.iter().take(MAX_ITEMS).enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    shown_into(p, &item, depth + 1, out);
                }
                more(items.len(), out);
            }
            out.push(close);
        }
        Val::Record(_) | Val::OwnedRecord(_) => {
            out.push('{');
            // Keys in order, so the same record reads the same however it
            // arrived (JSON objects sort their keys, Python dicts keep
            // insertion order).
            let mut entries = v.record_entries().unwrap_or_default();
            entries.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
            let n = entries.len();
            for (i, (k, item)) in entries.into_iter().take(MAX_ITEMS).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let k = k.as_str().unwrap_or("");
                key_text(k, out);
                out.push_str(": ");
                if credential_name(k) {
                    out.push_str(SECRET);
                } else {
                    shown_into(p, &item, depth + 1, out);
                }
            }
            more(n, out);
            out.push('}');
        }
    }
}
