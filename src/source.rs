//! Source text and positions: byte spans and named sources, shared by every
//! stage that reports where something is written.
//!
//! Invariant: a span is a byte range of the one source it belongs to; a
//! [`Source`] renders anywhere (its text and name travel with it), and shows
//! control characters escaped.

use miette::{MietteSpanContents, SourceCode, SpanContents};
use std::fmt;
use std::sync::Arc;

/// A byte range in one source file.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    /// Offset of the first byte.
    pub start: usize,
    /// Offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// The range `start..end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span::new(self.start.min(other.start), self.end.max(other.end))
    }

    /// Length in bytes.
    pub fn len(self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span is empty.
    pub fn is_empty(self) -> bool {
        self.len() == 0
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        miette::SourceSpan::new(span.start.into(), span.len())
    }
}

/// A named source text, shared by every finding that points into it.
#[derive(Clone)]
pub struct Source {
    /// The file name as given (a path, or a label for strings).
    pub name: Arc<str>,
    /// The full text.
    pub text: Arc<str>,
    /// The text as rendered, when it holds characters a terminal would
    /// act on (see [`escape_controls`]).
    shown: Option<Arc<str>>,
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Source")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Source {
    /// A source named `name` holding `text`.
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<Arc<str>>) -> Self {
        let text = text.into();
        Source {
            name: name.into(),
            shown: shown_text(&text),
            text,
        }
    }

    /// 1-based line and column of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let upto = self.text.get(..offset.min(self.text.len())).unwrap_or("");
        let line = upto.matches('\n').count() + 1;
        let col = upto
            .rsplit('\n')
            .next()
            .map(|l| l.chars().count())
            .unwrap_or(0)
            + 1;
        (line, col)
    }
}

impl SourceCode for Source {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, miette::MietteError> {
        let text = self.shown.as_deref().unwrap_or(&self.text);
        let inner = text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(MietteSpanContents::new_named(
            escape_controls(&self.name).into_owned(),
            inner.data(),
            *inner.span(),
            inner.line(),
            inner.column(),
            inner.line_count(),
        )))
    }
}

/// Whether a character must not reach a terminal as it is: C0 controls
/// but newline and tab, DEL, C1 controls, and the bidirectional overrides
/// and isolates that reorder what a reader sees.
fn is_unsafe_char(c: char) -> bool {
    (c.is_control() && c != '\n' && c != '\t')
        || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Text with every character that could drive a terminal (see
/// `is_unsafe_char`: ESC, BEL, CR, C1 controls, bidi overrides) written
/// as a visible escape such as `\u{1b}`. Every message, label, help line
/// and file name of a diagnostic goes through it before it is rendered.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Source text as it may be shown: each unsafe character replaced by
/// visible text of the same length in bytes (`?`, `¿` or `\u{fffd}`), so
/// every span still points where it did. Carriage returns that end a line
/// before a newline are kept. `None` when nothing needs replacing.
fn shown_text(text: &str) -> Option<Arc<str>> {
    let bad = |(at, c): (usize, char)| {
        is_unsafe_char(c) && !(c == '\r' && text.as_bytes().get(at + 1) == Some(&b'\n'))
    };
    if !text.char_indices().any(bad) {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    for (at, c) in text.char_indices() {
        if !bad((at, c)) {
            out.push(c);
            continue;
        }
        out.push(match c.len_utf8() {
            1 => '?',
            2 => '\u{bf}',
            _ => '\u{fffd}',
        });
    }
    Some(out.into())
}
