//! The only user of the imap crate (and of rustls directly): one connection to the
//! mailbox the CERT's replies land in, with TLS required (implicit TLS, or STARTTLS
//! that the server must offer, checked before any password is sent), certificate
//! validation always on, a deadline on every network step, and messages addressed
//! by UID. Reading never marks anything: bodies are fetched with BODY.PEEK[], and a
//! folder is opened read-only (EXAMINE) unless processed mail is to be moved.
//!
//! Why this crate: `imap` 3.0 (an alpha, but the maintained line) is a blocking client
//! over any `Read + Write` stream, so TLS is the rustls (ring, native roots) that
//! lettre already brings, wrapped here by hand: no OpenSSL, no async runtime in a
//! blocking CLI (async-imap needs one), and IDLE is there for `watch`. It knows
//! nothing of the store or of ingest; `commands/fetch.rs` joins them.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::ServerName;
use rustls::pki_types::pem::PemObject;
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::secrets::Secret;

/// How the connection is protected. There is no plaintext mode, not even for tests:
/// the test server has a throwaway CA instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// TLS from the first byte (usually port 993).
    Tls,
    /// A plain connection upgraded with STARTTLS, which the server must offer (143).
    Starttls,
}

/// The mailbox, resolved from `[imap]`.
#[derive(Debug, Clone)]
pub struct Mailbox {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub username: String,
    /// PEM file of the CA the server's certificate must chain to; replaces the
    /// system's roots.
    pub ca_file: Option<PathBuf>,
    pub folder: String,
    /// Where mail goes once it is recorded; `None` leaves the server untouched.
    pub processed_folder: Option<String>,
    /// Deadline for connecting and for each read or write.
    pub timeout: Duration,
}

impl Mailbox {
    /// The folder's name in the store and in messages: an RFC 5092 IMAP URL.
    pub fn url(&self) -> String {
        format!("imap://{}@{}:{}/{}", self.username, self.host, self.port, self.folder)
    }
}

/// Keyring entry name for the mailbox password (`certmail secrets set imap`).
pub fn keyring_user(mailbox: &Mailbox) -> String {
    format!("imap:{}@{}", mailbox.username, mailbox.host)
}

/// Why talking to the mailbox failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImapError {
    /// Something a person must fix: certificates, STARTTLS missing, a rejected login,
    /// a missing folder.
    Setup(String),
    /// The network or the server, which may be fine again later.
    Transient(String),
}

impl ImapError {
    pub fn text(&self) -> &str {
        match self {
            ImapError::Setup(t) | ImapError::Transient(t) => t,
        }
    }
}

/// The rustls stream the imap crate talks through, with the step deadline: IDLE sets
/// its own read timeout while it waits and then asks for none, which here means the
/// deadline again (a DONE to a dead server must not wait for ever).
pub struct TlsStream(StreamOwned<ClientConnection, TcpStream>, Duration);

impl Read for TlsStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for TlsStream {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

impl imap::extensions::idle::SetReadTimeout for TlsStream {
    fn set_read_timeout(&mut self, timeout: Option<Duration>) -> imap::Result<()> {
        self.0.sock.set_read_timeout(Some(timeout.unwrap_or(self.1))).map_err(imap::Error::Io)
    }
}

/// A selected folder, as the server described it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selected {
    pub uid_validity: u32,
    pub exists: u32,
}

/// One message, as fetched.
pub struct Fetched {
    pub uid: u32,
    /// At most `max_bytes + 1` bytes: a larger message is cut there, so ingest sees
    /// it is too large without it ever being held whole.
    pub bytes: Vec<u8>,
}

/// An open, logged-in connection.
pub struct Session {
    inner: imap::Session<TlsStream>,
    name: String,
    move_supported: bool,
    idle_supported: bool,
}

/// How a wait for new mail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wake {
    /// The server said the folder changed.
    Changed,
    /// Nothing happened in the time given.
    Quiet,
}

