//! Ingest of one received message: parse (reply), read through its OpenPGP layers
//! (reading), find the incident its signed content names (binding), classify, and
//! record it with its events (store).
//!
//! A reply changes an incident's state only when a good signature by a pinned
//! recipient's key covers the whole message and what it covers names the incident.
//! Then the CERT has received the notification (acknowledged), whatever the wording;
//! its text says whether it also asks, closes its case, or gives a case number.
//! Everything else is recorded with its real status and threaded for reading only.

mod binding;
pub mod reading;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::crypto::{self, Decryptor, SignatureStatus, Verified};
use crate::exit::Failure;
use crate::identity;
use crate::recipients;
use crate::reply::{self, Kind, Mail};
use crate::store::{Correlation, MessageState, NewReceived, Store};
use reading::{Reader, Reading};

pub use reading::MAX_PLAINTEXT_BYTES;

/// Unsigned, unencrypted mail larger than this is recorded by its hash only.
const MAX_UNSIGNED_KEPT: usize = 1024 * 1024;

/// A signature made this long before the notification existed still counts (the
/// CERT's clock may be behind ours); earlier than that it cannot be about it.
const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);

/// How one message was recorded. The fields are in alphabetical order: `--json`
/// prints a line per message as they serialize, in the order of every other JSON
/// certmail prints (its objects' keys sorted), without building a map of each.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    /// For a delivery status notification: what it says of which message of ours.
    pub bounce: Option<BounceReport>,
    /// A good, whole-message signature whose content names `incident`.
    pub bound: bool,
    /// Why a message is malformed, or what a bounce said.
    pub detail: Option<String>,
    /// Recorded before: nothing was added this time.
    pub duplicate: bool,
    pub encrypted: bool,
    /// What an analyst should know (from-mismatch, replay, message-id-reused, ...).
    pub flags: Vec<String>,
    /// The incident the message is about: the one it is bound to, else the one it is
    /// threaded to (for reading only).
    pub incident: Option<String>,
    pub kind: Kind,
    pub message_id: Option<String>,
    pub signature: SignatureStatus,
    pub signer: Option<String>,
    /// The pinned recipient whose key made the good signature.
    pub signer_recipient: Option<String>,
    pub source: String,
    /// The message changed the incident's state (acknowledged, question, closed).
    pub state_changed: bool,
}

/// What a delivery status notification (a bounce) reports, and of which message.
#[derive(Debug, Clone, serde::Serialize)]
pub struct BounceReport {
    /// Undelivered for good (else only delayed).
    pub failed: bool,
    /// The message of ours it names, if it names one.
    pub message_id: Option<String>,
    /// The recipient (CERT) that message went to: the one to call.
    pub recipient: Option<String>,
    /// That message's state when the bounce came (none: it names no message of ours).
    pub state: Option<MessageState>,
}

impl BounceReport {
    /// A message of ours that a relay took is reported undelivered for good: the
    /// notification did not reach the CERT.
    pub fn undelivered(&self) -> bool {
        self.failed && self.state.is_some_and(MessageState::relay_accepted)
    }

    /// It names a message of ours that no relay has taken yet: it cannot be about
    /// anything we sent (a forged bounce, or a relay's mistake), and changes nothing.
    pub fn for_unsent(&self) -> bool {
        self.state.is_some_and(|s| !s.relay_accepted())
    }
}

/// The reporter's decryption keys, unlocked the first time an encrypted message
/// needs them (a run of plain replies never asks for the passphrase).
pub struct LazyKeys<'a> {
    /// `None`: no key at all (reading hostile input in a fuzzer or a test).
    settings: Option<&'a Settings>,
    now: SystemTime,
    unlocked: Option<Decryptor>,
}

impl LazyKeys<'_> {
    pub fn get(&mut self) -> Result<&Decryptor, Failure> {
        if self.unlocked.is_none() {
            let settings = self.settings.ok_or_else(|| Failure::failed("no decryption key"))?;
            self.unlocked = Some(identity::unlock_decryptor(settings, self.now)?);
        }
        self.unlocked.as_ref().ok_or_else(|| Failure::failed("no decryption key"))
    }
}

/// Reads a message through its layers with no pinned certificate and no decryption
/// key, and classifies it: the whole untrusted path short of the store, for fuzzing.
pub fn read_untrusted(raw: &[u8], now: SystemTime) -> Result<(Reading, Kind), String> {
    let mail = parse_isolated(raw)?;
    let automatic = mail.auto_reply;
    let mut keys = LazyKeys { settings: None, now, unlocked: None };
    let reading = Reader { certs: &[], now, keys: &mut keys, reading_keys: &[] }.read(mail).map_err(|f| f.message)?;
    let text = reading.speaking_text();
    let _ = (reply::references_in(&text), reply::cert_case_number(&reading.signed.text));
    Ok((reading, reply::classify(&text, automatic)))
}

