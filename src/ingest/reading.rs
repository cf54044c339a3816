//! Reading a received message through its OpenPGP layers: decrypting, verifying,
//! and parsing what each layer holds, until every part the message shows is known
//! together with the signature that covers it (or that none does). From that comes
//! the whole-message verdict: `good` only when one good signature by a pinned key
//! covers every part shown or kept; a good signature over less is `partial`.
//!
//! What the good signature covers (its entity's headers and texts) is kept apart,
//! because only that may bind a reply to an incident (see `binding`).

use std::time::SystemTime;

use sequoia_openpgp::Cert;
use sha2::{Digest, Sha256};

use super::LazyKeys;
use crate::crypto::{self, SignatureStatus, Verified};
use crate::exit::Failure;
use crate::reply::{self, Content, Mail, Part};

/// Plaintext larger than this after decryption or decompression is refused.
pub const MAX_PLAINTEXT_BYTES: u64 = 50 * 1024 * 1024;
/// OpenPGP layers (signed inside encrypted inside signed ...) read at most.
const MAX_LAYERS: usize = 4;

/// A part as shown, with the signature over it (`None`: no signature covers it).
#[derive(Debug, Clone)]
pub struct ShownPart {
    pub part: Part,
    pub signature: Option<Verified>,
    pub encrypted: bool,
}

/// What a good signature covers: the signed entities' headers and their texts.
#[derive(Debug, Clone, Default)]
pub struct SignedContent {
    pub headers: String,
    pub text: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub subject: String,
}

/// A message read through all its layers.
#[derive(Debug, Clone)]
pub struct Reading {
    pub parts: Vec<ShownPart>,
    /// The whole-message verdict.
    pub verdict: Verified,
    pub encrypted: bool,
    /// Covered by the good signature(s); empty unless one was good.
    pub signed: SignedContent,
    /// Headers found inside an encryption layer (protected headers), for threading.
    pub protected: Option<Mail>,
    pub bounce: Option<Bounce>,
    /// Why the message cannot be read (it is then recorded as malformed).
    pub problem: Option<String>,
    /// The identity of the signed content (same signature over the same data), to
    /// recognise a replay under another Message-ID.
    pub signed_identity: Option<String>,
    /// The session keys that opened its encryption layers, to make team members
    /// reading keys (team.rs).
    pub opened: Vec<crypto::OpenedKey>,
    /// Whom its encryption layers' session-key packets name (key IDs or fingerprints, hex).
    pub encrypted_to: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Bounce {
    pub failed: bool,
    pub original_message_id: Option<String>,
    pub status: Option<String>,
}

impl Reading {
    /// All text the message shows, signed or not, in order.
    pub fn text(&self) -> String {
        reply::readable_text_of(self.parts.iter().map(|p| &p.part))
    }

    /// The text of its one text part, when that is all its text ([`Reading::text`]
    /// is it with a line end added), read where it is.
    pub fn single_text(&self) -> Option<&str> {
        reply::single_readable_text(self.parts.iter().map(|p| &p.part))
    }

    /// The text that says what the message is: what a good signature covers when one
    /// covers some of it (a gateway's unsigned footer or an added part does not turn
    /// the CERT's receipt into something else), else all of it.
    pub fn speaking_text(&self) -> String {
        self.signed_text().unwrap_or_else(|| self.text())
    }

    /// The text of the parts a good signature covers, if one covers any.
    pub fn signed_text(&self) -> Option<String> {
        let good = |p: &&ShownPart| p.signature.as_ref().is_some_and(|v| v.status == SignatureStatus::Good);
        self.parts.iter().any(|p| good(&p)).then(|| reply::readable_text_of(self.parts.iter().filter(good).map(|p| &p.part)))
    }

