//! Linting: `portcullis check`, the compiler's findings plus the lints that
//! catch policies which compile but do not mean what their author meant.
//!
//! Input: policy files (or text) and [`Options`]. Output: a [`Report`] whose
//! findings carry their final severity, in file order. Invariants: lints read
//! the AST and what lowering resolved (names, constant conditions), and
//! never change a decision; a finding that makes a policy
//! unusable (any code outside PCL3xx) cannot be lowered or allowed, by an
//! option or by a pragma.

use crate::ast::{
    children, ActionClass, BinOp, Expr, ExprKind, File, Item, Outcome, PolicyDecl, PrincipalValue,
    Span, Stmt,
};
use crate::diagnostics::{Code, Finding, Severity, Source};
use crate::limits::Limits;
use crate::load as bundle;
use crate::lower::{self, Resolution, Site, Unit};
use crate::value::glob_match;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

mod actions;
mod bare;
mod constant;
mod descriptors;
mod duplicates;
mod err;
mod facts;
mod overruled;
mod pragmas;
mod quantifier;
mod request_shape;
mod secrets;
mod shape_keys;
mod unauthenticated;
mod unused;
mod values;

use actions::*;
pub use err::LintError;
use pragmas::*;
use secrets::*;

/// What an option or pragma sets a code to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Not reported.
    Allow,
    /// Reported; does not fail the check.
    Warn,
    /// Reported as an error; fails the check.
    Deny,
}

impl Level {
    fn apply(self) -> Option<Severity> {
        match self {
            Level::Allow => None,
            Level::Warn => Some(Severity::Warning),
            Level::Deny => Some(Severity::Error),
        }
    }

    fn parse(word: &str) -> Option<Level> {
        match word {
            "allow" => Some(Level::Allow),
            "warn" => Some(Level::Warn),
            "deny" => Some(Level::Deny),
            _ => None,
        }
    }
}

/// Severity options for a check, as `--deny`, `--allow` and `--warn` set them.
#[derive(Clone, Debug, Default)]
pub struct Options {
    levels: HashMap<Code, Level>,
    warnings: Option<Level>,
    /// Resource limits for loading the files.
    pub limits: Limits,
}

impl Options {
    /// Sets `what` (a code such as `PCL306`, its name such as
    /// `unused-definition`, or `warnings` for every warning) to `level`.
    /// Later calls win over earlier ones.
    pub fn set(&mut self, what: &str, level: Level) -> Result<(), LintError> {
        if what == "warnings" {
            self.warnings = Some(level);
            return Ok(());
        }
        let code = Code::parse(what).ok_or_else(|| LintError::UnknownCode(what.to_string()))?;
        if !code.adjustable() && level != Level::Deny {
            return Err(LintError::NotAdjustable(code));
        }
        self.levels.insert(code, level);
        Ok(())
    }

    /// The severity of a finding of `code`: the pragma over the code's
    /// option over its default, then `warnings` over whatever is a warning.
    fn severity(&self, code: Code, pragma: Option<Level>) -> Option<Severity> {
        if !code.adjustable() {
            return Some(code.default_severity());
        }
        let level = pragma
            .or_else(|| self.levels.get(&code).copied())
            .unwrap_or(match code.default_severity() {
                Severity::Warning => Level::Warn,
                Severity::Error => Level::Deny,
            });
        match (level, self.warnings) {
            (Level::Warn, Some(all)) => all.apply(),
            _ => level.apply(),
        }
    }
}

/// The outcome of a check.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// How many files were checked (imports outside the paths not counted).
    pub files: usize,
    /// Every finding left after options, ordered by file, position and code.
    pub findings: Vec<Finding>,
    /// Paths inside the searched folders that were not checked, each with
    /// the reason (symlinks are never followed; see [`policy_files`]).
    pub skipped: Vec<String>,
}

impl Report {
    /// Findings at error severity.
    pub fn errors(&self) -> usize {
        self.count(Severity::Error)
    }

    /// Findings at warning severity.
    pub fn warnings(&self) -> usize {
        self.count(Severity::Warning)
    }

    fn count(&self, severity: Severity) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .count()
    }

    /// `checked 3 files: 1 error, 2 warnings`.
    pub fn summary(&self) -> String {
        let plural = |n: usize, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
        format!(
            "checked {}: {}, {}",
            plural(self.files, "file"),
            plural(self.errors(), "error"),
            plural(self.warnings(), "warning")
        )
    }
}

