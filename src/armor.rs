//! ASCII armor (RFC 9580 § 6.2) for OpenPGP messages, written straight into the
//! outgoing message with CRLF line ends, 64 base64 characters a line. Pure, streaming,
//! and much faster than armoring and then rewriting line ends: it is on the path of
//! every byte of a 20 MiB attachment.
//!
//! The CRC-24 footer is written although RFC 9580 says it SHOULD NOT be: GnuPG 2.2
//! fails on some messages without it ("invalid radix64 character"), and CERTs use it.

use std::io::{self, Write};

use base64::Engine;

/// Input bytes per armored line: 48 bytes make 64 base64 characters.
const LINE_INPUT: usize = 48;

/// The armor around one message, appended to `out`.
pub struct Armor<'v> {
    out: &'v mut Vec<u8>,
    pending: Vec<u8>,
    crc: u32,
}

impl<'v> Armor<'v> {
    /// Writes the header line; feed the binary message through [`Armor::writer`].
    pub fn begin(out: &'v mut Vec<u8>) -> Armor<'v> {
        out.extend_from_slice(b"-----BEGIN PGP MESSAGE-----\r\n\r\n");
        Armor { out, pending: Vec::with_capacity(LINE_INPUT), crc: CRC24_INIT }
    }

    pub fn writer(&mut self) -> ArmorWriter<'_, 'v> {
        ArmorWriter(self)
    }

    /// Writes the last partial line, the checksum and the footer.
    pub fn finish(mut self) {
        if !self.pending.is_empty() {
            let pending = std::mem::take(&mut self.pending);
            self.line(&pending);
        }
        let crc = self.crc.to_be_bytes();
        let checksum = base64::engine::general_purpose::STANDARD.encode(&crc[1..]);
        self.out.extend_from_slice(format!("={checksum}\r\n-----END PGP MESSAGE-----\r\n").as_bytes());
    }

    fn line(&mut self, bytes: &[u8]) {
        let mut encoded = [0u8; 64];
        let n = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut encoded).unwrap_or(0);
        self.out.extend_from_slice(&encoded[..n]);
        self.out.extend_from_slice(b"\r\n");
    }

    fn write_bytes(&mut self, mut buf: &[u8]) {
        self.crc = crc24_update(self.crc, buf);
        if !self.pending.is_empty() {
            let take = (LINE_INPUT - self.pending.len()).min(buf.len());
            self.pending.extend_from_slice(&buf[..take]);
            buf = &buf[take..];
            if self.pending.len() == LINE_INPUT {
                let pending = std::mem::take(&mut self.pending);
                self.line(&pending);
                self.pending = pending;
                self.pending.clear();
            }
        }
        let mut lines = buf.chunks_exact(LINE_INPUT);
        for chunk in &mut lines {
            self.line(chunk);
        }
        self.pending.extend_from_slice(lines.remainder());
    }
}

/// The `Write` end of an [`Armor`], borrowed for the OpenPGP writer stack.
pub struct ArmorWriter<'a, 'v>(&'a mut Armor<'v>);

impl Write for ArmorWriter<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write_bytes(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

const CRC24_INIT: u32 = 0x00B7_04CE;
const CRC24_POLY: u32 = 0x0186_4CFB;

/// CRC-24 tables for slicing by 4 bytes, built at compile time: `TABLES[0]` is the
/// classic byte table, `TABLES[k][b]` the CRC of byte `b` followed by `k` zero bytes.
const TABLES: [[u32; 256]; 4] = {
    let mut t = [[0u32; 256]; 4];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 16;
        let mut bit = 0;
        while bit < 8 {
            crc <<= 1;
            if crc & 0x0100_0000 != 0 {
                crc ^= CRC24_POLY;
            }
            bit += 1;
        }
        t[0][i] = crc & 0x00FF_FFFF;
        i += 1;
    }
    let mut k = 1;
    while k < 4 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = ((prev << 8) ^ t[0][(prev >> 16) as usize & 0xFF]) & 0x00FF_FFFF;
            i += 1;
        }
        k += 1;
    }
    t
};

fn crc24_update(mut crc: u32, bytes: &[u8]) -> u32 {
    let mut words = bytes.chunks_exact(4);
    for w in &mut words {
        // The 24-bit state meets the first three bytes; the fourth enters plain.
        let x = crc ^ (u32::from(w[0]) << 16 | u32::from(w[1]) << 8 | u32::from(w[2]));
        crc = TABLES[3][(x >> 16) as usize & 0xFF]
            ^ TABLES[2][(x >> 8) as usize & 0xFF]
            ^ TABLES[1][x as usize & 0xFF]
            ^ TABLES[0][w[3] as usize];
    }
    for &b in words.remainder() {
        crc = ((crc << 8) ^ TABLES[0][(((crc >> 16) as u8) ^ b) as usize]) & 0x00FF_FFFF;
    }
    crc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn armor(chunks: &[&[u8]]) -> String {
        let mut out = Vec::new();
        let mut a = Armor::begin(&mut out);
        for c in chunks {
            a.writer().write_all(c).unwrap();
        }
        a.finish();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn crc24_matches_the_reference_value_and_the_bytewise_form() {
        // CRC-24/OpenPGP check value of "123456789".
        assert_eq!(crc24_update(CRC24_INIT, b"123456789"), 0x21CF02);
        let data: Vec<u8> = (0..999u32).map(|i| (i * 31 % 251) as u8).collect();
        let mut bytewise = CRC24_INIT;
        for b in &data {
            bytewise = crc24_update(bytewise, std::slice::from_ref(b));
        }
        assert_eq!(crc24_update(CRC24_INIT, &data), bytewise);
    }

    #[test]
    fn lines_are_64_characters_with_crlf_whatever_the_chunking() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let whole = armor(&[&data]);
        let pieces: Vec<&[u8]> = data.chunks(7).collect();
        assert_eq!(armor(&pieces), whole);
        let body: Vec<&str> = whole.split("\r\n").collect();
        assert_eq!(body[0], "-----BEGIN PGP MESSAGE-----");
        assert_eq!(body[1], "");
        assert!(body[2..22].iter().all(|l| l.len() == 64));
        assert_eq!(body[body.len() - 2], "-----END PGP MESSAGE-----");
        assert!(body[body.len() - 3].starts_with('=') && body[body.len() - 3].len() == 5);
        let decoded: Vec<u8> =
            body[2..body.len() - 3].iter().flat_map(|l| base64::engine::general_purpose::STANDARD.decode(l).unwrap()).collect();
        assert_eq!(decoded, data);
        assert!(!whole.replace("\r\n", "").contains('\n'));
    }
}
