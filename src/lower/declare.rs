//! Declarations: shapes, principal kinds, file-level lets and rules, actions.
//! Every name is declared before any body is lowered, so order in the file
//! does not matter.

use super::*;

impl<'u> Lowerer<'u> {
    pub(super) fn declare_shapes_and_kinds(&mut self) {
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for (unit, item) in self.items() {
            self.unit = unit;
            if let Item::Shape {
                root,
                actions,
                fields,
                span,
            } = item
            {
                if !actions.is_empty() {
                    self.action_contract(unit, *root, actions, fields, *span);
                    continue;
                }
                let key = match root {
                    ast::ShapeRoot::Request => "request",
                    ast::ShapeRoot::Data => "data",
                };
                if let Some(first) = seen.get(key) {
                    let f = duplicate(&format!("the `{key}` shape"), *span, *first);
                    self.report(f);
                    continue;
                }
                seen.insert(key, *span);
                match root {
                    ast::ShapeRoot::Request => {
                        for f in fields.iter() {
                            let ty = Ty::of_shape(&f.ty);
                            match f.name.name.as_str() {
                                "principal" => self.principal_ty = ty,
                                "resource" => self.resource_ty = ty,
                                "context" => self.context_ty = ty,
                                other => {
                                    let msg = format!("a request has no field `{other}`");
                                    self.report(
                                        Finding::new(Code::UnknownField, f.name.span, msg)
                                            .label("not a request field")
                                            .help("a request shape declares `principal`, `resource` and `context`"),
                                    );
                                }
                            }
                        }
                        self.request_fields = Some(fields);
                    }
                    ast::ShapeRoot::Data => {
                        self.data_ty = Ty::of_fields(fields);
                        self.data_fields = Some(fields);
                    }
                }
            }
        }
        // Kinds by the field they read: two kinds on one field cannot be
        // told apart (a patient whose id is a staff id would be that staff).
        let mut kind_paths: HashMap<Vec<Name>, String> = HashMap::new();
        for (unit, item) in self.items() {
            self.unit = unit;
            let Item::Principals { kinds, .. } = item else {
                continue;
            };
            for k in kinds {
                if self.kind_index.contains_key(&k.name.name) {
                    let f = duplicate(
                        &format!("principal kind `{}`", k.name.name),
                        k.name.span,
                        k.name.span,
                    );
                    self.report(f);
                    continue;
                }
                let (kind, ty) = match &k.test {
                    KindTest::Equals(path) | KindTest::Member(path) => {
                        let mut ty = self.principal_ty.clone();
                        let mut names = Vec::new();
                        if let Some(through) = &k.through {
                            // The key is the caller's; the row's shape is
                            // not checked here (the data shape checks it).
                            for seg in &through.key {
                                ty = match types::field(&ty, &seg.name, seg.span) {
                                    Ok(t) => t,
                                    Err(f) => {
                                        self.report(f);
                                        Ty::Any
                                    }
                                };
                            }
                            ty = Ty::Any;
                            names.push(self.intern("data"));
                            names.extend(through.table.iter().map(|t| self.intern(&t.name)));
                            names.push(self.intern("["));
                            names.extend(through.key.iter().map(|t| self.intern(&t.name)));
                            names.push(self.intern("]"));
                        }
                        let prefix = names.len();
                        for seg in path {
                            ty = match types::field(&ty, &seg.name, seg.span) {
                                Ok(t) => t,
                                Err(f) => {
                                    self.report(f);
                                    Ty::Any
                                }
                            };
                            names.push(self.intern(&seg.name));
                        }
                        let cmp = match k.compare {
                            ast::KindCompare::Exact => ir::Compare::Exact,
                            ast::KindCompare::Int => ir::Compare::Int,
                            ast::KindCompare::Uuid => ir::Compare::Uuid,
                        };
                        if let Some(other) = kind_paths.get(&names) {
                            self.report(same_field(&k.name, other, path));
                        }
                        kind_paths.insert(names.clone(), k.name.name.clone());
                        let names = names.split_off(prefix);
                        let through = k.through.as_ref().map(|t| ir::KindThrough {
                            table: t.table.iter().map(|f| self.intern(&f.name)).collect(),
                            key: t.key.iter().map(|f| self.intern(&f.name)).collect(),
                        });
                        self.kind_through.push(through);
                        if matches!(k.test, KindTest::Equals(_)) {
                            (ir::Kind::Equals(names, cmp), ty)
                        } else {
                            (ir::Kind::Member(names, cmp), ty.element())
                        }
                    }
                    KindTest::Anyone { tuple_wide } => {
                        self.kind_through.push(None);
                        (
                            ir::Kind::Anyone {
                                tuple_wide: *tuple_wide,
                            },
                            Ty::Any,
                        )
                    }
                };
                let idx = self.kinds.len() as u32;
                self.kinds.push(kind);
                self.kind_names.push(k.name.name.as_str().into());
                self.kind_field_tys.push(ty);
                self.kind_index.insert(k.name.name.clone(), idx);
            }
        }
    }

