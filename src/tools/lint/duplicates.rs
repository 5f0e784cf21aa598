//! `PCL309 duplicate-entry`: the same literal twice in one list.

use super::*;

impl<'a> Linter<'a> {
    /// The same literal twice in one list.
    pub(super) fn duplicates(&mut self, items: &'a [Expr]) {
        let mut seen: HashMap<String, Span> = HashMap::new();
        for item in items {
            let key = match &item.kind {
                ExprKind::Str(s) => format!("s{s}"),
                ExprKind::Int(n) => format!("i{n}"),
                ExprKind::Principal {
                    kind,
                    value: PrincipalValue::Text(t),
                } => format!("p{}:{t}", kind.name),
                _ => continue,
            };
            if let Some(first) = seen.insert(key, item.span) {
                let text = self
                    .source
                    .text
                    .get(item.span.start..item.span.end)
                    .unwrap_or("");
                self.report(
                    Finding::new(
                        Code::DuplicateEntry,
                        item.span,
                        format!("`{text}` is listed twice"),
                    )
                    .label("listed again here")
                    .also(first, "first listed here")
                    .help("remove one of them"),
                );
            }
        }
    }
}
