//! Every resource limit in one place, settable by the embedding application.
//!
//! Invariant: each limit ends in a clear error (a diagnostic at load, a
//! denying decision at evaluation), never a crash or unbounded work.

/// The deepest nesting of brackets the parser accepts by default; deeper
/// input is a syntax error rather than a stack overflow.
pub const MAX_NESTING: usize = 256;

/// The deepest expression tree the parser builds by default; deeper input
/// is a syntax error, so no later stage can recurse without bound.
pub const MAX_EXPR_DEPTH: usize = 512;

/// Parameters of one rule: a rule call's arguments live in a fixed-size
/// array on the evaluator's stack.
pub(crate) const MAX_PARAMS: usize = 8;

/// Bounds on what loading and deciding may consume.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Brackets nested deeper than this in policy text are a syntax error.
    pub max_nesting: usize,
    /// Depth of one expression tree: each operator, postfix step (`.f`,
    /// `[k]`, call) and nested expression is a level. Bounds the recursion
    /// of every later stage (lowering, evaluation, dropping the tree).
    pub max_expr_depth: usize,
    /// Expression nodes in a whole policy set.
    pub max_policy_nodes: usize,
    /// Compiled size of one pattern, in bytes (the regex crate's size limit).
    pub max_regex_size: usize,
    /// Loop iterations (quantifier, comprehension and walk steps) in one decision.
    pub max_eval_steps: u64,
    /// Nesting of evaluation in one decision (expression levels plus the
    /// rule and let references followed). Past it the decision denies.
    pub max_eval_depth: usize,
    /// Nesting depth of request and data JSON.
    pub max_value_depth: usize,
    /// Bytes of one policy file.
    pub max_policy_bytes: usize,
    /// Pairs (node, node it reaches) of one graph's closure, computed when
    /// data is loaded. A graph whose closure would be larger is not closed:
    /// its queries walk the edges instead, each node visited a step.
    pub max_graph_closure: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_nesting: MAX_NESTING,
            max_expr_depth: MAX_EXPR_DEPTH,
            max_policy_nodes: 2_000_000,
            max_regex_size: 1 << 20,
            max_eval_steps: 10_000_000,
            max_eval_depth: 1024,
            max_value_depth: 128,
            max_policy_bytes: 64 << 20,
            max_graph_closure: 1 << 22,
        }
    }
}
