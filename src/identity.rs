//! The reporter's signing identity as commands use it: where its secret key lives,
//! reading it, and unlocking it through `secrets` (explicit source, OS keyring, or a
//! terminal prompt; every failure loud); and the writer the log's events name, which
//! is this identity (`actor`).

use std::path::PathBuf;
use std::time::SystemTime;

use crate::config::{IdentityConfig, Settings};
use crate::crypto::{Decryptor, Identity, UnlockedSigner};
use crate::exit::{Failure, FailureKind};
use crate::fsutil;
use crate::secrets::{Secret, SecretSource};
use crate::store::Actor;

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

/// Who this home's certmail writes the log's events as: `[identity]`'s name and
/// e-mail and the fingerprint of the key it signs with at `now`. What is not known
/// (no identity yet, no key, or none that can sign) is left out, never guessed.
pub fn actor(settings: &Settings, now: SystemTime) -> Actor {
    let config = settings.file.identity.as_ref();
    let key = read(settings).ok().and_then(|i| i.signing_fingerprint(now));
    Actor::new(config.map(|c| c.name.as_str()), config.map(|c| c.email.as_str()), key.as_deref())
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
    Identity::from_bytes(&bytes).map_err(|e| Failure::config(format!("{}: {e}", path.display())))
}

/// Reads the reporter's key and unlocks its signing key.
pub fn unlock(settings: &Settings, now: SystemTime) -> Result<(Identity, UnlockedSigner), Failure> {
    let (identity, passphrase, path) = load(settings, now)?;
    let signer = identity
        .unlock(passphrase.as_ref(), now)
        .map_err(|e| Failure::new(FailureKind::Crypto, format!("the reporter's key {path}: {e}")))?;
    Ok((identity, signer))
}

/// Unlocks the reporter's decryption keys, to read encrypted replies: the current
/// key's, then those of keys `init --force` archived (replies to notifications made
/// before are encrypted to them). An archived key that cannot be unlocked is said
/// loudly and left out; the current one must work.
pub fn unlock_decryptor(settings: &Settings, now: SystemTime) -> Result<Decryptor, Failure> {
    let (identity, passphrase, path) = load(settings, now)?;
    let mut keys = identity
        .decryptor(passphrase.as_ref())
        .map_err(|e| Failure::new(FailureKind::Crypto, format!("the reporter's key {path}: {e}")))?;
    for archived in archived_keys(settings) {
        let unlocked = fsutil::read(&archived)
            .and_then(|bytes| Identity::from_bytes(&bytes).map_err(|e| Failure::input(e.to_string())))
            .and_then(|old| {
                let passphrase = if old.needs_passphrase(now) {
                    let user = keyring_user(&old.fingerprint());
                    Some(passphrase_source(settings.identity().ok(), &user).resolve()?)
                } else {
                    None
                };
                old.decryptor(passphrase.as_ref()).map_err(Failure::failed)
            });
        match unlocked {
            Ok(old) => keys = keys.and(old),
            Err(f) => {
                crate::output::warn(&format!("archived key {}: {}; replies made to it cannot be read", archived.display(), f.message))
            }
        }
    }
    Ok(keys)
}

/// Where `init --force` keeps the keys it replaced: beside the secret key.
pub fn archive_dir(settings: &Settings) -> PathBuf {
    settings.secret_key_path().with_file_name("archive")
}

/// The archived secret keys, oldest name first.
fn archived_keys(settings: &Settings) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(archive_dir(settings)) else { return Vec::new() };
    let mut keys: Vec<PathBuf> = entries.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "asc")).collect();
    keys.sort();
    keys
}
