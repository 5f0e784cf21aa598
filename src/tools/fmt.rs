//! `portcullis fmt`: one canonical layout for policy files.
//!
//! Input: policy text. Output: the same policy laid out canonically, or the
//! reason it cannot be. The formatter works on tokens, not on the tree: it
//! keeps the author's line breaks (as gofmt does) and comments, and decides
//! indentation, spacing, blank lines and the column of trailing comments.
//! Invariants: the output parses to the same tree as the input (checked on
//! every run; a difference is an error, never written) with the same
//! comments in the same order, and formatting it again changes nothing.

use crate::ast::{File, Span};
use crate::diagnostics::{Code, Finding, PolicyError, Source};
use crate::syntax;
use crate::syntax::lex::{lex, Kind, Token};

/// Spaces per indentation level.
const INDENT: usize = 2;

/// Lays `text` out canonically. Text that does not parse is refused with
/// its parse findings; it is never reformatted.
pub fn format_source(name: &str, text: &str) -> Result<String, PolicyError> {
    let source = Source::new(name, text);
    let tree = syntax::parse(text).map_err(|findings| PolicyError {
        findings: findings.into_iter().map(|f| f.in_source(&source)).collect(),
    })?;
    // `user:14` and a record field `a:1` look alike to a lexer; the tree
    // knows which colons belong to principal literals.
    let mut principals = std::collections::HashSet::new();
    crate::ast::for_each_expr(&tree, &mut |e| {
        if let crate::ast::ExprKind::Principal { .. } = e.kind {
            principals.insert(e.span.start);
        }
    });
    let tokens = lex(text, &principals)
        .map_err(|span| refuse(&source, span, "this text cannot be split into tokens"))?;
    let formatted = layout(&tokens);
    verify(&source, &tree, &formatted)?;
    Ok(formatted)
}

/// The safety net: `formatted` must parse to `tree` (spans aside) and keep
/// the source's comments in order, or it is refused.
fn verify(source: &Source, tree: &File, formatted: &str) -> Result<(), PolicyError> {
    let same_tree =
        syntax::parse(formatted).is_ok_and(|again| without_spans(&again) == without_spans(tree));
    if same_tree && comment_texts(&source.text) == comment_texts(formatted) {
        Ok(())
    } else {
        Err(refuse(
            source,
            Span::new(0, 0),
            "formatting would change what this file means, so it is left as it is",
        ))
    }
}

fn refuse(source: &Source, span: Span, message: &str) -> PolicyError {
    PolicyError {
        findings: vec![Finding::new(Code::FormatRefused, span, message)
            .label("here")
            .help("this is a bug in the formatter; please report it with the file")
            .in_source(source)],
    }
}

