//! Where the incident log is kept: the home's SQLite file, or the team's PostgreSQL
//! database, reached as every command reaches it (its URL, TLS and password source
//! from `[store]`), its schema and events read but nothing migrated.

use super::Check;
use crate::config::Settings;
use crate::store::target::{Location, Tls};
use crate::store::{SCHEMA_VERSION, pg};

const NAME: &str = "store";

pub fn check(settings: &Settings) -> Check {
    let location = match settings.store_location() {
        Ok(location) => location,
        Err(f) => return Check::error(NAME, f.message, "correct [store] in config.toml (see README, \"Team mode\")"),
    };
    let pg = match location {
        Location::Sqlite(path) if path.exists() => {
            return Check::ok(NAME, format!("this home's SQLite log, {} (one person's; [store] shares one with a team)", path.display()));
        }
        Location::Sqlite(path) => {
            return Check::ok(NAME, format!("this home's SQLite log, {}: not made yet (the first notification makes it)", path.display()));
        }
        Location::Postgres(pg) => pg,
    };
    let protection = match &pg.tls {
        Tls::Verified { ca_file: Some(ca) } => format!("TLS, the server's certificate checked against {}", ca.display()),
        Tls::Verified { ca_file: None } => "TLS, the server's certificate checked against the system's roots".to_string(),
        Tls::LocalOnly => "no TLS (loopback or a Unix socket: it never leaves this machine)".to_string(),
    };
    let probe = match pg::probe(&pg) {
        Ok(probe) => probe,
        Err(f) => {
            return Check::error(
                NAME,
                f.message,
                "check that the server is up and reachable, [store] url, ca-file, and where the password comes from \
                 (password-command, password-env, or `certmail secrets set store`)",
            );
        }
    };
    let said = format!("the team's database {} as {}, {protection}", pg.url, probe.db_user);
    match probe.version {
        None => Check::ok(NAME, format!("{said}: empty, the first command there makes the schema")),
        Some(v) if v > SCHEMA_VERSION as i64 => Check::error(
            NAME,
            format!("{said}: its schema (version {v}) is newer than this certmail's ({SCHEMA_VERSION})"),
            "install the certmail version the rest of the team runs",
        ),
        Some(v) if v < SCHEMA_VERSION as i64 => Check::warning(
            NAME,
            format!("{said}, {} events: its schema (version {v}) is older than this certmail's ({SCHEMA_VERSION})", probe.events),
            "the next command migrates it; let the watch host, connecting as the owner role, run this version first (README, \"Team mode\")",
        ),
        Some(_) => Check::ok(NAME, format!("{said}: {} events, schema current", probe.events)),
    }
}
