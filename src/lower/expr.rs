//! Expressions: name resolution, types, patterns and built-in calls.

use super::*;

impl<'u> Lowerer<'u> {
    pub(super) fn resolve_name(&mut self, id: &Ident) -> (Expr, Ty) {
        if let Some((local, def)) = self.scope.find(&id.name) {
            let local = local.clone();
            let def = self.site(def);
            self.resolved(id.span, Target::Local(def));
            return match local {
                Local::Var(slot, ty) => (Expr::Var(slot), ty),
                Local::Let(lid, ty) => (Expr::Let(lid), ty),
            };
        }
        let root = match id.name.as_str() {
            "principal" => Some((Root::Principal, self.principal_ty.clone())),
            "action" => Some((Root::Action, Ty::Str)),
            "resource" => Some((Root::Resource, self.resource_ty.clone())),
            "context" => Some((Root::Context, self.context_ty.clone())),
            "data" => Some((Root::Data, self.data_ty.clone())),
            _ => None,
        };
        if let Some((root, ty)) = root {
            self.resolved(id.span, Target::Root);
            return (Expr::Root(root), ty);
        }
        if let Some((global, unit, def)) = self.globals.get(&id.name).copied() {
            let site = self.site_in(unit, def);
            return match global {
                Global::Let(cid) => {
                    self.resolved(id.span, Target::Let(site));
                    self.edge(Node::Let(cid), id.span);
                    let ty = self.let_types.get(cid as usize).cloned().unwrap_or(Ty::Any);
                    (Expr::Let(cid), ty)
                }
                Global::Graph(_) => {
                    self.resolved(id.span, Target::Graph(site));
                    self.graph_as_value(id)
                }
                Global::Rule(rid) => {
                    self.resolved(id.span, Target::Rule(site));
                    let arity = self.rule_params.get(rid as usize).map_or(0, Vec::len);
                    if arity != 0 {
                        self.report(
                            Finding::new(
                                Code::WrongArity,
                                id.span,
                                format!("rule `{}` takes {arity} argument(s)", id.name),
                            )
                            .label("called without arguments")
                            .help(format!("call it as `{}(...)`", id.name)),
                        );
                        return placeholder();
                    }
                    self.edge(Node::Rule(rid), id.span);
                    let ty = self
                        .rule_types
                        .get(rid as usize)
                        .cloned()
                        .unwrap_or(Ty::Any);
                    (Expr::Call(rid, Box::new([])), ty)
                }
            };
        }
        if let Some(&kind) = self.kind_index.get(&id.name) {
            self.resolved(id.span, Target::Kind);
            if matches!(self.kinds.get(kind as usize), Some(ir::Kind::Anyone { .. })) {
                return (
                    Expr::Principal(kind, Box::new(Expr::Const(Value::Null))),
                    Ty::Principal,
                );
            }
            self.report(
                Finding::new(
                    Code::MalformedPrincipal,
                    id.span,
                    format!("principal kind `{}` needs a value", id.name),
                )
                .label("kind without a value")
                .help(format!("write `{}:value`", id.name)),
            );
            return placeholder();
        }
        let mut candidates: Vec<String> = self.scope.names().take(types::SUGGESTED).collect();
        candidates.extend(ROOTS.iter().map(|s| s.to_string()));
        candidates.extend(self.globals.keys().take(types::SUGGESTED).cloned());
        let mut f = Finding::new(
            Code::UnknownName,
            id.span,
            format!("unknown name `{}`", id.name),
        )
        .label("not defined");
        f = match did_you_mean(&id.name, candidates.iter().map(String::as_str)) {
            Some(s) => f.help(format!("did you mean `{s}`?")),
            None => f.help(
                "define it with `let` or `rule`, or read it from a request root such as `resource`",
            ),
        };
        self.report(f);
        placeholder()
    }

    pub(super) fn bind(&mut self, name: &Ident, ty: Ty) -> Slot {
        self.reserved_local(name);
        let slot = self.new_slot(&name.name);
        self.scope
            .push((name.name.clone(), Local::Var(slot, ty), name.span));
        slot
    }

