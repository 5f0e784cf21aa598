//! Step one: policy text -> pest parse tree -> AST with spans.
//!
//! Input: the text of one `.pcl` file. Output: an [`ast::File`] or the syntax
//! diagnostics (`PCL1xx`). Invariant: no input panics; a parse tree shape the
//! walker does not expect is reported as an internal syntax error.

use crate::ast::*;
use crate::diagnostics::{Code, Finding};
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use pest::Parser;
use std::cell::Cell;
use std::sync::OnceLock;

#[derive(pest_derive::Parser)]
#[grammar = "grammar/portcullis.pest"]
struct PclParser;

/// Parse errors are findings of the `PCL1xx` group.
pub type ParseError = Finding;

type PResult<T> = Result<T, Box<ParseError>>;

fn pratt() -> &'static PrattParser<Rule> {
    static PRATT: OnceLock<PrattParser<Rule>> = OnceLock::new();
    PRATT.get_or_init(|| {
        PrattParser::new()
            .op(Op::infix(Rule::op_or, Assoc::Left))
            .op(Op::infix(Rule::op_and, Assoc::Left))
            .op(Op::prefix(Rule::op_not))
            .op(Op::infix(Rule::op_eq, Assoc::Left)
                | Op::infix(Rule::op_ne, Assoc::Left)
                | Op::infix(Rule::op_lt, Assoc::Left)
                | Op::infix(Rule::op_le, Assoc::Left)
                | Op::infix(Rule::op_gt, Assoc::Left)
                | Op::infix(Rule::op_ge, Assoc::Left)
                | Op::infix(Rule::op_in, Assoc::Left)
                | Op::infix(Rule::op_not_in, Assoc::Left)
                | Op::infix(Rule::op_matches, Assoc::Left)
                | Op::infix(Rule::op_like, Assoc::Left))
            .op(Op::infix(Rule::op_coalesce, Assoc::Left))
    })
}

/// The deepest nesting of brackets the parser accepts; deeper input is a
/// syntax error rather than a stack overflow.
pub const MAX_NESTING: usize = 256;

/// The deepest expression tree the parser builds; deeper input is a syntax
/// error, so no later stage can recurse without bound.
pub const MAX_EXPR_DEPTH: usize = 512;

thread_local! {
    /// Expression levels still allowed while one file is being built.
    static DEPTH_LEFT: Cell<usize> = const { Cell::new(MAX_EXPR_DEPTH) };
}

/// Holds `cost` levels of the depth budget until dropped, so every exit
/// path (errors included) gives them back.
struct DepthGuard(usize);

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DEPTH_LEFT.with(|d| d.set(d.get().saturating_add(self.0)));
    }
}

/// Takes `cost` levels of the budget, or refuses the expression as too deep.
fn descend(cost: usize, span: Span) -> PResult<DepthGuard> {
    DEPTH_LEFT.with(|d| {
        let left = d.get();
        if cost > left {
            Err(Box::new(
                Finding::new(
                    Code::TooDeep,
                    span,
                    "this expression nests too deeply (operators, `.field`, `[key]` and calls all count)",
                )
                .label("too deep here")
                .help("split it into named `let`s or rules, or use a list with `any`/`all`"),
            ))
        } else {
            d.set(left - cost);
            Ok(DepthGuard(cost))
        }
    })
}

/// Sets the depth budget for one parse and restores the previous one after.
struct DepthBudget(usize);

impl DepthBudget {
    fn set(max: usize) -> DepthBudget {
        DepthBudget(DEPTH_LEFT.with(|d| d.replace(max)))
    }
}

impl Drop for DepthBudget {
    fn drop(&mut self) {
        DEPTH_LEFT.with(|d| d.set(self.0));
    }
}

/// Parses one file's text.
pub fn parse(text: &str) -> Result<File, Vec<ParseError>> {
    parse_with_limit(text, MAX_NESTING)
}

/// Parses one file's text, refusing brackets nested deeper than `max_nesting`.
pub fn parse_with_limit(text: &str, max_nesting: usize) -> Result<File, Vec<ParseError>> {
    parse_with_limits(text, max_nesting, MAX_EXPR_DEPTH)
}

/// Parses one file's text, refusing brackets nested deeper than
/// `max_nesting` and expression trees deeper than `max_expr_depth`.
pub fn parse_with_limits(
    text: &str,
    max_nesting: usize,
    max_expr_depth: usize,
) -> Result<File, Vec<ParseError>> {
    if let Some(err) = nesting_error(text, max_nesting) {
        return Err(vec![*err]);
    }
    let _budget = DepthBudget::set(max_expr_depth);
    let mut errors = Vec::new();
    let mut blanked: Option<String> = None;
    let pairs = loop {
        let current = blanked.as_deref().unwrap_or(text);
        match parse_bounded(Rule::file, current) {
            Ok(pairs) => break pairs,
            Err(err) => {
                let finding = reserved_word_help(pest_error(err), current);
                let at = finding.span.start;
                let too_deep = finding.code == Code::TooDeep;
                errors.push(finding);
                if too_deep || errors.len() >= MAX_SYNTAX_ERRORS {
                    return Err(errors);
                }
                match skip_broken_item(current, at) {
                    Some(next) => blanked = Some(next),
                    None => return Err(errors),
                }
            }
        }
    };
    if !errors.is_empty() {
        // The items that did parse are checked for their own errors too,
        // but a file with a syntax error is never used.
        errors.extend(pairs.flat_map(|p| p.into_inner()).filter_map(|pair| {
            (pair.as_rule() != Rule::EOI)
                .then(|| item(pair).err().map(|e| *e))
                .flatten()
        }));
        errors.sort_by_key(|e| e.span.start);
        return Err(errors);
    }
    let mut file = File::default();
    for pair in pairs.flat_map(|p| p.into_inner()) {
        if pair.as_rule() == Rule::EOI {
            continue;
        }
        match item(pair) {
            Ok(item) => file.items.push(item),
            Err(err) => errors.push(*err),
        }
    }
    if errors.is_empty() {
        Ok(file)
    } else {
        Err(errors)
    }
}

