//! The relay's socket under certmail's control, though lettre keeps it to itself:
//! one deadline for a whole SMTP session (a watchdog that shuts the socket down when
//! it passes) and TCP_NODELAY, both on the sockets found among this process's own
//! file descriptors by their peer address.

use std::net::SocketAddr;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// One deadline for a whole exchange with the relay.
///
/// lettre's timeout is per read and per write: a relay that never greets holds us
/// for it and then reports EAGAIN, and one that drips a byte a second holds us for
/// ever, since every read succeeds. So before each lettre call the socket's
/// timeouts are set to the time left, and a watchdog thread shuts the socket down
/// at the deadline, which ends even a read that keeps getting bytes.
pub(super) struct Deadline {
    end: Instant,
    timeout: Duration,
    fired: Arc<AtomicBool>,
    /// Re-arms the watchdog with a new end; dropping it ends the watchdog.
    rearm: mpsc::Sender<Instant>,
}

impl Deadline {
    pub(super) fn start(timeout: Duration, peers: Vec<SocketAddr>) -> Deadline {
        let end = Instant::now() + timeout;
        let fired = Arc::new(AtomicBool::new(false));
        let (rearm, ends) = mpsc::channel();
        let flag = Arc::clone(&fired);
        std::thread::spawn(move || watchdog(end, &ends, &flag, &peers));
        Deadline { end, timeout, fired, rearm }
    }

    /// Gives the next message as long again as the first had.
    pub(super) fn renew(&mut self) {
        self.end = Instant::now() + self.timeout;
        self.fired.store(false, Ordering::SeqCst);
        let _ = self.rearm.send(self.end);
    }

    /// Between messages the connection is idle and ours: the watchdog waits.
    pub(super) fn pause(&self) {
        let _ = self.rearm.send(Instant::now() + Duration::from_secs(24 * 3600));
    }

    pub(super) fn resume(&self) {
        let _ = self.rearm.send(self.end);
    }

    /// The time left, or `None` once it is up.
    pub(super) fn left(&self) -> Option<Duration> {
        Some(self.end.saturating_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }

    pub(super) fn passed(&self, e: &lettre::transport::smtp::Error) -> bool {
        self.fired.load(Ordering::SeqCst) || self.left().is_none() || is_timeout(e)
    }

    /// What a person reads: the configured number, not lettre's "os error 11".
    pub(super) fn text(&self, context: &str) -> String {
        format!("{context}: timed out after {} s ([smtp] timeout-seconds, for the whole session)", self.timeout.as_secs())
    }
}

/// Waits for the deadline (moved by re-arming) and then shuts the relay's socket
/// down, so the blocked lettre call returns; ends when its [`Deadline`] is dropped.
fn watchdog(mut end: Instant, ends: &mpsc::Receiver<Instant>, fired: &AtomicBool, peers: &[SocketAddr]) {
    // Short relative sleeps, not a timed wait: a timed wait becomes an absolute
    // deadline on the monotonic clock, which a faked clock (libfaketime, as the suite
    // is run a year ahead) moves a year away, and the deadline would never come.
    const SLICE: Duration = Duration::from_millis(50);
    loop {
        match ends.try_recv() {
            Ok(new_end) => {
                end = new_end;
                continue;
            }
            Err(mpsc::TryRecvError::Disconnected) => return,
            Err(mpsc::TryRecvError::Empty) => {}
        }
        let left = end.saturating_duration_since(Instant::now());
        if !left.is_zero() {
            std::thread::sleep(left.min(SLICE));
            continue;
        }
        fired.store(true, Ordering::SeqCst);
        for_each_relay_socket(peers, |s| {
            let _ = s.shutdown(std::net::Shutdown::Both);
        });
        match ends.recv() {
            Ok(new_end) => end = new_end,
            Err(_) => return,
        }
    }
}

/// A read or write that ran out of the time it was given (EAGAIN on Linux).
fn is_timeout(e: &lettre::transport::smtp::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && matches!(io.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// Sets TCP_NODELAY on this process's connections to the relay.
///
/// lettre writes the message and then ".\r\n" in a second small write; with Nagle's
/// algorithm on, that write waits for the server's delayed ACK (about 40 ms a
/// message, as msmtp and swaks lose). lettre 0.11 neither sets TCP_NODELAY nor
/// exposes its socket, so the socket is found by its peer address among our own
/// open file descriptors. Best effort: if it cannot be found, mail still flows.
pub(super) fn disable_nagle(peers: &[SocketAddr]) {
    for_each_relay_socket(peers, |s| {
        let _ = s.set_tcp_nodelay(true);
    });
}

/// Calls `f` with each of this process's sockets connected to one of `peers`
/// (lettre keeps its socket to itself; see [`disable_nagle`] and [`Deadline`]).
fn for_each_relay_socket(peers: &[SocketAddr], f: impl Fn(&socket2::Socket)) {
    let Ok(entries) = std::fs::read_dir("/proc/self/fd") else { return };
    for entry in entries.flatten() {
        let Some(fd) = entry.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        let is_socket = std::fs::read_link(entry.path()).is_ok_and(|target| target.to_string_lossy().starts_with("socket:"));
        if !is_socket {
            continue;
        }
        // A duplicate, so that what is checked is what is changed even if another
        // thread closes the number and opens another file under it meanwhile.
        // SAFETY: fcntl only reads the descriptor number; a closed one gives -1.
        let copy = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 0) };
        if copy < 0 {
            continue;
        }
        // SAFETY: `copy` is a new descriptor that nothing else owns.
        let socket = socket2::Socket::from(unsafe { OwnedFd::from_raw_fd(copy) });
        if socket.peer_addr().ok().and_then(|p| p.as_socket()).is_some_and(|p| peers.contains(&p)) {
            f(&socket);
        }
    }
}
