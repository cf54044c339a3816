//! `certmail init` as a responder meets it at 3 a.m.: on a terminal (under `script`,
//! a real pseudo-terminal) it asks for everything a notification needs, checks each
//! answer as it is typed and asks again, asks again when the passphrases differ, and
//! says plainly when the key has none; `--force` keeps the key it replaces, and
//! replies encrypted to that key can still be read.

use std::process::{Command, Stdio};

use crate::ingest::{case, gpg_encrypted_reply};
use crate::support::*;

/// `certmail init` on a pseudo-terminal, answering with `answers` (one per line).
fn init_on_terminal(env: &Env, answers: &[&str]) -> String {
    require("script", "bsdutils");
    let command = format!("{} init", env!("CARGO_BIN_EXE_certmail"));
    let mut child = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CERTMAIL_HOME", &env.home)
        .envs(env.store_url.iter().map(|u| ("CERTMAIL_STORE_URL", u)))
        .env_remove("CERTMAIL_CONFIG")
        // No OS keyring in this session: init says so and keeps going.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    // Typed one answer at a time, as a person does: the terminal's echo settings
    // change between prompts.
    for answer in answers {
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::io::Write::write_all(&mut stdin, format!("{answer}\n").as_bytes()).unwrap();
    }
    std::thread::sleep(std::time::Duration::from_millis(500));
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let screen = text(&out.stdout) + &text(&out.stderr);
    assert!(out.status.success(), "init failed on the terminal: {screen}");
    screen
}

#[test]
fn on_a_terminal_init_asks_for_everything_and_asks_again_until_each_answer_is_right() {
    let env = Env::bare();
    let screen = init_on_terminal(
        &env,
        &[
            "Mette Sørensen",
            "CISO",
            "mette@", // not an address
            "mette@example.dk",
            "12", // not a phone number
            "+45 33 12 34 56",
            "Eksempel Forsyning A/S",
            "1234567", // seven digits
            "12345678",
            "hemmelig-1",
            "hemmelig-2", // differs: asked again
            "hemmelig-3",
            "hemmelig-3",
        ],
    );
    assert!(screen.contains("Phone number the CERT can call"), "{screen}");
    assert!(screen.matches("try again").count() >= 3, "each wrong answer is asked again: {screen}");
    assert!(screen.contains("passphrases differ; try again"), "{screen}");
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    for expected in ["Mette Sørensen", "CISO", "mette@example.dk", "+45 33 12 34 56", "12345678"] {
        assert!(config.contains(expected), "{expected} in {config}");
    }
    assert!(!screen.contains("NO passphrase"), "{screen}");
    let key = certmail::crypto::Identity::from_bytes(&std::fs::read(env.home.join("identity/secret.asc")).unwrap()).unwrap();
    assert!(key.needs_passphrase(std::time::SystemTime::now()), "the key is protected by the passphrase typed");
}

#[test]
fn an_empty_passphrase_is_said_plainly() {
    let env = Env::bare();
    let screen = init_on_terminal(&env, &["A B", "", "a@example.dk", "+45 12345678", "O", "12345678", ""]);
    assert!(screen.contains("NO passphrase"), "{screen}");
    assert!(!screen.contains("protected by a passphrase"), "{screen}");
}

#[test]
fn init_force_keeps_the_old_key_and_replies_to_it_are_still_read() {
    let c = case();
    let old = c.reporter.clone();
    let out = c.env.certmail(&[
        "init",
        "--force",
        "--name",
        "Jens Ærø",
        "--email",
        "soc@example.dk",
        "--org",
        "Eksempel A/S",
        "--cvr",
        "12345678",
        "--phone",
        "+45 11 22 33 44",
        "--no-passphrase",
    ]);
    assert_success(&out);
    let said = text(&out.stdout);
    assert!(said.contains("The key it replaces is kept in") && said.contains(&old), "{said}");
    let archived = c.env.home.join(format!("identity/archive/secret-{old}.asc"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&archived).unwrap().permissions().mode() & 0o777, 0o600);

    // The CERT answers the notification made with the old key, encrypted to it.
    let body = format!("Vi har modtaget jeres underretning {}.", c.reference);
    let reply = gpg_encrypted_reply(&c, &body, &cert_key().fingerprint, &c.gnupg);
    let out = c.env.certmail(&["ingest", reply.to_str().unwrap(), "--json"]);
    assert_success(&out);
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((r["encrypted"].as_bool(), r["signature"].as_str(), r["kind"].as_str()), (Some(true), Some("good"), Some("ack")), "{r}");
    let shown = text(&c.env.certmail(&["read", &c.reference]).stdout);
    assert!(shown.contains("Vi har modtaget jeres underretning"), "{shown}");
}