/// Syntax errors reported for one file before the parser stops recovering.
const MAX_SYNTAX_ERRORS: usize = 20;

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
    "authenticate",
    "policy",
    "override",
];

/// Recovery after a syntax error at `at`: the item that holds it (from the
/// last item start at or before `at` to the next one after it) is replaced
/// by spaces, keeping every byte offset and line break, so the rest of the
/// file can be parsed and its errors reported too. `None` when there is
/// nothing left to skip.
fn skip_broken_item(text: &str, at: usize) -> Option<String> {
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
        std::iter::repeat(fill).take(if c == '\n' { 1 } else { c.len_utf8() })
    }));
    out.push_str(text.get(to..)?);
    Some(out)
}

/// Parses a lone expression (used by tests and the REPL-like helpers).
pub fn parse_expr(text: &str) -> Result<Expr, Vec<ParseError>> {
    if let Some(err) = nesting_error(text, MAX_NESTING) {
        return Err(vec![*err]);
    }
    let _budget = DepthBudget::set(MAX_EXPR_DEPTH);
    let mut pairs = parse_bounded(Rule::expr, text).map_err(|e| vec![pest_error(e)])?;
    let pair = pairs
        .next()
        .ok_or_else(|| vec![*internal(Span::new(0, text.len()), "empty input")])?;
    let end = pair.as_span().end();
    if end != text.len() {
        return Err(vec![Finding::new(
            Code::SyntaxError,
            Span::new(end, text.len()),
            "unexpected text after the expression",
        )
        .label("not part of the expression")
        .help("remove it or join it with an operator")]);
    }
    expr(pair).map_err(|e| vec![*e])
}

/// Strings nested inside interpolations deeper than this are refused:
/// `"{ "{ "{ "{ "{x}" }" }" }" }"` is five deep. Policies need one or two
/// levels. A bound on this nesting is what keeps a future grammar change
/// from making the backtracking parser's work grow as a power of it.
pub const MAX_INTERPOLATION_DEPTH: usize = 4;

/// Where the pre-scan of [`nesting_error`] stands.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scan {
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
fn nesting_error(text: &str, max: usize) -> Option<Box<ParseError>> {
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

fn pest_error(err: pest::error::Error<Rule>) -> ParseError {
    use pest::error::{ErrorVariant, InputLocation};
    let span = match err.location {
        InputLocation::Pos(p) => Span::new(p, p),
        InputLocation::Span((s, e)) => Span::new(s, e),
    };
    let (message, label) = match &err.variant {
        ErrorVariant::ParsingError {
            positives,
            negatives,
        } => {
            let mut wanted: Vec<&'static str> =
                positives.iter().filter_map(|r| rule_words(*r)).collect();
            wanted.sort_unstable();
            wanted.dedup();
            let unwanted: Vec<&'static str> =
                negatives.iter().filter_map(|r| rule_words(*r)).collect();
            if !wanted.is_empty() {
                (
                    format!("expected {}", join_words(&wanted)),
                    "unexpected text here".to_string(),
                )
            } else if !unwanted.is_empty() {
                (
                    format!("unexpected {}", join_words(&unwanted)),
                    "here".to_string(),
                )
            } else {
                ("unexpected text".to_string(), "here".to_string())
            }
        }
        // pest stops at its own stack guard, or at a call limit the host
        // application set (Portcullis sets none: its grammar and pre-scan
        // keep the work linear, see docs/robustness.md).
        ErrorVariant::CustomError { message }
            if message.contains("call limit") || message.contains("stack limit") =>
        {
            return Finding::new(
                Code::TooDeep,
                span,
                "the policy text is too tangled to parse within the parser's limits",
            )
            .label("the parser gave up here")
            .help(
                "look for unbalanced brackets or quotes, or split the expression into named rules",
            );
        }
        ErrorVariant::CustomError { message } => (message.clone(), "here".to_string()),
    };
    Finding::new(Code::SyntaxError, span, message)
        .label(label)
        .help("see docs/language.md for the syntax of each construct")
}

fn parse_bounded(rule: Rule, text: &str) -> Result<Pairs<'_, Rule>, pest::error::Error<Rule>> {
    PclParser::parse(rule, text)
}

/// The words the grammar reserves; they cannot name rules, lets or parameters.
pub const RESERVED: &[&str] = &[
    "allow",
    "and",
    "authenticate",
    "claims",
    "deny",
    "else",
    "false",
    "for",
    "if",
    "import",
    "in",
    "let",
    "like",
    "match",
    "matches",
    "not",
    "null",
    "or",
    "override",
    "policy",
    "principals",
    "rule",
    "then",
    "true",
    "unauthenticated",
    "when",
    "with",
];

