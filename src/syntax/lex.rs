//! Tokens of policy text, for the tools that work on text rather than on
//! the tree: the formatter, and everything that needs the comments (which
//! the grammar skips).
//!
//! Input: text. Output: tokens with their offsets and the line breaks
//! before them. Invariant: every byte of the text is in a token or is
//! whitespace, and strings (with their interpolations), regexes and
//! comments are single tokens, so nothing inside them is taken for code.

use crate::ast::Span;
use std::collections::HashSet;

/// Every `//` comment outside strings and regexes: (offset, text). Text
/// that cannot be split into tokens has none.
pub(crate) fn comments(text: &str) -> Vec<(usize, &str)> {
    lex(text, &HashSet::new())
        .map(|tokens| {
            tokens
                .into_iter()
                .filter(|t| t.kind == Kind::Comment)
                .map(|t| (t.start, t.text))
                .collect()
        })
        .unwrap_or_default()
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// A name, keyword, number or action name piece.
    Word,
    /// A string, regex or principal literal: printed as written.
    Literal,
    /// `// ...`.
    Comment,
    Open,
    Close,
    /// `,`.
    Comma,
    /// `:`.
    Colon,
    /// `.`.
    Dot,
    /// `?` (an optional or nullable mark in a shape).
    Question,
    /// Operators and other punctuation: `==`, `??`, `=>`, `|`, `*`, `=`, ...
    Op,
}

#[derive(Clone, Debug)]
pub(crate) struct Token<'t> {
    pub kind: Kind,
    pub text: &'t str,
    /// Byte offset of the token in the text.
    pub start: usize,
    /// Line breaks between the previous token and this one.
    #[cfg_attr(
        not(feature = "tools"),
        expect(dead_code, reason = "read by the formatter")
    )]
    pub breaks: usize,
}

/// Splits policy text into tokens; `Err` holds the span of a character
/// the language has no use for. `principals` holds the offsets where the
/// tree found principal literals (`user:14`, `account:{x}`): those become
/// one token each, which a lexer alone could not tell from a record field
/// `a:1`.
pub(crate) fn lex<'t>(text: &'t str, principals: &HashSet<usize>) -> Result<Vec<Token<'t>>, Span> {
    let bytes = text.as_bytes();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut breaks = 0;
    while let Some(&b) = bytes.get(i) {
        if b.is_ascii_whitespace() {
            breaks += usize::from(b == b'\n');
            i += 1;
            continue;
        }
        let start = i;
        let kind = match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = text
                    .get(i..)
                    .and_then(|t| t.find('\n'))
                    .map_or(text.len(), |n| i + n);
                Kind::Comment
            }
            b'"' => {
                i = end_of_string(text, i);
                Kind::Literal
            }
            b'r' if bytes.get(i + 1) == Some(&b'e') && bytes.get(i + 2) == Some(&b'"') => {
                i = end_of_regex(bytes, i + 2);
                Kind::Literal
            }
            b'-' if bytes.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = end_of_fraction(bytes, i + 1, end_of_word(bytes, i + 1));
                Kind::Word
            }
            c if c.is_ascii_alphanumeric() || c == b'_' => {
                i = end_of_fraction(bytes, i, end_of_word(bytes, i));
                // `user:14`, `role:"Trust Admin"`, `account:{x}`.
                if principals.contains(&start) {
                    i = end_of_principal_value(text, i + 1);
                    Kind::Literal
                } else {
                    i = end_of_glob(bytes, i);
                    Kind::Word
                }
            }
            // An action glob that starts with `*` (`*_read`): one word, as
            // `rs_catalog_*` is.
            b'*' if bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_') =>
            {
                i = end_of_glob(bytes, i);
                Kind::Word
            }
            b'(' | b'[' | b'{' => {
                i += 1;
                Kind::Open
            }
            b')' | b']' | b'}' => {
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b':' => {
                i += 1;
                Kind::Colon
            }
            b'.' => {
                i += 1;
                Kind::Dot
            }
            b'?' if bytes.get(i + 1) == Some(&b'?') => {
                i += 2;
                Kind::Op
            }
            b'?' => {
                i += 1;
                Kind::Question
            }
            b'=' | b'!' | b'<' | b'>' if bytes.get(i + 1) == Some(&b'=') => {
                i += 2;
                Kind::Op
            }
            b'-' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                Kind::Op
            }
            b'=' if bytes.get(i + 1) == Some(&b'>') => {
                i += 2;
                Kind::Op
            }
            b'=' | b'<' | b'>' | b'|' | b'*' | b'+' | b'-' | b'/' | b'%' => {
                i += 1;
                Kind::Op
            }
            _ => {
                let len = text
                    .get(i..)
                    .and_then(|t| t.chars().next())
                    .map_or(1, char::len_utf8);
                return Err(Span::new(i, i + len));
            }
        };
        tokens.push(Token {
            kind,
            text: text.get(start..i).unwrap_or(""),
            start,
            breaks,
        });
        breaks = 0;
    }
    Ok(tokens)
}

