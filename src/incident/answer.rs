//! Answers typed into `compose`, read as values of a field: "ja" for true, "3" for
//! the third option, "06:40" for today at twenty to seven. An answer that means
//! nothing for the field is refused with what is expected, so it is asked again.
//! Pure: the time and the local clock's offset are parameters.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

use super::Language;
use super::check::is_placeholder;
use super::fields::{Field, Kind, Opt, TIME_STATUS};
use super::suggest;

/// A value for one field, as `document` writes it into the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    Text(String),
    Bool(bool),
    Count(u64),
    Choice(&'static str),
    Choices(Vec<&'static str>),
    Time { status: &'static str, at: Option<String>, details: Option<String> },
}

/// What an answer is read against.
pub struct Context<'a> {
    pub lang: Language,
    pub now: DateTime<FixedOffset>,
    /// The local time zone's offset at a wall-clock time ("06:40" typed in Denmark).
    pub local: &'a dyn Fn(NaiveDateTime) -> Option<DateTime<FixedOffset>>,
}

impl Context<'_> {
    fn say(&self, da: &str, en: &str) -> String {
        if self.lang == Language::Da { da.to_string() } else { en.to_string() }
    }
}

/// Reads an answer for a field. `Ok(None)` is an empty answer (which the caller may
/// allow where another field can stand instead).
pub fn read(field: &Field, typed: &str, cx: &Context) -> Result<Option<Answer>, String> {
    let typed = typed.trim();
    if typed.is_empty() {
        return Ok(None);
    }
    if is_placeholder(typed) {
        return Err(cx.say("skriv svaret i stedet for \"<…>\"", "type the answer instead of \"<…>\""));
    }
    match field.kind {
        Kind::Line | Kind::Prose => Ok(Some(Answer::Text(typed.to_string()))),
        Kind::Bool => match suggest::normalize(typed).as_str() {
            "ja" | "j" | "yes" | "y" | "true" => Ok(Some(Answer::Bool(true))),
            "nej" | "n" | "no" | "false" => Ok(Some(Answer::Bool(false))),
            _ => Err(cx.say("svar ja eller nej", "answer yes or no")),
        },
        Kind::Count => {
            let digits: String = typed.chars().filter(|c| !matches!(c, ' ' | '.' | '_' | ',')).collect();
            match digits.parse::<u64>() {
                Ok(n) if digits.chars().all(|c| c.is_ascii_digit()) => Ok(Some(Answer::Count(n))),
                _ => Err(cx.say("et helt tal, f.eks. 450", "a whole number, e.g. 450")),
            }
        }
        Kind::Choice(options) | Kind::OneOrMore(options) => option(typed, options, cx).map(|o| Some(Answer::Choice(o))),
        Kind::Choices(options) => {
            let mut chosen = Vec::new();
            for part in typed.split([',', ';']).map(str::trim).filter(|p| !p.is_empty()) {
                let o = option(part, options, cx)?;
                if !chosen.contains(&o) {
                    chosen.push(o);
                }
            }
            Ok(Some(Answer::Choices(chosen)))
        }
        Kind::Time { end } => time(typed, end, cx).map(Some),
        Kind::Section => Err("a section has no answer of its own".into()),
        Kind::Entries => Err("a list of tables is written in the file, not answered".into()),
    }
}

