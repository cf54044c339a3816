//! `certmail init`: creates the reporter identity: the configuration's `[identity]`
//! and a signing key (generated Ed25519 + Cv25519, or imported), its passphrase
//! handled through `secrets`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::SystemTime;

use crate::cli::InitArgs;
use crate::config::{IdentityConfig, Settings};
use crate::crypto::{self, Identity, pretty_fingerprint};
use crate::exit::{CmdResult, Failure, Outcome};
use crate::fsutil;
use crate::identity::{keyring_user, passphrase_source};
use crate::incident::validate_contact;
use crate::output;
use crate::secrets::{self, Secret};

pub fn run(settings: &Settings, args: &InitArgs) -> CmdResult {
    let now = SystemTime::now();
    let key_path = settings.secret_key_path();
    if key_path.exists() && !args.force {
        return Err(Failure::input(format!("an identity already exists ({}); use --force to replace it", key_path.display())));
    }
    let interactive = std::io::stdin().is_terminal();
    let mut config = settings.file.clone();
    let previous = config.identity.clone().unwrap_or_default();
    let identity = IdentityConfig {
        name: field(&args.name, &previous.name, "Your name (contact person)", "--name", interactive)?,
        email: field(&args.email, &previous.email, "Your e-mail address", "--email", interactive)?,
        organisation: field(&args.org, &previous.organisation, "Organisation", "--org", interactive)?,
        cvr: field(&args.cvr, &previous.cvr, "CVR number (8 digits)", "--cvr", interactive)?,
        phone: args.phone.clone().or(previous.phone.clone()),
        title: args.title.clone().or(previous.title.clone()),
        ..previous
    };
    validate_contact(&identity.email, &identity.cvr, identity.phone.as_deref())
        .map_err(|problem| Failure::input(format!("init: {problem}")))?;

    let user_id = format!("{} ({}) <{}>", identity.name, identity.organisation, identity.email);
    let (armored, key, protected) = match &args.import_key {
        Some(path) => import(path, &identity, interactive, now)?,
        None => generate(&user_id, &identity, args.no_passphrase, interactive, now)?,
    };
    let fingerprint = key.fingerprint();
    fsutil::write_private(&key_path, &armored)?;
    let public_path = key_path.with_file_name("public.asc");
    let public = key.public_armored().map_err(Failure::failed)?;
    fsutil::write_private(&public_path, &public)?;
    config.identity = Some(identity);
    fsutil::private_dir(&settings.home)?;
    config.write_new(&settings.config_path)?;

    output::say(&format!("Identity ready: {user_id}"));
    output::say(&format!("  Key {}, {}", pretty_fingerprint(&fingerprint), protected));
    output::say(&format!("  Secret key: {} (owner-only)", key_path.display()));
    output::say(&format!("  Public key: {} (give it to the CERT so it can verify your signatures)", public_path.display()));
    output::say(&format!("  Configuration: {}", settings.config_path.display()));
    output::say("Next: install the CERT's key (`certmail keys check` says how), then `certmail preview FILE`.");
    Ok(Outcome::Done)
}

/// A flag's value, the existing config's, or a prompt on a terminal.
fn field(flag: &Option<String>, existing: &str, label: &str, name: &str, interactive: bool) -> Result<String, Failure> {
    if let Some(v) = flag.as_ref().filter(|v| !v.trim().is_empty()) {
        return Ok(v.trim().to_string());
    }
    if !existing.is_empty() {
        return Ok(existing.to_string());
    }
    if !interactive {
        return Err(Failure::input(format!("init: {name} is required (standard input is not a terminal, so certmail cannot ask)")));
    }
    eprint!("{label}: ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).map_err(|e| Failure::input(format!("cannot read {name}: {e}")))?;
    let value = line.trim().to_string();
    if value.is_empty() {
        return Err(Failure::input(format!("init: {name} is required")));
    }
    Ok(value)
}

fn generate(
    user_id: &str,
    config: &IdentityConfig,
    no_passphrase: bool,
    interactive: bool,
    now: SystemTime,
) -> Result<(Vec<u8>, Identity, String), Failure> {
    // The keyring entry is named after the fingerprint, unknown until the key exists:
    // read an explicit source first, prompt only when there is none.
    let source = passphrase_source(Some(config), "");
    let (passphrase, note) = if no_passphrase {
        (None, "no passphrase (--no-passphrase): the key file is owner-only".to_string())
    } else if let Some(p) = source.explicit()? {
        (Some(p), "protected by the passphrase from the configured source".to_string())
    } else if interactive {
        let first = secrets::prompt("Passphrase for the new key: ")?;
        let second = secrets::prompt("Repeat the passphrase: ")?;
        if first.expose() != second.expose() {
            return Err(Failure::input("init: the passphrases differ"));
        }
        (Some(first), String::new())
    } else {
        (None, "no passphrase: no passphrase source is configured and there is no terminal to ask on, so the key file is owner-only (set [identity] passphrase-command or passphrase-env and re-run with --force to protect it)".to_string())
    };
    let (armored, key) = crypto::generate_identity(user_id, passphrase.as_ref(), now).map_err(Failure::failed)?;
    let note = if note.is_empty() { remember(&key, passphrase.as_ref()) } else { note };
    if passphrase.is_none() {
        output::warn(&format!("the new key has {note}"));
    }
    Ok((armored, key, note))
}

fn import(
    path: &std::path::Path,
    config: &IdentityConfig,
    interactive: bool,
    now: SystemTime,
) -> Result<(Vec<u8>, Identity, String), Failure> {
    let bytes = fsutil::read(path)?;
    let key = Identity::from_bytes(&bytes).map_err(|e| Failure::input(format!("--import-key {}: {e}", path.display())))?;
    let user = keyring_user(&key.fingerprint());
    let source = passphrase_source(Some(config), &user);
    let (passphrase, note) = if !key.needs_passphrase(now) {
        output::warn("the imported key has no passphrase; it is stored owner-only");
        (None, "no passphrase: the key file is owner-only".to_string())
    } else if let Some(p) = source.explicit()? {
        (Some(p), "protected by the passphrase from the configured source".to_string())
    } else if interactive {
        let p = secrets::prompt("Passphrase of the imported key: ")?;
        (Some(p), String::new())
    } else {
        return Err(Failure::input(format!(
            "--import-key {}: the key is protected by a passphrase; set [identity] passphrase-command or passphrase-env in {}, or run init on a terminal",
            path.display(),
            "the configuration"
        )));
    };
    key.unlock(passphrase.as_ref(), now).map_err(|e| Failure::input(format!("--import-key {}: {e}", path.display())))?;
    let note = if note.is_empty() { remember(&key, passphrase.as_ref()) } else { note };
    Ok((bytes, key, note))
}

/// Stores a prompted passphrase in the OS keyring, or says loudly that it could not.
fn remember(key: &Identity, passphrase: Option<&Secret>) -> String {
    let Some(p) = passphrase else { return "no passphrase".into() };
    match secrets::keyring_set(&keyring_user(&key.fingerprint()), p) {
        Ok(()) => "protected by a passphrase kept in the OS keyring".into(),
        Err(e) => {
            output::warn(&format!(
                "{e}. certmail will ask for the passphrase on the terminal each time; for servers and scripts set [identity] passphrase-command or passphrase-env"
            ));
            "protected by a passphrase (not in the OS keyring: it will be asked for)".into()
        }
    }
}