/// Checks every `.pcl` file under `paths` (files are taken as given,
/// folders searched as [`policy_files`] does). Fails only when a path
/// cannot be read.
pub fn check_paths(paths: &[PathBuf], options: &Options) -> Result<Report, LintError> {
    let found = policy_files(paths)?;
    let loads = found
        .files
        .iter()
        .map(|path| Load::new(bundle::load_file(path, &options.limits), &options.limits))
        .collect::<Vec<_>>();
    let mut report = finish(loads, found.files.len(), options);
    report.skipped = found.skipped;
    Ok(report)
}

/// Checks policy text held in memory, named `name`; imports resolve
/// inside the current folder.
pub fn check_source(name: &str, text: &str, options: &Options) -> Report {
    let resolver = crate::load::resolve::FolderResolver::new(".");
    let load = Load::new(
        bundle::load_str(name, text, Some(&resolver), &options.limits),
        &options.limits,
    );
    finish(vec![load], 1, options)
}

/// The policy files [`policy_files`] found, and what it passed over.
#[derive(Clone, Debug, Default)]
pub struct PolicyFiles {
    /// Files as given, then the `.pcl` files of each folder, sorted.
    pub files: Vec<PathBuf>,
    /// Entries of the searched folders left out, each with the reason:
    /// symlinks (to files or folders, inside the tree or out of it) and
    /// `.pcl` entries that are not regular files (pipes, devices).
    pub skipped: Vec<String>,
}

/// The policy files under `paths`: files as given, folders searched
/// recursively for `.pcl` files, in sorted order. The search never follows
/// a symlink (it reads each entry's own metadata), so it cannot leave the
/// folder it was given, loop, or lead `fmt` to write through a link. An
/// error names a path that cannot be read, or says that there is nothing
/// to work on.
pub fn policy_files(paths: &[PathBuf]) -> Result<PolicyFiles, LintError> {
    let mut found = PolicyFiles::default();
    for path in paths {
        let meta = std::fs::metadata(path).map_err(|error| LintError::Unreadable {
            path: path.clone(),
            error,
        })?;
        if meta.is_dir() {
            collect(path, &mut found)?;
        } else {
            found.files.push(path.clone());
        }
    }
    if found.files.is_empty() {
        return Err(LintError::NoPolicyFiles(paths.to_vec()));
    }
    Ok(found)
}

fn collect(dir: &Path, found: &mut PolicyFiles) -> Result<(), LintError> {
    let mut entries = std::fs::read_dir(dir)
        .map_err(|error| LintError::Unreadable {
            path: dir.to_path_buf(),
            error,
        })?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect::<Vec<_>>();
    entries.sort();
    for entry in entries {
        // The entry's own metadata: a symlink is seen as a symlink.
        let Ok(meta) = std::fs::symlink_metadata(&entry) else {
            continue;
        };
        let policy = entry.extension().is_some_and(|e| e == "pcl");
        if meta.file_type().is_symlink() {
            if policy || std::fs::metadata(&entry).is_ok_and(|m| m.is_dir()) {
                found.skipped.push(format!(
                    "skipped `{}`: a symlink (symlinks are not followed)",
                    entry.display()
                ));
            }
        } else if meta.is_dir() {
            collect(&entry, found)?;
        } else if policy && meta.is_file() {
            found.files.push(entry);
        } else if policy {
            found
                .skipped
                .push(format!("skipped `{}`: not a regular file", entry.display()));
        }
    }
    Ok(())
}

/// One checked file with everything it imports.
struct Load {
    units: Vec<Unit>,
    findings: Vec<Finding>,
    /// What lowering resolved: the linter's names and constants.
    resolution: Resolution,
    /// Whether every file loaded (then the checked file is the last unit
    /// and can be linted).
    loaded: bool,
}

impl Load {
    fn new((units, mut findings): (Vec<Unit>, Vec<Finding>), limits: &Limits) -> Load {
        let loaded = !findings.iter().any(|f| f.severity == Severity::Error);
        let mut resolution = Resolution::default();
        if loaded {
            let lowered = lower::lower_resolved(&units, limits);
            findings.extend(lowered.findings);
            resolution = lowered.resolution;
        }
        Load {
            units,
            findings,
            resolution,
            loaded,
        }
    }
}

