//! Items: declarations, policies, blocks and statements.

use super::*;

pub(super) fn item(pair: Pair<Rule>) -> PResult<Item> {
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
                    _ => names.push(action_ident(p)?),
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
                let mut through = None;
                let test = match test.as_rule() {
                    Rule::kind_equals | Rule::kind_member => {
                        let is_eq = test.as_rule() == Rule::kind_equals;
                        let tspan = span_of(&test);
                        let mut parts = kids(test);
                        let path = next(&mut parts, tspan, "path")?;
                        let fields: Vec<Ident> = if path.as_rule() == Rule::kind_through {
                            let mut table = Vec::new();
                            let mut paths = Vec::new();
                            for p in kids(path) {
                                if p.as_rule() == Rule::rel_path {
                                    paths.push(kids(p).map(ident).collect::<Vec<_>>());
                                } else {
                                    table.push(ident(p));
                                }
                            }
                            let mut paths = paths.into_iter();
                            let key = paths.next().unwrap_or_default();
                            through = Some(KindThrough { table, key });
                            // No path after the row: the row itself.
                            paths.next().unwrap_or_default()
                        } else {
                            kids(path).map(ident).collect()
                        };
                        if let Some(c) = parts.next() {
                            compare = match c.as_str().trim_start_matches("as").trim() {
                                "int" => KindCompare::Int,
                                _ => KindCompare::Uuid,
                            };
                        }
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
                    through,
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
                        .filter(|a| matches!(a.as_rule(), Rule::action_name | Rule::string))
                        .map(action_ident)
                        .collect::<PResult<Vec<_>>>()?;
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
        Rule::graph_decl => {
            let mut it = kids(pair).filter(|p| p.as_rule() != Rule::kw_graph);
            let name = ident(next(&mut it, span, "graph name")?);
            let source = kids(next(&mut it, span, "rows")?).map(ident).collect();
            let form_pair = next(&mut it, span, "edges")?;
            let is_edges = form_pair.as_rule() == Rule::graph_edges;
            let fspan = span_of(&form_pair);
            let mut parts = kids(form_pair);
            let first = row_path(next(&mut parts, fspan, "path")?);
            let second = row_path(next(&mut parts, fspan, "path")?);
            let form = if is_edges {
                GraphDeclForm::Edges {
                    from: first,
                    to: second,
                    within: parts
                        .next()
                        .and_then(|w| w.into_inner().next())
                        .map(row_path),
                }
            } else {
                GraphDeclForm::Nodes {
                    key: first,
                    parents: second,
                }
            };
            Ok(Item::Graph(GraphDecl {
                name,
                source,
                form,
                span,
            }))
        }
        Rule::const_decl => {
            let mut it = kids(pair);
            let name = ident(next(&mut it, span, "name")?);
            let value = expr(next(&mut it, span, "value")?)?;
            Ok(Item::Let { name, value, span })
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
                    Rule::action_name | Rule::string => actions.push(action_ident(p)?),
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

/// An action name, bare (`read`, `wms.*`) or quoted (`"GET /todos"`).
fn action_ident(pair: Pair<Rule>) -> PResult<Ident> {
    if pair.as_rule() == Rule::string {
        let span = span_of(&pair);
        let name = plain_string(pair)?;
        if name.is_empty() {
            return Err(Box::new(
                Finding::new(Code::SyntaxError, span, "an action name cannot be empty")
                    .label("empty action name")
                    .help("write the action's name between the quotes"),
            ));
        }
        return Ok(Ident { name, span });
    }
    Ok(ident(pair))
}

pub(super) fn shape_field(pair: Pair<Rule>) -> PResult<ShapeField> {
    let span = span_of(&pair);
    let mut name = None;
    let mut optional = false;
    let mut rest = false;
    let mut ty = None;
    for p in kids(pair) {
        match p.as_rule() {
            Rule::rest_key | Rule::map_key => {
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

pub(super) fn shape_type(pair: Pair<Rule>) -> PResult<ShapeType> {
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
pub(super) fn shape_base(base: Pair<Rule>) -> PResult<ShapeType> {
    let span = span_of(&base);
    let nullable = false;
    let base = match base.as_rule() {
        Rule::shape_scalar => match base.as_str() {
            "any" => ShapeBase::Any,
            "bool" => ShapeBase::Bool,
            "int" => ShapeBase::Int,
            "number" => ShapeBase::Number,
            "string" => ShapeBase::String,
            "regex" => ShapeBase::Regex,
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

pub(super) fn block(pair: Pair<Rule>) -> PResult<Vec<Stmt>> {
    kids(pair).map(statement).collect()
}

pub(super) fn statement(pair: Pair<Rule>) -> PResult<Stmt> {
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

pub(super) fn outcome(pair: Pair<Rule>) -> Outcome {
    match pair.as_str() {
        "allow" => Outcome::Allow,
        "unauthenticated" => Outcome::Unauthenticated,
        _ => Outcome::Deny,
    }
}

fn row_path(pair: Pair<Rule>) -> Vec<RowStep> {
    kids(pair)
        .map(|step| match step.as_rule() {
            Rule::row_index => RowStep::Index(
                step.as_str()
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse()
                    .unwrap_or(usize::MAX),
            ),
            _ => RowStep::Field(
                step.into_inner()
                    .next()
                    .map_or(String::new(), |k| k.as_str().to_string()),
            ),
        })
        .collect()
}
