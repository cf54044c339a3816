//! The only user of lettre's SMTP client: one connection to the relay with TLS
//! required (implicit TLS, or STARTTLS that must be offered), AUTH only inside TLS,
//! a deadline on every network step, and errors sorted into what the outbox needs to
//! know: retry later, give up, or "the message may have arrived".
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
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || IpAddr::from_str(host.trim_matches(['[', ']'])).is_ok_and(|ip| ip.is_loopback())
}

/// Sets TCP_NODELAY on this process's connections to the relay.
///
/// lettre writes the message and then ".\r\n" in a second small write; with Nagle's
/// algorithm on, that write waits for the server's delayed ACK (about 40 ms a
/// message, as msmtp and swaks lose). lettre 0.11 neither sets TCP_NODELAY nor
/// exposes its socket, so the socket is found by its peer address among our own
/// open file descriptors. Best effort: if it cannot be found, mail still flows.
fn disable_nagle(peers: &[std::net::SocketAddr]) {
    use std::os::fd::BorrowedFd;
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return };
    for entry in entries.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // SAFETY: the descriptor is open (listed just now) and this thread is the
        // only one opening or closing descriptors while a session is being set up;
        // it is only borrowed for two socket options, never closed here.
        let fd = unsafe { BorrowedFd::borrow_raw(fd) };
        let socket = socket2::SockRef::from(&fd);
        let peer = socket.peer_addr().ok().and_then(|p| p.as_socket());
        if peer.is_some_and(|p| peers.contains(&p)) {
            let _ = socket.set_tcp_nodelay(true);
        }
    }
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
        let relay_name = format!("{}:{}", relay.host, relay.port);
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
        let mut conn = SmtpConnection::connect(addrs.as_slice(), Some(relay.timeout), &hello, implicit, None)
            .map_err(|e| classify(&format!("connecting to {relay_name}"), &e))?;
        disable_nagle(&addrs);
        if relay.security == Security::Starttls {
            if !conn.can_starttls() {
                conn.abort();
                return Err(SendError::Setup(format!(
                    "{relay_name} does not offer STARTTLS; certmail will not go on without TLS (the password and the message would travel in clear)"
                )));
            }
            let params = tls.as_ref().ok_or_else(|| SendError::Setup("no TLS parameters".into()))?;
            conn.starttls(params, &hello).map_err(|e| classify(&format!("STARTTLS with {relay_name}"), &e))?;
        }
        if let Some(user) = &relay.username {
            let password = password.ok_or_else(|| SendError::Setup(format!("no password for {user} at {relay_name}")))?;
            let credentials = Credentials::new(user.clone(), password.expose().to_string());
            if let Err(e) = conn.auth(&[Mechanism::Plain, Mechanism::Login], &credentials) {
                conn.abort();
                return Err(if e.is_transient() {
                    SendError::Transient(format!("AUTH at {relay_name}: {e}"))
                } else {
                    SendError::Setup(format!("{relay_name} rejected the login of {user}: {e}"))
                });
            }
        }
        Ok(Session { conn, relay_name })
    }

    /// Sends one message; returns the server's final reply (it usually carries the
    /// relay's queue id). `bytes` must end in CRLF and contain no bare CR or LF.
    pub fn send(&mut self, from: &str, to: &str, bytes: &[u8]) -> Result<String, SendError> {
        let from = Address::from_str(from).map_err(|e| SendError::Permanent(format!("sender address {from:?}: {e}")))?;
        let to = Address::from_str(to).map_err(|e| SendError::Permanent(format!("recipient address {to:?}: {e}")))?;
        let name = self.relay_name.clone();
        self.conn.command(Mail::new(Some(from), vec![])).map_err(|e| classify(&format!("MAIL FROM at {name}"), &e))?;
        self.conn.command(Rcpt::new(to, vec![])).map_err(|e| classify(&format!("RCPT TO at {name}"), &e))?;
        self.conn.command(Data).map_err(|e| classify(&format!("DATA at {name}"), &e))?;
        // lettre adds CRLF . CRLF itself: hand it the message without its last CRLF,
        // so the server stores exactly the queued bytes.
        let body = bytes.strip_suffix(b"\r\n").unwrap_or(bytes);
        match self.conn.message(body) {
            Ok(reply) => Ok(format!("{} {}", reply.code(), reply.message().collect::<Vec<_>>().join(" "))),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("end of DATA at {name}: {e}"))),
            Err(e) if e.is_transient() => Err(SendError::Transient(format!("end of DATA at {name}: {e}"))),
            // Sent, but no verdict: lost connection or no reply in time.
            Err(e) => Err(SendError::PossiblyDelivered(format!("no reply after the end of DATA at {name}: {e}"))),
        }
    }

    /// True while the connection can carry another message.
    pub fn usable(&self) -> bool {
        !self.conn.has_broken()
    }

    pub fn close(mut self) {
        let _ = self.conn.quit();
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
