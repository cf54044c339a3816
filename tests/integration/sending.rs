//! The responder's first hour, as sent: several CERTs each get their own message
//! (and can read only that one), malware samples travel zipped with the password
//! `infected`, a script's retry under an idempotency key sends nothing twice, the same
//! incident file is not notified twice by accident, and `reply` answers the CERT in
//! words, threaded and encrypted. Real SMTP, GnuPG, sq, unzip and Python read it all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::smtp::*;
use crate::support::*;

const FULL: &str = "examples/personal-data-breach.toml";
const SECTOR_ADDRESS: &str = "cert@sector-cert.test";

/// A second CERT's throwaway key (a sector CERT), made once per run with GnuPG.
fn sector_key() -> &'static CertKey {
    static KEY: OnceLock<CertKey> = OnceLock::new();
    KEY.get_or_init(|| CertKey::generate(&format!("Sector CERT — test only <{SECTOR_ADDRESS}>")))
}

/// A home with the test CERT (default) and the sector CERT configured.
fn two_cert_env() -> Env {
    let env = Env::new();
    let key = sector_key();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    let sector = format!(
        "\n[recipients.sector-cert]\nname = \"Sector CERT — test only\"\naddress = \"{SECTOR_ADDRESS}\"\nfingerprint = \"{}\"\nphone = \"+45 8765 4321\"\ncert = \"{}\"\ntest-only = true\n",
        key.fingerprint,
        key.public.display()
    );
    std::fs::write(env.config_path(), format!("{config}{sector}")).unwrap();
    env
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}\n{}", text(&out.stdout), text(&out.stderr)))
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let head = message.split("\r\n\r\n").next().unwrap();
    head.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

/// A header's whole value, continuation lines unfolded.
fn unfolded(message: &str, name: &str) -> Option<String> {
    let head = message.split("\r\n\r\n").next().unwrap().replace("\r\n ", " ");
    head.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_string))
}

/// How many public-key encrypted session keys (one per recipient key) a message has.
fn session_keys(message: &[u8]) -> usize {
    use sequoia_openpgp::packet::Packet;
    use sequoia_openpgp::parse::{PacketParser, PacketParserResult, Parse};
    let armored = armored_part(message);
    let mut ppr = PacketParser::from_bytes(armored.as_bytes()).unwrap();
    let mut n = 0;
    while let PacketParserResult::Some(pp) = ppr {
        if let Packet::PKESK(_) = &pp.packet {
            n += 1;
        }
        ppr = pp.next().unwrap().1;
    }
    n
}

