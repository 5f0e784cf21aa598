//! Diagnostics: the registry of stable codes, and the finding type every
//! load-time stage reports with.
//!
//! Input: findings built by `syntax.rs`, `check.rs`, `lower.rs` and
//! `bundle.rs`. Output: miette diagnostics with a code, a labelled span in a
//! named source, and a help line. Invariant: a code, once published, keeps its
//! meaning and is never reused; `docs/diagnostics.md` lists every code.

use crate::source::Span;
pub use crate::source::{escape_controls, Source};
use miette::{LabeledSpan, SourceCode};
use std::fmt;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Shown but never fails a build.
    Warning,
    /// The policy cannot be used.
    Error,
}

macro_rules! codes {
    ($( $(#[doc = $doc:literal])* $variant:ident = $code:literal, $name:literal, $sev:ident; )*) => {
        /// Every diagnostic code Portcullis reports.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Code {
            /// All codes, in registry order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];

            /// The stable code, such as `PCL100`.
            pub fn code(self) -> &'static str {
                match self { $( Code::$variant => $code, )* }
            }

            /// The kebab-case name, such as `syntax-error`.
            pub fn name(self) -> &'static str {
                match self { $( Code::$variant => $name, )* }
            }

            /// One line saying what the code means, with a bad example
            /// (the registry's doc comment).
            pub fn summary(self) -> &'static str {
                match self { $( Code::$variant => concat!($($doc),*), )* }.trim()
            }

            /// The severity when no option changes it.
            pub fn default_severity(self) -> Severity {
                match self { $( Code::$variant => Severity::$sev, )* }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar: `policy p { allow when }`.
    SyntaxError = "PCL100", "syntax-error", Error;
    /// A literal that cannot be represented: `let x = 99999999999999999999`.
    InvalidLiteral = "PCL101", "invalid-literal", Error;
    /// Brackets nested deeper than the parser allows.
    TooDeep = "PCL102", "too-deep", Error;
    /// A name that is not defined: `allow when is_admn`.
    UnknownName = "PCL200", "unknown-name", Error;
    /// A field the declared request shape does not have: `principal.idd`.
    UnknownField = "PCL201", "unknown-field", Error;
    /// A call of something that is neither a rule nor a built-in: `frob(x)`.
    UnknownFunction = "PCL202", "unknown-function", Error;
    /// A call with the wrong number of arguments: `upper(a, b)`.
    WrongArity = "PCL203", "wrong-arity", Error;
    /// A policy covers an action that is not declared: `policy p for wrte`.
    UndeclaredAction = "PCL204", "undeclared-action", Error;
    /// A principal literal of a kind not declared: `group:5`.
    UnknownPrincipalKind = "PCL205", "unknown-principal-kind", Error;
    /// Operands whose types cannot work together: `principal.id == "x"` where id is an int.
    TypeMismatch = "PCL206", "type-mismatch", Error;
    /// A rule that calls itself, directly or through others.
    RecursiveRule = "PCL207", "recursive-rule", Error;
    /// Two definitions of one name in one scope.
    DuplicateDefinition = "PCL208", "duplicate-definition", Error;
    /// An import whose file cannot be read.
    UnresolvedImport = "PCL209", "unresolved-import", Error;
    /// A policy file that imports itself, directly or through others.
    ImportCycle = "PCL210", "import-cycle", Error;
    /// A principal literal whose value cannot be an id: `user:abc`.
    MalformedPrincipal = "PCL211", "malformed-principal", Error;
    /// A `with` clause on a statement that is not `allow`, or an unknown output key.
    InvalidOutput = "PCL212", "invalid-output", Error;
    /// A pattern that does not compile or is too large: `re"(unclosed"`.
    InvalidPattern = "PCL213", "invalid-pattern", Error;
    /// An action declared twice with different classes.
    ConflictingAction = "PCL214", "conflicting-action", Error;
    /// A statement that is not allowed where it stands (claims in `authenticate`).
    MisplacedStatement = "PCL215", "misplaced-statement", Error;
    /// Two policies without `override` define the same name.
    DuplicatePolicy = "PCL216", "duplicate-policy", Error;
    /// More statements, rules or nodes than the configured limits allow.
    LimitExceeded = "PCL217", "limit-exceeded", Error;
    /// Two principal kinds read the same field of the caller:
    /// `principals { staff == .id  patient == .id }`.
    AmbiguousKind = "PCL218", "ambiguous-principal-kind", Error;
    /// A `let`, rule, parameter or loop variable named like a request root
    /// or a built-in, which it would hide: `let resource = 1`.
    ReservedName = "PCL219", "reserved-name", Error;
    /// A declared action holding `*`: `actions: read, admin.*`.
    GlobInDeclaration = "PCL220", "glob-in-declaration", Error;
    /// A graph name used other than as `g(x)`, `g(x, domain)` or `g[key]`.
    GraphMisuse = "PCL221", "graph-misuse", Error;
    /// A decimal, IP address, timestamp or duration written in the policy
    /// that is not one: `ip("10.0.0.300")`.
    InvalidValueLiteral = "PCL226", "invalid-value-literal", Error;
    /// `matches` between text and a string: a string on the right of
    /// `matches` is a principal descriptor, so text never matches it. A
    /// pattern held as data is declared `regex`: `resource.path matches data.re`.
    TextMatchesDescriptor = "PCL231", "text-matches-descriptor", Error;
    /// An `override policy` that no lower layer defines.
    OverrideNothing = "PCL300", "override-nothing", Warning;
    /// A declared action that no statement covers and that is not open or public.
    UncoveredAction = "PCL301", "uncovered-action", Error;
    /// A statement that can never decide: an earlier one always decides first.
    UnreachableStatement = "PCL302", "unreachable-statement", Warning;
    /// A condition that is always false: `allow when role == "a" and false`.
    AlwaysFalse = "PCL303", "condition-always-false", Warning;
    /// A condition that is always true: `deny when 1 == 1`.
    AlwaysTrue = "PCL304", "condition-always-true", Warning;
    /// A pattern or literal that no value can match: `action == "raed"`.
    ImpossiblePattern = "PCL305", "impossible-pattern", Warning;
    /// A rule or `let` that nothing uses.
    UnusedDefinition = "PCL306", "unused-definition", Warning;
    /// A credential compared without the constant-time operation: `key == data.key`.
    CredentialCompared = "PCL307", "credential-not-constant-time", Error;
    /// A secret written in clear in the policy: `secret_eq(key, "hunter2")`.
    SecretInClear = "PCL308", "secret-in-clear", Error;
    /// The same entry twice in one list or declaration: `actions: read, read`.
    DuplicateEntry = "PCL309", "duplicate-entry", Warning;
    /// A `// portcullis:` comment that cannot be applied.
    InvalidPragma = "PCL310", "invalid-pragma", Warning;
    /// A quantifier whose condition runs on over an `or` or `and` that does
    /// not use its variable: `any r in roles: r == "admin" or resource.public`.
    QuantifierBodyTooWide = "PCL311", "quantifier-body-too-wide", Warning;
    /// An allow that can never decide, because another policy for the same
    /// actions always decides first: `policy a for read in order { ... deny }`.
    AllowNeverDecides = "PCL312", "allow-never-decides", Warning;
    /// A policy reading request fields whose shape nothing declares:
    /// `allow when resource.owner == principal.id` without `request { ... }`.
    UndeclaredShape = "PCL313", "undeclared-request-shape", Warning;
    /// An `unauthenticated` statement for a null caller that the request
    /// shape refuses first: `principal: { id: int }` without `?`.
    UnauthenticatedNeverFires = "PCL314", "unauthenticated-never-fires", Warning;
    /// A condition that is a bare value nothing says is a boolean:
    /// `allow when resource.owner_id`.
    BareCondition = "PCL315", "bare-condition", Warning;
    /// A descriptor written as text in the policy that names no declared
    /// kind: `let admins = ["usr:14"]` with `principal matches admins`.
    UnknownKindInDescriptor = "PCL316", "unknown-kind-in-descriptor", Warning;
    /// An address range compared as text: `context.ip == "10.0.0.0/8"`,
    /// `context.ip like "10.0.*"`.
    AddressAsText = "PCL320", "address-as-text", Warning;
    /// A timestamp ordered as text: `context.now < "2024-05-01T12:00:00Z"`.
    TimestampAsText = "PCL321", "timestamp-as-text", Warning;
    /// A record shape field named like a type, unquoted: `{ string: T }`
    /// declares a field called `string`, not a map (`{ [string]: T }`).
    TypeNameAsField = "PCL323", "type-name-as-field", Warning;
    /// The request is not valid JSON.
    InvalidJson = "PCL400", "invalid-json", Error;
    /// A request field is missing or has the wrong type.
    InvalidRequest = "PCL401", "invalid-request", Error;
    /// An operation met a value of the wrong type at decision time.
    EvalTypeError = "PCL500", "eval-type-error", Error;
    /// A principal descriptor in data is malformed (nested too deep, not a string).
    MalformedDescriptor = "PCL501", "malformed-descriptor", Error;
    /// Evaluation went past a configured limit.
    EvalLimit = "PCL502", "eval-limit", Error;
    /// A value that should be a UUID is not one.
    InvalidUuid = "PCL503", "invalid-uuid", Error;
    /// A field or item read where the value does not have it: `resource.acl`
    /// on a resource without `acl`, outside `??` and `has`.
    AbsentField = "PCL504", "absent-field", Error;
    /// The rows a `graph` reads from data are absent or malformed.
    GraphData = "PCL505", "graph-data", Error;
    /// Arithmetic whose result cannot be given exactly: an overflow,
    /// a division by zero, a decimal result past four fractional digits.
    ArithmeticError = "PCL508", "arithmetic-error", Error;
    /// Text that is not the decimal, IP address, timestamp or duration a
    /// conversion needs: `timestamp(context.now)` of `"yesterday"`.
    InvalidValueText = "PCL509", "invalid-value-text", Error;
    /// Pattern text from data or the request that does not compile as a
    /// pattern, or compiles too large: `{"re": "(a"}` for `re: regex`. Data
    /// loaded for the set is refused when it is loaded; met during a
    /// decision, it denies.
    InvalidPatternText = "PCL513", "invalid-pattern-text", Error;
    /// `portcullis filter`: a construct no database condition can express
    /// exactly over the resource: `secret_eq(resource.key, ...)`.
    FilterUnsupported = "PCL600", "filter-unsupported", Error;
    /// `portcullis filter`: the filter grows past its limits (a data lookup
    /// keyed by the resource unrolls into a case per row).
    FilterLimit = "PCL601", "filter-limit", Error;
    /// A mapping that cannot be read: `{"column": "owner id"}`.
    InvalidMapping = "PCL602", "invalid-mapping", Error;
    /// A mapping that disagrees with the request contract: an integer column
    /// where the contract says `uuid`.
    MappingMismatch = "PCL603", "mapping-mismatch", Error;
    /// A filter the mapping cannot render: a row filter on a field the
    /// mapping lacks, or `filters: null`.
    FilterUnmappable = "PCL604", "filter-unmappable", Error;
    /// The formatter's output would not mean what the input means (a bug
    /// in the formatter), so the file is left as it is.
    FormatRefused = "PCL700", "format-refused", Error;
    /// A path given to a command cannot be read, or holds no policy file:
    /// `portcullis check missing/`.
    UnreadablePath = "PCL701", "unreadable-path", Error;
    /// An option names no code, or would lower an error: `--allow PCL206`.
    InvalidOption = "PCL702", "invalid-option", Error;
    /// A case file of `portcullis test` that cannot be read or run.
    InvalidCaseFile = "PCL703", "invalid-case-file", Error;
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl Code {
    /// Whether options may change this code's severity. Only lints may:
    /// the other codes make a policy, request or decision unusable.
    pub fn adjustable(self) -> bool {
        self.code().starts_with("PCL3")
    }

    /// Looks a code up by `PCL123` or by its kebab-case name.
    pub fn parse(text: &str) -> Option<Code> {
        Code::ALL
            .iter()
            .copied()
            .find(|c| c.code().eq_ignore_ascii_case(text) || c.name() == text)
    }
}

/// One diagnostic: a code, a message, where, and how to fix it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// Its severity after options are applied.
    pub severity: Severity,
    /// One lowercase line without a final period.
    pub message: String,
    /// The primary span.
    pub span: Span,
    /// Text for the primary label.
    pub label: String,
    /// Further labelled spans in the same source.
    pub secondary: Vec<(Span, String)>,
    /// How to fix it.
    pub help: Option<String>,
    /// The file it points into; set when the finding leaves its stage.
    pub source: Option<Source>,
}

impl Finding {
    /// A finding of `code` at `span`.
    #[cold]
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Self {
        Finding {
            code,
            severity: code.default_severity(),
            message: message.into(),
            span,
            label: String::new(),
            secondary: Vec::new(),
            help: None,
            source: None,
        }
    }

    /// Sets the primary label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Sets the help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Adds a secondary label.
    pub fn also(mut self, span: Span, label: impl Into<String>) -> Self {
        self.secondary.push((span, label.into()));
        self
    }

    /// Attaches the source the spans point into.
    pub fn in_source(mut self, source: &Source) -> Self {
        self.source = Some(source.clone());
        self
    }

    /// 1-based line and column of the primary span, when the source is known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        self.source.as_ref().map(|s| s.line_col(self.span.start))
    }

    /// The file name, when known.
    pub fn file(&self) -> Option<&str> {
        self.source.as_ref().map(|s| s.name.as_ref())
    }
}

