//! The only user of rusqlite: the incident log and outbox in one SQLite file (WAL,
//! synchronous=FULL, owner-only), its schema and migrations, and typed queries.
//!
//! A notification's incident row, message row (the exact bytes that will travel) and
//! events are committed in one transaction, before anything is sent.
//!
//! Team mode (docs/TEAM-MODE.md): the same store on PostgreSQL, as the only user of
//! postgres: `target` (where the store is), `sql` (the two engines, the only place
//! that runs SQL), `pg` (connecting and migrating). The same MIGRATIONS make both
//! schemas, and every typed query is one statement text run on either engine; what
//! only SQLite has (PRAGMAs, WAL, incremental blob I/O, spool files) stays in its arms.

use std::cell::{RefCell, RefMut};
use std::path::{Path, PathBuf};

use rusqlite::Connection;

use crate::exit::Failure;
use crate::fsutil;

/// A statement's parameters: `vals![a, b]` is `&[Value::from(a), Value::from(b)]`.
macro_rules! vals {
    ($($v:expr),* $(,)?) => { &[$($crate::store::sql::Value::from($v)),*] };
}

/// Schema migrations, applied in order; `PRAGMA user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    r#"
CREATE TABLE incidents (
    id            INTEGER PRIMARY KEY,
    reference     TEXT NOT NULL UNIQUE,
    year          INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    scheme        TEXT NOT NULL,
    title         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    detected_at   TEXT,
    incident_json TEXT NOT NULL,
    UNIQUE (year, seq)
);
CREATE TABLE messages (
    id                    INTEGER PRIMARY KEY,
    incident_id           INTEGER NOT NULL REFERENCES incidents(id),
    message_id            TEXT NOT NULL UNIQUE,
    recipient             TEXT NOT NULL,
    recipient_fingerprint TEXT NOT NULL,
    envelope_from         TEXT NOT NULL,
    envelope_to           TEXT NOT NULL,
    in_reply_to           TEXT,
    size                  INTEGER NOT NULL,
    state                 TEXT NOT NULL,
    attempts              INTEGER NOT NULL DEFAULT 0,
    next_attempt_at       TEXT,
    last_reply            TEXT,
    created_at            TEXT NOT NULL,
    updated_at            TEXT NOT NULL
);
CREATE INDEX messages_by_state ON messages (state, next_attempt_at);
-- The final bytes live apart from the message's state: a state change then never
-- rewrites a large row, and the blob is the record's last column, so it can be
-- written in place (zeroblob + incremental I/O) without copies in memory.
CREATE TABLE message_bytes (
    message INTEGER PRIMARY KEY REFERENCES messages(id),
    bytes   BLOB NOT NULL
);
CREATE TABLE events (
    id          INTEGER PRIMARY KEY,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    message_id  TEXT,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    detail      TEXT NOT NULL
);
CREATE INDEX events_by_incident ON events (incident_id, id);
"#,
    r#"
-- Delivery: who is sending a row right now, and the last error.
ALTER TABLE messages ADD COLUMN claimed_by INTEGER;
ALTER TABLE messages ADD COLUMN claimed_at TEXT;
ALTER TABLE messages ADD COLUMN last_error TEXT;
"#,
    r#"
-- Tamper evidence: every event carries the hash of the one before it.
ALTER TABLE events ADD COLUMN prev_hash TEXT;
ALTER TABLE events ADD COLUMN hash TEXT;
CREATE TABLE chain_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    count INTEGER NOT NULL,
    hash  TEXT NOT NULL
);
"#,
    r#"
