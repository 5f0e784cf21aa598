//! Partial evaluation to filters: which resources may this caller see?
//!
//! Input: a compiled `Program`, a request whose resource is unknown (no
//! `resource` key) or partly known (a record: the keys it holds are fixed,
//! every other key comes from the row), the data, and optionally a
//! [`Schema`] (what the rows can hold, from a [`mapping::Mapping`]).
//! Output: a [`Filter`]: always allowed, never allowed, or a residual
//! [`Condition`] over `resource.<path>`, with the allowing statements and
//! the row filters they return; or a [`FilterError`] (`PCL600`-`PCL604`).
//!
//! Invariants:
//! - sound and exact: for every resource `r` the schema admits, the
//!   decision of the request with `r` allows exactly when the condition
//!   holds of `r` (`Condition::holds`); whatever the filter cannot say
//!   exactly is refused with a diagnostic naming it, never widened or
//!   narrowed (the one exception, the step budget, is documented in
//!   `docs/filtering.md`);
//! - the decision procedure keeps its meaning: undeclared actions, the
//!   request contract (a resource outside it never passes), `authenticate`,
//!   ordered blocks, deny-overrides, errors that fail closed (a row on
//!   which evaluation would fail is not in the filter);
//! - everything that does not read the resource is evaluated by the
//!   decision evaluator itself.

mod error;
mod facts;
pub mod mapping;
mod pe;
pub mod residual;
pub mod sql;

pub use error::FilterError;
pub use residual::{Atom, Condition, OrderOp, Path, TextOp, Types};

use crate::ast::{ActionClass, Outcome};
use crate::diagnostics::Code;
use crate::eval::{self, DecidingStatement, Decision};
use crate::ir::{self, Program, Shape, ShapeBase};
use crate::limits::Limits;
use crate::request::Request;
use crate::value::{glob_match, is_uuid_text, Value};
use facts::{Facts, Know};
use pe::{Pe, Res, Synth};
use std::sync::Arc;

/// The version of the JSON form.
pub const VERSION: u64 = 1;

/// What the rows of a table can hold: the paths a mapping declares and the
/// types of their columns. Paths it does not declare are absent.
#[derive(Clone, Debug)]
pub struct Schema {
    pub(crate) know: Know,
}

impl Schema {
    /// Nothing known: any resource at all.
    pub fn open() -> Schema {
        Schema { know: Know::any() }
    }
}

/// Whether the filter is a condition at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FilterKind {
    /// Every resource is allowed (within the contract and schema).
    Always,
    /// No resource is allowed.
    Never,
    /// Resources for which the condition holds.
    Residual,
}

impl FilterKind {
    /// `always`, `never` or `residual`.
    pub fn as_str(self) -> &'static str {
        match self {
            FilterKind::Always => "always",
            FilterKind::Never => "never",
            FilterKind::Residual => "residual",
        }
    }
}

/// An allowing statement that may decide, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Allow {
    /// The statement.
    pub statement: DecidingStatement,
    /// The resources for which it is the deciding statement.
    pub when: Condition,
    /// The row filters it returns there (`None`: it has no `filters` output).
    pub filters: Option<Value>,
}

/// A refusal that decides whatever the resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Refusal {
    /// Deny or unauthenticated.
    pub outcome: Outcome,
    /// The reason, when it does not depend on the resource.
    pub reason: Option<String>,
    /// The statement, if one decided.
    pub statement: Option<DecidingStatement>,
}

/// Which resources a request may act on.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The action asked for.
    pub action: String,
    /// Always, never, or a residual condition.
    pub kind: FilterKind,
    /// The condition on the resource (`True` for always, `False` for never).
    pub condition: Condition,
    /// The allowing statements, each with where it decides and its row
    /// filters; their `when`s are exclusive and their union is `condition`.
    pub allows: Vec<Allow>,
    /// For a filter that is never, the refusal when it does not depend on
    /// the resource.
    pub refusal: Option<Refusal>,
}

