//! `certmail doctor`: a healthy home against the suite's SMTP server (greeting,
//! STARTTLS, AUTH, and never MAIL FROM), a relay with nothing listening, one that
//! never greets (the session's deadline ends it), and a throwaway recipient key
//! that expires in ten days. Times are relative to now.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::serialize::SerializeInto;

use crate::smtp::{SmtpServer, free_port, tls};
use crate::support::*;

/// `doctor --json`: the object, the exit code, and how long it took.
fn doctor(env: &Env) -> (serde_json::Value, i32, Duration) {
    let started = Instant::now();
    let out = env.certmail(&["doctor", "--json"]);
    let took = started.elapsed();
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "one JSON object: {stdout}\nstderr: {}", text(&out.stderr));
    (serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}")), out.status.code().unwrap(), took)
}

fn check<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["checks"].as_array().unwrap().iter().find(|c| c["name"] == name).unwrap_or_else(|| panic!("no check {name}: {report}"))
}

#[test]
fn a_healthy_home_passes_and_the_relay_is_asked_up_to_auth_and_sent_nothing() {
    let env = Env::new();
    // The server would stall a MAIL FROM for an hour: doctor must never say one.
    let server = SmtpServer::start("starttls", "stall-mail");
    env.set_relay(server.port, "starttls", &tls().ca, 10);
    let (report, code, _) = doctor(&env);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["ok"], true, "{report}");
    for c in report["checks"].as_array().unwrap() {
        assert_ne!(c["status"], "error", "{report}");
        for key in ["name", "status", "message", "fix"] {
            assert!(c[key].is_string(), "{key} in {c}");
        }
        if c["status"] == "warning" {
            assert!(!c["fix"].as_str().unwrap().is_empty(), "a warning says what to do: {c}");
        }
    }
    let relay = check(&report, "relay");
    assert_eq!(relay["status"], "ok", "{report}");
    assert!(relay["message"].as_str().unwrap().contains("STARTTLS and AUTH as cm-user"), "{relay}");
    assert!(server.auth_attempts().contains("PLAIN"), "AUTH was tried: {}", server.auth_attempts());
    assert!(server.received().is_empty() && server.envelopes().is_empty(), "nothing was sent");
    assert_eq!(check(&report, "recipient test-cert")["status"], "ok", "{report}");
    // CFCS' pin is shipped but its key is not here: said, with what to do, not a failure.
    let cfcs = check(&report, "recipient cfcs");
    assert_eq!(cfcs["status"], "warning", "{cfcs}");
    assert!(cfcs["message"].as_str().unwrap().contains("2CE4 BA61 B873 B089 0BE9  4ED2 3CDA 6879 6740 E2CD"), "{cfcs}");
    assert!(cfcs["fix"].as_str().unwrap().contains("certmail keys import-recipient FILE --name cfcs"), "{cfcs}");
    assert!(cfcs["fix"].as_str().unwrap().contains("+45 3332 5580"), "{cfcs}");
    for name in ["identity key", "file modes", "clock", "templates", "store"] {
        assert_eq!(check(&report, name)["status"], "ok", "{name}: {report}");
    }
    // Where the log is kept, as this run keeps it.
    let store = check(&report, "store")["message"].as_str().unwrap().to_string();
    if on_postgres() {
        // Doctor only looks: the database no command has used yet stays empty.
        assert!(
            store.contains("the team's database postgres://") && store.contains("empty, the first command there makes the schema"),
            "{store}"
        );
        assert_success(&env.certmail(&["log", "list"]));
        let (report, _, _) = doctor(&env);
        let store = check(&report, "store")["message"].as_str().unwrap().to_string();
        assert!(store.contains("0 events, schema current"), "{store}");
    } else {
        assert!(store.contains("this home's SQLite log"), "{store}");
    }
    // The same as text, for a person.
    let out = env.certmail(&["doctor"]);
    assert_success(&out);
    let shown = text(&out.stdout);
    assert!(shown.contains("ok      relay: 127.0.0.1:") && shown.contains("what to do: "), "{shown}");
}

#[test]
fn a_relay_with_nothing_listening_is_an_error_that_says_what_to_do() {
    let env = Env::new();
    env.set_relay(free_port(), "starttls", &tls().ca, 5);
    let (report, code, took) = doctor(&env);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["error"]["kind"], "checks_failed", "{report}");
    let relay = check(&report, "relay");
    assert_eq!(relay["status"], "error", "{report}");
    assert!(relay["message"].as_str().unwrap().contains("127.0.0.1"), "{relay}");
    assert!(relay["fix"].as_str().unwrap().contains("host and port"), "{relay}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_relay_that_never_greets_ends_at_the_deadline() {
    let env = Env::new();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().take(4).flatten().collect();
        std::thread::sleep(Duration::from_secs(120));
        drop(held);
    });
    env.set_relay(port, "starttls", &tls().ca, 2);
    let (report, code, took) = doctor(&env);
    assert_eq!(code, 1, "{report}");
    let relay = check(&report, "relay");
    assert_eq!(relay["status"], "error", "{report}");
    assert!(relay["message"].as_str().unwrap().contains("timed out after 2 s"), "{relay}");
    assert!(relay["fix"].as_str().unwrap().contains("did not answer within 2 s"), "{relay}");
    // 2 s asked; generous for a loaded 2-core machine. The point: it does not hang.
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