/// A decimal literal (`0.75`) is one word: digits from `start` to `end`,
/// then a point and more digits.
fn end_of_fraction(bytes: &[u8], start: usize, end: usize) -> usize {
    let digits = bytes
        .get(start..end)
        .is_some_and(|w| !w.is_empty() && w.iter().all(u8::is_ascii_digit));
    if digits && bytes.get(end) == Some(&b'.') && bytes.get(end + 1).is_some_and(u8::is_ascii_digit)
    {
        let mut i = end + 1;
        while bytes.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        return i;
    }
    end
}

fn end_of_word(bytes: &[u8], mut i: usize) -> usize {
    while let Some(&c) = bytes.get(i) {
        let inner_hyphen = c == b'-'
            && bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_alphanumeric() || *n == b'_');
        if c.is_ascii_alphanumeric() || c == b'_' || inner_hyphen {
            i += 1;
        } else {
            break;
        }
    }
    i
}

/// The end of an action glob whose word part ends at `i`: `*`s glued to
/// words (`rs_catalog_*`, `a*b`) stay one token. `*` is no operator of the
/// language, so outside action names it only stands alone (`actions: *`,
/// `{ *: string }`).
fn end_of_glob(bytes: &[u8], mut i: usize) -> usize {
    while bytes.get(i) == Some(&b'*') {
        i = end_of_word(bytes, i + 1);
    }
    i
}

/// The end of a string starting at `start` (its opening quote), past
/// escapes and `{...}` interpolations (which may hold strings themselves).
fn end_of_string(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' => i += 2,
            b'{' if bytes.get(i + 1) == Some(&b'{') => i += 2,
            b'}' if bytes.get(i + 1) == Some(&b'}') => i += 2,
            b'{' => i = end_of_braces(text, i),
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    text.len()
}

/// The end of a `{...}` interpolation starting at `start`.
fn end_of_braces(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let (mut i, mut depth) = (start, 0usize);
    while let Some(&c) = bytes.get(i) {
        match c {
            b'{' => depth += 1,
            b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i + 1;
                }
            }
            b'"' => {
                i = end_of_string(text, i);
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    text.len()
}

fn end_of_regex(bytes: &[u8], quote: usize) -> usize {
    let mut i = quote + 1;
    while let Some(&c) = bytes.get(i) {
        match c {
            b'\\' => i += 2,
            b'"' => return i + 1,
            _ => i += 1,
        }
    }
    bytes.len()
}

fn end_of_principal_value(text: &str, i: usize) -> usize {
    let bytes = text.as_bytes();
    match bytes.get(i) {
        Some(b'"') => end_of_string(text, i),
        Some(b'{') => end_of_braces(text, i),
        _ => {
            let mut j = i;
            while bytes
                .get(j)
                .is_some_and(|c| c.is_ascii_alphanumeric() || b"_-.@*+".contains(c))
            {
                j += 1;
            }
            j
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_skip_strings_interpolations_and_regexes() {
        let text = "let a = \"// not {b} {{ here\" // one\nlet r = re\"a//b\" // two";
        let found: Vec<&str> = comments(text).into_iter().map(|(_, c)| c).collect();
        assert_eq!(found, ["// one", "// two"]);
        assert_eq!(comments(text).first().map(|(at, _)| *at), Some(29));
    }

    #[test]
    fn a_character_the_language_has_no_use_for_is_refused_with_its_span() {
        assert_eq!(lex("a ! b", &HashSet::new()).err(), Some(Span::new(2, 3)));
        assert_eq!(
            lex("x == \"é\" # y", &HashSet::new()).err(),
            Some(Span::new(10, 11))
        );
        assert!(comments("a # b // c").is_empty());
    }

    #[test]
    fn principal_literals_are_one_token_only_where_the_tree_saw_them() {
        let text = "[role:\"Trust Admin\", {a:1}]";
        let at: HashSet<usize> = [1].into_iter().collect();
        let kinds: Vec<(Kind, &str)> = lex(text, &at)
            .unwrap()
            .into_iter()
            .map(|t| (t.kind, t.text))
            .collect();
        assert_eq!(kinds[1], (Kind::Literal, "role:\"Trust Admin\""));
        assert_eq!(kinds[4], (Kind::Word, "a"));
        assert_eq!(kinds[5], (Kind::Colon, ":"));
    }
}
