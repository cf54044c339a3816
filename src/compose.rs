//! From an incident file to the parts of a notification: the validated incident (for a
//! follow-up, laid over the incident as last reported), the rendered report, the
//! headers, and the attachments and samples (size-checked before anything is read).
//! Shared by `notify` and `preview`; it signs, encrypts and records nothing.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::config::{Recipient, Settings};
use crate::diagnostics;
use crate::exit::{Failure, io_failure};
use crate::followup::{self, Change};
use crate::incident::{self, Elaboration, Incident, Language};
use crate::mime::{self, Headers, Mailbox};
use crate::sample::{Sample, SampleInfo};
use crate::template::{self, AttachmentInfo, Rendered, ReportInput};

/// A validated incident and what will go with it.
pub struct Draft {
    pub source_name: String,
    pub incident: Incident,
    pub language: Language,
    pub attachments: Vec<(PathBuf, AttachmentInfo)>,
    /// Malware samples, checked but not packed yet (see `sample`).
    pub samples: Vec<Sample>,
    /// A follow-up's changed fields; empty for a new report.
    pub changes: Vec<Change>,
    /// SHA-256 of the file's incident as parsed: formatting, comments, field order and
    /// TOML or JSON do not count (what an idempotency key is held to).
    pub input_sha256: String,
    /// What the file (or the identity filling it) holds that is taken but doubted.
    pub doubts: Vec<crate::warnings::Warning>,
}

/// Reads, completes (from `[identity]`) and validates an incident, and checks the
/// attachments exist and the message stays under the size limit.
pub fn load(
    settings: &Settings,
    path: &Path,
    language: Option<Language>,
    attachments: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<Draft, Failure> {
    load_onto(settings, path, None, language, attachments, &[], now)
}

/// Like [`load`], with samples; with `earlier` (the incident's JSON as last
/// reported), the file needs to hold only what changed and is laid over it.
pub fn load_onto(
    settings: &Settings,
    path: &Path,
    earlier: Option<&str>,
    language: Option<Language>,
    attachments: &[PathBuf],
    samples: &[PathBuf],
    now: DateTime<Utc>,
) -> Result<Draft, Failure> {
    let source = incident::read_source(path)?;
    let (incident, input_sha256, changes, doubts) = match earlier {
        // Every problem of the file, of form and of meaning alike, in one error.
        None => {
            let (incident, doubts) = diagnostics::load_doubted(&source, settings.file.identity.as_ref(), &settings.config_path, now)?;
            // The file as written, before the identity fills it in (as for a follow-up).
            let parsed = diagnostics::parse(&source)?;
            let input_sha256 = sha256_hex(serde_json::to_string(&parsed).unwrap_or_default().as_bytes());
            (incident, input_sha256, Vec::new(), doubts)
        }
        // A follow-up may hold only what changed: it is read over the incident as last
        // reported, and what results is checked.
        Some(earlier) => {
            let parsed = diagnostics::parse(&source)?;
            let input_sha256 = sha256_hex(serde_json::to_string(&parsed).unwrap_or_default().as_bytes());
            let unreadable = |e: serde_json::Error| {
                Failure::new(crate::exit::FailureKind::Internal, format!("the incident as last reported cannot be read: {e}"))
            };
            let earlier: serde_json::Value = serde_json::from_str(earlier).map_err(unreadable)?;
            // Numbers in their one form first: "12345678" for "+45 12 34 56 78" changes nothing.
            let update = serde_json::to_value(incident::canonical_contacts(parsed)).map_err(unreadable)?;
            let merged = followup::merge(&earlier, &update);
            let changes = followup::changes(&earlier, &merged);
            let incident = incident::with_identity(serde_json::from_value(merged).map_err(unreadable)?, settings.file.identity.as_ref());
            let problems = incident::validate(&incident, now);
            if !problems.is_empty() {
                return Err(diagnostics::unlocated(&source.name, &problems));
            }
            // The CVR numbers were doubted, if at all, when the incident was first reported.
            (incident, input_sha256, changes, Vec::new())
        }
    };
    let language = language.or(incident.language).unwrap_or(settings.language());
    let infos = check_attachments(attachments)?;
    let samples = samples.iter().map(|p| Sample::check(p)).collect::<Result<Vec<_>, _>>()?;
    let draft = Draft { source_name: source.name, incident, language, attachments: infos, samples, changes, input_sha256, doubts };
    // The report is not rendered yet; reports are a few KiB, 16 KiB is generous.
    check_size(&draft, settings.max_message_bytes(), estimated_size(&draft, 16 * 1024))?;
    Ok(draft)
}

/// Checks that each `--attach` file exists and is a regular file, and takes its size.
pub fn check_attachments(paths: &[PathBuf]) -> Result<Vec<(PathBuf, AttachmentInfo)>, Failure> {
    let mut infos = Vec::new();
    for a in paths {
        let meta = std::fs::metadata(a).map_err(|e| io_failure("--attach: cannot read", a, e))?;
        if !meta.is_file() {
            return Err(Failure::input(format!("--attach {}: not a regular file", a.display())));
        }
        let name = a.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "attachment".into());
        infos.push((a.clone(), AttachmentInfo { name, size: meta.len() }));
    }
    Ok(infos)
}

