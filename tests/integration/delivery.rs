//! Delivery against a real SMTP server on loopback: the happy paths over STARTTLS
//! with AUTH and implicit TLS, the fault matrix, dot-stuffing, header injection, a
//! crash test and concurrent flushes. Each case checks the state, the exit code,
//! the message, and that nothing is lost.

use std::path::Path;

use crate::smtp::*;
use crate::support::*;

const INCIDENT: &str = "examples/voluntary-ransomware.toml";

fn notify(env: &Env) -> (std::process::Output, Vec<u8>, serde_json::Value) {
    let (out, bytes) = env.notify(Path::new(INCIDENT), &["--json"]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null);
    (out, bytes, json)
}

fn outbox(env: &Env) -> Vec<serde_json::Value> {
    let out = env.certmail(&["outbox", "list", "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["messages"].as_array().unwrap().clone()
}

fn relay_env(server: &SmtpServer, security: &str, timeout: u64) -> Env {
    let env = Env::new();
    env.set_relay(server.port, security, &tls().ca, timeout);
    env
}

#[test]
fn starttls_with_auth_delivers_the_exact_bytes() {
    let server = SmtpServer::start("starttls", "none");
    let env = relay_env(&server, "starttls", 5);
    let (out, bytes, json) = notify(&env);
    assert_success(&out);
    assert_eq!(json["state"], "sent");
    assert!(json["detail"].as_str().unwrap().starts_with("250 2.0.0 Ok: queued as TESTQ"), "{json}");
    let received = server.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0], bytes, "the server got exactly the outbox bytes");
    let envelope = &server.envelopes()[0];
    assert_eq!(envelope["rcpt_tos"], serde_json::json!([CERT_ADDRESS]));
    assert_eq!(envelope["mail_from"], "soc@example.dk");
    assert_eq!(envelope["tls"], true);
    assert_eq!(envelope["authenticated"], true);
    assert!(report_text(&gpg_decrypt(&env, &received[0]).0).contains("Ransomware"));
    let rows = outbox(&env);
    assert_eq!(rows[0]["state"], "sent");
    let store = env.store();
    assert_eq!(store.event_kinds(json["reference"].as_str().unwrap()).unwrap(), ["created", "queued", "sending", "sent"]);
    let text_out = env.notify(Path::new(INCIDENT), &["--again"]).0;
    assert_success(&text_out);
    assert!(text(&text_out.stdout).contains("delivered"), "{}", text(&text_out.stdout));
}

#[test]
fn implicit_tls_delivers() {
    let server = SmtpServer::start("tls", "none");
    let env = relay_env(&server, "tls", 5);
    let (out, bytes, _) = notify(&env);
    assert_success(&out);
    assert_eq!(server.received(), vec![bytes]);
}

#[test]
fn server_down_defers_and_a_later_flush_delivers() {
    let port = free_port();
    let env = Env::new();
    env.set_relay(port, "starttls", &tls().ca, 2);
    let (out, bytes, json) = notify(&env);
    assert_exit(&out, 3);
    assert_eq!(json["state"], "deferred");
    assert!(json["next_attempt_at"].is_string());
    let nothing_due = env.certmail(&["outbox", "flush"]);
    assert_success(&nothing_due);
    assert!(text(&nothing_due.stdout).contains("Nothing is due"));
    let server = SmtpServer::start_on(port, "starttls", "none");
    let flush = env.certmail(&["outbox", "flush", "--retry-now"]);
    assert_success(&flush);
    assert_eq!(server.received(), vec![bytes]);
    assert_eq!(outbox(&env)[0]["state"], "sent");
    assert_eq!(outbox(&env)[0]["attempts"], 2);
    // Each state change was an event that said what the row became.
    assert_success(&env.certmail(&["log", "verify"]));
}

