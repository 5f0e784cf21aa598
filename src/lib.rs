//! Portcullis: a declarative policy language for application-level access
//! control, and the evaluator that applications embed.
//!
//! Load and compile a policy set once, then decide many requests, from many
//! threads:
//!
//! ```
//! use portcullis::{Data, Outcome, PolicySet, Request};
//!
//! let policy = PolicySet::from_source(r#"
//!     actions: read, update
//!     principals {
//!       user == .id
//!       role in .roles
//!     }
//!     policy documents for read, update in order {
//!       anonymous: unauthenticated "log in first" when principal == null
//!       admin:     allow when principal matches role:admin
//!       owner:     allow when principal matches user:{resource.owner_id}
//!       deny "only the owner may {action} this document"
//!     }
//! "#).expect("the policy compiles");
//!
//! let request = Request::from_json_str(r#"{
//!     "principal": { "id": 14, "roles": [] },
//!     "action": "update",
//!     "resource": { "owner_id": 14 }
//! }"#).expect("the request is well formed");
//! let decision = policy.decide(&request, &Data::empty());
//! assert_eq!(decision.outcome, Outcome::Allow);
//! assert_eq!(&*decision.statements[0].id, "documents.owner");
//!
//! let other = Request::from_json_str(r#"{
//!     "principal": { "id": 15, "roles": [] }, "action": "update",
//!     "resource": { "owner_id": 14 }
//! }"#).unwrap();
//! let decision = policy.decide(&other, &Data::empty());
//! assert_eq!(decision.outcome, Outcome::Deny);
//! assert_eq!(&*decision.reason, "only the owner may update this document");
//! ```
//!
//! The pipeline is one folder per stage, data flowing one way:
//! `syntax` (text to AST) → `load` (files, imports, layers) → `lower` (AST
//! to the IR in `ir`, names resolved and types checked) → `eval`
//! (decisions). The tools above them (lint, fmt, the case runner, output)
//! and the CLI are not part of the stable API: they sit behind the `tools`
//! and `cli` features and in [`unstable`]. See `docs/language.md` for the
//! language and `docs/architecture.md` for the code map.
//!
//! Features: `cli` (default) builds the `portcullis` command and turns on
//! `tools`; `tools` adds the linter, formatter, case runner and report
//! renderers. With `default-features = false` the library compiles neither
//! clap nor miette's graphical renderer.

mod ast;
mod diagnostics;
mod eval;
pub mod filter;
mod ir;
mod limits;
mod load;
mod lower;
mod policy;
mod request;
mod source;
mod syntax;
mod value;

#[cfg(feature = "tools")]
mod tools;

#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;

pub use ast::Outcome;
pub use diagnostics::{Code, Finding, PolicyError, Severity};
#[cfg(feature = "test-instrumentation")]
#[doc(hidden)]
pub use eval::secret_comparisons;
pub use eval::{
    Condition, ConditionResult, DecidingStatement, Decision, EvalError, Explanation, SeenValue,
    StatementExplanation, StatementStatus,
};
pub use filter::{Filter, FilterError, Schema};
pub use limits::Limits;
pub use load::{read_policy, FolderResolver, ImportError, ImportResolver, ResolvedImport};
pub use policy::PolicySet;
pub use request::{Data, Request, RequestBuilder, RequestError};
pub use source::{Source, Span};
pub use value::{Record, Value};

/// The README's examples, compiled and run as doctests so that the front
/// door stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

/// What the CLI and editor tooling use: the AST, the parser, the linter,
/// the formatter, the case runner and the report renderers. Not covered by
/// semver; an embedder needs none of it.
#[doc(hidden)]
pub mod unstable {
    /// The abstract syntax tree.
    pub mod ast {
        pub use crate::ast::*;
    }
    /// Policy text to AST.
    pub mod syntax {
        pub use crate::syntax::*;
    }
    /// The code registry and findings.
    pub mod diagnostics {
        pub use crate::diagnostics::*;
    }
    /// `portcullis check`: the linter.
    #[cfg(feature = "tools")]
    pub mod lint {
        pub use crate::tools::lint::*;
    }
    /// `portcullis fmt`: the formatter.
    #[cfg(feature = "tools")]
    pub mod fmt {
        pub use crate::tools::fmt::*;
    }
    /// `portcullis test`: conformance case files.
    #[cfg(feature = "tools")]
    pub mod cases {
        pub use crate::tools::cases::*;
    }
    /// `portcullis test --coverage`: what case files cover.
    #[cfg(feature = "tools")]
    pub mod coverage {
        pub use crate::tools::coverage::*;
    }
    /// `portcullis test`'s reports: human, JUnit XML, JSON.
    #[cfg(feature = "tools")]
    pub mod test_report {
        pub use crate::tools::test_report::*;
    }
    /// The compiled program as text (interned names, the action and
    /// statement indexes, each statement's condition), for goldens and
    /// `portcullis dump`. The format follows the IR and may change.
    pub fn dump(policy: &crate::PolicySet) -> String {
        crate::ir::dump::dump(&policy.program)
    }
    /// Every statement a decision can run, its condition a tree no request
    /// has touched: the places `portcullis test --coverage` counts.
    pub fn outline(policy: &crate::PolicySet) -> Vec<crate::StatementExplanation> {
        crate::eval::outline(&policy.program)
    }
    /// Reports: human, JSON, SARIF, GitHub annotations.
    #[cfg(feature = "tools")]
    pub mod output {
        pub use crate::tools::output::*;
    }
}