-- Received mail (the CERT's replies, bounces), kept as evidence, once per content.
CREATE TABLE received (
    id           INTEGER PRIMARY KEY,
    incident_id  INTEGER REFERENCES incidents(id),
    message_id   TEXT,
    content_hash TEXT NOT NULL UNIQUE,
    source       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    signature    TEXT NOT NULL,
    encrypted    INTEGER NOT NULL,
    signer       TEXT,
    received_at  TEXT NOT NULL,
    raw          BLOB NOT NULL
);
CREATE INDEX received_by_incident ON received (incident_id);
ALTER TABLE incidents ADD COLUMN cert_case TEXT;
"#,
    r#"
-- Large messages: the final bytes are in a file under outbox/ (see store/spool.rs),
-- made durable before the row commits; the row names it and holds its SHA-256.
ALTER TABLE messages ADD COLUMN spool TEXT;
ALTER TABLE messages ADD COLUMN sha256 TEXT;
"#,
    r#"
-- Trust in what the CERT said: which replies are bound to their incident by a good,
-- whole-message signature, who signed, what an analyst should know, and the identity
-- that recognises the same message (or a replay of its signed content) again.
ALTER TABLE received ADD COLUMN identity TEXT;
ALTER TABLE received ADD COLUMN bound INTEGER NOT NULL DEFAULT 0;
ALTER TABLE received ADD COLUMN signer_recipient TEXT;
ALTER TABLE received ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
ALTER TABLE received ADD COLUMN from_address TEXT;
ALTER TABLE received ADD COLUMN subject TEXT;
CREATE INDEX received_by_identity ON received (identity);
CREATE INDEX received_by_message_id ON received (message_id);
-- Earlier releases took a case number from any reply; one no good signature vouched
-- for is forgotten, so unsigned mail cannot bind through it.
UPDATE incidents SET cert_case = NULL
 WHERE cert_case IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM received r WHERE r.incident_id = incidents.id AND r.signature = 'good');
-- An analyst's correction of a message's kind.
ALTER TABLE received ADD COLUMN marked_kind TEXT;
"#,
    COVER_ROWS,
    r#"
-- certmail fetch: per IMAP folder (its URL), the UIDVALIDITY and the highest UID whose
-- message is recorded, so each message is read once; a new UIDVALIDITY starts again
-- from the first (ingest recognises what it recorded before). Not part of the chained
-- log: it says how far the mailbox was read, nothing about an incident.
CREATE TABLE imap_folders (
    url           TEXT PRIMARY KEY,
    uid_validity  INTEGER NOT NULL,
    last_uid      INTEGER NOT NULL,
    fetched_at    TEXT NOT NULL
);
"#,
    r#"
-- [hooks]: each event told to the hook once. A row is the claim to run it, taken
-- before it runs, so two processes (cron's fetch, a watch) never both do.
CREATE TABLE hooks_fired (
    key        TEXT PRIMARY KEY,
    event      TEXT NOT NULL,
    reference  TEXT,
    fired_at   TEXT NOT NULL
);
"#,
    r#"
-- Unsigned mail read from a message file (a Maildir's, or one named on the command
-- line) is not copied into the log: `file` names where it is, and `certmail read`
-- reads it from there, holding it to the row's content hash.
ALTER TABLE received ADD COLUMN file TEXT;
"#,
    r#"
-- No accidental duplicates: the SHA-256 of the incident JSON a message carries (NULL
-- for a free-text reply), by which `notify` recognises the same report sent before.
ALTER TABLE messages ADD COLUMN incident_sha256 TEXT;
CREATE INDEX messages_by_incident_sha256 ON messages (incident_sha256);
"#,
    r#"
-- --idempotency-key: a script's retry gets the first result instead of a second
-- message. Taken in the transaction that queues the messages; `result` is what was
-- printed (replaced once delivery ended). Not part of the chained log: it says what
-- a script was told, nothing about an incident that the messages' events do not.
CREATE TABLE idempotency_keys (
    key         TEXT PRIMARY KEY,
    command     TEXT NOT NULL,
    request     TEXT NOT NULL,
    incident_id INTEGER NOT NULL REFERENCES incidents(id),
    messages    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    result      TEXT NOT NULL
);
"#,
    COVER_RECEIVED,
    r#"
-- Staged filings on Virk.dk (`certmail incident virk --stage`): one row per stage
-- submitted, each stated by its `virk-filed` event (store/cover.rs). Filings recorded
-- before this have no row: their event alone says what was filed (store/filings.rs).
CREATE TABLE filings (
    id             INTEGER PRIMARY KEY,
    incident_id    INTEGER NOT NULL REFERENCES incidents(id),
    regime         TEXT NOT NULL,
    stage          TEXT NOT NULL,
    virk_reference TEXT NOT NULL,
    submitted_at   TEXT NOT NULL,
    late_reason    TEXT,
    receipt_sha256 TEXT
);
CREATE INDEX filings_by_incident ON filings (incident_id, stage);
"#,
    r#"
-- Who did what (team mode): whose certmail wrote each event, its [identity]'s name
-- and e-mail and the fingerprint of the key it signs with, and the database user the
-- server vouches for (PostgreSQL only). NULL for events written before; the chain
-- covers them from here on (store/actor.rs).
ALTER TABLE events ADD COLUMN by_name TEXT;
ALTER TABLE events ADD COLUMN by_email TEXT;
ALTER TABLE events ADD COLUMN by_key TEXT;
ALTER TABLE events ADD COLUMN by_db_user TEXT;
"#,
    r#"
-- `certmail store migrate --to`: the SQLite log this database's log was copied from,
-- once (store/moving.rs); a database with a row here is never copied into again.
CREATE TABLE store_moves (
    id         INTEGER PRIMARY KEY,
    moved_at   TEXT NOT NULL,
    source     TEXT NOT NULL,
    events     INTEGER NOT NULL,
    head       TEXT NOT NULL
);
"#,
    r#"
-- Team mode: session-key packets with which a team member's key opens a message as
-- it arrived (store/reading_keys.rs), by the SHA-256 of the message's bytes.
CREATE TABLE reading_keys (
    message_sha256 TEXT NOT NULL,
    member         TEXT NOT NULL,
    packets        BLOB NOT NULL,
    made_at        TEXT NOT NULL,
    PRIMARY KEY (message_sha256, member)
);
"#,
];

