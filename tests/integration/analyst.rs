//! What a SOC analyst who had never seen the code found trying the tool: a forged
//! bounce that cancelled delivery, received columns the chain did not cover, a
//! `status` that hid an acknowledgement or read a question backwards, `read` banners
//! that unsigned text could forge, parts out of order, malformed mail shown without
//! a reason, and the wrong phone number after a bounce.

use std::path::{Path, PathBuf};

use crate::ingest::{Case, case, clearsigned, gpg_encrypted_reply, ingest};
use crate::log::{assert_found, rehash, tamper, verify};
use crate::smtp::{SmtpServer, tls};
use crate::support::*;

/// A delivery status notification saying `message_id` failed for good: unsigned, as
/// every relay writes one, so anyone can write one.
fn dsn(env: &Env, name: &str, message_id: &str, reference: &str) -> PathBuf {
    env.write(
        name,
        &format!(
            "From: MAILER-DAEMON@relay.example.dk\r\nTo: soc@example.dk\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <{name}@relay>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.dk\r\n\r\nFinal-Recipient: rfc822; {CERT_ADDRESS}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: soc@example.dk\r\nMessage-ID: <{message_id}>\r\nSubject: [{reference}] Encrypted message\r\n\r\n--r--\r\n"
        ),
    )
}

/// Delivers what is queued through a loopback relay, which is returned (stopped when dropped).
pub(crate) fn deliver(env: &Env) -> SmtpServer {
    let server = SmtpServer::start("starttls", "none");
    env.set_relay(server.port, "starttls", &tls().ca, 10);
    assert_success(&env.certmail(&["outbox", "flush", "--retry-now"]));
    server
}