fn finish(loads: Vec<Load>, files: usize, options: &Options) -> Report {
    // A definition is used when a name in any file checked resolves to it
    // (a let of an imported file may be used only by the importer).
    let used: HashSet<Site> = loads.iter().flat_map(|l| l.resolution.used()).collect();
    let mut raw = Vec::new();
    let mut sources: HashMap<String, (Source, Vec<Span>)> = HashMap::new();
    for load in &loads {
        raw.extend(load.findings.iter().cloned());
        for unit in &load.units {
            sources
                .entry(unit.source.name.to_string())
                .or_insert_with(|| (unit.source.clone(), anchors(&unit.file)));
        }
        if let (true, Some(entry)) = (load.loaded, load.units.last()) {
            let mut linter = Linter::new(&load.units, &entry.source, &load.resolution, &used);
            linter.file(&entry.file);
            raw.extend(linter.findings);
        }
    }
    let mut pragmas: HashMap<String, Vec<Pragma>> = HashMap::new();
    for (name, (source, anchors)) in &sources {
        let (list, problems) = pragmas_of(source, anchors);
        pragmas.insert(name.clone(), list);
        raw.extend(problems);
    }
    let mut seen = HashSet::new();
    let mut findings = Vec::new();
    for mut f in raw {
        let file = f.file().unwrap_or("").to_string();
        if !seen.insert((file.clone(), f.span, f.code, f.message.clone())) {
            continue;
        }
        let pragma = pragmas.get(&file).and_then(|list| {
            list.iter()
                .filter(|p| p.codes.contains(&f.code) && p.covers(f.span))
                .min_by_key(|p| p.scope.len())
                .map(|p| p.level)
        });
        if let Some(severity) = options.severity(f.code, pragma) {
            f.severity = severity;
            findings.push(f);
        }
    }
    findings.sort_by(|a, b| {
        (a.file(), a.span.start, a.code, &a.message).cmp(&(
            b.file(),
            b.span.start,
            b.code,
            &b.message,
        ))
    });
    Report {
        files,
        findings,
        skipped: Vec::new(),
    }
}

/// What a constant condition guards.
#[derive(Clone, Copy)]
enum Guards {
    /// A statement's `when`.
    Statement,
    /// An `if`'s branches.
    Branch,
}

/// How deep a credential is followed through lets.
const CREDENTIAL_DEPTH: usize = 16;

struct Linter<'a> {
    source: &'a Source,
    /// What lowering resolved names to, and the constant conditions.
    resolution: &'a Resolution,
    /// Definitions some name resolves to, in any file checked.
    used: &'a HashSet<Site>,
    /// Declared action names, and whether `actions: *` opens the set.
    actions: Vec<&'a str>,
    open_set: bool,
    /// The value of every `let` (file-level and in blocks), by the site of
    /// its name: a name resolved to one holds a credential when its value does.
    lets: HashMap<Site, &'a Expr>,
    /// The policy whose statements are being linted (`None`: a rule, a
    /// let or `authenticate`, which run for any action).
    current_policy: Option<&'a PolicyDecl>,
    /// Kinds, shapes and policies of the whole set, for the trap lints.
    facts: facts::Facts<'a>,
    /// Request roots already reported as undeclared (`PCL313`).
    undeclared_reported: HashSet<&'a str>,
    findings: Vec<Finding>,
}

impl<'a> Linter<'a> {
    fn new(
        units: &'a [Unit],
        source: &'a Source,
        resolution: &'a Resolution,
        used: &'a HashSet<Site>,
    ) -> Self {
        let mut linter = Linter {
            source,
            resolution,
            used,
            actions: Vec::new(),
            open_set: false,
            lets: HashMap::new(),
            current_policy: None,
            facts: facts::Facts::new(units),
            undeclared_reported: HashSet::new(),
            findings: Vec::new(),
        };
        let mut declared = HashSet::new();
        for item in units.iter().flat_map(|u| &u.file.items) {
            if let Item::Actions { names, any, .. } = item {
                linter.open_set |= *any;
                for name in names {
                    if declared.insert(name.name.as_str()) {
                        linter.actions.push(&name.name);
                    }
                }
            }
        }
        for unit in units {
            let file = &unit.source.name;
            for item in &unit.file.items {
                let body = match item {
                    Item::Let { name, value, .. } => {
                        linter.lets.insert((file.clone(), name.span.start), value);
                        continue;
                    }
                    Item::Policy(p) => &p.body,
                    Item::Authenticate { body, .. } => body,
                    _ => continue,
                };
                for stmt in body {
                    if let Stmt::Let { name, value, .. } = stmt {
                        linter.lets.insert((file.clone(), name.span.start), value);
                    }
                }
            }
        }
        linter
    }

