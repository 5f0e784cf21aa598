//! Patterns that arrive as text: regular expressions held in data or the
//! request (compiled anchored, as `re"..."` literals are, within
//! `Limits::max_regex_size`), the per-data-load cache of the compiled ones,
//! and path patterns matched by segment (`/users/:id/*`, `/users/{id}`).
//!
//! Invariants: a cached pattern is found by its text, never by where the
//! text lives, so a cache shared by cloned data cannot answer for another
//! string; path matching is linear in the path and the pattern and never
//! allocates.

use std::collections::HashMap;

/// Regular expressions compiled once, when data was loaded, by their text.
#[derive(Debug, Default)]
pub(crate) struct PatternCache {
    by_text: HashMap<Box<str>, regex::Regex>,
}

impl PatternCache {
    /// The empty cache, shared.
    pub(crate) fn empty() -> &'static PatternCache {
        static EMPTY: std::sync::OnceLock<PatternCache> = std::sync::OnceLock::new();
        EMPTY.get_or_init(PatternCache::default)
    }

    /// The compiled form of `text`, if it was compiled at load.
    #[inline]
    pub(crate) fn get(&self, text: &str) -> Option<&regex::Regex> {
        if self.by_text.is_empty() {
            return None;
        }
        self.by_text.get(text)
    }

    /// Compiles `text` unless it is cached already.
    pub(crate) fn insert(&mut self, text: &str, size_limit: usize) -> Result<(), String> {
        if !self.by_text.contains_key(text) {
            let re = compile(text, size_limit)?;
            self.by_text.insert(text.into(), re);
        }
        Ok(())
    }

    /// How many patterns it holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_text.len()
    }
}

/// Compiles pattern text anchored at both ends, within `size_limit` bytes
/// of compiled program; the error says why in one line.
pub(crate) fn compile(text: &str, size_limit: usize) -> Result<regex::Regex, String> {
    let anchored = format!("^(?:{text})$");
    regex::RegexBuilder::new(&anchored)
        .size_limit(size_limit)
        .dfa_size_limit(size_limit)
        .build()
        .map_err(|err| match &err {
            regex::Error::CompiledTooBig(limit) => {
                format!("it compiles to more than {limit} bytes")
            }
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .trim_start_matches("error: ")
                .to_string(),
        })
}

/// Matches a path against a path pattern, segment by segment (segments
/// are split at `/`):
/// - `:name` or `{name}`, a whole segment: any one non-empty segment, which
///   `param` receives with its name (a bare `:` names nothing);
/// - `*` as the last segment: the rest of the path, one or more segments of
///   any text (`/files/*` matches `/files/` and `/files/a/b`, not `/files`);
/// - `*` elsewhere: any one segment;
/// - any other segment: the same text, byte for byte.
pub(crate) fn path_match<'p>(
    pattern: &str,
    path: &'p str,
    mut param: impl FnMut(&str, &'p str),
) -> bool {
    let mut pat = pattern.split('/').peekable();
    let mut segs = path.split('/');
    while let Some(p) = pat.next() {
        let last = pat.peek().is_none();
        if p == "*" && last {
            return segs.next().is_some();
        }
        let Some(s) = segs.next() else {
            return false;
        };
        if p == "*" {
            continue;
        }
        if let Some(name) = param_name(p) {
            if s.is_empty() {
                return false;
            }
            if !name.is_empty() {
                param(name, s);
            }
            continue;
        }
        if p != s {
            return false;
        }
    }
    segs.next().is_none()
}

/// The name of a parameter segment: `:id` or `{id}`; a bare `:` is a
/// parameter without a name (it matches, and names nothing).
fn param_name(segment: &str) -> Option<&str> {
    if let Some(name) = segment.strip_prefix(':') {
        return Some(name);
    }
    let name = segment.strip_prefix('{')?.strip_suffix('}')?;
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, s: &str) -> bool {
        path_match(p, s, |_, _| {})
    }

    #[test]
    fn segments_match_as_keymatch2_does() {
        assert!(m("/foo", "/foo"));
        assert!(!m("/foo", "/foo/"));
        assert!(!m("/foo", "/foobar"));
        assert!(m("/foo/*", "/foo/"));
        assert!(m("/foo/*", "/foo/bar/baz"));
        assert!(!m("/foo/*", "/foo"));
        assert!(m("/resource/:id", "/resource/1"));
        assert!(!m("/resource/:id", "/resource/"));
        assert!(!m("/resource/:id", "/resource/1/2"));
        assert!(m("/users/{id}/books", "/users/7/books"));
        assert!(!m("/users/{id}/books", "/users/7/pens"));
        assert!(m("/foo/:", "/foo/bar"));
        assert!(!m("/foo/:", "/foo/bar/baz"));
        assert!(m("/foo/:/baz", "/foo/bar/baz"));
        assert!(m("/a/*/c", "/a/b/c"));
        assert!(!m("/a/*/c", "/a/b/x/c"));
        // A segment that only starts like a parameter is text.
        assert!(m("/a/{id", "/a/{id"));
        assert!(!m("/a/{id", "/a/7"));
        assert!(m("*", "anything"));
        assert!(m("", ""));
        assert!(!m("", "/"));
    }

    #[test]
    fn parameters_are_handed_over() {
        let mut got = Vec::new();
        assert!(path_match("/u/:user/b/{book}", "/u/alice/b/9", |n, v| got
            .push((n.to_string(), v))));
        assert_eq!(
            got,
            vec![("user".to_string(), "alice"), ("book".to_string(), "9")]
        );
    }

    #[test]
    fn patterns_compile_anchored_and_within_the_limit() {
        let re = compile("a|b", 1 << 20).unwrap();
        assert!(re.is_match("a") && !re.is_match("ab"));
        assert!(compile("(", 1 << 20).is_err());
        assert!(compile("a{1000}{1000}", 1 << 10)
            .unwrap_err()
            .contains("more than"));
        let mut cache = PatternCache::default();
        cache.insert("x+", 1 << 20).unwrap();
        assert!(cache.get("x+").unwrap().is_match("xxx"));
        assert!(cache.get("y").is_none());
        assert_eq!(cache.len(), 1);
    }
}
