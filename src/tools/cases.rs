//! Conformance case files: read them, decide each case, compare.
//!
//! Input: a case file in the format of `tests/conformance/*.json` (see
//! docs/cases.md), with this engine's extensions (`expect.claims`,
//! `expect.error`). Output: a report per case, with the explanation of a
//! case that failed (or of every case, for coverage). `portcullis test`
//! and the crate's own tests run cases through this one module, so they
//! cannot disagree.

use crate::diagnostics::Code;
use crate::{
    Data, Decision, Outcome, PolicySet, Request, RequestError, StatementExplanation, Value,
};
use serde::Deserialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One case file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseFile {
    /// The bundled policy the cases are for.
    pub bundle: String,
    /// Data shared by every case.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The cases.
    pub cases: Vec<Case>,
}

/// One case.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// What the case shows.
    pub name: String,
    /// Data merged over the file's, key by key.
    #[serde(default)]
    pub data: serde_json::Map<String, serde_json::Value>,
    /// The request.
    pub request: serde_json::Value,
    /// What must come back.
    pub expect: Expect,
    /// Where the behaviour comes from.
    #[serde(default)]
    pub source: Option<String>,
}

/// The expected decision.
#[derive(Debug, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `allow`, `deny` or `unauthenticated`; empty when the case expects
    /// only an `error`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub decision: String,
    /// Exact row filters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filters: Option<serde_json::Value>,
    /// Resolved identity, compared as a subset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<serde_json::Value>,
    /// A substring of the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Token claims, compared as a subset at every depth (docs/cases.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claims: Option<serde_json::Value>,
    /// The code of the error that must refuse the request: `PCL400` or
    /// `PCL401` for a request or data outside its contract (refused before
    /// deciding), `PCL5xx` for an error met while deciding (a deny).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Why a case file could not be run at all (`PCL703 invalid-case-file`).
#[derive(Debug)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: FileErrorKind,
}

/// What made a case file unusable.
#[derive(Debug)]
pub enum FileErrorKind {
    /// The file cannot be read.
    Unreadable(std::io::Error),
    /// The file is not JSON in the case format.
    Malformed(serde_json::Error),
    /// `bundle` is not a plain name (`../secret`).
    NotABundleName(String),
    /// No policy file for `bundle`.
    UnknownBundle {
        /// The bundle named.
        bundle: String,
        /// The policy file looked for.
        policy: PathBuf,
    },
    /// A case that the format admits but that cannot be run as written
    /// (no `decision` and no `error`, an `error` that is no code).
    Invalid {
        /// The case, by position.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The shared data (`--data`) cannot be used.
    SharedData(String),
    /// The policy does not compile.
    Policy {
        /// The policy file.
        policy: PathBuf,
        /// Its diagnostics.
        error: crate::PolicyError,
    },
}

impl FileError {
    fn new(path: &Path, kind: FileErrorKind) -> FileError {
        FileError {
            path: path.to_path_buf(),
            kind,
        }
    }

    /// What went wrong, naming the place (the file's path aside).
    pub fn message(&self) -> String {
        match &self.kind {
            FileErrorKind::Unreadable(e) => format!("cannot read: {e}"),
            FileErrorKind::Malformed(e) => format!(
                "not a valid case file at line {}, column {}: {e}",
                e.line(),
                e.column()
            ),
            FileErrorKind::NotABundleName(b) => format!("`bundle`: `{b}` is not a bundle name"),
            FileErrorKind::UnknownBundle { bundle, policy } => format!(
                "`bundle`: unknown bundle `{bundle}` (no file `{}`)",
                policy.display()
            ),
            FileErrorKind::Invalid { index, message } => format!("case {index}: {message}"),
            FileErrorKind::SharedData(message) => format!("the shared data: {message}"),
            FileErrorKind::Policy { policy, error } => format!(
                "policy `{}` does not compile:\n{}",
                policy.display(),
                error.summary()
            ),
        }
    }
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message())
    }
}

impl std::error::Error for FileError {}