/// An option by its number in the list shown, its key or its label; a near miss is
/// refused with what it probably meant, never taken for it.
fn option(typed: &str, options: &'static [Opt], cx: &Context) -> Result<&'static str, String> {
    if let Ok(n) = typed.parse::<usize>() {
        return match options.get(n.wrapping_sub(1)) {
            Some(o) => Ok(o.0),
            None => Err(cx.say(&format!("et tal fra 1 til {}", options.len()), &format!("a number from 1 to {}", options.len()))),
        };
    }
    let typed_key = suggest::normalize(typed);
    if let Some(o) =
        options.iter().find(|o| typed_key == o.0 || typed_key == suggest::normalize(o.1) || typed_key == suggest::normalize(o.2))
    {
        return Ok(o.0);
    }
    match suggest::choice(typed, options) {
        Some(meant) => Err(cx.say(
            &format!("\"{typed}\" er ikke et af valgene; mente du {meant}?"),
            &format!("\"{typed}\" is not one of the choices; did you mean {meant}?"),
        )),
        None => Err(cx.say(
            &format!("\"{typed}\" er ikke et af valgene: skriv et tal fra listen"),
            &format!("\"{typed}\" is not one of the choices: type a number from the list"),
        )),
    }
}

/// A point in time: a date and time (RFC 3339, or local "2026-01-31 06:40", or
/// "06:40" today), "now", "unknown", "not ended" (an end only), or words ("other").
fn time(typed: &str, end: bool, cx: &Context) -> Result<Answer, String> {
    let known = |t: DateTime<FixedOffset>| Answer::Time { status: "known", at: Some(t.to_rfc3339()), details: None };
    let word = suggest::normalize(typed);
    if matches!(word.as_str(), "now" | "nu") {
        return Ok(known(cx.now));
    }
    if let Some((key, _, _)) = TIME_STATUS.iter().find(|o| o.0 == "unknown" && (word == o.0 || word == suggest::normalize(o.1))) {
        return Ok(Answer::Time { status: key, at: None, details: None });
    }
    if matches!(word.as_str(), "not-ended" | "not-ended-yet" | "ikke-afsluttet" | "er-ikke-afsluttet") {
        return if end {
            Ok(Answer::Time { status: "not-ended", at: None, details: None })
        } else {
            Err(cx.say("\"ikke afsluttet\" gælder kun hændelsens afslutning", "\"not ended\" is for the end only"))
        };
    }
    if !typed.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok(Answer::Time { status: "other", at: None, details: Some(typed.to_string()) });
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(typed) {
        return Ok(known(t));
    }
    let normalised = typed.replacen('T', " ", 1);
    let wall = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d-%m-%Y %H:%M", "%d.%m.%Y %H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(&normalised, f).ok())
        .or_else(|| {
            let clock = ["%H:%M", "%H.%M", "%H:%M:%S"].iter().find_map(|f| NaiveTime::parse_from_str(typed, f).ok())?;
            let today: NaiveDate = cx.now.date_naive();
            Some(today.and_time(clock))
        });
    match wall.and_then(|w| (cx.local)(w)) {
        Some(t) => Ok(known(t)),
        None => Err(cx.say(
            "dato og klokkeslæt som 2026-01-31 06:40 (eller 06:40 for i dag), \"nu\", \"ved ikke\", eller med ord",
            "a date and time like 2026-01-31 06:40 (or 06:40 for today), \"now\", \"unknown\", or in words",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::fields::field;
    use chrono::TimeZone;

    fn answer(path: &str, typed: &str) -> Result<Option<Answer>, String> {
        let zone = FixedOffset::east_opt(3600).unwrap();
        let local = move |w: NaiveDateTime| zone.from_local_datetime(&w).single();
        let cx = Context { lang: Language::En, now: zone.with_ymd_and_hms(2026, 1, 31, 9, 0, 0).unwrap(), local: &local };
        read(field(path).unwrap(), typed, &cx)
    }

    #[test]
    fn answers_are_read_as_the_field_means_them() {
        assert_eq!(answer("personal-data.loss", "Ja"), Ok(Some(Answer::Bool(true))));
        assert!(answer("personal-data.loss", "maybe").is_err());
        assert_eq!(answer("scope.total", "1.840"), Ok(Some(Answer::Count(1840))));
        assert!(answer("scope.total", "about 500").is_err());
        assert_eq!(answer("description.nature", "3, hacking"), Ok(Some(Answer::Choices(vec!["malware", "hacking"]))));
        assert!(answer("description.nature", "hackin").unwrap_err().contains("did you mean hacking?"));
        assert!(answer("description.nature", "12").unwrap_err().contains("from 1 to 9"));
        assert_eq!(answer("nis.sector", "Sundhed"), Ok(Some(Answer::Choice("health"))));
        assert_eq!(answer("title", "  "), Ok(None));
        assert!(answer("title", "<fill in>").is_err());
    }

    #[test]
    fn times_are_read_in_local_time_words_or_exactly() {
        let known = |at: &str| Ok(Some(Answer::Time { status: "known", at: Some(at.into()), details: None }));
        assert_eq!(answer("timeline.detected", "06:40"), known("2026-01-31T06:40:00+01:00"));
        assert_eq!(answer("timeline.detected", "2026-01-30 23:15"), known("2026-01-30T23:15:00+01:00"));
        assert_eq!(answer("timeline.detected", "2026-01-30T22:15:00Z"), known("2026-01-30T22:15:00+00:00"));
        assert_eq!(answer("timeline.detected", "now"), known("2026-01-31T09:00:00+01:00"));
        let unknown = Ok(Some(Answer::Time { status: "unknown", at: None, details: None }));
        assert_eq!(answer("timeline.detected", "ved ikke"), unknown);
        assert!(answer("timeline.detected", "not ended").is_err());
        assert!(answer("timeline.end", "not ended").is_ok());
        assert!(answer("timeline.detected", "31/1 kl 6").is_err());
        let other = Ok(Some(Answer::Time { status: "other", at: None, details: Some("some night last week".into()) }));
        assert_eq!(answer("timeline.start", "some night last week"), other);
    }
}
