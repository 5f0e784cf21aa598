//! Reachability over a graph held in data: the edges a `graph` declaration
//! reads from rows of `data`, and their closure.
//!
//! Invariants:
//! - nodes are compared exactly, as `val_eq` compares them: the string `"7"`
//!   is not the integer `7`; records are equal whatever their key order;
//! - building is iterative (no recursion whose depth the data sets, beyond
//!   the nesting of one node value, which `Limits::max_value_depth` bounds)
//!   and linear in the rows, plus the closure, which is kept only while it
//!   fits `Limits::max_graph_closure` pairs; past that, queries walk the
//!   edges, charged per node visited;
//! - cycles terminate: the closure is computed over strongly connected
//!   components, and walks mark what they visited.

use super::*;
use std::collections::HashMap;
use std::sync::Arc;

/// One step into a row: `.field` or `[i]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    Field(Arc<str>),
    Index(usize),
}

/// A path into a row.
pub(crate) type RowPath = Vec<Step>;

/// What a `graph` declaration reads.
#[derive(Clone, Debug)]
pub(crate) struct GraphSpec {
    /// The fields after `data.` that hold the rows.
    pub source: Vec<Arc<str>>,
    pub form: GraphForm,
}

/// How rows make edges.
#[derive(Clone, Debug)]
pub(crate) enum GraphForm {
    /// `edge .from -> .to [within .domain]`: each row is one edge.
    Edges {
        from: RowPath,
        to: RowPath,
        within: Option<RowPath>,
    },
    /// `node .key parents .parents`: each row is a node and lists the
    /// nodes it is in.
    Nodes { key: RowPath, parents: RowPath },
}

impl GraphSpec {
    /// Whether nodes are scoped by a domain (`within`).
    pub fn scoped(&self) -> bool {
        matches!(
            self.form,
            GraphForm::Edges {
                within: Some(_),
                ..
            }
        )
    }

    /// Whether rows are nodes (so `g[key]` reads a row).
    pub fn has_rows(&self) -> bool {
        matches!(self.form, GraphForm::Nodes { .. })
    }

    /// `data.a.b`, for messages.
    pub fn source_text(&self) -> String {
        let mut s = String::from("data");
        for f in &self.source {
            s.push('.');
            s.push_str(f);
        }
        s
    }
}

/// Where a node's value is found in the data, so queries can hand back a
/// value borrowed from the data instead of a copy.
#[derive(Clone, Copy, Debug)]
enum Origin {
    /// Row `row`, read with the spec's `from` (0), `to` (1) or `key` (0).
    Row(u32, u8),
    /// Element `item` of row `row`'s parents list.
    Parent(u32, u32),
}

/// What went wrong reading a graph from data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GraphError(pub String);

/// The nodes, edges and (when it fits) closure of one graph over one data.
#[derive(Debug, Default)]
pub(crate) struct GraphIndex {
    /// The rows' list is absent from the data: querying is an error.
    pub absent: bool,
    /// Node ids by their encoded key (domain first, when scoped).
    keys: HashMap<Box<[u8]>, u32>,
    /// Node ids of string nodes, for graphs without domains.
    strs: HashMap<Box<str>, u32>,
    origin: Vec<Origin>,
    /// Per node: the row it is the key of (`node` graphs).
    rows: Vec<Option<u32>>,
    /// Successors, compressed: node `n`'s are `succ[start[n]..start[n + 1]]`.
    start: Vec<u32>,
    succ: Vec<u32>,
    /// Per node: its strongly connected component; per component, the
    /// sorted nodes it reaches (its own included).
    closure: Option<Closure>,
    /// Steps building took (rows, edges, closure work).
    pub work: u64,
}

#[derive(Debug, Default)]
struct Closure {
    comp: Vec<u32>,
    start: Vec<u32>,
    items: Vec<u32>,
}

