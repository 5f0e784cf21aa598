//! The partial evaluator: runs a policy over a resource that is (partly)
//! unknown and gives, for every expression, its possible values each under
//! the condition on the resource that leads to it.
//!
//! Invariants:
//! - an expression that does not read the resource is evaluated by the
//!   decision evaluator itself (`eval::eval_closed`), and so is every
//!   operation whose operands are all known: known parts mean exactly what
//!   they mean in a decision;
//! - the cases of a value are exclusive and, within the branch, exhaustive;
//!   a case no resource can reach (by the facts of the branch) is dropped;
//! - a construct no condition can express, met in a branch some resource
//!   may reach, is a `FilterError` (`PCL600`): never an approximation.

use super::error::FilterError;
use super::facts::Facts;
use super::residual::{Atom, Condition, OrderOp, Path, TextOp, Types};
use crate::ast::{Quantifier, Span};
use crate::diagnostics::Code;
use crate::eval::{self, DecidingStatement};
use crate::ir::{self, Builtin, CmpOp, Expr, Kind, Program, Root};
use crate::limits::Limits;
use crate::request::Request;
use crate::value::{is_uuid_text, val_eq, Display, FieldRead, PrincipalVal, Record, Val, Value};
use std::collections::HashMap;
use std::rc::Rc;

mod builtins;
mod compare;
mod expr;
mod principals;
mod walk;

use walk::{children, span};

pub(crate) type Res<T> = Result<T, Box<FilterError>>;

/// Cases one value may split into before the filter gives up.
const MAX_CASES: usize = 256;
/// Expression visits in one filter computation.
const MAX_STEPS: u64 = 2_000_000;

