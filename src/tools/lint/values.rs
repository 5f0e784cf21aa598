//! `PCL320 address-as-text`, `PCL321 timestamp-as-text`: IP addresses and
//! timestamps compared as strings, where text order and text equality are
//! not what the values mean (`"10.0.0.0/8"` equals no address; an RFC 3339
//! time with an offset sorts apart from the same instant in UTC).

use super::*;
use crate::diagnostics::docs_url;
use crate::value::scalar;

/// A glob over IPv4 text (`"10.0.*"`): digits, points and stars, with a
/// star and at least one point.
fn is_address_glob(s: &str) -> bool {
    s.contains('*')
        && s.contains('.')
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'*')
}

/// The range a glob such as `"192.168.*"` (whole parts, then `*`) means.
fn glob_range(s: &str) -> String {
    let head = s.strip_suffix('*').and_then(|h| h.strip_suffix('.'));
    let parts: Vec<&str> = head.map(|h| h.split('.').collect()).unwrap_or_default();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty() || p.contains('*'))
    {
        return "10.0.0.0/16".into();
    }
    let mut all: Vec<&str> = parts.clone();
    all.resize(4, "0");
    format!("{}/{}", all.join("."), 8 * parts.len())
}

impl<'a> Linter<'a> {
    pub(super) fn value_text(&mut self, op: BinOp, left: &'a Expr, right: &'a Expr) {
        let literal = |e: &'a Expr| match &e.kind {
            ExprKind::Str(s) => Some(s.as_str()),
            _ => None,
        };
        let pairs = [(left, right), (right, left)];
        for (lit, other) in pairs {
            let Some(text) = literal(lit) else { continue };
            if literal(other).is_some() {
                continue;
            }
            let range = text.contains('/') && scalar::parse_ip(text).is_ok();
            let glob = op == BinOp::Like && std::ptr::eq(lit, right) && is_address_glob(text);
            if (matches!(op, BinOp::Eq | BinOp::Ne) && range) || glob {
                self.report(
                    Finding::new(
                        Code::AddressAsText,
                        lit.span,
                        format!(
                            "an address range is compared as text with `{}`",
                            op.as_str()
                        ),
                    )
                    .label("address text")
                    .also(other.span, "compared as a string")
                    .help(format!(
                        "test the range itself: `ip(x) in ip(\"{}\")` (see {})",
                        if glob {
                            glob_range(text)
                        } else {
                            text.to_string()
                        },
                        docs_url("language#23-numbers-ip-addresses-strings-lists-and-time")
                    )),
                );
                return;
            }
            let ordering = matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge);
            if ordering && scalar::parse_time(text).is_ok() {
                self.report(
                    Finding::new(
                        Code::TimestampAsText,
                        lit.span,
                        format!("a timestamp is ordered as text with `{}`", op.as_str()),
                    )
                    .label("timestamp text")
                    .also(other.span, "ordered as a string")
                    .help(format!(
                        "text order is not time order across offsets and fractions: compare `timestamp(x) {} timestamp(\"{text}\")` (see {})",
                        op.as_str(),
                        docs_url("language#23-numbers-ip-addresses-strings-lists-and-time")
                    )),
                );
                return;
            }
        }
    }
}