/// SHA-256 in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex(&Sha256::digest(bytes))
}

/// Bytes in lower-case hex (a `format!` per byte was visible in ingest's profile:
/// every message's hash is written out).
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0xf)] as char);
    }
    out
}

/// The file name of the incident's indicators as CSV, inside the encryption.
pub const INDICATORS_CSV: &str = "indicators.csv";

impl Draft {
    /// The incident's indicators as indicators.csv, when it lists any.
    pub fn indicators_csv(&self) -> Option<String> {
        let list = &self.incident.indicators;
        (!list.is_empty()).then(|| incident::indicator::csv(list))
    }
}

/// The final message's size, estimated before any work: text and base64 attachments,
/// then ASCII armor (4/3) with its line ends.
pub fn estimated_size(draft: &Draft, body_len: usize) -> u64 {
    let files = draft.attachments.iter().map(|(_, i)| i.size);
    let csv = draft.indicators_csv().map(|c| c.len() as u64);
    let sizes: Vec<u64> = files.chain(csv).chain(draft.samples.iter().map(Sample::estimated_zip_size)).collect();
    estimated_size_of(body_len, &sizes)
}

/// [`estimated_size`] for a text of `body_len` bytes and files of these sizes.
pub fn estimated_size_of(body_len: usize, file_sizes: &[u64]) -> u64 {
    mime::estimated_inner_size(body_len, file_sizes) / 48 * 66 + 4096
}

/// Refuses a message over the configured limit.
pub fn check_size(draft: &Draft, limit: u64, size: u64) -> Result<(), Failure> {
    if size > limit {
        return Err(Failure::input(format!(
            "{}: the message would be about {} bytes, over the limit of {limit} bytes (max-message-bytes in the configuration); nothing was queued. Send large evidence separately, e.g. split into several follow-ups",
            draft.source_name, size
        )));
    }
    Ok(())
}

/// Marks a follow-up as an elaboration of the earlier report, unless the file says so.
pub fn mark_follow_up(incident: &mut Incident, reference: &str) {
    if incident.elaboration.is_none() {
        incident.elaboration = Some(Elaboration { is_elaboration: true, earlier_reference: Some(reference.to_string()) });
    }
}

/// Renders the report for a recipient.
pub fn render(
    settings: &Settings,
    draft: &Draft,
    reference: &str,
    recipient: &Recipient,
    now: DateTime<Utc>,
    follow_up: Option<&str>,
) -> Result<Rendered, Failure> {
    render_with(settings, draft, reference, recipient, now, follow_up, &[])
}

/// Renders the report for a recipient, listing the samples as packed.
pub fn render_with(
    settings: &Settings,
    draft: &Draft,
    reference: &str,
    recipient: &Recipient,
    now: DateTime<Utc>,
    follow_up: Option<&str>,
    samples: &[SampleInfo],
) -> Result<Rendered, Failure> {
    let infos: Vec<AttachmentInfo> = draft.attachments.iter().map(|(_, i)| i.clone()).collect();
    let table = crate::legal::regimes_table(settings)?;
    let input = ReportInput {
        incident: &draft.incident,
        reference,
        recipient_name: recipient.display_name(),
        recipient_address: &recipient.config.address,
        created: now,
        follow_up,
        attachments: &infos,
        samples,
        changes: &draft.changes,
        language: draft.language,
        regimes: &table,
    };
    template::render(&input, Some(&settings.templates_dir()))
}

