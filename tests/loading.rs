//! Loading is confined: imports resolve inside the entry policy's folder
//! (or through a resolver the embedder gives), only `.pcl` files are read,
//! every read is bounded, and no diagnostic shows text of a file that is
//! not a policy. `check` and `fmt` never follow a symlink out of the tree.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::unstable::lint::{check_paths, Options};
use portcullis::unstable::output::{render, Format};
use portcullis::{
    Code, Data, FolderResolver, ImportError, ImportResolver, Limits, Outcome, PolicyError,
    PolicySet, Request, ResolvedImport,
};
use std::collections::HashMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A fresh folder for one test: `tree/` is the policy folder, `outside/`
/// sits beside it and holds a policy the tree must not reach.
fn scratch(test: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("loading")
        .join(test);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("tree")).unwrap();
    std::fs::create_dir_all(dir.join("outside")).unwrap();
    std::fs::write(
        dir.join("outside/secret.pcl"),
        "// OUTSIDE-SECRET\nactions: stolen\npolicy s for stolen { allow }\n",
    )
    .unwrap();
    dir
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

/// The only error of a policy that fails to load, with everything a person
/// or a tool would be shown.
fn the_error(result: Result<PolicySet, PolicyError>) -> (Code, String, String) {
    let err = result.expect_err("the policy must not load");
    let first = err.errors().next().unwrap().clone();
    let shown = format!(
        "{}\n{}\n{}",
        portcullis::unstable::output::human_finding(&first, false),
        err.summary(),
        err
    );
    (first.code, first.message, shown)
}

const ALLOW_READ: &str = "actions: read\npolicy p for read { allow }\n";

#[test]
fn an_absolute_import_is_refused_without_reading_it() {
    let dir = scratch("absolute");
    let secret = dir.join("outside/secret.pcl");
    let entry = dir.join("tree/entry.pcl");
    write(
        &entry,
        &format!("import {:?}\n{ALLOW_READ}", secret.display().to_string()),
    );
    let (code, message, shown) = the_error(PolicySet::from_file(&entry));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(
        message.contains("absolute paths are not allowed"),
        "{message}"
    );
    assert!(!shown.contains("OUTSIDE-SECRET"), "{shown}");
}

#[test]
fn the_environment_is_not_a_policy() {
    let dir = scratch("environ");
    let entry = dir.join("tree/entry.pcl");
    for target in [
        "/proc/self/environ",
        "../../../../proc/self/environ",
        "/etc/passwd",
    ] {
        write(&entry, &format!("import {target:?}\n{ALLOW_READ}"));
        let (code, message, shown) = the_error(PolicySet::from_file(&entry));
        assert_eq!(code, Code::UnresolvedImport, "{target}");
        assert!(message.contains("only policy files"), "{message}");
        for leak in ["PATH=", "HOME=", "root:"] {
            assert!(!shown.contains(leak), "{target}: {shown}");
        }
    }
}

