//! Syntax errors that say what to do. pest reports where it stopped and
//! what it could have read there; this looks at the text around that place
//! for the mistakes people make most — a keyword misspelt, an operator or
//! quote from another language, an operator without its operands, a number
//! with two points, `with` before `when`, a label without its space, a bracket
//! never closed — and rewrites the finding to name the fix.
//!
//! Invariant: a hint only changes the message, the labels, the help and,
//! for an unclosed bracket, the span (to where the bracket opened); the
//! finding stays a `PCL100` and recovery still skips the item it is in.

use super::*;
use crate::diagnostics::{did_you_mean, docs_url};
use crate::syntax::recover::ITEM_STARTS;

/// A finding for the syntax error pest reported at `finding.span`, with
/// `positives` the rules it could have read there, rewritten when the
/// text shows a mistake we know.
pub(super) fn hint(finding: ParseError, text: &str, positives: &[Rule]) -> ParseError {
    let at = finding.span.start;
    let rest = text.get(at..).unwrap_or("");
    let before = text.get(..at).unwrap_or("");
    if let Some(f) = unclosed(text, at) {
        return f;
    }
    if let Some(f) = label_without_space(rest, at) {
        return f;
    }
    if let Some(f) = foreign_operator(rest, before, at) {
        return f;
    }
    if let Some(f) = when_after_with(rest, before, at) {
        return f;
    }
    if let Some(f) = misspelt_keyword(rest, at, positives) {
        return f;
    }
    finding
}

fn syntax(span: Span, message: impl Into<String>) -> Finding {
    Finding::new(Code::SyntaxError, span, message)
}

/// The word at the start of `s` (letters, digits, `_`, inner `-`).
fn word(s: &str) -> &str {
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
        .map_or(s.len(), |(i, _)| i);
    s.get(..end).unwrap_or("").trim_end_matches('-')
}

/// `owner:allow` or `owner : allow`: a label is a name, a colon and a space.
fn label_without_space(rest: &str, at: usize) -> Option<Finding> {
    let name = word(rest);
    if name.is_empty() || RESERVED.contains(&name) {
        return None;
    }
    let after = rest.get(name.len()..)?;
    let colon = after.trim_start_matches([' ', '\t']);
    let outcome_text = colon.strip_prefix(':')?.trim_start_matches([' ', '\t']);
    let outcome = word(outcome_text);
    if !["allow", "deny", "unauthenticated"].contains(&outcome) {
        return None;
    }
    let len = rest.len() - outcome_text.len() + outcome.len();
    let message = if after.starts_with(':') {
        format!("the label `{name}` needs a space after its colon")
    } else {
        format!("the label `{name}` needs its colon right after the name, then a space")
    };
    Some(
        syntax(Span::new(at, at + len), message)
        .label(format!("write `{name}: {outcome}`"))
        .help(format!(
            "a statement's label is its name, a colon and a space: `{name}: {outcome} when ...` (see {})",
            docs_url("language#93-labels-and-statement-ids")
        )),
    )
}