impl Filter {
    /// The versioned JSON form (`docs/filtering.md`).
    pub fn to_json(&self) -> serde_json::Value {
        let stmt = |s: &DecidingStatement| serde_json::json!({ "id": s.id.as_ref(), "file": s.file.as_ref(), "line": s.line });
        let mut out = serde_json::Map::new();
        out.insert("version".into(), VERSION.into());
        out.insert("action".into(), self.action.as_str().into());
        out.insert("result".into(), self.kind.as_str().into());
        out.insert("condition".into(), self.condition.to_json());
        out.insert(
            "allows".into(),
            self.allows
                .iter()
                .map(|a| {
                    let mut m = serde_json::Map::new();
                    m.insert("statement".into(), stmt(&a.statement));
                    m.insert("when".into(), a.when.to_json());
                    if let Some(f) = &a.filters {
                        m.insert("filters".into(), f.to_json());
                    }
                    serde_json::Value::Object(m)
                })
                .collect(),
        );
        if let Some(r) = &self.refusal {
            let mut m = serde_json::Map::new();
            m.insert("decision".into(), r.outcome.as_str().into());
            if let Some(reason) = &r.reason {
                m.insert("reason".into(), reason.as_str().into());
            }
            if let Some(s) = &r.statement {
                m.insert("statement".into(), stmt(s));
            }
            out.insert("refusal".into(), serde_json::Value::Object(m));
        }
        serde_json::Value::Object(out)
    }

    /// Whether the filter admits a resource.
    pub fn allows(&self, resource: &Value) -> bool {
        self.condition.holds(resource)
    }

    /// The row filters of the statement that allows this resource, if any.
    pub fn filters_for(&self, resource: &Value) -> Option<&Value> {
        self.allows
            .iter()
            .find(|a| a.when.holds(resource))
            .and_then(|a| a.filters.as_ref())
    }
}

/// Computes the filter of a request.
pub(crate) fn compute(
    program: &Program,
    limits: &Limits,
    request: &Request,
    data: &Value,
    data_checked: bool,
    schema: &Schema,
) -> Result<Filter, FilterError> {
    compute_inner(program, limits, request, data, data_checked, schema).map_err(|e| *e)
}

