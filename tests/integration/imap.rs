//! `certmail fetch` against a real Dovecot (Debian's dovecot-imapd), one instance per
//! test on loopback with its own configuration (tests/dovecot/), a passwd-file test
//! user and the throwaway CA of the SMTP tests. Replies are appended by Python's
//! imaplib (tests/dovecot/imapctl.py), as the CERT's mail server would deliver them.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use crate::ingest::{Case, case, gpg_encrypted_reply};
use crate::keyring::in_keyring_session;
use crate::smtp::{free_port, tls};
use crate::support::*;

const USER: &str = "soc";
pub(crate) const PASSWORD: &str = "imap pass 9";

/// A running Dovecot; stopped when dropped.
pub struct Dovecot {
    /// IMAP with STARTTLS (or, plain-only, without).
    pub port: u16,
    /// IMAP over implicit TLS (0 when plain-only).
    pub tls_port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

impl Dovecot {
    /// TLS required (implicit on `tls_port`, STARTTLS on `port`), throwaway CA.
    pub fn start() -> Dovecot {
        Dovecot::start_with(true)
    }

    /// No TLS at all, so no STARTTLS offered: only for the test that refuses it.
    pub fn start_plain_only() -> Dovecot {
        Dovecot::start_with(false)
    }

    fn start_with(tls_on: bool) -> Dovecot {
        require("dovecot", "dovecot-imapd");
        require("openssl", "openssl");
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Dovecot's own processes run as `user` and must reach the mail and passwd file.
        std::fs::set_permissions(d, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let root = run_text("id", &["-u"]) == "0";
        let (user, group) =
            if root { ("dovecot".to_string(), "dovecot".to_string()) } else { (run_text("id", &["-un"]), run_text("id", &["-gn"])) };
        std::fs::create_dir(d.join("mail")).unwrap();
        if root {
            let out = Command::new("chown").arg(format!("{user}:{group}")).arg(d.join("mail")).output().unwrap();
            assert!(out.status.success(), "chown: {}", text(&out.stderr));
        }
        std::fs::write(d.join("passwd"), format!("{USER}:{{PLAIN}}{PASSWORD}::::::\n")).unwrap();
        let (port, tls_port) = (free_port(), if tls_on { free_port() } else { 0 });
        let head = if tls_on {
            let t = tls();
            std::fs::copy(&t.cert, d.join("server.pem")).unwrap();
            std::fs::copy(&t.key, d.join("server.key")).unwrap();
            std::fs::read_to_string("tests/dovecot/tls.conf").unwrap()
        } else {
            std::fs::read_to_string("tests/dovecot/plain.conf").unwrap()
        };
        let conf = format!("{head}\n{}", std::fs::read_to_string("tests/dovecot/dovecot.conf").unwrap())
            .replace("@DIR@", d.to_str().unwrap())
            .replace("@PORT@", &port.to_string())
            .replace("@TLSPORT@", &tls_port.to_string())
            .replace("@USER@", &user)
            .replace("@GROUP@", &group);
        std::fs::write(d.join("dovecot.conf"), conf).unwrap();
        let child = Dovecot::spawn(d);
        let mut server = Dovecot { port, tls_port, dir, child };
        server.wait_until_listening();
        server
    }

    fn spawn(dir: &Path) -> Child {
        Command::new("dovecot")
            .arg("-F")
            .arg("-c")
            .arg(dir.join("dovecot.conf"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(dir.join("stderr.log")).unwrap()))
            .spawn()
            .expect("start dovecot")
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        for p in [self.port, self.tls_port].into_iter().filter(|p| *p != 0) {
            while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
                assert!(Instant::now() < deadline, "Dovecot did not start: {}\n{}", self.log(), self.stderr());
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Stops Dovecot, with the sessions it serves (which outlive its master), and
    /// starts it again on the same ports with the same mail.
    pub fn restart(&mut self) {
        let sessions = self.sessions();
        assert!(!sessions.is_empty(), "no IMAP session to end");
        self.stop();
        for pid in sessions {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        self.child = Dovecot::spawn(self.dir.path());
        self.wait_until_listening();
    }

    /// This instance's imap processes (one per session): children of its master,
    /// which outlive it when it stops.
    fn sessions(&self) -> Vec<u32> {
        let master = self.child.id().to_string();
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").unwrap().flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let stat = std::fs::read_to_string(entry.path().join("stat")).unwrap_or_default();
            // pid (comm) state ppid ...
            let Some((comm, rest)) = stat.split_once(") ").map(|(head, rest)| (head.rsplit('(').next().unwrap_or(""), rest)) else {
                continue;
            };
            if comm == "imap" && rest.split(' ').nth(1) == Some(master.as_str()) {
                found.push(pid);
            }
        }
        found
    }

    fn stop(&mut self) {
        // SIGTERM: the master stops its children before it exits.
        let _ = Command::new("kill").arg(self.child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("stderr.log")).unwrap_or_default()
    }

    /// Runs tests/dovecot/imapctl.py as the test user; returns its stdout.
    pub fn ctl(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("/usr/bin/python3");
        cmd.arg("tests/dovecot/imapctl.py").args(["--user", USER, "--password", PASSWORD]);
        if self.tls_port != 0 {
            cmd.args(["--port", &self.tls_port.to_string()]).arg("--ca").arg(&tls().ca);
        } else {
            cmd.args(["--port", &self.port.to_string(), "--plain"]);
        }
        let out = cmd.args(args).output().expect("run tests/dovecot/imapctl.py");
        assert!(out.status.success(), "imapctl {args:?}: {}\n{}", text(&out.stderr), self.log());
        text(&out.stdout)
    }

    pub fn append(&self, folder: &str, files: &[&Path]) -> Vec<u32> {
        let mut args = vec!["append", folder];
        args.extend(files.iter().map(|f| f.to_str().unwrap()));
        serde_json::from_str(&self.ctl(&args)).unwrap()
    }

    /// UID → flags of the messages in `folder`.
    pub fn messages(&self, folder: &str) -> serde_json::Map<String, serde_json::Value> {
        let listing: serde_json::Value = serde_json::from_str(&self.ctl(&["list", folder])).unwrap();
        listing["messages"].as_object().unwrap().clone()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run_text(program: &str, args: &[&str]) -> String {
    text(&Command::new(program).args(args).output().unwrap().stdout).trim().to_string()
}

/// Adds `[imap]` to the home's configuration: `extra` holds further keys.
pub(crate) fn configure(env: &Env, port: u16, security: &str, extra: &str) {
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str(&format!(
        "\n[imap]\nhost = \"127.0.0.1\"\nport = {port}\nsecurity = \"{security}\"\nusername = \"{USER}\"\npassword-env = \"CM_TEST_IMAP_PASSWORD\"\nca-file = \"{}\"\ntimeout-seconds = 10\n{extra}",
        tls().ca.display()
    ));
    std::fs::write(env.config_path(), config).unwrap();
}

fn fetch_with(env: &Env, password: &str, args: &[&str]) -> Output {
    env.command().arg("fetch").args(args).env("CM_TEST_IMAP_PASSWORD", password).output().unwrap()
}

/// `certmail fetch --json`, which must succeed: one JSON object per message.
fn fetch(env: &Env) -> Vec<serde_json::Value> {
    let out = fetch_with(env, PASSWORD, &["--json"]);
    assert_success(&out);
    text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect()
}

/// An acknowledgement signed by the CERT's key and encrypted to the reporter.
fn ack(c: &Case) -> PathBuf {
    let body = format!("Hej\r\nVi har modtaget jeres underretning {}. Sagsnr.: CFCS-2026-4411\r\n", c.reference);
    gpg_encrypted_reply(c, &body, &cert_key().fingerprint, &c.gnupg)
}

/// An unsigned question threaded to the notification.
fn question(c: &Case, n: u32) -> PathBuf {
    c.env.write(
        &format!("question-{n}.eml"),
        &format!(
            "From: {CERT_ADDRESS}\r\nTo: soc@example.dk\r\nSubject: Re: [{r}] question {n}\r\nMessage-ID: <question-{n}@example-cert.test>\r\nIn-Reply-To: <{id}>\r\n\r\nKan I sende logfilerne?\r\n",
            r = c.reference,
            id = c.message_id
        ),
    )
}

fn acknowledged_events(env: &Env, reference: &str) -> usize {
    text(&env.certmail(&["log", "show", reference]).stdout).matches("acknowledged").count()
}

#[test]
fn fetch_reads_each_reply_once_as_ingest_would_and_marks_nothing_read() {
    let dovecot = Dovecot::start();
    let c = case();
    configure(&c.env, dovecot.port, "starttls", "");
    let (ack, q1) = (ack(&c), question(&c, 1));
    let uids = dovecot.append("INBOX", &[&ack, &q1]);

    let got = fetch(&c.env);
    assert_eq!(got.len(), 2, "{got:?}");
    // The same verdicts `ingest` gives these files (tests/integration/ingest.rs).
    assert_eq!((got[0]["kind"].as_str(), got[0]["signature"].as_str()), (Some("ack"), Some("good")), "{}", got[0]);
    assert_eq!((got[0]["bound"].as_bool(), got[0]["encrypted"].as_bool()), (Some(true), Some(true)));
    assert_eq!(got[0]["incident"], c.reference.as_str());
    assert_eq!((got[1]["kind"].as_str(), got[1]["signature"].as_str()), (Some("question"), Some("none")), "{}", got[1]);
    assert_eq!(got[1]["incident"], c.reference.as_str());
    let source = got[0]["source"].as_str().unwrap();
    assert!(source.starts_with(&format!("imap://{USER}@127.0.0.1:{}/INBOX;UIDVALIDITY=", dovecot.port)), "{source}");
    assert!(source.ends_with(&format!("/;UID={}", uids[0])), "{source}");
    assert_eq!(acknowledged_events(&c.env, &c.reference), 1);
    // BODY.PEEK: the analyst's mail client still shows them as unread.
    for (uid, flags) in dovecot.messages("INBOX") {
        assert!(!flags.as_array().unwrap().iter().any(|f| f == "\\Seen"), "UID {uid} was marked read: {flags}");
    }

    // Nothing new: nothing printed, nothing recorded, still exit 0.
    assert!(fetch(&c.env).is_empty());
    // status tells when the mailbox was last read.
    let status: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
    assert!(status["last_fetch"]["folder"].as_str().unwrap().ends_with("/INBOX"), "{status}");
    assert!(status["last_fetch"]["at"].is_string(), "{status}");
    assert!(text(&c.env.certmail(&["status"]).stdout).contains("last fetched"));
    // Only the new message is read next time.
    dovecot.append("INBOX", &[&question(&c, 2)]);
    let got = fetch(&c.env);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["message_id"], "question-2@example-cert.test");
    assert_eq!(got[0]["duplicate"], false);
    assert_eq!(acknowledged_events(&c.env, &c.reference), 1);
    // `ingest` of the same file afterwards knows it: one log, whichever way mail came.
    let again = c.env.certmail(&["ingest", ack.to_str().unwrap(), "--json"]);
    assert_success(&again);
    assert!(text(&again.stdout).contains("\"duplicate\":true"), "{}", text(&again.stdout));
}

#[test]
fn a_new_uidvalidity_reads_the_folder_again_and_records_nothing_twice() {
    let dovecot = Dovecot::start();
    let c = case();
    dovecot.ctl(&["create", "CERT"]);
    configure(&c.env, dovecot.tls_port, "tls", "folder = \"CERT\"\n");
    let ack = ack(&c);
    dovecot.append("CERT", &[&ack]);
    assert_eq!(fetch(&c.env).len(), 1);

    // The folder is deleted and made again: new UIDVALIDITY, UIDs from 1 again.
    dovecot.ctl(&["recreate", "CERT"]);
    dovecot.append("CERT", &[&ack, &question(&c, 1)]);
    let out = fetch_with(&c.env, PASSWORD, &["--json"]);
    assert_success(&out);
    assert!(text(&out.stderr).contains("UIDVALIDITY changed"), "{}", text(&out.stderr));
    let got: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0]["kind"].as_str(), got[0]["duplicate"].as_bool()), (Some("ack"), Some(true)), "{}", got[0]);
    assert_eq!((got[1]["kind"].as_str(), got[1]["duplicate"].as_bool()), (Some("question"), Some(false)), "{}", got[1]);
    assert_eq!(acknowledged_events(&c.env, &c.reference), 1);
    assert!(fetch(&c.env).is_empty());
}

#[test]
fn starttls_not_offered_is_refused_before_any_password() {
    let dovecot = Dovecot::start_plain_only();
    let env = Env::new();
    configure(&env, dovecot.port, "starttls", "");
    let out = fetch_with(&env, PASSWORD, &[]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("does not offer STARTTLS"), "{}", text(&out.stderr));
    // Dovecot saw the connection end without a login attempt.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !dovecot.log().contains("no auth attempts") && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = dovecot.log();
    assert!(log.contains("no auth attempts"), "{log}");
    assert!(!log.contains("user=<soc>") && !log.contains("auth failed"), "{log}");
}

#[test]
fn a_wrong_password_or_an_unknown_ca_fails_loudly() {
    let dovecot = Dovecot::start();
    let env = Env::new();
    configure(&env, dovecot.tls_port, "tls", "");
    let out = fetch_with(&env, "not the password", &[]);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("rejected the login of soc"), "{}", text(&out.stderr));

