//! One file per command: what the command does, nothing reusable.

pub mod fetch;
pub mod incident;
pub mod ingest;
pub mod init;
pub mod keys;
pub mod log;
pub mod notify;
pub mod outbox;
pub mod preview;
pub mod read;
pub mod reply;
pub mod schema;
pub mod secrets;
pub mod status;
pub mod watch;

use crate::cli::Lang;
use crate::incident::Language;

/// The command line's language choice as the model's language.
pub fn language(lang: Lang) -> Language {
    match lang {
        Lang::Da => Language::Da,
        Lang::En => Language::En,
    }
}
