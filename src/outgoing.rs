//! What `notify` and `reply` send, from letters to the result they print: one message
//! per recipient, each signed by the reporter and encrypted to that recipient and to
//! the reporter only, written into the outbox, and all committed together (with the
//! incident's revision and any idempotency key) before the first SMTP byte; then
//! delivered over one connection, each message with its own state.
//!
//! The result is a value ([`Sent`]): printed as text or JSON, kept under an
//! idempotency key, and printed again from there when a script retries, so a retry
//! sees the same reference, the same JSON and the same exit code, and nothing is sent.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::anchor::LogHead;
use crate::config::Settings;
use crate::crypto::{self, Identity, UnlockedSigner, pretty_fingerprint};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::mime::{self, Headers, Mailbox};
use crate::outbox::{self, Delivery, Report, describe};
use crate::output;
use crate::recipients::Ready;
use crate::store::{KeyUse, MessageBytes, MessageState, NewKey, NewMessage, Pending, Record, Revision, Store, Thread, timestamp};
use crate::transport::Relay;
use crate::warnings::Warning;

/// The reporter, as every message is signed and sent.
pub struct Signing<'a> {
    pub identity: &'a Identity,
    pub signer: &'a UnlockedSigner,
    pub from: Mailbox,
    pub now: DateTime<Utc>,
    /// The team members' keys, to which every message is encrypted too (team.rs).
    pub team: Vec<sequoia_openpgp::Cert>,
}

impl<'a> Signing<'a> {
    /// Signing as this home: from its identity's name and address, encrypted to its
    /// team's members too.
    pub fn of_home(
        settings: &Settings,
        identity: &'a Identity,
        signer: &'a UnlockedSigner,
        now: DateTime<Utc>,
    ) -> Result<Signing<'a>, Failure> {
        let id = settings.identity()?;
        let team = crate::team::certs(&crate::team::load(settings, now.into())?);
        Ok(Signing { identity, signer, from: Mailbox { name: id.name.clone(), address: id.email.clone() }, now, team })
    }
}

/// One recipient's message before it is signed.
pub struct Letter {
    pub ready: Ready,
    pub subject: String,
    pub body: String,
    pub thread: Thread,
}

/// What every message of one command carries besides its text.
pub struct Parts<'a> {
    /// Fresh readers of the attachments and packed samples, for one message.
    pub attachments: &'a dyn Fn() -> Result<Vec<mime::Attachment>, Failure>,
    /// The final size to expect for a body of this many bytes (where the bytes go).
    pub estimate: &'a dyn Fn(usize) -> u64,
    /// max-message-bytes.
    pub limit: u64,
}

/// What a command sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    Notification,
    FollowUp,
    Reply,
}

impl Kind {
    fn noun(self) -> &'static str {
        match self {
            Kind::Notification => "notification",
            Kind::FollowUp => "follow-up",
            Kind::Reply => "message",
        }
    }
}

/// How the messages are recorded.
pub struct Queue<'a> {
    pub kind: Kind,
    pub revision: Revision<'a>,
    /// An idempotency key and the SHA-256 of the request made under it.
    pub key: Option<(&'a str, &'a str)>,
    /// Delivered at once (a relay is configured): claimed in the same commit.
    pub relay: bool,
    pub out: Option<&'a Path>,
    pub store_path: &'a Path,
    /// Said before sending; kept in the result (its JSON `warnings`).
    pub warnings: Vec<Warning>,
}

/// Messages committed to the outbox, not delivered yet.
pub struct Queued {
    written: Vec<Written>,
    sent: Sent,
    key: Option<String>,
}

/// A message signed, encrypted and in its sink, not yet committed.
struct Written {
    ready: Ready,
    message_id: String,
    in_reply_to: Option<String>,
    bytes: MessageBytes,
}

