//! `portcullis fmt`: canonical layout, comments kept, idempotent, and the
//! meaning of every policy in the repository unchanged.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::unstable::fmt::format_source;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn fmt(text: &str) -> String {
    format_source("t.pcl", text).unwrap_or_else(|e| panic!("{}", e.summary()))
}

fn pcl_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            pcl_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "pcl") {
            out.push(path);
        }
    }
}

#[test]
fn every_policy_in_the_repository_formats_idempotently() {
    let mut files = Vec::new();
    for dir in ["policies", "tests", "benches", "examples"] {
        pcl_files(Path::new(dir), &mut files);
    }
    let mut formatted = 0;
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        if portcullis::unstable::syntax::parse(&text).is_err() {
            assert!(format_source("f", &text).is_err(), "{}", file.display());
            continue;
        }
        let once = format_source(&file.display().to_string(), &text)
            .unwrap_or_else(|e| panic!("{}: {}", file.display(), e.summary()));
        assert_eq!(fmt(&once), once, "{} is not stable", file.display());
        formatted += 1;
    }
    assert!(formatted >= 40, "only {formatted} files formatted");
}

#[test]
fn the_bundled_policies_are_formatted() {
    let mut files = Vec::new();
    pcl_files(Path::new("policies"), &mut files);
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        assert_eq!(
            fmt(&text),
            text,
            "run `portcullis fmt` on {}",
            file.display()
        );
    }
}

#[test]
fn items_statements_and_expressions_get_one_layout() {
    let messy = r#"import   "base.pcl"
actions:read,write ,wms.*
open  actions : health
undeclared actions:deny "no {action}"
principals{user==.id   role in .roles
every-logged-in-user anyone}
request{principal:{id:int,roles?:[string]}?}
let   limits={a:1,"b-c":[1,2,3],}
rule r(x,y)=x==y or(x!=null and not y)
policy p for read,write in order{
let k=context.headers["X-Key"]??""
admin: allow when principal matches[role:admin,(user:1,role:"Trust Admin")]with{filters:{owner:principal.id}}
deny "no {upper(action)} for {principal.id}" when if k=="" then true else false
allow when match action{"read"|"write"=>true,_=>false}
allow when any t in principal.roles:t like "a*" and t matches re"[a-z]+"
allow when count x in [y for y in principal.roles if y!="b"]:true>=1
claims access:{k:v for k,v in limits if v!=null}
}
"#;
    let want = r#"import "base.pcl"
actions: read, write, wms.*
open actions: health
undeclared actions: deny "no {action}"
principals { user == .id role in .roles
  every-logged-in-user anyone }
request { principal: { id: int, roles?: [string] }? }
let limits = { a: 1, "b-c": [1, 2, 3], }
rule r(x, y) = x == y or (x != null and not y)
policy p for read, write in order {
  let k = context.headers["X-Key"] ?? ""
  admin: allow when principal matches [role:admin, (user:1, role:"Trust Admin")] with { filters: { owner: principal.id } }
  deny "no {upper(action)} for {principal.id}" when if k == "" then true else false
  allow when match action { "read" | "write" => true, _ => false }
  allow when any t in principal.roles: t like "a*" and t matches re"[a-z]+"
  allow when count x in [y for y in principal.roles if y != "b"]: true >= 1
  claims access: { k: v for k, v in limits if v != null }
}
"#;
    assert_eq!(fmt(messy), want);
}

#[test]
fn blank_lines_collapse_and_brackets_indent_their_lines() {
    let messy = "\n\n// head\n\n\n\nactions: read\n\n\n\npolicy p for read {\n\n\n\
                 allow when [\n1,\n    2,\n]\n== principal.ids\n\n\n}\n\n\n";
    let want = "// head\n\nactions: read\n\npolicy p for read {\n  allow when [\n    1,\n    2,\n  ]\n    \
                == principal.ids\n}\n";
    assert_eq!(fmt(messy), want);
}