    /// Whether the whole message is vouched for by a good signature.
    pub fn is_whole_good(&self) -> bool {
        self.verdict.status == SignatureStatus::Good
    }
}

/// Reads through the layers; the reporter's key is unlocked only when a message is
/// encrypted.
pub struct Reader<'r, 's> {
    pub certs: &'r [Cert],
    pub now: SystemTime,
    pub keys: &'r mut LazyKeys<'s>,
    /// Session-key packets a team member made for this machine's key (team.rs).
    pub reading_keys: &'r [u8],
}

struct Walk {
    parts: Vec<ShownPart>,
    signatures: Vec<Verified>,
    signed: SignedContent,
    identity: Sha256,
    good_layers: usize,
    encrypted: bool,
    protected: Option<Mail>,
    bounce: Option<Bounce>,
    problem: Option<String>,
    opened: Vec<crypto::OpenedKey>,
    encrypted_to: Vec<String>,
}

impl Reader<'_, '_> {
    /// Reads `mail`. An `Err` means it cannot be read now (the reporter's key is
    /// locked) and nothing about it should be recorded.
    pub fn read(&mut self, mail: Mail) -> Result<Reading, Failure> {
        let mut walk = Walk {
            parts: Vec::new(),
            signatures: Vec::new(),
            signed: SignedContent::default(),
            identity: Sha256::new(),
            good_layers: 0,
            encrypted: false,
            protected: None,
            bounce: None,
            problem: None,
            opened: Vec::new(),
            encrypted_to: Vec::new(),
        };
        self.layer(&mut walk, mail.content, None, false, 0)?;
        let verdict = verdict(&walk);
        let signed_identity = (walk.good_layers > 0).then(|| walk.identity.clone().finalize().iter().map(|b| format!("{b:02x}")).collect());
        Ok(Reading {
            parts: walk.parts,
            verdict,
            encrypted: walk.encrypted,
            signed: walk.signed,
            protected: walk.protected,
            bounce: walk.bounce,
            problem: walk.problem,
            signed_identity,
            opened: walk.opened,
            encrypted_to: walk.encrypted_to,
        })
    }

    fn layer(&mut self, walk: &mut Walk, content: Content, cover: Option<&Verified>, encrypted: bool, depth: usize) -> Result<(), Failure> {
        if depth > MAX_LAYERS {
            walk.problem.get_or_insert_with(|| format!("more than {MAX_LAYERS} OpenPGP layers"));
            return Ok(());
        }
        let shown = |parts: Vec<Part>, walk: &mut Walk| {
            walk.parts.extend(parts.into_iter().map(|part| ShownPart { part, signature: cover.cloned(), encrypted }));
        };
        // What a layer does not cover is shown where the message has it: the parts
        // before the layer, what the layer holds, the parts after it.
        match content {
            Content::Plain { parts } => shown(parts, walk),
            Content::Bounce { failed, original_message_id, status, parts } => {
                walk.bounce = Some(Bounce { failed, original_message_id, status });
                shown(parts, walk);
            }
            Content::Unreadable { reason, parts } => {
                walk.problem.get_or_insert(reason);
                shown(parts, walk);
            }
            Content::Signed { signed, signature, outside } => {
                shown(outside.before, walk);
                let verified = crypto::verify_detached(self.certs, &signed, &signature, self.now);
                match reply::parse_entity(&signed) {
                    Ok(inner) => {
                        self.covered(walk, &verified, &signed, &inner.header_text, Some(&inner));
                        self.layer(walk, inner.content, Some(&verified), encrypted, depth + 1)?;
                    }
                    Err(_) => {
                        let text = String::from_utf8_lossy(&signed).into_owned();
                        self.covered(walk, &verified, &signed, "", None);
                        self.layer(walk, Content::Plain { parts: vec![Part::text(text)] }, Some(&verified), encrypted, depth + 1)?;
                    }
                }
                walk.signatures.push(verified);
                shown(outside.after, walk);
            }
            Content::InlineSigned { armored, charset, outside } => {
                shown(outside.before, walk);
                match crypto::verify_inline(self.certs, &armored, self.now, MAX_PLAINTEXT_BYTES) {
                    Ok((plaintext, verified)) => {
                        let text = match &charset {
                            Some(c) => reply::decode_charset(&plaintext, c),
                            None => String::from_utf8_lossy(&plaintext).into_owned(),
                        };
                        // The identity is of the bytes signed, not of one decoding of
                        // them: relabelling the charset must not make a replay new.
                        self.covered(walk, &verified, &plaintext, "", None);
                        walk.signed.text.push_str(&text);
                        walk.signed.text.push('\n');
                        walk.parts.push(ShownPart { part: Part::text(text), signature: Some(verified.clone()), encrypted });
                        walk.signatures.push(verified);
                    }
                    Err(e) => {
                        walk.problem.get_or_insert_with(|| format!("unreadable signed message: {e}"));
                    }
                }
                shown(outside.after, walk);
            }
            Content::Encrypted { payload, mime, outside } => {
                shown(outside.before, walk);
                walk.encrypted = true;
                let keys = self.keys.get()?;
                match crypto::decrypt(keys, self.certs, &payload, self.reading_keys, self.now, MAX_PLAINTEXT_BYTES) {
                    Err(e) => {
                        walk.problem.get_or_insert_with(|| format!("cannot decrypt: {e}"));
                    }
                    Ok(crypto::Decrypted { plaintext, verified, opened, encrypted_to }) => {
                        walk.opened.extend(opened);
                        walk.encrypted_to.extend(encrypted_to);
                        let signed = verified.status != SignatureStatus::None;
                        let cover = if signed { Some(&verified) } else { cover };
                        // RFC 3156: the plaintext is a MIME entity; inline PGP gives text.
                        let inner = if mime { reply::parse_entity(&plaintext).ok() } else { None };
                        match inner {
                            Some(inner) => {
                                if signed {
                                    self.covered(walk, &verified, &plaintext, &inner.header_text, Some(&inner));
                                }
                                let content = inner.content.clone();
                                walk.protected = Some(inner);
                                self.layer(walk, content, cover, true, depth + 1)?;
                            }
                            None => {
                                if signed {
                                    self.covered(walk, &verified, &plaintext, "", None);
                                }
                                let text = String::from_utf8_lossy(&plaintext).into_owned();
                                match reply::text_content(text) {
                                    Ok(content) => self.layer(walk, content, cover, true, depth + 1)?,
                                    Err(e) => {
                                        walk.problem.get_or_insert(e);
                                    }
                                }
                            }
                        }
                        if signed {
                            walk.signatures.push(verified);
                        }
                    }
                }
                shown(outside.after, walk);
            }
        }
        Ok(())
    }

