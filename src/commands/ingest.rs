//! `certmail ingest`: reads .eml files, standard input, Maildirs and mbox files, and
//! reports for each message its incident, kind and signature status. Mailboxes are
//! streamed and each message is isolated: what one holds cannot stop the others.

use std::collections::VecDeque;
use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::mpsc::{self, SyncSender, sync_channel};
use std::time::SystemTime;

use crate::cli::IngestArgs;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome, io_failure};
use crate::hooks::{self, Event};
use crate::ingest::{self, Ingestor};
use crate::mailbox;
use crate::output;
use crate::reply::MAX_MESSAGE_BYTES;
use crate::store::timestamp;

/// Where one message came from, read lazily so a large Maildir is not held in memory.
pub(crate) enum Item {
    File(MessageFile),
    Bytes(String, Vec<u8>),
    /// A mailbox that could not be read further.
    Unreadable(Failure),
}

/// A message file: its path as given (shown and recorded as its source), and what a
/// Maildir's listing already told about it.
pub(crate) struct MessageFile {
    path: PathBuf,
    /// The path from the root, when the listing made it (else made when it is read).
    absolute: Option<PathBuf>,
    /// Its size, when the listing read it (else read when the main thread needs it).
    size: Option<u64>,
}

impl MessageFile {
    fn given(path: PathBuf) -> MessageFile {
        MessageFile { path, absolute: None, size: None }
    }
}

impl Item {
    /// About how much memory the message will take while it is parsed (a file's
    /// size as its metadata says; it is read on a worker thread).
    fn size(&self) -> u64 {
        match self {
            Item::File(f) => f.size.unwrap_or_else(|| std::fs::metadata(&f.path).map_or(0, |m| m.len())).min(MAX_MESSAGE_BYTES as u64 + 1),
            Item::Bytes(_, bytes) => bytes.len() as u64,
            Item::Unreadable(_) => 0,
        }
    }
}

pub fn run(settings: &Settings, args: &IngestArgs, json: bool) -> CmdResult {
    let mut items = Vec::new();
    for p in &args.paths {
        if p == Path::new("-") {
            let mut buf = Vec::new();
            std::io::stdin()
                .take(MAX_MESSAGE_BYTES as u64 + 1)
                .read_to_end(&mut buf)
                .map_err(|e| Failure::input(format!("standard input: {e}")))?;
            items.push(Item::Bytes("<stdin>".into(), buf));
        } else if p.is_dir() {
            return Err(Failure::input(format!("{} is a folder: use --maildir for a Maildir", p.display())));
        } else {
            items.push(Item::File(MessageFile::given(p.clone())));
        }
    }
    // Maildir: the names only (each file is read when its turn comes), sorted so
    // messages are recorded in delivery order.
    for dir in &args.maildir {
        let mut found = maildir_files(dir)?;
        found.sort_by(|a, b| a.path.cmp(&b.path));
        items.extend(found.into_iter().map(Item::File));
    }
    // mbox: opened now (so a missing file fails before anything is recorded), read one
    // message at a time later.
    let mut boxes = Vec::new();
    for mbox in &args.mbox {
        let file = std::fs::File::open(mbox).map_err(|e| io_failure("--mbox: cannot read", mbox, e))?;
        boxes.push((mbox.clone(), file));
    }
    if items.is_empty() && boxes.is_empty() {
        return Err(Failure::input("nothing to ingest: give message files, - for standard input, --maildir DIR or --mbox FILE"));
    }

    let terminal = std::io::stderr().is_terminal();
    // Only the bar needs the total: an mbox is counted by a second, streaming read.
    let total = items.len() + if terminal { boxes.iter().map(|(path, _)| count_mbox(path)).sum() } else { 0 };
    let items = items.into_iter().chain(boxes.into_iter().flat_map(|(path, file)| mbox_items(path, file)));

    let hook = settings.hook()?;
    let store = crate::commands::open_store(settings, "ingest")?;
    let now = SystemTime::now();
    let mut ingestor = Ingestor::new(settings, store, now);
    ingestor.keep_copies = args.keep_copies;
    let Recorded { errors, events } = record_all(settings, &mut ingestor, items, total, json, &timestamp(now.into()), |_| {});
    ingestor.finish()?;
    hooks::fire(hook.as_ref(), &ingestor.store, &events);
    if errors > 0 { Err(Failure::failed(format!("{errors} message(s) could not be ingested"))) } else { Ok(Outcome::Done) }
}