fn tls_config(mailbox: &Mailbox) -> Result<Arc<ClientConfig>, ImapError> {
    let mut roots = RootCertStore::empty();
    match &mailbox.ca_file {
        // A configured CA replaces the system's roots: the server must chain to it.
        Some(path) => {
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(path)
                .and_then(|it| it.collect::<Result<Vec<_>, _>>())
                .map_err(|e| ImapError::Setup(format!("[imap] ca-file {}: {e}", path.display())))?;
            if certs.is_empty() {
                return Err(ImapError::Setup(format!("[imap] ca-file {} holds no PEM certificate", path.display())));
            }
            for cert in certs {
                roots.add(cert).map_err(|e| ImapError::Setup(format!("[imap] ca-file {}: {e}", path.display())))?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(ImapError::Setup("no system CA certificates found; set [imap] ca-file".into()));
            }
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::Setup(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

fn connect_tcp(mailbox: &Mailbox, name: &str) -> Result<TcpStream, ImapError> {
    let addrs: Vec<_> = (mailbox.host.as_str(), mailbox.port)
        .to_socket_addrs()
        .map_err(|e| ImapError::Transient(format!("cannot resolve {name}: {e}")))?
        .collect();
    let mut last = format!("cannot resolve {name}");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, mailbox.timeout) {
            Ok(tcp) => {
                let deadline = Some(mailbox.timeout);
                tcp.set_read_timeout(deadline)
                    .and_then(|_| tcp.set_write_timeout(deadline))
                    .map_err(|e| ImapError::Transient(e.to_string()))?;
                let _ = tcp.set_nodelay(true);
                return Ok(tcp);
            }
            Err(e) => last = format!("cannot connect to {name}: {e}"),
        }
    }
    Err(ImapError::Transient(last))
}

/// Runs the TLS handshake to its end now, so a certificate problem is reported as
/// one rather than as a failed first read.
fn handshake(mailbox: &Mailbox, config: Arc<ClientConfig>, mut tcp: TcpStream, name: &str) -> Result<TlsStream, ImapError> {
    let server =
        ServerName::try_from(mailbox.host.clone()).map_err(|e| ImapError::Setup(format!("[imap] host {:?}: {e}", mailbox.host)))?;
    let mut conn = ClientConnection::new(config, server).map_err(|e| ImapError::Setup(format!("TLS setup: {e}")))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            let text = format!("TLS handshake with {name}: {e}");
            return Err(if e.kind() == std::io::ErrorKind::InvalidData {
                ImapError::Setup(format!("{text} (check the server's certificate or [imap] ca-file)"))
            } else {
                ImapError::Transient(text)
            });
        }
    }
    Ok(TlsStream(StreamOwned::new(conn, tcp), mailbox.timeout))
}

fn transient(context: &str) -> impl Fn(imap::Error) -> ImapError + '_ {
    move |e| ImapError::Transient(format!("{context}: {e}"))
}

/// A NO to a command about a folder is the configuration's to fix; anything else
/// (lost connection, timeout, BYE) may pass.
fn folder_error(context: &str) -> impl Fn(imap::Error) -> ImapError + '_ {
    move |e| match e {
        imap::Error::No(_) | imap::Error::Bad(_) => ImapError::Setup(format!("{context}: {e}")),
        e => ImapError::Transient(format!("{context}: {e}")),
    }
}

/// The plain part of a STARTTLS connection: greeting, CAPABILITY (which must offer
/// STARTTLS) and STARTTLS. The crate reads the greeting and the capabilities; the
/// STARTTLS command itself is written here because the crate only sends it from its
/// own connector, which takes neither a CA file nor deadlines.
fn starttls(tcp: TcpStream, name: &str) -> Result<TcpStream, ImapError> {
    let mut plain = imap::Client::new(tcp);
    plain.read_greeting().map_err(transient(&format!("greeting from {name}")))?;
    let caps = plain.capabilities().map_err(transient(&format!("CAPABILITY at {name}")))?;
    if !caps.has_str("STARTTLS") {
        // Nothing but CAPABILITY has been said: no name, no password.
        return Err(ImapError::Setup(format!(
            "{name} does not offer STARTTLS; certmail will not go on without TLS (the password and the mail would travel in clear)"
        )));
    }
    let mut tcp = plain.into_inner().map_err(transient(&format!("STARTTLS at {name}")))?;
    let lost = |e: std::io::Error| ImapError::Transient(format!("STARTTLS at {name}: {e}"));
    tcp.write_all(b"cm0 STARTTLS\r\n").map_err(lost)?;
    loop {
        let line = read_plain_line(&mut tcp).map_err(lost)?;
        if let Some(status) = line.strip_prefix(b"cm0 ") {
            if status.len() >= 2 && status[..2].eq_ignore_ascii_case(b"OK") {
                return Ok(tcp);
            }
            let said = String::from_utf8_lossy(&line).trim_end().to_string();
            return Err(ImapError::Setup(format!("{name} refused STARTTLS: {said}")));
        }
    }
}

