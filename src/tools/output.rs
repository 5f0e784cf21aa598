//! Rendering a check report: for people (miette's graphical report, or the
//! same without colour), as one JSON document, as SARIF 2.1.0 for code
//! scanning, and as GitHub Actions annotations.
//!
//! Input: a [`Report`]. Output: text. Invariant: every format carries the
//! same findings in the same order; the JSON and SARIF shapes are documented
//! in `docs/diagnostics.md` and only grow.

use crate::diagnostics::{escape_controls, Code, Finding, Severity};
use crate::tools::lint::Report;
use serde_json::{json, Value as Json};
use std::fmt;

/// The output formats of `portcullis check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// miette's graphical report, with colour when `color` is set.
    Human {
        /// Colours and styles (a terminal without `NO_COLOR`).
        color: bool,
    },
    /// One JSON document.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
}

/// Renders `report` in `format`, ending with a newline.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Human { color } => human(report, color),
        Format::Json => pretty(&json_document(report)),
        Format::Sarif => pretty(&sarif(report)),
        Format::Github => github(report),
    }
}

fn pretty(value: &Json) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A finding for a person, as `eval` and `check` print it.
pub fn human_finding(finding: &dyn miette::Diagnostic, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut text = String::new();
    let _ = handler.render_report(&mut text, &Escaped(finding));
    text
}

/// A diagnostic whose message, help and labels are shown with their
/// control characters escaped ([`escape_controls`]), whatever produced
/// them (request and evaluation errors quote request text). Findings'
/// sources escape their own text.
struct Escaped<'d>(&'d dyn miette::Diagnostic);

impl fmt::Debug for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Escaped")
    }
}

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&escape_controls(&self.0.to_string()))
    }
}

impl std::error::Error for Escaped<'_> {}

impl miette::Diagnostic for Escaped<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.0.code()
    }

    fn severity(&self) -> Option<miette::Severity> {
        self.0.severity()
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        let help = self.0.help()?.to_string();
        Some(Box::new(escape_controls(&help).into_owned()))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.0.source_code()
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let labels = self.0.labels()?.map(|l| {
            let text = l.label().map(|t| escape_controls(t).into_owned());
            if l.primary() {
                miette::LabeledSpan::new_primary_with_span(text, *l.inner())
            } else {
                miette::LabeledSpan::new_with_span(text, *l.inner())
            }
        });
        Some(Box::new(labels))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        self.0.related()
    }
}

fn human(report: &Report, color: bool) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&human_finding(finding, color));
        out.push('\n');
    }
    out.push_str(&report.summary());
    out.push('\n');
    out
}

/// Where a finding is: file, then 1-based start and end line and column.
struct Place<'f> {
    file: Option<&'f str>,
    start: (usize, usize),
    end: (usize, usize),
}

fn place(finding: &Finding) -> Place<'_> {
    let at = |offset: usize| {
        finding
            .source
            .as_ref()
            .map_or((1, 1), |s| s.line_col(offset))
    };
    Place {
        file: finding.file(),
        start: at(finding.span.start),
        end: at(finding.span.end),
    }
}

fn severity_word(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn json_document(report: &Report) -> Json {
    let findings: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            let p = place(f);
            let related: Vec<Json> = f
                .secondary
                .iter()
                .map(|(span, label)| {
                    let (line, column) =
                        f.source.as_ref().map_or((1, 1), |s| s.line_col(span.start));
                    json!({ "line": line, "column": column, "label": escape_controls(label) })
                })
                .collect();
            json!({
                "code": f.code.code(),
                "name": f.code.name(),
                "severity": severity_word(f.severity),
                "message": escape_controls(&f.message),
                "file": p.file.map(escape_controls),
                "line": p.start.0,
                "column": p.start.1,
                "end_line": p.end.0,
                "end_column": p.end.1,
                "label": escape_controls(&f.label),
                "help": f.help.as_deref().map(escape_controls),
                "related": related,
            })
        })
        .collect();
    json!({
        "version": 1,
        "summary": {
            "files": report.files,
            "errors": report.errors(),
            "warnings": report.warnings(),
        },
        "findings": findings,
    })
}

