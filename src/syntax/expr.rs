//! Expressions: operators by precedence (a Pratt parser), records,
//! strings with interpolation, terms and primaries.

use super::*;

pub(super) fn expr(pair: Pair<Rule>) -> PResult<Expr> {
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

pub(super) fn pratt_expr(pairs: Pairs<Rule>) -> PResult<Expr> {
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
                Rule::op_add => BinOp::Add,
                Rule::op_sub => BinOp::Sub,
                Rule::op_mul => BinOp::Mul,
                Rule::op_div => BinOp::Div,
                Rule::op_rem => BinOp::Rem,
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
pub(super) fn record_comp<'p>(
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
pub(super) fn record(pair: Pair<Rule>, span: Span) -> PResult<ExprKind> {
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
pub(super) fn record_key(k: Pair<Rule>) -> PResult<Ident> {
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

pub(super) fn term(pair: Pair<Rule>) -> PResult<Expr> {
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

pub(super) fn primary(pair: Pair<Rule>) -> PResult<Expr> {
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
        Rule::decimal_lit => match crate::value::scalar::parse_decimal(pair.as_str()) {
            Ok(d) => ExprKind::Decimal(d),
            Err(why) => {
                return Err(Box::new(
                    Finding::new(Code::InvalidLiteral, span, "decimal literal cannot be represented")
                        .label(why)
                        .help("decimals hold four fractional digits, from -922337203685477.5808 to 922337203685477.5807"),
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
pub(super) fn plain_string(pair: Pair<Rule>) -> PResult<String> {
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

pub(super) fn string(pair: Pair<Rule>) -> PResult<Expr> {
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