/// Signs and encrypts one message per letter and commits them together; after this
/// returns, every message survives a crash. Fails closed: if any message cannot be
/// made, none is queued.
pub fn queue(pending: Pending, signing: &Signing, letters: Vec<Letter>, parts: &Parts, how: Queue) -> Result<Queued, Failure> {
    let log_head = pending.log_head()?;
    let mut written: Vec<Written> = Vec::new();
    for letter in letters {
        match write_one(&pending, signing, &log_head, letter, parts) {
            Ok(w) => written.push(w),
            Err(f) => {
                written.iter().for_each(|w| w.bytes.discard());
                return Err(f);
            }
        }
    }
    let several = written.len() > 1;
    let messages: Vec<SentMessage> =
        written.iter().map(|w| SentMessage::queued(w, how.out.map(|o| out_path(o, &w.ready.recipient.id, several)))).collect();
    let sent = Sent {
        reference: pending.reference.clone(),
        kind: how.kind,
        messages,
        store: how.store_path.to_path_buf(),
        relay: how.relay,
        warnings: how.warnings,
    };
    let result = serde_json::to_value(&sent).map_err(|e| Failure::new(crate::exit::FailureKind::Internal, format!("the result: {e}")))?;
    let key = how.key.map(|(key, request)| NewKey { key, command: how.kind.noun(), request, result: &result });
    let new_messages: Vec<NewMessage> = written
        .iter()
        .map(|w| NewMessage {
            message_id: &w.message_id,
            recipient: &w.ready.recipient.id,
            recipient_fingerprint: &w.ready.key.fingerprint,
            envelope_from: &signing.from.address,
            envelope_to: &w.ready.recipient.config.address,
            in_reply_to: w.in_reply_to.as_deref(),
            bytes: &w.bytes,
        })
        .collect();
    let record = Record { revision: how.revision, messages: &new_messages, key, claim: how.relay };
    // Ctrl-C waits for the commit, then says the mail is queued (signals.rs).
    let mut on_interrupt = crate::signals::hold();
    if let Err(f) = pending.commit(&record, &timestamp(signing.now)) {
        written.iter().for_each(|w| w.bytes.discard());
        return Err(f);
    }
    if let Some(line) = on_interrupt.as_mut() {
        **line = format!("{} is queued; `certmail outbox flush` sends it", sent.reference);
    }
    drop(on_interrupt);
    Ok(Queued { written, sent, key: how.key.map(|(k, _)| k.to_string()) })
}

fn write_one(pending: &Pending, signing: &Signing, log_head: &LogHead, letter: Letter, parts: &Parts) -> Result<Written, Failure> {
    let recipient = &letter.ready.recipient;
    let message_id = crate::compose::new_message_id(&signing.from.address)?;
    let headers = Headers {
        from: signing.from.clone(),
        to: Mailbox { name: recipient.display_name().to_string(), address: recipient.config.address.clone() },
        subject: letter.subject,
        date: signing.now.to_rfc2822(),
        message_id: message_id.clone(),
        in_reply_to: letter.thread.in_reply_to,
        references: letter.thread.references,
        reference: pending.reference.clone(),
        // Read under the write lock `begin` took: no event can come between it and ours.
        log_head: Some(log_head.clone()),
    };
    let attachments = (parts.attachments)()?;
    let mut sink = pending.message_sink(&message_id, (parts.estimate)(letter.body.len()))?;
    let written = sink.write_all(mime::outer_head(&headers).as_bytes()).map_err(|e| e.to_string()).and_then(|()| {
        crypto::sign_and_encrypt(
            signing.identity,
            signing.signer,
            &letter.ready.key.cert,
            &signing.team,
            signing.now.into(),
            &mut sink,
            |w| mime::write_inner(&headers, &letter.body, attachments, w),
        )
    });
    written.and_then(|()| sink.write_all(mime::outer_tail(&headers).as_bytes()).map_err(|e| e.to_string())).map_err(|e| {
        Failure::new(
            crate::exit::FailureKind::Crypto,
            format!("signing and encrypting the message to '{}' failed, nothing was queued: {e}", recipient.id),
        )
    })?;
    let bytes = sink.finish()?;
    if bytes.len() > parts.limit {
        bytes.discard();
        return Err(Failure::input(format!(
            "the message to '{}' would be {} bytes, over the limit of {} bytes (max-message-bytes in the configuration); nothing was queued. Send large evidence separately, e.g. split into several replies",
            recipient.id,
            bytes.len(),
            parts.limit
        )));
    }
    Ok(Written { ready: letter.ready, message_id, in_reply_to: headers.in_reply_to, bytes })
}

/// With several recipients, `--out FILE` writes one file each: `sent.eml` becomes
/// `sent.cfcs.eml`, `sent.sector-cert.eml`.
fn out_path(out: &Path, recipient: &str, several: bool) -> PathBuf {
    if !several {
        return out.to_path_buf();
    }
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let name = match out.extension() {
        Some(ext) => format!("{stem}.{recipient}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{recipient}"),
    };
    out.with_file_name(name)
}

