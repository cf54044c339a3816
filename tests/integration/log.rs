//! The incident log: list, show, export, and `log verify` finding edited, deleted
//! and reordered events, rows changed behind the chain's back, and (with an anchor
//! kept elsewhere) a chain rewritten whole, cut short, or wiped and made anew.

use std::path::Path;

use crate::support::*;

fn env_with_two_incidents() -> Env {
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    assert_queued(&env.notify(Path::new("examples/personal-data-breach.toml"), &[]).0);
    env
}

/// Changes the home's store behind certmail's back (on either engine). The changes
/// are written in SQLite's words; on PostgreSQL its JSON functions, `BLOB` and the
/// schema version are said in PostgreSQL's.
pub(crate) fn tamper(env: &Env, sql: &str) {
    let sql = if on_postgres() { in_postgres_words(sql) } else { sql.to_string() };
    env.raw_db().batch(&sql).unwrap();
}

/// `json_remove(detail, '$.a', …)`, `json_set(detail, '$.a', 'text')`, `AS BLOB` and
/// `PRAGMA user_version = N` as PostgreSQL says them.
fn in_postgres_words(sql: &str) -> String {
    let mut out = sql.replace(" AS BLOB)", " AS BYTEA)").replace("PRAGMA user_version =", "UPDATE schema_version SET version =");
    for function in ["json_remove(", "json_set("] {
        while let Some(at) = out.find(function) {
            let end = at + out[at..].find(')').expect("a closing parenthesis");
            let args: Vec<&str> = out[at + function.len()..end].split(',').map(str::trim).collect();
            let key = |a: &str| a.trim_matches('\'').trim_start_matches("$.").to_string();
            let rewritten = if function == "json_remove(" {
                let keys: String = args[1..].iter().map(|a| format!(" - '{}'", key(a))).collect();
                format!("CAST(CAST({} AS jsonb){keys} AS TEXT)", args[0])
            } else {
                format!("CAST(jsonb_set(CAST({} AS jsonb), '{{{}}}', to_jsonb(CAST({} AS TEXT))) AS TEXT)", args[0], key(args[1]), args[2])
            };
            out.replace_range(at..=end, &rewritten);
        }
    }
    out
}

/// The text columns of a query's first row, read behind certmail's back.
pub(crate) fn first_row(env: &Env, sql: &str) -> Vec<Option<String>> {
    let rows = env.raw_db().query(sql, &[]).unwrap();
    rows.into_iter().next().expect("a row").iter().map(|c| c.text().map(str::to_string)).collect()
}

pub(crate) fn verify(env: &Env) -> (std::process::Output, serde_json::Value) {
    let out = env.certmail(&["log", "verify", "--json"]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, json)
}

#[test]
fn an_untouched_log_verifies() {
    let env = env_with_two_incidents();
    let (out, json) = verify(&env);
    assert_success(&out);
    assert_eq!(json["ok"], true);
    assert_eq!(json["events"], 4);
    assert!(json["cannot_prove"].as_str().unwrap().contains("rewritten"), "{json}");
    let said = text(&env.certmail(&["log", "verify"]).stdout);
    assert!(said.contains("consistent") && said.contains("Without an anchor"), "{said}");
    let anchor = take_anchor(&env);
    let (out, json) = verify_anchored(&env, &anchor);
    assert_success(&out);
    assert_eq!(json["anchor"]["events"], 4);
    assert_eq!(json["anchor"]["events_after"], 0);
    // Later events are consistent with the anchor; it says they are not covered yet.
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again"]).0);
    let (out, json) = verify_anchored(&env, &anchor);
    assert_success(&out);
    assert_eq!(json["anchor"]["events_after"], 2, "{json}");
    let said = text(&env.certmail(&["log", "verify", "--anchor", anchor.to_str().unwrap()]).stdout);
    assert!(said.contains("signed by your key") && said.contains("2 event(s) recorded since"), "{said}");
}

#[test]
fn an_edited_event_is_found() {
    let env = env_with_two_incidents();
    tamper(&env, "UPDATE events SET detail = '{\"title\":\"nothing happened\"}' WHERE id = 1;");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["problems"][0]["event"], 1);
    assert!(json["problems"][0]["problem"].as_str().unwrap().contains("edited"));
}

