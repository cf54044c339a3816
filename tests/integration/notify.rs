//! `certmail notify` end to end: the message decrypts and verifies with GnuPG and sq,
//! carries protected headers and the whole report, leaks nothing in cleartext, threads
//! follow-ups, and refuses what it must refuse without queuing anything.

use std::path::Path;

use crate::support::*;

const FULL: &str = "examples/personal-data-breach.toml";

fn queued(env: &Env) -> i64 {
    env.store().count_state("queued").unwrap()
}

fn header<'a>(message: &'a str, name: &str) -> Option<&'a str> {
    let head = message.split("\r\n\r\n").next().unwrap();
    head.split("\r\n").find_map(|l| l.strip_prefix(&format!("{name}: ")))
}

#[test]
fn gnupg_decrypts_and_verifies_with_protected_headers_and_attachment() {
    let env = Env::new();
    let iocs = env.write("iocs.txt", "185.220.101.7\nevil.example.net\n");
    let (out, message) = env.notify(Path::new(FULL), &["--attach", iocs.to_str().unwrap(), "--json"]);
    assert_queued(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["state"], "queued");
    let reference = json["reference"].as_str().unwrap();
    let message_id = json["message_id"].as_str().unwrap();
    assert_eq!(certmail::reply::references_in(reference), vec![reference.to_string()], "{reference}");

    let (inner, status) = gpg_decrypt(&env, &message);
    assert!(status.contains("[GNUPG:] DECRYPTION_OKAY"), "{status}");
    assert!(status.contains("[GNUPG:] GOODSIG"), "{status}");
    let reporter_fpr =
        status.lines().find_map(|l| l.strip_prefix("[GNUPG:] VALIDSIG ")).unwrap().split(' ').next_back().unwrap().to_string();
    let identity = certmail::crypto::Identity::from_bytes(&std::fs::read(env.home.join("identity/secret.asc")).unwrap()).unwrap();
    assert_eq!(reporter_fpr, identity.fingerprint(), "signed by the reporter's key");

    let inner_text = text(&inner);
    assert!(inner_text.starts_with("Content-Type: multipart/mixed;"));
    assert!(inner_text.contains("protected-headers=\"v1\""));
    assert_eq!(header(&inner_text, "Message-ID"), Some(format!("<{message_id}>").as_str()));
    assert_eq!(header(&inner_text, "To"), Some("=?UTF-8?B?RXhhbXBsZSBDRVJUIOKAlCB0ZXN0IG9ubHk=?= <cert@example-cert.test>"));
    assert!(header(&inner_text, "From").unwrap().ends_with("<soc@example.dk>"));
    assert!(header(&inner_text, "Subject").unwrap().starts_with("=?UTF-8?B?"), "the real subject is inside, encoded");
    let outer = text(&message);
    assert_eq!(header(&inner_text, "Date"), header(&outer, "Date"));

    let report = report_text(&inner);
    for expected in
        ["Patientjournaler eksponeret", "Karen Nielsen", "Personnummer (cpr-nr.)", "Enkelte patienter bor i Sverige", "1.840", "iocs.txt"]
    {
        assert!(report.contains(expected), "report lacks {expected:?}:\n{report}");
    }
    assert!(inner_text.contains("Content-Disposition: attachment; filename=\"iocs.txt\""));
    assert!(inner_text.contains("MTg1LjIyMC4xMDEuNwpldmlsLmV4YW1wbGUubmV0Cg=="), "attachment content, base64");
}

#[test]
fn sq_decrypts_and_verifies() {
    let env = Env::new();
    let (out, message) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &[]);
    assert_queued(&out);
    let inner = sq_decrypt(&env, &message, &cert_key().secret);
    assert!(report_text(&inner).contains("Ransomware på filservere"));
}

#[test]
fn sq_generated_cert_key_works_too() {
    require("sq", "sq");
    let env = Env::new();
    let secret = env.path("sq-cert.pgp");
    let public = env.path("sq-cert.pub");
    let generated = std::process::Command::new("sq")
        .args(["key", "generate", "--userid", "Example CERT — test only <cert@example-cert.test>", "--export"])
        .arg(&secret)
        .output()
        .unwrap();
    assert!(generated.status.success(), "{}", text(&generated.stderr));
    let extract = std::process::Command::new("sq").args(["key", "extract-cert", "--output"]).arg(&public).arg(&secret).output().unwrap();
    assert!(extract.status.success(), "{}", text(&extract.stderr));
    let cert = certmail::crypto::read_cert(&std::fs::read(&public).unwrap()).unwrap();
    env.add_recipient("sq-cert", &certmail::crypto::fingerprint(&cert), &public);
    let (out, message) = env.notify(Path::new("examples/voluntary-ransomware.toml"), &["--to", "sq-cert"]);
    assert_queued(&out);
    assert!(report_text(&sq_decrypt(&env, &message, &secret)).contains("Ransomware"));
}

