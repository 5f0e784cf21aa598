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
            Expr::Const(_) | Expr::Root(_) | Expr::Var(_) | Expr::Pattern(_) => false,
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

    fn node(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
        match e {
            Expr::Const(v) => Ok(one(Term::Val(Val::from(v)))),
            Expr::Root(Root::Resource) => Ok(one(self.resource_term())),
            Expr::Root(Root::Principal) => Ok(one(Term::Val(Val::from(&self.request.principal)))),
            Expr::Root(Root::Context) => Ok(one(Term::Val(Val::from(&self.request.context)))),
            Expr::Root(Root::Action) => Ok(one(Term::Val(Val::Str(&self.request.action)))),
            Expr::Root(Root::Data) => Ok(one(Term::Val(Val::from(self.data)))),
            Expr::Var(s) => Ok(one(self
                .frame
                .get(*s as usize)
                .cloned()
                .flatten()
                .unwrap_or(Term::Val(Val::Null)))),
            Expr::Let(id) => self.let_value(*id),
            Expr::Field(..) | Expr::Index(..) => self.eval(e),
            Expr::Call(rule, args) => {
                let Some(r) = self.program.rules.get(*rule as usize) else {
                    return Ok(one(Term::Val(Val::Null)));
                };
                let body = &r.body;
                let params = r.params.clone();
                self.call_with(args, &params, &mut |pe| pe.eval(body))
            }
            Expr::Builtin(b, args, _) => {
                let b = *b;
                let refs: Vec<&'a Expr> = args.iter().collect();
                self.with_args(&refs, &mut |pe, vals| pe.builtin(b, vals))
            }
            Expr::Not(x, _) => {
                let s = self.truth(x)?;
                self.bind(s, false, &mut |_, t| {
                    Ok(one(match t {
                        Term::Val(Val::Bool(b)) => boolean(!b),
                        _ => Term::Error,
                    }))
                })
            }
            Expr::And(l, r, _) | Expr::Or(l, r, _) => {
                let is_and = matches!(e, Expr::And(..));
                let s = self.truth(l)?;
                self.bind(s, false, &mut |pe, t| match t {
                    Term::Val(Val::Bool(b)) if b == is_and => pe.truth(r),
                    Term::Val(Val::Bool(b)) => Ok(one(boolean(b))),
                    _ => Ok(one(Term::Error)),
                })
            }
            Expr::Coalesce(l, r) => {
                let s = self.read(l)?;
                self.bind(s, true, &mut |pe, t| match t {
                    Term::Absent | Term::Val(Val::Null) => pe.eval(r),
                    Term::Attr(p) => {
                        let q = p.clone();
                        pe.split(
                            Condition::types(&p, Types::NULL),
                            &mut |pe| pe.eval(r),
                            &mut |_| Ok(one(Term::Attr(q.clone()))),
                        )
                    }
                    t => Ok(one(t)),
                })
            }
            Expr::Cmp(op, l, r, _) => {
                let op = *op;
                let pair: [&'a Expr; 2] = [l, r];
                self.with_args(&pair, &mut |pe, v| {
                    let (a, b) = pair_of(v);
                    pe.compare(op, a, b)
                })
            }
            Expr::In {
                item, set, negate, ..
            } => {
                let negate = *negate;
                let pair: [&'a Expr; 2] = [item, set];
                let s = self.with_args(&pair, &mut |pe, v| {
                    let (x, set) = pair_of(v);
                    pe.contains(set, x)
                })?;
                self.bind(s, false, &mut |_, t| {
                    Ok(one(match t {
                        Term::Val(Val::Bool(b)) => boolean(b != negate),
                        other => other,
                    }))
                })
            }
            Expr::Like(l, r, _) => {
                let pair: [&'a Expr; 2] = [l, r];
                self.with_args(&pair, &mut |pe, v| {
                    let (a, b) = pair_of(v);
                    pe.like(a, b)
                })
            }
            Expr::Matches(subject, desc, _) => {
                let s = self.eval(subject)?;
                self.bind(s, false, &mut |pe, t| pe.matches_expr(&t, desc))
            }
            Expr::Quant {
                q,
                slot,
                over,
                body,
                ..
            } => {
                let (q, slot) = (*q, *slot);
                let o = self.eval(over)?;
                self.bind(o, false, &mut |pe, t| pe.quantify(q, slot, t, body))
            }
            Expr::If(c, a, b, _) => {
                let s = self.truth(c)?;
                self.bind(s, false, &mut |pe, t| match t {
                    Term::Val(Val::Bool(true)) => pe.eval(a),
                    Term::Val(Val::Bool(false)) => pe.eval(b),
                    _ => Ok(one(Term::Error)),
                })
            }
            Expr::Match(subject, arms, default) => {
                let s = self.eval(subject)?;
                self.bind(s, false, &mut |pe, t| {
                    pe.select(t, arms, default, &mut |pe, x| pe.eval(x))
                })
            }
            Expr::List(items) | Expr::Tuple(items) => {
                let tuple = matches!(e, Expr::Tuple(_));
                let refs: Vec<&'a Expr> = items.iter().collect();
                self.with_args(&refs, &mut |_, v| Ok(one(list_term(v.to_vec(), tuple))))
            }
            Expr::Record(fields) => {
                let refs: Vec<&'a Expr> = fields.iter().map(|(_, x)| x).collect();
                self.with_args(&refs, &mut |_, v| {
                    Ok(one(record_term(
                        fields
                            .iter()
                            .zip(v.iter())
                            .map(|((k, _), t)| (Rc::from(k.as_ref()), t.clone()))
                            .collect(),
                    )))
                })
            }
            Expr::Template(parts) => {
                let refs: Vec<&'a Expr> = parts
                    .iter()
                    .filter_map(|p| match p {
                        ir::TemplatePart::Expr(x) => Some(x),
                        ir::TemplatePart::Text(_) => None,
                    })
                    .collect();
                self.with_args(&refs, &mut |pe, v| {
                    if !v.iter().all(|t| matches!(t, Term::Val(_))) {
                        return Ok(one(Term::Opaque));
                    }
                    let mut out = String::new();
                    let mut vals = v.iter();
                    for p in parts.iter() {
                        match p {
                            ir::TemplatePart::Text(t) => out.push_str(t),
                            ir::TemplatePart::Expr(_) => {
                                if let Some(Term::Val(x)) = vals.next() {
                                    out.push_str(&Display(x, &pe.program.kind_names).to_string());
                                }
                            }
                        }
                    }
                    Ok(one(Term::Val(Val::OwnedStr(out.into()))))
                })
            }
            Expr::Principal(kind, value) => {
                let kind = *kind;
                let s = self.eval(value)?;
                self.bind(s, false, &mut |_, t| Ok(one(principal_term(kind, t))))
            }
            Expr::Pattern(id) => Ok(one(Term::Val(Val::Pattern(*id)))),
            Expr::ListComp { .. } | Expr::RecordComp { .. } => {
                self.refuse("a comprehension whose elements depend on the resource")
            }
        }
    }

    /// Evaluates expressions left to right and runs `f` on each
    /// combination of their values.
    fn with_args(
        &mut self,
        args: &[&'a Expr],
        f: &mut dyn FnMut(&mut Self, &[Term<'a>]) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let mut done: Vec<Term<'a>> = Vec::with_capacity(args.len());
        self.args_from(args, &mut done, f)
    }

    fn args_from(
        &mut self,
        args: &[&'a Expr],
        done: &mut Vec<Term<'a>>,
        f: &mut dyn FnMut(&mut Self, &[Term<'a>]) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let Some((first, rest)) = args.split_first() else {
            return f(self, done);
        };
        let s = self.eval(first)?;
        self.bind(s, false, &mut |pe, t| {
            done.push(t);
            let r = pe.args_from(rest, done, f);
            done.pop();
            r
        })
    }

    /// Binds a rule's parameters to each combination of its arguments and
    /// runs `body`.
    fn call_with(
        &mut self,
        args: &'a [Expr],
        params: &[u32],
        body: &mut dyn FnMut(&mut Self) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let refs: Vec<&'a Expr> = args.iter().collect();
        let params = params.to_vec();
        self.with_args(&refs, &mut |pe, vals| {
            for (slot, v) in params.iter().zip(vals.iter()) {
                if let Some(s) = pe.frame.get_mut(*slot as usize) {
                    *s = Some(v.clone());
                }
            }
            pe.at.in_definition += 1;
            let r = body(pe);
            pe.at.in_definition -= 1;
            r
        })
    }

    fn let_value(&mut self, id: u32) -> Res<Sym<'a>> {
        if let Some(s) = self.lets.get(&id) {
            return Ok(s.clone());
        }
        let Some(x) = self.program.lets.get(id as usize) else {
            return Ok(one(Term::Val(Val::Null)));
        };
        // Lazy and once per decision: its cases hold in every branch.
        let facts = std::mem::replace(&mut self.facts, self.base.clone());
        self.at.in_definition += 1;
        let r = self.eval(x);
        self.at.in_definition -= 1;
        self.facts = facts;
        let s = r?;
        self.lets.insert(id, s.clone());
        Ok(s)
    }

    /// `match`: the arm whose pattern equals the value, else the default.
    fn select(
        &mut self,
        t: Term<'a>,
        arms: &'a [(Vec<Value>, Expr)],
        default: &'a Option<Box<Expr>>,
        f: &mut dyn FnMut(&mut Self, &'a Expr) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        match t {
            Term::Val(v) => {
                let arm = arms
                    .iter()
                    .find(|(pats, _)| pats.iter().any(|p| val_eq(&Val::from(p), &v)))
                    .map(|(_, x)| x)
                    .or(default.as_deref());
                match arm {
                    Some(x) => f(self, x),
                    None => Ok(one(Term::Val(Val::Null))),
                }
            }
            Term::Attr(p) => {
                let mut out = Vec::new();
                let mut earlier: Vec<Condition> = Vec::new();
                for (pats, x) in arms {
                    let hit = Condition::or(pats.iter().map(|v| eq_cond(&p, v)));
                    let guard = self.facts.simplify(Condition::and([
                        Condition::not(Condition::or(earlier.clone())),
                        hit.clone(),
                    ]));
                    earlier.push(hit);
                    if guard == Condition::False {
                        continue;
                    }
                    if let Some(inner) = self.within(&guard, |pe| f(pe, x))? {
                        for c in inner {
                            out.push(Case {
                                guard: Condition::and([guard.clone(), c.guard]),
                                term: c.term,
                            });
                        }
                    }
                }
                let rest = self.facts.simplify(Condition::not(Condition::or(earlier)));
                if rest != Condition::False {
                    let inner = self.within(&rest, |pe| match default.as_deref() {
                        Some(x) => f(pe, x),
                        None => Ok(one(Term::Val(Val::Null))),
                    })?;
                    for c in inner.unwrap_or_default() {
                        out.push(Case {
                            guard: Condition::and([rest.clone(), c.guard]),
                            term: c.term,
                        });
                    }
                }
                self.merge(out)
            }
            _ => self.refuse("a `match` on a value computed from the resource"),
        }
    }

    // ------------------------------------------------------------ operations

    fn compare(&mut self, op: CmpOp, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
        if let (Term::Val(x), Term::Val(y)) = (&a, &b) {
            let e = self
                .synth
                .cmps
                .iter()
                .find(|(o, _)| *o == op)
                .map(|(_, e)| e);
            return Ok(one(match e {
                Some(e) => self.apply(e, &[x.clone(), y.clone()]),
                None => Term::Error,
            }));
        }
        let order = match op {
            CmpOp::Eq => return self.equal(a, b),
            CmpOp::Ne => {
                let s = self.equal(a, b)?;
                return self.bind(s, false, &mut |_, t| {
                    Ok(one(match t {
                        Term::Val(Val::Bool(x)) => boolean(!x),
                        other => other,
                    }))
                });
            }
            CmpOp::Lt => OrderOp::Lt,
            CmpOp::Le => OrderOp::Le,
            CmpOp::Gt => OrderOp::Gt,
            CmpOp::Ge => OrderOp::Ge,
        };
        let (p, c, op) = match (a, b) {
            (Term::Attr(p), Term::Val(c)) => (p, c, order),
            (Term::Val(c), Term::Attr(p)) => (p, c, order.flip()),
            _ => return self.refuse("an ordering of two values computed from the resource"),
        };
        let (kind, value) = match c {
            Val::Int(_) | Val::Float(_) => (Types::NUMERIC, c.to_value(&self.program.kind_names)),
            Val::Str(_) | Val::OwnedStr(_) => (Types::STRING, c.to_value(&self.program.kind_names)),
            _ => return Ok(one(Term::Error)),
        };
        let atom = Condition::atom(Atom::Order {
            path: p.clone(),
            op,
            value,
        });
        self.by_type(&p, &[kind, Types::ALL.minus(kind)], &mut |pe, i| {
            if i == 0 {
                pe.cond(atom.clone())
            } else {
                Ok(one(Term::Error))
            }
        })
    }

    /// `a == b`, never an error.
    fn equal(&mut self, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
        match (a, b) {
            (Term::Val(x), Term::Val(y)) => Ok(one(boolean(val_eq(&x, &y)))),
            (Term::Attr(p), Term::Val(c)) | (Term::Val(c), Term::Attr(p)) => self.attr_eq(&p, &c),
            (Term::Attr(p), Term::Attr(q)) => {
                let structured = Types::LIST.or(Types::RECORD);
                if self.facts.types_of(&p).meets(structured)
                    || self.facts.types_of(&q).meets(structured)
                {
                    return self.refuse(format!(
                        "a comparison of `{}` with `{}` that may be lists or records",
                        p.dotted(),
                        q.dotted()
                    ));
                }
                self.cond(Condition::atom(Atom::EqPath { path: p, other: q }))
            }
            (Term::Uuid(p), Term::Val(c)) | (Term::Val(c), Term::Uuid(p)) => match c.as_str() {
                Some(s) if is_uuid_text(s) && s.to_ascii_lowercase() == s => {
                    self.cond(Condition::atom(Atom::UuidEq {
                        path: p,
                        value: s.to_string(),
                    }))
                }
                _ => Ok(one(boolean(false))),
            },
            (Term::Uuid(p), Term::Uuid(q)) => {
                self.cond(Condition::atom(Atom::UuidEqPath { path: p, other: q }))
            }
            (Term::Opaque, _) | (_, Term::Opaque) => {
                self.refuse("a comparison with text built from the resource")
            }
            (Term::Principal(k, v), Term::Principal(l, w)) => {
                if k != l {
                    return Ok(one(boolean(false)));
                }
                self.equal((*v).clone(), (*w).clone())
            }
            (Term::Principal(k, v), Term::Val(Val::Principal(p)))
            | (Term::Val(Val::Principal(p)), Term::Principal(k, v)) => {
                if k != p.kind {
                    return Ok(one(boolean(false)));
                }
                self.equal((*v).clone(), Term::Val(p.value.clone()))
            }
            (a, b) => {
                let items = |t: &Term<'a>| -> Option<(bool, Vec<Term<'a>>)> {
                    match t {
                        Term::List(xs) => Some((false, xs.to_vec())),
                        Term::Tuple(xs) => Some((true, xs.to_vec())),
                        Term::Val(v @ (Val::List(_) | Val::OwnedList(_))) => {
                            Some((false, v.as_list()?.iter().map(Term::Val).collect()))
                        }
                        Term::Val(Val::Tuple(xs)) => {
                            Some((true, xs.iter().cloned().map(Term::Val).collect()))
                        }
                        _ => None,
                    }
                };
                if let (Some((ta, xs)), Some((tb, ys))) = (items(&a), items(&b)) {
                    if ta != tb || xs.len() != ys.len() {
                        return Ok(one(boolean(false)));
                    }
                    return self.all_equal(xs.into_iter().zip(ys).collect());
                }
                if matches!(a, Term::Attr(_) | Term::Uuid(_))
                    || matches!(b, Term::Attr(_) | Term::Uuid(_))
                {
                    return self.refuse("a comparison of a value read from the resource with a list or record the policy builds");
                }
                let fields = |t: &Term<'a>| -> Option<Vec<(String, Term<'a>)>> {
                    match t {
                        Term::Record(fs) => {
                            Some(fs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
                        }
                        Term::Val(v) if v.is_record() => Some(
                            v.record_entries()?
                                .into_iter()
                                .filter_map(|(k, v)| Some((k.as_str()?.to_string(), Term::Val(v))))
                                .collect(),
                        ),
                        _ => None,
                    }
                };
                if let (Some(xs), Some(ys)) = (fields(&a), fields(&b)) {
                    if xs.len() != ys.len() {
                        return Ok(one(boolean(false)));
                    }
                    let mut pairs = Vec::new();
                    for (k, x) in xs {
                        match ys.iter().find(|(l, _)| *l == k) {
                            Some((_, y)) => pairs.push((x, y.clone())),
                            None => return Ok(one(boolean(false))),
                        }
                    }
                    return self.all_equal(pairs);
                }
                // A built list or principal against a value of another kind.
                Ok(one(boolean(false)))
            }
        }
    }

    fn all_equal(&mut self, mut pairs: Vec<(Term<'a>, Term<'a>)>) -> Res<Sym<'a>> {
        let Some((x, y)) = pairs.pop() else {
            return Ok(one(boolean(true)));
        };
        let s = self.equal(x, y)?;
        self.bind(s, false, &mut |pe, t| match t {
            Term::Val(Val::Bool(true)) => pe.all_equal(pairs.clone()),
            other => Ok(one(other)),
        })
    }

    /// The value at `p` equals a known value.
    fn attr_eq(&mut self, p: &Path, c: &Val<'a>) -> Res<Sym<'a>> {
        let cond = match c {
            Val::Null => Condition::types(p, Types::NULL),
            Val::Bool(_) | Val::Int(_) | Val::Float(_) | Val::Str(_) | Val::OwnedStr(_) => {
                Condition::atom(Atom::Eq {
                    path: p.clone(),
                    value: c.to_value(&self.program.kind_names),
                })
            }
            Val::List(_) | Val::OwnedList(_) => {
                let empty = c.as_list().is_some_and(|l| l.len() == 0);
                if !self.facts.types_of(p).meets(Types::LIST) {
                    Condition::False
                } else if empty {
                    let v = self.fresh_var();
                    Condition::and([
                        Condition::types(p, Types::LIST),
                        Condition::not(Condition::atom(Atom::Exists {
                            path: p.clone(),
                            var: v,
                            cond: Box::new(Condition::True),
                        })),
                    ])
                } else {
                    return self.refuse(format!(
                        "a comparison of `{}` with a whole list",
                        p.dotted()
                    ));
                }
            }
            Val::Record(_) | Val::OwnedRecord(_) => {
                if self.facts.types_of(p).meets(Types::RECORD) {
                    return self.refuse(format!(
                        "a comparison of `{}` with a whole record",
                        p.dotted()
                    ));
                }
                Condition::False
            }
            // A JSON value never equals a principal, tuple or pattern.
            _ => Condition::False,
        };
        self.cond(cond)
    }

    /// `x in set`.
    fn contains(&mut self, set: Term<'a>, x: Term<'a>) -> Res<Sym<'a>> {
        match (set, x) {
            (Term::Val(s), Term::Val(x)) => Ok(one(self.apply(&self.synth.contains, &[x, s]))),
            (Term::Val(Val::Null), _) => Ok(one(boolean(false))),
            (Term::Val(s @ (Val::Record(_) | Val::OwnedRecord(_))), x) => {
                let keys: Vec<Val<'a>> = s
                    .record_entries()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(k, _)| k)
                    .collect();
                self.in_known(x, &keys)
            }
            (Term::Val(s), x) => match s.as_list() {
                Some(items) => {
                    let items: Vec<Val<'a>> = items.iter().collect();
                    self.in_known(x, &items)
                }
                None => Ok(one(Term::Error)),
            },
            (Term::List(items), x) => {
                let mut out: Sym<'a> = one(boolean(false));
                for item in items.iter().rev() {
                    let hit = self.equal(item.clone(), x.clone())?;
                    let rest = out;
                    out = self.bind(hit, false, &mut |_, t| match t {
                        Term::Val(Val::Bool(true)) => Ok(one(boolean(true))),
                        _ => Ok(rest.clone()),
                    })?;
                }
                Ok(out)
            }
            (Term::Attr(q), x) => {
                let groups = [
                    Types::NULL,
                    Types::LIST,
                    Types::RECORD,
                    Types::PRESENT.minus(Types::NULL.or(Types::LIST).or(Types::RECORD)),
                ];
                self.by_type(&q, &groups, &mut |pe, i| match i {
                    0 => Ok(one(boolean(false))),
                    1 => {
                        let v = pe.fresh_var();
                        pe.facts.vars.push((v, q.clone()));
                        let inner = pe.equal(Term::Attr(Path::element(v)), x.clone());
                        pe.facts.vars.pop();
                        let inner = inner?;
                        let (t, _) = pe.truth_conds(&inner);
                        pe.cond(Condition::atom(Atom::Exists {
                            path: q.clone(),
                            var: v,
                            cond: Box::new(t),
                        }))
                    }
                    2 => match &x {
                        Term::Val(k) => match k.as_str() {
                            Some(k) => pe.cond(Condition::types(&q.child(k), Types::PRESENT)),
                            None => Ok(one(boolean(false))),
                        },
                        _ => pe.refuse("a key test whose key is read from the resource"),
                    },
                    _ => Ok(one(Term::Error)),
                })
            }
            (Term::Opaque, _) | (_, Term::Opaque) => {
                self.refuse("membership in text built from the resource")
            }
            _ => Ok(one(Term::Error)),
        }
    }

    /// An unknown value among known ones (list items or record keys).
    fn in_known(&mut self, x: Term<'a>, items: &[Val<'a>]) -> Res<Sym<'a>> {
        match x {
            Term::Attr(p) => {
                let mut scalars = Vec::new();
                let mut null = false;
                for v in items {
                    match v {
                        Val::Null => null = true,
                        Val::Bool(_)
                        | Val::Int(_)
                        | Val::Float(_)
                        | Val::Str(_)
                        | Val::OwnedStr(_) => scalars.push(v.to_value(&self.program.kind_names)),
                        Val::List(_) | Val::OwnedList(_) | Val::Record(_) | Val::OwnedRecord(_)
                            if self.facts.types_of(&p).meets(Types::LIST.or(Types::RECORD)) =>
                        {
                            return self.refuse(format!(
                                "membership of `{}` in a list holding lists or records",
                                p.dotted()
                            ));
                        }
                        _ => {}
                    }
                }
                let mut alts = vec![Condition::atom(Atom::In {
                    path: p.clone(),
                    values: scalars,
                })];
                if null {
                    alts.push(Condition::types(&p, Types::NULL));
                }
                self.cond(Condition::or(alts))
            }
            Term::Uuid(p) => {
                let canon: Vec<String> = items
                    .iter()
                    .filter_map(|v| v.as_str())
                    .filter(|s| is_uuid_text(s) && s.to_ascii_lowercase() == *s)
                    .map(str::to_string)
                    .collect();
                self.cond(Condition::or(canon.into_iter().map(|value| {
                    Condition::atom(Atom::UuidEq {
                        path: p.clone(),
                        value,
                    })
                })))
            }
            x => {
                let mut out: Sym<'a> = one(boolean(false));
                for item in items.iter().rev() {
                    let hit = self.equal(Term::Val(item.clone()), x.clone())?;
                    let rest = out;
                    out = self.bind(hit, false, &mut |_, t| match t {
                        Term::Val(Val::Bool(true)) => Ok(one(boolean(true))),
                        _ => Ok(rest.clone()),
                    })?;
                }
                Ok(out)
            }
        }
    }

    fn like(&mut self, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
        match (a, b) {
            (Term::Val(x), Term::Val(y)) => Ok(one(self.apply(&self.synth.like, &[x, y]))),
            (Term::Attr(p), Term::Val(g)) => match g.as_str() {
                Some(glob) => {
                    let atom = Condition::atom(Atom::Text {
                        path: p.clone(),
                        op: TextOp::Like,
                        value: glob.to_string(),
                    });
                    self.by_type(
                        &p,
                        &[Types::STRING, Types::ALL.minus(Types::STRING)],
                        &mut |pe, i| {
                            if i == 0 {
                                pe.cond(atom.clone())
                            } else {
                                Ok(one(Term::Error))
                            }
                        },
                    )
                }
                None => Ok(one(Term::Error)),
            },
            _ => self
                .refuse("a glob read from the resource, or matched against text computed from it"),
        }
    }

    fn builtin(&mut self, b: Builtin, args: &[Term<'a>]) -> Res<Sym<'a>> {
        if args.iter().all(|t| matches!(t, Term::Val(_))) {
            let vals: Vec<Val<'a>> = args
                .iter()
                .filter_map(|t| match t {
                    Term::Val(v) => Some(v.clone()),
                    _ => None,
                })
                .collect();
            let e = self
                .synth
                .builtins
                .iter()
                .find(|(x, _)| *x == b)
                .map(|(_, e)| e);
            return Ok(one(match e {
                Some(e) => self.apply(e, &vals),
                None => Term::Error,
            }));
        }
        let a = args.first().cloned().unwrap_or(Term::Val(Val::Null));
        let second = args.get(1).cloned();
        match (b, a) {
            (Builtin::TypeOf, Term::Attr(p)) => {
                let names = ["null", "bool", "int", "number", "string", "list", "record"];
                let groups = [
                    Types::NULL,
                    Types::BOOL,
                    Types::INT,
                    Types::NUMBER,
                    Types::STRING,
                    Types::LIST,
                    Types::RECORD,
                ];
                self.by_type(&p, &groups, &mut |_, i| {
                    Ok(one(Term::Val(Val::Str(
                        names.get(i).copied().unwrap_or("null"),
                    ))))
                })
            }
            (Builtin::TypeOf, t) => Ok(one(Term::Val(Val::Str(match t {
                Term::Uuid(_) => "string",
                Term::List(_) => "list",
                Term::Record(_) => "record",
                Term::Principal(..) | Term::Tuple(_) => "principal",
                _ => return self.refuse("`type_of` of text built from the resource"),
            })))),
            (Builtin::Has, r) => match second {
                Some(Term::Val(k)) => match k.as_str() {
                    Some(key) => match r {
                        Term::Attr(p) => self.cond(Condition::types(&p.child(key), Types::PRESENT)),
                        Term::Record(fields) => {
                            Ok(one(boolean(fields.iter().any(|(n, _)| n.as_ref() == key))))
                        }
                        Term::Opaque => self.refuse("`has` of text built from the resource"),
                        _ => Ok(one(boolean(false))),
                    },
                    None => Ok(one(Term::Error)),
                },
                _ => self.refuse("`has` with a key read from the resource"),
            },
            (Builtin::IsUuid, Term::Attr(p)) => {
                self.cond(Condition::atom(Atom::IsUuid { path: p }))
            }
            (Builtin::IsUuid, Term::Uuid(_)) => Ok(one(boolean(true))),
            (Builtin::Uuid, Term::Uuid(p)) => Ok(one(Term::Uuid(p))),
            (Builtin::Uuid, Term::Attr(p)) => {
                let q = p.clone();
                self.by_type(&p, &[Types::STRING, Types::ALL.minus(Types::STRING)], &mut |pe, i| {
                    if i == 1 {
                        return Ok(one(Term::Error));
                    }
                    let r = q.clone();
                    pe.split(
                        Condition::atom(Atom::IsUuid { path: q.clone() }),
                        &mut |_| Ok(one(Term::Uuid(r.clone()))),
                        &mut |pe| pe.refuse(format!("`uuid()` of `{}`, which may be a UUID written otherwise than hyphenated", r.dotted())),
                    )
                })
            }
            (Builtin::Empty, Term::Attr(p)) => {
                let q = p.clone();
                let groups = [
                    Types::NULL,
                    Types::STRING,
                    Types::LIST,
                    Types::RECORD,
                    Types::BOOL.or(Types::NUMERIC),
                ];
                self.by_type(&p, &groups, &mut |pe, i| match i {
                    0 => Ok(one(boolean(true))),
                    1 => pe.cond(Condition::atom(Atom::Eq {
                        path: q.clone(),
                        value: Value::Str("".into()),
                    })),
                    2 => {
                        let v = pe.fresh_var();
                        pe.cond(Condition::not(Condition::atom(Atom::Exists {
                            path: q.clone(),
                            var: v,
                            cond: Box::new(Condition::True),
                        })))
                    }
                    3 => pe.refuse(format!(
                        "`empty` of `{}`, which may be a record",
                        q.dotted()
                    )),
                    _ => Ok(one(boolean(false))),
                })
            }
            (Builtin::StartsWith | Builtin::EndsWith | Builtin::Contains, Term::Attr(p)) => {
                let op = match b {
                    Builtin::StartsWith => TextOp::StartsWith,
                    Builtin::EndsWith => TextOp::EndsWith,
                    _ => TextOp::Contains,
                };
                match second {
                    Some(Term::Val(v)) => match v.as_str() {
                        Some(s) => {
                            let atom = Condition::atom(Atom::Text {
                                path: p.clone(),
                                op,
                                value: s.to_string(),
                            });
                            self.by_type(
                                &p,
                                &[Types::STRING, Types::ALL.minus(Types::STRING)],
                                &mut |pe, i| {
                                    if i == 0 {
                                        pe.cond(atom.clone())
                                    } else {
                                        Ok(one(Term::Error))
                                    }
                                },
                            )
                        }
                        None => Ok(one(Term::Error)),
                    },
                    _ => self.refuse(format!(
                        "`{}` with text read from the resource as its second argument",
                        b.name()
                    )),
                }
            }
            (Builtin::SecretEq | Builtin::SecretLookup, _) => self.refuse(format!(
                "`{}` over a value read from the resource (a secret is never a column condition)",
                b.name()
            )),
            (Builtin::Captures, _) => {
                self.refuse("a regular expression over a value read from the resource")
            }
            _ => self.refuse(format!(
                "`{}()` of a value read from the resource",
                b.name()
            )),
        }
    }

    // ------------------------------------------------------------ quantifiers

    fn quantify(
        &mut self,
        q: Quantifier,
        slot: u32,
        over: Term<'a>,
        body: &'a Expr,
    ) -> Res<Sym<'a>> {
        let items: Vec<Term<'a>> = match over {
            Term::Val(Val::Null) => Vec::new(),
            Term::Val(v) => match v.as_list() {
                Some(l) => l.iter().map(Term::Val).collect(),
                None => return Ok(one(Term::Error)),
            },
            Term::List(xs) | Term::Tuple(xs) => xs.to_vec(),
            Term::Attr(p) => return self.quantify_attr(q, slot, p, body),
            Term::Opaque => return self.refuse("a quantifier over text built from the resource"),
            _ => return Ok(one(Term::Error)),
        };
        // Unrolled in order, each branch going on only while undecided.
        let mut out: Vec<Case<'a>> = Vec::new();
        let mut pending: Vec<(Condition, i64, Term<'a>)> =
            vec![(Condition::True, 0, Term::Val(Val::Null))];
        for item in items {
            let mut next = Vec::new();
            for (g, count, last) in pending {
                let item = item.clone();
                let r = self.within(&g, |pe| {
                    if let Some(s) = pe.frame.get_mut(slot as usize) {
                        *s = Some(item.clone());
                    }
                    let s = pe.truth(body)?;
                    Ok(s)
                })?;
                let Some(s) = r else { continue };
                for c in s {
                    let guard = Condition::and([g.clone(), c.guard]);
                    match (c.term, q) {
                        (Term::Val(Val::Bool(true)), Quantifier::Any) => out.push(Case {
                            guard,
                            term: boolean(true),
                        }),
                        (Term::Val(Val::Bool(false)), Quantifier::All) => out.push(Case {
                            guard,
                            term: boolean(false),
                        }),
                        (Term::Val(Val::Bool(true)), Quantifier::First) => out.push(Case {
                            guard,
                            term: item.clone(),
                        }),
                        (Term::Val(Val::Bool(true)), Quantifier::Last) => {
                            next.push((guard, count, item.clone()))
                        }
                        (Term::Val(Val::Bool(true)), Quantifier::Count) => {
                            next.push((guard, count + 1, last.clone()))
                        }
                        (Term::Val(Val::Bool(_)), _) => next.push((guard, count, last.clone())),
                        _ => out.push(Case {
                            guard,
                            term: Term::Error,
                        }),
                    }
                }
            }
            if next.len() > MAX_CASES || out.len() > MAX_CASES {
                return self.too_big("branches of a quantifier");
            }
            pending = next;
        }
        for (g, count, last) in pending {
            let term = match q {
                Quantifier::Any => boolean(false),
                Quantifier::All => boolean(true),
                Quantifier::First => Term::Val(Val::Null),
                Quantifier::Last => last,
                Quantifier::Count => Term::Val(Val::Int(count)),
            };
            out.push(Case { guard: g, term });
        }
        self.merge(out)
    }

    /// `any`/`all` over a list read from the resource: `exists`.
    fn quantify_attr(
        &mut self,
        q: Quantifier,
        slot: u32,
        list: Path,
        body: &'a Expr,
    ) -> Res<Sym<'a>> {
        let other = Types::PRESENT.minus(Types::NULL.or(Types::LIST));
        let l = list.clone();
        self.by_type(&list, &[Types::NULL, Types::LIST, other], &mut |pe, i| match (i, q) {
            (0, Quantifier::Any) => Ok(one(boolean(false))),
            (0, Quantifier::All) => Ok(one(boolean(true))),
            (0, Quantifier::Count) => Ok(one(Term::Val(Val::Int(0)))),
            (0, _) => Ok(one(Term::Val(Val::Null))),
            (1, Quantifier::Any | Quantifier::All) => {
                let v = pe.fresh_var();
                pe.facts.vars.push((v, l.clone()));
                let saved = pe.frame.get(slot as usize).cloned().flatten();
                if let Some(s) = pe.frame.get_mut(slot as usize) {
                    *s = Some(Term::Attr(Path::element(v)));
                }
                let r = pe.truth(body);
                if let Some(s) = pe.frame.get_mut(slot as usize) {
                    *s = saved;
                }
                let s = match r {
                    Ok(s) => s,
                    Err(e) => {
                        pe.facts.vars.pop();
                        return Err(e);
                    }
                };
                let fails = s.iter().any(|c| !matches!(c.term, Term::Val(Val::Bool(_))));
                let (t, f) = pe.truth_conds(&s);
                pe.facts.vars.pop();
                if fails {
                    return pe.refuse(format!(
                        "a condition over the elements of `{}` that may fail on an element (the first failing element decides, and rows have no order)",
                        l.dotted()
                    ));
                }
                let exists = |cond: Condition| Condition::atom(Atom::Exists {
                    path: l.clone(),
                    var: v,
                    cond: Box::new(cond),
                });
                if q == Quantifier::Any {
                    pe.cond(exists(t))
                } else {
                    pe.cond(Condition::not(exists(f)))
                }
            }
            (1, _) => pe.refuse(format!("`{}` over the list `{}` read from the resource", quant_name(q), l.dotted())),
            _ => Ok(one(Term::Error)),
        })
    }

    // ------------------------------------------------------------ principals

    /// `subject matches <descriptor written in the policy>`.
    fn matches_expr(&mut self, subject: &Term<'a>, e: &'a Expr) -> Res<Sym<'a>> {
        self.tick()?;
        match e {
            Expr::List(items) => self.or_chain(items, &mut |pe, item| match item {
                Expr::Tuple(members) | Expr::List(members) => pe.tuple_expr(subject, members),
                other => pe.matches_expr(subject, other),
            }),
            Expr::Tuple(members) => self.tuple_expr(subject, members),
            Expr::Principal(kind, value) => {
                let kind = *kind;
                let s = self.eval(value)?;
                self.bind(s, false, &mut |pe, v| pe.kind_test(subject, kind, v))
            }
            Expr::If(c, a, b, _) => {
                let s = self.truth(c)?;
                self.bind(s, false, &mut |pe, t| match t {
                    Term::Val(Val::Bool(true)) => pe.matches_expr(subject, a),
                    Term::Val(Val::Bool(false)) => pe.matches_expr(subject, b),
                    _ => Ok(one(Term::Error)),
                })
            }
            Expr::Match(s, arms, default) => {
                let v = self.eval(s)?;
                let subject = subject.clone();
                self.bind(v, false, &mut |pe, t| {
                    let subject = subject.clone();
                    match &t {
                        Term::Val(v) => {
                            let arm = arms
                                .iter()
                                .find(|(pats, _)| pats.iter().any(|p| val_eq(&Val::from(p), v)))
                                .map(|(_, x)| x)
                                .or(default.as_deref());
                            match arm {
                                Some(x) => pe.matches_expr(&subject, x),
                                None => Ok(one(boolean(false))),
                            }
                        }
                        _ => pe.refuse("a descriptor chosen by a `match` on the resource"),
                    }
                })
            }
            Expr::Call(rule, args) => {
                let Some(r) = self.program.rules.get(*rule as usize) else {
                    return Ok(one(boolean(false)));
                };
                let body = &r.body;
                let params = r.params.clone();
                let subject = subject.clone();
                self.call_with(args, &params, &mut |pe| pe.matches_expr(&subject, body))
            }
            Expr::Index(base, key, _) if matches!(**base, Expr::Record(_)) => {
                let Expr::Record(fields) = &**base else {
                    return Ok(one(boolean(false)));
                };
                let k = self.eval(key)?;
                self.bind(k, false, &mut |pe, k| match k {
                    Term::Val(k) => match k.as_str() {
                        Some(k) => match fields.iter().find(|(n, _)| n.as_ref() == k) {
                            Some((_, x)) => pe.matches_expr(subject, x),
                            None => Ok(one(boolean(false))),
                        },
                        None => Ok(one(Term::Error)),
                    },
                    _ => pe.refuse("a descriptor picked by a key read from the resource"),
                })
            }
            other => {
                let v = self.eval(other)?;
                self.bind(v, false, &mut |pe, v| pe.matches_value(subject, v))
            }
        }
    }

    /// Items in order, stopping at the first that is true.
    fn or_chain(
        &mut self,
        items: &'a [Expr],
        f: &mut dyn FnMut(&mut Self, &'a Expr) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let Some((first, rest)) = items.split_first() else {
            return Ok(one(boolean(false)));
        };
        let s = f(self, first)?;
        self.bind(s, false, &mut |pe, t| match t {
            Term::Val(Val::Bool(true)) => Ok(one(boolean(true))),
            Term::Val(Val::Bool(false)) => pe.or_chain(rest, f),
            _ => Ok(one(Term::Error)),
        })
    }

    /// Every member is tested (no short cut); errors in any fail it.
    fn strict_and(&mut self, hits: Vec<Sym<'a>>, wide: bool, subject_null: bool) -> Res<Sym<'a>> {
        if hits.is_empty() {
            return Ok(one(boolean(false)));
        }
        let mut all_true = Vec::new();
        let mut no_error = Vec::new();
        let mut some_false = Vec::new();
        for h in &hits {
            let (t, f) = self.truth_conds(h);
            all_true.push(t.clone());
            some_false.push(f.clone());
            no_error.push(Condition::or([t, f]));
        }
        let ok = Condition::and(no_error);
        let cases = if wide {
            vec![
                Case {
                    guard: ok.clone(),
                    term: boolean(!subject_null),
                },
                Case {
                    guard: Condition::not(ok),
                    term: Term::Error,
                },
            ]
        } else {
            vec![
                Case {
                    guard: Condition::and(all_true),
                    term: boolean(true),
                },
                Case {
                    guard: Condition::and([ok.clone(), Condition::or(some_false)]),
                    term: boolean(false),
                },
                Case {
                    guard: Condition::not(ok),
                    term: Term::Error,
                },
            ]
        };
        let cases = cases
            .into_iter()
            .map(|c| Case {
                guard: self.facts.simplify(c.guard),
                term: c.term,
            })
            .collect();
        self.merge(cases)
    }

    fn is_wide(&self, kind: u32) -> bool {
        matches!(
            self.program.kinds.get(kind as usize),
            Some(Kind::Anyone { tuple_wide: true })
        )
    }

    fn tuple_expr(&mut self, subject: &Term<'a>, members: &'a [Expr]) -> Res<Sym<'a>> {
        let Term::Val(sv) = subject else {
            return self.refuse("principal matching of a subject read from the resource");
        };
        let mut hits = Vec::new();
        let mut wide = false;
        for m in members {
            match m {
                Expr::Principal(kind, value) => {
                    wide |= self.is_wide(*kind);
                    let kind = *kind;
                    let s = self.eval(value)?;
                    hits.push(self.bind(s, false, &mut |pe, v| pe.kind_test(subject, kind, v))?);
                }
                other => {
                    let s = self.eval(other)?;
                    for c in &s {
                        if let Some(w) = self.member_wide(&c.term)? {
                            wide |= w;
                        }
                    }
                    hits.push(self.bind(s, false, &mut |pe, v| pe.tuple_member(subject, v))?);
                }
            }
        }
        self.strict_and(hits, wide, sv.is_null())
    }

    /// Whether a member value makes its tuple match any caller; `None` if
    /// it is not a principal.
    fn member_wide(&mut self, t: &Term<'a>) -> Res<Option<bool>> {
        Ok(match t {
            Term::Val(Val::Principal(p)) => Some(self.is_wide(p.kind)),
            Term::Principal(k, _) => Some(self.is_wide(*k)),
            Term::Val(v) => v
                .as_str()
                .map(|text| self.parse_kind(text).is_some_and(|k| self.is_wide(k))),
            Term::Attr(p) => {
                if self.facts.types_of(p).meets(Types::STRING) {
                    return self.refuse(format!(
                        "a principal descriptor read from the resource (`{}`)",
                        p.dotted()
                    ));
                }
                None
            }
            _ => None,
        })
    }

    fn parse_kind(&self, text: &str) -> Option<u32> {
        let (kind, has_colon) = match text.split_once(':') {
            Some((k, _)) => (k, true),
            None => (text, false),
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
        (anyone != has_colon).then_some(id)
    }

    /// One member of an AND tuple held as a value.
    fn tuple_member(&mut self, subject: &Term<'a>, m: Term<'a>) -> Res<Sym<'a>> {
        match m {
            Term::Val(Val::Null) => Ok(one(boolean(false))),
            Term::Val(Val::Principal(p)) => {
                self.kind_test(subject, p.kind, Term::Val(p.value.clone()))
            }
            Term::Principal(k, v) => self.kind_test(subject, k, (*v).clone()),
            Term::Val(v) if v.as_str().is_some() => self.matches_value(subject, Term::Val(v)),
            Term::Attr(p) => self.refuse(format!(
                "a principal descriptor read from the resource (`{}`)",
                p.dotted()
            )),
            Term::Opaque => self.refuse("a principal descriptor built from the resource"),
            _ => Ok(one(Term::Error)),
        }
    }

    /// `subject matches <descriptor value>`.
    fn matches_value(&mut self, subject: &Term<'a>, v: Term<'a>) -> Res<Sym<'a>> {
        match (subject, v) {
            (Term::Val(s), Term::Val(d)) => {
                Ok(one(self.apply(&self.synth.matches, &[s.clone(), d])))
            }
            (_, Term::Val(Val::Pattern(_))) => {
                self.refuse("a regular expression over a value read from the resource")
            }
            (Term::Val(_), Term::Principal(k, v)) => self.kind_test(subject, k, (*v).clone()),
            (Term::Val(sv), Term::Tuple(members)) => {
                let mut hits = Vec::new();
                let mut wide = false;
                for m in members.iter() {
                    if let Some(w) = self.member_wide(m)? {
                        wide |= w;
                    }
                    hits.push(self.tuple_member(subject, m.clone())?);
                }
                let null = sv.is_null();
                self.strict_and(hits, wide, null)
            }
            (Term::Val(sv), Term::List(items)) => {
                // The whole descriptor is checked before any item matches.
                for item in items.iter() {
                    let ok = match item {
                        Term::Val(Val::Null | Val::Principal(_)) | Term::Principal(..) => true,
                        Term::Val(v) if v.as_str().is_some() => true,
                        Term::Val(v @ (Val::List(_) | Val::OwnedList(_) | Val::Tuple(_))) => {
                            v.as_list().is_some_and(|l| {
                                l.iter().all(|m| {
                                    matches!(m, Val::Null | Val::Principal(_))
                                        || m.as_str().is_some()
                                })
                            })
                        }
                        Term::List(ms) | Term::Tuple(ms) => ms.iter().all(|m| {
                            matches!(
                                m,
                                Term::Val(Val::Null | Val::Principal(_)) | Term::Principal(..)
                            ) || matches!(m, Term::Val(v) if v.as_str().is_some())
                        }),
                        Term::Attr(p) => {
                            return self.refuse(format!(
                                "a principal descriptor read from the resource (`{}`)",
                                p.dotted()
                            ))
                        }
                        _ => false,
                    };
                    if !ok {
                        return Ok(one(Term::Error));
                    }
                }
                let null = sv.is_null();
                self.items_chain(subject, &items, 0, null)
            }
            (Term::Val(_), Term::Attr(p)) => {
                if self.facts.types_of(&p).within(Types::NULL) {
                    return Ok(one(boolean(false)));
                }
                self.refuse(format!(
                    "principal matching against a descriptor read from the resource (`{}`)",
                    p.dotted()
                ))
            }
            (Term::Val(_), Term::Uuid(_) | Term::Opaque) => {
                self.refuse("principal matching against a descriptor computed from the resource")
            }
            (Term::Val(_), _) => Ok(one(Term::Error)),
            _ => self.refuse("principal matching of a subject read from the resource"),
        }
    }

    fn items_chain(
        &mut self,
        subject: &Term<'a>,
        items: &Rc<[Term<'a>]>,
        i: usize,
        null: bool,
    ) -> Res<Sym<'a>> {
        let Some(item) = items.get(i).cloned() else {
            return Ok(one(boolean(false)));
        };
        let hit = match item {
            Term::Val(v @ (Val::List(_) | Val::OwnedList(_) | Val::Tuple(_))) => {
                let members: Vec<Term<'a>> = v
                    .as_list()
                    .map(|l| l.iter().map(Term::Val).collect())
                    .unwrap_or_default();
                self.matches_value(subject, Term::Tuple(members.into()))?
            }
            Term::List(ms) | Term::Tuple(ms) => self.matches_value(subject, Term::Tuple(ms))?,
            Term::Val(Val::Null) => one(boolean(false)),
            Term::Principal(k, v) => self.kind_test(subject, k, (*v).clone())?,
            other => self.matches_value(subject, other)?,
        };
        let _ = null;
        self.bind(hit, false, &mut |pe, t| match t {
            Term::Val(Val::Bool(true)) => Ok(one(boolean(true))),
            Term::Val(Val::Bool(false)) => pe.items_chain(subject, items, i + 1, null),
            _ => Ok(one(Term::Error)),
        })
    }

    /// Whether the caller is `kind:value`.
    fn kind_test(&mut self, subject: &Term<'a>, kind: u32, value: Term<'a>) -> Res<Sym<'a>> {
        let Term::Val(sv) = subject else {
            return self.refuse("principal matching of a subject read from the resource");
        };
        if let Term::Val(v) = &value {
            let d = Val::Principal(Rc::new(PrincipalVal {
                kind,
                value: v.clone(),
            }));
            return Ok(one(self.apply(&self.synth.matches, &[sv.clone(), d])));
        }
        let Some(k) = self.program.kinds.get(kind as usize) else {
            return Ok(one(boolean(false)));
        };
        if sv.is_null() {
            return Ok(one(boolean(false)));
        }
        let (path, cmp, member) = match k {
            Kind::Anyone { .. } => return Ok(one(boolean(true))),
            Kind::Equals(path, cmp) => (path, *cmp, false),
            Kind::Member(path, cmp) => (path, *cmp, true),
        };
        let mut cur = sv.clone();
        for seg in path {
            cur = match cur.field(seg) {
                FieldRead::Present(v) => v,
                _ => return Ok(one(Term::Error)),
            };
        }
        if !member {
            return self.kind_eq(&cur, value, cmp);
        }
        let Some(items) = cur.as_list() else {
            return Ok(one(boolean(false)));
        };
        let items: Vec<Val<'a>> = items.iter().collect();
        let mut alts = Vec::new();
        for item in items {
            let s = self.kind_eq(&item, value.clone(), cmp)?;
            let (t, _) = self.truth_conds(&s);
            alts.push(t);
        }
        self.cond(Condition::or(alts))
    }

    /// `eval::kind_eq` with a value from the resource.
    fn kind_eq(&mut self, field: &Val<'a>, value: Term<'a>, cmp: ir::Compare) -> Res<Sym<'a>> {
        if field.is_null() {
            return Ok(one(boolean(false)));
        }
        match (cmp, value) {
            (_, Term::Val(v)) => Ok(one(boolean(eval::kind_eq(field, &v, cmp)))),
            (ir::Compare::Exact, value @ (Term::Attr(_) | Term::Uuid(_))) => {
                // Null never matches: the field is not null, so equality says it.
                self.equal(Term::Val(field.clone()), value)
            }
            (ir::Compare::Int, Term::Attr(p)) => {
                let Val::Int(n) = field else {
                    return Ok(one(boolean(false)));
                };
                let n = *n;
                let q = p.clone();
                self.by_type(&p, &[Types::NUMERIC, Types::STRING, Types::ALL.minus(Types::NUMERIC.or(Types::STRING))], &mut |pe, i| match i {
                    0 => pe.cond(Condition::atom(Atom::Eq { path: q.clone(), value: Value::Int(n) })),
                    1 => pe.refuse(format!("an `as int` principal matched against text read from the resource (`{}`)", q.dotted())),
                    _ => Ok(one(boolean(false))),
                })
            }
            (ir::Compare::Int, Term::Uuid(_)) => Ok(one(boolean(false))),
            (ir::Compare::Uuid, Term::Attr(p) | Term::Uuid(p)) => match field.as_str() {
                Some(f) if is_uuid_text(f) => self.cond(Condition::atom(Atom::UuidEq {
                    path: p,
                    value: f.to_ascii_lowercase(),
                })),
                _ => Ok(one(boolean(false))),
            },
            (_, Term::Opaque) => {
                self.refuse("a principal whose value is text built from the resource")
            }
            // Built lists, records and principals never equal a caller's id
            // under `as int` or `as uuid`; exactly, only by value.
            (ir::Compare::Exact, v) => self.equal(Term::Val(field.clone()), v),
            _ => Ok(one(boolean(false))),
        }
    }

    // ------------------------------------------------------------ statements

    /// Values of an allow's outputs and reason; their errors deny.
    pub fn outputs(&mut self, s: &'a ir::Statement) -> Res<(Condition, Vec<FiltersCase>)> {
        let mut ok = Vec::new();
        if let Some(ir::Reason::Computed(e)) = &s.reason {
            let r = self.eval(e)?;
            ok.push(no_error(&r));
        }
        for x in [&s.outputs.principal, &s.outputs.claims]
            .into_iter()
            .flatten()
        {
            let r = self.eval(x)?;
            ok.push(no_error(&r));
        }
        let ok = self.facts.simplify(Condition::and(ok));
        let Some(f) = &s.outputs.filters else {
            return Ok((ok, vec![(Condition::True, None)]));
        };
        let r = self.eval(f)?;
        let mut branches = Vec::new();
        for c in r {
            match c.term {
                Term::Val(v) if v.is_record() || v.is_null() => {
                    branches.push((c.guard, Some(v.to_value(&self.program.kind_names))))
                }
                Term::Val(_) | Term::Error | Term::Absent => {}
                _ => return self.refuse("row filters computed from the resource"),
            }
        }
        Ok((ok, branches))
    }

    /// Where a refusal statement's reason is... not needed: only whether it applies.
    pub fn applies(&mut self, s: &'a ir::Statement) -> Res<(Condition, Condition)> {
        match &s.when {
            None => Ok((Condition::True, Condition::False)),
            Some(w) => {
                let r = self.truth(w)?;
                Ok(self.truth_conds(&r))
            }
        }
    }
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