/// Operators and quotes of other languages, operators without operands,
/// numbers with two points.
fn foreign_operator(rest: &str, before: &str, at: usize) -> Option<Finding> {
    let two = rest.get(..2).unwrap_or(rest);
    let one = rest.get(..1).unwrap_or("");
    let operators = docs_url("language#13-operators");
    let instead = |op: &str, ours: &str, example: &str| {
        Some(
            syntax(
                Span::new(at, at + op.len()),
                format!("`{op}` is not an operator in Portcullis"),
            )
            .label(format!("write `{ours}`"))
            .help(format!("{example} (see {operators})")),
        )
    };
    match two {
        "&&" => return instead("&&", "and", "both conditions must hold: `a and b`"),
        "||" => return instead("||", "or", "either condition may hold: `a or b`"),
        _ => {}
    }
    if one == "!" && two != "!=" {
        return instead(
            "!",
            "not",
            "negate a condition with `not`: `not resource.locked`",
        );
    }
    if one == "=" && two != "==" && two != "=>" {
        return Some(
            syntax(Span::new(at, at + 1), "`=` is not a comparison")
                .label("write `==`")
                .help(format!(
                    "compare with `==` or `!=`; `=` only names a value, in `let` and `rule` (see {operators})"
                )),
        );
    }
    if one == "'" {
        let inner = rest.get(1..)?;
        let close = inner
            .find(['\'', '\n'])
            .filter(|i| inner.get(*i..*i + 1) == Some("'"));
        let help = match close.and_then(|i| inner.get(..i)) {
            Some(s) => format!("write `\"{s}\"`"),
            None => "write the string between `\"` and `\"`".to_string(),
        };
        let len = close.map_or(1, |i| i + 2);
        return Some(
            syntax(
                Span::new(at, at + len),
                "strings are written in double quotes",
            )
            .label("single quotes")
            .help(format!(
                "{help} (see {})",
                docs_url("language#3-lexical-structure")
            )),
        );
    }
    // `1.2.5`: the parser read `1.2`, then `.` as a field, and stopped at `5`.
    let digits_before = before
        .strip_suffix('.')
        .map(|b| b.len() - b.trim_end_matches(|c: char| c.is_ascii_digit()).len())
        .unwrap_or(0);
    if digits_before > 0 && one.chars().all(|c| c.is_ascii_digit()) && !one.is_empty() {
        let start = at - digits_before - 1;
        let end = at + rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        return Some(
            syntax(Span::new(start, end), "a number has one decimal point at most")
                .label("a second decimal point")
                .help(format!(
                    "decimals are written `0.75`, with at most four digits after the point; an IP address is text converted with `ip(\"10.0.0.1\")` (see {})",
                    docs_url("language#23-numbers-ip-addresses-strings-lists-and-time")
                )),
        );
    }
    let trimmed = before.trim_end();
    let last = trimmed.get(trimmed.len().saturating_sub(1)..).unwrap_or("");
    let op_at = trimmed.len().saturating_sub(1);
    // `a + ` with a space before the operator: not a glob (`wms.*`,
    // `actions: *`) nor a comment.
    let spaced = trimmed
        .get(..op_at)
        .is_some_and(|b| b.ends_with([' ', '\t']) && !b.trim_end().ends_with([':', ',']));
    if matches!(last, "+" | "-" | "*" | "/" | "%") && spaced && !trimmed.ends_with("//") {
        return Some(
            syntax(Span::new(op_at, op_at + 1), format!("`{last}` needs a value on its right"))
                .label("nothing to combine with")
                .also(Span::new(at, at + one.len().max(1)), "a value is expected here")
                .help(format!(
                    "an arithmetic operator goes between two values, as in `resource.count + 1 > 3` (see {operators})"
                )),
        );
    }
    if matches!(one, "+" | "-" | "*" | "/" | "%") && !rest.starts_with("//") {
        return Some(
            syntax(Span::new(at, at + 1), format!("`{one}` stands where a value is expected"))
                .label("a value is expected here")
                .help(format!(
                    "an arithmetic operator goes between two values, as in `resource.count + 1 > 3`; a negative number is written `-1` (see {operators})"
                )),
        );
    }
    None
}