/// When a name was expected where a reserved word stands, say so.
fn reserved_word_help(mut f: ParseError, text: &str) -> ParseError {
    let rest = text.get(f.span.start..).unwrap_or("");
    let word: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    if f.message.contains("a name") && RESERVED.contains(&word.as_str()) {
        f.message = format!("`{word}` is a reserved word and cannot be used as a name");
        f.span = Span::new(f.span.start, f.span.start + word.len());
        f.label = "reserved word".into();
        f.help = Some(format!("choose another name, such as `{word}_`"));
    }
    f
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Rule names turned into words for messages.
fn rule_words(rule: Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of file",
        Rule::import => "`import`",
        Rule::actions_decl | Rule::kw_actions => "`actions`",
        Rule::action_class => "`open`, `public` or `token`",
        Rule::undeclared_decl => "`undeclared actions`",
        Rule::principals_decl => "`principals`",
        Rule::kind_decl => "a principal kind",
        Rule::kind_equals | Rule::kind_member | Rule::kind_anyone => "`==`, `in` or `anyone`",
        Rule::rel_path => "a field path such as `.id`",
        Rule::shape_decl | Rule::shape_root => "`request` or `data`",
        Rule::shape_field => "a field",
        Rule::shape_type | Rule::shape_scalar | Rule::shape_list | Rule::shape_record => "a type",
        Rule::const_decl => "`let`",
        Rule::rule_decl => "`rule`",
        Rule::params => "parameters",
        Rule::authenticate_decl => "`authenticate`",
        Rule::policy_decl | Rule::override_mark => "`policy`",
        Rule::in_order => "`in order`",
        Rule::action_name | Rule::any_action => "an action name",
        Rule::block => "`{`",
        Rule::let_stmt => "`let`",
        Rule::claims_stmt => "`claims`",
        Rule::token_kind => "`access` or `refresh`",
        Rule::decide_stmt | Rule::outcome => "`allow`, `deny` or `unauthenticated`",
        Rule::label => "a label",
        Rule::when_clause | Rule::kw_when => "`when`",
        Rule::with_clause | Rule::kw_with => "`with`",
        Rule::expr | Rule::term => "an expression",
        Rule::op_or
        | Rule::op_and
        | Rule::op_coalesce
        | Rule::op_eq
        | Rule::op_ne
        | Rule::op_le
        | Rule::op_ge
        | Rule::op_lt
        | Rule::op_gt
        | Rule::op_not_in
        | Rule::op_in
        | Rule::op_matches
        | Rule::op_like => "an operator",
        Rule::op_not => "`not`",
        Rule::field => "`.`",
        Rule::index => "`[`",
        Rule::call_args => "`(`",
        Rule::quantifier | Rule::quantifier_kw => "a quantifier",
        Rule::if_expr | Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::kw_for => "`for`",
        Rule::kw_in => "`in`",
        Rule::match_expr => "`match`",
        Rule::match_arm | Rule::match_pattern => "a match arm",
        Rule::wildcard => "`_`",
        Rule::null_lit | Rule::bool_lit | Rule::int_lit => "a literal",
        Rule::regex_lit | Rule::regex_body => "a pattern",
        Rule::string | Rule::str_text | Rule::str_escape => "a string",
        Rule::interp => "`{`",
        Rule::principal_lit | Rule::principal_text => "a principal",
        Rule::list | Rule::comp_tail => "a list",
        Rule::record | Rule::record_first | Rule::record_field | Rule::record_comp_tail => {
            "a record"
        }
        Rule::paren_or_tuple => "`(`",
        Rule::name | Rule::key_name => "a name",
        Rule::keyword => "a keyword",
        Rule::optional_mark | Rule::nullable_mark => "`?`",
        Rule::tuple_wide => "`, even in tuples`",
        _ => return None,
    })
}

#[cold]
fn internal(span: Span, what: &str) -> Box<ParseError> {
    Box::new(
        Finding::new(
            Code::SyntaxError,
            span,
            format!("internal parser error: {what}"),
        )
        .label("while reading this")
        .help("this is a bug in Portcullis; please report it with the policy text"),
    )
}

/// A pair's span without the whitespace and comments pest's implicit
/// skipping leaves at its end (when an optional tail is absent), so labels
/// cover the construct and nothing after it.
fn span_of(pair: &Pair<Rule>) -> Span {
    let s = pair.as_span();
    let text = s.as_str();
    if !text.ends_with(|c: char| c.is_whitespace()) {
        return Span::new(s.start(), s.end());
    }
    let mut kept = text.trim_end();
    loop {
        let line_start = kept.rfind('\n').map_or(0, |i| i + 1);
        let last_line = kept.get(line_start..).unwrap_or("");
        if !last_line.contains("//") {
            break;
        }
        match crate::lex::comments(last_line).last() {
            Some((at, comment)) if at + comment.len() == last_line.len() => {
                kept = kept.get(..line_start + at).unwrap_or("").trim_end();
            }
            _ => break,
        }
    }
    Span::new(s.start(), s.start() + kept.len())
}

/// The children of a pair, without keyword tokens.
fn kids(pair: Pair<Rule>) -> impl Iterator<Item = Pair<Rule>> {
    pair.into_inner().filter(|p| {
        !matches!(
            p.as_rule(),
            Rule::kw_in
                | Rule::kw_if
                | Rule::kw_then
                | Rule::kw_else
                | Rule::kw_for
                | Rule::kw_when
                | Rule::kw_with
                | Rule::kw_actions
        )
    })
}

fn next<'a>(
    it: &mut impl Iterator<Item = Pair<'a, Rule>>,
    span: Span,
    what: &str,
) -> PResult<Pair<'a, Rule>> {
    it.next().ok_or_else(|| internal(span, what))
}

fn ident(pair: Pair<Rule>) -> Ident {
    Ident {
        name: pair.as_str().to_string(),
        span: span_of(&pair),
    }
}

