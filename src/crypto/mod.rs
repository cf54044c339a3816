//! The only user of sequoia-openpgp: certificates and their pins, the policy at `now`,
//! key generation and import, and sign-then-encrypt of the inner entity.
//!
//! Fail closed: every function returns an error rather than a weaker result, and
//! nothing here logs key material or plaintext.

use std::io::{self, Write};
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::Cert;
use openpgp::cert::prelude::*;
use openpgp::crypto::Password;
use openpgp::parse::Parse;
use openpgp::policy::StandardPolicy;
use openpgp::serialize::SerializeInto;
use openpgp::serialize::stream::Recipient;
use openpgp::types::{KeyFlags, RevocationStatus};

mod pipeline;
mod statement;
mod verify;
pub use statement::{sign_statement, verify_statement};
pub use verify::{Decrypted, Decryptor, OpenedKey, SignatureStatus, Verified, decrypt, reading_keys, verify_detached, verify_inline};

use crate::secrets::Secret;

/// A recipient certificate that failed its check at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CertProblem {
    Unreadable(String),
    PinMismatch { pinned: String, actual: String },
    Revoked(String),
    Expired(String),
    NotValid(String),
    NoEncryptionKey,
}

impl std::fmt::Display for CertProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CertProblem::Unreadable(e) => write!(f, "the key file is not a readable OpenPGP certificate ({e})"),
            CertProblem::PinMismatch { pinned, actual } => {
                write!(
                    f,
                    "the key's fingerprint {} does not match the pinned fingerprint {}",
                    pretty_fingerprint(actual),
                    pretty_fingerprint(pinned)
                )
            }
            CertProblem::Revoked(why) => write!(f, "the key is revoked ({why})"),
            CertProblem::Expired(when) => write!(f, "the key expired on {when}"),
            CertProblem::NotValid(why) => write!(f, "the key is not valid now ({why})"),
            CertProblem::NoEncryptionKey => write!(f, "the key has no valid encryption-capable subkey"),
        }
    }
}

/// What a successful check learned about a certificate.
#[derive(Debug, Clone)]
pub struct CheckedCert {
    pub cert: Cert,
    pub fingerprint: String,
    /// When the key (or its last usable encryption subkey) stops being usable.
    pub expires: Option<SystemTime>,
}

pub(crate) fn policy() -> StandardPolicy<'static> {
    StandardPolicy::new()
}

/// Upper-case hex without spaces, as fingerprints are compared.
pub fn normalise_fingerprint(text: &str) -> String {
    text.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_uppercase()
}

/// Groups of four, two halves: `2CE4 BA61 B873 B089 0BE9  4ED2 3CDA 6879 6740 E2CD`.
pub fn pretty_fingerprint(text: &str) -> String {
    let hex = normalise_fingerprint(text);
    let groups: Vec<&str> = hex.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or("?")).collect();
    if groups.len() == 10 { format!("{}  {}", groups[..5].join(" "), groups[5..].join(" ")) } else { groups.join(" ") }
}

/// Reads one certificate (armored or binary).
pub fn read_cert(bytes: &[u8]) -> Result<Cert, CertProblem> {
    Cert::from_bytes(bytes).map_err(|e| CertProblem::Unreadable(format!("{e:#}")))
}

pub fn fingerprint(cert: &Cert) -> String {
    cert.fingerprint().to_hex()
}

/// Checks a recipient certificate at `now`: pin, validity under the standard policy,
/// revocation, expiry, and an encryption-capable subkey.
pub fn check_recipient(cert: Cert, pin: &str, now: SystemTime) -> Result<CheckedCert, CertProblem> {
    let actual = fingerprint(&cert);
    if normalise_fingerprint(pin) != actual {
        return Err(CertProblem::PinMismatch { pinned: normalise_fingerprint(pin), actual });
    }
    let expires = check_usable(&cert, now, true)?;
    Ok(CheckedCert { cert, fingerprint: actual, expires })
}

