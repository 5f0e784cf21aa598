//! `PCL314 unauthenticated-never-fires`: `unauthenticated when principal ==
//! null` under a request shape whose `principal` is not nullable. A request
//! without a caller is outside the contract and refused as malformed
//! (`PCL401`, deny) before any statement runs, so the 401 never happens.

use super::*;

impl<'a> Linter<'a> {
    /// An `unauthenticated` statement that applies only to a null caller,
    /// for actions whose principal shape refuses null.
    pub(super) fn unauthenticated_never_fires(&mut self, d: &'a crate::ast::Decide) {
        if d.outcome != Outcome::Unauthenticated {
            return;
        }
        let Some(test) = d.when.as_ref().and_then(|w| self.null_principal_test(w)) else {
            return;
        };
        let actions = match self.actions_here() {
            Some(a) if !a.is_empty() => a,
            _ => return,
        };
        let mut shape = None;
        for action in &actions {
            match self.facts.root_shape(action, "principal") {
                Some((ty, file))
                    if !ty.nullable && !matches!(ty.base, crate::ast::ShapeBase::Any) =>
                {
                    shape.get_or_insert((ty, file));
                }
                _ => return,
            }
        }
        let Some((shape, file)) = shape else { return };
        let what = statement_name(d);
        let mut f = Finding::new(
            Code::UnauthenticatedNeverFires,
            test.span,
            format!("{what} can never apply: the request shape refuses a null `principal`"),
        )
        .label("never true for a request the shape admits")
        .help(
            "declare the principal nullable (`principal: { ... }?`): a request without a caller is otherwise refused as malformed (PCL401, deny), before this statement could answer `unauthenticated`",
        );
        if file.as_ref() == self.source.name.as_ref() {
            f = f.also(shape.span, "not nullable: no `?`");
        }
        self.report(f);
    }

    /// The `principal == null` the condition needs: the condition itself,
    /// or a part of an `and` chain.
    fn null_principal_test(&self, e: &'a Expr) -> Option<&'a Expr> {
        match &e.kind {
            ExprKind::Binary(BinOp::Eq, l, r) => {
                let null_root = |a: &Expr, b: &Expr| {
                    matches!(&b.kind, ExprKind::Null)
                        && matches!(&a.kind, ExprKind::Name(id) if id.name == "principal"
                            && matches!(self.resolution.target(&self.site(id.span)), Some(crate::lower::Target::Root)))
                };
                (null_root(l, r) || null_root(r, l)).then_some(e)
            }
            ExprKind::Binary(BinOp::And, l, r) => self
                .null_principal_test(l)
                .or_else(|| self.null_principal_test(r)),
            _ => None,
        }
    }
}
