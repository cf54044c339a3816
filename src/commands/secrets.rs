//! `certmail secrets set smtp | imap | identity | store`: puts a secret into the OS keyring, read
//! from the terminal without echo (or one line of standard input, for scripts).

use std::io::{BufRead, IsTerminal};

use crate::cli::{SecretName, SecretsCommand};
use crate::config::Settings;
use crate::crypto::Identity;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::output;
use crate::secrets::{self, Secret};
use crate::store::target::Location;
use crate::{fsutil, identity, outbox};

pub fn run(settings: &Settings, command: &SecretsCommand, json: bool) -> CmdResult {
    let SecretsCommand::Set { which } = command;
    let (user, label) = match which {
        SecretName::Smtp => {
            let relay = settings.relay()?.ok_or_else(|| Failure::config("no [smtp] relay configured"))?;
            if relay.username.is_none() {
                return Err(Failure::config("[smtp] has no username: the relay takes no password"));
            }
            (outbox::smtp_keyring_user(&relay), format!("Password for {} at {}: ", relay.username.as_deref().unwrap_or(""), relay.host))
        }
        SecretName::Imap => {
            let mailbox = settings.mailbox()?.ok_or_else(|| Failure::config("no [imap] mailbox configured"))?;
            (crate::imap::keyring_user(&mailbox), format!("Password for {} at {}: ", mailbox.username, mailbox.host))
        }
        SecretName::Identity => {
            let key = Identity::from_bytes(&fsutil::read(&settings.secret_key_path())?).map_err(Failure::input)?;
            (identity::keyring_user(&key.fingerprint()), "Passphrase of the reporter's key: ".to_string())
        }
        SecretName::Store => {
            let Location::Postgres(pg) = settings.store_location()? else {
                return Err(Failure::config(
                    "no [store] url (nor CERTMAIL_STORE_URL): the incident log is the SQLite file in the home folder, which takes no password",
                ));
            };
            (pg.keyring_user(), format!("Password of the team's database {}: ", pg.url))
        }
    };
    let secret = if std::io::stdin().is_terminal() {
        secrets::prompt(&label)?
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| Failure::input(format!("cannot read standard input: {e}")))?;
        Secret::new(line.trim_end_matches(['\r', '\n']).to_string())
    };
    if secret.expose().is_empty() {
        return Err(Failure::input("empty secret; nothing stored"));
    }
    secrets::keyring_set(&user, &secret).map_err(|e| {
        Failure::failed(format!("{e}. Nothing stored. On a server, use password-command or password-env in the configuration instead"))
    })?;
    if json {
        output::json(&serde_json::json!({ "stored": format!("certmail/{user}") }));
    } else {
        output::say(&format!("Stored in the OS keyring as certmail/{user}."));
    }
    Ok(Outcome::Done)
}