/// The chain covers rows (see store/cover.rs): nothing changes in the schema, but a
/// log older than this gets its uncovered columns attested once, when it is applied.
const COVER_ROWS: &str = r#"
-- The hash chain covers the rows: every column status, log and delivery read is
-- stated by an event (store/cover.rs). Older logs are attested once, after this.
"#;

/// The chain covers what `read` and `status` trust in a received row, and a row
/// keeps why a message is malformed; a log older than this gets the received columns
/// its events did not state attested once, when it is applied (as [`COVER_ROWS`]).
const COVER_RECEIVED: &str = r#"
-- Why a received message is malformed, or what a bounce said, as ingest found it
-- (`certmail read` shows it). From here the chain also covers a received row's bound,
-- flags, signer recipient, From, an analyst's correction and this reason.
ALTER TABLE received ADD COLUMN reason TEXT;
"#;

/// The migrations after which the chain covers more than before, newest last.
const COVERING: [&str; 2] = [COVER_ROWS, COVER_RECEIVED];

/// The schema version this certmail makes: the number of migrations.
pub const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// The version from which a log's rows are covered by the newest covering step.
fn covering_from() -> usize {
    let newest = COVERING[COVERING.len() - 1];
    MIGRATIONS.iter().position(|m| *m == newest).map_or(0, |i| i + 1)
}

pub struct Store {
    /// The connection; a read borrows it for one query at a time (PostgreSQL's client
    /// needs `&mut` to run one), never across a call that borrows it again.
    db: RefCell<Engine>,
    /// The SQLite file; `None` on PostgreSQL, which has no spool folder.
    path: Option<PathBuf>,
    /// Who the events this store appends say wrote them (store/actor.rs).
    by: Actor,
}

mod actor;
mod cover;
mod fetch;
mod filings;
mod hooks;
mod log;
pub mod moving;
mod outbox;
mod pending;
pub mod pg;
pub mod reading_keys;
mod received;
mod spool;
/// Public for the tests that hold both engines to one statement text.
pub mod sql;
mod state;
pub mod target;
pub use actor::{Actor, LastEvent, MessageBy};
pub use fetch::{FolderState, LastFetch};
pub use filings::{Filed, NewFiling};
pub(crate) use log::event;
pub use log::{ChainProblem, EventRow, IncidentRow, StatusRow, Verification};
pub use outbox::{Attempt, ClaimQuery, Claimed, OutboxRow};
pub use pending::{KeyUse, NewIncident, NewKey, NewMessage, Notified, Pending, Record, Reported, Revision, Thread};
pub use received::{Correlation, Earlier, NewReceived, StoredMessage};
pub use spool::{MessageBytes, MessageSink};
pub use state::MessageState;

use sql::{Engine, Row};
use target::Location;

