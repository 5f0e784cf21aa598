//! The abstract syntax tree of one policy file.
//!
//! Input: built by `syntax.rs` from pest's parse tree. Output: read by
//! `check.rs`, `lower.rs`, `lint.rs` and `fmt.rs` (which walk it with
//! [`for_each_expr`] and [`children`] at the end of this file).
//! Invariant: every node carries the byte span of its source text, and every
//! span lies inside the file it came from.

use std::fmt;

pub use crate::source::Span;

/// A name as written, with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it stands.
    pub span: Span,
}

impl fmt::Display for Ident {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// A parsed policy file.
#[derive(Clone, Debug, Default)]
pub struct File {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// One top-level item.
#[derive(Clone, Debug)]
pub enum Item {
    /// `import "path"`.
    Import { path: String, span: Span },
    /// `[open|public|token] actions: a, b` or `actions: *`.
    Actions {
        class: ActionClass,
        names: Vec<Ident>,
        any: bool,
        span: Span,
    },
    /// `undeclared actions: deny "reason"`.
    Undeclared {
        outcome: Outcome,
        reason: Option<Expr>,
        span: Span,
    },
    /// `principals { ... }`.
    Principals { kinds: Vec<KindDecl>, span: Span },
    /// `request { ... }` or `data { ... }`.
    Shape {
        root: ShapeRoot,
        /// `request for a, b { ... }`: the actions this contract is for
        /// (empty: every action).
        actions: Vec<Ident>,
        fields: Vec<ShapeField>,
        span: Span,
    },
    /// `let name = expr` at file level.
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    /// `rule name(params) = expr`.
    Rule(RuleDecl),
    /// `graph name = data.rows edge .from -> .to` or `... node .key parents .ps`.
    Graph(GraphDecl),
    /// `authenticate { ... }`.
    Authenticate { body: Vec<Stmt>, span: Span },
    /// `[override] policy name [for actions] [in order] { ... }`.
    Policy(PolicyDecl),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Import { span, .. }
            | Item::Actions { span, .. }
            | Item::Undeclared { span, .. }
            | Item::Principals { span, .. }
            | Item::Shape { span, .. }
            | Item::Let { span, .. }
            | Item::Authenticate { span, .. } => *span,
            Item::Rule(rule) => rule.span,
            Item::Graph(g) => g.span,
            Item::Policy(policy) => policy.span,
        }
    }
}

/// A graph read from rows of `data`.
#[derive(Clone, Debug)]
pub struct GraphDecl {
    /// Its name, called as `name(x)` and indexed as `name[key]`.
    pub name: Ident,
    /// The fields after `data.` that hold the rows.
    pub source: Vec<Ident>,
    /// How rows make edges.
    pub form: GraphDeclForm,
    /// The whole declaration.
    pub span: Span,
}

/// One step into a row: `.field` or `[index]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowStep {
    /// `.field`.
    Field(String),
    /// `[i]`.
    Index(usize),
}

/// How the rows of a graph make its edges.
#[derive(Clone, Debug)]
pub enum GraphDeclForm {
    /// `edge FROM -> TO [within DOMAIN]`: each row is an edge.
    Edges {
        /// The source node in each row.
        from: Vec<RowStep>,
        /// The target node in each row.
        to: Vec<RowStep>,
        /// The domain that scopes both nodes, if any.
        within: Option<Vec<RowStep>>,
    },
    /// `node KEY parents PARENTS`: each row is a node and lists its parents.
    Nodes {
        /// The node each row is.
        key: Vec<RowStep>,
        /// The list of nodes it is in.
        parents: Vec<RowStep>,
    },
}

/// How a declared action is decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ActionClass {
    /// Decided by the policies that cover it.
    Guarded,
    /// No policy; the `authenticate` checks (or a present principal) suffice.
    Open,
    /// No policy and no caller needed.
    Public,
    /// Token issuance: allowed for an authenticated caller, with the claims
    /// every policy adds.
    Token,
}

/// The three outcomes of a decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The caller may.
    Allow,
    /// The caller is known but may not (HTTP 403).
    Deny,
    /// There is no caller, or it could not be established (HTTP 401).
    Unauthenticated,
}