fn item(pair: Pair<Rule>) -> PResult<Item> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::import => {
            let mut it = kids(pair);
            let s = next(&mut it, span, "import path")?;
            Ok(Item::Import {
                path: plain_string(s)?,
                span,
            })
        }
        Rule::actions_decl => {
            let mut class = ActionClass::Guarded;
            let mut names = Vec::new();
            let mut any = false;
            for p in kids(pair) {
                match p.as_rule() {
                    Rule::action_class => {
                        class = match p.as_str() {
                            "open" => ActionClass::Open,
                            "public" => ActionClass::Public,
                            _ => ActionClass::Token,
                        }
                    }
                    Rule::any_action => any = true,
                    _ => names.push(ident(p)),
                }
            }
            Ok(Item::Actions {
                class,
                names,
                any,
                span,
            })
        }
        Rule::undeclared_decl => {
            let mut it = kids(pair);
            let outcome = outcome(next(&mut it, span, "outcome")?);
            let reason = it.next().map(string).transpose()?;
            Ok(Item::Undeclared {
                outcome,
                reason,
                span,
            })
        }
        Rule::principals_decl => {
            let mut kinds = Vec::new();
            for k in kids(pair) {
                let kspan = span_of(&k);
                let mut it = kids(k);
                let name = ident(next(&mut it, kspan, "kind name")?);
                let test = next(&mut it, kspan, "kind test")?;
                let mut compare = KindCompare::Exact;
                let test = match test.as_rule() {
                    Rule::kind_equals | Rule::kind_member => {
                        let is_eq = test.as_rule() == Rule::kind_equals;
                        let tspan = span_of(&test);
                        let mut parts = kids(test);
                        let path = next(&mut parts, tspan, "path")?;
                        if let Some(c) = parts.next() {
                            compare = match c.as_str().trim_start_matches("as").trim() {
                                "int" => KindCompare::Int,
                                _ => KindCompare::Uuid,
                            };
                        }
                        let fields: Vec<Ident> = kids(path).map(ident).collect();
                        if is_eq {
                            KindTest::Equals(fields)
                        } else {
                            KindTest::Member(fields)
                        }
                    }
                    _ => KindTest::Anyone {
                        tuple_wide: test.into_inner().next().is_some(),
                    },
                };
                kinds.push(KindDecl {
                    name,
                    test,
                    compare,
                    span: kspan,
                });
            }
            Ok(Item::Principals { kinds, span })
        }
        Rule::shape_decl => {
            let mut it = kids(pair);
            let root = match next(&mut it, span, "shape root")?.as_str() {
                "request" => ShapeRoot::Request,
                _ => ShapeRoot::Data,
            };
            let mut it = it.peekable();
            let mut actions = Vec::new();
            if it.peek().map(|p| p.as_rule()) == Some(Rule::shape_for) {
                if let Some(p) = it.next() {
                    actions = kids(p)
                        .filter(|a| a.as_rule() == Rule::action_name)
                        .map(ident)
                        .collect();
                }
            }
            let fields = it.map(shape_field).collect::<PResult<Vec<_>>>()?;
            Ok(Item::Shape {
                root,
                actions,
                fields,
                span,
            })
        }
        Rule::const_decl => {
            let mut it = kids(pair);
            let name = ident(next(&mut it, span, "name")?);
            let value = expr(next(&mut it, span, "value")?)?;
            Ok(Item::Const { name, value, span })
        }
        Rule::rule_decl => {
            let mut it = kids(pair).peekable();
            let name = ident(next(&mut it, span, "rule name")?);
            let mut params = Vec::new();
            let mut parens = false;
            if it.peek().map(|p| p.as_rule()) == Some(Rule::params) {
                parens = true;
                if let Some(p) = it.next() {
                    params = kids(p).map(ident).collect();
                }
            }
            let body = expr(next(&mut it, span, "rule body")?)?;
            Ok(Item::Rule(RuleDecl {
                name,
                params,
                parens,
                body,
                span,
            }))
        }
        Rule::authenticate_decl => {
            let mut it = kids(pair);
            let body = block(next(&mut it, span, "block")?)?;
            Ok(Item::Authenticate { body, span })
        }
        Rule::policy_decl => {
            let mut is_override = false;
            let mut name = None;
            let mut actions = Vec::new();
            let mut ordered = false;
            let mut body = Vec::new();
            for p in kids(pair) {
                match p.as_rule() {
                    Rule::override_mark => is_override = true,
                    Rule::name => name = Some(ident(p)),
                    Rule::action_name => actions.push(ident(p)),
                    Rule::in_order => ordered = true,
                    Rule::block => body = block(p)?,
                    _ => return Err(internal(span, "policy part")),
                }
            }
            let name = name.ok_or_else(|| internal(span, "policy name"))?;
            Ok(Item::Policy(PolicyDecl {
                name,
                is_override,
                actions,
                ordered,
                body,
                span,
            }))
        }
        _ => Err(internal(span, "top-level item")),
    }
}

fn shape_field(pair: Pair<Rule>) -> PResult<ShapeField> {
    let span = span_of(&pair);
    let mut name = None;
    let mut optional = false;
    let mut rest = false;
    let mut ty = None;
    for p in kids(pair) {
        match p.as_rule() {
            Rule::rest_key => {
                rest = true;
                name = Some(Ident {
                    name: "*".to_string(),
                    span: span_of(&p),
                });
            }
            Rule::name => name = Some(ident(p)),
            Rule::string => {
                let s = span_of(&p);
                name = Some(Ident {
                    name: plain_string(p)?,
                    span: s,
                });
            }
            Rule::optional_mark => optional = true,
            Rule::shape_type => ty = Some(shape_type(p)?),
            _ => return Err(internal(span, "shape field")),
        }
    }
    match (name, ty) {
        (Some(name), Some(ty)) => Ok(ShapeField {
            name,
            optional,
            rest,
            ty,
        }),
        _ => Err(internal(span, "shape field")),
    }
}

fn shape_type(pair: Pair<Rule>) -> PResult<ShapeType> {
    let span = span_of(&pair);
    let mut bases = Vec::new();
    let mut nullable = false;
    for p in kids(pair) {
        if p.as_rule() == Rule::nullable_mark {
            nullable = true;
        } else {
            bases.push(shape_base(p)?);
        }
    }
    let base = match bases.len() {
        0 => return Err(internal(span, "type")),
        1 => bases
            .pop()
            .map(|t| t.base)
            .ok_or_else(|| internal(span, "type"))?,
        _ => ShapeBase::OneOf(bases),
    };
    Ok(ShapeType {
        base,
        nullable,
        span,
    })
}

/// One alternative of a type, without nullability.
fn shape_base(base: Pair<Rule>) -> PResult<ShapeType> {
    let span = span_of(&base);
    let nullable = false;
    let base = match base.as_rule() {
        Rule::shape_scalar => match base.as_str() {
            "any" => ShapeBase::Any,
            "bool" => ShapeBase::Bool,
            "int" => ShapeBase::Int,
            "number" => ShapeBase::Number,
            "string" => ShapeBase::String,
            _ => ShapeBase::Uuid,
        },
        Rule::shape_list => {
            let inner = next(&mut kids(base), span, "list element type")?;
            ShapeBase::List(Box::new(shape_type(inner)?))
        }
        Rule::shape_record => {
            ShapeBase::Record(kids(base).map(shape_field).collect::<PResult<Vec<_>>>()?)
        }
        _ => return Err(internal(span, "type")),
    };
    Ok(ShapeType {
        base,
        nullable,
        span,
    })
}

