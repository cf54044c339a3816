//! Fast byte searches, the memchr crate's only user: finding a header's end in a
//! reply, and the line ends of every outgoing message (checked on all 40 MB of a
//! large one, so it must run at memory speed).

/// The first occurrence of `needle`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// The first CR or LF.
pub fn find_line_end(bytes: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\r', b'\n', bytes)
}
