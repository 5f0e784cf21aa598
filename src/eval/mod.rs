//! Step four: decisions over the IR.
//!
//! Input: a [`Program`], a [`Request`] and `data`. Output: a [`Decision`].
//! Invariants:
//! - the evaluator never sees policy text: names are resolved, patterns
//!   compiled, statements reached through the action index;
//! - reading the request never allocates (values are borrowed);
//! - any error reached during a decision denies, with the error as reason
//!   (fail closed); nothing but an `allow` statement that applied allows;
//! - every node evaluated, element visited and run of bytes touched spends
//!   from the step budget (`cost.rs`), so a decision is bounded by it.

use crate::ast::{ActionClass, Outcome, Quantifier, Span};
pub(crate) mod cost;
use crate::diagnostics::Code;
use crate::ir::index::Candidates;
pub use crate::ir::DecidingStatement;
use crate::ir::{self, Builtin, CmpOp, Expr, Kind, Program, Reason, Root};
use crate::limits::Limits;
use crate::request::{Request, RequestError};
use crate::value::{
    glob_match, int_float_cmp, is_uuid_text, val_cmp, val_eq, Descriptor, DescriptorItem, Display,
    FieldRead, ListView, PrincipalVal, Val, Value,
};
use cost::{Charged, Meter, Sem};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;

mod builtins;
mod err;
mod explain;
mod expr;
mod graph;
use crate::value::graph::GraphIndex;
pub(crate) use graph::build_graphs;
mod patterns;
mod principals;
mod scalars;
mod secrets;
mod shapes;
mod verdict;

use builtins::*;
pub use err::EvalError;
use err::*;
pub(crate) use explain::explain;
pub(crate) use explain::outline;
pub use explain::{
    Condition, ConditionResult, Explanation, SeenValue, StatementExplanation, StatementStatus,
};
pub(crate) use expr::index;
use expr::*;
pub(crate) use patterns::compile_data_patterns;
pub(crate) use principals::{kind_eq, read_descriptors};
pub(crate) use secrets::credential_name;
#[cfg(feature = "test-instrumentation")]
pub use secrets::secret_comparisons;
use secrets::*;
pub(crate) use shapes::{validate, validate_data, validate_request};
use verdict::Verdict;

/// The answer to a request.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Allow, deny (403) or unauthenticated (401).
    pub outcome: Outcome,
    /// Why, for people; empty for an allow without a reason.
    pub reason: Arc<str>,
    /// The statements that decided it (empty for built-in outcomes such as
    /// the default deny).
    pub statements: Arc<[DecidingStatement]>,
    /// Row filters returned by the allowing statement.
    pub filters: Option<Value>,
    /// An identity resolved by the allowing statement.
    pub principal: Option<Value>,
    /// Token claims.
    pub claims: Option<Value>,
    /// The error that made the decision fail closed, if any.
    pub error: Option<EvalError>,
    /// The steps the decision was charged (see `Limits::max_eval_steps`):
    /// one per expression node evaluated, per element, field or candidate
    /// visited, and per 64 bytes built, compared or scanned. Never more
    /// than the limit: a decision that would need more denies.
    pub cost: u64,
}

impl Decision {
    /// Whether the outcome is allow.
    pub fn is_allowed(&self) -> bool {
        self.outcome == Outcome::Allow
    }

    /// The decision as the JSON object the CLI prints.
    pub fn to_json(&self) -> serde_json::Value {
        let mut out = serde_json::Map::new();
        out.insert("decision".into(), self.outcome.as_str().into());
        out.insert("reason".into(), self.reason.as_ref().into());
        out.insert(
            "statements".into(),
            self.statements
                .iter()
                .map(|s| serde_json::json!({ "id": s.id.as_ref(), "file": s.file.as_ref(), "line": s.line }))
                .collect(),
        );
        for (key, value) in [
            ("filters", &self.filters),
            ("principal", &self.principal),
            ("claims", &self.claims),
        ] {
            if let Some(v) = value {
                out.insert(key.into(), v.to_json());
            }
        }
        if let Some(e) = &self.error {
            out.insert(
                "error".into(),
                serde_json::json!({ "code": e.code.code(), "message": e.message }),
            );
        }
        serde_json::Value::Object(out)
    }
}