    /// The site of `span` in the file being linted.
    fn site(&self, span: Span) -> Site {
        (self.source.name.clone(), span.start)
    }

    fn report(&mut self, finding: Finding) {
        self.findings.push(finding.in_source(self.source));
    }

    fn file(&mut self, file: &'a File) {
        let mut declared: HashMap<&str, (Span, ActionClass)> = HashMap::new();
        for item in &file.items {
            match item {
                Item::Actions { names, class, .. } => {
                    for name in names {
                        // Two classes for one action is PCL214, not a duplicate.
                        if let Some((first, _)) = declared
                            .insert(&name.name, (name.span, *class))
                            .filter(|(_, c)| c == class)
                        {
                            self.report(
                                Finding::new(
                                    Code::DuplicateEntry,
                                    name.span,
                                    format!("action `{}` is declared twice", name.name),
                                )
                                .label("declared again here")
                                .also(first, "first declared here")
                                .help("remove one of them"),
                            );
                        }
                    }
                }
                Item::Undeclared {
                    reason: Some(e), ..
                } => self.expr(e),
                Item::Shape { fields, .. } => self.shape_keys(fields),
                Item::Let { name, value, .. } => {
                    self.unused(&name.name, name.span, "let");
                    self.clear_text_binding(&name.name, value);
                    self.current_policy = None;
                    self.expr(value);
                }
                Item::Graph(g) => self.unused(&g.name.name, g.name.span, "graph"),
                Item::Rule(rule) => {
                    self.unused(&rule.name.name, rule.name.span, "rule");
                    self.current_policy = None;
                    self.expr(&rule.body);
                }
                Item::Authenticate { body, .. } => {
                    self.current_policy = None;
                    self.block(body, true);
                }
                Item::Policy(policy) => {
                    self.current_policy = Some(policy);
                    self.block(&policy.body, policy.ordered);
                    self.overruled_allows(policy);
                }
                _ => {}
            }
        }
    }

    fn block(&mut self, body: &'a [Stmt], ordered: bool) {
        // Each statement's condition as lowering folded it: `Some(true)`
        // when it always holds (or there is none), `Some(false)` when it
        // never does.
        let folded: Vec<Option<bool>> = body
            .iter()
            .map(|stmt| match stmt {
                Stmt::Decide(d) => match &d.when {
                    None => Some(true),
                    Some(w) => self.resolution.condition(&self.site(w.span)),
                },
                _ => None,
            })
            .collect();
        // An unconditional refusal anywhere pre-empts every allow of an
        // unordered block.
        let refusal = body.iter().zip(&folded).find_map(|(stmt, f)| match stmt {
            Stmt::Decide(d) if *f == Some(true) && d.outcome != Outcome::Allow => Some(&**d),
            _ => None,
        });
        let mut decided_before: Option<Span> = None;
        for (stmt, folded) in body.iter().zip(folded) {
            match stmt {
                Stmt::Let { name, value, .. } => {
                    self.expr(value);
                    if !name.name.starts_with('_') && !self.used.contains(&self.site(name.span)) {
                        self.report(
                            Finding::new(
                                Code::UnusedDefinition,
                                name.span,
                                format!("let `{}` is never used", name.name),
                            )
                            .label("defined here")
                            .help("remove it"),
                        );
                    }
                    self.clear_text_binding(&name.name, value);
                }
                Stmt::Claims { value, .. } => self.expr(value),
                Stmt::Decide(d) => {
                    let what = statement_name(d);
                    if let Some(first) = decided_before {
                        self.report(
                            Finding::new(
                                Code::UnreachableStatement,
                                d.span,
                                format!("{what} is never reached"),
                            )
                            .label("never reached")
                            .also(first, "this statement always decides first")
                            .help("remove it, or give the earlier statement a `when` condition"),
                        );
                    } else if !ordered && d.outcome == Outcome::Allow {
                        if let Some(refusal) = refusal {
                            self.report(
                                Finding::new(
                                    Code::UnreachableStatement,
                                    d.span,
                                    format!("{what} can never decide"),
                                )
                                .label("never decides")
                                .also(refusal.span, format!("this statement always decides {}, and a refusal wins over an allow", refusal.outcome))
                                .help("give the refusal a `when` condition, or make the policy `in order`"),
                            );
                        }
                    }
                    self.unauthenticated_never_fires(d);
                    if let Some(when) = &d.when {
                        self.constant_condition(when, folded, Guards::Statement);
                        self.expr(when);
                    }
                    for e in [&d.reason, &d.with].into_iter().flatten() {
                        self.expr(e);
                    }
                    if ordered && decided_before.is_none() && folded == Some(true) {
                        decided_before = Some(d.span);
                    }
                }
            }
        }
    }

