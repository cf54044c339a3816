//! ASCII armor (RFC 9580 § 6.2) for OpenPGP messages, written straight into the
//! outgoing message with CRLF line ends, 64 base64 characters a line. Pure, streaming,
//! and much faster than armoring and then rewriting line ends: it is on the path of
//! every byte of a 20 MiB attachment.
//!
//! The CRC-24 footer is written although RFC 9580 says it SHOULD NOT be: GnuPG 2.2
//! fails on some messages without it ("invalid radix64 character"), and CERTs use it.

use base64::Engine;

/// Input bytes per armored line: 48 bytes make 64 base64 characters.
const LINE_INPUT: usize = 48;

/// The armor around one message. It holds no output of its own: each call appends
/// to the caller's buffer, so a pipeline stage can armor a chunk and pass it on.
pub struct Armor {
    pending: Vec<u8>,
    crc: u32,
}

impl Armor {
    /// Appends the header line to `out`; feed the binary message with [`Armor::update`].
    pub fn begin(out: &mut Vec<u8>) -> Armor {
        out.extend_from_slice(b"-----BEGIN PGP MESSAGE-----\r\n\r\n");
        Armor { pending: Vec::with_capacity(LINE_INPUT), crc: CRC24_INIT }
    }

    /// Armors `input`, appending whole lines to `out`; a partial line waits for more.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        self.crc = crc24_update(self.crc, input);
        out.reserve(input.len() / LINE_INPUT * (LINE_OUTPUT + 2) + LINE_OUTPUT + 2);
        if !self.pending.is_empty() {
            let take = (LINE_INPUT - self.pending.len()).min(input.len());
            self.pending.extend_from_slice(&input[..take]);
            input = &input[take..];
            if self.pending.len() == LINE_INPUT {
                line(&self.pending, out);
                self.pending.clear();
            }
        }
        let mut lines = input.chunks_exact(LINE_INPUT);
        for chunk in &mut lines {
            line(chunk, out);
        }
        self.pending.extend_from_slice(lines.remainder());
    }

    /// Appends the last partial line, the checksum and the footer.
    pub fn finish(self, out: &mut Vec<u8>) {
        if !self.pending.is_empty() {
            line(&self.pending, out);
        }
        let crc = self.crc.to_be_bytes();
        let checksum = base64::engine::general_purpose::STANDARD.encode(&crc[1..]);
        out.extend_from_slice(format!("={checksum}\r\n-----END PGP MESSAGE-----\r\n").as_bytes());
    }
}

/// Base64 characters per armored line.
const LINE_OUTPUT: usize = 64;

fn line(bytes: &[u8], out: &mut Vec<u8>) {
    let mut encoded = [0u8; LINE_OUTPUT];
    // 48 input bytes always fit 64 characters; a short last line fits too.
    let n = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut encoded).unwrap_or(0);
    out.extend_from_slice(&encoded[..n]);
    out.extend_from_slice(b"\r\n");
}

const CRC24_INIT: u32 = 0x00B7_04CE;
const CRC24_POLY: u32 = 0x0186_4CFB;

/// Bytes the CRC consumes per step: slicing by 16 makes the loop's dependency chain
/// one step per 16 bytes instead of one per byte.
const SLICE: usize = 16;

/// CRC-24 tables for slicing by [`SLICE`] bytes, built at compile time: `TABLES[0]`
/// is the classic byte table, `TABLES[k][b]` the CRC of byte `b` followed by `k`
/// zero bytes.
const TABLES: [[u32; 256]; SLICE] = {
    let mut t = [[0u32; 256]; SLICE];
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
    while k < SLICE {
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
    let mut blocks = bytes.chunks_exact(SLICE);
    for block in &mut blocks {
        // The 24-bit state meets the first three bytes; the others enter plain, and
        // each byte's table says what it contributes SLICE - 1 - i bytes later.
        let mut next = TABLES[SLICE - 1][(((crc >> 16) as u8) ^ block[0]) as usize]
            ^ TABLES[SLICE - 2][(((crc >> 8) as u8) ^ block[1]) as usize]
            ^ TABLES[SLICE - 3][((crc as u8) ^ block[2]) as usize];
        for (i, &b) in block.iter().enumerate().skip(3) {
            next ^= TABLES[SLICE - 1 - i][b as usize];
        }
        crc = next;
    }
    for &b in blocks.remainder() {
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
            a.update(c, &mut out);
        }
        a.finish(&mut out);
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
