//! The relay as `notify` will meet it: TCP connect, greeting, EHLO, TLS (implicit
//! or STARTTLS) and AUTH when a username is configured, all under the session's one
//! deadline (`timeout-seconds`), through `transport` as delivery uses it. It says
//! QUIT after AUTH: never MAIL FROM, so nothing is ever sent.

use super::Check;
use crate::config::Settings;
use crate::outbox;
use crate::secrets::{self, Secret};
use crate::transport::{Relay, SendError, Session};

const NAME: &str = "relay";

pub fn check(settings: &Settings) -> Check {
    let relay = match settings.relay() {
        Ok(Some(relay)) => relay,
        Ok(None) => {
            return Check::warning(
                NAME,
                format!("no [smtp] relay in {}: notifications are queued, not delivered", settings.config_path.display()),
                "add [smtp] (see README, \"Delivery\"), then `certmail doctor` again",
            );
        }
        Err(f) => return Check::error(NAME, f.message, "fix [smtp] in the configuration (see README, \"Delivery\")"),
    };
    // A password that cannot be had without asking: the conversation is still
    // tried up to TLS, and AUTH is said to be untested.
    let (password, untested) = match password(settings, &relay) {
        Ok(p) => (p, None),
        Err(why) => (None, Some(why)),
    };
    let tried = if untested.is_some() { Relay { username: None, ..relay.clone() } } else { relay.clone() };
    let started = std::time::Instant::now();
    match Session::open(&tried, password.as_ref()) {
        Ok(session) => {
            session.close();
            let tls = match relay.security {
                crate::transport::Security::Tls => "implicit TLS",
                crate::transport::Security::Starttls => "STARTTLS",
                crate::transport::Security::PlaintextLoopbackTestOnly => "no TLS (plaintext-loopback-test-only: tests only)",
            };
            let took = started.elapsed().as_millis();
            match (&relay.username, untested) {
                (Some(user), None) => {
                    Check::ok(NAME, format!("{}: greeting, EHLO, {tls} and AUTH as {user} in {took} ms; nothing was sent", relay.name()))
                }
                (Some(user), Some(why)) => Check::warning(
                    NAME,
                    format!("{}: greeting, EHLO and {tls} in {took} ms; AUTH as {user} not tested: {why}", relay.name()),
                    "set password-env or password-command under [smtp], or `certmail secrets set smtp`",
                ),
                (None, _) => Check::ok(
                    NAME,
                    format!("{}: greeting, EHLO and {tls} in {took} ms (no AUTH configured); nothing was sent", relay.name()),
                ),
            }
        }
        // The session's deadline passed (transport says "timed out after N s"): the
        // time taken tells it apart from a refusal without reading the text.
        Err(e) => Check::error(NAME, e.text().to_string(), fix(&relay, &e, started.elapsed() >= relay.timeout)),
    }
}

/// The relay password, from the configuration's source or the keyring; never a
/// prompt. `Ok(None)` when the relay takes no login; the error says why there is none.
fn password(settings: &Settings, relay: &Relay) -> Result<Option<Secret>, String> {
    if relay.username.is_none() {
        return Ok(None);
    }
    let user = outbox::smtp_keyring_user(relay);
    let source = outbox::smtp_password_source(settings, &user);
    if let Some(p) = source.explicit().map_err(|f| f.message)? {
        return Ok(Some(p));
    }
    match secrets::keyring_get(&user) {
        Ok(Some(p)) => Ok(Some(p)),
        Ok(None) => Err(format!("the OS keyring has no entry certmail/{user}")),
        Err(_) => Err("no OS keyring here, and no password-env or password-command".into()),
    }
}

fn fix(relay: &Relay, e: &SendError, timed_out: bool) -> String {
    match e {
        _ if timed_out => format!(
            "{} did not answer within {} s: check host and port, a firewall, or that it is an SMTP server; raise [smtp] timeout-seconds if the line is slow",
            relay.name(),
            relay.timeout.as_secs()
        ),
        SendError::Setup(_) => "fix the relay settings: security (tls or starttls), ca-file, username and password".into(),
        SendError::Transient(_) => format!(
            "check [smtp] host and port ({}), and that the relay is up and reachable from here; queued notifications wait meanwhile",
            relay.name()
        ),
        SendError::Permanent(_) | SendError::PossiblyDelivered(_) => "ask the relay's administrator what it refuses".into(),
    }
}
