//! Pragmas: `// portcullis: allow(CODE)` comments that set a finding's level
//! for the item or statement they stand next to.

use super::err::PragmaError;
use super::*;

/// `// portcullis: allow(PCL306) deny(secret-in-clear)`: sets levels for the
/// item or statement that starts on the comment's line (a trailing comment)
/// or on the next line with code (a comment on its own line).
pub(super) struct Pragma {
    pub(super) codes: Vec<Code>,
    pub(super) level: Level,
    pub(super) scope: Span,
}

impl Pragma {
    pub(super) fn covers(&self, span: Span) -> bool {
        self.scope.start <= span.start && span.start < self.scope.end.max(self.scope.start + 1)
    }
}

pub(super) const PRAGMA_PREFIX: &str = "portcullis:";

/// Every item and statement span: what a pragma can apply to.
pub(super) fn anchors(file: &File) -> Vec<Span> {
    let mut spans = Vec::new();
    for item in &file.items {
        spans.push(item.span());
        let body = match item {
            Item::Authenticate { body, .. } => body,
            Item::Policy(p) => &p.body,
            _ => continue,
        };
        spans.extend(body.iter().map(Stmt::span));
    }
    spans
}

pub(super) fn pragmas_of(source: &Source, anchors: &[Span]) -> (Vec<Pragma>, Vec<Finding>) {
    let text: &str = &source.text;
    let mut pragmas = Vec::new();
    let mut problems = Vec::new();
    for (start, comment) in crate::syntax::lex::comments(text) {
        let body = comment.trim_start_matches('/').trim();
        let Some(rest) = body.strip_prefix(PRAGMA_PREFIX) else {
            continue;
        };
        let span = Span::new(start, start + comment.len());
        let line_start = text
            .get(..start)
            .and_then(|t| t.rfind('\n'))
            .map_or(0, |i| i + 1);
        let trailing = text
            .get(line_start..start)
            .is_some_and(|before| !before.trim().is_empty());
        let target_line = if trailing {
            line_start
        } else {
            next_code_line(text, start)
        };
        let line_end = text
            .get(target_line..)
            .and_then(|t| t.find('\n'))
            .map_or(text.len(), |i| target_line + i);
        let scope = anchors
            .iter()
            .filter(|a| a.start >= target_line && a.start < line_end)
            .max_by_key(|a| a.len())
            .copied()
            .unwrap_or(Span::new(target_line, line_end));
        match parse_directives(rest) {
            Ok(directives) => {
                for (level, codes) in directives {
                    let mut ok = Vec::new();
                    for word in codes {
                        match Code::parse(&word) {
                            Some(code) if code.adjustable() => ok.push(code),
                            Some(code) => problems.push(pragma_problem(
                                source,
                                span,
                                format!(
                                    "{} cannot be set to {}: it makes the policy unusable",
                                    code.code(),
                                    format!("{level:?}").to_lowercase()
                                ),
                                "only lints (PCL3xx) can change severity; fix the error instead",
                            )),
                            None => problems.push(pragma_problem(
                                source,
                                span,
                                format!("unknown code `{word}` in a pragma"),
                                "name a code such as `PCL306` or its name such as `unused-definition`",
                            )),
                        }
                    }
                    pragmas.push(Pragma {
                        codes: ok,
                        level,
                        scope,
                    });
                }
            }
            Err(e) => problems.push(pragma_problem(
                source,
                span,
                e.to_string(),
                "write `// portcullis: allow(CODE, ...)`, `warn(...)` or `deny(...)`",
            )),
        }
    }
    (pragmas, problems)
}

pub(super) fn pragma_problem(source: &Source, span: Span, message: String, help: &str) -> Finding {
    Finding::new(Code::InvalidPragma, span, message)
        .label("this pragma")
        .help(help)
        .in_source(source)
}

/// `allow(A, B) deny(C)` into levels and code words.
pub(super) fn parse_directives(text: &str) -> Result<Vec<(Level, Vec<String>)>, PragmaError> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let open = rest
            .find('(')
            .ok_or_else(|| PragmaError::NotADirective(rest.to_string()))?;
        let word = rest.get(..open).unwrap_or("").trim();
        let level =
            Level::parse(word).ok_or_else(|| PragmaError::UnknownLevel(word.to_string()))?;
        let close = rest
            .find(')')
            .filter(|c| *c > open)
            .ok_or_else(|| PragmaError::Unclosed(word.to_string()))?;
        let codes = rest
            .get(open + 1..close)
            .unwrap_or("")
            .split(',')
            .map(|c| c.trim().to_string())
            .filter(|c| !c.is_empty())
            .collect::<Vec<_>>();
        if codes.is_empty() {
            return Err(PragmaError::NoCode(word.to_string()));
        }
        out.push((level, codes));
        rest = rest
            .get(close + 1..)
            .unwrap_or("")
            .trim_start_matches([',', ' ', '\t']);
    }
    if out.is_empty() {
        return Err(PragmaError::Empty);
    }
    Ok(out)
}

/// The start of the first line after `at` that holds code, not only a comment.
pub(super) fn next_code_line(text: &str, at: usize) -> usize {
    let mut offset = text
        .get(at..)
        .and_then(|t| t.find('\n'))
        .map_or(text.len(), |i| at + i + 1);
    while let Some(line) = text.get(offset..).and_then(|t| t.split('\n').next()) {
        let trimmed = line.trim();
        if offset >= text.len() || !(trimmed.is_empty() || trimmed.starts_with("//")) {
            break;
        }
        offset += line.len() + 1;
    }
    offset.min(text.len())
}
