//! `certmail fetch`: reads the new mail of the `[imap]` folder and ingests it exactly
//! as `ingest` does (same lines, same JSON, same exit codes). Each message is read
//! once: the folder's UIDVALIDITY and the highest recorded UID are kept in the store,
//! moved forward only after the messages below them are committed. Nothing changes on
//! the server before that; then, with `processed-folder`, recorded mail is moved.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::SystemTime;

use crate::commands::ingest::{Item, Recorded, record_all};
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, Outcome};
use crate::imap::{self, ImapError, Mailbox, Session};
use crate::ingest::Ingestor;
use crate::output;
use crate::reply::MAX_MESSAGE_BYTES;
use crate::secrets::{Secret, SecretSource};
use crate::store::FolderState;

/// Bytes fetched in one UID FETCH: bounds memory while keeping round trips few.
const CHUNK_BYTES: u64 = 16 << 20;
/// Messages fetched in one UID FETCH at most.
const CHUNK_MESSAGES: usize = 200;

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let mailbox = configured(settings)?;
    let password = password(settings, &mailbox)?;
    let mut session = Session::open(&mailbox, &password).map_err(failure)?;
    drop(password);
    let result = pass(settings, &mailbox, &mut session, json, SystemTime::now());
    session.close();
    let recorded = result?;
    if !json {
        eprintln!("certmail: {}: {recorded} new message(s)", mailbox.url());
    }
    Ok(Outcome::Done)
}

/// The `[imap]` mailbox, or an error saying where to configure it.
pub(crate) fn configured(settings: &Settings) -> Result<Mailbox, Failure> {
    settings
        .mailbox()?
        .ok_or_else(|| Failure::config(format!("no [imap] mailbox in {}: see README.md, \"[imap]\"", settings.config_path.display())))
}

/// One pass over the folder on an open session: read what is new, record it, move
/// it on. Returns how many messages were recorded. `watch` runs one per wake-up.
pub(crate) fn pass(settings: &Settings, mailbox: &Mailbox, session: &mut Session, json: bool, now: SystemTime) -> Result<usize, Failure> {
    let hook = settings.hook()?;
    let at = crate::store::timestamp(now.into());
    let store = crate::commands::open_store(settings, "fetch")?;
    let url = mailbox.url();
    let stored = store.folder_state(&url)?;
    // Read-only unless recorded mail is to be moved out of the folder.
    let selected = session.select(&mailbox.folder, mailbox.processed_folder.is_none()).map_err(failure)?;
    if let Some(old) = stored.as_ref().filter(|s| s.uid_validity != selected.uid_validity) {
        output::warn(&format!(
            "{url}: UIDVALIDITY changed from {} to {}: the server renumbered the folder, so all of it is read again; messages recorded before are recognised and not added twice",
            old.uid_validity, selected.uid_validity
        ));
    }
    let after = FolderState::read_after(stored.as_ref(), selected.uid_validity);
    let new = session.new_messages(&selected, after).map_err(failure)?;

    let source_prefix = format!("{url};UIDVALIDITY={}", selected.uid_validity);
    let mut progress = Progress { last_uid: after, contiguous: true, recorded: Vec::new() };
    let fetched = RefCell::new(VecDeque::new());
    let broken: RefCell<Option<ImapError>> = RefCell::new(None);
    let mut ingestor = Ingestor::new(settings, store, now);
    let Recorded { errors, events } = {
        let items = chunks(&new)
            .into_iter()
            .map_while(|chunk| match session.fetch(&chunk, MAX_MESSAGE_BYTES) {
                Ok(messages) => Some(messages),
                Err(e) => {
                    *broken.borrow_mut() = Some(e);
                    None
                }
            })
            .flatten()
            .map(|m| {
                fetched.borrow_mut().push_back(m.uid);
                Item::Bytes(format!("{source_prefix}/;UID={}", m.uid), m.bytes)
            });
        record_all(settings, &mut ingestor, items, new.len(), json, &at, |ok| {
            if let Some(uid) = fetched.borrow_mut().pop_front() {
                progress.heard(uid, ok);
            }
        })
    };
    ingestor.finish()?;
    // Only now, with the messages committed, does the folder's state move on.
    let state = FolderState { uid_validity: selected.uid_validity, last_uid: progress.last_uid };
    ingestor.store.record_fetch(&url, &state, &at)?;
    crate::hooks::fire(hook.as_ref(), &ingestor.store, &events);

    let moved = match &mailbox.processed_folder {
        Some(folder) => session
            .move_to(&progress.recorded, folder)
            .map_err(|e| Failure::failed(format!("{} (the mail is recorded and will not be read again; move it by hand)", e.text()))),
        None => Ok(()),
    };
    if let Some(e) = broken.into_inner() {
        return Err(failure(e).context("fetch stopped; what was read is recorded, run it again"));
    }
    moved?;
    if errors > 0 {
        return Err(Failure::failed(format!("{errors} message(s) could not be ingested; they are read again next time")));
    }
    Ok(progress.recorded.len())
}

