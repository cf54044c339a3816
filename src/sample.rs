//! Malware samples, packed as CFCS asks for infected files: each in a zip protected
//! with the password `infected` (ZipCrypto, which every unzip, 7-Zip and Python's
//! zipfile read), attached inside the encrypted part. The only user of the zip crate.
//!
//! The password is not secrecy (the OpenPGP encryption around it is): it keeps virus
//! scanners on the way, and on the analyst's desk, from eating or running the sample
//! before it is meant to be opened. The zip is written to an unlinked, owner-only
//! file in the home folder, never held in memory whole, and read once per recipient.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Timelike, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use zip::unstable::write::FileOptionsExt;
use zip::write::SimpleFileOptions;

use crate::exit::{Failure, io_failure};

/// The password CFCS' Network Security Service expects on zipped samples.
pub const PASSWORD: &str = "infected";

/// Room for the zip's headers, data descriptor and central directory around a sample
/// whose name is at most a few hundred bytes; deflate never grows data by more than
/// 5 bytes per 16 KiB block, nor does storing (the fallback).
fn zip_overhead(name_len: usize, size: u64) -> u64 {
    1024 + 3 * name_len as u64 + size / 16384 * 5 + 5
}

/// What the report says about a sample (the zip's own name and size are the attachment's).
#[derive(Debug, Clone, Serialize)]
pub struct SampleInfo {
    /// The zip's file name as attached: the sample's name with `.zip`.
    pub zip_name: String,
    /// The sample's file name inside the zip.
    pub name: String,
    pub size: u64,
    pub sha256: String,
    pub password: &'static str,
}

/// A sample to pack: checked (exists, regular file) but not read yet.
#[derive(Debug, Clone)]
pub struct Sample {
    pub path: PathBuf,
    pub name: String,
    pub size: u64,
}

impl Sample {
    /// Checks `--sample FILE` without reading it.
    pub fn check(path: &Path) -> Result<Sample, Failure> {
        let meta = std::fs::metadata(path).map_err(|e| io_failure("--sample: cannot read", path, e))?;
        if !meta.is_file() {
            return Err(Failure::input(format!("--sample {}: not a regular file", path.display())));
        }
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "sample".into());
        Ok(Sample { path: path.to_path_buf(), name: safe_name(&name), size: meta.len() })
    }

    /// The packed zip's size at most, for the size check before any work.
    pub fn estimated_zip_size(&self) -> u64 {
        self.size + zip_overhead(self.name.len(), self.size)
    }
}

/// A sample packed into its zip.
pub struct Packed {
    pub info: SampleInfo,
    /// The zip's size in bytes.
    pub zip_size: u64,
    file: File,
}

/// The packed samples as attachments of the encrypted part, each read from its zip.
pub fn attachments(packed: &[Packed]) -> Result<Vec<crate::mime::Attachment>, Failure> {
    packed
        .iter()
        .map(|p| {
            let content = p.reader().map_err(|e| Failure::failed(format!("--sample {}: {e}", p.info.name)))?;
            Ok(crate::mime::Attachment { file_name: p.info.zip_name.clone(), content })
        })
        .collect()
}

impl Packed {
    /// The zip from its first byte (once per recipient's message).
    pub fn reader(&self) -> io::Result<Box<dyn Read>> {
        let mut file = self.file.try_clone()?;
        file.seek(SeekFrom::Start(0))?;
        Ok(Box::new(file.take(self.zip_size)))
    }
}

