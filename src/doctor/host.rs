//! The machine around certmail: the OS keyring (or which fallback secrets use),
//! the clock, and the home's file modes (owner-only, as certmail writes them).

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Datelike, Utc};

use super::{Check, Status};
use crate::config::Settings;
use crate::crypto::format_time;
use crate::{identity, secrets};

/// Is the OS keyring there, and does anything depend on it?
pub fn keyring(settings: &Settings, now: SystemTime) -> Check {
    const NAME: &str = "keyring";
    let file = &settings.file;
    let mut needs = Vec::new();
    let key_protected = identity::read(settings).is_ok_and(|k| k.needs_passphrase(now));
    let explicit_passphrase = file.identity.as_ref().is_some_and(|i| i.passphrase_env.is_some() || i.passphrase_command.is_some());
    if key_protected && !explicit_passphrase {
        needs.push("the key's passphrase ([identity] passphrase-env / -command)");
    }
    if file.smtp.as_ref().is_some_and(|s| s.username.is_some() && s.password_env.is_none() && s.password_command.is_none()) {
        needs.push("the SMTP password ([smtp] password-env / -command)");
    }
    if file.imap.as_ref().is_some_and(|i| i.password_env.is_none() && i.password_command.is_none()) {
        needs.push("the IMAP password ([imap] password-env / -command)");
    }
    // A look-up of an entry nobody stores: it answers only whether the keyring does.
    match (secrets::keyring_get("doctor:probe"), needs.is_empty()) {
        (Ok(_), true) => Check::ok(NAME, "the OS keyring (Secret Service) answers; no secret is configured to come from it"),
        (Ok(_), false) => Check::ok(NAME, format!("the OS keyring (Secret Service) answers; it holds {}", needs.join(", "))),
        (Err(_), true) => Check::ok(NAME, "no OS keyring here, and nothing needs one: every secret has its own source"),
        (Err(_), false) => Check::warning(
            NAME,
            format!(
                "no OS keyring here (Secret Service over D-Bus): {} would be asked for on a terminal, and a script or service fails",
                needs.join(", ")
            ),
            "give each its -env or -command source in the configuration, or run certmail where a keyring runs (GNOME Keyring, KeePassXC)",
        ),
    }
}

/// Signatures, deadlines and key validity all read the clock.
pub fn clock(settings: &Settings, now: SystemTime) -> Check {
    const NAME: &str = "clock";
    const FIX: &str =
        "set the clock right (e.g. `timedatectl set-ntp true`): signatures, key validity and the legal deadlines depend on it";
    let year = DateTime::<Utc>::from(now).year();
    if !(2024..=2100).contains(&year) {
        return Check::error(NAME, format!("the clock says {}, which cannot be right", format_time(now)), FIX);
    }
    // Keys are made with the time of their making: one from "the future" means the
    // clock is behind now (or was ahead then). Five minutes of skew are allowed.
    if let Ok(key) = identity::read(settings)
        && key.created() > now + Duration::from_secs(300)
    {
        return Check::error(
            NAME,
            format!(
                "your key was made {}, after what the clock says now ({}): the clock is behind",
                format_time(key.created()),
                format_time(now)
            ),
            FIX,
        );
    }
    Check::ok(NAME, format!("{} (not compared with the relay's, whose greeting carries no date certmail reads)", format_time(now)))
}

/// Everything certmail keeps is owner-only (folders 0700, files 0600); a secret
/// key that others can read is an error, anything else a warning.
pub fn file_modes(settings: &Settings) -> Check {
    const NAME: &str = "file modes";
    let key = settings.secret_key_path();
    let mut secret = vec![key.clone()];
    secret.extend(files_in(&identity::archive_dir(settings)));
    let mut other = vec![settings.home.clone(), settings.config_path.clone(), key.with_file_name("public.asc"), settings.pins_path()];
    if let Some(dir) = key.parent() {
        other.push(dir.to_path_buf());
    }
    let store = settings.store_path();
    other.extend(["", "-wal", "-shm"].iter().map(|s| PathBuf::from(format!("{}{s}", store.display()))));
    other.extend(files_in(&settings.recipients_dir()));
    other.extend(files_in(&settings.home.join("outbox")));
    // SAFETY: geteuid takes nothing and cannot fail.
    let me = unsafe { libc::geteuid() };
    let loose = |paths: &[PathBuf]| -> Vec<String> { paths.iter().filter_map(|p| looseness(p, me)).collect() };
    let (bad_secret, bad_other) = (loose(&secret), loose(&other));
    let status = if !bad_secret.is_empty() {
        Status::Error
    } else if !bad_other.is_empty() {
        Status::Warning
    } else {
        return Check::ok(NAME, format!("{} and its files are owner-only", settings.home.display()));
    };
    let listed: Vec<String> = bad_secret.into_iter().chain(bad_other).collect();
    Check {
        name: NAME.into(),
        status,
        message: format!("not owner-only: {}", listed.join(", ")),
        fix: "chmod 600 each file and chmod 700 each folder named (and chown them to the user running certmail)".into(),
    }
}

/// "PATH (0644)" when others than the owner may read it, or another user owns it.
fn looseness(path: &Path, me: u32) -> Option<String> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    let mode = meta.permissions().mode() & 0o777;
    let owner = if meta.uid() != me { format!(", owned by uid {}", meta.uid()) } else { String::new() };
    (mode & 0o077 != 0 || !owner.is_empty()).then(|| format!("{} ({mode:04o}{owner})", path.display()))
}

fn files_in(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    files
}