/// The pinned recipients' certificates, and whose each is.
pub struct Pinned {
    pub certs: Vec<Cert>,
    /// Primary fingerprint (hex) → recipient id.
    owner: HashMap<String, String>,
    /// Recipient id → its address, to flag a From that is not the signer's.
    address: HashMap<String, String>,
}

impl Pinned {
    /// Every configured recipient whose key is installed and matches its pin.
    pub fn load(settings: &Settings) -> Pinned {
        let mut pinned = Pinned { certs: Vec::new(), owner: HashMap::new(), address: HashMap::new() };
        for (id, recipient) in settings.recipients().unwrap_or_default() {
            pinned.address.insert(id.clone(), recipient.config.address.to_ascii_lowercase());
            if let Some(cert) = recipients::pinned_cert(&recipient) {
                pinned.owner.insert(cert.fingerprint().to_hex(), id);
                pinned.certs.push(cert);
            }
        }
        pinned
    }

    pub fn owner(&self, verified: &Verified) -> Option<&str> {
        verified.signer.as_deref().and_then(|f| self.owner.get(f)).map(String::as_str)
    }
}

pub struct Ingestor<'a> {
    pub store: Store,
    keys: LazyKeys<'a>,
    pinned: Pinned,
    now: SystemTime,
    timestamp: String,
    in_batch: usize,
    /// The CERT case numbers known so far: read once, extended as bound replies bring new ones.
    cert_cases: Option<Vec<String>>,
    /// Copy unsigned mail read from a file into the log too (see [`Prepared::file`]).
    pub keep_copies: bool,
    /// The team members, for whom each message this machine opens gets reading keys.
    team: Vec<crate::team::Member>,
}

/// Messages committed together; a crash loses at most this many, which the next
/// ingest adds again.
const BATCH: usize = 500;

