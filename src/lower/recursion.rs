//! Recursion: rules and lets that reach themselves are refused (`PCL207`),
//! so the evaluator needs no recursion guard.

use super::*;

impl<'u> Lowerer<'u> {
    /// Reports every cycle among rules and file-level lets.
    pub(super) fn find_recursion(&mut self) {
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
                                        .help("rules and lets cannot be recursive; to follow links of any depth (roles that hold roles, groups in groups, folder trees), declare a `graph` over the data and ask `x in g(start)`"),
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

    pub(super) fn node_name(&self, node: Node) -> String {
        match node {
            Node::Let(id) => self
                .let_decls
                .get(id as usize)
                .map_or(String::new(), |(_, n, _)| n.name.clone()),
            Node::Rule(id) => self
                .rule_decls
                .get(id as usize)
                .map_or(String::new(), |(_, r)| r.name.name.clone()),
        }
    }

    pub(super) fn edge(&mut self, to: Node, span: Span) {
        if let Some(from) = self.current {
            let unit = self.unit;
            self.edges.entry(from).or_default().push((to, unit, span));
        }
    }
}
