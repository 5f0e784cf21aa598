//! An explanation's trace made readable: condition trees with the text of
//! each node, the values its leaves saw (bounded, credentials hidden) and
//! the part that failed; as owned values, as JSON and as a text tree.

use super::trace::{Node, Run, Seen, What};
use super::values::{json_quoted, secret_expr, shown, Secrets, SECRET};
use super::*;
use crate::ir::print::{expr_text, takes_secrets};
use serde::Serialize;

/// What became of a statement in an explained decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementStatus {
    /// It applied and made the decision.
    Decided,
    /// It applied, but the decision came from another statement (a refusal
    /// in another policy wins over an allow; the first allow is reported).
    Applied,
    /// Its condition was false.
    NotApplied,
    /// Its condition, or what it outputs, could not be evaluated: the
    /// decision failed closed.
    Error,
    /// The decision was made before it was looked at.
    NotReached,
}

impl StatementStatus {
    fn as_str(self) -> &'static str {
        match self {
            StatementStatus::Decided => "decided",
            StatementStatus::Applied => "applied",
            StatementStatus::NotApplied => "did not apply",
            StatementStatus::Error => "error",
            StatementStatus::NotReached => "not reached",
        }
    }
}

/// One statement of an explained decision.
#[derive(Clone, Debug, Serialize)]
pub struct StatementExplanation {
    /// `policy.label`, or `policy#n` for the n-th unlabelled statement.
    #[serde(serialize_with = "text")]
    pub id: Arc<str>,
    /// The file it is written in, and its 1-based line.
    #[serde(serialize_with = "text")]
    pub file: Arc<str>,
    pub line: usize,
    /// What it decides when it applies: `allow`, `deny` or `unauthenticated`.
    pub effect: &'static str,
    /// What became of it.
    pub status: StatementStatus,
    /// The error, when its status is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The part of its condition that failed, when it did not apply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Its `when` condition, evaluated; absent for a statement without
    /// one or one not reached.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<Condition>,
}

fn text<S: serde::Serializer>(s: &Arc<str>, to: S) -> Result<S::Ok, S::Error> {
    to.serialize_str(s)
}

/// A node of a condition tree.
#[derive(Clone, Debug, Serialize)]
pub struct Condition {
    /// The expression, as policy text.
    pub text: String,
    /// `and`, `or`, `not`, `if`, `rule`, `let`, `any`, `all`, or `test`
    /// for anything else (a comparison, a call, a read).
    pub kind: &'static str,
    /// Its value.
    pub result: ConditionResult,
    /// The values it read (operands, a rule's parameters, the element a
    /// quantifier stopped at), each as policy text; `<secret>` for a
    /// credential.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub seen: Vec<SeenValue>,
    /// On the path that made the statement not apply: an `and`'s false
    /// part, every part of a false `or`, and so on down to a test.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub failing: bool,
    /// Its parts (flattened: `a and b and c` has three).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Condition>,
}

/// A condition node's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConditionResult {
    True,
    False,
    /// Its evaluation failed (or it is not a boolean).
    Error,
    /// Never evaluated: an earlier part decided (`false and ...`).
    NotEvaluated,
}

impl ConditionResult {
    fn as_str(self) -> &'static str {
        match self {
            ConditionResult::True => "true",
            ConditionResult::False => "false",
            ConditionResult::Error => "error",
            ConditionResult::NotEvaluated => "-",
        }
    }
}

/// A value a condition node read.
#[derive(Clone, Debug, Serialize)]
pub struct SeenValue {
    /// What was read: an expression, `name` for a rule parameter, or
    /// `x (element 3)` for a quantifier's variable.
    pub expr: String,
    /// The value as policy text, `<secret>`, or `absent`.
    pub value: String,
}

