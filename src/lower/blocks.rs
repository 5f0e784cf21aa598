//! Policies and their blocks: statements, reasons, outputs, ordered and
//! unordered blocks, the statement index.

use super::*;

impl<'u> Lowerer<'u> {
    /// Lowers every policy, applying overrides; returns each surviving
    /// policy with its file and the action names it covers.
    pub(super) fn lower_policies(&mut self) -> (Vec<(ir::Policy, usize)>, Covers) {
        let mut policies: Vec<(ir::Policy, usize)> = Vec::new();
        let mut covers: Vec<Vec<(Ident, usize)>> = Vec::new();
        let mut by_name: HashMap<String, (usize, Span, usize)> = HashMap::new();
        let mut overridden: HashMap<String, (Span, usize)> = HashMap::new();
        for (unit, item) in self.items() {
            self.unit = unit;
            let Item::Policy(decl) = item else { continue };
            if decl.is_override && !decl.actions.is_empty() {
                let span = decl
                    .actions
                    .iter()
                    .map(|a| a.span)
                    .reduce(Span::to)
                    .unwrap_or(decl.name.span);
                self.report(
                    Finding::new(Code::MisplacedStatement, span, "an override cannot name actions")
                        .label("actions of an override")
                        .help("an override covers exactly the actions of the policy it replaces; remove `for ...`"),
                );
            }
            let (body, claims_access, claims_refresh) =
                self.block(&decl.name.name, decl.ordered, &decl.body, true);
            let name = self.intern(&decl.name.name);
            let policy = ir::Policy {
                name,
                body,
                claims_access,
                claims_refresh,
            };
            match (decl.is_override, by_name.get(&decl.name.name).copied()) {
                (false, Some((_, first, first_unit))) => {
                    let mut f = Finding::new(
                        Code::DuplicatePolicy,
                        decl.name.span,
                        format!("policy `{}` is defined twice", decl.name.name),
                    )
                    .label("second definition")
                    .help("write `override policy` to replace a policy of a lower layer");
                    if first_unit == unit {
                        f = f.also(first, "first defined here");
                    }
                    self.report(f);
                }
                (false, None) => {
                    by_name.insert(
                        decl.name.name.clone(),
                        (policies.len(), decl.name.span, unit),
                    );
                    covers.push(decl.actions.iter().map(|a| (a.clone(), unit)).collect());
                    policies.push((policy, unit));
                }
                (true, Some((idx, first, first_unit))) => {
                    // An override replaces a lower layer's policy; within one
                    // file (or twice from one file) it would only hide which
                    // body is in force.
                    let previous =
                        overridden.insert(decl.name.name.clone(), (decl.name.span, unit));
                    if first_unit == unit {
                        self.report(
                            Finding::new(
                                Code::DuplicatePolicy,
                                decl.name.span,
                                format!("`override policy {}` in the file that defines it", decl.name.name),
                            )
                            .label("override in the same layer")
                            .also(first, "defined here")
                            .help("edit the policy itself, or move the override to a file that imports this one"),
                        );
                    } else if let Some((earlier, _)) = previous.filter(|(_, u)| *u == unit) {
                        self.report(
                            Finding::new(
                                Code::DuplicatePolicy,
                                decl.name.span,
                                format!(
                                    "policy `{}` is overridden twice in one file",
                                    decl.name.name
                                ),
                            )
                            .label("second override")
                            .also(earlier, "first override")
                            .help("keep one override per policy and layer"),
                        );
                    } else if let Some(slot) = policies.get_mut(idx) {
                        *slot = (policy, unit);
                    }
                }
                (true, None) => {
                    let mut f = Finding::new(
                        Code::OverrideNothing,
                        decl.name.span,
                        format!("`override policy {}` overrides nothing", decl.name.name),
                    )
                    .label("no lower layer defines this policy");
                    let names: Vec<&str> = by_name
                        .keys()
                        .take(types::SUGGESTED)
                        .map(String::as_str)
                        .collect();
                    f = match did_you_mean(&decl.name.name, names) {
                        Some(s) => f.help(format!("did you mean `{s}`?")),
                        None => {
                            f.help("import the file that defines the policy, or drop `override`")
                        }
                    };
                    self.report(f);
                }
            }
        }
        (policies, covers)
    }
}

impl<'u> Lowerer<'u> {
    pub(super) fn reason(&mut self, e: &ast::Expr) -> ir::Reason {
        match &e.kind {
            ExprKind::Str(s) => ir::Reason::Fixed(Arc::from(s.as_str())),
            _ => ir::Reason::Computed(self.expr(e).0),
        }
    }

