//! docs/diagnostics.md is true: every code of the registry has exactly one
//! section (`## PCL206 type-mismatch`), in registry order, and a row in the
//! table of codes; every section has a bad and a fixed example, and the
//! examples do what the page says.
//!
//! Fenced blocks in a code's section say what they are in their info
//! string: `LANG ROLE [WORD...]`, where ROLE is `bad` or `fixed` and the
//! words are
//!
//! - `file=NAME`: another file of the example, written as NAME into the
//!   example's temporary folder; the example's policy is then checked as
//!   `policy.pcl` in that folder, so imports resolve;
//! - `request`, `data` (on `json` blocks): the example's request or data;
//! - `count=N` (on a bad `pcl` block): the code is reported exactly N times;
//! - `max_nesting=N`, `max_eval_steps=N` (on `pcl` blocks): a limit to run
//!   the example with instead of the default.
//!
//! How an example is run depends on the section's code:
//!
//! - PCL1xx-PCL3xx: `portcullis::unstable::lint` checks the policy with default
//!   options; the bad one must report the code, the fixed one nothing;
//! - PCL4xx: `Request::from_json_str` must reject the bad request with the
//!   code and accept the fixed one;
//! - PCL5xx: both policies must pass `check` without findings and compile;
//!   deciding the bad request must deny with `Decision.error` carrying the
//!   code, and the fixed one must decide without an error;
//! - PCL6xx: both policies must pass `check` without findings; reading and
//!   checking the `mapping` block, computing the filter and rendering it
//!   must fail with the code for the bad example and succeed for the fixed.
//!
//! Outside the code sections, a `pcl` block is an example file that must
//! check without findings; when it holds pragmas, it must report findings
//! once they are removed. A block marked `output=FORMAT example=CODE` must
//! be exactly what `check` renders in FORMAT for the bad example of CODE
//! named `policies/docs.pcl`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::unstable::lint::{self, Options, Report};
use portcullis::unstable::output::{self, Format};
use portcullis::{Code, Data, Limits, PolicySet, Request};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const DOC: &str = "docs/diagnostics.md";

/// A fenced block of the page.
#[derive(Debug)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The words of the info string.
    info: Vec<String>,
    text: String,
}

/// A `## ` section: its heading and its blocks.
#[derive(Debug)]
struct Section {
    heading: String,
    line: usize,
    blocks: Vec<Block>,
}

fn sections(markdown: &str) -> Vec<Section> {
    let mut out = vec![Section {
        heading: String::new(),
        line: 0,
        blocks: Vec::new(),
    }];
    let mut open: Option<Block> = None;
    for (i, line) in markdown.lines().enumerate() {
        if let Some(block) = open.as_mut() {
            if line.trim() == "```" {
                let block = open.take().unwrap();
                out.last_mut().unwrap().blocks.push(block);
            } else {
                block.text.push_str(line);
                block.text.push('\n');
            }
        } else if let Some(info) = line.strip_prefix("```") {
            open = Some(Block {
                line: i + 1,
                info: info.split_whitespace().map(str::to_string).collect(),
                text: String::new(),
            });
        } else if let Some(heading) = line.strip_prefix("## ") {
            out.push(Section {
                heading: heading.trim().to_string(),
                line: i + 1,
                blocks: Vec::new(),
            });
        }
    }
    if let Some(block) = open {
        panic!(
            "{DOC}: the block opened at line {} is never closed",
            block.line
        );
    }
    out
}

/// The code a heading names, `PCL206 type-mismatch`, if it looks like one.
fn heading_code(heading: &str) -> Option<(&str, &str)> {
    let (code, name) = heading.split_once(' ')?;
    let digits = code.strip_prefix("PCL")?;
    (digits.len() == 3 && digits.bytes().all(|b| b.is_ascii_digit())).then_some((code, name))
}

/// One side (bad or fixed) of a code's examples.
#[derive(Default)]
struct Example {
    policy: Option<String>,
    files: Vec<(String, String)>,
    request: Option<String>,
    data: Option<String>,
    /// A command line and what it prints (the PCL7xx codes).
    command: Option<String>,
    mapping: Option<String>,
    limits: Limits,
    /// How many times the bad policy reports the code, when the page says.
    count: Option<usize>,
    /// Line of the first block, for messages.
    line: usize,
}