#[test]
fn a_deleted_event_is_found_in_the_middle_and_at_the_end() {
    let env = env_with_two_incidents();
    tamper(&env, "DELETE FROM events WHERE id = 2;");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["problems"][0]["event"], 3, "{json}");
    let env = env_with_two_incidents();
    tamper(&env, "DELETE FROM events WHERE id = (SELECT MAX(id) FROM events);");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert!(json["problems"].to_string().contains("at the end were deleted"), "{json}");
}

#[test]
fn reordered_events_are_found() {
    let env = env_with_two_incidents();
    // Swap the content of two rows, hashes and all.
    tamper(&env, "UPDATE events SET id = -1 WHERE id = 1; UPDATE events SET id = 1 WHERE id = 2; UPDATE events SET id = 2 WHERE id = -1;");
    let (out, json) = verify(&env);
    assert_exit(&out, 1);
    assert!(!json["problems"].as_array().unwrap().is_empty());
}

#[test]
fn list_show_and_export() {
    let env = env_with_two_incidents();
    let list = env.certmail(&["log", "list", "--json"]);
    assert_success(&list);
    let json: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let incidents = json["incidents"].as_array().unwrap();
    assert_eq!(incidents.len(), 2);
    assert_eq!(incidents[0]["scheme"], "personal-data", "newest first");
    let reference = incidents[1]["reference"].as_str().unwrap();
    let show = env.certmail(&["log", "show", reference, "--json"]);
    assert_success(&show);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).unwrap();
    let kinds: Vec<&str> = shown["events"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["created", "queued"]);
    let csv = env.certmail(&["log", "export", "--csv"]);
    assert_success(&csv);
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("reference,id,at,kind,message_id,detail,by_name,by_email,by_key,by_db_user\n"), "{csv}");
    assert_eq!(csv.lines().count(), 5, "{csv}");
    let jsonl = env.certmail(&["log", "export"]);
    assert_eq!(text(&jsonl.stdout).lines().filter(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()).count(), 4);
    assert_exit(&env.certmail(&["log", "show", "CM-1999-0001"]), 2);
}