/// One line from the plain socket, read byte by byte so that nothing past it is
/// taken: bytes someone sent after the OK then reach rustls, which fails the
/// handshake, instead of being read as a response inside TLS (CVE-2011-0411).
fn read_plain_line(tcp: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while line.len() < 8192 {
        if tcp.read(&mut byte)? == 0 {
            return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "connection closed"));
        }
        line.push(byte[0]);
        if byte[0] == b'\n' {
            return Ok(line);
        }
    }
    Err(std::io::Error::new(std::io::ErrorKind::InvalidData, "line too long"))
}

impl Session {
    /// Connects, secures and logs in. The password only ever travels inside TLS.
    pub fn open(mailbox: &Mailbox, password: &Secret) -> Result<Session, ImapError> {
        let name = format!("{}:{}", mailbox.host, mailbox.port);
        let config = tls_config(mailbox)?;
        let tcp = connect_tcp(mailbox, &name)?;
        let stream = match mailbox.security {
            Security::Tls => handshake(mailbox, config, tcp, &name)?,
            Security::Starttls => {
                let tcp = starttls(tcp, &name)?;
                handshake(mailbox, config, tcp, &name)?
            }
        };
        let mut client = imap::Client::new(stream);
        if mailbox.security == Security::Tls {
            client.read_greeting().map_err(transient(&format!("greeting from {name}")))?;
        }
        let mut inner = client.login(&mailbox.username, password.expose()).map_err(|(e, _)| match e {
            imap::Error::No(_) | imap::Error::Bad(_) | imap::Error::Validate(_) => {
                ImapError::Setup(format!("{name} rejected the login of {}: {e}", mailbox.username))
            }
            e => ImapError::Transient(format!("LOGIN at {name}: {e}")),
        })?;
        let caps = inner.capabilities().map_err(transient(&format!("CAPABILITY at {name}")))?;
        let move_supported = caps.has_str("MOVE");
        let idle_supported = caps.has_str("IDLE");
        Ok(Session { inner, name, move_supported, idle_supported })
    }

    /// Opens a folder: read-only (EXAMINE) unless mail is to be moved out of it.
    pub fn select(&mut self, folder: &str, read_only: bool) -> Result<Selected, ImapError> {
        let context = format!("opening folder {folder:?} at {}", self.name);
        let mailbox = if read_only { self.inner.examine(folder) } else { self.inner.select(folder) }.map_err(folder_error(&context))?;
        let uid_validity = mailbox
            .uid_validity
            .ok_or_else(|| ImapError::Setup(format!("{context}: the server gave no UIDVALIDITY, so messages cannot be told apart")))?;
        Ok(Selected { uid_validity, exists: mailbox.exists })
    }

    /// The UIDs above `after` with each message's size, oldest first.
    pub fn new_messages(&mut self, selected: &Selected, after: u32) -> Result<Vec<(u32, u32)>, ImapError> {
        if selected.exists == 0 {
            return Ok(Vec::new());
        }
        let start = after.saturating_add(1);
        let fetches =
            self.inner.uid_fetch(format!("{start}:*"), "(UID RFC822.SIZE)").map_err(transient(&format!("UID FETCH at {}", self.name)))?;
        // `N:*` always includes the last message, even when its UID is below N.
        let mut found: Vec<(u32, u32)> =
            fetches.iter().filter_map(|f| Some((f.uid?, f.size.unwrap_or(0)))).filter(|(uid, _)| *uid > after).collect();
        found.sort_unstable();
        found.dedup_by_key(|(uid, _)| *uid);
        Ok(found)
    }