#[test]
fn cleartext_carries_only_the_reference_and_a_neutral_phrase() {
    let env = Env::new();
    let (out, message) = env.notify(Path::new(FULL), &[]);
    assert_queued(&out);
    let outer = text(&message);
    let subject = header(&outer, "Subject").unwrap();
    // The reference is random: it tells nothing about the organisation or its count.
    let tag = subject.strip_suffix(" Encrypted message").unwrap_or_default();
    assert!(tag.starts_with('[') && tag.ends_with(']'), "{subject}");
    assert_eq!(certmail::reply::references_in(tag), vec![tag.trim_matches(['[', ']']).to_string()], "{subject}");
    assert!(header(&outer, "Content-Type").unwrap().starts_with("multipart/encrypted; protocol=\"application/pgp-encrypted\""));
    for word in ["Patient", "datatilsynet", "Karen", "cloud"] {
        assert!(!outer.to_lowercase().contains(&word.to_lowercase()), "{word} leaked into cleartext");
    }
}

#[test]
fn every_line_of_the_queued_message_ends_in_crlf() {
    let env = Env::new();
    let attachment = env.write("mixed.txt", "bare\rcr and bare\nlf\r\n.dot\n");
    let (out, message) = env.notify(Path::new(FULL), &["--attach", attachment.to_str().unwrap()]);
    assert_queued(&out);
    assert_eq!(certmail::mime::first_bare_line_end(&message), None);
    let stored = env.store();
    let message_id = header(&text(&message), "Message-ID").unwrap().trim_matches(['<', '>']).to_string();
    assert_eq!(stored.message_bytes(&message_id).unwrap().unwrap(), message, "--out holds exactly the outbox bytes");
}

#[test]
fn encrypts_with_seipd_v1_and_mdc_when_a_recipient_lacks_v2() {
    use sequoia_openpgp::packet::Packet;
    use sequoia_openpgp::parse::{PacketParser, PacketParserResult, Parse};
    let env = Env::new();
    let (out, message) = env.notify(Path::new(FULL), &[]);
    assert_queued(&out);
    let armored = armored_part(&message);
    let mut ppr = PacketParser::from_bytes(armored.as_bytes()).unwrap();
    let mut seip_versions = Vec::new();
    while let PacketParserResult::Some(pp) = ppr {
        if let Packet::SEIP(seip) = &pp.packet {
            seip_versions.push(seip.version());
        }
        ppr = pp.next().unwrap().1;
    }
    assert_eq!(seip_versions, vec![1], "GnuPG 2.2 keys do not advertise SEIPD v2");
}

#[test]
fn canary_values_in_every_field_travel_only_inside_the_ciphertext() {
    let env = Env::new();
    let (incident, canaries) = crate::validation::canary_incident();
    let file = env.write("canary.json", &incident.to_string());
    let (out, message) = env.notify(&file, &["--lang", "en"]);
    assert_queued(&out);
    let outside = [text(&message), text(&out.stdout), text(&out.stderr)].join("\n");
    for c in &canaries {
        assert!(!outside.contains(c.as_str()), "canary {c} appears outside the ciphertext");
    }
    let (inner, _) = gpg_decrypt(&env, &message);
    let report = report_text(&inner);
    for c in &canaries {
        assert!(report.contains(c.as_str()), "canary {c} is missing from the report:\n{report}");
    }
}