/// The tree's debug form with every span removed: equal trees print equal.
fn without_spans(file: &File) -> String {
    let text = format!("{file:?}");
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find("Span { start: ") {
        out.push_str(rest.get(..at).unwrap_or(""));
        let after = rest.get(at..).unwrap_or("");
        let end = after.find('}').map_or(after.len(), |i| i + 1);
        rest = after.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

fn comment_texts(text: &str) -> Vec<&str> {
    crate::syntax::lex::comments(text)
        .into_iter()
        .map(|(_, c)| c.trim_end())
        .collect()
}

// ---------------------------------------------------------------- layout

/// Words after which `(` and `[` open a group or list rather than a call
/// or an index.
fn is_keyword(word: &str) -> bool {
    syntax::RESERVED.contains(&word)
        || matches!(
            word,
            "any" | "all" | "first" | "last" | "count" | "actions" | "open" | "public" | "token"
        )
}

/// Binary operators: a line may end or begin with one and continue.
fn is_operator(t: &Token) -> bool {
    match t.kind {
        Kind::Op => t.text != "*",
        Kind::Word => matches!(
            t.text,
            "and" | "or" | "not" | "in" | "like" | "matches" | "when" | "with" | "then" | "else"
        ),
        _ => false,
    }
}

/// What a bracket holds, which decides what starts a new line inside it.
#[derive(Clone, Copy, PartialEq)]
enum Holds {
    /// Top level: items.
    Items,
    /// A policy or `authenticate` block: statements.
    Statements,
    /// Anything else: expressions, fields, kinds.
    Expressions,
}

struct Frame {
    holds: Holds,
    /// Indent level of the line that opened the bracket.
    opened_at: usize,
}

const STATEMENT_WORDS: &[&str] = &["let", "claims", "allow", "deny", "unauthenticated"];

/// Whether the line starting at `tokens[0]` starts an entry of `holds`
/// rather than continuing the one before it.
fn starts_entry(holds: Holds, tokens: &[Token], previous: Option<&Token>) -> bool {
    let Some(first) = tokens.first() else {
        return true;
    };
    match holds {
        Holds::Items => first.kind == Kind::Word && syntax::ITEM_STARTS.contains(&first.text),
        Holds::Statements => {
            let label =
                first.kind == Kind::Word && tokens.get(1).is_some_and(|t| t.kind == Kind::Colon);
            label || (first.kind == Kind::Word && STATEMENT_WORDS.contains(&first.text))
        }
        Holds::Expressions => {
            let ends_open = previous.is_some_and(|p| {
                is_operator(p) || matches!(p.kind, Kind::Colon) || p.text == "=" || p.text == "=>"
            });
            let begins_joined = is_operator(first)
                || matches!(first.kind, Kind::Dot)
                || (first.kind == Kind::Word && first.text == "for");
            !(ends_open || begins_joined)
        }
    }
}

/// The text between two tokens on one line.
fn gap(before: Option<&Token>, prev: &Token, cur: &Token) -> &'static str {
    use Kind::*;
    // `graph g = data.g edge [0] -> [1] within [2]`, `node .id parents .ps`:
    // row paths after these words, unless the word is itself a field.
    let graph_word = prev.kind == Word
        && matches!(prev.text, "edge" | "within" | "node" | "parents")
        && !before.is_some_and(|b| b.kind == Dot);
    if graph_word && matches!(cur.kind, Dot | Open) {
        return " ";
    }
    match (prev.kind, cur.kind) {
        (_, Comment) => "  ",
        (_, Comma | Colon | Question) => "",
        (Open, Close) => "",
        (_, Close) if cur.text == "}" => " ",
        (_, Close) => "",
        (Dot, _) => "",
        // `.id` after `==` or `in` is a path relative to the caller.
        (Op, Dot) => " ",
        (Word, Dot) if prev.text == "in" => " ",
        (_, Dot) => "",
        (Open, _) if prev.text == "{" => " ",
        (Open, _) => "",
        (Comma | Colon, _) => " ",
        (Word, Open) if cur.text != "{" && !is_keyword(prev.text) => "",
        (Literal | Close, Open) if cur.text != "{" => "",
        _ => " ",
    }
}

struct Line<'t> {
    indent: usize,
    /// Blank lines before it (0 or 1).
    blank: bool,
    code: String,
    comment: Option<&'t str>,
}