/// What is decided about one message before it is recorded.
struct Decision {
    message_id: Option<String>,
    correlation: Option<Correlation>,
    kind: Kind,
    verified: Verified,
    encrypted: bool,
    identity: String,
    signer_recipient: Option<String>,
    bound: bool,
    flags: Vec<String>,
    detail: Option<String>,
    events: Vec<(&'static str, serde_json::Value)>,
    cert_case: Option<String>,
    bounced_message: Option<String>,
    bounce: Option<BounceReport>,
    from: Option<String>,
    subject: String,
    /// Replaces the row of this content recorded as unreadable (see `NewReceived`).
    replaces_unreadable: bool,
}

impl<'a> Ingestor<'a> {
    pub fn new(settings: &'a Settings, store: Store, now: SystemTime) -> Ingestor<'a> {
        let timestamp = crate::store::timestamp(now.into());
        Ingestor {
            store,
            keys: LazyKeys { settings: Some(settings), now, unlocked: None },
            pinned: Pinned::load(settings),
            now,
            timestamp,
            in_batch: 0,
            keep_copies: false,
            cert_cases: None,
            team: match crate::team::load(settings, now) {
                Ok(team) => team,
                Err(f) => {
                    // The replies are still read and recorded; only the members'
                    // reading keys wait for `certmail team reencrypt`.
                    crate::output::warn(&format!("no reading keys are made for the team: {}", f.message));
                    Vec::new()
                }
            },
        }
    }

    /// Commits what is not committed yet. Call when done.
    pub fn finish(&mut self) -> Result<(), Failure> {
        if self.in_batch > 0 {
            self.in_batch = 0;
            self.store.commit_batch()?;
        }
        Ok(())
    }

    /// Ingests one message. An `Err` means it could not be processed now (e.g. the
    /// reporter's key is locked) and nothing was recorded, so it can be retried.
    pub fn ingest(&mut self, source: &str, raw: &[u8]) -> Result<Outcome, Failure> {
        self.ingest_prepared(prepare(source, raw.to_vec()))
    }

    /// Ingests a message [`prepare`]d beforehand (possibly on another thread).
    pub fn ingest_prepared(&mut self, prepared: Prepared) -> Result<Outcome, Failure> {
        let Prepared { source, raw, hash, parsed, early, file } = prepared;
        let kept = Kept { raw: &raw, file: file.as_deref() };
        // An encrypted message recorded as unreadable (on a team, it was for another
        // member's key) is read again: this machine may hold that key.
        let unreadable_before = match self.store.already_received(&hash)? {
            Some(e) if e.kind == Kind::Malformed && e.encrypted && self.store.recorded_as_unreadable(&hash)? => Some(e),
            Some(e) => return Ok(duplicate(&source, e)),
            None => None,
        };
        let mail = match parsed {
            Ok(m) => m,
            Err(reason) => {
                let d = malformed(None, None, Verified::none(), false, format!("raw:{hash}"), reason);
                return self.record(&source, &hash, kept, d);
            }
        };
        let message_id = mail.message_id.clone();
        let from = mail.from.clone();
        let subject = mail.subject.clone();
        // The content moves into the reader; the envelope (headers) stays for deciding.
        let mut envelope = mail;
        let content = std::mem::replace(&mut envelope.content, reply::Content::Plain { parts: Vec::new() });
        // Reading (decrypting, verifying, parsing what is inside) runs on what the
        // sender chose: a panic there is this message's fault, so it is recorded as
        // malformed and the batch goes on.
        let mut opened = Vec::new();
        let read = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let (reading, early) = match early {
                Some((reading, early)) => (reading, Some(early)),
                None => {
                    let reading = Reader { certs: &self.pinned.certs, now: self.now, keys: &mut self.keys, reading_keys: &[] }
                        .read(Mail { content, ..envelope.clone() })?;
                    (reading, None)
                }
            };
            opened = reading.opened.iter().cloned().map(|k| (k, reading.encrypted_to.clone())).collect();
            self.decide(&envelope, reading, early, &hash)
        }));
        let mut decision = match read {
            Ok(decided) => decided?,
            Err(panic) => {
                let reason = format!("certmail failed while reading it: {}", panic_text(&*panic));
                malformed(None, None, Verified::none(), false, format!("raw:{hash}"), reason)
            }
        };
        decision.message_id = message_id;
        decision.from = from;
        decision.subject = subject;
        if let Some(e) = unreadable_before {
            if decision.kind == Kind::Malformed {
                return Ok(duplicate(&source, e));
            }
            // Its own earlier row named this Message-ID; that is not a reuse.
            decision.flags.retain(|f| f != "message-id-reused");
            decision.replaces_unreadable = true;
        } else if let Some(e) = self.store.same_message(&decision.identity, decision.message_id.as_deref())? {
            return Ok(duplicate(&source, e));
        }
        let outcome = self.record(&source, &hash, kept, decision)?;
        self.share(&raw, &opened)?;
        Ok(outcome)
    }

    /// Makes reading keys for every team member the message was not encrypted to,
    /// with the session keys this machine opened it with.
    fn share(&mut self, raw: &[u8], opened: &[(crypto::OpenedKey, Vec<String>)]) -> Result<(), Failure> {
        if opened.is_empty() || self.team.is_empty() {
            return Ok(());
        }
        let message = crate::store::reading_keys::message_key(raw);
        for (member, packets) in reading_keys_for(&self.team, opened, &[], self.now) {
            self.store.add_reading_keys(&message, &member, &packets, &self.timestamp)?;
        }
        Ok(())
    }

    /// What a read message is, which incident it is about, and what it may change.
    fn decide(&mut self, mail: &Mail, reading: Reading, early: Option<Early>, hash: &str) -> Result<Decision, Failure> {
        // What needs neither the store nor a key was worked out on a parser thread for
        // mail without OpenPGP; here it is worked out for the rest.
        let mut early = match early {
            Some(e) => e,
            None => Early::unread(mail, &reading),
        };
        early.references(&reading);
        let threaded = self.thread(mail, &reading, &early)?;
        // Mail about none of our incidents is known again by its bytes alone: the
        // same content in other headers is recorded twice, which changes nothing.
        let identity = match (&reading.signed_identity, early.identity.take()) {
            (Some(signed), _) => format!("signed:{signed}"),
            (None, Some(text)) => text,
            (None, None) if threaded.is_some() => text_identity(mail, &reading),
            (None, None) => format!("raw:{hash}"),
        };
        if let Some(problem) = reading.problem.clone() {
            // Threaded for reading, like any unverified mail: the analyst sees that
            // something unreadable arrived about the incident.
            return Ok(malformed(threaded, None, reading.verdict, reading.encrypted, identity, problem));
        }
        let mut flags = Vec::new();
        let signer_recipient = self.pinned.owner(&reading.verdict).map(str::to_string);
        if let (Some(signer), Some(from)) = (&signer_recipient, &mail.from)
            && self.pinned.address.get(signer).is_some_and(|a| !a.eq_ignore_ascii_case(from))
        {
            flags.push("from-mismatch".to_string());
        }
        if reading.verdict.status == SignatureStatus::Partial {
            flags.push("partly-signed".to_string());
        }
        let bound_to = if reading.is_whole_good() { self.bind(&reading, signer_recipient.as_deref(), &mut flags)? } else { None };
        // How it is named is kept for choosing between incidents; quoted text binds as
        // the issue asks (CERTs reply by quoting the notification), see binding.rs.
        let bound_to = bound_to.map(|(c, _)| c);
        let replay = bound_to.is_some() && reading.signed_identity.is_some() && self.store.identity_seen(&identity)?;
        if replay {
            flags.push("replay".to_string());
        }
        if let Some(id) = &mail.message_id
            && self.store.message_id_seen(id)?
        {
            flags.push("message-id-reused".to_string());
        }
        let bound = bound_to.is_some();
        // A replay of signed content already recorded changes nothing again: an
        // answered question is not reopened, a closure not repeated elsewhere.
        let may_change = bound && !replay;
        let mut correlation = bound_to.or(threaded);
        let mut events = Vec::new();
        let mut detail = None;
        let mut bounced_message = None;
        let mut bounce = None;
        let kind = if let Some(b) = &reading.bounce {
            let mut report = BounceReport { failed: b.failed, message_id: None, recipient: None, state: None };
            if let Some(original) = &b.original_message_id
                && let Some(c) = self.store.correlate_message_id(original)?
            {
                report.message_id = c.message_id.clone();
                report.recipient = c.recipient.clone();
                report.state = self.store.message_state(original)?;
                correlation = Some(c);
            }
            detail = Some(format!(
                "{} ({})",
                if b.failed { "delivery FAILED" } else { "delivery delayed" },
                b.status.as_deref().unwrap_or("no status")
            ));
            if report.for_unsent() {
                // Anyone can write a bounce: one for a message that never left would
                // otherwise cancel its delivery. Recorded, flagged, nothing changed.
                flags.push("bounce-for-unsent-message".to_string());
            } else if correlation.is_some() {
                events.push((
                    if b.failed { "bounced" } else { "delayed" },
                    serde_json::json!({ "status": b.status, "message": b.original_message_id }),
                ));
                if report.undelivered() {
                    bounced_message = report.message_id.clone();
                }
            }
            bounce = Some(report);
            Kind::Bounce
        } else if correlation.is_none() {
            Kind::Unrelated
        } else {
            early.kind(&reading)
        };
        let mut cert_case = None;
        if may_change && kind != Kind::Bounce {
            let signer = serde_json::json!({ "signer": reading.verdict.signer, "recipient": signer_recipient });
            events.push(("acknowledged", signer.clone()));
            if kind == Kind::Closed {
                events.push(("cert-closed", signer));
            }
            cert_case = reply::cert_case_number(&reading.signed.text);
            if let (Some(case), Some(cases)) = (&cert_case, self.cert_cases.as_mut())
                && !cases.contains(case)
            {
                cases.push(case.clone());
            }
        }
        Ok(Decision {
            message_id: None,
            correlation,
            kind,
            verified: reading.verdict,
            encrypted: reading.encrypted,
            identity,
            signer_recipient,
            bound,
            flags,
            detail,
            events,
            cert_case,
            bounced_message,
            bounce,
            from: None,
            subject: String::new(),
            replaces_unreadable: false,
        })
    }

    /// The incident the signed content names, if the signer is the recipient its
    /// notification went to and signed after the notification existed; with how it
    /// is named.
    fn bind(
        &mut self,
        reading: &Reading,
        signer: Option<&str>,
        flags: &mut Vec<String>,
    ) -> Result<Option<(Correlation, binding::Naming)>, Failure> {
        let cases = self.cert_cases()?.to_vec();
        let named = binding::named_incidents(&self.store, &reading.signed, &cases)?;
        let mut kept = Vec::new();
        for (c, how) in named {
            let to_signer = signer.is_some_and(|s| self.store.incident_recipients(c.incident_id).is_ok_and(|r| r.iter().any(|r| r == s)));
            if !to_signer {
                flags.push("signer-is-not-the-incidents-recipient".to_string());
                continue;
            }
            let created = chrono::DateTime::parse_from_rfc3339(&c.created_at).ok().map(SystemTime::from);
            let before = match (reading.verdict.signed_at, created) {
                (Some(signed), Some(created)) => signed + CLOCK_SKEW < created,
                _ => false,
            };
            if before {
                flags.push("signed-before-the-notification".to_string());
                continue;
            }
            kept.push((c, how));
        }
        match binding::choose(kept) {
            Ok(chosen) => Ok(Some(chosen)),
            Err(why) => {
                flags.push(why.to_string());
                Ok(None)
            }
        }
    }

    fn cert_cases(&mut self) -> Result<&[String], Failure> {
        if self.cert_cases.is_none() {
            self.cert_cases = Some(self.store.cert_cases()?);
        }
        Ok(self.cert_cases.as_deref().unwrap_or_default())
    }

    /// The incident a message is threaded to, for reading: its In-Reply-To and
    /// References, protected headers inside the encryption, then a reference or a
    /// known CERT case number in the subject or text. Never trusted for state.
    fn thread(&mut self, mail: &Mail, reading: &Reading, early: &Early) -> Result<Option<Correlation>, Failure> {
        let text = early.text.of(reading);
        let protected = reading.protected.as_ref();
        let ids = mail.in_reply_to.iter().chain(mail.references.iter().rev());
        let protected_ids = protected.into_iter().flat_map(|m| m.in_reply_to.iter().chain(m.references.iter().rev()));
        for id in ids.chain(protected_ids) {
            if let Some(c) = self.store.correlate_message_id(id)? {
                return Ok(Some(c));
            }
        }
        let subjects = [mail.subject.as_str(), protected.map_or("", |m| m.subject.as_str())];
        let in_subjects = subjects.iter().flat_map(|t| reply::references_in(t));
        let in_text = early.references.iter().flatten().cloned();
        for reference in in_subjects.chain(in_text) {
            if let Some(c) = self.store.correlate_reference(&reference)? {
                return Ok(Some(c));
            }
        }
        let cases = self.cert_cases()?.to_vec();
        for case in &cases {
            if subjects.iter().copied().chain([text]).any(|t| reply::contains_token(t, case))
                && let Some(c) = self.store.correlate_reference(case)?
            {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn record(&mut self, source: &str, hash: &str, kept: Kept, d: Decision) -> Result<Outcome, Failure> {
        let raw = kept.raw;
        let evidence = d.verified.status != SignatureStatus::None || d.encrypted;
        // Unsigned mail that has a file of its own stays there: copying every such
        // reply into the log tripled the time ingest takes on a busy Maildir, and
        // `certmail read` reads it from the file (checked against its hash).
        let copy = evidence || kept.file.is_none() || self.keep_copies;
        let state_changed = !d.events.is_empty() && d.bound;
        let new = NewReceived {
            message_id: d.message_id.as_deref(),
            content_hash: hash,
            identity: &d.identity,
            source,
            kind: d.kind,
            signature: d.verified.status,
            encrypted: d.encrypted,
            signer: d.verified.signer.as_deref(),
            signer_recipient: d.signer_recipient.as_deref(),
            bound: d.bound,
            flags: &d.flags,
            from: d.from.as_deref(),
            subject: &d.subject,
            reason: d.detail.as_deref(),
            raw,
            // Kept for `certmail read` when it is about an incident (other mail stays in
            // its mailbox and only its hash is kept); unsigned, unencrypted mail only up
            // to a size, so a flood of large unsigned mail cannot fill the log.
            keep_raw: evidence || (copy && raw.len() <= MAX_UNSIGNED_KEPT),
            file: if copy { None } else { kept.file.and_then(Path::to_str) },
            events: d.events.iter().map(|(k, v)| (*k, v.clone())).collect(),
            cert_case: d.cert_case.as_deref(),
            bounced_message: d.bounced_message.as_deref(),
            replaces_unreadable: d.replaces_unreadable,
        };
        if self.in_batch == 0 {
            self.store.begin_batch()?;
        }
        let fresh = self.store.record_received(d.correlation.as_ref(), &new, &self.timestamp)?;
        self.in_batch += 1;
        if self.in_batch >= BATCH {
            self.finish()?;
        }
        Ok(Outcome {
            source: source.into(),
            message_id: d.message_id.clone(),
            incident: d.correlation.map(|c| c.reference),
            kind: d.kind,
            signature: d.verified.status,
            encrypted: d.encrypted,
            signer: d.verified.signer,
            signer_recipient: d.signer_recipient,
            bound: d.bound,
            state_changed: state_changed && fresh,
            duplicate: !fresh,
            flags: d.flags,
            detail: d.detail,
            bounce: d.bounce,
        })
    }
}

fn malformed(
    correlation: Option<Correlation>,
    message_id: Option<String>,
    verified: Verified,
    encrypted: bool,
    identity: String,
    reason: String,
) -> Decision {
    Decision {
        message_id,
        correlation,
        kind: Kind::Malformed,
        verified,
        encrypted,
        identity,
        signer_recipient: None,
        bound: false,
        flags: Vec::new(),
        detail: Some(reason),
        events: Vec::new(),
        cert_case: None,
        bounced_message: None,
        bounce: None,
        from: None,
        subject: String::new(),
        replaces_unreadable: false,
    }
}

fn duplicate(source: &str, e: crate::store::Earlier) -> Outcome {
    Outcome {
        source: source.into(),
        message_id: e.message_id,
        incident: e.reference,
        kind: e.kind,
        signature: e.signature,
        encrypted: e.encrypted,
        signer: e.signer,
        signer_recipient: None,
        bound: e.bound,
        state_changed: false,
        duplicate: true,
        flags: Vec::new(),
        detail: None,
        bounce: None,
    }
}

/// The identity of a message no good signature covers: its Message-ID and what it
/// shows, with line ends and trailing white space normalised (the same mail from a
/// Maildir and from an mbox is one message).
fn text_identity(mail: &Mail, reading: &Reading) -> String {
    let mut h = Sha256::new();
    h.update(mail.message_id.as_deref().unwrap_or("").as_bytes());
    h.update([0]);
    // The normalised text is gathered in runs and hashed in large updates: one update
    // per line was a third of what the identity cost on a busy mailbox.
    let mut normalised = Vec::new();
    for p in &reading.parts {
        h.update(p.part.content_type.as_bytes());
        h.update([0]);
        match &p.part.text {
            Some(t) => hash_normalised(&mut h, t, &mut normalised),
            None => h.update(Sha256::digest(&p.part.bytes)),
        }
    }
    format!("text:{}", crate::compose::hex(&h.finalize()))
}

/// Hashes a text as its lines with their trailing white space removed, each ended
/// by a newline. Most text has nothing to remove: it is hashed as it is, and only
/// text with a line to trim is copied, line by line, into `scratch`.
fn hash_normalised(h: &mut Sha256, text: &str, scratch: &mut Vec<u8>) {
    let bytes = text.as_bytes();
    // The last character of each line, at the byte before its end: a line to trim
    // ends in white space (a CR before the LF is too). A non-ASCII last byte may
    // end a Unicode space: such text takes the slow way.
    let ends = crate::bytes::positions(bytes, b'\n').chain((!text.ends_with('\n')).then_some(bytes.len()));
    let untrimmed = ends.filter(|&end| end > 0).all(|end| {
        let last = bytes[end - 1];
        last == b'\n' || last.is_ascii() && !(last as char).is_whitespace()
    });
    if untrimmed {
        h.update(bytes);
        if !bytes.is_empty() && !text.ends_with('\n') {
            h.update(b"\n");
        }
        return;
    }
    scratch.clear();
    scratch.reserve(text.len() + 1);
    for line in crate::bytes::lines(text) {
        scratch.extend_from_slice(line.trim_end().as_bytes());
        scratch.push(b'\n');
    }
    h.update(&*scratch);
}

/// A message's bytes, and its file when it has one.
#[derive(Clone, Copy)]
struct Kept<'a> {
    raw: &'a [u8],
    file: Option<&'a Path>,
}

/// The part of ingest that needs nothing but the message: its hash and parse.
pub struct Prepared {
    pub source: String,
    pub raw: Vec<u8>,
    /// The file the message was read from (absolute), when it is a file of its own
    /// that stays where it is: unsigned mail is then not copied into the log.
    pub file: Option<PathBuf>,
    hash: String,
    parsed: Result<Mail, String>,
    /// For mail without OpenPGP: its reading and what follows from it alone.
    early: Option<(Reading, Early)>,
}

/// What a reading gives without the store: the text for threading, and, for mail
/// that can be threaded, the kind its words say and the identity of its content.
struct Early {
    /// All the text the message shows.
    text: ShownText,
    /// Worked out ahead only for mail that names something that threads it (see
    /// `ahead`).
    kind: Option<Kind>,
    /// Whether the headers say the message was sent automatically.
    automatic: bool,
    /// The identity of its unsigned content, worked out ahead with the kind.
    identity: Option<String>,
    /// The references its text names, in order, once looked for (the text is read
    /// for them once, on a parser thread when it can be).
    references: Option<Vec<String>>,
}

impl Early {
    /// On a parser thread: the kind and the identity are worked out only when the
    /// message names a message or a reference, which is what threads most mail; the
    /// rest (mail about nothing of ours, most of a busy mailbox) is read further only
    /// if it turns out to be threaded after all, by a CERT case number.
    fn ahead(mail: &Mail, reading: &Reading) -> Early {
        let mut early = Early::unread(mail, reading);
        let names_something = !mail.in_reply_to.is_empty()
            || !mail.references.is_empty()
            || reading.protected.is_some()
            || !reply::references_in(&mail.subject).is_empty()
            || !early.references(reading).is_empty();
        if names_something {
            early.kind(reading);
            early.identity = Some(text_identity(mail, reading));
        }
        early
    }

    /// The text and what the headers say; the kind and the identity are worked out
    /// when asked for.
    fn unread(mail: &Mail, reading: &Reading) -> Early {
        let automatic =
            mail.auto_reply || reading.protected.as_ref().is_some_and(|m| m.auto_reply) || reply::is_away_subject(&mail.subject);
        // Most mail shows one text part: it is read where it is, not copied.
        let text = ShownText { joined: reading.single_text().is_none().then(|| reading.text()) };
        Early { text, kind: None, automatic, identity: None, references: None }
    }

    /// The references the text names.
    fn references(&mut self, reading: &Reading) -> &[String] {
        let text = self.text.of(reading);
        self.references.get_or_insert_with(|| reply::references_in(text))
    }

    /// What the words say (what a good signature covers, when one covers any).
    fn kind(&mut self, reading: &Reading) -> Kind {
        let (text, automatic) = (self.text.of(reading), self.automatic);
        *self.kind.get_or_insert_with(|| match reading.signed_text() {
            Some(signed) => reply::classify(&signed, automatic),
            None => reply::classify(text, automatic),
        })
    }
}

/// All the text a message shows, for threading and classifying (the text of
/// [`Reading::text`], but for the line end it adds after a single part, which
/// neither reads). Apart from [`Early`]'s other fields, so that reading it and
/// filling their caches can go together.
struct ShownText {
    /// The parts' text joined, when there is more than one text part; `None`: the
    /// one part's text, read where it is in the reading (most mail).
    joined: Option<String>,
}

impl ShownText {
    fn of<'r>(&'r self, reading: &'r Reading) -> &'r str {
        match &self.joined {
            Some(text) => text,
            None => reading.single_text().unwrap_or_default(),
        }
    }
}

/// What a caught panic said.
fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an internal error".into())
}

