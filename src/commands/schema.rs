//! `certmail schema`: prints the JSON Schema of incident files.

use std::io::Write;

use crate::exit::{CmdResult, Outcome};
use crate::incident;

pub fn run() -> CmdResult {
    let schema = incident::json_schema();
    let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    // A closed pipe (`certmail schema | head`) is not an error worth a panic.
    let _ = writeln!(std::io::stdout().lock(), "{text}");
    Ok(Outcome::Done)
}