/// Writes `--out` copies, then delivers the messages (with a relay) over one
/// connection, each recording its own state; the result is kept under the key.
pub fn deliver(store: &mut Store, settings: &Settings, relay: Option<&Relay>, queued: Queued) -> Result<Sent, Failure> {
    let Queued { written, mut sent, key } = queued;
    for (w, m) in written.iter().zip(&sent.messages) {
        if let Some(out) = &m.out {
            w.bytes.copy_to(out).map_err(|f| f.context(format!("{} is queued, but --out failed", sent.reference)))?;
        }
    }
    // Said before the first byte to the relay, so a slow or silent relay never leaves
    // the person wondering whether anything happened (stderr: stdout is the result).
    let count = match sent.messages.len() {
        1 => String::new(),
        n => format!(" ({n} messages)"),
    };
    output::note(&format!("{}: {} queued in the outbox{count}.", sent.reference, sent.kind.noun()));
    let Some(relay) = relay else { return Ok(sent) };
    output::note(&format!("Delivering to {} (at most {} s) …", relay.name(), relay.timeout.as_secs()));
    let password = || outbox::smtp_password(settings, relay);
    let clock = Utc::now;
    let delivery = Delivery { relay, password: &password, lifetime: settings.outbox_lifetime(), clock: &clock, retry_now: false };
    let claimed = written.iter().map(|w| store.claimed_by_me(&w.message_id)).collect::<Result<Vec<_>, _>>()?;
    let reports = outbox::deliver_claimed(store, &delivery, claimed)?;
    // Given up at once (a permanent rejection): told as a flush would tell it.
    crate::commands::outbox::tell_failures(settings, store, &reports);
    for (m, r) in sent.messages.iter_mut().zip(&reports) {
        m.delivered(r);
        if r.state == MessageState::Sent {
            output::note(&format!("{}: delivered to {}.", sent.reference, m.to));
        } else {
            output::note(&format!("{}: not delivered to {}: {}", sent.reference, m.to, r.detail));
        }
    }
    if let Some(key) = &key {
        let result =
            serde_json::to_value(&sent).map_err(|e| Failure::new(crate::exit::FailureKind::Internal, format!("the result: {e}")))?;
        store.record_key_result(key, &result)?;
    }
    Ok(sent)
}

/// A retry under an idempotency key: the first result again, and nothing sent.
/// The same key for another request is refused.
pub fn replay(settings: &Settings, key: &str, request: &str, used: KeyUse, json: bool) -> CmdResult {
    if used.request != request {
        return Err(Failure::new(
            crate::exit::FailureKind::Conflict,
            format!(
                "--idempotency-key {key} was used at {} for another {} ({}); nothing was sent. Use a new key for a new request",
                used.created_at, used.command, used.reference
            ),
        ));
    }
    let sent: Sent = serde_json::from_value(used.result).map_err(|e| {
        Failure::new(crate::exit::FailureKind::Internal, format!("the result kept under --idempotency-key {key} cannot be read: {e}"))
    })?;
    output::warn(&format!(
        "--idempotency-key {key} was used at {} ({}): nothing was sent again; this is that run's result",
        used.created_at, sent.reference
    ));
    sent.finish(settings, json)
}

/// The SHA-256 of a request, to hold an idempotency key to what was asked under it.
pub fn request_sha256(request: &serde_json::Value) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(request.to_string().as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// What a command sent, and how far each message got.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Sent {
    pub reference: String,
    pub kind: Kind,
    /// One per recipient, in the order given.
    pub messages: Vec<SentMessage>,
    pub store: PathBuf,
    /// A relay was configured, so delivery was tried.
    pub relay: bool,
    /// What was said before sending (none in a result kept before there were any).
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// One recipient's message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SentMessage {
    pub message_id: String,
    pub recipient: String,
    pub name: String,
    pub to: String,
    pub fingerprint: String,
    pub bytes: u64,
    pub state: MessageState,
    /// The relay's reply when sent, else the error.
    pub detail: Option<String>,
    pub next_attempt_at: Option<String>,
    pub possibly_delivered: bool,
    pub needs_fixing: bool,
    pub test_only: bool,
    pub phone: String,
    pub out: Option<PathBuf>,
}

impl SentMessage {
    fn queued(w: &Written, out: Option<PathBuf>) -> SentMessage {
        let r = &w.ready.recipient;
        SentMessage {
            message_id: w.message_id.clone(),
            recipient: r.id.clone(),
            name: r.display_name().to_string(),
            to: r.config.address.clone(),
            fingerprint: w.ready.key.fingerprint.clone(),
            bytes: w.bytes.len(),
            state: MessageState::Queued,
            detail: None,
            next_attempt_at: None,
            possibly_delivered: false,
            needs_fixing: false,
            test_only: r.config.test_only,
            phone: r.phone().to_string(),
            out,
        }
    }

    fn delivered(&mut self, r: &Report) {
        self.state = r.state;
        self.detail = Some(r.detail.clone());
        self.next_attempt_at = r.next_attempt_at.clone();
        self.possibly_delivered = r.possibly_delivered;
        self.needs_fixing = r.needs_fixing;
    }

