//! `certmail ingest`: reads .eml files, standard input, Maildirs and mbox files, and
//! reports for each message its incident, kind and signature status.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::cli::IngestArgs;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome, io_failure};
use crate::ingest::{self, Ingestor};
use crate::output;
use crate::reply::{self, MAX_MESSAGE_BYTES};
use crate::store::Store;

/// Where one message came from, read lazily so a large Maildir is not held in memory.
enum Item {
    File(PathBuf),
    Bytes(String, Vec<u8>),
}

pub fn run(settings: &Settings, args: &IngestArgs) -> CmdResult {
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
            items.push(Item::File(p.clone()));
        }
    }
    for dir in &args.maildir {
        let mut found = Vec::new();
        for sub in ["new", "cur"] {
            let d = dir.join(sub);
            let entries = std::fs::read_dir(&d).map_err(|e| io_failure("--maildir: cannot read", &d, e))?;
            found.extend(entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()));
        }
        found.sort();
        items.extend(found.into_iter().map(Item::File));
    }
    for mbox in &args.mbox {
        let bytes = std::fs::read(mbox).map_err(|e| io_failure("--mbox: cannot read", mbox, e))?;
        for (i, message) in reply::split_mbox(&bytes).into_iter().enumerate() {
            items.push(Item::Bytes(format!("{}#{}", mbox.display(), i + 1), message));
        }
    }
    if items.is_empty() {
        return Err(Failure::input("nothing to ingest: give message files, - for standard input, --maildir DIR or --mbox FILE"));
    }

    let store = Store::open(&settings.store_path())?;
    let mut ingestor = Ingestor::new(settings, store, SystemTime::now());
    let total = items.len();
    let progress = total > 50 && std::io::stderr().is_terminal();
    let mut errors = 0;
    // Reading, hashing and parsing run on all cores, a chunk at a time; recording
    // stays on this thread, in order.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let mut done = 0;
    let mut items = items.into_iter().peekable();
    while items.peek().is_some() {
        let chunk: Vec<Item> = items.by_ref().take(256).collect();
        let prepared = prepare_chunk(chunk, workers);
        for p in prepared {
            done += 1;
            let p = match p {
                Ok(p) => p,
                Err(f) => {
                    errors += 1;
                    output::error(&f.message);
                    continue;
                }
            };
            let source = p.source.clone();
            match ingestor.ingest_prepared(p) {
                Ok(outcome) => show(&outcome, args.json),
                Err(f) => {
                    errors += 1;
                    output::error(&format!("{source}: not recorded, try again: {}", f.message));
                }
            }
            if progress && done % 100 == 0 {
                eprint!("\ringested {done}/{total}");
                let _ = std::io::stderr().flush();
            }
        }
    }
    ingestor.finish()?;
    if progress {
        eprintln!("\ringested {total}/{total}");
    }
    if errors > 0 { Err(Failure::failed(format!("{errors} message(s) could not be ingested"))) } else { Ok(Outcome::Done) }
}

/// Reads and prepares a chunk of messages on `workers` threads, keeping their order.
fn prepare_chunk(chunk: Vec<Item>, workers: usize) -> Vec<Result<ingest::Prepared, Failure>> {
    let prepare_one = |item: Item| match item {
        Item::Bytes(source, bytes) => Ok(ingest::prepare(&source, bytes)),
        Item::File(path) => read_message(&path).map(|bytes| ingest::prepare(&path.display().to_string(), bytes)),
    };
    if workers < 2 || chunk.len() < 2 {
        return chunk.into_iter().map(prepare_one).collect();
    }
    let per = chunk.len().div_ceil(workers);
    let mut groups: Vec<Vec<Item>> = Vec::new();
    let mut rest = chunk.into_iter();
    loop {
        let group: Vec<Item> = rest.by_ref().take(per).collect();
        if group.is_empty() {
            break;
        }
        groups.push(group);
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = groups.into_iter().map(|g| scope.spawn(move || g.into_iter().map(prepare_one).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_else(|_| vec![Err(Failure::failed("a parser thread failed"))])).collect()
    })
}

fn read_message(path: &Path) -> Result<Vec<u8>, Failure> {
    let file = std::fs::File::open(path).map_err(|e| io_failure("cannot read", path, e))?;
    let mut buf = Vec::new();
    file.take(MAX_MESSAGE_BYTES as u64 + 1).read_to_end(&mut buf).map_err(|e| io_failure("cannot read", path, e))?;
    Ok(buf)
}

fn show(o: &ingest::Outcome, json: bool) {
    if json {
        output::json(&serde_json::to_value(o).unwrap_or_default());
        return;
    }
    let incident = o.incident.as_deref().unwrap_or("-");
    let again = if o.duplicate { " (already ingested)" } else { "" };
    let detail = o.detail.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
    output::say(&format!(
        "{}: {incident} {} signature={}{}{again}{detail}",
        o.source,
        o.kind,
        o.signature,
        if o.encrypted { " encrypted" } else { "" }
    ));
    if o.kind == "bounce" && o.detail.as_deref().is_some_and(|d| d.contains("FAILED")) && !o.duplicate {
        output::warn(&format!("the notification of {incident} was NOT delivered (bounce from {}). Call CFCS at +45 3332 5580.", o.source));
    }
}
