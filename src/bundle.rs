//! Loading a policy set: a file, the files it imports, and their layers.
//!
//! Input: a path or a string. Output: the parsed units, lowest layer first
//! (every file comes after the files it imports), ready for `lower.rs`.
//! Invariant: each file is read and parsed once; an import cycle is a
//! diagnostic, not an endless loop.

use crate::ast::{Item, Span};
use crate::diagnostics::{Code, Finding, Source};
use crate::limits::Limits;
use crate::lower::Unit;
use crate::syntax;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Loads `entry` and, depth first, everything it imports.
pub(crate) fn load_file(path: &Path, limits: &Limits) -> (Vec<Unit>, Vec<Finding>) {
    let mut loader = Loader {
        units: Vec::new(),
        findings: Vec::new(),
        done: HashSet::new(),
        stack: Vec::new(),
        limits,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => loader.add(path.to_path_buf(), path.display().to_string(), text),
        Err(err) => loader.findings.push(
            Finding::new(
                Code::UnresolvedImport,
                Span::default(),
                format!("cannot read `{}`: {err}", path.display()),
            )
            .label("this file")
            .help("check the path, and that the file is UTF-8 text")
            .in_source(&Source::new(path.display().to_string(), "")),
        ),
    }
    (loader.units, loader.findings)
}

/// Loads policy text held in memory; imports resolve against `base_dir`.
pub(crate) fn load_str(
    name: &str,
    text: &str,
    base_dir: &Path,
    limits: &Limits,
) -> (Vec<Unit>, Vec<Finding>) {
    let mut loader = Loader {
        units: Vec::new(),
        findings: Vec::new(),
        done: HashSet::new(),
        stack: Vec::new(),
        limits,
    };
    loader.add(base_dir.join(name), name.to_string(), text.to_string());
    (loader.units, loader.findings)
}

struct Loader<'l> {
    units: Vec<Unit>,
    findings: Vec<Finding>,
    done: HashSet<PathBuf>,
    stack: Vec<PathBuf>,
    limits: &'l Limits,
}

impl Loader<'_> {
    fn add(&mut self, path: PathBuf, name: String, text: String) {
        let key = path.canonicalize().unwrap_or_else(|_| path.clone());
        let source = Source::new(name, text);
        if source.text.len() > self.limits.max_policy_bytes {
            self.findings.push(
                Finding::new(
                    Code::LimitExceeded,
                    Span::new(0, 0),
                    format!(
                        "the file is larger than the limit of {} bytes",
                        self.limits.max_policy_bytes
                    ),
                )
                .label("this file")
                .help("raise `Limits::max_policy_bytes` or split the file")
                .in_source(&source),
            );
            return;
        }
        self.stack.push(key.clone());
        let file = match syntax::parse_with_limits(
            &source.text,
            self.limits.max_nesting,
            self.limits.max_expr_depth,
        ) {
            Ok(file) => file,
            Err(errors) => {
                self.findings
                    .extend(errors.into_iter().map(|e| e.in_source(&source)));
                self.stack.pop();
                self.done.insert(key);
                return;
            }
        };
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        for item in &file.items {
            let Item::Import { path: rel, span } = item else {
                continue;
            };
            let target = dir.join(rel);
            let target_key = target.canonicalize().unwrap_or_else(|_| target.clone());
            if self.stack.contains(&target_key) {
                self.findings.push(
                    Finding::new(
                        Code::ImportCycle,
                        *span,
                        format!("importing `{rel}` closes an import cycle"),
                    )
                    .label("cycle")
                    .help("a file cannot import itself, directly or through other files")
                    .in_source(&source),
                );
                continue;
            }
            if self.done.contains(&target_key) {
                continue;
            }
            match std::fs::read_to_string(&target) {
                Ok(text) => self.add(target.clone(), target.display().to_string(), text),
                Err(err) => self.findings.push(
                    Finding::new(
                        Code::UnresolvedImport,
                        *span,
                        format!("cannot import `{rel}`: {err}"),
                    )
                    .label("this import")
                    .help(format!(
                        "paths are relative to the importing file's folder (`{}`)",
                        dir.display()
                    ))
                    .in_source(&source),
                ),
            }
        }
        self.stack.pop();
        self.done.insert(key);
        self.units.push(Unit { source, file });
    }
}
