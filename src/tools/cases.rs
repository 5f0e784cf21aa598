//! Conformance case files: read them, decide each case, compare.
//!
//! Input: a case file in the format of `tests/conformance/*.json` (see
//! docs/cases.md). Output: a report per case. `portcullis test` and the
//! crate's own tests run cases through this one module, so they cannot
//! disagree.

use crate::diagnostics::Code;
use crate::{Data, Decision, Outcome, PolicySet, Request, RequestError, Value};
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
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// `allow`, `deny` or `unauthenticated`.
    pub decision: String,
    /// Exact row filters.
    #[serde(default)]
    pub filters: Option<serde_json::Value>,
    /// Resolved identity, compared as a subset.
    #[serde(default)]
    pub principal: Option<serde_json::Value>,
    /// A substring of the reason.
    #[serde(default)]
    pub reason: Option<String>,
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
            FileErrorKind::Malformed(_) => {
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

/// Where to find bundles.
#[derive(Clone, Debug)]
pub struct Options {
    /// Use this policy for every file instead of `<policies>/<bundle>.pcl`.
    pub policy: Option<PathBuf>,
    /// The folder of bundled policies.
    pub policies: PathBuf,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            policy: None,
            policies: PathBuf::from("policies"),
        }
    }
}

/// Reads and checks a case file.
pub fn read(path: &Path) -> Result<CaseFile, FileError> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| FileError::new(path, FileErrorKind::Unreadable(e)))?;
    serde_json::from_str(&text).map_err(|e| FileError::new(path, FileErrorKind::Malformed(e)))
}

/// Runs every case of one file. A policy that does not compile, or an
/// unknown bundle, is a file error.
pub fn run(
    path: &Path,
    options: &Options,
    policies: &mut HashMap<PathBuf, PolicySet>,
) -> Result<Vec<CaseResult>, FileError> {
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
    let mut results = Vec::new();
    if let Some(policy) = policies.get(&policy_path) {
        for (i, case) in file.cases.iter().enumerate() {
            results.push(run_case(policy, &file.data, case, i));
        }
    }
    Ok(results)
}

fn run_case(
    policy: &PolicySet,
    file_data: &serde_json::Map<String, serde_json::Value>,
    case: &Case,
    index: usize,
) -> CaseResult {
    let fail = |failure: Failure| CaseResult {
        name: case.name.clone(),
        failure: Some(failure),
    };
    let mut merged = file_data.clone();
    for (k, v) in &case.data {
        merged.insert(k.clone(), v.clone());
    }
    let data = match Data::from_json(&serde_json::Value::Object(merged)) {
        Ok(d) => d,
        Err(e) => return fail(Failure::Data(index, e)),
    };
    let request = match Request::from_json(&case.request) {
        Ok(r) => r,
        Err(e) => return fail(Failure::Request(index, e)),
    };
    // The request first, then the data, once: decisions use it as loaded.
    let data = match policy
        .validate_request(&request)
        .and_then(|()| policy.check_data(data))
    {
        Ok(d) => d,
        Err(e) => return fail(Failure::Contract(index, e)),
    };
    let decision = policy.decide(&request, &data);
    match compare(&case.expect, decision) {
        None => CaseResult {
            name: case.name.clone(),
            failure: None,
        },
        Some(mismatch) => fail(Failure::Differs(Box::new(mismatch))),
    }
}

/// Compares a decision with what a case expects; `None` when it passes.
pub fn compare(expect: &Expect, decision: Decision) -> Option<Mismatch> {
    let mut diffs = Vec::new();
    if expect.decision != decision.outcome.as_str() {
        diffs.push(Diff::Decision(expect.decision.clone(), decision.outcome));
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
    if diffs.is_empty() {
        return None;
    }
    Some(Mismatch {
        diffs,
        show_reason: expect.reason.is_none(),
        decision,
    })
}