/// What recording has got to, message by message in UID order.
struct Progress {
    /// Every message up to this UID is recorded.
    last_uid: u32,
    /// No message has failed yet: `last_uid` may still move.
    contiguous: bool,
    /// Recorded messages, to move.
    recorded: Vec<u32>,
}

impl Progress {
    fn heard(&mut self, uid: u32, recorded: bool) {
        if recorded {
            self.recorded.push(uid);
            if self.contiguous {
                self.last_uid = uid;
            }
        } else {
            // A message not recorded is read again next time, with all after it.
            self.contiguous = false;
        }
    }
}

/// Splits UIDs (with sizes) into fetches of bounded size and count.
fn chunks(messages: &[(u32, u32)]) -> Vec<Vec<u32>> {
    let mut out: Vec<Vec<u32>> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in messages {
        let size = u64::from(size).min(MAX_MESSAGE_BYTES as u64 + 1);
        match out.last_mut() {
            Some(chunk) if chunk.len() < CHUNK_MESSAGES && bytes + size <= CHUNK_BYTES => chunk.push(uid),
            _ => {
                out.push(vec![uid]);
                bytes = 0;
            }
        }
        bytes += size;
    }
    out
}

pub(crate) fn failure(e: ImapError) -> Failure {
    Failure::new(crate::exit::FailureKind::Mailbox, e.text().to_string())
}

/// The mailbox password from the configured source, else the OS keyring.
pub(crate) fn password(settings: &Settings, mailbox: &Mailbox) -> Result<Secret, Failure> {
    let config = settings.file.imap.as_ref();
    let user = imap::keyring_user(mailbox);
    let source = SecretSource {
        purpose: "the IMAP password",
        config_hint: "[imap] password",
        env: config.and_then(|c| c.password_env.as_deref()),
        command: config.and_then(|c| c.password_command.as_deref()),
        keyring_user: &user,
    };
    source.resolve()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_state_stops_at_the_first_message_not_recorded() {
        let mut p = Progress { last_uid: 4, contiguous: true, recorded: Vec::new() };
        p.heard(5, true);
        p.heard(7, true);
        p.heard(8, false);
        p.heard(9, true);
        assert_eq!((p.last_uid, p.recorded), (7, vec![5, 7, 9]));
    }

    #[test]
    fn chunks_are_bounded_by_bytes_and_count() {
        let big = (CHUNK_BYTES / 2 + 1) as u32;
        assert_eq!(chunks(&[(1, big), (2, big), (3, 10)]), vec![vec![1], vec![2, 3]]);
        let many: Vec<(u32, u32)> = (1..=CHUNK_MESSAGES as u32 + 1).map(|u| (u, 1)).collect();
        assert_eq!(chunks(&many).iter().map(Vec::len).collect::<Vec<_>>(), vec![CHUNK_MESSAGES, 1]);
        assert!(chunks(&[]).is_empty());
    }
}