fn sarif(report: &Report) -> Json {
    let rules: Vec<Json> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.code(),
                "name": c.name(),
                "shortDescription": { "text": c.summary() },
                "fullDescription": { "text": c.summary() },
                "help": {
                    "text": format!("{} See {}", c.summary(), c.help_url()),
                    "markdown": format!(
                        "{} See [{} {}]({}).",
                        c.summary(),
                        c.code(),
                        c.name(),
                        c.help_url()
                    ),
                },
                "helpUri": c.help_url(),
                "defaultConfiguration": { "level": severity_word(c.default_severity()) },
            })
        })
        .collect();
    let results: Vec<Json> = report
        .findings
        .iter()
        .map(|f| {
            let p = place(f);
            let index = Code::ALL.iter().position(|c| *c == f.code);
            let mut text = escape_controls(&f.message).into_owned();
            if let Some(help) = &f.help {
                text.push_str(&format!(" (help: {})", escape_controls(help)));
            }
            let mut result = json!({
                "ruleId": f.code.code(),
                "ruleIndex": index,
                "level": severity_word(f.severity),
                "message": { "text": text },
            });
            if let (Some(file), Some(obj)) = (p.file, result.as_object_mut()) {
                obj.insert(
                    "locations".into(),
                    json!([{
                        "physicalLocation": {
                            "artifactLocation": { "uri": uri(file) },
                            "region": {
                                "startLine": p.start.0,
                                "startColumn": p.start.1,
                                "endLine": p.end.0,
                                "endColumn": p.end.1,
                            },
                        },
                    }]),
                );
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {
                "driver": {
                    "name": "portcullis",
                    "semanticVersion": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                },
            },
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

/// A path as a relative URI: forward slashes, no leading `./`.
fn uri(path: &str) -> String {
    // Code scanning places results by paths relative to the repository:
    // an absolute path under the working folder is made relative.
    let relative = std::env::current_dir().ok().and_then(|cwd| {
        std::path::Path::new(path)
            .strip_prefix(cwd)
            .ok()
            .map(|p| p.display().to_string())
    });
    let path = relative.as_deref().unwrap_or(path).replace('\\', "/");
    let path = path.strip_prefix("./").unwrap_or(&path);
    // Percent-encode the space, `%` itself and every control character.
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if c == ' ' || c == '%' || c.is_control() {
            let mut bytes = [0u8; 4];
            for b in c.encode_utf8(&mut bytes).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn github(report: &Report) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let p = place(f);
        let mut props = Vec::new();
        if let Some(file) = p.file {
            props.push(format!("file={}", escape_property(&escape_controls(file))));
            props.push(format!("line={},col={}", p.start.0, p.start.1));
            props.push(format!("endLine={},endColumn={}", p.end.0, p.end.1));
        }
        props.push(format!(
            "title={}",
            escape_property(&format!("{} {}", f.code.code(), f.code.name()))
        ));
        let mut message = escape_controls(&f.message).into_owned();
        if let Some(help) = &f.help {
            message.push_str(&format!("\nhelp: {}", escape_controls(help)));
        }
        out.push_str(&format!(
            "::{} {}::{}\n",
            severity_word(f.severity),
            props.join(","),
            escape_data(&message)
        ));
    }
    out.push_str(&report.summary());
    out.push('\n');
    out
}

fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_escapes_what_workflow_commands_reserve() {
        assert_eq!(escape_data("50%\nnext"), "50%25%0Anext");
        assert_eq!(escape_property("a:b,c"), "a%3Ab%2Cc");
    }

    #[test]
    fn colour_is_escape_codes_and_plain_has_none() {
        let options = crate::tools::lint::Options::default();
        let report = crate::tools::lint::check_source(
            "t.pcl",
            "actions: read\nrule spare = true\n",
            &options,
        );
        assert!(report.findings.len() >= 2);
        assert!(render(&report, Format::Human { color: true }).contains('\u{1b}'));
        assert!(!render(&report, Format::Human { color: false }).contains('\u{1b}'));
    }

    #[test]
    fn uris_are_relative_with_forward_slashes() {
        assert_eq!(uri("./policies\\a b.pcl"), "policies/a%20b.pcl");
        let cwd = std::env::current_dir().unwrap();
        let inside = cwd.join("policies").join("a.pcl");
        assert_eq!(uri(&inside.display().to_string()), "policies/a.pcl");
        assert_eq!(uri("/elsewhere/a.pcl"), "/elsewhere/a.pcl");
    }
}