/// Runs one fault case: the notify exit code, the state, and a word of the message.
fn fault_case(mode: &str, fault: &str, security: &str, timeout: u64, exit: i32, state: &str, needle: &str) -> (Env, SmtpServer) {
    let server = SmtpServer::start(mode, fault);
    let env = relay_env(&server, security, timeout);
    let (out, _, json) = notify(&env);
    assert_exit(&out, exit);
    assert_eq!(json["state"], state, "{fault}: {json}");
    let detail = json["detail"].as_str().unwrap_or_default().to_lowercase();
    assert!(detail.contains(&needle.to_lowercase()), "{fault}: {detail:?} lacks {needle:?}");
    let rows = outbox(&env);
    assert_eq!(rows.len(), 1, "the message is still in the outbox");
    assert_eq!(rows[0]["state"], state);
    (env, server)
}

#[test]
fn greeting_421_is_transient() {
    fault_case("starttls", "greeting-421", "starttls", 2, 3, "deferred", "421");
}

#[test]
fn rcpt_451_is_transient_and_550_permanent() {
    fault_case("starttls", "rcpt-451", "starttls", 2, 3, "deferred", "451");
    let (env, _) = fault_case("starttls", "rcpt-550", "starttls", 2, 1, "failed", "550");
    let flush = env.certmail(&["outbox", "flush", "--retry-now"]);
    assert!(text(&flush.stdout).contains("Nothing is due"), "a failed message is not retried");
}

/// A notification given up (a relay's 550) is sent again by `outbox retry` once the
/// cause is fixed: the same bytes and Message-ID, under the same reference, with the
/// log still verifying; a second retry has nothing left to send.
#[test]
fn outbox_retry_sends_a_given_up_notification_again() {
    let refusing = SmtpServer::start("starttls", "rcpt-550");
    let env = relay_env(&refusing, "starttls", 2);
    let (out, bytes, json) = notify(&env);
    assert_exit(&out, 1);
    let reference = json["reference"].as_str().unwrap().to_string();
    let status = env.certmail(&["status"]);
    assert!(text(&status.stdout).contains(&format!("outbox retry {reference}")), "status says how: {}", text(&status.stdout));
    drop(refusing);
    let fixed = SmtpServer::start("starttls", "none");
    env.set_relay(fixed.port, "starttls", &tls().ca, 5);
    let retry = env.certmail(&["outbox", "retry", &reference, "--reason", "the relay's recipient check was fixed", "--json"]);
    assert_success(&retry);
    assert_eq!(fixed.received(), vec![bytes], "the very same message");
    let rows = outbox(&env);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["state"], "sent");
    assert_eq!(rows[0]["message_id"], json["message_id"]);
    assert_success(&env.certmail(&["log", "verify"]));
    let again = env.certmail(&["outbox", "retry", &reference]);
    assert_exit(&again, 2);
    assert!(text(&again.stderr).contains("no failed or bounced message"), "{}", text(&again.stderr));
}

#[test]
fn data_451_is_transient_and_550_permanent() {
    fault_case("starttls", "data-451", "starttls", 2, 3, "deferred", "451");
    fault_case("starttls", "data-550", "starttls", 2, 1, "failed", "550");
}

#[test]
fn rejected_login_needs_fixing_and_keeps_the_message() {
    let server = SmtpServer::start("starttls", "none");
    let env = relay_env(&server, "starttls", 5);
    let out = env.command().env("CM_TEST_SMTP_PASSWORD", "wrong password").args(["notify", INCIDENT, "--json"]).output().unwrap();
    assert_exit(&out, 1);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["state"], "deferred");
    assert!(json["detail"].as_str().unwrap().contains("rejected the login"), "{json}");
    assert!(!text(&out.stdout).contains("wrong password") && !text(&out.stderr).contains("wrong password"));
    assert!(server.received().is_empty());
    // With the right password the same message goes out.
    assert_success(&env.certmail(&["outbox", "flush", "--retry-now"]));
    assert_eq!(server.received().len(), 1);
}

#[test]
fn missing_starttls_is_refused_before_any_password_is_sent() {
    let (_, server) = fault_case("no-starttls", "none", "starttls", 2, 1, "deferred", "does not offer STARTTLS");
    assert_eq!(server.auth_attempts(), "", "no AUTH may be attempted without TLS");
    assert!(server.received().is_empty());
}

