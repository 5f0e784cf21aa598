//! Constant folding over the lowered IR: the value of an expression that
//! reads nothing of the request (literals, file-level lets, rules without
//! parameters, and operators over them). Lowering records which `when` and
//! `if` conditions are constant; the linter reports them.
//!
//! Invariant: folding computes what a decision would (exact comparisons,
//! the same glob matcher); where a decision would fail or the kinds differ
//! it gives `None`, never a guess.

use super::*;

/// How deep folding follows lets and rules into their definitions.
const FOLD_DEPTH: usize = 16;

impl<'u> Lowerer<'u> {
    /// The value of `e` when it does not depend on the request.
    pub(super) fn fold(&self, e: &Expr, depth: usize) -> Option<Value> {
        if depth > FOLD_DEPTH {
            return None;
        }
        let d = depth + 1;
        Some(match e {
            Expr::Const(v @ (Value::Null | Value::Bool(_) | Value::Int(_) | Value::Str(_))) => {
                v.clone()
            }
            // Only file-level lets: a block's lets are locals, as loop
            // variables are, and are not folded.
            Expr::Let(id) if (*id as usize) < self.let_decls.len() => {
                let def = self.lets.get(*id as usize)?.as_ref()?;
                return self.fold(def, d);
            }
            Expr::Call(id, args) if args.is_empty() && self.rule_lowered(*id) => {
                return self.fold(self.rule_bodies.get(*id as usize)?, d);
            }
            Expr::Not(x, _) => Value::Bool(!self.fold_bool(x, d)?),
            Expr::And(a, b, _) => match (self.fold_bool(a, d), self.fold_bool(b, d)) {
                (Some(false), _) | (_, Some(false)) => Value::Bool(false),
                (Some(true), Some(true)) => Value::Bool(true),
                _ => return None,
            },
            Expr::Or(a, b, _) => match (self.fold_bool(a, d), self.fold_bool(b, d)) {
                (Some(true), _) | (_, Some(true)) => Value::Bool(true),
                (Some(false), Some(false)) => Value::Bool(false),
                _ => return None,
            },
            Expr::Cmp(op @ (CmpOp::Eq | CmpOp::Ne), a, b, _) => {
                let same = equals(&self.fold(a, d)?, &self.fold(b, d)?)?;
                Value::Bool(same == matches!(op, CmpOp::Eq))
            }
            Expr::In {
                item, set, negate, ..
            } => {
                let needle = self.fold(item, d)?;
                let mut found = false;
                match &**set {
                    Expr::Const(Value::List(items)) => {
                        for v in items.items() {
                            found |= equals(&needle, v)?;
                        }
                    }
                    Expr::List(items) => {
                        for i in items.iter() {
                            found |= equals(&needle, &self.fold(i, d)?)?;
                        }
                    }
                    _ => return None,
                }
                Value::Bool(found != *negate)
            }
            Expr::Like(a, b, _) => match (self.fold(a, d)?, self.fold(b, d)?) {
                (Value::Str(text), Value::Str(glob)) => Value::Bool(glob_match(&glob, &text)),
                _ => return None,
            },
            Expr::Coalesce(a, b) => match self.fold(a, d)? {
                Value::Null => self.fold(b, d)?,
                known => known,
            },
            Expr::If(c, a, b, _) => match self.fold_bool(c, d)? {
                true => self.fold(a, d)?,
                false => self.fold(b, d)?,
            },
            _ => return None,
        })
    }

    fn fold_bool(&self, e: &Expr, depth: usize) -> Option<bool> {
        match self.fold(e, depth)? {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// Whether rule `id`'s body is lowered already: rules are lowered after
    /// the file-level lets, in order, and before every policy.
    fn rule_lowered(&self, id: u32) -> bool {
        match self.current {
            None => true,
            Some(Node::Rule(current)) => id < current,
            Some(Node::Let(_)) => false,
        }
    }
}

/// `==` as a decision computes it, for the values folding produces; `None`
/// for values of two kinds, whose comparison the type check judges.
fn equals(a: &Value, b: &Value) -> Option<bool> {
    Some(match (a, b) {
        (Value::Null, o) | (o, Value::Null) => matches!(o, Value::Null),
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x == y,
        _ => return None,
    })
}