pub(crate) fn db_error(what: &str) -> impl Fn(rusqlite::Error) -> Failure + '_ {
    move |e| Failure::failed(format!("incident log: {what}: {e}"))
}

/// The WAL a closing process leaves for the next one to replay, at most.
pub const WAL_KEPT_BYTES: u64 = 1024 * 1024;

impl Drop for Store {
    /// Checkpoints the WAL into the database and truncates it once it is larger than
    /// [`WAL_KEPT_BYTES`]. Never waits: while another process has the log open the
    /// checkpoint is left to whichever closes last.
    fn drop(&mut self) {
        let (Some(path), Engine::Sqlite(conn)) = (&self.path, self.db.get_mut()) else { return };
        let mut wal = path.clone().into_os_string();
        wal.push("-wal");
        if std::fs::metadata(&wal).is_ok_and(|m| m.len() > WAL_KEPT_BYTES) {
            let _ = conn.busy_timeout(std::time::Duration::ZERO);
            // Not done is harmless (the data is in the WAL, durably): only slower.
            let _ = conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)");
        }
    }
}

impl Store {
    /// Opens the store where the configuration puts it (see [`Settings::store_location`](crate::config::Settings::store_location)):
    /// the SQLite file, or the team's PostgreSQL database; `command` names the
    /// connection on the server. Every event it appends (an upgrade's included) is
    /// written `by` (and the database user the engine knows, see store/actor.rs).
    pub fn open_at(location: &Location, command: &str, by: Actor) -> Result<Store, Failure> {
        match location {
            Location::Sqlite(path) => Store::open_as(path, by),
            Location::Postgres(pg) => {
                let mut db = Engine::Postgres(Box::new(sql::PgConnection::new(pg::connect(pg, command)?)));
                let by = Actor { db_user: actor::db_user(&mut db)?, ..by };
                pg::migrate(&mut db, &by)?;
                Ok(Store { db: RefCell::new(db), path: None, by })
            }
        }
    }

    /// Opens the store if it exists: a SQLite file not made yet is `None` (a
    /// PostgreSQL store always exists once it is configured).
    pub fn open_existing(location: &Location, command: &str, by: Actor) -> Result<Option<Store>, Failure> {
        match location {
            Location::Sqlite(path) if !path.exists() => Ok(None),
            _ => Store::open_at(location, command, by).map(Some),
        }
    }