/// Per-decision storage for variables and computed lets. Small programs
/// keep it on the stack.
struct Frame<'a> {
    vars: Store<Val<'a>>,
    lets: Store<Option<Val<'a>>>,
}

const INLINE: usize = 16;

/// Sized to the program: most need few slots, and every slot is set up
/// and dropped on each decision.
enum Store<T> {
    Small([T; SMALL]),
    Inline([T; INLINE]),
    Heap(Vec<T>),
}

const SMALL: usize = 4;

impl<T: Default> Store<T> {
    #[inline(always)]
    fn new(n: usize) -> Self {
        if n <= SMALL {
            Store::Small(std::array::from_fn(|_| T::default()))
        } else if n <= INLINE {
            Store::Inline(std::array::from_fn(|_| T::default()))
        } else {
            Store::Heap((0..n).map(|_| T::default()).collect())
        }
    }

    #[inline]
    fn get(&self, i: u32) -> Option<&T> {
        match self {
            Store::Small(a) => a.get(i as usize),
            Store::Inline(a) => a.get(i as usize),
            Store::Heap(v) => v.get(i as usize),
        }
    }

    #[inline]
    fn set(&mut self, i: u32, value: T) {
        let slot = match self {
            Store::Small(a) => a.get_mut(i as usize),
            Store::Inline(a) => a.get_mut(i as usize),
            Store::Heap(v) => v.get_mut(i as usize),
        };
        if let Some(s) = slot {
            *s = value;
        }
    }
}

/// Decides one request. `data_checked`: the data was validated against
/// this program's data shape when it was loaded, so it is not again.
pub(crate) fn decide(
    program: &Program,
    request: &Request,
    data: &Value,
    data_checked: bool,
    limits: &Limits,
) -> Decision {
    let mut ev = Evaluator::new(program, request, data, limits);
    ev.data_checked = data_checked;
    let verdict = run(&mut ev, program, request);
    verdict.into_decision(program, ev.meter.spent())
}

/// Decides with data as loaded: its patterns were compiled then (found by
/// their text, so a cache from another set only misses), and, when it was
/// loaded for this set (`data_checked`), its graphs were read and closed
/// (otherwise each graph a decision queries is read then, charged to it).
pub(crate) fn decide_loaded(
    program: &Program,
    request: &Request,
    data: &crate::request::Data,
    data_checked: bool,
    limits: &Limits,
) -> Decision {
    let mut ev = Evaluator::with_data(program, request, data, data_checked, limits);
    let verdict = run(&mut ev, program, request);
    verdict.into_decision(program, ev.meter.spent())
}

/// Decides one request, entering blocks through their index or not: both
/// must give the same decision (`index.rs` tests compare them).
#[cfg(test)]
pub(crate) fn decide_with(
    program: &Program,
    request: &Request,
    data: &Value,
    data_checked: bool,
    limits: &Limits,
    use_index: bool,
) -> Decision {
    let mut ev = Evaluator::new(program, request, data, limits);
    ev.use_index = use_index;
    ev.data_checked = data_checked;
    let verdict = run(&mut ev, program, request);
    verdict.into_decision(program, ev.meter.spent())
}