impl Outcome {
    /// The keyword as written in policies and in decision JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Allow => "allow",
            Outcome::Deny => "deny",
            Outcome::Unauthenticated => "unauthenticated",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One principal kind: how `kind:value` matches a caller.
#[derive(Clone, Debug)]
pub struct KindDecl {
    /// The kind name before the colon (`user`, `account-role`).
    pub name: Ident,
    /// How the value is compared with the caller.
    pub test: KindTest,
    /// `as int`, `as uuid`, or exact.
    pub compare: KindCompare,
    /// `data.users[.id]`: the test's path is read from the caller's row
    /// of that directory rather than from the caller.
    pub through: Option<KindThrough>,
    /// Span of the declaration.
    pub span: Span,
}

/// A directory a principal kind reads through: `data.TABLE[.KEY]`.
#[derive(Clone, Debug)]
pub struct KindThrough {
    /// The fields after `data.` that hold the directory.
    pub table: Vec<Ident>,
    /// The caller's field whose value keys the directory.
    pub key: Vec<Ident>,
}

/// How a kind compares the caller's field with a value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum KindCompare {
    /// Same type, equal (strings byte for byte).
    #[default]
    Exact,
    /// `as int`: digit text is the integer it spells.
    Int,
    /// `as uuid`: hyphenated UUIDs equal ignoring case.
    Uuid,
}

/// The comparison a principal kind makes.
#[derive(Clone, Debug)]
pub enum KindTest {
    /// `user == .id`: the value equals the caller's field (ids compare as
    /// numbers when all digits, UUIDs canonically).
    Equals(Vec<Ident>),
    /// `role in .roles`: the value is an element of the caller's list.
    Member(Vec<Ident>),
    /// `every-logged-in-user anyone`: any present caller. With
    /// `tuple_wide`, it also satisfies every AND tuple it appears in.
    Anyone { tuple_wide: bool },
}

/// The root a shape declaration describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShapeRoot {
    /// `request { principal: ..., resource: ..., context: ... }`.
    Request,
    /// `data { table: ... }`.
    Data,
}

/// A field of a declared shape.
#[derive(Clone, Debug)]
pub struct ShapeField {
    /// Field name.
    pub name: Ident,
    /// Whether the field may be absent (`name?: T`).
    pub optional: bool,
    /// `*: T`: the shape of every field the record does not name.
    pub rest: bool,
    /// Its type.
    pub ty: ShapeType,
}

/// A declared value type.
#[derive(Clone, Debug)]
pub struct ShapeType {
    /// The type without nullability.
    pub base: ShapeBase,
    /// Whether `null` is also accepted (`T?`).
    pub nullable: bool,
    /// Where it is written.
    pub span: Span,
}

/// The base of a declared type.
#[derive(Clone, Debug)]
pub enum ShapeBase {
    /// Anything.
    Any,
    /// `bool`.
    Bool,
    /// `int`.
    Int,
    /// `number` (integer or float).
    Number,
    /// `string`.
    String,
    /// `uuid`: a string in canonical hyphenated form.
    Uuid,
    /// `regex`: a string holding a pattern, matched with `matches`.
    Regex,
    /// `string | int`: any one of these.
    OneOf(Vec<ShapeType>),
    /// `[T]`.
    List(Box<ShapeType>),
    /// `{ f: T, ... }`; other fields are allowed and untyped.
    Record(Vec<ShapeField>),
}

/// `rule name(params) = body`.
#[derive(Clone, Debug)]
pub struct RuleDecl {
    /// Rule name.
    pub name: Ident,
    /// Parameter names.
    pub params: Vec<Ident>,
    /// Whether it was written with parentheses.
    pub parens: bool,
    /// The body.
    pub body: Expr,
    /// Span of the whole declaration.
    pub span: Span,
}

/// A policy block.
#[derive(Clone, Debug)]
pub struct PolicyDecl {
    /// Policy name; an override replaces the lower-layer policy of this name.
    pub name: Ident,
    /// Whether it is `override policy`.
    pub is_override: bool,
    /// The actions it covers (names or globs); empty for an override.
    pub actions: Vec<Ident>,
    /// `in order`: first applicable statement decides. Otherwise an explicit
    /// deny overrides any allow.
    pub ordered: bool,
    /// Statements in source order.
    pub body: Vec<Stmt>,
    /// Span of the whole block.
    pub span: Span,
}

