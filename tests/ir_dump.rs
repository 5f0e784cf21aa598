//! Golden dumps of compiled programs: `tests/ir/NAME.pcl` compiles to the
//! program shown in `tests/ir/NAME.ir`. They show interning (each name
//! numbered once), the action index, statement indexes and conditions as
//! the evaluator sees them. `BLESS=1 cargo test --test ir_dump` rewrites
//! them; review the diff.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code"
)]

use portcullis::unstable::dump;
use portcullis::PolicySet;
use std::path::Path;

#[test]
fn programs_dump_as_their_goldens() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ir");
    let mut policies: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "pcl"))
        .collect();
    policies.sort();
    assert!(policies.len() >= 3, "golden policies are missing");
    let bless = std::env::var_os("BLESS").is_some();
    let mut stale = Vec::new();
    for policy in &policies {
        let set = PolicySet::from_file(policy).unwrap_or_else(|e| panic!("{}", e.summary()));
        let actual = dump(&set);
        let golden = policy.with_extension("ir");
        if bless {
            std::fs::write(&golden, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&golden).unwrap_or_default();
        if expected != actual {
            stale.push(format!(
                "{} differs (BLESS=1 to accept):\n--- expected\n{expected}\n--- actual\n{actual}",
                golden.display()
            ));
        }
    }
    assert!(stale.is_empty(), "{}", stale.join("\n"));
}

#[test]
fn a_name_used_in_many_places_is_interned_once() {
    let set = PolicySet::from_source(
        "actions: read\npolicy p for read {\n  allow when resource.owner == principal.owner\n  \
         allow when resource.owner == \"x\"\n}\n",
    )
    .unwrap();
    let text = dump(&set);
    let owner_entries = text
        .lines()
        .filter(|l| l.trim_start().starts_with('#') && l.ends_with("\"owner\""))
        .count();
    assert_eq!(owner_entries, 1, "{text}");
}

#[test]
fn the_cli_prints_the_dump() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let policy = root.join("tests/ir/ownership.pcl");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["dump", "--policy"])
        .arg(&policy)
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = std::fs::read_to_string(policy.with_extension("ir")).unwrap();
    assert_eq!(String::from_utf8(out.stdout).unwrap(), expected);
}