/// The bad and fixed examples of a section, or what is wrong with them.
fn examples(section: &Section) -> Result<(Example, Example), String> {
    let mut bad = Example::default();
    let mut fixed = Example::default();
    for block in &section.blocks {
        let at = format!("{DOC}:{}", block.line);
        let lang = block.info.first().map(String::as_str).unwrap_or("");
        let example = match block.info.get(1).map(String::as_str) {
            Some("bad") => &mut bad,
            Some("fixed") => &mut fixed,
            _ => {
                return Err(format!(
                    "{at}: a block in a code's section needs `bad` or `fixed` after its language, found ```{}",
                    block.info.join(" ")
                ))
            }
        };
        if example.line == 0 {
            example.line = block.line;
        }
        let mut file = None;
        let mut part = None;
        for word in block.info.iter().skip(2) {
            match word.split_once('=') {
                Some(("file", name)) => file = Some(name.to_string()),
                Some(("count", n)) => {
                    example.count = Some(n.parse().map_err(|e| format!("{at}: {e}"))?);
                }
                Some(("max_nesting", n)) => {
                    example.limits.max_nesting = n.parse().map_err(|e| format!("{at}: {e}"))?;
                }
                Some(("max_eval_steps", n)) => {
                    example.limits.max_eval_steps = n.parse().map_err(|e| format!("{at}: {e}"))?;
                }
                None if word == "request" || word == "data" || word == "mapping" => {
                    part = Some(word.as_str())
                }
                _ => return Err(format!("{at}: unknown word `{word}` in the info string")),
            }
        }
        let text = block.text.clone();
        let slot = match (lang, part, file) {
            ("pcl", None, Some(name)) => {
                example.files.push((name, text));
                continue;
            }
            ("pcl", None, None) => &mut example.policy,
            ("json", Some("request"), None) => &mut example.request,
            ("json", Some("data"), None) => &mut example.data,
            ("text", None, None) => &mut example.command,
            ("json", Some("mapping"), None) => &mut example.mapping,
            _ => {
                return Err(format!(
                    "{at}: ```{} is not a policy, file, request or data block",
                    block.info.join(" ")
                ))
            }
        };
        if slot.replace(text).is_some() {
            return Err(format!("{at}: a second block of this kind in one example"));
        }
    }
    for (role, example) in [("bad", &bad), ("fixed", &fixed)] {
        if example.line == 0 {
            return Err(format!(
                "{DOC}:{}: `{}` has no {role} example",
                section.line, section.heading
            ));
        }
    }
    Ok((bad, fixed))
}

fn show(report: &Report) -> String {
    if report.findings.is_empty() {
        return "  (no findings)".to_string();
    }
    let mut out = String::new();
    for f in &report.findings {
        let (line, col) = f.line_col().unwrap_or((0, 0));
        let _ = writeln!(
            out,
            "  {}:{line}:{col}: {} {} ({:?}): {}",
            f.file().unwrap_or("?"),
            f.code.code(),
            f.code.name(),
            f.severity,
            f.message
        );
    }
    out
}

/// A temporary folder holding an example's files, removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "portcullis-diagnostics-doc-{}-{label}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `portcullis check` on an example's policy.
fn check(code: Code, role: &str, example: &Example) -> Result<Report, String> {
    let policy = example.policy.as_deref().ok_or_else(|| {
        format!(
            "{DOC}:{}: {code} {role}: no ```pcl {role} block",
            example.line
        )
    })?;
    let mut options = Options::default();
    options.limits = example.limits.clone();
    if example.files.is_empty() {
        return Ok(lint::check_source("policy.pcl", policy, &options));
    }
    let dir = TempDir::new(&format!("{}-{role}", code.code()));
    for (name, text) in &example.files {
        std::fs::write(dir.0.join(name), text).unwrap();
    }
    let entry = dir.0.join("policy.pcl");
    std::fs::write(&entry, policy).unwrap();
    lint::check_paths(&[entry], &options).map_err(|e| e.to_string())
}

