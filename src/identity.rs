//! The reporter's signing identity as commands use it: where its secret key lives,
//! reading it, and unlocking it through `secrets` (explicit source, OS keyring, or a
//! terminal prompt; every failure loud).

use std::time::SystemTime;

use crate::config::{IdentityConfig, Settings};
use crate::crypto::{Decryptor, Identity, UnlockedSigner};
use crate::exit::Failure;
use crate::fsutil;
use crate::secrets::{Secret, SecretSource};

/// Keyring entry name for an identity's passphrase.
pub fn keyring_user(fingerprint: &str) -> String {
    format!("identity:{fingerprint}")
}

/// The passphrase source the configuration describes for this identity.
pub fn passphrase_source<'a>(config: Option<&'a IdentityConfig>, keyring_user: &'a str) -> SecretSource<'a> {
    SecretSource {
        purpose: "the passphrase of the reporter's key",
        config_hint: "[identity] passphrase",
        env: config.and_then(|c| c.passphrase_env.as_deref()),
        command: config.and_then(|c| c.passphrase_command.as_deref()),
        keyring_user,
    }
}

/// Reads the reporter's key and, if it is protected, its passphrase.
fn load(settings: &Settings, now: SystemTime) -> Result<(Identity, Option<Secret>, String), Failure> {
    let config = settings.identity()?;
    let path = settings.secret_key_path();
    let identity = read(settings)?;
    let passphrase = if identity.needs_passphrase(now) {
        let user = keyring_user(&identity.fingerprint());
        Some(passphrase_source(Some(config), &user).resolve()?)
    } else {
        None
    };
    Ok((identity, passphrase, path.display().to_string()))
}

/// Reads the reporter's key without unlocking it: enough to check what it signed.
pub fn read(settings: &Settings) -> Result<Identity, Failure> {
    let path = settings.secret_key_path();
    let bytes = fsutil::read(&path).map_err(|f| f.context("the reporter's key (run `certmail init` to create it)"))?;
    Identity::from_bytes(&bytes).map_err(|e| Failure::input(format!("{}: {e}", path.display())))
}

/// Reads the reporter's key and unlocks its signing key.
pub fn unlock(settings: &Settings, now: SystemTime) -> Result<(Identity, UnlockedSigner), Failure> {
    let (identity, passphrase, path) = load(settings, now)?;
    let signer = identity.unlock(passphrase.as_ref(), now).map_err(|e| Failure::failed(format!("the reporter's key {path}: {e}")))?;
    Ok((identity, signer))
}

/// Unlocks the reporter's decryption keys, to read encrypted replies.
pub fn unlock_decryptor(settings: &Settings, now: SystemTime) -> Result<Decryptor, Failure> {
    let (identity, passphrase, path) = load(settings, now)?;
    identity.decryptor(passphrase.as_ref()).map_err(|e| Failure::failed(format!("the reporter's key {path}: {e}")))
}