#[test]
fn comments_are_kept_everywhere_and_trailing_ones_aligned() {
    let messy = "// top\nactions: read // the only action\n\nlet xs = [ // open\n  1, // one\n  \
                 22, // twenty-two\n  // before the end\n]\npolicy p for read {\n  // inside\n  \
                 allow when principal != null // trailing\n  // last\n}\n// end";
    let want = "// top\nactions: read  // the only action\n\nlet xs = [  // open\n  1,        // one\n  \
                22,       // twenty-two\n  // before the end\n]\npolicy p for read {\n  // inside\n  \
                allow when principal != null  // trailing\n  // last\n}\n// end\n";
    assert_eq!(fmt(messy), want);
}

#[test]
fn continuation_lines_take_one_more_level() {
    let messy = "actions: read\nrule r(x) =\nany n in x.roles:\nn == \"a\"\n      or n == \"b\"\n\
                 policy p for read {\nallow when\nr(principal)\n}\n";
    let want = "actions: read\nrule r(x) =\n  any n in x.roles:\n  n == \"a\"\n  or n == \"b\"\n\
                policy p for read {\n  allow when\n    r(principal)\n}\n";
    assert_eq!(fmt(messy), want);
}

#[test]
fn text_that_does_not_parse_is_refused_with_its_diagnostics() {
    let err = format_source("bad.pcl", "policy p for read { allow when }").unwrap_err();
    assert_eq!(err.findings[0].code.code(), "PCL100");
}

#[test]
fn strings_regexes_and_principals_are_printed_as_written() {
    let text = "actions: read\npolicy p for read {\n  \
                deny \"a  {principal.id   }  // not a comment\" when principal.name matches re\"a  //b\"\n  \
                allow when principal matches account:{resource.account_id}\n}\n";
    assert_eq!(fmt(text), text);
}

fn portcullis(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(text) = stdin {
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("pcl-fmt-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn cli_check_exits_0_on_the_bundles_and_1_on_a_file_that_would_change() {
    let out = portcullis(&["fmt", "--check"], None);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    let dir = temp_dir("check");
    let messy = dir.join("messy.pcl");
    std::fs::write(&messy, "actions:read\npolicy p for read{allow}\n").unwrap();
    let out = portcullis(&["fmt", "--check", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("would reformat") && stdout.contains("messy.pcl"),
        "{stdout}"
    );
    assert_eq!(
        std::fs::read_to_string(&messy).unwrap(),
        "actions:read\npolicy p for read{allow}\n",
        "--check changes nothing"
    );
}

#[test]
fn cli_rewrites_in_place_and_a_second_run_changes_nothing() {
    let dir = temp_dir("write");
    let file = dir.join("p.pcl");
    std::fs::write(&file, "actions:read\npolicy p for read{allow}\n").unwrap();
    let out = portcullis(&["fmt", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("reformatted"));
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "actions: read\npolicy p for read { allow }\n"
    );
    let out = portcullis(&["fmt", "--check", file.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn cli_refuses_broken_files_and_missing_paths_with_exit_2() {
    let dir = temp_dir("broken");
    std::fs::write(dir.join("b.pcl"), "policy {").unwrap();
    let out = portcullis(&["fmt", "--check", dir.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("PCL100"));
    let out = portcullis(&["fmt", "no/such/dir"], None);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn cli_formats_standard_input() {
    let out = portcullis(&["fmt", "--stdin"], Some("actions:read\n"));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "actions: read\n");
}

#[test]
fn action_globs_with_a_star_glued_to_a_word_stay_one_name() {
    // The lexer once split `rs_catalog_*` into `rs_catalog_` and `*`, so
    // the formatter refused a file it should have left alone (PCL700).
    let text = "actions: *\n\npolicy p for rs_catalog_*, *_read, a*b in order {\n  deny \"x\"\n}\n";
    assert_eq!(fmt(text), text);
    let spaced = "actions: *\n\npolicy p for rs_catalog_*,*_read {\n  deny \"x\"\n}\n";
    assert_eq!(
        fmt(spaced),
        "actions: *\n\npolicy p for rs_catalog_*, *_read {\n  deny \"x\"\n}\n"
    );
}