#[test]
fn follow_up_is_threaded_to_the_earlier_notification() {
    let env = Env::new();
    let (first, first_message) = env.notify(Path::new(FULL), &["--json"]);
    assert_queued(&first);
    let first_json: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let reference = first_json["reference"].as_str().unwrap();
    // Only what changed: the rest comes from the report as last sent.
    let changes =
        env.write("changes.toml", "[scope]\ntotal = 2100\n\n[handling]\nmeasures = \"Lageret er lukket.\\nDe berørte er underrettet.\"\n");
    // The preview reads it the same way.
    let preview = env.certmail(&["preview", changes.to_str().unwrap(), "--follow-up", reference]);
    assert_success(&preview);
    assert!(text(&preview.stdout).contains("== Ændret siden den tidligere anmeldelse =="), "{}", text(&preview.stdout));
    let (second, second_message) = env.notify(&changes, &["--json", "--follow-up", reference]);
    assert_queued(&second);
    let second_json: serde_json::Value = serde_json::from_slice(&second.stdout).unwrap();
    assert_eq!(second_json["reference"], first_json["reference"]);
    assert_eq!(second_json["kind"], "follow-up");
    let first_id = format!("<{}>", first_json["message_id"].as_str().unwrap());
    let outer = text(&second_message);
    assert_eq!(header(&outer, "In-Reply-To"), Some(first_id.as_str()));
    assert_eq!(header(&outer, "References"), Some(first_id.as_str()));
    assert!(!text(&first_message).contains("In-Reply-To"));
    let (inner, _) = gpg_decrypt(&env, &second_message);
    let report = report_text(&inner);
    assert!(report.contains(&format!("Opfølgning på: {reference}")), "{report}");
    let changed = report.split("== Ændret siden den tidligere anmeldelse ==\n").nth(1).expect(&report).split("\n\n").next().unwrap();
    assert_eq!(
        changed,
        "  - Foranstaltninger, der er truffet (handling.measures):\n    Lageret er lukket.\n    De berørte er underrettet.\n  - Angiv samlet antal (scope.total): 2.100 (tidligere: 1.840)"
    );
    // The whole updated report follows, the unchanged fields from the first one.
    for expected in ["Karen Nielsen", "Patientjournaler eksponeret", "Samlet antal: 2.100"] {
        assert!(report.contains(expected), "{expected:?} missing:\n{report}");
    }
    let store = env.store();
    assert_eq!(store.event_kinds(reference).unwrap(), ["created", "queued", "follow-up", "queued"]);

    // The same changes again change nothing: refused, naming the incident, unless --again.
    let again = env.certmail(&["notify", changes.to_str().unwrap(), "--follow-up", reference]);
    assert_exit(&again, 2);
    let err = text(&again.stderr);
    assert!(err.contains("changes nothing") && err.contains(reference) && err.contains("--again"), "{err}");
    assert_queued(&env.certmail(&["notify", changes.to_str().unwrap(), "--follow-up", reference, "--again"]));
    assert_eq!(queued(&env), 3);

    let unknown = env.certmail(&["notify", FULL, "--follow-up", "CM-1999-0001"]);
    assert_exit(&unknown, 2);
    assert!(text(&unknown.stderr).contains("CM-1999-0001"));
}

#[test]
fn incident_from_stdin() {
    let env = Env::new();
    let json = std::fs::read("examples/digital-service-provider.json").unwrap();
    let out = env.certmail_stdin(&["notify", "-", "--json"], &json);
    assert_queued(&out);
    assert_eq!(queued(&env), 1);
}

#[test]
fn oversized_message_is_refused_before_anything_is_queued() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), format!("max-message-bytes = 100000\n{config}")).unwrap();
    let big = env.path("big.bin");
    std::fs::write(&big, vec![7u8; 200_000]).unwrap();
    let out = env.certmail(&["notify", FULL, "--attach", big.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("over the limit of 100000 bytes"), "{}", text(&out.stderr));
    assert_eq!(queued(&env), 0);
    let small = env.write("small.txt", "ok");
    assert_queued(&env.certmail(&["notify", FULL, "--attach", small.to_str().unwrap()]));
    assert_eq!(queued(&env), 1);
}

