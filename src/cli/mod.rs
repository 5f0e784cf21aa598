//! The command line: `eval`, `test`, `check` and `fmt`. Each command returns an
//! [`ExitStatus`]; nothing here decides anything itself.

mod filter;

use crate::diagnostics::escape_controls;
use crate::tools::cases;
use crate::tools::lint::{self, Level};
use crate::tools::output::{self, Format};
use crate::{Data, PolicyError, PolicySet, Request};
use clap::{Parser, Subcommand};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::{ExitCode, Termination};

mod explain;
pub mod test;

/// How a command ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitStatus {
    /// Allowed, all cases passed, no findings: 0.
    Success,
    /// Cases failed, or findings at error level: 1.
    Failure,
    /// Unusable input (policy, request, case file) or usage error: 2.
    Unusable,
    /// `eval` decided deny or unauthenticated: 3.
    Refused,
}

impl Termination for ExitStatus {
    fn report(self) -> ExitCode {
        ExitCode::from(match self {
            ExitStatus::Success => 0,
            ExitStatus::Failure => 1,
            ExitStatus::Unusable => 2,
            ExitStatus::Refused => 3,
        })
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "portcullis",
    version,
    about = "A declarative policy language for access control"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Decide one request and print the decision as JSON.
    ///
    /// Exit status: 0 allow, 3 deny or unauthenticated, 2 unusable policy or
    /// request (the diagnostic goes to stderr).
    Eval {
        /// The policy file.
        #[arg(long)]
        policy: PathBuf,
        /// The request: a JSON file with principal, action, resource, context.
        #[arg(long)]
        request: PathBuf,
        /// Facts for the policy: a JSON object.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Also say why: every statement the action reaches, with its
        /// condition tree and the values it saw (credentials hidden).
        #[arg(long)]
        explain: bool,
        /// Output format: `json` (the default), or `human` (the default
        /// with `--explain`: the decision and a tree per statement).
        #[arg(long, value_enum)]
        format: Option<EvalFormat>,
        /// The time the decision is made at, RFC 3339
        /// (`2024-05-01T12:30:00Z`): set as the request's `context.now`,
        /// which the policy reads with `timestamp(context.now)`. The
        /// engine has no clock of its own.
        #[arg(long)]
        now: Option<String>,
    },
    /// Run conformance case files and report `N passed, N failed`.
    ///
    /// A failing case is printed with what it expected, what came back and
    /// why (the explanation). Exit status: 0 all passed, 1 some failed (or
    /// coverage below `--coverage-min`), 2 a file could not be run (then
    /// no `N passed, N failed` line is printed).
    Test {
        /// Case files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Use this policy instead of `<policies>/<bundle>.pcl`.
        #[arg(long)]
        policy: Option<PathBuf>,
        /// The folder of bundled policies.
        #[arg(long, default_value = "policies")]
        policies: PathBuf,
        /// Data for every case file: a JSON object; each file's data, then
        /// each case's, is merged over it, key by key.
        #[arg(long)]
        data: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = test::TestFormat::Human)]
        format: test::TestFormat,
        /// Report which statements decided a case and which conditions
        /// were seen both true and false, per policy file.
        #[arg(long)]
        coverage: bool,
        /// Fail (exit 1) when coverage is below PCT percent (implies
        /// `--coverage`).
        #[arg(long, value_name = "PCT")]
        coverage_min: Option<f64>,
        /// Write coverage as lcov to FILE (implies `--coverage`).
        #[arg(long, value_name = "FILE")]
        lcov: Option<PathBuf>,
    },
    /// Check policy files: parse, resolve, type-check, then lint.
    ///
    /// Exit status: 0 no errors, 1 errors found (or warnings, with
    /// `--deny warnings`), 2 usage or I/O error.
    Check {
        /// Files or folders (searched for `.pcl` files).
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
        format: CheckFormat,
        /// Report CODE (or a code name, or `warnings`) as an error.
        #[arg(long, value_name = "CODE")]
        deny: Vec<String>,
        /// Report CODE (or `warnings`) as a warning.
        #[arg(long, value_name = "CODE")]
        warn: Vec<String>,
        /// Do not report CODE (or `warnings`). Only lints (PCL3xx) can be allowed.
        #[arg(long, value_name = "CODE")]
        allow: Vec<String>,
    },
    /// Which resources a request may act on: a residual condition (JSON) or a SQL WHERE clause.
    ///
    /// Exit status: 0 a filter was computed (always, never or a residual),
    /// 2 unusable input, or a filter the policy or mapping cannot give.
    Filter(filter::FilterArgs),
    /// Lay policy files out canonically (comments kept; idempotent).
    ///
    /// Rewrites files in place and lists those it changed. Exit status: 0
    /// done (or, with `--check`, nothing to change), 1 with `--check` when
    /// a file would change, 2 a file that does not parse or cannot be read.
    Fmt {
        /// Files or folders (searched for `.pcl` files).
        #[arg(default_value = "policies")]
        paths: Vec<PathBuf>,
        /// List the files that would change and change nothing.
        #[arg(long)]
        check: bool,
        /// Format standard input to standard output instead of files.
        #[arg(long, conflicts_with = "paths")]
        stdin: bool,
    },
    /// Print the compiled program: interned names, the action index, each
    /// block's statement index and each statement's condition. For people
    /// reading what a policy compiles to; the format may change.
    Dump {
        /// The policy file.
        #[arg(long)]
        policy: PathBuf,
    },
}

