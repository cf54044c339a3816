//! Reading what comes back: decrypting with the reporter's key, and verifying
//! signatures against the pinned CERT certificate only. The result is the real
//! status (good, bad, unknown signer, expired or revoked key, none) and never an
//! upgrade: only a good signature by the pinned key is "good".
//!
//! Encrypted data without integrity protection is refused (sequoia does so), and
//! every plaintext is read through a size cap so a compression bomb stops early.
//! The session-key packets tried per message are bounded too (a flood of them cost
//! minutes of CPU), and password-encrypted ones are never tried.

use std::io::Read;
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::crypto::{KeyPair, SessionKey};
use openpgp::packet::{PKESK, SKESK};
use openpgp::parse::Parse;
use openpgp::parse::stream::{
    DecryptionHelper, DecryptorBuilder, DetachedVerifierBuilder, MessageLayer, MessageStructure, VerificationError, VerificationHelper,
    VerifierBuilder,
};
use openpgp::types::{RevocationStatus, SymmetricAlgorithm};
use openpgp::{Cert, KeyHandle};

use super::policy;

/// What a signature check found, as the incident log records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SignatureStatus {
    Good,
    Bad,
    UnknownSigner,
    ExpiredKey,
    RevokedKey,
    /// A good signature by the pinned key that covers only part of what the message
    /// shows (an unsigned part beside it, text around an inline block).
    Partial,
    None,
}

impl SignatureStatus {
    pub fn key(self) -> &'static str {
        match self {
            SignatureStatus::Good => "good",
            SignatureStatus::Bad => "bad",
            SignatureStatus::UnknownSigner => "unknown-signer",
            SignatureStatus::ExpiredKey => "expired-key",
            SignatureStatus::RevokedKey => "revoked-key",
            SignatureStatus::Partial => "partial",
            SignatureStatus::None => "none",
        }
    }

    /// The value as the log stores it; unknown text (a newer release's) is `Bad`, so
    /// it can never be read as good.
    pub fn from_key(key: &str) -> SignatureStatus {
        [
            SignatureStatus::Good,
            SignatureStatus::Bad,
            SignatureStatus::UnknownSigner,
            SignatureStatus::ExpiredKey,
            SignatureStatus::RevokedKey,
            SignatureStatus::Partial,
            SignatureStatus::None,
        ]
        .into_iter()
        .find(|s| s.key() == key)
        .unwrap_or(SignatureStatus::Bad)
    }
}

/// A signature check's outcome and who signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub status: SignatureStatus,
    /// Fingerprint (or key ID) of the signing key, when known: the primary key's
    /// fingerprint for a pinned certificate.
    pub signer: Option<String>,
    /// When a good signature says it was made.
    pub signed_at: Option<SystemTime>,
}

impl Verified {
    pub fn none() -> Verified {
        Verified { status: SignatureStatus::None, signer: None, signed_at: None }
    }

    fn with(status: SignatureStatus, signer: Option<String>) -> Verified {
        Verified { status, signer, signed_at: None }
    }
}

/// The reporter's unlocked decryption keys.
pub struct Decryptor(pub(super) Vec<KeyPair>);

impl Decryptor {
    /// Also tries `other`'s keys (an archived identity's), after these.
    pub fn and(mut self, other: Decryptor) -> Decryptor {
        self.0.extend(other.0);
        self
    }
}

struct Helper<'a> {
    /// Every pinned recipient's certificate: only these can make a signature good.
    pinned: &'a [Cert],
    keys: &'a [KeyPair],
    now: SystemTime,
    result: Option<Verified>,
    /// The session key that opened the message, to give it to team members too.
    opened: Option<OpenedKey>,
    /// Whom the message's session-key packets name.
    encrypted_to: Vec<String>,
}

/// The session key of one encrypted message, with the symmetric algorithm its
/// packet named (v3 packets name it; v6 packets, for SEIPD v2, do not).
#[derive(Clone)]
pub struct OpenedKey {
    algo: Option<SymmetricAlgorithm>,
    key: SessionKey,
}

impl std::fmt::Debug for OpenedKey {
    /// Never the key itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "OpenedKey({:?})", self.algo)
    }
}

/// A message decrypted: its plaintext, the signature over it, the session key that
/// opened it and whom its session-key packets name.
pub struct Decrypted {
    pub plaintext: Vec<u8>,
    pub verified: Verified,
    pub opened: Option<OpenedKey>,
    pub encrypted_to: Vec<String>,
}