    fn report(&self, reference: &str) -> Report {
        Report {
            reference: reference.to_string(),
            message_id: self.message_id.clone(),
            recipient: self.recipient.clone(),
            state: self.state,
            detail: self.detail.clone().unwrap_or_default(),
            next_attempt_at: self.next_attempt_at.clone(),
            needs_fixing: self.needs_fixing,
            possibly_delivered: self.possibly_delivered,
        }
    }
}

impl Sent {
    /// 1 if any message failed or the relay needs fixing, 3 if any is not delivered
    /// yet, else 0.
    pub fn outcome(&self) -> CmdResult {
        let states = || self.messages.iter().map(|m| m.state);
        if self.messages.iter().any(|m| m.needs_fixing) || states().any(|s| matches!(s, MessageState::Failed | MessageState::Bounced)) {
            Err(Failure::new(crate::exit::FailureKind::Delivery, "delivery failed; see above"))
        } else if states().any(|s| s != MessageState::Sent) {
            Ok(Outcome::Queued)
        } else {
            Ok(Outcome::Done)
        }
    }

    /// The JSON scripts read: the first message's fields at the top (for one
    /// recipient, the only one), and every message under `messages`.
    pub fn to_json(&self) -> serde_json::Value {
        let first = self.messages.first();
        serde_json::json!({
            "reference": self.reference,
            "kind": self.kind,
            "message_id": first.map(|m| &m.message_id),
            "state": first.map(|m| m.state),
            "detail": first.and_then(|m| m.detail.as_ref()),
            "next_attempt_at": first.and_then(|m| m.next_attempt_at.as_ref()),
            "recipient": first.map(|m| &m.recipient),
            "to": first.map(|m| &m.to),
            "fingerprint": first.map(|m| &m.fingerprint),
            "bytes": first.map(|m| m.bytes),
            "store": self.store,
            "out": first.and_then(|m| m.out.as_ref()),
            "messages": self.messages,
            "warnings": crate::warnings::json(&self.warnings),
        })
    }

    /// Prints the result and ends the command: under --json a failed delivery is
    /// one object, the result with its `error` beside it, never two.
    pub fn finish(&self, settings: &Settings, json: bool) -> CmdResult {
        let outcome = self.outcome();
        match (json, outcome) {
            (true, Err(failure)) => Err(failure.with_report(self.to_json())),
            (true, ok) => {
                output::json(&self.to_json());
                ok
            }
            (false, outcome) => {
                self.print_text(settings);
                outcome
            }
        }
    }

    fn print_text(&self, settings: &Settings) {
        let reference = &self.reference;
        let team = match crate::team::others_encrypted_to(settings, std::time::SystemTime::now()) {
            0 => String::new(),
            n => format!(" and {n} team member(s)"),
        };
        for m in &self.messages {
            output::say(&format!(
                "{reference}: {} signed and encrypted to {} <{}> (key {}), to you{team}; queued in the outbox.",
                self.kind.noun(),
                m.name,
                m.to,
                pretty_fingerprint(&m.fingerprint)
            ));
            output::say(&format!("  Message-ID: <{}>, {} bytes, stored in {}", m.message_id, m.bytes, self.store.display()));
            if let Some(out) = &m.out {
                output::say(&format!("  Exact bytes also written to {}", out.display()));
            }
            match (self.relay, m.state) {
                (true, MessageState::Queued | MessageState::Sending) => {
                    output::say("  Delivery did not finish: `certmail outbox flush` sends it.");
                }
                (true, _) => output::say(&format!("  {}", describe(&m.report(reference)))),
                (false, _) => output::say(&format!(
                    "  Not sent: no [smtp] relay is configured in {}. Add one (see README, \"Delivery\"), then run `certmail outbox flush`.",
                    settings.config_path.display()
                )),
            }
            if m.test_only {
                output::say(
                    "  Test-only recipient: this reaches no real CERT. For a real incident notify cfcs, or call CFCS at +45 3332 5580.",
                );
            } else if m.state != MessageState::Sent {
                output::say(&format!("  The CERT does not have it yet. If the incident is urgent, call {} now.", m.phone));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn several_recipients_get_one_out_file_each() {
        assert_eq!(out_path(Path::new("/t/sent.eml"), "cfcs", false), Path::new("/t/sent.eml"));
        assert_eq!(out_path(Path::new("/t/sent.eml"), "cfcs", true), Path::new("/t/sent.cfcs.eml"));
        assert_eq!(out_path(Path::new("sent"), "sector-cert", true), Path::new("sent.sector-cert"));
    }
}
