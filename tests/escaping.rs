//! Policy and request text never drives the terminal: control characters
//! (ESC, BEL, CR, C1 controls) and bidirectional overrides in messages,
//! labels, help, file names and rendered source come out as visible
//! escapes, in every output format.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use portcullis::unstable::diagnostics::escape_controls;
use portcullis::unstable::lint::{check_source, Options};
use portcullis::unstable::output::{human_finding, render, Format};
use std::process::Command;

/// Clears the screen, sets the window title (ended by a bell), turns text
/// red, and reverses what follows.
const NASTY: &str = "\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}[31m\u{9b}31m\u{202e}";

/// Policies whose findings quote, label and show the nasty text: an
/// import path (message), an impossible action pattern (message and
/// source), a broken line (source).
fn policies() -> [String; 2] {
    [
        format!(
            "import \"{NASTY}.pcl\"\nactions: read\npolicy p for read {{\n  allow when action == \"{NASTY}\"\n}}\n"
        ),
        format!("actions: read\nlet broken = \"{NASTY}\" +\n"),
    ]
}

/// What no output may hold: any control character but newline and tab,
/// C1 controls, bidi overrides.
fn assert_clean(what: &str, text: &str, colour: bool) {
    for c in text.chars() {
        let control = c.is_control() && c != '\n' && c != '\t' && !(colour && c == '\u{1b}');
        assert!(
            !control && !('\u{202a}'..='\u{202e}').contains(&c),
            "{what} holds {c:?}:\n{text}"
        );
    }
    // Colour output has miette's own escape codes, never the policy's.
    for sequence in ["\u{1b}[2J", "\u{1b}]0;", "\u{7}"] {
        assert!(!text.contains(sequence), "{what} holds {sequence:?}");
    }
}

#[test]
fn escapes_are_visible_and_plain_text_is_untouched() {
    assert_eq!(escape_controls("plain\ttext\n"), "plain\ttext\n");
    assert_eq!(
        escape_controls("a\u{1b}[31mb\u{7}\r\u{9b}\u{202e}"),
        "a\\u{1b}[31mb\\u{7}\\u{d}\\u{9b}\\u{202e}"
    );
}

#[test]
fn every_format_escapes_policy_text() {
    for policy in policies() {
        let report = check_source("t.pcl", &policy, &Options::default());
        assert!(report.errors() >= 1, "{:?}", report.findings);
        for (format, colour) in [
            (Format::Human { color: false }, false),
            (Format::Human { color: true }, true),
            (Format::Json, false),
            (Format::Sarif, false),
            (Format::Github, false),
        ] {
            let text = render(&report, format);
            assert_clean(&format!("{format:?}"), &text, colour);
        }
        // The source lines are shown with each control replaced in place,
        // so the underline still sits under the right text.
        let plain = render(&report, Format::Human { color: false });
        assert!(plain.contains("?[2J?]0;pwned??[31m"), "{plain}");
    }
    // Messages show the escapes.
    let report = check_source("t.pcl", &policies()[0], &Options::default());
    let json = render(&report, Format::Json);
    assert!(json.contains("\\\\u{1b}[2J"), "{json}");
}

#[test]
fn a_file_name_with_controls_is_escaped() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escaping");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad\u{1b}[2Jname\u{7}.pcl");
    std::fs::write(
        &path,
        "actions: read\npolicy p for read { allow when nope }\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["check", "--format", "github"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert_clean("check --format github", &stdout, false);
    assert!(stdout.contains("bad\\u{1b}[2Jname\\u{7}.pcl"), "{stdout}");
    for format in ["human", "json", "sarif"] {
        let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
            .args(["check", "--format", format])
            .arg(&path)
            .output()
            .unwrap();
        assert_clean(format, &String::from_utf8_lossy(&out.stdout), false);
        assert_clean(format, &String::from_utf8_lossy(&out.stderr), false);
    }
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["fmt", "--check"])
        .arg(&path)
        .output()
        .unwrap();
    assert_clean("fmt", &String::from_utf8_lossy(&out.stdout), false);
}

#[test]
fn request_errors_on_the_command_line_are_escaped() {
    let dir = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escaping-eval");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.pcl"),
        "actions: read\npolicy p for read { allow }\n",
    )
    .unwrap();
    let request = serde_json::json!({"action": "read", NASTY: 1});
    std::fs::write(dir.join("r.json"), request.to_string()).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["eval", "--policy", "p.pcl", "--request", "r.json"])
        .current_dir(&dir)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("unknown field"), "{stderr}");
    assert_clean("eval", &stderr, false);
    // Through the library's renderer, in colour too.
    let err = portcullis::Request::from_json(&request).unwrap_err();
    assert_clean("render", &human_finding(&err, true), true);
}
