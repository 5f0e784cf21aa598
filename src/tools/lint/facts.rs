//! What the trap lints need to know of the whole policy set, gathered once
//! per check from the files lowering read: the principal kinds, the request
//! shapes, and the policies after overrides.

use super::*;
use crate::ast::{ShapeRoot, ShapeType};
use std::sync::Arc;

/// A root's declared shape and the file that declares it.
pub(super) type Declared<'a> = (&'a ShapeType, &'a Arc<str>);

/// Facts of one policy set (the checked file and everything it imports).
#[derive(Default)]
pub(super) struct Facts<'a> {
    /// Declared principal kinds, and whether each takes no value (`anyone`).
    pub kinds: HashMap<&'a str, bool>,
    /// The roots the default `request { ... }` shape declares, with the
    /// file they are declared in.
    pub request: HashMap<&'a str, Declared<'a>>,
    /// `request for` contracts: their actions and the roots they declare.
    pub contracts: Vec<(Vec<&'a str>, HashMap<&'a str, Declared<'a>>)>,
    /// The policies a decision runs (overrides applied), with their file.
    pub policies: Vec<(&'a PolicyDecl, &'a Arc<str>)>,
}

impl<'a> Facts<'a> {
    pub(super) fn new(units: &'a [Unit]) -> Self {
        let mut facts = Facts::default();
        for unit in units {
            for item in &unit.file.items {
                match item {
                    Item::Principals { kinds, .. } => {
                        for k in kinds {
                            let anyone = matches!(k.test, crate::ast::KindTest::Anyone { .. });
                            facts.kinds.insert(&k.name.name, anyone);
                        }
                    }
                    Item::Shape {
                        root: ShapeRoot::Request,
                        actions,
                        fields,
                        ..
                    } => {
                        let file = &unit.source.name;
                        let roots = fields.iter().map(|f| (f.name.name.as_str(), (&f.ty, file)));
                        if actions.is_empty() {
                            facts.request.extend(roots);
                        } else {
                            let names = actions.iter().map(|a| a.name.as_str()).collect();
                            facts.contracts.push((names, roots.collect()));
                        }
                    }
                    Item::Policy(p) => {
                        let same = facts
                            .policies
                            .iter()
                            .position(|(q, _)| q.name.name == p.name.name);
                        match (p.is_override, same) {
                            (true, Some(i)) => {
                                if let Some(slot) = facts.policies.get_mut(i) {
                                    *slot = (p, &unit.source.name);
                                }
                            }
                            // Overriding nothing is PCL300; it runs nowhere.
                            (true, None) => {}
                            (false, _) => facts.policies.push((p, &unit.source.name)),
                        }
                    }
                    _ => {}
                }
            }
        }
        facts
    }

    /// The shape declared for `root` of requests for `action`: the
    /// action's contract, else the default shape.
    pub(super) fn root_shape(&self, action: &str, root: &str) -> Option<Declared<'a>> {
        self.contracts
            .iter()
            .find(|(actions, _)| actions.contains(&action))
            .and_then(|(_, roots)| roots.get(root).copied())
            .or_else(|| self.request.get(root).copied())
    }
}