impl miette::Diagnostic for FileError {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(Code::InvalidCaseFile))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        let help = match &self.kind {
            FileErrorKind::Unreadable(_) => "check the path and its permissions",
            FileErrorKind::Malformed(_) | FileErrorKind::Invalid { .. } => {
                return Some(Box::new(format!(
                    "see {} for the case file format",
                    crate::diagnostics::docs_url("cases")
                )))
            }
            FileErrorKind::NotABundleName(_) | FileErrorKind::UnknownBundle { .. } => {
                "name a policy of the policies folder without `.pcl`, or pass `--policy FILE`"
            }
            FileErrorKind::Policy { .. } => {
                "run `portcullis check` on the policy and fix its errors"
            }
            FileErrorKind::SharedData(_) => "`--data` takes a JSON object of data",
        };
        Some(Box::new(help))
    }
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// `None` when it passed; otherwise what differed.
    pub failure: Option<Failure>,
    /// What the case expects, as written.
    pub expected: serde_json::Value,
    /// The decision, when one was made (as `portcullis eval` prints it).
    pub actual: Option<serde_json::Value>,
    /// Why it was made: for a failing case, and for every case when
    /// [`Options::explain`] is set.
    pub explanation: Option<Explained>,
}

/// A decision's explanation, kept beyond the decision it explains.
#[derive(Debug, Clone)]
pub struct Explained {
    /// The text tree `portcullis eval --explain` prints.
    pub text: String,
    /// The statements, as the JSON report holds them.
    pub statements: Vec<StatementExplanation>,
}

/// Why a case failed.
#[derive(Debug)]
pub enum Failure {
    /// The case's data cannot be read (case `index` of the file).
    Data(usize, RequestError),
    /// The case's request cannot be read.
    Request(usize, RequestError),
    /// The request or data does not fit the bundle's contract.
    Contract(usize, RequestError),
    /// The decision differs from what the case expects.
    Differs(Box<Mismatch>),
}

/// A decision that differs from the expected one.
#[derive(Debug)]
pub struct Mismatch {
    /// What differed, in the order of the case's `expect`.
    pub diffs: Vec<Diff>,
    /// The decision that came back.
    pub decision: Decision,
    /// Whether the case asserts nothing about the reason (then the
    /// reason is shown, to help).
    pub show_reason: bool,
}

/// One field of `expect` that does not hold.
#[derive(Debug)]
pub enum Diff {
    /// `decision`: expected, got.
    Decision(String, Outcome),
    /// `filters`: expected, got.
    Filters(serde_json::Value, serde_json::Value),
    /// `principal`: expected a superset of, got.
    Principal(serde_json::Value, serde_json::Value),
    /// `reason`: expected a substring, got.
    Reason(String, std::sync::Arc<str>),
    /// `claims`: expected a subset of, got.
    Claims(serde_json::Value, serde_json::Value),
    /// `error`: expected this code, got that error (or none).
    Error(String, Option<String>),
}

impl std::fmt::Display for Diff {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Diff::Decision(want, got) => write!(f, "decision: expected {want}, got {got}"),
            Diff::Filters(want, got) => write!(f, "filters: expected {want}, got {got}"),
            Diff::Principal(want, got) => {
                write!(f, "principal: expected a superset of {want}, got {got}")
            }
            Diff::Reason(want, got) => {
                write!(f, "reason: expected it to contain {want:?}, got {got:?}")
            }
            Diff::Claims(want, got) => write!(f, "claims: expected a subset of {want}, got {got}"),
            Diff::Error(want, None) => write!(f, "error: expected {want}, got none"),
            Diff::Error(want, Some(got)) => write!(f, "error: expected {want}, got {got}"),
        }
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Data(i, e) => write!(f, "case {i}: data: {e}"),
            Failure::Request(i, e) => write!(f, "case {i}: invalid request: {e}"),
            Failure::Contract(i, e) => write!(f, "case {i}: request does not fit the bundle: {e}"),
            Failure::Differs(m) => {
                for (i, d) in m.diffs.iter().enumerate() {
                    write!(f, "{}{d}", if i > 0 { "; " } else { "" })?;
                }
                let decided = &m.decision.statements;
                if decided.is_empty() {
                    f.write_str(" (decided by no statement)")?;
                } else {
                    f.write_str(" (decided by ")?;
                    for (i, s) in decided.iter().enumerate() {
                        let sep = if i > 0 { ", " } else { "" };
                        write!(f, "{sep}{} at {}:{}", s.id, s.file, s.line)?;
                    }
                    f.write_str(")")?;
                }
                if !m.decision.reason.is_empty() && m.show_reason {
                    write!(f, "; reason: {:?}", m.decision.reason)?;
                }
                Ok(())
            }
        }
    }
}

