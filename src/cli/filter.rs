//! `portcullis filter`: the filter of a request as JSON, or as SQL through
//! a mapping. Exit status: 0 a filter was computed (always, never or a
//! residual), 2 unusable input, or a filter the policy or mapping cannot
//! give (the `PCL6xx` diagnostic goes to stderr).

use super::{render, ExitStatus};
use crate::diagnostics::{escape_controls, Source};
use crate::filter::mapping::Mapping;
use crate::filter::sql::{self, Dialect};
use crate::filter::FilterError;
use crate::{Data, PolicySet, Request};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The arguments of `portcullis filter`.
#[derive(clap::Args, Debug)]
pub struct FilterArgs {
    /// The policy file.
    #[arg(long)]
    pub policy: PathBuf,
    /// The request without its resource (or with the keys every row shares).
    #[arg(long)]
    pub request: PathBuf,
    /// Facts for the policy: a JSON object.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// `json`: the residual (docs/filtering.md); `sql`: a WHERE clause (needs --mapping).
    #[arg(long, value_enum, default_value_t = FilterFormat::Json)]
    pub format: FilterFormat,
    /// The mapping of resource paths to columns and relations (JSON).
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// The SQL dialect: sqlite or postgres.
    #[arg(long, default_value = "sqlite")]
    pub dialect: String,
}

/// `--format` of `filter`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FilterFormat {
    /// The versioned residual.
    Json,
    /// A WHERE clause and its parameters.
    Sql,
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {what} `{}`: {e}", path.display()))
}

/// Renders a filter error with the source of the statement it names.
pub fn render_error(e: &FilterError) -> String {
    let source = e.statement.as_ref().and_then(|s| {
        crate::read_policy(Path::new(s.file.as_ref()), &crate::Limits::default())
            .ok()
            .map(|text| Source::new(s.file.clone(), text))
    });
    render(&e.to_finding(source.as_ref()))
}

/// Runs `portcullis filter`.
pub fn run(args: &FilterArgs, out: &mut dyn Write, err: &mut dyn Write) -> ExitStatus {
    let fail = |err: &mut dyn Write, msg: &str| {
        let _ = writeln!(err, "{}", escape_controls(msg));
        ExitStatus::Unusable
    };
    let Some(dialect) = Dialect::parse(&args.dialect) else {
        return fail(
            err,
            &format!(
                "error: unknown dialect `{}`; expected sqlite or postgres",
                args.dialect
            ),
        );
    };
    if args.format == FilterFormat::Sql && args.mapping.is_none() {
        return fail(err, "error: `--format sql` needs `--mapping`");
    }
    let set = match PolicySet::from_file(&args.policy) {
        Ok(set) => set,
        Err(e) => {
            let text: Vec<String> = e.findings.iter().map(|f| render(f)).collect();
            let _ = write!(err, "{}", text.join("\n"));
            return ExitStatus::Unusable;
        }
    };
    let request = match read(&args.request, "request")
        .and_then(|t| Request::from_json_str(&t).map_err(|e| render(&e)))
    {
        Ok(r) => r,
        Err(msg) => return fail(err, &msg),
    };
    let data = match &args.data {
        None => Data::empty(),
        Some(path) => match read(path, "data").and_then(|t| {
            Data::from_json_str(&t)
                .and_then(|d| set.check_data(d))
                .map_err(|e| render(&e))
        }) {
            Ok(d) => d,
            Err(msg) => return fail(err, &msg),
        },
    };
    let mapping = match &args.mapping {
        None => None,
        Some(path) => match read(path, "mapping") {
            Err(msg) => return fail(err, &msg),
            Ok(text) => match Mapping::from_json_str(&text)
                .and_then(|m| m.check(&set, &request.action).map(|()| m))
            {
                Ok(m) => Some(m),
                Err(e) => {
                    let _ = write!(err, "{}", render_error(&e));
                    return ExitStatus::Unusable;
                }
            },
        },
    };
    let filter = match &mapping {
        Some(m) => set.filter_with(&request, &data, &m.schema()),
        None => set.filter(&request, &data),
    };
    let filter = match filter {
        Ok(f) => f,
        Err(e) => {
            let _ = write!(err, "{}", render_error(&e));
            return ExitStatus::Unusable;
        }
    };
    match (args.format, &mapping) {
        (FilterFormat::Sql, Some(m)) => match sql::render(&filter, m, dialect) {
            Ok(w) => {
                let _ = writeln!(out, "{}", w.text());
            }
            Err(e) => {
                let _ = write!(err, "{}", render_error(&e));
                return ExitStatus::Unusable;
            }
        },
        _ => {
            let text = serde_json::to_string_pretty(&filter.to_json()).unwrap_or_default();
            let _ = writeln!(out, "{text}");
        }
    }
    ExitStatus::Success
}