/// Checks one code's examples; returns what is wrong.
fn run(code: Code, bad: &Example, fixed: &Example) -> Vec<String> {
    let mut problems = Vec::new();
    let group = code.code().as_bytes().get(3).copied().unwrap_or(b'0');
    match group {
        b'1'..=b'3' => {
            for (role, example) in [("bad", bad), ("fixed", fixed)] {
                match check(code, role, example) {
                    Err(e) => problems.push(e),
                    Ok(report) => {
                        let n = report.findings.iter().filter(|f| f.code == code).count();
                        if role == "bad" && n == 0 {
                            problems.push(format!(
                                "{DOC}:{}: {code} bad example does not report {code}; it reports:\n{}",
                                example.line,
                                show(&report)
                            ));
                        }
                        if let Some(want) = example.count.filter(|want| *want != n) {
                            problems.push(format!(
                                "{DOC}:{}: {code} example should report {code} {want} times, not {n}; it reports:\n{}",
                                example.line,
                                show(&report)
                            ));
                        }
                        if role == "fixed" && !report.findings.is_empty() {
                            problems.push(format!(
                                "{DOC}:{}: {code} fixed example is not clean; it reports:\n{}",
                                example.line,
                                show(&report)
                            ));
                        }
                    }
                }
            }
        }
        b'4' => {
            for (role, example) in [("bad", bad), ("fixed", fixed)] {
                let Some(text) = example.request.as_deref() else {
                    problems.push(format!(
                        "{DOC}:{}: {code} {role}: no ```json {role} request block",
                        example.line
                    ));
                    continue;
                };
                match (role, Request::from_json_str(text)) {
                    ("bad", Ok(r)) => problems.push(format!(
                        "{DOC}:{}: {code} bad request is accepted: {r:?}",
                        example.line
                    )),
                    ("bad", Err(e)) if e.code != code => problems.push(format!(
                        "{DOC}:{}: {code} bad request is rejected with {} instead: {e}",
                        example.line, e.code
                    )),
                    ("fixed", Err(e)) => problems.push(format!(
                        "{DOC}:{}: {code} fixed request is rejected with {}: {e}",
                        example.line, e.code
                    )),
                    _ => {}
                }
            }
        }
        b'5' => {
            for (role, example) in [("bad", bad), ("fixed", fixed)] {
                if let Err(e) = decide(code, role, example) {
                    problems.push(e);
                }
            }
        }
        b'6' => {
            for (role, example) in [("bad", bad), ("fixed", fixed)] {
                if let Err(e) = filter(code, role, example) {
                    problems.push(e);
                }
            }
        }
        // The tools' own errors come from a command line, not a policy: the
        // section shows the command and what it prints.
        b'7' => {
            for (role, example) in [("bad", bad), ("fixed", fixed)] {
                let shown = example.command.as_deref().unwrap_or("");
                if !shown.trim_start().starts_with("$ portcullis ") {
                    problems.push(format!(
                        "{DOC}:{}: {code} {role}: a ```text {role} block starting with `$ portcullis `",
                        example.line
                    ));
                }
            }
        }
        _ => problems.push(format!("{code}: no rule in this test for its group")),
    }
    problems
}

/// A PCL5xx example: a clean policy, then a decision.
fn decide(code: Code, role: &str, example: &Example) -> Result<(), String> {
    let at = format!("{DOC}:{}: {code} {role}", example.line);
    let report = check(code, role, example)?;
    if !report.findings.is_empty() {
        return Err(format!(
            "{at}: the policy should check clean (the error happens at decision time); it reports:\n{}",
            show(&report)
        ));
    }
    let policy = example.policy.as_deref().unwrap_or("");
    let set =
        PolicySet::from_named_source("policy.pcl", policy, Path::new("."), example.limits.clone())
            .map_err(|e| format!("{at}: the policy does not compile: {}", e.summary()))?;
    let text = example
        .request
        .as_deref()
        .ok_or_else(|| format!("{at}: no ```json {role} request block"))?;
    let request =
        Request::from_json_str(text).map_err(|e| format!("{at}: the request is rejected: {e}"))?;
    let data = match example.data.as_deref() {
        Some(text) => {
            Data::from_json_str(text).map_err(|e| format!("{at}: the data is rejected: {e}"))?
        }
        None => Data::empty(),
    };
    let decision = set.decide(&request, &data);
    match (role, &decision.error) {
        ("bad", Some(e)) if e.code == code && !decision.is_allowed() => Ok(()),
        ("bad", _) => Err(format!(
            "{at}: the decision should deny with error {code}; it is {:?} ({}) with error {:?}",
            decision.outcome, decision.reason, decision.error
        )),
        (_, None) => Ok(()),
        (_, Some(e)) => Err(format!(
            "{at}: the decision should not fail; it has error {} ({})",
            e.code, e.message
        )),
    }
}

