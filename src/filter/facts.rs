//! What the partial evaluator knows about the unknown resource: the types
//! each path may have (from the request contract, the mapping's schema and
//! the known part of the resource), and the facts of the branch it is in.
//!
//! Invariant: knowledge only ever removes cases that cannot happen; a fact
//! that cannot be used is dropped, never guessed.

use super::residual::{Atom, Condition, Path, Types};
use crate::ir::{Shape, ShapeBase};
use crate::value::{is_uuid_text, val_eq, Val, Value};
use std::collections::HashMap;
use std::sync::Arc;

/// What may be found at a place of the resource.
#[derive(Clone, Debug)]
pub(crate) struct Know {
    /// The types the value may have.
    pub types: Types,
    /// Strings here are hyphenated UUIDs.
    pub uuid: bool,
    /// What named fields hold (when the value is a record).
    pub fields: Vec<(Arc<str>, Know)>,
    /// What fields not named hold; `None`: anything, absent included.
    pub others: Option<Box<Know>>,
    /// What elements hold (when the value is a list); `None`: anything present.
    pub elem: Option<Box<Know>>,
}

impl Know {
    /// Nothing known.
    pub fn any() -> Know {
        Know {
            types: Types::ALL,
            uuid: false,
            fields: Vec::new(),
            others: None,
            elem: None,
        }
    }

    /// Only these types.
    pub fn of(types: Types) -> Know {
        Know {
            types,
            ..Know::any()
        }
    }

    /// A present value (a list element).
    fn present() -> Know {
        Know::of(Types::PRESENT)
    }

    /// What a field holds, given that this value is a record.
    pub fn field(&self, name: &str) -> Know {
        match self.fields.iter().find(|(n, _)| n.as_ref() == name) {
            Some((_, k)) => k.clone(),
            None => match &self.others {
                Some(k) => (**k).clone(),
                None => Know::any(),
            },
        }
    }

    /// What a step reaches from a value of this knowledge: the field's
    /// knowledge when this is a record, absent otherwise.
    pub fn step(&self, name: &str) -> Know {
        let mut k = if self.types.meets(Types::RECORD) {
            self.field(name)
        } else {
            Know::of(Types::ABSENT)
        };
        if !self.types.within(Types::RECORD) {
            k.types = k.types.or(Types::ABSENT);
        }
        k
    }

    /// What an element holds.
    pub fn element(&self) -> Know {
        match &self.elem {
            Some(k) => (**k).clone(),
            None => Know::present(),
        }
    }

    /// Both at once.
    pub fn meet(&self, other: &Know) -> Know {
        let mut fields: Vec<(Arc<str>, Know)> = Vec::new();
        for (n, _) in self.fields.iter().chain(other.fields.iter()) {
            if fields.iter().any(|(m, _)| m == n) {
                continue;
            }
            fields.push((n.clone(), self.field(n).meet(&other.field(n))));
        }
        let others = match (&self.others, &other.others) {
            (None, None) => None,
            (Some(a), None) => Some(a.clone()),
            (None, Some(b)) => Some(b.clone()),
            (Some(a), Some(b)) => Some(Box::new(a.meet(b))),
        };
        let elem = match (&self.elem, &other.elem) {
            (None, None) => None,
            (Some(a), None) => Some(a.clone()),
            (None, Some(b)) => Some(b.clone()),
            (Some(a), Some(b)) => Some(Box::new(a.meet(b))),
        };
        Know {
            types: self.types.and(other.types),
            uuid: self.uuid || other.uuid,
            fields,
            others,
            elem,
        }
    }

    /// Either one (for `T | U` shapes).
    fn join(&self, other: &Know) -> Know {
        let mut fields: Vec<(Arc<str>, Know)> = Vec::new();
        for (n, _) in self.fields.iter().chain(other.fields.iter()) {
            if fields.iter().any(|(m, _)| m == n) {
                continue;
            }
            fields.push((n.clone(), self.field(n).join(&other.field(n))));
        }
        let others = match (&self.others, &other.others) {
            (Some(a), Some(b)) => Some(Box::new(a.join(b))),
            _ => None,
        };
        let elem = match (&self.elem, &other.elem) {
            (Some(a), Some(b)) => Some(Box::new(a.join(b))),
            _ => None,
        };
        // A string is a UUID only if both sides say so (or one side has no strings).
        let uuid = (self.uuid || !self.types.meets(Types::STRING))
            && (other.uuid || !other.types.meets(Types::STRING));
        Know {
            types: self.types.or(other.types),
            uuid,
            fields,
            others,
            elem,
        }
    }

