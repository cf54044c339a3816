//! Telling people: `[hooks] command` runs once per event (a CERT acknowledgement, a
//! question, a closed case, a bounce; an acknowledgement or a legal clock overdue or
//! due soon; a notification given up), with one JSON object on its standard input.
//! The command runs with a clean environment (no secret of certmail's reaches it),
//! no arguments from the message, and a deadline; its failure is reported loudly and
//! never stops the command that fired it. Which events already fired is kept in the
//! store, so a restart or a second ingest of the same mail does not repeat one.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::ingest::Outcome;
use crate::outbox::Report;
use crate::reply::Kind;
use crate::store::MessageState;

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
    /// The CERT has not acknowledged the notification within the configured time.
    AckOverdue,
    /// A legal clock is due soon (see `reminders`).
    DeadlineDue,
    DeadlineOverdue,
    /// The outbox gave a notification up (permanently rejected, expired).
    DeliveryFailed,
}

impl EventKind {
    /// The name in the JSON and in the store.
    pub fn key(self) -> &'static str {
        match self {
            EventKind::Acknowledged => "acknowledged",
            EventKind::Question => "question",
            EventKind::Closed => "closed",
            EventKind::Bounced => "bounced",
            EventKind::AckOverdue => "ack-overdue",
            EventKind::DeadlineDue => "deadline-due",
            EventKind::DeadlineOverdue => "deadline-overdue",
            EventKind::DeliveryFailed => "delivery-failed",
        }
    }
}

/// One event for the hook.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    pub event: EventKind,
    pub reference: Option<String>,
    /// When certmail saw it (RFC 3339, UTC).
    pub at: String,
    /// What it is about; its fields sit beside the three above.
    #[serde(flatten)]
    pub about: About,
}

/// What an event is about.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum About {
    /// A message received (a reply, a bounce).
    Received {
        message_id: Option<String>,
        source: String,
        signature: String,
        /// A good whole-message signature by the pinned key names the incident.
        bound: bool,
        /// For a bounce: the number to call.
        #[serde(skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
        /// What the bounce said, or why a message is odd.
        #[serde(skip_serializing_if = "Option::is_none")]
        detail: Option<String>,
    },
    /// A deadline: its name ("acknowledgement", "early warning", ...), when it is or
    /// was due (RFC 3339), what to do, and for the acknowledgement the number to call.
    Deadline {
        deadline: String,
        due: String,
        action: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        phone: Option<String>,
    },
    /// A notification of ours the outbox gave up: why, and the number to call.
    Undelivered { message_id: String, detail: String, phone: String },
}

impl Event {
    /// The event a newly recorded message is, if any. A duplicate is none: it fired
    /// when it was first recorded. `phone`: for a bounce, the number of the CERT the
    /// bounced message went to.
    pub fn of_message(o: &Outcome, at: &str, phone: Option<&str>) -> Option<Event> {
        if o.duplicate {
            return None;
        }
        let event = match o.kind {
            Kind::Closed if o.state_changed => EventKind::Closed,
            // Shown whatever its signature: the hook is told whether it is bound.
            Kind::Question => EventKind::Question,
            // Only a message a relay took can bounce (see `BounceReport::undelivered`).
            Kind::Bounce if o.bounce.as_ref().is_some_and(|b| b.undelivered()) => EventKind::Bounced,
            // A bound reply is the CERT's receipt whatever its words ("noted", an
            // automatic receipt): the incident is acknowledged.
            _ if o.state_changed => EventKind::Acknowledged,
            _ => return None,
        };
        Some(Event {
            event,
            reference: o.incident.clone(),
            at: at.to_string(),
            about: About::Received {
                message_id: o.message_id.clone(),
                source: o.source.clone(),
                signature: o.signature.key().to_string(),
                bound: o.bound,
                phone: phone.filter(|_| event == EventKind::Bounced).map(str::to_string),
                detail: o.detail.clone(),
            },
        })
    }

    /// The event a delivery attempt's end is: only a message given up is one.
    pub fn of_delivery(r: &Report, at: &str, phone: &str) -> Option<Event> {
        (r.state == MessageState::Failed).then(|| Event {
            event: EventKind::DeliveryFailed,
            reference: Some(r.reference.clone()),
            at: at.to_string(),
            about: About::Undelivered { message_id: r.message_id.clone(), detail: r.detail.clone(), phone: phone.to_string() },
        })
    }

    /// What makes this event the same one again: its kind and its message, or for a
    /// deadline its incident and which deadline (a changed due time is the same one).
    pub fn key(&self) -> String {
        let event = self.event.key();
        match &self.about {
            About::Received { message_id, source, .. } => format!("{event}:{}", message_id.as_deref().unwrap_or(source)),
            About::Deadline { deadline, .. } => format!("{event}:{}:{deadline}", self.reference.as_deref().unwrap_or("")),
            About::Undelivered { message_id, .. } => format!("{event}:{message_id}"),
        }
    }

    /// One line for a log: what, of which incident, about what.
    pub fn summary(&self) -> String {
        let about = match &self.about {
            About::Received { message_id, source, .. } => message_id.clone().unwrap_or_else(|| source.clone()),
            About::Deadline { deadline, due, .. } => format!("{deadline}, due {due}"),
            About::Undelivered { message_id, .. } => format!("<{message_id}>"),
        };
        format!("{} of {}: {about}", self.event.key(), self.reference.as_deref().unwrap_or("no incident"))
    }
}

/// The `[hooks]` command for a command that goes on without it: a broken `[hooks]`
/// is said on stderr, and nothing is told (or claimed) until it is fixed.
pub fn configured(settings: &crate::config::Settings) -> Option<Hook> {
    settings.hook().unwrap_or_else(|f| {
        crate::output::error(&f.message);
        None
    })
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
/// are committed. Failures are reported loudly and do not stop the caller. Returns
/// the events told now (none without a hook: an event is claimed only when told).
pub fn fire<'a>(hook: Option<&Hook>, store: &crate::store::Store, events: &'a [Event]) -> Vec<&'a Event> {
    let Some(hook) = hook else { return Vec::new() };
    let mut told = Vec::new();
    for event in events {
        let name = event.event.key();
        match store.claim_hook_event(&event.key(), name, event.reference.as_deref(), &event.at) {
            Ok(true) => {
                if let Err(e) = run(hook, event) {
                    crate::output::error(&format!("hook for {name} of {}: {e}", event.reference.as_deref().unwrap_or("no incident")));
                }
                told.push(event);
            }
            Ok(false) => {}
            Err(f) => crate::output::error(&format!("hook for {name}: {}", f.message)),
        }
    }
    told
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(state: MessageState) -> Report {
        Report {
            reference: "CM-1".into(),
            message_id: "m@x".into(),
            recipient: "cfcs".into(),
            state,
            detail: "550 5.1.1 no such user".into(),
            next_attempt_at: None,
            needs_fixing: false,
            possibly_delivered: false,
        }
    }

    #[test]
    fn only_a_message_given_up_is_a_delivery_failure_and_says_whom_to_call() {
        for state in [MessageState::Sent, MessageState::Deferred] {
            assert!(Event::of_delivery(&report(state), "t", "+45 1").is_none());
        }
        let event = Event::of_delivery(&report(MessageState::Failed), "t", "+45 1").unwrap();
        assert_eq!(event.key(), "delivery-failed:m@x");
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(
            json,
            serde_json::json!({ "event": "delivery-failed", "reference": "CM-1", "at": "t", "message_id": "m@x",
                                "detail": "550 5.1.1 no such user", "phone": "+45 1" })
        );
    }
}
