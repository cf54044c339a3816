//! The incident log: list, show, export, and `log verify` finding edited, deleted
//! and reordered events.

use std::path::Path;

use crate::support::*;

fn env_with_two_incidents() -> Env {
    let env = Env::new();
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    assert_queued(&env.notify(Path::new("examples/personal-data-breach.toml"), &[]).0);
    env
}

fn tamper(env: &Env, sql: &str) {
    let conn = rusqlite::Connection::open(env.home.join("certmail.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn verify(env: &Env) -> (std::process::Output, serde_json::Value) {
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
    assert!(csv.starts_with("reference,event,at,kind,message_id,detail\n"));
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
    assert!(waiting.contains("not delivered yet") && waiting.contains("GDPR art. 33"), "{waiting}");
    let text_status = env.certmail(&["status"]);
    assert!(text(&text_status.stdout).contains("[OVERDUE]"), "{}", text(&text_status.stdout));

    let receipt = env.write("kvittering.pdf", "%PDF-1.4 receipt");
    assert_success(&env.certmail(&["incident", "virk", &reference, "--reference", "VIRK-2026-77", "--receipt", receipt.to_str().unwrap()]));
    let waiting = status(&env)["incidents"][0]["waiting_for"].to_string();
    assert!(!waiting.contains("GDPR art. 33"), "the Virk.dk filing satisfies the clock: {waiting}");
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
    let env = Env::new();
    let wal = env.home.join("certmail.sqlite-wal");
    let wal_size = || std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
    let mut written = 0;
    let mut largest = 0;
    // Each notification adds tens of KiB to the WAL: this writes well past the bound.
    while written < 3 * certmail::store::WAL_KEPT_BYTES {
        let before = wal_size();
        assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
        written += wal_size().saturating_sub(before).max(16 * 1024);
        largest = largest.max(wal_size());
    }
    let bound = certmail::store::WAL_KEPT_BYTES + 256 * 1024;
    assert!(largest <= bound, "the WAL reached {largest} bytes (bound {bound})");
    assert_success(&env.certmail(&["log", "verify"]));
}