/// Validity, revocation and expiry at `now`; with `need_encryption`, an
/// encryption-capable subkey too. Returns the time the usable keys expire.
fn check_usable(cert: &Cert, now: SystemTime, need_encryption: bool) -> Result<Option<SystemTime>, CertProblem> {
    let p = policy();
    if let RevocationStatus::Revoked(sigs) = cert.revocation_status(&p, now) {
        let why = sigs
            .first()
            .and_then(|s| s.reason_for_revocation())
            .map(|(code, text)| format!("{code}: {}", String::from_utf8_lossy(text)))
            .unwrap_or_else(|| "no reason given".into());
        return Err(CertProblem::Revoked(why));
    }
    let vc = cert.with_policy(&p, now).map_err(|e| CertProblem::NotValid(format!("{e:#}")))?;
    if vc.alive().is_err() {
        let when = vc.primary_key().key_expiration_time().map(format_time).unwrap_or_else(|| "an unknown date".into());
        return Err(CertProblem::Expired(when));
    }
    let primary_expiry = vc.primary_key().key_expiration_time();
    if !need_encryption {
        return Ok(primary_expiry);
    }
    let subkey_expiry =
        vc.keys().supported().alive().revoked(false).key_flags(encryption_flags()).map(|ka| ka.key_expiration_time()).reduce(
            |a, b| match (a, b) {
                (None, _) | (_, None) => None,
                (Some(a), Some(b)) => Some(a.max(b)),
            },
        );
    match subkey_expiry {
        None => Err(CertProblem::NoEncryptionKey),
        Some(sub) => Ok(match (primary_expiry, sub) {
            (Some(p), Some(s)) => Some(p.min(s)),
            (p, s) => p.or(s),
        }),
    }
}

fn encryption_flags() -> KeyFlags {
    KeyFlags::empty().set_transport_encryption().set_storage_encryption()
}