#[test]
fn two_recipients_each_get_their_own_message_and_decrypt_only_that_one() {
    let server = SmtpServer::start("starttls", "none");
    let env = two_cert_env();
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let out_file = env.path("sent.eml");
    let out = env.certmail(&["notify", FULL, "--to", "test-cert", "--to", "sector-cert", "--json", "--out", out_file.to_str().unwrap()]);
    assert_success(&out);
    let result = json(&out);
    let reference = result["reference"].as_str().unwrap().to_string();
    let messages = result["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2, "{result}");
    assert_eq!((messages[0]["recipient"].as_str(), messages[1]["recipient"].as_str()), (Some("test-cert"), Some("sector-cert")));
    assert!(messages.iter().all(|m| m["state"] == "sent"), "{result}");

    // One SMTP transaction each, to that CERT only; --out kept one file each.
    let received = server.received();
    assert_eq!(received.len(), 2);
    let mut envelopes: Vec<String> = server.envelopes().iter().map(|e| e["rcpt_tos"].to_string()).collect();
    envelopes.sort();
    assert_eq!(envelopes, [serde_json::json!([CERT_ADDRESS]).to_string(), serde_json::json!([SECTOR_ADDRESS]).to_string()]);
    assert_eq!(std::fs::read(env.path("sent.test-cert.eml")).unwrap(), received[0]);
    assert_eq!(std::fs::read(env.path("sent.sector-cert.eml")).unwrap(), received[1]);
    let (to_cert, to_sector) = (&received[0], &received[1]);
    assert!(header(&text(to_sector), "To").unwrap().contains(SECTOR_ADDRESS));
    assert_ne!(header(&text(to_cert), "Message-ID"), header(&text(to_sector), "Message-ID"));

    // Each is encrypted to its CERT and the reporter only: two session keys, and the
    // other CERT's key opens nothing.
    for (message, own, other, address) in [
        (to_cert, &cert_key().secret, &sector_key().secret, CERT_ADDRESS),
        (to_sector, &sector_key().secret, &cert_key().secret, SECTOR_ADDRESS),
    ] {
        assert_eq!(session_keys(message), 2);
        let (inner, status) = gpg_try_decrypt(&env, message, own).unwrap();
        assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
        assert!(report_text(&inner).contains("Patientjournaler eksponeret"));
        assert!(report_text(&inner).contains(address), "each report names its own recipient");
        assert!(gpg_try_decrypt(&env, message, other).is_err(), "another CERT's key must not open it");
        assert!(report_text(&sq_decrypt(&env, message, own)).contains("Patientjournaler eksponeret"));
        assert!(sq_try_decrypt(&env, message, other).is_err());
    }

    // Each has its own delivery state, all on the one incident.
    let outbox = json(&env.certmail(&["outbox", "list", "--json"]));
    let rows = outbox["messages"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r["reference"] == reference.as_str() && r["state"] == "sent"), "{outbox}");
    let listed = text(&env.certmail(&["outbox", "list"]).stdout);
    assert!(listed.contains("to test-cert <") && listed.contains("to sector-cert <"), "{listed}");
    let status = json(&env.certmail(&["status", "--json"]));
    let incident = &status["incidents"][0];
    let states: Vec<(&str, &str)> =
        incident["messages"].as_array().unwrap().iter().map(|m| (m["recipient"].as_str().unwrap(), m["state"].as_str().unwrap())).collect();
    assert_eq!(states, [("test-cert", "sent"), ("sector-cert", "sent")], "{status}");
    let shown = text(&env.certmail(&["status"]).stdout);
    assert!(shown.contains("to sector-cert <cert@sector-cert.test>: sent"), "{shown}");
    let store = env.store();
    assert_eq!(store.event_kinds(&reference).unwrap(), ["created", "queued", "sending", "queued", "sending", "sent", "sent"]);
    assert_success(&env.certmail(&["log", "verify"]));

    // A reply goes to both by default, each threaded to its own notification.
    let reply = env.certmail_stdin(&["reply", &reference, "--json"], "Vi har lukket lageret.\n".as_bytes());
    assert_success(&reply);
    assert_eq!(json(&reply)["messages"].as_array().unwrap().len(), 2);
    let received = server.received();
    assert_eq!(received.len(), 4);
    for (notification, answer) in [(&received[0], &received[2]), (&received[1], &received[3])] {
        let id = header(&text(notification), "Message-ID").unwrap().to_string();
        assert_eq!(header(&text(answer), "In-Reply-To"), Some(id.as_str()));
        assert_eq!(header(&text(answer), "To"), header(&text(notification), "To"));
    }
}

#[test]
fn each_recipient_has_its_own_attempt_and_an_unknown_one_queues_nothing() {
    let server = SmtpServer::start("starttls", "rcpt-550");
    let env = two_cert_env();
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let out = env.certmail(&["notify", FULL, "--to", "test-cert", "--to", "sector-cert", "--json"]);
    assert_exit(&out, 1);
    let states: Vec<String> = json(&out)["messages"].as_array().unwrap().iter().map(|m| m["state"].as_str().unwrap().into()).collect();
    assert_eq!(states, ["failed", "failed"], "each recipient's message has its own attempt");
    // Unknown recipients are refused before anything is queued.
    let unknown = env.certmail(&["notify", FULL, "--to", "test-cert", "--to", "nobody", "--again"]);
    assert_exit(&unknown, 2);
    assert_eq!(json(&env.certmail(&["outbox", "list", "--json"]))["messages"].as_array().unwrap().len(), 2);
}

/// The attachment `name` of a decrypted inner entity, base64-decoded.
fn attachment(inner: &str, name: &str) -> Vec<u8> {
    use base64::Engine;
    let start = inner.find(&format!("filename=\"{name}\"")).unwrap_or_else(|| panic!("no attachment {name}"));
    let body = &inner[start..];
    let body = &body[body.find("\r\n\r\n").unwrap() + 4..];
    let body = &body[..body.find("\r\n--").unwrap()];
    base64::engine::general_purpose::STANDARD.decode(body.replace("\r\n", "")).unwrap()
}

/// Bytes no compressor shrinks much and no slip in base64 would leave alike.
fn sample_bytes(len: usize) -> Vec<u8> {
    let mut x: u32 = 0x9E37_79B9;
    let mut out: Vec<u8> = b"MZ\x90\x00 this program cannot be run in DOS mode, X5O!P%@AP[4\\PZX54(P^)7CC)7}".to_vec();
    out.extend((0..len).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x as u8
    }));
    out
}

