//! `portcullis filter`, run as a user would, and the goldens of its
//! diagnostics: each `tests/diagnostics/filter/PCL6xx-NAME.pcl` (with its
//! `.request.json`, and `.data.json` and `.mapping.json` when it has them)
//! must fail with that code, printing exactly `.txt` on stderr; its JSON
//! report is `.json`. Every `PCL6xx` code has one.
//!
//! After an intended change of output, regenerate the goldens with
//! `BLESS=1 cargo test --test filter_cli` and review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::filter::mapping::Mapping;
use portcullis::unstable::diagnostics::Source;
use portcullis::unstable::lint::Report;
use portcullis::unstable::output::{render, Format};
use portcullis::{Code, PolicySet, Request};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod golden;
use golden::golden;

const DIR: &str = "tests/diagnostics/filter";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn portcullis(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(root())
        .env("NO_COLOR", "1")
        .output()
        .expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn json_gives_the_versioned_residual() {
    let o = portcullis(&[
        "filter",
        "--policy",
        "policies/diracx/jobs.pcl",
        "--request",
        "examples/filters/diracx-jobs.request.json",
        "--mapping",
        "examples/filters/diracx-jobs.mapping.json",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let json: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["result"], "residual");
    assert_eq!(json["allows"][0]["statement"]["id"], "jobs.own");
    let text = json["condition"].to_string();
    assert!(
        text.contains(r#""op":"eq","path":["owner"],"value":"alice""#),
        "{text}"
    );
}

#[test]
fn sql_gives_a_where_clause_and_its_parameters() {
    for (dialect, mark) in [("sqlite", "?"), ("postgres", "$1")] {
        let o = portcullis(&[
            "filter",
            "--policy",
            "policies/diracx/jobs.pcl",
            "--request",
            "examples/filters/diracx-jobs.request.json",
            "--mapping",
            "examples/filters/diracx-jobs.mapping.json",
            "--format",
            "sql",
            "--dialect",
            dialect,
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let out = stdout(&o);
        let (clause, params) = out.split_once("\n-- params: ").unwrap();
        assert!(
            clause.contains(r#""jobs"."owner""#) && clause.contains(mark),
            "{clause}"
        );
        assert_eq!(params.trim(), r#"["alice","lhcb"]"#);
    }
}

#[test]
fn a_constant_filter_says_always_or_never() {
    let temp = std::env::temp_dir().join(format!("pcl-filter-cli-{}", std::process::id()));
    std::fs::create_dir_all(&temp).unwrap();
    let admin = temp.join("admin.json");
    std::fs::write(
        &admin,
        r#"{"principal": {"preferred_username": "root", "dirac_group": "admin", "vo": "lhcb", "properties": ["JobAdministrator"]}, "action": "jobs.list"}"#,
    )
    .unwrap();
    let anonymous = temp.join("anonymous.json");
    std::fs::write(&anonymous, r#"{"principal": null, "action": "jobs.list"}"#).unwrap();
    let run = |p: &Path, mapping: bool| {
        let mut args = vec![
            "filter",
            "--policy",
            "policies/diracx/jobs.pcl",
            "--request",
            p.to_str().unwrap(),
        ];
        let strict = temp_mapping();
        if mapping {
            args.extend(["--mapping", strict.to_str().unwrap()]);
        }
        let o = portcullis(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        serde_json::from_str::<serde_json::Value>(&stdout(&o)).unwrap()
    };
    // Without a mapping, rows are still checked against the contract.
    let a = run(&admin, false);
    assert_eq!(a["result"], "residual", "{a}");
    assert_eq!(a["allows"][0]["statement"]["id"], "jobs.admin");
    // With one whose columns are never NULL, every row fits.
    let a = run(&admin, true);
    assert_eq!(a["result"], "always", "{a}");
    // Never, whatever the row: and the refusal is the decision's.
    let n = run(&anonymous, false);
    assert_eq!(n["result"], "never");
    assert_eq!(n["condition"], false);
    assert!(
        n.get("refusal").is_none(),
        "a row outside the contract is denied otherwise: {n}"
    );
    let n = run(&anonymous, true);
    assert_eq!(n["result"], "never");
    assert_eq!(n["condition"], false);
    assert_eq!(n["refusal"]["decision"], "unauthenticated");
    assert_eq!(n["refusal"]["reason"], "Authorization header is missing");
}

/// The DiracX job mapping with every column `NOT NULL`.
fn temp_mapping() -> PathBuf {
    let text =
        std::fs::read_to_string(root().join("examples/filters/diracx-jobs.mapping.json")).unwrap();
    let text = text.replace(
        r#""type": "string" }"#,
        r#""type": "string", "null": "never" }"#,
    );
    let p = std::env::temp_dir().join(format!(
        "pcl-filter-cli-{}-jobs.mapping.json",
        std::process::id()
    ));
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn usage_errors_exit_2() {
    let o = portcullis(&[
        "filter",
        "--policy",
        "policies/diracx/jobs.pcl",
        "--request",
        "examples/filters/diracx-jobs.request.json",
        "--format",
        "sql",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("`--format sql` needs `--mapping`"),
        "{}",
        stderr(&o)
    );
    let o = portcullis(&[
        "filter",
        "--policy",
        "policies/diracx/jobs.pcl",
        "--request",
        "examples/filters/diracx-jobs.request.json",
        "--mapping",
        "examples/filters/diracx-jobs.mapping.json",
        "--dialect",
        "oracle",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("unknown dialect"), "{}", stderr(&o));
}

/// The golden cases, by stem.
fn cases() -> Vec<String> {
    let mut stems: Vec<String> = std::fs::read_dir(root().join(DIR))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcl"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    stems
}

fn part(stem: &str, what: &str) -> Option<String> {
    let p = format!("{DIR}/{stem}.{what}.json");
    root().join(&p).exists().then_some(p)
}

#[test]
fn every_filter_diagnostic_renders_as_its_golden() {
    let mut failures = Vec::new();
    for stem in cases() {
        let code = Code::parse(stem.split('-').next().unwrap()).unwrap();
        let policy = format!("{DIR}/{stem}.pcl");
        let request = part(&stem, "request").unwrap();
        let mut args = vec!["filter", "--policy", &policy, "--request", &request];
        let data = part(&stem, "data");
        let mapping = part(&stem, "mapping");
        if let Some(d) = &data {
            args.extend(["--data", d]);
        }
        if let Some(m) = &mapping {
            args.extend(["--mapping", m, "--format", "sql"]);
        }
        let o = portcullis(&args);
        assert_eq!(o.status.code(), Some(2), "{stem}: {}", stdout(&o));
        let text = stderr(&o);
        assert!(
            text.contains(code.code()),
            "{stem} does not report {code}: {text}"
        );
        if let Err(e) = golden(&root().join(format!("{DIR}/{stem}.txt")), &text) {
            failures.push(e);
        }
        // The same error from the library, as a JSON report.
        let set = PolicySet::from_file(&policy).unwrap();
        let req = Request::from_json_str(&std::fs::read_to_string(root().join(&request)).unwrap())
            .unwrap();
        let data = match &data {
            Some(d) => set
                .load_data(
                    &serde_json::from_str(&std::fs::read_to_string(root().join(d)).unwrap())
                        .unwrap(),
                )
                .unwrap(),
            None => portcullis::Data::empty(),
        };
        let err = (|| {
            let m = match &mapping {
                Some(m) => {
                    let m =
                        Mapping::from_json_str(&std::fs::read_to_string(root().join(m)).unwrap())?;
                    m.check(&set, &req.action)?;
                    Some(m)
                }
                None => None,
            };
            let f = match &m {
                Some(m) => set.filter_with(&req, &data, &m.schema())?,
                None => set.filter(&req, &data)?,
            };
            if let Some(m) = &m {
                portcullis::filter::sql::render(&f, m, portcullis::filter::sql::Dialect::Sqlite)?;
            }
            Ok::<(), portcullis::FilterError>(())
        })()
        .unwrap_err();
        assert_eq!(err.code, code, "{stem}");
        let source = err.statement.as_ref().map(|s| {
            Source::new(
                s.file.clone(),
                std::fs::read_to_string(root().join(s.file.as_ref())).unwrap(),
            )
        });
        let report = Report {
            files: 1,
            findings: vec![err.to_finding(source.as_ref())],
            skipped: Vec::new(),
        };
        if let Err(e) = golden(
            &root().join(format!("{DIR}/{stem}.json")),
            &render(&report, Format::Json),
        ) {
            failures.push(e);
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_filter_code_has_a_golden_case() {
    let stems = cases();
    let missing: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.code().starts_with("PCL6"))
        .filter(|c| !stems.iter().any(|s| s.starts_with(c.code())))
        .map(|c| c.code())
        .collect();
    assert!(missing.is_empty(), "no golden case for {missing:?}");
}

#[test]
fn the_commands_of_docs_filtering_print_what_the_page_shows() {
    let doc = std::fs::read_to_string(root().join("docs/filtering.md")).unwrap();
    let mut blocks: Vec<(String, String)> = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in doc.lines() {
        match &mut open {
            Some((_, text)) if line.trim() != "```" => {
                text.push_str(line);
                text.push('\n');
            }
            Some(_) => blocks.push(open.take().unwrap()),
            None => {
                if let Some(info) = line.strip_prefix("```") {
                    open = Some((info.trim().to_string(), String::new()));
                }
            }
        }
    }
    let mut ran = 0;
    for pair in blocks.windows(2) {
        let ((lang, cmd), (next, shown)) = (&pair[0], &pair[1]);
        let cmd = cmd.replace("\\\n", " ");
        let Some(args) = cmd.trim().strip_prefix("cargo run -- filter") else {
            continue;
        };
        assert_eq!(lang, "sh");
        assert_eq!(next, "text", "a filter command is followed by its output");
        let mut argv = vec!["filter"];
        argv.extend(args.split_whitespace());
        let o = portcullis(&argv);
        assert_eq!(o.status.code(), Some(0), "{cmd}: {}", stderr(&o));
        assert_eq!(
            &stdout(&o),
            shown,
            "docs/filtering.md shows another output for {cmd}"
        );
        ran += 1;
    }
    assert!(ran >= 4, "{ran} commands checked");
}