/// Builds the owned statements of an explanation.
pub(super) fn statements(ex: &Explanation<'_>) -> Vec<StatementExplanation> {
    let program = ex.program;
    let trace = &ex.trace;
    let runs: HashMap<u32, &Run> = trace.runs.iter().map(|r| (r.statement.id, r)).collect();
    let decided: Vec<&str> = ex
        .decision
        .statements
        .iter()
        .map(|s| s.id.as_ref())
        .collect();
    let mut by_node: Vec<(u32, u32)> = (0..trace.seen.len() as u32)
        .filter_map(|k| trace.seen.get(k as usize).map(|s| (s.node, k)))
        .collect();
    by_node.sort_unstable();
    let r = Renderer {
        program,
        nodes: &trace.nodes,
        seen: &trace.seen,
        by_node,
        secrets: Secrets::new(program),
    };
    let mut out = Vec::new();
    for (_, block) in &ex.blocks {
        for s in scan_order(block) {
            let Some(meta) = program.statements.get(s.id as usize) else {
                continue;
            };
            let run = runs.get(&s.id);
            let in_decision = decided.contains(&meta.id.as_ref());
            let (status, error) = match run.map(|r| &r.result) {
                None => (StatementStatus::NotReached, None),
                Some(Err(e)) => (StatementStatus::Error, Some(e.to_string())),
                Some(Ok(false)) => (StatementStatus::NotApplied, None),
                Some(Ok(true)) if in_decision => match &ex.decision.error {
                    // It applied; its reason or outputs failed.
                    Some(e) => (StatementStatus::Error, Some(e.message.clone())),
                    None => (StatementStatus::Decided, None),
                },
                Some(Ok(true)) => (StatementStatus::Applied, None),
            };
            let mut condition = run.and_then(|run| r.condition(run));
            let mut failed = None;
            if status == StatementStatus::NotApplied {
                if let Some(c) = &mut condition {
                    mark_failing(c);
                    failed = first_failing(c).map(|c| c.text.clone());
                }
            }
            out.push(StatementExplanation {
                id: meta.id.clone(),
                file: meta.file.clone(),
                line: meta.line,
                effect: s.outcome.as_str(),
                status,
                error,
                failed,
                condition,
            });
        }
    }
    out
}

/// The statements of every block a decision can run, not evaluated: their
/// condition trees hold the parts a decision could evaluate, each
/// `not-evaluated` (rule and let bodies, shared by statements, are not
/// descended into).
pub(super) fn outline(program: &Program) -> Vec<StatementExplanation> {
    let r = Renderer {
        program,
        nodes: &[],
        seen: &[],
        by_node: Vec::new(),
        secrets: Secrets::new(program),
    };
    let blocks = program
        .authenticate
        .iter()
        .chain(program.policies.iter().map(|p| &p.body));
    let mut out = Vec::new();
    for block in blocks {
        for s in scan_order(block) {
            let Some(meta) = program.statements.get(s.id as usize) else {
                continue;
            };
            out.push(StatementExplanation {
                id: meta.id.clone(),
                file: meta.file.clone(),
                line: meta.line,
                effect: s.outcome.as_str(),
                status: StatementStatus::NotReached,
                error: None,
                failed: None,
                condition: s.when.as_ref().map(|w| r.skeleton(w, 0)),
            });
        }
    }
    out
}

struct Renderer<'r, 'a> {
    program: &'a Program,
    nodes: &'r [Node<'a>],
    seen: &'r [Seen<'a>],
    /// `seen` by node: (node, position in `seen`), sorted.
    by_node: Vec<(u32, u32)>,
    secrets: Secrets<'a>,
}

