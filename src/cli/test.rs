//! `portcullis test`: runs case files and reports, for people, as JUnit
//! XML or as JSON; with `--coverage`, what the cases covered (and `--lcov`
//! for coverage tools, `--coverage-min` to fail below a threshold).

use super::{read_json_file, ExitStatus};
use crate::diagnostics::escape_controls;
use crate::tools::cases::{self, FileError, FileErrorKind};
use crate::tools::coverage::Coverage;
use crate::tools::test_report::{self, FileCases, FileOutcome};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `--format` of `test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// A line per failing case with what differed, expected and actual
    /// decisions and the explanation; then `N passed, N failed`.
    Human,
    /// One JSON document (docs/cases.md, "Reports").
    Json,
    /// JUnit XML, for CI test reports.
    Junit,
}

/// What `portcullis test` reports, beside the cases.
#[derive(Clone, Debug)]
pub struct TestOutput {
    pub format: TestFormat,
    /// `--data FILE`: data under every case file's.
    pub data: Option<PathBuf>,
    /// Whether to measure coverage.
    pub coverage: bool,
    /// Fail below this percentage.
    pub coverage_min: Option<f64>,
    /// Write lcov here.
    pub lcov: Option<PathBuf>,
}

/// Reads `--data`: a JSON object.
fn shared_data(path: &Path) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let text = read_json_file(path, "data")?;
    match serde_json::from_str(&text) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(format!("data `{}`: not a JSON object", path.display())),
        Err(e) => Err(format!("data `{}`: {e}", path.display())),
    }
}

/// `portcullis test`.
pub fn test(
    files: &[PathBuf],
    mut options: cases::Options,
    how: &TestOutput,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitStatus {
    let mut shared_error = None;
    if let Some(path) = &how.data {
        match shared_data(path) {
            Ok(data) => options.data = data,
            Err(message) => shared_error = Some(message),
        }
    }
    options.explain = how.coverage;
    let mut policies = HashMap::new();
    let mut coverage = Coverage::default();
    let mut outlined: Vec<PathBuf> = Vec::new();
    let mut outcomes = Vec::new();
    for file in files {
        let result = match &shared_error {
            // No case of any file can be decided as asked.
            Some(message) => Err(FileError {
                path: file.clone(),
                kind: FileErrorKind::SharedData(message.clone()),
            }),
            None => cases::run_file(file, &options, &mut policies),
        };
        let result = result.map(|run| {
            if how.coverage {
                if let Some(set) = policies.get(&run.policy) {
                    if !outlined.contains(&run.policy) {
                        coverage.add_outline(&crate::unstable::outline(set));
                        outlined.push(run.policy.clone());
                    }
                }
                for case in &run.results {
                    if let Some(ex) = &case.explanation {
                        coverage.add_case(&ex.statements);
                    }
                }
            }
            FileCases {
                policy: run.policy,
                cases: run.results,
            }
        });
        outcomes.push(FileOutcome {
            path: file.clone(),
            result,
        });
    }
    let summary = test_report::summary(&outcomes);
    let coverage = how.coverage.then_some(&coverage);
    match how.format {
        TestFormat::Human => human(&outcomes, coverage, out, err),
        TestFormat::Json => {
            let report = test_report::json(&outcomes, coverage);
            let _ = writeln!(out, "{report}");
        }
        TestFormat::Junit => {
            let _ = write!(out, "{}", test_report::junit(&outcomes));
            for o in &outcomes {
                if let Err(e) = &o.result {
                    let _ = writeln!(err, "error: {}", escape_controls(&e.to_string()));
                }
            }
        }
    }
    let mut below = false;
    if let Some(c) = coverage {
        if let Some(path) = &how.lcov {
            if let Err(e) = std::fs::write(path, c.lcov()) {
                let _ = writeln!(err, "error: cannot write `{}`: {e}", path.display());
                return ExitStatus::Unusable;
            }
        }
        if let Some(min) = how.coverage_min {
            let percent = c.totals().1.percent();
            if percent < min {
                below = true;
                let _ = writeln!(
                    err,
                    "coverage {percent:.1}% is below the minimum of {min}% (--coverage-min)"
                );
            }
        }
    }
    if summary.unusable > 0 {
        ExitStatus::Unusable
    } else if summary.failed > 0 || below {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// The report for people. A run in which a file could not be run ends
/// without `N passed, N failed`: a script must not read it as clean.
fn human(
    outcomes: &[FileOutcome],
    coverage: Option<&Coverage>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) {
    for o in outcomes {
        match &o.result {
            Ok(run) => {
                for case in run.cases.iter().filter(|c| c.failure.is_some()) {
                    let _ = write!(out, "{}", test_report::human_failure(&o.path, case));
                }
            }
            Err(e) => {
                let _ = writeln!(err, "error: {}", escape_controls(&e.to_string()));
            }
        }
    }
    if let Some(c) = coverage {
        let _ = write!(out, "{}", escape_controls(&c.human()));
    }
    let summary = test_report::summary(outcomes);
    if summary.unusable == 0 {
        let _ = writeln!(out, "{} passed, {} failed", summary.passed, summary.failed);
    } else {
        let _ = writeln!(
            err,
            "error: {} of {} case files could not be run ({} cases passed, {} failed in the others)",
            summary.unusable,
            outcomes.len(),
            summary.passed,
            summary.failed
        );
    }
}
