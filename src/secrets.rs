//! Secrets (key passphrases, later SMTP passwords): the [`Secret`] newtype that never
//! prints, and where secrets come from: an explicit environment variable or command
//! from the configuration, else the OS keyring (Secret Service), else a prompt on a
//! terminal. Every failure is loud and says what to do instead; nothing is kept
//! silently in memory as a fallback, and no secret is ever taken from argv.

use std::fmt;
use std::io::IsTerminal;
use std::process::{Command, Stdio};

use keyring_core::api::CredentialStoreApi;

use crate::exit::Failure;

/// Service name under which certmail keeps its entries in the OS keyring.
const KEYRING_SERVICE: &str = "certmail";

/// A secret value: shown as `****`, wiped from memory when dropped.
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        // Overwrite in place so the value does not linger in freed memory.
        let bytes = unsafe { self.0.as_bytes_mut() };
        for b in bytes.iter_mut() {
            // Volatile so the compiler cannot drop the "dead" store.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("****")
    }
}

/// Where the configuration says a secret comes from.
#[derive(Debug, Clone, Copy)]
pub struct SecretSource<'a> {
    /// What the secret is for, e.g. "the reporter's key passphrase".
    pub purpose: &'a str,
    /// Config key prefix for messages, e.g. "[identity] passphrase".
    pub config_hint: &'a str,
    pub env: Option<&'a str>,
    pub command: Option<&'a [String]>,
    /// Keyring entry name, e.g. "identity:FINGERPRINT".
    pub keyring_user: &'a str,
}

impl SecretSource<'_> {
    pub fn is_explicit(&self) -> bool {
        self.env.is_some() || self.command.is_some()
    }

    /// The explicit source (environment or command), if one is configured.
    pub fn explicit(&self) -> Result<Option<Secret>, Failure> {
        if let Some(var) = self.env {
            return match std::env::var(var) {
                Ok(v) if !v.is_empty() => Ok(Some(Secret::new(v))),
                _ => Err(Failure::input(format!(
                    "{} should come from the environment variable {var} ({}-env), but it is not set or empty",
                    self.purpose, self.config_hint
                ))),
            };
        }
        if let Some(argv) = self.command {
            return run_secret_command(argv, self).map(Some);
        }
        Ok(None)
    }

    /// Explicit source, else the OS keyring, else a prompt on a terminal.
    pub fn resolve(&self) -> Result<Secret, Failure> {
        if let Some(s) = self.explicit()? {
            return Ok(s);
        }
        let (keyring_error, unavailable) = match keyring_get(self.keyring_user) {
            Ok(Some(s)) => return Ok(s),
            Ok(None) => (format!("the OS keyring has no entry {KEYRING_SERVICE}/{}", self.keyring_user), false),
            Err(e) => (e, true),
        };
        if std::io::stdin().is_terminal() && std::io::stderr().is_terminal() {
            // Said once per run, in plain words: no keyring is a normal state on many
            // machines, and the library's own error text means nothing to a responder.
            static SAID: std::sync::Once = std::sync::Once::new();
            if unavailable {
                SAID.call_once(|| {
                    eprintln!(
                        "certmail: no OS keyring is running here, so certmail asks instead (set {}-command or {}-env to not be asked)",
                        self.config_hint, self.config_hint
                    )
                });
            }
            return prompt(&format!("{}: ", capitalise(self.purpose)));
        }
        Err(Failure::input(format!(
            "cannot get {}: {keyring_error}. On a server or in a script, set {}-command (a command that prints it) or {}-env (an environment variable) in the configuration",
            self.purpose, self.config_hint, self.config_hint
        )))
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn run_secret_command(argv: &[String], source: &SecretSource) -> Result<Secret, Failure> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Failure::input(format!("{}-command is empty: give a command and its arguments as a list", source.config_hint)));
    };
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| Failure::input(format!("cannot run {}-command `{program}`: {e}", source.config_hint)))?;
    if !output.status.success() {
        return Err(Failure::input(format!("{}-command `{program}` failed ({})", source.config_hint, output.status)));
    }
    let mut text = String::from_utf8(output.stdout)
        .map_err(|_| Failure::input(format!("{}-command `{program}` printed something that is not UTF-8", source.config_hint)))?;
    // One trailing newline is how commands end their output; it is not part of the secret.
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    if text.is_empty() {
        return Err(Failure::input(format!("{}-command `{program}` printed nothing", source.config_hint)));
    }
    Ok(Secret::new(text))
}

/// Asks on the terminal without echo. Ctrl-C ends the command as an interruption
/// (see signals.rs: the terminal gets its echo back).
pub fn prompt(label: &str) -> Result<Secret, Failure> {
    rpassword::prompt_password(label).map(Secret::new).map_err(|e| match e.kind() {
        std::io::ErrorKind::Interrupted => crate::signals::interrupted(),
        _ => Failure::input(format!("cannot read from the terminal: {e}")),
    })
}

