//! Incident references: `CM-XXXX-XXXX-XXXX`, 60 random bits in Crockford's base32
//! (no I, L, O or U, so it reads aloud and copies by hand without mix-ups). Random,
//! not counted: another installation's references never match ours (a numbered
//! `CM-2026-0002` existed in every installation), and the cleartext subject they
//! travel in says nothing about the organisation, how many incidents it had, or when.
//! Logs made before keep their numbered references, which still thread and bind.

use crate::exit::Failure;

const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh random reference.
pub fn new_reference() -> Result<String, Failure> {
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| Failure::failed(format!("no randomness for the incident reference: {e}")))?;
    Ok(format_random(u64::from_be_bytes(random)))
}

/// The reference for 60 bits of `bits`.
fn format_random(bits: u64) -> String {
    let mut out = String::from("CM-");
    for i in 0..12 {
        if i > 0 && i % 4 == 0 {
            out.push('-');
        }
        let digit = (bits >> (55 - 5 * i)) & 0x1f;
        out.push(ALPHABET[digit as usize] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_and_spread() {
        assert_eq!(format_random(0), "CM-0000-0000-0000");
        assert_eq!(format_random(u64::MAX), "CM-ZZZZ-ZZZZ-ZZZZ");
        let a = new_reference().unwrap();
        assert_eq!(crate::reply::references_in(&a), vec![a.clone()]);
        let many: std::collections::HashSet<String> = (0..1000).map(|_| new_reference().unwrap()).collect();
        assert_eq!(many.len(), 1000);
    }
}