    /// What a declared shape admits (present: the field's `?` is the parent's business).
    pub fn from_shape(shape: &Shape) -> Know {
        let mut k = match &shape.base {
            ShapeBase::Any => Know::present(),
            ShapeBase::Bool => Know::of(Types::BOOL),
            ShapeBase::Int => Know::of(Types::INT),
            ShapeBase::Number => Know::of(Types::NUMERIC),
            ShapeBase::String | ShapeBase::Regex => Know::of(Types::STRING),
            ShapeBase::Uuid => Know {
                uuid: true,
                ..Know::of(Types::STRING)
            },
            ShapeBase::OneOf(alts) => {
                let mut it = alts.iter().map(Know::from_shape);
                let first = it.next().unwrap_or_else(|| Know::of(Types::NONE));
                it.fold(first, |a, b| a.join(&b))
            }
            ShapeBase::List(inner) => Know {
                elem: Some(Box::new(Know::from_shape(inner))),
                ..Know::of(Types::LIST)
            },
            ShapeBase::Record(fields, rest) => Know {
                fields: fields
                    .iter()
                    .map(|(n, optional, s)| {
                        let mut f = Know::from_shape(s);
                        if *optional {
                            f.types = f.types.or(Types::ABSENT);
                        }
                        (n.clone(), f)
                    })
                    .collect(),
                others: rest.as_ref().map(|r| {
                    let mut o = Know::from_shape(r);
                    o.types = o.types.or(Types::ABSENT);
                    Box::new(o)
                }),
                ..Know::of(Types::RECORD)
            },
        };
        if shape.nullable {
            k.types = k.types.or(Types::NULL);
        }
        k
    }

    /// A known value.
    pub fn exact(v: &Value) -> Know {
        match v {
            Value::Record(r) => Know {
                fields: r
                    .iter()
                    .map(|(k, v)| (Arc::from(k), Know::exact(v)))
                    .collect(),
                others: Some(Box::new(Know::of(Types::ABSENT))),
                ..Know::of(Types::RECORD)
            },
            Value::Str(s) => Know {
                uuid: is_uuid_text(s),
                ..Know::of(Types::STRING)
            },
            other => Know::of(Types::of(other)),
        }
    }
}

/// The facts of a branch: types narrowed by the tests it took, values it
/// compared equal or unequal, on top of what is known of the resource.
#[derive(Clone, Debug)]
pub(crate) struct Facts {
    /// Knowledge of the resource root.
    pub root: Arc<Know>,
    /// The lists the elements of enclosing `exists` come from.
    pub vars: Vec<(u32, Path)>,
    types: HashMap<Path, Types>,
    eqs: HashMap<Path, Value>,
    neqs: Vec<(Path, Value)>,
    /// Atoms assumed true or false as they are.
    atoms: Vec<(Atom, bool)>,
    /// A contradiction was assumed: no resource takes this branch.
    pub impossible: bool,
}

impl Facts {
    pub fn new(root: Arc<Know>) -> Facts {
        Facts {
            root,
            vars: Vec::new(),
            types: HashMap::new(),
            eqs: HashMap::new(),
            neqs: Vec::new(),
            atoms: Vec::new(),
            impossible: false,
        }
    }

    /// What is known of a path in this branch: the knowledge of the
    /// resource, narrowed by the branch's facts at every step.
    pub fn know(&self, p: &Path) -> Know {
        let mut q = Path {
            var: p.var,
            steps: Vec::new(),
        };
        let mut k = match p.var {
            None => (*self.root).clone(),
            Some(v) => match self.vars.iter().rev().find(|(n, _)| *n == v) {
                Some((_, list)) => self.know(list).element(),
                None => Know::present(),
            },
        };
        if let Some(own) = self.types.get(&q) {
            k.types = k.types.and(*own);
        }
        for s in &p.steps {
            k = k.step(s);
            q = q.child(s);
            if let Some(own) = self.types.get(&q) {
                k.types = k.types.and(*own);
            }
        }
        k
    }

    /// The types the value at a path may have in this branch.
    pub fn types_of(&self, p: &Path) -> Types {
        self.know(p).types
    }

    fn narrow(&mut self, p: &Path, t: Types) {
        let now = self.types_of(p).and(t);
        if now.is_empty() {
            self.impossible = true;
        }
        self.types.insert(p.clone(), now);
        if !now.meets(Types::ABSENT) {
            // Every prefix of a present path is a record.
            let mut q = p.clone();
            while let Some(parent) = q.parent() {
                let pt = self.types_of(&parent).and(Types::RECORD);
                if pt.is_empty() {
                    self.impossible = true;
                }
                self.types.insert(parent.clone(), pt);
                q = parent;
            }
        }
    }