fn keyring_store() -> Result<std::sync::Arc<zbus_secret_service_keyring_store::Store>, String> {
    zbus_secret_service_keyring_store::Store::new().map_err(|e| format!("the OS keyring (Secret Service over D-Bus) is not available: {e}"))
}

/// How long the OS keyring may take to answer. A keyring daemon that waits for a
/// prompt nobody sees, or a D-Bus session that has gone away, would otherwise hold
/// certmail (and the notification it is about to send) for ever.
const KEYRING_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(20);

/// Runs `work` against the keyring, or says loudly that it did not answer in time.
fn within_timeout<T: Send + 'static>(what: String, work: impl FnOnce() -> Result<T, String> + Send + 'static) -> Result<T, String> {
    within(KEYRING_TIMEOUT, what, work)
}

fn within<T: Send + 'static>(
    timeout: std::time::Duration,
    what: String,
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let (done, answer) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(work());
    });
    // Counted in short sleeps rather than `recv_timeout`: its deadline is read from
    // the clock, and a clock set far ahead (faketime in the tests) would make it wait
    // for the answer however long that takes.
    let step = std::time::Duration::from_millis(10);
    for _ in 0..=(timeout.as_millis() / step.as_millis()) {
        match answer.try_recv() {
            Ok(answered) => return answered,
            Err(std::sync::mpsc::TryRecvError::Disconnected) => return Err(format!("the OS keyring failed when asked to {what}")),
            Err(std::sync::mpsc::TryRecvError::Empty) => std::thread::sleep(step),
        }
    }
    Err(format!(
        "the OS keyring did not answer within {} s when asked to {what} (is it locked, or waiting for a prompt?); give the secret by the configuration's -command or -env setting instead",
        timeout.as_secs_f32()
    ))
}

/// Reads an entry from the OS keyring: `Ok(None)` if there is none, an error
/// (never a silent fallback) if the keyring cannot be reached or does not answer.
pub fn keyring_get(user: &str) -> Result<Option<Secret>, String> {
    let user = user.to_string();
    within_timeout(format!("read {KEYRING_SERVICE}/{user}"), move || {
        let store = keyring_store()?;
        let entry = store.build(KEYRING_SERVICE, &user, None).map_err(|e| format!("OS keyring: {e}"))?;
        match entry.get_password() {
            Ok(p) => Ok(Some(Secret::new(p))),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(format!("the OS keyring failed to read {KEYRING_SERVICE}/{user}: {e}")),
        }
    })
}

/// Stores an entry in the OS keyring, or says loudly why it could not.
pub fn keyring_set(user: &str, secret: &Secret) -> Result<(), String> {
    let (user, secret) = (user.to_string(), Secret::new(secret.expose().to_string()));
    within_timeout(format!("store {KEYRING_SERVICE}/{user}"), move || {
        let store = keyring_store()?;
        let entry = store.build(KEYRING_SERVICE, &user, None).map_err(|e| format!("OS keyring: {e}"))?;
        entry.set_password(secret.expose()).map_err(|e| format!("the OS keyring failed to store {KEYRING_SERVICE}/{user}: {e}"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_keyring_that_does_not_answer_is_an_error_not_a_hang() {
        let slow = within(std::time::Duration::from_millis(50), "read x".into(), || {
            std::thread::sleep(std::time::Duration::from_secs(2));
            Ok(())
        });
        assert!(slow.is_err_and(|e| e.contains("did not answer") && e.contains("-env")));
        assert_eq!(within(std::time::Duration::from_secs(5), "read x".into(), || Ok(7)), Ok(7));
    }

    #[test]
    fn secrets_never_print() {
        let s = Secret::new("hunter2".into());
        assert_eq!(format!("{s} {s:?}"), "**** ****");
    }

    #[test]
    fn command_output_loses_one_trailing_newline_only() {
        let argv = vec!["printf".to_string(), "pass word\n\n".to_string()];
        let src = SecretSource { purpose: "p", config_hint: "[x] p", env: None, command: Some(&argv), keyring_user: "u" };
        assert_eq!(src.explicit().unwrap().unwrap().expose(), "pass word\n");
    }

    #[test]
    fn failing_command_and_missing_env_are_loud() {
        let argv = vec!["false".to_string()];
        let src = SecretSource { purpose: "p", config_hint: "[x] p", env: None, command: Some(&argv), keyring_user: "u" };
        assert!(src.explicit().unwrap_err().message.contains("failed"));
        let src =
            SecretSource { purpose: "p", config_hint: "[x] p", env: Some("CERTMAIL_TEST_UNSET_VAR"), command: None, keyring_user: "u" };
        assert!(src.explicit().unwrap_err().message.contains("CERTMAIL_TEST_UNSET_VAR"));
    }
}
