//! The team store on PostgreSQL (docs/TEAM-MODE.md): connecting as `[store]` says
//! (TLS with the server's certificate validated unless the host is loopback or a Unix
//! socket; the password from its command, variable or the OS keyring, never a prompt),
//! and bringing the schema up to date with the same migrations as SQLite.
//!
//! The typed queries run on the connection through `sql::Engine`, as on SQLite.

use std::sync::Arc;
use std::time::Duration;

use postgres::config::SslMode;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, RootCertStore};

use super::sql::{self, pg_error};
use super::target::{Postgres, Tls};
use super::{Actor, actor};
use crate::exit::Failure;
use crate::secrets::{self, Secret, SecretSource};

/// The advisory lock two machines' first runs take, so that one creates the schema
/// and the other finds it made ("certmail" in ASCII).
const MIGRATION_LOCK: i64 = 0x6365_7274_6d61_696c;

/// Connects, sets up the session, and migrates the schema; `command` names the
/// connection in the server's `pg_stat_activity`.
pub fn open(pg: &Postgres, command: &str) -> Result<postgres::Client, Failure> {
    let mut db = sql::Engine::Postgres(Box::new(sql::PgConnection::new(connect(pg, command)?)));
    // An upgrade's events name no writer but the database user (as `Store::open`).
    let by = Actor { db_user: actor::db_user(&mut db)?, ..Actor::default() };
    migrate(&mut db, &by)?;
    match db {
        sql::Engine::Postgres(pg) => Ok(pg.into_client()),
        sql::Engine::Sqlite(_) => unreachable!("made as PostgreSQL above"),
    }
}

/// A connection as [`Postgres`] describes it, with durable commits whatever the
/// server's default (a commit returned is on disk before the first SMTP byte).
pub fn connect(pg: &Postgres, command: &str) -> Result<postgres::Client, Failure> {
    let (password, keyring_said) = password(pg)?;
    let mut config = pg.config.clone();
    if let Some(p) = &password {
        config.password(p.expose());
    }
    // What `pg_stat_activity` shows: which command, on which machine.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").map(|h| h.trim().to_string()).unwrap_or_default();
    let name = if host.is_empty() { format!("certmail {command}") } else { format!("certmail {command} on {host}") };
    config.application_name(&name).connect_timeout(Duration::from_secs(30)).keepalives(true).keepalives_idle(Duration::from_secs(30));
    let connected = match &pg.tls {
        Tls::LocalOnly => config.connect(postgres::NoTls),
        Tls::Verified { ca_file } => {
            config.ssl_mode(SslMode::Require);
            config.connect(tokio_postgres_rustls::MakeRustlsConnect::new(tls_config(ca_file.as_deref())?))
        }
    };
    let mut client = connected.map_err(|e| {
        // The client's own errors say what they are in their source ("password missing").
        let said = match (e.as_db_error(), std::error::Error::source(&e)) {
            (Some(d), _) => d.message().to_string(),
            (None, Some(cause)) => format!("{e}: {cause}"),
            (None, None) => e.to_string(),
        };
        let asked =
            e.as_db_error().is_some_and(|d| *d.code() == postgres::error::SqlState::INVALID_PASSWORD) || said.contains("password missing");
        let hint = match (&password, asked) {
            (None, true) => format!(
                ": the server asks for a password; set [store] password-command or password-env, or `certmail secrets set store`{}",
                keyring_said.map(|k| format!(" ({k})")).unwrap_or_default()
            ),
            _ => String::new(),
        };
        Failure::failed(format!("cannot connect to the team's database {}: {said}{hint}", pg.url))
    })?;
    client.batch_execute("SET synchronous_commit = on").map_err(pg_error("durable commits"))?;
    Ok(client)
}