    /// Adds the literals of a condition's top-level conjunction.
    pub fn assume(&mut self, c: &Condition) {
        match c {
            Condition::True => {}
            Condition::False => self.impossible = true,
            Condition::And(cs) => cs.iter().for_each(|c| self.assume(c)),
            Condition::Atom(a) => self.assume_atom(a, true),
            Condition::Not(inner) => {
                if let Condition::Atom(a) = &**inner {
                    self.assume_atom(a, false)
                }
            }
            Condition::Or(_) => {}
        }
        if !self.impossible && self.decide(c) == Some(false) {
            self.impossible = true;
        }
    }

    fn assume_atom(&mut self, a: &Atom, positive: bool) {
        if let Some(known) = self.decide_atom(a) {
            if known != positive {
                self.impossible = true;
            }
            return;
        }
        if self.atoms.len() < 64 && !matches!(a, Atom::Exists { .. }) {
            self.atoms.push((a.clone(), positive));
        }
        match (a, positive) {
            (Atom::Type { path, types }, true) => self.narrow(path, *types),
            (Atom::Type { path, types }, false) => self.narrow(path, Types::ALL.minus(*types)),
            (Atom::Eq { path, value }, true) => {
                self.narrow(path, Types::equal_to(value));
                self.eqs.insert(path.clone(), value.clone());
            }
            (Atom::Eq { path, value }, false) => self.neqs.push((path.clone(), value.clone())),
            (Atom::In { path, values }, true) => {
                let t = values
                    .iter()
                    .fold(Types::NONE, |t, v| t.or(Types::equal_to(v)));
                self.narrow(path, t);
            }
            (Atom::Order { path, value, .. }, true) => self.narrow(path, Types::equal_to(value)),
            (
                Atom::Text { path, .. }
                | Atom::IsUuid { path }
                | Atom::UuidEq { path, .. }
                | Atom::UuidEqPath { path, .. },
                true,
            ) => self.narrow(path, Types::STRING),
            (Atom::Exists { path, .. }, true) => self.narrow(path, Types::LIST),
            (Atom::EqPath { path, other }, true) => {
                self.narrow(path, Types::PRESENT);
                self.narrow(other, Types::PRESENT);
            }
            _ => {}
        }
        if let (Atom::UuidEqPath { other, .. }, true) = (a, positive) {
            self.narrow(other, Types::STRING);
        }
    }

    /// Whether an atom is known to hold (or not) in this branch.
    pub fn decide_atom(&self, a: &Atom) -> Option<bool> {
        if let Some((_, known)) = self.atoms.iter().find(|(b, _)| b == a) {
            return Some(*known);
        }
        let t = self.types_of(a.path());
        match a {
            Atom::Type { types, .. } => {
                if t.within(*types) {
                    Some(true)
                } else if !t.meets(*types) {
                    Some(false)
                } else {
                    None
                }
            }
            Atom::Eq { path, value } => {
                if !t.meets(Types::equal_to(value)) {
                    return Some(false);
                }
                if let Value::Str(s) = value {
                    if self.know(path).uuid
                        && !is_uuid_text(s)
                        && t.within(Types::STRING.or(Types::ABSENT).or(Types::NULL))
                    {
                        return Some(false);
                    }
                }
                if let Some(w) = self.eqs.get(path) {
                    return Some(val_eq(&Val::from(w), &Val::from(value)));
                }
                if self
                    .neqs
                    .iter()
                    .any(|(p, w)| p == path && val_eq(&Val::from(w), &Val::from(value)))
                {
                    return Some(false);
                }
                None
            }
            Atom::In { path, values } => {
                let ty = values
                    .iter()
                    .fold(Types::NONE, |t, v| t.or(Types::equal_to(v)));
                if !t.meets(ty) {
                    return Some(false);
                }
                if let Some(w) = self.eqs.get(path) {
                    return Some(values.iter().any(|v| val_eq(&Val::from(w), &Val::from(v))));
                }
                None
            }
            Atom::Order { value, .. } => (!t.meets(Types::equal_to(value))).then_some(false),
            Atom::Text { .. } | Atom::UuidEq { .. } => (!t.meets(Types::STRING)).then_some(false),
            Atom::IsUuid { path } => {
                if !t.meets(Types::STRING) {
                    Some(false)
                } else if t.within(Types::STRING) && self.know(path).uuid {
                    Some(true)
                } else {
                    None
                }
            }
            Atom::UuidEqPath { other, .. } => (!t.meets(Types::STRING)
                || !self.types_of(other).meets(Types::STRING))
            .then_some(false),
            Atom::EqPath { other, .. } => {
                let u = self.types_of(other).and(Types::PRESENT);
                let t = t.and(Types::PRESENT);
                let can = t.meets(u) || (t.meets(Types::NUMERIC) && u.meets(Types::NUMERIC));
                (!can).then_some(false)
            }
            Atom::Exists { cond, .. } => {
                if !t.meets(Types::LIST) || **cond == Condition::False {
                    Some(false)
                } else {
                    None
                }
            }
        }
    }

