//! The only user of lettre's SMTP client: one connection to the relay with TLS
//! required (implicit TLS, or STARTTLS that must be offered), AUTH only inside TLS,
//! one deadline for the whole session, and errors sorted into what the outbox needs
//! to know: retry later, give up, or "the message may have arrived".
//!
//! It sends bytes it is given and never builds or changes a message; the outbox only
//! hands it CRLF-only messages (lettre 0.11.23 does not dot-stuff after a bare CR or
//! LF, RUSTSEC-2026-0561).

use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use lettre::Address;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::ClientId;

use crate::secrets::Secret;

mod socket;
use socket::{Deadline, disable_nagle};

/// How the connection is protected. There is no opportunistic mode: a stripped
/// STARTTLS would send the password in clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Implicit TLS from the first byte (usually port 465).
    Tls,
    /// Plain connection upgraded with STARTTLS, which the server must offer (587).
    Starttls,
    /// No TLS at all: only to a loopback address, without AUTH, for tests.
    PlaintextLoopbackTestOnly,
}

/// A resolved relay configuration.
#[derive(Debug, Clone)]
pub struct Relay {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: Option<String>,
    pub ca_file: Option<PathBuf>,
    /// The whole session's deadline: connect, greeting, TLS, AUTH and one message
    /// (each further message on the same connection gets as long again).
    pub timeout: Duration,
    /// Name given in EHLO.
    pub hello_name: String,
}

/// Why a delivery attempt did not end in "250 after the final dot".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth retrying as is: 4xx replies, timeouts, refused or lost connections.
    Transient(String),
    /// The server refused this message for good (5xx to MAIL, RCPT or DATA).
    Permanent(String),
    /// The connection broke after the message went out, before the final reply.
    PossiblyDelivered(String),
    /// The path to the relay needs fixing (credentials, TLS, certificates); the
    /// message itself is fine and waits.
    Setup(String),
}

impl SendError {
    pub fn text(&self) -> &str {
        match self {
            SendError::Transient(t) | SendError::Permanent(t) | SendError::PossiblyDelivered(t) | SendError::Setup(t) => t,
        }
    }
}

/// An open, authenticated connection to the relay.
pub struct Session {
    conn: SmtpConnection,
    relay_name: String,
    deadline: Deadline,
    /// A message went over this connection: the next one renews the deadline.
    sent_one: bool,
}

impl Relay {
    /// "host:port", as messages name the relay.
    pub fn name(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || IpAddr::from_str(host.trim_matches(['[', ']'])).is_ok_and(|ip| ip.is_loopback())
}

/// Checks that a relay configuration cannot leak anything in clear.
pub fn check_relay(relay: &Relay) -> Result<(), String> {
    if relay.security == Security::PlaintextLoopbackTestOnly {
        if !is_loopback(&relay.host) {
            return Err(format!(
                "security \"plaintext-loopback-test-only\" is refused for {}: it is only for tests against a loopback address; use \"tls\" or \"starttls\"",
                relay.host
            ));
        }
        if relay.username.is_some() {
            return Err(
                "security \"plaintext-loopback-test-only\" cannot be used with a username: a password never travels without TLS".into()
            );
        }
    }
    Ok(())
}

fn tls_parameters(relay: &Relay) -> Result<TlsParameters, SendError> {
    let mut builder = TlsParameters::builder(relay.host.clone());
    if let Some(path) = &relay.ca_file {
        // A configured CA replaces the system's roots: the relay must chain to it.
        // (Loading the system store also costs milliseconds on every connection.)
        builder = builder.certificate_store(CertificateStore::None);
        let pem = std::fs::read(path).map_err(|e| SendError::Setup(format!("cannot read ca-file {}: {e}", path.display())))?;
        let cert = Certificate::from_pem(&pem).map_err(|e| SendError::Setup(format!("ca-file {}: {e}", path.display())))?;
        builder = builder.add_root_certificate(cert);
    }
    builder.build_rustls().map_err(|e| SendError::Setup(format!("TLS setup: {e}")))
}

/// Sorts a lettre error from connecting or a command into retry / give up / fix.
fn classify(context: &str, e: &lettre::transport::smtp::Error) -> SendError {
    let text = format!("{context}: {e}");
    // lettre reports a failed certificate check during the TLS handshake as a
    // network error, so its text is the only sign of it.
    if e.is_tls() || text.contains("certificate") {
        SendError::Setup(format!("{text} (check the relay's certificate or ca-file)"))
    } else if e.is_permanent() {
        SendError::Permanent(text)
    } else {
        // 4xx, timeouts, refused and reset connections: the relay may be back later.
        SendError::Transient(text)
    }
}

impl Session {
    /// Connects, secures and authenticates. The password is only sent inside TLS.
    pub fn open(relay: &Relay, password: Option<&Secret>) -> Result<Session, SendError> {
        check_relay(relay).map_err(SendError::Setup)?;
        let relay_name = relay.name();
        let addrs: Vec<_> = (relay.host.as_str(), relay.port)
            .to_socket_addrs()
            .map_err(|e| SendError::Transient(format!("cannot resolve {relay_name}: {e}")))?
            .collect();
        let hello = ClientId::Domain(relay.hello_name.clone());
        let tls = match relay.security {
            Security::PlaintextLoopbackTestOnly => None,
            _ => Some(tls_parameters(relay)?),
        };
        let implicit = if relay.security == Security::Tls { tls.as_ref() } else { None };
        // Connecting also reads the greeting and says EHLO, all under the deadline.
        let deadline = Deadline::start(relay.timeout, addrs.clone());
        let context = format!("connecting to {relay_name}");
        let conn = SmtpConnection::connect(addrs.as_slice(), Some(relay.timeout), &hello, implicit, None)
            .map_err(|e| if deadline.passed(&e) { SendError::Transient(deadline.text(&context)) } else { classify(&context, &e) })?;
        disable_nagle(&addrs);
        let mut session = Session { conn, relay_name: relay_name.clone(), deadline, sent_one: false };
        session.secure_and_login(relay, tls.as_ref(), &hello, password)?;
        Ok(session)
    }