fn layout(tokens: &[Token]) -> String {
    let mut frames = vec![Frame {
        holds: Holds::Items,
        opened_at: 0,
    }];
    let mut lines: Vec<Line> = Vec::new();
    let mut previous_code: Option<&Token> = None;
    // The item keyword the current top-level item started with.
    let mut item_word = "";
    // Whether the last line written ends with an opening bracket.
    let mut last_ends_open = false;
    // One source line at a time: a token after a line break starts one.
    for toks in tokens.chunk_by(|_, next| next.breaks == 0) {
        let Some(first) = toks.first() else { continue };
        let frame = frames
            .last()
            .map_or((Holds::Items, 0), |f| (f.holds, f.opened_at));
        let inner = if frames.len() == 1 { 0 } else { frame.1 + 1 };
        let indent = if first.kind == Kind::Close {
            frame.1
        } else if first.kind == Kind::Comment || starts_entry(frame.0, toks, previous_code) {
            inner
        } else {
            inner + 1
        };
        if frames.len() == 1
            && first.kind == Kind::Word
            && syntax::ITEM_STARTS.contains(&first.text)
        {
            item_word = first.text;
        }
        // No blank line at the start of the file or of a bracket, or
        // before a closing bracket.
        let after_open = lines.is_empty() || last_ends_open;
        let blank = first.breaks > 1 && !after_open && first.kind != Kind::Close;
        let mut code = String::new();
        let mut comment = None;
        let mut prev: Option<&Token> = None;
        let mut before: Option<&Token> = None;
        for t in toks {
            if t.kind == Kind::Comment {
                comment = Some(t.text.trim_end());
                continue;
            }
            if let Some(p) = prev {
                code.push_str(gap(before, p, t));
            }
            code.push_str(t.text);
            match t.kind {
                Kind::Open => {
                    let holds = if t.text == "{"
                        && frames.len() == 1
                        && matches!(item_word, "policy" | "override" | "authenticate")
                    {
                        Holds::Statements
                    } else {
                        Holds::Expressions
                    };
                    frames.push(Frame {
                        holds,
                        opened_at: indent,
                    });
                }
                Kind::Close if frames.len() > 1 => {
                    frames.pop();
                }
                _ => {}
            }
            before = prev;
            prev = Some(t);
            previous_code = Some(t);
        }
        last_ends_open = prev.is_some_and(|p| p.kind == Kind::Open) && comment.is_none();
        lines.push(Line {
            indent,
            blank,
            code,
            comment,
        });
    }
    render(&lines)
}

/// Writes the lines, aligning the trailing comments of consecutive lines.
fn render(lines: &[Line]) -> String {
    let width = |l: &Line| l.indent * INDENT + l.code.chars().count();
    let mut out = String::new();
    let mut i = 0;
    while i < lines.len() {
        // A run of consecutive lines that all carry code and a trailing comment.
        let mut end = i;
        while lines
            .get(end)
            .is_some_and(|l| !l.code.is_empty() && l.comment.is_some() && (end == i || !l.blank))
        {
            end += 1;
        }
        let end = end.max(i + 1);
        let run = lines.get(i..end).unwrap_or_default();
        let column = run.iter().map(width).max().unwrap_or(0);
        for l in run {
            if l.blank {
                out.push('\n');
            }
            out.push_str(&" ".repeat(l.indent * INDENT));
            out.push_str(&l.code);
            if let Some(c) = l.comment {
                if !l.code.is_empty() {
                    out.push_str(&" ".repeat(column.saturating_sub(width(l)) + 2));
                }
                out.push_str(c);
            }
            out.push('\n');
        }
        i = end;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format_source("t.pcl", text) {
            Ok(s) => s,
            Err(e) => panic!("{}", e.summary()),
        }
    }

    #[test]
    fn the_safety_net_refuses_output_that_changes_meaning_or_loses_a_comment() {
        let text = "actions: read // the only one\n";
        let source = Source::new("t.pcl", text);
        let tree = syntax::parse(text).unwrap();
        assert!(verify(&source, &tree, "actions: read  // the only one\n").is_ok());
        for wrong in [
            "actions: write  // the only one\n",
            "actions: read\n",
            "actions: read  // another\n",
            "actions read\n",
        ] {
            let err = verify(&source, &tree, wrong).unwrap_err();
            assert!(
                err.summary().contains("would change what this file means"),
                "{wrong}"
            );
        }
    }

    #[test]
    fn spacing_and_indentation_are_canonical() {
        let messy = "actions:read,write\n\n\n\npolicy   p for read,write in order{\n\
                     admin: allow when principal.roles[0]==\"admin\"\n\
                     deny \"no\" when(principal==null)or not(true)\n\
                     }\n";
        assert_eq!(
            fmt(messy),
            "actions: read, write\n\npolicy p for read, write in order {\n  \
             admin: allow when principal.roles[0] == \"admin\"\n  \
             deny \"no\" when (principal == null) or not (true)\n}\n"
        );
    }

    #[test]
    fn continuation_lines_take_one_more_level() {
        let messy = "rule r(x) =\nany n in x.roles: n == \"a\"\n   or n == \"b\"\n";
        assert_eq!(
            fmt(messy),
            "rule r(x) =\n  any n in x.roles: n == \"a\"\n  or n == \"b\"\n"
        );
    }
}