/// A statement inside a block.
#[derive(Clone, Debug)]
pub enum Stmt {
    /// `let name = expr`.
    Let {
        name: Ident,
        value: Expr,
        span: Span,
    },
    /// `claims access: expr`.
    Claims {
        token: TokenKind,
        value: Expr,
        span: Span,
    },
    /// `label: outcome "reason" when cond with { ... }`.
    Decide(Box<Decide>),
}

impl Stmt {
    /// The statement's span.
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. } | Stmt::Claims { span, .. } => *span,
            Stmt::Decide(d) => d.span,
        }
    }
}

/// Which token a claim goes into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenKind {
    /// The access token.
    Access,
    /// The refresh token.
    Refresh,
}

/// A deciding statement.
#[derive(Clone, Debug)]
pub struct Decide {
    /// Optional label; it becomes the statement id.
    pub label: Option<Ident>,
    /// What it decides.
    pub outcome: Outcome,
    /// The reason template.
    pub reason: Option<Expr>,
    /// The condition; absent means always.
    pub when: Option<Expr>,
    /// Outputs on allow (`filters`, `principal`, `claims`).
    pub with: Option<Expr>,
    /// Span of the statement.
    pub span: Span,
}

/// An expression.
#[derive(Clone, Debug)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is written.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug)]
pub enum ExprKind {
    /// `null`.
    Null,
    /// `true`, `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A decimal literal, `0.75`: the value times 10^4.
    Decimal(i64),
    /// A string without interpolation.
    Str(String),
    /// A string with `{expr}` parts.
    Template(Vec<TemplatePart>),
    /// `re"..."`.
    Regex(String),
    /// `[a, b]`: a list, and as a principal descriptor an OR list.
    List(Vec<Expr>),
    /// `(a, b)`: an AND tuple of principals.
    Tuple(Vec<Expr>),
    /// `{ key: value }`.
    Record(Vec<(Ident, Expr)>),
    /// `kind:value`.
    Principal { kind: Ident, value: PrincipalValue },
    /// A name: a request root, a `let`, a parameter, a zero-argument rule or
    /// a principal kind.
    Name(Ident),
    /// `e.name`.
    Field(Box<Expr>, Ident),
    /// `e[key]`.
    Index(Box<Expr>, Box<Expr>),
    /// `f(args)`: a rule or a built-in function.
    Call(Ident, Vec<Expr>),
    /// `not e`.
    Not(Box<Expr>),
    /// `a op b`.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// `any x in xs: cond` and friends.
    Quantifier {
        q: Quantifier,
        var: Ident,
        over: Box<Expr>,
        body: Box<Expr>,
    },
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `match e { p => v, _ => w }`.
    Match(Box<Expr>, Vec<MatchArm>),
    /// `[e for x in xs if c]`.
    ListComp {
        elem: Box<Expr>,
        var: Ident,
        over: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
    /// `{k: v for a, b in rec if c}`.
    RecordComp {
        key: Box<Expr>,
        value: Box<Expr>,
        key_var: Ident,
        value_var: Ident,
        over: Box<Expr>,
        cond: Option<Box<Expr>>,
    },
}

/// The value part of a principal literal.
#[derive(Clone, Debug)]
pub enum PrincipalValue {
    /// Written out: `user:14`, `role:"Trust Admin"`.
    Text(String),
    /// Interpolated: `account:{resource.account_id}`.
    Expr(Box<Expr>),
}

/// A piece of a string template.
#[derive(Clone, Debug)]
pub enum TemplatePart {
    /// Literal text.
    Text(String),
    /// `{expr}`.
    Expr(Expr),
}

/// A `match` arm.
#[derive(Clone, Debug)]
pub struct MatchArm {
    /// Patterns; `None` is `_`.
    pub patterns: Vec<Option<Expr>>,
    /// The value.
    pub value: Expr,
}

/// Binary operators, lowest precedence first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `or`
    Or,
    /// `and`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `not in`
    NotIn,
    /// `matches`: principal matching.
    Matches,
    /// `like`: glob match.
    Like,
    /// `??`: the left value unless it is null.
    Coalesce,
    /// `+`: a sum, or strings or lists joined.
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`: integer division, rounding toward zero.
    Div,
    /// `%`: the remainder of `/`.
    Rem,
}

impl BinOp {
    /// The operator as written.
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::In => "in",
            BinOp::NotIn => "not in",
            BinOp::Matches => "matches",
            BinOp::Like => "like",
            BinOp::Coalesce => "??",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
        }
    }

    /// Binding strength; higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinOp::Or => 1,
            BinOp::And => 2,
            BinOp::Coalesce => 5,
            _ => 4,
        }
    }
}

/// Quantifier forms.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// True when some element satisfies the condition.
    Any,
    /// True when every element does (true for an empty list).
    All,
    /// The first element that does, or null.
    First,
    /// The last element that does, or null; always visits every element.
    Last,
    /// How many elements do.
    Count,
}

impl Quantifier {
    /// The keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Quantifier::Any => "any",
            Quantifier::All => "all",
            Quantifier::First => "first",
            Quantifier::Last => "last",
            Quantifier::Count => "count",
        }
    }
}

// ---------------------------------------------------------------- walking

/// Calls `f` on every expression in the file, outermost first.
#[cfg(feature = "tools")]
pub(crate) fn for_each_expr<'a>(file: &'a File, f: &mut impl FnMut(&'a Expr)) {
    for item in &file.items {
        match item {
            Item::Undeclared {
                reason: Some(e), ..
            } => walk(e, f),
            Item::Let { value, .. } => walk(value, f),
            Item::Rule(rule) => walk(&rule.body, f),
            Item::Authenticate { body, .. } => body.iter().for_each(|s| walk_stmt(s, f)),
            Item::Policy(p) => p.body.iter().for_each(|s| walk_stmt(s, f)),
            _ => {}
        }
    }
}

/// Calls `f` on every expression of a statement, outermost first.
#[cfg(feature = "tools")]
pub(crate) fn walk_stmt<'a>(stmt: &'a Stmt, f: &mut impl FnMut(&'a Expr)) {
    match stmt {
        Stmt::Let { value, .. } | Stmt::Claims { value, .. } => walk(value, f),
        Stmt::Decide(d) => {
            for e in [&d.reason, &d.when, &d.with].into_iter().flatten() {
                walk(e, f);
            }
        }
    }
}

/// Calls `f` on `e` and every expression inside it, outermost first.
#[cfg(feature = "tools")]
pub(crate) fn walk<'a>(e: &'a Expr, f: &mut impl FnMut(&'a Expr)) {
    f(e);
    for child in children(e) {
        walk(child, f);
    }
}

/// The expressions directly inside `e`.
#[cfg(feature = "tools")]
pub(crate) fn children(e: &Expr) -> Vec<&Expr> {
    match &e.kind {
        ExprKind::Null
        | ExprKind::Bool(_)
        | ExprKind::Int(_)
        | ExprKind::Decimal(_)
        | ExprKind::Str(_)
        | ExprKind::Regex(_)
        | ExprKind::Name(_) => Vec::new(),
        ExprKind::Template(parts) => parts
            .iter()
            .filter_map(|p| match p {
                TemplatePart::Expr(e) => Some(e),
                TemplatePart::Text(_) => None,
            })
            .collect(),
        ExprKind::List(items) | ExprKind::Tuple(items) | ExprKind::Call(_, items) => {
            items.iter().collect()
        }
        ExprKind::Record(fields) => fields.iter().map(|(_, v)| v).collect(),
        ExprKind::Principal { value, .. } => match value {
            PrincipalValue::Expr(e) => vec![e],
            PrincipalValue::Text(_) => Vec::new(),
        },
        ExprKind::Field(e, _) | ExprKind::Not(e) => vec![e],
        ExprKind::Index(a, b) | ExprKind::Binary(_, a, b) => vec![a, b],
        ExprKind::Quantifier { over, body, .. } => vec![over, body],
        ExprKind::If(a, b, c) => vec![a, b, c],
        ExprKind::Match(subject, arms) => std::iter::once(&**subject)
            .chain(arms.iter().flat_map(|arm| {
                arm.patterns
                    .iter()
                    .flatten()
                    .chain(std::iter::once(&arm.value))
            }))
            .collect(),
        ExprKind::ListComp {
            elem, over, cond, ..
        } => [Some(&**elem), Some(&**over), cond.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
        ExprKind::RecordComp {
            key,
            value,
            over,
            cond,
            ..
        } => [Some(&**key), Some(&**value), Some(&**over), cond.as_deref()]
            .into_iter()
            .flatten()
            .collect(),
    }
}
