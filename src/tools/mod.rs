//! Tools above the pipeline: they read what the stages produced and never
//! change a decision.
//!
//! - `lint`: `portcullis check`, findings over a loaded and lowered file;
//! - `fmt`: `portcullis fmt`, one canonical layout, meaning kept;
//! - `cases`: `portcullis test`, conformance case files; `coverage` of a
//!   policy by them, `test_report` its reports (human, JUnit, JSON);
//! - `output`: a report rendered as human text, JSON, SARIF or GitHub annotations.

pub mod cases;
pub mod coverage;
pub mod fmt;
pub mod lint;
pub mod output;
pub mod test_report;
