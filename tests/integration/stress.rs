//! `notify` against relays that misbehave slowly: one that accepts and never greets,
//! one that drips its greeting a byte a second. Both must end within the configured
//! `[smtp] timeout-seconds` (one deadline for the whole session, not per read), say
//! "timed out after N s", and leave the message queued; the reference and "queued"
//! come first, before any connection. And Ctrl-C at the passphrase prompt (under a
//! pseudo-terminal) exits 130, gives the terminal its echo back and says what happened.

use std::io::Write;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use crate::smtp::tls;
use crate::support::*;

const INCIDENT: &str = "examples/voluntary-ransomware.toml";

/// A relay on loopback that accepts connections and then does `behave` with each.
fn bad_relay(behave: fn(std::net::TcpStream)) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || behave(stream));
        }
    });
    port
}

fn never_greets(stream: std::net::TcpStream) {
    std::thread::sleep(Duration::from_secs(120));
    drop(stream);
}

fn drips_its_greeting(mut stream: std::net::TcpStream) {
    for b in b"220 relay.example.dk ESMTP slowly, very slowly, one byte a second\r\n" {
        if stream.write_all(&[*b]).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

fn times_out(behave: fn(std::net::TcpStream)) {
    let env = Env::new();
    env.set_relay(bad_relay(behave), "starttls", &tls().ca, 2);
    let started = Instant::now();
    let out = env.certmail(&["notify", INCIDENT, "--json"]);
    let took = started.elapsed();
    let stderr = text(&out.stderr);
    assert_exit(&out, 3);
    // 2 s asked; generous for a loaded 2-core machine. The point: it does not hang.
    assert!(took < Duration::from_secs(20), "took {took:?}: {stderr}");
    assert!(stderr.contains("timed out after 2 s"), "{stderr}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let reference = json["reference"].as_str().unwrap();
    let queued_at = stderr.find(&format!("{reference}: notification queued")).unwrap_or_else(|| panic!("{stderr}"));
    let delivering_at = stderr.find("Delivering to 127.0.0.1:").unwrap_or_else(|| panic!("{stderr}"));
    assert!(queued_at < delivering_at && delivering_at < stderr.find("timed out").unwrap(), "{stderr}");
    assert_eq!(json["state"], "deferred", "{json}");
    assert!(json["detail"].as_str().unwrap().contains("timed out after 2 s"), "{json}");
    assert!(!stderr.contains("os error 11"), "{stderr}");
    let list = env.certmail(&["outbox", "list", "--json"]);
    assert_success(&list);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    assert_eq!(messages[0]["state"], "deferred", "{list}");
}

#[test]
fn a_relay_that_never_greets_times_out_and_the_message_stays_queued() {
    times_out(never_greets);
}

#[test]
fn a_relay_that_drips_its_greeting_times_out_for_the_whole_session() {
    times_out(drips_its_greeting);
}

#[test]
fn the_reference_and_queued_come_before_delivery_without_a_relay_too() {
    let env = Env::new();
    let out = env.certmail(&["notify", INCIDENT]);
    assert_queued(&out);
    assert!(text(&out.stderr).contains(": notification queued in the outbox."), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("Delivering"), "{}", text(&out.stderr));
}

/// Reads a child's pipe into a shared buffer as it comes, so a test can wait for a
/// prompt or a line before it acts.
fn collect(mut pipe: impl std::io::Read + Send + 'static) -> std::sync::Arc<std::sync::Mutex<Vec<u8>>> {
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let shared = std::sync::Arc::clone(&seen);
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = pipe.read(&mut chunk) {
            if n == 0 {
                break;
            }
            shared.lock().unwrap().extend_from_slice(&chunk[..n]);
        }
    });
    seen
}

fn wait_for(seen: &std::sync::Mutex<Vec<u8>>, needle: &str) -> bool {
    let until = Instant::now() + Duration::from_secs(60);
    while Instant::now() < until {
        if text(&seen.lock().unwrap()).contains(needle) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

#[test]
fn ctrl_c_at_the_passphrase_prompt_restores_echo_and_says_nothing_was_queued() {
    require("script", "bsdutils");
    let env = crate::keyring::env_with_protected_key("prompt horse");
    // After notify, the same terminal's settings: echo must be on again.
    let command = format!("{} notify {INCIDENT}; echo \"rc=$?\"; stty -a", env!("CARGO_BIN_EXE_certmail"));
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("CERTMAIL_HOME", &env.home)
        .envs(env.store_url.iter().map(|u| ("CERTMAIL_STORE_URL", u)))
        .env_remove("CERTMAIL_CONFIG")
        .env("SHELL", "/bin/sh")
        // No OS keyring: the passphrase is asked on the terminal.
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let screen = collect(child.stdout.take().unwrap());
    let mut stdin = child.stdin.take().unwrap();
    assert!(wait_for(&screen, "passphrase of the reporter's key: "), "{}", text(&screen.lock().unwrap()));
    std::thread::sleep(Duration::from_millis(300));
    stdin.write_all(b"\x03").unwrap();
    assert!(wait_for(&screen, "speed"), "stty ran: {}", text(&screen.lock().unwrap()));
    drop(stdin);
    child.wait().unwrap();
    let screen = text(&screen.lock().unwrap());
    assert!(screen.contains("rc=130"), "{screen}");
    assert!(screen.contains("interrupted: nothing was queued yet"), "{screen}");
    // No keyring here: said once, in plain words, not as the D-Bus library's error.
    assert_eq!(screen.matches("no OS keyring is running here").count(), 1, "{screen}");
    assert!(!screen.contains("zbus"), "{screen}");
    let modes: Vec<&str> = screen.split(|c: char| c.is_whitespace() || c == ';').collect();
    assert!(modes.contains(&"echo") && !modes.contains(&"-echo"), "echo is back on: {screen}");
    assert!(modes.contains(&"icanon") && modes.contains(&"isig"), "{screen}");
    let list = env.certmail(&["outbox", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(list["messages"].as_array().map(Vec::len), Some(0), "{list}");
}

#[test]
fn sigint_while_the_relay_is_silent_says_the_notification_is_queued_and_how_to_send_it() {
    let env = Env::new();
    env.set_relay(bad_relay(never_greets), "starttls", &tls().ca, 60);
    let mut child =
        env.command().args(["notify", INCIDENT]).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped()).spawn().unwrap();
    let stderr = collect(child.stderr.take().unwrap());
    assert!(wait_for(&stderr, "Delivering to"), "{}", text(&stderr.lock().unwrap()));
    let started = Instant::now();
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert!(started.elapsed() < Duration::from_secs(20), "Ctrl-C ends it at once, not after the timeout");
    assert_eq!(status.code(), Some(130));
    std::thread::sleep(Duration::from_millis(200));
    let stderr = text(&stderr.lock().unwrap());
    let list = env.certmail(&["outbox", "list", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    let messages = list["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 1, "{list}");
    let reference = messages[0]["reference"].as_str().unwrap_or_else(|| panic!("{list}"));
    assert!(stderr.contains(&format!("interrupted: {reference} is queued; `certmail outbox flush` sends it")), "{stderr}");
}
