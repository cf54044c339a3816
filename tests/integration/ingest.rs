//! `certmail ingest` with replies made by independent tools: GnuPG (signed and
//! encrypted PGP/MIME, cleartext-signed), sq (detached signature, multipart/signed),
//! Python's email package (plain, quoted-printable ISO-8859-1, HTML-only, threading
//! by References or subject tag), a bounce and an auto-reply; hostile input, including
//! encryption without integrity protection; and a long Maildir on a terminal.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support::*;

pub(crate) struct Case {
    pub(crate) env: Env,
    pub(crate) reference: String,
    pub(crate) message_id: String,
    pub(crate) gnupg: PathBuf,
    /// The reporter key's fingerprint when the case was made (replies are encrypted to it).
    pub(crate) reporter: String,
}

/// A home with one queued notification, and a GnuPG home holding the CERT's secret
/// key and the reporter's public key (as the CERT would).
pub(crate) fn case() -> Case {
    let env = Env::new();
    let (out, _) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--json"]);
    assert_queued(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let gnupg = env.path("cert-gnupg");
    std::fs::create_dir_all(&gnupg).unwrap();
    gpg_ok(&gnupg, &["--import", cert_key().secret.to_str().unwrap(), env.reporter_public().to_str().unwrap()]);
    let reporter = reporter_fpr(&env);
    Case {
        reference: json["reference"].as_str().unwrap().into(),
        message_id: json["message_id"].as_str().unwrap().into(),
        gnupg,
        env,
        reporter,
    }
}

pub(crate) fn ingest(env: &Env, file: &Path) -> serde_json::Value {
    let out = env.certmail(&["ingest", file.to_str().unwrap(), "--json"]);
    assert!(out.status.success(), "ingest failed: {}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(&out.stdout)))
}

fn reporter_fpr(env: &Env) -> String {
    certmail::crypto::Identity::from_bytes(&std::fs::read(env.home.join("identity/secret.asc")).unwrap()).unwrap().fingerprint()
}

/// An RFC 3156 encrypted reply whose OpenPGP part GnuPG made (signed by `signer`).
pub(crate) fn gpg_encrypted_reply(c: &Case, body: &str, signer: &str, gnupg: &Path) -> PathBuf {
    let inner = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n");
    let plain = c.env.write("inner.txt", &inner);
    let out = gpg_ok(
        gnupg,
        &[
            "--trust-model",
            "always",
            "--armor",
            "--local-user",
            signer,
            "--recipient",
            &c.reporter,
            "--sign",
            "--encrypt",
            "--output",
            "-",
            plain.to_str().unwrap(),
        ],
    );
    pgp_mime_reply(c, &text(&out.stdout), &format!("encrypted-{}", signer.len() + body.len()))
}

/// An RFC 3156 reply to the case's notification around an armored OpenPGP message.
fn pgp_mime_reply(c: &Case, armored: &str, name: &str) -> PathBuf {
    let mail = format!(
        "From: Example CERT <{CERT_ADDRESS}>\r\nTo: soc@example.dk\r\nSubject: Re: [{r}] Encrypted message\r\nMessage-ID: <reply-{name}@example-cert.test>\r\nIn-Reply-To: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n{armored}\r\n--b--\r\n",
        r = c.reference,
        id = c.message_id
    );
    c.env.write(&format!("{name}.eml"), &mail)
}

#[test]
fn a_reply_encrypted_to_another_key_says_which_key_it_is_for() {
    let c = case();
    // Encrypted to the CERT's own key, as if for a team member this machine is not.
    let plain = c.env.write("other.txt", "Content-Type: text/plain; charset=utf-8\r\n\r\nVi har modtaget jeres underretning.\r\n");
    let out = gpg_ok(
        &c.gnupg,
        &[
            "--trust-model",
            "always",
            "--armor",
            "--recipient",
            &cert_key().fingerprint,
            "--encrypt",
            "--output",
            "-",
            plain.to_str().unwrap(),
        ],
    );
    let file = pgp_mime_reply(&c, &text(&out.stdout), "for-someone-else");
    let r = ingest(&c.env, &file);
    assert_eq!(r["state_changed"], false, "{r}");
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(
        shown.contains("it is for ")
            && shown.contains("this machine holds")
            && shown.contains("it can be read where a key it is for is")
            && shown.contains("recipient test-cert"),
        "{shown}"
    );
}

#[test]
fn gnupg_signed_and_encrypted_ack_is_a_good_acknowledgement() {
    let c = case();
    let file = gpg_encrypted_reply(
        &c,
        &format!("Hej\r\nVi har modtaget jeres underretning {}. Sagsnr.: CFCS-2026-4411\r\n", c.reference),
        &cert_key().fingerprint,
        &c.gnupg,
    );
    let r = ingest(&c.env, &file);
    assert_eq!(r["kind"], "ack", "{r}");
    assert_eq!(r["signature"], "good");
    assert_eq!((r["bound"].as_bool(), r["state_changed"].as_bool()), (Some(true), Some(true)), "{r}");
    assert_eq!(r["encrypted"], true);
    assert_eq!(r["incident"], c.reference.as_str());
    assert_eq!(r["signer"], cert_key().fingerprint.as_str());
    // Idempotent: the same message again adds nothing.
    let again = ingest(&c.env, &file);
    assert_eq!(again["duplicate"], true);
    let shown = text(&c.env.certmail(&["log", "show", &c.reference]).stdout);
    assert_eq!(shown.matches("acknowledged").count(), 1, "{shown}");
    // The CERT's case number now correlates a later reply that has nothing else.
    let later = c.env.write(
        "case-only.eml",
        "From: cert@example-cert.test\r\nSubject: Vedr. CFCS-2026-4411\r\nMessage-ID: <later@x>\r\n\r\nKan I sende logfilerne?\r\n",
    );
    let r = ingest(&c.env, &later);
    assert_eq!(r["incident"], c.reference.as_str());
    assert_eq!(r["kind"], "question");
    assert_eq!(r["signature"], "none");
    assert_eq!((r["bound"].as_bool(), r["state_changed"].as_bool()), (Some(false), Some(false)), "threaded for reading only: {r}");

    // Whoever can write to the database moves the case number to another incident:
    // the CERT's signed closure of that case still closes only the one it was learnt on.
    let (out, _) = c.env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--again", "--json"]);
    assert_queued(&out);
    let other: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let other = other["reference"].as_str().unwrap();
    let mut db = c.env.raw_db();
    db.execute("UPDATE incidents SET cert_case = NULL", &[]).unwrap();
    db.execute("UPDATE incidents SET cert_case = 'CFCS-2026-4411' WHERE reference = ?1", &[certmail::store::sql::Value::Text(other)])
        .unwrap();
    let closure = gpg_encrypted_reply(&c, "Sagsnr.: CFCS-2026-4411\r\nSagen er hermed lukket.\r\n", &cert_key().fingerprint, &c.gnupg);
    let r = ingest(&c.env, &closure);
    assert_eq!(r["signature"], "good", "{r}");
    assert!(r["incident"] != other || r["bound"] == false, "bound to the incident the case was moved to: {r}");
    let json: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
    let moved_to = json["incidents"].as_array().unwrap().iter().find(|i| i["reference"] == other).unwrap();
    assert_eq!(moved_to["cert_closed"], false, "{moved_to}");
}

#[test]
fn a_good_signature_over_text_that_names_no_incident_threads_but_does_not_acknowledge() {
    let c = case();
    // Threaded by the unsigned In-Reply-To only: the signed text could be any ack.
    let file = gpg_encrypted_reply(&c, "Hej\r\nVi har modtaget jeres underretning.\r\n", &cert_key().fingerprint, &c.gnupg);
    let r = ingest(&c.env, &file);
    assert_eq!((r["signature"].as_str(), r["kind"].as_str()), (Some("good"), Some("ack")), "{r}");
    assert_eq!(r["incident"], c.reference.as_str(), "threaded for reading: {r}");
    assert_eq!((r["bound"].as_bool(), r["state_changed"].as_bool()), (Some(false), Some(false)), "{r}");
    assert!(r["flags"].as_array().unwrap().iter().any(|f| f == "names-no-incident"), "{r}");
    let json: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
    assert_eq!(json["incidents"][0]["acknowledged"], false, "{json}");
}

#[test]
fn a_key_with_the_certs_name_is_an_unknown_signer_and_never_an_ack() {
    let c = case();
    // Same name and address as the CERT, another key: made elsewhere, then imported.
    let elsewhere = c.env.path("spoofer-gnupg");
    std::fs::create_dir_all(&elsewhere).unwrap();
    let fake = gpg_generate(&elsewhere, "Example CERT — test only <cert@example-cert.test>");
    let exported = gpg_ok(&elsewhere, &["--armor", "--export-secret-keys", &fake]).stdout;
    kill_agent(&elsewhere);
    let key_file = c.env.write("spoofer.asc", &text(&exported));
    gpg_ok(&c.gnupg, &["--import", key_file.to_str().unwrap()]);
    let file = gpg_encrypted_reply(&c, &format!("We have received your report {}.", c.reference), &fake, &c.gnupg);
    let r = ingest(&c.env, &file);
    assert_eq!(r["signature"], "unknown-signer", "{r}");
    assert_eq!(r["kind"], "ack", "the text says ack");
    assert_eq!(r["state_changed"], false, "claims to acknowledge, but is not by the pinned key: {r}");
    kill_agent(&c.gnupg);
}

#[test]
fn sq_detached_signature_in_multipart_signed_verifies() {
    require("sq", "sq");
    let c = case();
    let part = format!("Content-Type: text/plain; charset=utf-8\r\n\r\nWe have received your report {}.\r\n", c.reference);
    let part = part.as_str();
    let data = c.env.write("part.txt", part);
    let sig = Command::new("sq").args(["sign", "--detached", "--signer-key"]).arg(&cert_key().secret).arg(&data).output().unwrap();
    assert!(sig.status.success(), "{}", text(&sig.stderr));
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nSubject: Re: [{r}]\r\nMessage-ID: <signed@x>\r\nIn-Reply-To: <{id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; micalg=pgp-sha512; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n--s\r\n{part}\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n{sig}\r\n--s--\r\n",
        r = c.reference,
        id = c.message_id,
        sig = text(&sig.stdout)
    );
    let r = ingest(&c.env, &c.env.write("signed.eml", &mail));
    assert_eq!(r["signature"], "good", "{r}");
    assert_eq!(r["kind"], "ack");
    assert_eq!(r["bound"], true, "{r}");
    // The same signed part tampered with: bad.
    let tampered = mail.replace("We have received your report", "We have received your report!").replace("<signed@x>", "<tampered@x>");
    let r = ingest(&c.env, &c.env.write("tampered.eml", &tampered));
    assert_eq!(r["signature"], "bad", "{r}");
    assert_eq!((r["kind"].as_str(), r["state_changed"].as_bool()), (Some("ack"), Some(false)), "{r}");
    // Signature wrapping: the good signed part forwarded inside unsigned text.
    let wrapped = format!(
        "From: {CERT_ADDRESS}\r\nSubject: Re: [{r}]\r\nMessage-ID: <wrapped@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"w\"\r\n\r\n--w\r\nContent-Type: text/plain\r\n\r\nWe have received your report, and more.\r\n--w\r\n{inner}\r\n--w--\r\n",
        r = c.reference,
        inner = mail.split("MIME-Version: 1.0\r\n").nth(1).unwrap()
    );
    let r = ingest(&c.env, &c.env.write("wrapped.eml", &wrapped));
    assert_eq!(r["signature"], "partial", "a good signed part beside an unsigned one: {r}");
    assert_eq!((r["bound"].as_bool(), r["state_changed"].as_bool()), (Some(false), Some(false)), "{r}");
}

#[test]
fn gnupg_cleartext_signed_closure() {
    let c = case();
    let body = c.env.write("close.txt", &format!("Vedr. {}: Sagen er lukket fra vores side. Tak for underretningen.\n", c.reference));
    let signed = gpg_ok(&c.gnupg, &["--local-user", &cert_key().fingerprint, "--clearsign", "--output", "-", body.to_str().unwrap()]);
    let mail =
        format!("From: {CERT_ADDRESS}\r\nSubject: [{}] lukket\r\nMessage-ID: <close@x>\r\n\r\n{}", c.reference, text(&signed.stdout));
    let r = ingest(&c.env, &c.env.write("close.eml", &mail));
    assert_eq!(r["kind"], "closed", "{r}");
    assert_eq!(r["signature"], "good");
    assert_eq!(r["bound"], true, "{r}");
    // The CERT closing its case does not end the legal clocks: the incident stays,
    // acknowledged and marked closed by the CERT, until the reporter closes it.
    let json: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
    let incident = &json["incidents"][0];
    assert_eq!((incident["reference"].as_str(), incident["acknowledged"].as_bool()), (Some(c.reference.as_str()), Some(true)), "{json}");
    assert_eq!(incident["cert_closed"], true, "{json}");
}

#[test]
fn status_shows_a_cert_question_until_a_follow_up_answers_it() {
    let c = case();
    let signed = clearsigned(&c, "q.txt", &format!("Vedr. {}\nKan I oplyse hvilke IP-adresser?\n", c.reference));
    let mail = format!("From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <q1@x>\r\n\r\n{signed}", c.message_id);
    let r = ingest(&c.env, &c.env.write("question.eml", &mail));
    assert_eq!((r["kind"].as_str(), r["signature"].as_str()), (Some("question"), Some("good")), "{r}");

    let status = text(&c.env.certmail(&["status"]).stdout);
    let asked = status.lines().find(|l| l.contains("question")).unwrap_or_else(|| panic!("no question in: {status}"));
    assert!(asked.contains("the CERT asked a question") && asked.contains("waiting for your answer"), "{status}");
    assert!(!status.contains("an answer to the CERT's question received"), "{status}");
    assert!(status.contains(&format!("--follow-up {}", c.reference)), "{status}");
    assert!(!status.contains("confirm it is the CERT"), "a question signed by the pinned key needs no caution: {status}");
    let json: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
    let waiting = json["incidents"][0]["waiting_for"].as_array().unwrap();
    assert!(waiting.iter().any(|i| i["what"].as_str().unwrap().contains("question")), "{json}");

    let (answer, _) = c.env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--follow-up", &c.reference, "--again"]);
    assert_queued(&answer);
    let status = text(&c.env.certmail(&["status"]).stdout);
    assert!(status.contains(&c.reference) && !status.contains("question"), "the follow-up answered it: {status}");
}

/// Messages written by Python's email package.
fn python_mail(c: &Case, name: &str, script: &str) -> PathBuf {
    let path = c.env.path(name);
    let program = format!(
        "import email.message, email.policy, sys\nfrom email.mime.text import MIMEText\nref = {r:?}\nmid = {m:?}\n{script}\nopen(sys.argv[1], 'wb').write(bytes(msg))\n",
        r = c.reference,
        m = format!("<{}>", c.message_id)
    );
    let out = Command::new("python3").arg("-c").arg(program).arg(&path).output().expect("python3");
    assert!(out.status.success(), "python: {}", text(&out.stderr));
    path
}

#[test]
fn python_made_replies_thread_and_classify() {
    let c = case();
    let qp = python_mail(
        &c,
        "qp.eml",
        "msg = MIMEText('Kan I oplyse hvilke servere der er ber\u{f8}rt?', 'plain', 'iso-8859-1')\nmsg['Subject'] = 'Sp\u{f8}rgsm\u{e5}l [' + ref + ']'\nmsg['From'] = 'cert@example-cert.test'\nmsg['Message-ID'] = '<qp@x>'",
    );
    assert!(std::fs::read_to_string(&qp).unwrap().contains("quoted-printable"));
    let r = ingest(&c.env, &qp);
    assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("question"), Some(c.reference.as_str())), "subject tag threading: {r}");

    let refs = python_mail(
        &c,
        "refs.eml",
        "msg = MIMEText('Thanks, noted.')\nmsg['Subject'] = 'Re: your mail'\nmsg['References'] = '<other@x> ' + mid\nmsg['Message-ID'] = '<refs@x>'",
    );
    let r = ingest(&c.env, &refs);
    assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("reply"), Some(c.reference.as_str())), "{r}");

    let html = python_mail(
        &c,
        "html.eml",
        "msg = MIMEText('<html><body><p>We have received <b>your</b> report.</p><script>alert(1)</script></body></html>', 'html')\nmsg['In-Reply-To'] = mid\nmsg['Subject'] = 'Re'\nmsg['Message-ID'] = '<html@x>'",
    );
    let r = ingest(&c.env, &html);
    assert_eq!(r["kind"], "ack", "the text says so: {r}");
    assert_eq!((r["signature"].as_str(), r["state_changed"].as_bool()), (Some("none"), Some(false)), "unsigned, so no state change: {r}");

    let stray = python_mail(&c, "stray.eml", "msg = MIMEText('Newsletter')\nmsg['Subject'] = 'News'\nmsg['Message-ID'] = '<news@x>'");
    assert_eq!(ingest(&c.env, &stray)["kind"], "unrelated");

    let auto = python_mail(
        &c,
        "auto.eml",
        "msg = MIMEText('I am out of office until Monday. Case number 99871.')\nmsg['Subject'] = 'Autosvar'\nmsg['Auto-Submitted'] = 'auto-replied'\nmsg['In-Reply-To'] = mid\nmsg['Message-ID'] = '<auto@x>'",
    );
    let r = ingest(&c.env, &auto);
    assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("auto-reply"), Some(c.reference.as_str())));
}