#[test]
fn status_shows_overdue_clocks_until_virk_filing_and_close() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let detected = (chrono::Utc::now() - chrono::Duration::days(4)).to_rfc3339();
    let incident = serde_json::json!({
        "scheme": "personal-data", "title": "Lost laptop",
        "personal-data": { "report-to": "datatilsynet", "unauthorised-disclosure": false, "unauthorised-access": true,
                           "alteration": false, "destruction": false, "loss": true, "categories": ["name"] },
        "description": { "what-happened": "A laptop was stolen.", "nature": ["theft-or-loss-of-media"] },
        "timeline": { "start": { "status": "unknown" }, "detected": { "status": "known", "at": detected }, "late-reason": "found late" },
        "scope": { "affected": ["employees"], "total": 12, "is-estimate": false },
        "cross-border": { "persons-in-other-countries": false },
        "consequences": { "confidentiality": ["misuse"] },
        "handling": { "measures": "Remote wipe." },
        "data-subjects": { "notified": "undecided" },
        "dpo": { "appointed": "no" }
    });
    let file = env.write("laptop.json", &incident.to_string());
    let (out, _) = env.notify(&file, &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();

    let status = |env: &Env| -> serde_json::Value {
        let out = env.certmail(&["status", "--json"]);
        assert_success(&out);
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let s = status(&env);
    let open = &s["incidents"][0];
    assert_eq!(open["reference"], reference.as_str());
    assert_eq!(open["overdue"], true);
    let waiting = open["waiting_for"].to_string();
    assert!(waiting.contains("not delivered yet") && waiting.contains("personal data breach notification"), "{waiting}");
    let text_status = env.certmail(&["status"]);
    assert!(text(&text_status.stdout).contains("[OVERDUE]"), "{}", text(&text_status.stdout));

    let receipt = env.write("kvittering.pdf", "%PDF-1.4 receipt");
    assert_success(&env.certmail(&["incident", "virk", &reference, "--reference", "VIRK-2026-77", "--receipt", receipt.to_str().unwrap()]));
    let waiting = status(&env)["incidents"][0]["waiting_for"].to_string();
    assert!(!waiting.contains("personal data breach notification"), "the Virk.dk filing satisfies the clock: {waiting}");
    let shown = text(&env.certmail(&["log", "show", &reference, "--json"]).stdout);
    assert!(shown.contains("VIRK-2026-77") && shown.contains("sha256"), "{shown}");
    let kept: Vec<_> = std::fs::read_dir(env.home.join("receipts")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(std::fs::read(&kept[0]).unwrap(), b"%PDF-1.4 receipt");
    assert_eq!(std::fs::metadata(&kept[0]).unwrap().permissions().mode() & 0o777, 0o600);

    assert_success(&env.certmail(&["incident", "close", &reference, "--reason", "done"]));
    assert_eq!(status(&env)["incidents"], serde_json::json!([]));
    assert_exit(&env.certmail(&["incident", "close", "CM-1999-0001"]), 2);
    assert_success(&env.certmail(&["log", "verify"]));
}

/// Every process replays whatever WAL it finds, and a replay forgets how far the last
/// checkpoint got: a WAL kept between runs (it saves fsyncs) grew by every commit, for
/// ever, and made every later command slower. It stays bounded.
#[test]
fn the_write_ahead_log_kept_between_runs_stays_bounded() {
    if on_postgres() {
        // SQLite's own file: PostgreSQL has no WAL in the home to keep bounded.
        return;
    }
    let env = Env::new();
    let wal = env.home.join("certmail.sqlite-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut written = 0;
    let mut largest = 0;
    // Each notification adds tens of KiB to the WAL: this writes well past the bound.
    while written < 3 * certmail::store::WAL_KEPT_BYTES {
        let before = wal_size();
        assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again"]).0);
        written += wal_size().saturating_sub(before).max(16 * 1024);
        largest = largest.max(wal_size());
    }
    let bound = certmail::store::WAL_KEPT_BYTES + 256 * 1024;
    assert!(largest <= bound, "the WAL reached {largest} bytes (bound {bound})");
    assert_success(&env.certmail(&["log", "verify"]));
}

/// `log anchor`'s signed statement, kept in a file.
pub(crate) fn take_anchor(env: &Env) -> std::path::PathBuf {
    let out = env.certmail(&["log", "anchor"]);
    assert_success(&out);
    let signed = text(&out.stdout);
    assert!(signed.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") && signed.contains("certmail incident log anchor"), "{signed}");
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    env.write(&format!("anchor-{}.asc", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)), &signed)
}

pub(crate) fn verify_anchored(env: &Env, anchor: &Path) -> (std::process::Output, serde_json::Value) {
    let out = env.certmail(&["log", "verify", "--json", "--anchor", anchor.to_str().unwrap()]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out, json)
}

/// Asserts `log verify` fails (exit 1) and one of its problems says `what`.
pub(crate) fn assert_found(out: &std::process::Output, json: &serde_json::Value, what: &str) {
    assert_exit(out, 1);
    let problems = json["problems"].as_array().cloned().unwrap_or_default();
    assert!(problems.iter().any(|p| p["problem"].as_str().unwrap_or("").contains(what)), "expected a problem saying {what:?}: {json}");
}

/// What an attacker with the database does after a change: hash every event again
/// (as certmail does: SHA-256 over length-prefixed fields, then, for an event that
/// names its writer, "v2" and the four `by_` columns, a NULL as length u64::MAX;
/// chained) and move the head, on either engine. Also what a release before the `by_`
/// columns did, for a log without them. Returns the new head.
pub(crate) fn rehash(env: &Env) -> (i64, String) {
    use certmail::store::sql::Value;
    use sha2::{Digest, Sha256};
    let mut db = env.raw_db();
    // A log from before the columns has none (the query fails).
    let authors = db.query("SELECT by_key FROM events LIMIT 0", &[]).is_ok();
    let writer = if authors { "by_name, by_email, by_key, by_db_user" } else { "NULL, NULL, NULL, NULL" };
    let rows = db.query(&format!("SELECT id, incident_id, message_id, at, kind, detail, {writer} FROM events ORDER BY id"), &[]).unwrap();
    let mut prev = "0".repeat(64);
    for r in &rows {
        let (id, incident) = (r[0].int().unwrap(), r[1].int().unwrap());
        let (message, at, kind, detail) = (r[2].text(), r[3].text().unwrap(), r[4].text().unwrap(), r[5].text().unwrap());
        let by = [r[6].text(), r[7].text(), r[8].text(), r[9].text()];
        let mut h = Sha256::new();
        for part in [prev.as_str(), &id.to_string(), &incident.to_string(), message.unwrap_or(""), at, kind, detail] {
            h.update((part.len() as u64).to_be_bytes());
            h.update(part.as_bytes());
        }
        if by.iter().any(Option::is_some) {
            h.update(2u64.to_be_bytes());
            h.update(b"v2");
            for part in by {
                match part {
                    Some(text) => {
                        h.update((text.len() as u64).to_be_bytes());
                        h.update(text.as_bytes());
                    }
                    None => h.update(u64::MAX.to_be_bytes()),
                }
            }
        }
        let hash: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        db.execute("UPDATE events SET prev_hash = ?1, hash = ?2 WHERE id = ?3", &[Value::Text(&prev), Value::Text(&hash), Value::Int(id)])
            .unwrap();
        prev = hash;
    }
    db.execute("UPDATE chain_head SET count = ?1, hash = ?2", &[Value::Int(rows.len() as i64), Value::Text(&prev)]).unwrap();
    (rows.len() as i64, prev)
}

/// The schema before the events named their writers (the migration after filings), and
/// the tables that came after them.
pub(crate) const WITHOUT_AUTHORS: &str = "ALTER TABLE events DROP COLUMN by_name; ALTER TABLE events DROP COLUMN by_email;
     ALTER TABLE events DROP COLUMN by_key; ALTER TABLE events DROP COLUMN by_db_user; DROP TABLE store_moves; DROP TABLE reading_keys;";

#[test]
fn a_forged_event_with_the_chain_hashed_again_is_found_by_the_anchor() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    // The first incident's title, in its row and its event, then every hash again.
    tamper(
        &env,
        "UPDATE incidents SET title = 'Nothing happened' WHERE id = 1;
         UPDATE events SET detail = json_set(detail, '$.title', 'Nothing happened') WHERE id = 1;",
    );
    rehash(&env);
    // Alone, the log cannot tell: that is what it says it cannot prove.
    let (out, json) = verify(&env);
    assert_success(&out);
    assert!(json["cannot_prove"].as_str().unwrap().contains("rewritten"));
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "rewritten");
}

#[test]
fn the_newest_events_deleted_with_the_head_moved_back_are_found_by_the_anchor() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    // The second incident, its message and its events, gone without a trace inside.
    tamper(
        &env,
        "DELETE FROM events WHERE incident_id = 2; DELETE FROM message_bytes WHERE message IN (SELECT id FROM messages WHERE incident_id = 2);
         DELETE FROM messages WHERE incident_id = 2; DELETE FROM incidents WHERE id = 2;",
    );
    rehash(&env);
    assert_success(&verify(&env).0);
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "deleted from its end");
}