// Inlined into `decide_with`, its hot caller, though `explain` calls it too.
#[inline(always)]
fn run<'a>(ev: &mut Evaluator<'a>, program: &'a Program, request: &'a Request) -> Verdict {
    let undeclared = || {
        let (outcome, reason) = &program.undeclared;
        (*outcome, reason.as_ref())
    };
    let action = program
        .actions
        .get(request.action.as_str())
        .and_then(|id| program.action_info.get(*id as usize));

    let (class, covering) = match (action, &program.open_set) {
        (Some(info), _) => (info.class, Covering::Listed(info)),
        (None, Some(set)) => (ActionClass::Guarded, Covering::Open(set)),
        (None, None) => {
            let (outcome, reason) = undeclared();
            let reason = match reason {
                Some(r) => match ev.reason(r) {
                    Ok(text) => text,
                    Err(e) => return ev.failed(*e, Vec::new()),
                },
                None => Arc::from(format!("action `{}` is not declared", request.action)),
            };
            return Verdict::plain(outcome, reason);
        }
    };

    if class == ActionClass::Public {
        return Verdict::plain(Outcome::Allow, empty_reason());
    }
    if let Err(e) = ev.check_shapes() {
        return ev.failed(*e, Vec::new());
    }
    if let Some(block) = &program.authenticate {
        match ev.block(block) {
            Ok(Some(d)) => return d,
            Ok(None) => {}
            Err((e, stmts)) => return ev.failed(*e, stmts),
        }
    }
    // Open and token actions need a caller whatever an `authenticate`
    // block says: the engine checks it.
    if class != ActionClass::Guarded && matches!(request.principal, Value::Null) {
        return Verdict::plain(
            Outcome::Unauthenticated,
            Arc::from(format!(
                "action `{}` requires an authenticated caller",
                request.action
            )),
        );
    }
    match (class, covering) {
        (ActionClass::Open, _) => Verdict::plain(Outcome::Allow, empty_reason()),
        // Issuance is decided by its policies like any action (no deciding
        // statement, no token); an allow carries every policy's claims.
        (ActionClass::Token, Covering::Listed(info)) => {
            let d = ev.policies(info.policies.iter().copied(), Some(&info.no_allow));
            if d.outcome == Outcome::Allow {
                ev.token_claims(d)
            } else {
                d
            }
        }
        (_, Covering::Listed(info)) => {
            ev.policies(info.policies.iter().copied(), Some(&info.no_allow))
        }
        // `actions: *`: the policies whose globs match, without collecting.
        (_, Covering::Open(set)) => {
            let scanned = set
                .iter()
                .map(|(g, _)| g.len() + request.action.len())
                .sum();
            if let Err(e) = ev.charge_bytes(scanned, Span::default()) {
                return ev.failed(*e, Vec::new());
            }
            ev.policies(
                set.iter()
                    .filter(|(glob, _)| glob_match(glob, &request.action))
                    .map(|(_, id)| *id),
                None,
            )
        }
    }
}

/// Evaluates one expression against a request and data, with some
/// variable slots bound first: the filter (`filter/`) runs every part of a
/// policy that does not read the resource through this, so those parts
/// mean exactly what they mean in a decision. `slots` is the frame size
/// (at least the program's).
pub(crate) fn eval_closed<'a>(
    program: &'a Program,
    request: &'a Request,
    data: &'a Value,
    limits: &Limits,
    slots: usize,
    bindings: &[(u32, Val<'a>)],
    expr: &'a Expr,
) -> Result<Val<'a>, EvalError> {
    let mut ev = Evaluator::new(program, request, data, limits);
    ev.frame.vars = Store::new(slots.max(program.slot_count));
    for (slot, v) in bindings {
        ev.frame.vars.set(*slot, v.clone());
    }
    ev.eval(expr).map_err(|e| *e)
}

/// The policies covering a request's action.
enum Covering<'p> {
    /// A declared action and its policies.
    Listed(&'p ir::ActionInfo),
    /// An undeclared action under `actions: *`: the open set's globs.
    Open(&'p [(ir::Name, u32)]),
}

struct Evaluator<'a> {
    program: &'a Program,
    request: &'a Request,
    data: &'a Value,
    frame: Frame<'a>,
    meter: Meter,
    /// Hashed indexes of long lists this decision searches repeatedly.
    lookups: cost::Lookups<'a>,
    /// Deepest value the decision may build (`Limits::max_value_depth`).
    max_value_depth: u32,
    /// Whether the data was validated when it was loaded.
    data_checked: bool,
    /// The policy set the data was loaded for (its lists' descriptor
    /// readings name that set's kinds); 0 when it was not.
    data_set: u64,
    /// The graphs read from the data, loaded or read by this decision.
    graphs: graph::Graphs<'a>,
    /// Current and greatest nesting of `eval` and descriptor matching.
    depth: usize,
    max_depth: usize,
    /// Whether blocks are entered through their index (tests compare both).
    use_index: bool,
    /// The field or index read that was last found absent, so the error
    /// names the step that is missing, not the end of the path.
    absent_at: Option<&'a Expr>,
    /// What an explaining decision records (`explain/`); `None` for a
    /// plain decision, which then never looks at it again. `ManuallyDrop`
    /// because dropping even a `None` here is a call on every plain
    /// decision: `explain` moves the trace out before the evaluator goes.
    trace: std::mem::ManuallyDrop<Option<Box<explain::Trace<'a>>>>,
    /// Patterns the data held, compiled when it was loaded (`patterns.rs`).
    patterns: &'a crate::value::PatternCache,
    /// Pattern text this decision compiled itself, kept for its rest and
    /// found by its text (hashed: a lookup costs the text's length, which
    /// is charged, however many patterns the decision compiled). Made on
    /// first use: most decisions compile none.
    compiled: Option<HashMap<Box<str>, regex::Regex>>,
    /// `Limits::max_regex_size`, for the patterns it compiles.
    max_regex_size: usize,
}