impl<'a> Renderer<'_, 'a> {
    fn condition(&self, run: &Run<'a>) -> Option<Condition> {
        if run.nodes.is_empty() {
            return None;
        }
        Some(self.node(run.nodes.start, &[]))
    }

    /// The subtrees directly under node `i`.
    fn children(&self, i: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let Some(n) = self.nodes.get(i as usize) else {
            return out;
        };
        let mut j = i + 1;
        while j < n.end {
            out.push(j);
            j = self
                .nodes
                .get(j as usize)
                .map_or(n.end, |c| c.end.max(j + 1));
        }
        out
    }

    /// Node `i` and its subtree; `slots` are the variables holding a
    /// credential where it is evaluated.
    fn node(&self, i: u32, slots: &[u32]) -> Condition {
        let Some(n) = self.nodes.get(i as usize) else {
            return self.unevaluated(&NULL_EXPR);
        };
        let p = self.program;
        let inner = inner_secret_slots(&self.secrets, n.expr, slots);
        let result = match &n.value {
            Some(Val::Bool(true)) => ConditionResult::True,
            Some(Val::Bool(false)) => ConditionResult::False,
            _ => ConditionResult::Error,
        };
        let mut c = Condition {
            text: expr_text(self.program, n.expr),
            kind: kind_of(n.expr),
            result,
            seen: self.seen_by(i, n.expr, slots),
            failing: false,
            children: Vec::new(),
        };
        match n.expr {
            Expr::And(..) | Expr::Or(..) => {
                let and = matches!(n.expr, Expr::And(..));
                let mut parts = Vec::new();
                flatten(n.expr, and, &mut parts);
                let mut traced = Vec::new();
                self.flatten_traced(i, and, &mut traced);
                c.children = traced.iter().map(|j| self.node(*j, slots)).collect();
                for e in parts.iter().skip(traced.len()) {
                    c.children.push(self.unevaluated(e));
                }
            }
            _ => {
                c.children = self
                    .children(i)
                    .into_iter()
                    .map(|j| self.node(j, &inner))
                    .collect();
                if let (Expr::Not(x, _), true) = (n.expr, c.children.is_empty()) {
                    c.children.push(self.unevaluated(x));
                }
            }
        }
        // A bare read that is not a boolean: show what it was.
        if c.seen.is_empty() && c.children.is_empty() && result == ConditionResult::Error {
            if let Some(v) = &n.value {
                c.seen.push(SeenValue {
                    expr: c.text.clone(),
                    value: shown(p, v, secret_expr(&self.secrets, n.expr, 0, slots)),
                });
            }
        }
        c
    }

    /// The traced parts of an `and` (or `or`) chain rooted at node `i`.
    fn flatten_traced(&self, i: u32, and: bool, out: &mut Vec<u32>) {
        for j in self.children(i) {
            let same = self
                .nodes
                .get(j as usize)
                .is_some_and(|c| same_op(c.expr, and));
            if same {
                self.flatten_traced(j, and, out);
            } else {
                out.push(j);
            }
        }
    }

    /// `e` as a tree of the parts a decision evaluates, none evaluated.
    fn skeleton(&self, e: &Expr, depth: usize) -> Condition {
        let mut c = self.unevaluated(e);
        if depth > 64 {
            return c;
        }
        let d = depth + 1;
        c.children = match e {
            Expr::And(..) | Expr::Or(..) => {
                let mut parts = Vec::new();
                flatten(e, matches!(e, Expr::And(..)), &mut parts);
                parts.iter().map(|p| self.skeleton(p, d)).collect()
            }
            Expr::Not(x, _) => vec![self.skeleton(x, d)],
            Expr::If(c, a, b, _) => vec![
                self.skeleton(c, d),
                self.skeleton(a, d),
                self.skeleton(b, d),
            ],
            Expr::Quant {
                q: Quantifier::Any | Quantifier::All,
                body,
                ..
            } => vec![self.skeleton(body, d)],
            _ => Vec::new(),
        };
        c
    }

    fn unevaluated(&self, e: &Expr) -> Condition {
        Condition {
            text: expr_text(self.program, e),
            kind: kind_of(e),
            result: ConditionResult::NotEvaluated,
            seen: Vec::new(),
            failing: false,
            children: Vec::new(),
        }
    }

    /// The values node `i` saw, with credentials hidden.
    fn seen_by(&self, i: u32, e: &'a Expr, slots: &[u32]) -> Vec<SeenValue> {
        let p = self.program;
        let mut out: Vec<SeenValue> = Vec::new();
        if let Expr::Builtin(b, args, _) = e {
            if takes_secrets(*b) {
                return args
                    .iter()
                    .filter(|a| !matches!(a, Expr::Const(_)))
                    .map(|a| SeenValue {
                        expr: expr_text(p, a),
                        value: SECRET.into(),
                    })
                    .collect();
            }
        }
        let from = self.by_node.partition_point(|(n, _)| *n < i);
        let mine = self
            .by_node
            .get(from..)
            .unwrap_or_default()
            .iter()
            .take_while(|(n, _)| *n == i)
            .filter_map(|(_, k)| self.seen.get(*k as usize));
        let sec = &self.secrets;
        for s in mine {
            let (expr, secret) = match (&s.what, e) {
                (What::Operand(x), _) => {
                    if matches!(x, Expr::Const(_) | Expr::Pattern(_)) {
                        continue;
                    }
                    (expr_text(p, x), secret_expr(sec, x, 0, slots))
                }
                (What::Param(k), Expr::Call(rule, args)) => {
                    let name = p
                        .rules
                        .get(*rule as usize)
                        .and_then(|r| r.params.get(*k))
                        .and_then(|slot| p.names.slots.get(*slot as usize))
                        .map_or_else(|| format!("#{k}"), |n| n.to_string());
                    let secret = credential_name(&name)
                        || args.get(*k).is_some_and(|a| secret_expr(sec, a, 0, slots));
                    (name, secret)
                }
                (What::Element(k), Expr::Quant { slot, over, .. }) => {
                    let name = p
                        .names
                        .slots
                        .get(*slot as usize)
                        .map_or("_", |n| n.as_ref());
                    let secret = credential_name(name) || secret_expr(sec, over, 0, slots);
                    (format!("{name} (element {k})"), secret)
                }
                _ => continue,
            };
            let value = match &s.value {
                Ok(v) => shown(p, v, secret),
                Err(Code::AbsentField) => "absent".into(),
                Err(code) => format!("error {}", code.code()),
            };
            out.push(SeenValue { expr, value });
        }
        out
    }
}

