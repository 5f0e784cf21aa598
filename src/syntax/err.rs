//! Syntax errors: pest's errors turned into `PCL1xx` findings with words
//! instead of rule names, and help for reserved words.

use super::*;

/// A pest error in `text` as a finding, with a hint that names the fix
/// when the text shows a mistake we know (`hints.rs`).
pub(super) fn pest_error(err: pest::error::Error<Rule>, text: &str) -> ParseError {
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
    let positives: &[Rule] = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives,
        ErrorVariant::CustomError { .. } => &[],
    };
    let finding = Finding::new(Code::SyntaxError, span, message)
        .label(label)
        .help(format!(
            "see {} for the syntax of each construct",
            crate::diagnostics::docs_url("language")
        ));
    super::hints::hint(finding, text, positives)
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
pub(super) fn reserved_word_help(mut f: ParseError, text: &str) -> ParseError {
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

pub(super) fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    }
}

/// Rule names turned into words for messages.
pub(super) fn rule_words(rule: Rule) -> Option<&'static str> {
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
        Rule::kind_through => "a directory such as `data.users[.id]`",
        Rule::shape_decl | Rule::shape_root => "`request` or `data`",
        Rule::shape_field => "a field",
        Rule::shape_type | Rule::shape_scalar | Rule::shape_list | Rule::shape_record => "a type",
        Rule::const_decl => "`let`",
        Rule::graph_decl | Rule::kw_graph => "`graph`",
        Rule::graph_source => "a data path such as `data.roles`",
        Rule::graph_edges => "`edge`",
        Rule::graph_nodes => "`node`",
        Rule::graph_within => "`within`",
        Rule::row_path | Rule::row_field | Rule::row_index => "a row path such as `.id` or `[0]`",
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
pub(super) fn internal(span: Span, what: &str) -> Box<ParseError> {
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