/// Packs a sample into a ZipCrypto zip with the password [`PASSWORD`], in an unlinked
/// file under `dir`. The sample is read once; one that changes size meanwhile fails.
pub fn pack(sample: &Sample, dir: &Path, now: DateTime<Utc>) -> Result<Packed, Failure> {
    let failed =
        |e: &dyn std::fmt::Display| Failure::failed(format!("--sample {}: packing it into a zip failed: {e}", sample.path.display()));
    let file = unlinked_file(dir).map_err(|e| failed(&e))?;
    let modified = std::fs::metadata(&sample.path).and_then(|m| m.modified()).map(DateTime::<Utc>::from).unwrap_or(now);
    let options = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip_time(modified))
        .unix_permissions(0o600)
        .with_deprecated_encryption(PASSWORD.as_bytes())
        .map_err(|e| failed(&e))?;
    let mut zip = zip::ZipWriter::new(file);
    zip.start_file(sample.name.as_str(), options).map_err(|e| failed(&e))?;
    let source = File::open(&sample.path).map_err(|e| io_failure("--sample: cannot read", &sample.path, e))?;
    let mut hashing = Hashing { inner: &mut zip, hash: Sha256::new() };
    let read = io::copy(&mut source.take(sample.size + 1), &mut hashing).map_err(|e| failed(&e))?;
    if read != sample.size {
        return Err(Failure::failed(format!(
            "--sample {}: the file changed while it was read: {} bytes when it was checked, {read} read",
            sample.path.display(),
            sample.size
        )));
    }
    let sha256: String = hashing.hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
    let mut file = zip.finish().map_err(|e| failed(&e))?;
    let zip_size = file.stream_position().map_err(|e| failed(&e))?;
    let info =
        SampleInfo { zip_name: format!("{}.zip", sample.name), name: sample.name.clone(), size: sample.size, sha256, password: PASSWORD };
    Ok(Packed { info, zip_size, file })
}

/// Writes through to the zip and hashes what passes.
struct Hashing<'a, W: Write> {
    inner: &'a mut W,
    hash: Sha256,
}

impl<W: Write> Write for Hashing<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hash.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// An owner-only file that no name reaches: nothing is left behind if certmail dies.
fn unlinked_file(dir: &Path) -> io::Result<File> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| io::Error::other(format!("no randomness: {e}")))?;
    let name: String = random.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!(".sample-{name}.zip.tmp"));
    let file = OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&path)?;
    std::fs::remove_file(&path)?;
    Ok(file)
}

/// The zip format's local time without a zone: UTC, clamped to what it can hold.
fn zip_time(t: DateTime<Utc>) -> zip::DateTime {
    let year = u16::try_from(t.year()).unwrap_or(1980).clamp(1980, 2107);
    zip::DateTime::from_date_and_time(year, t.month() as u8, t.day() as u8, t.hour() as u8, t.minute() as u8, t.second() as u8)
        .unwrap_or_default()
}

/// A file name that stays one plain name inside the zip and in the MIME header.
fn safe_name(name: &str) -> String {
    let cleaned: String = name.chars().map(|c| if c.is_control() || matches!(c, '/' | '\\' | '"') { '_' } else { c }).collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() { "sample".to_string() } else { trimmed.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_is_packed_with_the_password_and_its_exact_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dropper.exe");
        let content: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
        std::fs::write(&path, &content).unwrap();
        let sample = Sample::check(&path).unwrap();
        let packed = pack(&sample, dir.path(), Utc::now()).unwrap();
        assert_eq!(packed.info.zip_name, "dropper.exe.zip");
        assert!(packed.zip_size <= sample.estimated_zip_size(), "{} > {}", packed.zip_size, sample.estimated_zip_size());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "the zip has no name on disk");
        let mut zip = Vec::new();
        packed.reader().unwrap().read_to_end(&mut zip).unwrap();
        assert_eq!(zip.len() as u64, packed.zip_size);
        // Twice: each recipient's message reads it from the start.
        let mut again = Vec::new();
        packed.reader().unwrap().read_to_end(&mut again).unwrap();
        assert_eq!(zip, again);
        assert!(!zip.windows(16).any(|w| w == &content[1000..1016]), "the content is not there in the clear");
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip)).unwrap();
        assert!(archive.by_name("dropper.exe").is_err(), "not without the password");
        let mut unpacked = Vec::new();
        archive.by_name_decrypt("dropper.exe", PASSWORD.as_bytes()).unwrap().read_to_end(&mut unpacked).unwrap();
        assert_eq!(unpacked, content);
        assert_eq!(packed.info.sha256, Sha256::digest(&content).iter().map(|b| format!("{b:02x}")).collect::<String>());
    }

    #[test]
    fn names_stay_one_plain_name() {
        assert_eq!(safe_name("..\\evil\"x"), "_evil_x");
        assert_eq!(safe_name("..."), "sample");
        assert_eq!(safe_name("invoice.pdf.exe"), "invoice.pdf.exe");
    }
}
