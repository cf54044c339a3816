//! Statements signed by the reporter's own key, in the cleartext signature framework
//! (RFC 9580 § 7): readable as they are, and checkable by anyone with the public key
//! (`gpg --verify`, `sq verify`) as well as by certmail. The log anchor is one.
//!
//! A statement counts only if every signature on it is good by the given key; the
//! text returned is what the signature covers, never the text around it.

use std::io::{Read, Write};
use std::time::SystemTime;

use sequoia_openpgp as openpgp;

use openpgp::parse::Parse;
use openpgp::parse::stream::{MessageLayer, MessageStructure, VerificationHelper, VerifierBuilder};
use openpgp::serialize::stream::{Message, Signer};
use openpgp::types::HashAlgorithm;
use openpgp::{Cert, KeyHandle};

use super::{UnlockedSigner, policy};

/// Statements are a few lines; anything longer is not one of ours.
const MAX_STATEMENT: u64 = 64 * 1024;

/// Signs `text` (lines without trailing whitespace, ending in a newline) as a
/// cleartext-signed message.
pub fn sign_statement(signer: UnlockedSigner, text: &str, now: SystemTime) -> Result<String, String> {
    let mut out = Vec::new();
    let message = Message::new(&mut out);
    let mut signer = Signer::new(message, signer.0)
        .and_then(|s| s.hash_algo(HashAlgorithm::SHA256))
        .map(|s| s.cleartext().creation_time(now))
        .and_then(|s| s.build())
        .map_err(|e| format!("sign: {e:#}"))?;
    signer.write_all(text.as_bytes()).map_err(|e| format!("sign: {e}"))?;
    signer.finalize().map_err(|e| format!("sign: {e:#}"))?;
    String::from_utf8(out).map_err(|_| "sign: the signed statement is not text".to_string())
}

/// Checks a cleartext-signed statement against `cert` and returns the text the
/// signature covers.
pub fn verify_statement(cert: &Cert, signed: &[u8], now: SystemTime) -> Result<String, String> {
    let p = policy();
    let helper = StrictHelper { cert };
    let mut verifier = VerifierBuilder::from_bytes(signed)
        .and_then(|b| b.with_policy(&p, now, helper))
        .map_err(|e| format!("the signature does not check: {e:#}"))?;
    let mut text = Vec::new();
    verifier.by_ref().take(MAX_STATEMENT + 1).read_to_end(&mut text).map_err(|e| format!("the signature does not check: {e:#}"))?;
    if text.len() as u64 > MAX_STATEMENT {
        return Err("the signed text is too long to be a certmail statement".into());
    }
    String::from_utf8(text).map_err(|_| "the signed text is not UTF-8".to_string())
}

/// Knows one certificate and fails the whole read unless every signature is good by it.
struct StrictHelper<'a> {
    cert: &'a Cert,
}

impl VerificationHelper for StrictHelper<'_> {
    fn get_certs(&mut self, _ids: &[KeyHandle]) -> openpgp::Result<Vec<Cert>> {
        Ok(vec![self.cert.clone()])
    }

    fn check(&mut self, structure: MessageStructure) -> openpgp::Result<()> {
        let mut good = 0;
        for layer in structure.into_iter() {
            match layer {
                MessageLayer::SignatureGroup { results } => {
                    for r in results {
                        r.map_err(|e| anyhow::anyhow!("{e}"))?;
                        good += 1;
                    }
                }
                _ => return Err(anyhow::anyhow!("not a plain signed statement")),
            }
        }
        if good == 0 {
            return Err(anyhow::anyhow!("it carries no signature"));
        }
        Ok(())
    }
}