    pub(super) fn declare_globals(&mut self) {
        for (unit, item) in self.items() {
            self.unit = unit;
            let (name, span) = match item {
                Item::Let { name, .. } => (name, name.span),
                Item::Rule(rule) => (&rule.name, rule.name.span),
                Item::Graph(g) => (&g.name, g.name.span),
                _ => continue,
            };
            if let Some((_, first_unit, first)) = self.globals.get(&name.name) {
                let mut f = duplicate(&format!("`{}`", name.name), span, *first);
                if *first_unit != unit {
                    f.secondary.clear();
                    f = f
                        .help("names are shared by every file of a policy set; rename one of them");
                }
                self.report(f);
                // Reported as a duplicate; it is not also "never used".
                let site = self.site(span);
                self.resolved(span, Target::Let(site));
                continue;
            }
            if ROOTS.contains(&name.name.as_str()) || Builtin::lookup(&name.name).is_some() {
                let what = if ROOTS.contains(&name.name.as_str()) {
                    "request root"
                } else {
                    "built-in function"
                };
                self.report(
                    Finding::new(
                        Code::ReservedName,
                        span,
                        format!("`{}` is a {what}", name.name),
                    )
                    .label("reserved name")
                    .help("choose another name"),
                );
                continue;
            }
            let global = match item {
                Item::Let { value, .. } => {
                    let id = self.lets.len() as u32;
                    self.lets.push(None);
                    self.let_types.push(Ty::Any);
                    self.let_decls.push((unit, name, value));
                    self.name_let(id, &name.name);
                    Global::Let(id)
                }
                Item::Rule(rule) => {
                    if rule.params.len() > MAX_PARAMS {
                        self.report(
                            Finding::new(
                                Code::LimitExceeded,
                                rule.name.span,
                                format!(
                                    "rule `{}` has more than {MAX_PARAMS} parameters",
                                    rule.name.name
                                ),
                            )
                            .label("too many parameters")
                            .help("pass a record instead"),
                        );
                    }
                    let id = self.rule_decls.len() as u32;
                    let params = rule.params.iter().map(|p| self.new_slot(&p.name)).collect();
                    self.rule_decls.push((unit, rule));
                    self.rule_params.push(params);
                    self.rule_types.push(Ty::Any);
                    self.rule_bodies.push(Expr::Const(Value::Null));
                    Global::Rule(id)
                }
                Item::Graph(g) => self.declare_graph(g),
                _ => continue,
            };
            self.globals.insert(name.name.clone(), (global, unit, span));
        }
    }

