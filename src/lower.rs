//! Step three: AST -> IR. Resolves every name, asks `check.rs` about types,
//! compiles patterns, applies overrides and builds the action index.
//!
//! Input: the parsed files of one policy set, lowest layer first. Output: a
//! [`Program`] or the findings that prevent one. Invariant: the IR never
//! holds an unresolved name, and a rule can never reach itself (recursion is
//! a compile error), so evaluation needs no recursion guard for rules.

use crate::ast::{
    self, ActionClass, BinOp, ExprKind, Ident, Item, KindTest, Outcome, Quantifier, Span, Stmt,
};
use crate::check::{self, Ty};
use crate::diagnostics::{did_you_mean, Code, Finding, Severity, Source};
use crate::ir::{self, Builtin, CmpOp, Expr, Name, Program, Root, Slot};
use crate::limits::Limits;
use crate::value::{glob_match, Record, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// One parsed file of a policy set.
pub(crate) struct Unit {
    pub source: Source,
    pub file: ast::File,
}

/// The most parameters a rule may take.
pub const MAX_PARAMS: usize = 8;

#[derive(Clone)]
enum Local {
    Var(Slot, Ty),
    Let(u32, Ty),
}

/// The local names in force, innermost last, found by hash: a block of
/// many lets must not make every name lookup a scan.
#[derive(Default)]
struct Scope {
    entries: Vec<(String, Local)>,
    /// Positions in `entries` per name, innermost last.
    by_name: HashMap<String, Vec<usize>>,
}

impl Scope {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn push(&mut self, entry: (String, Local)) {
        self.by_name
            .entry(entry.0.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(entry);
    }

    /// Drops the names pushed since `mark`.
    fn truncate(&mut self, mark: usize) {
        while self.entries.len() > mark {
            let Some((name, _)) = self.entries.pop() else {
                break;
            };
            if let Some(positions) = self.by_name.get_mut(&name) {
                positions.pop();
                if positions.is_empty() {
                    self.by_name.remove(&name);
                }
            }
        }
    }

    /// The innermost binding of `name`.
    fn find(&self, name: &str) -> Option<&Local> {
        let at = *self.by_name.get(name)?.last()?;
        self.entries.get(at).map(|(_, l)| l)
    }

    /// Names from the innermost out.
    fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.entries.iter().rev().map(|(n, _)| n.clone())
    }
}

#[derive(Clone, Copy)]
enum Global {
    Const(u32),
    Rule(u32),
}

/// A node of the dependency graph used to find recursion.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Const(u32),
    Rule(u32),
}

struct Lowerer<'u> {
    units: &'u [Unit],
    limits: &'u Limits,
    unit: usize,
    findings: Vec<Finding>,
    names: HashMap<String, Name>,
    globals: HashMap<String, (Global, usize, Span)>,
    rule_decls: Vec<(usize, &'u ast::RuleDecl)>,
    rule_types: Vec<Ty>,
    rule_params: Vec<Vec<Slot>>,
    rule_bodies: Vec<Expr>,
    const_decls: Vec<(usize, &'u Ident, &'u ast::Expr)>,
    lets: Vec<Option<Expr>>,
    let_types: Vec<Ty>,
    kinds: Vec<ir::Kind>,
    kind_names: Vec<Box<str>>,
    kind_index: HashMap<String, u32>,
    kind_field_tys: Vec<Ty>,
    request_fields: Option<&'u [ast::ShapeField]>,
    /// `request for a, b { ... }` contracts: actions, fields.
    action_contracts: Vec<(usize, &'u [Ident], &'u [ast::ShapeField])>,
    data_fields: Option<&'u [ast::ShapeField]>,
    patterns: Vec<regex::Regex>,
    pattern_index: HashMap<String, u32>,
    statements: Vec<ir::StatementMeta>,
    slots: u32,
    scope: Scope,
    /// How many loop bodies (quantifiers, comprehensions) and rule bodies
    /// enclose the expression being lowered: their expressions may be
    /// evaluated many times in one decision.
    repeated: usize,
    /// The const or rule being lowered, for the dependency graph.
    current: Option<Node>,
    edges: HashMap<Node, Vec<(Node, usize, Span)>>,
    principal_ty: Ty,
    resource_ty: Ty,
    context_ty: Ty,
    data_ty: Ty,
    node_count: usize,
    /// (unit, byte offset, line there): statements come in text order, so
    /// their lines are counted on from the last one, not from the start.
    line_cursor: (usize, usize, usize),
}

