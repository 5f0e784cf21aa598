//! Conformance case files: read them, decide each case, compare.
//!
//! Input: a case file in the format of `tests/conformance/*.json` (see
//! docs/cases.md). Output: a report per case. `portcullis test` and the
//! crate's own tests run cases through this one module, so they cannot
//! disagree.

use crate::{Data, Decision, PolicySet, Request, Value};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt::Write as _;
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

/// Why a case file could not be run at all.
#[derive(Debug)]
pub struct FileError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong, naming the place.
    pub message: String,
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.message)
    }
}

/// The outcome of one case.
#[derive(Debug)]
pub struct CaseResult {
    /// The case name.
    pub name: String,
    /// `None` when it passed; otherwise what differed.
    pub failure: Option<String>,
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
    let text = std::fs::read_to_string(path).map_err(|e| FileError {
        path: path.to_path_buf(),
        message: format!("cannot read: {e}"),
    })?;
    serde_json::from_str(&text).map_err(|e| FileError {
        path: path.to_path_buf(),
        message: format!(
            "not a valid case file at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    })
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
                return Err(FileError {
                    path: path.to_path_buf(),
                    message: format!("`bundle`: `{}` is not a bundle name", file.bundle),
                });
            }
            options.policies.join(format!("{}.pcl", file.bundle))
        }
    };
    if !policies.contains_key(&policy_path) {
        if !policy_path.is_file() {
            return Err(FileError {
                path: path.to_path_buf(),
                message: format!(
                    "`bundle`: unknown bundle `{}` (no file `{}`)",
                    file.bundle,
                    policy_path.display()
                ),
            });
        }
        let set = PolicySet::from_file(&policy_path).map_err(|e| FileError {
            path: path.to_path_buf(),
            message: format!(
                "policy `{}` does not compile:\n{}",
                policy_path.display(),
                e.summary()
            ),
        })?;
        policies.insert(policy_path.clone(), set);
    }
    let Some(policy) = policies.get(&policy_path) else {
        return Err(FileError {
            path: path.to_path_buf(),
            message: "policy vanished".into(),
        });
    };
    let mut results = Vec::new();
    for (i, case) in file.cases.iter().enumerate() {
        results.push(run_case(policy, &file.data, case, i));
    }
    Ok(results)
}

fn run_case(
    policy: &PolicySet,
    file_data: &serde_json::Map<String, serde_json::Value>,
    case: &Case,
    index: usize,
) -> CaseResult {
    let fail = |message: String| CaseResult {
        name: case.name.clone(),
        failure: Some(message),
    };
    let mut merged = file_data.clone();
    for (k, v) in &case.data {
        merged.insert(k.clone(), v.clone());
    }
    let data = match Data::from_json(&serde_json::Value::Object(merged)) {
        Ok(d) => d,
        Err(e) => return fail(format!("case {index}: data: {e}")),
    };
    let request = match Request::from_json(&case.request) {
        Ok(r) => r,
        Err(e) => return fail(format!("case {index}: invalid request: {e}")),
    };
    // The request first, then the data, once: decisions use it as loaded.
    let data = match policy
        .validate_request(&request)
        .and_then(|()| policy.check_data(data))
    {
        Ok(d) => d,
        Err(e) => {
            return fail(format!(
                "case {index}: request does not fit the bundle: {e}"
            ))
        }
    };
    let decision = policy.decide(&request, &data);
    match compare(&case.expect, &decision) {
        None => CaseResult {
            name: case.name.clone(),
            failure: None,
        },
        Some(diff) => fail(diff),
    }
}

/// Compares a decision with what a case expects; `None` when it passes.
pub fn compare(expect: &Expect, decision: &Decision) -> Option<String> {
    let mut diffs = Vec::new();
    if expect.decision != decision.outcome.as_str() {
        diffs.push(format!(
            "decision: expected {}, got {}",
            expect.decision, decision.outcome
        ));
    }
    if let Some(filters) = &expect.filters {
        let got = decision
            .filters
            .as_ref()
            .map_or(serde_json::Value::Null, Value::to_json);
        if &got != filters {
            diffs.push(format!("filters: expected {filters}, got {got}"));
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
            diffs.push(format!(
                "principal: expected a superset of {principal}, got {got}"
            ));
        }
    }
    if let Some(reason) = &expect.reason {
        if !decision.reason.contains(reason.as_str()) {
            diffs.push(format!(
                "reason: expected it to contain {reason:?}, got {:?}",
                decision.reason
            ));
        }
    }
    if diffs.is_empty() {
        return None;
    }
    let mut out = diffs.join("; ");
    if decision.statements.is_empty() {
        out.push_str(" (decided by no statement)");
    } else {
        out.push_str(" (decided by ");
        for (i, s) in decision.statements.iter().enumerate() {
            let _ = write!(
                out,
                "{}{} at {}:{}",
                if i > 0 { ", " } else { "" },
                s.id,
                s.file,
                s.line
            );
        }
        out.push(')');
    }
    if !decision.reason.is_empty() && expect.reason.is_none() {
        let _ = write!(out, "; reason: {:?}", decision.reason);
    }
    Some(out)
}
