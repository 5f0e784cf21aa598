//! Credentials: `secret_eq` compares SHA-256 digests in constant time, over
//! every candidate, and never prints either side.

use super::*;

/// How many digest comparisons secret checks have made in this process.
/// Tests use it to show that a credential walk visits every candidate.
pub(super) static SECRET_COMPARISONS: AtomicU64 = AtomicU64::new(0);

/// Digest comparisons made so far by `secret_eq` and `secret_lookup`.
#[cfg(feature = "test-instrumentation")]
pub fn secret_comparisons() -> u64 {
    SECRET_COMPARISONS.load(Ordering::Relaxed)
}

pub(super) fn secret_text<'v>(v: &'v Val, span: Span) -> R<&'v str> {
    v.as_str().ok_or_else(|| {
        type_error(
            span,
            format!(
                "a presented secret must be a string, found {}",
                v.type_name()
            ),
        )
    })
}

/// Lowercase hex SHA-256 of the text, on the stack.
pub(super) fn sha256_hex(text: &str) -> [u8; 64] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    let mut out = [0u8; 64];
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (i, byte) in digest.iter().enumerate() {
        if let Some(slot) = out.get_mut(2 * i) {
            *slot = HEX.get((byte >> 4) as usize).copied().unwrap_or(b'0');
        }
        if let Some(slot) = out.get_mut(2 * i + 1) {
            *slot = HEX.get((byte & 0xf) as usize).copied().unwrap_or(b'0');
        }
    }
    out
}

/// Constant-time comparison of a computed hex digest with a configured one.
/// A configured value that is not a string never matches.
pub(super) fn digest_matches(computed: &[u8; 64], configured: &Val) -> bool {
    SECRET_COMPARISONS.fetch_add(1, Ordering::Relaxed);
    let configured = configured.as_str().unwrap_or("");
    bool::from(computed.as_slice().ct_eq(configured.as_bytes()))
}

/// Words that name a credential, compared without case, `-` or `_`.
const CREDENTIAL_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "secret",
    "apikey",
    "servicekey",
    "accesskey",
    "privatekey",
    "credential",
    "authorization",
    "bearer",
    "token",
];

/// Endings that name something about a credential, not the credential.
const NOT_CREDENTIAL_ENDINGS: &[&str] = &[
    "type", "id", "ids", "name", "names", "count", "kind", "url", "uri", "expiry", "expires",
    "scope", "scopes", "header", "length", "required", "set", "present",
];

/// Whether a field, key or name holds a credential: the linter's
/// `PCL307`/`PCL308` ask, and explanations never show such a value.
pub(crate) fn credential_name(name: &str) -> bool {
    // Lowercased letters and digits only, on the stack for names of a
    // usual length (explanations ask for every field they show).
    let mut buf = [0u8; 64];
    let mut n = 0;
    let mut long = String::new();
    for b in name.bytes().filter(u8::is_ascii_alphanumeric) {
        let b = b.to_ascii_lowercase();
        match buf.get_mut(n) {
            Some(slot) if long.is_empty() => {
                *slot = b;
                n += 1;
            }
            _ => {
                if long.is_empty() {
                    long.push_str(
                        std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or(""),
                    );
                }
                long.push(char::from(b));
            }
        }
    }
    let norm = if long.is_empty() {
        std::str::from_utf8(buf.get(..n).unwrap_or_default()).unwrap_or("")
    } else {
        long.as_str()
    };
    // Every credential word is at least this long (`token`).
    if norm.len() < 5 {
        return false;
    }
    CREDENTIAL_WORDS.iter().any(|w| norm.contains(w))
        && !NOT_CREDENTIAL_ENDINGS.iter().any(|e| norm.ends_with(e))
}