#[test]
fn a_sample_travels_zipped_with_the_password_infected_and_holds_the_exact_bytes() {
    require("unzip", "unzip");
    let env = Env::new();
    let content = sample_bytes(300_000);
    let sample = env.path("dropper.exe");
    std::fs::write(&sample, &content).unwrap();
    let (out, message) = env.notify(Path::new(FULL), &["--sample", sample.to_str().unwrap()]);
    assert_queued(&out);
    let outer = text(&message);
    assert!(!outer.contains("dropper"), "the sample's name travels only inside the encryption");
    let (inner, _) = gpg_decrypt(&env, &message);
    let inner = text(&inner);
    assert!(inner.contains("Content-Type: application/zip; name=\"dropper.exe.zip\""), "{}", &inner[..2000.min(inner.len())]);
    let zip_bytes = attachment(&inner, "dropper.exe.zip");
    let zip = env.path("dropper.exe.zip");
    std::fs::write(&zip, &zip_bytes).unwrap();
    assert!(!zip_bytes.windows(40).any(|w| w == &content[..40]), "the sample is not in the zip in the clear");

    // unzip: nothing without the password, the exact bytes with it.
    let refused = Command::new("unzip").args(["-P", "wrong", "-p"]).arg(&zip).arg("dropper.exe").output().unwrap();
    assert!(!refused.status.success() || refused.stdout != content, "a wrong password must not open it");
    let unzipped = Command::new("unzip").args(["-P", "infected", "-p"]).arg(&zip).arg("dropper.exe").output().unwrap();
    assert!(unzipped.status.success(), "{}", text(&unzipped.stderr));
    assert_eq!(unzipped.stdout, content);
    let tested = Command::new("unzip").args(["-P", "infected", "-t"]).arg(&zip).output().unwrap();
    assert!(tested.status.success() && text(&tested.stdout).contains("No errors detected"), "{}", text(&tested.stdout));

    // Python's zipfile: one entry, encrypted (flag bit 0), the same bytes.
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\ninfos = z.infolist()\nassert [i.filename for i in infos] == ['dropper.exe'], infos\nassert infos[0].flag_bits & 1, 'not encrypted'\ntry:\n    z.read('dropper.exe')\n    sys.exit('read without a password')\nexcept RuntimeError:\n    pass\nsys.stdout.buffer.write(z.read('dropper.exe', pwd=b'infected'))\n";
    let python = Command::new("python3").arg("-c").arg(script).arg(&zip).output().unwrap();
    assert!(python.status.success(), "{}", text(&python.stderr));
    assert_eq!(python.stdout, content);

    // The report says what it is, with the sample's SHA-256 and the password.
    let sha256: String = {
        use sha2::{Digest, Sha256};
        Sha256::digest(&content).iter().map(|b| format!("{b:02x}")).collect()
    };
    let report = report_text(inner.as_bytes());
    assert!(report.contains("== Malwareprøver ==") && report.contains(&sha256) && report.contains("\"infected\""), "{report}");
}

#[test]
fn a_repeated_idempotency_key_gives_one_message_and_the_same_output() {
    let server = SmtpServer::start("starttls", "none");
    let env = Env::new();
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let args = ["notify", FULL, "--idempotency-key", "ticket-4711", "--json"];
    let first = env.certmail(&args);
    assert_success(&first);
    assert_eq!(json(&first)["state"], "sent");
    let again = env.certmail(&args);
    assert_success(&again);
    assert_eq!(again.stdout, first.stdout, "the same JSON");
    assert!(text(&again.stderr).contains("ticket-4711"), "{}", text(&again.stderr));
    assert_eq!(server.received().len(), 1, "no second message");
    // In text too, and for a reply.
    let reference = json(&first)["reference"].as_str().unwrap().to_string();
    let answer = env.write("answer.txt", "Lageret er lukket kl. 16:00.\n");
    let reply = ["reply", &reference, "--text", answer.to_str().unwrap(), "--idempotency-key", "ticket-4711-a"];
    let (r1, r2) = (env.certmail(&reply), env.certmail(&reply));
    assert_success(&r1);
    assert_success(&r2);
    assert_eq!(r1.stdout, r2.stdout);
    assert!(text(&r1.stdout).contains("delivered"), "{}", text(&r1.stdout));
    assert_eq!(server.received().len(), 2);

    // The same key for something else is refused, and sends nothing.
    let other = env.certmail(&["notify", "examples/voluntary-ransomware.toml", "--idempotency-key", "ticket-4711"]);
    assert_exit(&other, 2);
    assert!(text(&other.stderr).contains("ticket-4711") && text(&other.stderr).contains(&reference), "{}", text(&other.stderr));
    assert_eq!(server.received().len(), 2);
}