/// A PCL6xx example: a clean policy, then a filter (and its SQL).
fn filter(code: Code, role: &str, example: &Example) -> Result<(), String> {
    use portcullis::filter::mapping::Mapping;
    use portcullis::filter::sql::{render, Dialect};
    let at = format!("{DOC}:{}: {code} {role}", example.line);
    let report = check(code, role, example)?;
    if !report.findings.is_empty() {
        return Err(format!(
            "{at}: the policy should check clean; it reports:\n{}",
            show(&report)
        ));
    }
    let policy = example.policy.as_deref().unwrap_or("");
    let set =
        PolicySet::from_named_source("policy.pcl", policy, Path::new("."), example.limits.clone())
            .map_err(|e| format!("{at}: the policy does not compile: {}", e.summary()))?;
    let text = example
        .request
        .as_deref()
        .ok_or_else(|| format!("{at}: no ```json {role} request block"))?;
    let request =
        Request::from_json_str(text).map_err(|e| format!("{at}: the request is rejected: {e}"))?;
    let data = match example.data.as_deref() {
        Some(text) => set
            .load_data(&serde_json::from_str(text).map_err(|e| format!("{at}: {e}"))?)
            .map_err(|e| format!("{at}: the data is rejected: {e}"))?,
        None => Data::empty(),
    };
    let outcome = (|| {
        let mapping = match example.mapping.as_deref() {
            Some(text) => {
                let m = Mapping::from_json_str(text)?;
                m.check(&set, &request.action)?;
                Some(m)
            }
            None => None,
        };
        let filter = match &mapping {
            Some(m) => set.filter_with(&request, &data, &m.schema())?,
            None => set.filter(&request, &data)?,
        };
        if let Some(m) = &mapping {
            render(&filter, m, Dialect::Sqlite)?;
        }
        Ok::<(), portcullis::FilterError>(())
    })();
    match (role, outcome) {
        ("bad", Err(e)) if e.code == code => Ok(()),
        ("bad", Err(e)) => Err(format!(
            "{at}: fails with {} instead: {}",
            e.code, e.message
        )),
        ("bad", Ok(())) => Err(format!("{at}: gives a filter; it should fail with {code}")),
        (_, Ok(())) => Ok(()),
        (_, Err(e)) => Err(format!(
            "{at}: should give a filter; fails with {}: {}",
            e.code, e.message
        )),
    }
}

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(DOC))
        .unwrap_or_else(|e| panic!("cannot read {DOC}: {e}"))
}