#[test]
fn a_failed_bounce_marks_the_notification_undelivered_and_says_so() {
    let c = case();
    // Only a message the relay accepted can bounce.
    let _relay = crate::analyst::deliver(&c.env);
    let bounce = format!(
        "From: MAILER-DAEMON@relay.example.dk\r\nTo: soc@example.dk\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <bounce@relay>\r\nAuto-Submitted: auto-replied\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"r\"\r\n\r\n--r\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--r\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; relay.example.dk\r\n\r\nFinal-Recipient: rfc822; {CERT_ADDRESS}\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--r\r\nContent-Type: text/rfc822-headers\r\n\r\nFrom: soc@example.dk\r\nMessage-ID: <{}>\r\nSubject: [{}] Encrypted message\r\n\r\n--r--\r\n",
        c.message_id, c.reference
    );
    let file = c.env.write("bounce.eml", &bounce);
    let out = c.env.certmail(&["ingest", file.to_str().unwrap()]);
    assert_success(&out);
    assert!(text(&out.stderr).contains("NOT delivered"), "{}", text(&out.stderr));
    let r = ingest(&c.env, &file);
    assert_eq!((r["kind"].as_str(), r["incident"].as_str()), (Some("bounce"), Some(c.reference.as_str())));
    let outbox = text(&c.env.certmail(&["outbox", "list"]).stdout);
    assert!(outbox.contains("bounced"), "{outbox}");
    let status = text(&c.env.certmail(&["status"]).stdout);
    assert!(status.contains("FAILED"), "{status}");
}