    fn expr(&mut self, e: &'a Expr) {
        self.quantifier_body(e);
        self.bare_condition(e);
        self.descriptors(e);
        self.request_read(e);
        match &e.kind {
            ExprKind::Binary(op, left, right) => {
                self.comparison(*op, left, right, e.span);
                self.action_pattern(*op, left, right);
                self.value_text(*op, left, right);
            }
            ExprKind::If(cond, _, _) => {
                let folded = self.resolution.condition(&self.site(cond.span));
                self.constant_condition(cond, folded, Guards::Branch);
            }
            ExprKind::List(items) => self.duplicates(items),
            ExprKind::Match(subject, arms) if is_action(subject) => {
                for p in arms.iter().flat_map(|a| a.patterns.iter().flatten()) {
                    if let ExprKind::Str(s) = &p.kind {
                        self.impossible_action(s, p.span, "this arm never matches");
                    }
                }
            }
            ExprKind::Call(name, args) if name.name == "secret_eq" => {
                if let Some(digest) = args.get(1) {
                    if let ExprKind::Str(s) = &digest.kind {
                        if !is_digest(s) {
                            self.report(
                                Finding::new(
                                    Code::SecretInClear,
                                    digest.span,
                                    "the expected secret is written in clear",
                                )
                                .label("not a SHA-256 digest")
                                .help("store the secret's SHA-256 digest (64 hex digits) in data, and pass that"),
                            );
                        }
                    }
                }
            }
            ExprKind::Record(fields) => {
                for (key, value) in fields {
                    self.clear_text_binding(&key.name, value);
                }
            }
            _ => {}
        }
        for child in children(e) {
            self.expr(child);
        }
    }
}