#[test]
fn a_log_wiped_and_made_anew_is_found_by_the_anchor() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    if on_postgres() {
        // The database's tables gone; the next command makes them anew.
        tamper(&env, "DROP SCHEMA public CASCADE; CREATE SCHEMA public;");
    }
    for file in ["certmail.sqlite", "certmail.sqlite-wal", "certmail.sqlite-shm"] {
        let _ = std::fs::remove_file(env.home.join(file));
    }
    // As many events as before, so only their content can differ.
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    assert_queued(&env.notify(Path::new("examples/personal-data-breach.toml"), &[]).0);
    assert_success(&verify(&env).0);
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "wiped and made anew");
}

/// An unsigned reply threaded to the first notification, recorded on its incident.
fn ingest_a_reply(env: &Env) -> String {
    let first =
        first_row(env, "SELECT i.reference, m.message_id FROM messages m JOIN incidents i ON i.id = m.incident_id ORDER BY m.id LIMIT 1");
    let (reference, message_id) = (first[0].clone().unwrap(), first[1].clone().unwrap());
    let mail = env.write(
        "reply.eml",
        &format!(
            "From: cert@example-cert.test\r\nTo: soc@example.dk\r\nSubject: Re: [{reference}] Encrypted message\r\nMessage-ID: <q1@example-cert.test>\r\nIn-Reply-To: <{message_id}>\r\n\r\nKan I sende os logfilerne fra firewallen?\r\n"
        ),
    );
    assert_success(&env.certmail(&["ingest", mail.to_str().unwrap()]));
    let tied = env.raw_db().query("SELECT COUNT(*) FROM received WHERE incident_id IS NOT NULL", &[]).unwrap()[0][0].int().unwrap();
    assert_eq!(tied, 1, "the reply is recorded on its incident");
    reference
}