type BlockResult = Result<Option<Verdict>, (Box<EvalError>, Vec<u32>)>;

impl<'a> Evaluator<'a> {
    /// An evaluator over `data`, using what loading it prepared (graphs,
    /// patterns, descriptor readings) when it was loaded for this set.
    #[inline(always)]
    fn with_data(
        program: &'a Program,
        request: &'a Request,
        data: &'a crate::request::Data,
        data_checked: bool,
        limits: &Limits,
    ) -> Self {
        let mut ev = Evaluator::new(program, request, &data.root, limits);
        ev.data_checked = data_checked;
        ev.patterns = &data.patterns;
        if data_checked {
            ev.graphs.loaded = &data.graphs;
            ev.data_set = data.checked_for.unwrap_or(0);
        }
        ev
    }

    #[inline(always)]
    fn new(program: &'a Program, request: &'a Request, data: &'a Value, limits: &Limits) -> Self {
        Evaluator {
            program,
            request,
            data,
            frame: Frame {
                vars: Store::new(program.slot_count),
                lets: Store::new(program.lets.len()),
            },
            meter: Meter::new(limits.max_eval_steps),
            lookups: cost::Lookups::default(),
            max_value_depth: u32::try_from(limits.max_value_depth).unwrap_or(u32::MAX),
            data_checked: false,
            data_set: 0,
            graphs: graph::Graphs::default(),
            depth: 0,
            max_depth: limits.max_eval_depth,
            use_index: true,
            absent_at: None,
            trace: std::mem::ManuallyDrop::new(None),
            patterns: crate::value::PatternCache::empty(),
            compiled: None,
            max_regex_size: limits.max_regex_size,
        }
    }

    fn meta(&self, id: u32) -> Option<DecidingStatement> {
        self.program
            .statements
            .get(id as usize)
            .map(|m| DecidingStatement {
                id: m.id.clone(),
                file: m.file.clone(),
                line: m.line,
                span: m.span,
            })
    }

    #[cold]
    fn failed(&self, e: EvalError, stmts: Vec<u32>) -> Verdict {
        let reason = match stmts.first().and_then(|s| self.meta(*s)) {
            Some(m) => format!("evaluation error in `{}`: {}", m.id, e.message),
            None => format!("evaluation error: {}", e.message),
        };
        let mut verdict = Verdict::plain(Outcome::Deny, Arc::from(reason));
        let rest = verdict.rest();
        rest.statements = Some(stmts.iter().filter_map(|s| self.meta(*s)).collect());
        rest.error = Some(e);
        verdict
    }

    /// Checks the request, and the data unless it was checked when loaded,
    /// against the declared shapes; a step per value visited.
    fn check_shapes(&mut self) -> R<()> {
        let data_shape = self.program.data_shape.is_some() && !self.data_checked;
        if self.program.request_shape.is_none()
            && self.program.action_contracts.is_empty()
            && !data_shape
        {
            return Ok(());
        }
        let mut visited = 0;
        let checked = validate_request(self.program, self.request, &mut visited).and_then(|()| {
            if data_shape {
                validate_data(self.program, self.data, &mut visited)
            } else {
                Ok(())
            }
        });
        self.charge(visited, Span::default())?;
        checked.map_err(|e| {
            Box::new(EvalError {
                code: e.code,
                message: e.to_string(),
                span: None,
            })
        })
    }

