//! `[hooks]`: the command hears each event once, as one JSON object on its standard
//! input, with a clean environment and a deadline; a failing or hanging hook is
//! reported loudly and changes nothing else. The time-based events come from
//! incidents detected hours before now (no test knows today's date).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, Utc};

use crate::imap::{Dovecot, PASSWORD, configure, lines_of, wait_for};
use crate::ingest::{case, gpg_encrypted_reply};
use crate::smtp::{SmtpServer, tls};
use crate::support::*;

pub(crate) fn add_hook(env: &Env, command: &[&str], timeout: u64) {
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

/// A hook that appends each event (one JSON line) to the returned file.
fn add_recording_hook(env: &Env) -> PathBuf {
    let heard = env.path("heard.jsonl");
    add_hook(env, &["/bin/sh", "-c", &format!("cat >> '{}'", heard.display())], 10);
    heard
}

fn heard(file: &Path) -> Vec<serde_json::Value> {
    let lines = std::fs::read_to_string(file).unwrap_or_default();
    lines.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect()
}

/// (event, reference, what it is about) of each event heard, in order.
fn summary(events: &[serde_json::Value]) -> Vec<(String, String, String)> {
    let s = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    events
        .iter()
        .map(|e| (s(&e["event"]), s(&e["reference"]), if e["deadline"].is_null() { s(&e["message_id"]) } else { s(&e["deadline"]) }))
        .collect()
}

fn rfc3339(t: &serde_json::Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(t.as_str().unwrap_or_default()).unwrap_or_else(|e| panic!("{t}: {e}")).with_timezone(&Utc)
}

/// The NIS example (24 h early warning, 72 h notification, one-month final report),
/// detected 60 hours ago: the early warning is overdue, the notification is due in 12
/// hours (due soon: under a quarter of its 72 hours left), the final report is not.
fn nis_incident_detected_60_hours_ago(env: &Env) -> (PathBuf, DateTime<Utc>) {
    let detected = Utc::now() - chrono::Duration::hours(60);
    let at = |t: DateTime<Utc>| t.to_rfc3339_opts(SecondsFormat::Secs, true);
    let example = std::fs::read_to_string("examples/nis-operator-outage.toml").unwrap();
    let incident: String = example
        .lines()
        .map(|l| match l.split(' ').next() {
            Some("start") => format!("start = {{ status = \"known\", at = \"{}\" }}", at(detected - chrono::Duration::minutes(7))),
            Some("end") => format!("end = {{ status = \"known\", at = \"{}\" }}", at(detected + chrono::Duration::hours(3))),
            Some("detected") => format!("detected = {{ status = \"known\", at = \"{}\" }}", at(detected)),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    (env.write(&format!("nis-{}.toml", detected.timestamp_millis()), &incident), detected)
}

fn notify_json(env: &Env, incident: &Path) -> (std::process::Output, serde_json::Value) {
    let (out, _) = env.notify(incident, &["--json"]);
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("not JSON: {}", text(&out.stdout)));
    (out, json)
}

#[test]
fn status_fires_each_overdue_and_due_deadline_once() {
    let server = SmtpServer::start("starttls", "none");
    let env = Env::new();
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    // No acknowledgement is expected in less than no time: it is overdue once sent.
    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), config + "\n[deadlines]\nack-minutes = 0\n").unwrap();
    let heard_file = add_recording_hook(&env);
    let (incident, detected) = nis_incident_detected_60_hours_ago(&env);
    let (out, json) = notify_json(&env, &incident);
    assert_success(&out);
    assert_eq!(json["state"], "sent");
    let reference = json["reference"].as_str().unwrap().to_string();
    assert!(heard(&heard_file).is_empty(), "notify tells nothing of deadlines: {:?}", heard(&heard_file));

    let before = Utc::now();
    let out = env.certmail(&["status", "--json"]);
    assert_success(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("status --json prints only its JSON");
    let events = heard(&heard_file);
    let r = reference.clone();
    assert_eq!(
        summary(&events),
        [
            ("ack-overdue".into(), r.clone(), "acknowledgement".into()),
            ("deadline-overdue".into(), r.clone(), "early warning".into()),
            ("deadline-due".into(), r, "notification".into()),
        ],
        "{events:#?}"
    );
    let (ack, early, notification) = (&events[0], &events[1], &events[2]);
    assert_eq!(ack["phone"], CERT_PHONE, "the number to call the CERT: {ack}");
    assert!(ack["action"].as_str().unwrap().contains(CERT_PHONE), "{ack}");
    assert!(rfc3339(&ack["due"]) <= before, "{ack}");
    for e in &events {
        assert!(rfc3339(&e["at"]) >= before, "{e}");
    }
    assert_eq!(rfc3339(&early["due"]).timestamp(), (detected + chrono::Duration::hours(24)).timestamp(), "{early}");
    assert_eq!(rfc3339(&notification["due"]).timestamp(), (detected + chrono::Duration::hours(72)).timestamp(), "{notification}");
    assert!(early["phone"].is_null() && early["action"].as_str().unwrap().contains("Virk.dk"), "{early}");

    // Again, and as text: nothing is told twice, and what status prints is as before.
    let out = env.certmail(&["status"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("!! early warning via Virk.dk (24 h after detection) due "), "{}", text(&out.stdout));
    assert_success(&env.certmail(&["status", "--json"]));
    assert_eq!(heard(&heard_file).len(), 3, "{:#?}", heard(&heard_file));
    // Filing on Virk.dk ends those clocks: no event comes of them any more.
    assert_success(&env.certmail(&["incident", "virk", &reference, "--reference", "VIRK-1"]));
    assert_success(&env.certmail(&["status"]));
    assert_eq!(heard(&heard_file).len(), 3);
}

#[test]
fn flush_fires_delivery_failed_once_for_a_message_given_up() {
    let env = Env::new();
    let (out, json) = notify_json(&env, Path::new("examples/voluntary-ransomware.toml"));
    assert_queued(&out);
    let server = SmtpServer::start("starttls", "rcpt-550");
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    let heard_file = add_recording_hook(&env);
    let flush = env.certmail(&["outbox", "flush", "--json"]);
    assert_exit(&flush, 1);
    let events = heard(&heard_file);
    assert_eq!(events.len(), 1, "{events:#?}");
    let e = &events[0];
    assert_eq!((e["event"].as_str(), e["reference"].as_str()), (Some("delivery-failed"), json["reference"].as_str()), "{e}");
    assert_eq!(e["message_id"], json["message_id"]);
    assert_eq!(e["phone"], CERT_PHONE);
    assert!(e["detail"].as_str().unwrap().contains("550") && e["at"].is_string(), "{e}");
    // A failed message is not tried again, nor told again (status neither).
    assert_success(&env.certmail(&["outbox", "flush", "--retry-now"]));
    assert_success(&env.certmail(&["status"]));
    assert_eq!(heard(&heard_file).len(), 1);
}

fn start_watch(env: &Env) -> (Child, std::sync::mpsc::Receiver<String>) {
    let mut watch =
        env.command().arg("watch").env("CM_TEST_IMAP_PASSWORD", PASSWORD).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let stderr = lines_of(watch.stderr.take().unwrap());
    (watch, stderr)
}

fn stop_watch(mut watch: Child) {
    assert!(Command::new("kill").arg(watch.id().to_string()).status().unwrap().success());
    let end = Instant::now() + Duration::from_secs(10);
    while watch.try_wait().unwrap().is_none() {
        assert!(Instant::now() < end, "watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits (up to 15 s) until the hook has heard `n` events.
fn wait_heard(file: &Path, n: usize) -> Vec<serde_json::Value> {
    let end = Instant::now() + Duration::from_secs(15);
    loop {
        let events = heard(file);
        if events.len() >= n {
            return events;
        }
        assert!(Instant::now() < end, "the hook heard {} event(s), not {n}, within 15 s: {events:#?}", events.len());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_fires_deadline_and_delivery_events_once_and_not_again_after_a_restart() {
    let dovecot = Dovecot::start();
    let env = Env::new();
    // Queued while no relay is configured; the watch's flush then finds it rejected.
    let (first, _) = nis_incident_detected_60_hours_ago(&env);
    let (out, a) = notify_json(&env, &first);
    assert_queued(&out);
    let a = a["reference"].as_str().unwrap().to_string();
    let server = SmtpServer::start("starttls", "rcpt-550");
    env.set_relay(server.port, "starttls", &tls().ca, 5);
    configure(&env, dovecot.tls_port, "tls", "");
    let heard_file = add_recording_hook(&env);

    let (watch, stderr) = start_watch(&env);
    let events = wait_heard(&heard_file, 3);
    let mut seen = Vec::new();
    wait_for(&stderr, &format!("deadline-overdue of {a}: early warning"), Duration::from_secs(5), &mut seen);
    stop_watch(watch);
    let mut told: Vec<_> = summary(&events).into_iter().map(|(e, r, _)| (e, r)).collect();
    told.sort();
    assert_eq!(
        told,
        [("deadline-due".into(), a.clone()), ("deadline-overdue".into(), a.clone()), ("delivery-failed".into(), a.clone())],
        "{events:#?}"
    );

    // While the watch is stopped, a second incident; its notification is refused at
    // once, which notify tells as the flush would.
    let (second, _) = nis_incident_detected_60_hours_ago(&env);
    let (out, b) = notify_json(&env, &second);
    assert_exit(&out, 1);
    let b = b["reference"].as_str().unwrap().to_string();
    assert_eq!(summary(&heard(&heard_file)[3..]), [("delivery-failed".into(), b.clone(), message_of(&env, &b))]);

    // The restarted watch tells of the new incident's clocks, and nothing again of
    // the first's: its incidents are looked at in order, the first one first.
    let (watch, stderr) = start_watch(&env);
    let events = wait_heard(&heard_file, 6);
    wait_for(&stderr, &format!("deadline-due of {b}: notification"), Duration::from_secs(5), &mut seen);
    stop_watch(watch);
    let mut later: Vec<_> = summary(&events[4..]);
    later.sort();
    assert_eq!(
        later,
        [("deadline-due".into(), b.clone(), "notification".into()), ("deadline-overdue".into(), b.clone(), "early warning".into())],
        "{events:#?}"
    );
    assert_eq!(heard(&heard_file).len(), 6, "{:#?}", heard(&heard_file));
}

/// The Message-ID of `reference`'s notification, from the outbox.
fn message_of(env: &Env, reference: &str) -> String {
    let out = env.certmail(&["outbox", "list", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let row = json["messages"].as_array().unwrap().iter().find(|m| m["reference"] == reference).unwrap().clone();
    row["message_id"].as_str().unwrap().to_string()
}