    pub(super) fn declare_actions(&mut self) -> (Vec<(Name, ActionClass, Span, usize)>, bool) {
        let mut out: Vec<(Name, ActionClass, Span, usize)> = Vec::new();
        // Positions in `out` by name.
        let mut declared: HashMap<String, usize> = HashMap::new();
        let mut any = false;
        for (unit, item) in self.items() {
            self.unit = unit;
            let Item::Actions {
                class,
                names,
                any: star,
                span,
            } = item
            else {
                continue;
            };
            if *star {
                if *class != ActionClass::Guarded {
                    self.report(
                        Finding::new(
                            Code::ConflictingAction,
                            *span,
                            "only `actions: *` may declare the open set",
                        )
                        .label("class given to `*`")
                        .help("name open, public and token actions one by one"),
                    );
                }
                any = true;
            }
            for n in names {
                let earlier = declared.get(n.name.as_str()).and_then(|i| out.get(*i));
                if let Some((_, c, first, _)) = earlier {
                    if c != class {
                        let (c, first) = (*c, *first);
                        self.report(
                            Finding::new(
                                Code::ConflictingAction,
                                n.span,
                                format!("action `{}` is declared with two classes", n.name),
                            )
                            .label(format!("declared {} here", class_word(*class)))
                            .also(first, format!("declared {} here", class_word(c)))
                            .help("declare each action once"),
                        );
                    }
                    continue;
                }
                if n.name.contains('*') {
                    self.report(
                        Finding::new(
                            Code::GlobInDeclaration,
                            n.span,
                            "a declared action cannot hold `*`",
                        )
                        .label("glob in a declaration")
                        .help(
                            "globs select declared actions in `policy ... for`; declare names here",
                        ),
                    );
                    continue;
                }
                let name = self.intern(&n.name);
                declared.insert(n.name.clone(), out.len());
                out.push((name, *class, n.span, unit));
            }
        }
        (out, any)
    }

    pub(super) fn lower_globals(&mut self) {
        for (id, (unit, _, value)) in self.let_decls.clone().into_iter().enumerate() {
            self.unit = unit;
            self.current = Some(Node::Let(id as u32));
            let (e, ty) = self.expr(value);
            if let Some(slot) = self.lets.get_mut(id) {
                *slot = Some(e);
            }
            if let Some(t) = self.let_types.get_mut(id) {
                *t = ty;
            }
        }
        for id in 0..self.rule_decls.len() {
            let Some(&(unit, rule)) = self.rule_decls.get(id) else {
                continue;
            };
            self.unit = unit;
            self.current = Some(Node::Rule(id as u32));
            let params = self.rule_params.get(id).cloned().unwrap_or_default();
            let mark = self.scope.len();
            let mut seen = HashSet::new();
            for (p, slot) in rule.params.iter().zip(params) {
                if !seen.insert(p.name.as_str()) {
                    let f = duplicate(&format!("parameter `{}`", p.name), p.span, p.span);
                    self.report(f);
                }
                self.reserved_local(p);
                self.scope
                    .push((p.name.clone(), Local::Var(slot, Ty::Any), p.span));
            }
            self.repeated += 1;
            let (body, ty) = self.expr(&rule.body);
            self.repeated -= 1;
            self.scope.truncate(mark);
            if let Some(b) = self.rule_bodies.get_mut(id) {
                *b = body;
            }
            if let Some(t) = self.rule_types.get_mut(id) {
                *t = ty;
            }
        }
        self.current = None;
    }
}

/// Two principal kinds that read the same field of the caller.
#[cold]
pub(super) fn same_field(kind: &Ident, other: &str, path: &[Ident]) -> Finding {
    let dotted: String = path.iter().map(|p| format!(".{}", p.name)).collect();
    Finding::new(
        Code::AmbiguousKind,
        kind.span,
        format!(
            "principal kinds `{other}` and `{}` both read `{dotted}`, so nothing tells them apart",
            kind.name
        ),
    )
    .label("reads the same field")
    .help(format!(
        "give each kind its own field of the caller (for example `{} == .{}_id`), or use one kind",
        kind.name, kind.name
    ))
}