#[test]
fn hostile_inputs_are_malformed_never_a_crash() {
    let c = case();
    let mut deep = String::from("Subject: deep\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n");
    for i in 0..1000 {
        deep.push_str(&format!("--b{i}\r\nContent-Type: multipart/mixed; boundary=b{}\r\n\r\n", i + 1));
    }
    let truncated = format!(
        "From: x@y\r\nSubject: [{}]\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n--b\r\nVersion: 1\r\n",
        c.reference
    );
    let bad_base64 = format!(
        "From: x@y\r\nSubject: [{}]\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b\r\n\r\n--b\r\n\r\nVersion: 1\r\n--b\r\n\r\n-----BEGIN PGP MESSAGE-----\r\n\r\n!!!not base64!!!\r\n-----END PGP MESSAGE-----\r\n--b--\r\n",
        c.reference
    );
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.eml", vec![]),
        ("binary.eml", (0u8..=255).cycle().take(10_000).collect()),
        ("deep.eml", deep.into_bytes()),
        ("truncated.eml", truncated.into_bytes()),
        ("bad-base64.eml", bad_base64.into_bytes()),
    ];
    for (name, bytes) in cases {
        let path = c.env.path(name);
        std::fs::write(&path, bytes).unwrap();
        let r = ingest(&c.env, &path);
        let expected = if name == "deep.eml" { "malformed" } else { r["kind"].as_str().unwrap_or_default() };
        assert!(matches!(r["kind"].as_str(), Some("malformed") | Some("unrelated")), "{name}: {r}");
        assert_eq!(r["kind"], expected, "{name}: too deep is refused before parsing: {r}");
    }
    assert_success(&c.env.certmail(&["log", "verify"]));
}

