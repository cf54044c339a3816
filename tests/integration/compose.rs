//! `certmail compose` under a real pseudo-terminal (util-linux `script`): questions one
//! by one, a wrong answer asked again, the file saved after each answer (so an
//! interrupted session loses nothing), the preview, and sending only when asked to.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Local;

use crate::support::*;

/// certmail on a terminal of its own, and what it has printed so far.
struct Terminal {
    child: Child,
    input: ChildStdin,
    screen: Arc<Mutex<String>>,
    seen: usize,
}

impl Terminal {
    fn start(env: &Env, args: &[&str]) -> Terminal {
        require("script", "bsdutils");
        let command = std::iter::once(env!("CARGO_BIN_EXE_certmail").to_string())
            .chain(args.iter().map(|a| shell_quote(a)))
            .collect::<Vec<_>>()
            .join(" ");
        let mut child = std::process::Command::new("script")
            .args(["--quiet", "--return", "--flush", "--command", &command, "/dev/null"])
            .current_dir(env.dir.path())
            .env("CERTMAIL_HOME", &env.home)
            .envs(env.store_url.iter().map(|u| ("CERTMAIL_STORE_URL", u)))
            .env_remove("CERTMAIL_CONFIG")
            .env("SHELL", "/bin/sh")
            .env("TERM", "dumb")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run script");
        let input = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let screen = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&screen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        Terminal { child, input, screen, seen: 0 }
    }

    /// Waits until `text` appears after what was already read; returns what came.
    fn expect(&mut self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let screen = self.screen.lock().unwrap().clone();
            if let Some(i) = screen[self.seen..].find(text) {
                let came = screen[self.seen..self.seen + i + text.len()].to_string();
                self.seen += i + text.len();
                return came;
            }
            assert!(Instant::now() < deadline, "waited for {text:?}; the terminal shows:\n{}", &screen[self.seen..]);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Types a line once the prompt is there.
    fn answer(&mut self, line: &str) {
        self.expect("> ");
        self.input.write_all(format!("{line}\r").as_bytes()).unwrap();
        self.input.flush().unwrap();
    }

    /// Types raw bytes (Ctrl-C is \x03: the terminal turns it into SIGINT).
    fn keys(&mut self, bytes: &[u8]) {
        self.input.write_all(bytes).unwrap();
        self.input.flush().unwrap();
    }

    fn wait(mut self) -> (i32, String) {
        drop(self.input);
        let deadline = Instant::now() + Duration::from_secs(30);
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(Instant::now() < deadline, "compose did not end; it shows:\n{}", self.screen.lock().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        };
        std::thread::sleep(Duration::from_millis(100));
        let screen = self.screen.lock().unwrap().clone();
        (status.code().unwrap_or(-1), screen)
    }
}

fn shell_quote(arg: &str) -> String {
    format!("'{}'", arg.replace('\'', "'\\''"))
}

/// A local wall-clock time `hours` from now, as a responder types it.
fn local_time(hours: i64) -> String {
    (Local::now() + chrono::Duration::hours(hours)).format("%Y-%m-%d %H:%M").to_string()
}

#[test]
fn compose_asks_each_required_field_asks_again_when_wrong_previews_and_sends() {
    let env = Env::new();
    let mut t = Terminal::start(&env, &["compose", "incident.toml", "--scheme", "voluntary", "--lang", "en"]);
    t.expect("Title: one line summing the incident up");
    t.answer("Ransomware on the file servers");
    t.expect("Describe the incident");
    t.answer("FS01 and FS02 encrypted overnight");
    let nature = t.expect("The nature of the incident");
    assert!(!nature.contains("is not one of the choices"));
    t.expect("9  unknown");
    t.answer("hackin");
    t.expect("\"hackin\" is not one of the choices; did you mean hacking?");
    t.answer("malware, 2");
    t.expect("When was the incident detected?");
    t.answer(&local_time(48));
    t.expect("a time in the past");
    t.answer(&local_time(-1));
    t.expect("This is the notification:");
    t.expect("Ransomware on the file servers");
    t.expect("Travels in cleartext");
    t.expect("Type yes to send");
    t.keys(b"yes\r");
    t.expect("queued in the outbox");
    let (code, _) = t.wait();
    // Queued: the test home has no relay.
    assert_eq!(code, 3);

    let file = env.path("incident.toml");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("title = \"Ransomware on the file servers\""), "{saved}");
    assert!(saved.contains("nature = [\"malware\", \"hacking\"]"), "{saved}");
    assert!(saved.contains("# REQUIRED. Title"), "the comments stay: {saved}");
    let listed = env.certmail(&["outbox", "list", "--json"]);
    assert!(text(&listed.stdout).contains("queued"), "{}", text(&listed.stdout));
}

