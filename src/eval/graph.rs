//! Graph queries: `g(x)`, `y in g(x)`, `g[key]`, over the graphs `graph`
//! declarations read from `data`.
//!
//! Data loaded for a policy set carries each graph's nodes and closure,
//! built once (`build_graphs`, from `PolicySet::check_data`); a decision
//! with other data reads a graph the first time it queries it, charged a
//! step per row and edge, and walks its edges rather than close them.
//! A membership test costs a step plus the hashing of both values; a
//! walk, a step per node visited; a list, a step per node in it.

use super::err::{error, exhausted, R};
use super::*;
use crate::ir::{GraphOp, GraphQuery};
use crate::value::graph::GraphError;

/// The graphs one decision reads.
#[derive(Default)]
pub(super) struct Graphs<'a> {
    /// Built when the data was loaded for this set; empty otherwise.
    pub loaded: &'a [GraphIndex],
    /// Read by this decision, by graph id.
    built: Vec<Option<Rc<GraphIndex>>>,
}

/// Reads every graph of `program` from `data`, closures included: what
/// loading data does once, so decisions only look up.
pub(crate) fn build_graphs(
    program: &Program,
    data: &Value,
    limits: &Limits,
) -> Result<Arc<[GraphIndex]>, RequestError> {
    program
        .graphs
        .iter()
        .map(|g| {
            GraphIndex::build(&g.spec, data, limits.max_graph_closure).map_err(|GraphError(m)| {
                RequestError {
                    code: Code::GraphData,
                    field: g.spec.source_text(),
                    message: format!("graph `{}`: {m}", g.name),
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Arc::from)
}

/// A graph index, borrowed from the loaded data or built by this decision.
enum Index<'a> {
    Loaded(&'a GraphIndex),
    Built(Rc<GraphIndex>),
}

impl std::ops::Deref for Index<'_> {
    type Target = GraphIndex;
    fn deref(&self) -> &GraphIndex {
        match self {
            Index::Loaded(g) => g,
            Index::Built(g) => g,
        }
    }
}

fn graph_error(span: Span, name: &str, m: String) -> Box<EvalError> {
    error(Code::GraphData, span, format!("graph `{name}`: {m}"))
}

impl<'a> Evaluator<'a> {
    fn graph_index(&mut self, q: &GraphQuery) -> R<(Index<'a>, &'a ir::Graph)> {
        let program: &'a Program = self.program;
        let Some(def) = program.graphs.get(q.graph as usize) else {
            return Err(error(Code::EvalTypeError, q.span, "unknown graph".into()));
        };
        let index = if let Some(g) = self.graphs.loaded.get(q.graph as usize) {
            Index::Loaded(g)
        } else if let Some(Some(g)) = self.graphs.built.get(q.graph as usize) {
            Index::Built(g.clone())
        } else {
            // Read now, charged for its rows before reading them; no
            // closure, since this decision may ask one question of it.
            let rows = crate::value::graph::rows(&def.spec, self.data)
                .map_err(|GraphError(m)| graph_error(q.span, &def.name, m))?;
            self.charge(rows.map_or(0, |r| r.len() as u64), q.span)?;
            let g = GraphIndex::build(&def.spec, self.data, 0)
                .map_err(|GraphError(m)| graph_error(q.span, &def.name, m))?;
            self.charge(g.work, q.span)?;
            let g = Rc::new(g);
            let at = q.graph as usize;
            if self.graphs.built.len() <= at {
                self.graphs.built.resize(at + 1, None);
            }
            if let Some(slot) = self.graphs.built.get_mut(at) {
                *slot = Some(g.clone());
            }
            Index::Built(g)
        };
        if index.absent {
            return Err(error(
                Code::GraphData,
                q.span,
                format!(
                    "graph `{}`: `{}` is absent from the data; give it as a list (empty for no rows)",
                    def.name,
                    def.spec.source_text()
                ),
            ));
        }
        Ok((index, def))
    }

    /// The node id of `v` (within the domain, for a scoped graph); `None`
    /// when the graph has no such node.
    fn graph_node(
        &mut self,
        q: &'a GraphQuery,
        g: &GraphIndex,
        def: &ir::Graph,
        v: &Val<'a>,
    ) -> R<Option<u32>> {
        let domain = match q.args.get(1) {
            Some(d) => Some(self.eval(d)?),
            None => None,
        };
        self.charge(1, q.span)?;
        if let Some(s) = v.as_str() {
            self.meter.bytes(s.len()).map_err(|_| exhausted(q.span))?;
        }
        g.lookup(domain.as_ref(), v)
            .map_err(|GraphError(m)| graph_error(q.span, &def.name, m))
    }

    fn node_arg(&mut self, q: &'a GraphQuery) -> R<Val<'a>> {
        match q.args.first() {
            Some(x) => self.eval(x),
            None => Ok(Val::Null),
        }
    }

    /// `g(x)` as a list, or `g[key]` read where it may be absent.
    pub(super) fn graph_query(&mut self, q: &'a GraphQuery) -> R<Val<'a>> {
        match q.op {
            GraphOp::Reach => self.graph_reach(q),
            GraphOp::Row => match self.graph_row(q)? {
                Some(v) => Ok(v),
                None => Err(error(
                    Code::AbsentField,
                    q.span,
                    "no row has this key; test for it with `??` where it may be missing".into(),
                )),
            },
        }
    }

    fn graph_reach(&mut self, q: &'a GraphQuery) -> R<Val<'a>> {
        let x = self.node_arg(q)?;
        let (g, def) = self.graph_index(q)?;
        let Some(id) = self.graph_node(q, &g, def, &x)? else {
            return Ok(Val::OwnedList(Rc::from([x])));
        };
        let mut budget = self.meter.left();
        let found = g.reachable(id, &mut budget);
        let spent = self.meter.left().saturating_sub(budget);
        self.charge(spent, q.span)?;
        let Some(ids) = found else {
            return Err(exhausted(q.span));
        };
        let data: &'a Value = self.data;
        let items: Vec<Val<'a>> = ids
            .iter()
            .filter_map(|n| g.value(&def.spec, data, *n).map(Val::from))
            .collect();
        Ok(Val::OwnedList(items.into()))
    }

    /// `g[key]`: the row, or `None` when no row has that key.
    pub(super) fn graph_row(&mut self, q: &'a GraphQuery) -> R<Option<Val<'a>>> {
        let x = self.node_arg(q)?;
        let (g, def) = self.graph_index(q)?;
        let Some(id) = self.graph_node(q, &g, def, &x)? else {
            return Ok(None);
        };
        let data: &'a Value = self.data;
        Ok(g.row(&def.spec, data, id).map(Val::from))
    }

    /// `item in g(x)`: whether `item` is `x` or a node `x` reaches, without
    /// building the list.
    pub(super) fn graph_contains(&mut self, q: &'a GraphQuery, item: &Val<'a>) -> R<bool> {
        let x = self.node_arg(q)?;
        if cost::eq(&x, item, &mut self.meter).map_err(|_| exhausted(q.span))? {
            return Ok(true);
        }
        let (g, def) = self.graph_index(q)?;
        let Some(from) = self.graph_node(q, &g, def, &x)? else {
            return Ok(false);
        };
        let to = match item {
            // A value that cannot be a node is in no graph.
            Val::Null | Val::Principal(_) | Val::Tuple(_) | Val::Pattern(_) => return Ok(false),
            _ => self.graph_node(q, &g, def, item)?,
        };
        let Some(to) = to else {
            return Ok(false);
        };
        let mut budget = self.meter.left();
        let found = g.reaches(from, to, &mut budget);
        let spent = self.meter.left().saturating_sub(budget);
        self.charge(spent, q.span)?;
        found.ok_or_else(|| exhausted(q.span))
    }
}
