//! Who did what (docs/TEAM-MODE.md, 4): every event names the writer whose certmail
//! wrote it (its home's `[identity]` and signing key), `log show`, `status` and
//! `read` say so, the chain covers it, and a log from before the columns migrates and
//! verifies as it did, anchors included. On either engine: on PostgreSQL each event
//! also names the database user the server says wrote it.

use std::path::Path;

use crate::log::{first_row, rehash, tamper, verify, verify_anchored};
use crate::support::*;

/// The fingerprint of the signing subkey of the home's key, as GnuPG reads it.
fn signing_key(env: &Env) -> String {
    let gnupg = env.path(&format!("gnupg-{}", std::process::id()));
    std::fs::create_dir_all(&gnupg).unwrap();
    let out = gpg_ok(&gnupg, &["--with-colons", "--with-subkey-fingerprint", "--show-keys", env.reporter_public().to_str().unwrap()]);
    let listing = text(&out.stdout);
    let mut lines = listing.lines().map(|l| l.split(':').collect::<Vec<_>>());
    while let Some(fields) = lines.next() {
        if fields[0] == "sub" && fields[11].contains('s') {
            let fpr = lines.next().unwrap();
            assert_eq!(fpr[0], "fpr", "{listing}");
            return fpr[9].to_string();
        }
    }
    panic!("no signing subkey: {listing}")
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert_success(out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn events(env: &Env, reference: &str) -> Vec<serde_json::Value> {
    json(&env.certmail(&["log", "show", reference, "--json"]))["events"].as_array().unwrap().clone()
}

/// The database user the home's commands connect as: its URL's on PostgreSQL; none on
/// SQLite, which has no users.
fn db_user(env: &Env) -> Option<String> {
    env.store_url.as_ref().map(|url| url.parse::<postgres::Config>().unwrap().get_user().expect("a user in the URL").to_string())
}

/// The `by` object of an event this home's certmail wrote.
fn by(env: &Env, name: Option<&str>, email: Option<&str>, key: Option<&str>) -> serde_json::Value {
    serde_json::json!({ "name": name, "email": email, "key": key, "db_user": db_user(env) })
}

/// The `by` object of an event that names no one.
fn nobody() -> serde_json::Value {
    serde_json::json!({ "name": null, "email": null, "key": null, "db_user": null })
}

/// How text output says this home's certmail wrote an event, `who` being its name,
/// e-mail and key as shown: " by WHO " and, on PostgreSQL, the database user.
fn says(env: &Env, who: &str) -> String {
    let user = db_user(env).map(|u| format!("[database user {u}]"));
    let parts: Vec<String> = [Some(who.to_string()).filter(|w| !w.is_empty()), user].into_iter().flatten().collect();
    format!(" by {} ", parts.join(" "))
}

/// An event's four `by_` columns, read behind certmail's back.
fn columns(env: &Env, id: i64) -> Vec<Option<String>> {
    first_row(env, &format!("SELECT by_name, by_email, by_key, by_db_user FROM events WHERE id = {id}"))
}

/// SQL that sets an event's four `by_` columns back to `values`.
fn restore(id: i64, values: &[Option<String>]) -> String {
    let literal = |v: &Option<String>| v.as_ref().map_or("NULL".to_string(), |t| format!("'{}'", t.replace('\'', "''")));
    let set: Vec<String> =
        ["by_name", "by_email", "by_key", "by_db_user"].iter().zip(values).map(|(c, v)| format!("{c} = {}", literal(v))).collect();
    format!("UPDATE events SET {} WHERE id = {id}", set.join(", "))
}

/// Replaces the name and e-mail under `[identity]` (the key stays).
fn rename(env: &Env, name: &str, email: &str) {
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config: String = config
        .lines()
        .map(|l| {
            if l.starts_with("name = \"Jens") {
                format!("name = \"{name}\"\n")
            } else if l.starts_with("email = \"soc@") {
                format!("email = \"{email}\"\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    assert!(config.contains(name) && config.contains(email), "{config}");
    std::fs::write(env.config_path(), config).unwrap();
}

#[test]
fn each_event_names_the_writer_of_the_command_that_wrote_it() {
    let env = Env::new();
    let jens_key = signing_key(&env);
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();

    // The same home, its [identity] edited: the same key, another name.
    rename(&env, "Mette Holm", "mh@soc.example.dk");
    let follow_up = ["--follow-up", reference.as_str(), "--again"];
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &follow_up).0);

    let jens = by(&env, Some("Jens Ærø"), Some("soc@example.dk"), Some(&jens_key));
    let mette = by(&env, Some("Mette Holm"), Some("mh@soc.example.dk"), Some(&jens_key));
    let written = |env: &Env| -> Vec<(String, serde_json::Value)> {
        events(env, &reference).iter().map(|e| (e["kind"].as_str().unwrap().to_string(), e["by"].clone())).collect()
    };
    let expected: Vec<(String, serde_json::Value)> = vec![
        ("created".into(), jens.clone()),
        ("queued".into(), jens.clone()),
        ("follow-up".into(), mette.clone()),
        ("queued".into(), mette.clone()),
    ];
    assert_eq!(written(&env), expected);
    assert_success(&verify(&env).0);

    // log show: who, their address, the end of their signing key.
    let shown = text(&env.certmail(&["log", "show", &reference]).stdout);
    let lines: Vec<&str> = shown.lines().skip(1).collect();
    assert_eq!(lines.len(), 4, "{shown}");
    let jens_says = says(&env, &format!("Jens Ærø <soc@example.dk> (key …{})", &jens_key[32..]));
    let mette_says = says(&env, &format!("Mette Holm <mh@soc.example.dk> (key …{})", &jens_key[32..]));
    assert!(lines[..2].iter().all(|l| l.contains(&jens_says)) && !lines[..2].iter().any(|l| l.contains("Mette")), "{shown}");
    assert!(lines[2..].iter().all(|l| l.contains(&mette_says)) && !lines[2..].iter().any(|l| l.contains("Jens")), "{shown}");

    // status: who did the last thing.
    let status = json(&env.certmail(&["status", "--json"]));
    let last = &status["incidents"][0]["last_event"];
    assert_eq!((&last["kind"], &last["by"]), (&serde_json::json!("queued"), &mette), "{status}");
    let said = text(&env.certmail(&["status"]).stdout);
    assert!(said.lines().any(|l| l.starts_with("  last done: queued ") && l.ends_with(mette_says.trim_end())), "{said}");

    // read: who made each message we sent, oldest first.
    let read = env.certmail(&["read", &reference, "--json"]);
    assert_success(&read);
    let sent: Vec<serde_json::Value> = text(&read.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|m| m["direction"] == "sent")
        .collect();
    assert_eq!(sent.iter().map(|m| m["by"].clone()).collect::<Vec<_>>(), [jens.clone(), mette.clone()]);
    assert!(sent.iter().all(|m| m["sent_by"].is_null()), "not handed to a relay yet");
    let said = text(&env.certmail(&["read", &reference]).stdout);
    let made: Vec<&str> = said.lines().filter(|l| l.starts_with("     by ")).collect();
    assert_eq!(made, [jens_says.trim(), mette_says.trim()].map(|s| format!("     {s}")), "{said}");

    // Made anew with another key: the next event names the new writer and key.
    let init = ["init", "--force", "--name", "Ole Sand", "--email", "os@soc.example.dk", "--org", "Eksempel A/S", "--cvr", "12345678"];
    assert_success(&env.certmail(&init));
    let ole_key = signing_key(&env);
    assert_ne!(ole_key, jens_key);
    assert_success(&env.certmail(&["incident", "close", &reference, "--reason", "handled"]));
    let mut expected = expected;
    expected.push(("closed".into(), by(&env, Some("Ole Sand"), Some("os@soc.example.dk"), Some(&ole_key))));
    assert_eq!(written(&env), expected);
    assert_success(&verify(&env).0);
}

#[test]
fn a_rewritten_or_wiped_author_breaks_the_chain() {
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    assert_queued(&env.notify(Path::new("examples/personal-data-breach.toml"), &[]).0);
    assert_success(&verify(&env).0);
    let recorded = columns(&env, 3);
    assert_eq!(recorded[0].as_deref(), Some("Jens Ærø"));
    assert_eq!(recorded[3], db_user(&env));
    // Another name, and a database user that is "" (on PostgreSQL: not the one recorded).
    for edit in ["UPDATE events SET by_name = 'Someone Else' WHERE id = 3", "UPDATE events SET by_db_user = '' WHERE id = 3"] {
        tamper(&env, edit);
        let (out, json) = verify(&env);
        assert_exit(&out, 1);
        let problems = json["problems"].as_array().unwrap();
        assert_eq!(problems.len(), 1, "{json}");
        assert_eq!(problems[0]["event"], 3, "{json}");
        assert!(problems[0]["problem"].as_str().unwrap().contains("edited"), "{json}");
        tamper(&env, &restore(3, &recorded));
        assert_success(&verify(&env).0);
    }
    // No author at all is not the same as the one recorded.
    let key = signing_key(&env);
    let recorded = columns(&env, 2);
    assert_eq!(recorded[2].as_deref(), Some(key.as_str()));
    tamper(&env, &restore(2, &[None, None, None, None]));
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["problems"][0]["event"], 2, "{json}");
    let said = text(&env.certmail(&["log", "verify"]).stdout);
    assert!(said.contains("event 2: its content does not match its hash"), "{said}");
    tamper(&env, &restore(2, &recorded));
    assert_success(&verify(&env).0);
}

/// A log as the release before the authors wrote it: no columns, the schema at the
/// step before them (the tables that came after, gone too), and the chain as
/// that release hashed it; returns its head.
pub(crate) fn as_written_before_authors(env: &Env) -> (i64, String) {
    tamper(env, &format!("{}\nPRAGMA user_version = {};", crate::log::WITHOUT_AUTHORS, certmail::store::SCHEMA_VERSION - 3));
    rehash(env)
}

#[test]
fn a_log_from_before_the_authors_verifies_after_the_upgrade_and_holds_its_anchor() {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    let (count, head) = as_written_before_authors(&env);
    assert_eq!(count, 2);
    // The head as the old release had it, kept as a notification carries it.
    let anchor = env.write("old-head.txt", &format!("X-Certmail-Log-Head: {count} {head}\r\n\r\n"));
    let (out, json) = verify_anchored(&env, &anchor);
    assert_success(&out);
    assert_eq!((json["events"].as_i64(), json["head"].as_str()), (Some(2), Some(head.as_str())), "{json}");
    assert_eq!(json["anchor"]["events_after"], 0, "{json}");
    // Its events name no one, in JSON and text alike.
    let unknown = nobody();
    assert!(events(&env, &reference).iter().all(|e| e["by"] == unknown), "{:?}", events(&env, &reference));
    let shown = text(&env.certmail(&["log", "show", &reference]).stdout);
    assert!(!shown.contains(" by "), "{shown}");
    let said = text(&env.certmail(&["status"]).stdout);
    assert!(said.contains("last done: queued") && said.contains("(who is not recorded)"), "{said}");
    // From the upgrade on, events name their writer, and the anchor still holds.
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--follow-up", &reference, "--again"]).0);
    let (out, json) = verify_anchored(&env, &anchor);
    assert_success(&out);
    assert_eq!(json["anchor"]["events_after"], 2, "{json}");
    let named: Vec<bool> = events(&env, &reference).iter().map(|e| e["by"]["name"] == "Jens Ærø").collect();
    assert_eq!(named, [false, false, true, true]);
    // An author written into an old event breaks its hash.
    tamper(&env, "UPDATE events SET by_name = 'Mette Holm' WHERE id = 1");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["problems"][0]["event"], 1, "{json}");
}

#[test]
fn the_by_object_has_one_shape_everywhere() {
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    let keys = |v: &serde_json::Value| -> Vec<String> {
        let mut k: Vec<String> = v.as_object().unwrap_or_else(|| panic!("not an object: {v}")).keys().cloned().collect();
        k.sort();
        k
    };
    let shape = ["db_user", "email", "key", "name"];
    let status = json(&env.certmail(&["status", "--json"]));
    let reference = status["incidents"][0]["reference"].as_str().unwrap().to_string();
    let by_status = &status["incidents"][0]["last_event"]["by"];
    assert_eq!(keys(by_status), shape);
    // The database user on PostgreSQL; SQLite knows none.
    assert_eq!(by_status["db_user"], serde_json::json!(db_user(&env)), "{status}");
    for e in events(&env, &reference) {
        assert_eq!(keys(&e["by"]), shape, "{e}");
        assert!(e["by"]["key"].as_str().is_some_and(|k| k.len() == 40 && k.chars().all(|c| c.is_ascii_hexdigit())), "{e}");
    }
    let read = text(&env.certmail(&["read", &reference, "--json"]).stdout);
    let first: serde_json::Value = serde_json::from_str(read.lines().next().unwrap()).unwrap();
    assert_eq!(keys(&first["by"]), shape, "{first}");
    let export = text(&env.certmail(&["log", "export"]).stdout);
    assert!(export.lines().all(|l| keys(&serde_json::from_str::<serde_json::Value>(l).unwrap()["by"]) == shape), "{export}");
}

#[test]
fn a_home_that_does_not_know_its_writer_names_no_one() {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    let key = signing_key(&env);
    // No name or e-mail under [identity]: the key alone, as it is.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let config: String =
        config.lines().filter(|l| !l.starts_with("name = \"Jens") && !l.starts_with("email = \"soc@")).map(|l| format!("{l}\n")).collect();
    std::fs::write(env.config_path(), config).unwrap();
    assert_success(&env.certmail(&["incident", "close", &reference, "--reason", "handled"]));
    assert_eq!(events(&env, &reference).last().unwrap()["by"], by(&env, None, None, Some(&key)));
    let shown = text(&env.certmail(&["log", "show", &reference]).stdout);
    assert!(shown.lines().last().unwrap().contains(&says(&env, &format!("(key …{})", &key[32..]))), "{shown}");
    // And no key either: nothing at all, rather than a guess (but the database user,
    // which the server says, on PostgreSQL).
    std::fs::rename(env.home.join("identity/secret.asc"), env.path("secret.asc")).unwrap();
    assert_success(&env.certmail(&["incident", "close", &reference, "--reason", "again"]));
    assert_eq!(events(&env, &reference).last().unwrap()["by"], by(&env, None, None, None));
    let shown = text(&env.certmail(&["log", "show", &reference]).stdout);
    let last = shown.lines().last().unwrap();
    match db_user(&env) {
        None => assert!(!last.contains(" by "), "{shown}"),
        Some(_) => assert!(last.contains(&says(&env, "")), "{shown}"),
    }
    assert_success(&verify(&env).0);
}

#[test]
fn ingest_writes_as_the_home_that_runs_it() {
    let c = crate::ingest::case();
    let key = signing_key(&c.env);
    // The home that reads the mailbox (a watch host, say) is not the one that notified.
    rename(&c.env, "Watch Host", "watch@soc.example.dk");
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nSubject: Re: [{}] Encrypted message\r\nMessage-ID: <q1@example-cert.test>\r\nIn-Reply-To: <{}>\r\n\r\nKan I sende os logfilerne?\r\n",
        c.reference, c.message_id
    );
    let r = crate::ingest::ingest(&c.env, &c.env.write("reply.eml", &mail));
    assert_eq!(r["incident"].as_str(), Some(c.reference.as_str()), "{r}");
    let written: Vec<(String, serde_json::Value)> =
        events(&c.env, &c.reference).iter().map(|e| (e["kind"].as_str().unwrap().to_string(), e["by"].clone())).collect();
    let host = by(&c.env, Some("Watch Host"), Some("watch@soc.example.dk"), Some(&key));
    assert_eq!(written.last(), Some(&("received".to_string(), host)), "{written:?}");
    assert_eq!(written[0].1["name"], "Jens Ærø", "{written:?}");
    // read: our message says who made it; the CERT's says nothing of the kind.
    let read = text(&c.env.certmail(&["read", &c.reference, "--json"]).stdout);
    let messages: Vec<serde_json::Value> = read.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(messages.len(), 2, "{read}");
    assert_eq!(messages[0]["direction"], "sent");
    assert_eq!(messages[0]["by"]["name"], "Jens Ærø", "{read}");
    assert_eq!((&messages[1]["direction"], &messages[1]["by"]), (&serde_json::json!("received"), &serde_json::Value::Null), "{read}");
}

#[test]
fn the_database_user_is_the_servers_word_on_postgresql_and_none_on_sqlite() {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    let users = |env: &Env| -> Vec<Option<String>> {
        let rows = env.raw_db().query("SELECT by_db_user FROM events ORDER BY id", &[]).unwrap();
        rows.iter().map(|r| r[0].text().map(str::to_string)).collect()
    };
    let csv = text(&env.certmail(&["log", "export", "--csv"]).stdout);
    if !on_postgres() {
        // SQLite has no users: the column is NULL, and says nothing anywhere.
        assert_eq!(users(&env), [None, None]);
        assert!(csv.lines().skip(1).all(|l| l.ends_with(',')), "{csv}");
        assert!(!text(&env.certmail(&["log", "show", &reference]).stdout).contains("database user"));
        return;
    }
    // The user the session authenticated as, which the server says, not the config.
    let session = first_row(&env, "SELECT CAST(session_user AS TEXT)")[0].clone();
    assert_eq!(session.as_deref(), Some("certmail"));
    assert_eq!(users(&env), [session.clone(), session.clone()]);
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",certmail")), "{csv}");
    // Another database user on the same store (a role with the owner's rights): what
    // it writes names that user, whatever [identity] says.
    let url = env.store_url.clone().unwrap();
    let database = url.rsplit('/').next().unwrap().to_string();
    let role = format!("mette_{database}");
    let mut admin = crate::pg::server().connect("postgres", "postgres");
    admin.batch_execute(&format!("CREATE ROLE \"{role}\" LOGIN IN ROLE certmail")).unwrap();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let url = url.replace("certmail@", &format!("{role}@"));
    std::fs::write(env.config_path(), format!("{config}\n[store]\nurl = \"{url}\"\n")).unwrap();
    assert_success(&env.certmail(&["incident", "close", &reference, "--reason", "handled"]));
    assert_eq!(users(&env), [session.clone(), session, Some(role.clone())]);
    let last = events(&env, &reference).last().unwrap()["by"].clone();
    assert_eq!((&last["name"], &last["db_user"]), (&serde_json::json!("Jens Ærø"), &serde_json::json!(role)), "{last}");
    let shown = text(&env.certmail(&["log", "show", &reference]).stdout);
    assert!(shown.lines().last().unwrap().contains(&format!(" [database user {role}] ")), "{shown}");
    // It is in the chain as the rest: another user written in breaks the event's hash.
    assert_success(&verify(&env).0);
    tamper(&env, "UPDATE events SET by_db_user = 'certmail' WHERE id = 3");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["problems"][0]["event"], 3, "{json}");
}
