//! `matches` over partly known terms: literals, descriptors, OR lists, AND
//! tuples and the kinds' comparisons, as `eval/principals.rs` decides them.

use super::*;

impl<'a> Pe<'a> {
    /// `subject matches <descriptor written in the policy>`.
    pub(super) fn matches_expr(&mut self, subject: &Term<'a>, e: &'a Expr) -> Res<Sym<'a>> {
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
    pub(super) fn or_chain(
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
    pub(super) fn strict_and(
        &mut self,
        hits: Vec<Sym<'a>>,
        wide: bool,
        subject_null: bool,
    ) -> Res<Sym<'a>> {
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

    pub(super) fn is_wide(&self, kind: u32) -> bool {
        matches!(
            self.program.kinds.get(kind as usize),
            Some(Kind::Anyone { tuple_wide: true })
        )
    }

    pub(super) fn tuple_expr(&mut self, subject: &Term<'a>, members: &'a [Expr]) -> Res<Sym<'a>> {
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
    pub(super) fn member_wide(&mut self, t: &Term<'a>) -> Res<Option<bool>> {
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

    pub(super) fn parse_kind(&self, text: &str) -> Option<u32> {
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
    pub(super) fn tuple_member(&mut self, subject: &Term<'a>, m: Term<'a>) -> Res<Sym<'a>> {
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
    pub(super) fn matches_value(&mut self, subject: &Term<'a>, v: Term<'a>) -> Res<Sym<'a>> {
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

    pub(super) fn items_chain(
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
    pub(super) fn kind_test(
        &mut self,
        subject: &Term<'a>,
        kind: u32,
        value: Term<'a>,
    ) -> Res<Sym<'a>> {
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
        if matches!(self.program.kind_through.get(kind as usize), Some(Some(_))) {
            return self.refuse("a principal kind read through a directory in data");
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
    pub(super) fn kind_eq(
        &mut self,
        field: &Val<'a>,
        value: Term<'a>,
        cmp: ir::Compare,
    ) -> Res<Sym<'a>> {
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