#[test]
fn maildir_and_mbox_sources() {
    let c = case();
    let maildir = c.env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::write(maildir.join("new/1.eml"), format!("Subject: [{}]\r\nMessage-ID: <m1@x>\r\n\r\nWe have received it\r\n", c.reference))
        .unwrap();
    std::fs::write(maildir.join("cur/2.eml:2,S"), "Subject: other\r\nMessage-ID: <m2@x>\r\n\r\nhello\r\n").unwrap();
    let out = c.env.certmail(&["ingest", "--maildir", maildir.to_str().unwrap(), "--json"]);
    assert_success(&out);
    assert_eq!(text(&out.stdout).lines().count(), 2);
    let mbox = c.env.write("box.mbox", &format!("From a@b Sat Jan  1 00:00:00 2026\nSubject: [{r}]\nMessage-ID: <x1@x>\n\n>From the CERT: noted\n\nFrom c@d Sat Jan  1 00:00:01 2026\nSubject: [{r}] again\nMessage-ID: <x2@x>\n\nnoted\n", r = c.reference));
    let out = c.env.certmail(&["ingest", "--mbox", mbox.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(lines.iter().all(|l| l["incident"] == c.reference.as_str()));
    let stdin = c
        .env
        .certmail_stdin(&["ingest", "-", "--json"], format!("Subject: [{}]\r\nMessage-ID: <s@x>\r\n\r\nok\r\n", c.reference).as_bytes());
    assert_success(&stdin);
}

/// A multipart/signed reply whose detached signature sequoia makes now with `key`.
fn sequoia_signed_reply(env: &Env, key: &sequoia_openpgp::Cert, body: &str) -> PathBuf {
    use sequoia_openpgp::serialize::stream::{Armorer, Message, Signer};
    use std::io::Write;
    let part = format!("Content-Type: text/plain\r\n\r\n{body}\r\n");
    // Take the signing key regardless of expiry or revocation: a CERT's broken key
    // still produces signatures that must be recognised for what they are.
    let signing = key.keys().subkeys().secret().next().expect("the signing subkey");
    let keypair = signing.key().clone().into_keypair().unwrap();
    let mut sink = Vec::new();
    {
        let message = Armorer::new(Message::new(&mut sink)).kind(sequoia_openpgp::armor::Kind::Signature).build().unwrap();
        let mut signer = Signer::new(message, keypair).unwrap().detached().build().unwrap();
        signer.write_all(part.as_bytes()).unwrap();
        signer.finalize().unwrap();
    }
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nSubject: acknowledged\r\nMessage-ID: <k{}@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=\"s\"\r\n\r\n--s\r\n{part}\r\n--s\r\nContent-Type: application/pgp-signature\r\n\r\n{}\r\n--s--\r\n",
        body.len(),
        text(&sink)
    );
    env.write(&format!("k{}.eml", body.len()), &mail)
}

#[test]
fn signatures_by_an_expired_or_revoked_cert_key_keep_that_status() {
    use sequoia_openpgp::cert::prelude::*;
    use sequoia_openpgp::serialize::SerializeInto;
    use sequoia_openpgp::types::ReasonForRevocation;
    let env = Env::new();
    let builder = || {
        CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .add_userid("Example CERT — test only <cert@example-cert.test>")
            .add_signing_subkey()
    };
    let day = std::time::Duration::from_secs(86400);
    let (expired, _) = builder().set_creation_time(std::time::SystemTime::now() - 30 * day).set_validity_period(day).generate().unwrap();
    let (revoked, _) = builder().generate().unwrap();
    let mut primary = revoked.primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
    let revocation = CertRevocationBuilder::new()
        .set_reason_for_revocation(ReasonForRevocation::KeyCompromised, b"test")
        .unwrap()
        .build(&mut primary, &revoked, None)
        .unwrap();
    let (revoked_cert, _) = revoked.clone().insert_packets(revocation).unwrap();
    for (name, secret, public, expected) in
        [("expired", &expired, expired.clone(), "expired-key"), ("revoked", &revoked, revoked_cert, "revoked-key")]
    {
        let file = env.path(&format!("{name}.asc"));
        std::fs::write(&file, public.clone().strip_secret_key_material().armored().to_vec().unwrap()).unwrap();
        env.add_recipient(name, &public.fingerprint().to_hex(), &file);
        let reply = sequoia_signed_reply(&env, secret, &format!("We have received your report ({name})."));
        let r = ingest(&env, &reply);
        assert_eq!(r["signature"], expected, "{r}");
        assert_ne!(r["kind"], "ack");
    }
}

#[test]
fn a_compression_bomb_is_refused() {
    let c = case();
    let zeros = c.env.path("zeros.bin");
    std::fs::write(&zeros, vec![0u8; 120 * 1024 * 1024]).unwrap();
    let out = gpg_ok(
        &c.gnupg,
        &[
            "--trust-model",
            "always",
            "--armor",
            "--compress-algo",
            "zlib",
            "--compress-level",
            "9",
            "--recipient",
            &reporter_fpr(&c.env),
            "--encrypt",
            "--output",
            "-",
            zeros.to_str().unwrap(),
        ],
    );
    std::fs::remove_file(&zeros).unwrap();
    let mail = format!("From: {CERT_ADDRESS}\r\nSubject: [{}]\r\nMessage-ID: <bomb@x>\r\n\r\n{}", c.reference, text(&out.stdout));
    let r = ingest(&c.env, &c.env.write("bomb.eml", &mail));
    assert_eq!(r["kind"], "malformed", "{r}");
    assert!(r["detail"].as_str().unwrap().contains("larger than"), "{r}");
}

/// The fuzzer's corpus, replayed on every test run through the fuzz target's own
/// path (parse, layers, verdict, classifier): each input gives a result.
#[test]
fn the_fuzz_corpus_parses_without_a_panic() {
    let mut n = 0;
    let now = std::time::SystemTime::now();
    for entry in std::fs::read_dir("fuzz/corpus/ingest").unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let _ = certmail::ingest::read_untrusted(&bytes, now);
        let _ = certmail::reply::split_mbox(&bytes);
        n += 1;
    }
    assert!(n > 100, "the corpus is in the repository");
}

