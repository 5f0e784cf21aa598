//! What the evaluator concludes, before it is a `Decision`.
//!
//! A `Decision` is about 250 bytes (three optional outputs, an optional
//! error, two shared lists) and was built at the deciding statement, then
//! moved up through the block, the policies and the run, a copy at each
//! step, with the shared parts cloned (atomic counts) and replaced on the
//! way. A `Verdict` is four words: the outcome, the reason, the deciding
//! statement's number, and the rare rest (outputs, an error) boxed. The
//! `Decision` is built from it once, when the decision is handed out.

use super::*;

/// The outcome, reason and deciding statement of a decision in the making.
pub(super) struct Verdict {
    pub outcome: Outcome,
    pub reason: Arc<str>,
    /// The deciding statement (`Program::deciding`), if one decided.
    pub statement: Option<u32>,
    /// Outputs and errors: most decisions have none.
    pub rest: Option<Box<Rest>>,
}

/// The parts of a decision most decisions do not have.
#[derive(Default)]
pub(super) struct Rest {
    pub filters: Option<Value>,
    pub principal: Option<Value>,
    pub claims: Option<Value>,
    pub error: Option<EvalError>,
    /// The statements an error names, when no single statement decided.
    pub statements: Option<Arc<[DecidingStatement]>>,
}

impl Verdict {
    /// A built-in outcome: no statement, no outputs.
    #[inline]
    pub fn plain(outcome: Outcome, reason: Arc<str>) -> Verdict {
        Verdict {
            outcome,
            reason,
            statement: None,
            rest: None,
        }
    }

    /// The rest, made on first use.
    pub fn rest(&mut self) -> &mut Rest {
        self.rest.get_or_insert_with(Default::default)
    }

    /// The decision this verdict is, with what it cost.
    #[inline]
    pub fn into_decision(self, program: &Program, cost: u64) -> Decision {
        let deciding = |statement: Option<u32>| match statement {
            Some(id) => program
                .deciding
                .get(id as usize)
                .cloned()
                .unwrap_or_else(no_statements),
            None => no_statements(),
        };
        let Some(rest) = self.rest else {
            return Decision {
                outcome: self.outcome,
                reason: self.reason,
                statements: deciding(self.statement),
                filters: None,
                principal: None,
                claims: None,
                error: None,
                cost,
            };
        };
        let rest = *rest;
        Decision {
            outcome: self.outcome,
            reason: self.reason,
            statements: match rest.statements {
                Some(listed) => listed,
                None => deciding(self.statement),
            },
            filters: rest.filters,
            principal: rest.principal,
            claims: rest.claims,
            error: rest.error,
            cost,
        }
    }
}
