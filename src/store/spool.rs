//! Where a notification's final bytes go while they are being made, and where a
//! large one stays: small messages are kept in memory and committed into SQLite
//! with their row; from [`SPOOL_FROM`] bytes on they stream into an owner-only file
//! under `outbox/` next to the log, which is fsynced and renamed into place before
//! the row that names it (with its size and SHA-256) commits. Either way the bytes
//! are durable before the first SMTP byte.
//!
//! Why files: a 40 MB blob in SQLite is written twice (WAL, then checkpoint) and
//! read back once, which cost more than signing and encrypting it. Every read checks
//! the file's size and SHA-256 against the row, so an altered file is never sent.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::exit::{Failure, io_failure};
use crate::fsutil;
use crate::mime::LineEndCheck;

/// Messages estimated at this size or more are spooled to a file.
pub const SPOOL_FROM: u64 = 1024 * 1024;

/// The folder of spool files, next to the store file.
pub fn spool_dir(store_path: &Path) -> PathBuf {
    store_path.parent().unwrap_or(Path::new(".")).join("outbox")
}

/// The final bytes of a message, as they are recorded.
#[derive(Debug)]
pub enum MessageBytes {
    Inline(Vec<u8>),
    /// `name` is relative to the spool folder.
    Spooled {
        name: String,
        path: PathBuf,
        size: u64,
        sha256: String,
    },
}