/// The password from `password-command` or `password-env`, else the OS keyring's entry,
/// else none (the server may not ask: peer, trust or certificate authentication), with
/// why the keyring had none, for the error if the server does ask.
fn password(pg: &Postgres) -> Result<(Option<Secret>, Option<String>), Failure> {
    let user = pg.keyring_user();
    let source = SecretSource {
        purpose: "the password of the team's database",
        config_hint: "[store] password",
        env: pg.password.env.as_deref(),
        command: pg.password.command.as_deref(),
        keyring_user: &user,
    };
    if let Some(secret) = source.explicit()? {
        return Ok((Some(secret), None));
    }
    match secrets::keyring_get(&user) {
        Ok(Some(secret)) => Ok((Some(secret), None)),
        Ok(None) => Ok((None, Some(format!("the OS keyring has no entry certmail/{user}")))),
        Err(e) => Ok((None, Some(e))),
    }
}

/// The system's roots, or `ca-file`'s alone.
fn tls_config(ca_file: Option<&std::path::Path>) -> Result<ClientConfig, Failure> {
    let mut roots = RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let bad = |e: &dyn std::fmt::Display| Failure::config(format!("[store] ca-file {}: {e}", path.display()));
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| bad(&e))?;
            if certs.is_empty() {
                return Err(bad(&"holds no PEM certificate"));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| bad(&e))?;
            }
        }
        None => {
            roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
            if roots.is_empty() {
                return Err(Failure::config("no system CA certificates found; set [store] ca-file"));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Failure::failed(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Brings the schema up to [`super::SCHEMA_VERSION`] in one transaction (PostgreSQL's
/// DDL is transactional, as SQLite's is), after the migration lock, with the upgrade's
/// Rust steps (the chain's backfill, the cover's attestation) as on SQLite; returns the
/// version the database had. The upgrade's events are written `by`.
pub fn migrate(db: &mut sql::Engine, by: &Actor) -> Result<usize, Failure> {
    db.begin()?;
    match migrate_in(db, by) {
        Ok(from) => {
            db.commit()?;
            Ok(from)
        }
        Err(e) => {
            db.rollback();
            Err(e)
        }
    }
}

fn migrate_in(db: &mut sql::Engine, by: &Actor) -> Result<usize, Failure> {
    db.execute("SELECT pg_advisory_xact_lock(?1)", vals![MIGRATION_LOCK])?;
    // Already current (every run but the first): nothing to lock or to write.
    let current: bool = db.one(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = current_schema())",
        &[],
    )?;
    if current {
        let version: Option<i64> = db.one_opt("SELECT version FROM schema_version WHERE id = 1", &[])?;
        if version == Some(super::SCHEMA_VERSION as i64) {
            return Ok(super::SCHEMA_VERSION);
        }
    }
    let from = sql::apply_migrations(db, super::MIGRATIONS)?;
    // The head row exists from the start: writers lock it (docs/TEAM-MODE.md), and so
    // does the upgrade, which may append events.
    db.execute("INSERT INTO chain_head (id, count, hash) VALUES (1, 0, ?1) ON CONFLICT (id) DO NOTHING", vals![super::log::GENESIS])?;
    db.execute("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE", &[])?;
    super::upgrade_steps(db, from, by)?;
    Ok(from)
}

/// What `certmail doctor` says of a team database, read without changing anything.
pub struct Probe {
    /// The schema's version; `None` for a database no certmail has used yet.
    pub version: Option<i64>,
    pub events: i64,
    /// The database user the server says this connection is.
    pub db_user: String,
}

/// Connects as every command does and reads the schema's version and the number of
/// events; migrates nothing (doctor only looks).
pub fn probe(pg: &Postgres) -> Result<Probe, Failure> {
    let mut db = sql::Engine::Postgres(Box::new(sql::PgConnection::new(connect(pg, "doctor")?)));
    let db_user: String = db.one("SELECT CAST(session_user AS TEXT)", &[])?;
    let made: bool = db.one(
        "SELECT EXISTS (SELECT 1 FROM information_schema.tables WHERE table_name = 'schema_version' AND table_schema = current_schema())",
        &[],
    )?;
    if !made {
        return Ok(Probe { version: None, events: 0, db_user });
    }
    let version: Option<i64> = db.one_opt("SELECT version FROM schema_version WHERE id = 1", &[])?;
    let events: i64 = db.one("SELECT COUNT(*) FROM events", &[])?;
    Ok(Probe { version, events, db_user })
}