fn block(pair: Pair<Rule>) -> PResult<Vec<Stmt>> {
    kids(pair).map(statement).collect()
}

fn statement(pair: Pair<Rule>) -> PResult<Stmt> {
    let span = span_of(&pair);
    match pair.as_rule() {
        Rule::let_stmt => {
            let mut it = kids(pair);
            let name = ident(next(&mut it, span, "name")?);
            let value = expr(next(&mut it, span, "value")?)?;
            Ok(Stmt::Let { name, value, span })
        }
        Rule::claims_stmt => {
            let mut it = kids(pair);
            let token = match next(&mut it, span, "token kind")?.as_str() {
                "access" => TokenKind::Access,
                _ => TokenKind::Refresh,
            };
            let value = expr(next(&mut it, span, "claims")?)?;
            Ok(Stmt::Claims { token, value, span })
        }
        Rule::decide_stmt => {
            let mut d = Decide {
                label: None,
                outcome: Outcome::Deny,
                reason: None,
                when: None,
                with: None,
                span,
            };
            for p in kids(pair) {
                match p.as_rule() {
                    Rule::label => {
                        let lspan = span_of(&p);
                        d.label = Some(ident(next(&mut kids(p), lspan, "label")?));
                    }
                    Rule::outcome => d.outcome = outcome(p),
                    Rule::string => d.reason = Some(string(p)?),
                    Rule::when_clause => {
                        let wspan = span_of(&p);
                        d.when = Some(expr(next(&mut kids(p), wspan, "condition")?)?);
                    }
                    Rule::with_clause => {
                        let wspan = span_of(&p);
                        d.with = Some(primary(next(&mut kids(p), wspan, "outputs")?)?);
                    }
                    _ => return Err(internal(span, "statement part")),
                }
            }
            Ok(Stmt::Decide(Box::new(d)))
        }
        _ => Err(internal(span, "statement")),
    }
}

fn outcome(pair: Pair<Rule>) -> Outcome {
    match pair.as_str() {
        "allow" => Outcome::Allow,
        "unauthenticated" => Outcome::Unauthenticated,
        _ => Outcome::Deny,
    }
}

fn expr(pair: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    if pair.as_rule() != Rule::expr {
        return Err(internal(span, "expression"));
    }
    // Each prefix and infix operator of this flat expression may become a
    // level of the tree (a chain `a or b or c` nests to the left).
    let operators = pair
        .clone()
        .into_inner()
        .filter(|p| p.as_rule() != Rule::term)
        .count();
    let _depth = descend(operators + 1, span)?;
    pratt_expr(pair.into_inner())
}

fn pratt_expr(pairs: Pairs<Rule>) -> PResult<Expr> {
    pratt()
        .map_primary(term)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = span_of(&op).to(rhs.span);
            Ok(Expr {
                kind: ExprKind::Not(Box::new(rhs)),
                span,
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let bin = match op.as_rule() {
                Rule::op_or => BinOp::Or,
                Rule::op_and => BinOp::And,
                Rule::op_coalesce => BinOp::Coalesce,
                Rule::op_eq => BinOp::Eq,
                Rule::op_ne => BinOp::Ne,
                Rule::op_le => BinOp::Le,
                Rule::op_ge => BinOp::Ge,
                Rule::op_lt => BinOp::Lt,
                Rule::op_gt => BinOp::Gt,
                Rule::op_in => BinOp::In,
                Rule::op_not_in => BinOp::NotIn,
                Rule::op_matches => BinOp::Matches,
                Rule::op_like => BinOp::Like,
                _ => return Err(internal(span_of(&op), "operator")),
            };
            let span = lhs.span.to(rhs.span);
            Ok(Expr {
                kind: ExprKind::Binary(bin, Box::new(lhs), Box::new(rhs)),
                span,
            })
        })
        .parse(pairs)
}

/// A record comprehension from its key, its value and the rest of the
/// record's parts, the `for k, v in r [if c]` tail.
fn record_comp<'p>(
    key: Box<Expr>,
    value: Box<Expr>,
    mut rest: impl Iterator<Item = Pair<'p, Rule>>,
    span: Span,
) -> PResult<ExprKind> {
    let tail = next(&mut rest, span, "`for`")?;
    let mut it = kids(tail);
    let key_var = ident(next(&mut it, span, "key variable")?);
    let value_var = ident(next(&mut it, span, "value variable")?);
    let over = Box::new(term(next(&mut it, span, "record")?)?);
    let cond = it.next().map(expr).transpose()?.map(Box::new);
    Ok(ExprKind::RecordComp {
        key,
        value,
        key_var,
        value_var,
        over,
        cond,
    })
}

/// A record or a record comprehension: one grammar rule, told apart by
/// the `for` tail. Only a comprehension's key may be computed; a record's
/// keys are words or strings without interpolation.
fn record(pair: Pair<Rule>, span: Span) -> PResult<ExprKind> {
    let is_comp = kids(pair.clone()).any(|p| p.as_rule() == Rule::record_comp_tail);
    let mut it = kids(pair);
    let Some(first) = it.next() else {
        return Ok(ExprKind::Record(Vec::new()));
    };
    let fspan = span_of(&first);
    let mut parts = kids(first);
    let k = next(&mut parts, fspan, "key")?;
    let value = expr(next(&mut parts, fspan, "value")?)?;
    if is_comp {
        let key = match k.as_rule() {
            Rule::key_name => Expr {
                span: span_of(&k),
                kind: ExprKind::Name(ident(k)),
            },
            _ => expr(k)?,
        };
        return record_comp(Box::new(key), Box::new(value), it, span);
    }
    let mut fields = vec![(record_key(k)?, value)];
    for f in it {
        let fspan = span_of(&f);
        let mut parts = kids(f);
        let key = record_key(next(&mut parts, fspan, "key")?)?;
        fields.push((key, expr(next(&mut parts, fspan, "value")?)?));
    }
    Ok(ExprKind::Record(fields))
}