/// The variables holding a credential inside `e`'s body: a rule's
/// parameters given one (or named like one), a quantifier's variable over
/// credentials; with those of the enclosing `slots`.
fn inner_secret_slots<'s>(
    sec: &Secrets<'_>,
    e: &Expr,
    slots: &'s [u32],
) -> std::borrow::Cow<'s, [u32]> {
    let p = sec.program;
    if !matches!(e, Expr::Call(..) | Expr::Quant { .. }) {
        return std::borrow::Cow::Borrowed(slots);
    }
    let mut inner = slots.to_vec();
    match e {
        Expr::Call(rule, args) => {
            let params = p.rules.get(*rule as usize).map(|r| r.params.as_slice());
            for (k, slot) in params.unwrap_or_default().iter().enumerate() {
                let named = p
                    .names
                    .slots
                    .get(*slot as usize)
                    .is_some_and(|n| credential_name(n));
                if named || args.get(k).is_some_and(|a| secret_expr(sec, a, 0, slots)) {
                    inner.push(*slot);
                }
            }
        }
        Expr::Quant { slot, over, .. } if secret_expr(sec, over, 0, slots) => inner.push(*slot),
        _ => {}
    }
    std::borrow::Cow::Owned(inner)
}

fn same_op(e: &Expr, and: bool) -> bool {
    matches!((e, and), (Expr::And(..), true) | (Expr::Or(..), false))
}

/// The parts of an `and` (or `or`) chain, left to right.
fn flatten<'e>(e: &'e Expr, and: bool, out: &mut Vec<&'e Expr>) {
    match e {
        Expr::And(l, r, _) if and => {
            flatten(l, and, out);
            flatten(r, and, out);
        }
        Expr::Or(l, r, _) if !and => {
            flatten(l, and, out);
            flatten(r, and, out);
        }
        other => out.push(other),
    }
}

fn kind_of(e: &Expr) -> &'static str {
    match e {
        Expr::And(..) => "and",
        Expr::Or(..) => "or",
        Expr::Not(..) => "not",
        Expr::If(..) => "if",
        Expr::Call(..) => "rule",
        Expr::Let(_) => "let",
        Expr::Quant {
            q: Quantifier::Any, ..
        } => "any",
        Expr::Quant {
            q: Quantifier::All, ..
        } => "all",
        _ => "test",
    }
}

/// Marks the path that made a false condition false.
fn mark_failing(c: &mut Condition) {
    if c.result != ConditionResult::False {
        return;
    }
    c.failing = true;
    match c.kind {
        "and" | "all" => {
            if let Some(k) = c
                .children
                .iter_mut()
                .find(|k| k.result == ConditionResult::False)
            {
                mark_failing(k);
            }
        }
        "or" | "rule" | "let" | "if" | "any" => c.children.iter_mut().for_each(mark_failing),
        // `not x` fails where `x` holds: the `not` is the part to show.
        _ => {}
    }
}

/// The first test on the failing path.
fn first_failing(c: &Condition) -> Option<&Condition> {
    if !c.failing {
        return None;
    }
    match c.children.iter().find(|k| k.failing) {
        Some(k) => first_failing(k).or(Some(k)),
        None => Some(c),
    }
}

impl fmt::Display for Explanation<'_> {
    /// The decision, then each statement with its condition tree.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.decision;
        write!(f, "{}", d.outcome.as_str())?;
        if !d.reason.is_empty() {
            let mut reason = String::new();
            json_quoted(&d.reason, &mut reason);
            write!(f, " {reason}")?;
        }
        writeln!(f)?;
        for s in d.statements.iter() {
            writeln!(f, "  decided by {} ({}:{})", s.id, s.file, s.line)?;
        }
        if let Some(e) = &d.error {
            writeln!(f, "  error {}: {}", e.code.code(), e.message)?;
        }
        for s in self.statements() {
            writeln!(f)?;
            write!(
                f,
                "{}  {}  {}  ({}:{})",
                s.id,
                s.effect,
                s.status.as_str(),
                s.file,
                s.line
            )?;
            if let Some(e) = &s.error {
                write!(f, ": {e}")?;
            }
            writeln!(f)?;
            if let Some(c) = &s.condition {
                tree(f, c, 1)?;
            }
        }
        Ok(())
    }
}

fn tree(f: &mut fmt::Formatter<'_>, c: &Condition, depth: usize) -> fmt::Result {
    let pad = "  ".repeat(depth);
    let text = match c.kind {
        "and" | "or" if !c.children.is_empty() => c.kind,
        _ => c.text.as_str(),
    };
    write!(f, "{pad}{:<5}  {text}", c.result.as_str())?;
    if c.failing && c.children.iter().all(|k| !k.failing) {
        write!(f, "   <- fails")?;
    }
    writeln!(f)?;
    for s in &c.seen {
        writeln!(f, "{pad}         {} = {}", s.expr, s.value)?;
    }
    for k in &c.children {
        tree(f, k, depth + 1)?;
    }
    Ok(())
}
