//! Recipient keys as commands use them: load a recipient's certificate from its
//! source and check it at `now`, with errors that name the recipient, show the
//! fingerprint and the CERT's phone number, and say how to get the genuine key.

use std::time::SystemTime;

use crate::config::{CertSource, Recipient, Settings};
use crate::crypto::{self, CertProblem, CheckedCert, pretty_fingerprint};
use crate::exit::{Failure, FailureKind};

/// A recipient whose key passed every check.
pub struct Ready {
    pub recipient: Recipient,
    pub key: CheckedCert,
}

/// Why a key is checked: its errors say "nothing was queued" only where something
/// was about to be (`keys check` and `preview` queue nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Queueing,
    Checking,
}

/// Loads and checks a recipient's key; nothing may be encrypted without this.
pub fn load_checked(settings: &Settings, id: &str, now: SystemTime) -> Result<Ready, Failure> {
    let recipient = settings.recipient(id)?;
    let key = check_for(&recipient, now, Purpose::Queueing)?;
    Ok(Ready { recipient, key })
}

/// The bytes of a recipient's public key, wherever it comes from.
fn cert_bytes(recipient: &Recipient, purpose: Purpose) -> Result<Vec<u8>, Failure> {
    match &recipient.cert {
        CertSource::Embedded(text) => Ok(text.as_bytes().to_vec()),
        CertSource::File(path) => std::fs::read(path).map_err(|e| {
            Failure::new(FailureKind::KeyMissing, format!("recipient '{}': cannot read its key {}: {e}", recipient.id, path.display()))
        }),
        CertSource::Missing(path) => {
            Err(Failure::new(FailureKind::KeyMissing, missing_key_help(recipient, &path.display().to_string(), purpose)))
        }
    }
}

/// Checks one recipient's key at `now` (for `keys check` and `preview`: nothing is
/// queued whatever it finds).
pub fn check(recipient: &Recipient, now: SystemTime) -> Result<CheckedCert, Failure> {
    check_for(recipient, now, Purpose::Checking)
}

fn check_for(recipient: &Recipient, now: SystemTime, purpose: Purpose) -> Result<CheckedCert, Failure> {
    let bytes = cert_bytes(recipient, purpose)?;
    let cert = crypto::read_cert(&bytes).map_err(|p| problem_failure(recipient, &p, purpose))?;
    crypto::check_recipient(cert, &recipient.pin, now).map_err(|p| problem_failure(recipient, &p, purpose))
}

/// A recipient's certificate for verifying what it signs, without the checks that
/// guard encryption (an expired or revoked key must still be recognised as the
/// CERT's). `None` if it is not installed or does not match its pin.
pub fn pinned_cert(recipient: &Recipient) -> Option<sequoia_openpgp::Cert> {
    let cert = crypto::read_cert(&cert_bytes(recipient, Purpose::Checking).ok()?).ok()?;
    (crypto::fingerprint(&cert) == crypto::normalise_fingerprint(&recipient.pin)).then_some(cert)
}

/// The phone number to call the CERT a message went to (`recipient`), else the
/// default recipient's: a sector CERT has its own, so it is never a constant.
pub fn cert_phone(settings: &Settings, recipient: Option<&str>) -> String {
    recipient
        .and_then(|r| settings.recipient(r).ok())
        .or_else(|| settings.recipient(settings.default_recipient()).ok())
        .map(|r| r.phone().to_string())
        .unwrap_or_else(|| "the CERT's phone".into())
}

fn problem_failure(r: &Recipient, problem: &CertProblem, purpose: Purpose) -> Failure {
    let what = match problem {
        CertProblem::PinMismatch { .. } => {
            "If the CERT has really changed its key, verify the new fingerprint by phone and re-pin with `certmail keys import-recipient FILE --re-pin FINGERPRINT`."
        }
        CertProblem::Revoked(_) | CertProblem::Expired(_) | CertProblem::NoEncryptionKey | CertProblem::NotValid(_) => {
            "Get the CERT's current key and import it with `certmail keys import-recipient FILE`."
        }
        CertProblem::Unreadable(_) => "Replace the key file with the CERT's published key.",
    };
    let queued = if purpose == Purpose::Queueing { " Nothing was queued." } else { "" };
    Failure::new(
        FailureKind::KeyRefused,
        format!(
            "recipient '{}' ({} <{}>), pinned key {}: {problem}.{queued} {what} If the incident is urgent, call {} now.",
            r.id,
            r.display_name(),
            r.config.address,
            pretty_fingerprint(&r.pin),
            r.phone()
        ),
    )
}

/// What to do when a recipient's key is not installed (for `doctor` too): for CFCS, exactly how to
/// obtain the genuine key and verify it.
fn missing_key_help(r: &Recipient, slot: &str, purpose: Purpose) -> String {
    let obtain = r.config.obtain.as_deref().unwrap_or("Get the recipient's public key from its website.");
    let queued = if purpose == Purpose::Queueing { " and nothing was queued" } else { "" };
    // The route the recipient itself offers besides its PGP key, from its entry.
    let alternative = r.config.alternative.as_deref().map(|a| format!("{a}\n  ")).unwrap_or_default();
    format!(
        "recipient '{}' ({} <{}>): its public key is not installed (expected at {slot}), so certmail will not encrypt to it{queued}.\n  \
         1. {obtain}\n  \
         2. Check that its fingerprint is {} (the pin certmail ships); if it differs, call {} and verify it by phone.\n  \
         3. Install it: certmail keys import-recipient FILE --name {}\n  \
         {alternative}If the incident is urgent, call {} now.",
        r.id,
        r.display_name(),
        r.config.address,
        pretty_fingerprint(&r.pin),
        r.phone(),
        r.id,
        r.phone()
    )
}