fn span(e: &Expr) -> Option<Span> {
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
        | Expr::If(_, _, _, s) => Some(*s),
        Expr::In { span, .. }
        | Expr::Quant { span, .. }
        | Expr::ListComp { span, .. }
        | Expr::RecordComp { span, .. } => Some(*span),
        _ => None,
    }
    .filter(|s| s.end > s.start)
}

/// The direct children of an expression (rule bodies and lets not entered).
fn children<'a>(e: &'a Expr, f: &mut dyn FnMut(&'a Expr)) {
    match e {
        Expr::Const(_) | Expr::Root(_) | Expr::Var(_) | Expr::Let(_) | Expr::Pattern(_) => {}
        Expr::Field(b, _, _) | Expr::Not(b, _) | Expr::Principal(_, b) => f(b),
        Expr::Index(a, b, _)
        | Expr::And(a, b, _)
        | Expr::Or(a, b, _)
        | Expr::Coalesce(a, b)
        | Expr::Cmp(_, a, b, _)
        | Expr::Like(a, b, _)
        | Expr::Matches(a, b, _) => {
            f(a);
            f(b)
        }
        Expr::In { item, set, .. } => {
            f(item);
            f(set)
        }
        Expr::Call(_, args) | Expr::Builtin(_, args, _) | Expr::List(args) | Expr::Tuple(args) => {
            args.iter().for_each(f)
        }
        Expr::Quant { over, body, .. } => {
            f(over);
            f(body)
        }
        Expr::If(a, b, c, _) => {
            f(a);
            f(b);
            f(c)
        }
        Expr::Match(s, arms, d) => {
            f(s);
            arms.iter().for_each(|(_, x)| f(x));
            if let Some(d) = d {
                f(d)
            }
        }
        Expr::Record(fields) => fields.iter().for_each(|(_, x)| f(x)),
        Expr::Template(parts) => parts.iter().for_each(|p| {
            if let ir::TemplatePart::Expr(x) = p {
                f(x)
            }
        }),
        Expr::ListComp {
            elem, over, cond, ..
        } => {
            f(elem);
            f(over);
            if let Some(c) = cond {
                f(c)
            }
        }
        Expr::RecordComp {
            key,
            value,
            over,
            cond,
            ..
        } => {
            f(key);
            f(value);
            f(over);
            if let Some(c) = cond {
                f(c)
            }
        }
    }
}