    let config = std::fs::read_to_string(env.config_path()).unwrap();
    std::fs::write(env.config_path(), config.replace(tls().ca.to_str().unwrap(), tls().wrong_ca.to_str().unwrap())).unwrap();
    let out = fetch_with(&env, PASSWORD, &[]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(err.contains("TLS handshake") && err.contains("certificate"), "{err}");
    // An [imap] key certmail does not know is a configuration error (exit 2).
    std::fs::write(env.config_path(), format!("{config}mark-read = true\n")).unwrap();
    let out = fetch_with(&env, PASSWORD, &[]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("mark-read"), "{}", text(&out.stderr));
}

#[test]
fn processed_folder_receives_recorded_mail() {
    let dovecot = Dovecot::start();
    let c = case();
    dovecot.ctl(&["create", "Processed"]);
    configure(&c.env, dovecot.tls_port, "tls", "processed-folder = \"Processed\"\n");
    dovecot.append("INBOX", &[&ack(&c), &question(&c, 1)]);
    assert_eq!(fetch(&c.env).len(), 2);
    assert!(dovecot.messages("INBOX").is_empty(), "{:?}", dovecot.messages("INBOX"));
    assert_eq!(dovecot.messages("Processed").len(), 2);
    // A later message is read and moved too; the moved ones are not read again.
    dovecot.append("INBOX", &[&question(&c, 2)]);
    let got = fetch(&c.env);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(dovecot.messages("Processed").len(), 3);
}

#[test]
fn the_password_from_secrets_set_imap_is_used_from_the_os_keyring() {
    let dovecot = Dovecot::start();
    let c = case();
    configure(&c.env, dovecot.tls_port, "tls", "");
    let config = std::fs::read_to_string(c.env.config_path()).unwrap();
    std::fs::write(c.env.config_path(), config.replace("password-env = \"CM_TEST_IMAP_PASSWORD\"\n", "")).unwrap();
    dovecot.append("INBOX", &[&question(&c, 1)]);
    let steps =
        in_keyring_session(&c.env, &[(&["fetch"], None), (&["secrets", "set", "imap"], Some(PASSWORD)), (&["fetch", "--json"], None)]);
    assert_eq!(steps[0].code, 2, "{}", steps[0].stderr);
    assert!(steps[0].stderr.contains("certmail/imap:soc@127.0.0.1"), "{}", steps[0].stderr);
    assert_eq!(steps[1].code, 0, "{}", steps[1].stderr);
    assert_eq!(steps[2].code, 0, "{}", steps[2].stderr);
    assert!(steps[2].stdout.contains("question-1@example-cert.test"), "{}", steps[2].stdout);
}

/// Lines of a child's stream, as they come.
pub(crate) fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

/// The first line (of those not seen yet) that contains `needle`, within `limit`.
pub(crate) fn wait_for(lines: &Receiver<String>, needle: &str, limit: Duration, seen: &mut Vec<String>) -> String {
    let end = Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(Instant::now());
        match lines.recv_timeout(left) {
            Ok(line) if line.contains(needle) => return line,
            Ok(line) => seen.push(line),
            Err(_) => panic!("no line with {needle:?} within {limit:?}; saw: {seen:#?}"),
        }
    }
}

#[test]
fn watch_ingests_each_reply_as_it_arrives_and_survives_dovecot_restarting() {
    let mut dovecot = Dovecot::start();
    let c = case();
    let heard = c.env.path("heard.jsonl");
    configure(&c.env, dovecot.tls_port, "tls", &format!("\n[hooks]\ncommand = [\"/bin/sh\", \"-c\", \"cat >> '{}'\"]\n", heard.display()));
    let mut watch = c
        .env
        .command()
        .args(["watch", "--json"])
        .env("CM_TEST_IMAP_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (stdout, stderr) = (lines_of(watch.stdout.take().unwrap()), lines_of(watch.stderr.take().unwrap()));
    let (mut out_seen, mut err_seen) = (Vec::new(), Vec::new());
    wait_for(&stderr, "watching imap://", Duration::from_secs(15), &mut err_seen);

    // IDLE: the server tells at once, and the reply is in the log within a second.
    dovecot.append("INBOX", &[&question(&c, 1)]);
    let appended = Instant::now();
    wait_for(&stdout, "question-1@example-cert.test", Duration::from_secs(10), &mut out_seen);
    let latency = appended.elapsed();
    assert!(latency < Duration::from_secs(1), "reply-to-log latency under IDLE: {latency:?}");
    // An acknowledgement shows in status at once.
    dovecot.append("INBOX", &[&ack(&c)]);
    wait_for(&stdout, "\"kind\":\"ack\"", Duration::from_secs(10), &mut out_seen);
    // The line is printed as the message is recorded; the commit, then the hook,
    // follow: both within seconds.
    let heard_events = || -> Vec<String> {
        let lines = std::fs::read_to_string(&heard).unwrap_or_default();
        lines.lines().map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].as_str().unwrap().to_string()).collect()
    };
    let end = Instant::now() + Duration::from_secs(5);
    loop {
        let status: serde_json::Value = serde_json::from_slice(&c.env.certmail(&["status", "--json"]).stdout).unwrap();
        let events = heard_events();
        if status["incidents"][0]["acknowledged"] == true && events.len() == 2 {
            assert_eq!(events, ["question", "acknowledged"]);
            break;
        }
        assert!(Instant::now() < end, "not acknowledged in status, or the hook not told, within 5 s: {status} {events:?}");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Dovecot goes away and comes back: the watch reconnects and goes on.
    dovecot.restart();
    wait_for(&stderr, "trying again", Duration::from_secs(15), &mut err_seen);
    wait_for(&stderr, "watching imap://", Duration::from_secs(30), &mut err_seen);
    dovecot.append("INBOX", &[&question(&c, 2)]);
    wait_for(&stdout, "question-2@example-cert.test", Duration::from_secs(10), &mut out_seen);
    assert!(out_seen.iter().all(|l| !l.contains("question-1")), "read once: {out_seen:#?}");

    // SIGTERM ends it cleanly, between steps.
    assert!(Command::new("kill").arg(watch.id().to_string()).status().unwrap().success());
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = watch.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < end, "watch did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    wait_for(&stderr, "stopped", Duration::from_secs(2), &mut err_seen);
    assert_eq!(acknowledged_events(&c.env, &c.reference), 1);
}
