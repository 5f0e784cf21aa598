//! `portcullis eval --now`: the decision time the command line passes, as
//! the request's `context.now` (the engine has no clock of its own).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests fail loudly"
)]

use std::process::Command;

fn eval(dir: &std::path::Path, request: &str, now: Option<&str>) -> (i32, String, String) {
    std::fs::write(dir.join("request.json"), request).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_portcullis"));
    cmd.arg("eval")
        .arg("--policy")
        .arg(dir.join("p.pcl"))
        .arg("--request")
        .arg(dir.join("request.json"));
    if let Some(now) = now {
        cmd.arg("--now").arg(now);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn now_is_set_as_the_context_time() {
    let dir = std::env::temp_dir().join(format!("portcullis-now-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("p.pcl"),
        "actions: read\n\npolicy p for read {\n  allow when timestamp(context.now) < timestamp(\"2030-01-01T00:00:00Z\")\n}\n",
    )
    .unwrap();
    let (code, out, _) = eval(&dir, r#"{"action": "read"}"#, Some("2024-05-01T12:00:00Z"));
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("\"allow\""), "{out}");
    // --now replaces a time the request carries, and keeps the rest.
    let (code, out, _) = eval(
        &dir,
        r#"{"action": "read", "context": {"now": "2024-01-01T00:00:00Z", "k": 1}}"#,
        Some("2031-01-01T00:00:00+01:00"),
    );
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("\"deny\""), "{out}");
    // Without --now the request's own time decides; without one, a deny.
    let (code, _, _) = eval(
        &dir,
        r#"{"action": "read", "context": {"now": "2024-01-01T00:00:00Z"}}"#,
        None,
    );
    assert_eq!(code, 0);
    let (code, out, _) = eval(&dir, r#"{"action": "read"}"#, None);
    assert_eq!(code, 3, "{out}");
    // Text that is not RFC 3339 is refused before deciding.
    let (code, _, err) = eval(&dir, r#"{"action": "read"}"#, Some("yesterday"));
    assert_eq!(code, 2);
    assert!(err.contains("--now"), "{err}");
    let (code, _, err) = eval(
        &dir,
        r#"{"action": "read", "context": 5}"#,
        Some("2024-05-01T12:00:00Z"),
    );
    assert_eq!(code, 2, "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}