pub fn format_time(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The reporter's key: its fingerprint, and whether it needs a passphrase.
pub struct Identity {
    pub tsk: Cert,
}

impl Identity {
    pub fn from_bytes(bytes: &[u8]) -> Result<Identity, String> {
        let tsk = Cert::from_bytes(bytes).map_err(|e| format!("not an OpenPGP key ({e:#})"))?;
        if !tsk.is_tsk() {
            return Err("this is a public key; the reporter's key must include its secret parts".into());
        }
        Ok(Identity { tsk })
    }

    pub fn fingerprint(&self) -> String {
        fingerprint(&self.tsk)
    }

    /// True if the signing key's secret is encrypted with a passphrase.
    pub fn needs_passphrase(&self, now: SystemTime) -> bool {
        let p = policy();
        self.tsk.keys().with_policy(&p, now).secret().for_signing().any(|ka| !ka.key().has_unencrypted_secret())
    }

    /// Checks that the key can sign and encrypt at `now`, and unlocks its signing
    /// key with the passphrase (if any).
    pub fn unlock(&self, passphrase: Option<&Secret>, now: SystemTime) -> Result<UnlockedSigner, String> {
        check_usable(&self.tsk, now, true).map_err(|e| e.to_string())?;
        self.signing_keypair(passphrase, now).map(UnlockedSigner)
    }

    /// Unlocks the keys that can decrypt what is sent to the reporter (expired or
    /// revoked subkeys included: old replies must stay readable).
    pub fn decryptor(&self, passphrase: Option<&Secret>) -> Result<Decryptor, String> {
        let mut keys = Vec::new();
        for ka in self.tsk.keys().secret() {
            let usable_for_encryption =
                ka.self_signatures().any(|s| s.key_flags().is_some_and(|f| f.for_transport_encryption() || f.for_storage_encryption()));
            if !usable_for_encryption {
                continue;
            }
            keys.push(unlock_key(ka.key().clone(), passphrase)?);
        }
        if keys.is_empty() {
            return Err("the reporter's key has no decryption key".into());
        }
        Ok(Decryptor(keys))
    }

    /// Whether the key can sign and encrypt at `now` (without unlocking it), and
    /// until when; the error says why not.
    pub fn usable_until(&self, now: SystemTime) -> Result<Option<SystemTime>, String> {
        check_usable(&self.tsk, now, true).map_err(|e| e.to_string())
    }

    /// When the key was made: a clock behind it is wrong.
    pub fn created(&self) -> SystemTime {
        self.tsk.primary_key().key().creation_time()
    }

    /// When the key stops being usable (primary or last encryption subkey), if ever.
    pub fn expires(&self, now: SystemTime) -> Option<SystemTime> {
        check_usable(&self.tsk, now, true).ok().flatten()
    }

    /// The fingerprint of the key [`Identity::unlock`] signs with at `now` (the signing
    /// subkey), without unlocking it; `None` if there is none.
    pub fn signing_fingerprint(&self, now: SystemTime) -> Option<String> {
        let p = policy();
        let ka = self.tsk.keys().with_policy(&p, now).supported().alive().revoked(false).for_signing().secret().next()?;
        Some(ka.key().fingerprint().to_hex())
    }

    fn signing_keypair(&self, passphrase: Option<&Secret>, now: SystemTime) -> Result<openpgp::crypto::KeyPair, String> {
        let p = policy();
        let ka = self
            .tsk
            .keys()
            .with_policy(&p, now)
            .supported()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or("the reporter's key has no valid signing key with its secret part")?;
        unlock_key(ka.key().clone(), passphrase)
    }

    pub fn public_armored(&self) -> Result<Vec<u8>, String> {
        self.tsk.armored().to_vec().map_err(|e| format!("{e:#}"))
    }
}

/// Decrypts a secret key with the passphrase (if it is protected) into a key pair.
fn unlock_key(
    key: openpgp::packet::Key<openpgp::packet::key::SecretParts, openpgp::packet::key::UnspecifiedRole>,
    passphrase: Option<&Secret>,
) -> Result<openpgp::crypto::KeyPair, String> {
    let mut key = key;
    if !key.has_unencrypted_secret() {
        let pass = passphrase.ok_or("the reporter's key is protected by a passphrase and none was given")?;
        key = key
            .decrypt_secret(&Password::from(pass.expose()))
            .map_err(|_| "the passphrase does not unlock the reporter's key".to_string())?;
    }
    key.into_keypair().map_err(|e| format!("cannot use the reporter's key: {e:#}"))
}

/// The reporter's signing key, unlocked once per command (S2K is deliberately slow).
pub struct UnlockedSigner(openpgp::crypto::KeyPair);

/// Generates the reporter's key: Ed25519 primary (certification) with an Ed25519
/// signing subkey and a Cv25519 encryption subkey, valid for three years.
pub fn generate_identity(user_id: &str, passphrase: Option<&Secret>, now: SystemTime) -> Result<(Vec<u8>, Identity), String> {
    let (tsk, _revocation) = CertBuilder::new()
        .set_cipher_suite(CipherSuite::Cv25519)
        .set_creation_time(now - Duration::from_secs(60))
        .set_validity_period(Duration::from_secs(3 * 365 * 24 * 3600))
        .add_userid(user_id)
        .add_signing_subkey()
        .add_subkey(encryption_flags(), None, None)
        .set_password(passphrase.map(|p| Password::from(p.expose())))
        .generate()
        .map_err(|e| format!("cannot generate a key: {e:#}"))?;
    let armored = tsk.as_tsk().armored().to_vec().map_err(|e| format!("{e:#}"))?;
    Ok((armored, Identity { tsk }))
}

/// Whether `cert` has a key that can be encrypted to at `now`.
pub fn can_encrypt_to(cert: &Cert, now: SystemTime) -> bool {
    cert.with_policy(&policy(), now)
        .is_ok_and(|vc| vc.keys().supported().alive().revoked(false).key_flags(encryption_flags()).next().is_some())
}

/// A public key, ASCII-armored.
pub fn armored_public(cert: &Cert) -> Result<Vec<u8>, String> {
    cert.armored().to_vec().map_err(|e| format!("{e:#}"))
}

/// Signs `write_inner`'s output with the reporter's key and encrypts it to the
/// recipient, to the reporter (so the sent copy stays readable) and to each team
/// member (so any of them reads it, see docs/TEAM-MODE.md), ASCII-armored with CRLF
/// line ends, written to `sink`. A member whose key cannot encrypt now is passed over
/// (`team list` says so); the recipient and the reporter cannot be. SEIPD v2 only if
/// every recipient key advertises it, else SEIPD v1 with MDC (sequoia's rule). Runs
/// as a pipeline on all cores; `write_inner` runs on the caller's thread.
pub fn sign_and_encrypt(
    identity: &Identity,
    signer: &UnlockedSigner,
    recipient: &Cert,
    team: &[Cert],
    now: SystemTime,
    sink: &mut (dyn Write + Send),
    write_inner: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<(), String> {
    let p = policy();
    let mut recipients: Vec<Recipient> = Vec::new();
    for cert in [recipient, &identity.tsk] {
        let vc = cert.with_policy(&p, now).map_err(|e| format!("{e:#}"))?;
        let before = recipients.len();
        recipients.extend(vc.keys().supported().alive().revoked(false).key_flags(encryption_flags()).map(Recipient::from));
        if recipients.len() == before {
            return Err(format!("{} has no valid encryption-capable key", pretty_fingerprint(&fingerprint(cert))));
        }
    }
    let own = identity.tsk.fingerprint();
    for cert in team.iter().filter(|c| c.fingerprint() != own) {
        if let Ok(vc) = cert.with_policy(&p, now) {
            recipients.extend(vc.keys().supported().alive().revoked(false).key_flags(encryption_flags()).map(Recipient::from));
        }
    }
    // A copy per message: one unlock (its S2K is deliberately slow) signs them all.
    pipeline::run(signer.0.clone(), recipients, now, sink, write_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_compare_without_spaces_and_case() {
        assert_eq!(normalise_fingerprint("2ce4 BA61\tb873"), "2CE4BA61B873");
        assert_eq!(pretty_fingerprint("2CE4BA61B873B0890BE94ED23CDA68796740E2CD"), "2CE4 BA61 B873 B089 0BE9  4ED2 3CDA 6879 6740 E2CD");
    }

    fn public(identity: &Identity) -> Cert {
        identity.tsk.clone().strip_secret_key_material()
    }

    /// A reading key opens the message as it was sent, for a member who was not a
    /// recipient, with the sender's signature still good; without it the member cannot.
    #[test]
    fn a_reading_key_opens_the_message_for_a_member_and_keeps_its_signature() {
        let now = SystemTime::now();
        let (_, sender) = generate_identity("Sender <a@example.test>", None, now).unwrap();
        let (_, cert) = generate_identity("CERT <cert@example.test>", None, now).unwrap();
        let (_, member) = generate_identity("Member <m@example.test>", None, now).unwrap();
        let (_, listed) = generate_identity("Listed <l@example.test>", None, now).unwrap();
        let signer = sender.unlock(None, now).unwrap();
        let mut sent = Vec::new();
        let text = b"Content-Type: text/plain\r\n\r\nransomware on the file servers\r\n";
        // `listed` is a team member when it is sent; `member` is added later.
        sign_and_encrypt(&sender, &signer, &public(&cert), &[public(&listed)], now, &mut sent, |w| w.write_all(text)).unwrap();
        let pinned = [public(&sender)];
        let limit = 1 << 20;
        let for_listed = decrypt(&listed.decryptor(None).unwrap(), &pinned, &sent, &[], now, limit).unwrap();
        assert_eq!(for_listed.plaintext, text);
        let refused = decrypt(&member.decryptor(None).unwrap(), &pinned, &sent, &[], now, limit);
        assert!(refused.is_err_and(|e| e.contains("not encrypted to this machine's key")));

        let opened = decrypt(&cert.decryptor(None).unwrap(), &pinned, &sent, &[], now, limit).unwrap();
        let session = opened.opened.expect("the session key it was opened with");
        assert!(opened.encrypted_to.len() >= 3, "recipient, sender and the listed member: {:?}", opened.encrypted_to);
        let (reading, left_out) = reading_keys(&session, &[public(&member)], now);
        assert!(left_out.is_empty() && !reading.is_empty());
        let read = decrypt(&member.decryptor(None).unwrap(), &pinned, &sent, &reading, now, limit).unwrap();
        assert_eq!(read.plaintext, text);
        assert_eq!(read.verified.status, SignatureStatus::Good, "the sender's own signature, verified by the member");
        assert_eq!(read.verified.signer.as_deref(), Some(sender.fingerprint().as_str()));
        // A reading key made for someone else opens nothing for the member.
        let (elsewhere, _) = reading_keys(&session, &[public(&listed)], now);
        assert!(decrypt(&member.decryptor(None).unwrap(), &pinned, &sent, &elsewhere, now, limit).is_err());
    }
}