#[test]
fn a_certificate_from_another_ca_is_refused() {
    let server = SmtpServer::start("starttls", "none");
    let env = Env::new();
    env.set_relay(server.port, "starttls", &tls().wrong_ca, 2);
    let (out, _, json) = notify(&env);
    assert_exit(&out, 1);
    assert_eq!(json["state"], "deferred");
    assert!(json["detail"].as_str().unwrap().contains("certificate"), "{json}");
    assert_eq!(server.auth_attempts(), "");
    assert!(server.received().is_empty());
}

#[test]
fn stalls_at_every_step_time_out() {
    for fault in ["stall-greeting", "stall-mail", "stall-rcpt"] {
        let server = SmtpServer::start("starttls", fault);
        let env = relay_env(&server, "starttls", 1);
        let started = std::time::Instant::now();
        let (out, _, json) = notify(&env);
        assert_exit(&out, 3);
        assert_eq!(json["state"], "deferred", "{fault}");
        assert!(started.elapsed() < std::time::Duration::from_secs(30), "{fault} must not hang");
    }
}

#[test]
fn stall_after_the_dot_and_disconnect_after_the_dot_are_possibly_delivered_and_resent() {
    for fault in ["stall-data-end", "disconnect-after-dot"] {
        let server = SmtpServer::start("starttls", fault);
        let env = relay_env(&server, "starttls", 1);
        let (out, bytes, json) = notify(&env);
        assert_exit(&out, 3);
        assert_eq!(json["state"], "deferred", "{fault}: {json}");
        assert!(eventually(|| server.received().len() == 1), "{fault}: the server has a copy");
        let flush_out = env.certmail(&["outbox", "flush", "--retry-now", "--json"]);
        assert_exit(&flush_out, 3);
        assert!(text(&flush_out.stdout).contains("\"possibly_delivered\":true"), "{}", text(&flush_out.stdout));
        drop(server);
        let good = SmtpServer::start("starttls", "none");
        env.set_relay(good.port, "starttls", &tls().ca, 2);
        assert_success(&env.certmail(&["outbox", "flush", "--retry-now"]));
        assert_eq!(good.received(), vec![bytes.clone()], "{fault}: same bytes, same Message-ID, at least once");
        assert_success(&env.certmail(&["log", "verify"]));
    }
}

#[test]
fn plaintext_to_a_non_loopback_relay_is_refused_before_queueing() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), config + "\n[smtp]\nhost = \"smtp.example.dk\"\nsecurity = \"plaintext-loopback-test-only\"\n")
        .unwrap();
    let out = env.certmail(&["notify", INCIDENT]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("plaintext-loopback-test-only"), "{}", text(&out.stderr));
    assert!(!env.has_store() || outbox(&env).is_empty());
    let config = std::fs::read_to_string(env.config_path())
        .unwrap()
        .replace("security = \"plaintext-loopback-test-only\"", "security = \"opportunistic\"");
    std::fs::write(env.config_path(), config).unwrap();
    let out = env.certmail(&["notify", INCIDENT]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("smtp.security"), "{}", text(&out.stderr));
}

#[test]
fn dot_stuffing_reaches_the_server_intact() {
    use certmail::transport::{Relay, Security, Session};
    let server = SmtpServer::start("starttls", "none");
    let relay = Relay {
        host: "127.0.0.1".into(),
        port: server.port,
        security: Security::Starttls,
        username: Some(SMTP_USER.into()),
        ca_file: Some(tls().ca.clone()),
        timeout: std::time::Duration::from_secs(5),
        hello_name: "example.dk".into(),
    };
    let password = certmail::secrets::Secret::new(SMTP_PASSWORD.into());
    let mut session = Session::open(&relay, Some(&password)).unwrap();
    let message = b"Subject: dots\r\n\r\n.\r\n..two\r\n.leading\r\nmiddle . dot\r\n.\r\nend\r\n".to_vec();
    let reply = session.send("soc@example.dk", CERT_ADDRESS, &message).unwrap();
    assert!(reply.starts_with("250"));
    session.close();
    assert_eq!(server.received(), vec![message]);
}

