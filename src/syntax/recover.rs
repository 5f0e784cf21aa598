//! Recovery: the bracket-nesting check that runs before pest recurses, and
//! skipping a broken item so later items are still parsed.

use super::*;

/// Syntax errors reported for one file before the parser stops recovering.
pub(super) const MAX_SYNTAX_ERRORS: usize = 20;

/// Words that start a top-level item; recovery resumes at a line that starts
/// with one of them in the first column (and the formatter starts items there).
pub(crate) const ITEM_STARTS: &[&str] = &[
    "import",
    "actions",
    "open",
    "public",
    "token",
    "undeclared",
    "principals",
    "request",
    "data",
    "let",
    "rule",
    "graph",
    "authenticate",
    "policy",
    "override",
];

/// Recovery after a syntax error at `at`: the item that holds it (from the
/// last item start at or before `at` to the next one after it) is replaced
/// by spaces, keeping every byte offset and line break, so the rest of the
/// file can be parsed and its errors reported too. `None` when there is
/// nothing left to skip.
pub(super) fn skip_broken_item(text: &str, at: usize) -> Option<String> {
    let mut starts = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let word: String = line
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
            .collect();
        if ITEM_STARTS.contains(&word.as_str()) {
            starts.push(offset);
        }
        offset += line.len();
    }
    let from = starts
        .iter()
        .copied()
        .filter(|s| *s <= at)
        .max()
        .unwrap_or(0);
    let to = starts
        .iter()
        .copied()
        .find(|s| *s > at)
        .unwrap_or(text.len());
    let broken = text.get(from..to)?;
    if broken.trim().is_empty() {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    out.push_str(text.get(..from)?);
    out.extend(broken.chars().flat_map(|c| {
        let fill = if c == '\n' { '\n' } else { ' ' };
        std::iter::repeat_n(fill, if c == '\n' { 1 } else { c.len_utf8() })
    }));
    out.push_str(text.get(to..)?);
    Some(out)
}

/// Strings nested inside interpolations deeper than this are refused:
/// `"{ "{ "{ "{ "{x}" }" }" }" }"` is five deep. Policies need one or two
/// levels. A bound on this nesting is what keeps a future grammar change
/// from making the backtracking parser's work grow as a power of it.
pub const MAX_INTERPOLATION_DEPTH: usize = 4;

/// Where the pre-scan of [`nesting_error`] stands.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Scan {
    /// Policy code; the value is the bracket depth at which the enclosing
    /// interpolation (if any) was opened.
    Code(usize),
    /// Inside a string.
    Str,
}

/// Brackets nested deeper than `max` (and strings in interpolations nested
/// deeper than [`MAX_INTERPOLATION_DEPTH`]) are refused before pest sees
/// them: pest's recursive descent would otherwise exhaust the stack. The
/// scan follows strings, their `{...}` interpolations (code again, whose
/// strings nest), `{{`/`}}` and `\` escapes, patterns and comments, as the
/// grammar does; an interpolation counts as a bracket.
pub(super) fn nesting_error(text: &str, max: usize) -> Option<Box<ParseError>> {
    let too_deep = |at: usize, message: String, help: &str| {
        Some(Box::new(
            Finding::new(Code::TooDeep, Span::new(at, at + 1), message)
                .label("too deep here")
                .help(help.to_string()),
        ))
    };
    let bytes = text.as_bytes();
    let mut stack = vec![Scan::Code(0)];
    let mut depth = 0usize;
    let mut at = 0usize;
    while let Some(&b) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        let top = stack.last().copied().unwrap_or(Scan::Code(0));
        match (top, b) {
            (Scan::Str, b'\\') => at += 1,
            (Scan::Str, b'{') if next == Some(b'{') => at += 1,
            (Scan::Str, b'}') if next == Some(b'}') => at += 1,
            (Scan::Str, b'"') => {
                stack.pop();
            }
            (Scan::Str, b'{') => {
                depth += 1;
                if depth > max {
                    return too_deep(
                        at,
                        format!("brackets are nested more than {max} deep"),
                        "split the expression into named rules",
                    );
                }
                stack.push(Scan::Code(depth));
            }
            (Scan::Str, _) => {}
            (Scan::Code(_), b'"') => {
                let strings = stack.iter().filter(|s| **s == Scan::Str).count();
                if strings >= MAX_INTERPOLATION_DEPTH {
                    return too_deep(
                        at,
                        format!(
                            "strings are nested in interpolations more than \
                             {MAX_INTERPOLATION_DEPTH} deep"
                        ),
                        "compute the inner strings in named `let`s",
                    );
                }
                stack.push(Scan::Str);
            }
            (Scan::Code(_), b'/') if next == Some(b'/') => {
                while bytes.get(at).is_some_and(|c| *c != b'\n') {
                    at += 1;
                }
                continue;
            }
            (Scan::Code(_), b'r')
                if next == Some(b'e')
                    && bytes.get(at + 2) == Some(&b'"')
                    && !(at > 0
                        && bytes
                            .get(at - 1)
                            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')) =>
            {
                // A pattern: its body runs to the next unescaped quote.
                at += 3;
                while let Some(&c) = bytes.get(at) {
                    match c {
                        b'\\' => at += 1,
                        b'"' => break,
                        _ => {}
                    }
                    at += 1;
                }
            }
            (Scan::Code(_), b'(' | b'[' | b'{') => {
                depth += 1;
                if depth > max {
                    return too_deep(
                        at,
                        format!("brackets are nested more than {max} deep"),
                        "split the expression into named rules",
                    );
                }
            }
            (Scan::Code(opened), b')' | b']' | b'}') => {
                if b == b'}' && opened == depth && stack.len() > 1 {
                    // The `}` that closes an interpolation.
                    stack.pop();
                }
                depth = depth.saturating_sub(1);
            }
            (Scan::Code(_), _) => {}
        }
        at += 1;
    }
    None
}
