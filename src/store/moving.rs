//! Moving in (docs/TEAM-MODE.md §5): a home's SQLite log and outbox copied into an
//! empty PostgreSQL store, once. The SQLite chain is verified first; every table the
//! migrations made is copied in one PostgreSQL transaction with its ids, hashes and
//! timestamps unchanged (spooled message bytes and the files of unsigned mail read
//! in, each held to its hash); the chain is verified again there and must end at the
//! same count and head; a `store_moves` row and a `store-migrated` event close it.
//! Renaming the SQLite file afterwards is the command's part.
//!
//! Tables are enumerated from SQLite's schema, so a table a later migration adds is
//! copied without a change here.

use std::path::{Path, PathBuf};

use super::sql::{Cell, Engine, Value};
use super::target::{Location, Postgres};
use super::{Actor, Store, log, spool};
use crate::anchor::LogHead;
use crate::exit::{Failure, FailureKind};

/// Tables whose rows others reference, copied first; the rest follow by name.
const PARENTS_FIRST: [&str; 4] = ["incidents", "messages", "message_bytes", "events"];

/// What a move copied.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Moved {
    /// Rows copied per table, in the order copied.
    pub tables: Vec<(String, u64)>,
    /// Message bytes read in from spool files (each matching its SHA-256).
    pub spooled_read_in: u64,
    /// Unsigned mail read in from its file (matching the row's content hash).
    pub files_read_in: u64,
    /// Why some received rows were copied without their bytes.
    pub warnings: Vec<String>,
    /// The chain as verified on both engines, before the move's own event.
    pub head: LogHead,
}

/// The name a moved SQLite log is kept under: `certmail.sqlite.moved`.
pub fn moved_path(sqlite: &Path) -> PathBuf {
    let mut name = sqlite.as_os_str().to_owned();
    name.push(".moved");
    PathBuf::from(name)
}

/// Copies the SQLite log at `sqlite` into the PostgreSQL store `pg`, as `by`, at `now`.
/// Refuses a broken SQLite chain and a database that holds anything already.
pub fn move_to_postgres(sqlite: &Path, pg: &Postgres, by: Actor, now: &str) -> Result<Moved, Failure> {
    let mut from = Store::open_as(sqlite, by.clone())?;
    let found = from.verify(None)?;
    if !found.problems.is_empty() {
        return Err(Failure::new(
            FailureKind::LogInconsistent,
            format!(
                "{}: the incident log was changed ({} problem(s), see `certmail log verify`): a broken chain is not moved; nothing was copied",
                sqlite.display(),
                found.problems.len()
            ),
        ));
    }
    let head = found.head;
    let tables = tables(from.db.get_mut())?;
    let mut to = Store::open_at(&Location::Postgres(Box::new(pg.clone())), "store migrate", by)?;
    let copied = {
        let db = to.db.get_mut();
        db.begin_write()?;
        match refuse_unless_empty(db, &tables, &pg.url).and_then(|()| copy(from.db.get_mut(), db, sqlite, &tables)) {
            Ok(copied) => copied,
            Err(e) => {
                db.rollback();
                return Err(e);
            }
        }
    };
    match finish(&mut to, sqlite, &head, now) {
        Ok(()) => {}
        Err(e) => {
            to.db.get_mut().rollback();
            return Err(e);
        }
    }
    // The SQLite file alone holds the log from here: the WAL folded into it.
    let db = from.db.get_mut();
    let _ = db.batch("PRAGMA wal_checkpoint(TRUNCATE)");
    let _ = db.batch("PRAGMA journal_mode = DELETE");
    let (tables, spooled_read_in, files_read_in, warnings) = copied;
    Ok(Moved { tables, spooled_read_in, files_read_in, warnings, head })
}

/// The chain verified on PostgreSQL, inside the copy's transaction, held to SQLite's
/// head; then the move recorded and committed.
fn finish(to: &mut Store, sqlite: &Path, head: &LogHead, now: &str) -> Result<(), Failure> {
    let there = to.verify(None)?;
    if !there.problems.is_empty() || there.head != *head {
        return Err(Failure::failed(format!(
            "the copy on PostgreSQL does not verify as the SQLite log did ({} problem(s); {} events, head {}, where SQLite has {} events, head {}); nothing was committed",
            there.problems.len(),
            there.head.count,
            there.head.hash,
            head.count,
            head.hash
        )));
    }
    let by = to.by.clone();
    let db = to.db.get_mut();
    let source = sqlite.display().to_string();
    db.execute(
        "INSERT INTO store_moves (moved_at, source, events, head) VALUES (?1, ?2, ?3, ?4)",
        vals![now, &source, head.count, &head.hash],
    )?;
    // The move is told on the newest incident's timeline (an event names an incident).
    if let Some(newest) = db.one_opt::<i64>("SELECT MAX(id) FROM incidents", &[])?.filter(|_| head.count > 0) {
        let detail = serde_json::json!({ "from": source, "events": head.count, "head": head.hash });
        log::event(db, newest, None, now, "store-migrated", &detail, &by)?;
    }
    db.commit()
}

/// Every table of the SQLite schema, parents first.
fn tables(db: &mut Engine) -> Result<Vec<String>, Failure> {
    let rows = db.rows("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name", &[])?;
    let mut names = rows.iter().map(|r| r.get::<String>(0)).collect::<Result<Vec<_>, _>>()?;
    names.sort_by_key(|n| (PARENTS_FIRST.iter().position(|p| p == n).unwrap_or(PARENTS_FIRST.len()), n.clone()));
    Ok(names)
}