#[test]
fn a_message_with_a_bare_line_end_is_never_sent() {
    let server = SmtpServer::start("starttls", "none");
    let env = relay_env(&server, "starttls", 2);
    {
        let mut store = env.store();
        let pending = store.begin(None, chrono::Datelike::year(&chrono::Utc::now())).unwrap();
        let incident = certmail::store::NewIncident { scheme: "voluntary", title: "t", detected_at: None, incident_json: "{}" };
        let message = certmail::store::NewMessage {
            message_id: "bare@example.dk",
            recipient: "test-cert",
            recipient_fingerprint: "F",
            envelope_from: "soc@example.dk",
            envelope_to: CERT_ADDRESS,
            in_reply_to: None,
            bytes: &certmail::store::MessageBytes::Inline(b"Subject: x\r\n\r\nline\n.\nsmuggled\r\n".to_vec()),
        };
        // Queued just now: a fixed date would age past the outbox lifetime and fail first.
        let now = certmail::store::timestamp(chrono::Utc::now());
        let record = certmail::store::Record {
            revision: certmail::store::Revision::Report(incident),
            messages: &[message],
            key: None,
            claim: false,
        };
        pending.commit(&record, &now).unwrap();
    }
    let out = env.certmail(&["outbox", "flush", "--json"]);
    assert_exit(&out, 1);
    assert!(text(&out.stdout).contains("bare CR or LF"), "{}", text(&out.stdout));
    assert!(server.received().is_empty());
}

/// Bytes that are not all alike, so a slip in base64 or armor shows.
fn evidence(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x2545_F491;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}

/// The attachment `name` from a decrypted inner entity, base64-decoded.
fn attachment(inner: &str, name: &str) -> Vec<u8> {
    use base64::Engine;
    let start = inner.find(&format!("filename=\"{name}\"")).unwrap();
    let body = &inner[start..];
    let body = &body[body.find("\r\n\r\n").unwrap() + 4..];
    let body = &body[..body.find("\r\n--").unwrap()];
    base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).unwrap()
}

#[test]
fn a_large_message_is_spooled_and_delivered_byte_for_byte() {
    let server = SmtpServer::start("starttls", "none");
    let env = relay_env(&server, "starttls", 10);
    let data = evidence(3 * 1024 * 1024 + 7);
    let evidence_file = env.path("evidence.bin");
    std::fs::write(&evidence_file, &data).unwrap();
    let (out, bytes) = env.notify(Path::new(INCIDENT), &["--attach", evidence_file.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["state"], "sent");
    assert_eq!(json["bytes"], bytes.len());
    assert_eq!(server.received(), vec![bytes.clone()], "the server got exactly the spooled bytes");
    if on_postgres() {
        // No spool: the bytes are in the database, one bytea, and held to their hash.
        assert!(!env.home.join("outbox").exists(), "no spool folder on PostgreSQL");
        assert_eq!(env.store().message_bytes(json["message_id"].as_str().unwrap()).unwrap().unwrap(), bytes);
        assert_success(&env.certmail(&["log", "verify"]));
        crate::log::tamper(&env, "UPDATE message_bytes SET bytes = CAST('other bytes' AS BLOB);");
        let out = env.certmail(&["log", "verify"]);
        assert_exit(&out, 1);
        assert!(text(&out.stdout).contains("sha256"), "{}", text(&out.stdout));
        return;
    }

    // The bytes live in an owner-only file next to the log, not in SQLite.
    let spooled: Vec<_> = std::fs::read_dir(env.home.join("outbox")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(spooled.len(), 1, "{spooled:?}");
    assert_eq!(std::fs::read(&spooled[0]).unwrap(), bytes);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&spooled[0]).unwrap().permissions().mode() & 0o777, 0o600);
    let store = env.store();
    assert_eq!(store.message_bytes(json["message_id"].as_str().unwrap()).unwrap().unwrap(), bytes);

    let (inner, status) = gpg_decrypt(&env, &bytes);
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    assert_eq!(attachment(&text(&inner), "evidence.bin"), data, "the attachment arrives intact");
    // The spool file is held to the hash its queued event recorded.
    assert_success(&env.certmail(&["log", "verify"]));
    std::fs::write(&spooled[0], b"other bytes").unwrap();
    let out = env.certmail(&["log", "verify"]);
    assert_exit(&out, 1);
    assert!(text(&out.stdout).contains("spool file"), "{}", text(&out.stdout));
}

