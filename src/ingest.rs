//! Ingest of one received message: parse (reply), decrypt and verify (crypto),
//! correlate with an incident, classify, and record it with its events (store).
//! A message counts as the CERT's acknowledgement only with a good signature by the
//! pinned CERT key that covers the whole message; anything else keeps its real status.

use std::time::SystemTime;

use sha2::{Digest, Sha256};

use crate::config::Settings;
use crate::crypto::{self, Decryptor, SignatureStatus, Verified};
use crate::exit::Failure;
use crate::identity;
use crate::recipients;
use crate::reply::{self, Content, Kind, Mail};
use crate::store::{Correlation, NewReceived, Store};

/// Plaintext larger than this after decryption or decompression is refused.
pub const MAX_PLAINTEXT_BYTES: u64 = 50 * 1024 * 1024;

/// How one message was recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Outcome {
    pub source: String,
    pub message_id: Option<String>,
    pub incident: Option<String>,
    pub kind: String,
    pub signature: String,
    pub encrypted: bool,
    pub signer: Option<String>,
    /// Recorded before: nothing was added this time.
    pub duplicate: bool,
    /// Why a message is malformed, or what a bounce said.
    pub detail: Option<String>,
}

pub struct Ingestor<'a> {
    settings: &'a Settings,
    pub store: Store,
    now: SystemTime,
    timestamp: String,
    decryptor: Option<Decryptor>,
    in_batch: usize,
    /// Pinned certificates by recipient, read once per run.
    pinned: std::collections::HashMap<String, Option<sequoia_openpgp::Cert>>,
    /// The CERT case numbers known so far: read once, extended as replies bring new ones.
    cert_cases: Option<Vec<String>>,
}

/// Messages committed together; a crash loses at most this many, which the next
/// ingest adds again.
const BATCH: usize = 500;

/// What reading the content gave.
struct Read {
    text: String,
    verified: Verified,
    encrypted: bool,
    whole: bool,
    inner: Option<Mail>,
    bounce: Option<(bool, Option<String>, Option<String>)>,
    problem: Option<String>,
}