    /// Runs the policies covering the action and combines their answers:
    /// an error denies, then any refusal wins, then any allow, else deny.
    fn policies(&mut self, ids: impl Iterator<Item = u32>, no_allow: Option<&Arc<str>>) -> Verdict {
        let mut allow: Option<Verdict> = None;
        for id in ids {
            let Some(policy) = self.program.policies.get(id as usize) else {
                continue;
            };
            match self.block(&policy.body) {
                Err((e, stmts)) => return self.failed(*e, stmts),
                Ok(Some(d)) if d.outcome != Outcome::Allow => return d,
                Ok(Some(d)) => {
                    if allow.is_none() {
                        allow = Some(d);
                    }
                }
                Ok(None) => {}
            }
        }
        allow.unwrap_or_else(|| {
            let reason = match no_allow {
                Some(reason) => reason.clone(),
                None => Arc::from(format!("no statement allows `{}`", self.request.action)),
            };
            Verdict::plain(Outcome::Deny, reason)
        })
    }

    /// Evaluates one block. `Ok(None)` when no statement applied. The
    /// explaining decision runs a copy of the loop that records each
    /// statement: the plain one tests for it once per block.
    fn block(&mut self, block: &'a ir::Block) -> BlockResult {
        if self.trace.is_some() {
            self.trace_block(block);
            return self.block_with::<true>(block);
        }
        self.block_with::<false>(block)
    }

