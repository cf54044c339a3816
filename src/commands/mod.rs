//! One file per command: what the command does, nothing reusable.

pub mod docs;
pub mod doctor;
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
// The responder's first hour.
pub mod compose;
pub mod new;

use crate::cli::{Lang, SchemeName};
use crate::incident::{Language, Scheme};

/// The command line's language choice as the model's language.
pub fn language(lang: Lang) -> Language {
    match lang {
        Lang::Da => Language::Da,
        Lang::En => Language::En,
    }
}

/// The command line's scheme as the model's scheme.
pub fn scheme(name: SchemeName) -> Scheme {
    match name {
        SchemeName::NisOperator => Scheme::NisOperator,
        SchemeName::DigitalServiceProvider => Scheme::DigitalServiceProvider,
        SchemeName::PublicAuthority => Scheme::PublicAuthority,
        SchemeName::Voluntary => Scheme::Voluntary,
        SchemeName::PersonalData => Scheme::PersonalData,
        SchemeName::Financial => Scheme::Financial,
    }
}
