//! Golden files: compare output with the file that pins it, or write it
//! under `BLESS=1` (then review the diff).

#![allow(
    clippy::unwrap_used,
    reason = "a golden that cannot be written fails the test"
)]

use std::path::Path;

/// Compares `actual` with the file at `expected`, or writes it under BLESS.
pub fn golden(expected: &Path, actual: &str) -> Result<(), String> {
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(expected, actual).unwrap();
        return Ok(());
    }
    let want = std::fs::read_to_string(expected).map_err(|e| {
        format!(
            "{}: {e} (run with BLESS=1 to create it)",
            expected.display()
        )
    })?;
    if want == actual {
        Ok(())
    } else {
        Err(format!(
            "{} differs (run with BLESS=1 to accept):\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        ))
    }
}
