//! Expressions: reading the request, charging the budget, comparisons,
//! quantifiers and membership.

use super::*;

impl<'a> Evaluator<'a> {
    #[inline]
    pub(super) fn spend(&mut self, span: Span) -> R<()> {
        self.charge(1, span)
    }

    /// Takes `n` steps of the budget; past it the decision fails closed.
    #[inline]
    pub(super) fn charge(&mut self, n: u64, span: Span) -> R<()> {
        self.meter.charge(n).map_err(|_| exhausted(span))
    }

    /// Charges for touching `n` bytes.
    #[inline]
    pub(super) fn charge_bytes(&mut self, n: usize, span: Span) -> R<()> {
        self.meter.bytes(n).map_err(|_| exhausted(span))
    }

    /// A charged operation's answer, or the budget error at `span`.
    #[inline]
    pub(super) fn paid<T>(r: Charged<T>, span: Span) -> R<T> {
        r.map_err(|_| exhausted(span))
    }

    /// Refuses a value built during the decision that is nested deeper
    /// than `Limits::max_value_depth`; the walk is charged.
    pub(super) fn check_built(&mut self, v: &Val<'a>, span: Span) -> R<()> {
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
    pub(super) fn owned(&mut self, v: &Val<'a>, span: Span) -> R<Value> {
        Self::paid(cost::size(v, &mut self.meter), span)?;
        Ok(v.to_value(&self.program.kind_names))
    }

    /// Renders a value as templates interpolate it, appending to `out`,
    /// charged for the bytes written (and, for lists and records, for the
    /// walk that renders them).
    pub(super) fn render(&mut self, v: &Val<'a>, out: &mut String, span: Span) -> R<()> {
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

    pub(super) fn truth(&mut self, e: &'a Expr, what: &str) -> R<bool> {
        match self.eval(e)? {
            Val::Bool(b) => Ok(b),
            other => Err(type_error(
                span_of(e),
                format!("{what} must be a boolean, found {}", other.type_name()),
            )),
        }
    }

    pub(super) fn root(&self, r: Root) -> Val<'a> {
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
    pub(super) fn eval(&mut self, e: &'a Expr) -> R<Val<'a>> {
        match e {
            Expr::Const(v) => Ok(Val::from(v)),
            Expr::Root(r) => Ok(self.root(*r)),
            Expr::Var(slot) => Ok(self.frame.vars.get(*slot).cloned().unwrap_or_default()),
            // The commonest calls go straight to their code, without a frame
            // of `eval_node` between (which is not inlined here: its whole
            // match made every evaluation's frame bigger).
            Expr::Builtin(b, args, span) => {
                self.enter(e)?;
                let v = self.builtin(*b, args, *span);
                self.depth -= 1;
                v
            }
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
    pub(super) fn enter(&mut self, e: &'a Expr) -> R<()> {
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
    // Inlined into `read_node`, its recursion, as the hot path of every
    // field read; the graph row is kept out of line.
    #[inline(always)]
    pub(super) fn read(&mut self, e: &'a Expr) -> R<Option<Val<'a>>> {
        match e {
            Expr::Field(..) | Expr::Index(..) => {
                self.enter(e)?;
                let v = self.read_node(e);
                self.depth -= 1;
                v
            }
            Expr::Graph(q) if q.op == ir::GraphOp::Row => self.read_graph_row(e, q),
            _ => self.eval(e).map(Some),
        }
    }

    #[inline(never)]
    fn read_graph_row(&mut self, e: &'a Expr, q: &'a ir::GraphQuery) -> R<Option<Val<'a>>> {
        self.enter(e)?;
        let v = self.graph_row(q);
        self.depth -= 1;
        v
    }

    pub(super) fn read_node(&mut self, e: &'a Expr) -> R<Option<Val<'a>>> {
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

    // Left to the compiler: forced into `eval`, the node's whole match made
    // every evaluation's frame bigger, and the workloads were 8-15% slower
    // in wall time (measured, not in instruction counts).
    #[inline]
    pub(super) fn eval_node(&mut self, e: &'a Expr) -> R<Val<'a>> {
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
            Expr::Graph(q) => self.graph_query(q)?,
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
                Val::Bool(self.compare(*op, &a, &b, *span)?)
            }
            Expr::In {
                item,
                set,
                negate,
                span,
            } => {
                let x = self.eval(item)?;
                if let Expr::Graph(q) = &**set {
                    if q.op == ir::GraphOp::Reach {
                        return Ok(Val::Bool(self.graph_contains(q, &x)? != *negate));
                    }
                }
                let s = self.eval(set)?;
                Val::Bool(self.contains(&s, &x, *span)? != *negate)
            }
            Expr::Like(l, r, span) => {
                let (a, b) = (self.eval(l)?, self.eval(r)?);
                Val::Bool(self.like(&a, &b, *span)?)
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
            Expr::Scalar(x) => Val::Scalar(*x),
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

    /// `a op b` on evaluated operands.
    #[inline(always)]
    pub(super) fn compare(&mut self, op: CmpOp, a: &Val<'a>, b: &Val<'a>, span: Span) -> R<bool> {
        Ok(match op {
            CmpOp::Eq => Self::paid(cost::eq(a, b, &mut self.meter), span)?,
            CmpOp::Ne => !Self::paid(cost::eq(a, b, &mut self.meter), span)?,
            _ => {
                if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
                    self.charge_bytes(x.len().min(y.len()), span)?;
                }
                let ord = val_cmp(a, b).ok_or_else(|| {
                    type_error(
                        span,
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

    /// `a like b` on evaluated operands.
    #[inline(always)]
    pub(super) fn like(&mut self, a: &Val<'a>, b: &Val<'a>, span: Span) -> R<bool> {
        match (a.as_str(), b.as_str()) {
            (Some(t), Some(p)) => {
                // Linear in both (see `glob_match`), plus a search set up
                // per piece between `*`s.
                let pieces = p.bytes().filter(|b| *b == b'*').count() as u64;
                self.charge(pieces, span)?;
                self.charge_bytes(t.len() + p.len(), span)?;
                Ok(glob_match(p, t))
            }
            _ => Err(type_error(
                span,
                format!(
                    "`like` matches strings, found {} and {}",
                    a.type_name(),
                    b.type_name()
                ),
            )),
        }
    }

    /// Binds a rule's arguments and runs `then` on its body. Arguments are
    /// all evaluated before any slot is written, so nested calls of the same
    /// rule in arguments are safe; rules are never recursive.
    pub(super) fn call<T>(
        &mut self,
        rule: u32,
        args: &'a [Expr],
        then: impl FnOnce(&mut Self, &'a Expr) -> R<T>,
    ) -> R<T> {
        let Some(r) = self.program.rules.get(rule as usize) else {
            return then(self, &NULL_EXPR);
        };
        let mut values: [Val<'a>; crate::limits::MAX_PARAMS] = Default::default();
        for (slot, a) in values.iter_mut().zip(args.iter()) {
            *slot = self.eval(a)?;
        }
        for (slot, v) in r.params.iter().zip(values) {
            self.frame.vars.set(*slot, v);
        }
        then(self, &r.body)
    }

    pub(super) fn quantify(
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
    pub(super) fn charge_lookup(&mut self, b: &Val<'a>, key: &str, span: Span) -> R<()> {
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
    pub(super) fn contains(&mut self, set: &Val<'a>, x: &Val<'a>, span: Span) -> R<bool> {
        match set {
            Val::Null => Ok(false),
            // `ip in range`: an address (or range) inside a range.
            Val::Scalar(crate::value::Scalar::Ip(range)) => match x {
                Val::Scalar(crate::value::Scalar::Ip(ip)) => Ok(ip.in_range(*range)),
                other => Err(type_error(
                    span,
                    format!(
                        "`in` an IP range needs an IP address, found {}",
                        other.type_name()
                    ),
                )),
            },
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
}

pub(super) static NULL_EXPR: Expr = Expr::Const(Value::Null);

/// The statements of a decision no statement made, shared rather than
/// allocated.
pub(super) fn no_statements() -> Arc<[DecidingStatement]> {
    static EMPTY: std::sync::OnceLock<Arc<[DecidingStatement]>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from([])).clone()
}

/// The reason of an allow without one, shared rather than allocated.
pub(super) fn empty_reason() -> Arc<str> {
    static EMPTY: std::sync::OnceLock<Arc<str>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| Arc::from("")).clone()
}

pub(super) fn span_of(e: &Expr) -> Span {
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
        Expr::Graph(q) => q.span,
        _ => Span::default(),
    }
}

pub(super) fn select_arm<'e>(
    subject: &Val,
    arms: &'e [(Vec<Value>, Expr)],
    default: &'e Option<Box<Expr>>,
) -> Option<&'e Expr> {
    arms.iter()
        .find(|(pats, _)| pats.iter().any(|p| val_eq(&Val::from(p), subject)))
        .map(|(_, x)| x)
        .or(default.as_deref())
}

pub(super) fn iterate<'v, 'a>(v: &'v Val<'a>, span: Span) -> R<ListView<'v, 'a>> {
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
