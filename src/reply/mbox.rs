//! mbox files (mboxo and mboxrd) held in memory: splitting one into its messages. Pure.
//! Ingest streams files instead (see `crate::mailbox`); this is the same reading.

/// Splits an mbox (mboxrd/mboxo) into messages, undoing ">From " quoting.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    // Reading from memory cannot fail.
    crate::mailbox::Mbox::new(bytes, usize::MAX).filter_map(Result::ok).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mbox_splits_and_unquotes() {
        let mbox = b"From a@b Sat Jan  1 00:00:00 2026\nSubject: one\n\n>From the start\n\nFrom c@d Sat Jan  1 00:00:01 2026\nSubject: two\n\nbody\n";
        let m = split_mbox(mbox);
        assert_eq!(m.len(), 2);
        assert_eq!(m[0], b"Subject: one\n\nFrom the start\n\n");
        assert_eq!(m[1], b"Subject: two\n\nbody\n");
    }
}
