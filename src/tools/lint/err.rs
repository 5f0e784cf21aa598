//! Errors of `portcullis check` itself, as opposed to findings in the
//! policies it checks: a path that cannot be read (`PCL701`), an option
//! that names no code or would lower an error (`PCL702`), and the reasons a
//! pragma cannot be read (reported as `PCL310` findings).

use crate::diagnostics::Code;
use std::fmt;
use std::path::PathBuf;

/// Why a check could not run.
#[derive(Debug)]
pub enum LintError {
    /// A path given to check cannot be read: `portcullis check missing/`.
    Unreadable {
        /// The path.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The paths hold no `.pcl` file.
    NoPolicyFiles(Vec<PathBuf>),
    /// `--deny FOO`: not a code or a code's name.
    UnknownCode(String),
    /// `--allow PCL206`: only lints (PCL3xx) can change severity.
    NotAdjustable(Code),
}

impl fmt::Display for LintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LintError::Unreadable { path, error } => {
                write!(f, "cannot read `{}`: {error}", path.display())
            }
            LintError::NoPolicyFiles(paths) => {
                let list: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
                write!(f, "no .pcl files under {}", list.join(", "))
            }
            LintError::UnknownCode(what) => {
                write!(
                    f,
                    "unknown code `{what}` (see {} for the list)",
                    crate::diagnostics::docs_url("diagnostics#all-codes")
                )
            }
            LintError::NotAdjustable(code) => write!(
                f,
                "{} ({}) makes a policy unusable; its severity cannot be lowered",
                code.code(),
                code.name()
            ),
        }
    }
}

impl std::error::Error for LintError {}

impl miette::Diagnostic for LintError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self {
            LintError::Unreadable { .. } | LintError::NoPolicyFiles(_) => Code::UnreadablePath,
            LintError::UnknownCode(_) | LintError::NotAdjustable(_) => Code::InvalidOption,
        }))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(match self {
            LintError::Unreadable { .. } => "check the path and its permissions",
            LintError::NoPolicyFiles(_) => "give a `.pcl` file or a folder that holds some",
            LintError::UnknownCode(_) => {
                "name a code such as `PCL306` or its name such as `unused-definition`"
            }
            LintError::NotAdjustable(_) => {
                "only lints (PCL3xx) can change severity; fix the error instead"
            }
        }))
    }
}

/// Why a `// portcullis:` comment cannot be read.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum PragmaError {
    /// Text that is not `allow(...)`, `warn(...)` or `deny(...)`.
    NotADirective(String),
    /// A word other than allow, warn or deny before `(`.
    UnknownLevel(String),
    /// `allow(` without `)`.
    Unclosed(String),
    /// `allow()`.
    NoCode(String),
    /// `// portcullis:` and nothing after it.
    Empty,
}

impl fmt::Display for PragmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PragmaError::NotADirective(rest) => {
                write!(
                    f,
                    "expected `allow(...)`, `warn(...)` or `deny(...)`, found `{rest}`"
                )
            }
            PragmaError::UnknownLevel(word) => {
                write!(f, "unknown pragma `{word}`: expected allow, warn or deny")
            }
            PragmaError::Unclosed(word) => write!(f, "`{word}(` is not closed"),
            PragmaError::NoCode(word) => write!(f, "`{word}()` names no code"),
            PragmaError::Empty => f.write_str("the pragma says nothing"),
        }
    }
}