/// A record key: a word, or a string without interpolation (the first key
/// arrives as an expression, which must be such a string).
fn record_key(k: Pair<Rule>) -> PResult<Ident> {
    let kspan = span_of(&k);
    match k.as_rule() {
        Rule::key_name => Ok(ident(k)),
        Rule::string => Ok(Ident {
            name: plain_string(k)?,
            span: kspan,
        }),
        _ => {
            // The first key parsed as an expression: only a lone string
            // literal (a term with no postfix) is a key.
            let mut terms = kids(k);
            let lone = match (terms.next(), terms.next()) {
                (Some(t), None) if t.as_rule() == Rule::term => {
                    let mut inner = kids(t);
                    match (inner.next(), inner.next()) {
                        (Some(p), None) if p.as_rule() == Rule::string => Some(p),
                        _ => None,
                    }
                }
                _ => None,
            };
            match lone {
                Some(string) => Ok(Ident {
                    name: plain_string(string)?,
                    span: kspan,
                }),
                None => Err(Box::new(
                    Finding::new(
                        Code::SyntaxError,
                        kspan,
                        "a record key is a name or a string",
                    )
                    .label("computed key")
                    .help("computed keys need a comprehension: `{upper(k): v for k, v in r}`"),
                )),
            }
        }
    }
}

fn term(pair: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    if pair.as_rule() != Rule::term {
        return Err(internal(span, "term"));
    }
    // Every postfix step (`.f`, `[k]`, a call) is a level of the tree.
    let _depth = descend(pair.clone().into_inner().count().saturating_sub(1), span)?;
    let mut it = kids(pair);
    let mut e = primary(next(&mut it, span, "primary")?)?;
    for post in it {
        let pspan = span_of(&post);
        let whole = e.span.to(pspan);
        e = match post.as_rule() {
            Rule::field => {
                let name = ident(next(&mut kids(post), pspan, "field name")?);
                Expr {
                    kind: ExprKind::Field(Box::new(e), name),
                    span: whole,
                }
            }
            Rule::index => {
                let key = expr(next(&mut kids(post), pspan, "index")?)?;
                Expr {
                    kind: ExprKind::Index(Box::new(e), Box::new(key)),
                    span: whole,
                }
            }
            Rule::call_args => {
                let args = kids(post).map(expr).collect::<PResult<Vec<_>>>()?;
                match e.kind {
                    ExprKind::Name(name) => Expr {
                        kind: ExprKind::Call(name, args),
                        span: whole,
                    },
                    _ => {
                        return Err(Box::new(
                            Finding::new(
                                Code::SyntaxError,
                                pspan,
                                "only rules and functions can be called",
                            )
                            .label("call of something that is not a name")
                            .help("call a rule by its name, as in `is_owner(resource)`"),
                        ))
                    }
                }
            }
            _ => return Err(internal(pspan, "postfix")),
        };
    }
    Ok(e)
}

fn primary(pair: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::null_lit => ExprKind::Null,
        Rule::bool_lit => ExprKind::Bool(pair.as_str() == "true"),
        Rule::int_lit => match pair.as_str().parse::<i64>() {
            Ok(n) => ExprKind::Int(n),
            Err(_) => {
                return Err(Box::new(
                    Finding::new(Code::InvalidLiteral, span, "integer literal out of range")
                        .label("does not fit in 64 bits")
                        .help("integers range from -9223372036854775808 to 9223372036854775807"),
                ))
            }
        },
        Rule::regex_lit => {
            let body = next(&mut kids(pair), span, "pattern")?;
            ExprKind::Regex(body.as_str().replace("\\\"", "\""))
        }
        Rule::string => return string(pair),
        Rule::principal_lit => {
            let mut it = kids(pair);
            let kind = ident(next(&mut it, span, "kind")?);
            let v = next(&mut it, span, "value")?;
            let value = match v.as_rule() {
                Rule::principal_text => PrincipalValue::Text(v.as_str().to_string()),
                Rule::string => match string(v)? {
                    Expr {
                        kind: ExprKind::Str(s),
                        ..
                    } => PrincipalValue::Text(s),
                    other => PrincipalValue::Expr(Box::new(other)),
                },
                Rule::interp => {
                    let vspan = span_of(&v);
                    PrincipalValue::Expr(Box::new(expr(next(&mut kids(v), vspan, "value")?)?))
                }
                _ => return Err(internal(span, "principal value")),
            };
            ExprKind::Principal { kind, value }
        }
        Rule::list => {
            let items: Vec<Pair<Rule>> = kids(pair).collect();
            match items.as_slice() {
                [elem, tail] if tail.as_rule() == Rule::comp_tail => {
                    let mut it = kids(tail.clone());
                    let var = ident(next(&mut it, span, "variable")?);
                    let over = Box::new(term(next(&mut it, span, "list")?)?);
                    let cond = it.next().map(expr).transpose()?.map(Box::new);
                    ExprKind::ListComp {
                        elem: Box::new(expr(elem.clone())?),
                        var,
                        over,
                        cond,
                    }
                }
                _ => ExprKind::List(items.into_iter().map(expr).collect::<PResult<Vec<_>>>()?),
            }
        }
        Rule::record => record(pair, span)?,
        Rule::paren_or_tuple => {
            let text = pair.as_str();
            let mut items = kids(pair).map(expr).collect::<PResult<Vec<_>>>()?;
            // `(a,)` is a one-element tuple: look for a comma after the item.
            let trailing_comma = items
                .last()
                .and_then(|last| text.get(last.span.end.saturating_sub(span.start)..))
                .is_some_and(|rest| rest.contains(','));
            if items.len() == 1 && !trailing_comma {
                let mut only = items.remove(0);
                only.span = span;
                return Ok(only);
            }
            ExprKind::Tuple(items)
        }
        Rule::name => ExprKind::Name(ident(pair)),
        Rule::quantifier => {
            let mut it = kids(pair);
            let q = match next(&mut it, span, "quantifier")?.as_str() {
                "any" => Quantifier::Any,
                "all" => Quantifier::All,
                "first" => Quantifier::First,
                "last" => Quantifier::Last,
                _ => Quantifier::Count,
            };
            let var = ident(next(&mut it, span, "variable")?);
            let over = Box::new(term(next(&mut it, span, "list")?)?);
            let body = Box::new(expr(next(&mut it, span, "condition")?)?);
            ExprKind::Quantifier { q, var, over, body }
        }
        Rule::if_expr => {
            let mut it = kids(pair);
            let c = expr(next(&mut it, span, "condition")?)?;
            let a = expr(next(&mut it, span, "then")?)?;
            let b = expr(next(&mut it, span, "else")?)?;
            ExprKind::If(Box::new(c), Box::new(a), Box::new(b))
        }
        Rule::match_expr => {
            let mut it = kids(pair);
            let subject = expr(next(&mut it, span, "subject")?)?;
            let mut arms = Vec::new();
            for arm in it {
                let aspan = span_of(&arm);
                let mut patterns = Vec::new();
                let mut value = None;
                for p in kids(arm) {
                    match p.as_rule() {
                        Rule::match_pattern => {
                            let pspan = span_of(&p);
                            let inner = next(&mut kids(p), pspan, "pattern")?;
                            patterns.push(if inner.as_rule() == Rule::wildcard {
                                None
                            } else {
                                Some(primary(inner)?)
                            });
                        }
                        _ => value = Some(expr(p)?),
                    }
                }
                let value = value.ok_or_else(|| internal(aspan, "match arm"))?;
                arms.push(MatchArm { patterns, value });
            }
            ExprKind::Match(Box::new(subject), arms)
        }
        _ => return Err(internal(span, "expression")),
    };
    Ok(Expr { kind, span })
}

