//! The outbox state machine over the store and the SMTP transport:
//! queued → sending → sent | deferred (retry with backoff) | failed.
//!
//! Every transition is committed, with its event, before the next network step: a
//! row is `sending` before its first byte leaves, `sent` only after the server's 250
//! to the final dot. A crash leaves `sending`, and the next flush sends the same
//! bytes with the same Message-ID again: at least once, never silently lost.

use chrono::{DateTime, Utc};

use crate::exit::{CmdResult, Failure, Outcome};
use crate::mime::first_bare_line_end;
use crate::secrets::Secret;
use crate::store::MessageState;
use crate::store::{Attempt, ClaimQuery, Claimed, Store, timestamp};
use crate::transport::{Relay, SendError, Session};

/// How one message's attempt ended, for the person or script that asked.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Report {
    pub reference: String,
    pub message_id: String,
    /// The recipient it went to (whose phone to call when it failed); not printed.
    #[serde(skip)]
    pub recipient: String,
    /// Sent, deferred or failed.
    pub state: MessageState,
    /// The server's final reply when sent, else the error.
    pub detail: String,
    pub next_attempt_at: Option<String>,
    /// The relay path needs fixing (credentials, TLS); retrying as is will not help.
    pub needs_fixing: bool,
    pub possibly_delivered: bool,
}

/// What delivery needs besides the store.
pub struct Delivery<'a> {
    pub relay: &'a Relay,
    /// Asked only when a message is due and the relay wants a login.
    pub password: &'a dyn Fn() -> Result<Option<Secret>, Failure>,
    pub lifetime: chrono::Duration,
    pub clock: &'a dyn Fn() -> DateTime<Utc>,
    /// Send deferred messages now instead of waiting for their next attempt time.
    pub retry_now: bool,
}

/// Delay before the next attempt: 1, 2, 4 … minutes, at most an hour.
pub fn backoff(attempts: i64) -> chrono::Duration {
    let exponent = (attempts - 1).clamp(0, 6) as u32;
    chrono::Duration::seconds((60i64 << exponent).min(3600))
}

fn process_alive(pid: i64) -> bool {
    pid > 0 && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// Delivers what is due (or just `only`), over one connection reused for all.
pub fn flush(store: &mut Store, delivery: &Delivery, only: Option<&str>) -> Result<Vec<Report>, Failure> {
    let mut reports = Vec::new();
    let mut session: Option<Session> = None;
    let start = (delivery.clock)();
    // With retry_now, everything waiting counts as due ("9" sorts after any timestamp).
    let due_by = if delivery.retry_now { "9".to_string() } else { timestamp(start) };
    let now = timestamp(start);
    let mut next = store.claim_due(&ClaimQuery { now: &now, due_by: &due_by, after_id: 0, only, alive: &process_alive })?;
    while let Some(claimed) = next {
        let outcome = attempt(&claimed, &mut session, delivery, (delivery.clock)());
        let ended = (delivery.clock)();
        let (attempt_record, report) = outcome_record(&claimed, outcome, ended);
        // The relay is unreachable or refuses us: the other messages would only
        // fail the same way now; they stay due for the next flush.
        let stop = (report.state == MessageState::Deferred && session.is_none()) || only.is_some();
        let ts = timestamp(ended);
        let attempt_ref = attempt_record.as_attempt();
        next = if stop {
            store.record_attempt(&claimed, &attempt_ref, &ts)?;
            None
        } else {
            let q = ClaimQuery { now: &ts, due_by: &due_by, after_id: claimed.id, only, alive: &process_alive };
            store.record_and_claim_next(&claimed, &attempt_ref, &q)?
        };
        reports.push(report);
    }
    if let Some(s) = session {
        s.close();
    }
    Ok(reports)
}

/// Delivers messages this process already claimed (`notify` and `reply` delivering
/// at once, one per recipient), over one connection reused for all.
pub fn deliver_claimed(store: &mut Store, delivery: &Delivery, claimed: Vec<Claimed>) -> Result<Vec<Report>, Failure> {
    let mut session = None;
    let mut reports: Vec<Report> = Vec::new();
    // Set when the relay could not be reached or refused us: the other messages would
    // only wait as long again to fail the same way, so they wait for a flush instead
    // (still recorded, so none is left `sending`).
    let mut unreachable: Option<SendError> = None;
    for claimed in claimed {
        let outcome = match &unreachable {
            Some(SendError::Setup(e)) => Err(SendError::Setup(e.clone())),
            Some(e) => Err(SendError::Transient(format!("not tried, the relay failed for the message before: {}", e.text()))),
            None => attempt(&claimed, &mut session, delivery, (delivery.clock)()),
        };
        if let Err(e @ (SendError::Transient(_) | SendError::Setup(_))) = &outcome
            && session.is_none()
            && unreachable.is_none()
        {
            unreachable = Some(match e {
                SendError::Setup(t) => SendError::Setup(t.clone()),
                other => SendError::Transient(other.text().to_string()),
            });
        }
        let ended = (delivery.clock)();
        let (attempt_record, report) = outcome_record(&claimed, outcome, ended);
        store.record_attempt(&claimed, &attempt_record.as_attempt(), &timestamp(ended))?;
        reports.push(report);
    }
    if let Some(s) = session {
        s.close();
    }
    Ok(reports)
}

fn attempt(claimed: &Claimed, session: &mut Option<Session>, delivery: &Delivery, now: DateTime<Utc>) -> Result<String, SendError> {
    let created = DateTime::parse_from_rfc3339(&claimed.lifetime_from).map(|t| t.with_timezone(&Utc)).unwrap_or(now);
    if now - created > delivery.lifetime {
        return Err(SendError::Permanent(format!("not delivered within {} hours of queueing; giving up", delivery.lifetime.num_hours())));
    }
    let bytes = claimed.bytes.as_deref().map_err(|e| SendError::Permanent(e.clone()))?;
    if let Some(at) = first_bare_line_end(bytes) {
        // Never let a bare CR or LF reach lettre (RUSTSEC-2026-0561).
        return Err(SendError::Permanent(format!("refusing to send: bare CR or LF at byte {at}")));
    }
    if session.as_ref().is_none_or(|s| !s.usable()) {
        let password = (delivery.password)().map_err(|f| SendError::Setup(f.message))?;
        *session = Some(Session::open(delivery.relay, password.as_ref())?);
    }
    let Some(open) = session.as_mut() else { return Err(SendError::Transient("no connection".into())) };
    let result = open.send(&claimed.envelope_from, &claimed.envelope_to, bytes);
    if result.is_err() && !open.usable() {
        *session = None;
    }
    result
}

/// An attempt's end as it will be recorded (owned, so the store can take it with
/// the next claim in one transaction).
enum Ended {
    Sent(String),
    Deferred { error: String, next: String, possibly_delivered: bool },
    Failed(String),
}

impl Ended {
    fn as_attempt(&self) -> Attempt<'_> {
        match self {
            Ended::Sent(reply) => Attempt::Sent { reply },
            Ended::Deferred { error, next, possibly_delivered } => {
                Attempt::Deferred { error, next_attempt_at: next, possibly_delivered: *possibly_delivered }
            }
            Ended::Failed(error) => Attempt::Failed { error },
        }
    }
}

