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
use crate::diagnostics::{did_you_mean, docs_url, Code, Finding, Severity, Source};
use crate::ir::{self, Builtin, CmpOp, Expr, Name, Program, Root, Slot};
use crate::limits::Limits;
use crate::value::{glob_match, Record, Value};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use types::Ty;

mod actions;
mod arith;
mod blocks;
mod declare;
mod expr;
mod fold;
mod graphs;
mod recursion;
mod resolution;
mod shapes;
pub(crate) mod types;

use actions::*;
#[cfg(feature = "tools")]
pub(crate) use resolution::Site;
pub(crate) use resolution::{Resolution, Target};
use shapes::*;

pub(crate) use crate::load::Unit;

pub(crate) use crate::limits::MAX_PARAMS;

#[derive(Clone)]
enum Local {
    Var(Slot, Ty),
    Let(u32, Ty),
}

/// The local names in force, innermost last, found by hash: a block of
/// many lets must not make every name lookup a scan.
#[derive(Default)]
struct Scope {
    /// Name, binding, and the span of the name where it is bound.
    entries: Vec<(String, Local, Span)>,
    /// Positions in `entries` per name, innermost last.
    by_name: HashMap<String, Vec<usize>>,
}

impl Scope {
    fn len(&self) -> usize {
        self.entries.len()
    }

    fn push(&mut self, entry: (String, Local, Span)) {
        self.by_name
            .entry(entry.0.clone())
            .or_default()
            .push(self.entries.len());
        self.entries.push(entry);
    }

    /// Drops the names pushed since `mark`.
    fn truncate(&mut self, mark: usize) {
        while self.entries.len() > mark {
            let Some((name, _, _)) = self.entries.pop() else {
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

    /// The innermost binding of `name`, and where it is bound.
    fn find(&self, name: &str) -> Option<(&Local, Span)> {
        let at = *self.by_name.get(name)?.last()?;
        self.entries.get(at).map(|(_, l, s)| (l, *s))
    }

    /// Names from the innermost out.
    fn names(&self) -> impl Iterator<Item = String> + '_ {
        self.entries.iter().rev().map(|(n, _, _)| n.clone())
    }
}

#[derive(Clone, Copy)]
enum Global {
    Let(u32),
    Rule(u32),
    Graph(u32),
}

/// A node of the dependency graph used to find recursion.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Node {
    Let(u32),
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
    let_decls: Vec<(usize, &'u Ident, &'u ast::Expr)>,
    lets: Vec<Option<Expr>>,
    let_types: Vec<Ty>,
    kinds: Vec<ir::Kind>,
    kind_names: Vec<Box<str>>,
    kind_through: Vec<Option<ir::KindThrough>>,
    kind_index: HashMap<String, u32>,
    kind_field_tys: Vec<Ty>,
    request_fields: Option<&'u [ast::ShapeField]>,
    /// `request for a, b { ... }` contracts: actions, fields.
    action_contracts: Vec<(usize, &'u [Ident], &'u [ast::ShapeField])>,
    data_fields: Option<&'u [ast::ShapeField]>,
    patterns: Vec<regex::Regex>,
    /// `graph` declarations, by id.
    graphs: Vec<ir::Graph>,
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
    /// What names resolved to and which conditions are constant, for
    /// tools; recorded only when `resolve` is set.
    resolution: Resolution,
    resolve: bool,
    /// What slots, lets and rules are called, for explanations.
    shown_names: ir::Names,
}

/// What lowering produced: the program (when there was no error), every
/// finding, and what names resolved to.
pub(crate) struct Lowered {
    pub program: Option<Program>,
    pub findings: Vec<Finding>,
    #[cfg_attr(
        not(feature = "tools"),
        expect(dead_code, reason = "read by the linter")
    )]
    pub resolution: Resolution,
}

/// Lowers a set of files, lowest layer first, into a program.
pub(crate) fn lower(units: &[Unit], limits: &Limits) -> Lowered {
    lower_with(units, limits, false)
}

/// Lowers as [`lower`] does, and also records what names resolved to and
/// which conditions are constant, for the linter.
#[cfg(feature = "tools")]
pub(crate) fn lower_resolved(units: &[Unit], limits: &Limits) -> Lowered {
    lower_with(units, limits, true)
}

fn lower_with(units: &[Unit], limits: &Limits, resolve: bool) -> Lowered {
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
        let_decls: Vec::new(),
        lets: Vec::new(),
        let_types: Vec::new(),
        kinds: Vec::new(),
        kind_names: Vec::new(),
        kind_through: Vec::new(),
        kind_index: HashMap::new(),
        kind_field_tys: Vec::new(),
        request_fields: None,
        action_contracts: Vec::new(),
        data_fields: None,
        patterns: Vec::new(),
        graphs: Vec::new(),
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
        resolution: Resolution::default(),
        resolve,
        shown_names: ir::Names::default(),
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
    Lowered {
        program: program.filter(|_| ok),
        findings: l.findings,
        resolution: l.resolution,
    }
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

    /// A fresh slot for the variable or parameter `name`.
    fn new_slot(&mut self, name: &str) -> Slot {
        let s = self.slots;
        self.slots += 1;
        let name = self.intern(name);
        self.shown_names.slots.push(name);
        s
    }

    /// Names let `id` (explanations show it by name).
    fn name_let(&mut self, id: u32, name: &str) {
        let name = self.intern(name);
        let lets = &mut self.shown_names.lets;
        if lets.len() <= id as usize {
            lets.resize(id as usize + 1, Arc::from(""));
        }
        if let Some(slot) = lets.get_mut(id as usize) {
            *slot = name;
        }
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
        let (action_index, action_info, open_set) = self.index_actions(actions, covers);
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
            kind_through: std::mem::take(&mut self.kind_through),
            rules: std::mem::take(&mut self.rule_params)
                .into_iter()
                .zip(std::mem::take(&mut self.rule_bodies))
                .map(|(params, body)| ir::Rule { params, body })
                .collect(),
            lets,
            patterns: std::mem::take(&mut self.patterns),
            graphs: std::mem::take(&mut self.graphs),
            deciding: self
                .statements
                .iter()
                .map(|m| {
                    Arc::from([crate::ir::DecidingStatement {
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
            names: self.take_names(),
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
    /// The names of slots, lets and rules, one per id.
    fn take_names(&mut self) -> ir::Names {
        let mut names = std::mem::take(&mut self.shown_names);
        names.lets.resize(self.let_types.len(), Arc::from(""));
        names.rules = self
            .rule_decls
            .iter()
            .map(|(_, r)| Arc::from(r.name.name.as_str()))
            .collect();
        names
    }
}
