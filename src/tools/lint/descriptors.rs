//! `PCL316 unknown-kind-in-descriptor`: a descriptor written as text in the
//! policy (`"usr:14"`, in a list or a `let`) and matched with `matches`,
//! whose kind no `principals` block declares. Text descriptors are read at
//! decision time, where an unknown kind matches no one: the mistake only
//! shows as a denial.

use super::*;

/// How deep lets and lists are followed from a `matches`.
const DESCRIPTOR_DEPTH: usize = 16;

impl<'a> Linter<'a> {
    /// `subject matches desc`: the text descriptors `desc` holds.
    pub(super) fn descriptors(&mut self, e: &'a Expr) {
        let ExprKind::Binary(BinOp::Matches, _, desc) = &e.kind else {
            return;
        };
        let mut texts = Vec::new();
        self.descriptor_texts(desc, 0, true, &mut texts);
        for (text, span) in texts {
            self.descriptor_text(text, span);
        }
    }

    /// The string literals of a descriptor: itself, the items of a list
    /// or tuple, the values of a record it indexes, the value of a `let`.
    /// `here`: `e` is written in the file being linted (a `let` of an
    /// imported file is followed, but its strings are reported there).
    fn descriptor_texts(
        &self,
        e: &'a Expr,
        depth: usize,
        here: bool,
        out: &mut Vec<(&'a str, Span)>,
    ) {
        if depth > DESCRIPTOR_DEPTH {
            return;
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::Str(s) if here => out.push((s, e.span)),
            ExprKind::List(items) | ExprKind::Tuple(items) => {
                for i in items {
                    self.descriptor_texts(i, d, here, out);
                }
            }
            ExprKind::Record(fields) => {
                for (_, v) in fields {
                    self.descriptor_texts(v, d, here, out);
                }
            }
            ExprKind::Index(base, _) => self.descriptor_texts(base, d, here, out),
            ExprKind::Name(id) if here => {
                let def = self
                    .resolution
                    .target(&self.site(id.span))
                    .filter(|t| {
                        matches!(
                            t,
                            crate::lower::Target::Let(_) | crate::lower::Target::Local(_)
                        )
                    })
                    .and_then(|t| t.definition());
                if let Some((file, value)) =
                    def.and_then(|def| self.lets.get(def).map(|v| (&def.0, *v)))
                {
                    let here = file.as_ref() == self.source.name.as_ref();
                    self.descriptor_texts(value, d, here, out);
                }
            }
            _ => {}
        }
    }

    fn descriptor_text(&mut self, text: &str, span: Span) {
        let (kind, has_value) = match text.split_once(':') {
            Some((k, _)) => (k, true),
            None => (text, false),
        };
        let shown = crate::diagnostics::escape_controls(text).into_owned();
        let problem = match self.facts.kinds.get(kind) {
            Some(true) if has_value => {
                format!("`{kind}` takes no value, so `{shown}` matches no one")
            }
            Some(false) if !has_value => {
                format!("`{shown}` has no value after a kind, so it matches no one")
            }
            Some(_) => return,
            None => format!("`{shown}` names no declared principal kind, so it matches no one"),
        };
        let mut kinds: Vec<&str> = self.facts.kinds.keys().copied().collect();
        kinds.sort_unstable();
        let suggestion = match crate::diagnostics::did_you_mean(kind, kinds.iter().copied()) {
            Some(k) if k != kind => format!(": did you mean `{k}`?"),
            _ => String::new(),
        };
        let declared = if kinds.is_empty() {
            "no kinds are declared: add a `principals { ... }` block".to_string()
        } else {
            format!(
                "the declared kinds are {}",
                kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        self.report(
            Finding::new(Code::UnknownKindInDescriptor, span, problem)
                .label("read as a descriptor by `matches`")
                .help(format!(
                    "a descriptor is `kind:value`, or a kind that takes no value; {declared}{suggestion}"
                )),
        );
    }
}