impl From<Box<Finding>> for Finding {
    fn from(f: Box<Finding>) -> Self {
        *f
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.message))
    }
}

impl std::error::Error for Finding {}

impl miette::Diagnostic for Finding {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.code()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Warning => miette::Severity::Warning,
            Severity::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(escape_controls(h)) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| s as &dyn SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        self.source.as_ref()?;
        let primary = LabeledSpan::new_primary_with_span(
            (!self.label.is_empty()).then(|| escape_controls(&self.label).into_owned()),
            self.span,
        );
        let rest = self.secondary.iter().map(|(span, text)| {
            LabeledSpan::new_with_span(Some(escape_controls(text).into_owned()), *span)
        });
        Some(Box::new(std::iter::once(primary).chain(rest)))
    }
}

/// The findings that made a policy unusable, in file order.
#[derive(Clone, Debug)]
pub struct PolicyError {
    /// Every finding; at least one is an error.
    pub findings: Vec<Finding>,
}

impl PolicyError {
    /// Only the errors.
    pub fn errors(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
    }
}

impl PolicyError {
    /// One line per error: `file:line:col: CODE message`.
    pub fn summary(&self) -> String {
        self.errors()
            .map(|f| {
                let (line, col) = f.line_col().unwrap_or((0, 0));
                format!(
                    "{}:{line}:{col}: {} {}",
                    escape_controls(f.file().unwrap_or("<policy>")),
                    f.code.code(),
                    escape_controls(&f.message)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.errors().count();
        match self.errors().next() {
            Some(first) if n == 1 => write!(f, "policy has an error: {first}"),
            Some(first) => write!(f, "policy has {n} errors; the first: {first}"),
            None => f.write_str("policy could not be loaded"),
        }
    }
}

impl std::error::Error for PolicyError {}

impl miette::Diagnostic for PolicyError {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.findings.iter().map(|f| f as &dyn miette::Diagnostic),
        ))
    }
}

