//! Fast byte searches, the memchr crate's only user: finding a header's end in a
//! reply, the lines, Danish letters and sentence ends the classifier reads, the escapes and line ends of quoted-printable replies, and the line ends of every outgoing message (checked on all 40 MB of a
//! large one, so it must run at memory speed).

/// The first occurrence of `needle`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// Every occurrence of `needle`, in order (overlapping ones too).
pub fn occurrences<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    memchr::memmem::find_iter(haystack, needle)
}

/// Every position of `byte`, in order.
pub fn positions(haystack: &[u8], byte: u8) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr_iter(byte, haystack)
}

/// The first position of either byte.
pub fn find_either(haystack: &[u8], a: u8, b: u8) -> Option<usize> {
    memchr::memchr2(a, b, haystack)
}

/// Every position of any of three bytes, in order.
pub fn positions3(haystack: &[u8], a: u8, b: u8, c: u8) -> impl Iterator<Item = usize> + '_ {
    memchr::memchr3_iter(a, b, c, haystack)
}

/// The lines of a text as `str::lines` gives them (a line end is LF or CRLF), found
/// with the vectorised search.
pub fn lines(text: &str) -> impl Iterator<Item = &str> + '_ {
    let mut from = 0;
    let ends = positions(text.as_bytes(), b'\n').map(Some).chain([None]);
    ends.filter_map(move |end| {
        let start = from;
        let line = match end {
            Some(end) => {
                from = end + 1;
                &text[start..end]
            }
            None if start < text.len() => {
                from = text.len();
                &text[start..]
            }
            None => return None,
        };
        Some(line.strip_suffix('\r').unwrap_or(line))
    })
}

/// The first CR or LF.
pub fn find_line_end(bytes: &[u8]) -> Option<usize> {
    memchr::memchr2(b'\r', b'\n', bytes)
}
