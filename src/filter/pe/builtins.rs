//! Built-in calls and quantifiers over partly known terms.

use super::*;

impl<'a> Pe<'a> {
    pub(super) fn builtin(&mut self, b: Builtin, args: &[Term<'a>]) -> Res<Sym<'a>> {
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
        if VALUE_BUILTINS.contains(&b) {
            return self.refuse(if b.is_operator() {
                format!(
                    "arithmetic (`{}`) on a value read from the resource",
                    b.name()
                )
            } else {
                format!("`{}` of a value read from the resource", b.name())
            });
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
                        Some(s) => self.text_test(&p, op, s),
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

    pub(super) fn quantify(
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
    pub(super) fn quantify_attr(
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
}

/// Built-ins of `eval/scalars.rs`: applied to known values only.
const VALUE_BUILTINS: &[Builtin] = &[
    Builtin::Add,
    Builtin::Sub,
    Builtin::Mul,
    Builtin::Div,
    Builtin::Rem,
    Builtin::Decimal,
    Builtin::Ip,
    Builtin::Timestamp,
    Builtin::Duration,
    Builtin::InRange,
    Builtin::IsIpv4,
    Builtin::IsIpv6,
    Builtin::IsLoopback,
    Builtin::IsMulticast,
    Builtin::Split,
    Builtin::Join,
    Builtin::Union,
    Builtin::Intersection,
    Builtin::ContainsAny,
    Builtin::ContainsAll,
];
