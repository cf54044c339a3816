//! `certmail new`: prints the commented incident file of one or more schemes (see
//! `incident::skeleton`) on standard output. Reads and writes nothing else.

use std::io::Write;

use crate::cli::NewArgs;
use crate::commands::{language, scheme};
use crate::config::Settings;
use crate::exit::{CmdResult, Outcome};
use crate::incident::skeleton::skeleton;

pub fn run(settings: &Settings, args: &NewArgs, json: bool) -> CmdResult {
    let lang = args.lang.map(language).unwrap_or(settings.language());
    let schemes: Vec<_> = args.scheme.iter().map(|s| scheme(*s)).collect();
    let text = skeleton(&schemes, lang);
    if json {
        // The file to save is a value among others for a script.
        crate::output::json(&serde_json::json!({ "language": lang.code(), "text": text }));
        return Ok(Outcome::Done);
    }
    // A closed pipe (`certmail new voluntary | head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(text.as_bytes());
    Ok(Outcome::Done)
}