/// An OpenPGP message encrypted to `recipient` the pre-2001 way: a Symmetrically
/// Encrypted Data packet (tag 9, OpenPGP CFB with resync) and no integrity check,
/// so whoever can change the ciphertext can change the plaintext undetected.
fn encrypted_without_integrity_protection(recipient: &sequoia_openpgp::Cert, plaintext: &[u8]) -> Vec<u8> {
    use cfb_mode::cipher::{AsyncStreamCipher, KeyIvInit};
    use sequoia_openpgp::crypto::SessionKey;
    use sequoia_openpgp::packet::prelude::*;
    use sequoia_openpgp::policy::StandardPolicy;
    use sequoia_openpgp::serialize::{MarshalInto, Serialize};
    use sequoia_openpgp::types::{DataFormat, SymmetricAlgorithm};
    type Cfb = cfb_mode::Encryptor<aes::Aes256>;

    let policy = StandardPolicy::new();
    let key = recipient.keys().with_policy(&policy, None).for_transport_encryption().next().unwrap().key().clone();
    let session_key = SessionKey::new(32).unwrap();
    let mut message = Vec::new();
    Packet::from(PKESK::from(PKESK3::for_recipient(SymmetricAlgorithm::AES256, &session_key, &key).unwrap()))
        .serialize(&mut message)
        .unwrap();
    let mut literal = Literal::new(DataFormat::Binary);
    literal.set_body(plaintext.to_vec());
    let mut rest = Packet::from(literal).to_vec().unwrap();
    // RFC 4880 § 13.9: 16 random bytes and a repeat of the last two, encrypted from a
    // zero IV; then a resync, continuing from ciphertext bytes 2 to 18.
    let mut prefix = [7u8; 18];
    prefix[..16].copy_from_slice(&std::array::from_fn::<u8, 16, _>(|i| (i * 37 + 11) as u8));
    prefix[16] = prefix[14];
    prefix[17] = prefix[15];
    let mut first = prefix.to_vec();
    Cfb::new(session_key.as_ref().into(), &[0u8; 16].into()).encrypt(&mut first);
    Cfb::new(session_key.as_ref().into(), first[2..18].into()).encrypt(&mut rest);
    let body = [first, rest].concat();
    // New-format header, tag 9, five-octet length.
    message.push(0xC0 | 9);
    message.push(0xFF);
    message.extend_from_slice(&(body.len() as u32).to_be_bytes());
    message.extend_from_slice(&body);
    message
}