fn outcome_record(claimed: &Claimed, outcome: Result<String, SendError>, now: DateTime<Utc>) -> (Ended, Report) {
    let mut report = Report {
        reference: claimed.reference.clone(),
        message_id: claimed.message_id.clone(),
        recipient: claimed.recipient.clone(),
        state: MessageState::Sent,
        detail: String::new(),
        next_attempt_at: None,
        needs_fixing: false,
        possibly_delivered: claimed.was_interrupted,
    };
    let ended = match outcome {
        Ok(reply) => {
            report.detail = reply.clone();
            Ended::Sent(reply)
        }
        Err(SendError::Permanent(error)) => {
            report.state = MessageState::Failed;
            report.detail = error.clone();
            Ended::Failed(error)
        }
        Err(e) => {
            let possibly_delivered = claimed.was_interrupted || matches!(e, SendError::PossiblyDelivered(_));
            let next = timestamp(now + backoff(claimed.attempts));
            report.state = MessageState::Deferred;
            report.detail = e.text().to_string();
            report.next_attempt_at = Some(next.clone());
            report.needs_fixing = matches!(e, SendError::Setup(_));
            report.possibly_delivered = possibly_delivered;
            Ended::Deferred { error: e.text().to_string(), next, possibly_delivered }
        }
    };
    (ended, report)
}

/// Keyring entry name for the relay password.
pub fn smtp_keyring_user(relay: &Relay) -> String {
    format!("smtp:{}@{}", relay.username.as_deref().unwrap_or(""), relay.host)
}

/// The relay password from the configured source (or the OS keyring); `None` when
/// the relay takes no login.
pub fn smtp_password(settings: &crate::config::Settings, relay: &Relay) -> Result<Option<Secret>, Failure> {
    if relay.username.is_none() {
        return Ok(None);
    }
    let user = smtp_keyring_user(relay);
    smtp_password_source(settings, &user).resolve().map(Some)
}

/// Where the configuration says the relay password comes from (`keyring_user`
/// from [`smtp_keyring_user`]).
pub fn smtp_password_source<'a>(settings: &'a crate::config::Settings, keyring_user: &'a str) -> crate::secrets::SecretSource<'a> {
    let smtp = settings.file.smtp.as_ref();
    crate::secrets::SecretSource {
        purpose: "the SMTP password",
        config_hint: "[smtp] password",
        env: smtp.and_then(|s| s.password_env.as_deref()),
        command: smtp.and_then(|s| s.password_command.as_deref()),
        keyring_user,
    }
}

/// One line a person can act on.
pub fn describe(r: &Report) -> String {
    match r.state {
        MessageState::Sent => format!("{}: delivered <{}>: {}", r.reference, r.message_id, r.detail),
        MessageState::Failed | MessageState::Bounced => {
            format!(
                "{}: FAILED, not delivered <{}>: {}. Call the CERT; once the cause is fixed, `certmail outbox retry {}` sends the same message again.",
                r.reference, r.message_id, r.detail, r.reference
            )
        }
        _ => {
            let possibly = if r.possibly_delivered { " (it may have arrived; it will be sent again)" } else { "" };
            let fix = if r.needs_fixing { " Fix the relay settings, then run `certmail outbox flush`." } else { "" };
            format!("{}: queued for retry at {}{possibly}: {}.{fix}", r.reference, r.next_attempt_at.as_deref().unwrap_or("?"), r.detail)
        }
    }
}

/// 0 if all went out, 1 if any failed or the relay needs fixing, 3 if any waits.
pub fn summary_outcome(reports: &[Report]) -> CmdResult {
    if reports.iter().any(|r| r.state == MessageState::Failed || r.needs_fixing) {
        Err(Failure::new(crate::exit::FailureKind::Delivery, "delivery failed; see above"))
    } else if reports.iter().any(|r| r.state == MessageState::Deferred) {
        Ok(Outcome::Queued)
    } else {
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1).num_seconds(), 60);
        assert_eq!(backoff(2).num_seconds(), 120);
        assert_eq!(backoff(6).num_seconds(), 1920);
        assert_eq!(backoff(7).num_seconds(), 3600);
        assert_eq!(backoff(50).num_seconds(), 3600);
    }
}
