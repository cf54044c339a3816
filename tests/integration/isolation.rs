//! No input stops a batch: hostile messages (a flood of encrypted session-key
//! packets, nesting mail-parser cannot take, a message over the size limit inside an
//! mbox) are recorded as `malformed` with the reason, and the genuine reply beside
//! them in the same run is still read and recorded.

use std::path::Path;

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::packet::Packet;
use openpgp::parse::{PacketParser, PacketParserResult, Parse};
use openpgp::policy::StandardPolicy;
use openpgp::serialize::Serialize;
use openpgp::serialize::stream::{Encryptor, LiteralWriter, Message, Signer};

use crate::support::*;

struct Case {
    env: Env,
    reference: String,
    message_id: String,
    reporter: Cert,
}

fn case() -> Case {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reporter = certmail::crypto::read_cert(&std::fs::read(env.reporter_public()).unwrap()).unwrap();
    Case { reference: json["reference"].as_str().unwrap().into(), message_id: json["message_id"].as_str().unwrap().into(), env, reporter }
}

/// Binary OpenPGP: `text` signed by the CERT's key and encrypted to the reporter.
fn signed_and_encrypted(reporter: &Cert, text: &str) -> Vec<u8> {
    use std::io::Write;
    let p = StandardPolicy::new();
    let cert = Cert::from_file(&cert_key().secret).unwrap();
    let signing = cert.keys().secret().with_policy(&p, None).for_signing().next().unwrap().key().clone().into_keypair().unwrap();
    let recipients = reporter.keys().with_policy(&p, None).for_transport_encryption();
    let mut sink = Vec::new();
    {
        let message = Message::new(&mut sink);
        let message = Encryptor::for_recipients(message, recipients).build().unwrap();
        let message = Signer::new(message, signing).unwrap().build().unwrap();
        let mut literal = LiteralWriter::new(message).build().unwrap();
        literal.write_all(format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n").as_bytes()).unwrap();
        literal.finalize().unwrap();
    }
    sink
}

/// The same message with `extra` copies of its session-key packet put in front, each
/// one byte changed near its end (the wrapped key), so every copy is addressed to
/// the reporter's key, costs a public-key operation and fails to open.
fn with_session_key_flood(message: &[u8], extra: usize) -> Vec<u8> {
    let PacketParserResult::Some(pp) = PacketParser::from_bytes(message).unwrap() else { panic!("an OpenPGP message") };
    let Packet::PKESK(pkesk) = pp.next().unwrap().0 else { panic!("a session-key packet first") };
    let mut real = Vec::new();
    Packet::PKESK(pkesk).serialize(&mut real).unwrap();
    let rest = message.strip_prefix(real.as_slice()).expect("the packet serialised as it was");
    let mut out = Vec::with_capacity(real.len() * (extra + 1) + rest.len());
    for i in 0..extra {
        let mut bogus = real.clone();
        let at = bogus.len() - 1 - i % 8;
        bogus[at] ^= 1 + (i % 255) as u8;
        out.extend_from_slice(&bogus);
    }
    out.extend_from_slice(&real);
    out.extend_from_slice(rest);
    out
}

fn armored(binary: &[u8]) -> String {
    use std::io::Write;
    let mut sink = Vec::new();
    let mut w = openpgp::armor::Writer::new(&mut sink, openpgp::armor::Kind::Message).unwrap();
    w.write_all(binary).unwrap();
    w.finalize().unwrap();
    text(&sink)
}

/// An RFC 3156 reply to the case's notification around `openpgp` (binary).
fn pgp_mime_reply(c: &Case, openpgp: &[u8], name: &str) -> std::path::PathBuf {
    let mail = format!(
        "From: Example CERT <{CERT_ADDRESS}>\r\nTo: soc@example.dk\r\nSubject: Re: [{r}] Encrypted message\r\nMessage-ID: <{name}@example-cert.test>\r\nIn-Reply-To: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n{armor}\r\n--b--\r\n",
        r = c.reference,
        id = c.message_id,
        armor = armored(openpgp)
    );
    c.env.write(&format!("{name}.eml"), &mail)
}

fn ingest_all(env: &Env, args: &[&str]) -> Vec<serde_json::Value> {
    let mut all = vec!["ingest", "--json"];
    all.extend_from_slice(args);
    let out = env.certmail(&all);
    assert!(out.status.success(), "ingest failed: {}\n{}", text(&out.stderr), text(&out.stdout));
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect()
}

fn genuine(c: &Case) -> Vec<u8> {
    signed_and_encrypted(&c.reporter, &format!("We have received your notification {}. Sagsnr.: CFCS-2026-7001", c.reference))
}

fn assert_genuine_recorded(c: &Case, r: &serde_json::Value) {
    assert_eq!(r["encrypted"], true, "{r}");
    assert_eq!(r["signature"], "good", "{r}");
    assert_eq!(r["incident"], c.reference.as_str(), "{r}");
    assert_ne!(r["kind"], "malformed", "{r}");
}

#[test]
fn a_flood_of_session_key_packets_is_refused_and_the_next_reply_is_still_recorded() {
    let c = case();
    // 5000 packets for our key in front of the real one: before the bound, each was
    // tried (minutes of CPU for an RSA key), and then the message was read.
    let flood = with_session_key_flood(&genuine(&c), 5000);
    let flood = pgp_mime_reply(&c, &flood, "flood");
    // Under the packet cap, but the real packet comes after more failed tries than allowed.
    let many_tries = with_session_key_flood(&genuine(&c), 20);
    let many_tries = pgp_mime_reply(&c, &many_tries, "many-tries");
    // A few bogus packets in front of the real one are fine.
    let few = pgp_mime_reply(&c, &with_session_key_flood(&genuine(&c), 3), "few");
    let ok = pgp_mime_reply(&c, &genuine(&c), "genuine");
    let started = std::time::Instant::now();
    let lines = ingest_all(&c.env, &[flood.to_str().unwrap(), many_tries.to_str().unwrap(), few.to_str().unwrap(), ok.to_str().unwrap()]);
    eprintln!("ingest of the flood and three more took {:?}", started.elapsed());
    assert_eq!(lines.len(), 4, "{lines:?}");
    assert_eq!(lines[0]["kind"], "malformed", "{}", lines[0]);
    assert!(lines[0]["detail"].as_str().unwrap().contains("5001 encrypted session keys"), "{}", lines[0]);
    assert_eq!(lines[1]["kind"], "malformed", "{}", lines[1]);
    assert!(lines[1]["detail"].as_str().unwrap().contains("tries"), "{}", lines[1]);
    assert_genuine_recorded(&c, &lines[2]);
    assert_genuine_recorded(&c, &lines[3]);
}

/// message/rfc822 nested `n` deep: a small mail that overflowed a parser thread's
/// stack when mail-parser's nested values were dropped.
fn nested_messages(n: usize) -> String {
    let mut m = String::from("From: x@y\r\nMessage-ID: <deep@x>\r\n");
    for _ in 0..n {
        m.push_str("Content-Type: message/rfc822\r\n\r\n");
    }
    m.push_str("Subject: bottom\r\n\r\nhello\r\n");
    m
}

#[test]
fn deep_nesting_in_a_maildir_does_not_stop_the_ack_beside_it() {
    let c = case();
    let maildir = c.env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    // 20,000 levels (about 650 KB) aborted every run on the default 2 MiB thread stack.
    std::fs::write(maildir.join("new/1-deep.eml"), nested_messages(20_000)).unwrap();
    let mut multipart = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..2000 {
        multipart.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
    }
    std::fs::write(maildir.join("new/2-deep-multipart.eml"), multipart).unwrap();
    std::fs::copy(pgp_mime_reply(&c, &genuine(&c), "genuine"), maildir.join("new/3-genuine.eml")).unwrap();
    let lines = ingest_all(&c.env, &["--maildir", maildir.to_str().unwrap()]);
    assert_eq!(lines.len(), 3, "{lines:?}");
    for deep in &lines[..2] {
        assert_eq!(deep["kind"], "malformed", "{deep}");
        assert!(deep["detail"].as_str().unwrap_or_default().contains("deeper than"), "{deep}");
    }
    assert_genuine_recorded(&c, &lines[2]);
}

#[test]
fn an_oversized_message_in_an_mbox_is_one_malformed_record_and_the_next_is_read() {
    let c = case();
    let mbox = c.env.path("box.mbox");
    {
        use std::io::Write;
        let mut f = std::io::BufWriter::new(std::fs::File::create(&mbox).unwrap());
        write!(f, "From a@b Sat Jan  1 00:00:00 2000\nSubject: [{}] huge\nMessage-ID: <huge@x>\n\n", c.reference).unwrap();
        let line = format!("{}\n", "x".repeat(1023));
        for _ in 0..(certmail::reply::MAX_MESSAGE_BYTES / 1024 + 64) {
            f.write_all(line.as_bytes()).unwrap();
        }
        write!(
            f,
            "From c@d Sat Jan  1 00:00:01 2000\n{}",
            text(&std::fs::read(pgp_mime_reply(&c, &genuine(&c), "after-huge")).unwrap()).replace("\r\n", "\n")
        )
        .unwrap();
    }
    let lines = ingest_all(&c.env, &["--mbox", mbox.to_str().unwrap()]);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["kind"], "malformed", "{}", lines[0]);
    assert!(lines[0]["detail"].as_str().unwrap().contains("larger than"), "{}", lines[0]);
    assert_genuine_recorded(&c, &lines[1]);
}

/// The fuzz corpus through the prescan: every input gives an answer, and the
/// hostile seeds are refused before mail-parser would see them.
#[test]
fn the_fuzz_corpus_through_the_prescan() {
    for entry in std::fs::read_dir("fuzz/corpus/ingest").unwrap() {
        let path = entry.unwrap().path();
        let verdict = certmail::reply::limits::prescan(&std::fs::read(&path).unwrap());
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name.starts_with("seed-deep") {
            assert!(verdict.is_err(), "{name}");
        }
    }
}