#[test]
fn an_idempotent_retry_keeps_the_first_exit_code_while_the_relay_is_down() {
    let port = free_port();
    let env = Env::new();
    env.set_relay(port, "starttls", &tls().ca, 2);
    let args = ["notify", FULL, "--idempotency-key", "run-1", "--json"];
    let first = env.certmail(&args);
    assert_exit(&first, 3);
    assert_eq!(json(&first)["state"], "deferred");
    let again = env.certmail(&args);
    assert_exit(&again, 3);
    assert_eq!(again.stdout, first.stdout);
    assert_eq!(json(&env.certmail(&["outbox", "list", "--json"]))["messages"].as_array().unwrap().len(), 1);
}

#[test]
fn two_runs_at_once_send_one_message_with_a_key_and_without() {
    let env = Env::new();
    let run = |args: &[&str]| {
        let spawn = || env.command().args(args).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
        let (a, b) = (spawn(), spawn());
        (a.wait_with_output().unwrap(), b.wait_with_output().unwrap())
    };
    // The second waits for the first's commit, then finds its key (or its incident).
    let (a, b) = run(&["notify", FULL, "--idempotency-key", "parallel", "--json"]);
    assert_exit(&a, 3);
    assert_exit(&b, 3);
    assert_eq!(a.stdout, b.stdout);
    let (a, b) = run(&["notify", "examples/voluntary-ransomware.toml", "--json"]);
    let mut codes = [a.status.code(), b.status.code()];
    codes.sort();
    assert_eq!(codes, [Some(2), Some(3)], "{}\n{}", text(&a.stderr), text(&b.stderr));
    assert_eq!(json(&env.certmail(&["outbox", "list", "--json"]))["messages"].as_array().unwrap().len(), 2);
}

#[test]
fn the_same_incident_file_twice_is_refused_and_again_sends_it() {
    let env = Env::new();
    let first = env.certmail(&["notify", FULL, "--json"]);
    assert_queued(&first);
    let reference = json(&first)["reference"].as_str().unwrap().to_string();
    // The same incident, whatever its comments and layout: refused, naming what exists.
    let source = std::fs::read_to_string(FULL).unwrap();
    let reformatted = env.write("copy.toml", &format!("# notified again after Ctrl-C\n\n{}", source.replace(" = ", "=")));
    let second = env.certmail(&["notify", reformatted.to_str().unwrap()]);
    assert_exit(&second, 2);
    let err = text(&second.stderr);
    for expected in [reference.as_str(), "already notified", "--again", "--follow-up", "certmail outbox flush", "queued"] {
        assert!(err.contains(expected), "{expected:?} missing: {err}");
    }
    assert_eq!(json(&env.certmail(&["outbox", "list", "--json"]))["messages"].as_array().unwrap().len(), 1);
    // --again makes it a new incident, on purpose.
    let third = env.certmail(&["notify", reformatted.to_str().unwrap(), "--again", "--json"]);
    assert_queued(&third);
    assert_ne!(json(&third)["reference"].as_str().unwrap(), reference);
    assert_eq!(json(&env.certmail(&["outbox", "list", "--json"]))["messages"].as_array().unwrap().len(), 2);
    // Another incident is not a duplicate.
    assert_queued(&env.certmail(&["notify", "examples/voluntary-ransomware.toml"]));
}

/// The file edited a little after it was notified (a tired responder's second run),
/// from a script: an open incident has its title, so stderr says so and how to
/// follow up, and the new incident is sent (alerts of a script may share a title).
/// On a terminal certmail asks first (compose.rs).
#[test]
fn an_edited_file_with_an_open_incidents_title_is_warned_about_from_a_script() {
    let env = Env::new();
    let first = env.certmail(&["notify", FULL, "--json"]);
    assert_queued(&first);
    let reference = json(&first)["reference"].as_str().unwrap().to_string();
    let source = std::fs::read_to_string(FULL).unwrap();
    let edited =
        env.write("edited.toml", &source.replacen("what-happened = \"", "what-happened = \"Opdatering: flere lagre er berørt. ", 1));
    assert_ne!(std::fs::read_to_string(&edited).unwrap(), source, "the file was edited");
    let second = env.certmail(&["notify", edited.to_str().unwrap()]);
    assert_queued(&second);
    let err = text(&second.stderr);
    for expected in [reference.as_str(), "same title", "--follow-up", "--again"] {
        assert!(err.contains(expected), "{expected:?} missing: {err}");
    }
    // --again: meant, and not warned about.
    let third = env.certmail(&["notify", edited.to_str().unwrap(), "--again"]);
    assert_queued(&third);
    assert!(!text(&third.stderr).contains("same title"), "{}", text(&third.stderr));
}

