//! Partial evaluation of expression nodes, rule calls, lets and `match`.

use super::*;

impl<'a> Pe<'a> {
    pub(super) fn node(&mut self, e: &'a Expr) -> Res<Sym<'a>> {
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
                    if let Some(refused) = pe.refuse_scalars(v) {
                        return refused;
                    }
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
                    if let Some(refused) = pe.refuse_scalars(v) {
                        return refused;
                    }
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
            Expr::Scalar(x) => Ok(one(Term::Val(Val::Scalar(*x)))),
            Expr::ListComp { .. } | Expr::RecordComp { .. } => {
                self.refuse("a comprehension whose elements depend on the resource")
            }
            // A graph query on the resource would need the graph in SQL.
            Expr::Graph(_) => self.refuse("a graph query that depends on the resource"),
        }
    }

    /// A decimal, IP address, timestamp or duration met with a value read
    /// from the resource: no database condition says these exactly.
    pub(super) fn refuse_scalars(&mut self, terms: &[Term<'a>]) -> Option<Res<Sym<'a>>> {
        let scalar = terms.iter().any(|t| matches!(t, Term::Val(Val::Scalar(_))));
        let unknown = terms.iter().any(|t| !matches!(t, Term::Val(_)));
        (scalar && unknown).then(|| {
            self.refuse("a decimal, IP address, timestamp or duration compared with the resource")
        })
    }

    /// Evaluates expressions left to right and runs `f` on each
    /// combination of their values.
    pub(super) fn with_args(
        &mut self,
        args: &[&'a Expr],
        f: &mut dyn FnMut(&mut Self, &[Term<'a>]) -> Res<Sym<'a>>,
    ) -> Res<Sym<'a>> {
        let mut done: Vec<Term<'a>> = Vec::with_capacity(args.len());
        self.args_from(args, &mut done, f)
    }

    pub(super) fn args_from(
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
    pub(super) fn call_with(
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

    pub(super) fn let_value(&mut self, id: u32) -> Res<Sym<'a>> {
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
    pub(super) fn select(
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
}
