//! Reading an mbox (mboxo and mboxrd) one message at a time from any `BufRead`, so
//! memory holds one message and never the box. Each message is cut just past a size
//! cap: the parser then refuses it as too large and the run goes on with the next.
//! No parsing here; what a message holds is `reply`'s business.
//!
//! mail-parser's own mbox reader (`mailbox::mbox::MessageIterator`) streams too, but
//! it grows a message (and a line) without bound, so one huge message in a box would
//! be held whole.
//!
//! Also: finding a Maildir message again after a mail client has moved it.

use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};

/// A Maildir message's file now: where it was, or, once a mail client has moved it
/// from new/ to cur/ and added its flags (":2,S"), the file in new/ or cur/ with the
/// same unique name.
pub fn maildir_file_now(was: &Path) -> Option<PathBuf> {
    if was.is_file() {
        return Some(was.to_path_buf());
    }
    let folder = was.parent()?;
    if !matches!(folder.file_name()?.to_str()?, "new" | "cur") {
        return None;
    }
    let unique = was.file_name()?.to_str()?.split(':').next()?;
    let maildir = folder.parent()?;
    ["cur", "new"].iter().find_map(|sub| {
        std::fs::read_dir(maildir.join(sub))
            .ok()?
            .flatten()
            .map(|e| e.path())
            .find(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.split(':').next() == Some(unique)) && p.is_file())
    })
}

/// Lines are read in pieces of at most this much: a line without an end is no reason
/// to hold a whole file.
const PIECE: u64 = 64 * 1024;

/// The messages of an mbox, in order, each at most `cap + 1` bytes.
pub struct Mbox<R> {
    reader: R,
    cap: usize,
    piece: Vec<u8>,
    /// The last piece ended a line, so the next one starts a line.
    at_line_start: bool,
    /// A "From " line was read that starts the next message.
    next_started: bool,
    done: bool,
}

impl<R: BufRead> Mbox<R> {
    pub fn new(reader: R, cap: usize) -> Mbox<R> {
        Mbox { reader, cap, piece: Vec::new(), at_line_start: true, next_started: false, done: false }
    }
}

impl<R: BufRead> Iterator for Mbox<R> {
    type Item = io::Result<Vec<u8>>;

    fn next(&mut self) -> Option<io::Result<Vec<u8>>> {
        if self.done {
            return None;
        }
        let mut message = std::mem::take(&mut self.next_started).then(Vec::new);
        loop {
            self.piece.clear();
            match (&mut self.reader).take(PIECE).read_until(b'\n', &mut self.piece) {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(0) => {
                    self.done = true;
                    return message.map(Ok);
                }
                Ok(_) => {}
            }
            let line_start = std::mem::replace(&mut self.at_line_start, self.piece.ends_with(b"\n"));
            if line_start && self.piece.starts_with(b"From ") {
                if let Some(m) = message {
                    self.next_started = true;
                    return Some(Ok(m));
                }
                message = Some(Vec::new());
                continue;
            }
            // Text before the first "From " line belongs to no message.
            let Some(m) = message.as_mut() else { continue };
            let line = self.piece.as_slice();
            // mboxrd and mboxo: ">From " (and ">>From ", ...) lose one '>'.
            let unquoted =
                line.strip_prefix(b">").filter(|rest| line_start && rest.iter().skip_while(|b| **b == b'>').take(5).eq(b"From ".iter()));
            let line = unquoted.unwrap_or(line);
            let room = self.cap.saturating_add(1).saturating_sub(m.len());
            m.extend_from_slice(&line[..line.len().min(room)]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8], cap: usize) -> Vec<Vec<u8>> {
        Mbox::new(bytes, cap).map(|m| m.unwrap()).collect()
    }

    #[test]
    fn splits_and_unquotes() {
        let mbox = b"junk before\nFrom a@b Sat Jan  1 00:00:00 2026\nSubject: one\n\n>From the start\n>>From deeper\n>not from\n\nFrom c@d Sat Jan  1 00:00:01 2026\nSubject: two\n\nbody";
        let m = all(mbox, 1000);
        assert_eq!(m, vec![b"Subject: one\n\nFrom the start\n>From deeper\n>not from\n\n".to_vec(), b"Subject: two\n\nbody".to_vec()]);
        assert!(all(b"", 10).is_empty());
        assert!(all(b"no from line at all\n", 10).is_empty());
    }

    #[test]
    fn a_message_over_the_cap_is_cut_and_the_next_one_still_comes() {
        let big = format!("From a@b\nSubject: big\n\n{}\nFrom c@d\nSubject: small\n\nok\n", "x".repeat(300_000));
        let m = all(big.as_bytes(), 1000);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].len(), 1001, "cut just past the cap, so it is seen as too large");
        assert_eq!(m[1], b"Subject: small\n\nok\n");
    }

    #[test]
    fn from_inside_a_long_line_starts_nothing() {
        // A line longer than a piece: its continuation is not a line start.
        let line = format!("{}From x\n", "y".repeat(PIECE as usize - 1));
        let mbox = format!("From a@b\nSubject: long\n\n{line}");
        let m = all(mbox.as_bytes(), usize::MAX);
        assert_eq!(m.len(), 1);
        assert!(m[0].ends_with(line.as_bytes()));
    }
}
