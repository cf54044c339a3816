//! `certmail compose`: placeholder.
use crate::cli::ComposeArgs;
use crate::config::Settings;
use crate::exit::{CmdResult, Outcome};
pub fn run(_settings: &Settings, _args: &ComposeArgs) -> CmdResult {
    Ok(Outcome::Done)
}
