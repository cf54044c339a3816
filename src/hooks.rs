//! Telling people: `[hooks] command` runs once per event (a CERT acknowledgement, a
//! question, a closed case, a bounce), with one JSON object on its standard input.
//! The command runs with a clean environment (no secret of certmail's reaches it),
//! no arguments from the message, and a deadline; its failure is reported loudly and
//! never stops the command that fired it. Which events already fired is kept in the
//! store, so a restart or a second ingest of the same mail does not repeat one.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ingest::Outcome;
use crate::reply::Kind;

/// The configured hook, resolved.
#[derive(Debug, Clone)]
pub struct Hook {
    pub command: Vec<String>,
    pub timeout: Duration,
}

/// What happened, as the hook's JSON names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EventKind {
    Acknowledged,
    Question,
    Closed,
    Bounced,
}

/// One event for the hook.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub event: EventKind,
    pub reference: Option<String>,
    /// When certmail saw it (RFC 3339, UTC).
    pub at: String,
    /// The message it is about.
    pub message_id: Option<String>,
    pub source: String,
    pub signature: String,
    /// A good whole-message signature by the pinned key names the incident.
    pub bound: bool,
    /// For a bounce: the number to call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// What the bounce said, or why a message is odd.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Event {
    /// The event a newly recorded message is, if any. A duplicate is none: it fired
    /// when it was first recorded.
    pub fn of_message(o: &Outcome, at: &str, phone: &str) -> Option<Event> {
        if o.duplicate {
            return None;
        }
        let event = match o.kind {
            Kind::Closed if o.state_changed => EventKind::Closed,
            // Shown whatever its signature: the hook is told whether it is bound.
            Kind::Question => EventKind::Question,
            Kind::Bounce if o.detail.as_deref().is_some_and(|d| d.contains("FAILED")) => EventKind::Bounced,
            // A bound reply is the CERT's receipt whatever its words ("noted", an
            // automatic receipt): the incident is acknowledged.
            _ if o.state_changed => EventKind::Acknowledged,
            _ => return None,
        };
        Some(Event {
            event,
            reference: o.incident.clone(),
            at: at.to_string(),
            message_id: o.message_id.clone(),
            source: o.source.clone(),
            signature: o.signature.key().to_string(),
            bound: o.bound,
            phone: (event == EventKind::Bounced).then(|| phone.to_string()),
            detail: o.detail.clone(),
        })
    }

    /// What makes this event the same one again: its kind and its message.
    pub fn key(&self) -> String {
        let about = self.message_id.as_deref().unwrap_or(&self.source);
        format!("{}:{about}", serde_json::to_value(self.event).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default())
    }
}

/// Runs the hook once with `event` on its standard input. An error says what went
/// wrong, for the caller to report; it never panics or hangs past the deadline.
pub fn run(hook: &Hook, event: &Event) -> Result<(), String> {
    let Some((program, args)) = hook.command.split_first() else {
        return Err("[hooks] command is empty".into());
    };
    let json = serde_json::to_vec(event).map_err(|e| e.to_string())?;
    let mut child = Command::new(program)
        .args(args)
        // Nothing of certmail's environment (password-env variables above all).
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("cannot run [hooks] command `{program}`: {e}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        // A hook that does not read its input is its own business.
        let _ = stdin.write_all(&json).and_then(|_| stdin.write_all(b"\n"));
    }
    let end = Instant::now() + hook.timeout;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return Ok(()),
            Ok(Some(status)) => return Err(format!("[hooks] command `{program}` failed ({status})")),
            Ok(None) if Instant::now() >= end => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("[hooks] command `{program}` did not finish within {} s and was stopped", hook.timeout.as_secs()));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return Err(format!("[hooks] command `{program}`: {e}")),
        }
    }
}

/// Tells the hook about each event not told before, after the messages behind them
/// are committed. Failures are reported loudly and do not stop the caller.
pub fn fire(hook: Option<&Hook>, store: &crate::store::Store, events: &[Event]) {
    let Some(hook) = hook else { return };
    for event in events {
        let name = serde_json::to_value(event.event).ok().and_then(|v| v.as_str().map(String::from)).unwrap_or_default();
        match store.claim_hook_event(&event.key(), &name, event.reference.as_deref(), &event.at) {
            Ok(true) => {
                if let Err(e) = run(hook, event) {
                    crate::output::error(&format!("hook for {name} of {}: {e}", event.reference.as_deref().unwrap_or("no incident")));
                }
            }
            Ok(false) => {}
            Err(f) => crate::output::error(&format!("hook for {name}: {}", f.message)),
        }
    }
}
