//! Coverage of a policy set by case files (`portcullis test --coverage`):
//! per policy file, which statements decided at least one case, and which
//! conditions were seen both true and false.
//!
//! Input: each policy set's outline (every statement and the parts of its
//! condition, `PolicySet::outline`) and the explanation of every case.
//! Output: a summary, a text report, JSON, and lcov (`DA` lines for
//! statements, `BRDA` pairs for conditions). Invariant: only places of the
//! outline are counted, so a rule's body (shared by statements, reached
//! through a call) is not a condition of its own; a condition part is the
//! same place in every case when its path of texts from the statement's
//! `when` is the same.

use crate::{Condition, ConditionResult, StatementExplanation, StatementStatus};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What case files covered, by policy file.
#[derive(Debug, Default)]
pub struct Coverage {
    files: BTreeMap<String, FileCoverage>,
}

#[derive(Debug, Default)]
struct FileCoverage {
    /// By (line, statement id).
    statements: BTreeMap<(usize, String), StatementCoverage>,
}

#[derive(Debug, Default)]
struct StatementCoverage {
    /// Cases it decided.
    decided: usize,
    /// Its condition's parts in tree order: path key, text, times seen
    /// true, times seen false.
    conditions: Vec<(String, String, usize, usize)>,
}

/// Totals of a coverage report.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Totals {
    /// Statements.
    pub statements: usize,
    /// Statements that decided at least one case.
    pub statements_decided: usize,
    /// Condition parts.
    pub conditions: usize,
    /// Condition parts seen both true and false.
    pub conditions_both: usize,
}

impl Totals {
    /// Covered places over all places (statements and condition parts),
    /// as a percentage; 100 when there is nothing to cover.
    pub fn percent(&self) -> f64 {
        let all = self.statements + self.conditions;
        if all == 0 {
            return 100.0;
        }
        let covered = self.statements_decided + self.conditions_both;
        100.0 * covered as f64 / all as f64
    }

    fn add(&mut self, other: Totals) {
        self.statements += other.statements;
        self.statements_decided += other.statements_decided;
        self.conditions += other.conditions;
        self.conditions_both += other.conditions_both;
    }
}

/// The path key of a child of the node at `parent`.
fn key(parent: &str, text: &str) -> String {
    format!("{parent}\u{1f}{text}")
}

impl Coverage {
    /// Registers a policy set's statements (once per policy file; a
    /// statement seen again, from another case file, is kept as it is).
    pub fn add_outline(&mut self, outline: &[StatementExplanation]) {
        for s in outline {
            let file = self.files.entry(s.file.to_string()).or_default();
            file.statements
                .entry((s.line, s.id.to_string()))
                .or_insert_with(|| {
                    let mut conditions = Vec::new();
                    if let Some(c) = &s.condition {
                        places(c, "", &mut conditions);
                    }
                    StatementCoverage {
                        decided: 0,
                        conditions,
                    }
                });
        }
    }

    /// Counts one case's explanation.
    pub fn add_case(&mut self, statements: &[StatementExplanation]) {
        for s in statements {
            let Some(cov) = self
                .files
                .get_mut(s.file.as_ref())
                .and_then(|f| f.statements.get_mut(&(s.line, s.id.to_string())))
            else {
                continue;
            };
            if s.status == StatementStatus::Decided {
                cov.decided += 1;
            }
            if let Some(c) = &s.condition {
                seen(c, "", cov);
            }
        }
    }

    /// Totals per policy file, and over all.
    pub fn totals(&self) -> (Vec<(&str, Totals)>, Totals) {
        let mut all = Totals::default();
        let per: Vec<(&str, Totals)> = self
            .files
            .iter()
            .map(|(name, f)| {
                let mut t = Totals::default();
                for s in f.statements.values() {
                    t.statements += 1;
                    t.statements_decided += usize::from(s.decided > 0);
                    t.conditions += s.conditions.len();
                    t.conditions_both += s
                        .conditions
                        .iter()
                        .filter(|(_, _, yes, no)| *yes > 0 && *no > 0)
                        .count();
                }
                all.add(t);
                (name.as_str(), t)
            })
            .collect();
        (per, all)
    }