#[test]
fn dot_dot_may_move_inside_the_folder_but_not_out_of_it() {
    let dir = scratch("dotdot");
    let entry = dir.join("tree/entry.pcl");
    write(
        &entry,
        &format!("import \"../outside/secret.pcl\"\n{ALLOW_READ}"),
    );
    let (code, message, shown) = the_error(PolicySet::from_file(&entry));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(message.contains("outside the policy folder"), "{message}");
    assert!(!shown.contains("OUTSIDE-SECRET"));
    // A missing file outside is reported the same way: nothing is said
    // about what exists there.
    write(
        &entry,
        &format!("import \"../outside/none.pcl\"\n{ALLOW_READ}"),
    );
    let (_, message, _) = the_error(PolicySet::from_file(&entry));
    assert!(message.contains("outside the policy folder"), "{message}");
    // Inside the entry's folder, `..` is an ordinary step: a file in a
    // subfolder may import one beside the entry.
    write(&dir.join("tree/common.pcl"), "rule yes = true\n");
    write(
        &dir.join("tree/layers/mid.pcl"),
        "import \"../common.pcl\"\nactions: read\npolicy p for read { allow when yes }\n",
    );
    write(&entry, "import \"layers/mid.pcl\"\n");
    let set = PolicySet::from_file(&entry).unwrap();
    // The folder is the entry's: the subfolder's file as an entry may not
    // climb out of its own folder.
    let (_, message, _) = the_error(PolicySet::from_file(dir.join("tree/layers/mid.pcl")));
    assert!(message.contains("outside the policy folder"), "{message}");
    let d = set.decide(
        &Request::from_json_str(r#"{"action": "read"}"#).unwrap(),
        &Data::empty(),
    );
    assert_eq!(d.outcome, Outcome::Allow);
}

#[test]
fn a_symlink_out_of_the_folder_is_refused() {
    let dir = scratch("symlink");
    symlink(dir.join("outside/secret.pcl"), dir.join("tree/link.pcl")).unwrap();
    symlink(dir.join("outside"), dir.join("tree/linked-dir")).unwrap();
    let entry = dir.join("tree/entry.pcl");
    for import in ["link.pcl", "linked-dir/secret.pcl"] {
        write(&entry, &format!("import {import:?}\n{ALLOW_READ}"));
        let (code, message, shown) = the_error(PolicySet::from_file(&entry));
        assert_eq!(code, Code::UnresolvedImport, "{import}");
        assert!(message.contains("outside the policy folder"), "{message}");
        assert!(!shown.contains("OUTSIDE-SECRET"), "{shown}");
    }
    // A symlink that stays inside is followed like any path.
    write(&dir.join("tree/real/base.pcl"), ALLOW_READ);
    symlink(dir.join("tree/real"), dir.join("tree/alias")).unwrap();
    write(&entry, "import \"alias/base.pcl\"\n");
    assert!(PolicySet::from_file(&entry).is_ok());
}

#[test]
fn a_pipe_is_refused_without_being_opened() {
    let dir = scratch("fifo");
    let fifo = dir.join("tree/endless.pcl");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    // Opening a pipe with no writer would block this test forever.
    let entry = dir.join("tree/entry.pcl");
    write(&entry, &format!("import \"endless.pcl\"\n{ALLOW_READ}"));
    let (code, message, _) = the_error(PolicySet::from_file(&entry));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(message.contains("not a regular file"), "{message}");
    let (code, message, _) = the_error(PolicySet::from_file(&fifo));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(message.contains("not a regular file"), "{message}");
}

#[test]
fn a_file_over_the_size_limit_is_refused_after_a_bounded_read() {
    let dir = scratch("huge");
    // 64 GiB, sparse: reading it whole would not end in this test.
    let huge = dir.join("tree/huge.pcl");
    std::fs::File::create(&huge)
        .unwrap()
        .set_len(64 << 30)
        .unwrap();
    let limits = Limits {
        max_policy_bytes: 4096,
        ..Limits::default()
    };
    let entry = dir.join("tree/entry.pcl");
    write(&entry, &format!("import \"huge.pcl\"\n{ALLOW_READ}"));
    for path in [&entry, &huge] {
        let (code, message, _) = the_error(PolicySet::from_file_with(path, limits.clone()));
        assert_eq!(code, Code::UnresolvedImport);
        assert!(
            message.contains("larger than the limit of 4096 bytes"),
            "{message}"
        );
    }
    // Just under the limit is fine.
    write(
        &dir.join("tree/big.pcl"),
        &format!("{ALLOW_READ}{}", "//\n".repeat(1000)),
    );
    write(&entry, "import \"big.pcl\"\n");
    assert!(PolicySet::from_file_with(&entry, limits).is_ok());
}

#[test]
fn a_file_that_is_not_a_policy_is_never_shown() {
    let dir = scratch("not-policy");
    let notes = dir.join("tree/notes.txt");
    write(&notes, "FIRST-LINE-SECRET\nactions: oops {\n");
    let entry = dir.join("tree/entry.pcl");
    write(&entry, &format!("import \"notes.txt\"\n{ALLOW_READ}"));
    let (code, message, shown) = the_error(PolicySet::from_file(&entry));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(message.contains("only policy files (`.pcl`)"), "{message}");
    assert!(!shown.contains("FIRST-LINE-SECRET"), "{shown}");
    // As an entry, too: the library, `check` in every format and `fmt`.
    let (_, message, shown) = the_error(PolicySet::from_file(&notes));
    assert!(message.contains("not a policy file"), "{message}");
    assert!(!shown.contains("FIRST-LINE-SECRET"), "{shown}");
    let report = check_paths(&[notes.clone(), entry], &Options::default()).unwrap();
    assert_eq!(report.errors(), 2);
    for format in [
        Format::Human { color: false },
        Format::Json,
        Format::Sarif,
        Format::Github,
    ] {
        let text = render(&report, format);
        assert!(!text.contains("FIRST-LINE-SECRET"), "{format:?}: {text}");
    }
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("fmt")
        .arg(&notes)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not a policy file"), "{stderr}");
    assert!(!stderr.contains("FIRST-LINE-SECRET"), "{stderr}");
}

#[test]
fn text_compiled_from_a_string_has_no_resolver() {
    let dir = scratch("no-resolver");
    write(&dir.join("tree/base.pcl"), ALLOW_READ);
    // Not even from the working folder: from_source reads no file.
    let (code, message, _) = the_error(PolicySet::from_source("import \"Cargo.toml.pcl\"\n"));
    assert_eq!(code, Code::UnresolvedImport);
    assert!(message.contains("has no import resolver"), "{message}");
    let (code, _, _) = the_error(PolicySet::from_named_source_with(
        "text.pcl",
        "import \"base.pcl\"\n",
        None,
        Limits::default(),
    ));
    assert_eq!(code, Code::UnresolvedImport);
    // Given a resolver, the same text loads.
    let folder = FolderResolver::new(dir.join("tree"));
    let set = PolicySet::from_source_with("import \"base.pcl\"\n", &folder).unwrap();
    assert_eq!(set.actions().collect::<Vec<_>>(), ["read"]);
}

/// Policy files served from memory, as an embedder might from a database.
/// Ids are the names; each lookup is recorded with its importer.
struct Memory {
    files: HashMap<&'static str, &'static str>,
    asked: std::sync::Mutex<Vec<(String, String)>>,
}

impl ImportResolver for Memory {
    fn resolve(
        &self,
        importer: &str,
        path: &str,
        _limits: &Limits,
    ) -> Result<ResolvedImport, ImportError> {
        self.asked
            .lock()
            .unwrap()
            .push((importer.to_string(), path.to_string()));
        let text = self.files.get(path).ok_or_else(|| {
            ImportError::new(
                format!("cannot import `{path}`: not in the store"),
                "add it",
            )
        })?;
        Ok(ResolvedImport {
            id: path.to_string(),
            name: format!("store:{path}"),
            text: (*text).to_string(),
        })
    }
}

#[test]
fn a_custom_resolver_serves_files_from_memory() {
    let memory = Memory {
        files: HashMap::from([
            (
                "core.pcl",
                "actions: read, write\nrule admin = \"admin\" in principal.roles\n",
            ),
            (
                "mid.pcl",
                "import \"core.pcl\"\npolicy p for read, write { allow when admin }\n",
            ),
            ("loop.pcl", "import \"loop.pcl\"\n"),
            ("broken.pcl", "policy {\n"),
        ]),
        asked: std::sync::Mutex::new(Vec::new()),
    };
    let set = PolicySet::from_source_with(
        "import \"mid.pcl\"\nimport \"core.pcl\"\noverride policy p { allow when admin or action == \"read\" }\n",
        &memory,
    )
    .unwrap();
    let ask = |roles: &str, action: &str| {
        let r = Request::from_json_str(&format!(
            r#"{{"action": "{action}", "principal": {{"roles": {roles}}}}}"#
        ))
        .unwrap();
        set.decide(&r, &Data::empty()).outcome
    };
    assert_eq!(ask("[]", "read"), Outcome::Allow);
    assert_eq!(ask("[]", "write"), Outcome::Deny);
    assert_eq!(ask("[\"admin\"]", "write"), Outcome::Allow);
    // Each import was asked for with its importer's id; core once loaded
    // (the second import of it is a repeat, known by its id).
    let asked = memory.asked.lock().unwrap().clone();
    assert_eq!(
        asked,
        [
            ("<policy>".to_string(), "mid.pcl".to_string()),
            ("mid.pcl".to_string(), "core.pcl".to_string()),
            ("<policy>".to_string(), "core.pcl".to_string()),
        ]
    );
    // Cycles are found by id; errors carry the resolver's words and the
    // served file's own name.
    let (code, _, _) = the_error(PolicySet::from_source_with(
        "import \"loop.pcl\"\n",
        &memory,
    ));
    assert_eq!(code, Code::ImportCycle);
    let (code, message, _) = the_error(PolicySet::from_source_with(
        "import \"gone.pcl\"\n",
        &memory,
    ));
    assert_eq!(code, Code::UnresolvedImport);
    assert_eq!(message, "cannot import `gone.pcl`: not in the store");
    let err = PolicySet::from_source_with("import \"broken.pcl\"\n", &memory).unwrap_err();
    assert_eq!(
        err.errors().next().unwrap().file(),
        Some("store:broken.pcl")
    );
    // The loader, not the resolver, insists on `.pcl`.
    let (_, message, _) = the_error(PolicySet::from_source_with("import \"core\"\n", &memory));
    assert!(message.contains("only policy files"), "{message}");
}

#[test]
fn the_diracx_bundle_still_loads_its_core() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let set = PolicySet::from_file(root.join("policies/diracx.pcl")).unwrap();
    assert!(set.actions().any(|a| a == "lollygag.read"));
    assert!(set.actions().any(|a| a.starts_with("wms.")));
    // The same through the public resolver, from text.
    let text = std::fs::read_to_string(root.join("policies/diracx.pcl")).unwrap();
    let resolver = FolderResolver::new(root.join("policies"));
    let again = PolicySet::from_source_with(&text, &resolver).unwrap();
    assert_eq!(
        again.actions().collect::<Vec<_>>(),
        set.actions().collect::<Vec<_>>()
    );
}