#[test]
fn an_edited_reply_kind_or_signature_is_found() {
    let env = env_with_two_incidents();
    ingest_a_reply(&env);
    assert_success(&verify(&env).0);
    let anchor = take_anchor(&env);
    tamper(&env, "UPDATE received SET kind = 'ack', signature = 'good', signer = 'ABCD';");
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "kind is \"ack\" in its row");
    assert_found(&out, &json, "signature is \"good\" in its row");
    assert_found(&out, &json, "signer");
}

#[test]
fn an_edited_delivery_state_or_relay_reply_is_found() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    tamper(&env, "UPDATE messages SET state = 'sent', last_reply = '250 2.0.0 Ok: queued as FAKE' WHERE id = 1;");
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "state is \"sent\" in its row, but this event recorded \"queued\"");
    assert_found(&out, &json, "last_reply");
    // A row with no event at all is as suspect as an edited one.
    tamper(&env, "UPDATE messages SET state = 'queued', last_reply = NULL WHERE id = 1;");
    assert_success(&verify(&env).0);
    tamper(
        &env,
        "INSERT INTO messages (incident_id, message_id, recipient, recipient_fingerprint, envelope_from, envelope_to, size, state, created_at, updated_at)
         SELECT incident_id, 'planted@x', recipient, recipient_fingerprint, envelope_from, 'attacker@example.com', size, 'queued', created_at, updated_at FROM messages WHERE id = 1;",
    );
    assert_found(&verify(&env).0, &verify(&env).1, "no event recorded it");
}

#[test]
fn edited_bytes_to_send_are_found() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    tamper(&env, "UPDATE message_bytes SET bytes = CAST('From: someone else' AS BLOB) WHERE message = 1;");
    let (out, json) = verify_anchored(&env, &anchor);
    assert_found(&out, &json, "sha256 is");
    tamper(&env, "UPDATE messages SET envelope_to = 'attacker@example.com' WHERE id = 2;");
    assert_found(&verify(&env).0, &verify(&env).1, "envelope_to");
}

#[test]
fn each_notification_carries_the_head_and_serves_as_an_anchor() {
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    let before = verify(&env).1;
    let (out, bytes) = env.notify(Path::new("examples/personal-data-breach.toml"), &[]);
    assert_queued(&out);
    // As the CERT reads it: decrypted, the head the log had before this notification.
    let (inner, _) = gpg_decrypt(&env, &bytes);
    let inner = text(&inner);
    let expected = format!("X-Certmail-Log-Head: 2 {}", before["head"].as_str().unwrap());
    assert!(inner.split("\r\n\r\n").next().unwrap().split("\r\n").any(|h| h == expected), "{inner}");
    assert!(!text(&bytes).split("-----BEGIN PGP MESSAGE-----").next().unwrap().contains("Log-Head"), "only inside the encryption");
    let witness = env.write("cert-copy.eml", &inner);
    let (out, json) = verify_anchored(&env, &witness);
    assert_success(&out);
    assert_eq!(json["anchor"]["source"], "notification");
    assert_eq!(json["anchor"]["events_after"], 2);
    tamper(
        &env,
        "UPDATE incidents SET title = 'x' WHERE id = 1; UPDATE events SET detail = json_set(detail, '$.title', 'x') WHERE id = 1;",
    );
    rehash(&env);
    assert_found(&verify_anchored(&env, &witness).0, &verify_anchored(&env, &witness).1, "rewritten");
}