/// `allow with { ... } when c`: the condition comes first.
fn when_after_with(rest: &str, before: &str, at: usize) -> Option<Finding> {
    if word(rest) != "when" {
        return None;
    }
    // The statement so far: from its outcome keyword to here.
    let start = ["allow", "deny", "unauthenticated"]
        .iter()
        .filter_map(|o| before.rfind(o))
        .max()?;
    let statement = before.get(start..)?;
    let with = statement
        .match_indices("with")
        .find(|(i, _)| {
            let prev = statement.get(..*i).and_then(|s| s.chars().last());
            let next = statement.get(i + 4..).and_then(|s| s.chars().next());
            prev.is_some_and(char::is_whitespace)
                && next.is_some_and(|c| c.is_whitespace() || c == '{')
        })
        .map(|(i, _)| start + i)?;
    Some(
        syntax(Span::new(at, at + 4), "`when` must come before `with`")
            .label("`when` after `with`")
            .also(Span::new(with, with + 4), "`with` here")
            .help(format!(
                "write the condition first: `allow when ... with {{ ... }}` (see {})",
                docs_url("language#91-deciding-statements")
            )),
    )
}

/// The words the grammar could have read where `positives` were expected.
fn keywords_for(positives: &[Rule]) -> (Vec<&'static str>, &'static str) {
    let mut words = Vec::new();
    let mut what = "";
    for r in positives {
        match r {
            Rule::decide_stmt | Rule::outcome | Rule::let_stmt | Rule::claims_stmt => {
                words.extend(["allow", "deny", "unauthenticated", "let", "claims"]);
                what = "a statement starts with `allow`, `deny` or `unauthenticated` (after an optional `label: `), `let` or `claims`";
            }
            Rule::import
            | Rule::actions_decl
            | Rule::kw_actions
            | Rule::principals_decl
            | Rule::shape_decl
            | Rule::const_decl
            | Rule::rule_decl
            | Rule::authenticate_decl
            | Rule::policy_decl
            | Rule::undeclared_decl => {
                words.extend(ITEM_STARTS);
                what = "a file holds `import`, `actions`, `principals`, `request`, `data`, `let`, `rule`, `authenticate` and `policy` items";
            }
            Rule::when_clause | Rule::kw_when => words.push("when"),
            Rule::with_clause | Rule::kw_with => words.push("with"),
            Rule::in_order => words.extend(["in", "order"]),
            Rule::kw_then => words.push("then"),
            Rule::kw_else => words.push("else"),
            Rule::op_and
            | Rule::op_or
            | Rule::op_in
            | Rule::op_not_in
            | Rule::op_like
            | Rule::op_matches => {
                words.extend(["and", "or", "in", "not", "like", "matches"]);
            }
            _ => {}
        }
    }
    words.sort_unstable();
    words.dedup();
    (words, what)
}

/// `alow when ...`, `polcy docs for read`: a word close to one the parser
/// could have read here.
fn misspelt_keyword(rest: &str, at: usize, positives: &[Rule]) -> Option<Finding> {
    let w = word(rest);
    if w.len() < 2 {
        return None;
    }
    let (words, what) = keywords_for(positives);
    if words.contains(&w) {
        return None;
    }
    let suggestion = did_you_mean(w, words.iter().copied())?;
    let mut f = syntax(
        Span::new(at, at + w.len()),
        format!("unknown word `{w}`; did you mean `{suggestion}`?"),
    )
    .label(format!("did you mean `{suggestion}`?"));
    f.help = Some(if what.is_empty() {
        format!("write `{suggestion}` (see {})", docs_url("language"))
    } else {
        format!("{what} (see {})", docs_url("language"))
    });
    Some(f)
}