/// `--format` of `eval`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalFormat {
    /// The decision (and explanation) as one JSON document.
    Json,
    /// Text for people.
    Human,
}

/// `--format` of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum CheckFormat {
    /// miette's report; plain when not a terminal or `NO_COLOR` is set.
    Human,
    /// One JSON document (schema in docs/diagnostics.md).
    Json,
    /// SARIF 2.1.0, for GitHub code scanning.
    Sarif,
    /// GitHub Actions annotations.
    Github,
}

/// Runs the command line.
pub fn main() -> ExitStatus {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Unusable
            } else {
                ExitStatus::Success
            };
        }
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    match cli.command {
        Command::Eval {
            policy,
            request,
            data,
            explain,
            format,
            now,
        } => {
            let format = format.unwrap_or(if explain {
                EvalFormat::Human
            } else {
                EvalFormat::Json
            });
            let how = EvalOutput { explain, format };
            let request = RequestFile {
                path: &request,
                now: now.as_deref(),
            };
            eval(&policy, request, data.as_deref(), how, &mut out, &mut err)
        }
        Command::Test {
            files,
            policy,
            policies,
            data,
            format,
            coverage,
            coverage_min,
            lcov,
        } => {
            let options = cases::Options {
                policy,
                policies,
                ..cases::Options::default()
            };
            let how = test::TestOutput {
                format,
                data,
                coverage: coverage || coverage_min.is_some() || lcov.is_some(),
                coverage_min,
                lcov,
            };
            test::test(&files, options, &how, &mut out, &mut err)
        }
        Command::Check {
            paths,
            format,
            deny,
            warn,
            allow,
        } => {
            let levels = [
                (Level::Allow, allow),
                (Level::Warn, warn),
                (Level::Deny, deny),
            ];
            let format = match format {
                CheckFormat::Human => Format::Human {
                    color: colour(std::io::stdout().is_terminal()),
                },
                CheckFormat::Json => Format::Json,
                CheckFormat::Sarif => Format::Sarif,
                CheckFormat::Github => Format::Github,
            };
            check(&paths, &levels, format, &mut out, &mut err)
        }
        Command::Filter(args) => filter::run(&args, &mut out, &mut err),
        Command::Fmt {
            paths,
            check,
            stdin,
        } => {
            if stdin {
                fmt_stdin(&mut out, &mut err)
            } else {
                fmt(&paths, check, &mut out, &mut err)
            }
        }
        Command::Dump { policy } => match PolicySet::from_file(&policy) {
            Ok(set) => {
                let _ = write!(out, "{}", crate::unstable::dump(&set));
                ExitStatus::Success
            }
            Err(e) => {
                let _ = writeln!(err, "{}", render_policy_error(&e));
                ExitStatus::Unusable
            }
        },
    }
}

