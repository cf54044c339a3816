//! The identity's key (there, usable, its passphrase to be had, not expiring), its CVR
//! and phone as notifications check them, every recipient's key (installed, matching
//! its pin, not revoked or expiring), and the team members' keys. Keys are read and
//! checked at `now`; nothing is signed or encrypted.

use std::time::SystemTime;

use super::{Check, EXPIRY_WARNING, days_until};
use crate::config::{CertSource, IdentityConfig, Recipient, Settings};
use crate::crypto::{self, CertProblem, Identity, format_time, pretty_fingerprint};
use crate::identity;
use crate::incident::validate_contact;
use crate::secrets;

const INIT: &str =
    "run `certmail init --name ... --email ... --org ... --cvr ... --phone ...` (or add --import-key FILE to use your own key)";
const RENEW: &str = "make a new key with `certmail init --force` (the old key is archived, so replies to it stay readable) and give the CERT your new public key";

/// The reporter's identity and key: a check for the key, one for its passphrase, one
/// for its contact details.
pub fn identity(settings: &Settings, now: SystemTime) -> Vec<Check> {
    let config = match settings.identity() {
        Ok(c) => c,
        Err(f) => return vec![Check::error("identity", f.message, INIT)],
    };
    let key = match identity::read(settings) {
        Ok(k) => k,
        Err(f) => return vec![Check::error("identity key", f.message, INIT)],
    };
    let fingerprint = pretty_fingerprint(&key.fingerprint());
    let path = settings.secret_key_path();
    let usable = match key.usable_until(now) {
        Err(why) => Check::error("identity key", format!("{fingerprint} ({}): {why}", path.display()), RENEW),
        Ok(Some(t)) if t <= now + EXPIRY_WARNING => Check::warning(
            "identity key",
            format!("{fingerprint} expires in {} day(s), on {}: after that nothing can be signed", days_until(t, now), format_time(t)),
            RENEW,
        ),
        Ok(until) => {
            let until = until.map_or("no expiry".to_string(), |t| format!("valid until {}", format_time(t)));
            Check::ok("identity key", format!("{} <{}>: key {fingerprint}, {until}", config.name, config.email))
        }
    };
    vec![usable, passphrase(config, &key, &path.display().to_string(), now), contact(config)]
}

/// The team members' keys (team.rs): every notification is encrypted to each one
/// that can be encrypted to; none listed is fine (one person, or a team that reads
/// only on the watch host).
pub fn team(settings: &Settings, now: SystemTime) -> Check {
    const NAME: &str = "team";
    match crate::team::load(settings, now) {
        Err(f) => Check::error(NAME, f.message, "fix or remove the file in the home's team/ folder (`certmail team add` names them)"),
        Ok(members) if members.is_empty() => {
            Check::ok(NAME, "no team members listed: messages are encrypted to their recipients and to you")
        }
        Ok(members) => {
            let stale: Vec<String> = members.iter().filter(|m| !m.can_encrypt).map(|m| m.user_id.clone()).collect();
            if stale.is_empty() {
                Check::ok(NAME, format!("{} member(s), each can be encrypted to", members.len()))
            } else {
                Check::warning(
                    NAME,
                    format!("{} member(s); cannot be encrypted to now, so passed over: {}", members.len(), stale.join(", ")),
                    "ask them for their renewed public key and `certmail team add` it",
                )
            }
        }
    }
}

/// The identity's CVR and phone, checked as every notification will check them.
fn contact(config: &IdentityConfig) -> Check {
    const NAME: &str = "identity contact";
    const FIX: &str = "correct cvr or phone under [identity] in the configuration (or `certmail init --force --cvr ... --phone ...`)";
    match validate_contact(&config.email, &config.cvr, config.phone.as_deref(), config.phone_is_foreign()) {
        // validate_contact names the flags of `init`; here they are the configuration's keys.
        Err(problem) => Check::error(
            NAME,
            format!("[identity] {}: a notification that takes it from there is refused", problem.trim_start_matches("--")),
            FIX,
        ),
        Ok(c) => match (c.cvr_doubt, c.phone) {
            (Some(doubt), _) => Check::warning(NAME, format!("[identity] cvr: {doubt}"), FIX),
            (None, None) => Check::warning(
                NAME,
                format!("CVR {}, no phone: each incident file must then give reporter.phone", c.cvr),
                "add phone under [identity] in the configuration",
            ),
            (None, Some(phone)) => Check::ok(NAME, format!("CVR {}, phone {phone}", c.cvr)),
        },
    }
}