impl VerificationHelper for Helper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        // Only the pinned CERT key can make a signature "good".
        Ok(self.pinned.to_vec())
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut found: Vec<Verified> = Vec::new();
        for layer in structure.into_iter() {
            if let MessageLayer::SignatureGroup { results } = layer {
                for r in results {
                    found.push(match r {
                        Ok(good) => Verified {
                            status: SignatureStatus::Good,
                            signer: Some(good.ka.cert().fingerprint().to_hex()),
                            signed_at: good.sig.signature_creation_time(),
                        },
                        Err(e) => self.classify(&e),
                    });
                }
            }
        }
        self.result = Some(strongest(found));
        // Never fail here: a bad signature is recorded, not an error.
        Ok(())
    }
}

impl Helper<'_> {
    fn classify(&self, e: &VerificationError) -> Verified {
        let key_problem = |cert: &Cert, fallback: SignatureStatus| {
            let status = if matches!(cert.revocation_status(&policy(), self.now), RevocationStatus::Revoked(_)) {
                SignatureStatus::RevokedKey
            } else if cert.with_policy(&policy(), self.now).is_ok_and(|vc| vc.alive().is_err()) {
                SignatureStatus::ExpiredKey
            } else {
                fallback
            };
            Verified::with(status, Some(cert.fingerprint().to_hex()))
        };
        match e {
            VerificationError::MissingKey { sig } => {
                let issuer = sig.get_issuers().first().map(|h| match h {
                    KeyHandle::Fingerprint(f) => f.to_hex(),
                    KeyHandle::KeyID(id) => id.to_hex(),
                });
                Verified::with(SignatureStatus::UnknownSigner, issuer)
            }
            VerificationError::BadKey { ka, .. } => key_problem(ka.cert(), SignatureStatus::ExpiredKey),
            VerificationError::UnboundKey { cert, .. } => key_problem(cert, SignatureStatus::Bad),
            VerificationError::BadSignature { ka, .. } => Verified::with(SignatureStatus::Bad, Some(ka.cert().fingerprint().to_hex())),
            _ => Verified::with(SignatureStatus::Bad, None),
        }
    }
}

/// The status that matters most when a message carries several signatures:
/// any bad, revoked or expired one wins over a good one.
fn strongest(found: Vec<Verified>) -> Verified {
    let rank = |s: SignatureStatus| match s {
        SignatureStatus::Bad => 0,
        SignatureStatus::RevokedKey => 1,
        SignatureStatus::ExpiredKey => 2,
        SignatureStatus::Partial => 3,
        SignatureStatus::Good => 4,
        SignatureStatus::UnknownSigner => 5,
        SignatureStatus::None => 6,
    };
    found.into_iter().min_by_key(|v| rank(v.status)).unwrap_or_else(Verified::none)
}

/// A message naming more session-key packets than this is refused before any is
/// tried: a real reply has one per recipient, and each try is a public-key operation.
pub const MAX_PKESKS: usize = 64;
/// At most this many packets are tried with the reporter's keys per message: one is
/// for us, a few more are anonymous (no recipient) or aimed at our key by mistake.
pub const MAX_PKESK_ATTEMPTS: usize = 8;

impl DecryptionHelper for Helper<'_> {
    fn decrypt(
        &mut self,
        pkesks: &[PKESK],
        // Never tried: a password-encrypted packet is not how the CERT writes to us,
        // and each try costs a deliberately slow key derivation.
        _skesks: &[SKESK],
        sym_algo: Option<SymmetricAlgorithm>,
        decrypt: &mut dyn FnMut(Option<SymmetricAlgorithm>, &SessionKey) -> bool,
    ) -> openpgp::Result<Option<Cert>> {
        if pkesks.len() > MAX_PKESKS {
            return Err(anyhow::anyhow!("{} encrypted session keys in one message, more than {MAX_PKESKS}: refused unread", pkesks.len()));
        }
        self.encrypted_to = pkesks.iter().filter_map(|p| p.recipient().map(|h| h.to_hex())).collect();
        let mut attempts = 0;
        for pkesk in pkesks {
            for key in self.keys {
                let addressed = match pkesk.recipient() {
                    None => true,
                    Some(handle) => handle.aliases(key.public().key_handle()),
                };
                if !addressed {
                    continue;
                }
                if attempts == MAX_PKESK_ATTEMPTS {
                    return Err(anyhow::anyhow!("no session key opened with the reporter's key in {MAX_PKESK_ATTEMPTS} tries: refused"));
                }
                attempts += 1;
                let mut key = key.clone();
                if let Some((algo, session_key)) = pkesk.decrypt(&mut key, sym_algo)
                    && decrypt(algo, &session_key)
                {
                    self.opened = Some(OpenedKey { algo, key: session_key });
                    return Ok(None);
                }
            }
        }
        // Say which keys it is for: on a machine without that key (a team member's
        // laptop, a key since replaced) the analyst knows where it can be read.
        let wanted: Vec<String> =
            pkesks.iter().map(|p| p.recipient().map_or("an anonymous recipient".to_string(), |h| h.to_hex())).collect();
        let held: Vec<String> = self.keys.iter().map(|k| k.public().fingerprint().to_hex()).collect();
        Err(anyhow::anyhow!(
            "not encrypted to this machine's key: it is for {}, and this machine holds {}; it can be read where a key it is for is (on a team, `certmail team reencrypt` or `certmail ingest` of the same mail on that member's machine reads it again for everyone)",
            wanted.join(", "),
            if held.is_empty() { "no decryption key".to_string() } else { held.join(", ") }
        ))
    }
}

