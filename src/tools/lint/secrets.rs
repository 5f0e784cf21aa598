//! `PCL307 credential-not-constant-time`, `PCL308 secret-in-clear`: credentials
//! compared without `secret_eq`, and secrets written in the policy text.

use super::*;

impl<'a> Linter<'a> {
    /// Credentials compared with `==`, `!=`, `in` or a pattern.
    pub(super) fn comparison(&mut self, op: BinOp, left: &'a Expr, right: &'a Expr, span: Span) {
        if !matches!(
            op,
            BinOp::Eq | BinOp::Ne | BinOp::In | BinOp::NotIn | BinOp::Like | BinOp::Matches
        ) {
            return;
        }
        let pairs = [(left, right), (right, left)];
        // A literal glob or regex after `like`/`matches` is a format check
        // (`auth like "Bearer *"`), not a secret.
        let pattern_check = matches!(op, BinOp::Like | BinOp::Matches)
            && matches!(&right.kind, ExprKind::Str(_) | ExprKind::Regex(_));
        let Some((secret, other)) = pairs.into_iter().find(|(s, o)| {
            !pattern_check
                && self.is_credential(s)
                && !matches!(&o.kind, ExprKind::Null)
                && !matches!(&o.kind, ExprKind::Str(t) if t.is_empty())
        }) else {
            return;
        };
        if let ExprKind::Str(_) = &other.kind {
            self.report(
                Finding::new(
                    Code::SecretInClear,
                    other.span,
                    "a credential is compared with a secret written in clear",
                )
                .label("the secret, in clear")
                .also(secret.span, "the credential")
                .help("store the secret's SHA-256 digest in data and compare with `secret_eq(presented, digest)`"),
            );
        } else {
            self.report(
                Finding::new(
                    Code::CredentialCompared,
                    span,
                    format!("a credential is compared with `{}`, which is not constant-time", op.as_str()),
                )
                .label("the comparison's time depends on the secret")
                .also(secret.span, "the credential")
                .help("compare digests in constant time: `secret_eq(presented, digest)` or `secret_lookup(presented, rows, \"field\")`"),
            );
        }
    }

    /// `let api_key = "..."` or `{password: "..."}`.
    pub(super) fn clear_text_binding(&mut self, name: &str, value: &Expr) {
        if let ExprKind::Str(s) = &value.kind {
            if credential_name(name) && !s.is_empty() && !is_digest(s) {
                self.report(
                    Finding::new(
                        Code::SecretInClear,
                        value.span,
                        format!("`{name}` holds a secret written in clear"),
                    )
                    .label("a secret in the policy text")
                    .help("keep secrets out of policy files: store the SHA-256 digest in data and check with `secret_eq`"),
                );
            }
        }
    }

    pub(super) fn is_credential(&self, e: &Expr) -> bool {
        self.credential_within(e, 0)
    }

    /// Whether `e` is a credential, following names to the lets they
    /// resolved to (at most [`CREDENTIAL_DEPTH`] deep).
    pub(super) fn credential_within(&self, e: &Expr, depth: usize) -> bool {
        if depth > CREDENTIAL_DEPTH {
            return false;
        }
        let d = depth + 1;
        match &e.kind {
            ExprKind::Field(_, name) => credential_name(&name.name),
            ExprKind::Index(_, key) => {
                matches!(&key.kind, ExprKind::Str(s) if credential_name(s))
            }
            ExprKind::Name(id) => self
                .resolution
                .target(&self.site(id.span))
                .and_then(|t| t.definition())
                .and_then(|def| self.lets.get(def))
                .is_some_and(|value| self.credential_within(value, d)),
            ExprKind::Binary(BinOp::Coalesce, a, _) => self.credential_within(a, d),
            ExprKind::Call(f, args) if TRANSFORMS.contains(&f.name.as_str()) => {
                args.first().is_some_and(|a| self.credential_within(a, d))
            }
            _ => false,
        }
    }
}

/// Built-ins that keep a credential a credential (`strip_prefix(auth, "Bearer ")`).
pub(super) const TRANSFORMS: &[&str] = &[
    "strip_prefix",
    "strip_suffix",
    "after_first",
    "after_last",
    "before_first",
    "before_last",
    "lower",
    "upper",
];

pub(super) use crate::eval::credential_name;

pub(super) fn is_digest(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}