/// A home without a relay holding one queued notification with a 2 MiB attachment:
/// the home, the message's bytes and its spool file.
fn queued_spooled_message() -> (Env, Vec<u8>, std::path::PathBuf) {
    let env = Env::new();
    let evidence_file = env.path("evidence.bin");
    std::fs::write(&evidence_file, evidence(2 * 1024 * 1024)).unwrap();
    let (out, bytes) = env.notify(Path::new(INCIDENT), &["--attach", evidence_file.to_str().unwrap()]);
    assert_queued(&out);
    let spooled = std::fs::read_dir(env.home.join("outbox")).unwrap().next().unwrap().unwrap().path();
    (env, bytes, spooled)
}

/// Sets a file's modification time `hours` into the past.
fn age(path: &Path, hours: u64) {
    let then = std::time::SystemTime::now() - std::time::Duration::from_secs(hours * 3600);
    std::fs::File::options().write(true).open(path).unwrap().set_modified(then).unwrap();
}

#[test]
fn flush_removes_spool_leftovers_of_interrupted_notifications_only() {
    if on_postgres() {
        // Spool files are SQLite's: PostgreSQL keeps every message's bytes in the database.
        return;
    }
    let server = SmtpServer::start("starttls", "none");
    let (env, bytes, queued) = queued_spooled_message();
    let spool = env.home.join("outbox");
    // Queued long ago and still waiting: old, but its row names it.
    age(&queued, 5);
    // What a notification killed while writing, or between rename and commit, leaves.
    let partial = spool.join(".<killed@example.dk>.eml.partial");
    let uncommitted = spool.join("never-queued.certmail@example.dk.eml");
    // The same, but young: maybe another process's notification in progress.
    let in_progress = spool.join(".in-progress@example.dk.eml.partial");
    // Not a name certmail writes.
    let foreign = spool.join("notes.txt");
    for (path, hours) in [(&partial, 2), (&uncommitted, 2), (&in_progress, 0), (&foreign, 48)] {
        std::fs::write(path, b"leftover").unwrap();
        age(path, hours);
    }

    env.set_relay(server.port, "starttls", &tls().ca, 10);
    let flush = env.certmail(&["outbox", "flush"]);
    assert_success(&flush);
    assert_eq!(server.received(), vec![bytes], "the queued message, old as it is, was delivered");
    assert!(queued.exists(), "a queued message's file stays (the sent bytes are the record)");
    assert!(!partial.exists() && !uncommitted.exists(), "the leftovers are removed");
    assert!(in_progress.exists() && foreign.exists(), "young files and foreign names are left alone");
    let err = text(&flush.stderr);
    assert!(err.contains("removed 2 leftover spool file(s)") && err.contains("never-queued"), "{err}");
    // Nothing to remove the second time, and nothing said.
    let again = env.certmail(&["outbox", "flush"]);
    assert_success(&again);
    assert!(!text(&again.stderr).contains("leftover"), "{}", text(&again.stderr));
}

#[test]
fn an_altered_spool_file_is_never_sent() {
    if on_postgres() {
        // Spool files are SQLite's; bytes altered in the database are found by `log
        // verify` on both (log::edited_bytes_to_send_are_found).
        return;
    }
    let server = SmtpServer::start("starttls", "none");
    let (env, bytes, spooled) = queued_spooled_message();
    let mut altered = bytes.clone();
    let at = altered.len() / 2;
    altered[at] = if altered[at] == b'A' { b'B' } else { b'A' };
    std::fs::write(&spooled, &altered).unwrap();

    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let out = env.certmail(&["outbox", "flush", "--json"]);
    assert_exit(&out, 1);
    assert!(text(&out.stdout).contains("altered after it was queued"), "{}", text(&out.stdout));
    assert!(server.received().is_empty(), "nothing was sent");
    assert_eq!(outbox(&env)[0]["state"], "failed");
}