/// Runs the `portcullis` binary; returns (status, stdout, stderr).
fn portcullis(args: &[&str], dir: &Path) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A tree with three symlinks to itself and one to a folder outside.
fn tangled(test: &str) -> PathBuf {
    let dir = scratch(test);
    let tree = dir.join("tree");
    write(&tree.join("ok.pcl"), ALLOW_READ);
    write(
        &tree.join("sub/messy.pcl"),
        "actions: read\npolicy p for read {   allow }\n",
    );
    for name in ["a", "b", "c"] {
        symlink(".", tree.join(name)).unwrap();
    }
    symlink(dir.join("outside"), tree.join("sub/away")).unwrap();
    std::fs::write(
        dir.join("outside/messy.pcl"),
        "actions: read\npolicy   p for read {   allow }\n",
    )
    .unwrap();
    symlink(dir.join("outside/messy.pcl"), tree.join("linked.pcl")).unwrap();
    dir
}

#[test]
fn check_does_not_follow_symlinks_out_of_the_tree_or_round_in_circles() {
    let dir = tangled("check-links");
    let (status, stdout, stderr) = portcullis(&["check", "tree"], &dir);
    // The two real files, each once; every link is named and skipped.
    assert!(stdout.contains("checked 2 files"), "{stdout}\n{stderr}");
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(
        !stdout.contains("stolen") && !stdout.contains("outside"),
        "{stdout}"
    );
    for link in [
        "tree/a",
        "tree/b",
        "tree/c",
        "tree/sub/away",
        "tree/linked.pcl",
    ] {
        assert!(
            stderr.contains(&format!("skipped `{link}`: a symlink")),
            "{link}: {stderr}"
        );
    }
}