    /// A local name (block `let`, rule parameter, loop variable) may not
    /// hide a request root or a built-in: `principal` must always mean the
    /// caller to a reader of the policy.
    pub(super) fn reserved_local(&mut self, name: &Ident) {
        let what = if ROOTS.contains(&name.name.as_str()) {
            "request root"
        } else if Builtin::lookup(&name.name).is_some() {
            "built-in function"
        } else {
            return;
        };
        self.report(
            Finding::new(
                Code::ReservedName,
                name.span,
                format!("`{}` is a {what}; a local name may not hide it", name.name),
            )
            .label("reserved name")
            .help("choose another name"),
        );
    }

    pub(super) fn expect_cond(&mut self, ty: &Ty, span: Span, what: &str) {
        if let Err(f) = types::condition(ty, span, what) {
            self.report(f);
        }
    }

    /// Lowers an expression and infers its type.
    pub(super) fn expr(&mut self, e: &ast::Expr) -> (Expr, Ty) {
        self.node_count += 1;
        match &e.kind {
            ExprKind::Null => (Expr::Const(Value::Null), Ty::Null),
            ExprKind::Bool(b) => (Expr::Const(Value::Bool(*b)), Ty::Bool),
            ExprKind::Int(i) => (Expr::Const(Value::Int(*i)), Ty::Int),
            ExprKind::Decimal(d) => (Expr::Scalar(crate::value::Scalar::decimal(*d)), Ty::Decimal),
            ExprKind::Str(s) => (Expr::Const(Value::str(s.as_str())), Ty::Str),
            ExprKind::Template(parts) => {
                let parts: Box<[ir::TemplatePart]> = parts
                    .iter()
                    .map(|p| match p {
                        ast::TemplatePart::Text(t) => ir::TemplatePart::Text(t.as_str().into()),
                        ast::TemplatePart::Expr(x) => ir::TemplatePart::Expr(self.expr(x).0),
                    })
                    .collect();
                let invariant = parts.iter().all(|p| match p {
                    ir::TemplatePart::Text(_) => true,
                    ir::TemplatePart::Expr(x) => !reads_slots(x),
                });
                if self.repeated > 0 && invariant {
                    // In a loop or rule body, text that does not depend on
                    // the loop variable or the rule's parameters is built
                    // once per decision, like a `let`, not once per visit.
                    let id = self.lets.len() as u32;
                    self.lets.push(Some(Expr::Template(parts)));
                    self.let_types.push(Ty::Str);
                    return (Expr::Let(id), Ty::Str);
                }
                (Expr::Template(parts), Ty::Str)
            }
            ExprKind::Regex(src) => (self.pattern(src, e.span), Ty::Pattern),
            ExprKind::List(items) => {
                let mut tys = Vec::new();
                let lowered: Vec<Expr> = items
                    .iter()
                    .map(|i| {
                        let (x, t) = self.expr(i);
                        tys.push(t);
                        x
                    })
                    .collect();
                let elem = match tys.first() {
                    Some(t) if tys.iter().all(|u| types::same(u, t)) => t.clone(),
                    _ => Ty::Any,
                };
                let ty = Ty::list(elem);
                if lowered.iter().all(|x| matches!(x, Expr::Const(_))) {
                    let values = lowered.into_iter().filter_map(|x| {
                        if let Expr::Const(v) = x {
                            Some(v)
                        } else {
                            None
                        }
                    });
                    // A constant list is decided against many times.
                    let mut list = Value::List(values.collect());
                    list.index_lists();
                    return (Expr::Const(list), ty);
                }
                (Expr::List(lowered.into()), ty)
            }
            ExprKind::Tuple(items) => {
                let lowered: Vec<Expr> = items.iter().map(|i| self.expr(i).0).collect();
                (Expr::Tuple(lowered.into()), Ty::Principal)
            }
            ExprKind::Record(fields) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                let mut tys = Vec::new();
                let mut lowered = Vec::new();
                for (k, v) in fields {
                    if let Some(first) = seen.get(k.name.as_str()) {
                        let f = duplicate(&format!("field `{}`", k.name), k.span, *first);
                        self.report(f);
                    }
                    seen.insert(&k.name, k.span);
                    let (x, t) = self.expr(v);
                    tys.push((k.name.clone(), t));
                    let name = self.intern(&k.name);
                    lowered.push((name, x));
                }
                let ty = Ty::record(tys);
                if lowered.iter().all(|(_, x)| matches!(x, Expr::Const(_))) {
                    let r: Record = lowered
                        .into_iter()
                        .filter_map(|(k, x)| match x {
                            Expr::Const(v) => Some((Box::<str>::from(k.as_ref()), v)),
                            _ => None,
                        })
                        .collect();
                    return (Expr::Const(Value::Record(r)), ty);
                }
                (Expr::Record(lowered.into()), ty)
            }
            ExprKind::Principal { kind, value } => {
                let Some(&k) = self.kind_index.get(&kind.name) else {
                    let mut f = Finding::new(
                        Code::UnknownPrincipalKind,
                        kind.span,
                        format!("unknown principal kind `{}`", kind.name),
                    )
                    .label("not declared in `principals`");
                    let names: Vec<&str> = self
                        .kind_names
                        .iter()
                        .take(types::SUGGESTED)
                        .map(|k| k.as_ref())
                        .collect();
                    f = match did_you_mean(&kind.name, names) {
                        Some(s) => f.help(format!("did you mean `{s}`?")),
                        None => f.help("declare the kind in a `principals { ... }` block"),
                    };
                    self.report(f);
                    return placeholder();
                };
                if matches!(self.kinds.get(k as usize), Some(ir::Kind::Anyone { .. })) {
                    self.report(
                        Finding::new(
                            Code::MalformedPrincipal,
                            e.span,
                            format!("`{}` takes no value", kind.name),
                        )
                        .label("value given")
                        .help(format!("write `{}` alone", kind.name)),
                    );
                    return placeholder();
                }
                let value = match value {
                    ast::PrincipalValue::Text(t) => {
                        let ty = self
                            .kind_field_tys
                            .get(k as usize)
                            .cloned()
                            .unwrap_or(Ty::Any);
                        if let Err(f) = types::principal_text(&kind.name, t, &ty, e.span) {
                            self.report(f);
                        }
                        Expr::Const(Value::str(t.as_str()))
                    }
                    ast::PrincipalValue::Expr(x) => self.expr(x).0,
                };
                (Expr::Principal(k, Box::new(value)), Ty::Principal)
            }
            ExprKind::Name(id) => self.resolve_name(id),
            ExprKind::Field(base, name) => {
                let (b, bt) = self.expr(base);
                let ty = match types::field(&bt, &name.name, name.span) {
                    Ok(t) => t,
                    Err(f) => {
                        self.report(f);
                        Ty::Any
                    }
                };
                let n = self.intern(&name.name);
                (Expr::Field(Box::new(b), n, e.span), ty)
            }
            ExprKind::Index(base, key) => {
                if let Some(x) = self.graph_index(base, key, e.span) {
                    return x;
                }
                let (b, bt) = self.expr(base);
                let (k, _) = self.expr(key);
                let ty = match (&bt, &k) {
                    (Ty::Record(Some(_)), Expr::Const(Value::Str(s))) => {
                        match types::field(&bt, s, key.span) {
                            Ok(t) => t,
                            Err(f) => {
                                self.report(f);
                                Ty::Any
                            }
                        }
                    }
                    (Ty::List(inner), _) => (**inner).clone(),
                    // A map's value, whatever key is computed.
                    (Ty::Record(Some(r)), _) => r.rest().cloned().unwrap_or(Ty::Any),
                    _ => Ty::Any,
                };
                (Expr::Index(Box::new(b), Box::new(k), e.span), ty)
            }
            ExprKind::Call(name, args) => self.call(name, args, e.span),
            ExprKind::Not(inner) => {
                let (x, t) = self.expr(inner);
                self.bare_condition(inner, &t);
                self.expect_cond(&t, inner.span, "the operand of `not`");
                (Expr::Not(Box::new(x), e.span), Ty::Bool)
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let (l, lt) = self.expr(lhs);
                let (r, rt) = self.expr(rhs);
                if matches!(op, BinOp::And | BinOp::Or) {
                    self.bare_condition(lhs, &lt);
                    self.bare_condition(rhs, &rt);
                }
                let ty = match types::binary(*op, &lt, &rt, e.span) {
                    Ok(t) => t,
                    Err(f) => {
                        self.report(f);
                        Ty::Any
                    }
                };
                if *op == BinOp::Matches
                    && rt == Ty::Pattern
                    && matches!(l, Expr::Root(ir::Root::Principal))
                {
                    self.report(
                        Finding::new(
                            Code::TextMatchesDescriptor,
                            e.span,
                            "a pattern where a principal descriptor is expected: a pattern matches text, not the caller",
                        )
                        .label("the caller matched against a pattern")
                        .help("match a field of the caller, such as `principal.name matches data.re`, or hold descriptors (`role:admin`) as strings, not `regex`"),
                    );
                }
                let (l, r) = (Box::new(l), Box::new(r));
                let x = match op {
                    BinOp::Or => Expr::Or(l, r, e.span),
                    BinOp::And => Expr::And(l, r, e.span),
                    BinOp::Eq => Expr::Cmp(CmpOp::Eq, l, r, e.span),
                    BinOp::Ne => Expr::Cmp(CmpOp::Ne, l, r, e.span),
                    BinOp::Lt => Expr::Cmp(CmpOp::Lt, l, r, e.span),
                    BinOp::Le => Expr::Cmp(CmpOp::Le, l, r, e.span),
                    BinOp::Gt => Expr::Cmp(CmpOp::Gt, l, r, e.span),
                    BinOp::Ge => Expr::Cmp(CmpOp::Ge, l, r, e.span),
                    BinOp::In => Expr::In {
                        item: l,
                        set: r,
                        negate: false,
                        span: e.span,
                    },
                    BinOp::NotIn => Expr::In {
                        item: l,
                        set: r,
                        negate: true,
                        span: e.span,
                    },
                    // Pattern text from data or the request (a `regex`
                    // field): matched as a pattern, never as a descriptor.
                    BinOp::Matches if rt == Ty::Pattern && !matches!(*r, Expr::Pattern(_)) => {
                        Expr::Builtin(Builtin::RegexMatch, Box::new([*l, *r]), e.span)
                    }
                    BinOp::Matches => Expr::Matches(l, r, e.span),
                    BinOp::Like => Expr::Like(l, r, e.span),
                    BinOp::Coalesce => Expr::Coalesce(l, r),
                    BinOp::Add => Expr::Builtin(Builtin::Add, [*l, *r].into(), e.span),
                    BinOp::Sub => Expr::Builtin(Builtin::Sub, [*l, *r].into(), e.span),
                    BinOp::Mul => Expr::Builtin(Builtin::Mul, [*l, *r].into(), e.span),
                    BinOp::Div => Expr::Builtin(Builtin::Div, [*l, *r].into(), e.span),
                    BinOp::Rem => Expr::Builtin(Builtin::Rem, [*l, *r].into(), e.span),
                };
                (x, ty)
            }
            ExprKind::Quantifier { q, var, over, body } => {
                let (o, ot) = self.expr(over);
                let mark = self.scope.len();
                let slot = self.bind(var, ot.element());
                self.repeated += 1;
                let (b, bt) = self.expr(body);
                self.repeated -= 1;
                self.scope.truncate(mark);
                if matches!(q, Quantifier::Any | Quantifier::All) {
                    self.bare_condition(body, &bt);
                }
                self.expect_cond(
                    &bt,
                    body.span,
                    &format!("the condition of `{}`", q.as_str()),
                );
                let ty = match q {
                    Quantifier::Any | Quantifier::All => Ty::Bool,
                    Quantifier::Count => Ty::Int,
                    Quantifier::First | Quantifier::Last => ot.element(),
                };
                (
                    Expr::Quant {
                        q: *q,
                        slot,
                        over: Box::new(o),
                        body: Box::new(b),
                        span: e.span,
                    },
                    ty,
                )
            }
            ExprKind::If(c, a, b) => {
                let before = self.findings.len();
                let (cx, ct) = self.expr(c);
                self.bare_condition(c, &ct);
                self.expect_cond(&ct, c.span, "the condition of `if`");
                self.constant_condition(c.span, &cx, before);
                let (ax, at) = self.expr(a);
                let (bx, bt) = self.expr(b);
                let ty = if types::same(&at, &bt) { at } else { Ty::Any };
                (
                    Expr::If(Box::new(cx), Box::new(ax), Box::new(bx), e.span),
                    ty,
                )
            }
            ExprKind::Match(subject, arms) => {
                let (s, _) = self.expr(subject);
                let mut out = Vec::new();
                let mut default = None;
                let mut tys = Vec::new();
                for arm in arms {
                    let (v, t) = self.expr(&arm.value);
                    tys.push(t);
                    let mut pats = Vec::new();
                    let mut is_default = false;
                    for p in &arm.patterns {
                        match p {
                            None => is_default = true,
                            Some(p) => match self.expr(p).0 {
                                Expr::Const(v) => pats.push(v),
                                _ => self.report(
                                    Finding::new(
                                        Code::TypeMismatch,
                                        p.span,
                                        "a match pattern must be a literal",
                                    )
                                    .label("not a literal")
                                    .help("use `if ... then ... else` for computed comparisons"),
                                ),
                            },
                        }
                    }
                    if is_default {
                        default = Some(Box::new(v));
                    } else {
                        out.push((pats, v));
                    }
                }
                let ty = match tys.first() {
                    Some(t) if tys.iter().all(|u| types::same(u, t)) => t.clone(),
                    _ => Ty::Any,
                };
                (Expr::Match(Box::new(s), out, default), ty)
            }
            ExprKind::ListComp {
                elem,
                var,
                over,
                cond,
            } => {
                let (o, ot) = self.expr(over);
                let mark = self.scope.len();
                let slot = self.bind(var, ot.element());
                self.repeated += 1;
                let (x, xt) = self.expr(elem);
                let c = self.comp_cond(cond.as_deref());
                self.repeated -= 1;
                self.scope.truncate(mark);
                let x = Expr::ListComp {
                    elem: Box::new(x),
                    slot,
                    over: Box::new(o),
                    cond: c,
                    span: e.span,
                };
                (x, Ty::list(xt))
            }
            ExprKind::RecordComp {
                key,
                value,
                key_var,
                value_var,
                over,
                cond,
            } => {
                let (o, _) = self.expr(over);
                let mark = self.scope.len();
                let key_slot = self.bind(key_var, Ty::Str);
                let value_slot = self.bind(value_var, Ty::Any);
                self.repeated += 1;
                let (k, kt) = self.expr(key);
                if let Err(f) = types::string_arg(&kt, key.span, "a record key") {
                    self.report(f);
                }
                let (v, _) = self.expr(value);
                let c = self.comp_cond(cond.as_deref());
                self.repeated -= 1;
                self.scope.truncate(mark);
                let x = Expr::RecordComp {
                    key: Box::new(k),
                    value: Box::new(v),
                    key_slot,
                    value_slot,
                    over: Box::new(o),
                    cond: c,
                    span: e.span,
                };
                (x, Ty::Record(None))
            }
        }
    }

    /// A comprehension's `if` condition, checked to be a condition.
    fn comp_cond(&mut self, cond: Option<&ast::Expr>) -> Option<Box<Expr>> {
        cond.map(|c| {
            let (cx, ct) = self.expr(c);
            self.expect_cond(&ct, c.span, "the condition of a comprehension");
            Box::new(cx)
        })
    }

    pub(super) fn pattern(&mut self, src: &str, span: Span) -> Expr {
        if let Some(&id) = self.pattern_index.get(src) {
            return Expr::Pattern(id);
        }
        match crate::value::compile_pattern(src, self.limits.max_regex_size) {
            Ok(re) => {
                let id = self.patterns.len() as u32;
                self.patterns.push(re);
                self.pattern_index.insert(src.to_string(), id);
                Expr::Pattern(id)
            }
            Err(detail) => {
                self.report(
                    Finding::new(Code::InvalidPattern, span, format!("invalid pattern: {detail}"))
                        .label("this pattern")
                        .help("patterns use Rust regex syntax without look-around; they are anchored at both ends"),
                );
                placeholder().0
            }
        }
    }

    pub(super) fn call(&mut self, name: &Ident, args: &[ast::Expr], span: Span) -> (Expr, Ty) {
        if let Some((Global::Graph(gid), unit, def)) = self.globals.get(&name.name).copied() {
            let site = self.site_in(unit, def);
            self.resolved(name.span, Target::Graph(site));
            return self.graph_call(gid, name, args, span);
        }
        if let Some((Global::Rule(rid), unit, def)) = self.globals.get(&name.name).copied() {
            let site = self.site_in(unit, def);
            self.resolved(name.span, Target::Rule(site));
            let arity = self.rule_params.get(rid as usize).map_or(0, Vec::len);
            if arity != args.len() {
                self.report(
                    Finding::new(
                        Code::WrongArity,
                        span,
                        format!(
                            "rule `{}` takes {arity} argument(s), {} given",
                            name.name,
                            args.len()
                        ),
                    )
                    .label("wrong number of arguments")
                    .help("pass one argument per parameter"),
                );
                return placeholder();
            }
            self.edge(Node::Rule(rid), name.span);
            let lowered: Vec<Expr> = args.iter().map(|a| self.expr(a).0).collect();
            let ty = self
                .rule_types
                .get(rid as usize)
                .cloned()
                .unwrap_or(Ty::Any);
            return (Expr::Call(rid, lowered.into()), ty);
        }
        let Some((builtin, arity)) = Builtin::lookup(&name.name) else {
            let mut candidates: Vec<&str> = Builtin::ALL.iter().map(|(n, _, _)| *n).collect();
            let rules: Vec<String> = self
                .globals
                .keys()
                .take(types::SUGGESTED)
                .cloned()
                .collect();
            candidates.extend(rules.iter().map(String::as_str));
            let mut f = Finding::new(
                Code::UnknownFunction,
                name.span,
                format!("unknown function `{}`", name.name),
            )
            .label("not a rule or built-in");
            f = match did_you_mean(&name.name, candidates) {
                Some(s) => f.help(format!("did you mean `{s}`?")),
                None => f.help(format!(
                    "see {} for the built-in functions",
                    docs_url("language#17-built-in-functions")
                )),
            };
            self.report(f);
            return placeholder();
        };
        if arity != args.len() {
            self.report(
                Finding::new(
                    Code::WrongArity,
                    span,
                    format!(
                        "`{}` takes {arity} argument(s), {} given",
                        name.name,
                        args.len()
                    ),
                )
                .label("wrong number of arguments")
                .help(format!(
                    "see {} for the built-in functions",
                    docs_url("language#17-built-in-functions")
                )),
            );
            return placeholder();
        }
        let mut lowered = Vec::new();
        let mut tys = Vec::new();
        for a in args {
            let (x, t) = self.expr(a);
            lowered.push(x);
            tys.push(t);
        }
        let ty = self.builtin_type(builtin, &tys, args);
        if let Some(x) = self.fold_conversion(builtin, &lowered, span) {
            return (x, ty);
        }
        (Expr::Builtin(builtin, lowered.into(), span), ty)
    }

    pub(super) fn builtin_type(&mut self, b: Builtin, tys: &[Ty], args: &[ast::Expr]) -> Ty {
        if let Some(t) = self.value_builtin_type(b, tys, args) {
            return t;
        }
        let fname = b.name();
        let string_args: &[usize] = match b {
            Builtin::Upper | Builtin::Lower | Builtin::IsUuid | Builtin::Uuid => &[0],
            Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Contains
            | Builtin::StripPrefix
            | Builtin::StripSuffix
            | Builtin::BeforeLast
            | Builtin::AfterLast
            | Builtin::BeforeFirst
            | Builtin::AfterFirst => &[0, 1],
            Builtin::Captures | Builtin::SecretEq | Builtin::RegexMatch => &[0],
            Builtin::PathMatch | Builtin::PathParams => &[0, 1],
            Builtin::SecretLookup => &[0, 2],
            _ => &[],
        };
        for &i in string_args {
            if let (Some(t), Some(a)) = (tys.get(i), args.get(i)) {
                if let Err(f) = types::string_arg(t, a.span, fname) {
                    self.report(f);
                }
            }
        }
        if b == Builtin::RegexMatch {
            if let (Some(t), Some(a)) = (tys.get(1), args.get(1)) {
                if !matches!(t, Ty::Pattern | Ty::Str | Ty::Any | Ty::Null) {
                    self.report(
                        Finding::new(
                            Code::TypeMismatch,
                            a.span,
                            format!("`regex_match` needs a pattern or its text, found {t}"),
                        )
                        .label("not a pattern")
                        .help("pass pattern text (a string) or a pattern `re\"...\"`"),
                    );
                }
            }
        }
        if b == Builtin::Captures {
            if let (Some(t), Some(a)) = (tys.get(1), args.get(1)) {
                if !matches!(t, Ty::Pattern | Ty::Any) {
                    self.report(
                        Finding::new(
                            Code::TypeMismatch,
                            a.span,
                            format!("`captures` needs a pattern, found {t}"),
                        )
                        .label("not a pattern")
                        .help("write a pattern as `re\"...\"`"),
                    );
                }
            }
        }
        match b {
            Builtin::Upper
            | Builtin::Lower
            | Builtin::StripPrefix
            | Builtin::StripSuffix
            | Builtin::BeforeLast
            | Builtin::AfterLast
            | Builtin::BeforeFirst
            | Builtin::AfterFirst
            | Builtin::ToString
            | Builtin::TypeOf => Ty::Str,
            Builtin::Uuid => Ty::Uuid,
            Builtin::Len | Builtin::ToInt => Ty::Int,
            Builtin::StartsWith
            | Builtin::EndsWith
            | Builtin::Contains
            | Builtin::Empty
            | Builtin::IsUuid
            | Builtin::Has
            | Builtin::SecretEq
            | Builtin::RegexMatch
            | Builtin::PathMatch => Ty::Bool,
            Builtin::PathParams => Ty::Any,
            Builtin::Distinct => tys.first().cloned().unwrap_or(Ty::Any),
            Builtin::Keys => Ty::list(Ty::Str),
            Builtin::Captures => Ty::Record(None),
            Builtin::SecretLookup => tys.get(1).map(Ty::element).unwrap_or(Ty::Any),
            _ => Ty::Any,
        }
    }
}

