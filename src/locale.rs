//! How a report writes times and numbers for its reader. A CFCS analyst reads Danish
//! time: every time a report shows is turned into Europe/Copenhagen (summer time
//! included), written "10.11.2026 kl. 08:00" in Danish and "2026-11-10 08:00
//! (UTC+01:00)" in English, so nobody converts offsets or UTC in the middle of the
//! night. Counts get thousands separators ("12.345", "12,345"). One function per
//! kind of value, used by the templates as the filters `time` and `number`. Pure.

use chrono::{DateTime, FixedOffset, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Europe::Copenhagen;

use crate::incident::Language;

/// A point in time as the report's language writes it, in Danish time. Seconds are
/// shown only when there are any, so nothing the file said is lost.
pub fn time(t: DateTime<Utc>, lang: Language) -> String {
    let local = t.with_timezone(&Copenhagen);
    let clock = if local.second() == 0 { "%H:%M" } else { "%H:%M:%S" };
    match lang {
        Language::Da => {
            let shown = local.format(&format!("%d.%m.%Y kl. {clock}")).to_string();
            // The autumn hour comes twice (02:00-03:00 summer time, then again as
            // normal time): the Danish form says which, as the English offset does.
            match Copenhagen.from_local_datetime(&local.naive_local()) {
                chrono::LocalResult::Ambiguous(..) if local.offset().fix().local_minus_utc() == 7200 => format!("{shown} (sommertid)"),
                chrono::LocalResult::Ambiguous(..) => format!("{shown} (normaltid)"),
                _ => shown,
            }
        }
        Language::En => {
            // %:z gives "+01:00"; the zone's name (CET/CEST) is left out on purpose:
            // the offset is what a reader in another zone can compute with.
            local.format(&format!("%Y-%m-%d {clock} (UTC%:z)")).to_string()
        }
    }
}

/// An RFC 3339 time from an incident file, written as [`time`] writes it; `None`
/// when the text is not one (the template then shows it as given).
pub fn time_text(text: &str, lang: Language) -> Option<String> {
    DateTime::<FixedOffset>::parse_from_rfc3339(text.trim()).ok().map(|t| time(t.with_timezone(&Utc), lang))
}

/// A whole number with the language's thousands separator: "48.000", "48,000".
pub fn number(n: i128, lang: Language) -> String {
    let separator = match lang {
        Language::Da => '.',
        Language::En => ',',
    };
    let digits = n.unsigned_abs().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3 + 1);
    if n < 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn danish_reports_show_danish_time_in_winter_and_in_summer() {
        assert_eq!(time(utc("2026-11-10T07:00:00Z"), Language::Da), "10.11.2026 kl. 08:00");
        assert_eq!(time(utc("2026-07-01T06:30:00Z"), Language::Da), "01.07.2026 kl. 08:30");
        assert_eq!(time(utc("2026-11-10T07:00:00Z"), Language::En), "2026-11-10 08:00 (UTC+01:00)");
        assert_eq!(time(utc("2026-07-01T06:30:00Z"), Language::En), "2026-07-01 08:30 (UTC+02:00)");
        // A file written in another zone is shown in Danish time all the same.
        assert_eq!(time_text("2026-11-20T05:40:00-05:00", Language::Da).as_deref(), Some("20.11.2026 kl. 11:40"));
        assert_eq!(time_text("2026-11-20T05:40:17+01:00", Language::Da).as_deref(), Some("20.11.2026 kl. 05:40:17"));
        assert_eq!(time_text("yesterday", Language::Da), None);
    }

    #[test]
    fn the_nights_summer_time_changes_are_shown_as_the_clock_on_the_wall_showed_them() {
        // 29 March 2026: 02:00 CET becomes 03:00 CEST; 25 October 2026: 03:00 CEST becomes 02:00 CET.
        assert_eq!(time(utc("2026-03-29T00:59:00Z"), Language::En), "2026-03-29 01:59 (UTC+01:00)");
        assert_eq!(time(utc("2026-03-29T01:00:00Z"), Language::En), "2026-03-29 03:00 (UTC+02:00)");
        // The hour that comes twice is told apart by its offset.
        assert_eq!(time(utc("2026-10-25T00:30:00Z"), Language::En), "2026-10-25 02:30 (UTC+02:00)");
        assert_eq!(time(utc("2026-10-25T01:30:00Z"), Language::En), "2026-10-25 02:30 (UTC+01:00)");
        assert_eq!(time(utc("2026-10-25T00:30:00Z"), Language::Da), "25.10.2026 kl. 02:30 (sommertid)");
        assert_eq!(time(utc("2026-10-25T01:30:00Z"), Language::Da), "25.10.2026 kl. 02:30 (normaltid)");
        assert_eq!(time(utc("2026-10-25T02:30:00Z"), Language::Da), "25.10.2026 kl. 03:30");
    }

    #[test]
    fn numbers_have_thousands_separators() {
        let cases = [(0, "0", "0"), (999, "999", "999"), (1000, "1.000", "1,000"), (48000, "48.000", "48,000")];
        for (n, da, en) in cases {
            assert_eq!(number(n, Language::Da), da);
            assert_eq!(number(n, Language::En), en);
        }
        assert_eq!(number(12_345_678, Language::Da), "12.345.678");
        assert_eq!(number(i128::from(u64::MAX), Language::En), "18,446,744,073,709,551,615");
        assert_eq!(number(-1234, Language::En), "-1,234");
    }
}
