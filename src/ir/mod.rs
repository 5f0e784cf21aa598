//! The evaluation IR: what `lower.rs` builds and `eval.rs` runs.
//!
//! Invariants:
//! - names are resolved: variables are slot numbers, rules and principal
//!   kinds are indexes, field names are shared interned strings;
//! - patterns are compiled regexes, built once at load;
//! - statements are reached through the action index, never by scanning
//!   every policy;
//! - nothing here refers to policy text except spans kept for reporting.

use crate::ast::{ActionClass, Outcome, Quantifier, Span};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::Arc;

pub(crate) mod dump;
pub(crate) mod index;
pub(crate) mod print;

/// An interned name.
pub(crate) type Name = Arc<str>;

/// A variable slot in the per-decision frame.
pub(crate) type Slot = u32;

/// A compiled policy set.
#[derive(Debug)]
pub(crate) struct Program {
    /// Declared actions, by name.
    pub actions: HashMap<Name, ActionId>,
    /// Per declared action: class and covering policies.
    pub action_info: Vec<ActionInfo>,
    /// `actions: *`: policies matched by glob against undeclared actions.
    pub open_set: Option<Vec<(Name, PolicyId)>>,
    /// What an undeclared action gets.
    pub undeclared: (Outcome, Option<Reason>),
    /// Checks run before the policies of every non-public action.
    pub authenticate: Option<Block>,
    /// Policies after overrides, by id.
    pub policies: Vec<Policy>,
    /// Principal kinds.
    pub kinds: Vec<Kind>,
    /// Kind names, for display and for parsing descriptors held as data.
    pub kind_names: Vec<Box<str>>,
    /// Per kind: the directory it reads through, if any.
    pub kind_through: Vec<Option<KindThrough>>,
    /// Rules.
    pub rules: Vec<Rule>,
    /// Lazily computed `let`s (file level and block level), by id.
    pub lets: Vec<Expr>,
    /// Compiled patterns.
    pub patterns: Vec<regex::Regex>,
    /// Statement metadata, by id.
    pub statements: Vec<StatementMeta>,
    /// Per statement id, what a decision it makes reports: built once so
    /// that deciding shares it instead of allocating.
    pub deciding: Vec<Arc<[DecidingStatement]>>,
    /// Slots a decision needs (parameters, quantifier variables).
    pub slot_count: usize,
    /// Declared request shape, checked before deciding.
    pub request_shape: Option<Shape>,
    /// `request for` contracts, by index from `ActionInfo::contract`.
    pub action_contracts: Vec<Shape>,
    /// Declared data shape, checked before deciding.
    pub data_shape: Option<Shape>,
    /// Graphs read from `data` (`graph` declarations), by id.
    pub graphs: Vec<Graph>,
    /// The names behind slots, lets and rules, for explanations only.
    pub names: Names,
}

/// What the policy called the things the IR numbers: read only to show an
/// expression to a person (`print.rs`), never to decide.
#[derive(Debug, Default)]
pub(crate) struct Names {
    /// Per slot: the rule parameter or loop variable it holds.
    pub slots: Vec<Name>,
    /// Per let id: its name; empty for values lowering hoisted itself.
    pub lets: Vec<Name>,
    /// Per rule id.
    pub rules: Vec<Name>,
}

pub(crate) type ActionId = u32;
pub(crate) type PolicyId = u32;
pub(crate) type StmtId = u32;

#[derive(Debug)]
pub(crate) struct ActionInfo {
    pub name: Name,
    /// The reason of the default deny, built once.
    pub no_allow: Arc<str>,
    pub class: ActionClass,
    pub policies: Vec<PolicyId>,
    /// The action's own `request for` contract, if any.
    pub contract: Option<u32>,
}

#[derive(Debug)]
pub(crate) struct Policy {
    pub name: Name,
    pub body: Block,
    pub claims_access: Option<Expr>,
    pub claims_refresh: Option<Expr>,
}

/// A sequence of deciding statements.
#[derive(Debug)]
pub(crate) struct Block {
    /// First applicable decides (`in order`), or deny overrides allow.
    pub ordered: bool,
    pub statements: Vec<Statement>,
    /// Statements keyed by the constant their condition first compares a
    /// request path with (`index.rs`); `None` for small blocks.
    pub index: Option<index::StatementIndex>,
}

#[derive(Debug)]
pub(crate) struct Statement {
    pub id: StmtId,
    pub outcome: Outcome,
    pub reason: Option<Reason>,
    pub when: Option<Expr>,
    pub outputs: Outputs,
}

/// A reason: fixed text is shared, templates are computed per decision.
#[derive(Debug)]
pub(crate) enum Reason {
    Fixed(Arc<str>),
    Computed(Expr),
}