/// Where to find bundles, and what to keep of each case.
#[derive(Clone, Debug)]
pub struct Options {
    /// Use this policy for every file instead of `<policies>/<bundle>.pcl`.
    pub policy: Option<PathBuf>,
    /// The folder of bundled policies.
    pub policies: PathBuf,
    /// Data under every case file's (`--data`): the file's data, then the
    /// case's, are merged over it, key by key.
    pub data: serde_json::Map<String, serde_json::Value>,
    /// Explain every case, not only those that fail (for coverage).
    pub explain: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: None,
            policies: PathBuf::from("policies"),
            data: serde_json::Map::new(),
            explain: false,
        }
    }
}

/// Reads and checks a case file.
pub fn read(path: &Path) -> Result<CaseFile, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError::new(path, FileErrorKind::Unreadable(e)))?;
    let file: CaseFile = serde_json::from_str(&text)
        .map_err(|e| FileError::new(path, FileErrorKind::Malformed(e)))?;
    for (index, case) in file.cases.iter().enumerate() {
        let invalid =
            |message: String| FileError::new(path, FileErrorKind::Invalid { index, message });
        match &case.expect.error {
            None if case.expect.decision.is_empty() => {
                return Err(invalid("`expect` needs a `decision` or an `error`".into()))
            }
            Some(code) if Code::parse(code).is_none_or(|c| c.code() != code) => {
                return Err(invalid(format!(
                    "`expect.error`: `{code}` is not a code such as `PCL401`"
                )))
            }
            _ => {}
        }
    }
    Ok(file)
}

/// The cases of one file, run.
#[derive(Debug)]
pub struct FileRun {
    /// The policy file they were decided with.
    pub policy: PathBuf,
    /// One result per case, in file order.
    pub results: Vec<CaseResult>,
}

/// Runs every case of one file. A policy that does not compile, or an
/// unknown bundle, is a file error.
pub fn run(
    path: &Path,
    options: &Options,
    policies: &mut HashMap<PathBuf, PolicySet>,
) -> Result<Vec<CaseResult>, FileError> {
    run_file(path, options, policies).map(|run| run.results)
}

/// [`run`], naming the policy the cases were decided with.
pub fn run_file(
    path: &Path,
    options: &Options,
    policies: &mut HashMap<PathBuf, PolicySet>,
) -> Result<FileRun, FileError> {
    let file = read(path)?;
    let policy_path = match &options.policy {
        Some(p) => p.clone(),
        None => {
            if file.bundle.is_empty()
                || file.bundle.contains(['/', '\\'])
                || file.bundle.starts_with('.')
            {
                return Err(FileError::new(
                    path,
                    FileErrorKind::NotABundleName(file.bundle.clone()),
                ));
            }
            options.policies.join(format!("{}.pcl", file.bundle))
        }
    };
    if !policies.contains_key(&policy_path) {
        if !policy_path.is_file() {
            return Err(FileError::new(
                path,
                FileErrorKind::UnknownBundle {
                    bundle: file.bundle.clone(),
                    policy: policy_path.clone(),
                },
            ));
        }
        let set = PolicySet::from_file(&policy_path).map_err(|error| {
            let policy = policy_path.clone();
            FileError::new(path, FileErrorKind::Policy { policy, error })
        })?;
        policies.insert(policy_path.clone(), set);
    }
    let mut data = options.data.clone();
    data.extend(file.data.clone());
    let mut results = Vec::new();
    if let Some(policy) = policies.get(&policy_path) {
        for (i, case) in file.cases.iter().enumerate() {
            results.push(run_case(policy, &data, case, i, options.explain));
        }
    }
    Ok(FileRun {
        policy: policy_path,
        results,
    })
}

fn run_case(
    policy: &PolicySet,
    file_data: &serde_json::Map<String, serde_json::Value>,
    case: &Case,
    index: usize,
    explain_all: bool,
) -> CaseResult {
    let mut result = CaseResult {
        name: case.name.clone(),
        failure: None,
        expected: serde_json::to_value(&case.expect).unwrap_or_default(),
        actual: None,
        explanation: None,
    };
    let mut merged = file_data.clone();
    for (k, v) in &case.data {
        merged.insert(k.clone(), v.clone());
    }
    // The request first, then the data, once: decisions use it as loaded.
    let refused = Data::from_json(&serde_json::Value::Object(merged))
        .map_err(|e| Failure::Data(index, e))
        .and_then(|data| {
            let request =
                Request::from_json(&case.request).map_err(|e| Failure::Request(index, e))?;
            policy
                .validate_request(&request)
                .and_then(|()| policy.check_data(data))
                .map(|data| (request, data))
                .map_err(|e| Failure::Contract(index, e))
        });
    let (request, data) = match refused {
        Ok(ready) => ready,
        Err(failure) => {
            result.failure = refused_as_expected(&case.expect, failure);
            return result;
        }
    };
    let explanation = policy.explain(&request, &data);
    let decision = explanation.decision().clone();
    result.actual = Some(decision.to_json());
    result.failure = compare(&case.expect, decision).map(|m| Failure::Differs(Box::new(m)));
    if explain_all || result.failure.is_some() {
        result.explanation = Some(Explained {
            text: explanation.to_string(),
            statements: explanation.statements(),
        });
    }
    result
}

