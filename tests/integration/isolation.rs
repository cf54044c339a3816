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