/// Whether the key's passphrase can be had without asking, and unlocks the key.
fn passphrase(config: &IdentityConfig, key: &Identity, path: &str, now: SystemTime) -> Check {
    const NAME: &str = "identity passphrase";
    if !key.needs_passphrase(now) {
        return Check::warning(
            NAME,
            format!("the key has no passphrase: {path} is all it takes to sign as you"),
            "fine on a server whose disk is protected (the file is owner-only); elsewhere make a key with a passphrase: `certmail init --force`",
        );
    }
    let user = identity::keyring_user(&key.fingerprint());
    let source = identity::passphrase_source(Some(config), &user);
    let (passphrase, from) = if source.is_explicit() {
        let from = match (config.passphrase_env.as_deref(), config.passphrase_command.as_ref()) {
            (Some(var), _) => format!("the environment variable {var}"),
            _ => "passphrase-command".to_string(),
        };
        let fix = "fix passphrase-env or passphrase-command under [identity]";
        match source.explicit() {
            Ok(Some(p)) => (p, from),
            Ok(None) => return Check::error(NAME, format!("{from} gave no passphrase"), fix),
            Err(f) => return Check::error(NAME, f.message, fix),
        }
    } else {
        let ask = "set passphrase-env or passphrase-command under [identity] for scripts and services, or store it with `certmail secrets set identity`";
        match secrets::keyring_get(&user) {
            Ok(Some(p)) => (p, "the OS keyring".to_string()),
            Ok(None) => {
                return Check::warning(
                    NAME,
                    "the OS keyring has no passphrase for this key: notify asks on a terminal and fails in a script",
                    ask,
                );
            }
            Err(_) => {
                return Check::warning(NAME, "no OS keyring here: notify asks for the passphrase on a terminal and fails in a script", ask);
            }
        }
    };
    match key.unlock(Some(&passphrase), now) {
        Ok(_) => Check::ok(NAME, format!("the passphrase from {from} unlocks the key")),
        Err(e) => Check::error(NAME, format!("the passphrase from {from}: {e}"), "correct the passphrase where it is kept"),
    }
}

/// Every recipient's key, the default recipient's problems being errors.
pub fn recipients(settings: &Settings, now: SystemTime) -> Vec<Check> {
    let all = match settings.recipients() {
        Ok(all) => all,
        Err(f) => return vec![Check::error("recipients", f.message, "fix [recipients] in the configuration or recipients/pins.toml")],
    };
    let default = settings.default_recipient();
    let mut checks = Vec::new();
    if !all.contains_key(default) {
        checks.push(Check::error(
            "default recipient",
            format!("default-recipient is '{default}', which is no known recipient"),
            format!("set default-recipient to one of: {}", all.keys().cloned().collect::<Vec<_>>().join(", ")),
        ));
    }
    checks.extend(all.values().map(|r| recipient(r, r.id == default, now)));
    checks
}

fn recipient(r: &Recipient, is_default: bool, now: SystemTime) -> Check {
    let name = format!("recipient {}", r.id);
    let pin = pretty_fingerprint(&r.pin);
    let who = format!("{} <{}>", r.display_name(), r.config.address);
    let import = format!("`certmail keys import-recipient FILE --name {}`", r.id);
    let bytes = match &r.cert {
        CertSource::Missing(slot) => {
            let obtain = r.config.obtain.as_deref().unwrap_or("Get the recipient's public key from its website.");
            let alternative = r.config.alternative.as_deref().map(|a| format!(" {a}")).unwrap_or_default();
            let fix = format!(
                "{obtain} Check that its fingerprint is {pin}; if it differs, call {} and verify it by phone. Then install it: {import}.{alternative}",
                r.phone()
            );
            let message = format!("{who} is pinned to {pin}, but its public key is not installed here (expected at {})", slot.display());
            return if is_default {
                Check::error(name, format!("{message}; it is the default recipient, so `notify` refuses to send"), fix)
            } else {
                Check::warning(name, format!("{message}; needed only to notify {}", r.id), fix)
            };
        }
        CertSource::Embedded(text) => text.as_bytes().to_vec(),
        CertSource::File(path) => match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) => {
                return Check::error(
                    name,
                    format!("{who}: cannot read its key {}: {e}", path.display()),
                    format!("reinstall it: {import}"),
                );
            }
        },
    };
    let checked = crypto::read_cert(&bytes).and_then(|cert| crypto::check_recipient(cert, &r.pin, now));
    let test_only = if r.config.test_only { " (test only: reaches no real CERT)" } else { "" };
    match checked {
        Ok(key) => match key.expires {
            Some(t) if t <= now + EXPIRY_WARNING => Check::warning(
                name,
                format!("{who}{test_only}: key {pin} expires in {} day(s), on {}", days_until(t, now), format_time(t)),
                format!("ask the CERT for its renewed key (call {} to verify it) and install it before then: {import}", r.phone()),
            ),
            until => {
                let until = until.map_or("no expiry".to_string(), |t| format!("valid until {}", format_time(t)));
                Check::ok(name, format!("{who}{test_only}: key matches its pin {pin}, {until}"))
            }
        },
        Err(problem) => {
            let fix = match problem {
                CertProblem::PinMismatch { .. } => format!(
                    "if the CERT really changed its key, verify the new fingerprint by phone ({}) and re-pin: {import} --re-pin FINGERPRINT",
                    r.phone()
                ),
                CertProblem::Unreadable(_) => format!("replace the file with the CERT's published key: {import}"),
                CertProblem::Revoked(_) | CertProblem::Expired(_) | CertProblem::NoEncryptionKey | CertProblem::NotValid(_) => {
                    format!("get the CERT's current key (call {} to verify it) and install it: {import}", r.phone())
                }
            };
            Check::error(name, format!("{who}, pinned {pin}: {problem}"), fix)
        }
    }
}