    /// Lowers a block; returns it with the policy's claims.
    pub(super) fn block(
        &mut self,
        owner: &str,
        ordered: bool,
        body: &'u [Stmt],
        claims_allowed: bool,
    ) -> (ir::Block, Option<Expr>, Option<Expr>) {
        let mark = self.scope.len();
        let mut statements = Vec::new();
        let mut claims: [Option<(Expr, Span)>; 2] = [None, None];
        let mut labels: HashMap<&str, Span> = HashMap::new();
        let mut lets: HashMap<&str, Span> = HashMap::new();
        let mut n = 0usize;
        for stmt in body {
            match stmt {
                Stmt::Let { name, value, .. } => {
                    if let Some(first) = lets.get(name.name.as_str()) {
                        let f = duplicate(&format!("`{}`", name.name), name.span, *first);
                        self.report(f);
                    }
                    lets.insert(&name.name, name.span);
                    self.reserved_local(name);
                    let (e, ty) = self.expr(value);
                    let id = self.lets.len() as u32;
                    self.lets.push(Some(e));
                    self.let_types.push(ty.clone());
                    self.name_let(id, &name.name);
                    self.scope
                        .push((name.name.clone(), Local::Let(id, ty), name.span));
                }
                Stmt::Claims { token, value, span } => {
                    if !claims_allowed {
                        self.report(
                            Finding::new(
                                Code::MisplacedStatement,
                                *span,
                                "claims belong to a policy",
                            )
                            .label("claims outside a policy")
                            .help("move `claims` into the policy that adds them"),
                        );
                        continue;
                    }
                    let (e, _) = self.expr(value);
                    let slot = match token {
                        ast::TokenKind::Access => &mut claims[0],
                        ast::TokenKind::Refresh => &mut claims[1],
                    };
                    if let Some((_, first)) = slot {
                        let first = *first;
                        self.report(duplicate("`claims` for this token", *span, first));
                    } else {
                        *slot = Some((e, *span));
                    }
                }
                Stmt::Decide(d) => {
                    n += 1;
                    let id_text = match &d.label {
                        Some(label) => {
                            if let Some(first) = labels.get(label.name.as_str()) {
                                let f = duplicate(
                                    &format!("label `{}`", label.name),
                                    label.span,
                                    *first,
                                );
                                self.report(f);
                            }
                            labels.insert(&label.name, label.span);
                            format!("{owner}.{}", label.name)
                        }
                        None => format!("{owner}#{n}"),
                    };
                    if !claims_allowed && d.outcome == Outcome::Allow {
                        self.report(
                            Finding::new(
                                Code::MisplacedStatement,
                                d.span,
                                "`authenticate` cannot allow",
                            )
                            .label("allow in authenticate")
                            .help("`authenticate` only refuses; put allows in a policy"),
                        );
                    }
                    let id = self.statements.len() as u32;
                    let (file, line) = match self.source() {
                        Some(src) => (src.name.clone(), self.line_of(src, d.span.start)),
                        None => (Arc::from(""), 0),
                    };
                    self.statements.push(ir::StatementMeta {
                        id: Arc::from(id_text),
                        file,
                        line,
                        span: d.span,
                    });
                    let reason = d.reason.as_ref().map(|r| self.reason(r));
                    let when = d.when.as_ref().map(|w| {
                        let before = self.findings.len();
                        let (e, ty) = self.expr(w);
                        self.bare_condition(w, &ty);
                        if let Err(f) = types::condition(&ty, w.span, "a `when` condition") {
                            self.report(f);
                        }
                        self.constant_condition(w.span, &e, before);
                        e
                    });
                    let outputs = match &d.with {
                        Some(with) => self.outputs(d.outcome, with),
                        None => ir::Outputs::default(),
                    };
                    statements.push(ir::Statement {
                        id,
                        outcome: d.outcome,
                        reason,
                        when,
                        outputs,
                    });
                }
            }
        }
        self.scope.truncate(mark);
        let [access, refresh] = claims;
        (
            ir::Block {
                ordered,
                index: crate::ir::index::build(&statements),
                statements,
            },
            access.map(|c| c.0),
            refresh.map(|c| c.0),
        )
    }

    pub(super) fn outputs(&mut self, outcome: Outcome, with: &'u ast::Expr) -> ir::Outputs {
        let mut out = ir::Outputs::default();
        if outcome != Outcome::Allow {
            self.report(
                Finding::new(
                    Code::InvalidOutput,
                    with.span,
                    "only `allow` returns outputs",
                )
                .label("outputs on a refusal")
                .help("move `with { ... }` to an allow statement"),
            );
            return out;
        }
        let ExprKind::Record(fields) = &with.kind else {
            self.report(
                Finding::new(
                    Code::InvalidOutput,
                    with.span,
                    "outputs are written as a record",
                )
                .label("not a record")
                .help("write `with { filters: ..., principal: ..., claims: ... }`"),
            );
            return out;
        };
        for (key, value) in fields {
            let (e, ty) = self.expr(value);
            let slot = match key.name.as_str() {
                "filters" => {
                    if !matches!(ty, Ty::Any | Ty::Record(_)) {
                        self.report(
                            Finding::new(
                                Code::TypeMismatch,
                                value.span,
                                format!("filters must be a record, found {ty}"),
                            )
                            .label("not a record")
                            .help("write filters as `{ column: value }`"),
                        );
                    }
                    &mut out.filters
                }
                "principal" => &mut out.principal,
                "claims" => &mut out.claims,
                other => {
                    let mut f = Finding::new(
                        Code::InvalidOutput,
                        key.span,
                        format!("unknown output `{other}`"),
                    )
                    .label("not an output");
                    f = match did_you_mean(other, ["filters", "principal", "claims"]) {
                        Some(s) => f.help(format!("did you mean `{s}`?")),
                        None => f.help("the outputs are `filters`, `principal` and `claims`"),
                    };
                    self.report(f);
                    continue;
                }
            };
            *slot = Some(e);
        }
        out
    }
}