/// A node value's exact identity as bytes: equal values (as `val_eq` has
/// it) encode alike and unequal ones differently.
pub(crate) fn encode(v: &Val, out: &mut Vec<u8>) -> Result<(), GraphError> {
    match v {
        Val::Bool(b) => out.extend_from_slice(&[b'b', u8::from(*b)]),
        Val::Int(i) => {
            out.push(b'i');
            out.extend_from_slice(&i.to_be_bytes());
        }
        Val::Float(f) => {
            // Integral numbers equal the integer of the same value.
            if f.fract() == 0.0 && f.abs() < 9.2e18 {
                out.push(b'i');
                out.extend_from_slice(&(*f as i64).to_be_bytes());
            } else {
                out.push(b'f');
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
        }
        Val::Str(_) | Val::OwnedStr(_) => {
            let s = v.as_str().unwrap_or_default();
            out.push(b's');
            out.extend_from_slice(&(s.len() as u64).to_be_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Val::List(_) | Val::OwnedList(_) => {
            let items: Vec<Val> = v.as_list().map(|l| l.iter().collect()).unwrap_or_default();
            out.push(b'l');
            out.extend_from_slice(&(items.len() as u64).to_be_bytes());
            for item in &items {
                encode(item, out)?;
            }
        }
        Val::Record(_) | Val::OwnedRecord(_) => {
            let mut entries = v.record_entries().unwrap_or_default();
            entries.sort_by(|a, b| a.0.as_str().cmp(&b.0.as_str()));
            out.push(b'r');
            out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            for (k, item) in &entries {
                encode(k, out)?;
                encode(item, out)?;
            }
        }
        Val::Null => return Err(GraphError("a graph node cannot be null".into())),
        // Decimals, addresses and times compare across types (`1.0 == 1`),
        // which no byte identity keeps: refused, never guessed.
        Val::Principal(_) | Val::Tuple(_) | Val::Pattern(_) | Val::Scalar(_) => {
            return Err(GraphError(format!(
                "a graph node is a string, number, boolean, list or record, not {}",
                v.type_name()
            )));
        }
    }
    Ok(())
}

/// Follows a row path; `None` when a step is absent or reads into
/// something that is not a record or list.
pub(crate) fn walk<'a>(row: &'a Value, path: &[Step]) -> Option<&'a Value> {
    let mut at = row;
    for step in path {
        at = match (step, at) {
            (Step::Field(f), Value::Record(r)) => r.get(f)?,
            (Step::Index(i), Value::List(items)) => items.items().get(*i)?,
            _ => return None,
        };
    }
    Some(at)
}

/// `.a[0]`, for messages.
pub(crate) fn path_text(path: &[Step]) -> String {
    let mut s = String::new();
    for step in path {
        match step {
            Step::Field(f) => {
                s.push('.');
                s.push_str(f);
            }
            Step::Index(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

/// The rows of a graph: `None` when the list is absent.
pub(crate) fn rows<'a>(
    spec: &GraphSpec,
    data: &'a Value,
) -> Result<Option<&'a [Value]>, GraphError> {
    let mut at = data;
    for f in &spec.source {
        match at {
            Value::Record(r) => match r.get(f) {
                Some(v) => at = v,
                None => return Ok(None),
            },
            Value::Null => return Ok(Some(&[])),
            other => {
                return Err(GraphError(format!(
                    "`{}` should be a list of rows, but a step reads into {}",
                    spec.source_text(),
                    other.type_name()
                )));
            }
        }
    }
    match at {
        Value::Null => Ok(Some(&[])),
        Value::List(items) => Ok(Some(items.items())),
        other => Err(GraphError(format!(
            "`{}` should be a list of rows, found {}",
            spec.source_text(),
            other.type_name()
        ))),
    }
}

struct Builder<'s> {
    spec: &'s GraphSpec,
    index: GraphIndex,
    edges: Vec<(u32, u32)>,
    buf: Vec<u8>,
}

impl Builder<'_> {
    fn node(
        &mut self,
        domain: Option<&Value>,
        v: &Value,
        origin: Origin,
        row: usize,
    ) -> Result<u32, GraphError> {
        let what = |e: GraphError| {
            GraphError(format!(
                "row {row} of `{}`: {}",
                self.spec.source_text(),
                e.0
            ))
        };
        if domain.is_none() {
            if let Value::Str(s) = v {
                if let Some(id) = self.index.strs.get(s.as_ref()) {
                    return Ok(*id);
                }
                let id = self.fresh(origin);
                self.index.strs.insert(s.clone(), id);
                return Ok(id);
            }
        }
        self.buf.clear();
        if let Some(d) = domain {
            encode(&Val::from(d), &mut self.buf).map_err(what)?;
        }
        encode(&Val::from(v), &mut self.buf).map_err(what)?;
        if let Some(id) = self.index.keys.get(self.buf.as_slice()) {
            return Ok(*id);
        }
        let id = self.fresh(origin);
        self.index
            .keys
            .insert(self.buf.clone().into_boxed_slice(), id);
        Ok(id)
    }

    fn fresh(&mut self, origin: Origin) -> u32 {
        let id = self.index.origin.len() as u32;
        self.index.origin.push(origin);
        self.index.rows.push(None);
        id
    }
}

fn missing(spec: &GraphSpec, row: usize, path: &[Step]) -> GraphError {
    GraphError(format!(
        "row {row} of `{}` has no `{}`",
        spec.source_text(),
        path_text(path)
    ))
}

impl GraphIndex {
    /// Reads the graph `spec` declares from `data`. With `max_closure`
    /// pairs or fewer (and some to spare for the work), the closure is
    /// computed too; otherwise queries walk the edges.
    pub fn build(
        spec: &GraphSpec,
        data: &Value,
        max_closure: usize,
    ) -> Result<GraphIndex, GraphError> {
        let Some(rows) = rows(spec, data)? else {
            return Ok(GraphIndex {
                absent: true,
                ..GraphIndex::default()
            });
        };
        let mut b = Builder {
            spec,
            index: GraphIndex::default(),
            edges: Vec::new(),
            buf: Vec::new(),
        };
        for (r, row) in rows.iter().enumerate() {
            b.index.work += 1;
            match &spec.form {
                GraphForm::Edges { from, to, within } => {
                    let domain = match within {
                        Some(p) => Some(walk(row, p).ok_or_else(|| missing(spec, r, p))?),
                        None => None,
                    };
                    let f = walk(row, from).ok_or_else(|| missing(spec, r, from))?;
                    let t = walk(row, to).ok_or_else(|| missing(spec, r, to))?;
                    let fid = b.node(domain, f, Origin::Row(r as u32, 0), r)?;
                    let tid = b.node(domain, t, Origin::Row(r as u32, 1), r)?;
                    b.edges.push((fid, tid));
                }
                GraphForm::Nodes { key, parents } => {
                    let k = walk(row, key).ok_or_else(|| missing(spec, r, key))?;
                    let id = b.node(None, k, Origin::Row(r as u32, 0), r)?;
                    if let Some(first) = b.index.rows.get(id as usize).copied().flatten() {
                        return Err(GraphError(format!(
                            "rows {first} and {r} of `{}` have the same `{}`",
                            spec.source_text(),
                            path_text(key)
                        )));
                    }
                    if let Some(slot) = b.index.rows.get_mut(id as usize) {
                        *slot = Some(r as u32);
                        // The node is where its own row says it is.
                        if let Some(o) = b.index.origin.get_mut(id as usize) {
                            *o = Origin::Row(r as u32, 0);
                        }
                    }
                    let ps = walk(row, parents).ok_or_else(|| missing(spec, r, parents))?;
                    let items = match ps {
                        Value::List(items) => items.items(),
                        Value::Null => &[],
                        other => {
                            return Err(GraphError(format!(
                                "row {r} of `{}`: `{}` should be a list, found {}",
                                spec.source_text(),
                                path_text(parents),
                                other.type_name()
                            )));
                        }
                    };
                    for (j, p) in items.iter().enumerate() {
                        b.index.work += 1;
                        let pid = b.node(None, p, Origin::Parent(r as u32, j as u32), r)?;
                        b.edges.push((id, pid));
                    }
                }
            }
        }
        let mut index = b.index;
        let mut edges = b.edges;
        edges.sort_unstable();
        edges.dedup();
        let n = index.origin.len();
        index.start = vec![0; n + 1];
        for (f, _) in &edges {
            if let Some(c) = index.start.get_mut(*f as usize + 1) {
                *c += 1;
            }
        }
        for i in 0..n {
            let prev = index.start.get(i).copied().unwrap_or(0);
            if let Some(c) = index.start.get_mut(i + 1) {
                *c += prev;
            }
        }
        index.succ = edges.iter().map(|(_, t)| *t).collect();
        index.work += edges.len() as u64;
        index.closure = closure(&index, max_closure);
        if let Some(c) = &index.closure {
            index.work += c.items.len() as u64;
        }
        Ok(index)
    }

    /// The id of a node value (within a domain when the graph is scoped).
    pub fn lookup(&self, domain: Option<&Val>, v: &Val) -> Result<Option<u32>, GraphError> {
        if domain.is_none() {
            if let Some(s) = v.as_str() {
                return Ok(self.strs.get(s).copied());
            }
        }
        let mut buf = Vec::new();
        if let Some(d) = domain {
            encode(d, &mut buf)?;
        }
        encode(v, &mut buf)?;
        Ok(self.keys.get(buf.as_slice()).copied())
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.origin.len()
    }

    fn successors(&self, n: u32) -> &[u32] {
        let a = self.start.get(n as usize).copied().unwrap_or(0) as usize;
        let b = self.start.get(n as usize + 1).copied().unwrap_or(0) as usize;
        self.succ.get(a..b).unwrap_or(&[])
    }

    /// Whether `to` is reachable from `from` in zero or more steps. Without a
    /// closure this walks the edges, spending one of `budget` per node
    /// visited; `None` when the budget runs out first.
    pub fn reaches(&self, from: u32, to: u32, budget: &mut u64) -> Option<bool> {
        if from == to {
            return Some(true);
        }
        if let Some(c) = &self.closure {
            let comp = c.comp.get(from as usize).copied().unwrap_or(0) as usize;
            let a = c.start.get(comp).copied().unwrap_or(0) as usize;
            let b = c.start.get(comp + 1).copied().unwrap_or(0) as usize;
            return Some(c.items.get(a..b).unwrap_or(&[]).binary_search(&to).is_ok());
        }
        let mut found = false;
        self.walk_from(from, budget, |n| {
            found |= n == to;
            !found
        })?;
        Some(found)
    }

    /// The nodes reachable from `from` (itself included), in the order
    /// they first appear in the data; `None` when the budget runs out.
    pub fn reachable(&self, from: u32, budget: &mut u64) -> Option<Vec<u32>> {
        if let Some(c) = &self.closure {
            let comp = c.comp.get(from as usize).copied().unwrap_or(0) as usize;
            let a = c.start.get(comp).copied().unwrap_or(0) as usize;
            let b = c.start.get(comp + 1).copied().unwrap_or(0) as usize;
            let items = c.items.get(a..b).unwrap_or(&[]);
            *budget = budget.checked_sub(items.len() as u64)?;
            return Some(items.to_vec());
        }
        let mut out = Vec::new();
        self.walk_from(from, budget, |n| {
            out.push(n);
            true
        })?;
        out.sort_unstable();
        Some(out)
    }

    /// Breadth-first from `from`, calling `visit` on each node once until
    /// it returns false.
    fn walk_from(
        &self,
        from: u32,
        budget: &mut u64,
        mut visit: impl FnMut(u32) -> bool,
    ) -> Option<()> {
        let mut seen = vec![false; self.len()];
        let mut queue = std::collections::VecDeque::new();
        if let Some(s) = seen.get_mut(from as usize) {
            *s = true;
        }
        queue.push_back(from);
        while let Some(n) = queue.pop_front() {
            *budget = budget.checked_sub(1)?;
            if !visit(n) {
                return Some(());
            }
            for &m in self.successors(n) {
                if let Some(s) = seen.get_mut(m as usize) {
                    if !*s {
                        *s = true;
                        queue.push_back(m);
                    }
                }
            }
        }
        Some(())
    }

    /// The value of node `n` as the data holds it.
    pub fn value<'a>(&self, spec: &GraphSpec, data: &'a Value, n: u32) -> Option<&'a Value> {
        let rows = rows(spec, data).ok()??;
        match (self.origin.get(n as usize)?, &spec.form) {
            (Origin::Row(r, which), GraphForm::Edges { from, to, .. }) => {
                walk(rows.get(*r as usize)?, if *which == 0 { from } else { to })
            }
            (Origin::Row(r, _), GraphForm::Nodes { key, .. }) => walk(rows.get(*r as usize)?, key),
            (Origin::Parent(r, j), GraphForm::Nodes { parents, .. }) => {
                match walk(rows.get(*r as usize)?, parents)? {
                    Value::List(items) => items.items().get(*j as usize),
                    _ => None,
                }
            }
            (Origin::Parent(..), GraphForm::Edges { .. }) => None,
        }
    }

    /// The row whose key is node `n` (`node` graphs).
    pub fn row<'a>(&self, spec: &GraphSpec, data: &'a Value, n: u32) -> Option<&'a Value> {
        let r = self.rows.get(n as usize).copied().flatten()?;
        rows(spec, data).ok()??.get(r as usize)
    }
}

