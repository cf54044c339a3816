//! `certmail init`: creates the reporter identity: the configuration's `[identity]`
//! and a signing key (generated Ed25519 + Cv25519, or imported), its passphrase
//! handled through `secrets`.

use std::io::{BufRead, IsTerminal, Write};
use std::time::SystemTime;

use crate::cli::InitArgs;
use crate::config::{IdentityConfig, Settings};
use crate::crypto::{self, Identity, pretty_fingerprint};
use crate::exit::{CmdResult, Failure, FailureKind, Outcome};
use crate::fsutil;
use crate::identity::{keyring_user, passphrase_source};
use crate::incident::contact::Phone;
use crate::incident::validate_contact;
use crate::output;
use crate::secrets::{self, Secret};
use crate::warnings::{Warning, WarningKind};

pub fn run(settings: &Settings, args: &InitArgs, json: bool) -> CmdResult {
    let now = SystemTime::now();
    let key_path = settings.secret_key_path();
    if key_path.exists() && !args.force {
        return Err(Failure::new(
            FailureKind::Conflict,
            format!("an identity already exists ({}); use --force to replace it", key_path.display()),
        ));
    }
    let interactive = std::io::stdin().is_terminal();
    // Ctrl-C at a question or the passphrase prompt: the terminal back as it was, and
    // a word on what is left (nothing is written before the last answer).
    crate::signals::report_on_interrupt("nothing was created; run `certmail init` again".into())?;
    let mut config = settings.file.clone();
    let previous = config.identity.clone().unwrap_or_default();
    let previous_foreign = previous.foreign_phone;
    let ask = |flag: &Option<String>, existing: &str, question: Question| field(flag, existing, question, interactive);
    let phone_check = Check::Phone { foreign: args.foreign_phone };
    let mut identity = IdentityConfig {
        name: ask(&args.name, &previous.name, Question::required("Your name (contact person)", "--name", Check::Any))?,
        title: non_empty(ask(
            &args.title,
            previous.title.as_deref().unwrap_or(""),
            Question::optional("Your title (e.g. CISO)", "--title"),
        )?),
        email: ask(
            &args.email,
            &previous.email,
            Question::required("Your e-mail address (notifications are sent from it)", "--email", Check::Email),
        )?,
        phone: non_empty(ask(
            &args.phone,
            previous.phone.as_deref().unwrap_or(""),
            Question::required("Phone number the CERT can call (+45 …)", "--phone", phone_check).unless_script(),
        )?),
        organisation: ask(&args.org, &previous.organisation, Question::required("Organisation", "--org", Check::Any))?,
        cvr: ask(&args.cvr, &previous.cvr, Question::required("CVR number (8 digits)", "--cvr", Check::Cvr))?,
        ..previous
    };
    // The box goes with the number: a new number is foreign when said or when it has
    // another country's code; a kept one keeps its box.
    identity.foreign_phone = match &args.phone {
        Some(_) => args.foreign_phone || identity.phone.as_deref().is_some_and(Phone::looks_foreign),
        None => args.foreign_phone || previous_foreign || identity.phone.as_deref().is_some_and(Phone::looks_foreign),
    };
    let contact = validate_contact(&identity.email, &identity.cvr, identity.phone.as_deref(), identity.foreign_phone)
        .map_err(|problem| Failure::input(format!("init: {problem}")))?;
    let warnings: Vec<Warning> = contact
        .cvr_doubt
        .iter()
        .map(|doubt| Warning { field: Some("--cvr".into()), ..Warning::new(WarningKind::CvrCheckDigits, doubt.clone()) })
        .collect();
    crate::warnings::say(&warnings);
    identity.cvr = contact.cvr;
    identity.phone = contact.phone;
    if identity.phone.is_none() {
        output::warn("no phone number (--phone): every notification needs one; add `phone` under [identity] in the configuration");
    }

    let user_id = format!("{} ({}) <{}>", identity.name, identity.organisation, identity.email);
    let (armored, key, protected) = match &args.import_key {
        Some(path) => import(path, &identity, interactive, now)?,
        None => generate(&user_id, &identity, args.no_passphrase, interactive, now)?,
    };
    let fingerprint = key.fingerprint();
    let archived = if key_path.exists() { Some(archive(settings, &key_path)?) } else { None };
    fsutil::write_private(&key_path, &armored)?;
    let public_path = key_path.with_file_name("public.asc");
    let public = key.public_armored().map_err(Failure::failed)?;
    fsutil::write_private(&public_path, &public)?;
    config.identity = Some(identity);
    fsutil::private_dir(&settings.home)?;
    config.write_new(&settings.config_path)?;

    if json {
        output::json(&serde_json::json!({
            "user_id": user_id,
            "fingerprint": fingerprint,
            "protection": protected.to_string(),
            "secret_key": key_path,
            "public_key": public_path,
            "config": settings.config_path,
            "archived_key": archived,
            "warnings": crate::warnings::json(&warnings),
        }));
        return Ok(Outcome::Done);
    }
    output::say(&format!("Identity ready: {user_id}"));
    output::say(&format!("  Key {}, {}", pretty_fingerprint(&fingerprint), protected));
    output::say(&format!("  Secret key: {} (owner-only)", key_path.display()));
    output::say(&format!("  Public key: {} (give it to the CERT so it can verify your signatures)", public_path.display()));
    output::say(&format!("  Configuration: {}", settings.config_path.display()));
    if let Some(old) = archived {
        output::say(&format!(
            "  The key it replaces is kept in {} : replies to earlier notifications were encrypted to it, and ingest and read still decrypt them with it.",
            old.display()
        ));
    }
    output::say("Next: install the CERT's key (`certmail keys check` says how), then `certmail preview FILE`.");
    Ok(Outcome::Done)
}

