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
use crate::cost::{self, Charged, Meter, Sem};
use crate::diagnostics::Code;
use crate::index::Candidates;
use crate::ir::{self, Builtin, CmpOp, Expr, Kind, Program, Reason, Root};
use crate::limits::Limits;
use crate::request::{Request, RequestError};
use crate::value::{
    glob_match, int_float_cmp, is_uuid_text, val_cmp, val_eq, Display, FieldRead, ListView,
    PrincipalVal, Val, Value,
};
use std::collections::HashMap;
use std::fmt::{self, Write as _};
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A statement that determined a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecidingStatement {
    /// `policy.label`, or `policy#n` for the n-th unlabelled statement.
    pub id: Arc<str>,
    /// The file it is written in.
    pub file: Arc<str>,
    /// Its 1-based line.
    pub line: usize,
    /// Its byte span in the file.
    pub span: Span,
}

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

    fn plain(outcome: Outcome, reason: Arc<str>) -> Decision {
        Decision {
            outcome,
            reason,
            statements: no_statements(),
            filters: None,
            principal: None,
            claims: None,
            error: None,
            cost: 0,
        }
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

/// An error met while deciding. It never escapes as an `Err`: it becomes a
/// denying decision whose reason is this error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    /// `PCL5xx`, or `PCL401` for a request that does not fit the declared shape.
    pub code: Code,
    /// What went wrong, in words.
    pub message: String,
    /// Where in the policy, when known.
    pub span: Option<Span>,
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for EvalError {}

impl miette::Diagnostic for EvalError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }
}

type R<T> = Result<T, Box<EvalError>>;

#[cold]
fn error(code: Code, span: Span, message: String) -> Box<EvalError> {
    Box::new(EvalError {
        code,
        message,
        span: Some(span),
    })
}

#[cold]
fn exhausted(span: Span) -> Box<EvalError> {
    error(
        Code::EvalLimit,
        span,
        "the decision took more steps than the limit allows".into(),
    )
}

#[cold]
fn type_error(span: Span, message: String) -> Box<EvalError> {
    error(Code::EvalTypeError, span, message)
}

/// How many digest comparisons secret checks have made in this process.
/// Tests use it to show that a credential walk visits every candidate.
static SECRET_COMPARISONS: AtomicU64 = AtomicU64::new(0);

/// Digest comparisons made so far by `secret_eq` and `secret_lookup`.
#[cfg(feature = "test-instrumentation")]
pub fn secret_comparisons() -> u64 {
    SECRET_COMPARISONS.load(Ordering::Relaxed)
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

/// Checks the request and data against the contract the program declares
/// for the request's action (its `request for` contract, else the default
/// one) at every depth. Allocates nothing unless a value does not fit; the
/// error then names the field.
pub(crate) fn validate(
    program: &Program,
    request: &Request,
    data: &Value,
) -> Result<(), RequestError> {
    validate_request(program, request, &mut 0)?;
    validate_data(program, data, &mut 0)
}

/// Checks the request against its action's contract, counting the values
/// visited in `visited`.
pub(crate) fn validate_request(
    program: &Program,
    request: &Request,
    visited: &mut u64,
) -> Result<(), RequestError> {
    let info = program
        .actions
        .get(request.action.as_str())
        .and_then(|id| program.action_info.get(*id as usize));
    // A public action is decided without looking at the request.
    if info.is_some_and(|i| i.class == ActionClass::Public) {
        return Ok(());
    }
    let contract = info
        .and_then(|info| info.contract)
        .and_then(|i| program.action_contracts.get(i as usize))
        .or(program.request_shape.as_ref());
    if let Some(ir::Shape {
        base: ir::ShapeBase::Record(fields, _),
        ..
    }) = contract
    {
        let roots = [
            ("principal", &request.principal),
            ("resource", &request.resource),
            ("context", &request.context),
        ];
        for (name, optional, shape) in fields {
            if let Some((_, v)) = roots.iter().find(|(n, _)| *n == name.as_ref()) {
                // An absent root reads as null; only `name?:` lets it be
                // absent, as for any other field.
                let fits = if !request.has_root(name) {
                    if *optional {
                        Ok(())
                    } else {
                        Err(Mismatch {
                            path: Vec::new(),
                            message: format!(
                                "missing; expected {}",
                                shape_word(&shape.base, shape.nullable)
                            ),
                        })
                    }
                } else {
                    check_shape(v, shape, visited)
                };
                fits.map_err(|e| e.into_request_error(format!("request.{name}")))?;
            }
        }
    }
    Ok(())
}

/// Checks data against the declared data shape, counting the values
/// visited in `visited`. Done once when data is loaded for a policy set
/// (`PolicySet::load_data`), else on every decision.
pub(crate) fn validate_data(
    program: &Program,
    data: &Value,
    visited: &mut u64,
) -> Result<(), RequestError> {
    if let Some(shape) = &program.data_shape {
        check_shape(data, shape, visited).map_err(|e| e.into_request_error("data".to_string()))?;
    }
    Ok(())
}

/// A value that does not fit its shape: the path below the checked root
/// (innermost segment first, as the check unwinds) and what was wrong.
struct Mismatch {
    path: Vec<String>,
    message: String,
}

impl Mismatch {
    #[cold]
    fn at(mut self, segment: String) -> Mismatch {
        self.path.push(segment);
        self
    }

    #[cold]
    fn into_request_error(self, mut root: String) -> RequestError {
        for seg in self.path.iter().rev() {
            root.push_str(seg);
        }
        RequestError::field(root, self.message)
    }
}

/// Checks a value against a declared shape, counting the values visited.
/// `T?` admits null; a record field `name?:` may be absent, and only then:
/// a field that must be there must be there even if its type admits null.
/// Recursion follows the shape, which the policy's nesting limit bounds, so
/// every depth is checked.
fn check_shape(v: &Value, shape: &ir::Shape, visited: &mut u64) -> Result<(), Mismatch> {
    *visited += 1;
    let ok = match (&shape.base, v) {
        (ir::ShapeBase::Any, _) => true,
        (_, Value::Null) => shape.nullable,
        (ir::ShapeBase::Bool, Value::Bool(_))
        | (ir::ShapeBase::Int, Value::Int(_))
        | (ir::ShapeBase::Number, Value::Int(_) | Value::Float(_))
        | (ir::ShapeBase::String, Value::Str(_)) => true,
        (ir::ShapeBase::Uuid, Value::Str(s)) => is_uuid_text(s),
        (ir::ShapeBase::OneOf(alts), _) => {
            alts.iter().any(|alt| check_shape(v, alt, visited).is_ok())
        }
        (ir::ShapeBase::List(inner), Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                check_shape(item, inner, visited).map_err(|e| e.at(format!("[{i}]")))?;
            }
            true
        }
        (ir::ShapeBase::Record(fields, rest), Value::Record(r)) => {
            if let Some(rest) = rest {
                // Declared fields are few: a scan per key stays linear in
                // the record.
                for (key, fv) in r.iter() {
                    if !fields.iter().any(|(name, _, _)| name.as_ref() == key) {
                        check_shape(fv, rest, visited).map_err(|e| e.at(format!(".{key}")))?;
                    }
                }
            }
            for (name, optional, field_shape) in fields {
                match r.get(name) {
                    Some(fv) => check_shape(fv, field_shape, visited)
                        .map_err(|e| e.at(format!(".{name}")))?,
                    None if *optional => {}
                    None => {
                        return Err(Mismatch {
                            path: vec![format!(".{name}")],
                            message: format!(
                                "missing; expected {}",
                                shape_word(&field_shape.base, field_shape.nullable)
                            ),
                        })
                    }
                }
            }
            true
        }
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(Mismatch {
            path: Vec::new(),
            message: format!(
                "expected {}, found {}",
                shape_word(&shape.base, shape.nullable),
                v.type_name()
            ),
        })
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
    decide_with(program, request, data, data_checked, limits, true)
}

/// Decides one request, entering blocks through their index or not: both
/// must give the same decision (`index.rs` tests compare them).
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
    let mut d = run(&mut ev, program, request);
    d.cost = ev.meter.spent();
    d
}