fn read_capped(mut r: impl Read, limit: u64) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    r.by_ref().take(limit + 1).read_to_end(&mut out).map_err(|e| format!("{e:#}"))?;
    if out.len() as u64 > limit {
        return Err(format!("the content is larger than {limit} bytes once decrypted or decompressed; refused"));
    }
    Ok(out)
}

/// Decrypts an OpenPGP message (armored or binary) and checks its signatures.
/// `reading_keys` are session-key packets made for this machine's key after the
/// message arrived (see [`reading_keys`]); they are tried before the message's own.
pub fn decrypt(
    keys: &Decryptor,
    pinned: &[Cert],
    message: &[u8],
    reading_keys: &[u8],
    now: SystemTime,
    limit: u64,
) -> Result<Decrypted, String> {
    let given = session_key_packets(reading_keys);
    if !given.is_empty() {
        // A message is its session-key packets, then the encrypted data: packets for
        // the same session key put in front are read as the message's own. Reading
        // keys come from the database, so if they open nothing the message is read
        // as it came, with its own packets: a forged one denies nothing.
        if let Ok(with) = binary(message).map(|m| [given.as_slice(), &m].concat())
            && let Ok(done) = decrypt_once(keys, pinned, &with, now, limit)
        {
            return Ok(done);
        }
    }
    decrypt_once(keys, pinned, message, now, limit)
}

/// The session-key packets among `bytes` (at most [`MAX_PKESK_ATTEMPTS`], each
/// parsed alone), serialised again; nothing if `bytes` holds anything else.
fn session_key_packets(bytes: &[u8]) -> Vec<u8> {
    use openpgp::parse::{PacketParser, PacketParserResult};
    use openpgp::serialize::SerializeInto;
    if bytes.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut found = 0;
    let Ok(mut ppr) = PacketParser::from_bytes(bytes) else { return Vec::new() };
    while let PacketParserResult::Some(pp) = ppr {
        let openpgp::Packet::PKESK(pkesk) = &pp.packet else { return Vec::new() };
        found += 1;
        if found > MAX_PKESK_ATTEMPTS {
            return Vec::new();
        }
        match openpgp::Packet::from(pkesk.clone()).to_vec() {
            Ok(serialised) => out.extend(serialised),
            Err(_) => return Vec::new(),
        }
        ppr = match pp.next() {
            Ok((_, next)) => next,
            Err(_) => return Vec::new(),
        };
    }
    out
}

fn decrypt_once(keys: &Decryptor, pinned: &[Cert], message: &[u8], now: SystemTime, limit: u64) -> Result<Decrypted, String> {
    let p = policy();
    let helper = Helper { pinned, keys: &keys.0, now, result: None, opened: None, encrypted_to: Vec::new() };
    let decryptor = DecryptorBuilder::from_bytes(message)
        .map_err(|e| format!("{e:#}"))?
        .with_policy(&p, now, helper)
        .map_err(|e| without_integrity_protection(&e).unwrap_or_else(|| format!("{e:#}")))?;
    let (plaintext, decryptor) = {
        let mut d = decryptor;
        let text = read_capped(&mut d, limit)?;
        (text, d)
    };
    let helper = decryptor.into_helper();
    Ok(Decrypted {
        plaintext,
        verified: helper.result.unwrap_or_else(Verified::none),
        opened: helper.opened,
        encrypted_to: helper.encrypted_to,
    })
}

