//! mbox files (mboxo and mboxrd): splitting one into its messages. Pure.

/// Splits an mbox (mboxrd/mboxo) into messages, undoing ">From " quoting.
pub fn split_mbox(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut messages = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    for line in bytes.split_inclusive(|b| *b == b'\n') {
        if line.starts_with(b"From ") {
            if let Some(m) = current.take() {
                messages.push(m);
            }
            current = Some(Vec::new());
            continue;
        }
        let Some(m) = current.as_mut() else { continue };
        let unquoted = line.strip_prefix(b">").filter(|rest| rest.iter().skip_while(|b| **b == b'>').take(5).eq(b"From ".iter()));
        m.extend_from_slice(unquoted.unwrap_or(line));
    }
    if let Some(m) = current {
        messages.push(m);
    }
    messages
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