fn states(env: &Env) -> Vec<String> {
    let out = env.certmail(&["outbox", "list", "--json"]);
    assert_success(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["messages"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap().to_string()).collect()
}

fn status_text(env: &Env) -> String {
    let out = env.certmail(&["status"]);
    assert_success(&out);
    text(&out.stdout)
}

fn status_json(env: &Env) -> serde_json::Value {
    let out = env.certmail(&["status", "--json"]);
    assert_success(&out);
    serde_json::from_slice(&out.stdout).unwrap()
}

fn flags(r: &serde_json::Value) -> Vec<String> {
    r["flags"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect()
}

#[test]
fn a_bounce_for_a_notification_never_handed_to_a_relay_cancels_nothing() {
    let c = case();
    let bounce = dsn(&c.env, "forged", &c.message_id, &c.reference);
    let out = c.env.certmail(&["ingest", bounce.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("bounce"), Some(c.reference.as_str())), "{r}");
    assert!(flags(&r).contains(&"bounce-for-unsent-message".to_string()), "{r}");
    assert!(!text(&out.stderr).contains("NOT delivered"), "{}", text(&out.stderr));
    assert_eq!(states(&c.env), ["queued"], "a bounce cannot undo what never left");
    let status = status_text(&c.env);
    assert!(!status.contains("FAILED") && status.contains("not delivered yet"), "{status}");
    assert!(status.contains("not trusted"), "the odd bounce is still there to read: {status}");
    // The relay is back: the notification goes out after all.
    let server = deliver(&c.env);
    assert_eq!(server.received().len(), 1);
    assert_eq!(states(&c.env), ["sent"]);
    assert_success(&verify(&c.env).0);
}

fn add_recording_hook(env: &Env) -> PathBuf {
    let heard = env.path("heard.jsonl");
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(&format!("\n[hooks]\ncommand = [\"/bin/sh\", \"-c\", \"cat >> '{}'\"]\ntimeout-seconds = 10\n", heard.display()));
    std::fs::write(env.config_path(), config).unwrap();
    heard
}

#[test]
fn a_bounce_says_to_call_the_cert_the_notification_went_to() {
    // The default recipient has a phone; the notification goes to the test-only
    // example recipient, which has none.
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--to", "example-cert", "--json"]);
    assert_queued(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (reference, message_id) = (json["reference"].as_str().unwrap(), json["message_id"].as_str().unwrap());
    let _server = deliver(&env);
    let heard = add_recording_hook(&env);
    let out = env.certmail(&["ingest", dsn(&env, "bounce", message_id, reference).to_str().unwrap()]);
    assert_success(&out);
    let warning = text(&out.stderr);
    assert!(warning.contains("NOT delivered") && warning.contains("(none: test only)") && !warning.contains(CERT_PHONE), "{warning}");
    let events: Vec<serde_json::Value> =
        std::fs::read_to_string(&heard).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!((events[0]["event"].as_str(), events[0]["phone"].as_str()), (Some("bounced"), Some("(none: test only)")), "{events:?}");
    let status = status_text(&env);
    assert!(status.contains("FAILED") && status.contains("(none: test only)") && !status.contains(CERT_PHONE), "{status}");
}

/// An unsigned reply threaded to the case's notification by its In-Reply-To.
fn unsigned_reply(c: &Case) -> serde_json::Value {
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nSubject: Re: [{}] Encrypted message\r\nMessage-ID: <q1@example-cert.test>\r\nIn-Reply-To: <{}>\r\n\r\nKan I sende os logfilerne fra firewallen?\r\n",
        c.reference, c.message_id
    );
    let r = ingest(&c.env, &c.env.write("reply.eml", &mail));
    assert_eq!(
        (r["signature"].as_str(), r["bound"].as_bool(), r["incident"].as_str()),
        (Some("none"), Some(false), Some(c.reference.as_str()))
    );
    r
}

#[test]
fn log_verify_finds_edits_to_what_read_and_status_trust_in_a_received_row() {
    let c = case();
    unsigned_reply(&c);
    assert_success(&verify(&c.env).0);
    // The analyst's edit: `read` then said "bound ... by a good signature".
    for (edit, undo, said) in [
        ("UPDATE received SET bound = 1", "UPDATE received SET bound = 0", "bound is true in its row"),
        (
            "UPDATE received SET flags = '[\"from-mismatch\"]'",
            "UPDATE received SET flags = '[]'",
            "flags is [\"from-mismatch\"] in its row",
        ),
        (
            "UPDATE received SET signer_recipient = 'test-cert'",
            "UPDATE received SET signer_recipient = NULL",
            "signer_recipient is \"test-cert\"",
        ),
        (
            "UPDATE received SET from_address = 'duty@example-cert.test'",
            &format!("UPDATE received SET from_address = '{CERT_ADDRESS}'"),
            "from_address is \"duty@example-cert.test\"",
        ),
        ("UPDATE received SET marked_kind = 'closed'", "UPDATE received SET marked_kind = NULL", "marked_kind is \"closed\""),
    ] {
        tamper(&c.env, edit);
        let (out, json) = verify(&c.env);
        assert_found(&out, &json, said);
        tamper(&c.env, undo);
        assert_success(&verify(&c.env).0);
    }
    // An analyst's correction is an event, and the row is held to it from then on.
    let mark = ["incident", "mark", &c.reference, "--message", "<q1@example-cert.test>", "--as", "question", "--reason", "asks for logs"];
    assert_success(&c.env.certmail(&mark));
    assert_success(&verify(&c.env).0);
    tamper(&c.env, "UPDATE received SET marked_kind = NULL");
    let (out, json) = verify(&c.env);
    assert_found(&out, &json, "marked_kind is null in its row");
}

#[test]
fn a_log_from_before_received_rows_were_covered_whole_verifies_after_the_upgrade() {
    let c = case();
    unsigned_reply(&c);
    let mark = ["incident", "mark", &c.reference, "--message", "<q1@example-cert.test>", "--as", "question", "--reason", "asks for logs"];
    assert_success(&c.env.certmail(&mark));
    // As the release before wrote it: its events did not state these columns, the
    // received row had no reason, and the schema stops before this step.
    tamper(
        &c.env,
        "UPDATE events SET detail = json_remove(detail, '$.from', '$.reason', '$.marked_kind') WHERE kind = 'received';
         UPDATE events SET detail = json_remove(detail, '$.content_hash', '$.marked_kind') WHERE kind = 'marked';
         ALTER TABLE received DROP COLUMN reason; DROP TABLE filings;
         PRAGMA user_version = 12;",
    );
    tamper(&c.env, crate::log::WITHOUT_AUTHORS);
    rehash(&c.env);
    let (out, json) = verify(&c.env);
    assert_success(&out);
    let shown = text(&c.env.certmail(&["log", "show", &c.reference]).stdout);
    assert!(shown.contains("attested"), "{shown}");
    assert_eq!(verify(&c.env).1["events"], json["events"], "opening it again attests nothing more");
    tamper(&c.env, "UPDATE received SET bound = 1");
    assert_found(&verify(&c.env).0, &verify(&c.env).1, "bound is true in its row");
    tamper(&c.env, "UPDATE received SET bound = 0, marked_kind = 'closed'");
    assert_found(&verify(&c.env).0, &verify(&c.env).1, "marked_kind is \"closed\"");
}

#[test]
fn status_says_the_cert_acknowledged_with_its_case_number_and_the_virk_reference() {
    let c = case();
    let _server = deliver(&c.env);
    let body = format!("Hej\r\nVi har modtaget jeres underretning {}. Sagsnr.: CFCS-2026-4411\r\n", c.reference);
    let r = ingest(&c.env, &gpg_encrypted_reply(&c, &body, &cert_key().fingerprint, &c.gnupg));
    assert_eq!(r["state_changed"], true, "{r}");
    let status = status_text(&c.env);
    let line = status.lines().find(|l| l.contains("acknowledged")).unwrap_or_else(|| panic!("no acknowledgement in: {status}"));
    assert!(line.contains("CFCS-2026-4411") && line.contains("good signature"), "{status}");
    assert_success(&c.env.certmail(&["incident", "virk", &c.reference, "--reference", "VIRK-2026-77"]));
    let status = status_text(&c.env);
    assert!(status.contains("Virk.dk") && status.contains("VIRK-2026-77"), "{status}");

    // A bounce after the CERT's signed receipt: both facts, and no "FAILED".
    assert_success(&c.env.certmail(&["ingest", dsn(&c.env, "late-bounce", &c.message_id, &c.reference).to_str().unwrap()]));
    assert_eq!(states(&c.env), ["bounced"]);
    let status = status_text(&c.env);
    assert!(!status.contains("FAILED"), "{status}");
    assert!(status.contains("bounce") && status.contains("acknowledged receipt"), "{status}");
    assert_eq!(status_json(&c.env)["incidents"][0]["acknowledged"], true);
}

/// Lines of `read` that hold `needle`.
fn lines_with<'a>(shown: &'a str, needle: &str) -> Vec<&'a str> {
    shown.lines().filter(|l| l.contains(needle)).collect()
}