/// The message as binary packets, dearmored if it is armored.
fn binary(message: &[u8]) -> Result<Vec<u8>, String> {
    let armored = message.iter().position(|b| !b.is_ascii_whitespace()).is_some_and(|i| message[i..].starts_with(b"-----BEGIN PGP"));
    if !armored {
        return Ok(message.to_vec());
    }
    let mut out = Vec::new();
    openpgp::armor::Reader::from_bytes(message, openpgp::armor::ReaderMode::Tolerant(Some(openpgp::armor::Kind::Message)))
        .read_to_end(&mut out)
        .map_err(|e| format!("cannot read the armored message: {e}"))?;
    Ok(out)
}

/// Session-key packets giving `opened` to each of `members`' encryption keys: a
/// reading key, with which a team member reads the message as it arrived, the
/// sender's own signature inside untouched. Members with no usable encryption key
/// are left out and named in the second value.
pub fn reading_keys(opened: &OpenedKey, members: &[Cert], now: SystemTime) -> (Vec<u8>, Vec<String>) {
    use openpgp::packet::pkesk::{PKESK3, PKESK6};
    use openpgp::serialize::SerializeInto;
    let p = policy();
    let mut packets = Vec::new();
    let mut left_out = Vec::new();
    for cert in members {
        let keys: Vec<_> = match cert.with_policy(&p, now) {
            Ok(vc) => vc.keys().supported().alive().revoked(false).key_flags(super::encryption_flags()).map(|k| k.key().clone()).collect(),
            Err(_) => Vec::new(),
        };
        let made: Vec<Vec<u8>> = keys
            .iter()
            .filter_map(|key| {
                let pkesk = match opened.algo {
                    Some(algo) => PKESK3::for_recipient(algo, &opened.key, key).map(PKESK::from),
                    None => PKESK6::for_recipient(&opened.key, key).map(PKESK::from),
                };
                pkesk.ok().and_then(|p| openpgp::Packet::from(p).to_vec().ok())
            })
            .collect();
        if made.is_empty() {
            left_out.push(cert.fingerprint().to_hex());
        }
        packets.extend(made.into_iter().flatten());
    }
    (packets, left_out)
}

/// Encrypted data without integrity protection (the SED packet of RFC 4880 § 5.7,
/// no MDC or AEAD) could have been altered on the way; the policy refuses it, and the
/// person reading the log should learn why in plain words.
fn without_integrity_protection(e: &anyhow::Error) -> Option<String> {
    match e.downcast_ref::<openpgp::Error>() {
        Some(openpgp::Error::PolicyViolation(what, _)) if what.contains("Symmetrically Encrypted Data") => Some(
            "refused: encrypted without integrity protection (no MDC), so it may have been altered on the way; ask the sender to re-send it with a current OpenPGP tool".into(),
        ),
        _ => None,
    }
}

/// Checks a detached signature (multipart/signed) over `data`.
pub fn verify_detached(pinned: &[Cert], data: &[u8], signature: &[u8], now: SystemTime) -> Verified {
    let p = policy();
    let helper = Helper { pinned, keys: &[], now, result: None, opened: None, encrypted_to: Vec::new() };
    let result = DetachedVerifierBuilder::from_bytes(signature).and_then(|b| b.with_policy(&p, now, helper)).and_then(|mut v| {
        v.verify_bytes(data)?;
        Ok(v.into_helper().result)
    });
    match result {
        Ok(Some(v)) => v,
        Ok(None) => Verified::none(),
        Err(_) => Verified::with(SignatureStatus::Bad, None),
    }
}

/// Reads an inline-signed OpenPGP message (or cleartext-signed text) and checks it.
pub fn verify_inline(pinned: &[Cert], message: &[u8], now: SystemTime, limit: u64) -> Result<(Vec<u8>, Verified), String> {
    let p = policy();
    let helper = Helper { pinned, keys: &[], now, result: None, opened: None, encrypted_to: Vec::new() };
    let mut verifier =
        VerifierBuilder::from_bytes(message).map_err(|e| format!("{e:#}"))?.with_policy(&p, now, helper).map_err(|e| format!("{e:#}"))?;
    let text = read_capped(&mut verifier, limit)?;
    let verified = verifier.into_helper().result.unwrap_or_else(Verified::none);
    Ok((text, verified))
}