#[test]
fn missing_attachment_is_an_input_error() {
    let env = Env::new();
    let out = env.certmail(&["notify", FULL, "--attach", "/nonexistent/iocs.txt"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("/nonexistent/iocs.txt"));
    assert_eq!(queued(&env), 0);
}

#[test]
fn without_the_genuine_cfcs_key_nothing_is_encrypted_and_the_user_is_told_how_to_get_it() {
    let env = Env::bare();
    assert_success(&env.certmail(&[
        "init",
        "--name",
        "A B",
        "--email",
        "a@example.dk",
        "--org",
        "O",
        "--cvr",
        "12345678",
        "--phone",
        "12345678",
    ]));
    let out = env.certmail(&["notify", "examples/voluntary-ransomware.toml"]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    for expected in [
        "cert@cert.cfcs.dk",
        "2CE4 BA61 B873 B089 0BE9  4ED2 3CDA 6879 6740 E2CD",
        "+45 3332 5580",
        "keys import-recipient",
        "nothing was queued",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in: {err}");
    }
    assert!(!env.has_store() || queued(&env) == 0);
}

#[test]
fn passphrase_from_environment_and_loud_failure_without_it() {
    let env = Env::with_key_behind_env_passphrase("correct horse");
    let key = std::fs::read(env.home.join("identity/secret.asc")).unwrap();
    let identity = certmail::crypto::Identity::from_bytes(&key).unwrap();
    assert!(identity.needs_passphrase(std::time::SystemTime::now()), "the key is protected");
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);

    let ok = env.command().env("CM_TEST_PASSPHRASE", "correct horse").args(["notify", FULL]).output().unwrap();
    assert_queued(&ok);
    // --again: the same file was just notified, and that would be refused first.
    let wrong = env.command().env("CM_TEST_PASSPHRASE", "wrong").args(["notify", FULL, "--again"]).output().unwrap();
    assert_exit(&wrong, 1);
    assert!(text(&wrong.stderr).contains("passphrase does not unlock"), "{}", text(&wrong.stderr));
    let missing = env.command().env_remove("CM_TEST_PASSPHRASE").args(["notify", FULL, "--again"]).output().unwrap();
    assert_exit(&missing, 2);
    assert!(text(&missing.stderr).contains("CM_TEST_PASSPHRASE"), "{}", text(&missing.stderr));

    // Without any configured source, the keyring is asked; on a host without one
    // that failure is loud and names the fallbacks.
    let config = std::fs::read_to_string(env.config_path()).unwrap().replace("passphrase-env = \"CM_TEST_PASSPHRASE\"\n", "");
    std::fs::write(env.config_path(), config).unwrap();
    let keyring = env.command().env_remove("DBUS_SESSION_BUS_ADDRESS").args(["notify", FULL, "--again"]).output().unwrap();
    assert_exit(&keyring, 2);
    let err = text(&keyring.stderr);
    assert!(err.contains("keyring") && err.contains("passphrase-command") && err.contains("passphrase-env"), "{err}");
    assert!(!err.contains("correct horse"));
}

#[test]
fn files_in_the_home_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    assert_queued(&env.notify(Path::new(FULL), &[]).0);
    // On PostgreSQL the log is in the database, not in the home.
    let log = if on_postgres() { None } else { Some("certmail.sqlite") };
    for f in ["config.toml", "identity/secret.asc", "identity/public.asc"].into_iter().chain(log) {
        let mode = std::fs::metadata(env.home.join(f)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{f} has mode {mode:o}");
    }
}

#[test]
fn imports_a_gnupg_key_protected_by_a_passphrase_non_interactively() {
    let env = Env::bare();
    let gnupg = env.path("gnupg-reporter");
    std::fs::create_dir_all(&gnupg).unwrap();
    let fpr = gpg_generate_with(&gnupg, "Jens Ærø <soc@example.dk>", "s3cret pass");
    let exported =
        gpg_ok(&gnupg, &["--pinentry-mode", "loopback", "--passphrase", "s3cret pass", "--armor", "--export-secret-keys", &fpr]).stdout;
    kill_agent(&gnupg);
    let key_file = env.path("reporter-secret.asc");
    std::fs::write(&key_file, exported).unwrap();
    let init_args = [
        "init",
        "--name",
        "Jens Ærø",
        "--email",
        "soc@example.dk",
        "--org",
        "O",
        "--cvr",
        "12345678",
        "--phone",
        "12345678",
        "--import-key",
        key_file.to_str().unwrap(),
    ];

    // Protected, and no source configured and no terminal: refused with the way out.
    let refused = env.certmail(&init_args);
    assert_exit(&refused, 2);
    assert!(text(&refused.stderr).contains("passphrase-command or passphrase-env"), "{}", text(&refused.stderr));

    std::fs::create_dir_all(&env.home).unwrap();
    std::fs::write(env.config_path(), "[identity]\npassphrase-command = [\"printf\", \"s3cret pass\"]\n").unwrap();
    assert_success(&env.certmail(&init_args));
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
    let (out, message) = env.notify(Path::new(FULL), &[]);
    assert_queued(&out);
    let (_, status) = gpg_decrypt(&env, &message);
    assert!(status.contains("VALIDSIG") && status.contains(&fpr), "signed by the imported key: {status}");
}