fn run<'a>(ev: &mut Evaluator<'a>, program: &'a Program, request: &'a Request) -> Decision {
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
            return Decision::plain(outcome, reason);
        }
    };

    if class == ActionClass::Public {
        return Decision::plain(Outcome::Allow, empty_reason());
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
    if class != ActionClass::Guarded && request.principal.is_null_value() {
        return Decision::plain(
            Outcome::Unauthenticated,
            Arc::from(format!(
                "action `{}` requires an authenticated caller",
                request.action
            )),
        );
    }
    match (class, covering) {
        (ActionClass::Open, _) => Decision::plain(Outcome::Allow, empty_reason()),
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

trait NullValue {
    fn is_null_value(&self) -> bool;
}

impl NullValue for Value {
    fn is_null_value(&self) -> bool {
        matches!(self, Value::Null)
    }
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
    /// Current and greatest nesting of `eval` and descriptor matching.
    depth: usize,
    max_depth: usize,
    /// Whether blocks are entered through their index (tests compare both).
    use_index: bool,
    /// The field or index read that was last found absent, so the error
    /// names the step that is missing, not the end of the path.
    absent_at: Option<&'a Expr>,
}

type BlockResult = Result<Option<Decision>, (Box<EvalError>, Vec<u32>)>;

impl<'a> Evaluator<'a> {
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
            depth: 0,
            max_depth: limits.max_eval_depth,
            use_index: true,
            absent_at: None,
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
    fn failed(&self, e: EvalError, stmts: Vec<u32>) -> Decision {
        let reason = match stmts.first().and_then(|s| self.meta(*s)) {
            Some(m) => format!("evaluation error in `{}`: {}", m.id, e.message),
            None => format!("evaluation error: {}", e.message),
        };
        Decision {
            outcome: Outcome::Deny,
            reason: Arc::from(reason),
            statements: stmts.iter().filter_map(|s| self.meta(*s)).collect(),
            filters: None,
            principal: None,
            claims: None,
            error: Some(e),
            cost: 0,
        }
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
    fn policies(
        &mut self,
        ids: impl Iterator<Item = u32>,
        no_allow: Option<&Arc<str>>,
    ) -> Decision {
        let mut allow: Option<Decision> = None;
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
            Decision::plain(Outcome::Deny, reason)
        })
    }

    /// Evaluates one block. `Ok(None)` when no statement applied.
    fn block(&mut self, block: &'a ir::Block) -> BlockResult {
        let candidates = self.candidates(block);
        let statements = || {
            candidates
                .clone()
                .filter_map(|i| block.statements.get(i as usize))
        };
        if block.ordered {
            for s in statements() {
                if self.applies(s).map_err(|e| (e, vec![s.id]))? {
                    return self.conclude(s).map(Some).map_err(|e| (e, vec![s.id]));
                }
            }
            return Ok(None);
        }
        // Unordered: every refusal is looked at before any allow.
        for s in statements().filter(|s| s.outcome != Outcome::Allow) {
            if self.applies(s).map_err(|e| (e, vec![s.id]))? {
                return self.conclude(s).map(Some).map_err(|e| (e, vec![s.id]));
            }
        }
        for s in statements().filter(|s| s.outcome == Outcome::Allow) {
            if self.applies(s).map_err(|e| (e, vec![s.id]))? {
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

    fn conclude(&mut self, s: &'a ir::Statement) -> R<Decision> {
        let reason = match &s.reason {
            Some(r) => self.reason(r)?,
            None => empty_reason(),
        };
        let mut d = Decision::plain(s.outcome, reason);
        if let Some(decided) = self.program.deciding.get(s.id as usize) {
            d.statements = decided.clone();
        }
        if s.outcome == Outcome::Allow {
            if let Some(f) = &s.outputs.filters {
                let v = self.eval(f)?;
                if !v.is_record() && !v.is_null() {
                    return Err(type_error(
                        Span::default(),
                        format!("filters must be a record, found {}", v.type_name()),
                    ));
                }
                d.filters = Some(self.owned(&v, span_of(f))?);
            }
            if let Some(p) = &s.outputs.principal {
                let v = self.eval(p)?;
                d.principal = Some(self.owned(&v, span_of(p))?);
            }
            if let Some(c) = &s.outputs.claims {
                let v = self.eval(c)?;
                d.claims = Some(self.owned(&v, span_of(c))?);
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
    fn token_claims(&mut self, mut d: Decision) -> Decision {
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
        d.claims = Some(Value::Record(claims));
        d
    }

    #[inline]
    fn spend(&mut self, span: Span) -> R<()> {
        self.charge(1, span)
    }

    /// Takes `n` steps of the budget; past it the decision fails closed.
    #[inline]
    fn charge(&mut self, n: u64, span: Span) -> R<()> {
        self.meter.charge(n).map_err(|_| exhausted(span))
    }

    /// Charges for touching `n` bytes.
    #[inline]
    fn charge_bytes(&mut self, n: usize, span: Span) -> R<()> {
        self.meter.bytes(n).map_err(|_| exhausted(span))
    }

    /// A charged operation's answer, or the budget error at `span`.
    #[inline]
    fn paid<T>(r: Charged<T>, span: Span) -> R<T> {
        r.map_err(|_| exhausted(span))
    }

    /// Refuses a value built during the decision that is nested deeper
    /// than `Limits::max_value_depth`; the walk is charged.
    fn check_built(&mut self, v: &Val<'a>, span: Span) -> R<()> {
        let d = Self::paid(cost::depth(v, &mut self.meter), span)?;
        if d > self.max_value_depth {
            return Err(error(
                Code::EvalLimit,
                span,
                format!(
                    "a value built by the decision is nested more than {} levels deep",
                    self.max_value_depth
                ),
            ));
        }
        Ok(())
    }

    /// Converts to an owned value (for outputs and claims), charged for
    /// what the copy touches.
    fn owned(&mut self, v: &Val<'a>, span: Span) -> R<Value> {
        Self::paid(cost::size(v, &mut self.meter), span)?;
        Ok(v.to_value(&self.program.kind_names))
    }

    /// Renders a value as templates interpolate it, appending to `out`,
    /// charged for the bytes written (and, for lists and records, for the
    /// walk that renders them).
    fn render(&mut self, v: &Val<'a>, out: &mut String, span: Span) -> R<()> {
        if !matches!(
            v,
            Val::Null | Val::Bool(_) | Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::OwnedStr(_)
        ) {
            Self::paid(cost::size(v, &mut self.meter), span)?;
        }
        let before = out.len();
        let _ = write!(out, "{}", Display(v, &self.program.kind_names));
        self.charge_bytes(out.len() - before, span)
    }

    fn truth(&mut self, e: &'a Expr, what: &str) -> R<bool> {
        match self.eval(e)? {
            Val::Bool(b) => Ok(b),
            other => Err(type_error(
                span_of(e),
                format!("{what} must be a boolean, found {}", other.type_name()),
            )),
        }
    }

    fn root(&self, r: Root) -> Val<'a> {
        match r {
            Root::Principal => Val::from(&self.request.principal),
            Root::Action => Val::Str(&self.request.action),
            Root::Resource => Val::from(&self.request.resource),
            Root::Context => Val::from(&self.request.context),
            Root::Data => Val::from(self.data),
        }
    }

    /// Evaluates an expression. Leaves are read directly; anything that
    /// recurses first takes a level of the depth budget, so a chain of rules
    /// or lets (each within the parser's expression depth) cannot exhaust
    /// the stack: past the limit the decision fails closed.
    #[inline]
    fn eval(&mut self, e: &'a Expr) -> R<Val<'a>> {
        match e {
            Expr::Const(v) => Ok(Val::from(v)),
            Expr::Root(r) => Ok(self.root(*r)),
            Expr::Var(slot) => Ok(self.frame.vars.get(*slot).cloned().unwrap_or_default()),
            _ => {
                self.enter(e)?;
                let v = self.eval_node(e);
                self.depth -= 1;
                v
            }
        }
    }

    /// Takes one level of the evaluation depth budget, and one step.
    #[inline]
    fn enter(&mut self, e: &'a Expr) -> R<()> {
        if self.meter.charge(1).is_err() {
            return Err(exhausted(span_of(e)));
        }
        if self.depth >= self.max_depth {
            return Err(error(
                Code::EvalLimit,
                span_of(e),
                format!(
                    "evaluation nested more than {} levels deep (a long chain of rules or lets)",
                    self.max_depth
                ),
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Evaluates an expression that may read an absent field: `None` when
    /// the path it reads (`a.b[k]`) is absent at some step. Only `??` asks;
    /// everywhere else an absent field is an error (`absent`).
    fn read(&mut self, e: &'a Expr) -> R<Option<Val<'a>>> {
        match e {
            Expr::Field(..) | Expr::Index(..) => {
                self.enter(e)?;
                let v = self.read_node(e);
                self.depth -= 1;
                v
            }
            _ => self.eval(e).map(Some),
        }
    }

    fn read_node(&mut self, e: &'a Expr) -> R<Option<Val<'a>>> {
        match e {
            Expr::Field(base, name, span) => {
                let Some(b) = self.read(base)? else {
                    return Ok(None);
                };
                self.charge_lookup(&b, name, *span)?;
                match b.field(name) {
                    FieldRead::Present(v) => Ok(Some(v)),
                    FieldRead::Absent => {
                        self.absent_at = Some(e);
                        Ok(None)
                    }
                    FieldRead::NotRecord => Err(type_error(
                        *span,
                        format!("cannot read field `{name}` of {}", b.type_name()),
                    )),
                }
            }
            Expr::Index(base, key, span) => {
                let Some(b) = self.read(base)? else {
                    return Ok(None);
                };
                let k = self.eval(key)?;
                if let Some(key) = k.as_str() {
                    self.charge_lookup(&b, key, *span)?;
                }
                let v = index(&b, &k, *span)?;
                if v.is_none() {
                    self.absent_at = Some(e);
                }
                Ok(v)
            }
            _ => self.eval(e).map(Some),
        }
    }

    fn eval_node(&mut self, e: &'a Expr) -> R<Val<'a>> {
        Ok(match e {
            Expr::Const(v) => Val::from(v),
            Expr::Root(r) => self.root(*r),
            Expr::Var(slot) => self.frame.vars.get(*slot).cloned().unwrap_or_default(),
            Expr::Let(id) => {
                if let Some(Some(v)) = self.frame.lets.get(*id) {
                    return Ok(v.clone());
                }
                let expr = self.program.lets.get(*id as usize);
                let v = match expr {
                    Some(x) => self.eval(x)?,
                    None => Val::Null,
                };
                self.frame.lets.set(*id, Some(v.clone()));
                v
            }
            Expr::Field(..) | Expr::Index(..) => match self.read_node(e)? {
                Some(v) => v,
                None => return Err(absent(self.absent_at.unwrap_or(e))),
            },
            Expr::Call(rule, args) => return self.call(*rule, args, |ev, body| ev.eval(body)),
            Expr::Builtin(b, args, span) => self.builtin(*b, args, *span)?,
            Expr::Not(x, _) => Val::Bool(!self.truth(x, "the operand of `not`")?),
            Expr::And(l, r, _) => Val::Bool(
                self.truth(l, "an operand of `and`")? && self.truth(r, "an operand of `and`")?,
            ),
            Expr::Or(l, r, _) => Val::Bool(
                self.truth(l, "an operand of `or`")? || self.truth(r, "an operand of `or`")?,
            ),
            // `??` is one of the two places an absent field may be read
            // (the other is `has`): absent or null, the right side.
            Expr::Coalesce(l, r) => match self.read(l)? {
                None | Some(Val::Null) => self.eval(r)?,
                Some(v) => v,
            },
            Expr::Cmp(op, l, r, span) => {
                let (a, b) = (self.eval(l)?, self.eval(r)?);
                Val::Bool(match op {
                    CmpOp::Eq => Self::paid(cost::eq(&a, &b, &mut self.meter), *span)?,
                    CmpOp::Ne => !Self::paid(cost::eq(&a, &b, &mut self.meter), *span)?,
                    _ => {
                        if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                            self.charge_bytes(x.len().min(y.len()), *span)?;
                        }
                        let ord = val_cmp(&a, &b).ok_or_else(|| {
                            type_error(
                                *span,
                                format!("cannot order {} and {}", a.type_name(), b.type_name()),
                            )
                        })?;
                        match op {
                            CmpOp::Lt => ord.is_lt(),
                            CmpOp::Le => ord.is_le(),
                            CmpOp::Gt => ord.is_gt(),
                            _ => ord.is_ge(),
                        }
                    }
                })
            }
            Expr::In {
                item,
                set,
                negate,
                span,
            } => {
                let x = self.eval(item)?;
                let s = self.eval(set)?;
                Val::Bool(self.contains(&s, &x, *span)? != *negate)
            }
            Expr::Like(l, r, span) => {
                let (a, b) = (self.eval(l)?, self.eval(r)?);
                match (a.as_str(), b.as_str()) {
                    (Some(t), Some(p)) => {
                        // Linear in both (see `glob_match`), plus a search
                        // set up per piece between `*`s.
                        let pieces = p.bytes().filter(|b| *b == b'*').count() as u64;
                        self.charge(pieces, *span)?;
                        self.charge_bytes(t.len() + p.len(), *span)?;
                        Val::Bool(glob_match(p, t))
                    }
                    _ => {
                        return Err(type_error(
                            *span,
                            format!(
                                "`like` matches strings, found {} and {}",
                                a.type_name(),
                                b.type_name()
                            ),
                        ))
                    }
                }
            }
            Expr::Matches(subject, desc, _) => {
                let s = self.eval(subject)?;
                Val::Bool(self.matches_expr(&s, desc)?)
            }
            Expr::Quant {
                q,
                slot,
                over,
                body,
                span,
            } => self.quantify(*q, *slot, over, body, *span)?,
            Expr::If(c, a, b, _) => {
                if self.truth(c, "the condition of `if`")? {
                    self.eval(a)?
                } else {
                    self.eval(b)?
                }
            }
            Expr::Match(subject, arms, default) => {
                let s = self.eval(subject)?;
                match select_arm(&s, arms, default) {
                    Some(x) => self.eval(x)?,
                    None => Val::Null,
                }
            }
            Expr::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items.iter() {
                    out.push(self.eval(i)?);
                }
                let v = Val::OwnedList(out.into());
                self.check_built(&v, span_of(e))?;
                v
            }
            Expr::Tuple(items) => {
                let mut out = Vec::with_capacity(items.len());
                for i in items.iter() {
                    out.push(self.eval(i)?);
                }
                let v = Val::Tuple(out.into());
                self.check_built(&v, span_of(e))?;
                v
            }
            Expr::Record(fields) => {
                let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::with_capacity(fields.len());
                for (k, x) in fields.iter() {
                    out.push((Rc::from(k.as_ref()), self.eval(x)?));
                }
                let v = Val::OwnedRecord(out.into());
                self.check_built(&v, span_of(e))?;
                v
            }
            Expr::Template(parts) => {
                let mut s = String::new();
                for p in parts.iter() {
                    match p {
                        ir::TemplatePart::Text(t) => {
                            self.charge_bytes(t.len(), Span::default())?;
                            s.push_str(t);
                        }
                        ir::TemplatePart::Expr(x) => {
                            let v = self.eval(x)?;
                            self.render(&v, &mut s, span_of(x))?;
                        }
                    }
                }
                Val::OwnedStr(s.into())
            }
            Expr::Principal(kind, value) => {
                let v = self.eval(value)?;
                let v = Val::Principal(Rc::new(PrincipalVal {
                    kind: *kind,
                    value: v,
                }));
                self.check_built(&v, span_of(value))?;
                v
            }
            Expr::Pattern(id) => Val::Pattern(*id),
            Expr::ListComp {
                elem,
                slot,
                over,
                cond,
                span,
            } => {
                let o = self.eval(over)?;
                let items = iterate(&o, *span)?;
                let mut out = Vec::new();
                for i in 0..items.len() {
                    self.spend(*span)?;
                    let Some(v) = items.get(i) else { continue };
                    self.frame.vars.set(*slot, v);
                    if let Some(c) = cond {
                        if !self.truth(c, "the condition of a comprehension")? {
                            continue;
                        }
                    }
                    out.push(self.eval(elem)?);
                }
                let v = Val::OwnedList(out.into());
                self.check_built(&v, *span)?;
                v
            }
            Expr::RecordComp {
                key,
                value,
                key_slot,
                value_slot,
                over,
                cond,
                span,
            } => {
                let o = self.eval(over)?;
                if o.is_null() {
                    // As list comprehensions: nothing to walk, an empty result.
                    return Ok(Val::OwnedRecord(Rc::from([])));
                }
                let entries = o.record_entries().ok_or_else(|| {
                    type_error(
                        *span,
                        format!(
                            "a record comprehension needs a record, found {}",
                            o.type_name()
                        ),
                    )
                })?;
                let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::new();
                // Keys seen so far, by position in `out`, once there are
                // enough of them for a scan to cost more than a hash.
                let mut positions: Option<HashMap<Rc<str>, usize>> = None;
                let capacity = entries.len();
                for (k, v) in entries {
                    // The entry, and its key copied and hashed.
                    self.charge(3, *span)?;
                    self.frame.vars.set(*key_slot, k);
                    self.frame.vars.set(*value_slot, v);
                    if let Some(c) = cond {
                        if !self.truth(c, "the condition of a comprehension")? {
                            continue;
                        }
                    }
                    let kv = self.eval(key)?;
                    let Some(ks) = kv.as_str() else {
                        return Err(type_error(
                            *span,
                            format!("record keys must be strings, found {}", kv.type_name()),
                        ));
                    };
                    self.charge_bytes(ks.len(), *span)?;
                    let ks: Rc<str> = Rc::from(ks);
                    let vv = self.eval(value)?;
                    if positions.is_none() && out.len() >= 16 {
                        let mut map = HashMap::with_capacity(capacity);
                        map.extend(out.iter().enumerate().map(|(i, (k, _))| (k.clone(), i)));
                        positions = Some(map);
                    }
                    let found = match &mut positions {
                        Some(map) => match map.get(&ks) {
                            Some(i) => Some(*i),
                            None => {
                                map.insert(ks.clone(), out.len());
                                None
                            }
                        },
                        None => out.iter().position(|(k, _)| *k == ks),
                    };
                    match found.and_then(|i| out.get_mut(i)) {
                        Some(slot) => slot.1 = vv,
                        None => out.push((ks, vv)),
                    }
                }
                let v = Val::OwnedRecord(out.into());
                self.check_built(&v, *span)?;
                v
            }
        })
    }

    /// Binds a rule's arguments and runs `then` on its body. Arguments are
    /// all evaluated before any slot is written, so nested calls of the same
    /// rule in arguments are safe; rules are never recursive.
    fn call<T>(
        &mut self,
        rule: u32,
        args: &'a [Expr],
        then: impl FnOnce(&mut Self, &'a Expr) -> R<T>,
    ) -> R<T> {
        let Some(r) = self.program.rules.get(rule as usize) else {
            return then(self, &NULL_EXPR);
        };
        let mut values: [Val<'a>; crate::lower::MAX_PARAMS] = Default::default();
        for (slot, a) in values.iter_mut().zip(args.iter()) {
            *slot = self.eval(a)?;
        }
        for (slot, v) in r.params.iter().zip(values) {
            self.frame.vars.set(*slot, v);
        }
        then(self, &r.body)
    }

    fn quantify(
        &mut self,
        q: Quantifier,
        slot: u32,
        over: &'a Expr,
        body: &'a Expr,
        span: Span,
    ) -> R<Val<'a>> {
        let o = self.eval(over)?;
        let items = iterate(&o, span)?;
        let what = "the condition of a quantifier";
        let mut count = 0i64;
        let mut last = Val::Null;
        for i in 0..items.len() {
            self.spend(span)?;
            let Some(v) = items.get(i) else { continue };
            self.frame.vars.set(slot, v.clone());
            let hit = self.truth(body, what)?;
            match q {
                Quantifier::Any if hit => return Ok(Val::Bool(true)),
                Quantifier::All if !hit => return Ok(Val::Bool(false)),
                Quantifier::First if hit => return Ok(v),
                Quantifier::Last if hit => last = v,
                Quantifier::Count if hit => count += 1,
                _ => {}
            }
        }
        Ok(match q {
            Quantifier::Any => Val::Bool(false),
            Quantifier::All => Val::Bool(true),
            Quantifier::First => Val::Null,
            Quantifier::Last => last,
            Quantifier::Count => Val::Int(count),
        })
    }

    /// Charges for reading field `key` of `b`: a step per key compared (a
    /// record built during the decision, or a small one, is scanned; a
    /// large one read from JSON is searched by its key index), and the
    /// key's bytes.
    #[inline]
    fn charge_lookup(&mut self, b: &Val<'a>, key: &str, span: Span) -> R<()> {
        let scanned = match b {
            Val::Record(r) => r.lookup_cost(),
            Val::OwnedRecord(fields) => fields.len() as u64,
            _ => 0,
        };
        self.charge(scanned + key.len() as u64 / cost::BYTES_PER_STEP, span)
    }

    /// `x in set`: list membership, record keys; null is the empty
    /// collection. A long list searched more than once is hashed (see
    /// `cost::Lookups`); every search is charged.
    fn contains(&mut self, set: &Val<'a>, x: &Val<'a>, span: Span) -> R<bool> {
        match set {
            Val::Null => Ok(false),
            Val::Record(_) | Val::OwnedRecord(_) => match x.as_str() {
                Some(k) => {
                    self.charge_lookup(set, k, span)?;
                    Ok(set.has_key(k))
                }
                None => Ok(false),
            },
            // A string looked up in a list read from the request or data: the
            // common membership test, compared without building values.
            Val::List(items) if x.as_str().is_some() => {
                let text = x.as_str().unwrap_or("");
                if let Some(found) = items.has_member(text) {
                    self.charge_bytes(text.len(), span)?;
                    return Ok(found);
                }
                let same = |item: &Val, probe: &Val| match (item, probe.as_str()) {
                    (Val::Str(s), Some(p)) => *s == p,
                    _ => false,
                };
                let hit = self
                    .lookups
                    .contains(set, x, Sem::Text, same, &mut self.meter);
                Self::paid(hit, span)
            }
            _ => match set.as_list() {
                Some(items) => {
                    if x.as_str().is_some() {
                        let hit = self
                            .lookups
                            .contains(set, x, Sem::Text, val_eq, &mut self.meter);
                        return Self::paid(hit, span);
                    }
                    for item in items.iter() {
                        self.spend(span)?;
                        if Self::paid(cost::eq(&item, x, &mut self.meter), span)? {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                }
                None => Err(type_error(
                    span,
                    format!("`in` needs a list or a record, found {}", set.type_name()),
                )),
            },
        }
    }

    // ------------------------------------------------------------ principals

    /// Matches a subject against a descriptor expression. Descriptors
    /// written in the policy are walked in place, without building values;
    /// anything else is evaluated and matched as data.
    fn matches_expr(&mut self, subject: &Val<'a>, e: &'a Expr) -> R<bool> {
        self.enter(e)?;
        let hit = self.matches_node(subject, e);
        self.depth -= 1;
        hit
    }

    fn matches_node(&mut self, subject: &Val<'a>, e: &'a Expr) -> R<bool> {
        match e {
            Expr::List(items) => {
                for item in items.iter() {
                    let hit = match item {
                        Expr::Tuple(members) | Expr::List(members) => {
                            self.tuple_expr(subject, members)?
                        }
                        other => self.matches_expr(subject, other)?,
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Expr::Tuple(members) => self.tuple_expr(subject, members),
            Expr::Principal(kind, value) => {
                let v = self.eval(value)?;
                self.kind_test(subject, *kind, &v, span_of(e))
            }
            Expr::If(c, a, b, _) => {
                if self.truth(c, "the condition of `if`")? {
                    self.matches_expr(subject, a)
                } else {
                    self.matches_expr(subject, b)
                }
            }
            Expr::Match(s, arms, default) => {
                let v = self.eval(s)?;
                match select_arm(&v, arms, default) {
                    Some(x) => self.matches_expr(subject, x),
                    None => Ok(false),
                }
            }
            Expr::Call(rule, args) => {
                let subject = subject.clone();
                self.call(*rule, args, move |ev, body| ev.matches_expr(&subject, body))
            }
            Expr::Index(base, key, span) if matches!(**base, Expr::Record(_)) => {
                let Expr::Record(fields) = &**base else {
                    return Ok(false);
                };
                let k = self.eval(key)?;
                let Some(k) = k.as_str() else {
                    return Err(type_error(
                        *span,
                        format!("a record key must be a string, found {}", k.type_name()),
                    ));
                };
                match fields.iter().find(|(name, _)| name.as_ref() == k) {
                    Some((_, x)) => self.matches_expr(subject, x),
                    None => Ok(false),
                }
            }
            other => {
                let v = self.eval(other)?;
                self.matches_value(subject, &v, span_of(other))
            }
        }
    }

    /// An AND tuple written in the policy. Members are judged exactly as
    /// the members of a tuple held as data (`tuple_member`), so a descriptor
    /// means the same wherever it comes from.
    fn tuple_expr(&mut self, subject: &Val<'a>, members: &'a [Expr]) -> R<bool> {
        if members.is_empty() {
            return Ok(false);
        }
        let mut all = true;
        let mut wide = false;
        for m in members {
            let hit = match m {
                Expr::Principal(kind, value) => {
                    wide |= self.is_tuple_wide(*kind);
                    let v = self.eval(value)?;
                    self.kind_test(subject, *kind, &v, span_of(m))?
                }
                other => {
                    let v = self.eval(other)?;
                    self.tuple_member(subject, &v, &mut wide, span_of(other))?
                }
            };
            all &= hit;
        }
        Ok(if wide { !subject.is_null() } else { all })
    }

    fn is_tuple_wide(&self, kind: u32) -> bool {
        matches!(
            self.program.kinds.get(kind as usize),
            Some(Kind::Anyone { tuple_wide: true })
        )
    }

    /// Matches a descriptor value: a string is one principal, a list is an
    /// OR list whose nested lists are AND tuples, null matches nobody.
    fn matches_value(&mut self, subject: &Val<'a>, v: &Val<'a>, span: Span) -> R<bool> {
        match v {
            Val::Null => Ok(false),
            Val::Principal(p) => self.kind_test(subject, p.kind, &p.value, span),
            Val::Tuple(members) => self.tuple_value(subject, &ListView::Owned(members), span),
            // `text matches re"..."`: the whole text matches the pattern.
            Val::Pattern(id) => {
                if subject.is_null() {
                    return Ok(false);
                }
                let Some(text) = subject.as_str() else {
                    return Err(type_error(
                        span,
                        format!("a pattern matches text, found {}", subject.type_name()),
                    ));
                };
                // Linear in the text for a compiled pattern.
                self.charge_bytes(text.len(), span)?;
                Ok(self
                    .program
                    .patterns
                    .get(*id as usize)
                    .is_some_and(|re| re.is_match(text)))
            }
            _ => {
                if let Some(text) = v.as_str() {
                    return self.text_test(subject, text, span);
                }
                let Some(items) = v.as_list() else {
                    return Err(error(
                        Code::MalformedDescriptor,
                        span,
                        format!(
                            "a principal descriptor is a string or a list, found {}",
                            v.type_name()
                        ),
                    ));
                };
                // The whole descriptor is checked before any item matches, so
                // a malformed one refuses wherever the malformed item stands
                // (matching stops at the first hit).
                self.check_descriptor(&items, span)?;
                for item in items.iter() {
                    self.spend(span)?;
                    let hit = match &item {
                        Val::List(_) | Val::OwnedList(_) | Val::Tuple(_) => match item.as_list() {
                            Some(members) => self.tuple_value(subject, &members, span)?,
                            None => false,
                        },
                        Val::Null => false,
                        Val::Principal(p) => self.kind_test(subject, p.kind, &p.value, span)?,
                        other => match other.as_str() {
                            Some(text) => self.text_test(subject, text, span)?,
                            None => {
                                return Err(error(
                                    Code::MalformedDescriptor,
                                    span,
                                    format!(
                                        "an OR list holds principals and tuples, found {}",
                                        other.type_name()
                                    ),
                                ))
                            }
                        },
                    };
                    if hit {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
        }
    }

    /// An OR list holds principals (text or values), nulls, and AND tuples
    /// of principals and nulls; anything else, or deeper nesting, is
    /// malformed (`PCL501`).
    fn check_descriptor(&mut self, items: &ListView<'_, 'a>, span: Span) -> R<()> {
        let member_ok =
            |v: &Val| matches!(v, Val::Null | Val::Principal(_)) || v.as_str().is_some();
        for item in items.iter() {
            self.spend(span)?;
            let ok = match &item {
                Val::List(_) | Val::OwnedList(_) | Val::Tuple(_) => {
                    let members = item.as_list();
                    let mut all = true;
                    for m in members.iter().flat_map(|m| m.iter()) {
                        self.spend(span)?;
                        all &= member_ok(&m);
                    }
                    if !all {
                        return Err(error(
                            Code::MalformedDescriptor,
                            span,
                            "an AND tuple holds principals, found a nested list or another value"
                                .to_string(),
                        ));
                    }
                    true
                }
                other => member_ok(other),
            };
            if !ok {
                return Err(error(
                    Code::MalformedDescriptor,
                    span,
                    format!(
                        "an OR list holds principals and tuples, found {}",
                        item.type_name()
                    ),
                ));
            }
        }
        Ok(())
    }

    fn tuple_value(
        &mut self,
        subject: &Val<'a>,
        members: &ListView<'_, 'a>,
        span: Span,
    ) -> R<bool> {
        if members.len() == 0 {
            return Ok(false);
        }
        let mut all = true;
        let mut wide = false;
        for m in members.iter() {
            self.spend(span)?;
            all &= self.tuple_member(subject, &m, &mut wide, span)?;
        }
        Ok(if wide { !subject.is_null() } else { all })
    }

    /// One member of an AND tuple: a principal (value or `kind:value` text)
    /// or null (matches nobody). Anything else, a nested list included, is a
    /// malformed descriptor. Notes whether the member is a kind that makes
    /// its whole tuple match any caller.
    fn tuple_member(
        &mut self,
        subject: &Val<'a>,
        member: &Val<'a>,
        wide: &mut bool,
        span: Span,
    ) -> R<bool> {
        match member {
            Val::Null => Ok(false),
            Val::Principal(p) => {
                *wide |= self.is_tuple_wide(p.kind);
                self.kind_test(subject, p.kind, &p.value, span)
            }
            other => match other.as_str() {
                Some(text) => {
                    if let Some((kind, _)) = self.parse_principal(text) {
                        *wide |= self.is_tuple_wide(kind);
                    }
                    self.text_test(subject, text, span)
                }
                None => Err(error(
                    Code::MalformedDescriptor,
                    span,
                    format!("an AND tuple holds principals, found {}", other.type_name()),
                )),
            },
        }
    }

    /// Splits `kind:value` (or a bare kind that takes no value).
    fn parse_principal<'t>(&self, text: &'t str) -> Option<(u32, &'t str)> {
        let (kind, value) = match text.split_once(':') {
            Some((k, v)) => (k, v),
            None => (text, ""),
        };
        let id = self
            .program
            .kind_names
            .iter()
            .position(|k| k.as_ref() == kind)? as u32;
        let anyone = matches!(
            self.program.kinds.get(id as usize),
            Some(Kind::Anyone { .. })
        );
        let has_colon = text.len() != kind.len();
        match (anyone, has_colon) {
            (true, false) => Some((id, "")),
            // The value is everything after the colon, empty included: `role:`
            // names the role `""` (an `as int` kind never matches it).
            (false, true) => Some((id, value)),
            _ => None,
        }
    }

    fn text_test(&mut self, subject: &Val<'a>, text: &str, span: Span) -> R<bool> {
        self.charge_bytes(text.len(), span)?;
        match self.parse_principal(text) {
            Some((kind, value)) => {
                self.kind_test(subject, kind, &Val::Str(value_static(value)), span)
            }
            None => Ok(false),
        }
    }

    /// Whether the caller is `kind:value`. The caller's field is compared
    /// with the value as the kind declares (`ir::Compare`): exactly unless
    /// the policy asked for `as int` or `as uuid`.
    fn kind_test(&mut self, subject: &Val<'a>, kind: u32, value: &Val<'_>, span: Span) -> R<bool> {
        let Some(k) = self.program.kinds.get(kind as usize) else {
            return Ok(false);
        };
        if subject.is_null() {
            return Ok(false);
        }
        let read = |ev: &mut Self, path: &[ir::Name]| {
            ev.walk(subject, path)?.ok_or_else(|| {
                let mut dotted = String::new();
                for seg in path {
                    dotted.push('.');
                    dotted.push_str(seg);
                }
                error(
                    Code::AbsentField,
                    span,
                    format!("the caller has no field `{dotted}` to match a principal against"),
                )
            })
        };
        match k {
            Kind::Anyone { .. } => Ok(true),
            Kind::Equals(path, cmp) => {
                let field = read(self, path)?;
                let text = field.as_str().map_or(0, str::len) + value.as_str().map_or(0, str::len);
                self.charge_bytes(text, span)?;
                Ok(kind_eq(&field, value, *cmp))
            }
            Kind::Member(path, cmp) => {
                let list = read(self, path)?;
                if value.is_null() || list.as_list().is_none() {
                    return Ok(false);
                }
                self.charge_bytes(value.as_str().map_or(0, str::len), span)?;
                // The hash keys ids no finer than any `Compare` (digits by
                // number, UUIDs in any case); every hit is confirmed exactly.
                let cmp = *cmp;
                let hit = self.lookups.contains(
                    &list,
                    value,
                    Sem::Id,
                    |a, b| kind_eq(a, b, cmp),
                    &mut self.meter,
                );
                Self::paid(hit, span)
            }
        }
    }

    /// Follows a principal kind's field path from the subject, charged as
    /// field reads.
    /// Reads a path of fields of the caller, charged per field; `None`
    /// when a field is absent (or a value on the way has no fields).
    fn walk(&mut self, subject: &Val<'a>, path: &[ir::Name]) -> R<Option<Val<'a>>> {
        let mut cur = subject.clone();
        for seg in path {
            self.charge_lookup(&cur, seg, Span::default())?;
            cur = match cur.field(seg) {
                FieldRead::Present(v) => v,
                _ => return Ok(None),
            };
        }
        Ok(Some(cur))
    }

    // ------------------------------------------------------------ built-ins

    fn builtin(&mut self, b: Builtin, args: &'a [Expr], span: Span) -> R<Val<'a>> {
        let arg = |i: usize| args.get(i).unwrap_or(&NULL_EXPR);
        let a = self.eval(arg(0))?;
        let text = |v: &Val<'a>| -> R<()> {
            if v.as_str().is_some() {
                Ok(())
            } else {
                Err(type_error(
                    span,
                    format!("`{}` needs a string, found {}", b.name(), v.type_name()),
                ))
            }
        };
        // Text the built-in reads from its first argument: most scan it once.
        let len = a.as_str().map_or(0, str::len);
        Ok(match b {
            Builtin::Upper | Builtin::Lower => {
                text(&a)?;
                // A scan, and perhaps a copy.
                self.charge_bytes(2 * len, span)?;
                let s = a.as_str().unwrap_or("");
                let unchanged = if b == Builtin::Upper {
                    !s.chars().any(char::is_lowercase)
                } else {
                    !s.chars().any(char::is_uppercase)
                };
                if unchanged {
                    a
                } else if b == Builtin::Upper {
                    Val::OwnedStr(s.to_uppercase().into())
                } else {
                    Val::OwnedStr(s.to_lowercase().into())
                }
            }
            Builtin::Len => match (&a, a.as_str(), a.as_list()) {
                (_, Some(s), _) => {
                    self.charge_bytes(len, span)?;
                    Val::Int(s.chars().count() as i64)
                }
                (_, _, Some(l)) => Val::Int(l.len() as i64),
                (Val::Record(r), _, _) => Val::Int(r.len() as i64),
                (Val::OwnedRecord(r), _, _) => Val::Int(r.len() as i64),
                _ => {
                    return Err(type_error(
                        span,
                        format!(
                            "`len` needs a string, list or record, found {}",
                            a.type_name()
                        ),
                    ))
                }
            },
            Builtin::Empty => Val::Bool(match &a {
                Val::Null => true,
                Val::Record(r) => r.is_empty(),
                Val::OwnedRecord(r) => r.is_empty(),
                other => {
                    other.as_str().is_some_and(str::is_empty)
                        || other.as_list().is_some_and(|l| l.len() == 0)
                }
            }),
            Builtin::TypeOf => Val::Str(match &a {
                Val::Null => "null",
                Val::Bool(_) => "bool",
                Val::Int(_) => "int",
                Val::Float(_) => "number",
                Val::Str(_) | Val::OwnedStr(_) => "string",
                Val::List(_) | Val::OwnedList(_) => "list",
                Val::Record(_) | Val::OwnedRecord(_) => "record",
                Val::Principal(_) | Val::Tuple(_) => "principal",
                Val::Pattern(_) => "pattern",
            }),
            Builtin::IsUuid => Val::Bool(a.as_str().is_some_and(crate::value::is_uuid_text)),
            Builtin::Uuid => {
                text(&a)?;
                let s = a.as_str().unwrap_or("");
                match uuid::Uuid::try_parse(s) {
                    Ok(u) => Val::OwnedStr(u.hyphenated().to_string().into()),
                    Err(_) => {
                        return Err(error(
                            Code::InvalidUuid,
                            span,
                            format!("a string of {} characters is not a UUID", s.chars().count()),
                        ))
                    }
                }
            }
            Builtin::ToInt => match &a {
                Val::Int(_) => a,
                _ if self.charge_bytes(len, span).is_err() => return Err(exhausted(span)),
                other => match other.as_str().and_then(|s| s.trim().parse::<i64>().ok()) {
                    Some(n) => Val::Int(n),
                    None => {
                        return Err(type_error(
                            span,
                            format!("`int` cannot convert {}", other.type_name()),
                        ))
                    }
                },
            },
            Builtin::ToString => match &a {
                Val::Str(_) | Val::OwnedStr(_) => a,
                other => {
                    let mut out = String::new();
                    self.render(other, &mut out, span)?;
                    Val::OwnedStr(out.into())
                }
            },
            Builtin::Keys => match a.record_entries() {
                Some(entries) => {
                    self.charge(entries.len() as u64, span)?;
                    Val::OwnedList(
                        entries
                            .into_iter()
                            .map(|(k, _)| k)
                            .collect::<Vec<_>>()
                            .into(),
                    )
                }
                None if a.is_null() => Val::OwnedList(Rc::from([])),
                None => {
                    return Err(type_error(
                        span,
                        format!("`keys` needs a record, found {}", a.type_name()),
                    ))
                }
            },
            Builtin::Distinct => {
                let items = iterate(&a, span)?;
                let out = Self::paid(cost::distinct(&items, &mut self.meter), span)?;
                Val::OwnedList(out.into())
            }
            Builtin::Has => {
                let k = self.eval(arg(1))?;
                match k.as_str() {
                    Some(key) => {
                        self.charge_lookup(&a, key, span)?;
                        Val::Bool(a.has_key(key))
                    }
                    None => {
                        return Err(type_error(
                            span,
                            format!("`has` needs a string key, found {}", k.type_name()),
                        ))
                    }
                }
            }
            Builtin::Captures => {
                text(&a)?;
                let p = self.eval(arg(1))?;
                let Val::Pattern(id) = p else {
                    return Err(type_error(
                        span,
                        format!("`captures` needs a pattern, found {}", p.type_name()),
                    ));
                };
                let Some(re) = self.program.patterns.get(id as usize) else {
                    return Ok(Val::Null);
                };
                self.charge_bytes(len, span)?;
                capture(re, a)
            }
            Builtin::SecretEq => {
                let digest = self.eval(arg(1))?;
                if a.is_null() {
                    // No secret presented: nothing to compare, no match.
                    return Ok(Val::Bool(false));
                }
                let presented = secret_text(&a, span)?;
                self.charge_bytes(len, span)?;
                let computed = sha256_hex(presented);
                Val::Bool(digest_matches(&computed, &digest))
            }
            Builtin::SecretLookup => {
                let rows = self.eval(arg(1))?;
                let field = self.eval(arg(2))?;
                if a.is_null() {
                    return Ok(Val::Null);
                }
                let presented = secret_text(&a, span)?;
                let Some(field) = field.as_str() else {
                    return Err(type_error(
                        span,
                        "`secret_lookup` needs a field name".to_string(),
                    ));
                };
                self.charge_bytes(len, span)?;
                let computed = sha256_hex(presented);
                let items = iterate(&rows, span)?;
                let mut found = Val::Null;
                // Visit every row whatever matched: time must not tell
                // whether, or where, the key matched.
                for row in items.iter() {
                    self.spend(span)?;
                    let digest = row.get_field(field).unwrap_or(Val::Null);
                    let hit = digest_matches(&computed, &digest);
                    found = if hit { row } else { found };
                }
                found
            }
            _ => {
                let bv = self.eval(arg(1))?;
                text(&a)?;
                text(&bv)?;
                let other = bv.as_str().unwrap_or("");
                // What each reads: a prefix or suffix compares at most the
                // shorter text; a search scans both.
                let touched = match b {
                    Builtin::StartsWith
                    | Builtin::EndsWith
                    | Builtin::StripPrefix
                    | Builtin::StripSuffix => len.min(other.len()),
                    _ => len + other.len(),
                };
                self.charge_bytes(touched, span)?;
                string_pair(b, a, other)
            }
        })
    }
}

static NULL_EXPR: Expr = Expr::Const(Value::Null);

/// The statements of a decision no statement made, shared rather than
/// allocated.
fn no_statements() -> Arc<[DecidingStatement]> {
    static EMPTY: std::sync::OnceLock<Arc<[DecidingStatement]>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from([])).clone()
}

/// The reason of an allow without one, shared rather than allocated.
fn empty_reason() -> Arc<str> {
    static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from("")).clone()
}

/// Borrows a slice of a descriptor string for the duration of a kind test.
///
/// `kind_test` takes `&Val<'_>`, so the short-lived borrow is fine; this
/// helper only documents that no copy is made.
#[inline]
fn value_static(s: &str) -> &str {
    s
}

fn span_of(e: &Expr) -> Span {
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
        | Expr::If(_, _, _, s) => *s,
        Expr::In { span, .. }
        | Expr::Quant { span, .. }
        | Expr::ListComp { span, .. }
        | Expr::RecordComp { span, .. } => *span,
        _ => Span::default(),
    }
}

fn select_arm<'e>(
    subject: &Val,
    arms: &'e [(Vec<Value>, Expr)],
    default: &'e Option<Box<Expr>>,
) -> Option<&'e Expr> {
    arms.iter()
        .find(|(pats, _)| pats.iter().any(|p| val_eq(&Val::from(p), subject)))
        .map(|(_, x)| x)
        .or(default.as_deref())
}

fn iterate<'v, 'a>(v: &'v Val<'a>, span: Span) -> R<ListView<'v, 'a>> {
    match v {
        Val::Null => Ok(ListView::Data(&[])),
        _ => v.as_list().ok_or_else(|| {
            type_error(
                span,
                format!("expected a list to iterate over, found {}", v.type_name()),
            )
        }),
    }
}

/// `b[k]`: a record's field by a string key, a list's item by an integer
/// (negative from the end). `None` when the record has no such key or the
/// list no such item: absent, as a missing field is.
pub(crate) fn index<'a>(b: &Val<'a>, k: &Val<'a>, span: Span) -> R<Option<Val<'a>>> {
    if b.is_null() {
        return Ok(Some(Val::Null));
    }
    if let Some(key) = k.as_str() {
        return match b.field(key) {
            FieldRead::Present(v) => Ok(Some(v)),
            FieldRead::Absent => Ok(None),
            FieldRead::NotRecord => Err(type_error(
                span,
                format!("cannot index {} with a string", b.type_name()),
            )),
        };
    }
    if let (Val::Int(i), Some(items)) = (k, b.as_list()) {
        let len = items.len() as i64;
        let at = if *i < 0 { len + i } else { *i };
        return Ok(if (0..len).contains(&at) {
            items.get(at as usize)
        } else {
            None
        });
    }
    Err(type_error(
        span,
        format!("cannot index {} with {}", b.type_name(), k.type_name()),
    ))
}

/// Reading a field or item the value does not have. The policy asks for
/// it with `??` or `has`; reading it anywhere else fails closed rather than
/// passing it on as `null` (an asset sent without its `account` is not an
/// asset whose account is null).
#[cold]
fn absent(e: &Expr) -> Box<EvalError> {
    let what = match e {
        Expr::Field(_, name, _) => format!("field `{name}` is absent"),
        _ => "the indexed key or item is absent".to_string(),
    };
    error(
        Code::AbsentField,
        span_of(e),
        format!("{what}; test for it with `??` or `has` where it may be missing"),
    )
}

/// Whether a caller's field equals a descriptor's value, as the kind
/// compares them. Null matches nothing.
/// - `Exact`: same type and equal (`val_eq`): the text `"07"` is not the
///   role `"7"`, and a UUID in upper case is not the same UUID in lower case.
/// - `Int` (`as int`): the caller's field is an integer and the value is that
///   integer, or text of ASCII digits spelling it (`user:007` is user 7).
/// - `Uuid` (`as uuid`): both are hyphenated UUIDs, equal ignoring case.
pub(crate) fn kind_eq(field: &Val, value: &Val, cmp: ir::Compare) -> bool {
    if field.is_null() || value.is_null() {
        return false;
    }
    match cmp {
        ir::Compare::Exact => val_eq(field, value),
        ir::Compare::Int => {
            let Val::Int(n) = field else { return false };
            match value {
                Val::Int(m) => n == m,
                Val::Float(f) => int_float_cmp(*n, *f) == Some(std::cmp::Ordering::Equal),
                other => match other.as_str() {
                    Some(text) if !text.is_empty() && text.bytes().all(|c| c.is_ascii_digit()) => {
                        let digits = text.trim_start_matches('0');
                        let digits = if digits.is_empty() { "0" } else { digits };
                        let mut buf = [0u8; 20];
                        itoa_into(*n, &mut buf).is_some_and(|t| t == digits)
                    }
                    _ => false,
                },
            }
        }
        ir::Compare::Uuid => match (field.as_str(), value.as_str()) {
            (Some(a), Some(b)) => is_uuid_text(a) && is_uuid_text(b) && a.eq_ignore_ascii_case(b),
            _ => false,
        },
    }
}

/// Writes a non-negative integer in decimal without allocating.
fn itoa_into(n: i64, buf: &mut [u8; 20]) -> Option<&str> {
    if n < 0 {
        return None;
    }
    let mut n = n as u64;
    let mut i = buf.len();
    loop {
        i -= 1;
        if let Some(slot) = buf.get_mut(i) {
            *slot = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 || i == 0 {
            break;
        }
    }
    buf.get(i..).and_then(|b| std::str::from_utf8(b).ok())
}

fn capture<'a>(re: &regex::Regex, text: Val<'a>) -> Val<'a> {
    let s = text.as_str().unwrap_or("");
    let Some(caps) = re.captures(s) else {
        return Val::Null;
    };
    let mut out: Vec<(Rc<str>, Val<'a>)> = Vec::new();
    for name in re.capture_names().flatten() {
        let v = match caps.name(name) {
            Some(m) => match &text {
                Val::Str(borrowed) => borrowed.get(m.start()..m.end()).map_or(Val::Null, Val::Str),
                _ => Val::OwnedStr(m.as_str().into()),
            },
            None => Val::Null,
        };
        out.push((Rc::from(name), v));
    }
    Val::OwnedRecord(out.into())
}

/// `str::find`, with a plain byte scan for the usual one-byte separator
/// (`"."`, `":"`), which skips setting up a substring searcher.
#[inline]
fn find(s: &str, sep: &str) -> Option<usize> {
    match sep.as_bytes() {
        [b] => s.bytes().position(|c| c == *b),
        _ => s.find(sep),
    }
}

/// `str::rfind`, with the same one-byte fast path as [`find`].
#[inline]
fn rfind(s: &str, sep: &str) -> Option<usize> {
    match sep.as_bytes() {
        [b] => s.bytes().rposition(|c| c == *b),
        _ => s.rfind(sep),
    }
}

/// Two-string built-ins; slices stay borrowed where the input is.
fn string_pair<'a>(b: Builtin, a: Val<'a>, other: &str) -> Val<'a> {
    let s = a.as_str().unwrap_or("");
    let slice = |range: std::ops::Range<usize>| -> Val<'a> {
        match &a {
            Val::Str(borrowed) => borrowed.get(range).map_or(Val::Null, Val::Str),
            _ => s.get(range).map_or(Val::Null, |t| Val::OwnedStr(t.into())),
        }
    };
    match b {
        Builtin::StartsWith => Val::Bool(s.starts_with(other)),
        Builtin::EndsWith => Val::Bool(s.ends_with(other)),
        Builtin::Contains => Val::Bool(s.contains(other)),
        Builtin::StripPrefix => {
            if s.starts_with(other) {
                slice(other.len()..s.len())
            } else {
                a.clone()
            }
        }
        Builtin::StripSuffix => {
            if s.ends_with(other) {
                slice(0..s.len() - other.len())
            } else {
                a.clone()
            }
        }
        Builtin::BeforeLast => rfind(s, other).map_or(Val::Null, |i| slice(0..i)),
        Builtin::AfterLast => {
            rfind(s, other).map_or(Val::Null, |i| slice(i + other.len()..s.len()))
        }
        Builtin::BeforeFirst => find(s, other).map_or(Val::Null, |i| slice(0..i)),
        Builtin::AfterFirst => {
            find(s, other).map_or(Val::Null, |i| slice(i + other.len()..s.len()))
        }
        _ => Val::Null,
    }
}

fn secret_text<'v>(v: &'v Val, span: Span) -> R<&'v str> {
    v.as_str().ok_or_else(|| {
        type_error(
            span,
            format!(
                "a presented secret must be a string, found {}",
                v.type_name()
            ),
        )
    })
}

/// Lowercase hex SHA-256 of the text, on the stack.
fn sha256_hex(text: &str) -> [u8; 64] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 64];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in digest.iter().enumerate() {
        if let Some(slot) = out.get_mut(2 * i) {
            *slot = HEX.get((byte >> 4) as usize).copied().unwrap_or(b'0');
        }
        if let Some(slot) = out.get_mut(2 * i + 1) {
            *slot = HEX.get((byte & 0xf) as usize).copied().unwrap_or(b'0');
        }
    }
    out
}

/// Constant-time comparison of a computed hex digest with a configured one.
/// A configured value that is not a string never matches.
fn digest_matches(computed: &[u8; 64], configured: &Val) -> bool {
    SECRET_COMPARISONS.fetch_add(1, Ordering::Relaxed);
    let configured = configured.as_str().unwrap_or("");
    bool::from(computed.as_slice().ct_eq(configured.as_bytes()))
}

fn shape_word(b: &ir::ShapeBase, nullable: bool) -> String {
    let word = match b {
        ir::ShapeBase::Any => "any value",
        ir::ShapeBase::Bool => "a boolean",
        ir::ShapeBase::Int => "an integer",
        ir::ShapeBase::Number => "a number",
        ir::ShapeBase::String => "a string",
        ir::ShapeBase::Uuid => "a UUID",
        ir::ShapeBase::List(_) => "a list",
        ir::ShapeBase::Record(..) => "an object",
        ir::ShapeBase::OneOf(alts) => {
            let words: Vec<String> = alts
                .iter()
                .map(|a| shape_word(&a.base, a.nullable))
                .collect();
            return format!(
                "{}{}",
                words.join(" or "),
                if nullable { " or null" } else { "" }
            );
        }
    };
    format!("{word}{}", if nullable { " or null" } else { "" })
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
