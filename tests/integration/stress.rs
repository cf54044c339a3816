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
