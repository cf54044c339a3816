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
pub mod store;
pub mod team;
pub mod watch;
// The responder's first hour.
pub mod compose;
pub mod new;

use crate::cli::{Lang, SchemeName};
use crate::config::Settings;
use crate::exit::Failure;
use crate::store::Store;
use crate::store::target::Location;

/// The store where the configuration puts it: the team's PostgreSQL database (`[store]
/// url` or `CERTMAIL_STORE_URL`), else the SQLite file in the home folder, created if
/// need be. `command` names the connection on the database server. The events it
/// appends are written as this home's writer ([`crate::identity::actor`]).
pub fn open_store(settings: &Settings, command: &str) -> Result<Store, Failure> {
    Store::open_at(&settings.store_location()?, command, writer(settings))
}

/// The store if there is one yet (`None`: no SQLite file, as before any notification).
pub fn existing_store(settings: &Settings, command: &str) -> Result<Option<Store>, Failure> {
    Store::open_existing(&settings.store_location()?, command, writer(settings))
}

/// Who this home writes as, with its signing key as of now: opening the store is a
/// command's start, an edge that reads the clock itself.
fn writer(settings: &Settings) -> crate::store::Actor {
    crate::identity::actor(settings, std::time::SystemTime::now())
}

/// What the store is called in output: the SQLite file, or the database's URL.
pub fn store_name(settings: &Settings) -> Result<std::path::PathBuf, Failure> {
    Ok(match settings.store_location()? {
        Location::Sqlite(path) => path,
        Location::Postgres(pg) => std::path::PathBuf::from(pg.url),
    })
}
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