    /// STARTTLS (when configured) and AUTH, on a connection that has said EHLO.
    fn secure_and_login(
        &mut self,
        relay: &Relay,
        tls: Option<&TlsParameters>,
        hello: &ClientId,
        password: Option<&Secret>,
    ) -> Result<(), SendError> {
        let relay_name = self.relay_name.clone();
        if relay.security == Security::Starttls {
            if !self.conn.can_starttls() {
                self.conn.abort();
                return Err(SendError::Setup(format!(
                    "{relay_name} does not offer STARTTLS; certmail will not go on without TLS (the password and the message would travel in clear)"
                )));
            }
            let params = tls.ok_or_else(|| SendError::Setup("no TLS parameters".into()))?;
            self.step(&format!("STARTTLS with {relay_name}"), |c| c.starttls(params, hello)).map_err(|(e, _)| e)?;
        }
        if let Some(user) = &relay.username {
            let password = password.ok_or_else(|| SendError::Setup(format!("no password for {user} at {relay_name}")))?;
            let credentials = Credentials::new(user.clone(), password.expose().to_string());
            if let Err((sorted, e)) =
                self.step(&format!("AUTH at {relay_name}"), |c| c.auth(&[Mechanism::Plain, Mechanism::Login], &credentials))
            {
                self.conn.abort();
                return Err(match e {
                    Some(e) if !e.is_transient() => SendError::Setup(format!("{relay_name} rejected the login of {user}: {e}")),
                    Some(e) => SendError::Transient(format!("AUTH at {relay_name}: {e}")),
                    // Timed out: sorted already.
                    None => sorted,
                });
            }
        }
        Ok(())
    }

    /// Runs one lettre call with the socket's timeouts set to the time left. A
    /// timeout is sorted here (transient, "timed out after N s"); any other error
    /// is sorted by [`classify`] and also handed back for callers that sort it
    /// their own way.
    fn step<T>(
        &mut self,
        context: &str,
        call: impl FnOnce(&mut SmtpConnection) -> Result<T, lettre::transport::smtp::Error>,
    ) -> Result<T, (SendError, Option<lettre::transport::smtp::Error>)> {
        let Some(left) = self.deadline.left() else {
            self.give_up();
            return Err((SendError::Transient(self.deadline.text(context)), None));
        };
        self.conn.set_timeout(Some(left)).map_err(|e| (SendError::Transient(format!("{context}: {e}")), None))?;
        match call(&mut self.conn) {
            Ok(v) => Ok(v),
            Err(e) if self.deadline.passed(&e) => {
                self.give_up();
                Err((SendError::Transient(self.deadline.text(context)), None))
            }
            Err(e) => Err((classify(context, &e), Some(e))),
        }
    }