/// What `init` asks for, and how an answer is checked as it is typed.
struct Question {
    label: &'static str,
    flag: &'static str,
    check: Check,
    required: bool,
    /// Required on a terminal only (older scripts give no phone: they are warned).
    script_may_omit: bool,
}

#[derive(Clone, Copy)]
enum Check {
    Any,
    Email,
    Cvr,
    /// `foreign`: --foreign-phone was given.
    Phone {
        foreign: bool,
    },
}

impl Question {
    fn required(label: &'static str, flag: &'static str, check: Check) -> Question {
        Question { label, flag, check, required: true, script_may_omit: false }
    }

    fn optional(label: &'static str, flag: &'static str) -> Question {
        Question { label, flag, check: Check::Any, required: false, script_may_omit: false }
    }

    fn unless_script(self) -> Question {
        Question { script_may_omit: true, ..self }
    }

    /// What is wrong with an answer, if anything. The contact checks are the ones
    /// `notify` makes; each is asked about alone, the others given as valid.
    fn problem(&self, answer: &str) -> Option<String> {
        let (email, cvr, phone) = ("soc@example.dk", "12345678", None);
        let checked = match self.check {
            Check::Any => return None,
            Check::Email => validate_contact(answer, cvr, phone, false),
            Check::Cvr => validate_contact(email, answer, phone, false),
            Check::Phone { foreign } => validate_contact(email, cvr, Some(answer), foreign || Phone::looks_foreign(answer)),
        };
        checked.err().map(|p| p.split_once(": ").map_or(p.clone(), |(_, what)| format!("expected {what}")))
    }
}

fn non_empty(value: String) -> Option<String> {
    (!value.is_empty()).then_some(value)
}

/// A flag's value, the existing config's, or answers asked on a terminal until one
/// passes its check (nothing typed is thrown away for a later field's mistake).
fn field(flag: &Option<String>, existing: &str, q: Question, interactive: bool) -> Result<String, Failure> {
    if let Some(v) = flag.as_ref().filter(|v| !v.trim().is_empty()) {
        return Ok(v.trim().to_string());
    }
    if !existing.is_empty() {
        return Ok(existing.to_string());
    }
    if !interactive {
        if q.required && !q.script_may_omit {
            return Err(Failure::input(format!("init: {} is required (standard input is not a terminal, so certmail cannot ask)", q.flag))
                .with_field(q.flag));
        }
        return Ok(String::new());
    }
    loop {
        let hint = if q.required { "" } else { " (optional: Enter to skip)" };
        eprint!("{}{hint}: ", q.label);
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        let read = std::io::stdin().lock().read_line(&mut line).map_err(|e| Failure::input(format!("cannot read {}: {e}", q.flag)))?;
        if read == 0 {
            return Err(Failure::input(format!("init: {} is required (the terminal closed)", q.flag)));
        }
        let value = line.trim().to_string();
        if value.is_empty() {
            if q.required {
                eprintln!("  {} is required.", q.label);
                continue;
            }
            return Ok(value);
        }
        match q.problem(&value) {
            None => return Ok(value),
            Some(problem) => eprintln!("  {problem}; try again."),
        }
    }
}

/// Copies the secret key `init --force` replaces into the archive, named by its
/// fingerprint, so replies encrypted to it can still be read.
fn archive(settings: &Settings, key_path: &std::path::Path) -> Result<std::path::PathBuf, Failure> {
    let old = crate::identity::read(settings)?;
    let dir = crate::identity::archive_dir(settings);
    fsutil::private_dir(&dir)?;
    let target = dir.join(format!("secret-{}.asc", old.fingerprint()));
    // Copied, and replaced only afterwards: a failure on the way loses no key.
    fsutil::write_private(&target, &fsutil::read(key_path)?)?;
    Ok(target)
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
        match ask_new_passphrase()? {
            Some(p) => (Some(p), String::new()),
            None => {
                (None, "NO passphrase (none was typed): anyone who can read the key file can sign as you; it is owner-only".to_string())
            }
        }
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

/// A new passphrase typed twice, asked again when the two differ; `None` when it is
/// left empty (the key is then stored without one, which the caller says plainly).
fn ask_new_passphrase() -> Result<Option<Secret>, Failure> {
    for _ in 0..3 {
        let first = secrets::prompt("Passphrase for the new key (Enter for none): ")?;
        if first.expose().is_empty() {
            return Ok(None);
        }
        let second = secrets::prompt("Repeat the passphrase: ")?;
        if first.expose() == second.expose() {
            return Ok(Some(first));
        }
        eprintln!("  The two passphrases differ; try again.");
    }
    Err(Failure::input("init: the passphrases differed three times; nothing was created"))
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