fn constant(request: &Request, decision: &Decision, statements: &[DecidingStatement]) -> Filter {
    let allowed = decision.is_allowed();
    Filter {
        action: request.action.clone(),
        kind: if allowed {
            FilterKind::Always
        } else {
            FilterKind::Never
        },
        condition: if allowed {
            Condition::True
        } else {
            Condition::False
        },
        allows: if allowed {
            statements
                .iter()
                .map(|s| Allow {
                    statement: s.clone(),
                    when: Condition::True,
                    filters: decision.filters.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        refusal: (!allowed).then(|| Refusal {
            outcome: decision.outcome,
            reason: Some(decision.reason.to_string()),
            statement: decision.statements.first().cloned(),
        }),
    }
}

fn never(
    request: &Request,
    outcome: Outcome,
    reason: Option<String>,
    statement: Option<DecidingStatement>,
) -> Filter {
    Filter {
        action: request.action.clone(),
        kind: FilterKind::Never,
        condition: Condition::False,
        allows: Vec::new(),
        refusal: Some(Refusal {
            outcome,
            reason,
            statement,
        }),
    }
}

/// The contract's entry for a root: whether it may be absent, and its shape.
fn contract_root<'p>(
    program: &'p Program,
    info: Option<&ir::ActionInfo>,
    root: &str,
) -> Option<(bool, &'p Shape)> {
    let contract = info
        .and_then(|i| i.contract)
        .and_then(|i| program.action_contracts.get(i as usize))
        .or(program.request_shape.as_ref())?;
    let ShapeBase::Record(fields, _) = &contract.base else {
        return None;
    };
    fields
        .iter()
        .find(|(n, _, _)| n.as_ref() == root)
        .map(|(_, optional, s)| (*optional, s))
}

/// Whether a known value fits a shape (as the decision's shape check).
fn fits_value(v: &Value, shape: &Shape) -> bool {
    match (&shape.base, v) {
        (ShapeBase::Any, _) => true,
        (_, Value::Null) => shape.nullable,
        (ShapeBase::Bool, Value::Bool(_))
        | (ShapeBase::Int, Value::Int(_))
        | (ShapeBase::Number, Value::Int(_) | Value::Float(_))
        | (ShapeBase::String | ShapeBase::Regex, Value::Str(_)) => true,
        (ShapeBase::Uuid, Value::Str(s)) => is_uuid_text(s),
        (ShapeBase::OneOf(alts), _) => alts.iter().any(|a| fits_value(v, a)),
        (ShapeBase::List(inner), Value::List(items)) => {
            items.items().iter().all(|i| fits_value(i, inner))
        }
        (ShapeBase::Record(fields, rest), Value::Record(r)) => {
            let rest_ok = match rest {
                Some(rest) => r
                    .iter()
                    .filter(|(k, _)| !fields.iter().any(|(n, _, _)| n.as_ref() == *k))
                    .all(|(_, fv)| fits_value(fv, rest)),
                None => true,
            };
            rest_ok
                && fields.iter().all(|(name, optional, s)| match r.get(name) {
                    Some(fv) => fits_value(fv, s),
                    None => *optional,
                })
        }
        _ => false,
    }
}

/// The condition under which the value at `p` fits `shape`.
fn fits(facts: &mut Facts, p: &Path, shape: &Shape, next_var: &mut u32) -> Res<Condition> {
    let base = match &shape.base {
        ShapeBase::Any => return Ok(facts.simplify(Condition::types(p, Types::PRESENT))),
        ShapeBase::Bool => Condition::types(p, Types::BOOL),
        ShapeBase::Int => Condition::types(p, Types::INT),
        ShapeBase::Number => Condition::types(p, Types::NUMERIC),
        ShapeBase::String | ShapeBase::Regex => Condition::types(p, Types::STRING),
        ShapeBase::Uuid => Condition::and([
            Condition::types(p, Types::STRING),
            Condition::atom(Atom::IsUuid { path: p.clone() }),
        ]),
        ShapeBase::OneOf(alts) => {
            let mut out = Vec::new();
            for a in alts {
                out.push(fits(facts, p, a, next_var)?);
            }
            Condition::or(out)
        }
        ShapeBase::List(inner) => {
            let v = *next_var;
            *next_var += 1;
            facts.vars.push((v, p.clone()));
            let each = fits(facts, &Path::element(v), inner, next_var);
            facts.vars.pop();
            Condition::and([
                Condition::types(p, Types::LIST),
                Condition::not(Condition::atom(Atom::Exists {
                    path: p.clone(),
                    var: v,
                    cond: Box::new(Condition::not(each?)),
                })),
            ])
        }
        ShapeBase::Record(fields, rest) => {
            let mut out = vec![Condition::types(p, Types::RECORD)];
            for (name, optional, s) in fields {
                let f = fits(facts, &p.child(name), s, next_var)?;
                out.push(if *optional {
                    Condition::or([Condition::types(&p.child(name), Types::ABSENT), f])
                } else {
                    f
                });
            }
            if let Some(rest) = rest {
                let know = facts.know(p);
                let closed = know
                    .others
                    .as_ref()
                    .is_some_and(|o| o.types.within(Types::ABSENT));
                if !closed {
                    return Err(Box::new(
                        FilterError::new(
                            Code::FilterUnsupported,
                            format!(
                                "the filter cannot express the contract's `*:` fields of `{}` without knowing every field a row has",
                                p.dotted()
                            ),
                        )
                        .help("give a mapping (`--mapping`): the fields it declares are all a row has"),
                    ));
                }
                for (name, _) in &know.fields {
                    if fields.iter().any(|(n, _, _)| n == name) {
                        continue;
                    }
                    let f = fits(facts, &p.child(name), rest, next_var)?;
                    out.push(Condition::or([
                        Condition::types(&p.child(name), Types::ABSENT),
                        f,
                    ]));
                }
            }
            Condition::and(out)
        }
    };
    let c = if shape.nullable {
        Condition::or([
            Condition::types(p, Types::NULL),
            Condition::and([Condition::not(Condition::types(p, Types::NULL)), base]),
        ])
    } else {
        base
    };
    Ok(facts.simplify(c))
}

/// One block: when it allows (and through which statements), and when no
/// statement of it applies.
struct BlockResult {
    allow: Condition,
    none: Condition,
    branches: Vec<(u32, Condition, Option<Value>)>,
    /// The refusal that decides whatever the resource, if the block starts with one.
    refusal: Option<Refusal>,
}

fn run_block<'a>(pe: &mut Pe<'a>, block: &'a ir::Block) -> Res<BlockResult> {
    let order: Vec<&'a ir::Statement> = if block.ordered {
        block.statements.iter().collect()
    } else {
        block
            .statements
            .iter()
            .filter(|s| s.outcome != Outcome::Allow)
            .chain(
                block
                    .statements
                    .iter()
                    .filter(|s| s.outcome == Outcome::Allow),
            )
            .collect()
    };
    let mut none = Condition::True;
    let mut allows = Vec::new();
    let mut branches = Vec::new();
    let mut refusal = None;
    for s in order {
        pe.set_statement(Some(s.id));
        let step = pe.within(&none, |pe| {
            let (t, f) = pe.applies(s)?;
            let mut out = Vec::new();
            if s.outcome == Outcome::Allow && t != Condition::False {
                if let Some((ok, fb)) = pe.within(&t, |pe| pe.outputs(s))? {
                    for (g, fv) in fb {
                        out.push((Condition::and([t.clone(), ok.clone(), g]), fv));
                    }
                }
            }
            // A refusal that applies whatever the resource, with a known reason.
            let fixed = if s.outcome != Outcome::Allow && t == Condition::True {
                let reason = match &s.reason {
                    None => Some(String::new()),
                    Some(ir::Reason::Fixed(r)) => Some(r.to_string()),
                    Some(ir::Reason::Computed(e)) => {
                        let r = pe.eval(e)?;
                        match r.as_slice() {
                            [c] => match &c.term {
                                pe::Term::Val(v) => v.as_str().map(str::to_string),
                                _ => None,
                            },
                            _ => None,
                        }
                    }
                };
                Some(reason)
            } else {
                None
            };
            Ok((t, f, out, fixed))
        })?;
        let Some((t, f, out, fixed)) = step else {
            break;
        };
        if none == Condition::True {
            if let Some(reason) = fixed {
                refusal = Some(Refusal {
                    outcome: s.outcome,
                    reason,
                    statement: pe.meta(s.id),
                });
            }
        }
        let _ = t;
        for (when, fv) in out {
            let when = Condition::and([none.clone(), when]);
            allows.push(when.clone());
            branches.push((s.id, when, fv));
        }
        none = pe.facts.simplify(Condition::and([none, f]));
        if none == Condition::False {
            break;
        }
    }
    pe.set_statement(None);
    Ok(BlockResult {
        allow: Condition::or(allows),
        none,
        branches,
        refusal,
    })
}