fn statement_name(d: &crate::ast::Decide) -> String {
    match &d.label {
        Some(label) => format!("statement `{}`", label.name),
        None => format!("this `{}` statement", d.outcome),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(text: &str) -> Vec<&'static str> {
        check_source("t.pcl", text, &Options::default())
            .findings
            .iter()
            .map(|f| f.code.code())
            .collect()
    }

    #[test]
    fn credential_names_skip_what_describes_a_credential() {
        for yes in [
            "password",
            "X-API-Key",
            "Authorization",
            "refresh_token",
            "client-secret",
        ] {
            assert!(credential_name(yes), "{yes}");
        }
        for no in [
            "token_type",
            "api_key_id",
            "key",
            "name",
            "secret_name",
            "roles",
        ] {
            assert!(!credential_name(no), "{no}");
        }
    }

    #[test]
    fn credentials_checked_in_constant_time_or_for_presence_are_clean() {
        let text = "actions: read\npolicy p for read {\n  let key = context.headers[\"X-API-Key\"]\n  \
                    deny when key == null or key == \"\"\n  allow when secret_eq(key, data.hash)\n}\n";
        assert_eq!(codes(text), Vec::<&str>::new());
    }

    #[test]
    fn folding_stops_at_anything_the_request_decides() {
        let text = "actions: read\nlet on = true\npolicy p for read {\n  \
                    allow when on and principal.admin == true\n  \
                    deny when (on or principal.x == 1) and principal.y == 2\n}\n";
        assert_eq!(codes(text), Vec::<&str>::new());
        let text = "actions: read\nlet on = true\npolicy p for read {\n  \
                    allow when principal.admin == true or on\n}\n";
        assert_eq!(codes(text), ["PCL304"]);
    }

    #[test]
    fn a_local_name_hides_a_constant_of_the_same_name() {
        let text = "actions: read\nlet flag = false\npolicy p for read {\n  \
                    allow when any flag in principal.flags: flag == true\n  \
                    deny when flag\n}\n";
        assert_eq!(codes(text), ["PCL303"]);
    }

    #[test]
    fn a_scheme_check_on_a_credential_is_not_a_secret() {
        let text = "actions: read\npolicy p for read {\n  \
                    allow when context.headers[\"Authorization\"] like \"Bearer *\" \
                    and secret_eq(strip_prefix(context.headers[\"Authorization\"], \"Bearer \"), data.h)\n}\n";
        assert_eq!(codes(text), Vec::<&str>::new());
    }

    #[test]
    fn a_block_let_hides_a_file_level_constant_for_the_statements_after_it() {
        // This test once asserted that the block's let hid the constant in
        // every condition of the block. Decisions never did that: a block
        // `let` names a value for the statements after it (docs/language.md
        // 9.2), so `when closed` before it reads the constant `true` and the
        // policy always denies. The linter now reads lowering's resolution
        // and says so, where it used to say nothing.
        let before = "actions: read\nlet closed = true\npolicy p for read {\n  \
                      deny \"closed\" when closed\n  let closed = resource.closed == true\n  \
                      allow when principal != null\n}\n";
        let codes_before = codes(before);
        assert!(codes_before.contains(&"PCL304"), "{codes_before:?}");
        let after = "actions: read\nlet closed = true\npolicy p for read {\n  \
                     let closed = resource.closed == true\n  deny \"closed\" when closed\n  \
                     allow when principal != null\n}\n";
        // No PCL304: after the block's let, `closed` is the let, not `true`
        // (and the file-level let is then never used).
        assert_eq!(codes(after), vec!["PCL306"]);
    }

    #[test]
    fn folding_compares_uuids_exactly_as_decisions_do() {
        let upper = "\"4F1C1B9E-2F4B-4C57-9A3E-1F2A3B4C5D6E\"";
        let lower = "\"4f1c1b9e-2f4b-4c57-9a3e-1f2a3b4c5d6e\"";
        let text = format!(
            "actions: read\nlet owner = {upper}\npolicy p for read {{\n  \
             deny \"x\" when owner == {lower} and principal == null\n  \
             allow when owner in [{lower}]\n}}\n"
        );
        // Exact: a UUID in upper case is not the same string in lower case.
        assert_eq!(codes(&text), ["PCL303", "PCL303"]);
    }

    #[test]
    fn malformed_pragmas_say_what_is_wrong() {
        for (text, wanted) in [
            ("allow(PCL306", "is not closed"),
            ("allow()", "names no code"),
            ("ignore(PCL306)", "unknown pragma `ignore`"),
            ("PCL306", "expected `allow(...)`"),
            ("", "says nothing"),
        ] {
            let err = parse_directives(text).unwrap_err().to_string();
            assert!(err.contains(wanted), "{text}: {err}");
        }
        assert_eq!(
            parse_directives("allow(PCL302, unused-definition) deny(PCL308)").unwrap(),
            [
                (
                    Level::Allow,
                    vec!["PCL302".to_string(), "unused-definition".to_string()]
                ),
                (Level::Deny, vec!["PCL308".to_string()]),
            ]
        );
    }

    #[test]
    fn open_action_sets_make_no_action_impossible() {
        let text = "actions: *\npolicy p {\n  allow when action == \"anything\"\n}\n";
        assert_eq!(codes(text), Vec::<&str>::new());
    }

    #[test]
    fn options_refuse_to_lower_load_errors() {
        let mut options = Options::default();
        assert!(options.set("PCL206", Level::Allow).is_err());
        assert!(options.set("PCL206", Level::Deny).is_ok());
        assert!(options.set("nope", Level::Deny).is_err());
        assert!(options.set("warnings", Level::Deny).is_ok());
        assert_eq!(
            options.severity(Code::UnusedDefinition, None),
            Some(Severity::Error)
        );
        assert_eq!(
            options.severity(Code::UnusedDefinition, Some(Level::Allow)),
            None
        );
    }
}