/// Whether output to a stream may use colour: only on a terminal, and
/// never when `NO_COLOR` is set (to anything, per no-color.org).
fn colour(terminal: bool) -> bool {
    colour_with(terminal, std::env::var_os("NO_COLOR").is_some())
}

fn colour_with(terminal: bool, no_color: bool) -> bool {
    terminal && !no_color
}

/// Renders diagnostics for a person: graphical on a terminal, plain text
/// otherwise or when `NO_COLOR` is set.
pub fn render(diagnostic: &dyn miette::Diagnostic) -> String {
    let color = colour(std::io::stderr().is_terminal());
    output::human_finding(diagnostic, color)
}

fn render_policy_error(e: &PolicyError) -> String {
    e.findings
        .iter()
        .map(|f| render(f))
        .collect::<Vec<_>>()
        .join("\n")
}

fn read_json_file(path: &std::path::Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {what} `{}`: {e}", path.display()))
}

/// What `portcullis eval` prints.
#[derive(Clone, Copy, Debug)]
pub struct EvalOutput {
    /// The explanation too.
    pub explain: bool,
    pub format: EvalFormat,
}

/// The request of `portcullis eval`: a file, and the time of `--now`.
#[derive(Clone, Copy, Debug)]
pub struct RequestFile<'p> {
    pub path: &'p std::path::Path,
    /// RFC 3339 text set as `context.now`.
    pub now: Option<&'p str>,
}

/// The request text with `context.now` set to `now`, which must be an
/// RFC 3339 timestamp.
fn with_now(text: &str, now: &str) -> Result<String, String> {
    crate::value::scalar::parse_time(now)
        .map_err(|why| format!("--now `{}` is not a timestamp: {why}", escape_controls(now)))?;
    // Text that is not a JSON object is reported as the request's error.
    let Ok(mut json) = serde_json::from_str::<serde_json::Value>(text) else {
        return Ok(text.to_string());
    };
    let Some(root) = json.as_object_mut() else {
        return Ok(text.to_string());
    };
    let context = root
        .entry("context")
        .or_insert_with(|| serde_json::Value::Object(serde_json::Map::new()));
    if context.is_null() {
        *context = serde_json::Value::Object(serde_json::Map::new());
    }
    let Some(fields) = context.as_object_mut() else {
        return Err("--now needs the request's `context` to be an object".into());
    };
    fields.insert("now".into(), serde_json::Value::String(now.into()));
    Ok(json.to_string())
}

