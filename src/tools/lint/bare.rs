//! `PCL315 bare-condition`: `allow when resource.owner_id` (meant
//! `resource.owner_id == principal.id`). A condition must be a boolean;
//! lowering rejects one known not to be (`PCL206`), and records the bare
//! values it cannot judge (a path, a name, `??` of unknown type, a request
//! root) in `Resolution::bare_conditions`. At decision time such a value
//! that is not a boolean denies with an error.

use super::*;

impl<'a> Linter<'a> {
    /// A condition lowering found to be a bare value of unknown type.
    pub(super) fn bare_condition(&mut self, e: &'a Expr) {
        let key = (self.source.name.clone(), e.span.start, e.span.end);
        if !self.resolution.bare_conditions.contains(&key) {
            return;
        }
        let text = self.text_of(e.span);
        self.report(
            Finding::new(
                Code::BareCondition,
                e.span,
                format!("`{text}` is used as a condition, but nothing says it is a boolean"),
            )
            .label("not known to be a boolean")
            .help(format!(
                "compare it with what it should be (`{text} == true`, `{text} != null`), or declare it `bool` in the request shape; a value that is not a boolean denies with an error (PCL500) at decision time"
            )),
        );
    }
}