#[test]
fn concurrent_flushes_never_send_a_message_twice() {
    let port = free_port();
    let env = Env::new();
    env.set_relay(port, "starttls", &tls().ca, 5);
    for _ in 0..12 {
        assert_exit(&env.notify(Path::new(INCIDENT), &["--again"]).0, 3);
    }
    let server = SmtpServer::start_on(port, "starttls", "none");
    let a = env.command().args(["outbox", "flush", "--retry-now"]).spawn().unwrap();
    let b = env.command().args(["outbox", "flush", "--retry-now"]).spawn().unwrap();
    for mut child in [a, b] {
        assert!(child.wait().unwrap().success());
    }
    let received = server.received();
    assert_eq!(received.len(), 12, "each message exactly once");
    let mut ids: Vec<String> =
        received.iter().map(|m| text(m).lines().find(|l| l.starts_with("Message-ID:")).unwrap().to_string()).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12);
    assert!(outbox(&env).iter().all(|r| r["state"] == "sent"));
}

#[test]
fn killed_at_random_moments_nothing_is_lost() {
    let server = SmtpServer::start("starttls", "none");
    let env = relay_env(&server, "starttls", 5);
    // Deterministic pseudo-random kill delays, so a failure can be replayed.
    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..25 {
        let mut child = env
            .command()
            .args(["notify", INCIDENT])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_micros(next() % 40_000));
        let _ = child.kill();
        let _ = child.wait();
    }
    let flush = env.certmail(&["outbox", "flush", "--retry-now"]);
    assert!(flush.status.code() == Some(0), "{}", text(&flush.stdout));
    let rows = outbox(&env);
    assert!(rows.iter().all(|r| r["state"] == "sent"), "every queued notification is delivered: {rows:?}");
    let received: Vec<String> = server.received().iter().map(|m| text(m)).collect();
    for r in &rows {
        let id = format!("Message-ID: <{}>", r["message_id"].as_str().unwrap());
        assert!(received.iter().any(|m| m.contains(&id)), "{id} never reached the server");
    }
    for m in &received {
        let id = m.lines().find(|l| l.starts_with("Message-ID:")).unwrap();
        assert!(rows.iter().any(|r| id.contains(r["message_id"].as_str().unwrap())), "{id} reached the server but is missing from the log");
    }
}

#[test]
fn a_message_older_than_the_lifetime_fails_instead_of_going_out_late() {
    let port = free_port();
    let env = Env::new();
    env.set_relay(port, "starttls", &tls().ca, 2);
    assert_exit(&notify(&env).0, 3);
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), format!("{config}\n[outbox]\nlifetime-hours = 0\n")).unwrap();
    let server = SmtpServer::start_on(port, "starttls", "none");
    let flush = env.certmail(&["outbox", "flush", "--retry-now", "--json"]);
    assert_exit(&flush, 1);
    assert!(text(&flush.stdout).contains("not delivered within 0 hours"), "{}", text(&flush.stdout));
    assert_eq!(outbox(&env)[0]["state"], "failed");
    assert!(server.received().is_empty());
}

#[test]
fn without_a_relay_notify_queues_and_says_how_to_configure_delivery() {
    let env = Env::new();
    let out = env.certmail(&["notify", INCIDENT]);
    assert_exit(&out, 3);
    assert!(text(&out.stdout).contains("no [smtp] relay is configured"), "{}", text(&out.stdout));
    assert_eq!(outbox(&env)[0]["state"], "queued");
    let flush = env.certmail(&["outbox", "flush"]);
    assert_exit(&flush, 2);
    assert!(text(&flush.stderr).contains("no [smtp] relay"));
}