    /// Notes what a signature covers, when it is good: its data for the identity,
    /// its headers and texts for binding.
    fn covered(&self, walk: &mut Walk, verified: &Verified, data: &[u8], headers: &str, entity: Option<&Mail>) {
        if verified.status != SignatureStatus::Good {
            return;
        }
        walk.good_layers += 1;
        walk.identity.update(verified.signer.as_deref().unwrap_or("").as_bytes());
        let at = verified.signed_at.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok()).map_or(0, |d| d.as_secs());
        walk.identity.update(at.to_be_bytes());
        // Line ends are normalised: the same signed content from a Maildir and from an
        // mbox with other line ends is one identity.
        walk.identity.update(Sha256::digest(reply::canonical_crlf(data)));
        walk.signed.headers.push_str(headers);
        walk.signed.headers.push('\n');
        walk.signed.text.push_str(&String::from_utf8_lossy(data));
        walk.signed.text.push('\n');
        if let Some(e) = entity {
            walk.signed.in_reply_to.extend(e.in_reply_to.iter().cloned());
            walk.signed.references.extend(e.references.iter().cloned());
            if walk.signed.subject.is_empty() {
                walk.signed.subject = e.subject.clone();
            }
            // The decoded texts too: the raw entity may be quoted-printable or base64.
            if let Content::Plain { parts } = &e.content {
                walk.signed.text.push_str(&reply::readable_text(parts));
            }
        }
    }
}

/// The verdict over the whole message: good only when every shown part is covered
/// by a good signature (and all of them by one signer); a good signature over some
/// parts only is partial; otherwise the most telling status found.
fn verdict(walk: &Walk) -> Verified {
    let good = |p: &ShownPart| p.signature.as_ref().is_some_and(|v| v.status == SignatureStatus::Good);
    let first_good = walk.parts.iter().find(|p| good(p)).and_then(|p| p.signature.clone());
    let Some(first_good) = first_good else {
        // No shown part is covered by a good signature.
        let worst = walk.signatures.iter().filter(|v| v.status != SignatureStatus::Good).cloned().collect::<Vec<_>>();
        return worst.into_iter().min_by_key(|v| rank(v.status)).unwrap_or_else(Verified::none);
    };
    let all_covered = walk.parts.iter().all(|p| good(p) && p.signature.as_ref().map(|v| &v.signer) == Some(&first_good.signer));
    let any_bad = walk.signatures.iter().any(|v| matches!(v.status, SignatureStatus::Bad));
    if all_covered && !any_bad && walk.problem.is_none() { first_good } else { Verified { status: SignatureStatus::Partial, ..first_good } }
}

fn rank(s: SignatureStatus) -> u8 {
    match s {
        SignatureStatus::Bad => 0,
        SignatureStatus::RevokedKey => 1,
        SignatureStatus::ExpiredKey => 2,
        SignatureStatus::UnknownSigner => 3,
        SignatureStatus::Partial => 4,
        SignatureStatus::Good => 5,
        SignatureStatus::None => 6,
    }
}