/// Lowers a set of files, lowest layer first, into a program.
pub(crate) fn lower(units: &[Unit], limits: &Limits) -> (Option<Program>, Vec<Finding>) {
    let mut l = Lowerer {
        units,
        limits,
        unit: 0,
        findings: Vec::new(),
        names: HashMap::new(),
        globals: HashMap::new(),
        rule_decls: Vec::new(),
        rule_types: Vec::new(),
        rule_params: Vec::new(),
        rule_bodies: Vec::new(),
        const_decls: Vec::new(),
        lets: Vec::new(),
        let_types: Vec::new(),
        kinds: Vec::new(),
        kind_names: Vec::new(),
        kind_index: HashMap::new(),
        kind_field_tys: Vec::new(),
        request_fields: None,
        action_contracts: Vec::new(),
        data_fields: None,
        patterns: Vec::new(),
        pattern_index: HashMap::new(),
        statements: Vec::new(),
        slots: 0,
        scope: Scope::default(),
        repeated: 0,
        current: None,
        edges: HashMap::new(),
        principal_ty: Ty::Any,
        resource_ty: Ty::Any,
        context_ty: Ty::Any,
        data_ty: Ty::Any,
        node_count: 0,
        line_cursor: (0, 0, 1),
    };
    let program = l.run();
    // Lints never stop a policy from loading: here they are warnings, and
    // `portcullis check` gives them the severity its options say.
    for f in &mut l.findings {
        if f.code.adjustable() {
            f.severity = Severity::Warning;
        }
    }
    let ok = !l.findings.iter().any(|f| f.severity == Severity::Error);
    (program.filter(|_| ok), l.findings)
}