fn compute_inner(
    program: &Program,
    limits: &Limits,
    request: &Request,
    data: &Value,
    data_checked: bool,
    schema: &Schema,
) -> Res<Filter> {
    let decide_now = || eval::decide(program, request, data, data_checked, limits);
    let info = program
        .actions
        .get(request.action.as_str())
        .and_then(|id| program.action_info.get(*id as usize));
    let symbolic = !request.has_root("resource") || matches!(request.resource, Value::Record(_));
    // Nothing to filter on: the resource is known, or the action never
    // reaches a policy that reads it.
    let undeclared = info.is_none() && program.open_set.is_none();
    let public = info.is_some_and(|i| i.class == ActionClass::Public);
    if !symbolic || undeclared || public {
        let d = decide_now();
        return Ok(constant(request, &d, &d.statements));
    }
    let skeleton = match &request.resource {
        Value::Record(r) if request.has_root("resource") => Some(r),
        _ => None,
    };
    // The known roots must fit the contract, as the decision checks them.
    for root in ["principal", "context"] {
        if let Some((optional, shape)) = contract_root(program, info, root) {
            let v = if root == "principal" {
                &request.principal
            } else {
                &request.context
            };
            let ok = if request.has_root(root) {
                fits_value(v, shape)
            } else {
                optional
            };
            if !ok {
                let d = decide_now();
                let reason = format!("the request's `{root}` does not fit the contract");
                return Ok(never(
                    request,
                    Outcome::Deny,
                    Some(if d.is_allowed() {
                        reason
                    } else {
                        d.reason.to_string()
                    }),
                    None,
                ));
            }
        }
    }
    if !data_checked {
        if let Err(e) = eval::validate_data(program, data, &mut 0) {
            return Ok(never(
                request,
                Outcome::Deny,
                Some(format!("evaluation error: {e}")),
                None,
            ));
        }
    }

    // What is known of the resource: the schema, the known keys; and, for
    // the policy's evaluation (which only runs on resources that fit), the
    // contract.
    // The resource of a row is never absent.
    let mut root_know = schema.know.clone();
    root_know.types = root_know.types.minus(Types::ABSENT);
    if let Some(r) = skeleton {
        let mut k = Know::of(Types::RECORD);
        k.fields = r
            .iter()
            .map(|(n, v)| (Arc::from(n), Know::exact(v)))
            .collect();
        root_know = root_know.meet(&k);
    }
    let resource_contract = contract_root(program, info, "resource");
    let mut shape_facts = Facts::new(Arc::new(root_know.clone()));
    // The contract's `exists` are numbered first, the policy's after them.
    let mut next_var = 1;
    let shape_ok = match resource_contract {
        Some((_, shape)) => fits(&mut shape_facts, &Path::root(), shape, &mut next_var)?,
        None => Condition::True,
    };
    let policy_know = match resource_contract {
        Some((_, shape)) => root_know.meet(&Know::from_shape(shape)),
        None => root_know,
    };
    let synth = Synth::new(program);
    let facts = Facts::new(Arc::new(policy_know));
    let mut pe = Pe::new(
        program, request, data, limits, &synth, facts, true, skeleton,
    );
    pe.number_vars_from(next_var);

    // Authentication. `gate` holds what the policy part needs besides the
    // contract; conditions computed knowing the contract holds are only
    // simplified with that knowledge, then joined to the contract's test.
    let mut gate = Condition::True;
    if let Some(block) = &program.authenticate {
        let r = run_block(&mut pe, block)?;
        if shape_ok == Condition::True {
            if let Some(refusal) = r.refusal {
                return Ok(never(
                    request,
                    refusal.outcome,
                    refusal.reason,
                    refusal.statement,
                ));
            }
        }
        gate = Condition::and([gate, r.none]);
    }
    let (class, policies): (ActionClass, Vec<u32>) = match info {
        Some(i) => (i.class, i.policies.clone()),
        None => (
            ActionClass::Guarded,
            program
                .open_set
                .iter()
                .flatten()
                .filter(|(g, _)| glob_match(g, &request.action))
                .map(|(_, id)| *id)
                .collect(),
        ),
    };
    if class != ActionClass::Guarded && matches!(request.principal, Value::Null) {
        // Unauthenticated, unless the row is outside the contract (a deny).
        let mut f = never(
            request,
            Outcome::Unauthenticated,
            Some(format!(
                "action `{}` requires an authenticated caller",
                request.action
            )),
            None,
        );
        if shape_ok != Condition::True || gate != Condition::True {
            f.refusal = None;
        }
        return Ok(f);
    }
    let mut results = Vec::new();
    if class == ActionClass::Open {
        let condition =
            shape_facts.simplify(Condition::and([shape_ok.clone(), pe.facts.simplify(gate)]));
        return Ok(finish(request, condition, Vec::new(), None));
    }
    for id in &policies {
        let Some(policy) = program.policies.get(*id as usize) else {
            continue;
        };
        results.push(run_block(&mut pe, &policy.body)?);
    }
    if class == ActionClass::Token {
        let mut ok = Vec::new();
        for policy in &program.policies {
            for e in [&policy.claims_access, &policy.claims_refresh]
                .into_iter()
                .flatten()
            {
                let r = pe.eval(e)?;
                ok.push(Condition::or(
                    r.iter()
                        .filter(|c| !matches!(c.term, pe::Term::Error | pe::Term::Absent))
                        .map(|c| c.guard.clone()),
                ));
            }
        }
        gate = Condition::and([gate, Condition::and(ok)]);
    }
    let no_veto: Vec<Condition> = results
        .iter()
        .map(|r| Condition::or([r.allow.clone(), r.none.clone()]))
        .collect();
    // No policy vetoes and one allows; with one policy, that it allows.
    let allowed = match results.as_slice() {
        [only] => only.allow.clone(),
        _ => Condition::and([
            Condition::and(no_veto.clone()),
            Condition::or(results.iter().map(|r| r.allow.clone())),
        ]),
    };
    let policy_part = pe.facts.simplify(Condition::and([gate.clone(), allowed]));
    let condition = shape_facts.simplify(Condition::and([shape_ok.clone(), policy_part]));
    let mut allows = Vec::new();
    for (i, r) in results.iter().enumerate() {
        for (stmt, when, filters) in &r.branches {
            let earlier = results.iter().take(i).map(|q| q.none.clone());
            let later = no_veto.iter().skip(i + 1).cloned();
            let when = pe.facts.simplify(Condition::and(
                [gate.clone(), when.clone()]
                    .into_iter()
                    .chain(earlier)
                    .chain(later),
            ));
            let when = shape_facts.simplify(Condition::and([shape_ok.clone(), when]));
            if when == Condition::False {
                continue;
            }
            if let Some(statement) = pe.meta(*stmt) {
                allows.push(Allow {
                    statement,
                    when,
                    filters: filters.clone(),
                });
            }
        }
    }
    let first_refusal = if shape_ok == Condition::True {
        results.first().and_then(|r| r.refusal.clone())
    } else {
        None
    };
    Ok(finish(request, condition, allows, first_refusal))
}

fn finish(
    request: &Request,
    condition: Condition,
    allows: Vec<Allow>,
    refusal: Option<Refusal>,
) -> Filter {
    let kind = match condition {
        Condition::True => FilterKind::Always,
        Condition::False => FilterKind::Never,
        _ => FilterKind::Residual,
    };
    Filter {
        action: request.action.clone(),
        kind,
        refusal: if kind == FilterKind::Never {
            refusal
        } else {
            None
        },
        allows: if kind == FilterKind::Never {
            Vec::new()
        } else {
            allows
        },
        condition,
    }
}
