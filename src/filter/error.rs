//! Why a filter could not be computed or rendered, as a diagnostic with a
//! stable code (`PCL6xx`, `docs/diagnostics.md`).

use crate::ast::Span;
use crate::diagnostics::{Code, Finding, Source};
use crate::eval::DecidingStatement;
use std::fmt;

/// A filter that cannot be computed (the policy uses something no database
/// condition can say), or a mapping or rendering that cannot be used. Never
/// a wider filter: the answer is this error instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FilterError {
    /// `PCL600` to `PCL604`.
    pub code: Code,
    /// What cannot be done, naming the construct or the mapping entry.
    pub message: String,
    /// How to get a filter.
    pub help: Option<String>,
    /// The statement being evaluated when the construct was met.
    pub statement: Option<Box<DecidingStatement>>,
    /// The construct, when it is written in that statement's file.
    pub span: Option<Span>,
}

impl FilterError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> FilterError {
        FilterError {
            code,
            message: message.into(),
            help: None,
            statement: None,
            span: None,
        }
    }

    pub(crate) fn help(mut self, help: impl Into<String>) -> FilterError {
        self.help = Some(help.into());
        self
    }

    /// The error as a finding, pointing into `source` (the text of the
    /// statement's file) when it is given.
    pub fn to_finding(&self, source: Option<&Source>) -> Finding {
        let span = self.span.or(self.statement.as_ref().map(|s| s.span));
        let mut f = Finding::new(self.code, span.unwrap_or_default(), self.message.clone());
        if let Some(s) = &self.statement {
            f = f.label(if self.span.is_some() {
                format!("in `{}`", s.id)
            } else {
                format!("reached from `{}`", s.id)
            });
        }
        if let Some(h) = &self.help {
            f = f.help(h.clone());
        }
        match source {
            Some(src) if span.is_some() => f.in_source(src),
            _ => f,
        }
    }
}

impl fmt::Display for FilterError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FilterError {}

impl miette::Diagnostic for FilterError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h.as_str()) as Box<dyn fmt::Display>)
    }
}