#[test]
fn an_anchor_that_does_not_check_vouches_for_nothing() {
    let env = env_with_two_incidents();
    let anchor = take_anchor(&env);
    let kept = std::fs::read_to_string(&anchor).unwrap();
    let forged = env.write("forged.asc", &kept.replace("events: 4", "events: 2"));
    let out = env.certmail(&["log", "verify", "--anchor", forged.to_str().unwrap()]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("vouches for nothing"), "{}", text(&out.stderr));
    // The JSON form of `log anchor` is an anchor too.
    let json = env.certmail(&["log", "anchor", "--json"]);
    assert_success(&json);
    let kept = env.write("anchor.json", &text(&json.stdout));
    assert_success(&verify_anchored(&env, &kept).0);
    let nothing = env.write("nothing.txt", "hello\n");
    assert_exit(&env.certmail(&["log", "verify", "--anchor", nothing.to_str().unwrap()]), 2);
    // A log that is not consistent gets no anchor.
    tamper(&env, "UPDATE messages SET state = 'sent' WHERE id = 1;");
    assert_exit(&env.certmail(&["log", "anchor"]), 1);
}

/// A log as the release before row coverage wrote it: events say only what they said
/// then, and the schema stops before the coverage step.
fn as_written_before_rows_were_covered(env: &Env) {
    tamper(
        env,
        "DELETE FROM events WHERE kind IN ('cert-case', 'attested');
         UPDATE events SET detail = json_remove(detail, '$.reference', '$.detected_at', '$.incident-sha256', '$.cert_case') WHERE kind IN ('created', 'follow-up');
         UPDATE events SET detail = json_remove(detail, '$.from', '$.sha256', '$.incident-sha256') WHERE kind = 'queued';
         UPDATE events SET detail = json_remove(detail, '$.by') WHERE kind = 'sending';
         UPDATE events SET detail = json_remove(detail, '$.content_hash', '$.raw-sha256', '$.from', '$.reason', '$.marked_kind') WHERE kind = 'received';
         UPDATE events SET prev_hash = NULL, hash = NULL; DELETE FROM chain_head;
         DROP TABLE imap_folders; DROP TABLE hooks_fired; ALTER TABLE received DROP COLUMN file; ALTER TABLE received DROP COLUMN reason;
         DROP INDEX messages_by_incident_sha256; ALTER TABLE messages DROP COLUMN incident_sha256; DROP TABLE idempotency_keys;
         DROP TABLE filings;
         PRAGMA user_version = 6;", // every migration applied up to COVER_ROWS, not from it on
    );
    tamper(env, WITHOUT_AUTHORS);
}