/// Parses a message, holding a panic in the parser (mail-parser checks its own
/// invariants in debug builds) to this message: it is malformed, with the reason.
/// Every untrusted parse goes through here.
fn parse_isolated(raw: &[u8]) -> Result<Mail, String> {
    std::panic::catch_unwind(|| reply::parse(raw))
        .unwrap_or_else(|panic| Err(format!("certmail failed while parsing it: {}", panic_text(&*panic))))
}

/// Hashes and parses a message, and reads it when it has no OpenPGP layer (nothing
/// to decrypt or verify); pure, so it runs on the parser threads.
pub fn prepare(source: &str, raw: Vec<u8>) -> Prepared {
    let hash = crate::compose::hex(&Sha256::digest(&raw));
    let mut parsed = parse_isolated(&raw);
    let early = match &mut parsed {
        Ok(mail)
            if matches!(mail.content, reply::Content::Plain { .. } | reply::Content::Bounce { .. } | reply::Content::Unreadable { .. }) =>
        {
            // The content moves into the reading; what stays is the envelope.
            let content = std::mem::replace(&mut mail.content, reply::Content::Plain { parts: Vec::new() });
            let mut keys = LazyKeys { settings: None, now: SystemTime::UNIX_EPOCH, unlocked: None };
            let reading = Reader { certs: &[], now: SystemTime::UNIX_EPOCH, keys: &mut keys, reading_keys: &[] }
                .read(Mail { content, ..mail.clone() });
            // Plain mail needs no key, so reading it cannot fail; if it ever does, the
            // content is gone and the message is recorded as malformed with the reason.
            match reading {
                Ok(reading) => {
                    let early = Early::ahead(mail, &reading);
                    Some((reading, early))
                }
                Err(f) => {
                    parsed = Err(f.message);
                    None
                }
            }
        }
        _ => None,
    };
    Prepared { source: source.to_string(), raw, hash, parsed, early, file: None }
}