/// A header's RFC 2047 words decoded (certmail writes UTF-8 "B" words).
fn decoded(value: &str) -> String {
    use base64::Engine;
    value
        .split_whitespace()
        .map(|w| {
            let b64 = w.strip_prefix("=?UTF-8?B?").and_then(|w| w.strip_suffix("?=")).unwrap_or(w);
            String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn a_reply_is_threaded_to_the_certs_question_and_decrypts() {
    let c = crate::ingest::case();
    let signed = crate::ingest::clearsigned(&c, "q.txt", &format!("Vedr. {}\nKan I oplyse hvilke IP-adresser?\n", c.reference));
    let mail = format!("From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <q1@example-cert.test>\r\n\r\n{signed}", c.message_id);
    let question = c.env.write("question.eml", &mail);
    assert_success(&c.env.certmail(&["ingest", question.to_str().unwrap()]));
    assert!(text(&c.env.certmail(&["status"]).stdout).contains("question"));

    let answer = c.env.write("answer.txt", "Angrebet kom fra 185.220.101.7.\n\nVenlig hilsen\nJens\n");
    let log = c.env.write("fw.log", "deny 185.220.101.7\n");
    let out: PathBuf = c.env.path("reply.eml");
    let sent = c.env.certmail(&[
        "reply",
        &c.reference,
        "--text",
        answer.to_str().unwrap(),
        "--attach",
        log.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--json",
    ]);
    assert_queued(&sent);
    let result = json(&sent);
    assert_eq!((result["reference"].as_str(), result["kind"].as_str()), (Some(c.reference.as_str()), Some("reply")));
    let message = std::fs::read(&out).unwrap();
    let outer = text(&message);
    // Threaded to the CERT's signed question, after our notification; the cleartext
    // subject carries only the reference.
    assert_eq!(header(&outer, "In-Reply-To"), Some("<q1@example-cert.test>"));
    assert_eq!(unfolded(&outer, "References").as_deref(), Some(format!("<{}> <q1@example-cert.test>", c.message_id).as_str()));
    assert_eq!(header(&outer, "Subject"), Some(format!("[{}] Encrypted message", c.reference).as_str()));
    assert!(!outer.contains("185.220.101.7"));

    let (inner, status) = gpg_decrypt(&c.env, &message);
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    let inner_text = text(&inner);
    assert_eq!(decoded(&unfolded(&inner_text, "Subject").unwrap()), format!("Sv: [{}] Ransomware på filservere", c.reference));
    assert_eq!(header(&inner_text, "In-Reply-To"), Some("<q1@example-cert.test>"));
    let body = report_text(&inner);
    assert!(body.starts_with("Angrebet kom fra 185.220.101.7.\n\nVenlig hilsen\nJens\n"), "{body}");
    assert!(body.contains(&format!("Reference: {}", c.reference)) && body.contains("fw.log (19 bytes)"), "{body}");
    assert_eq!(attachment(&inner_text, "fw.log"), b"deny 185.220.101.7\n");
    assert!(report_text(&sq_decrypt(&c.env, &message, &cert_key().secret)).contains("185.220.101.7"));

    // Recorded like a notification, and it answers the question.
    let store = c.env.store();
    let kinds = store.event_kinds(&c.reference).unwrap();
    assert_eq!(kinds[kinds.len() - 2..], ["replied", "queued"], "{kinds:?}");
    assert!(!text(&c.env.certmail(&["status"]).stdout).contains("question"));
    assert_success(&c.env.certmail(&["log", "verify"]));

    // Nothing to say, or no such incident: refused, nothing queued.
    assert_exit(&c.env.certmail_stdin(&["reply", &c.reference], b"  \n"), 2);
    let unknown = c.env.certmail_stdin(&["reply", "CM-0000-0000-0000"], b"hello\n");
    assert_exit(&unknown, 2);
    assert!(text(&unknown.stderr).contains("CM-0000-0000-0000"));
    assert_eq!(store.count_state("queued").unwrap(), 2);
}
