//! The layout's invariants, checked: data flows one way through the stages
//! (a stage never imports a later one), and no source file grows past
//! 1,000 lines. See docs/architecture.md for the code map.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its place in the pipeline: a module
/// may use modules of its own rank or lower, never higher.
const RANKS: &[(&str, u8)] = &[
    // Shared by every stage: spans, limits, codes, values, requests.
    ("source", 0),
    ("limits", 0),
    ("diagnostics", 0),
    ("value", 0),
    ("request", 0),
    // Shared types: the AST the parser builds, the IR lowering builds.
    ("ast", 1),
    ("ir", 1),
    ("syntax", 2),
    ("load", 3),
    ("lower", 4),
    ("eval", 5),
    // Above the pipeline: the compiled policy set, partial evaluation.
    ("policy", 6),
    ("filter", 6),
    ("tools", 7),
    ("cli", 8),
];

/// The facade's re-exports, by the module that defines them.
const ROOT_ITEMS: &[(&str, &str)] = &[
    ("Outcome", "ast"),
    ("Code", "diagnostics"),
    ("Finding", "diagnostics"),
    ("PolicyError", "diagnostics"),
    ("Severity", "diagnostics"),
    ("DecidingStatement", "ir"),
    ("Decision", "eval"),
    ("EvalError", "eval"),
    ("Explanation", "eval"),
    ("StatementExplanation", "eval"),
    ("StatementStatus", "eval"),
    ("Condition", "eval"),
    ("ConditionResult", "eval"),
    ("SeenValue", "eval"),
    ("secret_comparisons", "eval"),
    ("Limits", "limits"),
    ("read_policy", "load"),
    ("FolderResolver", "load"),
    ("ImportError", "load"),
    ("ImportResolver", "load"),
    ("ResolvedImport", "load"),
    ("PolicySet", "policy"),
    ("Data", "request"),
    ("Request", "request"),
    ("RequestBuilder", "request"),
    ("RequestError", "request"),
    ("Source", "source"),
    ("Span", "source"),
    ("Record", "value"),
    ("Value", "value"),
    ("unstable", "tools"),
];

fn rank(module: &str) -> Option<u8> {
    RANKS.iter().find(|(m, _)| *m == module).map(|(_, r)| *r)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a file of `src/` belongs to (`None` for the crate
/// root and the binary).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_string_lossy();
    let name = first.trim_end_matches(".rs").to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The file's text without its unit tests (a trailing `#[cfg(test)]`
/// module may use anything).
fn without_tests(text: &str) -> &str {
    match text.find("#[cfg(test)]\nmod ") {
        Some(at) => &text[..at],
        None => text,
    }
}

/// Every top-level module a text names through `crate::`.
fn crate_uses(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        rest = &rest[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for part in group[..end].split(',') {
                let head: String = part
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !head.is_empty() {
                    out.push(head);
                }
            }
        } else {
            let head: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !head.is_empty() {
                out.push(head);
            }
        }
    }
    out
}

#[test]
fn no_stage_imports_a_later_one() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    files.sort();
    let mut reach_backs = Vec::new();
    let mut checked = 0;
    for file in &files {
        let Some(module) = module_of(&src, file) else {
            continue;
        };
        let Some(own) = rank(&module) else {
            reach_backs.push(format!(
                "{}: module `{module}` has no rank in tests/architecture.rs",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).unwrap();
        // Doc links may name anything; code may not.
        let code: String = without_tests(&text)
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for used in crate_uses(&code) {
            checked += 1;
            let target = ROOT_ITEMS
                .iter()
                .find(|(item, _)| *item == used)
                .map_or(used.as_str(), |(_, m)| m);
            match rank(target) {
                Some(r) if r > own => reach_backs.push(format!(
                    "{}: `{module}` (rank {own}) uses `crate::{used}` (`{target}`, rank {r})",
                    file.display()
                )),
                Some(_) => {}
                None => reach_backs.push(format!(
                    "{}: `crate::{used}` is neither a ranked module nor a known re-export",
                    file.display()
                )),
            }
        }
    }
    assert!(checked > 50, "too few imports found: {checked}");
    assert!(reach_backs.is_empty(), "{}", reach_backs.join("\n"));
}

#[test]
fn the_import_scanner_sees_grouped_and_plain_paths() {
    assert_eq!(
        crate_uses("use crate::{ast::Span, Data};\nlet x = crate::eval::decide();"),
        vec!["ast", "Data", "eval"]
    );
    assert_eq!(
        without_tests("a\n#[cfg(test)]\nmod tests { crate::cli }"),
        "a\n"
    );
}

#[test]
fn no_source_file_is_over_a_thousand_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 20);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let lines = std::fs::read_to_string(f).unwrap().lines().count();
            (lines > 1000).then(|| format!("{}: {lines} lines", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "split these by concern: {}",
        long.join(", ")
    );
}