/// Where a bracket opened that is never closed, when the error is where
/// its closing bracket was due: at the end of the file, at the next item,
/// or at a closing bracket of another kind.
fn unclosed(text: &str, at: usize) -> Option<Finding> {
    let rest = text.get(at..).unwrap_or("");
    let at_item = ITEM_STARTS.contains(&word(rest))
        && (at == 0 || text.get(..at).is_some_and(|b| b.ends_with('\n')));
    let at_end = rest.trim().is_empty();
    let at_closer = rest.starts_with([')', ']', '}']);
    if !(at_item || at_end || at_closer) {
        return None;
    }
    let (open, c) = unclosed_brackets(text)
        .into_iter()
        .rfind(|(o, _)| *o < at)?;
    let close = match c {
        b'(' => ')',
        b'[' => ']',
        _ => '}',
    };
    let c = char::from(c);
    let there = if at_end {
        "the file ends here".to_string()
    } else if at_item {
        "the next item starts here".to_string()
    } else {
        format!("`{close}` was due before this")
    };
    let mut f = syntax(Span::new(open, open + 1), format!("unclosed `{c}`"))
        .label(format!("this `{c}` is never closed"));
    if !at_end {
        f = f.also(Span::new(at, at + 1), there);
    }
    let what = match c {
        '(' => "the group or the call's arguments",
        '[' => "the list or the index",
        _ => "the block or record; a policy's block ends before the next item",
    };
    Some(f.help(format!(
        "add the `{close}` that ends {what} (see {})",
        docs_url("diagnostics#pcl100-syntax-error")
    )))
}

/// Offsets of the brackets in `text` that are never closed, in order,
/// following strings, interpolations, comments and patterns as the
/// grammar does. A closing bracket closes the innermost open one of its
/// kind; the ones it skips are unclosed.
fn unclosed_brackets(text: &str) -> Vec<(usize, u8)> {
    let bytes = text.as_bytes();
    // Open brackets, and for strings the depth of `open` they started at.
    let mut open: Vec<(usize, u8)> = Vec::new();
    let mut unclosed = Vec::new();
    let mut strings: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(&b) = bytes.get(at) {
        let next = bytes.get(at + 1).copied();
        let in_string = strings.last().is_some_and(|depth| *depth == open.len());
        if in_string {
            match b {
                b'\\' => at += 1,
                b'{' | b'}' if next == Some(b) => at += 1,
                b'"' => {
                    strings.pop();
                }
                b'{' => open.push((at, b'{')),
                b'\n' => {
                    // Strings do not span lines: stop following it.
                    strings.pop();
                }
                _ => {}
            }
            at += 1;
            continue;
        }
        match b {
            b'"' => strings.push(open.len()),
            b'/' if next == Some(b'/') => {
                while bytes.get(at).is_some_and(|c| *c != b'\n') {
                    at += 1;
                }
                continue;
            }
            b'r' if next == Some(b'e')
                && bytes.get(at + 2) == Some(&b'"')
                && !(at > 0
                    && bytes
                        .get(at - 1)
                        .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')) =>
            {
                at += 3;
                while let Some(&c) = bytes.get(at) {
                    match c {
                        b'\\' => at += 1,
                        b'"' | b'\n' => break,
                        _ => {}
                    }
                    at += 1;
                }
            }
            b'(' | b'[' | b'{' => open.push((at, b)),
            b')' | b']' | b'}' => {
                let want = match b {
                    b')' => b'(',
                    b']' => b'[',
                    _ => b'{',
                };
                if let Some(i) = open.iter().rposition(|(_, o)| *o == want) {
                    unclosed.extend(open.drain(i..).skip(1));
                    // Strings opened inside what just closed are over.
                    strings.retain(|depth| *depth <= i);
                }
            }
            _ => {}
        }
        at += 1;
    }
    unclosed.extend(open);
    unclosed.sort_unstable();
    unclosed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unclosed_brackets_follow_strings_and_comments() {
        assert!(unclosed_brackets("{ \"}\" // }\n }").is_empty());
        assert_eq!(unclosed_brackets("{ ( }"), vec![(2, b'(')]);
        assert_eq!(unclosed_brackets("a { b { c }"), vec![(2, b'{')]);
        assert!(unclosed_brackets("\"x{ {y} }\" re\"(\"").is_empty());
    }

    #[test]
    fn words_stop_at_punctuation() {
        assert_eq!(word("alow when"), "alow");
        assert_eq!(word("owner:allow"), "owner");
        assert_eq!(word("create-children x"), "create-children");
        assert_eq!(word("a- b"), "a");
    }
}
