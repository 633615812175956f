//! Writing to stdout and stderr. Write errors (a closed pipe) are ignored: there is nobody
//! left to tell.

use std::io::Write;

use serde::Serialize;

/// Writes `text` to stdout now (replies stream, so every piece is flushed).
pub fn print(text: &str) {
    let mut stdout = std::io::stdout();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// Writes a line to stdout.
pub fn line(text: &str) {
    print(&format!("{text}\n"));
}

/// Writes a line to stderr.
pub fn note(text: &str) {
    let _ = writeln!(std::io::stderr(), "{text}");
}

/// Writes `value` as pretty JSON to stdout.
pub fn json(value: &impl Serialize) {
    match serde_json::to_string_pretty(value) {
        Ok(text) => line(&text),
        Err(error) => note(&format!("link: cannot write JSON: {error}")),
    }
}
