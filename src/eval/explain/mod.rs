//! Explanations: a decision together with why. Input: what a decision
//! takes. Output: an [`Explanation`], the [`Decision`] beside a trace of
//! every statement of the blocks the action reaches, each with its
//! condition tree, the values its leaves saw and the part that failed.
//!
//! Invariants:
//! - the decision is the one [`decide`] makes, cost included: the trace
//!   is kept by a hook the plain path tests once per block and statement
//!   (`Evaluator::trace`), and traced conditions are charged as plain ones
//!   (`trace.rs`);
//! - statements the block index ruled out, which a scan would have found
//!   not to apply, are evaluated after the decision on a budget of their
//!   own, so every statement before the deciding one is explained;
//! - no credential is shown: values read through a name the linter calls
//!   a credential, the arguments of `secret_eq`/`secret_lookup` and record
//!   fields with such names render as `<secret>` (`render.rs`).

use super::*;

mod render;
mod trace;
mod values;

pub use render::{Condition, ConditionResult, SeenValue, StatementExplanation, StatementStatus};
pub(crate) use trace::Trace;

/// A decision and why it was made. Borrows the policy set, the request and
/// the data it was made with; render it with `Display` (a tree for people),
/// [`Explanation::to_json`] or [`Explanation::statements`].
pub struct Explanation<'a> {
    decision: Decision,
    program: &'a Program,
    trace: Box<Trace<'a>>,
    /// The blocks the action reaches, in the order a decision runs them:
    /// the policy's name (`None` for `authenticate`) and the block.
    blocks: Vec<(Option<&'a str>, &'a ir::Block)>,
}

impl std::fmt::Debug for Explanation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Explanation")
            .field("decision", &self.decision)
            .field("statements", &self.statements())
            .finish()
    }
}

impl<'a> Explanation<'a> {
    /// The decision, as [`crate::PolicySet::decide`] makes it.
    pub fn decision(&self) -> &Decision {
        &self.decision
    }

    /// The decision, without the explanation.
    pub fn into_decision(self) -> Decision {
        self.decision
    }

    /// Every statement of the blocks the action reaches, in the order a
    /// decision looks at them, with what became of it.
    pub fn statements(&self) -> Vec<StatementExplanation> {
        render::statements(self)
    }

    /// The decision's JSON (as [`Decision::to_json`]) with an `explanation`
    /// member: `{"statements": [...]}` (documented in docs/language.md,
    /// "Explanations").
    pub fn to_json(&self) -> serde_json::Value {
        let mut json = self.decision.to_json();
        let statements = serde_json::to_value(self.statements()).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut json {
            map.insert(
                "explanation".into(),
                serde_json::json!({ "statements": statements }),
            );
        }
        json
    }

    /// [`Explanation::to_json`] as text, written directly (building a
    /// `serde_json::Value` of the tree first costs several times more).
    pub fn to_json_string(&self) -> String {
        let mut out = self.decision.to_json().to_string();
        let statements = serde_json::to_string(&self.statements()).unwrap_or_default();
        if out.ends_with('}') {
            out.pop();
            let sep = if out.ends_with('{') { "" } else { "," };
            out.push_str(&format!(
                "{sep}\"explanation\":{{\"statements\":{statements}}}}}"
            ));
        }
        out
    }
}

/// Every statement a decision can run (`authenticate`, then each policy
/// after overrides), with its condition as a tree no request has touched:
/// the places coverage counts (`portcullis test --coverage`).
pub(crate) fn outline(program: &Program) -> Vec<StatementExplanation> {
    render::outline(program)
}

/// Decides as [`decide`] does, recording why.
pub(crate) fn explain<'a>(
    program: &'a Program,
    request: &'a Request,
    data: &'a crate::request::Data,
    data_checked: bool,
    limits: &Limits,
) -> Explanation<'a> {
    let mut ev = Evaluator::with_data(program, request, data, data_checked, limits);
    *ev.trace = Some(Box::default());
    let decision = run(&mut ev, program, request).into_decision(program, ev.meter.spent());
    let blocks = reached_blocks(program, &request.action);
    // The rest is for the explanation alone: the decision is made.
    ev.meter = Meter::new(limits.max_eval_steps);
    explain_ruled_out(&mut ev);
    let trace = std::mem::ManuallyDrop::into_inner(ev.trace).unwrap_or_default();
    Explanation {
        decision,
        program,
        trace,
        blocks,
    }
}

/// The blocks a request for `action` may run: `authenticate`, then the
/// policies covering the action (none for a public or undeclared one).
fn reached_blocks<'a>(program: &'a Program, action: &str) -> Vec<(Option<&'a str>, &'a ir::Block)> {
    let info = program
        .actions
        .get(action)
        .and_then(|id| program.action_info.get(*id as usize));
    let ids: Vec<u32> = match (info, &program.open_set) {
        (Some(info), _) if info.class == ActionClass::Public => return Vec::new(),
        (Some(info), _) => info.policies.clone(),
        (None, Some(set)) => set
            .iter()
            .filter(|(glob, _)| glob_match(glob, action))
            .map(|(_, id)| *id)
            .collect(),
        (None, None) => return Vec::new(),
    };
    let mut blocks = Vec::new();
    if let Some(auth) = &program.authenticate {
        blocks.push((None, auth));
    }
    blocks.extend(
        ids.iter()
            .filter_map(|id| program.policies.get(*id as usize))
            .map(|p| (Some(p.name.as_ref()), &p.body)),
    );
    blocks
}

/// The statements of a block in the order a scan looks at them: in order,
/// or every refusal before any allow.
pub(super) fn scan_order(block: &ir::Block) -> Vec<&ir::Statement> {
    if block.ordered {
        return block.statements.iter().collect();
    }
    let refusals = block
        .statements
        .iter()
        .filter(|s| s.outcome != Outcome::Allow);
    let allows = block
        .statements
        .iter()
        .filter(|s| s.outcome == Outcome::Allow);
    refusals.chain(allows).collect()
}

/// Evaluates the statements of entered blocks that the block index ruled
/// out (a scan would have looked at them before the block stopped).
fn explain_ruled_out(ev: &mut Evaluator<'_>) {
    let Some(trace) = ev.trace.as_ref() else {
        return;
    };
    let looked: HashMap<u32, bool> = trace
        .runs
        .iter()
        .map(|r| (r.statement.id, !matches!(r.result, Ok(false))))
        .collect();
    let mut missing = Vec::new();
    for block in trace.blocks.iter().filter(|b| b.index.is_some()) {
        for s in scan_order(block) {
            match looked.get(&s.id) {
                // It applied or failed: the block stopped there.
                Some(true) => break,
                Some(false) => {}
                None => missing.push(s),
            }
        }
    }
    for s in missing {
        let _ = ev.traced_applies(s);
    }
}
