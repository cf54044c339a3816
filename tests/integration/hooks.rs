//! `[hooks]`: the command hears each event once, as one JSON object on its standard
//! input, with a clean environment and a deadline; a failing or hanging hook is
//! reported loudly and changes nothing else.

use std::time::{Duration, Instant};

use crate::ingest::{case, gpg_encrypted_reply};
use crate::support::*;

fn add_hook(env: &Env, command: &[&str], timeout: u64) {
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    let argv: Vec<String> = command.iter().map(|a| format!("{a:?}")).collect();
    config.push_str(&format!("\n[hooks]\ncommand = [{}]\ntimeout-seconds = {timeout}\n", argv.join(", ")));
    std::fs::write(env.config_path(), config).unwrap();
}

#[test]
fn each_event_reaches_the_hook_once_with_a_clean_environment() {
    let c = case();
    let (heard, environment) = (c.env.path("heard.jsonl"), c.env.path("environment.txt"));
    add_hook(&c.env, &["/bin/sh", "-c", &format!("cat >> '{}'; env > '{}'", heard.display(), environment.display())], 10);
    let body = format!("Hej\r\nVi har modtaget jeres underretning {}. Sagsnr.: CFCS-2026-4411\r\n", c.reference);
    let ack = gpg_encrypted_reply(&c, &body, &cert_key().fingerprint, &c.gnupg);
    let question = c.env.write(
        "question.eml",
        &format!("From: {CERT_ADDRESS}\r\nSubject: Re: [{}] logs?\r\nMessage-ID: <q@example-cert.test>\r\nIn-Reply-To: <{}>\r\n\r\nKan I sende logfilerne?\r\n", c.reference, c.message_id),
    );
    let out = c
        .env
        .command()
        .args(["ingest", ack.to_str().unwrap(), question.to_str().unwrap()])
        .env("CM_SECRET_FOR_TEST", "hunter2")
        .output()
        .unwrap();
    assert_success(&out);
    let lines: Vec<serde_json::Value> =
        std::fs::read_to_string(&heard).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(
        (lines[0]["event"].as_str(), lines[0]["reference"].as_str()),
        (Some("acknowledged"), Some(c.reference.as_str())),
        "{}",
        lines[0]
    );
    assert_eq!(lines[0]["bound"], true);
    assert_eq!((lines[1]["event"].as_str(), lines[1]["bound"].as_bool()), (Some("question"), Some(false)), "{}", lines[1]);
    assert!(lines[1]["at"].is_string() && lines[1]["message_id"] == "q@example-cert.test", "{}", lines[1]);
    let environment = std::fs::read_to_string(&environment).unwrap();
    assert!(!environment.contains("hunter2") && !environment.contains("CERTMAIL_HOME"), "{environment}");
    // The same mail again (a restart, a second source): the hook hears nothing new.
    assert_success(&c.env.certmail(&["ingest", ack.to_str().unwrap(), question.to_str().unwrap()]));
    assert_eq!(std::fs::read_to_string(&heard).unwrap().lines().count(), 2);
}

#[test]
fn a_failing_or_hanging_hook_is_loud_and_changes_nothing_else() {
    let c = case();
    let question = |n: u32| {
        c.env.write(
            &format!("q{n}.eml"),
            &format!(
                "From: {CERT_ADDRESS}\r\nSubject: Re: [{}] q{n}\r\nMessage-ID: <q{n}@example-cert.test>\r\n\r\nKan I sende logfilerne?\r\n",
                c.reference
            ),
        )
    };
    add_hook(&c.env, &["false"], 10);
    let out = c.env.certmail(&["ingest", question(1).to_str().unwrap()]);
    assert_success(&out);
    assert!(text(&out.stderr).contains("hook for question") && text(&out.stderr).contains("failed"), "{}", text(&out.stderr));

    let config = std::fs::read_to_string(c.env.config_path()).unwrap();
    std::fs::write(
        c.env.config_path(),
        config.replace("command = [\"false\"]\ntimeout-seconds = 10", "command = [\"sleep\", \"30\"]\ntimeout-seconds = 1"),
    )
    .unwrap();
    let start = Instant::now();
    let out = c.env.certmail(&["ingest", question(2).to_str().unwrap()]);
    assert_success(&out);
    assert!(start.elapsed() < Duration::from_secs(15), "{:?}", start.elapsed());
    assert!(text(&out.stderr).contains("did not finish within 1 s"), "{}", text(&out.stderr));
}
