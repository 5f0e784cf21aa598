//! Tools above the pipeline: they read what the stages produced and never
//! change a decision.
//!
//! - `lint`: `portcullis check`, findings over a loaded and lowered file;
//! - `fmt`: `portcullis fmt`, one canonical layout, meaning kept;
//! - `cases`: `portcullis test`, conformance case files;
//! - `output`: a report rendered as human text, JSON, SARIF or GitHub annotations.

pub mod cases;
pub mod fmt;
pub mod lint;
pub mod output;