    /// Whether a condition is known to hold (or not) in this branch.
    pub fn decide(&self, c: &Condition) -> Option<bool> {
        match c {
            Condition::True => Some(true),
            Condition::False => Some(false),
            Condition::Atom(a) => self.decide_atom(a),
            Condition::Not(inner) => self.decide(inner).map(|b| !b),
            Condition::And(cs) => {
                let mut all = Some(true);
                for c in cs {
                    match self.decide(c) {
                        Some(false) => return Some(false),
                        Some(true) => {}
                        None => all = None,
                    }
                }
                all
            }
            Condition::Or(cs) => {
                let mut any = Some(false);
                for c in cs {
                    match self.decide(c) {
                        Some(true) => return Some(true),
                        Some(false) => {}
                        None => any = None,
                    }
                }
                any
            }
        }
    }

    /// The condition with what this branch decides folded in, one level
    /// deep (the disjuncts of an `or`).
    fn shallow(&self, c: Condition) -> Condition {
        match c {
            Condition::Or(cs) => {
                Condition::or(cs.into_iter().filter_map(|c| match self.decide(&c) {
                    Some(false) => None,
                    Some(true) => Some(Condition::True),
                    None => Some(c),
                }))
            }
            other => match self.decide(&other) {
                Some(true) => Condition::True,
                Some(false) => Condition::False,
                None => other,
            },
        }
    }

    /// The condition with what this branch knows folded in.
    pub fn simplify(&self, c: Condition) -> Condition {
        match c {
            Condition::True | Condition::False => c,
            Condition::Atom(a) => match self.decide_atom(&a) {
                Some(true) => Condition::True,
                Some(false) => Condition::False,
                None => match a {
                    Atom::Exists { path, var, cond } => {
                        let mut inner = self.clone();
                        inner.vars.push((var, path.clone()));
                        let cond = inner.simplify(*cond);
                        Condition::atom(Atom::Exists {
                            path,
                            var,
                            cond: Box::new(cond),
                        })
                    }
                    Atom::Type { path, types } => {
                        // Only the types the path may have matter.
                        let t = self.types_of(&path);
                        let narrowed = types.and(t);
                        if narrowed == t {
                            Condition::True
                        } else {
                            Condition::atom(Atom::Type {
                                path,
                                types: narrowed,
                            })
                        }
                    }
                    a => Condition::Atom(a),
                },
            },
            Condition::Not(inner) => Condition::not(self.simplify(*inner)),
            Condition::And(cs) => {
                // Each conjunct is simplified knowing the ones before it.
                let mut facts = self.clone();
                let mut out = Vec::with_capacity(cs.len());
                for c in cs {
                    let c = facts.simplify(c);
                    if c == Condition::False {
                        return Condition::False;
                    }
                    facts.assume(&c);
                    if facts.impossible {
                        return Condition::False;
                    }
                    out.push(c);
                }
                // Then drop a conjunct the others imply (in short conjunctions).
                let mut i = if out.len() <= 12 { out.len() } else { 0 };
                while i > 0 {
                    i -= 1;
                    let mut others = self.clone();
                    for (j, c) in out.iter().enumerate() {
                        if j != i {
                            others.assume(c);
                        }
                    }
                    if others.impossible {
                        return Condition::False;
                    }
                    // Each conjunct only matters where the others hold:
                    // simplified knowing them, the whole stays the same.
                    let Some(c) = out.get(i).cloned() else {
                        continue;
                    };
                    match others.shallow(c) {
                        Condition::True => {
                            out.remove(i);
                        }
                        Condition::False => return Condition::False,
                        simpler => {
                            if let Some(slot) = out.get_mut(i) {
                                *slot = simpler;
                            }
                        }
                    }
                }
                Condition::and(out)
            }
            Condition::Or(cs) => {
                // Each disjunct matters only where the ones before it fail.
                let mut facts = self.clone();
                let mut out = Vec::with_capacity(cs.len());
                for c in cs {
                    if facts.impossible {
                        break;
                    }
                    let c = facts.simplify(c);
                    if c == Condition::True {
                        return Condition::True;
                    }
                    facts.assume(&Condition::not(c.clone()));
                    out.push(c);
                }
                Condition::or(out)
            }
        }
    }
}