    /// The connection, for one query (see [`Store::db`]).
    fn db(&self) -> RefMut<'_, Engine> {
        self.db.borrow_mut()
    }

    /// Opens (creating owner-only if needed) and migrates the SQLite store, as no one:
    /// the events it appends (an upgrade's included) record no writer. Commands open
    /// it [`Store::open_at`] their home's writer.
    pub fn open(path: &Path) -> Result<Store, Failure> {
        Store::open_as(path, Actor::default())
    }

    /// [`Store::open`], appending every event as written `by`.
    pub fn open_as(path: &Path, by: Actor) -> Result<Store, Failure> {
        if let Some(dir) = path.parent() {
            fsutil::private_dir(dir)?;
        }
        if !path.exists() {
            // Create the file owner-only before SQLite does, with its default umask. In
            // place, not by rename: two first runs at once (a script's retry) both succeed.
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .mode(0o600)
                .open(path)
                .map_err(|e| crate::exit::io_failure("cannot create the incident log", path, e))?;
        }
        let conn = Connection::open(path).map_err(|e| Failure::failed(format!("cannot open the incident log {}: {e}", path.display())))?;
        conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(db_error("busy timeout"))?;
        // Switching a new file to WAL needs it alone, and SQLite answers "busy" at
        // once (without the busy handler) while another process opens it too: retry.
        let mut tries = 0;
        loop {
            match conn.pragma_update(None, "journal_mode", "WAL") {
                Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::DatabaseBusy && tries < 100 => {
                    tries += 1;
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => break other.map_err(db_error("WAL mode"))?,
            }
        }
        conn.pragma_update(None, "synchronous", "FULL").map_err(db_error("synchronous mode"))?;
        conn.pragma_update(None, "foreign_keys", "ON").map_err(db_error("foreign keys"))?;
        // Statement journals (one per savepoint: each received message is recorded in
        // its own) stay in memory instead of a temporary file written for every message.
        conn.pragma_update(None, "temp_store", "MEMORY").map_err(db_error("temporary storage"))?;
        // A WAL that once grew large is cut back when it is next reset, so it does not
        // stay large on disk, nor make every later open read it.
        conn.pragma_update(None, "journal_size_limit", 4 * 1024 * 1024).map_err(db_error("WAL size limit"))?;
        // The WAL is kept between runs: checkpointing and removing it at every close
        // costs four more fsyncs than the notification's own commit (about 0.9 ms of
        // a 9 ms notify). But every process replays the whole WAL it finds, and the
        // replay forgets how far the last checkpoint got, so SQLite never restarts it:
        // left alone it grew by every commit, without bound (17 MB after 300
        // notifications, 18 ms per notify). `Drop` therefore truncates it once it
        // passes WAL_KEPT_BYTES.
        conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, true).map_err(db_error("checkpoint on close"))?;
        let mut db = Engine::Sqlite(conn);
        let by = Actor { db_user: actor::db_user(&mut db)?, ..by };
        db.begin()?;
        match migrate_in(&mut db, &by) {
            Ok(_) => db.commit()?,
            Err(e) => {
                db.rollback();
                return Err(e);
            }
        }
        Ok(Store { db: RefCell::new(db), path: Some(path.to_path_buf()), by })
    }

    /// The reference the next new incident of `year` would get (read-only).
    /// Message-IDs of an existing incident's messages, oldest first; `None` if the
    /// reference is unknown.
    pub fn thread(&self, reference: &str) -> Result<Option<Vec<String>>, Failure> {
        thread(&mut self.db(), reference)
    }

    /// Reserves a reference (a new one, or `follow_up`'s) and holds the write lock.
    pub fn begin(&mut self, follow_up: Option<&str>, year: i32) -> Result<Pending<'_>, Failure> {
        let db = self.db.get_mut();
        db.begin_write()?;
        let found = reserve(db, follow_up, year);
        let (reference, existing_incident, seq) = match found {
            Ok(found) => found,
            Err(e) => {
                db.rollback();
                return Err(e);
            }
        };
        Ok(Pending { store: self, open: true, reference, existing_incident, year, seq })
    }

    /// Removes spool files of notifications that never committed (see
    /// [`spool::remove_leftovers`]); returns their paths. PostgreSQL has no spool.
    pub fn remove_spool_leftovers(&self) -> Result<Vec<PathBuf>, Failure> {
        let Some(path) = &self.path else { return Ok(Vec::new()) };
        spool::remove_leftovers(path, |name| self.db().one("SELECT EXISTS (SELECT 1 FROM messages WHERE spool = ?1)", vals![name]))
    }

    /// Number of messages in a state (used by tests and status).
    pub fn count_state(&self, state: &str) -> Result<i64, Failure> {
        self.db().one("SELECT COUNT(*) FROM messages WHERE state = ?1", vals![state])
    }

    /// The bytes of a message, by Message-ID.
    pub fn message_bytes(&self, message_id: &str) -> Result<Option<Vec<u8>>, Failure> {
        let row = self.db().row_opt(
            &format!("SELECT {STORED_BYTES} FROM messages m LEFT JOIN message_bytes b ON b.message = m.id WHERE m.message_id = ?1"),
            vals![message_id],
        )?;
        row.map(|r| StoredBytes::from_row(&r, 0)?.load(self.path.as_deref())).transpose()
    }

    /// Event kinds of an incident, oldest first.
    pub fn event_kinds(&self, reference: &str) -> Result<Vec<String>, Failure> {
        let rows = self.db().rows(
            "SELECT e.kind FROM events e JOIN incidents i ON i.id = e.incident_id WHERE i.reference = ?1 ORDER BY e.id",
            vals![reference],
        )?;
        rows.iter().map(|r| r.get(0)).collect()
    }
}

/// The migrations, and the upgrade's Rust steps (their events written `by`), inside
/// the migration's transaction; the version the schema had.
fn migrate_in(db: &mut Engine, by: &Actor) -> Result<usize, Failure> {
    let version = sql::apply_migrations(db, MIGRATIONS)?;
    upgrade_steps(db, version, by)?;
    Ok(version)
}

