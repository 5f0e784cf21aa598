//! Help lines link the documentation by its stable address
//! (`homepage` in Cargo.toml, `/docs/<page>#<anchor>`), never by a path in
//! this repository: every link the source makes names a page of `docs/`
//! and a heading on it, and every code's `help_url` names its section.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

use portcullis::unstable::diagnostics::{Code, DOCS};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// GitHub's anchor for a heading: lower case, punctuation dropped, spaces
/// as hyphens.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(page: &str) -> Vec<String> {
    let text = std::fs::read_to_string(root().join(format!("docs/{page}.md")))
        .unwrap_or_else(|e| panic!("docs/{page}.md: {e}"));
    text.lines()
        .filter(|l| l.starts_with('#'))
        .map(|l| slug(l.trim_start_matches('#')))
        .collect()
}

fn check(link: &str) -> Result<(), String> {
    let (page, anchor) = link.split_once('#').unwrap_or((link, ""));
    let found = anchors(page);
    if anchor.is_empty() || found.iter().any(|a| a == anchor) {
        Ok(())
    } else {
        Err(format!("no heading `#{anchor}` in docs/{page}.md"))
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_documentation_address_is_the_crates_metadata() {
    let manifest = std::fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains(&format!("documentation = \"{DOCS}\"")),
        "Cargo.toml's documentation is not {DOCS}"
    );
    assert!(DOCS.starts_with("https://"));
}

#[test]
fn every_link_in_help_names_a_heading_of_the_docs() {
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    let mut failures = Vec::new();
    let mut links = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (at, _) in text.match_indices("docs_url(\"") {
            let rest = &text[at + 10..];
            let link = &rest[..rest.find('"').unwrap()];
            links += 1;
            if let Err(e) = check(link) {
                failures.push(format!("{}: {e}", file.display()));
            }
        }
        // No help line sends a user to a file of this repository.
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let code = line.split("//").next().unwrap_or("");
            if code.contains("docs/") && code.contains(".md") {
                failures.push(format!("{}: `{}`", file.display(), line.trim()));
            }
        }
    }
    assert!(links >= 8, "only {links} links found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_code_links_its_section() {
    for code in Code::ALL {
        let url = code.help_url();
        let link = url.strip_prefix(DOCS).unwrap();
        check(link).unwrap();
    }
}
