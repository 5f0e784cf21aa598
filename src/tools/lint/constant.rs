//! `PCL303 condition-always-false`, `PCL304 condition-always-true`: a `when` or `if` condition
//! lowering found constant.

use super::*;

impl<'a> Linter<'a> {
    /// Reports a condition whose value `folded` is known without a request.
    pub(super) fn constant_condition(&mut self, cond: &Expr, folded: Option<bool>, guards: Guards) {
        let Some(value) = folded else { return };
        let (code, label, help) = match (guards, value) {
            (Guards::Statement, false) => (
                Code::AlwaysFalse,
                "always false, so the statement never applies",
                "fix the condition, or remove what it guards",
            ),
            (Guards::Statement, true) => (
                Code::AlwaysTrue,
                "always true",
                "write the statement without `when`",
            ),
            (Guards::Branch, false) => (
                Code::AlwaysFalse,
                "always false: the `then` branch is never taken",
                "write the branch that is taken without the `if`",
            ),
            (Guards::Branch, true) => (
                Code::AlwaysTrue,
                "always true: the `else` branch is never taken",
                "write the branch that is taken without the `if`",
            ),
        };
        self.report(
            Finding::new(code, cond.span, format!("this condition is always {value}"))
                .label(label)
                .help(help),
        );
    }
}