/// The closure over strongly connected components (Tarjan's algorithm,
/// iteratively): components come out successors first, so each one's set
/// is its members and its successors' sets. `None` past `max` pairs.
fn closure(g: &GraphIndex, max: usize) -> Option<Closure> {
    let n = g.len();
    const UNSEEN: u32 = u32::MAX;
    let mut order = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut comp = vec![UNSEEN; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut calls: Vec<(u32, usize)> = Vec::new();
    let mut next = 0u32;
    let mut c = Closure {
        comp: Vec::new(),
        start: vec![0],
        items: Vec::new(),
    };
    let mut work = 0usize;
    let mut members: Vec<u32> = Vec::new();
    for root in 0..n as u32 {
        if order.get(root as usize).copied() != Some(UNSEEN) {
            continue;
        }
        calls.push((root, 0));
        while let Some(&mut (v, ref mut i)) = calls.last_mut() {
            let vi = v as usize;
            if *i == 0 && order.get(vi).copied() == Some(UNSEEN) {
                *order.get_mut(vi)? = next;
                *low.get_mut(vi)? = next;
                next += 1;
                stack.push(v);
                *on_stack.get_mut(vi)? = true;
            }
            let succ = g.successors(v);
            if let Some(&w) = succ.get(*i) {
                *i += 1;
                let wi = w as usize;
                if order.get(wi).copied() == Some(UNSEEN) {
                    calls.push((w, 0));
                } else if on_stack.get(wi).copied() == Some(true) {
                    let lw = order.get(wi).copied()?;
                    let lv = low.get_mut(vi)?;
                    *lv = (*lv).min(lw);
                }
                continue;
            }
            calls.pop();
            let lv = low.get(vi).copied()?;
            if let Some(&(parent, _)) = calls.last() {
                let lp = low.get_mut(parent as usize)?;
                *lp = (*lp).min(lv);
            }
            if lv != order.get(vi).copied()? {
                continue;
            }
            // `v` roots a component: pop it and compute its set.
            let id = (c.start.len() - 1) as u32;
            members.clear();
            while let Some(w) = stack.pop() {
                *on_stack.get_mut(w as usize)? = false;
                *comp.get_mut(w as usize)? = id;
                members.push(w);
                if w == v {
                    break;
                }
            }
            let mut set = members.clone();
            for &m in &members {
                for &s in g.successors(m) {
                    let sc = comp.get(s as usize).copied()?;
                    if sc == id {
                        continue;
                    }
                    let a = c.start.get(sc as usize).copied()? as usize;
                    let b = c.start.get(sc as usize + 1).copied()? as usize;
                    let items = c.items.get(a..b)?;
                    work += items.len();
                    set.extend_from_slice(items);
                }
            }
            set.sort_unstable();
            set.dedup();
            if c.items.len() + set.len() > max || work > max.saturating_mul(4) {
                return None;
            }
            c.items.extend_from_slice(&set);
            c.start.push(c.items.len() as u32);
        }
    }
    c.comp = comp;
    Some(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(within: bool) -> GraphSpec {
        GraphSpec {
            source: vec![Arc::from("g")],
            form: GraphForm::Edges {
                from: vec![Step::Index(0)],
                to: vec![Step::Index(1)],
                within: within.then(|| vec![Step::Index(2)]),
            },
        }
    }

    fn data(rows: serde_json::Value) -> Value {
        Value::from_json(&serde_json::json!({ "g": rows }), 64).unwrap()
    }

    fn reaches(g: &GraphIndex, a: &str, b: &str) -> bool {
        let (Some(x), Some(y)) = (
            g.lookup(None, &Val::Str(a)).unwrap(),
            g.lookup(None, &Val::Str(b)).unwrap(),
        ) else {
            return a == b;
        };
        g.reaches(x, y, &mut u64::MAX.clone()).unwrap()
    }

    #[test]
    fn chains_and_cycles_with_and_without_closure() {
        let d = data(serde_json::json!([
            ["a", "b"],
            ["b", "c"],
            ["c", "a"],
            ["c", "d"],
            ["e", "a"]
        ]));
        for max in [0, 1000] {
            let g = GraphIndex::build(&spec(false), &d, max).unwrap();
            assert_eq!(g.closure.is_some(), max > 0);
            assert!(reaches(&g, "a", "d"));
            assert!(reaches(&g, "c", "b"));
            assert!(reaches(&g, "e", "d"));
            assert!(!reaches(&g, "d", "a"));
            assert!(!reaches(&g, "a", "e"));
            let a = g.lookup(None, &Val::Str("a")).unwrap().unwrap();
            assert_eq!(g.reachable(a, &mut 100).unwrap().len(), 4);
        }
    }

    #[test]
    fn exact_nodes_and_domains() {
        let d = data(serde_json::json!([
            ["u", 7, "d1"],
            ["u", "8", "d2"],
            [7, "admin", "d1"]
        ]));
        let g = GraphIndex::build(&spec(true), &d, 1000).unwrap();
        let d1 = Val::Str("d1");
        let u = g.lookup(Some(&d1), &Val::Str("u")).unwrap().unwrap();
        let admin = g.lookup(Some(&d1), &Val::Str("admin")).unwrap().unwrap();
        assert!(g.reaches(u, admin, &mut 10).unwrap());
        assert_eq!(
            g.lookup(Some(&Val::Str("d2")), &Val::Str("admin")).unwrap(),
            None
        );
        assert_eq!(g.lookup(Some(&d1), &Val::Str("7")).unwrap(), None);
        assert!(g.lookup(Some(&d1), &Val::Int(7)).unwrap().is_some());
    }

    #[test]
    fn a_walk_stops_at_its_budget() {
        let rows: Vec<serde_json::Value> = (0..100)
            .map(|i| serde_json::json!([format!("n{i}"), format!("n{}", i + 1)]))
            .collect();
        let g = GraphIndex::build(&spec(false), &data(serde_json::Value::Array(rows)), 0).unwrap();
        let a = g.lookup(None, &Val::Str("n0")).unwrap().unwrap();
        let z = g.lookup(None, &Val::Str("n100")).unwrap().unwrap();
        assert_eq!(g.reaches(a, z, &mut 10), None);
        assert_eq!(g.reaches(a, z, &mut 200), Some(true));
    }

    #[test]
    fn malformed_rows_are_errors() {
        let d = data(serde_json::json!([["a"]]));
        assert!(GraphIndex::build(&spec(false), &d, 10)
            .unwrap_err()
            .0
            .contains("row 0"));
        let d = data(serde_json::json!([["a", null]]));
        assert!(GraphIndex::build(&spec(false), &d, 10).is_err());
        let absent = Value::from_json(&serde_json::json!({}), 8).unwrap();
        assert!(GraphIndex::build(&spec(false), &absent, 10).unwrap().absent);
    }
}
