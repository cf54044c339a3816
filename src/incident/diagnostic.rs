//! What is wrong with an incident file, said so a person can fix all of it in one go:
//! each problem with its line and column, the field path, what is expected and, for a
//! near miss, what was probably meant. Also the file's encoding, which is checked
//! before anything else reads it.

use super::tree::line_column;

/// What kind of problem it is; `compose` asks again for the ones that name a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiagnosticKind {
    /// Bytes that are not UTF-8.
    Encoding,
    /// Not TOML (or JSON) at all here.
    Syntax,
    /// A key the form does not have.
    UnknownField,
    /// A value of the wrong kind (text where a number belongs, …).
    WrongType,
    /// A choice the form does not offer.
    UnknownChoice,
    /// A required field still holding the "<…>" placeholder of `certmail new`.
    Unfilled,
    /// A required field that is not there.
    Missing,
    /// A value the rules refuse (a CVR of 7 digits, an end before the start, …).
    Invalid,
}

/// One problem of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// Byte offset in the file's text, when the problem has a place.
    pub at: Option<usize>,
    /// The field path, e.g. `nis.users-affected`; empty for the file as a whole.
    pub path: String,
    pub kind: DiagnosticKind,
    /// What is expected, with "did you mean" where there is a near miss.
    pub message: String,
}

impl Diagnostic {
    pub fn new(at: Option<usize>, path: &str, kind: DiagnosticKind, message: impl Into<String>) -> Self {
        Diagnostic { at, path: path.to_string(), kind, message: message.into() }
    }

    /// `file:line:column: path: message`, as compilers and editors write it.
    pub fn render(&self, name: &str, text: &str) -> String {
        let place = match self.at {
            Some(at) => {
                let (line, column) = line_column(text, at);
                format!("{name}:{line}:{column}")
            }
            None => name.to_string(),
        };
        let path = if self.path.is_empty() { String::new() } else { format!("{}: ", self.path) };
        format!("{place}: {path}{}", self.message)
    }
}

/// Puts problems in file order; those without a place keep their order at the end.
pub fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| d.at.unwrap_or(usize::MAX));
}

/// Lines reported one by one before the rest are summed up.
const MAX_ENCODING_LINES: usize = 10;

/// Text of a file that may not be UTF-8: the text (invalid bytes replaced, so the rest
/// can still be checked) and one problem per line holding such bytes.
pub fn decode(bytes: &[u8]) -> (String, Vec<Diagnostic>) {
    // Notepad writes a byte-order mark; it means nothing in a UTF-8 file.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    if bytes.starts_with(b"\xff\xfe") || bytes.starts_with(b"\xfe\xff") {
        // Windows PowerShell's `>` writes UTF-16.
        let problem = Diagnostic::new(
            Some(0),
            "",
            DiagnosticKind::Encoding,
            "the file is UTF-16 text (as PowerShell's `>` writes it); save it as UTF-8 (e.g. `certmail new … | Out-File -Encoding utf8 FILE`)",
        );
        return (String::new(), vec![problem]);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (text.to_string(), Vec::new());
    }
    let text = String::from_utf8_lossy(bytes).into_owned();
    let mut problems = Vec::new();
    let mut bad_lines = 0;
    let mut offset = 0;
    for (i, line) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        if let Err(e) = std::str::from_utf8(line) {
            bad_lines += 1;
            if bad_lines <= MAX_ENCODING_LINES {
                let good = &line[..e.valid_up_to()];
                let byte = line[e.valid_up_to()];
                let column = String::from_utf8_lossy(good).chars().count() + 1;
                let guess = windows_1252(byte).map(|c| format!(" (in Windows-1252 or Latin-1 that is '{c}')")).unwrap_or_default();
                let lossy_offset = String::from_utf8_lossy(&bytes[..offset]).len() + good.len();
                problems.push(Diagnostic::new(
                    Some(lossy_offset),
                    "",
                    DiagnosticKind::Encoding,
                    format!(
                        "line {} is not UTF-8: byte 0x{byte:02X} at column {column}{guess}; save the file as UTF-8 (most editors: Save as → Encoding: UTF-8)",
                        i + 1
                    ),
                ));
            }
        }
        offset += line.len();
    }
    if bad_lines > MAX_ENCODING_LINES {
        problems.push(Diagnostic::new(
            None,
            "",
            DiagnosticKind::Encoding,
            format!("{} more lines are not UTF-8; save the whole file as UTF-8", bad_lines - MAX_ENCODING_LINES),
        ));
    }
    (text, problems)
}

/// The character a byte stands for in Windows-1252 (a superset of Latin-1's letters),
/// for the letters a Danish file is likely to hold.
fn windows_1252(byte: u8) -> Option<char> {
    match byte {
        0x80 => Some('€'),
        0x96 => Some('–'),
        0x93 => Some('“'),
        0x94 => Some('”'),
        0xA0..=0xFF => char::from_u32(byte as u32).filter(|c| c.is_alphabetic()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_latin_1_file_names_each_line_and_the_letter() {
        let (text, problems) = decode(b"title = \"ok\"\nwhat = \"R\xe6kke\"\nx = \"\xf8\"\n");
        assert_eq!(problems.len(), 2);
        assert!(problems[0].message.contains("line 2 is not UTF-8: byte 0xE6 at column 10"), "{}", problems[0].message);
        assert!(problems[0].message.contains("'æ'") && problems[0].message.contains("save the file as UTF-8"));
        assert_eq!(line_column(&text, problems[1].at.unwrap()), (3, 6));
    }

    #[test]
    fn a_byte_order_mark_is_dropped_and_utf_16_is_named() {
        assert_eq!(decode(b"\xef\xbb\xbftitle = 1"), ("title = 1".to_string(), Vec::new()));
        assert!(decode(b"\xff\xfet\x00").1[0].message.contains("UTF-16"));
    }
}
