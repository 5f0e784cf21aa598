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
            .op(Op::infix(Rule::op_add, Assoc::Left) | Op::infix(Rule::op_sub, Assoc::Left))
            .op(Op::infix(Rule::op_mul, Assoc::Left)
                | Op::infix(Rule::op_div, Assoc::Left)
                | Op::infix(Rule::op_rem, Assoc::Left))
            .op(Op::infix(Rule::op_coalesce, Assoc::Left))
    })
}

pub use crate::limits::{MAX_EXPR_DEPTH, MAX_NESTING};

mod err;
mod expr;
mod hints;
mod items;
pub(crate) mod lex;
mod recover;

pub use err::RESERVED;
use err::*;
use expr::*;
use items::*;
#[cfg(feature = "tools")]
pub(crate) use recover::ITEM_STARTS;
pub use recover::MAX_INTERPOLATION_DEPTH;
use recover::*;

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
                let finding = reserved_word_help(pest_error(err, current), current);
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

/// Parses a lone expression (used by tests and the REPL-like helpers).
pub fn parse_expr(text: &str) -> Result<Expr, Vec<ParseError>> {
    if let Some(err) = nesting_error(text, MAX_NESTING) {
        return Err(vec![*err]);
    }
    let _budget = DepthBudget::set(MAX_EXPR_DEPTH);
    let mut pairs = parse_bounded(Rule::expr, text).map_err(|e| vec![pest_error(e, text)])?;
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

fn parse_bounded(rule: Rule, text: &str) -> Result<Pairs<'_, Rule>, pest::error::Error<Rule>> {
    PclParser::parse(rule, text)
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
        match crate::syntax::lex::comments(last_line).last() {
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