/// Whether evaluating the expression may read a variable slot (a loop
/// variable or rule parameter) or write one (a loop, a rule call): such an
/// expression is not the same everywhere in one decision. Everything else
/// reads the request, the data, constants and lets, which do not change
/// while a decision runs.
pub(super) fn reads_slots(e: &Expr) -> bool {
    match e {
        Expr::Const(_) | Expr::Root(_) | Expr::Let(_) | Expr::Pattern(_) | Expr::Scalar(_) => false,
        Expr::Var(_)
        | Expr::Call(..)
        | Expr::Quant { .. }
        | Expr::ListComp { .. }
        | Expr::RecordComp { .. } => true,
        Expr::Field(x, _, _) | Expr::Not(x, _) | Expr::Principal(_, x) => reads_slots(x),
        Expr::Index(a, b, _)
        | Expr::And(a, b, _)
        | Expr::Or(a, b, _)
        | Expr::Coalesce(a, b)
        | Expr::Cmp(_, a, b, _)
        | Expr::Like(a, b, _)
        | Expr::Matches(a, b, _)
        | Expr::In {
            item: a, set: b, ..
        } => reads_slots(a) || reads_slots(b),
        Expr::If(c, a, b, _) => reads_slots(c) || reads_slots(a) || reads_slots(b),
        Expr::Match(s, arms, default) => {
            reads_slots(s)
                || arms.iter().any(|(_, x)| reads_slots(x))
                || default.as_deref().is_some_and(reads_slots)
        }
        Expr::Builtin(_, xs, _) | Expr::List(xs) | Expr::Tuple(xs) => xs.iter().any(reads_slots),
        Expr::Graph(q) => q.args.iter().any(reads_slots),
        Expr::Record(fields) => fields.iter().any(|(_, x)| reads_slots(x)),
        Expr::Template(parts) => parts.iter().any(|p| match p {
            ir::TemplatePart::Text(_) => false,
            ir::TemplatePart::Expr(x) => reads_slots(x),
        }),
    }
}
