//! Identity fields as people write them: a Danish phone number with or without +45 or
//! 0045 and spaced any way, a foreign number, a CVR number with spaces or a "DK"
//! prefix. Each is read into a typed value and shown one way (`+45 12 34 56 78`,
//! `12345678`), so the report, the log and a duplicate check see one number however
//! it was typed. A CVR whose check digits fail is doubted, not refused: the register
//! is the authority, and a typo is for a person to see. Pure.

use std::fmt;

/// A CVR number: eight digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cvr([u8; 8]);

impl Cvr {
    /// Eight digits, written with spaces, dashes or dots between them and an optional
    /// "DK" prefix (as on invoices and in VAT numbers: "DK 12 34 56 78", "DK-12345678").
    pub fn parse(text: &str) -> Option<Cvr> {
        let t = text.trim();
        let t = match t.get(..2) {
            Some(p) if p.eq_ignore_ascii_case("dk") => &t[2..],
            _ => t,
        };
        let mut digits = [0u8; 8];
        let mut n = 0;
        for c in t.chars() {
            match c {
                '0'..='9' if n < 8 => {
                    digits[n] = c as u8 - b'0';
                    n += 1;
                }
                ' ' | '-' | '.' | '\u{a0}' => {}
                _ => return None,
            }
        }
        (n == 8).then_some(Cvr(digits))
    }

    /// The modulus-11 check: the digits weighted 2, 7, 6, 5, 4, 3, 2, 1 sum to a
    /// multiple of 11 (Erhvervsstyrelsen, "Modulus 11 kontrol": the eighth digit is
    /// computed from the first seven with the weights 2, 7, 6, 5, 4, 3, 2).
    pub fn check_digits_hold(&self) -> bool {
        const WEIGHTS: [u32; 8] = [2, 7, 6, 5, 4, 3, 2, 1];
        self.0.iter().zip(WEIGHTS).map(|(d, w)| u32::from(*d) * w).sum::<u32>() % 11 == 0
    }
}

impl fmt::Display for Cvr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|d| write!(f, "{d}"))
    }
}

/// A phone number the CERT can call back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phone {
    /// Eight digits, after +45 or 0045 or alone.
    Danish([u8; 8]),
    /// Said to be foreign: kept as written (its country's grouping is its own).
    Foreign(String),
}

/// Separators people put in phone numbers.
fn separator(c: char) -> bool {
    matches!(c, ' ' | '-' | '(' | ')' | '.' | '\u{a0}')
}

impl Phone {
    /// Reads a number; `foreign` is the form's "foreign number" box. The error says
    /// what is expected.
    pub fn parse(text: &str, foreign: bool) -> Result<Phone, String> {
        let compact: String = text.chars().filter(|c| !separator(*c)).collect();
        let plus_first = compact.strip_prefix('+').unwrap_or(&compact);
        let well_formed = !plus_first.is_empty() && plus_first.bytes().all(|b| b.is_ascii_digit());
        if foreign {
            if well_formed && (6..=15).contains(&plus_first.len()) {
                let written = text.split_whitespace().collect::<Vec<_>>().join(" ");
                // "0046 8 …" is "+46 8 …": the international prefix as the + it stands for.
                let written = match written.strip_prefix("00") {
                    Some(rest) if !rest.starts_with('0') => format!("+{rest}"),
                    _ => written,
                };
                return Ok(Phone::Foreign(written));
            }
            return Err(format!("a phone number of 6 to 15 digits, not {text:?}"));
        }
        let national = compact.strip_prefix("+45").or_else(|| compact.strip_prefix("0045")).unwrap_or(&compact);
        let mut digits = [0u8; 8];
        if national.len() == 8 && national.bytes().all(|b| b.is_ascii_digit()) {
            for (slot, b) in digits.iter_mut().zip(national.bytes()) {
                *slot = b - b'0';
            }
            return Ok(Phone::Danish(digits));
        }
        Err(format!("a Danish phone number of 8 digits (optionally +45 or 0045), or set foreign-phone = true, not {text:?}"))
    }

    /// A number written with another country's code (+46 …, 0046 …): what `init`
    /// takes as foreign when not told.
    pub fn looks_foreign(text: &str) -> bool {
        let compact: String = text.chars().filter(|c| !separator(*c)).collect();
        let international = compact.strip_prefix('+').or_else(|| compact.strip_prefix("00"));
        international.is_some_and(|rest| !rest.starts_with("45"))
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Phone::Danish(d) => {
                write!(f, "+45")?;
                d.chunks(2).try_for_each(|pair| write!(f, " {}{}", pair[0], pair[1]))
            }
            Phone::Foreign(text) => f.write_str(text),
        }
    }
}