/// A value of the partial evaluation.
#[derive(Clone, Debug)]
pub(crate) enum Term<'a> {
    /// Known.
    Val(Val<'a>),
    /// The resource's value at a path (present, in this case).
    Attr(Path),
    /// `uuid(x)` of a hyphenated UUID at a path: its lower-case form.
    Uuid(Path),
    /// A list built by the policy with unknown parts.
    List(Rc<[Term<'a>]>),
    /// An AND tuple built by the policy with unknown parts.
    Tuple(Rc<[Term<'a>]>),
    /// A record built by the policy with unknown parts.
    Record(Rc<[(Rc<str>, Term<'a>)]>),
    /// `kind:value` with an unknown value.
    Principal(u32, Rc<Term<'a>>),
    /// Computed from the resource in a way the filter does not follow
    /// (text built by a template): fine in a reason, refused anywhere else.
    Opaque,
    /// A read found nothing (only `??` and `has` accept it).
    Absent,
    /// The decision fails here (and so denies).
    Error,
}

#[derive(Clone, Debug)]
pub(crate) struct Case<'a> {
    pub guard: Condition,
    pub term: Term<'a>,
}

pub(crate) type Sym<'a> = Vec<Case<'a>>;

fn one(t: Term<'_>) -> Sym<'_> {
    vec![Case {
        guard: Condition::True,
        term: t,
    }]
}

fn boolean<'a>(b: bool) -> Term<'a> {
    Term::Val(Val::Bool(b))
}

/// Whether two terms are the same value (so their cases can be merged).
fn same(a: &Term, b: &Term) -> bool {
    match (a, b) {
        (Term::Error, Term::Error) | (Term::Absent, Term::Absent) => true,
        (Term::Val(x), Term::Val(y)) => x.type_name() == y.type_name() && val_eq(x, y),
        (Term::Attr(p), Term::Attr(q)) | (Term::Uuid(p), Term::Uuid(q)) => p == q,
        _ => false,
    }
}

/// A list of terms, known when every item is.
fn list_term<'a>(items: Vec<Term<'a>>, tuple: bool) -> Term<'a> {
    if items.iter().all(|t| matches!(t, Term::Val(_))) {
        let vals: Vec<Val<'a>> = items
            .into_iter()
            .filter_map(|t| match t {
                Term::Val(v) => Some(v),
                _ => None,
            })
            .collect();
        Term::Val(if tuple {
            Val::Tuple(vals.into())
        } else {
            Val::OwnedList(vals.into())
        })
    } else if tuple {
        Term::Tuple(items.into())
    } else {
        Term::List(items.into())
    }
}

fn record_term<'a>(fields: Vec<(Rc<str>, Term<'a>)>) -> Term<'a> {
    if fields.iter().all(|(_, t)| matches!(t, Term::Val(_))) {
        let vals: Vec<(Rc<str>, Val<'a>)> = fields
            .into_iter()
            .filter_map(|(k, t)| match t {
                Term::Val(v) => Some((k, v)),
                _ => None,
            })
            .collect();
        Term::Val(Val::OwnedRecord(vals.into()))
    } else {
        Term::Record(fields.into())
    }
}

fn principal_term<'a>(kind: u32, value: Term<'a>) -> Term<'a> {
    match value {
        Term::Val(v) => Term::Val(Val::Principal(Rc::new(PrincipalVal { kind, value: v }))),
        other => Term::Principal(kind, Rc::new(other)),
    }
}

/// Synthetic expressions over three spare slots: how the filter applies one
/// operation to known operands with the decision evaluator's own code.
pub(crate) struct Synth {
    base: u32,
    builtins: Vec<(Builtin, Expr)>,
    cmps: Vec<(CmpOp, Expr)>,
    contains: Expr,
    like: Expr,
    matches: Expr,
}

impl Synth {
    pub fn new(program: &Program) -> Synth {
        let base = program.slot_count as u32;
        let var = |i: u32| Expr::Var(base + i);
        let b = |x: Expr| Box::new(x);
        Synth {
            base,
            builtins: Builtin::ALL
                .iter()
                .map(|(_, builtin, arity)| {
                    let args: Vec<Expr> = (0..*arity as u32).map(var).collect();
                    (
                        *builtin,
                        Expr::Builtin(*builtin, args.into(), Span::default()),
                    )
                })
                .collect(),
            cmps: [
                CmpOp::Eq,
                CmpOp::Ne,
                CmpOp::Lt,
                CmpOp::Le,
                CmpOp::Gt,
                CmpOp::Ge,
            ]
            .into_iter()
            .map(|op| (op, Expr::Cmp(op, b(var(0)), b(var(1)), Span::default())))
            .collect(),
            contains: Expr::In {
                item: b(var(0)),
                set: b(var(1)),
                negate: false,
                span: Span::default(),
            },
            like: Expr::Like(b(var(0)), b(var(1)), Span::default()),
            matches: Expr::Matches(b(var(0)), b(var(1)), Span::default()),
        }
    }

    fn slots(&self) -> usize {
        self.base as usize + 3
    }
}

/// Where the evaluation is, for diagnostics.
#[derive(Clone, Copy, Default)]
struct Where {
    statement: Option<u32>,
    span: Option<Span>,
    /// Inside a rule or let body (written elsewhere than the statement).
    in_definition: u32,
}

pub(crate) struct Pe<'a> {
    program: &'a Program,
    request: &'a Request,
    data: &'a Value,
    limits: &'a Limits,
    synth: &'a Synth,
    /// The facts of the current branch.
    pub facts: Facts,
    /// The facts every branch starts from.
    base: Facts,
    frame: Vec<Option<Term<'a>>>,
    lets: HashMap<u32, Sym<'a>>,
    next_var: u32,
    steps: u64,
    /// Whether the resource is (partly) unknown.
    symbolic: bool,
    /// The known top-level fields of a partly known resource.
    skeleton: Option<&'a Record>,
    /// Whether an unknown part of the resource was read.
    pub read_resource: bool,
    at: Where,
    reads: HashMap<usize, bool>,
}

impl<'a> Pe<'a> {
    #[expect(
        clippy::too_many_arguments,
        reason = "the inputs of a decision, and the filter's own"
    )]
    pub fn new(
        program: &'a Program,
        request: &'a Request,
        data: &'a Value,
        limits: &'a Limits,
        synth: &'a Synth,
        facts: Facts,
        symbolic: bool,
        skeleton: Option<&'a Record>,
    ) -> Pe<'a> {
        Pe {
            program,
            request,
            data,
            limits,
            synth,
            base: facts.clone(),
            facts,
            frame: vec![None; program.slot_count],
            lets: HashMap::new(),
            next_var: 1,
            steps: 0,
            symbolic,
            skeleton,
            read_resource: false,
            at: Where::default(),
            reads: HashMap::new(),
        }
    }

    /// Numbers `exists` elements from `n` on.
    pub fn number_vars_from(&mut self, n: u32) {
        self.next_var = self.next_var.max(n);
    }

    /// A fresh number for the element of an `exists`.
    pub fn fresh_var(&mut self) -> u32 {
        let v = self.next_var;
        self.next_var += 1;
        v
    }

    // ------------------------------------------------------------ errors

    pub fn meta(&self, id: u32) -> Option<DecidingStatement> {
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
    fn fail(&self, code: Code, message: String, help: &str) -> Box<FilterError> {
        let mut e = FilterError::new(code, message).help(help);
        e.statement = self.at.statement.and_then(|s| self.meta(s)).map(Box::new);
        e.span = if self.at.statement.is_some() {
            self.at.span
        } else {
            None
        };
        Box::new(e)
    }

    /// A construct the filter cannot express over the resource's columns.
    #[cold]
    fn refuse<T>(&self, what: impl Into<String>) -> Res<T> {
        Err(self.fail(
            Code::FilterUnsupported,
            format!("the filter cannot express {}", what.into()),
            "the filter keeps only what a database condition can say exactly; rewrite this part over plain comparisons, or decide such rows one by one",
        ))
    }

    #[cold]
    fn too_big<T>(&self, what: &str) -> Res<T> {
        Err(self.fail(
            Code::FilterLimit,
            format!("the filter grows past its limit ({what})"),
            "a data lookup keyed by the resource unrolls into one case per row of data; make it a relation of the mapping, or decide such rows one by one",
        ))
    }

    fn tick(&mut self) -> Res<()> {
        self.steps += 1;
        if self.steps > MAX_STEPS {
            return self.too_big("expression visits");
        }
        Ok(())
    }

    pub fn set_statement(&mut self, id: Option<u32>) {
        self.at = Where {
            statement: id,
            span: None,
            in_definition: 0,
        };
    }

    // ------------------------------------------------------------ cases

    /// Runs `f` in the branch where `guard` holds; `None` if no resource
    /// takes that branch.
    pub fn within<T>(
        &mut self,
        guard: &Condition,
        f: impl FnOnce(&mut Self) -> Res<T>,
    ) -> Res<Option<T>> {
        let saved = self.facts.clone();
        self.facts.assume(guard);
        if self.facts.impossible {
            self.facts = saved;
            return Ok(None);
        }
        let r = f(self);
        self.facts = saved;
        r.map(Some)
    }

    /// Merges cases with the same value, drops impossible ones.
    pub fn merge(&self, cases: Vec<Case<'a>>) -> Res<Sym<'a>> {
        let mut out: Vec<Case<'a>> = Vec::with_capacity(cases.len());
        for c in cases {
            if c.guard == Condition::False {
                continue;
            }
            match out.iter_mut().find(|o| same(&o.term, &c.term)) {
                Some(o) => {
                    let g = std::mem::replace(&mut o.guard, Condition::True);
                    o.guard = Condition::or([g, c.guard]);
                }
                None => out.push(c),
            }
        }
        if out.len() > MAX_CASES {
            return self.too_big("cases of one value");
        }
        if out.len() == 1 {
            if let Some(c) = out.first_mut() {
                c.guard = Condition::True;
            }
        }
        Ok(out)
    }

    /// For each case of `sym`, `f` of its value in its branch. Errors (and
    /// absent reads, unless `keep_absent`) pass through.
    pub fn bind(
        &mut self,
        sym: Sym<'a>,
        keep_absent: bool,
        f: &mut dyn FnMut(&mut Self, Term<'a>) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let mut out = Vec::new();
        for case in sym {
            let guard = self.facts.simplify(case.guard);
            if guard == Condition::False {
                continue;
            }
            match case.term {
                Term::Error => out.push(Case {
                    guard,
                    term: Term::Error,
                }),
                Term::Absent if !keep_absent => out.push(Case {
                    guard,
                    term: Term::Error,
                }),
                t => {
                    if let Some(inner) = self.within(&guard, |pe| f(pe, t))? {
                        for c in inner {
                            out.push(Case {
                                guard: Condition::and([guard.clone(), c.guard]),
                                term: c.term,
                            });
                        }
                    }
                }
            }
        }
        self.merge(out)
    }

    /// `then` where `c` holds, `otherwise` where it does not.
    fn split(
        &mut self,
        c: Condition,
        then: &mut dyn FnMut(&mut Self) -> Res<Sym<'a>>,
        otherwise: &mut dyn FnMut(&mut Self) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let c = self.facts.simplify(c);
        let mut out = Vec::new();
        let neg = Condition::not(c.clone());
        for (i, g) in [c, neg].into_iter().enumerate() {
            if g == Condition::False {
                continue;
            }
            let inner = if i == 0 {
                self.within(&g, |pe| then(pe))?
            } else {
                self.within(&g, |pe| otherwise(pe))?
            };
            for case in inner.unwrap_or_default() {
                out.push(Case {
                    guard: Condition::and([g.clone(), case.guard]),
                    term: case.term,
                });
            }
        }
        self.merge(out)
    }

    /// A boolean that is `c`.
    fn cond(&mut self, c: Condition) -> Res<Sym<'a>> {
        self.split(c, &mut |_| Ok(one(boolean(true))), &mut |_| {
            Ok(one(boolean(false)))
        })
    }

    /// Cases by type of the value at `p`: `f` gets the types of each case.
    fn by_type(
        &mut self,
        p: &Path,
        groups: &[Types],
        f: &mut dyn FnMut(&mut Self, usize) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let t = self.facts.types_of(p);
        let mut out = Vec::new();
        for (i, g) in groups.iter().enumerate() {
            let here = g.and(t);
            if here.is_empty() {
                continue;
            }
            let guard = self.facts.simplify(Condition::types(p, here));
            if let Some(inner) = self.within(&guard, |pe| f(pe, i))? {
                for c in inner {
                    out.push(Case {
                        guard: Condition::and([guard.clone(), c.guard]),
                        term: c.term,
                    });
                }
            }
        }
        self.merge(out)
    }

    /// The condition under which a boolean value is true, and false.
    pub fn truth_conds(&mut self, sym: &Sym<'a>) -> (Condition, Condition) {
        let mut t = Vec::new();
        let mut f = Vec::new();
        for c in sym {
            match &c.term {
                Term::Val(Val::Bool(true)) => t.push(c.guard.clone()),
                Term::Val(Val::Bool(false)) => f.push(c.guard.clone()),
                _ => {}
            }
        }
        (
            self.facts.simplify(Condition::or(t)),
            self.facts.simplify(Condition::or(f)),
        )
    }

    /// A value where a boolean is needed: anything else is an error.
    pub fn truth(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
        let s = self.eval(e)?;
        self.as_bool(s)
    }

    fn as_bool(&mut self, s: Sym<'a>) -> Res<Sym<'a>> {
        self.bind(s, false, &mut |pe, t| match t {
            Term::Val(Val::Bool(_)) => Ok(one(t)),
            Term::Attr(p) => {
                let yes = Condition::atom(Atom::Eq {
                    path: p.clone(),
                    value: Value::Bool(true),
                });
                let no = Condition::atom(Atom::Eq {
                    path: p.clone(),
                    value: Value::Bool(false),
                });
                pe.merge(vec![
                    Case {
                        guard: yes,
                        term: boolean(true),
                    },
                    Case {
                        guard: no,
                        term: boolean(false),
                    },
                    Case {
                        guard: Condition::not(Condition::types(&p, Types::BOOL)),
                        term: Term::Error,
                    },
                ])
                .map(|cases| {
                    cases
                        .into_iter()
                        .map(|c| Case {
                            guard: pe.facts.simplify(c.guard),
                            term: c.term,
                        })
                        .filter(|c| c.guard != Condition::False)
                        .collect()
                })
            }
            Term::Opaque => pe.refuse("a condition on text built from the resource"),
            _ => Ok(one(Term::Error)),
        })
    }

    // ------------------------------------------------------------ closed parts

    /// Whether an expression may read the resource (through lets and rules too).
    fn reads_resource(&mut self, e: &'a Expr) -> bool {
        if !self.symbolic {
            return false;
        }
        let key = e as *const Expr as usize;
        if let Some(b) = self.reads.get(&key) {
            return *b;
        }
        let b = match e {
            Expr::Root(Root::Resource) => true,
            Expr::Const(_) | Expr::Root(_) | Expr::Var(_) | Expr::Pattern(_) | Expr::Scalar(_) => {
                false
            }
            Expr::Let(id) => match self.program.lets.get(*id as usize) {
                Some(x) => self.reads_resource(x),
                None => false,
            },
            Expr::Call(rule, args) => {
                args.iter().any(|a| self.reads_resource(a))
                    || self
                        .program
                        .rules
                        .get(*rule as usize)
                        .is_some_and(|r| self.reads_resource(&r.body))
            }
            other => {
                let mut any = false;
                children(other, &mut |c| any = any || self.reads_resource(c));
                any
            }
        };
        self.reads.insert(key, b);
        b
    }

    /// The variables an expression reads, with their values when all are
    /// known; `None` when one is not.
    fn known_vars(&self, e: &'a Expr, out: &mut Vec<(u32, Val<'a>)>) -> bool {
        match e {
            Expr::Var(s) => match self.frame.get(*s as usize) {
                Some(Some(Term::Val(v))) => {
                    if !out.iter().any(|(x, _)| x == s) {
                        out.push((*s, v.clone()));
                    }
                    true
                }
                Some(Some(_)) => false,
                _ => true,
            },
            // Rule bodies read only their parameters, bound by the call.
            Expr::Call(_, args) => args.iter().all(|a| self.known_vars(a, out)),
            Expr::Let(_) => true,
            other => {
                let mut ok = true;
                children(other, &mut |c| ok = ok && self.known_vars(c, out));
                ok
            }
        }
    }

    fn closed(&mut self, e: &'a Expr) -> Option<Term<'a>> {
        if self.reads_resource(e) {
            return None;
        }
        let mut bindings = Vec::new();
        if !self.known_vars(e, &mut bindings) {
            return None;
        }
        Some(self.run_closed(&bindings, e))
    }

    fn run_closed(&self, bindings: &[(u32, Val<'a>)], e: &'a Expr) -> Term<'a> {
        match eval::eval_closed(
            self.program,
            self.request,
            self.data,
            self.limits,
            self.synth.slots(),
            bindings,
            e,
        ) {
            Ok(v) => Term::Val(v),
            Err(_) => Term::Error,
        }
    }

    /// A synthetic operation on known values.
    fn apply(&self, e: &'a Expr, args: &[Val<'a>]) -> Term<'a> {
        let bindings: Vec<(u32, Val<'a>)> = args
            .iter()
            .enumerate()
            .map(|(i, v)| (self.synth.base + i as u32, v.clone()))
            .collect();
        self.run_closed(&bindings, e)
    }

    // ------------------------------------------------------------ expressions

    /// Evaluates; an absent read is an error.
    pub fn eval(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
        self.tick()?;
        if let Some(t) = self.closed(e) {
            return Ok(one(t));
        }
        let saved = self.at;
        if self.at.in_definition == 0 {
            if let Some(s) = span(e) {
                self.at.span = Some(s);
            }
        }
        let r = match e {
            Expr::Field(..) | Expr::Index(..) => self.read_path(e).and_then(|s| {
                self.merge(
                    s.into_iter()
                        .map(|c| Case {
                            guard: c.guard,
                            term: match c.term {
                                Term::Absent => Term::Error,
                                t => t,
                            },
                        })
                        .collect(),
                )
            }),
            _ => self.node(e),
        };
        self.at = saved;
        r
    }

    /// Evaluates where an absent read is a value (`??`).
    fn read(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
        match e {
            Expr::Field(..) | Expr::Index(..) => {
                self.tick()?;
                self.read_path(e)
            }
            _ => self.eval(e),
        }
    }

    fn read_path(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
        match e {
            Expr::Field(base, name, _) => {
                let b = self.read(base)?;
                self.bind(b, true, &mut |pe, t| match t {
                    // A path read through an absent step is absent.
                    Term::Absent => Ok(one(Term::Absent)),
                    t => pe.field(t, name),
                })
            }
            Expr::Index(base, key, _) => {
                let b = self.read(base)?;
                self.bind(b, true, &mut |pe, t| {
                    if matches!(t, Term::Absent) {
                        return Ok(one(Term::Absent));
                    }
                    let k = pe.eval(key)?;
                    pe.bind(k, false, &mut |pe, k| pe.index(t.clone(), k))
                })
            }
            _ => self.eval(e),
        }
    }

    fn resource_term(&mut self) -> Term<'a> {
        if self.symbolic {
            self.read_resource = true;
            Term::Attr(Path::root())
        } else {
            Term::Val(Val::from(&self.request.resource))
        }
    }

    /// Reads field `name`.
    fn field(&mut self, t: Term<'a>, name: &str) -> Res<Sym<'a>> {
        match t {
            Term::Val(v) => Ok(one(match v.field(name) {
                FieldRead::Present(x) => Term::Val(x),
                FieldRead::Absent => Term::Absent,
                FieldRead::NotRecord => Term::Error,
            })),
            Term::Attr(p) => {
                if p.var.is_none() && p.steps.is_empty() {
                    if let Some(known) = self.skeleton.and_then(|r| r.get(name)) {
                        return Ok(one(Term::Val(Val::from(known))));
                    }
                }
                self.read_resource = true;
                let child = p.child(name);
                let t = self.facts.types_of(&p);
                let ft = self.facts.types_of(&child);
                let mut cases = Vec::new();
                if t.meets(Types::NULL) {
                    cases.push(Case {
                        guard: Condition::types(&p, Types::NULL),
                        term: Term::Val(Val::Null),
                    });
                }
                if t.meets(Types::RECORD) {
                    if ft.meets(Types::PRESENT) {
                        cases.push(Case {
                            guard: Condition::types(&child, Types::PRESENT),
                            term: Term::Attr(child.clone()),
                        });
                    }
                    if ft.meets(Types::ABSENT) {
                        cases.push(Case {
                            guard: Condition::and([
                                Condition::types(&p, Types::RECORD),
                                Condition::types(&child, Types::ABSENT),
                            ]),
                            term: Term::Absent,
                        });
                    }
                }
                let other = t.minus(Types::NULL.or(Types::RECORD).or(Types::ABSENT));
                if !other.is_empty() {
                    cases.push(Case {
                        guard: Condition::types(&p, other),
                        term: Term::Error,
                    });
                }
                let cases = cases
                    .into_iter()
                    .map(|c| Case {
                        guard: self.facts.simplify(c.guard),
                        term: c.term,
                    })
                    .collect();
                self.merge(cases)
            }
            Term::Record(fields) => Ok(one(fields
                .iter()
                .find(|(k, _)| k.as_ref() == name)
                .map_or(Term::Absent, |(_, v)| v.clone()))),
            Term::Opaque => self.refuse("a field of text built from the resource"),
            _ => Ok(one(Term::Error)),
        }
    }

    fn index(&mut self, b: Term<'a>, k: Term<'a>) -> Res<Sym<'a>> {
        match (b, k) {
            (b, Term::Val(k)) if k.as_str().is_some() => {
                let key = k.as_str().unwrap_or("").to_string();
                self.field(b, &key)
            }
            (Term::Val(b), Term::Val(k)) => Ok(one(match eval::index(&b, &k, Span::default()) {
                Ok(Some(v)) => Term::Val(v),
                Ok(None) => Term::Absent,
                Err(_) => Term::Error,
            })),
            (Term::List(items), Term::Val(Val::Int(i))) => {
                let len = items.len() as i64;
                let at = if i < 0 { len + i } else { i };
                Ok(one(if (0..len).contains(&at) {
                    items.get(at as usize).cloned().unwrap_or(Term::Absent)
                } else {
                    Term::Absent
                }))
            }
            (Term::Attr(p), Term::Val(_)) => {
                self.refuse(format!("an item of `{}` picked by position", p.dotted()))
            }
            (Term::Val(Val::Null), _) => Ok(one(Term::Val(Val::Null))),
            // A known record looked up by a key read from the resource: a
            // case per key (a small table; a large one reaches the limit).
            (Term::Val(b), Term::Attr(p)) if b.is_record() => {
                let entries = b.record_entries().unwrap_or_default();
                if entries.len() > MAX_CASES {
                    return self.too_big("keys of a record looked up by the resource");
                }
                let mut cases = Vec::new();
                let mut keys = Vec::new();
                for (k, v) in entries {
                    let Some(k) = k.as_str() else { continue };
                    let key = Value::Str(k.into());
                    cases.push(Case {
                        guard: Condition::atom(Atom::Eq {
                            path: p.clone(),
                            value: key.clone(),
                        }),
                        term: Term::Val(v),
                    });
                    keys.push(key);
                }
                let missing = Condition::and([
                    Condition::types(&p, Types::STRING),
                    Condition::not(Condition::atom(Atom::In {
                        path: p.clone(),
                        values: keys,
                    })),
                ]);
                cases.push(Case {
                    guard: missing,
                    term: Term::Absent,
                });
                cases.push(Case {
                    guard: Condition::not(Condition::types(&p, Types::STRING)),
                    term: Term::Error,
                });
                let cases = cases
                    .into_iter()
                    .map(|c| Case {
                        guard: self.facts.simplify(c.guard),
                        term: c.term,
                    })
                    .collect();
                self.merge(cases)
            }
            _ => self.refuse("a lookup whose key is read from the resource"),
        }
    }

    // ------------------------------------------------------------ operations
}

/// Row filters under a condition.
pub(crate) type FiltersCase = (Condition, Option<Value>);

/// The two operands of a binary operation.
fn pair_of<'a>(v: &[Term<'a>]) -> (Term<'a>, Term<'a>) {
    let get = |i: usize| v.get(i).cloned().unwrap_or(Term::Val(Val::Null));
    (get(0), get(1))
}

/// The condition under which a value is not an error.
fn no_error(s: &Sym) -> Condition {
    Condition::or(
        s.iter()
            .filter(|c| !matches!(c.term, Term::Error | Term::Absent))
            .map(|c| c.guard.clone()),
    )
}

fn eq_cond(p: &Path, v: &Value) -> Condition {
    match v {
        Value::Null => Condition::types(p, Types::NULL),
        Value::List(_) | Value::Record(_) => Condition::False,
        other => Condition::atom(Atom::Eq {
            path: p.clone(),
            value: other.clone(),
        }),
    }
}

fn quant_name(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Any => "any",
        Quantifier::All => "all",
        Quantifier::First => "first",
        Quantifier::Last => "last",
        Quantifier::Count => "count",
    }
}