/// `portcullis eval`.
pub fn eval(
    policy: &std::path::Path,
    request: RequestFile<'_>,
    data: Option<&std::path::Path>,
    how: EvalOutput,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitStatus {
    let set = match PolicySet::from_file(policy) {
        Ok(set) => set,
        Err(e) => {
            let _ = write!(err, "{}", render_policy_error(&e));
            return ExitStatus::Unusable;
        }
    };
    let request = match read_json_file(request.path, "request")
        .and_then(|t| match request.now {
            Some(now) => with_now(&t, now),
            None => Ok(t),
        })
        .and_then(|t| Request::from_json_str(&t).map_err(|e| render(&e)))
    {
        Ok(r) => r,
        Err(msg) => {
            let _ = writeln!(err, "{}", escape_controls(&msg));
            return ExitStatus::Unusable;
        }
    };
    let data = match data {
        None => Data::empty(),
        Some(path) => match read_json_file(path, "data").and_then(|t| {
            Data::from_json_str(&t)
                .and_then(|d| set.check_data(d))
                .map_err(|e| render(&e))
        }) {
            Ok(d) => d,
            Err(msg) => {
                let _ = writeln!(err, "{}", escape_controls(&msg));
                return ExitStatus::Unusable;
            }
        },
    };
    if let Err(e) = set.validate(&request, &data) {
        let _ = writeln!(err, "{}", render(&e));
        return ExitStatus::Unusable;
    }
    let allowed = explain::print(&set, &request, &data, how, out);
    if allowed {
        ExitStatus::Success
    } else {
        ExitStatus::Refused
    }
}

/// `portcullis check`: `levels` are applied in order, so `deny` wins.
pub fn check(
    paths: &[PathBuf],
    levels: &[(Level, Vec<String>)],
    format: Format,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> ExitStatus {
    let mut options = lint::Options::default();
    for (level, codes) in levels {
        for code in codes {
            if let Err(e) = options.set(code, *level) {
                let _ = writeln!(err, "{}", render(&e));
                return ExitStatus::Unusable;
            }
        }
    }
    let report = match lint::check_paths(paths, &options) {
        Ok(report) => report,
        Err(e) => {
            let _ = writeln!(err, "{}", render(&e));
            return ExitStatus::Unusable;
        }
    };
    for note in &report.skipped {
        let _ = writeln!(err, "note: {}", escape_controls(note));
    }
    let _ = write!(out, "{}", output::render(&report, format));
    if matches!(format, Format::Json | Format::Sarif) {
        let _ = writeln!(err, "{}", report.summary());
    }
    if report.errors() > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// `portcullis fmt`: formats files in place, or with `check` only lists
/// the files that would change.
pub fn fmt(paths: &[PathBuf], check: bool, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let found = match lint::policy_files(paths) {
        Ok(found) => found,
        Err(e) => {
            let _ = writeln!(err, "{}", render(&e));
            return ExitStatus::Unusable;
        }
    };
    for note in &found.skipped {
        let _ = writeln!(err, "note: {}", escape_controls(note));
    }
    let files = found.files;
    let (mut changed, mut unusable) = (0usize, false);
    for file in &files {
        let name = escape_controls(&file.display().to_string()).into_owned();
        // The bounded reader of imports, and only `.pcl` files: a file of
        // another kind is not read, so its text never shows in an error.
        let text = if file.extension().is_some_and(|e| e == "pcl") {
            crate::load::read_policy(file, &crate::Limits::default())
        } else {
            Err(crate::ImportError::new("not a policy file", ""))
        };
        let text = match text {
            Ok(text) => text,
            Err(e) => {
                let _ = writeln!(err, "error: cannot read `{name}`: {e}");
                unusable = true;
                continue;
            }
        };
        let formatted = match crate::tools::fmt::format_source(&name, &text) {
            Ok(formatted) => formatted,
            Err(e) => {
                let _ = write!(err, "{}", render_policy_error(&e));
                unusable = true;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        changed += 1;
        if check {
            let _ = writeln!(out, "would reformat {name}");
        } else if let Err(e) = write_in_place(file, &formatted) {
            let _ = writeln!(err, "error: cannot write `{name}`: {e}");
            unusable = true;
        } else {
            let _ = writeln!(out, "reformatted {name}");
        }
    }
    let verb = if check {
        "would be reformatted"
    } else {
        "reformatted"
    };
    let _ = writeln!(out, "{changed} of {} files {verb}", files.len());
    if unusable {
        ExitStatus::Unusable
    } else if check && changed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Rewrites a policy file, never through a symlink: a link given on the
/// command line is refused, and the new text goes to a fresh file beside
/// the old one that then takes its name (a rename replaces a directory
/// entry; it never writes into whatever a link points to).
fn write_in_place(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(file)?;
    if meta.file_type().is_symlink() || !meta.is_file() {
        return Err(std::io::Error::other(
            "it is a symlink or not a regular file; format the file it points to",
        ));
    }
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let fresh = file.with_file_name(format!(".{name}.portcullis-fmt-{}", std::process::id()));
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&fresh)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .and_then(|()| std::fs::set_permissions(&fresh, meta.permissions()))
        .and_then(|()| std::fs::rename(&fresh, file));
    if written.is_err() {
        let _ = std::fs::remove_file(&fresh);
    }
    written
}

/// `portcullis fmt --stdin`.
fn fmt_stdin(out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let mut text = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text) {
        let _ = writeln!(err, "error: cannot read standard input: {e}");
        return ExitStatus::Unusable;
    }
    match crate::tools::fmt::format_source("<stdin>", &text) {
        Ok(formatted) => {
            let _ = write!(out, "{formatted}");
            ExitStatus::Success
        }
        Err(e) => {
            let _ = write!(err, "{}", render_policy_error(&e));
            ExitStatus::Unusable
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(colour_with(true, false));
        assert!(!colour_with(true, true));
        assert!(!colour_with(false, false));
        assert!(!colour_with(false, true));
    }
}
