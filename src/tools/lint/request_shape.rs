//! `PCL313 undeclared-request-shape`: a policy reads a field of the request
//! with a default (`resource.locked ?? false`, `has(resource, "locked")`)
//! where no `request { ... }` shape declares the root. Nothing then catches
//! a misspelt field: `resource.lokced ?? false` is always `false`, and the
//! decision changes without an error. (A plain read of a misspelt field is
//! an error at decision time, which denies: it shows.)

use super::*;

/// The request roots a shape may declare.
const ROOTS: &[&str] = &["principal", "resource", "context"];

impl<'a> Linter<'a> {
    /// `read ?? default` or `has(read, key)`, where `read` is a field
    /// or index read of `principal`, `resource` or `context` whose root has
    /// no declared shape for the actions it can run for; reported once per
    /// root and file.
    pub(super) fn request_read(&mut self, e: &'a Expr) {
        let read = match &e.kind {
            ExprKind::Binary(BinOp::Coalesce, read, _) => &**read,
            ExprKind::Call(f, args) if f.name == "has" => match args.first() {
                Some(read) => read,
                None => return,
            },
            _ => return,
        };
        let mut root_expr = read;
        while let ExprKind::Field(base, _) | ExprKind::Index(base, _) = &root_expr.kind {
            root_expr = base;
        }
        let ExprKind::Name(root) = &root_expr.kind else {
            return;
        };
        if std::ptr::eq(root_expr, read) && !matches!(e.kind, ExprKind::Call(..)) {
            // `resource ?? {}` reads no field.
            return;
        }
        let root_name = root.name.as_str();
        if !ROOTS.contains(&root_name)
            || self.undeclared_reported.contains(root_name)
            || !matches!(
                self.resolution.target(&self.site(root.span)),
                Some(crate::lower::Target::Root)
            )
        {
            return;
        }
        let declared = match self.actions_here() {
            // Every action it can run for has a shape for the root.
            Some(actions) if !actions.is_empty() => actions
                .iter()
                .all(|a| self.facts.root_shape(a, root_name).is_some()),
            _ => self.facts.request.contains_key(root_name),
        };
        if declared {
            return;
        }
        self.undeclared_reported.insert(root_name);
        let text = self.text_of(read.span);
        let field = match (&read.kind, &e.kind) {
            (ExprKind::Field(_, name), _) => format!("{}?: <type>", name.name),
            (_, ExprKind::Call(_, args)) => match args.get(1).map(|a| &a.kind) {
                Some(ExprKind::Str(key)) => format!("{key}?: <type>"),
                _ => "<field>?: <type>".to_string(),
            },
            _ => "<field>?: <type>".to_string(),
        };
        self.report(
            Finding::new(
                Code::UndeclaredShape,
                read.span,
                format!("`{text}` is read with a default, but no request shape declares `{root_name}`"),
            )
            .label("a misspelt field here is silently the default")
            .help(format!(
                "declare the fields the policy reads, as in `request {{ {root_name}: {{ {field} }} }}`: a misspelt field is then a compile error (PCL201), and requests are checked before any decision (see {})",
                crate::diagnostics::docs_url("language#6-request-and-data-shapes")
            )),
        );
    }
}
