//! How far `certmail fetch` has read each IMAP folder: its UIDVALIDITY and the highest
//! UID whose message is recorded, and when the folder was last read. Written only
//! after the messages it covers are committed, so a crash re-reads (and ingest
//! recognises) rather than skips.

use super::Store;
use crate::exit::Failure;

/// Where reading a folder stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderState {
    pub uid_validity: u32,
    /// Every message with this UID or a lower one is recorded.
    pub last_uid: u32,
}

/// The most recent successful fetch of any folder, for `status`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LastFetch {
    pub folder: String,
    pub at: String,
}

impl FolderState {
    /// The UID to read after, for a folder the server now says has `uid_validity`:
    /// a changed UIDVALIDITY means the old UIDs name other messages, so all again.
    pub fn read_after(state: Option<&FolderState>, uid_validity: u32) -> u32 {
        state.filter(|s| s.uid_validity == uid_validity).map_or(0, |s| s.last_uid)
    }
}

impl Store {
    pub fn folder_state(&self, url: &str) -> Result<Option<FolderState>, Failure> {
        let row = self.db().row_opt("SELECT uid_validity, last_uid FROM imap_folders WHERE url = ?1", vals![url])?;
        row.map(|r| Ok(FolderState { uid_validity: uid(r.get(0)?)?, last_uid: uid(r.get(1)?)? })).transpose()
    }

    /// Records that `url` is read up to `state` at `now`. Call only once the messages
    /// up to `state.last_uid` are committed. The larger `last_uid` is kept for the same
    /// UIDVALIDITY, so two watchers never move it back.
    pub fn record_fetch(&self, url: &str, state: &FolderState, now: &str) -> Result<(), Failure> {
        let mut db = self.db();
        let larger = db.dialect().greatest("imap_folders.last_uid", "excluded.last_uid");
        db.execute(
            &format!(
                "INSERT INTO imap_folders (url, uid_validity, last_uid, fetched_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (url) DO UPDATE SET
                    last_uid = CASE WHEN imap_folders.uid_validity = excluded.uid_validity THEN {larger} ELSE excluded.last_uid END,
                    uid_validity = excluded.uid_validity, fetched_at = excluded.fetched_at"
            ),
            vals![url, state.uid_validity, state.last_uid, now],
        )?;
        Ok(())
    }

    pub fn last_fetch(&self) -> Result<Option<LastFetch>, Failure> {
        let row = self.db().row_opt("SELECT url, fetched_at FROM imap_folders ORDER BY fetched_at DESC, url LIMIT 1", &[])?;
        row.map(|r| Ok(LastFetch { folder: r.get(0)?, at: r.get(1)? })).transpose()
    }
}

/// A UID as stored (an integer column): out of range is the store's error.
fn uid(v: i64) -> Result<u32, Failure> {
    u32::try_from(v).map_err(|_| Failure::failed(format!("incident log: the fetch state holds the UID {v}, which IMAP has none of")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_kept_per_folder_and_a_new_uidvalidity_reads_again() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let url = "imap://u@h:993/INBOX";
        assert_eq!(store.folder_state(url).unwrap(), None);
        assert_eq!(store.last_fetch().unwrap(), None);
        store.record_fetch(url, &FolderState { uid_validity: 7, last_uid: 3 }, "2026-01-01T00:00:00Z").unwrap();
        store.record_fetch(url, &FolderState { uid_validity: 7, last_uid: 5 }, "2026-01-01T00:05:00Z").unwrap();
        let state = store.folder_state(url).unwrap();
        assert_eq!(state, Some(FolderState { uid_validity: 7, last_uid: 5 }));
        assert_eq!(FolderState::read_after(state.as_ref(), 7), 5);
        assert_eq!(FolderState::read_after(state.as_ref(), 8), 0);
        assert_eq!(FolderState::read_after(None, 7), 0);
        assert_eq!(store.last_fetch().unwrap().unwrap().at, "2026-01-01T00:05:00Z");
        assert_eq!(store.folder_state("imap://u@h:993/Other").unwrap(), None);
    }
}