impl<'u> Lowerer<'u> {
    fn source(&self) -> Option<&'u Source> {
        self.units.get(self.unit).map(|u| &u.source)
    }

    /// The 1-based line of an offset in the current unit, counted on from
    /// the previous call when it was earlier in the same unit.
    fn line_of(&mut self, src: &Source, offset: usize) -> usize {
        let (unit, from, line) = self.line_cursor;
        let (from, line) = if unit == self.unit && from <= offset {
            (from, line)
        } else {
            (0, 1)
        };
        let between = src.text.get(from..offset).unwrap_or("");
        let line = line + between.bytes().filter(|b| *b == b'\n').count();
        self.line_cursor = (self.unit, offset, line);
        line
    }

    fn report(&mut self, finding: impl Into<Finding>) {
        let finding: Finding = finding.into();
        let finding = match self.source() {
            Some(src) => finding.in_source(src),
            None => finding,
        };
        self.findings.push(finding);
    }

    fn intern(&mut self, name: &str) -> Name {
        if let Some(n) = self.names.get(name) {
            return n.clone();
        }
        let n: Name = Arc::from(name);
        self.names.insert(name.to_string(), n.clone());
        n
    }

    fn new_slot(&mut self) -> Slot {
        let s = self.slots;
        self.slots += 1;
        s
    }

    fn items(&self) -> impl Iterator<Item = (usize, &'u Item)> + 'u {
        self.units
            .iter()
            .enumerate()
            .flat_map(|(i, u)| u.file.items.iter().map(move |item| (i, item)))
    }

    fn run(&mut self) -> Option<Program> {
        self.declare_shapes_and_kinds();
        self.declare_globals();
        let actions = self.declare_actions();
        self.lower_globals();
        self.find_recursion();

        // Authentication and the undeclared-action outcome.
        let mut authenticate = None;
        let mut undeclared = (Outcome::Deny, None);
        let mut seen_auth: Option<Span> = None;
        let mut seen_undeclared: Option<Span> = None;
        for (unit, item) in self.items() {
            self.unit = unit;
            match item {
                Item::Authenticate { body, span } => {
                    if let Some(first) = seen_auth {
                        self.report(duplicate("authenticate block", *span, first));
                        continue;
                    }
                    seen_auth = Some(*span);
                    let (block, _, _) = self.block("authenticate", true, body, false);
                    authenticate = Some(block);
                }
                Item::Undeclared {
                    outcome,
                    reason,
                    span,
                } => {
                    if let Some(first) = seen_undeclared {
                        self.report(duplicate("`undeclared actions` outcome", *span, first));
                        continue;
                    }
                    seen_undeclared = Some(*span);
                    if *outcome == Outcome::Allow {
                        self.report(
                            Finding::new(
                                Code::InvalidOutput,
                                *span,
                                "undeclared actions cannot be allowed",
                            )
                            .label("allow here")
                            .help(
                                "declare the actions instead, or use `actions: *` for an open set",
                            ),
                        );
                    }
                    let reason = reason.as_ref().map(|r| self.reason(r));
                    undeclared = (*outcome, reason);
                }
                _ => {}
            }
        }

        let (policies, covers) = self.lower_policies();
        let (action_index, action_info, open_set) = self.index_actions(actions, &policies, covers);
        if self.node_count > self.limits.max_policy_nodes {
            let span = self
                .units
                .last()
                .map(|u| Span::new(0, u.source.text.len().min(1)))
                .unwrap_or_default();
            self.report(
                Finding::new(
                    Code::LimitExceeded,
                    span,
                    format!(
                        "the policy set has {} expression nodes, more than the limit of {}",
                        self.node_count, self.limits.max_policy_nodes
                    ),
                )
                .label("in this policy set")
                .help("raise `Limits::max_policy_nodes` or split the policy set"),
            );
        }

        let lets = std::mem::take(&mut self.lets)
            .into_iter()
            .map(|e| e.unwrap_or(Expr::Const(Value::Null)))
            .collect();
        let request_shape = self.shape_of(ast::ShapeRoot::Request);
        let data_shape = self.shape_of(ast::ShapeRoot::Data);
        let mut action_info = action_info;
        let action_contracts = self.contracts_by_action(&action_index, &mut action_info);
        Some(Program {
            actions: action_index,
            action_info,
            open_set,
            undeclared,
            authenticate,
            policies: policies.into_iter().map(|(p, _)| p).collect(),
            kinds: std::mem::take(&mut self.kinds),
            kind_names: std::mem::take(&mut self.kind_names),
            rules: std::mem::take(&mut self.rule_params)
                .into_iter()
                .zip(std::mem::take(&mut self.rule_bodies))
                .map(|(params, body)| ir::Rule { params, body })
                .collect(),
            lets,
            patterns: std::mem::take(&mut self.patterns),
            deciding: self
                .statements
                .iter()
                .map(|m| {
                    Arc::from([crate::eval::DecidingStatement {
                        id: m.id.clone(),
                        file: m.file.clone(),
                        line: m.line,
                        span: m.span,
                    }])
                })
                .collect(),
            statements: std::mem::take(&mut self.statements),
            slot_count: self.slots as usize,
            request_shape,
            action_contracts,
            data_shape,
        })
    }
}

fn duplicate(what: &str, span: Span, first: Span) -> Finding {
    Finding::new(
        Code::DuplicateDefinition,
        span,
        format!("{what} is defined twice"),
    )
    .label("second definition")
    .also(first, "first defined here")
    .help("keep one definition")
}

/// Per policy, the action names or globs it covers, with their files.
type Covers = Vec<Vec<(Ident, usize)>>;

fn placeholder() -> (Expr, Ty) {
    (Expr::Const(Value::Null), Ty::Any)
}

const ROOTS: &[&str] = &["principal", "action", "resource", "context", "data"];

