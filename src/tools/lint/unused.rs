//! `PCL306 unused-definition`: a let, rule or graph no name resolves to.

use super::*;

impl<'a> Linter<'a> {
    pub(super) fn unused(&mut self, name: &str, span: Span, what: &str) {
        if !name.starts_with('_') && !self.used.contains(&self.site(span)) {
            self.report(
                Finding::new(
                    Code::UnusedDefinition,
                    span,
                    format!("{what} `{name}` is never used"),
                )
                .label("defined here")
                .help(format!("remove it, or name it `_{name}` to keep it unused")),
            );
        }
    }
}