/// A request or data refused before any decision: the case passes when
/// it expects that refusal (`expect.error` with the refusal's code, and no
/// `decision` but `deny`, which is what a refused request gets).
fn refused_as_expected(expect: &Expect, failure: Failure) -> Option<Failure> {
    let code = match &failure {
        Failure::Data(_, e) | Failure::Request(_, e) | Failure::Contract(_, e) => e.code,
        Failure::Differs(_) => return Some(failure),
    };
    match &expect.error {
        Some(want) if want == code.code() && matches!(expect.decision.as_str(), "" | "deny") => {
            None
        }
        Some(want) => {
            let got = format!("{} ({failure})", code.code());
            Some(Failure::Differs(Box::new(Mismatch {
                diffs: vec![Diff::Error(want.clone(), Some(got))],
                decision: refused_decision(code, failure.to_string()),
                show_reason: false,
            })))
        }
        None => Some(failure),
    }
}

/// Compares a decision with what a case expects; `None` when it passes.
pub fn compare(expect: &Expect, decision: Decision) -> Option<Mismatch> {
    let mut diffs = Vec::new();
    if !expect.decision.is_empty() && expect.decision != decision.outcome.as_str() {
        diffs.push(Diff::Decision(expect.decision.clone(), decision.outcome));
    }
    if let Some(want) = &expect.error {
        let got = decision.error.as_ref().map(|e| e.code.code());
        if got != Some(want.as_str()) {
            let got = decision
                .error
                .as_ref()
                .map(|e| format!("{} ({})", e.code.code(), e.message));
            diffs.push(Diff::Error(want.clone(), got));
        }
    }
    if let Some(filters) = &expect.filters {
        let got = decision
            .filters
            .as_ref()
            .map_or(serde_json::Value::Null, Value::to_json);
        if &got != filters {
            diffs.push(Diff::Filters(filters.clone(), got));
        }
    }
    if let Some(principal) = &expect.principal {
        let got = decision
            .principal
            .as_ref()
            .map_or(serde_json::Value::Null, Value::to_json);
        let ok = match (principal, &got) {
            (serde_json::Value::Object(want), serde_json::Value::Object(have)) => {
                want.iter().all(|(k, v)| have.get(k) == Some(v))
            }
            (want, have) => want == have,
        };
        if !ok {
            diffs.push(Diff::Principal(principal.clone(), got));
        }
    }
    if let Some(reason) = &expect.reason {
        if !decision.reason.contains(reason.as_str()) {
            diffs.push(Diff::Reason(reason.clone(), decision.reason.clone()));
        }
    }
    if let Some(claims) = &expect.claims {
        let got = decision
            .claims
            .as_ref()
            .map_or(serde_json::Value::Null, Value::to_json);
        if !subset(claims, &got) {
            diffs.push(Diff::Claims(claims.clone(), got));
        }
    }
    if diffs.is_empty() {
        return None;
    }
    Some(Mismatch {
        diffs,
        show_reason: expect.reason.is_none(),
        decision,
    })
}

/// What deciding a refused request gives (as `PolicySet::decide_json`
/// does for a request it cannot read): deny, the refusal as the error.
fn refused_decision(code: Code, message: String) -> Decision {
    Decision {
        outcome: Outcome::Deny,
        reason: std::sync::Arc::from(format!("invalid request: {message}")),
        statements: std::sync::Arc::from([]),
        filters: None,
        principal: None,
        claims: None,
        error: Some(crate::EvalError {
            code,
            message,
            span: None,
        }),
        cost: 0,
    }
}

/// Whether `want` holds in `got`: every key of an object given must be
/// there with a value it holds in turn; anything else compares exactly.
fn subset(want: &serde_json::Value, got: &serde_json::Value) -> bool {
    match (want, got) {
        (serde_json::Value::Object(w), serde_json::Value::Object(g)) => w
            .iter()
            .all(|(k, v)| g.get(k).is_some_and(|have| subset(v, have))),
        _ => want == got,
    }
}
