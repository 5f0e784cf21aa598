//! The documentation's policy examples are laid out as `portcullis fmt`
//! lays them out: every ```pcl block of the docs and the README that parses
//! is already formatted (a bad example that does not parse is skipped; a
//! block that is not a bad example must parse).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use portcullis::unstable::fmt::format_source;
use std::path::PathBuf;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The ```pcl blocks of a markdown file: info string, line, text.
fn pcl_blocks(markdown: &str) -> Vec<(String, usize, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        match open.as_mut() {
            Some(_) if trimmed == "```" => {
                out.push(open.take().unwrap());
                continue;
            }
            Some(block) => {
                block.2.push_str(line);
                block.2.push('\n');
            }
            None => {
                if let Some(info) = trimmed.strip_prefix("```pcl") {
                    open = Some((info.trim().to_string(), i + 1, String::new()));
                }
            }
        }
    }
    out
}

#[test]
fn every_policy_example_of_the_docs_is_formatted() {
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    files.push(root().join("README.md"));
    files.sort();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (info, line, block) in pcl_blocks(&text) {
            let place = format!("{}:{line}", file.display());
            match format_source(&place, &block) {
                Ok(formatted) if formatted == block => checked += 1,
                Ok(formatted) => failures.push(format!(
                    "{place} is not formatted; `portcullis fmt` gives:\n{formatted}"
                )),
                Err(_) if info.contains("bad") => {}
                Err(e) => failures.push(format!("{place} does not parse: {e:?}")),
            }
        }
    }
    assert!(checked > 100, "only {checked} examples checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
