//! Actions: the action index (each action's covering policies) and
//! per-action request contracts.

use super::*;

impl<'u> Lowerer<'u> {
    #[expect(
        clippy::type_complexity,
        reason = "the three parts of the action index"
    )]
    pub(super) fn index_actions(
        &mut self,
        (declared, any_set): (Vec<(Name, ActionClass, Span, usize)>, bool),
        covers: Vec<Vec<(Ident, usize)>>,
    ) -> (
        HashMap<Name, u32>,
        Vec<ir::ActionInfo>,
        Option<Vec<(Name, u32)>>,
    ) {
        let mut info: Vec<ir::ActionInfo> = declared
            .iter()
            .map(|(name, class, _, _)| ir::ActionInfo {
                name: name.clone(),
                no_allow: Arc::from(format!("no statement allows `{name}`")),
                class: *class,
                policies: Vec::new(),
                contract: None,
            })
            .collect();
        let index: HashMap<Name, u32> = declared
            .iter()
            .enumerate()
            .map(|(i, (n, ..))| (n.clone(), i as u32))
            .collect();
        let mut open_set: Vec<(Name, u32)> = Vec::new();
        for (pid, cover) in covers.into_iter().enumerate() {
            let pid = pid as u32;
            for (pattern, unit) in cover {
                self.unit = unit;
                let matched: Vec<u32> = if pattern.name.contains('*') {
                    info.iter()
                        .enumerate()
                        .filter(|(_, a)| glob_match(&pattern.name, &a.name))
                        .map(|(i, _)| i as u32)
                        .collect()
                } else {
                    index
                        .get(pattern.name.as_str())
                        .map(|i| vec![*i])
                        .unwrap_or_default()
                };
                if any_set && (pattern.name.contains('*') || matched.is_empty()) {
                    let name = self.intern(&pattern.name);
                    open_set.push((name, pid));
                }
                if matched.is_empty() && !any_set {
                    let mut f = Finding::new(
                        Code::UndeclaredAction,
                        pattern.span,
                        format!("`{}` matches no declared action", pattern.name),
                    )
                    .label("undeclared");
                    let names = info.iter().take(types::SUGGESTED).map(|a| a.name.as_ref());
                    f = match did_you_mean(&pattern.name, names) {
                        Some(s) => f.help(format!("did you mean `{s}`?")),
                        None => f.help("declare it with `actions: ...`"),
                    };
                    self.report(f);
                }
                for a in matched {
                    let Some(action) = info.get_mut(a as usize) else {
                        continue;
                    };
                    // Token actions are decided by policy too: issuance is
                    // an allow like any other, with claims added.
                    if !matches!(action.class, ActionClass::Guarded | ActionClass::Token) {
                        let msg = format!(
                            "`{}` is declared {}, so no policy decides it",
                            action.name,
                            class_word(action.class)
                        );
                        if !pattern.name.contains('*') {
                            self.report(
                                Finding::new(Code::ConflictingAction, pattern.span, msg)
                                    .label("policy for a non-guarded action")
                                    .help("declare the action with plain `actions:` to guard it by policy"),
                            );
                        }
                        continue;
                    }
                    // Policies are visited in order, so a repeat is the last one.
                    if action.policies.last() != Some(&pid) {
                        action.policies.push(pid);
                    }
                }
            }
        }
        for ((name, class, span, unit), action) in declared.iter().zip(&info) {
            let covered_by_open_set = open_set.iter().any(|(p, _)| glob_match(p, name));
            if matches!(class, ActionClass::Guarded | ActionClass::Token)
                && action.policies.is_empty()
                && !covered_by_open_set
            {
                self.unit = *unit;
                self.report(
                    Finding::new(
                        Code::UncoveredAction,
                        *span,
                        format!("action `{name}` is declared but no policy covers it"),
                    )
                    .label("always denied")
                    .help("cover it with `policy ... for` or declare it with `open actions:`"),
                );
            }
        }
        (index, info, any_set.then_some(open_set))
    }

    /// Notes a `request for a, b { ... }` contract; `data for` is refused
    /// (data is one for every action).
    pub(super) fn action_contract(
        &mut self,
        unit: usize,
        root: ast::ShapeRoot,
        actions: &'u [Ident],
        fields: &'u [ast::ShapeField],
        span: Span,
    ) {
        if root == ast::ShapeRoot::Data {
            self.report(
                Finding::new(Code::InvalidOutput, span, "`data` has one shape for every action")
                    .label("`data for`")
                    .help("write `data { ... }` without `for`; only `request` contracts can be per action"),
            );
            return;
        }
        for f in fields {
            if !matches!(f.name.name.as_str(), "principal" | "resource" | "context") {
                let msg = format!("a request has no field `{}`", f.name.name);
                self.report(
                    Finding::new(Code::UnknownField, f.name.span, msg)
                        .label("not a request field")
                        .help("a request shape declares `principal`, `resource` and `context`"),
                );
            }
        }
        self.action_contracts.push((unit, actions, fields));
    }

    /// The contract of each action named by a `request for` block: the
    /// default contract with the roots the block names replaced. An action
    /// named by two blocks, or a name that is no declared action, is an error.
    pub(super) fn contracts_by_action(
        &mut self,
        index: &HashMap<Name, u32>,
        info: &mut [ir::ActionInfo],
    ) -> Vec<ir::Shape> {
        let defaults: Vec<(Name, bool, ir::Shape)> =
            self.request_fields.map(shape_fields).unwrap_or_default();
        let mut out = Vec::new();
        let contracts = std::mem::take(&mut self.action_contracts);
        for (unit, actions, fields) in contracts.iter() {
            self.unit = *unit;
            let mut merged = defaults.clone();
            for (name, optional, shape) in shape_fields(fields) {
                match merged.iter_mut().find(|(n, _, _)| *n == name) {
                    Some(slot) => *slot = (name, optional, shape),
                    None => merged.push((name, optional, shape)),
                }
            }
            let id = out.len() as u32;
            out.push(ir::Shape {
                base: ir::ShapeBase::Record(merged, None),
                nullable: false,
            });
            for a in actions.iter() {
                let matched: Vec<u32> = if a.name.contains('*') {
                    info.iter()
                        .enumerate()
                        .filter(|(_, i)| glob_match(&a.name, &i.name))
                        .map(|(i, _)| i as u32)
                        .collect()
                } else {
                    index
                        .get(a.name.as_str())
                        .map(|i| vec![*i])
                        .unwrap_or_default()
                };
                if matched.is_empty() {
                    self.report(
                        Finding::new(
                            Code::UndeclaredAction,
                            a.span,
                            format!("`{}` matches no declared action", a.name),
                        )
                        .label("undeclared")
                        .help("a `request for` contract names declared actions"),
                    );
                }
                for m in matched {
                    let Some(action) = info.get_mut(m as usize) else {
                        continue;
                    };
                    if action.contract.is_some() {
                        self.report(
                            Finding::new(
                                Code::DuplicateDefinition,
                                a.span,
                                format!("`{}` already has a `request for` contract", action.name),
                            )
                            .label("second contract")
                            .help("name each action in one `request for` block"),
                        );
                    }
                    action.contract = Some(id);
                }
            }
        }
        self.action_contracts = contracts;
        out
    }
}

pub(super) fn class_word(class: ActionClass) -> &'static str {
    match class {
        ActionClass::Guarded => "guarded",
        ActionClass::Open => "open",
        ActionClass::Public => "public",
        ActionClass::Token => "token",
    }
}