/// What [`record_all`] did.
pub(crate) struct Recorded {
    /// Messages not recorded (they can be tried again).
    pub errors: usize,
    /// What the hook is to hear once the messages are committed.
    pub events: Vec<Event>,
}

/// Parses `items` in parallel and records them in order, printing each outcome as
/// `ingest` does; `recorded` hears, in order, whether each one was recorded (a
/// message that was not can be tried again). The caller commits with
/// `ingestor.finish()`, then fires the events.
pub(crate) fn record_all(
    settings: &Settings,
    ingestor: &mut Ingestor,
    items: impl Iterator<Item = Item>,
    total: usize,
    json: bool,
    at: &str,
    mut recorded: impl FnMut(bool),
) -> Recorded {
    let mut events = Vec::new();
    let terminal = std::io::stderr().is_terminal();
    let mut progress = output::Progress::new("ingested", total, total > 50 && terminal);
    let mut errors = 0;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let quiet = QuietPanics::install();
    prepare_in_parallel(items, workers, |prepared| {
        progress.clear();
        let before = errors;
        match prepared {
            Err(f) => {
                errors += 1;
                output::error(&f.message);
            }
            Ok(p) => {
                let source = p.source.clone();
                // Decrypting and verifying happen here: a panic in them is this message's.
                match isolated(|| ingestor.ingest_prepared(p)) {
                    Ok(Ok(outcome)) => {
                        // A bounce says whom to call: the CERT its message went to.
                        let phone = outcome.bounce.as_ref().map(|b| crate::recipients::cert_phone(settings, b.recipient.as_deref()));
                        show(&outcome, json, phone.as_deref());
                        events.extend(Event::of_message(&outcome, at, phone.as_deref()));
                    }
                    Ok(Err(f)) => {
                        errors += 1;
                        output::error(&format!("{source}: not recorded, try again: {}", f.message));
                    }
                    Err(panic) => {
                        errors += 1;
                        output::error(&format!("{source}: not recorded: certmail failed while reading it ({panic})"));
                    }
                }
            }
        }
        recorded(errors == before);
        progress.advance();
    });
    drop(quiet);
    progress.finish();
    Recorded { errors, events }
}

/// The message files of a Maildir's new/ and cur/, each with its size and the path
/// from the root: one look at each file (its entry's metadata; a link's target is
/// looked up), where asking whether it is a file, then its size, then the working
/// folder for its full path, looked three times.
fn maildir_files(dir: &Path) -> Result<Vec<MessageFile>, Failure> {
    let absolute_dir = std::path::absolute(dir).ok();
    let mut found = Vec::new();
    for sub in ["new", "cur"] {
        let d = dir.join(sub);
        let entries = std::fs::read_dir(&d).map_err(|e| io_failure("--maildir: cannot read", &d, e))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let metadata = match entry.metadata() {
                Ok(m) if m.file_type().is_symlink() => std::fs::metadata(&path),
                other => other,
            };
            // Neither a folder nor what cannot be looked at is a message.
            let Ok(metadata) = metadata else { continue };
            if !metadata.is_file() {
                continue;
            }
            let absolute = absolute_dir.as_ref().map(|a| a.join(sub).join(entry.file_name()));
            found.push(MessageFile { path, absolute, size: Some(metadata.len()) });
        }
    }
    Ok(found)
}