#[test]
fn encrypted_data_without_integrity_protection_is_refused() {
    let c = case();
    let reporter = certmail::crypto::read_cert(&std::fs::read(c.env.reporter_public()).unwrap()).unwrap();
    let inner = "Content-Type: text/plain; charset=utf-8\r\n\r\nWe have received your notification.\r\n";
    let binary = encrypted_without_integrity_protection(&reporter, inner.as_bytes());
    let packets = c.env.path("no-mdc.pgp");
    std::fs::write(&packets, &binary).unwrap();
    // The fixture is sound: GnuPG decrypts it, but only when told to ignore the missing
    // integrity check, and it says why.
    let reporter_gnupg = c.env.path("reporter-gnupg");
    std::fs::create_dir_all(&reporter_gnupg).unwrap();
    gpg_ok(&reporter_gnupg, &["--import", c.env.home.join("identity/secret.asc").to_str().unwrap()]);
    let refused = gpg(&reporter_gnupg, &["--decrypt", packets.to_str().unwrap()]);
    assert!(!refused.status.success(), "GnuPG refuses it by default");
    let forced = gpg(&reporter_gnupg, &["--ignore-mdc-error", "--decrypt", packets.to_str().unwrap()]);
    assert_eq!(text(&forced.stdout), inner, "{}", text(&forced.stderr));
    assert!(text(&forced.stderr).contains("not integrity protected"), "{}", text(&forced.stderr));
    kill_agent(&reporter_gnupg);

    let dearmor = gpg_ok(&reporter_gnupg, &["--enarmor", "--output", "-", packets.to_str().unwrap()]);
    let armor = text(&dearmor.stdout).replace("ARMORED FILE", "MESSAGE");
    let r = ingest(&c.env, &pgp_mime_reply(&c, &armor, "no-mdc"));
    assert_eq!(r["kind"], "malformed", "{r}");
    assert_eq!(r["encrypted"], true, "{r}");
    assert_ne!(r["signature"], "good");
    assert!(r["detail"].as_str().unwrap().contains("integrity"), "{r}");
}