    #[inline]
    fn block_with<const TRACE: bool>(&mut self, block: &'a ir::Block) -> BlockResult {
        let candidates = self.candidates(block);
        let statements = || {
            candidates
                .clone()
                .filter_map(|i| block.statements.get(i as usize))
        };
        let applies = |ev: &mut Self, s: &'a ir::Statement| {
            if TRACE {
                ev.traced_applies(s)
            } else {
                ev.applies(s)
            }
        };
        if block.ordered {
            for s in statements() {
                if applies(self, s).map_err(|e| (e, vec![s.id]))? {
                    return self.conclude(s).map(Some).map_err(|e| (e, vec![s.id]));
                }
            }
            return Ok(None);
        }
        // Unordered: every refusal is looked at before any allow.
        for s in statements().filter(|s| s.outcome != Outcome::Allow) {
            if applies(self, s).map_err(|e| (e, vec![s.id]))? {
                return self.conclude(s).map(Some).map_err(|e| (e, vec![s.id]));
            }
        }
        for s in statements().filter(|s| s.outcome == Outcome::Allow) {
            if applies(self, s).map_err(|e| (e, vec![s.id]))? {
                return self.conclude(s).map(Some).map_err(|e| (e, vec![s.id]));
            }
        }
        Ok(None)
    }

    /// The statements of a block that may apply, in order: through the
    /// block's index when it has one (see `index.rs`), else all of them.
    fn candidates(&self, block: &'a ir::Block) -> Candidates<'a> {
        let all = Candidates::All(0..block.statements.len() as u32);
        let Some(index) = block.index.as_ref().filter(|_| self.use_index) else {
            return all;
        };
        let mut value = self.root(index.root);
        for name in index.fields.iter() {
            match value.field(name) {
                FieldRead::Present(v) => value = v,
                // An error: let the scan meet it where it belongs.
                _ => return all,
            }
        }
        index.candidates(&value).unwrap_or(all)
    }

    fn applies(&mut self, s: &'a ir::Statement) -> R<bool> {
        match &s.when {
            None => Ok(true),
            Some(cond) => self.truth(cond, "a `when` condition"),
        }
    }

    fn conclude(&mut self, s: &'a ir::Statement) -> R<Verdict> {
        let reason = match &s.reason {
            Some(r) => self.reason(r)?,
            None => empty_reason(),
        };
        let mut d = Verdict {
            outcome: s.outcome,
            reason,
            statement: Some(s.id),
            rest: None,
        };
        if s.outcome == Outcome::Allow {
            if let Some(f) = &s.outputs.filters {
                let v = self.eval(f)?;
                if !v.is_record() && !v.is_null() {
                    return Err(type_error(
                        Span::default(),
                        format!("filters must be a record, found {}", v.type_name()),
                    ));
                }
                d.rest().filters = Some(self.owned(&v, span_of(f))?);
            }
            if let Some(p) = &s.outputs.principal {
                let v = self.eval(p)?;
                d.rest().principal = Some(self.owned(&v, span_of(p))?);
            }
            if let Some(c) = &s.outputs.claims {
                let v = self.eval(c)?;
                d.rest().claims = Some(self.owned(&v, span_of(c))?);
            }
        }
        Ok(d)
    }

    fn reason(&mut self, r: &'a Reason) -> R<Arc<str>> {
        match r {
            Reason::Fixed(text) => Ok(text.clone()),
            Reason::Computed(e) => {
                let v = self.eval(e)?;
                let mut out = String::new();
                self.render(&v, &mut out, span_of(e))?;
                Ok(Arc::from(out))
            }
        }
    }

    /// Token issuance, once a policy allowed it: the claims of every
    /// policy, keyed by policy name and kept apart for access and refresh
    /// tokens; empty claims are left out.
    fn token_claims(&mut self, mut d: Verdict) -> Verdict {
        let mut access = crate::value::Record::new();
        let mut refresh = crate::value::Record::new();
        for policy in &self.program.policies {
            for (expr, out) in [
                (&policy.claims_access, &mut access),
                (&policy.claims_refresh, &mut refresh),
            ] {
                let Some(expr) = expr else { continue };
                match self.eval(expr).and_then(|v| self.owned(&v, span_of(expr))) {
                    Ok(value) => {
                        let empty = matches!(&value, Value::Null)
                            || matches!(&value, Value::Record(r) if r.is_empty());
                        if !empty {
                            out.insert(policy.name.as_ref(), value);
                        }
                    }
                    Err(e) => return self.failed(*e, Vec::new()),
                }
            }
        }
        let mut claims = crate::value::Record::new();
        claims.insert("access", Value::Record(access));
        claims.insert("refresh", Value::Record(refresh));
        d.rest().claims = Some(Value::Record(claims));
        d
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_compare_exactly_unless_declared() {
        use ir::Compare::{Exact, Int, Uuid};
        let (up, low) = (
            Val::Str("B0000000-0000-4000-8000-00000000000A"),
            Val::Str("b0000000-0000-4000-8000-00000000000a"),
        );
        assert!(!kind_eq(&Val::Str("7"), &Val::Str("07"), Exact));
        assert!(!kind_eq(&Val::Int(7), &Val::Str("7"), Exact));
        assert!(!kind_eq(&up, &low, Exact));
        assert!(kind_eq(&low, &low.clone(), Exact));
        assert!(!kind_eq(&Val::Null, &Val::Null, Exact));
        assert!(kind_eq(&Val::Int(7), &Val::Str("007"), Int));
        assert!(kind_eq(&Val::Int(0), &Val::Str("000"), Int));
        assert!(!kind_eq(&Val::Str("7"), &Val::Str("007"), Int));
        assert!(!kind_eq(&Val::Int(-1), &Val::Str("-1"), Int));
        assert!(!kind_eq(&Val::Int(7), &Val::Str(" 7"), Int));
        assert!(!kind_eq(&Val::Int(7), &Val::Str("abc"), Int));
        assert!(!kind_eq(
            &Val::Int(7),
            &Val::Str("18446744073709551623"),
            Int
        ));
        assert!(!kind_eq(
            &Val::Int(9007199254740993),
            &Val::Float(9007199254740992.0),
            Int
        ));
        assert!(kind_eq(&up, &low, Uuid));
        assert!(!kind_eq(&Val::Str("ABC"), &Val::Str("abc"), Uuid));
    }

    #[test]
    fn digests_are_lowercase_hex() {
        let d = sha256_hex("abc");
        assert_eq!(
            std::str::from_utf8(&d).unwrap(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(digest_matches(
            &d,
            &Val::Str("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        ));
        assert!(!digest_matches(
            &d,
            &Val::Str("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD")
        ));
        assert!(!digest_matches(&d, &Val::Null));
    }

    #[test]
    fn string_pairs_slice_without_copying() {
        let s = "billing.invoices.get";
        assert!(matches!(
            string_pair(Builtin::BeforeLast, Val::Str(s), "."),
            Val::Str("billing.invoices")
        ));
        assert!(matches!(
            string_pair(Builtin::AfterLast, Val::Str(s), "."),
            Val::Str("get")
        ));
        assert!(matches!(
            string_pair(Builtin::BeforeLast, Val::Str("nodot"), "."),
            Val::Null
        ));
        assert!(matches!(
            string_pair(Builtin::StripPrefix, Val::Str("toto_toto_S1"), "toto_"),
            Val::Str("toto_S1")
        ));
    }
}