/// The messages of one mbox as items, read as they are taken.
fn mbox_items(path: PathBuf, file: std::fs::File) -> impl Iterator<Item = Item> {
    let messages = mailbox::Mbox::new(BufReader::new(file), MAX_MESSAGE_BYTES);
    messages.enumerate().map(move |(i, m)| match m {
        Ok(bytes) => Item::Bytes(format!("{}#{}", path.display(), i + 1), bytes),
        Err(e) => Item::Unreadable(io_failure("--mbox: cannot read further than message", &path, e)),
    })
}

fn count_mbox(path: &Path) -> usize {
    std::fs::File::open(path).map_or(0, |f| mailbox::Mbox::new(BufReader::new(f), 0).count())
}

/// Runs `work`, turning a panic into its message: one message's failure must not end
/// the batch. A stack overflow is no panic and cannot be caught, which is why
/// `reply::limits` bounds nesting before parsing and the workers get a large stack.
fn isolated<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "an unknown panic".into())
    })
}

/// While ingesting, a panic prints nothing itself: its message can hold text from a
/// reply, so it reaches the terminal only through `output`, sanitised, via [`isolated`].
struct QuietPanics;

impl QuietPanics {
    fn install() -> QuietPanics {
        std::panic::set_hook(Box::new(|_| {}));
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        // Back to the default hook.
        let _ = std::panic::take_hook();
    }
}

/// Messages per job handed to a worker, and the bytes at which a job is closed early.
const BLOCK: usize = 32;
const BLOCK_BYTES: u64 = 8 << 20;
/// Jobs read and parsed ahead of the one being recorded, and the bytes they may hold
/// together (at least one job): memory stays bounded however large the messages (a
/// count alone let 256 messages of 25 MiB be in flight at once).
const AHEAD: usize = 8;
const AHEAD_BYTES: u64 = 64 << 20;
/// Stack for each parser thread. Nesting is bounded before parsing (`reply::limits`);
/// this is defence in depth, far above what that bound needs. Only what is used is
/// ever touched.
const WORKER_STACK: usize = 64 << 20;

/// Reads, hashes and parses messages on `workers` threads while `record` takes the
/// results on this thread, in the original order: parsing (most of the work) and
/// recording (SQLite, correlation) overlap instead of taking turns.
fn prepare_in_parallel(items: impl Iterator<Item = Item>, workers: usize, mut record: impl FnMut(Result<ingest::Prepared, Failure>)) {
    type Job = (Vec<Item>, SyncSender<Vec<Result<ingest::Prepared, Failure>>>);
    let (jobs, queued) = mpsc::channel::<Job>();
    let queued = Mutex::new(queued);
    std::thread::scope(|scope| {
        let mut started = 0;
        for _ in 0..workers {
            let worker = std::thread::Builder::new().name("ingest-parser".into()).stack_size(WORKER_STACK).spawn_scoped(scope, || {
                loop {
                    // The lock is held only to take a job, not while working on it.
                    let job = match queued.lock() {
                        Ok(q) => q.recv(),
                        Err(_) => return,
                    };
                    let Ok((block, done)) = job else { return };
                    let _ = done.send(block.into_iter().map(prepare_one).collect());
                }
            });
            started += usize::from(worker.is_ok());
        }
        let mut in_flight = VecDeque::new();
        let mut items = items;
        let mut ahead_bytes = 0;
        loop {
            while in_flight.len() < AHEAD && (in_flight.is_empty() || ahead_bytes < AHEAD_BYTES) {
                let (mut block, mut bytes) = (Vec::new(), 0);
                while block.len() < BLOCK && bytes < BLOCK_BYTES {
                    let Some(item) = items.next() else { break };
                    bytes += item.size();
                    block.push(item);
                }
                if block.is_empty() {
                    break;
                }
                ahead_bytes += bytes;
                if started == 0 {
                    // No thread could be started: parse here, in order.
                    let (done, result) = sync_channel(1);
                    let _ = done.send(block.into_iter().map(prepare_one).collect());
                    in_flight.push_back((result, bytes));
                    continue;
                }
                let (done, result) = sync_channel(1);
                if jobs.send((block, done)).is_err() {
                    break;
                }
                in_flight.push_back((result, bytes));
            }
            let Some((next, bytes)) = in_flight.pop_front() else { break };
            ahead_bytes -= bytes;
            for prepared in next.recv().unwrap_or_else(|_| vec![Err(Failure::failed("a parser thread failed"))]) {
                record(prepared);
            }
        }
        // No more jobs: the workers' `recv` fails and they end.
        drop(jobs);
    });
}