/// Edit distance, for "did you mean" help.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = Vec::with_capacity(b.len() + 1);
        cur.push(i + 1);
        for (j, cb) in b.iter().enumerate() {
            let sub = prev.get(j).copied().unwrap_or(0) + usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(0) + 1;
            let ins = cur.last().copied().unwrap_or(0) + 1;
            cur.push(sub.min(del).min(ins));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// Where the documentation lives: the crate's `homepage` (Cargo.toml)
/// with `/docs/`. Help lines link pages under it, never a path in the
/// source tree, which an installed binary's user does not have.
pub const DOCS: &str = concat!(env!("CARGO_PKG_HOMEPAGE"), "/docs/");

impl Code {
    /// The documentation of this code: its section of the diagnostics
    /// page (`.../diagnostics#pcl100-syntax-error`).
    pub fn help_url(self) -> String {
        docs_url(&format!(
            "diagnostics#{}-{}",
            self.code().to_ascii_lowercase(),
            self.name()
        ))
    }
}

/// A page (and anchor) of the documentation: `docs_url("diagnostics#pcl100-syntax-error")`.
pub fn docs_url(page: &str) -> String {
    format!("{DOCS}{page}")
}

/// The closest candidate within a third of the name's length, if any.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (name.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(name, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.code()), "duplicate {}", c.code());
            assert_eq!(Code::parse(c.code()), Some(*c));
            assert_eq!(Code::parse(c.name()), Some(*c));
        }
    }

    #[test]
    fn did_you_mean_finds_close_names() {
        assert_eq!(
            did_you_mean("is_admn", ["is_admin", "owner"]),
            Some("is_admin")
        );
        assert_eq!(did_you_mean("zzz", ["is_admin"]), None);
    }

    #[test]
    fn line_col_counts_from_one() {
        let s = Source::new("f", "ab\ncd");
        assert_eq!(s.line_col(0), (1, 1));
        assert_eq!(s.line_col(4), (2, 2));
    }
}
