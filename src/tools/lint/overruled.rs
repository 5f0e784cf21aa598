//! `PCL312 allow-never-decides`: an allow in one policy for actions that
//! another policy always decides, ending in a refusal that applies to
//! everything. Across policies a refusal wins over an allow, and that
//! policy's own allows come first in its order, so the allow here never
//! makes a decision: a request it allows is allowed by the other policy
//! too, or refused by it.

use super::*;
use std::sync::Arc;

/// A policy that decides every request it covers and can refuse: the
/// statement that makes it so.
struct CatchAll<'a> {
    policy: &'a PolicyDecl,
    file: &'a Arc<str>,
    statement: &'a crate::ast::Decide,
}

impl<'a> Linter<'a> {
    /// The catch-all refusal of `policy`, if it has one: in an ordered
    /// policy, the first statement whose condition always holds (it, or an
    /// earlier statement, decides every request); unordered, any refusal
    /// that always holds.
    fn catch_all(&self, policy: &'a PolicyDecl, file: &'a Arc<str>) -> Option<CatchAll<'a>> {
        let always = |d: &crate::ast::Decide| match &d.when {
            None => true,
            Some(w) => self.resolution.condition(&(file.clone(), w.span.start)) == Some(true),
        };
        let decides = policy.body.iter().filter_map(|s| match s {
            Stmt::Decide(d) => Some(&**d),
            _ => None,
        });
        let statement = if policy.ordered {
            decides.clone().find(|d| always(d))?
        } else {
            decides
                .clone()
                .find(|d| d.outcome != Outcome::Allow && always(d))?
        };
        (statement.outcome != Outcome::Allow).then_some(CatchAll {
            policy,
            file,
            statement,
        })
    }

    /// The actions `policy` covers, among the declared ones (a policy
    /// without `for` covers none).
    fn covered(&self, policy: &PolicyDecl) -> Vec<&'a str> {
        self.actions
            .iter()
            .copied()
            .filter(|a| policy.actions.iter().any(|g| glob_match(&g.name, a)))
            .collect()
    }

    /// Reports the allows of `policy` that another policy's catch-all
    /// refusal keeps from ever deciding.
    pub(super) fn overruled_allows(&mut self, policy: &'a PolicyDecl) {
        if self.open_set {
            return;
        }
        let mine = self.covered(policy);
        if mine.is_empty() {
            return;
        }
        let others: Vec<CatchAll<'a>> = self
            .facts
            .policies
            .iter()
            .filter(|(p, _)| p.name.name != policy.name.name)
            .filter_map(|(p, file)| self.catch_all(p, file))
            .collect();
        // Every action this policy covers must be decided by one of them.
        let mut by: Vec<&CatchAll<'a>> = Vec::new();
        for action in &mine {
            let covers = |c: &&CatchAll<'a>| self.covered(c.policy).contains(action);
            match others.iter().find(covers) {
                Some(c) => {
                    if !by.iter().any(|b| std::ptr::eq(*b, c)) {
                        by.push(c);
                    }
                }
                None => return,
            }
        }
        let Some(first) = by.first() else { return };
        let names: Vec<String> = by
            .iter()
            .map(|c| format!("`{}`", c.policy.name.name))
            .collect();
        let policies = if names.len() == 1 {
            format!("policy {}", names.join(""))
        } else {
            format!("policies {}", names.join(", "))
        };
        let actions = mine
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let here = first.file.as_ref() == self.source.name.as_ref();
        for stmt in &policy.body {
            let Stmt::Decide(d) = stmt else { continue };
            if d.outcome != Outcome::Allow {
                continue;
            }
            let what = statement_name(d);
            let mut f = Finding::new(
                Code::AllowNeverDecides,
                d.span,
                format!("{what} can never decide: {policies} decides every request for {actions} first"),
            )
            .label("never decides")
            .help(format!(
                "a refusal in any policy wins over an allow, and {} ends in a refusal that always applies: move this allow into that policy, before its refusal, or give the refusal a `when` condition",
                names.join(", ")
            ));
            if here {
                f = f.also(
                    first.statement.span,
                    format!("this {} always applies", first.statement.outcome),
                );
            }
            self.report(f);
        }
    }
}