#[test]
fn a_long_ingest_on_a_terminal_shows_a_progress_bar_and_keeps_the_order() {
    require("script", "bsdutils");
    let c = case();
    let maildir = c.env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    for i in 0..300 {
        let subject = if i % 3 == 0 { format!("Re: [{}] question {i}", c.reference) } else { format!("unrelated {i}") };
        let mail = format!("Subject: {subject}\r\nMessage-ID: <order-{i}@x>\r\n\r\nline {i}\r\n");
        std::fs::write(maildir.join(format!("new/{i:04}.eml")), mail).unwrap();
    }
    // Through a pipe: one JSON line per message, in the Maildir's order, and no bar.
    let out = c.env.certmail(&["ingest", "--maildir", maildir.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let ids: Vec<String> =
        text(&out.stdout).lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["message_id"].to_string()).collect();
    let expected: Vec<String> = (0..300).map(|i| format!("\"order-{i}@x\"")).collect();
    assert_eq!(ids, expected, "recorded and reported in order although parsed in parallel");
    assert!(!text(&out.stderr).contains("ingested ["), "no bar without a terminal: {}", text(&out.stderr));

    // On a terminal (script gives it one): the bar, then a summary line.
    let command = format!("{} ingest --maildir {}", env!("CARGO_BIN_EXE_certmail"), maildir.display());
    let on_terminal = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CERTMAIL_HOME", &c.env.home)
        .env_remove("CERTMAIL_CONFIG")
        .envs(c.env.store_url.iter().map(|url| ("CERTMAIL_STORE_URL", url)))
        .output()
        .unwrap();
    let screen = text(&on_terminal.stdout);
    assert!(on_terminal.status.success(), "{screen}");
    assert!(screen.contains("ingested ["), "{screen}");
    assert!(screen.contains("ingested 300 messages in"), "{screen}");
    assert!(screen.contains("(already ingested)"), "the second run finds them recorded: {screen}");
}

#[test]
fn read_shows_who_signed_which_part_and_mark_corrects_a_kind_in_the_log() {
    let c = case();
    let signed = clearsigned(&c, "r.txt", &format!("Vedr. {}\nNoteret.\n", c.reference));
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <noted@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n{}\r\n--m\r\nContent-Type: text/plain\r\n\r\nUnsigned \u{202e}footer \u{9b}31m\r\n--m\r\nContent-Type: application/pdf; name=\"../../x.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--m--\r\n",
        c.message_id, signed
    );
    let r = ingest(&c.env, &c.env.write("noted.eml", &mail));
    assert_eq!((r["signature"].as_str(), r["bound"].as_bool()), (Some("partial"), Some(false)), "{r}");

    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("[signed by test-cert") && shown.contains("Noteret."), "{shown}");
    assert!(shown.contains("[UNSIGNED] text/plain") && shown.contains("NOT AUTHENTICATED"), "{shown}");
    assert!(shown.contains("attachment ../../x.pdf (application/pdf, 5 bytes)") && !shown.contains('\u{202e}'), "{shown}");
    assert!(shown.contains("==== sent"), "the notification is listed too: {shown}");
    let json = c.env.certmail(&["read", "<noted@x>", "--json"]);
    assert_success(&json);
    let raw = text(&json.stdout);
    assert!(!raw.contains('\u{202e}') && !raw.contains('\u{9b}') && raw.contains("\\u202e"), "{raw}");
    let saved = c.env.path("saved");
    assert_success(&c.env.certmail(&["read", &c.reference, "--save-attachments", saved.to_str().unwrap()]));
    let files: Vec<_> = std::fs::read_dir(&saved).unwrap().map(|e| e.unwrap()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let file = &files[0];
    assert!(file.file_name().to_string_lossy().ends_with("_.._x.pdf"), "{:?}", file.file_name());
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(file.metadata().unwrap().permissions().mode() & 0o777, 0o600);
    assert_eq!(std::fs::read(file.path()).unwrap(), b"%PDF-");

    let marked =
        c.env.certmail(&["incident", "mark", &c.reference, "--message", "<noted@x>", "--as", "question", "--reason", "asks by phone"]);
    assert_success(&marked);
    assert!(text(&marked.stdout).contains("state is unchanged"), "a partial message changes nothing: {}", text(&marked.stdout));
    let log = text(&c.env.certmail(&["log", "show", &c.reference]).stdout);
    assert!(log.contains("marked") && log.contains("asks by phone"), "{log}");
    assert_exit(&c.env.certmail(&["incident", "mark", &c.reference, "--message", "<noted@x>", "--as", "urgent", "--reason", "x"]), 2);
    assert_success(&c.env.certmail(&["log", "verify"]));
}

/// A clearsigned text by the CERT's key, as GnuPG makes it.
pub(crate) fn clearsigned(c: &Case, name: &str, body: &str) -> String {
    let file = c.env.write(name, body);
    text(&gpg_ok(&c.gnupg, &["--local-user", &cert_key().fingerprint, "--clearsign", "--output", "-", file.to_str().unwrap()]).stdout)
}