impl MessageBytes {
    pub fn len(&self) -> u64 {
        match self {
            MessageBytes::Inline(b) => b.len() as u64,
            MessageBytes::Spooled { size, .. } => *size,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes a spool file whose row was never committed.
    pub fn discard(&self) {
        if let MessageBytes::Spooled { path, .. } = self {
            let _ = fs::remove_file(path);
        }
    }

    /// Copies the exact bytes to `out`, owner-only.
    pub fn copy_to(&self, out: &Path) -> Result<(), Failure> {
        match self {
            MessageBytes::Inline(bytes) => fsutil::write_private(out, bytes),
            MessageBytes::Spooled { path, .. } => fsutil::copy_private(path, out),
        }
    }
}

/// Takes the outer message as it is produced: counts it, checks every line end is
/// CRLF (only CRLF may ever be queued: the SMTP-smuggling guard), and keeps it.
pub struct MessageSink {
    target: Target,
    size: u64,
    line_ends: LineEndCheck,
}

enum Target {
    Memory(Vec<u8>),
    File(Box<SpoolFile>),
}

struct SpoolFile {
    file: File,
    temporary: Partial,
    name: String,
    path: PathBuf,
    hash: Sha256,
    early: EarlySync,
}

/// Bytes written between two early syncs.
const SYNC_EVERY: u64 = 8 * 1024 * 1024;

/// Starts the disk writing while the message is still being made: a thread calls
/// fdatasync every [`SYNC_EVERY`] bytes, so the final fsync only waits for the tail
/// (about 20 ms less for a 40 MB message here).
struct EarlySync {
    kick: Option<std::sync::mpsc::SyncSender<()>>,
    thread: Option<std::thread::JoinHandle<io::Result<()>>>,
    unsynced: u64,
}

impl EarlySync {
    fn start(file: &File) -> io::Result<EarlySync> {
        let file = file.try_clone()?;
        let (kick, kicked) = std::sync::mpsc::sync_channel::<()>(1);
        let thread = std::thread::spawn(move || kicked.iter().try_for_each(|()| file.sync_data()));
        Ok(EarlySync { kick: Some(kick), thread: Some(thread), unsynced: 0 })
    }

    fn wrote(&mut self, n: usize) {
        self.unsynced += n as u64;
        if self.unsynced >= SYNC_EVERY {
            self.unsynced = 0;
            // A sync already waiting covers these bytes too.
            if let Some(kick) = &self.kick {
                let _ = kick.try_send(());
            }
        }
    }

    /// Waits for the thread; its error, if any, is the file's.
    fn stop(&mut self) -> io::Result<()> {
        self.kick = None;
        self.thread.take().map_or(Ok(()), |t| t.join().unwrap_or_else(|_| Err(io::Error::other("the sync thread failed"))))
    }
}

impl Drop for EarlySync {
    fn drop(&mut self) {
        let _ = self.stop();
    }
}

/// A spool file being written: removed if it is dropped before being renamed into
/// place (a failed notification leaves no file).
struct Partial(PathBuf);

impl Drop for Partial {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

impl MessageSink {
    /// A sink that keeps the message in memory whatever its size: on PostgreSQL the
    /// bytes are one parameter of their row, and there is no spool.
    pub fn in_memory(estimated: u64) -> MessageSink {
        let target = Target::Memory(Vec::with_capacity(estimated.min(SPOOL_FROM) as usize));
        MessageSink { target, size: 0, line_ends: LineEndCheck::default() }
    }

    /// A sink for a message of about `estimated` bytes, named after its Message-ID.
    pub fn new(store_path: &Path, message_id: &str, estimated: u64) -> Result<MessageSink, Failure> {
        let target = if estimated < SPOOL_FROM {
            Target::Memory(Vec::with_capacity(estimated as usize))
        } else {
            let dir = spool_dir(store_path);
            fsutil::private_dir(&dir)?;
            let name = format!("{}.eml", file_stem(message_id));
            let path = dir.join(&name);
            let temporary = dir.join(partial_name(&name));
            let file = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&temporary)
                .map_err(|e| io_failure("cannot create the spool file", &temporary, e))?;
            let early = EarlySync::start(&file).map_err(|e| io_failure("cannot write the spool file", &temporary, e))?;
            Target::File(Box::new(SpoolFile { file, temporary: Partial(temporary), name, path, hash: Sha256::new(), early }))
        };
        Ok(MessageSink { target, size: 0, line_ends: LineEndCheck::default() })
    }

    /// Checks the line ends and makes the bytes durable (a spool file is fsynced and
    /// renamed into place, and its folder fsynced). Nothing is left behind on error.
    pub fn finish(self) -> Result<MessageBytes, Failure> {
        let bare = self.line_ends.finish();
        match self.target {
            Target::Memory(bytes) => match bare {
                Some(at) => Err(bare_line_end(at)),
                None => Ok(MessageBytes::Inline(bytes)),
            },
            Target::File(spool) => {
                let SpoolFile { file, temporary, name, path, hash, mut early } = *spool;
                let durable = match bare {
                    Some(at) => Err(bare_line_end(at)),
                    None => early
                        .stop()
                        .and_then(|()| file.sync_all())
                        .and_then(|()| fs::rename(&temporary.0, &path))
                        .and_then(|()| File::open(path.parent().unwrap_or(Path::new(".")))?.sync_all())
                        .map_err(|e| io_failure("cannot write the spool file", &path, e)),
                };
                if let Err(e) = durable {
                    let _ = fs::remove_file(&path);
                    return Err(e);
                }
                Ok(MessageBytes::Spooled { name, path, size: self.size, sha256: hex(&hash.finalize()) })
            }
        }
    }
}

impl Write for MessageSink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        match &mut self.target {
            Target::Memory(bytes) => bytes.extend_from_slice(data),
            Target::File(spool) => {
                spool.file.write_all(data)?;
                spool.hash.update(data);
                spool.early.wrote(data.len());
            }
        }
        self.line_ends.update(data);
        self.size += data.len() as u64;
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The temporary name a spool file is written under until it is complete.
fn partial_name(name: &str) -> String {
    format!(".{name}.partial")
}

/// Whether `name` is one certmail gives a finished spool file.
fn is_spool_name(name: &str) -> bool {
    !name.starts_with('.') && !name.contains('/') && name.ends_with(".eml")
}

/// Whether `name` is one certmail gives a spool file being written.
fn is_partial_name(name: &str) -> bool {
    name.strip_prefix('.').and_then(|n| n.strip_suffix(".partial")).is_some_and(is_spool_name)
}

/// Spool files older than this that no row names are leftovers: a notification
/// renames its file into place and commits its row within the same second.
pub const LEFTOVER_AFTER: std::time::Duration = std::time::Duration::from_secs(3600);

/// Removes what a crashed notification left in the spool folder: a `.partial` file
/// (killed while writing) or a finished file whose row never committed (killed
/// between the rename and the commit). Only files older than [`LEFTOVER_AFTER`], so a
/// notification in progress in another process keeps its file. Returns the removed
/// paths.
pub fn remove_leftovers(store_path: &Path, is_recorded: impl Fn(&str) -> Result<bool, Failure>) -> Result<Vec<PathBuf>, Failure> {
    let dir = spool_dir(store_path);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io_failure("cannot read the spool folder", &dir, e)),
    };
    let mut removed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Ok(meta) = entry.metadata() else { continue };
        let old = meta.modified().ok().and_then(|m| m.elapsed().ok()).is_some_and(|age| age >= LEFTOVER_AFTER);
        if !meta.is_file() || !old {
            continue;
        }
        let leftover = if is_partial_name(&name) {
            true
        } else if is_spool_name(&name) {
            !is_recorded(&name)?
        } else {
            // Not a name certmail writes: not ours to remove.
            false
        };
        if leftover {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| io_failure("cannot remove the leftover spool file", &path, e))?;
            removed.push(path);
        }
    }
    Ok(removed)
}