    /// Fetches messages by UID without marking them read (BODY.PEEK[]), each cut at
    /// `max_bytes + 1`. Returns them in UID order; one the server no longer has is
    /// left out.
    pub fn fetch(&mut self, uids: &[u32], max_bytes: usize) -> Result<Vec<Fetched>, ImapError> {
        if uids.is_empty() {
            return Ok(Vec::new());
        }
        let query = format!("(UID BODY.PEEK[]<0.{}>)", max_bytes + 1);
        let fetches = self.inner.uid_fetch(uid_set(uids), query).map_err(transient(&format!("UID FETCH at {}", self.name)))?;
        let mut out: Vec<Fetched> = fetches
            .iter()
            .filter_map(|f| Some(Fetched { uid: f.uid?, bytes: f.body().unwrap_or_default().to_vec() }))
            .filter(|f| uids.contains(&f.uid))
            .collect();
        out.sort_by_key(|f| f.uid);
        Ok(out)
    }

    /// Moves messages to `folder` (MOVE, RFC 6851; else COPY, then flag them deleted
    /// and expunge only those with UID EXPUNGE, RFC 4315).
    pub fn move_to(&mut self, uids: &[u32], folder: &str) -> Result<(), ImapError> {
        if uids.is_empty() {
            return Ok(());
        }
        let set = uid_set(uids);
        let context = format!("moving recorded mail to {folder:?} at {}", self.name);
        if self.move_supported {
            return self.inner.uid_mv(&set, folder).map_err(folder_error(&context));
        }
        self.inner.uid_copy(&set, folder).map_err(folder_error(&context))?;
        self.inner.uid_store(&set, "+FLAGS.SILENT (\\Deleted)").map_err(folder_error(&context))?;
        // A plain EXPUNGE would also remove mail someone else marked deleted.
        self.inner.uid_expunge(&set).map(|_| ()).map_err(folder_error(&context))
    }

    /// The server offers IDLE (RFC 2177); without it, `watch` polls.
    pub fn can_idle(&self) -> bool {
        self.idle_supported
    }

    /// Waits in IDLE on the selected folder for at most `limit`. Only call when
    /// [`Session::can_idle`]: the crate panics on a server that refuses IDLE.
    pub fn idle(&mut self, limit: Duration) -> Result<Wake, ImapError> {
        let mut handle = self.inner.idle();
        handle.timeout(limit).keepalive(false);
        // Any untagged response in IDLE (EXISTS, EXPUNGE, FETCH) is a reason to look.
        match handle.wait_while(imap::extensions::idle::stop_on_any) {
            Ok(imap::extensions::idle::WaitOutcome::MailboxChanged) => Ok(Wake::Changed),
            Ok(imap::extensions::idle::WaitOutcome::TimedOut) => Ok(Wake::Quiet),
            Err(e) => Err(ImapError::Transient(format!("IDLE at {}: {e}", self.name))),
        }
    }

    /// Says goodbye; a failure here changes nothing that was done.
    pub fn close(mut self) {
        let _ = self.inner.logout();
    }
}

/// `1,2,5:9`: consecutive UIDs as ranges, so a long list stays a short command.
fn uid_set(uids: &[u32]) -> String {
    let mut sorted = uids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut parts = Vec::new();
    let mut i = 0;
    while i < sorted.len() {
        let start = sorted[i];
        while i + 1 < sorted.len() && sorted[i + 1] == sorted[i] + 1 {
            i += 1;
        }
        parts.push(if sorted[i] == start { start.to_string() } else { format!("{start}:{}", sorted[i]) });
        i += 1;
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uid_sets_are_ranges() {
        assert_eq!(uid_set(&[5, 1, 2, 3, 9, 7, 8, 2]), "1:3,5,7:9");
        assert_eq!(uid_set(&[4]), "4");
    }
}