#[test]
fn every_code_has_one_section_in_registry_order() {
    let doc = doc();
    let headings: Vec<(String, String, usize)> = sections(&doc)
        .iter()
        .filter_map(|s| {
            heading_code(&s.heading).map(|(c, n)| (c.to_string(), n.to_string(), s.line))
        })
        .collect();
    let mut problems = Vec::new();
    for (code, name, line) in &headings {
        match Code::parse(code) {
            None => problems.push(format!("{DOC}:{line}: a section for unknown code {code}")),
            Some(c) if c.name() != name => problems.push(format!(
                "{DOC}:{line}: {code} is named `{}`, the heading says `{name}`",
                c.name()
            )),
            Some(_) => {}
        }
    }
    for c in Code::ALL {
        let n = headings
            .iter()
            .filter(|(code, ..)| code == c.code())
            .count();
        if n != 1 {
            problems.push(format!(
                "{DOC}: {} {} has {n} sections, expected exactly one (`## {} {}`)",
                c.code(),
                c.name(),
                c.code(),
                c.name()
            ));
        }
    }
    let order: Vec<&str> = headings.iter().map(|(c, ..)| c.as_str()).collect();
    let registry: Vec<&str> = Code::ALL.iter().map(|c| c.code()).collect();
    if problems.is_empty() && order != registry {
        problems.push(format!(
            "{DOC}: the sections are not in registry order:\n  page:     {order:?}\n  registry: {registry:?}"
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_table_lists_every_code_with_its_name_and_default_severity() {
    let doc = doc();
    let mut problems = Vec::new();
    for c in Code::ALL {
        let severity = match c.default_severity() {
            portcullis::Severity::Error => "error",
            portcullis::Severity::Warning => "warning",
        };
        let row = format!(
            "| [{}](#{}-{}) | {} | {severity} |",
            c.code(),
            c.code().to_lowercase(),
            c.name(),
            c.name()
        );
        let rows = doc.lines().filter(|l| l.starts_with(&row)).count();
        if rows != 1 {
            problems.push(format!(
                "{DOC}: {} {}: expected one table row starting `{row}`, found {rows}",
                c.code(),
                c.name()
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_example_does_what_the_page_says() {
    let doc = doc();
    let mut problems = Vec::new();
    let mut ran = 0;
    for section in sections(&doc) {
        let Some((code, _)) = heading_code(&section.heading) else {
            continue;
        };
        let Some(code) = Code::parse(code) else {
            continue; // reported by the registry test
        };
        match examples(&section) {
            Err(e) => problems.push(e),
            Ok((bad, fixed)) => {
                problems.extend(run(code, &bad, &fixed));
                ran += 1;
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert_eq!(ran, Code::ALL.len(), "every code's examples ran");
}

#[test]
fn the_other_policy_examples_check_clean() {
    let doc = doc();
    let mut problems = Vec::new();
    let mut ran = 0;
    for section in sections(&doc) {
        if heading_code(&section.heading).is_some() {
            continue;
        }
        for block in &section.blocks {
            if block.info.first().map(String::as_str) != Some("pcl") {
                continue;
            }
            ran += 1;
            let report = lint::check_source("example.pcl", &block.text, &Options::default());
            if !report.findings.is_empty() {
                problems.push(format!(
                    "{DOC}:{}: this example should check clean; it reports:\n{}",
                    block.line,
                    show(&report)
                ));
            }
            let marker = "// portcullis:";
            if block.text.contains(marker) {
                let without: String = block
                    .text
                    .lines()
                    .map(|l| format!("{}\n", l.split(marker).next().unwrap_or("")))
                    .collect();
                let report = lint::check_source("example.pcl", &without, &Options::default());
                if report.findings.is_empty() {
                    problems.push(format!(
                        "{DOC}:{}: without its pragmas this example should report what they allow; it reports nothing",
                        block.line
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert!(ran > 0, "the pragma example is checked");
}

#[test]
fn the_output_examples_are_what_check_prints() {
    let doc = doc();
    let all = sections(&doc);
    let mut problems = Vec::new();
    let mut ran = 0;
    for block in all.iter().flat_map(|s| &s.blocks) {
        let word = |key: &str| {
            block
                .info
                .iter()
                .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
        };
        let Some(format) = word("output") else {
            continue;
        };
        ran += 1;
        let format = match format {
            "human" => Format::Human { color: false },
            "json" => Format::Json,
            "sarif" => Format::Sarif,
            "github" => Format::Github,
            other => panic!("{DOC}:{}: unknown output format `{other}`", block.line),
        };
        let code = word("example")
            .unwrap_or_else(|| panic!("{DOC}:{}: `output=` needs `example=CODE`", block.line));
        let section = all
            .iter()
            .find(|s| heading_code(&s.heading).is_some_and(|(c, _)| c == code))
            .unwrap_or_else(|| panic!("{DOC}:{}: no section for {code}", block.line));
        let (bad, _) = examples(section).unwrap();
        let report = lint::check_source(
            "policies/docs.pcl",
            bad.policy.as_deref().unwrap(),
            &Options::default(),
        );
        let rendered = output::render(&report, format);
        if rendered != block.text {
            problems.push(format!(
                "{DOC}:{}: check prints, for the bad example of {code}:\n{rendered}\nbut the page shows:\n{}",
                block.line, block.text
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    assert_eq!(ran, 3, "the human, JSON and GitHub examples are checked");
}
