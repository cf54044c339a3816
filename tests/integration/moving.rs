//! Moving in (docs/TEAM-MODE.md §5): `certmail store migrate --to` copies a home's
//! SQLite log into an empty PostgreSQL database, once.
//!
//! These tests move a SQLite log into PostgreSQL, so they run in the suite's SQLite
//! pass; under `CERTMAIL_TEST_STORE=postgres` every home already keeps its log on
//! PostgreSQL and has no SQLite log to move, so they return at once there.

use std::path::Path;

use crate::ingest::{case, gpg_encrypted_reply, ingest};
use crate::support::*;

fn json_of(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)))
}

fn ok_json(env: &Env, args: &[&str]) -> serde_json::Value {
    let out = env.certmail(args);
    assert_success(&out);
    json_of(&out)
}

/// A command's standard output (`read --json` is one object a line).
fn ok_text(env: &Env, args: &[&str]) -> String {
    let out = env.certmail(args);
    assert_success(&out);
    text(&out.stdout)
}

/// Rows per table: every table SQLite's schema has, counted on `db`.
fn counts(db: &mut certmail::store::sql::Engine, tables: &[String]) -> Vec<(String, i64)> {
    tables.iter().map(|t| (t.clone(), db.query(&format!("SELECT COUNT(*) FROM {t}"), &[]).unwrap()[0][0].int().unwrap())).collect()
}

fn sqlite_tables(path: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut s = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' ORDER BY name").unwrap();
    s.query_map([], |r| r.get(0)).unwrap().collect::<Result<_, _>>().unwrap()
}

fn pg_engine(url: &str) -> certmail::store::sql::Engine {
    let config: postgres::Config = url.parse().unwrap();
    certmail::store::sql::Engine::Postgres(Box::new(certmail::store::sql::PgConnection::new(config.connect(postgres::NoTls).unwrap())))
}

/// `status --json` without what the move itself changes: the newest incident's last
/// event is the move's.
fn status_without_last_event(env: &Env) -> serde_json::Value {
    let mut status = ok_json(env, &["status", "--json"]);
    strip(&mut status, "last_event");
    status
}

fn strip(value: &mut serde_json::Value, key: &str) {
    match value {
        serde_json::Value::Object(map) => {
            map.remove(key);
            map.values_mut().for_each(|v| strip(v, key));
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| strip(v, key)),
        _ => {}
    }
}