/// What an allow hands back.
#[derive(Debug, Default)]
pub(crate) struct Outputs {
    pub filters: Option<Expr>,
    pub principal: Option<Expr>,
    pub claims: Option<Expr>,
}

/// Where a statement is, for decisions and traces.
#[derive(Clone, Debug)]
pub(crate) struct StatementMeta {
    pub id: Arc<str>,
    pub file: Arc<str>,
    pub line: usize,
    pub span: Span,
}

/// How a principal kind compares the caller's field with a value:
/// exactly, unless its declaration says `as int` or `as uuid`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compare {
    Exact,
    Int,
    Uuid,
}

/// How `kind:value` is compared with a subject.
#[derive(Debug)]
pub(crate) enum Kind {
    Equals(Vec<Name>, Compare),
    Member(Vec<Name>, Compare),
    Anyone { tuple_wide: bool },
}

/// A `graph` declaration: what it reads from `data`.
#[derive(Debug)]
pub(crate) struct Graph {
    pub name: Name,
    pub spec: crate::value::graph::GraphSpec,
}

/// A query on a graph: `g(x)`, `g(x, domain)`, `y in g(x)` or `g[key]`.
#[derive(Debug)]
pub(crate) struct GraphQuery {
    pub graph: u32,
    pub op: GraphOp,
    /// The node (and domain) asked about.
    pub args: Box<[Expr]>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum GraphOp {
    /// `g(x)`: `x` and every node it reaches.
    Reach,
    /// `g[key]`: the row whose key is `key`; absent when there is none.
    Row,
}

/// A directory a principal kind reads through (`data.users[.id]`): the
/// kind's path is read from the caller's row of `data.TABLE`, a record keyed
/// by the caller's field at `key`.
#[derive(Debug)]
pub(crate) struct KindThrough {
    pub table: Vec<Name>,
    pub key: Vec<Name>,
}

#[derive(Debug)]
pub(crate) struct Rule {
    pub params: Vec<Slot>,
    pub body: Expr,
}

/// Request roots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Root {
    Principal,
    Action,
    Resource,
    Context,
    Data,
}

/// Built-in functions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Builtin {
    Upper,
    Lower,
    Len,
    StartsWith,
    EndsWith,
    Contains,
    StripPrefix,
    StripSuffix,
    BeforeLast,
    AfterLast,
    BeforeFirst,
    AfterFirst,
    Empty,
    Distinct,
    Captures,
    Uuid,
    IsUuid,
    ToInt,
    ToString,
    Keys,
    Has,
    SecretEq,
    SecretLookup,
    TypeOf,
    // Arithmetic (`a + b`, ...): lowered to calls, never called by name.
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    // Decimals, IP addresses, time (`eval/scalars.rs`).
    Decimal,
    Ip,
    Timestamp,
    Duration,
    InRange,
    IsIpv4,
    IsIpv6,
    IsLoopback,
    IsMulticast,
    // Strings and lists (`eval/scalars.rs`).
    Split,
    Join,
    Union,
    Intersection,
    ContainsAny,
    ContainsAll,
    RegexMatch,
    PathMatch,
    PathParams,
}

impl Builtin {
    /// Every built-in with its name and arity.
    pub const ALL: &'static [(&'static str, Builtin, usize)] = &[
        ("upper", Builtin::Upper, 1),
        ("lower", Builtin::Lower, 1),
        ("len", Builtin::Len, 1),
        ("starts_with", Builtin::StartsWith, 2),
        ("ends_with", Builtin::EndsWith, 2),
        ("contains", Builtin::Contains, 2),
        ("strip_prefix", Builtin::StripPrefix, 2),
        ("strip_suffix", Builtin::StripSuffix, 2),
        ("before_last", Builtin::BeforeLast, 2),
        ("after_last", Builtin::AfterLast, 2),
        ("before_first", Builtin::BeforeFirst, 2),
        ("after_first", Builtin::AfterFirst, 2),
        ("empty", Builtin::Empty, 1),
        ("distinct", Builtin::Distinct, 1),
        ("captures", Builtin::Captures, 2),
        ("uuid", Builtin::Uuid, 1),
        ("is_uuid", Builtin::IsUuid, 1),
        ("int", Builtin::ToInt, 1),
        ("string", Builtin::ToString, 1),
        ("keys", Builtin::Keys, 1),
        ("has", Builtin::Has, 2),
        ("secret_eq", Builtin::SecretEq, 2),
        ("secret_lookup", Builtin::SecretLookup, 3),
        ("type_of", Builtin::TypeOf, 1),
        ("+", Builtin::Add, 2),
        ("-", Builtin::Sub, 2),
        ("*", Builtin::Mul, 2),
        ("/", Builtin::Div, 2),
        ("%", Builtin::Rem, 2),
        ("decimal", Builtin::Decimal, 1),
        ("ip", Builtin::Ip, 1),
        ("timestamp", Builtin::Timestamp, 1),
        ("duration", Builtin::Duration, 1),
        ("in_range", Builtin::InRange, 2),
        ("is_ipv4", Builtin::IsIpv4, 1),
        ("is_ipv6", Builtin::IsIpv6, 1),
        ("is_loopback", Builtin::IsLoopback, 1),
        ("is_multicast", Builtin::IsMulticast, 1),
        ("split", Builtin::Split, 2),
        ("join", Builtin::Join, 2),
        ("union", Builtin::Union, 2),
        ("intersection", Builtin::Intersection, 2),
        ("contains_any", Builtin::ContainsAny, 2),
        ("contains_all", Builtin::ContainsAll, 2),
        ("regex_match", Builtin::RegexMatch, 2),
        ("path_match", Builtin::PathMatch, 2),
        ("path_params", Builtin::PathParams, 2),
    ];

    pub fn lookup(name: &str) -> Option<(Builtin, usize)> {
        Builtin::ALL
            .iter()
            .find(|(n, b, _)| *n == name && !b.is_operator())
            .map(|(_, b, a)| (*b, *a))
    }

    /// An arithmetic operator: written between its operands, never called.
    pub fn is_operator(self) -> bool {
        matches!(
            self,
            Builtin::Add | Builtin::Sub | Builtin::Mul | Builtin::Div | Builtin::Rem
        )
    }

    pub fn name(self) -> &'static str {
        Builtin::ALL
            .iter()
            .find(|(_, b, _)| *b == self)
            .map_or("?", |(n, _, _)| n)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// An expression node. `Span`s are kept only where an error may be raised.