fn prepare_one(item: Item) -> Result<ingest::Prepared, Failure> {
    let (source, bytes, file) = match item {
        Item::Bytes(source, bytes) => (source, bytes, None),
        Item::File(MessageFile { path, absolute, .. }) => {
            let bytes = read_message(&path)?;
            // Absolute, so `certmail read` finds it from any folder.
            let file = absolute.or_else(|| std::path::absolute(&path).ok());
            (path.display().to_string(), bytes, file)
        }
        Item::Unreadable(f) => return Err(f),
    };
    let mut prepared = isolated(|| ingest::prepare(&source, bytes))
        .map_err(|panic| Failure::failed(format!("{source}: not recorded: certmail failed while parsing it ({panic})")))?;
    prepared.file = file;
    Ok(prepared)
}

fn read_message(path: &Path) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| io_failure("cannot read", path, e))?;
    // Sized up front: growing the buffer while reading copied every message again.
    let size = file.metadata().map_or(0, |m| m.len()).min(MAX_MESSAGE_BYTES as u64 + 1);
    let mut buf = Vec::with_capacity(size as usize + 1);
    file.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut buf).map_err(|e| io_failure("cannot read", path, e))?;
    Ok(buf)
}

fn show(o: &ingest::Outcome, json: bool, phone: Option<&str>) {
    if json {
        // Serialized as it is: its fields are in the order a map would print them.
        output::json_text(&serde_json::to_string(o).unwrap_or_else(|_| "null".into()));
        return;
    }
    let incident = o.incident.as_deref().unwrap_or("-");
    let again = if o.duplicate { " (already ingested)" } else { "" };
    let detail = o.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    // Whether it counted is what an analyst needs first.
    let trust = match (o.bound, o.state_changed) {
        (true, true) => " [bound: counts]",
        (true, false) => " [bound, nothing new]",
        (false, _) if o.kind == crate::reply::Kind::Malformed => "",
        (false, _) => " [not trusted]",
    };
    output::say(&format!(
        "{}: {incident} {}{trust} signature={}{}{again}{detail}",
        o.source,
        o.kind.key(),
        o.signature.key(),
        if o.encrypted { " encrypted" } else { "" }
    ));
    if !o.flags.is_empty() && !o.duplicate {
        output::warn(&format!("{}: {}", o.source, o.flags.join(", ")));
    }
    match &o.bounce {
        Some(b) if b.undelivered() && !o.duplicate => {
            let phone = phone.unwrap_or("the CERT");
            output::warn(&format!("the notification of {incident} was NOT delivered (bounce from {}). Call {phone}.", o.source));
        }
        Some(b) if b.for_unsent() && !o.duplicate => {
            let then = match b.state {
                Some(crate::store::MessageState::Failed) => "the outbox gave it up earlier: see `certmail outbox list`",
                _ => "it stays in the outbox and will still be sent",
            };
            output::warn(&format!(
                "{}: a bounce names the notification of {incident}, which no relay has taken (it is {}): not trusted, nothing changed; {then}",
                o.source,
                b.state.map_or("?", |s| s.key())
            ));
        }
        _ => {}
    }
}