impl<'a> Ingestor<'a> {
    pub fn new(settings: &'a Settings, store: Store, now: SystemTime) -> Ingestor<'a> {
        let timestamp = crate::store::timestamp(now.into());
        Ingestor { settings, store, now, timestamp, decryptor: None, in_batch: 0, pinned: Default::default(), cert_cases: None }
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
        let Prepared { source, raw, hash, parsed } = prepared;
        let (source, raw) = (source.as_str(), raw.as_slice());
        if let Some(e) = self.store.already_received(&hash)? {
            return Ok(Outcome {
                source: source.into(),
                message_id: e.message_id,
                incident: e.reference,
                kind: e.kind,
                signature: e.signature,
                encrypted: e.encrypted,
                signer: e.signer,
                duplicate: true,
                detail: None,
            });
        }
        let mut mail = match parsed {
            Ok(m) => m,
            Err(reason) => {
                return self.record(source, &hash, raw, None, None, Kind::Malformed, &none(), false, Some(reason), Vec::new(), None, None);
            }
        };
        let mut correlation = self.correlate(&mail, mail_text_hint(&mail))?;
        let pinned = self.pinned(correlation.as_ref());
        let read = self.read(&mut mail, pinned.as_ref())?;
        if let Some(problem) = read.problem {
            return self.record(
                source,
                &hash,
                raw,
                mail.message_id.as_deref(),
                correlation.as_ref(),
                Kind::Malformed,
                &read.verified,
                read.encrypted,
                Some(problem),
                Vec::new(),
                None,
                None,
            );
        }
        if correlation.is_none() {
            // Protected headers inside the encryption, then the text itself.
            correlation = match &read.inner {
                Some(inner) => self.correlate(inner, &read.text)?,
                None => self.correlate_text("", &read.text)?,
            };
        }
        let mut events = Vec::new();
        let mut bounced = None;
        let mut detail = None;
        let kind = if let Some((failed, original, status)) = &read.bounce {
            if let Some(original) = original
                && let Some(c) = self.store.correlate_message_id(original)?
            {
                correlation = Some(c);
            }
            detail = Some(format!(
                "{} ({})",
                if *failed { "delivery FAILED" } else { "delivery delayed" },
                status.as_deref().unwrap_or("no status")
            ));
            if correlation.is_some() {
                let what = if *failed { "bounced" } else { "delayed" };
                events.push((what, serde_json::json!({ "status": status, "message": original })));
                if *failed {
                    bounced = original.clone();
                }
            }
            Kind::Bounce
        } else if mail.auto_reply || read.inner.as_ref().is_some_and(|m| m.auto_reply) {
            Kind::AutoReply
        } else if correlation.is_none() {
            Kind::Unrelated
        } else {
            let by_cert = read.verified.status == SignatureStatus::Good && read.whole;
            match reply::classify_text(&read.text) {
                Kind::Ack if by_cert => {
                    events.push(("acknowledged", serde_json::json!({ "signer": read.verified.signer })));
                    Kind::Ack
                }
                // Claims to acknowledge, but the pinned key does not vouch for all of it.
                Kind::Ack => Kind::Reply,
                Kind::Closed => {
                    if by_cert {
                        events.push(("closed", serde_json::json!({ "by": "cert", "signer": read.verified.signer })));
                    }
                    Kind::Closed
                }
                other => other,
            }
        };
        let case = correlation.as_ref().and_then(|_| reply::cert_case_number(&read.text));
        if let (Some(case), Some(cases)) = (&case, self.cert_cases.as_mut())
            && !cases.contains(case)
        {
            cases.push(case.clone());
        }
        self.record(
            source,
            &hash,
            raw,
            mail.message_id.as_deref(),
            correlation.as_ref(),
            kind,
            &read.verified,
            read.encrypted,
            detail,
            events,
            case.as_deref(),
            bounced.as_deref(),
        )
    }

    fn pinned(&mut self, correlation: Option<&Correlation>) -> Option<sequoia_openpgp::Cert> {
        let id = correlation.and_then(|c| c.recipient.clone()).unwrap_or_else(|| self.settings.default_recipient().to_string());
        let settings = self.settings;
        self.pinned.entry(id).or_insert_with_key(|id| settings.recipient(id).ok().and_then(|r| recipients::pinned_cert(&r))).clone()
    }

    fn correlate(&mut self, mail: &Mail, text: &str) -> Result<Option<Correlation>, Failure> {
        for id in mail.in_reply_to.iter().chain(mail.references.iter().rev()) {
            if let Some(c) = self.store.correlate_message_id(id)? {
                return Ok(Some(c));
            }
        }
        self.correlate_text(&mail.subject, text)
    }

    /// By a certmail reference (subject tag first, then the body) or the CERT's case
    /// number. Subject and body are read apart: joining them copied every reply.
    fn correlate_text(&mut self, subject: &str, body: &str) -> Result<Option<Correlation>, Failure> {
        for reference in reply::references_in(subject).into_iter().chain(reply::references_in(body)) {
            if let Some(c) = self.store.correlate_reference(&reference)? {
                return Ok(Some(c));
            }
        }
        if self.cert_cases.is_none() {
            self.cert_cases = Some(self.store.cert_cases()?);
        }
        for case in self.cert_cases.iter().flatten() {
            if (subject.contains(case.as_str()) || body.contains(case.as_str()))
                && let Some(c) = self.store.correlate_reference(case)?
            {
                return Ok(Some(c));
            }
        }
        Ok(None)
    }

    fn decryptor(&mut self) -> Result<&Decryptor, Failure> {
        if self.decryptor.is_none() {
            self.decryptor = Some(identity::unlock_decryptor(self.settings, self.now)?);
        }
        self.decryptor.as_ref().ok_or_else(|| Failure::failed("no decryption key"))
    }

    /// Reads the content; the text moves out of `mail` rather than being copied.
    fn read(&mut self, mail: &mut Mail, pinned: Option<&sequoia_openpgp::Cert>) -> Result<Read, Failure> {
        let mut read =
            Read { text: String::new(), verified: none(), encrypted: false, whole: true, inner: None, bounce: None, problem: None };
        match &mut mail.content {
            Content::Text { text } => read.text = std::mem::take(text),
            Content::Bounce { failed, original_message_id, status } => {
                read.bounce = Some((*failed, original_message_id.clone(), status.clone()))
            }
            Content::Signed { signed, signature, text, whole } => {
                read.verified = crypto::verify_detached(pinned, signed, signature, self.now);
                read.text = std::mem::take(text);
                read.whole = *whole;
            }
            Content::InlineSigned { armored, whole } => match crypto::verify_inline(pinned, armored, self.now, MAX_PLAINTEXT_BYTES) {
                Ok((text, verified)) => {
                    read.text = String::from_utf8_lossy(&text).into_owned();
                    read.verified = verified;
                    read.whole = *whole;
                }
                Err(e) => read.problem = Some(format!("unreadable signed message: {e}")),
            },
            Content::Encrypted { payload } => {
                read.encrypted = true;
                let now = self.now;
                let keys = self.decryptor()?;
                match crypto::decrypt(keys, pinned, payload, now, MAX_PLAINTEXT_BYTES) {
                    Err(e) => read.problem = Some(format!("cannot decrypt: {e}")),
                    Ok((plaintext, verified)) => {
                        read.verified = verified;
                        // RFC 3156: the plaintext is a MIME entity; inline PGP gives text.
                        match reply::parse(&plaintext) {
                            Ok(inner) => {
                                if let Content::Signed { signed, signature, text, whole } = &inner.content {
                                    // Signed, then encrypted as a separate layer.
                                    read.verified = crypto::verify_detached(pinned, signed, signature, now);
                                    read.whole = *whole;
                                    read.text = text.clone();
                                } else if let Content::Text { text } = &inner.content {
                                    read.text = text.clone();
                                } else {
                                    read.text = String::from_utf8_lossy(&plaintext).into_owned();
                                }
                                read.inner = Some(inner);
                            }
                            Err(_) => read.text = String::from_utf8_lossy(&plaintext).into_owned(),
                        }
                    }
                }
            }
        }
        Ok(read)
    }

    #[allow(clippy::too_many_arguments)]
    fn record(
        &mut self,
        source: &str,
        hash: &str,
        raw: &[u8],
        message_id: Option<&str>,
        correlation: Option<&Correlation>,
        kind: Kind,
        verified: &Verified,
        encrypted: bool,
        detail: Option<String>,
        events: Vec<(&str, serde_json::Value)>,
        cert_case: Option<&str>,
        bounced_message: Option<&str>,
    ) -> Result<Outcome, Failure> {
        let new = NewReceived {
            message_id,
            content_hash: hash,
            source,
            kind: kind.key(),
            signature: verified.status.key(),
            encrypted,
            signer: verified.signer.as_deref(),
            raw,
            keep_raw: encrypted || verified.status != SignatureStatus::None,
            events,
            cert_case,
            bounced_message,
        };
        if self.in_batch == 0 {
            self.store.begin_batch()?;
        }
        let fresh = self.store.record_received(correlation, &new, &self.timestamp)?;
        self.in_batch += 1;
        if self.in_batch >= BATCH {
            self.finish()?;
        }
        Ok(Outcome {
            source: source.into(),
            message_id: message_id.map(str::to_string),
            incident: correlation.map(|c| c.reference.clone()),
            kind: kind.key().into(),
            signature: verified.status.key().into(),
            encrypted,
            signer: verified.signer.clone(),
            duplicate: !fresh,
            detail,
        })
    }
}

/// The part of ingest that needs nothing but the message: its hash and parse.
pub struct Prepared {
    pub source: String,
    pub raw: Vec<u8>,
    hash: String,
    parsed: Result<Mail, String>,
}

/// Hashes and parses a message; pure, so it can run on worker threads.
pub fn prepare(source: &str, raw: Vec<u8>) -> Prepared {
    let hash: String = Sha256::digest(&raw).iter().map(|b| format!("{b:02x}")).collect();
    let parsed = reply::parse(&raw);
    Prepared { source: source.to_string(), raw, hash, parsed }
}

fn none() -> Verified {
    Verified { status: SignatureStatus::None, signer: None }
}

/// Text to look for references in before decrypting: only what is in the clear.
fn mail_text_hint(mail: &Mail) -> &str {
    match &mail.content {
        Content::Text { text } | Content::Signed { text, .. } => text,
        _ => "",
    }
}