impl<'u> Lowerer<'u> {
    fn declare_shapes_and_kinds(&mut self) {
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
                        self.data_ty = Ty::record(
                            fields
                                .iter()
                                .map(|f| (f.name.name.clone(), Ty::of_shape(&f.ty)))
                                .collect(),
                        );
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
                if let Some(&idx) = self.kind_index.get(&k.name.name) {
                    let _ = idx;
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
                        for seg in path {
                            ty = match check::field(&ty, &seg.name, seg.span) {
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
                        if matches!(k.test, KindTest::Equals(_)) {
                            (ir::Kind::Equals(names, cmp), ty)
                        } else {
                            (ir::Kind::Member(names, cmp), ty.element())
                        }
                    }
                    KindTest::Anyone { tuple_wide } => (
                        ir::Kind::Anyone {
                            tuple_wide: *tuple_wide,
                        },
                        Ty::Any,
                    ),
                };
                let idx = self.kinds.len() as u32;
                self.kinds.push(kind);
                self.kind_names.push(k.name.name.as_str().into());
                self.kind_field_tys.push(ty);
                self.kind_index.insert(k.name.name.clone(), idx);
            }
        }
    }

    fn declare_globals(&mut self) {
        for (unit, item) in self.items() {
            self.unit = unit;
            let (name, span) = match item {
                Item::Const { name, .. } => (name, name.span),
                Item::Rule(rule) => (&rule.name, rule.name.span),
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
                        Code::DuplicateDefinition,
                        span,
                        format!("`{}` is a {what}", name.name),
                    )
                    .label("reserved name")
                    .help("choose another name"),
                );
                continue;
            }
            let global = match item {
                Item::Const { value, .. } => {
                    let id = self.lets.len() as u32;
                    self.lets.push(None);
                    self.let_types.push(Ty::Any);
                    self.const_decls.push((unit, name, value));
                    Global::Const(id)
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
                    let params = rule.params.iter().map(|_| self.new_slot()).collect();
                    self.rule_decls.push((unit, rule));
                    self.rule_params.push(params);
                    self.rule_types.push(Ty::Any);
                    self.rule_bodies.push(Expr::Const(Value::Null));
                    Global::Rule(id)
                }
                _ => continue,
            };
            self.globals.insert(name.name.clone(), (global, unit, span));
        }
    }

    fn declare_actions(&mut self) -> (Vec<(Name, ActionClass, Span, usize)>, bool) {
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
                            Code::SyntaxError,
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

    fn lower_globals(&mut self) {
        for (id, (unit, _, value)) in self.const_decls.clone().into_iter().enumerate() {
            self.unit = unit;
            self.current = Some(Node::Const(id as u32));
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
                self.scope.push((p.name.clone(), Local::Var(slot, Ty::Any)));
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

    /// Reports every cycle among rules and file-level lets.
    fn find_recursion(&mut self) {
        let nodes: Vec<Node> = self.edges.keys().copied().collect();
        let mut done: HashSet<Node> = HashSet::new();
        let mut reported: HashSet<Node> = HashSet::new();
        for start in nodes {
            // Iterative DFS keeping the path, so deep graphs cannot overflow.
            let mut path: Vec<(Node, usize)> = vec![(start, 0)];
            let mut on_path: HashSet<Node> = HashSet::from([start]);
            while let Some(&mut (node, ref mut next)) = path.last_mut() {
                if done.contains(&node) {
                    path.pop();
                    on_path.remove(&node);
                    continue;
                }
                let edge = self.edges.get(&node).and_then(|es| es.get(*next)).copied();
                *next += 1;
                match edge {
                    None => {
                        done.insert(node);
                        on_path.remove(&node);
                        path.pop();
                    }
                    Some((to, unit, span)) => {
                        if on_path.contains(&to) {
                            if reported.insert(to) {
                                self.unit = unit;
                                let name = self.node_name(to);
                                self.report(
                                    Finding::new(Code::RecursiveRule, span, format!("`{name}` refers back to itself"))
                                        .label("this reference closes a cycle")
                                        .help("rules and lets cannot be recursive; use a quantifier over the data instead"),
                                );
                            }
                        } else if !done.contains(&to) {
                            on_path.insert(to);
                            path.push((to, 0));
                        }
                    }
                }
            }
        }
    }

    fn node_name(&self, node: Node) -> String {
        match node {
            Node::Const(id) => self
                .const_decls
                .get(id as usize)
                .map_or(String::new(), |(_, n, _)| n.name.clone()),
            Node::Rule(id) => self
                .rule_decls
                .get(id as usize)
                .map_or(String::new(), |(_, r)| r.name.name.clone()),
        }
    }

    fn edge(&mut self, to: Node, span: Span) {
        if let Some(from) = self.current {
            let unit = self.unit;
            self.edges.entry(from).or_default().push((to, unit, span));
        }
    }

    /// Lowers every policy, applying overrides; returns each surviving
    /// policy with its file and the action names it covers.
    fn lower_policies(&mut self) -> (Vec<(ir::Policy, usize)>, Covers) {
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
                        .take(check::SUGGESTED)
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

    #[allow(clippy::type_complexity)]
    fn index_actions(
        &mut self,
        (declared, any_set): (Vec<(Name, ActionClass, Span, usize)>, bool),
        policies: &[(ir::Policy, usize)],
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
            let _ = policies;
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
                    let names = info.iter().take(check::SUGGESTED).map(|a| a.name.as_ref());
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
    fn action_contract(
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
    fn contracts_by_action(
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

    fn shape_of(&self, root: ast::ShapeRoot) -> Option<ir::Shape> {
        let fields = match root {
            ast::ShapeRoot::Request => self.request_fields?,
            ast::ShapeRoot::Data => self.data_fields?,
        };
        Some(ir::Shape {
            base: record_shape(fields),
            nullable: false,
        })
    }

    fn reason(&mut self, e: &ast::Expr) -> ir::Reason {
        match &e.kind {
            ExprKind::Str(s) => ir::Reason::Fixed(Arc::from(s.as_str())),
            _ => ir::Reason::Computed(self.expr(e).0),
        }
    }

    /// Lowers a block; returns it with the policy's claims.
    fn block(
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
                    self.scope.push((name.name.clone(), Local::Let(id, ty)));
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
                        let (e, ty) = self.expr(w);
                        if let Err(f) = check::condition(&ty, w.span, "a `when` condition") {
                            self.report(f);
                        }
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
                index: crate::index::build(&statements),
                statements,
            },
            access.map(|c| c.0),
            refresh.map(|c| c.0),
        )
    }

    fn outputs(&mut self, outcome: Outcome, with: &'u ast::Expr) -> ir::Outputs {
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

    fn resolve_name(&mut self, id: &Ident) -> (Expr, Ty) {
        if let Some(local) = self.scope.find(&id.name) {
            return match local.clone() {
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
            return (Expr::Root(root), ty);
        }
        if let Some((global, _, _)) = self.globals.get(&id.name).copied() {
            return match global {
                Global::Const(cid) => {
                    self.edge(Node::Const(cid), id.span);
                    let ty = self.let_types.get(cid as usize).cloned().unwrap_or(Ty::Any);
                    (Expr::Let(cid), ty)
                }
                Global::Rule(rid) => {
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
        let mut candidates: Vec<String> = self.scope.names().take(check::SUGGESTED).collect();
        candidates.extend(ROOTS.iter().map(|s| s.to_string()));
        candidates.extend(self.globals.keys().take(check::SUGGESTED).cloned());
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

    fn bind(&mut self, name: &Ident, ty: Ty) -> Slot {
        self.reserved_local(name);
        let slot = self.new_slot();
        self.scope.push((name.name.clone(), Local::Var(slot, ty)));
        slot
    }

    /// A local name (block `let`, rule parameter, loop variable) may not
    /// hide a request root or a built-in: `principal` must always mean the
    /// caller to a reader of the policy.
    fn reserved_local(&mut self, name: &Ident) {
        let what = if ROOTS.contains(&name.name.as_str()) {
            "request root"
        } else if Builtin::lookup(&name.name).is_some() {
            "built-in function"
        } else {
            return;
        };
        self.report(
            Finding::new(
                Code::DuplicateDefinition,
                name.span,
                format!("`{}` is a {what}; a local name may not hide it", name.name),
            )
            .label("reserved name")
            .help("choose another name"),
        );
    }

    fn expect_cond(&mut self, ty: &Ty, span: Span, what: &str) {
        if let Err(f) = check::condition(ty, span, what) {
            self.report(f);
        }
    }

    /// Lowers an expression and infers its type.
    fn expr(&mut self, e: &ast::Expr) -> (Expr, Ty) {
        self.node_count += 1;
        match &e.kind {
            ExprKind::Null => (Expr::Const(Value::Null), Ty::Null),
            ExprKind::Bool(b) => (Expr::Const(Value::Bool(*b)), Ty::Bool),
            ExprKind::Int(i) => (Expr::Const(Value::Int(*i)), Ty::Int),
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
                    Some(t) if tys.iter().all(|u| check::same(u, t)) => t.clone(),
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
                        .take(check::SUGGESTED)
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
                        if let Err(f) = check::principal_text(&kind.name, t, &ty, e.span) {
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
                let ty = match check::field(&bt, &name.name, name.span) {
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
                let (b, bt) = self.expr(base);
                let (k, _) = self.expr(key);
                let ty = match (&bt, &k) {
                    (Ty::Record(Some(_)), Expr::Const(Value::Str(s))) => {
                        match check::field(&bt, s, key.span) {
                            Ok(t) => t,
                            Err(f) => {
                                self.report(f);
                                Ty::Any
                            }
                        }
                    }
                    (Ty::List(inner), _) => (**inner).clone(),
                    _ => Ty::Any,
                };
                (Expr::Index(Box::new(b), Box::new(k), e.span), ty)
            }
            ExprKind::Call(name, args) => self.call(name, args, e.span),
            ExprKind::Not(inner) => {
                let (x, t) = self.expr(inner);
                self.expect_cond(&t, inner.span, "the operand of `not`");
                (Expr::Not(Box::new(x), e.span), Ty::Bool)
            }
            ExprKind::Binary(op, lhs, rhs) => {
                let (l, lt) = self.expr(lhs);
                let (r, rt) = self.expr(rhs);
                let ty = match check::binary(*op, &lt, &rt, e.span) {
                    Ok(t) => t,
                    Err(f) => {
                        self.report(f);
                        Ty::Any
                    }
                };
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
                    BinOp::Matches => Expr::Matches(l, r, e.span),
                    BinOp::Like => Expr::Like(l, r, e.span),
                    BinOp::Coalesce => Expr::Coalesce(l, r),
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
                let (cx, ct) = self.expr(c);
                self.expect_cond(&ct, c.span, "the condition of `if`");
                let (ax, at) = self.expr(a);
                let (bx, bt) = self.expr(b);
                let ty = if check::same(&at, &bt) { at } else { Ty::Any };
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
                    Some(t) if tys.iter().all(|u| check::same(u, t)) => t.clone(),
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
                let c = cond.as_ref().map(|c| {
                    let (cx, ct) = self.expr(c);
                    self.expect_cond(&ct, c.span, "the condition of a comprehension");
                    Box::new(cx)
                });
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
                if let Err(f) = check::string_arg(&kt, key.span, "a record key") {
                    self.report(f);
                }
                let (v, _) = self.expr(value);
                let c = cond.as_ref().map(|c| {
                    let (cx, ct) = self.expr(c);
                    self.expect_cond(&ct, c.span, "the condition of a comprehension");
                    Box::new(cx)
                });
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

    fn pattern(&mut self, src: &str, span: Span) -> Expr {
        if let Some(&id) = self.pattern_index.get(src) {
            return Expr::Pattern(id);
        }
        let anchored = format!("^(?:{src})$");
        match regex::RegexBuilder::new(&anchored)
            .size_limit(self.limits.max_regex_size)
            .dfa_size_limit(self.limits.max_regex_size)
            .build()
        {
            Ok(re) => {
                let id = self.patterns.len() as u32;
                self.patterns.push(re);
                self.pattern_index.insert(src.to_string(), id);
                Expr::Pattern(id)
            }
            Err(err) => {
                let detail = match &err {
                    regex::Error::CompiledTooBig(limit) => {
                        format!("it compiles to more than {limit} bytes")
                    }
                    other => other
                        .to_string()
                        .lines()
                        .last()
                        .unwrap_or("")
                        .trim()
                        .trim_start_matches("error: ")
                        .to_string(),
                };
                self.report(
                    Finding::new(Code::InvalidPattern, span, format!("invalid pattern: {detail}"))
                        .label("this pattern")
                        .help("patterns use Rust regex syntax without look-around; they are anchored at both ends"),
                );
                placeholder().0
            }
        }
    }

    fn call(&mut self, name: &Ident, args: &[ast::Expr], span: Span) -> (Expr, Ty) {
        if let Some((Global::Rule(rid), _, _)) = self.globals.get(&name.name).copied() {
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
                .take(check::SUGGESTED)
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
                None => f.help("see docs/language.md for the built-in functions"),
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
                .help("see docs/language.md for the built-in functions"),
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
        (Expr::Builtin(builtin, lowered.into(), span), ty)
    }

    fn builtin_type(&mut self, b: Builtin, tys: &[Ty], args: &[ast::Expr]) -> Ty {
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
            Builtin::Captures | Builtin::SecretEq => &[0],
            Builtin::SecretLookup => &[0, 2],
            _ => &[],
        };
        for &i in string_args {
            if let (Some(t), Some(a)) = (tys.get(i), args.get(i)) {
                if let Err(f) = check::string_arg(t, a.span, fname) {
                    self.report(f);
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
            | Builtin::SecretEq => Ty::Bool,
            Builtin::Distinct => tys.first().cloned().unwrap_or(Ty::Any),
            Builtin::Keys => Ty::list(Ty::Str),
            Builtin::Captures => Ty::Record(None),
            Builtin::SecretLookup => tys.get(1).map(Ty::element).unwrap_or(Ty::Any),
        }
    }
}

/// Whether evaluating the expression may read a variable slot (a loop
/// variable or rule parameter) or write one (a loop, a rule call): such an
/// expression is not the same everywhere in one decision. Everything else
/// reads the request, the data, constants and lets, which do not change
/// while a decision runs.
fn reads_slots(e: &Expr) -> bool {
    match e {
        Expr::Const(_) | Expr::Root(_) | Expr::Let(_) | Expr::Pattern(_) => false,
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
        Expr::Record(fields) => fields.iter().any(|(_, x)| reads_slots(x)),
        Expr::Template(parts) => parts.iter().any(|p| match p {
            ir::TemplatePart::Text(_) => false,
            ir::TemplatePart::Expr(x) => reads_slots(x),
        }),
    }
}

fn class_word(class: ActionClass) -> &'static str {
    match class {
        ActionClass::Guarded => "guarded",
        ActionClass::Open => "open",
        ActionClass::Public => "public",
        ActionClass::Token => "token",
    }
}

/// A record shape: its named fields and its `*: T` rest field.
fn record_shape(fields: &[ast::ShapeField]) -> ir::ShapeBase {
    let rest = fields
        .iter()
        .find(|f| f.rest)
        .map(|f| Box::new(shape(&f.ty)));
    ir::ShapeBase::Record(shape_fields(fields), rest)
}

fn shape_fields(fields: &[ast::ShapeField]) -> Vec<(Name, bool, ir::Shape)> {
    fields
        .iter()
        .filter(|f| !f.rest)
        .map(|f| (Arc::from(f.name.name.as_str()), f.optional, shape(&f.ty)))
        .collect()
}

fn shape(t: &ast::ShapeType) -> ir::Shape {
    let base = match &t.base {
        ast::ShapeBase::Any => ir::ShapeBase::Any,
        ast::ShapeBase::Bool => ir::ShapeBase::Bool,
        ast::ShapeBase::Int => ir::ShapeBase::Int,
        ast::ShapeBase::Number => ir::ShapeBase::Number,
        ast::ShapeBase::String => ir::ShapeBase::String,
        ast::ShapeBase::Uuid => ir::ShapeBase::Uuid,
        ast::ShapeBase::List(inner) => ir::ShapeBase::List(Box::new(shape(inner))),
        ast::ShapeBase::OneOf(alts) => ir::ShapeBase::OneOf(alts.iter().map(shape).collect()),
        ast::ShapeBase::Record(fields) => record_shape(fields),
    };
    ir::Shape {
        base,
        nullable: t.nullable,
    }
}

/// Two principal kinds that read the same field of the caller.
#[cold]
fn same_field(kind: &Ident, other: &str, path: &[Ident]) -> Finding {
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