    /// The report for people: per file, the totals, the statements that
    /// never decided and the conditions not seen both ways.
    pub fn human(&self) -> String {
        let mut out = String::from(
            "coverage (statements that decided a case; condition parts seen both true and false):\n",
        );
        let (per, all) = self.totals();
        for (name, t) in per {
            let _ = writeln!(
                out,
                "  {name}: {} of {} statements, {} of {} condition parts ({:.1}%)",
                t.statements_decided,
                t.statements,
                t.conditions_both,
                t.conditions,
                t.percent()
            );
            let Some(file) = self.files.get(name) else {
                continue;
            };
            for ((line, id), s) in &file.statements {
                if s.decided == 0 {
                    let _ = writeln!(out, "    line {line}: `{id}` never decided a case");
                }
                for (_, text, yes, no) in &s.conditions {
                    let missing = match (*yes > 0, *no > 0) {
                        (true, true) => continue,
                        (true, false) => "never false",
                        (false, true) => "never true",
                        (false, false) => "never evaluated",
                    };
                    let _ = writeln!(out, "    line {line}: `{text}` {missing}");
                }
            }
        }
        let _ = writeln!(
            out,
            "  total: {} of {} statements, {} of {} condition parts ({:.1}%)",
            all.statements_decided,
            all.statements,
            all.conditions_both,
            all.conditions,
            all.percent()
        );
        out
    }

    /// The report as JSON (docs/cases.md, "Coverage").
    pub fn to_json(&self) -> serde_json::Value {
        let (per, all) = self.totals();
        let files: Vec<serde_json::Value> = per
            .iter()
            .map(|(name, t)| {
                let statements: Vec<serde_json::Value> = self
                    .files
                    .get(*name)
                    .map(|f| {
                        f.statements
                            .iter()
                            .map(|((line, id), s)| {
                                let conditions: Vec<serde_json::Value> = s
                                    .conditions
                                    .iter()
                                    .map(|(_, text, yes, no)| {
                                        serde_json::json!({"text": text, "true": yes, "false": no})
                                    })
                                    .collect();
                                serde_json::json!({
                                    "id": id, "line": line, "decided": s.decided,
                                    "conditions": conditions,
                                })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                serde_json::json!({
                    "file": name, "totals": t, "percent": t.percent(),
                    "statements": statements,
                })
            })
            .collect();
        serde_json::json!({ "files": files, "totals": all, "percent": all.percent() })
    }

    /// lcov: per policy file a record, each statement a line (`DA`, its
    /// count the cases it decided), each condition part a pair of branches
    /// on its statement's line (`BRDA`: seen true, seen false).
    pub fn lcov(&self) -> String {
        let mut out = String::new();
        for (name, file) in &self.files {
            let _ = writeln!(out, "TN:portcullis\nSF:{name}");
            let (mut lines, mut hit, mut branches, mut taken) = (0, 0, 0, 0);
            // DA lines in line order, one per statement line.
            let mut by_line: BTreeMap<usize, usize> = BTreeMap::new();
            for ((line, _), s) in &file.statements {
                *by_line.entry(*line).or_default() += s.decided;
            }
            for (line, count) in by_line {
                let _ = writeln!(out, "DA:{line},{count}");
                lines += 1;
                hit += usize::from(count > 0);
            }
            for (block, ((line, _), s)) in file.statements.iter().enumerate() {
                for (part, (_, _, yes, no)) in s.conditions.iter().enumerate() {
                    for (branch, count) in [(2 * part, *yes), (2 * part + 1, *no)] {
                        let _ = writeln!(out, "BRDA:{line},{block},{branch},{count}");
                        branches += 1;
                        taken += usize::from(count > 0);
                    }
                }
            }
            let _ = writeln!(
                out,
                "BRF:{branches}\nBRH:{taken}\nLF:{lines}\nLH:{hit}\nend_of_record"
            );
        }
        out
    }
}

/// The places of a statement's outline tree, in tree order.
fn places(c: &Condition, parent: &str, out: &mut Vec<(String, String, usize, usize)>) {
    let k = key(parent, &c.text);
    out.push((k.clone(), c.text.clone(), 0, 0));
    for child in &c.children {
        places(child, &k, out);
    }
}

/// Counts what a case's tree saw at the places of the outline.
fn seen(c: &Condition, parent: &str, cov: &mut StatementCoverage) {
    let k = key(parent, &c.text);
    if let Some(place) = cov.conditions.iter_mut().find(|(pk, _, _, _)| *pk == k) {
        match c.result {
            ConditionResult::True => place.2 += 1,
            ConditionResult::False => place.3 += 1,
            ConditionResult::Error | ConditionResult::NotEvaluated => {}
        }
    }
    for child in &c.children {
        seen(child, &k, cov);
    }
}