/// Reads a spooled message back, refusing one whose size or SHA-256 differs from
/// what was recorded when it was queued.
pub fn read_spooled(store_path: &Path, name: &str, size: u64, sha256: &str) -> Result<Vec<u8>, Failure> {
    if name.contains('/') || name.starts_with('.') {
        return Err(Failure::failed(format!("incident log: the spool file name {name:?} is not one certmail writes")));
    }
    let path = spool_dir(store_path).join(name);
    let mut bytes = Vec::with_capacity(size as usize);
    File::open(&path)
        .and_then(|f| f.take(size + 1).read_to_end(&mut bytes))
        .map_err(|e| io_failure("cannot read the queued message", &path, e))?;
    let actual = hex(&Sha256::digest(&bytes));
    if bytes.len() as u64 != size || actual != sha256 {
        return Err(Failure::failed(format!(
            "{}: the queued message was altered after it was queued (recorded {size} bytes, SHA-256 {sha256}; found {} bytes, SHA-256 {actual}); it is not sent",
            path.display(),
            bytes.len()
        )));
    }
    Ok(bytes)
}

fn bare_line_end(at: u64) -> Failure {
    Failure::failed(format!("internal error: bare CR or LF at byte {at} of the message; nothing was queued"))
}

/// A file name from a Message-ID: its characters that are safe in a name.
fn file_stem(message_id: &str) -> String {
    message_id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '@' { c } else { '_' }).collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &Path, id: &str, bytes: &[u8]) -> Result<MessageBytes, Failure> {
        let mut sink = MessageSink::new(&dir.join("s.sqlite"), id, SPOOL_FROM)?;
        sink.write_all(bytes).unwrap();
        sink.finish()
    }

    #[test]
    fn large_messages_are_spooled_owner_only_and_read_back_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("s.sqlite");
        let MessageBytes::Spooled { name, path, size, sha256 } = spool(dir.path(), "a1.certmail@example.dk", b"line\r\n").unwrap() else {
            panic!("not spooled")
        };
        assert_eq!(name, "a1.certmail@example.dk.eml");
        assert_eq!(fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(read_spooled(&store, &name, size, &sha256).unwrap(), b"line\r\n");
        fs::write(&path, b"lime\r\n").unwrap();
        let err = read_spooled(&store, &name, size, &sha256).unwrap_err();
        assert!(err.message.contains("altered"), "{}", err.message);
        assert!(read_spooled(&store, "../s.sqlite", size, &sha256).is_err());
    }

    #[test]
    fn a_bare_line_end_or_an_abandoned_sink_leaves_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        assert!(spool(dir.path(), "b@x", b"line\n").unwrap_err().message.contains("bare CR or LF at byte 4"));
        let mut sink = MessageSink::new(&dir.path().join("s.sqlite"), "c@x", SPOOL_FROM).unwrap();
        sink.write_all(b"half").unwrap();
        drop(sink);
        assert_eq!(fs::read_dir(dir.path().join("outbox")).unwrap().count(), 0);
        let small = MessageSink::new(&dir.path().join("s.sqlite"), "d@x", 10).unwrap().finish().unwrap();
        assert!(matches!(small, MessageBytes::Inline(ref b) if b.is_empty()));
    }
}