    /// Out of time: the connection is dropped without waiting for the relay again
    /// (lettre's abort says QUIT, so it gets a millisecond for it).
    fn give_up(&mut self) {
        let _ = self.conn.set_timeout(Some(Duration::from_millis(1)));
        self.conn.abort();
    }

    /// Sends one message; returns the server's final reply (it usually carries the
    /// relay's queue id). `bytes` must end in CRLF and contain no bare CR or LF.
    pub fn send(&mut self, from: &str, to: &str, bytes: &[u8]) -> Result<String, SendError> {
        let from = Address::from_str(from).map_err(|e| SendError::Permanent(format!("sender address {from:?}: {e}")))?;
        let to = Address::from_str(to).map_err(|e| SendError::Permanent(format!("recipient address {to:?}: {e}")))?;
        let name = self.relay_name.clone();
        if self.sent_one {
            self.deadline.renew();
        } else {
            self.deadline.resume();
        }
        self.sent_one = true;
        let result = self.transaction(from, to, bytes, &name);
        self.deadline.pause();
        result
    }

    /// MAIL, RCPT, DATA and the message, each under the deadline.
    fn transaction(&mut self, from: Address, to: Address, bytes: &[u8], name: &str) -> Result<String, SendError> {
        self.step(&format!("MAIL FROM at {name}"), |c| c.command(Mail::new(Some(from), vec![]))).map_err(|(e, _)| e)?;
        self.step(&format!("RCPT TO at {name}"), |c| c.command(Rcpt::new(to, vec![]))).map_err(|(e, _)| e)?;
        self.step(&format!("DATA at {name}"), |c| c.command(Data)).map_err(|(e, _)| e)?;
        // lettre adds CRLF . CRLF itself: hand it the message without its last CRLF,
        // so the server stores exactly the queued bytes.
        let body = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
        match self.step(&format!("no reply after the end of DATA at {name}"), |c| c.message(body)) {
            Ok(reply) => Ok(format!("{} {}", reply.code(), reply.message().collect::<Vec<_>>().join(" "))),
            Err((_, Some(e))) if e.is_permanent() => Err(SendError::Permanent(format!("end of DATA at {name}: {e}"))),
            Err((_, Some(e))) if e.is_transient() => Err(SendError::Transient(format!("end of DATA at {name}: {e}"))),
            // Sent (perhaps), but no verdict: lost connection or no reply in time.
            Err((_, Some(e))) => Err(SendError::PossiblyDelivered(format!("no reply after the end of DATA at {name}: {e}"))),
            Err((timed_out, None)) => Err(SendError::PossiblyDelivered(timed_out.text().to_string())),
        }
    }

    /// True while the connection can carry another message.
    pub fn usable(&self) -> bool {
        !self.conn.has_broken()
    }

    /// Says QUIT if there is time left; the relay has all it needs either way.
    pub fn close(mut self) {
        self.deadline.resume();
        let _ = self.step("QUIT", |c| c.quit());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relay(host: &str, security: Security, username: Option<&str>) -> Relay {
        Relay {
            host: host.into(),
            port: 25,
            security,
            username: username.map(String::from),
            ca_file: None,
            timeout: Duration::from_secs(1),
            hello_name: "example.dk".into(),
        }
    }

    #[test]
    fn plaintext_only_to_loopback_and_never_with_a_password() {
        assert!(check_relay(&relay("127.0.0.1", Security::PlaintextLoopbackTestOnly, None)).is_ok());
        assert!(check_relay(&relay("::1", Security::PlaintextLoopbackTestOnly, None)).is_ok());
        assert!(check_relay(&relay("smtp.example.dk", Security::PlaintextLoopbackTestOnly, None)).is_err());
        assert!(check_relay(&relay("10.0.0.1", Security::PlaintextLoopbackTestOnly, None)).is_err());
        assert!(check_relay(&relay("127.0.0.1", Security::PlaintextLoopbackTestOnly, Some("u"))).is_err());
        assert!(check_relay(&relay("smtp.example.dk", Security::Starttls, Some("u"))).is_ok());
    }
}
