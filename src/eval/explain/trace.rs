//! Recording a decision: what the evaluator does when it explains. Only
//! `when` conditions are traced; their boolean structure (`and`, `or`,
//! `not`, rules, lets, `if`, `any`/`all`) is walked node by node and every
//! leaf is evaluated by the ordinary evaluator.
//!
//! Invariant: a traced condition is charged exactly what the plain one is,
//! in the same order, and fails where it fails: each traced node takes
//! the depth level and step `Evaluator::eval` takes and computes its value
//! with the same helpers (`compare`, `like`, `contains`, `matches_expr`,
//! `builtin`, `call`). So an explained decision equals the plain decision,
//! cost included (`tests/explain.rs` checks it on every conformance case).
//! Values shown beside a leaf that its helper evaluates itself (a built-in's
//! arguments, a descriptor read from the request) are read again afterwards
//! on a side budget, and only when they are plain reads.

use super::super::*;

/// What one explained decision recorded.
#[derive(Default)]
pub(crate) struct Trace<'a> {
    /// Condition nodes in evaluation order; each node's subtree follows it.
    pub nodes: Vec<Node<'a>>,
    /// Operand values, by the node they belong to.
    pub seen: Vec<Seen<'a>>,
    /// Statements whose condition was evaluated, in order.
    pub runs: Vec<Run<'a>>,
    /// Blocks entered, in order.
    pub blocks: Vec<&'a ir::Block>,
}

/// One evaluated condition node.
pub(crate) struct Node<'a> {
    pub expr: &'a Expr,
    /// One past the last node of this node's subtree.
    pub end: u32,
    /// Its value; `None` when its evaluation failed.
    pub value: Option<Val<'a>>,
}

/// A value a node saw.
pub(crate) struct Seen<'a> {
    pub node: u32,
    pub what: What<'a>,
    /// The value, or the code of the error reading it gave.
    pub value: Result<Val<'a>, Code>,
}

/// Which value a [`Seen`] is.
pub(crate) enum What<'a> {
    /// An operand, by its expression.
    Operand(&'a Expr),
    /// A rule's parameter, by index.
    Param(usize),
    /// The element of a quantifier that decided it, by position.
    Element(usize),
}

/// A statement's condition, evaluated.
pub(crate) struct Run<'a> {
    pub statement: &'a ir::Statement,
    /// Its condition's nodes.
    pub nodes: std::ops::Range<u32>,
    /// Whether it applied, or the error that stopped it.
    pub result: Result<bool, Arc<str>>,
}

/// The budget of reads made only to show a value.
const SIDE_BUDGET: u64 = 1 << 20;