#[test]
fn read_marks_every_content_line_with_its_trust_and_content_cannot_forge_a_banner() {
    let c = case();
    let fpr = &cert_key().fingerprint;
    let forged = format!(
        "From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <forge@x>\r\nSubject: Re\r\n\r\nSee below.\r\n==== received 2026-01-01T00:00:00.000Z  <ack@example-cert.test>\r\n     from: {CERT_ADDRESS}  kind: closed  signature: good\r\n     bound to this incident by a good signature over the whole message\r\n---- [signed by test-cert ({fpr})] text/plain ----\r\n  Vi har modtaget jeres underretning.\r\n",
        c.message_id
    );
    ingest(&c.env, &c.env.write("forge.eml", &forged));
    let signed = clearsigned(&c, "ack.txt", &format!("Vedr. {}: modtaget.\n", c.reference));
    let genuine = format!("From: {CERT_ADDRESS}\r\nMessage-ID: <genuine@x>\r\n\r\n{signed}");
    assert_eq!(ingest(&c.env, &c.env.write("genuine.eml", &genuine))["bound"], true);

    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    for needle in ["See below.", "2026-01-01T00:00:00.000Z", "kind: closed  signature: good", "Vi har modtaget"] {
        let lines = lines_with(&shown, needle);
        assert!(!lines.is_empty() && lines.iter().all(|l| l.starts_with("UNSIGNED | ")), "{needle}: {lines:?}\n{shown}");
    }
    // The genuine reply's banners, once each; the forged ones only as unsigned text.
    for banner in ["     bound to this incident", "---- [signed by test-cert"] {
        let lines = lines_with(&shown, banner.trim_start());
        assert_eq!(lines.iter().filter(|l| l.starts_with(banner)).count(), 1, "{banner}: {shown}");
        assert!(lines.iter().all(|l| l.starts_with(banner) || l.starts_with("UNSIGNED | ")), "{banner}: {shown}");
    }
    assert!(lines_with(&shown, "modtaget.").iter().any(|l| l.starts_with("signed   | ")), "{shown}");
    assert!(lines_with(&shown, "Ransomware").iter().all(|l| l.starts_with("sent     | ")), "{shown}");
    // Every line is a banner certmail wrote or content with its trust in front.
    for line in shown.lines().filter(|l| !l.is_empty()) {
        let banner = line.starts_with("==== ") || line.starts_with("---- [") || line.starts_with("     ");
        let content = ["UNSIGNED | ", "signed   | ", "sent     | "].iter().any(|p| line.starts_with(p));
        assert!(banner || content || line.starts_with(&c.reference), "{line:?}");
    }
}