#[test]
fn fmt_never_writes_outside_the_tree_or_through_a_link() {
    let dir = tangled("fmt-links");
    let outside = dir.join("outside/messy.pcl");
    let before = std::fs::read_to_string(&outside).unwrap();
    let (status, stdout, stderr) = portcullis(&["fmt", "tree"], &dir);
    assert_eq!(status, 0, "{stdout}\n{stderr}");
    assert!(
        stdout.contains("reformatted tree/sub/messy.pcl"),
        "{stdout}"
    );
    assert!(stdout.contains("1 of 2 files reformatted"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
    assert!(
        stderr.contains("skipped `tree/linked.pcl`: a symlink"),
        "{stderr}"
    );
    // A link named on the command line is read, but not written through.
    let (status, _, stderr) = portcullis(&["fmt", "tree/linked.pcl"], &dir);
    assert_eq!(status, 2);
    assert!(
        stderr.contains("cannot write `tree/linked.pcl`"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), before);
    assert!(std::fs::symlink_metadata(dir.join("tree/linked.pcl"))
        .unwrap()
        .file_type()
        .is_symlink());
    // `--check` reads and reports, and writes nothing.
    let (status, stdout, _) = portcullis(&["fmt", "--check", "tree/linked.pcl"], &dir);
    assert_eq!(status, 1);
    assert!(stdout.contains("would reformat"), "{stdout}");
}