impl<'a> Evaluator<'a> {
    fn tracer(&mut self) -> Option<&mut Trace<'a>> {
        self.trace.as_deref_mut()
    }

    /// `Evaluator::applies`, recording the statement's condition.
    #[cold]
    #[inline(never)]
    pub(in crate::eval) fn traced_applies(&mut self, s: &'a ir::Statement) -> R<bool> {
        let start = self.trace.as_ref().map_or(0, |t| t.nodes.len() as u32);
        let result = match &s.when {
            None => Ok(true),
            Some(cond) => self.traced_truth(cond, "a `when` condition"),
        };
        if let Some(t) = self.tracer() {
            let end = t.nodes.len() as u32;
            t.runs.push(Run {
                statement: s,
                nodes: start..end,
                result: match &result {
                    Ok(b) => Ok(*b),
                    Err(e) => Err(Arc::from(e.message.as_str())),
                },
            });
        }
        result
    }

    /// Records that a block is entered.
    #[cold]
    #[inline(never)]
    pub(in crate::eval) fn trace_block(&mut self, block: &'a ir::Block) {
        if let Some(t) = self.tracer() {
            t.blocks.push(block);
        }
    }

    /// `Evaluator::truth`, traced.
    pub(super) fn traced_truth(&mut self, e: &'a Expr, what: &str) -> R<bool> {
        match self.traced_eval(e)? {
            Val::Bool(b) => Ok(b),
            other => Err(type_error(
                span_of(e),
                format!("{what} must be a boolean, found {}", other.type_name()),
            )),
        }
    }

    fn open(&mut self, e: &'a Expr) -> u32 {
        match self.tracer() {
            Some(t) => {
                t.nodes.push(Node {
                    expr: e,
                    end: 0,
                    value: None,
                });
                t.nodes.len() as u32 - 1
            }
            None => 0,
        }
    }

    fn close(&mut self, at: u32, v: &R<Val<'a>>) {
        if let Some(t) = self.tracer() {
            let end = t.nodes.len() as u32;
            if let Some(node) = t.nodes.get_mut(at as usize) {
                node.end = end;
                node.value = v.as_ref().ok().cloned();
            }
        }
    }

    fn saw(&mut self, node: u32, what: What<'a>, value: Result<Val<'a>, Code>) {
        if let Some(t) = self.tracer() {
            t.seen.push(Seen { node, what, value });
        }
    }

    /// `Evaluator::eval`, traced: the nodes a condition is made of are
    /// walked here, anything else is a leaf the plain evaluator computes.
    fn traced_eval(&mut self, e: &'a Expr) -> R<Val<'a>> {
        let at = self.open(e);
        let v = match e {
            Expr::And(..)
            | Expr::Or(..)
            | Expr::Not(..)
            | Expr::If(..)
            | Expr::Call(..)
            | Expr::Let(_)
            | Expr::Cmp(..)
            | Expr::In { .. }
            | Expr::Like(..)
            | Expr::Matches(..)
            | Expr::Builtin(..)
            | Expr::Quant {
                q: Quantifier::Any | Quantifier::All,
                ..
            } => self.enter(e).and_then(|()| {
                let v = self.traced_node(e, at);
                self.depth -= 1;
                v
            }),
            _ => self.eval(e),
        };
        self.close(at, &v);
        v
    }

    /// `Evaluator::eval_node` for the nodes `traced_eval` walks.
    fn traced_node(&mut self, e: &'a Expr, at: u32) -> R<Val<'a>> {
        Ok(match e {
            Expr::Not(x, _) => Val::Bool(!self.traced_truth(x, "the operand of `not`")?),
            Expr::And(l, r, _) => Val::Bool(
                self.traced_truth(l, "an operand of `and`")?
                    && self.traced_truth(r, "an operand of `and`")?,
            ),
            Expr::Or(l, r, _) => Val::Bool(
                self.traced_truth(l, "an operand of `or`")?
                    || self.traced_truth(r, "an operand of `or`")?,
            ),
            Expr::If(c, a, b, _) => {
                if self.traced_truth(c, "the condition of `if`")? {
                    self.traced_eval(a)?
                } else {
                    self.traced_eval(b)?
                }
            }
            Expr::Let(id) => {
                if let Some(Some(v)) = self.frame.lets.get(*id) {
                    return Ok(v.clone());
                }
                let v = match self.program.lets.get(*id as usize) {
                    Some(x) => self.traced_eval(x)?,
                    None => Val::Null,
                };
                self.frame.lets.set(*id, Some(v.clone()));
                v
            }
            Expr::Call(rule, args) => {
                let params = self.program.rules.get(*rule as usize).map(|r| &r.params);
                return self.call(*rule, args, |ev, body| {
                    for (i, slot) in params.into_iter().flatten().enumerate() {
                        let v = ev.frame.vars.get(*slot).cloned().unwrap_or_default();
                        ev.saw(at, What::Param(i), Ok(v));
                    }
                    ev.traced_eval(body)
                });
            }
            Expr::Cmp(op, l, r, span) => {
                let a = self.eval(l)?;
                self.saw(at, What::Operand(l), Ok(a.clone()));
                let b = self.eval(r)?;
                self.saw(at, What::Operand(r), Ok(b.clone()));
                Val::Bool(self.compare(*op, &a, &b, *span)?)
            }
            Expr::In {
                item,
                set,
                negate,
                span,
            } => {
                let x = self.eval(item)?;
                self.saw(at, What::Operand(item), Ok(x.clone()));
                let s = self.eval(set)?;
                self.saw(at, What::Operand(set), Ok(s.clone()));
                Val::Bool(self.contains(&s, &x, *span)? != *negate)
            }
            Expr::Like(l, r, span) => {
                let a = self.eval(l)?;
                self.saw(at, What::Operand(l), Ok(a.clone()));
                let b = self.eval(r)?;
                self.saw(at, What::Operand(r), Ok(b.clone()));
                Val::Bool(self.like(&a, &b, *span)?)
            }
            Expr::Matches(subject, desc, _) => {
                let s = self.eval(subject)?;
                self.saw(at, What::Operand(subject), Ok(s.clone()));
                let hit = self.matches_expr(&s, desc);
                let mut reads = Vec::new();
                descriptor_reads(desc, &mut reads);
                for r in reads {
                    self.side_reads(at, std::slice::from_ref(r));
                }
                Val::Bool(hit?)
            }
            Expr::Builtin(b, args, span) => {
                let v = self.builtin(*b, args, *span);
                if !crate::ir::print::takes_secrets(*b) {
                    self.side_reads(at, args);
                }
                v?
            }
            Expr::Quant {
                q,
                slot,
                over,
                body,
                span,
            } => self.traced_quantify(at, *q, *slot, over, body, *span)?,
            _ => self.eval_node(e)?,
        })
    }

    /// `Evaluator::quantify` for `any` and `all`, keeping the trace of the
    /// element that decided (for `all`, the first that fails; for `any`,
    /// the first that holds) and of an element whose condition failed.
    fn traced_quantify(
        &mut self,
        at: u32,
        q: Quantifier,
        slot: u32,
        over: &'a Expr,
        body: &'a Expr,
        span: Span,
    ) -> R<Val<'a>> {
        let o = self.eval(over)?;
        self.saw(at, What::Operand(over), Ok(o.clone()));
        let items = iterate(&o, span)?;
        let what = "the condition of a quantifier";
        for i in 0..items.len() {
            self.spend(span)?;
            let Some(v) = items.get(i) else { continue };
            self.frame.vars.set(slot, v.clone());
            let mark = self
                .trace
                .as_ref()
                .map_or((0, 0), |t| (t.nodes.len(), t.seen.len()));
            let hit = match self.traced_truth(body, what) {
                Ok(hit) => hit,
                Err(e) => {
                    self.saw(at, What::Element(i), Ok(v));
                    return Err(e);
                }
            };
            let decides = match q {
                Quantifier::Any => hit,
                _ => !hit,
            };
            if decides {
                self.saw(at, What::Element(i), Ok(v));
                return Ok(Val::Bool(q == Quantifier::Any));
            }
            if let Some(t) = self.tracer() {
                t.nodes.truncate(mark.0);
                t.seen.truncate(mark.1);
            }
        }
        Ok(Val::Bool(q == Quantifier::All))
    }

    /// Shows the values of `args` that are plain reads (a path, a variable,
    /// a computed let), read again on a budget of their own so that the
    /// decision's charges and state are untouched.
    fn side_reads(&mut self, at: u32, args: &'a [Expr]) {
        for a in args {
            if !self.plain_read(a) || matches!(a, Expr::Const(_)) {
                continue;
            }
            let meter = std::mem::replace(&mut self.meter, Meter::new(SIDE_BUDGET));
            let absent_at = self.absent_at;
            let v = self.eval(a).map_err(|e| e.code);
            self.absent_at = absent_at;
            self.meter = meter;
            self.saw(at, What::Operand(a), v);
        }
    }

    /// Whether evaluating `e` only reads: roots, variables, constants,
    /// computed lets, fields and indexes of those.
    fn plain_read(&self, e: &Expr) -> bool {
        match e {
            Expr::Const(_) | Expr::Root(_) | Expr::Var(_) => true,
            Expr::Let(id) => matches!(self.frame.lets.get(*id), Some(Some(_))),
            Expr::Field(b, _, _) => self.plain_read(b),
            Expr::Index(b, k, _) => self.plain_read(b) && self.plain_read(k),
            _ => false,
        }
    }
}

/// The parts of a descriptor written in the policy that read the request
/// (`user:{resource.owner_id}`, `[role:admin, data.acl[resource.id]]`).
fn descriptor_reads<'e>(e: &'e Expr, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::Principal(_, v) => descriptor_reads(v, out),
        Expr::List(items) | Expr::Tuple(items) => {
            for i in items.iter() {
                descriptor_reads(i, out);
            }
        }
        Expr::Const(_) | Expr::Template(_) => {}
        other => out.push(other),
    }
}
