//! `PCL305 impossible-pattern`: action comparisons, lists, globs and match
//! arms naming no action the statement can run for.

use super::*;

impl<'a> Linter<'a> {
    /// The actions the current statements can run for, when they are
    /// known. Computed only when a lint needs it: most statements never
    /// test the action, and expanding globs per policy would cost
    /// policies × actions.
    pub(super) fn actions_here(&self) -> Option<Vec<&'a str>> {
        if self.open_set {
            return None;
        }
        match self.current_policy {
            Some(p) if !p.actions.is_empty() => Some(
                self.actions
                    .iter()
                    .copied()
                    .filter(|a| p.actions.iter().any(|g| glob_match(&g.name, a)))
                    .collect(),
            ),
            _ => Some(self.actions.clone()),
        }
    }
}

impl<'a> Linter<'a> {
    /// `action == "x"`, `action in [...]`, `action like "g*"` naming no
    /// action the statement can run for.
    pub(super) fn action_pattern(&mut self, op: BinOp, left: &'a Expr, right: &'a Expr) {
        if !is_action(left) {
            return;
        }
        match (op, &right.kind) {
            (BinOp::Eq | BinOp::Ne, ExprKind::Str(s)) => {
                let outcome = if op == BinOp::Eq {
                    "never true"
                } else {
                    "always true"
                };
                self.impossible_action(s, right.span, &format!("the comparison is {outcome}"));
            }
            (BinOp::In | BinOp::NotIn, ExprKind::List(items)) => {
                for item in items {
                    if let ExprKind::Str(s) = &item.kind {
                        self.impossible_action(s, item.span, "this entry never matches");
                    }
                }
            }
            (BinOp::Like, ExprKind::Str(glob)) => {
                if let Some(actions) = self.actions_here() {
                    if !actions.iter().any(|a| glob_match(glob, a)) {
                        let list = actions.join(", ");
                        self.report(
                            Finding::new(
                                Code::ImpossiblePattern,
                                right.span,
                                format!("`{glob}` matches none of the actions here"),
                            )
                            .label("never matches")
                            .help(format!("the statement runs for: {list}")),
                        );
                    }
                }
            }
            _ => {}
        }
    }

    pub(super) fn impossible_action(&mut self, name: &str, span: Span, effect: &str) {
        let Some(actions) = self.actions_here() else {
            return;
        };
        if actions.contains(&name) {
            return;
        }
        let hint = crate::diagnostics::did_you_mean(name, actions.iter().copied())
            .map(|m| format!("did you mean `{m}`? "))
            .unwrap_or_default();
        let list = actions.join(", ");
        self.report(
            Finding::new(
                Code::ImpossiblePattern,
                span,
                format!("no action here is named `{name}`"),
            )
            .label(effect.to_string())
            .help(format!("{hint}the statement runs for: {list}")),
        );
    }
}

pub(super) fn is_action(e: &Expr) -> bool {
    matches!(&e.kind, ExprKind::Name(id) if id.name == "action")
}