#[test]
fn read_shows_the_parts_in_the_order_of_the_message() {
    let c = case();
    let inline = clearsigned(&c, "inline.txt", &format!("Vedr. {}: modtaget (inline).\n", c.reference));
    let entity = "Content-Type: text/plain; charset=utf-8\r\n\r\nModtaget (detached).\r\n";
    let file = c.env.write("entity.txt", entity);
    let fpr = &cert_key().fingerprint;
    let sig = gpg_ok(&c.gnupg, &["--local-user", fpr, "--armor", "--detach-sign", "--output", "-", file.to_str().unwrap()]);
    let detached = format!(
        "Content-Type: multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n--s\r\n{entity}\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n{}\r\n--s--\r\n",
        text(&sig.stdout)
    );
    for (id, first) in [("inline@x", format!("Content-Type: text/plain\r\n\r\n{inline}")), ("detached@x", detached)] {
        let mail = format!(
            "From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n{first}\r\n--m\r\nContent-Type: text/plain\r\n\r\nPS from {id}: added on the way\r\n--m--\r\n",
            c.message_id
        );
        let r = ingest(&c.env, &c.env.write(&format!("{id}.eml"), &mail));
        assert_eq!(r["signature"], "partial", "{r}");
        let out = c.env.certmail(&["read", &format!("<{id}>"), "--json"]);
        assert_success(&out);
        let message = text(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|m| m["message_id"] == id)
            .unwrap();
        let parts: Vec<(bool, String)> =
            message["parts"].as_array().unwrap().iter().map(|p| (p["signed"] == true, p["text"].as_str().unwrap().to_string())).collect();
        assert_eq!(parts.len(), 2, "{message}");
        assert!(parts[0].0 && parts[0].1.contains("odtaget") && !parts[1].0 && parts[1].1.contains("PS from"), "{message}");
    }
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    for (signed, ps) in [("modtaget (inline)", "PS from inline@x"), ("Modtaget (detached)", "PS from detached@x")] {
        assert!(shown.find(signed).unwrap() < shown.find(ps).unwrap(), "{shown}");
    }
}

#[test]
fn a_malformed_reply_shows_why_and_what_it_shows_and_counts_as_not_trusted() {
    let c = case();
    let head = |id: &str| {
        format!("From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <{id}>\r\nSubject: Re: [{}]\r\n\r\n", c.message_id, c.reference)
    };
    let truncated = format!(
        "{}Vi har modtaget jeres underretning.\r\n-----BEGIN PGP SIGNED MESSAGE-----\r\nHash: SHA256\r\n\r\nSagen er lukket.\r\n",
        head("truncated@x")
    );
    let garbled = format!(
        "{}Her er vores svar:\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA+garbage\r\n-----END PGP MESSAGE-----\r\n",
        head("garbled@x")
    );
    for (name, mail) in [("truncated", &truncated), ("garbled", &garbled)] {
        let r = ingest(&c.env, &c.env.write(&format!("{name}.eml"), mail));
        assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("malformed"), Some(c.reference.as_str())), "{r}");
    }
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("truncated OpenPGP block") && shown.contains("cannot decrypt"), "{shown}");
    assert!(shown.contains("UNSIGNED | Vi har modtaget jeres underretning.") && shown.contains("UNSIGNED | Her er vores svar:"), "{shown}");
    let out = c.env.certmail(&["read", &c.reference, "--json"]);
    assert_success(&out);
    let messages: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    for m in messages.iter().filter(|m| m["kind"] == "malformed") {
        assert!(m["reason"].is_string() && m["error"].is_string() && !m["parts"].as_array().unwrap().is_empty(), "{m}");
    }
    assert_eq!(messages.iter().filter(|m| m["kind"] == "malformed").count(), 2);
    let status = status_text(&c.env);
    assert!(status.contains("2 message(s)") && status.contains("not trusted"), "{status}");
    assert_eq!(status_json(&c.env)["incidents"][0]["unverified_messages"], 2);
    assert_success(&verify(&c.env).0);
}

#[test]
fn small_things_say_what_is_true() {
    let env = Env::new();
    let check = env.certmail(&["keys", "check"]);
    let said = format!("{}{}", text(&check.stdout), text(&check.stderr)).to_lowercase();
    assert!(said.contains("not installed") && !said.contains("nothing was queued"), "keys check queues nothing: {said}");
    let help = text(&env.certmail(&["notify", "--help"]).stdout);
    assert!(help.contains("--follow-up") && !help.contains("CM-2026-"), "{help}");
    assert_queued(&env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]).0);
    let out = env.certmail(&["incident", "mark", "CM-AAAA-BBBB-CCCC", "--message", "<x@y>", "--as", "ack", "--reason", "r"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("no incident CM-AAAA-BBBB-CCCC"), "{}", text(&out.stderr));
}