/// Refuses a database that holds any row (but the empty chain's head): a move never
/// runs twice, and never merges two logs.
fn refuse_unless_empty(db: &mut Engine, tables: &[String], url: &str) -> Result<(), Failure> {
    for table in tables {
        let held: bool = if table == "chain_head" {
            db.one("SELECT EXISTS (SELECT 1 FROM chain_head WHERE count <> 0)", &[])?
        } else {
            db.one(&format!("SELECT EXISTS (SELECT 1 FROM {table})"), &[])?
        };
        if held {
            let why = if table == "store_moves" { "a log was moved into it before" } else { "it is not empty" };
            return Err(Failure::new(
                FailureKind::Conflict,
                format!("{url}: {why} ({table} holds rows): store migrate copies a log once, into an empty database; nothing was copied"),
            ));
        }
    }
    Ok(())
}

type Copied = (Vec<(String, u64)>, u64, u64, Vec<String>);

/// Copies every table's rows as they are, then reads in what SQLite kept in files.
fn copy(from: &mut Engine, to: &mut Engine, sqlite: &Path, tables: &[String]) -> Result<Copied, Failure> {
    let mut counts = Vec::new();
    for table in tables {
        let columns: Vec<String> = from
            .rows("SELECT name FROM pragma_table_info(?1) ORDER BY cid", vals![table])?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_, _>>()?;
        let bytea: Vec<bool> = {
            let types = to.rows(
                "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT) FROM information_schema.columns WHERE table_name = CAST(?1 AS TEXT) AND table_schema = current_schema()",
                vals![table],
            )?;
            let types: Vec<(String, String)> = types.iter().map(|r| Ok((r.get(0)?, r.get(1)?))).collect::<Result<_, Failure>>()?;
            columns.iter().map(|c| types.iter().any(|(n, t)| n == c && t == "bytea")).collect()
        };
        if table == "chain_head" {
            to.execute("DELETE FROM chain_head", &[])?;
        }
        let list = columns.join(", ");
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("?{i}")).collect();
        let insert = format!("INSERT INTO {table} ({list}) VALUES ({})", marks.join(", "));
        let rows = from.query(&format!("SELECT {list} FROM {table} ORDER BY rowid"), &[])?;
        for row in &rows {
            let values: Vec<Value> = row.iter().zip(&bytea).map(|(c, b)| value(c, *b)).collect();
            to.execute(&insert, &values)?;
        }
        counts.push((table.clone(), rows.len() as u64));
    }
    let spooled = read_in_spool(from, to, sqlite)?;
    let (files, warnings) = read_in_files(from, to)?;
    set_identities(to, tables)?;
    Ok((counts, spooled, files, warnings))
}

fn value(cell: &Cell, bytea: bool) -> Value<'_> {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(v) => Value::Int(*v),
        Cell::Bool(b) => Value::Int(i64::from(*b)),
        // SQLite keeps an empty blob written as text as text.
        Cell::Text(t) if bytea => Value::Bytes(t.as_bytes()),
        Cell::Text(t) => Value::Text(t),
        Cell::Bytes(b) => Value::Bytes(b),
    }
}

/// Messages whose bytes are in a spool file next to the SQLite log: read, held to
/// their size and SHA-256, into `message_bytes` (PostgreSQL has no spool).
fn read_in_spool(from: &mut Engine, to: &mut Engine, sqlite: &Path) -> Result<u64, Failure> {
    let rows = from.rows(
        "SELECT m.id, m.spool, m.size, m.sha256 FROM messages m LEFT JOIN message_bytes b ON b.message = m.id
         WHERE b.message IS NULL AND m.spool IS NOT NULL ORDER BY m.id",
        &[],
    )?;
    for r in &rows {
        let (id, name, size, sha256): (i64, String, i64, String) = (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        let bytes = spool::read_spooled(sqlite, &name, size.max(0) as u64, &sha256)?;
        to.execute("INSERT INTO message_bytes (message, bytes) VALUES (?1, ?2)", vals![id, &bytes])?;
    }
    Ok(rows.len() as u64)
}

/// Unsigned mail ingested from a file kept no bytes: read in from the file if it is
/// still there and matches the row's content hash; else the row stays as it was, with
/// a warning (another machine cannot read this one's files).
fn read_in_files(from: &mut Engine, to: &mut Engine) -> Result<(u64, Vec<String>), Failure> {
    let rows = from.rows("SELECT id, file, content_hash FROM received WHERE file IS NOT NULL AND length(raw) = 0 ORDER BY id", &[])?;
    let (mut read, mut warnings) = (0, Vec::new());
    for r in &rows {
        let (id, file, hash): (i64, String, String) = (r.get(0)?, r.get(1)?, r.get(2)?);
        let found = crate::mailbox::maildir_file_now(Path::new(&file)).and_then(|p| std::fs::read(p).ok());
        match found {
            Some(bytes) if super::sha256_hex(&bytes) == hash => {
                to.execute("UPDATE received SET raw = ?1 WHERE id = ?2", vals![&bytes, id])?;
                read += 1;
            }
            Some(_) => warnings.push(format!("{file} has changed since it was ingested: received row {id} is copied without its bytes")),
            None => warnings.push(format!("{file} is gone: received row {id} is copied without its bytes")),
        }
    }
    Ok((read, warnings))
}

/// Each identity column's sequence set past the largest id copied.
fn set_identities(to: &mut Engine, tables: &[String]) -> Result<(), Failure> {
    for table in tables {
        let identity: bool = to.one(
            "SELECT EXISTS (SELECT 1 FROM information_schema.columns
                            WHERE table_name = CAST(?1 AS TEXT) AND column_name = 'id' AND is_identity = 'YES' AND table_schema = current_schema())",
            vals![table],
        )?;
        if identity {
            to.query(
                &format!("SELECT setval(pg_get_serial_sequence(?1, 'id'), COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"),
                vals![table],
            )?;
        }
    }
    Ok(())
}