/// The upgrade's Rust steps, after the migrations of a schema that was at `version`;
/// the events they append are written `by` (the home that opened the log).
pub(crate) fn upgrade_steps(db: &mut Engine, version: usize, by: &Actor) -> Result<(), Failure> {
    // Events recorded before the chain existed get their hashes now.
    log::backfill_chain(db)?;
    // Once, for a log from before the newest covering step: it states what only
    // that step's events would have said (an older log gets it all at once).
    if version < covering_from() {
        // The upgrade is an edge like a command's start: it reads the clock itself.
        cover::attest_uncovered(db, &timestamp(chrono::Utc::now()), by)?;
    }
    Ok(())
}

/// The reference a new notification gets (or `follow_up`'s), its incident if it has
/// one, and the next sequence number of `year`.
fn reserve(db: &mut Engine, follow_up: Option<&str>, year: i32) -> Result<(String, Option<i64>, i64), Failure> {
    match follow_up {
        Some(r) => {
            let Some(id) = db.one_opt::<i64>("SELECT id FROM incidents WHERE reference = ?1", vals![r])? else {
                return Err(Failure::not_found(format!("{r}: no such incident in the log (see `certmail log list`)")));
            };
            Ok((r.to_string(), Some(id), 0))
        }
        None => {
            let seq: i64 = db.one("SELECT COALESCE(MAX(seq), 0) + 1 FROM incidents WHERE year = ?1", vals![year])?;
            Ok((unused_reference(db)?, None, seq))
        }
    }
}