#[derive(Debug)]
pub(crate) enum Expr {
    Const(Value),
    Root(Root),
    Var(Slot),
    Let(u32),
    Field(Box<Expr>, Name, Span),
    Index(Box<Expr>, Box<Expr>, Span),
    Call(u32, Box<[Expr]>),
    Builtin(Builtin, Box<[Expr]>, Span),
    Not(Box<Expr>, Span),
    And(Box<Expr>, Box<Expr>, Span),
    Or(Box<Expr>, Box<Expr>, Span),
    Coalesce(Box<Expr>, Box<Expr>),
    Cmp(CmpOp, Box<Expr>, Box<Expr>, Span),
    In {
        item: Box<Expr>,
        set: Box<Expr>,
        negate: bool,
        span: Span,
    },
    Like(Box<Expr>, Box<Expr>, Span),
    Matches(Box<Expr>, Box<Expr>, Span),
    Quant {
        q: Quantifier,
        slot: Slot,
        over: Box<Expr>,
        body: Box<Expr>,
        span: Span,
    },
    If(Box<Expr>, Box<Expr>, Box<Expr>, Span),
    Match(Box<Expr>, Vec<(Vec<Value>, Expr)>, Option<Box<Expr>>),
    List(Box<[Expr]>),
    Tuple(Box<[Expr]>),
    Record(Box<[(Name, Expr)]>),
    Template(Box<[TemplatePart]>),
    Principal(u32, Box<Expr>),
    Pattern(u32),
    /// A graph query; `y in g(x)` is an `In` whose set is a `Reach`, which
    /// the evaluator answers without building the list.
    Graph(Box<GraphQuery>),
    /// A decimal, IP address, timestamp or duration known at compile time.
    Scalar(crate::value::Scalar),
    ListComp {
        elem: Box<Expr>,
        slot: Slot,
        over: Box<Expr>,
        cond: Option<Box<Expr>>,
        span: Span,
    },
    RecordComp {
        key: Box<Expr>,
        value: Box<Expr>,
        key_slot: Slot,
        value_slot: Slot,
        over: Box<Expr>,
        cond: Option<Box<Expr>>,
        span: Span,
    },
}

#[derive(Debug)]
pub(crate) enum TemplatePart {
    Text(Box<str>),
    Expr(Expr),
}

/// A declared shape, checked against requests and data.
#[derive(Debug, Clone)]
pub(crate) struct Shape {
    pub base: ShapeBase,
    pub nullable: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum ShapeBase {
    Any,
    Bool,
    Int,
    Number,
    String,
    Uuid,
    /// A string that compiles as a pattern.
    Regex,
    /// `string | int`: any one of these.
    OneOf(Vec<Shape>),
    List(Box<Shape>),
    /// Named fields (name, may be absent, shape), and the shape of every
    /// other field (`*: T`), if given.
    Record(Vec<(Name, bool, Shape)>, Option<Box<Shape>>),
}

/// A statement that determined a decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecidingStatement {
    /// `policy.label`, or `policy#n` for the n-th unlabelled statement.
    pub id: Arc<str>,
    /// The file it is written in.
    pub file: Arc<str>,
    /// Its 1-based line.
    pub line: usize,
    /// Its byte span in the file.
    pub span: Span,
}
