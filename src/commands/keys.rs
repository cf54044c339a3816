//! `certmail keys list | check | import-recipient`: the recipients' keys and pins,
//! and the reporter's own key.

use std::time::{Duration, SystemTime};

use chrono::Utc;

use crate::cli::KeysCommand;
use crate::config::{CertSource, RePin, Recipient, Settings};
use crate::crypto::{self, CertProblem, format_time, normalise_fingerprint, pretty_fingerprint};
use crate::exit::{CmdResult, Failure, FailureKind, Outcome};
use crate::fsutil;
use crate::identity;
use crate::output;
use crate::recipients;

/// `keys check` warns this long before a key expires.
const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 24 * 3600);

pub fn run(settings: &Settings, command: &KeysCommand, json: bool) -> CmdResult {
    match command {
        KeysCommand::List => list(settings, json),
        KeysCommand::Check => check(settings, json),
        KeysCommand::ImportRecipient { file, name, re_pin } => import(settings, file, name.as_deref(), re_pin.as_deref(), json),
    }
}

fn source_text(r: &Recipient) -> String {
    match &r.cert {
        CertSource::File(p) => p.display().to_string(),
        CertSource::Embedded(_) => "built in (test only)".into(),
        CertSource::Missing(p) => format!("not installed (slot: {})", p.display()),
    }
}

fn list(settings: &Settings, json: bool) -> CmdResult {
    let recipients = settings.recipients()?;
    if json {
        let items: Vec<_> = recipients
            .values()
            .map(|r| {
                serde_json::json!({
                    "name": r.id, "display_name": r.display_name(), "address": r.config.address,
                    "phone": r.config.phone, "pin": normalise_fingerprint(&r.pin), "re_pinned": r.re_pinned,
                    "key": source_text(r), "installed": !matches!(r.cert, CertSource::Missing(_)),
                    "test_only": r.config.test_only, "default": r.id == settings.default_recipient(),
                })
            })
            .collect();
        output::json(&serde_json::json!({ "recipients": items, "identity_key": settings.secret_key_path() }));
        return Ok(Outcome::Done);
    }
    for r in recipients.values() {
        let default = if r.id == settings.default_recipient() { " (default)" } else { "" };
        output::say(&format!("{}{default}: {} <{}>", r.id, r.display_name(), r.config.address));
        output::say(&format!("  pin:   {}{}", pretty_fingerprint(&r.pin), if r.re_pinned { " (re-pinned)" } else { "" }));
        output::say(&format!("  phone: {}", r.phone()));
        output::say(&format!("  key:   {}", source_text(r)));
    }
    output::say(&format!("identity key: {}", settings.secret_key_path().display()));
    Ok(Outcome::Done)
}

fn check(settings: &Settings, json: bool) -> CmdResult {
    let now = SystemTime::now();
    // The first failure that matters decides the exit code and kind, so a missing
    // CFCS key fails `keys check` exactly as it fails `notify` (key_missing, 2).
    let mut first_failure: Option<FailureKind> = None;
    let mut results = Vec::new();
    for r in settings.recipients()?.values() {
        let (status, detail) = match recipients::check(r, now) {
            Ok(key) => expiry_status(key.expires, now),
            Err(f) => {
                // A missing test-only key is no problem; a missing default is.
                let matters = r.id == settings.default_recipient() || !matches!(r.cert, CertSource::Missing(_));
                if matters {
                    first_failure.get_or_insert(f.kind);
                }
                (if matters { "error" } else { "not-installed" }, f.message)
            }
        };
        results.push((format!("recipient {}", r.id), status, detail));
    }
    let identity_result = match identity::unlock(settings, now) {
        Ok((key, _)) => {
            let (status, detail) = expiry_status(key.expires(now), now);
            (status, format!("{} {detail}", pretty_fingerprint(&key.fingerprint())))
        }
        Err(f) => {
            first_failure.get_or_insert(f.kind);
            ("error", f.message)
        }
    };
    results.push(("identity".into(), identity_result.0, identity_result.1));
    let items: Vec<_> = results.iter().map(|(w, s, d)| serde_json::json!({ "what": w, "status": s, "detail": d })).collect();
    let report = serde_json::json!({ "ok": first_failure.is_none(), "checks": items });
    if !json {
        for (what, status, detail) in &results {
            output::say(&format!("{what}: {status}: {detail}"));
        }
    }
    match first_failure {
        // Under --json the checks travel with the error: one object.
        Some(kind) => Err(Failure::new(kind, "some keys cannot be used; see above").with_report(report)),
        None => {
            if json {
                output::json(&report);
            }
            Ok(Outcome::Done)
        }
    }
}

