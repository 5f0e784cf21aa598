//! Comparisons over partly known terms: `==`, ordering, `in`, `like`.

use super::*;

impl<'a> Pe<'a> {
    pub(super) fn compare(&mut self, op: CmpOp, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
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
            (Term::Val(c), Term::Attr(p)) => (p, c, order.swapped()),
            _ => return self.refuse("an ordering of two values computed from the resource"),
        };
        let (kind, value) = match c {
            Val::Int(_) | Val::Float(_) => (Types::NUMERIC, c.to_value(&self.program.kind_names)),
            Val::Str(_) | Val::OwnedStr(_) => (Types::STRING, c.to_value(&self.program.kind_names)),
            Val::Scalar(x) => {
                return self.refuse(format!(
                    "an ordering of `{}` and {}",
                    p.dotted(),
                    x.type_name()
                ))
            }
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
    pub(super) fn equal(&mut self, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
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

    pub(super) fn all_equal(&mut self, mut pairs: Vec<(Term<'a>, Term<'a>)>) -> Res<Sym<'a>> {
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
    pub(super) fn attr_eq(&mut self, p: &Path, c: &Val<'a>) -> Res<Sym<'a>> {
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
            // A JSON number may equal a decimal: no condition says which.
            Val::Scalar(x) => {
                return self.refuse(format!(
                    "a comparison of `{}` with {}",
                    p.dotted(),
                    x.type_name()
                ))
            }
            // A JSON value never equals a principal, tuple or pattern.
            _ => Condition::False,
        };
        self.cond(cond)
    }

    /// `x in set`.
    pub(super) fn contains(&mut self, set: Term<'a>, x: Term<'a>) -> Res<Sym<'a>> {
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
    pub(super) fn in_known(&mut self, x: Term<'a>, items: &[Val<'a>]) -> Res<Sym<'a>> {
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
                        Val::Scalar(x) => {
                            return self.refuse(format!(
                                "membership of `{}` in a list holding {}",
                                p.dotted(),
                                x.type_name()
                            ));
                        }
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

    pub(super) fn like(&mut self, a: Term<'a>, b: Term<'a>) -> Res<Sym<'a>> {
        match (a, b) {
            (Term::Val(x), Term::Val(y)) => Ok(one(self.apply(&self.synth.like, &[x, y]))),
            (Term::Attr(p), Term::Val(g)) => match g.as_str() {
                Some(glob) => self.text_test(&p, TextOp::Like, glob),
                None => Ok(one(Term::Error)),
            },
            _ => self
                .refuse("a glob read from the resource, or matched against text computed from it"),
        }
    }

    /// A text test of a resource path: the atom where the path holds a
    /// string, a decision error (so never selected) where it holds anything
    /// else, as evaluation fails there.
    pub(super) fn text_test(&mut self, p: &Path, op: TextOp, value: &str) -> Res<Sym<'a>> {
        let atom = Condition::atom(Atom::Text {
            path: p.clone(),
            op,
            value: value.to_string(),
        });
        self.by_type(
            p,
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
}
