//! `certmail schema`: prints the JSON Schema of incident files.

use crate::exit::{CmdResult, Outcome};
use crate::incident;

pub fn run() -> CmdResult {
    let schema = incident::json_schema();
    println!("{}", serde_json::to_string_pretty(&schema).unwrap_or_default());
    Ok(Outcome::Done)
}