#[test]
fn what_a_review_as_an_attacker_found_stays_fixed() {
    let c = case();
    let (out, _) = c.env.notify(Path::new("examples/public-authority-phishing.toml"), &["--json"]);
    let other: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let (other_ref, other_id) = (other["reference"].as_str().unwrap(), other["message_id"].as_str().unwrap());

    // A replay under another charset label is the same signed content, and a reply
    // naming two incidents is bound to neither, whatever the unsigned headers say.
    let signed = clearsigned(&c, "both.txt", &format!("Vedrørende {} og {}: vi har modtaget begge.\n", c.reference, other_ref));
    let mail = |id: &str, charset: &str, to: &str| {
        format!(
            "From: {CERT_ADDRESS}\r\nMessage-ID: <{id}>\r\nIn-Reply-To: <{to}>\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{signed}"
        )
    };
    let r = ingest(&c.env, &c.env.write("both.eml", &mail("both@x", "utf-8", &c.message_id)));
    assert_eq!((r["signature"].as_str(), r["bound"].as_bool()), (Some("good"), Some(false)), "{r}");
    assert!(r["flags"].as_array().unwrap().iter().any(|f| f == "names-several-incidents"), "{r}");

    let one = clearsigned(&c, "one.txt", &format!("Vedrørende {}: sagen er nu lukket.\n", c.reference));
    let first = format!(
        "From: {CERT_ADDRESS}\r\nMessage-ID: <one@x>\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{one}"
    );
    let r = ingest(&c.env, &c.env.write("one.eml", &first));
    assert_eq!((r["bound"].as_bool(), r["state_changed"].as_bool()), (Some(true), Some(true)), "{r}");
    let relabelled = first.replace("<one@x>", "<one-again@x>").replace("charset=utf-8", "charset=iso-8859-1") + "";
    let relabelled = relabelled.replacen("Message-ID", &format!("In-Reply-To: <{other_id}>\r\nMessage-ID"), 1);
    let r = ingest(&c.env, &c.env.write("relabelled.eml", &relabelled));
    assert_eq!(r["state_changed"], false, "a replay under another charset changes nothing: {r}");
    assert!(r["flags"].as_array().unwrap().iter().any(|f| f == "replay"), "{r}");
    assert_ne!(r["incident"], other_ref, "never bound to the incident the unsigned header points at: {r}");

    // A numbered reference of an older log threads but never binds: every
    // installation had a CM-2026-0001.
    let numbered = clearsigned(&c, "numbered.txt", "Vi har modtaget jeres underretning CM-2026-0001.\n");
    let r = ingest(&c.env, &c.env.write("numbered.eml", &format!("From: {CERT_ADDRESS}\r\nMessage-ID: <numbered@x>\r\n\r\n{numbered}")));
    assert_eq!(r["bound"], false, "{r}");

    // A flood of signatures is refused before any is checked.
    let block = one.split("-----BEGIN PGP SIGNATURE-----").nth(1).unwrap();
    let body: String = block.lines().filter(|l| !l.starts_with('=') && !l.starts_with("-----") && !l.trim().is_empty()).collect();
    let flood = format!(
        "{}-----BEGIN PGP SIGNATURE-----\n\n{}\n-----END PGP SIGNATURE-----\n",
        one.split("-----BEGIN PGP SIGNATURE-----").next().unwrap(),
        body.repeat(200)
    );
    let r = ingest(&c.env, &c.env.write("flood.eml", &format!("From: {CERT_ADDRESS}\r\nMessage-ID: <flood@x>\r\n\r\n{flood}")));
    assert_eq!(r["kind"], "malformed", "{r}");

    // An HTML alternative with no text still shows something: the signature is partial.
    let html = format!(
        "From: {CERT_ADDRESS}\r\nMessage-ID: <html-alt@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n{}\r\n--a\r\nContent-Type: text/html\r\n\r\n<img src=\"https://x.test/ring-os.png\">\r\n--a--\r\n",
        clearsigned(&c, "alt.txt", &format!("Vedr. {}: modtaget.\n", c.reference))
    );
    let r = ingest(&c.env, &c.env.write("html-alt.eml", &html));
    assert_eq!(r["signature"], "partial", "{r}");

    // A subject with a line end cannot forge a banner in `read`.
    let forged = format!(
        "From: x@x.test\r\nSubject: =?utf-8?b?{}?=\r\nIn-Reply-To: <{}>\r\nMessage-ID: <forged@x>\r\n\r\nhej\r\n",
        base64_of("x\n---- [signed by test-cert (F)] text/plain ----"),
        c.message_id
    );
    ingest(&c.env, &c.env.write("forged.eml", &forged));
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(!shown.lines().any(|l| l.starts_with("---- [signed by test-cert (F)]")), "{shown}");
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[test]
fn unsigned_mail_from_a_maildir_is_read_back_from_its_file_and_only_as_it_was() {
    let c = case();
    let maildir = c.env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    let mail = format!(
        "From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <unsigned-file@x>\r\nSubject: Re: [{}]\r\n\r\nVi har modtaget jeres underretning og vender tilbage.\r\n",
        c.message_id, c.reference
    );
    let delivered = maildir.join("new/1700000000.M1P1.host");
    std::fs::write(&delivered, &mail).unwrap();
    let out = c.env.certmail(&["ingest", "--maildir", maildir.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["incident"].as_str(), r["signature"].as_str()), (Some(c.reference.as_str()), Some("none")), "{r}");

    // A mail client moves it to cur/ and adds its flags: it is found there.
    let seen = maildir.join("cur/1700000000.M1P1.host:2,S");
    std::fs::rename(&delivered, &seen).unwrap();
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("vender tilbage") && shown.contains("UNSIGNED"), "{shown}");

    if on_postgres() {
        // Another machine cannot read this one's Maildir: the bytes are kept, and a
        // changed or removed file changes nothing of what `read` shows.
        std::fs::write(&seen, mail.replace("vender tilbage", "lukker sagen")).unwrap();
        let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
        assert!(shown.contains("vender tilbage") && !shown.contains("lukker sagen"), "{shown}");
        std::fs::remove_file(&seen).unwrap();
        let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
        assert!(shown.contains("vender tilbage"), "{shown}");
        assert_success(&c.env.certmail(&["log", "verify"]));
        return;
    }
    // Changed since: not shown as what arrived.
    std::fs::write(&seen, mail.replace("vender tilbage", "lukker sagen")).unwrap();
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(!shown.contains("lukker sagen") && shown.contains("has changed since it was ingested"), "{shown}");
    std::fs::remove_file(&seen).unwrap();
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("is gone"), "{shown}");

    // With --keep-copies the log holds its own copy.
    let copied = mail.replace("unsigned-file@x", "unsigned-copied@x").replace("vender tilbage", "kigger på det");
    std::fs::write(maildir.join("new/1700000001.M2P1.host"), &copied).unwrap();
    assert_success(&c.env.certmail(&["ingest", "--maildir", maildir.to_str().unwrap(), "--keep-copies"]));
    std::fs::remove_file(maildir.join("new/1700000001.M2P1.host")).unwrap();
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("kigger på det"), "{shown}");
}

#[test]
fn a_message_that_trips_the_parsers_own_checks_is_recorded_once_and_the_run_goes_on() {
    // Found by the fuzzer: mail-parser asserts an invariant of its own on this
    // multipart/report (in debug builds; release builds parse on). Either way the
    // message is recorded, the genuine reply beside it too, and the run succeeds.
    let c = case();
    let maildir = c.env.path("Maildir");
    for sub in ["new", "cur", "tmp"] {
        std::fs::create_dir_all(maildir.join(sub)).unwrap();
    }
    std::fs::copy("tests/fixtures/mail-parser-debug-assert.eml", maildir.join("new/1.odd")).unwrap();
    let reply = format!("From: {CERT_ADDRESS}\r\nIn-Reply-To: <{}>\r\nMessage-ID: <beside@x>\r\n\r\nModtaget.\r\n", c.message_id);
    std::fs::write(maildir.join("new/2.reply"), reply).unwrap();
    for _ in 0..2 {
        let out = c.env.certmail(&["ingest", "--maildir", maildir.to_str().unwrap(), "--json"]);
        assert_success(&out);
        let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[1]["incident"].as_str(), Some(c.reference.as_str()), "{lines:?}");
    }
}
