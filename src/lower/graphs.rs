//! `graph` declarations and their queries: `g(x)`, `g(x, domain)`,
//! `y in g(x)` (an `In` over a `Reach`, answered by the evaluator without
//! building the list) and `g[key]` for graphs whose rows are nodes.

use super::*;
use crate::ast::{GraphDecl, GraphDeclForm, RowStep};
use crate::value::graph::{GraphForm, GraphSpec, Step};

fn steps(path: &[RowStep]) -> Vec<Step> {
    path.iter()
        .map(|s| match s {
            RowStep::Field(f) => Step::Field(Arc::from(f.as_str())),
            RowStep::Index(i) => Step::Index(*i),
        })
        .collect()
}

fn usage(name: &str, scoped: bool) -> String {
    if scoped {
        format!("ask it `{name}(node, domain)` or `x in {name}(node, domain)`")
    } else {
        format!("ask it `{name}(node)`, `x in {name}(node)` or, for a `node` graph, `{name}[key]`")
    }
}

impl<'u> Lowerer<'u> {
    pub(super) fn declare_graph(&mut self, g: &GraphDecl) -> Global {
        let form = match &g.form {
            GraphDeclForm::Edges { from, to, within } => GraphForm::Edges {
                from: steps(from),
                to: steps(to),
                within: within.as_deref().map(steps),
            },
            GraphDeclForm::Nodes { key, parents } => GraphForm::Nodes {
                key: steps(key),
                parents: steps(parents),
            },
        };
        // The rows must be where a declared data shape says data has fields.
        let mut ty = self.data_ty.clone();
        for f in &g.source {
            ty = match types::field(&ty, &f.name, f.span) {
                Ok(t) => t,
                Err(finding) => {
                    self.report(finding);
                    break;
                }
            };
        }
        let spec = GraphSpec {
            source: g
                .source
                .iter()
                .map(|f| Arc::from(f.name.as_str()))
                .collect(),
            form,
        };
        let id = self.graphs.len() as u32;
        let name = self.intern(&g.name.name);
        self.graphs.push(ir::Graph { name, spec });
        Global::Graph(id)
    }

    fn graph_spec(&self, gid: u32) -> Option<&GraphSpec> {
        self.graphs.get(gid as usize).map(|g| &g.spec)
    }

    /// A graph's name where a value is expected: a graph is asked, not read.
    pub(super) fn graph_as_value(&mut self, id: &Ident) -> (Expr, Ty) {
        let scoped = self.globals.get(&id.name).is_some_and(|(g, _, _)| {
            matches!(g, Global::Graph(gid) if self.graph_spec(*gid).is_some_and(GraphSpec::scoped))
        });
        self.report(
            Finding::new(
                Code::GraphMisuse,
                id.span,
                format!("`{}` is a graph, not a value", id.name),
            )
            .label("a graph")
            .help(usage(&id.name, scoped)),
        );
        placeholder()
    }

    /// `g(x)` or, for a graph `within` a domain, `g(x, domain)`: `x` and
    /// every node it reaches.
    pub(super) fn graph_call(
        &mut self,
        gid: u32,
        name: &Ident,
        args: &[ast::Expr],
        span: Span,
    ) -> (Expr, Ty) {
        let scoped = self.graph_spec(gid).is_some_and(GraphSpec::scoped);
        let arity = if scoped { 2 } else { 1 };
        if args.len() != arity {
            let what = if scoped {
                "a node and its domain"
            } else {
                "one node"
            };
            self.report(
                Finding::new(
                    Code::WrongArity,
                    span,
                    format!(
                        "graph `{}` takes {what}, {} argument(s) given",
                        name.name,
                        args.len()
                    ),
                )
                .label("wrong number of arguments")
                .help(usage(&name.name, scoped)),
            );
            return placeholder();
        }
        let lowered: Vec<Expr> = args.iter().map(|a| self.expr(a).0).collect();
        let q = ir::GraphQuery {
            graph: gid,
            op: ir::GraphOp::Reach,
            args: lowered.into(),
            span,
        };
        (Expr::Graph(Box::new(q)), Ty::list(Ty::Any))
    }

    /// `g[key]` when `g` names a graph (and no local hides it): the row of
    /// a `node` graph whose key is `key`. `None` when `base` is not a graph.
    pub(super) fn graph_index(
        &mut self,
        base: &ast::Expr,
        key: &ast::Expr,
        span: Span,
    ) -> Option<(Expr, Ty)> {
        let ExprKind::Name(id) = &base.kind else {
            return None;
        };
        if self.scope.find(&id.name).is_some() {
            return None;
        }
        let Some((Global::Graph(gid), unit, def)) = self.globals.get(&id.name).copied() else {
            return None;
        };
        let site = self.site_in(unit, def);
        self.resolved(id.span, Target::Graph(site));
        let spec = self.graph_spec(gid)?;
        if !spec.has_rows() {
            self.report(
                Finding::new(
                    Code::GraphMisuse,
                    span,
                    format!("graph `{}` is made of edge rows: it has no row per node", id.name),
                )
                .label("no rows to read")
                .help(format!(
                    "ask it `{n}(node)` or `x in {n}(node)`; to read rows by key, declare it `graph {n} = data... node .key parents .parents`",
                    n = id.name
                )),
            );
            return Some(placeholder());
        }
        let (k, _) = self.expr(key);
        let q = ir::GraphQuery {
            graph: gid,
            op: ir::GraphOp::Row,
            args: Box::new([k]),
            span,
        };
        Some((Expr::Graph(Box::new(q)), Ty::Any))
    }
}