/// A phone number in its one form, or as written when it does not read (validation
/// says why).
pub fn canonical_phone(text: &str, foreign: bool) -> String {
    Phone::parse(text, foreign).map(|p| p.to_string()).unwrap_or_else(|_| text.to_string())
}

/// A CVR number in its one form, or as written when it does not read.
pub fn canonical_cvr(text: &str) -> String {
    Cvr::parse(text).map(|c| c.to_string()).unwrap_or_else(|| text.to_string())
}

/// Why a CVR that reads is doubted, if it is. The number itself is not repeated: the
/// warning names where it is written, and a report's values stay inside the ciphertext.
pub fn cvr_doubt(text: &str) -> Option<String> {
    let cvr = Cvr::parse(text)?;
    (!cvr.check_digits_hold()).then(|| {
        "the CVR number fails its check digits (modulus 11): check it against the CVR register (datacvr.virk.dk); certmail uses it as given, in its eight digits"
            .to_string()
    })
}

/// Where a doubted value was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// In the incident file, at this byte offset where known.
    File { at: Option<usize> },
    /// In the configuration's `[identity]`, which filled the report.
    Identity,
}

/// A value taken but doubted: said as a warning, never refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doubt {
    pub written: Written,
    /// The field path where it was written (`reporter.cvr`; `cvr` of `[identity]`).
    pub field: &'static str,
    pub message: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn danish_numbers_are_one_number_however_written() {
        for written in ["0045 12 34 56 78", "+45 12345678", "12 34 56 78", "+45 1234 5678", "(+45) 12-34-56-78", "12345678"] {
            assert_eq!(Phone::parse(written, false).unwrap().to_string(), "+45 12 34 56 78", "{written}");
        }
        for wrong in ["1234567", "+46 12345678", "45 12345678", "12 34 56 78 9", "+45 1234 567x", "", "+"] {
            assert!(Phone::parse(wrong, false).is_err(), "{wrong}");
        }
    }

    #[test]
    fn foreign_numbers_are_kept_as_written() {
        assert_eq!(Phone::parse(" +46 8  123 456 78 ", true).unwrap().to_string(), "+46 8 123 456 78");
        assert_eq!(Phone::parse("0046 8 123 456 78", true).unwrap().to_string(), "+46 8 123 456 78");
        assert_eq!(Phone::parse("004612345678", true).unwrap().to_string(), "+4612345678");
        assert!(Phone::parse("12345", true).is_err());
        assert!(Phone::parse("+46 8 123 x", true).is_err());
        assert!(Phone::looks_foreign("+46 8 123 456 78") && Phone::looks_foreign("0046 8 123 456 78"));
        assert!(!Phone::looks_foreign("+45 12 34 56 78") && !Phone::looks_foreign("0045 12345678") && !Phone::looks_foreign("12345678"));
    }

    #[test]
    fn cvr_with_spaces_or_dk_prefix_is_eight_digits() {
        for written in ["DK 12 34 56 78", "DK12345678", "1234 5678", "dk-12345678", " 12345678 "] {
            assert_eq!(Cvr::parse(written).map(|c| c.to_string()).as_deref(), Some("12345678"), "{written}");
        }
        for wrong in ["1234567", "123456789", "DK", "DE12345678", "1234567a"] {
            assert_eq!(Cvr::parse(wrong), None, "{wrong}");
        }
    }

    #[test]
    fn check_digits_as_erhvervsstyrelsen_computes_them() {
        // Erhvervsstyrelsen's worked example 13 74 81 36, and published company numbers.
        for valid in ["13748136", "24256790", "30808460", "29189900"] {
            assert!(Cvr::parse(valid).unwrap().check_digits_hold(), "{valid}");
        }
        for invalid in ["13748137", "24256791", "12345678"] {
            assert!(!Cvr::parse(invalid).unwrap().check_digits_hold(), "{invalid}");
        }
        assert!(cvr_doubt("DK 12 34 56 78").unwrap().starts_with("the CVR number fails its check digits"));
        assert_eq!(cvr_doubt("13748136"), None);
        assert_eq!(cvr_doubt("not a cvr"), None, "what does not read is refused elsewhere, not doubted");
    }
}