#[test]
fn compose_saves_each_answer_so_an_interrupted_session_goes_on_where_it_stopped() {
    let env = Env::new();
    let mut t = Terminal::start(&env, &["compose", "haendelse.toml", "--lang", "da"]);
    t.expect("Hvilken hændelse ønsker du at indberette?");
    t.answer("frivillig indberetning");
    t.expect("ikke et af valgene");
    t.answer("4");
    t.expect("Overskrift");
    t.answer("Ransomware på filserverne");
    t.expect("Beskriv hændelsen");
    t.expect("> ");
    t.keys(b"\x03");
    let (code, _) = t.wait();
    assert_ne!(code, 0);

    let file = env.path("haendelse.toml");
    let saved = std::fs::read_to_string(&file).unwrap();
    assert!(saved.contains("title = \"Ransomware på filserverne\""), "{saved}");
    assert!(saved.contains("scheme = \"voluntary\"") && saved.contains("language = \"da\""));
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
    // notify says what is still missing, and nothing of what was answered.
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("description.what-happened: not filled in yet") && !err.contains(": title:"), "{err}");

    let mut again = Terminal::start(&env, &["compose", "haendelse.toml"]);
    let first = again.expect("Beskriv hændelsen");
    assert!(!first.contains("Overskrift"), "the title was asked again:\n{first}");
    again.answer("Filerne på FS01 er krypteret");
    again.expect("Angiv karakteren af hændelsen");
    again.answer("ransomware");
    again.expect("ikke et af valgene; mente du malware?");
    again.answer("malware");
    again.expect("konstatering");
    again.answer("nu");
    again.expect("Skriv ja for at sende");
    again.keys(b"nej\r");
    again.expect("Ikke sendt");
    let (code, _) = again.wait();
    assert_eq!(code, 0);
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_success(&out);
    assert!(text(&env.certmail(&["outbox", "list"]).stdout).lines().all(|l| !l.contains("queued")));
}

#[test]
fn compose_takes_several_schemes_for_one_incident() {
    let env = Env::new();
    let mut t = Terminal::start(&env, &["compose", "both.toml", "--lang", "en"]);
    t.expect("separate them with commas");
    t.answer("1, personal-data, 1");
    t.expect("Title");
    t.keys(b"\x03");
    let (code, _) = t.wait();
    assert_ne!(code, 0);
    let saved = std::fs::read_to_string(env.path("both.toml")).unwrap();
    let toml: toml::Value = toml::from_str(&saved).unwrap_or_else(|e| panic!("{e}: {saved}"));
    assert_eq!(toml["scheme"], toml::Value::try_from(["nis-operator", "personal-data"]).unwrap(), "{saved}");
    // Both schemes' required fields are asked for: the NIS2 sector and the data breach's.
    let out = env.certmail(&["notify", env.path("both.toml").to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("nis.sector") && err.contains("personal-data."), "{err}");

    // --scheme takes the list too.
    let mut t = Terminal::start(&env, &["compose", "flag.toml", "--scheme", "public-authority,personal-data", "--lang", "en"]);
    t.expect("Title");
    t.keys(b"\x03");
    t.wait();
    let saved = std::fs::read_to_string(env.path("flag.toml")).unwrap();
    assert!(saved.contains("public-authority") && saved.contains("personal-data"), "{saved}");
}

#[test]
fn compose_without_a_terminal_says_how_to_do_without_one() {
    let env = Env::new();
    let out = env.certmail(&["compose", "x.toml"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("certmail new SCHEME"), "{}", text(&out.stderr));
    assert!(!env.path("x.toml").exists());
}

/// On a terminal, notifying a new incident with an open incident's title asks first;
/// no "y" queues nothing and says how to follow up instead.
#[test]
fn notify_on_a_terminal_asks_before_a_second_incident_with_the_same_title() {
    let env = Env::new();
    let file = "examples/personal-data-breach.toml";
    let first = env.certmail(&["notify", file, "--json"]);
    assert_queued(&first);
    let reference = serde_json::from_slice::<serde_json::Value>(&first.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    let source = std::fs::read_to_string(file).unwrap();
    let edited = env.write("edited.toml", &source.replacen("what-happened = \"", "what-happened = \"Opdatering: ", 1));
    let mut terminal = Terminal::start(&env, &["notify", edited.to_str().unwrap()]);
    let asked = terminal.expect("[y/N] ");
    assert!(asked.contains(&reference) && asked.contains("--follow-up"), "{asked}");
    terminal.keys(b"n\r");
    let (code, screen) = terminal.wait();
    assert_eq!(code, 2, "{screen}");
    assert!(screen.contains("nothing was queued"), "{screen}");
    let outbox: serde_json::Value = serde_json::from_slice(&env.certmail(&["outbox", "list", "--json"]).stdout).unwrap();
    assert_eq!(outbox["messages"].as_array().unwrap().len(), 1, "nothing more queued");
}