#[test]
fn a_log_from_before_rows_were_covered_verifies_after_the_upgrade_and_is_covered_from_then() {
    let env = env_with_two_incidents();
    let reference = ingest_a_reply(&env);
    assert_exit(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--follow-up", &reference, "--again"]).0, 3);
    as_written_before_rows_were_covered(&env);
    let (out, json) = verify(&env);
    assert_success(&out);
    let shown = text(&env.certmail(&["log", "show", &reference, "--json"]).stdout);
    assert!(shown.contains("attested") && shown.contains("the values as found then"), "{shown}");
    // Opening it again attests nothing more.
    assert_eq!(verify(&env).1["events"], json["events"]);
    let anchor = take_anchor(&env);
    tamper(&env, "UPDATE received SET kind = 'ack';");
    assert_found(&verify_anchored(&env, &anchor).0, &verify_anchored(&env, &anchor).1, "kind is \"ack\"");
    tamper(&env, "UPDATE received SET kind = 'question'; UPDATE message_bytes SET bytes = CAST('x' AS BLOB) WHERE message = 1;");
    assert_found(&verify(&env).0, &verify(&env).1, "sha256");
}

#[test]
fn a_bounce_marks_its_message_in_the_chain_too() {
    let env = env_with_two_incidents();
    // Only a message the relay accepted can bounce.
    let _relay = crate::analyst::deliver(&env);
    let first =
        first_row(&env, "SELECT i.reference, m.message_id FROM messages m JOIN incidents i ON i.id = m.incident_id ORDER BY m.id LIMIT 1");
    let (reference, message_id) = (first[0].clone().unwrap(), first[1].clone().unwrap());
    let bounce = format!(
        "From: MAILER-DAEMON@relay.example.dk\r\nTo: soc@example.dk\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@relay>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.dk\r\n\r\nFinal-Recipient: rfc822; {CERT_ADDRESS}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: soc@example.dk\r\nMessage-ID: <{message_id}>\r\nSubject: [{reference}] Encrypted message\r\n\r\n--r--\r\n"
    );
    let file = env.write("bounce.eml", &bounce);
    assert_success(&env.certmail(&["ingest", file.to_str().unwrap()]));
    let state = first_row(&env, &format!("SELECT state FROM messages WHERE message_id = '{message_id}'"));
    assert_eq!(state[0].as_deref(), Some("bounced"));
    assert_success(&verify(&env).0);
    // Hiding the bounce from status is an edit like any other.
    tamper(&env, "UPDATE messages SET state = 'sent' WHERE state = 'bounced';");
    let (out, json) = verify(&env);
    assert_found(&out, &json, "state is \"sent\" in its row, but this event recorded \"bounced\"");
}

/// A home written by the release before random references and bound replies
/// (scripts/make-release-fixture made it with that release's binary): two queued
/// notifications to a throwaway "Fixture CERT - test only" (its secret key lies
/// beside the home), and an unsigned reply the old release took a case number from.
#[test]
fn a_log_written_by_the_previous_release_migrates_and_binds_by_message_id() {
    use std::os::unix::fs::PermissionsExt;
    if on_postgres() {
        // The release's SQLite file itself is the fixture; on PostgreSQL an old log
        // arrives through `store migrate --to` (docs/TEAM-MODE.md, 5).
        return;
    }
    let env = Env::bare();
    let fixture = Path::new("tests/fixtures/release-0.1-home");
    std::fs::create_dir_all(env.home.join("identity")).unwrap();
    for file in ["config.toml", "certmail.sqlite", "fixture-cert.asc", "identity/secret.asc", "identity/public.asc"] {
        std::fs::copy(fixture.join(file), env.home.join(file)).unwrap();
        std::fs::set_permissions(env.home.join(file), std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    for dir in [env.home.clone(), env.home.join("identity")] {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    assert_success(&env.certmail(&["log", "verify"]));
    let status: serde_json::Value = serde_json::from_slice(&env.certmail(&["status", "--json"]).stdout).unwrap();
    let references: Vec<&str> = status["incidents"].as_array().unwrap().iter().map(|i| i["reference"].as_str().unwrap()).collect();
    assert_eq!(references, ["CM-2026-0001", "CM-2026-0002"], "{status}");
    let conn = rusqlite::Connection::open(env.home.join("certmail.sqlite")).unwrap();
    let case: Option<String> =
        conn.query_row("SELECT cert_case FROM incidents WHERE reference = 'CM-2026-0001'", [], |r| r.get(0)).unwrap();
    assert_eq!(case, None, "a case number no good signature vouched for is forgotten");
    let message_id: String = conn
        .query_row(
            "SELECT m.message_id FROM messages m JOIN incidents i ON i.id = m.incident_id WHERE i.reference = 'CM-2026-0001'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    drop(conn);

    // The CERT acknowledges, quoting the notification's Message-ID: the numbered
    // reference alone would not bind.
    let gnupg = env.path("cert-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", fixture.join("fixture-cert.TEST-ONLY.secret.asc").to_str().unwrap()]);
    let body = env.write("ack.txt", &format!("Vi har modtaget jeres underretning CM-2026-0001.\n> Message-ID: <{message_id}>\n"));
    let signed = gpg_ok(&gnupg, &["--clearsign", "--output", "-", body.to_str().unwrap()]);
    kill_agent(&gnupg);
    let reply = env.write(
        "ack.eml",
        &format!(
            "From: cert@example-cert.invalid\r\nSubject: Re: [CM-2026-0001]\r\nMessage-ID: <old-ack@x>\r\n\r\n{}",
            text(&signed.stdout)
        ),
    );
    let out = env.certmail(&["ingest", reply.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (r["bound"].as_bool(), r["incident"].as_str(), r["state_changed"].as_bool()),
        (Some(true), Some("CM-2026-0001"), Some(true)),
        "{r}"
    );
    let status: serde_json::Value = serde_json::from_slice(&env.certmail(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["incidents"][0]["acknowledged"], true, "{status}");
    let shown = text(&env.certmail(&["read", "CM-2026-0001"]).stdout);
    assert!(shown.contains("==== sent") && shown.contains("Reference: CM-2026-0001"), "the old notification decrypts: {shown}");
    assert_success(&env.certmail(&["log", "verify"]));
    // New incidents in the old log get random references.
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["reference"].as_str().unwrap().matches('-').count(), 3, "{json}");
}
