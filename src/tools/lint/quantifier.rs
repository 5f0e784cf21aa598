//! `PCL311 quantifier-body-too-wide`: `any r in roles: r == "admin" or
//! resource.public` reads as two alternatives, but a quantifier's condition
//! runs to the end of the expression: the `or` is inside it, and the
//! alternative holds only when `roles` is not empty.

use super::*;

impl<'a> Linter<'a> {
    /// A quantifier whose condition is an unparenthesised `or` or `and`
    /// chain with a part that does not use its variable.
    pub(super) fn quantifier_body(&mut self, e: &'a Expr) {
        let ExprKind::Quantifier { q, var, body, .. } = &e.kind else {
            return;
        };
        let ExprKind::Binary(op @ (BinOp::Or | BinOp::And), left, _) = &body.kind else {
            return;
        };
        // `any x in xs: (a or b)`: the parentheses say the author meant it.
        if left.span.start != body.span.start {
            return;
        }
        let mut parts = Vec::new();
        chain(body, *op, &mut parts);
        let var_site = self.site(var.span);
        let uses = |l: &Self, part: &Expr| l.mentions(part, &var_site);
        if !parts.iter().any(|p| uses(self, p)) {
            return;
        }
        let Some(outside) = parts.iter().find(|p| !uses(self, p)) else {
            return;
        };
        let word = op.as_str();
        let text = self.text_of(outside.span);
        let quantifier = q.as_str();
        self.report(
            Finding::new(
                Code::QuantifierBodyTooWide,
                outside.span,
                format!(
                    "`{text}` is part of the `{quantifier}` condition, though it does not use `{}`",
                    var.name
                ),
            )
            .label(format!("inside the condition of `{quantifier} {}`", var.name))
            .also(e.span.to(Span::new(e.span.start, body.span.start)), "the quantifier")
            .help(format!(
                "a quantifier's condition runs to the end of the expression: write `({quantifier} {} in ...: ...) {word} {text}` if `{text}` is an alternative to the quantifier, or parenthesise the condition (`{quantifier} {} in ...: (... {word} {text})`) if it belongs inside",
                var.name, var.name
            )),
        );
    }

    /// Whether a name in `e` resolves to the variable bound at `site`.
    pub(super) fn mentions(&self, e: &Expr, site: &Site) -> bool {
        if let ExprKind::Name(id) = &e.kind {
            if let Some(crate::lower::Target::Local(s)) =
                self.resolution.target(&self.site(id.span))
            {
                return s == site;
            }
        }
        children(e).iter().any(|c| self.mentions(c, site))
    }

    /// The source text of a span of the file being linted.
    pub(super) fn text_of(&self, span: Span) -> String {
        let text = self.source.text.get(span.start..span.end).unwrap_or("");
        crate::diagnostics::escape_controls(text).into_owned()
    }
}

/// The operands of a chain of `op` (`a or b or c`), left to right.
fn chain<'e>(e: &'e Expr, op: BinOp, out: &mut Vec<&'e Expr>) {
    match &e.kind {
        ExprKind::Binary(o, l, r) if *o == op && l.span.start == e.span.start => {
            chain(l, op, out);
            chain(r, op, out);
        }
        _ => out.push(e),
    }
}
