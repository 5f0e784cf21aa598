//! Loading a policy set: a file, the files it imports, and their layers.
//!
//! Input: a path or a string, and an [`ImportResolver`] (none for text
//! without one). Output: the parsed units, lowest layer first (every file
//! comes after the files it imports), ready for `lower.rs`. Invariants:
//! each file is read and parsed once; an import cycle is a diagnostic, not
//! an endless loop; only `.pcl` files are read, through the bounded reader
//! of `resolve.rs`, so no diagnostic ever shows text from another kind of
//! file.

use crate::ast::{Item, Span};
use crate::diagnostics::{Code, Finding, Source};
use crate::limits::Limits;

pub(crate) mod resolve;

use crate::syntax;
pub use resolve::{read_policy, FolderResolver, ImportError, ImportResolver, ResolvedImport};
use std::collections::HashSet;
use std::path::Path;

/// One parsed file of a policy set.
pub(crate) struct Unit {
    pub source: Source,
    pub file: crate::ast::File,
}

/// Loads the file at `path` and, depth first, everything it imports;
/// imports resolve inside the file's folder.
pub(crate) fn load_file(path: &Path, limits: &Limits) -> (Vec<Unit>, Vec<Finding>) {
    let name = path.display().to_string();
    let folder = path.parent().unwrap_or(Path::new(""));
    let resolver = FolderResolver::new(folder);
    let mut loader = Loader::new(Some(&resolver), limits);
    let text = if resolve::is_policy_path(&name) {
        resolve::read_policy(path, limits)
    } else {
        Err(ImportError::new(
            "not a policy file",
            "policy files end in `.pcl`; only they are read",
        ))
    };
    match text {
        Ok(text) => loader.add(resolver.id_of(path), name, text),
        Err(err) => loader.findings.push(cannot_read(&name, err)),
    }
    (loader.units, loader.findings)
}

/// Loads policy text held in memory, named `name` in diagnostics; imports
/// go to `resolver`, and without one an import is an error.
pub(crate) fn load_str(
    name: &str,
    text: &str,
    resolver: Option<&dyn ImportResolver>,
    limits: &Limits,
) -> (Vec<Unit>, Vec<Finding>) {
    let mut loader = Loader::new(resolver, limits);
    loader.add(name.to_string(), name.to_string(), text.to_string());
    (loader.units, loader.findings)
}

/// A file that cannot be read, reported at its start.
fn cannot_read(name: &str, err: ImportError) -> Finding {
    let mut finding = Finding::new(
        Code::UnresolvedImport,
        Span::default(),
        format!("cannot read `{name}`: {}", err.message),
    )
    .label("this file")
    .in_source(&Source::new(name.to_string(), ""));
    finding.help = err.help;
    finding
}

struct Loader<'l> {
    resolver: Option<&'l dyn ImportResolver>,
    units: Vec<Unit>,
    findings: Vec<Finding>,
    /// Ids of the files loaded (or refused) so far.
    done: HashSet<String>,
    /// Ids of the files being loaded, importer before imported.
    stack: Vec<String>,
    limits: &'l Limits,
}

impl<'l> Loader<'l> {
    fn new(resolver: Option<&'l dyn ImportResolver>, limits: &'l Limits) -> Loader<'l> {
        Loader {
            resolver,
            units: Vec::new(),
            findings: Vec::new(),
            done: HashSet::new(),
            stack: Vec::new(),
            limits,
        }
    }

    fn add(&mut self, id: String, name: String, text: String) {
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
                .in_source(&Source::new(source.name.clone(), "")),
            );
            self.done.insert(id);
            return;
        }
        self.stack.push(id.clone());
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
                self.done.insert(id);
                return;
            }
        };
        for item in &file.items {
            let Item::Import { path: rel, span } = item else {
                continue;
            };
            let refused = |err: ImportError| {
                let mut finding = Finding::new(Code::UnresolvedImport, *span, err.message)
                    .label("this import")
                    .in_source(&source);
                finding.help = err.help;
                finding
            };
            let resolved = if !resolve::is_policy_path(rel) {
                Err(ImportError::new(
                    format!("cannot import `{rel}`: only policy files (`.pcl`) can be imported"),
                    "name a `.pcl` file; no other file is read",
                ))
            } else if let Some(resolver) = self.resolver {
                resolver.resolve(&id, rel, self.limits)
            } else {
                Err(ImportError::new(
                    format!("cannot import `{rel}`: this policy text has no import resolver"),
                    "text compiled from a string resolves imports only through a resolver: \
                     use `PolicySet::from_source_with` or `PolicySet::from_file`",
                ))
            };
            let target = match resolved {
                Ok(target) => target,
                Err(err) => {
                    self.findings.push(refused(err));
                    continue;
                }
            };
            if self.stack.contains(&target.id) {
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
            if self.done.contains(&target.id) {
                continue;
            }
            self.add(target.id, target.name, target.text);
        }
        self.stack.pop();
        self.done.insert(id);
        self.units.push(Unit { source, file });
    }
}