/// Reads stored messages again, through the same layers and verdicts as ingest
/// (for `certmail read`): nothing is recorded.
pub struct Rereader<'a> {
    keys: LazyKeys<'a>,
    pinned: Pinned,
    /// Who may have signed what was sent: this home's own key and the team members'.
    senders: Pinned,
    /// This home's key's primary fingerprint: the reading keys made for it.
    own: Option<String>,
    now: SystemTime,
}

impl<'a> Rereader<'a> {
    pub fn new(settings: &'a Settings, now: SystemTime) -> Rereader<'a> {
        let mut senders = Pinned { certs: Vec::new(), owner: HashMap::new(), address: HashMap::new() };
        let own = identity::read(settings).ok().map(|i| i.tsk.clone().strip_secret_key_material());
        if let Some(cert) = &own {
            senders.owner.insert(cert.fingerprint().to_hex(), "you".to_string());
            senders.certs.push(cert.clone());
        }
        for m in crate::team::load(settings, now).unwrap_or_default() {
            if own.as_ref().is_some_and(|c| c.fingerprint() == m.cert.fingerprint()) {
                continue;
            }
            senders.owner.insert(m.cert.fingerprint().to_hex(), format!("team member {}", m.user_id));
            senders.certs.push(m.cert);
        }
        Rereader {
            keys: LazyKeys { settings: Some(settings), now, unlocked: None },
            pinned: Pinned::load(settings),
            senders,
            own: own.map(|c| crypto::fingerprint(&c)),
            now,
        }
    }

    /// This home's key's primary fingerprint, by which its reading keys are found.
    pub fn own_fingerprint(&self) -> Option<&str> {
        self.own.as_deref()
    }

    /// The message read through its layers, trying `reading_keys` (made for this
    /// machine's key by a team member's) too; `Err` says why it cannot be read.
    /// Signatures are checked against the pinned recipients' keys.
    pub fn read(&mut self, raw: &[u8], reading_keys: &[u8]) -> Result<(Mail, Reading), String> {
        read_against(&self.pinned.certs, &mut self.keys, self.now, raw, reading_keys)
    }

    /// A message this team sent, read as [`Rereader::read`] does, its signature
    /// checked against this home's own key and the team members' instead: bytes
    /// changed in the shared store are then shown as not signed by any of them.
    pub fn read_sent(&mut self, raw: &[u8], reading_keys: &[u8]) -> Result<(Mail, Reading), String> {
        read_against(&self.senders.certs, &mut self.keys, self.now, raw, reading_keys)
    }

    /// The pinned recipient whose key made a signature, if any.
    pub fn signer(&self, verified: &Verified) -> Option<String> {
        self.pinned.owner(verified).map(str::to_string)
    }

    /// Whose key (this home's own, a team member's) signed a sent message, if any.
    pub fn sender(&self, verified: &Verified) -> Option<String> {
        self.senders.owner(verified).map(str::to_string)
    }

    /// Every key this home knows a name for (its own, the team members', the pinned
    /// recipients'), each subkey's key ID and fingerprint with its owner's name and
    /// primary fingerprint, fingerprints first (a v4 key ID ends its fingerprint).
    pub fn key_names(&self) -> Vec<(String, String)> {
        let owner = |from: &Pinned, cert: &Cert| from.owner.get(&cert.fingerprint().to_hex()).cloned().unwrap_or_default();
        let senders = self.senders.certs.iter().map(|c| (c, owner(&self.senders, c)));
        let recipients = self.pinned.certs.iter().map(|c| (c, format!("recipient {}", owner(&self.pinned, c))));
        let mut names = Vec::new();
        for (cert, who) in senders.chain(recipients) {
            let label = format!("{who}, key {}", crypto::pretty_fingerprint(&cert.fingerprint().to_hex()));
            for k in cert.keys() {
                names.push((k.key().fingerprint().to_hex(), label.clone()));
                names.push((k.key().keyid().to_hex(), label.clone()));
            }
        }
        names.sort_by_key(|(handle, _)| std::cmp::Reverse(handle.len()));
        names
    }
}

/// A message read through its layers, its signatures checked against `certs`.
fn read_against(certs: &[Cert], keys: &mut LazyKeys, now: SystemTime, raw: &[u8], reading_keys: &[u8]) -> Result<(Mail, Reading), String> {
    let mail = reply::parse(raw)?;
    let envelope = Mail { content: reply::Content::Plain { parts: Vec::new() }, ..mail.clone() };
    let reading = Reader { certs, now, keys, reading_keys }.read(mail).map_err(|f| f.message)?;
    Ok((envelope, reading))
}

/// Reading keys for each member that has none yet: not one the message's own
/// session-key packets name (they read it already), not one in `have`.
pub fn reading_keys_for(
    team: &[crate::team::Member],
    opened: &[(crypto::OpenedKey, Vec<String>)],
    have: &[String],
    now: SystemTime,
) -> Vec<(String, Vec<u8>)> {
    let mut made = Vec::new();
    for member in team.iter().filter(|m| m.can_encrypt && !have.contains(&m.fingerprint)) {
        let named = |to: &Vec<String>| {
            member.cert.keys().any(|k| {
                to.iter()
                    .any(|h| h.eq_ignore_ascii_case(&k.key().keyid().to_hex()) || h.eq_ignore_ascii_case(&k.key().fingerprint().to_hex()))
            })
        };
        let mut packets = Vec::new();
        for (key, _) in opened.iter().filter(|(_, to)| !named(to)) {
            packets.extend(crypto::reading_keys(key, std::slice::from_ref(&member.cert), now).0);
        }
        if !packets.is_empty() {
            made.push((member.fingerprint.clone(), packets));
        }
    }
    made
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The normalisation written the plain way: what every stored identity was made
    /// with, which the fast path must keep.
    fn slow(text: &str) -> String {
        let mut h = Sha256::new();
        let mut normalised = Vec::new();
        for line in crate::bytes::lines(text) {
            normalised.extend_from_slice(line.trim_end().as_bytes());
            normalised.push(b'\n');
        }
        h.update(&normalised);
        crate::compose::hex(&h.finalize())
    }

    #[test]
    fn an_outcome_serializes_with_its_keys_in_the_order_a_map_prints_them() {
        let outcome = Outcome {
            bounce: Some(BounceReport {
                failed: true,
                message_id: Some("m@x".into()),
                recipient: Some("cfcs".into()),
                state: Some(MessageState::Sent),
            }),
            bound: true,
            detail: Some("delivery FAILED (5.1.1)".into()),
            duplicate: false,
            encrypted: true,
            flags: vec!["from-mismatch".into()],
            incident: Some("CM-7KQ2-M9XD-3RTA".into()),
            kind: Kind::Bounce,
            message_id: Some("b@x".into()),
            signature: SignatureStatus::Good,
            signer: Some("AB".into()),
            signer_recipient: Some("cfcs".into()),
            source: "new/1.eml".into(),
            state_changed: true,
        };
        let direct = serde_json::to_string(&outcome).unwrap();
        assert_eq!(direct, serde_json::to_value(&outcome).unwrap().to_string());
        let keys: Vec<String> = serde_json::from_str::<serde_json::Value>(&direct).unwrap().as_object().unwrap().keys().cloned().collect();
        assert_eq!(keys.len(), 14, "every field is in this test: {keys:?}");
    }

    #[test]
    fn the_fast_identity_hashes_what_the_line_by_line_one_did() {
        let texts = [
            "",
            "\n",
            "\n\n",
            "a",
            "a\n",
            "a\n\nb\n",
            "a \n",
            "a\t\nb",
            "a\r\nb\r\n",
            "a\rb\n",
            "a\r",
            "tak\u{a0}\nfor",
            "tak\u{3000}",
            "ærø\n",
            "ærø",
            "line one\nline two",
            " lead\n  x\n",
            "\u{b}\n",
            "x\u{b}",
            "a\u{85}\n",
            "ends in space ",
        ];
        for text in texts {
            let mut h = Sha256::new();
            hash_normalised(&mut h, text, &mut Vec::new());
            assert_eq!(crate::compose::hex(&h.finalize()), slow(text), "{text:?}");
        }
    }
}