/// The headers of the notification, inner and outer.
pub fn headers(
    settings: &Settings,
    reference: &str,
    recipient: &Recipient,
    subject: String,
    message_id: String,
    thread: &[String],
    now: DateTime<Utc>,
) -> Result<Headers, Failure> {
    let id = settings.identity()?;
    Ok(Headers {
        from: Mailbox { name: id.name.clone(), address: id.email.clone() },
        to: Mailbox { name: recipient.display_name().to_string(), address: recipient.config.address.clone() },
        subject,
        date: now.to_rfc2822(),
        message_id,
        in_reply_to: thread.last().cloned(),
        references: thread.to_vec(),
        reference: reference.to_string(),
        // Known only inside the store's transaction; `notify` fills it in.
        log_head: None,
    })
}

/// A fresh Message-ID in the sender's domain; it carries no incident detail.
pub fn new_message_id(sender: &str) -> Result<String, Failure> {
    let mut random = [0u8; 16];
    getrandom::fill(&mut random).map_err(|e| Failure::failed(format!("no randomness for the Message-ID: {e}")))?;
    let hex: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let domain = sender.rsplit_once('@').map(|(_, d)| d).filter(|d| !d.is_empty()).unwrap_or("certmail.invalid");
    Ok(format!("{hex}.certmail@{domain}"))
}

/// Opens the attachments (after [`load`] checked their sizes), then the indicators as
/// indicators.csv. Each file is read while the message is written; one that changes
/// size meanwhile fails the notification.
pub fn open_attachments(draft: &Draft) -> Result<Vec<mime::Attachment>, Failure> {
    let mut all = open_files(&draft.attachments)?;
    if let Some(csv) = draft.indicators_csv() {
        all.push(mime::Attachment { file_name: INDICATORS_CSV.to_string(), content: Box::new(std::io::Cursor::new(csv.into_bytes())) });
    }
    Ok(all)
}

/// Opens files checked by [`check_attachments`], each held to the size checked.
pub fn open_files(files: &[(PathBuf, AttachmentInfo)]) -> Result<Vec<mime::Attachment>, Failure> {
    files
        .iter()
        .map(|(path, info)| {
            let file = std::fs::File::open(path).map_err(|e| io_failure("--attach: cannot read", path, e))?;
            let content = CheckedSize { file, path: path.clone(), expected: info.size, read: 0 };
            Ok(mime::Attachment { file_name: info.name.clone(), content: Box::new(content) })
        })
        .collect()
}

/// An attachment's reader that names the file in its errors and insists on the size
/// that was checked against the limit before any work began.
struct CheckedSize {
    file: std::fs::File,
    path: PathBuf,
    expected: u64,
    read: u64,
}

impl std::io::Read for CheckedSize {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let named = |e: std::io::Error| std::io::Error::new(e.kind(), format!("--attach {}: {e}", self.path.display()));
        // One byte past the expected size is enough to see that the file grew.
        let room = (self.expected + 1 - self.read).min(buf.len() as u64) as usize;
        let n = self.file.read(&mut buf[..room]).map_err(named)?;
        self.read += n as u64;
        if self.read > self.expected || (n == 0 && self.read < self.expected) {
            return Err(named(std::io::Error::other(format!(
                "the file changed while it was read: {} bytes when it was checked, {} read",
                self.expected, self.read
            ))));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn read_checked(actual: &[u8], expected: u64) -> std::io::Result<Vec<u8>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("evidence.log");
        std::fs::write(&path, actual).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let mut reader = CheckedSize { file, path, expected, read: 0 };
        let mut out = Vec::new();
        reader.read_to_end(&mut out).map(|_| out)
    }

    #[test]
    fn an_attachment_that_changes_size_after_the_check_fails_and_names_the_file() {
        assert_eq!(read_checked(b"12345", 5).unwrap(), b"12345");
        for (actual, expected) in [(&b"123456"[..], 5), (&b"1234"[..], 5)] {
            let err = read_checked(actual, expected).unwrap_err().to_string();
            assert!(err.contains("evidence.log") && err.contains("changed while it was read"), "{err}");
        }
    }
}