/// A string literal that must not interpolate (imports, keys).
fn plain_string(pair: Pair<Rule>) -> PResult<String> {
    let span = span_of(&pair);
    match string(pair)?.kind {
        ExprKind::Str(s) => Ok(s),
        _ => Err(Box::new(
            Finding::new(Code::SyntaxError, span, "interpolation is not allowed here")
                .label("this string holds `{...}`")
                .help("write `{{` and `}}` for literal braces"),
        )),
    }
}

fn string(pair: Pair<Rule>) -> PResult<Expr> {
    let span = span_of(&pair);
    let mut parts: Vec<TemplatePart> = Vec::new();
    let mut text = String::new();
    for p in kids(pair) {
        match p.as_rule() {
            Rule::str_text => text.push_str(p.as_str()),
            Rule::str_escape => text.push(match p.as_str() {
                "\\n" => '\n',
                "\\t" => '\t',
                "\\r" => '\r',
                "\\\"" => '"',
                "\\\\" => '\\',
                "\\{" | "{{" => '{',
                _ => '}',
            }),
            Rule::interp => {
                if !text.is_empty() {
                    parts.push(TemplatePart::Text(std::mem::take(&mut text)));
                }
                let ispan = span_of(&p);
                parts.push(TemplatePart::Expr(expr(next(
                    &mut kids(p),
                    ispan,
                    "interpolation",
                )?)?));
            }
            _ => return Err(internal(span, "string part")),
        }
    }
    if parts.is_empty() {
        return Ok(Expr {
            kind: ExprKind::Str(text),
            span,
        });
    }
    if !text.is_empty() {
        parts.push(TemplatePart::Text(text));
    }
    Ok(Expr {
        kind: ExprKind::Template(parts),
        span,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(src: &str) -> File {
        match parse(src) {
            Ok(f) => f,
            Err(e) => panic!(
                "{src}: {:?}",
                e.iter().map(|f| f.message.clone()).collect::<Vec<_>>()
            ),
        }
    }

    #[test]
    fn parses_every_item_kind() {
        let f = ok(r#"
            import "base.pcl"
            actions: read, create-children
            open actions: config.read
            public actions: well_known.read
            undeclared actions: deny "Permission '{action}' cannot be handled."
            principals {
              user == .id
              role in .roles
              every-logged-in-user anyone, even in tuples
            }
            request { principal?: { id: int, roles: [string] }? }
            let admins = ["admin"]
            rule is_admin = any r in principal.roles: r in admins
            rule owns(p) = p != null and principal matches user:{p.owner_id}
            authenticate { unauthenticated "no caller" when principal == null }
            policy acl for read, create-children in order {
              admin: allow when is_admin
              let acl = resource.acl
              allow when principal matches [user:14, (account:3, role:CEO)]
              deny "Authorization failure"
            }
            override policy acl { allow }
        "#);
        assert_eq!(f.items.len(), 13);
    }

    #[test]
    fn precedence_puts_coalesce_above_in_and_and_above_or() {
        let e = parse_expr(r#"a or b and "x" in c ?? []"#).unwrap();
        let ExprKind::Binary(BinOp::Or, _, rhs) = e.kind else {
            panic!("top is not or")
        };
        let ExprKind::Binary(BinOp::And, _, rhs) = rhs.kind else {
            panic!("not and")
        };
        let ExprKind::Binary(BinOp::In, _, rhs) = rhs.kind else {
            panic!("not in")
        };
        assert!(matches!(rhs.kind, ExprKind::Binary(BinOp::Coalesce, _, _)));
    }

    #[test]
    fn not_binds_looser_than_comparison() {
        let e = parse_expr("not a in b").unwrap();
        let ExprKind::Not(inner) = e.kind else {
            panic!("not a not")
        };
        assert!(matches!(inner.kind, ExprKind::Binary(BinOp::In, _, _)));
        let e = parse_expr("a not in b").unwrap();
        assert!(matches!(e.kind, ExprKind::Binary(BinOp::NotIn, _, _)));
    }

    #[test]
    fn templates_split_text_and_expressions() {
        let e =
            parse_expr(r#""Access to {action} forbidden for role {upper(role)}{{x}}""#).unwrap();
        let ExprKind::Template(parts) = e.kind else {
            panic!("not a template")
        };
        assert_eq!(parts.len(), 5);
        assert!(matches!(&parts[4], TemplatePart::Text(t) if t == "{x}"));
    }

    #[test]
    fn principal_literals_and_tuples() {
        let e = parse_expr("[user:007, (account:3, role:CEO), account-role:MDC, role:\"Trust Admin\", account:{r.id}]").unwrap();
        let ExprKind::List(items) = e.kind else {
            panic!("not a list")
        };
        assert_eq!(items.len(), 5);
        assert!(
            matches!(&items[0].kind, ExprKind::Principal { value: PrincipalValue::Text(t), .. } if t == "007")
        );
        assert!(matches!(&items[1].kind, ExprKind::Tuple(t) if t.len() == 2));
        assert!(
            matches!(&items[2].kind, ExprKind::Principal { kind, .. } if kind.name == "account-role")
        );
        assert!(
            matches!(&items[3].kind, ExprKind::Principal { value: PrincipalValue::Text(t), .. } if t == "Trust Admin")
        );
        assert!(matches!(
            &items[4].kind,
            ExprKind::Principal {
                value: PrincipalValue::Expr(_),
                ..
            }
        ));
    }

    #[test]
    fn spans_lie_inside_the_source() {
        let src = "let x = any r in principal.roles: r like \"rs_*\"";
        let f = ok(src);
        for item in &f.items {
            assert!(item.span().end <= src.len());
        }
    }

    #[test]
    fn syntax_errors_carry_a_code_and_position() {
        let errs = parse("policy p for read { allow when }").unwrap_err();
        assert_eq!(errs[0].code, Code::SyntaxError);
        assert!(errs[0].message.contains("expected"), "{}", errs[0].message);
    }

    #[test]
    fn reserved_words_as_names_are_named() {
        let errs = parse("let principals = 1").unwrap_err();
        assert_eq!(
            errs[0].message,
            "`principals` is a reserved word and cannot be used as a name"
        );
        assert_eq!(errs[0].span, Span::new(4, 14));
    }

    #[test]
    fn keywords_are_reserved_exactly() {
        let reserved: Vec<&str> = RESERVED.to_vec();
        for word in reserved {
            assert!(
                parse(&format!("let {word} = 1")).is_err(),
                "{word} should be reserved"
            );
        }
        assert!(parse("let allowed = 1").is_ok());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let src = format!("let x = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
        let errs = parse(&src).unwrap_err();
        assert_eq!(errs[0].code, Code::TooDeep);
    }

    #[test]
    fn regex_literals_keep_backslashes() {
        let e = parse_expr(r#"re"\d+\"x""#).unwrap();
        assert!(matches!(e.kind, ExprKind::Regex(s) if s == r#"\d+"x"#));
    }
    #[test]
    fn records_and_record_comprehensions_share_one_rule() {
        let e = parse_expr(r#"{a: 1, "b c": 2, claims: 3}"#).unwrap();
        let ExprKind::Record(fields) = e.kind else {
            panic!("not a record")
        };
        let keys: Vec<&str> = fields.iter().map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(keys, ["a", "b c", "claims"]);
        let e = parse_expr(r#"{"k": 1}"#).unwrap();
        assert!(matches!(e.kind, ExprKind::Record(f) if f[0].0.name == "k"));
        for comp in [
            "{k: v for k, v in r}",
            r#"{"{k}-x": v for k, v in r}"#,
            "{upper(k): v for k, v in r if v}",
        ] {
            let e = parse_expr(comp).unwrap();
            assert!(matches!(e.kind, ExprKind::RecordComp { .. }), "{comp}");
        }
        assert!(matches!(parse_expr("{}").unwrap().kind, ExprKind::Record(f) if f.is_empty()));
    }

    #[test]
    fn computed_keys_need_a_comprehension() {
        for (src, message) in [
            ("{upper(k): 1}", "a record key is a name or a string"),
            (r#"{("k"): 1}"#, "a record key is a name or a string"),
            (r#"{"k{x}": 1}"#, "interpolation is not allowed here"),
            (r#"{a: 1, "k{x}": 2}"#, "interpolation is not allowed here"),
        ] {
            let errs = parse_expr(src).unwrap_err();
            assert_eq!(errs[0].message, message, "{src}");
        }
    }

    #[test]
    fn a_broken_principal_interpolation_is_not_read_again_as_a_name() {
        // `r:{` commits to a principal literal: the interpolation is parsed
        // once, not again as a record after the name `r`.
        assert!(parse_expr("any x in r:{a: 1}").is_err());
        assert!(parse_expr("any x in r: {a: 1}").is_ok());
        assert!(parse_expr("any x in r:{x.id}: true").is_ok());
    }

    #[test]
    fn the_prescan_follows_strings_interpolations_and_escapes() {
        // Literal braces in a string are not brackets.
        let braces = format!("\"{}\"", "{{".repeat(400));
        assert!(nesting_error(&braces, 256).is_none());
        // Nested interpolations are brackets and strings.
        let four = r#""{ "{ "{ "{x}" }" }" }""#;
        assert!(nesting_error(four, 256).is_none());
        assert!(parse_expr(four).is_ok());
        let five = r#""{ "{ "{ "{ "{x}" }" }" }" }""#;
        let err = nesting_error(five, 256).unwrap();
        assert_eq!(err.code, Code::TooDeep);
        assert!(err.message.contains("interpolations"), "{}", err.message);
        // Quotes in comments and patterns open no string.
        assert!(nesting_error("// say \"{\n\"{ \"{ \"{ \"{x}\" }\" }\" }\"", 256).is_none());
        assert!(nesting_error(r#"re"\"{" == "{ "{ "{ "{x}" }" }" }""#, 256).is_none());
        // A string's interpolation counts towards bracket nesting.
        assert!(nesting_error(r#""{ ((x)) }""#, 2).is_some());
        assert!(nesting_error(r#""{ (x) }""#, 2).is_none());
    }
}