#[test]
fn a_recipient_key_expiring_within_thirty_days_is_warned_about() {
    let env = Env::new();
    // A throwaway key for a throwaway recipient, valid for ten more days.
    let (cert, _) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::Cv25519)
        .add_userid("Expiring CERT — throwaway test key <soon@example-cert.test>")
        .set_validity_period(Duration::from_secs(10 * 86400))
        .add_transport_encryption_subkey()
        .generate()
        .unwrap();
    let fingerprint = cert.fingerprint().to_hex();
    let path = env.path("soon-throwaway.asc");
    std::fs::write(&path, cert.strip_secret_key_material().armored().to_vec().unwrap()).unwrap();
    env.add_recipient("soon-throwaway", &fingerprint, &path);
    let (report, code, _) = doctor(&env);
    // A warning, not an error: it still works today.
    assert_eq!(code, 0, "{report}");
    let soon = check(&report, "recipient soon-throwaway");
    assert_eq!(soon["status"], "warning", "{report}");
    let message = soon["message"].as_str().unwrap();
    assert!(message.contains("expires in 9 day(s)") || message.contains("expires in 10 day(s)"), "{soon}");
    assert!(soon["fix"].as_str().unwrap().contains("import-recipient"), "{soon}");
}

#[test]
fn a_secret_key_others_can_read_and_a_broken_template_are_errors() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let key = env.home.join("identity/secret.asc");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let templates = env.home.join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("voluntary.en.txt"), "{% block subject %}{{ incident.title }{% endblock %}").unwrap();
    std::fs::write(templates.join("volunatry.da.txt"), "").unwrap();
    let (report, code, _) = doctor(&env);
    assert_eq!(code, 1, "{report}");
    let modes = check(&report, "file modes");
    assert_eq!(modes["status"], "error", "{modes}");
    assert!(modes["message"].as_str().unwrap().contains("secret.asc (0644)"), "{modes}");
    let shown = check(&report, "templates");
    assert_eq!(shown["status"], "error", "{shown}");
    let message = shown["message"].as_str().unwrap();
    assert!(message.contains("voluntary.en.txt") && message.contains("volunatry.da.txt"), "{shown}");
}

#[test]
fn a_rejected_login_and_a_passphrase_that_does_not_unlock_are_errors() {
    let env = Env::with_key_behind_env_passphrase("correct horse");
    env.add_recipient("test-cert", &cert_key().fingerprint, &cert_key().public);
    let server = SmtpServer::start("starttls", "none");
    env.set_relay(server.port, "starttls", &tls().ca, 10);
    let doctor = |passphrase: &str, smtp_password: &str| {
        let out = env
            .command()
            .env("CM_TEST_PASSPHRASE", passphrase)
            .env("CM_TEST_SMTP_PASSWORD", smtp_password)
            .args(["doctor", "--json"])
            .output()
            .unwrap();
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)));
        (report, out.status.code())
    };
    let (report, code) = doctor("correct horse", crate::smtp::SMTP_PASSWORD);
    assert_eq!(code, Some(0), "{report}");
    assert!(check(&report, "identity passphrase")["message"].as_str().unwrap().contains("CM_TEST_PASSPHRASE"), "{report}");
    let (report, code) = doctor("wrong", "not the password");
    assert_eq!(code, Some(1), "{report}");
    let passphrase = check(&report, "identity passphrase");
    assert_eq!(passphrase["status"], "error", "{report}");
    assert!(passphrase["message"].as_str().unwrap().contains("does not unlock"), "{passphrase}");
    let relay = check(&report, "relay");
    assert_eq!(relay["status"], "error", "{report}");
    assert!(relay["message"].as_str().unwrap().contains("rejected the login of cm-user"), "{relay}");
    assert!(relay["fix"].as_str().unwrap().contains("username and password"), "{relay}");
    assert!(!text(&serde_json::to_vec(&report).unwrap()).contains("not the password"), "no secret in the report");
}

#[test]
fn the_keyring_is_found_and_the_passphrase_it_holds_is_tried() {
    let env = crate::keyring::env_with_protected_key("keyring horse");
    let steps = crate::keyring::in_keyring_session(
        &env,
        &[(&["doctor", "--json"], None), (&["secrets", "set", "identity"], Some("keyring horse")), (&["doctor", "--json"], None)],
    );
    let report =
        |i: usize| -> serde_json::Value { serde_json::from_str(&steps[i].stdout).unwrap_or_else(|e| panic!("{e}: {}", steps[i].stdout)) };
    let before = report(0);
    assert_eq!(steps[0].code, 0, "{before}");
    assert_eq!(check(&before, "keyring")["status"], "ok", "{before}");
    let passphrase = check(&before, "identity passphrase");
    assert_eq!(passphrase["status"], "warning", "{before}");
    assert!(passphrase["fix"].as_str().unwrap().contains("certmail secrets set identity"), "{passphrase}");
    assert_eq!(steps[1].code, 0, "{}", steps[1].stderr);
    let after = report(2);
    assert_eq!(check(&after, "identity passphrase")["status"], "ok", "{after}");
    assert!(check(&after, "identity passphrase")["message"].as_str().unwrap().contains("the OS keyring"), "{after}");
    assert!(check(&after, "keyring")["message"].as_str().unwrap().contains("the key's passphrase"), "{after}");
}

#[test]
fn a_team_database_that_cannot_be_reached_is_an_error_that_says_what_to_do() {
    let env = Env::new();
    let config = std::fs::read_to_string(env.home.join("config.toml")).unwrap();
    let port = free_port();
    std::fs::write(env.home.join("config.toml"), format!("{config}\n[store]\nurl = \"postgres://certmail@127.0.0.1:{port}/certmail\"\n"))
        .unwrap();
    let (report, code, _) = doctor(&env);
    assert_eq!(code, 1, "{report}");
    let store = check(&report, "store");
    assert_eq!(store["status"], "error", "{report}");
    assert!(store["message"].as_str().unwrap().contains(&format!("127.0.0.1:{port}")), "{store}");
    assert!(store["fix"].as_str().unwrap().contains("certmail secrets set store"), "{store}");
}