fn thread(db: &mut Engine, reference: &str) -> Result<Option<Vec<String>>, Failure> {
    let Some(id) = db.one_opt::<i64>("SELECT id FROM incidents WHERE reference = ?1", vals![reference])? else { return Ok(None) };
    let rows = db.rows("SELECT message_id FROM messages WHERE incident_id = ?1 ORDER BY id", vals![id])?;
    rows.iter().map(|r| r.get(0)).collect::<Result<Vec<String>, _>>().map(Some)
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Timestamps as stored: UTC, fixed width, so that text order is time order.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A random reference no incident in this log has (a clash is next to impossible,
/// but costs one query to rule out).
fn unused_reference(db: &mut Engine) -> Result<String, Failure> {
    loop {
        let candidate = crate::reference::new_reference()?;
        let taken: bool = db.one("SELECT EXISTS (SELECT 1 FROM incidents WHERE reference = ?1)", vals![&candidate])?;
        if !taken {
            return Ok(candidate);
        }
    }
}

/// The columns that say where a message's bytes are, for [`StoredBytes::from_row`];
/// the query joins `messages m LEFT JOIN message_bytes b`.
/// With the `queued` event's detail, which states the SHA-256 of the bytes queued,
/// and the row's Message-ID: bytes changed in the row since, or a row no event
/// queued (whoever can write to the database could make either), are then neither
/// sent nor shown.
pub(crate) const STORED_BYTES: &str = "b.bytes, m.spool, m.size, m.sha256,
    (SELECT e.detail FROM events e WHERE e.incident_id = m.incident_id AND e.message_id = m.message_id AND e.kind = 'queued' ORDER BY e.id LIMIT 1),
    m.message_id";

/// The Message-ID in a message's own header (before its first blank line).
fn outer_message_id(bytes: &[u8]) -> Option<String> {
    let end = memchr::memmem::find(bytes, b"\r\n\r\n").unwrap_or(bytes.len().min(64 * 1024));
    let head = String::from_utf8_lossy(&bytes[..end]);
    let line = head.split("\r\n").find(|l| l.get(..11).is_some_and(|name| name.eq_ignore_ascii_case("message-id:")))?;
    Some(line.get(11..)?.trim().trim_matches(['<', '>']).to_string())
}

/// What the message's `queued` event says of its bytes.
pub(crate) enum Queued {
    /// No event queued it: the row was made outside certmail.
    Never,
    /// An event of a release before the chain covered rows, which states no hash.
    WithoutHash,
    Sha256(String),
}

/// A message's bytes as a row holds them: inline (with what its `queued` event says
/// of them, and the Message-ID of its row), or the name of a spool file.
pub(crate) enum StoredBytes {
    Inline { bytes: Vec<u8>, queued: Queued, message_id: Option<String> },
    Spooled { name: String, size: u64, sha256: String },
    Missing,
}

impl StoredBytes {
    /// Reads the [`STORED_BYTES`] columns starting at `first`.
    pub(crate) fn from_row(r: &Row, first: usize) -> Result<StoredBytes, Failure> {
        let inline: Option<Vec<u8>> = r.get(first)?;
        let spool: Option<String> = r.get(first + 1)?;
        let size: i64 = r.get(first + 2)?;
        let sha256: Option<String> = r.get(first + 3)?;
        let event: Option<String> = r.get(first + 4)?;
        let queued = match event
            .map(|d| serde_json::from_str::<serde_json::Value>(&d).ok().and_then(|d| d["sha256"].as_str().map(str::to_string)))
        {
            None => Queued::Never,
            Some(None) => Queued::WithoutHash,
            Some(Some(sha256)) => Queued::Sha256(sha256),
        };
        let message_id: Option<String> = r.get(first + 5)?;
        Ok(match (inline, spool, sha256) {
            (Some(bytes), _, _) => StoredBytes::Inline { bytes, queued, message_id },
            (None, Some(name), Some(sha256)) => StoredBytes::Spooled { name, size: size.max(0) as u64, sha256 },
            _ => StoredBytes::Missing,
        })
    }

    /// The bytes; a spooled message's from its file next to the SQLite log.
    pub(crate) fn load(self, store_path: Option<&Path>) -> Result<Vec<u8>, Failure> {
        match self {
            StoredBytes::Inline { bytes, queued, message_id } => {
                let refused = |why: String| {
                    Err(Failure::new(
                        crate::exit::FailureKind::LogInconsistent,
                        format!("incident log: {why}; it is neither sent nor shown. `certmail log verify` says more"),
                    ))
                };
                let found = sha256_hex(&bytes);
                match queued {
                    Queued::Never => {
                        return refused("no event of its incident queued this message (the row was made outside certmail)".into());
                    }
                    Queued::Sha256(queued) if queued != found => {
                        return refused(format!(
                            "the message's bytes were changed after it was queued (its queued event says SHA-256 {queued}, the row holds {found})"
                        ));
                    }
                    _ => {}
                }
                // The bytes of another message (another incident's, a member's genuine
                // notification) carry their own Message-ID.
                if let Some(id) = message_id
                    && outer_message_id(&bytes).is_some_and(|inside| inside != id)
                {
                    return refused(format!("the bytes in the row of <{id}> are another message's"));
                }
                Ok(bytes)
            }
            StoredBytes::Spooled { name, size, sha256 } => match store_path {
                Some(path) => spool::read_spooled(path, &name, size, &sha256),
                None => {
                    Err(Failure::failed(format!("incident log: the message names a spool file ({name}), which PostgreSQL has none of")))
                }
            },
            StoredBytes::Missing => Err(Failure::failed("incident log: a queued message has no bytes recorded")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident() -> NewIncident<'static> {
        NewIncident { scheme: "voluntary", title: "t", detected_at: None, incident_json: "{}" }
    }

    fn message(id: &str) -> NewMessage<'_> {
        static BYTES: std::sync::LazyLock<MessageBytes> = std::sync::LazyLock::new(|| MessageBytes::Inline(b"x".to_vec()));
        NewMessage {
            message_id: id,
            recipient: "example-cert",
            recipient_fingerprint: "F",
            envelope_from: "a@example.dk",
            envelope_to: "b@example.dk",
            in_reply_to: None,
            bytes: &BYTES,
        }
    }

    fn commit_one(p: Pending, id: &str) {
        let messages = [message(id)];
        p.commit(&Record { revision: Revision::Report(incident()), messages: &messages, key: None, claim: false }, "now").unwrap();
    }

    #[test]
    fn references_are_random_and_follow_ups_thread() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let p = store.begin(None, 2026).unwrap();
        let first = p.reference.clone();
        assert_eq!(crate::reply::references_in(&first), vec![first.clone()], "{first}");
        commit_one(p, "m1@x");
        let p = store.begin(None, 2026).unwrap();
        assert_ne!(p.reference, first);
        drop(p);
        let p = store.begin(Some(&first), 2026).unwrap();
        let thread = p.thread("example-cert").unwrap();
        assert_eq!(thread, Thread { in_reply_to: Some("m1@x".into()), references: vec!["m1@x".into()] });
        assert_eq!(p.thread("another-cert").unwrap(), Thread::default(), "each recipient has its own thread");
        commit_one(p, "m2@x");
        assert_eq!(store.event_kinds(&first).unwrap(), ["created", "queued", "follow-up", "queued"]);
        assert_eq!(store.count_state("queued").unwrap(), 2);
        assert!(store.begin(Some("CM-2026-0099"), 2026).is_err());
    }

    #[test]
    fn one_commit_holds_a_message_per_recipient_and_the_same_report_is_found_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let p = store.begin(None, 2026).unwrap();
        let reference = p.reference.clone();
        let (a, mut b) = (message("a@x"), message("b@x"));
        b.recipient = "sector-cert";
        let result = serde_json::json!({ "reference": reference });
        let key = NewKey { key: "k1", command: "notify", request: "r1", result: &result };
        let record = Record { revision: Revision::Report(incident()), messages: &[a, b], key: Some(key), claim: true };
        p.commit(&record, "now").unwrap();
        assert_eq!(store.event_kinds(&reference).unwrap(), ["created", "queued", "sending", "queued", "sending"]);
        assert_eq!(store.count_state("sending").unwrap(), 2);
        let same = store.notified_with(&sha256_hex(b"{}")).unwrap();
        assert_eq!(same.iter().map(|n| n.recipient.as_str()).collect::<Vec<_>>(), ["example-cert", "sector-cert"]);
        assert!(same.iter().all(|n| n.reference == reference));
        let used = store.idempotency_key("k1").unwrap().unwrap();
        assert_eq!((used.reference.as_str(), used.request.as_str(), &used.result), (reference.as_str(), "r1", &result));
        assert!(store.idempotency_key("k2").unwrap().is_none());
        let p = store.begin(Some(&reference), 2026).unwrap();
        assert_eq!(p.recipients().unwrap(), ["example-cert", "sector-cert"]);
        let reply = [message("c@x")];
        p.commit(&Record { revision: Revision::Message { text_sha256: "t" }, messages: &reply, key: None, claim: false }, "now").unwrap();
        assert_eq!(store.event_kinds(&reference).unwrap()[5..], ["replied", "queued"]);
        assert_eq!(store.notified_with(&sha256_hex(b"{}")).unwrap().len(), 2, "a reply carries no report");
        assert_eq!(store.verify_chain().unwrap(), vec![]);
    }

    #[test]
    fn events_from_before_the_chain_get_hashes_and_verify() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        commit_one(store.begin(None, 2026).unwrap(), "m1@x");
        // As if recorded by a version without the chain:
        store.db.get_mut().batch("UPDATE events SET prev_hash = NULL, hash = NULL; DELETE FROM chain_head;").unwrap();
        assert!(!store.verify_chain().unwrap().is_empty());
        store.db.get_mut().write(log::backfill_chain).unwrap();
        assert_eq!(store.verify_chain().unwrap(), vec![]);
    }

    #[test]
    fn a_row_changed_behind_the_chain_is_found_and_an_upgrade_cannot_launder_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        commit_one(store.begin(None, 2026).unwrap(), "m1@x");
        // A new log's events say everything: an upgrade has nothing to add.
        assert_eq!(store.db.get_mut().write(|db| cover::attest_uncovered(db, "later", &Actor::default())).unwrap(), 0);
        assert_eq!(store.verify_chain().unwrap(), vec![]);
        store.db.get_mut().batch("UPDATE messages SET state = 'sent'").unwrap();
        let problems = store.verify_chain().unwrap();
        assert!(problems.len() == 1 && problems[0].problem.contains("state is \"sent\""), "{problems:?}");
        // Attesting again (as a rerun upgrade would) states only what no event did.
        assert_eq!(store.db.get_mut().write(|db| cover::attest_uncovered(db, "later", &Actor::default())).unwrap(), 0);
        assert_eq!(store.verify_chain().unwrap().len(), 1);
    }

    #[test]
    fn store_file_is_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("home/s.sqlite");
        Store::open(&path).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
    }
}
