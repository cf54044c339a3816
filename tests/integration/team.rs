//! Team mode (docs/TEAM-MODE.md): the `[store]` contract, the PostgreSQL server the
//! tests of a shared store run against, the engine's SQL, and two homes (two
//! machines) sharing one store through the real commands.

use std::path::Path;

use crate::smtp::{SmtpServer, tls};
use crate::support::*;

/// Two homes ("machines") of one team, each with its own identity, on one fresh
/// PostgreSQL database, whichever engine the rest of the suite is on.
fn two_machines() -> (Env, Env) {
    let url = crate::pg::database("two machines").url;
    let mut a = Env::new();
    a.store_url = Some(url);
    let b = a.same_store();
    (a, b)
}

/// `log verify` passes on each machine: one chain, whoever wrote.
fn log_verifies_on(machines: &[&Env]) {
    for env in machines {
        assert_success(&env.certmail(&["log", "verify"]));
    }
}

/// The Message-ID of a message as it arrived.
fn message_id_of(message: &[u8]) -> String {
    let head = text(message);
    let line = head.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")).expect("a Message-ID header");
    line["message-id:".len()..].trim().trim_matches(['<', '>']).to_string()
}

/// The home's outbox as `outbox list --json` shows it.
fn outbox(env: &Env) -> Vec<serde_json::Value> {
    let out = env.certmail(&["outbox", "list", "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
    json["messages"].as_array().cloned().unwrap_or_default()
}

/// `n` notifications from each home at once, none delivered (no relay yet).
fn notify_at_once(homes: &[&Env], n: usize) {
    std::thread::scope(|s| {
        for env in homes {
            s.spawn(move || {
                for _ in 0..n {
                    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again"]).0);
                }
            });
        }
    });
}

#[test]
fn two_machines_notify_at_once_and_flush_one_outbox_at_once_and_each_message_arrives_once() {
    let (a, b) = two_machines();
    notify_at_once(&[&a, &b], 25);
    // One outbox: what either queued, both see; one chain, whole on both.
    let queued = outbox(&a);
    assert_eq!(queued.len(), 50);
    assert_eq!(outbox(&b).len(), 50);
    log_verifies_on(&[&a, &b]);
    let server = SmtpServer::start("starttls", "none");
    for env in [&a, &b] {
        env.set_relay(server.port, "starttls", &tls().ca, 10);
    }
    let flushes: Vec<std::process::Output> = std::thread::scope(|s| {
        let runs: Vec<_> = [&a, &b].into_iter().map(|env| s.spawn(move || env.certmail(&["outbox", "flush"]))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for flush in &flushes {
        assert_success(flush);
    }
    let mut arrived: Vec<String> = server.received().iter().map(|m| message_id_of(m)).collect();
    arrived.sort();
    let mut expected: Vec<String> = queued.iter().map(|m| m["message_id"].as_str().unwrap().to_string()).collect();
    expected.sort();
    assert_eq!(arrived, expected, "every message arrived, and each once");
    assert!(outbox(&b).iter().all(|m| m["state"] == "sent"), "{:?}", outbox(&b));
    log_verifies_on(&[&a, &b]);
}

#[test]
fn a_notification_made_on_one_machine_is_listed_read_and_flushed_from_the_other() {
    let (a, b) = two_machines();
    let (out, bytes) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap();
    let listed = text(&b.certmail(&["log", "list"]).stdout);
    assert!(listed.contains(reference), "{listed}");
    let shown = text(&b.certmail(&["read", reference]).stdout);
    assert!(shown.contains("==== sent"), "{shown}");
    let status = text(&b.certmail(&["status"]).stdout);
    assert!(status.contains(reference), "{status}");
    let server = SmtpServer::start("starttls", "none");
    b.set_relay(server.port, "starttls", &tls().ca, 10);
    assert_success(&b.certmail(&["outbox", "flush"]));
    assert_eq!(server.received(), vec![bytes], "the other machine sent the bytes this one queued");
    let timeline = text(&a.certmail(&["log", "show", reference]).stdout);
    assert!(timeline.contains("sent"), "{timeline}");
    log_verifies_on(&[&a, &b]);
}

#[test]
fn a_bad_store_section_is_a_config_error_naming_the_file_the_line_and_the_key() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let line = config.lines().count() + 3;
    std::fs::write(env.config_path(), format!("{config}\n[store]\nurl = \"postgres://soc:hunter2@db.example.dk/certmail\"\n")).unwrap();
    let out = env.certmail(&["log", "list"]);
    assert_exit(&out, 2);
    let said = text(&out.stderr);
    assert!(said.contains(&format!("config.toml:{line}: [store] url holds a password")), "{said}");
    assert!(!said.contains("hunter2"), "the password is never repeated: {said}");
    let json = env.certmail(&["log", "list", "--json"]);
    assert_exit(&json, 2);
    let said = text(&json.stdout) + &text(&json.stderr);
    assert!(said.contains("\"field\":\"store.url\""), "{said}");

    std::fs::write(env.config_path(), format!("{config}\n[store]\nurl = \"postgres://soc@db.example.dk/certmail?sslmode=disable\"\n"))
        .unwrap();
    let out = env.certmail(&["log", "list"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("TLS with certificate validation is required"), "{}", text(&out.stderr));
}

#[test]
fn without_a_store_there_is_no_store_password_and_the_variable_is_checked() {
    let mut env = Env::new();
    // About the SQLite default, whichever engine the suite's homes are on.
    env.store_url = None;
    let out = env.certmail_stdin(&["secrets", "set", "store"], b"x\n");
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("SQLite"), "{}", text(&out.stderr));
    let out = env
        .command()
        .env("CERTMAIL_STORE_URL", "postgres://soc:hunter2@db.example.dk/c")
        .args(["secrets", "set", "store"])
        .output()
        .unwrap();
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("CERTMAIL_STORE_URL holds a password"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("hunter2"));
}

#[test]
fn the_test_postgresql_keeps_what_it_is_given_one_database_per_test() {
    let db = crate::pg::database("round trip");
    // Its URL is one the [store] contract takes, and connects as it says.
    let checked = certmail::store::target::check_url(&db.url).unwrap();
    assert!(checked.local, "{}", db.url);
    let mut client = checked.config.connect(postgres::NoTls).unwrap();
    client.batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY, name TEXT NOT NULL, bytes BYTEA NOT NULL)").unwrap();
    // Message bytes of any size travel as one binary parameter.
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3 * 1024 * 1024 + 7).collect();
    client.execute("INSERT INTO t (id, name, bytes) VALUES ($1, $2, $3)", &[&1i64, &"Jens Ærø", &bytes]).unwrap();
    let row = client.query_one("SELECT name, bytes, current_user::text FROM t WHERE id = $1", &[&1i64]).unwrap();
    assert_eq!(row.get::<_, String>(0), "Jens Ærø");
    assert!(row.get::<_, Vec<u8>>(1) == bytes, "the bytes came back changed");
    assert_eq!(row.get::<_, String>(2), "certmail");
    let version: String = client.query_one("SHOW server_version_num", &[]).unwrap().get(0);
    assert!(version.parse::<u32>().unwrap() >= 150000, "{version}");
    let other = crate::pg::database("round trip");
    assert_ne!(other.name, db.name);
    assert!(other.connect().query("SELECT 1 FROM t", &[]).is_err(), "each test has a database of its own");
}

/// Run by the test below as a child of its own: starts the server, says its pid and
/// folder, then exits or waits to be killed, as `CERTMAIL_TEST_PG_CHILD` says.
#[test]
fn postgres_child() {
    let Ok(mode) = std::env::var("CERTMAIL_TEST_PG_CHILD") else { return };
    let server = crate::pg::server();
    println!("server={} dir={}", server.pid(), server.dir.display());
    if mode == "wait" {
        std::thread::sleep(std::time::Duration::from_secs(120));
    }
}

#[test]
fn the_test_postgresql_never_outlives_its_test_binary() {
    for mode in ["exit", "wait"] {
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "team::postgres_child", "--nocapture", "--test-threads=1"])
            .env("CERTMAIL_TEST_PG_CHILD", mode)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut said = String::new();
        let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
        while !said.contains("server=") {
            let mut line = String::new();
            if std::io::BufRead::read_line(&mut stdout, &mut line).unwrap() == 0 {
                panic!("{mode}: the child said no server: {said}");
            }
            said.push_str(&line);
        }
        let line = said.lines().find(|l| l.contains("server=")).unwrap();
        let line = &line[line.find("server=").unwrap()..];
        let pid: u32 = line["server=".len()..].split(' ').next().unwrap().parse().unwrap();
        let dir = std::path::PathBuf::from(line.split(" dir=").nth(1).unwrap().trim());
        assert!(std::path::Path::new(&format!("/proc/{pid}")).exists(), "{mode}: the server runs while its binary does");
        if mode == "wait" {
            unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
        }
        child.wait().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while std::path::Path::new(&format!("/proc/{pid}")).exists() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists(), "{mode}: postgres {pid} outlived its test binary");
        if mode == "exit" {
            assert!(!dir.exists(), "a normal exit removes the server's folder {}", dir.display());
        } else {
            // A killed binary's folder is removed by the next run (this one's server
            // already started, so it is done here by hand the same way).
            assert!(dir.exists());
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// The `[store]` location of a test database.
fn location(db: &crate::pg::Database) -> certmail::store::target::Postgres {
    let checked = certmail::store::target::check_url(&db.url).unwrap();
    let tls = certmail::store::target::tls_for(&checked, None).unwrap();
    certmail::store::target::Postgres { url: db.url.clone(), config: checked.config, tls, password: Default::default() }
}

/// Tables and their columns, in order, as SQLite has them after `Store::open`.
fn sqlite_schema() -> Vec<(String, Vec<String>)> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certmail.sqlite");
    drop(certmail::store::Store::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    tables
        .into_iter()
        .map(|t| {
            let columns = conn
                .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
                .unwrap()
                .query_map([&t], |r| r.get(0))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap();
            (t, columns)
        })
        .collect()
}

fn postgres_schema(client: &mut postgres::Client) -> Vec<(String, Vec<String>)> {
    let tables: Vec<String> = client
        .query(
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name COLLATE \"C\"",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .filter(|t: &String| t != "schema_version")
        .collect();
    tables
        .into_iter()
        .map(|t| {
            let columns = client
                .query(
                    "SELECT column_name::text FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                    &[&t],
                )
                .unwrap()
                .iter()
                .map(|r| r.get(0))
                .collect();
            (t, columns)
        })
        .collect()
}

/// Migrates on the engine, giving the connection back for the test's own queries.
fn migrate(client: &mut Option<postgres::Client>) -> Result<usize, certmail::exit::Failure> {
    use certmail::store::sql::{Engine, PgConnection};
    let mut db = Engine::Postgres(Box::new(PgConnection::new(client.take().expect("a connection"))));
    let migrated = certmail::store::pg::migrate(&mut db, &Default::default());
    let Engine::Postgres(pg) = db else { unreachable!("made as PostgreSQL above") };
    *client = Some(pg.into_client());
    migrated
}

#[test]
fn the_same_migrations_make_the_same_schema_on_an_empty_postgresql_database() {
    let db = crate::pg::database("migrate empty");
    let pg = location(&db);
    let mut connection = Some(certmail::store::pg::connect(&pg, "test").unwrap());
    assert_eq!(migrate(&mut connection).unwrap(), 0, "an empty database has had no migration");
    let mut client = connection.take().unwrap();
    let version: i64 = client.query_one("SELECT version FROM schema_version WHERE id = 1", &[]).unwrap().get(0);
    assert_eq!(version as usize, certmail::store::SCHEMA_VERSION);
    assert_eq!(postgres_schema(&mut client), sqlite_schema(), "the tables and their columns are SQLite's");
    // What the engines differ in: ids are identities, bytes bytea, text compared bytewise.
    let kind = |client: &mut postgres::Client, table: &str, column: &str| -> (String, Option<String>, String) {
        let r = client
            .query_one(
                "SELECT data_type::text, collation_name::text, is_identity::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 AND column_name = $2",
                &[&table, &column],
            )
            .unwrap();
        (r.get(0), r.get(1), r.get(2))
    };
    assert_eq!(kind(&mut client, "events", "id"), ("bigint".into(), None, "YES".into()));
    assert_eq!(kind(&mut client, "message_bytes", "message"), ("bigint".into(), None, "NO".into()));
    assert_eq!(kind(&mut client, "message_bytes", "bytes"), ("bytea".into(), None, "NO".into()));
    assert_eq!(kind(&mut client, "received", "raw"), ("bytea".into(), None, "NO".into()));
    assert_eq!(kind(&mut client, "messages", "next_attempt_at"), ("text".into(), Some("C".into()), "NO".into()));
    let not_c: i64 = client
        .query_one(
            "SELECT COUNT(*) FROM information_schema.columns WHERE table_schema = 'public' AND data_type = 'text'
             AND collation_name IS DISTINCT FROM 'C'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(not_c, 0, "every text column compares bytewise");
    let head = client.query_one("SELECT count, hash FROM chain_head WHERE id = 1", &[]).unwrap();
    assert_eq!((head.get::<_, i64>(0), head.get::<_, String>(1)), (0, "0".repeat(64)), "the head row writers lock is there");
    // Migrated again: nothing to do.
    assert_eq!(certmail::store::pg::open(&pg, "test").map(|_| ()).err().map(|f| f.message), None);
    let mut connection = Some(client);
    assert_eq!(migrate(&mut connection).unwrap(), certmail::store::SCHEMA_VERSION);
    // A database from a newer certmail is refused, as on SQLite.
    connection.as_mut().unwrap().execute("UPDATE schema_version SET version = version + 1", &[]).unwrap();
    let err = migrate(&mut connection).unwrap_err();
    assert!(err.message.contains("newer than this certmail knows"), "{}", err.message);
}

#[test]
fn two_machines_first_runs_at_once_make_one_schema() {
    let db = crate::pg::database("migrate at once");
    let pg = location(&db);
    let barrier = std::sync::Barrier::new(4);
    let versions: Vec<usize> = std::thread::scope(|s| {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(|| {
                    let mut client = Some(certmail::store::pg::connect(&pg, "test").unwrap());
                    barrier.wait();
                    migrate(&mut client).unwrap()
                })
            })
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut sorted = versions.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        [0, certmail::store::SCHEMA_VERSION, certmail::store::SCHEMA_VERSION, certmail::store::SCHEMA_VERSION],
        "{versions:?}"
    );
}

#[test]
fn a_store_password_comes_from_its_command_and_its_absence_says_how_to_give_it() {
    let db = crate::pg::database("password");
    let admin = || crate::pg::server().connect("postgres", "postgres");
    admin().batch_execute("CREATE ROLE soc_locked LOGIN PASSWORD 'right horse' IN ROLE password_users").unwrap();
    let url = db.url.replace("certmail@", "soc_locked@");
    let mut pg = location(&crate::pg::Database { name: db.name.clone(), url });
    let Err(err) = certmail::store::pg::connect(&pg, "test") else { panic!("connected without a password") };
    assert!(
        err.message.contains("the server asks for a password") && err.message.contains("certmail secrets set store"),
        "{}",
        err.message
    );
    pg.password.command = Some(vec!["printf".into(), "%s".into(), "wrong horse".into()]);
    let Err(err) = certmail::store::pg::connect(&pg, "test") else { panic!("connected with a wrong password") };
    assert!(err.message.contains("password authentication failed"), "{}", err.message);
    assert!(!err.message.contains("wrong horse"));
    pg.password.command = Some(vec!["printf".into(), "%s".into(), "right horse".into()]);
    let mut client = certmail::store::pg::connect(&pg, "test").unwrap();
    let user: String = client.query_one("SELECT session_user::text", &[]).unwrap().get(0);
    assert_eq!(user, "soc_locked");
    let durable: String = client.query_one("SHOW synchronous_commit", &[]).unwrap().get(0);
    assert_eq!(durable, "on");
}

#[test]
fn a_store_over_tls_is_held_to_its_certificate_authority() {
    let db = crate::pg::database("tls");
    let tls = crate::pg::tls();
    let url = format!("postgres://certmail@127.0.0.1:{}/{}?sslmode=require", crate::pg::server().port, db.name);
    let checked = certmail::store::target::check_url(&url).unwrap();
    let with = |ca: Option<&std::path::Path>| {
        let tls = certmail::store::target::tls_for(&checked, ca.map(|p| p.to_path_buf())).unwrap();
        assert!(matches!(tls, certmail::store::target::Tls::Verified { .. }));
        let pg = certmail::store::target::Postgres { url: url.clone(), config: checked.config.clone(), tls, password: Default::default() };
        certmail::store::pg::connect(&pg, "test")
    };
    let mut client = with(Some(&tls.ca)).unwrap();
    let encrypted: bool = client.query_one("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", &[]).unwrap().get(0);
    assert!(encrypted, "the session is over TLS");
    for ca in [Some(tls.wrong_ca.as_path()), None] {
        let Err(err) = with(ca) else { panic!("{ca:?}: a certificate its CA did not sign was taken") };
        assert!(err.message.contains("invalid peer certificate: UnknownIssuer"), "{ca:?}: {}", err.message);
    }
}

/// The same statement texts on both engines, on the store's own schema, give the
/// same answers: what docs/TEAM-MODE.md's table of differences promises.
#[test]
fn one_statement_text_gives_the_same_answers_on_both_engines() {
    use certmail::store::sql::{Cell, Engine, PgConnection, Value};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("certmail.sqlite");
    drop(certmail::store::Store::open(&path).unwrap());
    let db = crate::pg::database("one text");
    let pg = certmail::store::pg::open(&location(&db), "test").unwrap();
    let engines = [Engine::Sqlite(rusqlite::Connection::open(&path).unwrap()), Engine::Postgres(Box::new(PgConnection::new(pg)))];
    let big: Vec<u8> = (0..=255u8).cycle().take(1024 * 1024 + 3).collect();
    let answers: Vec<Vec<Vec<Vec<Cell>>>> = engines
        .into_iter()
        .map(|mut e| {
            let mut said: Vec<Vec<Vec<Cell>>> = Vec::new();
            let changed = |n: u64| vec![vec![Cell::Int(n as i64)]];
            // A hook event is claimed once: the second insert changes nothing.
            for _ in 0..2 {
                let sql = "INSERT INTO hooks_fired (key, event, reference, fired_at) VALUES (?1, ?2, ?3, ?4) ON CONFLICT (key) DO NOTHING";
                let n = e.execute(sql, &["ack:<m@x>".into(), "acknowledged".into(), Value::Null, "2026-12-01T10:00:00.000Z".into()]).unwrap();
                said.push(changed(n));
            }
            let insert = "INSERT INTO incidents (reference, year, seq, scheme, title, created_at, incident_json)
                          VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id";
            for (seq, reference, title) in [(1, "CM-A", "b"), (2, "CM-B", "B"), (3, "CM-C", "a")] {
                let values = [reference.into(), 2026.into(), seq.into(), "voluntary".into(), title.into(), "t".into(), "{}".into()];
                said.push(e.query(insert, &values).unwrap());
            }
            let counts = "SELECT EXISTS (SELECT 1 FROM incidents WHERE reference = ?1), COUNT(*), COALESCE(MAX(seq), 0) + 1 FROM incidents WHERE year = ?2";
            said.push(e.query(counts, &["CM-B".into(), 2026.into()]).unwrap());
            said.push(e.query("SELECT title FROM incidents ORDER BY title", &[]).unwrap());
            let message = "INSERT INTO messages (incident_id, message_id, recipient, recipient_fingerprint, envelope_from, envelope_to, size, state, created_at, updated_at)
                           VALUES (?1, ?2, 'cfcs', 'F', 'a@x', 'b@x', ?3, 'queued', 't', 't') RETURNING id";
            said.push(e.query(message, &[1.into(), "<m@x>".into(), (big.len() as i64).into()]).unwrap());
            let n = e.execute("INSERT INTO message_bytes (message, bytes) VALUES (?1, ?2)", &[1.into(), Value::Bytes(&big)]).unwrap();
            said.push(changed(n));
            let bytes = "SELECT b.bytes, m.spool FROM messages m LEFT JOIN message_bytes b ON b.message = m.id WHERE m.message_id = ?1";
            said.push(e.query(bytes, &["<m@x>".into()]).unwrap());
            // An optional filter: an untyped NULL needs its cast on PostgreSQL.
            let only = "SELECT id FROM messages WHERE (CAST(?1 AS TEXT) IS NULL OR message_id = ?1) ORDER BY id";
            said.push(e.query(only, &[Value::Null]).unwrap());
            said.push(e.query(only, &["<none@x>".into()]).unwrap());
            said
        })
        .collect();
    let [sqlite, postgres] = &answers[..] else { unreachable!() };
    assert_eq!(sqlite.len(), postgres.len());
    for (i, (s, p)) in sqlite.iter().zip(postgres).enumerate() {
        // EXISTS is 0/1 on SQLite, a boolean on PostgreSQL: the same when read as one.
        let same = s.len() == p.len()
            && s.iter()
                .zip(p)
                .all(|(a, b)| a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || (x.bool().is_some() && x.bool() == y.bool())));
        assert!(same, "answer {i} differs:\nSQLite: {:.200?}\nPostgreSQL: {:.200?}", s, p);
    }
    assert_eq!(sqlite[0..2], [vec![vec![Cell::Int(1)]], vec![vec![Cell::Int(0)]]], "a hook event is claimed once");
    assert_eq!(
        sqlite[6],
        [vec![Cell::Text("B".into())], vec![Cell::Text("a".into())], vec![Cell::Text("b".into())]],
        "text compares bytewise"
    );
    assert!(sqlite[9][0][0].bytes() == Some(&big[..]), "the bytes come back as they went");
}

/// What the outbox's claims across machines rest on (docs/TEAM-MODE.md): a row one
/// connection holds is passed over by another's `FOR UPDATE SKIP LOCKED`, and a
/// session's advisory lock is the claim's life: another session cannot take it while
/// the claimer lives, and can the moment the claimer is killed (kill -9), without
/// waiting for any timeout.
#[test]
fn claims_hold_across_connections_and_die_with_their_claimer() {
    let db = crate::pg::database("claims");
    let mut a = db.connect();
    let mut b = db.connect();
    a.batch_execute("CREATE TABLE m (id BIGINT PRIMARY KEY, state TEXT NOT NULL); INSERT INTO m VALUES (1, 'queued'), (2, 'queued')")
        .unwrap();
    let due = "SELECT id FROM m WHERE state = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED";
    let mut ta = a.transaction().unwrap();
    let mut tb = b.transaction().unwrap();
    let first: i64 = ta.query_one(due, &[]).unwrap().get(0);
    let second: i64 = tb.query_one(due, &[]).unwrap().get(0);
    assert_eq!((first, second), (1, 2), "two claimers at once take two rows, neither waits");
    ta.commit().unwrap();
    tb.commit().unwrap();

    // A claimer in another process holds the claim on message 1 through its send: its
    // session is idle meanwhile (no statement runs during SMTP), so the server reads
    // the socket and sees it close. (A session killed inside a long statement would
    // keep its locks until the statement ends: certmail never sends inside one.)
    let key = (1i64 << 56) | 1;
    let psql = crate::pg::bin_dir().unwrap().join("psql");
    let mut claimer = std::process::Command::new(psql)
        .args(["-X", "-q", "-h", "127.0.0.1", "-p", &crate::pg::server().port.to_string(), "-U", "certmail", "-d", &db.name])
        .env_remove("LD_PRELOAD")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut input = claimer.stdin.take().unwrap();
    std::io::Write::write_all(&mut input, format!("SELECT pg_advisory_lock({key});\n").as_bytes()).unwrap();
    let held = "SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
                AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while a.query_one(held, &[]).unwrap().get::<_, i64>(0) == 0 {
        assert!(std::time::Instant::now() < deadline, "the claimer never took its lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let take = format!("SELECT pg_try_advisory_lock({key})");
    assert!(!a.query_one(&take, &[]).unwrap().get::<_, bool>(0), "a live claim is not taken over");
    unsafe { libc::kill(claimer.id() as i32, libc::SIGKILL) };
    claimer.wait().unwrap();
    drop(input);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !a.query_one(&take, &[]).unwrap().get::<_, bool>(0) {
        assert!(std::time::Instant::now() < deadline, "the killed claimer's lock outlived it");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // Now this session holds it: the claim was taken over by exactly one.
    assert!(!b.query_one(&take, &[]).unwrap().get::<_, bool>(0), "only one takes a stale claim over");
}

/// What one chain with writers on many machines rests on (docs/TEAM-MODE.md): each
/// writing transaction locks the chain head row first, so appends are serialised and
/// an event's id, drawn while the head is held, orders the events as the chain does.
#[test]
fn appends_after_the_head_row_lock_keep_id_order_as_chain_order() {
    let db = crate::pg::database("head lock");
    drop(certmail::store::pg::open(&location(&db), "test").unwrap());
    db.connect()
        .batch_execute("INSERT INTO incidents (reference, year, seq, scheme, title, created_at, incident_json) VALUES ('CM-1', 2026, 1, 'v', 't', 't', '{}')")
        .unwrap();
    let (writers, each) = (4, 25);
    std::thread::scope(|s| {
        for w in 0..writers {
            let db = &db;
            s.spawn(move || {
                let mut client = db.connect();
                for n in 0..each {
                    let mut tx = client.transaction().unwrap();
                    let head = tx.query_one("SELECT count, hash FROM chain_head WHERE id = 1 FOR UPDATE", &[]).unwrap();
                    let (count, prev): (i64, String) = (head.get(0), head.get(1));
                    let id: i64 = tx
                        .query_one(
                            "INSERT INTO events (incident_id, at, kind, detail, prev_hash) VALUES (1, 't', 'k', $1, $2) RETURNING id",
                            &[&format!("{{\"writer\":{w},\"n\":{n}}}"), &prev],
                        )
                        .unwrap()
                        .get(0);
                    let hash = format!("{id:064}");
                    tx.execute("UPDATE events SET hash = $1 WHERE id = $2", &[&hash, &id]).unwrap();
                    if n % 5 == w % 5 {
                        // Held a while, as a notification's signing would: the others wait.
                        std::thread::sleep(std::time::Duration::from_millis(3));
                    }
                    tx.execute("UPDATE chain_head SET count = $1, hash = $2 WHERE id = 1", &[&(count + 1), &hash]).unwrap();
                    tx.commit().unwrap();
                }
            });
        }
    });
    let mut client = db.connect();
    let rows = client.query("SELECT prev_hash, hash FROM events ORDER BY id", &[]).unwrap();
    let mut prev = "0".repeat(64);
    for (i, row) in rows.iter().enumerate() {
        assert_eq!(row.get::<_, String>(0), prev, "event {i} in id order does not follow the one before it");
        prev = row.get(1);
    }
    let head = client.query_one("SELECT count, hash FROM chain_head WHERE id = 1", &[]).unwrap();
    assert_eq!((head.get::<_, i64>(0), head.get::<_, String>(1)), ((writers * each) as i64, prev), "one chain, every append in it");
}

/// Where the engines' words differ (JSON paths, the larger of two values), the
/// dialect's text gives the same answers on both.
#[test]
fn the_dialects_words_give_the_same_answers_on_both_engines() {
    use certmail::store::sql::{Cell, Engine, PgConnection};
    let db = crate::pg::database("dialect");
    let engines =
        [Engine::Sqlite(rusqlite::Connection::open_in_memory().unwrap()), Engine::Postgres(Box::new(PgConnection::new(db.connect())))];
    let answers: Vec<Vec<Vec<Cell>>> = engines
        .into_iter()
        .map(|mut e| {
            let d = e.dialect();
            e.execute("CREATE TABLE j (id BIGINT PRIMARY KEY, doc TEXT NOT NULL, n BIGINT NOT NULL)", &[]).unwrap();
            let docs = [
                r#"{"virk-reference":"VIRK-1","personal-data":{"report-to":"datatilsynet"},"timeline":{"classified":{"status":"known"}}}"#,
                r#"{"personal-data":{},"timeline":{"classified":{"status":"unknown","at":"x"}}}"#,
            ];
            for (i, doc) in docs.iter().enumerate() {
                e.execute("INSERT INTO j (id, doc, n) VALUES (?1, ?2, ?3)", &[(i as i64).into(), (*doc).into(), 5.into()]).unwrap();
            }
            let sql = format!(
                "SELECT {}, {}, CASE WHEN {} = 'known' THEN 1 ELSE 0 END, {} FROM j ORDER BY id",
                d.json_text("doc", &["virk-reference"]),
                d.json_text("doc", &["personal-data", "report-to"]),
                d.json_text("doc", &["timeline", "classified", "status"]),
                d.greatest("n", "?1"),
            );
            e.query(&sql, &[7.into()]).unwrap()
        })
        .collect();
    assert_eq!(answers[0], answers[1], "SQLite and PostgreSQL");
    assert_eq!(
        answers[0],
        [
            vec![Cell::Text("VIRK-1".into()), Cell::Text("datatilsynet".into()), Cell::Int(1), Cell::Int(7)],
            vec![Cell::Null, Cell::Null, Cell::Int(0), Cell::Int(7)]
        ]
    );
}

/// `Engine::write` on PostgreSQL is one writer at a time across connections: a second
/// writer waits for the first to commit, then sees what it wrote; a failed write
/// leaves nothing.
#[test]
fn a_write_on_postgresql_holds_every_other_writer_until_it_commits() {
    use certmail::store::sql::{Cell, Engine, PgConnection};
    let db = crate::pg::database("write lock");
    let engine = || Engine::Postgres(Box::new(PgConnection::new(certmail::store::pg::open(&location(&db), "test").unwrap())));
    let (mut first, mut second) = (engine(), engine());
    let claim = "INSERT INTO hooks_fired (key, event, reference, fired_at) VALUES (?1, 'acknowledged', NULL, 't')";
    let started = std::sync::Barrier::new(2);
    let (waited, seen) = std::thread::scope(|s| {
        s.spawn(|| {
            first
                .write(|tx| {
                    tx.execute(claim, &["first".into()])?;
                    started.wait();
                    std::thread::sleep(std::time::Duration::from_millis(400));
                    Ok(())
                })
                .unwrap()
        });
        let second = s.spawn(|| {
            started.wait();
            let t = std::time::Instant::now();
            let seen = second.write(|tx| tx.query("SELECT key FROM hooks_fired ORDER BY key", &[])).unwrap();
            (t.elapsed(), seen)
        });
        second.join().unwrap()
    });
    assert!(waited >= std::time::Duration::from_millis(300), "the second writer did not wait: {waited:?}");
    assert_eq!(seen, [[Cell::Text("first".into())]], "and then saw the first's commit");
    let failed = engine().write(|tx| {
        tx.execute(claim, &["never".into()])?;
        Err::<(), _>(certmail::exit::Failure::failed("changed my mind"))
    });
    assert!(failed.is_err());
    assert_eq!(engine().query("SELECT COUNT(*) FROM hooks_fired", &[]).unwrap(), [[Cell::Int(1)]], "a failed write leaves nothing");
}

#[test]
fn a_flush_killed_mid_send_loses_nothing_and_the_other_machine_takes_its_claim_over() {
    let (a, b) = two_machines();
    let (out, bytes) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    // A's relay takes the whole message and then never answers the final dot.
    let stalled = SmtpServer::start("starttls", "stall-data-end");
    a.set_relay(stalled.port, "starttls", &tls().ca, 600);
    let mut flush =
        a.command().args(["outbox", "flush"]).stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let sent = std::time::Instant::now();
    while stalled.received().is_empty() {
        assert!(sent.elapsed() < std::time::Duration::from_secs(60), "the first flush never reached the end of DATA");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // While A's claimer lives, B passes its claim over.
    let relay = SmtpServer::start("starttls", "none");
    b.set_relay(relay.port, "starttls", &tls().ca, 10);
    assert_success(&b.certmail(&["outbox", "flush"]));
    assert!(relay.received().is_empty(), "a message claimed by a live machine is not sent twice at once");
    assert_eq!(outbox(&b)[0]["state"], "sending");
    // kill -9: its connection closes, and with it the claim's lock.
    flush.kill().unwrap();
    flush.wait().unwrap();
    let flushed = std::time::Instant::now();
    while relay.received().is_empty() {
        assert!(flushed.elapsed() < std::time::Duration::from_secs(30), "the claim of the killed flush was never taken over");
        assert_success(&b.certmail(&["outbox", "flush"]));
    }
    assert_eq!(relay.received(), vec![bytes], "the same bytes, sent again");
    assert_eq!(outbox(&a)[0]["state"], "sent");
    let shown: serde_json::Value = serde_json::from_slice(&a.certmail(&["log", "show", &reference, "--json"]).stdout).unwrap();
    let events = shown["events"].as_array().cloned().unwrap_or_else(|| shown.as_array().cloned().unwrap_or_default());
    let sending: Vec<&serde_json::Value> = events.iter().filter(|e| e["kind"] == "sending").collect();
    assert_eq!(sending.len(), 2, "{shown}");
    assert_eq!(sending[1]["detail"]["after_interruption"], true, "{shown}");
    log_verifies_on(&[&a, &b]);
}

#[test]
fn two_machines_ingesting_the_same_mail_at_once_record_it_once_and_fire_each_hook_once() {
    let (a, b) = two_machines();
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (reference, message_id) = (json["reference"].as_str().unwrap(), json["message_id"].as_str().unwrap());
    // One team, one hook: both machines' hooks write to the same file.
    let heard = a.path("heard.jsonl");
    for env in [&a, &b] {
        crate::hooks::add_hook(env, &["/bin/sh", "-c", &format!("cat >> '{}'; echo >> '{}'", heard.display(), heard.display())], 10);
    }
    let questions: Vec<String> = (0..10)
        .map(|n| {
            let mail = format!(
                "From: {CERT_ADDRESS}\r\nSubject: Re: [{reference}] q{n}\r\nMessage-ID: <q{n}@example-cert.test>\r\nIn-Reply-To: <{message_id}>\r\n\r\nKan I sende logfilerne {n}?\r\n"
            );
            a.write(&format!("q{n}.eml"), &mail).to_str().unwrap().to_string()
        })
        .collect();
    let mut args = vec!["ingest"];
    args.extend(questions.iter().map(String::as_str));
    let runs: Vec<std::process::Output> = std::thread::scope(|s| {
        let runs: Vec<_> = [&a, &b].into_iter().map(|env| s.spawn(|| env.certmail(&args))).collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    for run in &runs {
        assert_success(run);
    }
    let heard = std::fs::read_to_string(&heard).unwrap();
    let mut fired: Vec<String> = heard
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["message_id"].as_str().unwrap().to_string())
        .collect();
    fired.sort();
    let mut expected: Vec<String> = (0..10).map(|n| format!("q{n}@example-cert.test")).collect();
    expected.sort();
    assert_eq!(fired, expected, "each event fired once for the team: {heard}");
    let received = b.raw_db().query("SELECT COUNT(*) FROM received", &[]).unwrap()[0][0].int();
    assert_eq!(received, Some(10), "each message recorded once");
    log_verifies_on(&[&a, &b]);
}

/// A `sending` row naming this session's backend pid whose lock the session does not
/// hold was left by a dead session that had the same pid (the server reuses them): it
/// is taken over, not passed over as this session's own claim in progress.
#[test]
fn a_stale_claim_under_this_sessions_own_pid_is_taken_over() {
    let (a, _) = two_machines();
    assert_exit(&a.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0, 3);
    let mut store = a.store();
    let mut raw = a.raw_db();
    let db = a.store_url.as_deref().unwrap().rsplit('/').next().unwrap().to_string();
    let pid = raw
        .query(
            "SELECT CAST(pid AS BIGINT) FROM pg_stat_activity WHERE datname = ?1 AND application_name LIKE 'certmail test%'",
            &[certmail::store::sql::Value::Text(&db)],
        )
        .unwrap()[0][0]
        .int()
        .unwrap();
    raw.execute("UPDATE messages SET state = 'sending', claimed_by = ?1", &[certmail::store::sql::Value::Int(pid)]).unwrap();
    let now = certmail::store::timestamp(chrono::Utc::now());
    let q = certmail::store::ClaimQuery { now: &now, due_by: &now, after_id: 0, only: None, alive: &|_| true };
    let claimed = store.claim_due(&q).unwrap().expect("the stale claim is taken over");
    assert!(claimed.was_interrupted);
    // Now this session's own claim in progress: not taken again, by it or by another.
    assert!(store.claim_due(&q).unwrap().is_none());
    assert!(a.store().claim_due(&q).unwrap().is_none());
}

/// A serialisation failure (or a deadlock) in a write is tried once more, then reported.
#[test]
fn a_write_that_conflicts_is_tried_once_more_then_reported() {
    use certmail::store::sql::{Cell, Engine, PgConnection};
    let db = crate::pg::database("conflict retry");
    let mut engine = Engine::Postgres(Box::new(PgConnection::new(certmail::store::pg::open(&location(&db), "test").unwrap())));
    let conflict = "DO $$ BEGIN RAISE EXCEPTION 'as if two writers met' USING ERRCODE = 'serialization_failure'; END $$";
    let mut tries = 0;
    let done = engine.write(|tx| {
        tries += 1;
        tx.execute("INSERT INTO hooks_fired (key, event, fired_at) VALUES (?1, 'e', 't')", &[format!("try {tries}").as_str().into()])?;
        if tries == 1 {
            tx.execute(conflict, &[])?;
        }
        Ok(tries)
    });
    assert_eq!(done.unwrap(), 2, "tried again once");
    assert_eq!(engine.query("SELECT key FROM hooks_fired", &[]).unwrap(), [[Cell::Text("try 2".into())]], "the first try left nothing");
    let mut tries = 0;
    let failed = engine.write(|tx| {
        tries += 1;
        tx.execute(conflict, &[]).map(|_| ())
    });
    assert!(failed.unwrap_err().message.contains("as if two writers met"));
    assert_eq!(tries, 2, "once more, not for ever");
    // Any other failure is not tried again.
    let mut tries = 0;
    assert!(
        engine
            .write(|tx| {
                tries += 1;
                tx.execute("SELECT no_such_column FROM hooks_fired", &[]).map(|_| ())
            })
            .is_err()
    );
    assert_eq!(tries, 1);
}

#[test]
fn two_watches_on_one_mailbox_record_each_reply_once_and_fire_each_hook_once() {
    use crate::imap::{Dovecot, PASSWORD, configure};
    let dovecot = Dovecot::start();
    let (a, b) = two_machines();
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (reference, message_id) = (json["reference"].as_str().unwrap(), json["message_id"].as_str().unwrap());
    let heard = a.path("heard.jsonl");
    for env in [&a, &b] {
        configure(env, dovecot.tls_port, "tls", "");
        crate::hooks::add_hook(env, &["/bin/sh", "-c", &format!("cat >> '{}'; echo >> '{}'", heard.display(), heard.display())], 10);
    }
    let watch = |env: &Env| {
        env.command()
            .arg("watch")
            .env("CM_TEST_IMAP_PASSWORD", PASSWORD)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let watches = [watch(&a), watch(&b)];
    let replies: Vec<std::path::PathBuf> = (0..6)
        .map(|n| {
            a.write(
                &format!("r{n}.eml"),
                &format!(
                    "From: {CERT_ADDRESS}\r\nSubject: Re: [{reference}] q{n}\r\nMessage-ID: <w{n}@example-cert.test>\r\nIn-Reply-To: <{message_id}>\r\n\r\nKan I sende logfilerne {n}?\r\n"
                ),
            )
        })
        .collect();
    dovecot.append("INBOX", &replies.iter().map(|p| p.as_path()).collect::<Vec<_>>());
    let questions = || -> Vec<String> {
        let mut ids: Vec<String> = std::fs::read_to_string(&heard)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|e| e["event"] == "question")
            .map(|e| e["message_id"].as_str().unwrap_or_default().to_string())
            .collect();
        ids.sort();
        ids
    };
    let started = std::time::Instant::now();
    while questions().len() < 6 {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "the watches did not record the replies: {:?}", questions());
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Both watches look again (IDLE, their next pass) before they stop.
    std::thread::sleep(std::time::Duration::from_secs(2));
    for mut w in watches {
        unsafe { libc::kill(w.id() as i32, libc::SIGTERM) };
        w.wait().unwrap();
    }
    let expected: Vec<String> = (0..6).map(|n| format!("w{n}@example-cert.test")).collect();
    assert_eq!(questions(), expected, "each reply's hook fired once for the team");
    let received = a.raw_db().query("SELECT COUNT(*) FROM received", &[]).unwrap()[0][0].int();
    assert_eq!(received, Some(6), "each reply recorded once");
    log_verifies_on(&[&a, &b]);
}

/// `read REF --json` on a machine: every message's JSON line.
fn read_json(env: &Env, reference: &str) -> Vec<serde_json::Value> {
    let out = env.certmail(&["read", reference, "--json"]);
    assert_success(&out);
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect()
}

/// The texts a message shows and whether a good signature covers each.
fn shown_texts(message: &serde_json::Value) -> Vec<(String, bool)> {
    message["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| Some((p["text"].as_str()?.to_string(), p["signed"] == true))).collect())
        .unwrap_or_default()
}

/// The CERT's signed reply to `env`'s notification, encrypted to `env`'s key alone
/// (GnuPG made), and the case it belongs to (which takes the home over).
fn cert_replies_to(env: Env, reference: &str, message_id: &str, body: &str) -> (crate::ingest::Case, std::path::PathBuf) {
    let gnupg = env.path("cert-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", cert_key().secret.to_str().unwrap(), env.reporter_public().to_str().unwrap()]);
    let reporter = reporter_fingerprint(&env);
    let case =
        crate::ingest::Case { env, reference: reference.to_string(), message_id: message_id.to_string(), gnupg: gnupg.clone(), reporter };
    let reply = crate::ingest::gpg_encrypted_reply(&case, body, &cert_key().fingerprint, &gnupg);
    (case, reply)
}

fn add_member(on: &Env, member: &Env) {
    assert_success(&on.certmail(&["team", "add", member.reporter_public().to_str().unwrap()]));
}

/// Three analysts' machines on one store: Jens (a) and Mette (b) list each other as
/// members; Ida (c) is listed by no one yet. What a sends, and what the CERT writes
/// back to a's key, b reads on her own machine with her own key; c cannot until a
/// lists her and makes reading keys for what was there before, and then reads the
/// CERT's signature as good herself.
#[test]
fn a_team_member_reads_what_another_sent_and_what_the_cert_wrote_back() {
    let (a, b) = two_machines();
    let c = a.same_store();
    add_member(&a, &b);
    add_member(&b, &a);
    // c knows the others' keys, so it can say whose they are.
    add_member(&c, &a);
    add_member(&c, &b);
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap().to_string();
    let message_id = json["message_id"].as_str().unwrap().to_string();

    // b reads what a sent: the notification was encrypted to her key too.
    let on_b = read_json(&b, &reference);
    let sent = shown_texts(&on_b[0]);
    assert!(sent.iter().any(|(t, _)| t.contains("Ransomware på filservere")), "{:#}", on_b[0]);

    // The CERT replies to a's key alone, signed; a's machine ingests it.
    let ack = format!("Vi har modtaget jeres underretning {reference} og ser på den.");
    let (case, reply) = cert_replies_to(a, &reference, &message_id, &ack);
    let a = &case.env;
    let ingested = crate::ingest::ingest(a, &reply);
    assert_eq!((ingested["signature"].as_str(), ingested["kind"].as_str()), (Some("good"), Some("ack")), "{ingested}");

    let on_b = read_json(&b, &reference);
    let received = on_b.iter().find(|m| m["direction"] == "received").expect("the reply");
    assert!(received["error"].is_null(), "b opened it with the reading key a made: {received:#}");
    assert!(shown_texts(received).iter().any(|(t, signed)| t.contains("Vi har modtaget") && *signed), "{received:#}");

    // Moved by a database writer to another incident, the CERT's receipt is not
    // shown as bound to that one.
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again", "--json"]);
    assert_exit(&out, 3);
    let other: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let other = other["reference"].as_str().unwrap().to_string();
    let mut db = b.raw_db();
    db.execute(
        "UPDATE received SET incident_id = (SELECT id FROM incidents WHERE reference = ?1)",
        &[certmail::store::sql::Value::Text(&other)],
    )
    .unwrap();
    let shown = text(&b.certmail(&["read", &other]).stdout);
    assert!(shown.contains("NOT BOUND HERE") && !shown.contains("bound to this incident by a good signature"), "{shown}");
    let moved = read_json(&b, &other).into_iter().find(|m| m["direction"] == "received").unwrap();
    assert_eq!(moved["bound_here"], false, "{moved:#}");
    db.execute(
        "UPDATE received SET incident_id = (SELECT id FROM incidents WHERE reference = ?1)",
        &[certmail::store::sql::Value::Text(&reference)],
    )
    .unwrap();
    assert_eq!(read_json(&b, &reference).into_iter().find(|m| m["direction"] == "received").unwrap()["bound_here"], true);

    // c is no one's member yet: it cannot open either, and says whose keys could.
    let shown = text(&c.certmail(&["read", &reference]).stdout);
    assert!(shown.contains("cannot decrypt") && shown.contains("team member Jens"), "{shown}");
    assert!(shown.contains("certmail team reencrypt"), "{shown}");

    // a lists c and gives her reading keys for what came before.
    add_member(a, &c);
    let out = a.certmail(&["team", "reencrypt", "--json"]);
    assert_success(&out);
    let made: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(made["reading_keys_made"], 3, "the two notifications and the reply: {made}");
    let again: serde_json::Value = serde_json::from_slice(&a.certmail(&["team", "reencrypt", "--json"]).stdout).unwrap();
    assert_eq!(again["reading_keys_made"], 0, "made once: {again}");
    let on_c = read_json(&c, &reference);
    assert!(shown_texts(&on_c[0]).iter().any(|(t, _)| t.contains("Ransomware på filservere")), "{:#}", on_c[0]);
    let received = on_c.iter().find(|m| m["direction"] == "received").expect("the reply");
    assert!(shown_texts(received).iter().any(|(t, signed)| t.contains("Vi har modtaget") && *signed), "{received:#}");

    // The store holds no secret key, and no plaintext of what was encrypted.
    let mut db = b.raw_db();
    for table in ["reading_keys", "received", "messages", "events"] {
        let rows = db.query(&format!("SELECT * FROM {table}"), &[]).unwrap();
        let dump: String = rows
            .iter()
            .flatten()
            .map(|cell| match cell {
                certmail::store::sql::Cell::Text(t) => t.clone(),
                certmail::store::sql::Cell::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                _ => String::new(),
            })
            .collect();
        assert!(!dump.contains("PRIVATE KEY") && !dump.contains("Vi har modtaget"), "{table}");
    }
    log_verifies_on(&[a, &b, &c]);
}

#[test]
fn team_members_are_added_listed_and_removed_and_a_bad_key_file_is_named() {
    let (a, b) = two_machines();
    let listed = text(&a.certmail(&["team", "list"]).stdout);
    assert!(listed.contains("No team members"), "{listed}");
    add_member(&a, &b);
    assert_success(&a.certmail(&["team", "add", "--me"]));
    let out = a.certmail(&["team", "list", "--json"]);
    assert_success(&out);
    let members: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(members["members"].as_array().unwrap().len(), 2, "{members}");
    let listed = text(&a.certmail(&["team", "list"]).stdout);
    assert_eq!(listed.matches("can be encrypted to").count(), 2, "{listed}");
    let doctor = text(&a.certmail(&["doctor"]).stdout);
    assert!(doctor.contains("2 member(s), each can be encrypted to"), "{doctor}");
    // A secret key given as a member's is kept as its public part only.
    let secret = a.home.join("identity/secret.asc");
    assert_success(&b.certmail(&["team", "add", secret.to_str().unwrap()]));
    let kept =
        std::fs::read_dir(b.home.join("team")).unwrap().map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap()).collect::<String>();
    assert!(kept.contains("PUBLIC KEY") && !kept.contains("PRIVATE KEY"), "{kept}");
    // Not a key: exit 2, naming the file.
    let junk = a.write("junk.asc", "not a key");
    let out = a.certmail(&["team", "add", junk.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("junk.asc"), "{}", text(&out.stderr));
    // A file in team/ that is not what its name says stops sending, naming it.
    std::fs::write(a.home.join("team/0000000000000000000000000000000000000000.asc"), std::fs::read(b.reporter_public()).unwrap()).unwrap();
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &[]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("0000000000000000000000000000000000000000.asc"), "{}", text(&out.stderr));
    std::fs::remove_file(a.home.join("team/0000000000000000000000000000000000000000.asc")).unwrap();
    let fpr = members["members"][0]["fingerprint"].as_str().unwrap();
    assert_success(&a.certmail(&["team", "remove", fpr]));
    let out = a.certmail(&["team", "remove", fpr]);
    assert_exit(&out, 2);
}

/// The watch host holds the team identity, but the CERT wrote to the key of the
/// member who notified: the watch host records the reply as one it cannot read, and
/// nothing changes. `team reencrypt` on that member's machine reads it again there:
/// the signed acknowledgement then acknowledges, once, with its members' reading keys.
#[test]
fn a_reply_only_the_notifying_member_can_open_is_read_again_on_her_machine() {
    let (mette, watch_host) = two_machines();
    let jens = mette.same_store();
    add_member(&mette, &watch_host);
    add_member(&mette, &jens);
    let (out, _) = mette.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap().to_string();
    let message_id = json["message_id"].as_str().unwrap().to_string();
    let (case, reply) = cert_replies_to(mette, &reference, &message_id, &format!("Vi har modtaget jeres underretning {reference}."));
    let mette = &case.env;
    let acknowledged = |env: &Env| {
        let out = env.certmail(&["status", "--json"]);
        let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let incident = status["incidents"].as_array().unwrap().iter().find(|i| i["reference"] == reference.as_str()).cloned().unwrap();
        incident["acknowledged"].as_bool().unwrap()
    };

    let on_watch = crate::ingest::ingest(&watch_host, &reply);
    assert_eq!((on_watch["kind"].as_str(), on_watch["state_changed"].as_bool()), (Some("malformed"), Some(false)), "{on_watch}");
    assert!(!acknowledged(&watch_host), "an unread reply acknowledges nothing");
    // Read again where it arrived: still unreadable there, and nothing new recorded.
    assert_eq!(crate::ingest::ingest(&watch_host, &reply)["duplicate"], true);

    let out = mette.certmail(&["team", "reencrypt", "--json"]);
    assert_success(&out);
    let done: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let again = &done["read_again"][0];
    assert_eq!(
        (again["kind"].as_str(), again["bound"].as_bool(), again["state_changed"].as_bool()),
        (Some("ack"), Some(true), Some(true)),
        "{done}"
    );
    assert!(acknowledged(&watch_host), "the whole team sees it acknowledged");
    // Once: again on either machine, nothing more.
    let done: serde_json::Value = serde_json::from_slice(&mette.certmail(&["team", "reencrypt", "--json"]).stdout).unwrap();
    assert_eq!(done["read_again"], serde_json::json!([]), "{done}");
    assert_eq!(crate::ingest::ingest(mette, &reply)["duplicate"], true);
    let timeline = text(&watch_host.certmail(&["log", "show", &reference]).stdout);
    assert_eq!(timeline.matches("acknowledged").count(), 1, "{timeline}");
    // Jens reads it with the reading key made as it was read again.
    let on_jens = read_json(&jens, &reference);
    let received = on_jens.iter().find(|m| m["direction"] == "received").expect("the reply");
    assert!(shown_texts(received).iter().any(|(t, signed)| t.contains("Vi har modtaget") && *signed), "{received:#}");
    assert_eq!(received["kind"], "ack", "{received:#}");
    log_verifies_on(&[mette, &watch_host, &jens]);
    // A database writer marks the read reply unreadable again, to have it recorded
    // (and acknowledge, close or ask) once more: the chain says it was read, so no.
    let mut db = jens.raw_db();
    db.execute("UPDATE received SET kind = 'malformed', bound = 0", &[]).unwrap();
    assert_eq!(crate::ingest::ingest(mette, &reply)["duplicate"], true);
    let done: serde_json::Value = serde_json::from_slice(&mette.certmail(&["team", "reencrypt", "--json"]).stdout).unwrap();
    assert_eq!(done["read_again"], serde_json::json!([]), "{done}");
}

/// `n` session-key packets for random session keys, encrypted to the home's key but
/// naming no recipient: each one is tried with that key, and none opens anything.
fn anonymous_packets(env: &Env, n: usize) -> Vec<u8> {
    use sequoia_openpgp::crypto::SessionKey;
    use sequoia_openpgp::packet::{PKESK, pkesk::PKESK3};
    use sequoia_openpgp::parse::Parse;
    use sequoia_openpgp::serialize::SerializeInto;
    let cert = sequoia_openpgp::Cert::from_file(env.reporter_public()).unwrap();
    let policy = sequoia_openpgp::policy::StandardPolicy::new();
    let valid = cert.with_policy(&policy, None).unwrap();
    let key = valid.keys().for_transport_encryption().next().unwrap().key().clone();
    let mut packets = Vec::new();
    for _ in 0..n {
        let session = SessionKey::new(32).unwrap();
        let mut pkesk = PKESK3::for_recipient(sequoia_openpgp::types::SymmetricAlgorithm::AES256, &session, &key).unwrap();
        pkesk.set_recipient(None);
        packets.extend(sequoia_openpgp::Packet::from(PKESK::from(pkesk)).to_vec().unwrap());
    }
    packets
}

fn reporter_fingerprint(env: &Env) -> String {
    certmail::crypto::Identity::from_bytes(&std::fs::read(env.home.join("identity/secret.asc")).unwrap()).unwrap().fingerprint()
}

/// Whoever can write to the shared database (but not to anyone's home) can neither
/// pass off changed bytes as what a member sent, nor have them sent, nor make a
/// reply look signed, nor keep the key a message is for from opening it.
#[test]
fn a_database_writer_cannot_pass_off_bytes_or_verdicts_nor_keep_a_member_from_reading() {
    use certmail::store::sql::Value;
    let (a, b) = two_machines();
    add_member(&a, &b);
    add_member(&b, &a);
    let (out, _) = a.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_exit(&out, 3);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap().to_string();
    let message_id = json["message_id"].as_str().unwrap().to_string();
    let mut db = b.raw_db();

    // Reading keys in the way of the key a message is for: garbage, and a row far
    // larger than any real one, under a's own fingerprint.
    let sent = a.store().message_bytes(&message_id).unwrap().unwrap();
    let key = certmail::store::reading_keys::message_key(&sent);
    let own = reporter_fingerprint(&a);
    db.execute(
        "INSERT INTO reading_keys (message_sha256, member, packets, made_at) VALUES (?1, ?2, ?3, 'x')",
        &[Value::Text(&key), Value::Text(&own), Value::Bytes(&[0xde, 0xad, 0xbe, 0xef, 0xc1, 0x01])],
    )
    .unwrap();
    let shown = read_json(&a, &reference);
    assert!(shown_texts(&shown[0]).iter().any(|(t, signed)| t.contains("Ransomware på filservere") && *signed), "{:#}", shown[0]);
    db.execute("UPDATE reading_keys SET packets = ?1 WHERE member = ?2", &[Value::Bytes(&vec![0xc1; 2 << 20]), Value::Text(&own)]).unwrap();
    assert!(shown_texts(&read_json(&a, &reference)[0]).iter().any(|(t, _)| t.contains("Ransomware på filservere")));
    // Session-key packets addressed to no one, each tried with a's key, opening nothing.
    db.execute("UPDATE reading_keys SET packets = ?1 WHERE member = ?2", &[Value::Bytes(&anonymous_packets(&a, 8)), Value::Text(&own)])
        .unwrap();
    assert!(shown_texts(&read_json(&a, &reference)[0]).iter().any(|(t, _)| t.contains("Ransomware på filservere")));

    // An unsigned reply, its row then made to say it was signed and bound.
    let unsigned = a.write(
        "unsigned.eml",
        &format!("From: {CERT_ADDRESS}\r\nSubject: Re: [{reference}]\r\nMessage-ID: <u1@example-cert.test>\r\nIn-Reply-To: <{message_id}>\r\n\r\nSend the domain admin password to us.\r\n"),
    );
    assert_success(&a.certmail(&["ingest", unsigned.to_str().unwrap(), "--keep-copies"]));
    db.execute("UPDATE received SET signature = 'good', bound = 1, kind = 'ack'", &[]).unwrap();
    let out = b.certmail(&["read", &reference]);
    let shown = text(&out.stdout);
    assert!(shown.contains("WARNING: the log records signature good, but reading the message again here finds none"), "{shown}");
    assert!(shown.contains("NOT AUTHENTICATED"), "{shown}");
    let received = read_json(&b, &reference).into_iter().find(|m| m["direction"] == "received").unwrap();
    assert_eq!((received["signature_here"].as_str(), received["bound_here"].as_bool()), (Some("none"), Some(false)), "{received:#}");

    // The notification's bytes swapped for others, encrypted to b but signed by no
    // one of the team: neither shown as sent by a member nor sent.
    let gnupg = b.path("forger-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", b.reporter_public().to_str().unwrap()]);
    let forged_text = b.write("forged.txt", "Content-Type: text/plain\r\n\r\nFORGED: we have paid the ransom.\r\n");
    let armored = gpg_ok(
        &gnupg,
        &[
            "--trust-model",
            "always",
            "--armor",
            "--recipient",
            &reporter_fingerprint(&b),
            "--encrypt",
            "--output",
            "-",
            forged_text.to_str().unwrap(),
        ],
    );
    let head = text(&sent);
    let head = &head[..head.find("-----BEGIN PGP MESSAGE-----").unwrap()];
    let forged = format!("{head}{}\r\n--", text(&armored.stdout));
    db.execute("UPDATE message_bytes SET bytes = ?1", &[Value::Bytes(forged.as_bytes())]).unwrap();
    // And a message no event queued, made in the database with bytes of its own.
    db.execute(
        "INSERT INTO messages (id, message_id, incident_id, recipient, recipient_fingerprint, envelope_from, envelope_to, size, state, created_at, updated_at)
         SELECT 9002, 'forged@example.test', incident_id, recipient, recipient_fingerprint, envelope_from, envelope_to, size, 'queued', created_at, updated_at FROM messages",
        &[],
    )
    .unwrap();
    db.execute(
        "INSERT INTO message_bytes (message, bytes) VALUES (9002, ?1)",
        &[Value::Bytes(b"From: soc@example.dk\r\nMessage-ID: <forged@example.test>\r\nSubject: FORGED\r\n\r\nFORGED: we paid.\r\n")],
    )
    .unwrap();
    let shown = text(&b.certmail(&["read", &reference]).stdout);
    assert!(shown.contains("changed after it was queued") && !shown.contains("FORGED"), "{shown}");
    assert!(shown.contains("no event of its incident queued this message"), "{shown}");
    let server = SmtpServer::start("starttls", "none");
    b.set_relay(server.port, "starttls", &tls().ca, 10);
    let _ = b.certmail(&["outbox", "flush"]);
    assert!(server.received().is_empty(), "changed bytes are not sent");
    // Its queued event changed to match (the chain no longer holds, as `log verify`
    // says): shown, but as signed by no one of the team.
    let sha = certmail::store::reading_keys::message_key(forged.as_bytes());
    let detail: String = db.query("SELECT detail FROM events WHERE kind = 'queued'", &[]).unwrap()[0][0].text().unwrap().to_string();
    let mut detail: serde_json::Value = serde_json::from_str(&detail).unwrap();
    detail["sha256"] = sha.into();
    db.execute("UPDATE events SET detail = ?1 WHERE kind = 'queued'", &[Value::Text(&detail.to_string())]).unwrap();
    let shown = text(&b.certmail(&["read", &reference]).stdout);
    assert!(shown.contains("NOT SIGNED by you or a listed team member") && shown.contains("UNSIGNED | FORGED"), "{shown}");
    assert!(!shown.contains("sent     | FORGED"), "{shown}");
    assert_exit(&b.certmail(&["log", "verify"]), 1);
}