fn expiry_status(expires: Option<SystemTime>, now: SystemTime) -> (&'static str, String) {
    match expires {
        None => ("ok", "valid, no expiry".into()),
        Some(t) if t <= now + EXPIRY_WARNING => {
            let days = t.duration_since(now).unwrap_or_default().as_secs() / 86_400;
            output::warn(&format!("a key expires in {days} day(s), on {}", format_time(t)));
            ("expires-soon", format!("valid, but expires in {days} day(s), on {}", format_time(t)))
        }
        Some(t) => ("ok", format!("valid until {}", format_time(t))),
    }
}

fn import(settings: &Settings, file: &std::path::Path, name: Option<&str>, re_pin: Option<&str>, json: bool) -> CmdResult {
    let bytes = fsutil::read(file)?;
    let cert = crypto::read_cert(&bytes).map_err(|p| Failure::new(FailureKind::KeyRefused, format!("{}: {p}", file.display())))?;
    if cert.is_tsk() {
        return Err(Failure::input(format!("{}: this file holds a secret key; import only the recipient's public key", file.display())));
    }
    let actual = crypto::fingerprint(&cert);
    let all = settings.recipients()?;
    // A key no recipient names yet: say exactly what to add to the configuration,
    // filled in from the key (a new user cannot guess the table).
    let add_it = |why: &str| {
        let address = cert
            .userids()
            .find_map(|u| u.userid().email().ok().flatten().map(str::to_string))
            .unwrap_or_else(|| "cert@example.invalid".into());
        let label = name.unwrap_or("my-cert");
        Failure::input(format!(
            "{}: {why}. Add the recipient to {} first (check the fingerprint with them by phone), then run this again:\n\n[recipients.{label}]\nname = \"...\"\naddress = \"{address}\"\nfingerprint = \"{}\"\nphone = \"+45 ...\"\n",
            file.display(),
            settings.config_path.display(),
            pretty_fingerprint(&actual)
        ))
    };
    let recipient = match name {
        Some(n) => match settings.recipient(n) {
            Ok(r) => r,
            Err(e) => return Err(add_it(&e.message)),
        },
        None => all
            .values()
            .find(|r| normalise_fingerprint(&r.pin) == actual)
            .or_else(|| all.values().find(|r| cert.userids().any(|u| u.userid().email().ok().flatten() == Some(r.config.address.as_str()))))
            .cloned()
            .ok_or_else(|| add_it("no recipient has this key's fingerprint or address"))?,
    };
    let now = SystemTime::now();
    let pinned = normalise_fingerprint(&recipient.pin);
    if actual != pinned {
        let Some(new_pin) = re_pin else {
            return Err(Failure::new(
                FailureKind::KeyRefused,
                format!(
                    "{}: {}. Refused. Call {} and have them read the fingerprint of their current key. If it is {}, re-run with --re-pin \"{}\"",
                    file.display(),
                    CertProblem::PinMismatch { pinned: pinned.clone(), actual: actual.clone() },
                    recipient.phone(),
                    pretty_fingerprint(&actual),
                    pretty_fingerprint(&actual)
                ),
            ));
        };
        if normalise_fingerprint(new_pin) != actual {
            return Err(Failure::input(format!(
                "--re-pin {new_pin} does not match the key in {} ({}); nothing changed",
                file.display(),
                pretty_fingerprint(&actual)
            )));
        }
    }
    let checked = crypto::check_recipient(cert, &actual, now).map_err(|p| {
        Failure::new(
            FailureKind::KeyRefused,
            format!("{}: {p}. Refused; nothing changed. Call {} for the current key.", file.display(), recipient.phone()),
        )
    })?;
    let slot = settings.recipients_dir().join(format!("{}.asc", recipient.id));
    fsutil::write_private(&slot, &bytes)?;
    if actual != pinned {
        let mut pins = settings.re_pins()?;
        pins.insert(recipient.id.clone(), RePin { fingerprint: actual.clone(), previous: pinned.clone(), at: Utc::now().to_rfc3339() });
        let text = toml::to_string(&pins).map_err(|e| Failure::failed(format!("re-pin: {e}")))?;
        fsutil::write_private(&settings.pins_path(), text.as_bytes())?;
        output::warn(&format!(
            "recipient '{}' re-pinned from {} to {} (recorded in {})",
            recipient.id,
            pretty_fingerprint(&pinned),
            pretty_fingerprint(&actual),
            settings.pins_path().display()
        ));
    }
    if json {
        output::json(&serde_json::json!({
            "recipient": recipient.id, "fingerprint": actual, "re_pinned": actual != pinned,
            "expires": checked.expires.map(format_time), "file": slot,
        }));
        return Ok(Outcome::Done);
    }
    output::say(&format!(
        "Installed the key of '{}' ({} <{}>): {}, {}. Stored at {}",
        recipient.id,
        recipient.display_name(),
        recipient.config.address,
        pretty_fingerprint(&actual),
        expiry_status(checked.expires, now).1,
        slot.display()
    ));
    Ok(Outcome::Done)
}