#[test]
fn a_home_with_history_moves_in_and_another_home_sees_the_same_log() {
    if on_postgres() {
        return; // see the module's comment
    }
    let c = case();
    let env = &c.env;
    // A notification whose bytes are spooled (an attachment past SPOOL_FROM), a
    // follow-up, a signed reply, an unsigned reply read from a file, a Virk.dk filing.
    let big = env.path("evidence.bin");
    std::fs::write(&big, (0..(1024 * 1024 + 4096)).map(|i| (i * 7 % 251) as u8).collect::<Vec<u8>>()).unwrap();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again", "--attach", big.to_str().unwrap()]);
    assert_queued(&out);
    assert!(std::fs::read_dir(env.home.join("outbox")).unwrap().count() >= 1, "the large message is spooled");
    let follow = std::fs::read_to_string("examples/voluntary-ransomware.toml")
        .unwrap()
        .replace("Ransomware på filservere", "Ransomware på filservere og backup");
    let follow = env.write("follow.toml", &follow);
    assert_queued(&env.notify(&follow, &["--follow-up", &c.reference]).0);
    ingest(env, &gpg_encrypted_reply(&c, "Tak, sagsnummer CFCS-2026-4411.", &cert_key().fingerprint, &c.gnupg));
    let unsigned = env.write(
        "unsigned.eml",
        &format!(
            "From: cert@example-cert.test\r\nTo: soc@example.dk\r\nSubject: Re: [{}] Encrypted message\r\nMessage-ID: <q1@example-cert.test>\r\nIn-Reply-To: <{}>\r\n\r\nKan I sende os logfilerne?\r\n",
            c.reference, c.message_id
        ),
    );
    ingest(env, &unsigned);
    assert_success(&env.certmail(&["incident", "virk", &c.reference, "--reference", "VIRK-2026-77"]));

    let sqlite = env.home.join("certmail.sqlite");
    let tables = sqlite_tables(&sqlite);
    for t in ["incidents", "messages", "message_bytes", "events", "chain_head", "received", "filings", "store_moves"] {
        assert!(tables.iter().any(|n| n == t), "{t} in {tables:?}");
    }
    let before = counts(&mut env.raw_db(), &tables);
    let list = ok_json(env, &["log", "list", "--json"]);
    let status = status_without_last_event(env);
    let read = ok_text(env, &["read", &c.reference, "--json"]);
    let verified = ok_json(env, &["log", "verify", "--json"]);
    let (events, head) = (verified["events"].as_i64().unwrap(), verified["head"].as_str().unwrap().to_string());

    let db = crate::pg::database("moving in");
    let moved = ok_json(env, &["store", "migrate", "--to", &db.url, "--json"]);
    assert_eq!((moved["events"].as_i64(), moved["head"].as_str()), (Some(events), Some(head.as_str())), "{moved}");
    assert_eq!(moved["spooled_read_in"], 1, "{moved}");
    assert_eq!(moved["files_read_in"], 1, "{moved}");
    // Every table SQLite has is copied, row for row (the move adds its own two rows).
    let after = counts(&mut pg_engine(&db.url), &tables);
    for ((table, was), (_, is)) in before.iter().zip(&after) {
        let added = match table.as_str() {
            "events" | "store_moves" => 1,
            // The spooled message's bytes now live in the database.
            "message_bytes" => 1,
            _ => 0,
        };
        assert_eq!(*is, was + added, "{table}: {was} rows in SQLite, {is} on PostgreSQL");
        // Reported: the rows copied as SQLite held them.
        assert_eq!(moved["tables"][table].as_i64(), Some(*was), "{table} in {moved}");
    }
    assert!(!sqlite.exists() && env.home.join("certmail.sqlite.moved").exists());
    // The copy ends at SQLite's head, and the move is one event after it.
    let mut pg = pg_engine(&db.url);
    let at_head = pg.query("SELECT hash FROM events ORDER BY id LIMIT 1 OFFSET ?1", &[(events - 1).into()]).unwrap();
    assert_eq!(at_head[0][0].text(), Some(head.as_str()));
    let kinds = pg.query("SELECT kind FROM events ORDER BY id DESC LIMIT 1", &[]).unwrap();
    assert_eq!(kinds[0][0].text(), Some("store-migrated"));

    // Another machine on the database sees the same log: a home with the same
    // configuration and key (until team keys, only that key reads what it sent),
    // without the SQLite log or its spool.
    let mut other = Env::bare();
    std::fs::create_dir_all(&other.home).unwrap();
    for part in ["config.toml", "identity", "recipients"] {
        if env.home.join(part).exists() {
            let copied = std::process::Command::new("cp").arg("-a").arg(env.home.join(part)).arg(&other.home).status().unwrap();
            assert!(copied.success());
        }
    }
    other.store_url = Some(db.url.clone());
    let there = ok_json(&other, &["log", "verify", "--json"]);
    assert_eq!((there["ok"].as_bool(), there["events"].as_i64()), (Some(true), Some(events + 1)), "{there}");
    let mut list_there = ok_json(&other, &["log", "list", "--json"]);
    let mut list_before = list.clone();
    strip(&mut list_there, "last_event");
    strip(&mut list_before, "last_event");
    assert_eq!(list_there, list_before);
    assert_eq!(status_without_last_event(&other), status);
    assert_eq!(ok_text(&other, &["read", &c.reference, "--json"]), read);
    // New ids continue after the copied ones.
    assert_queued(&other.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again"]).0);
    assert_success(&other.certmail(&["log", "verify"]));

    // The old home, without [store], does not start a new SQLite log.
    for args in [&["log", "list"][..], &["status"][..]] {
        let out = env.certmail(args);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("moved to PostgreSQL"), "{}", text(&out.stderr));
    }
    assert_exit(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again"]).0, 2);
    assert!(!sqlite.exists());

    // Twice is refused, and changes nothing: from this home (moved already) and from
    // another home's log into the same database.
    let counted = counts(&mut pg_engine(&db.url), &tables);
    assert_exit(&env.certmail(&["store", "migrate", "--to", &db.url]), 2);
    let third = Env::new();
    assert_queued(&third.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    let out = third.certmail(&["store", "migrate", "--to", &db.url]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("not empty"), "{}", text(&out.stderr));
    assert!(third.home.join("certmail.sqlite").exists());
    assert_eq!(counts(&mut pg_engine(&db.url), &tables), counted);
}

#[test]
fn a_broken_chain_is_not_moved() {
    if on_postgres() {
        return; // see the module's comment
    }
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    env.raw_db().batch("UPDATE events SET detail = '{}' WHERE kind = 'created'").unwrap();
    let db = crate::pg::database("broken chain");
    let out = env.certmail(&["store", "migrate", "--to", &db.url]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("broken chain"), "{}", text(&out.stderr));
    assert!(env.home.join("certmail.sqlite").exists());
    // Refused before the database was even touched.
    let made =
        pg_engine(&db.url).query("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()", &[]).unwrap();
    assert_eq!(made[0][0].int(), Some(0));
}

#[test]
fn a_password_in_the_url_is_refused() {
    if on_postgres() {
        return; // see the module's comment
    }
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    let out = env.certmail(&["store", "migrate", "--to", "postgres://certmail:secret@127.0.0.1/certmail"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("password"), "{}", text(&out.stderr));
    assert!(env.home.join("certmail.sqlite").exists());
}
