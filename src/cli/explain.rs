//! What `portcullis eval` prints: the decision as JSON, or for people, and
//! with `--explain` the explanation beside it.

use super::{EvalFormat, EvalOutput};
use crate::diagnostics::escape_controls;
use crate::{Data, PolicySet, Request};
use std::io::Write;

/// Decides and prints; whether the request was allowed.
pub(super) fn print(
    set: &PolicySet,
    request: &Request,
    data: &Data,
    how: EvalOutput,
    out: &mut dyn Write,
) -> bool {
    if !how.explain {
        let decision = set.decide(request, data);
        let _ = match how.format {
            EvalFormat::Json => writeln!(out, "{}", decision.to_json()),
            EvalFormat::Human => writeln!(out, "{}", escape_controls(&human(&decision))),
        };
        return decision.is_allowed();
    }
    let explanation = set.explain(request, data);
    let _ = match how.format {
        EvalFormat::Json => writeln!(out, "{}", explanation.to_json_string()),
        EvalFormat::Human => write!(out, "{}", escape_controls(&explanation.to_string())),
    };
    explanation.decision().is_allowed()
}

/// A decision in one line (and the statements that made it).
fn human(d: &crate::Decision) -> String {
    let mut s = d.outcome.as_str().to_string();
    if !d.reason.is_empty() {
        s.push_str(&format!(" {:?}", d.reason.as_ref()));
    }
    for st in d.statements.iter() {
        s.push_str(&format!(
            "\n  decided by {} ({}:{})",
            st.id, st.file, st.line
        ));
    }
    if let Some(e) = &d.error {
        s.push_str(&format!("\n  error {}: {}", e.code.code(), e.message));
    }
    s
}
