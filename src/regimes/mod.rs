//! The reporting regimes as data (regimes/regimes.toml, embedded; a regimes.toml in
//! the home replaces a regime of the same id): each regime's legal basis, authority
//! and stages, and each stage's clock. Which regimes an incident falls under is in
//! [`select`], the due times in [`schedule`], the calendar in [`clock`]. Reads no file
//! itself: the command hands it the override's text.

pub mod clock;
pub mod incident;
pub mod routing;
pub mod schedule;
pub mod select;

use serde::{Deserialize, Serialize};

use crate::incident::Language;

/// The embedded table.
const EMBEDDED: &str = include_str!("../../regimes/regimes.toml");

/// The file in the home that overrides regimes of the embedded table.
pub const OVERRIDE_FILE: &str = "regimes.toml";

macro_rules! keyed {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $key)] $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)+ }
            }

            pub fn from_key(key: &str) -> Option<$name> {
                match key { $($key => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.key())
            }
        }
    };
}

keyed! {
    /// A reporting regime: the law (or practice) a report is made under.
    RegimeId {
        Nis2 = "nis2",
        Nis2018Oes = "nis-2018-oes",
        Nis2018Dsp = "nis-2018-dsp",
        Gdpr = "gdpr",
        GdprTelecom = "gdpr-telecom",
        Dora = "dora",
        PublicAuthority = "public-authority",
        Voluntary = "voluntary",
    }
}

keyed! {
    /// A stage of a regime's reporting (a separate submission on Virk.dk).
    StageId {
        EarlyWarning = "early-warning",
        Initial = "initial",
        Notification = "notification",
        Intermediate = "intermediate",
        Final = "final",
    }
}

/// Text in both report languages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Text {
    pub da: String,
    pub en: String,
}

impl Text {
    pub fn get(&self, lang: Language) -> &str {
        match lang {
            Language::Da => &self.da,
            Language::En => &self.en,
        }
    }
}

/// The event a clock counts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Start {
    /// When the entity became aware of the incident (its detection).
    Awareness,
    /// When it was classified as major (DORA).
    Classification,
    /// The submission of an earlier stage (`of`).
    Submission,
}

/// One clock of a stage: a duration from an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Clock {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub months: Option<u32>,
    pub from: Start,
    /// The stage whose submission starts it (with `from = "submission"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub of: Option<StageId>,
    /// Counted from that stage's latest submission rather than its first.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub latest: bool,
    /// Set by the configuration's `[deadlines.schemes]`, not by the table: said
    /// wherever the clock is described, so a local figure never passes for the law's.
    #[serde(skip)]
    pub configured: bool,
}

impl Clock {
    /// An hours clock from awareness.
    pub fn hours_from_awareness(hours: u32) -> Clock {
        Clock { hours: Some(hours), months: None, from: Start::Awareness, of: None, latest: false, configured: false }
    }

    /// An hours clock from awareness that `[deadlines.schemes]` configures.
    pub fn configured_hours(hours: u32) -> Clock {
        Clock { configured: true, ..Clock::hours_from_awareness(hours) }
    }

    /// When it runs out, started at `start`.
    pub fn due(&self, start: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match (self.hours, self.months) {
            (Some(h), _) => clock::add_hours(start, h),
            (None, Some(m)) => clock::add_months(start, m),
            (None, None) => start,
        }
    }

    /// When the law's period ends, started at `start`: the due time for hours; for
    /// months the end of the due day (see [`clock::end_of_day`]).
    pub fn period_ends(&self, start: chrono::DateTime<chrono::Utc>) -> chrono::DateTime<chrono::Utc> {
        match (self.hours, self.months) {
            (None, Some(_)) => clock::end_of_day(self.due(start)),
            _ => self.due(start),
        }
    }

    /// "72 h after awareness", "1 month after the notification's submission".
    pub fn describe(&self) -> String {
        let length = match (self.hours, self.months) {
            (Some(h), _) => format!("{h} h"),
            (None, Some(1)) => "1 month".to_string(),
            (None, Some(m)) => format!("{m} months"),
            (None, None) => "0 h".to_string(),
        };
        let from = match (self.from, self.of) {
            (Start::Awareness, _) => "after detection".to_string(),
            (Start::Classification, _) => "after classification as major".to_string(),
            (Start::Submission, Some(of)) => {
                format!("after the {}{} submission", if self.latest { "latest " } else { "" }, of.key())
            }
            (Start::Submission, None) => "after submission".to_string(),
        };
        let set_here = if self.configured { ", as [deadlines.schemes] in the configuration sets it" } else { "" };
        format!("{length} {from}{set_here}")
    }
}

/// One stage of a regime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Stage {
    pub id: StageId,
    pub name: Text,
    pub citation: String,
    /// None: made on request, or without a fixed deadline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub clock: Vec<Clock>,
    /// The law asks a report made after the deadline to give the reasons for the
    /// delay (GDPR art. 33(1); DORA: delegated regulation (EU) 2025/301 art. 5(3)).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub reasons_if_late: bool,
}

/// One regime.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Regime {
    pub id: RegimeId,
    pub name: Text,
    /// The legal basis: the act's name, number and article.
    pub basis: Text,
    /// Who receives the report, and how.
    pub authority: Text,
    /// How the filing is made, as the report says it (one sentence, no full stop);
    /// optional so that a home table written before it still reads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Text>,
    /// CFCS (the national CSIRT) is among those who receive it. A regime replaced in
    /// the home without it counts as not reaching CFCS (the warning is then said).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub cfcs: bool,
    /// Said before sending an incident under this regime (public authorities: FIIN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reminder: Option<Text>,
    pub citation: String,
    pub stage: Vec<Stage>,
}

impl Regime {
    pub fn stage(&self, id: StageId) -> Option<&Stage> {
        self.stage.iter().find(|s| s.id == id)
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    regime: Vec<Regime>,
}

/// The regimes in force: the embedded table with the home's replacements.
#[derive(Debug, Clone)]
pub struct Table {
    regimes: Vec<Regime>,
}

impl Table {
    /// The embedded table, as built.
    pub fn embedded() -> Table {
        let file: File = toml::from_str(EMBEDDED).expect("the embedded regimes.toml parses");
        let table = Table { regimes: file.regime };
        if let Err(e) = table.check() {
            panic!("the embedded regimes.toml: {e}");
        }
        table
    }

    /// The embedded table with the regimes of `text` (from `name`) replacing those of
    /// the same id.
    pub fn with_override(name: &str, text: &str) -> Result<Table, String> {
        let file: File = toml::from_str(text).map_err(|e| format!("{name}: {e}"))?;
        let mut table = Table::embedded();
        for regime in file.regime {
            match table.regimes.iter_mut().find(|r| r.id == regime.id) {
                Some(slot) => *slot = regime,
                None => table.regimes.push(regime),
            }
        }
        table.check().map_err(|e| format!("{name}: {e}"))?;
        Ok(table)
    }

    pub fn get(&self, id: RegimeId) -> Option<&Regime> {
        self.regimes.iter().find(|r| r.id == id)
    }

    pub fn all(&self) -> &[Regime] {
        &self.regimes
    }

    /// What the types cannot say: one length per clock, a stage to count from.
    fn check(&self) -> Result<(), String> {
        for r in &self.regimes {
            for s in &r.stage {
                for c in &s.clock {
                    let here = format!("regime {} stage {}", r.id, s.id);
                    if c.hours.is_some() == c.months.is_some() {
                        return Err(format!("{here}: a clock has `hours` or `months`, one of them"));
                    }
                    match (c.from, c.of) {
                        (Start::Submission, None) => return Err(format!("{here}: `from = \"submission\"` needs `of`, the stage")),
                        (Start::Submission, Some(of)) if r.stage(of).is_none() => {
                            return Err(format!("{here}: `of = \"{of}\"` is not a stage of the regime"));
                        }
                        (Start::Awareness | Start::Classification, Some(_)) => {
                            return Err(format!("{here}: `of` goes with `from = \"submission\"` only"));
                        }
                        _ => {}
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_regime_and_stage_cites_its_source() {
        let table = Table::embedded();
        for id in RegimeId::ALL {
            let r = table.get(*id).unwrap_or_else(|| panic!("regime {id} is in the table"));
            assert!(r.citation.trim().len() > 10, "regime {id} has a citation");
            assert!(!r.basis.da.trim().is_empty() && !r.basis.en.trim().is_empty(), "regime {id} names its legal basis");
            assert!(!r.authority.da.is_empty() && !r.authority.en.is_empty(), "regime {id} names who receives it");
            assert!(r.route.as_ref().is_some_and(|t| !t.da.is_empty() && !t.en.is_empty()), "regime {id} says how it is filed");
            assert!(!r.stage.is_empty(), "regime {id} has stages");
            for s in &r.stage {
                assert!(s.citation.trim().len() > 10, "regime {id} stage {} has a citation", s.id);
            }
        }
    }

    /// Every clock of the table, started at the moments that trip calendars up: month
    /// ends, a leap day, the hours before and inside both summer-time changes, New
    /// Year's Eve. Hours are elapsed hours; a month keeps the Danish date and time of
    /// day (or the month's last day), and its period ends at the next Danish midnight.
    #[test]
    fn every_clock_in_the_table_at_month_ends_leap_days_and_summer_time() {
        use chrono::{DateTime, Datelike, Duration, Timelike, Utc};
        use chrono_tz::Europe::Copenhagen;
        let starts = [
            "2027-01-31T10:00:00+01:00",
            "2028-01-31T10:00:00+01:00",
            "2028-02-29T08:00:00+01:00",
            "2026-03-28T23:30:00+01:00",
            "2026-03-29T01:59:00+01:00",
            "2026-10-24T02:30:00+02:00",
            "2026-10-25T02:30:00+01:00",
            "2026-08-31T23:59:00+02:00",
            "2026-12-31T23:30:00+01:00",
            // A month later is 02:30 on 28 March 2027, an hour the clocks skip.
            "2027-02-28T02:30:00+01:00",
            // A month later is 02:30 on 25 October 2026, an hour that comes twice.
            "2026-09-25T02:30:00+02:00",
        ];
        let table = Table::embedded();
        let mut seen = 0;
        for regime in table.all() {
            for stage in &regime.stage {
                for clock in &stage.clock {
                    for start in starts {
                        let s = DateTime::parse_from_rfc3339(start).unwrap().with_timezone(&Utc);
                        let due = clock.due(s);
                        let what = format!("{} {} {clock:?} from {start}", regime.id, stage.id);
                        match (clock.hours, clock.months) {
                            (Some(h), None) => {
                                assert_eq!(due - s, Duration::hours(i64::from(h)), "{what}");
                                assert_eq!(clock.period_ends(s), due, "{what}");
                            }
                            (None, Some(m)) => {
                                let (from, to) = (s.with_timezone(&Copenhagen), due.with_timezone(&Copenhagen));
                                let months = (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
                                assert_eq!(months, m as i32, "{what}: {to}");
                                let last = chrono::NaiveDate::from_ymd_opt(to.year(), to.month(), 1)
                                    .and_then(|d| d.checked_add_months(chrono::Months::new(1)))
                                    .and_then(|d| d.pred_opt())
                                    .unwrap()
                                    .day();
                                assert_eq!(to.day(), from.day().min(last), "{what}: {to}");
                                // The same time of day; where the clocks skip it, the moment
                                // summer time begins (03:00), never later.
                                let skipped = matches!(
                                    to.date_naive().and_time(from.time()).and_local_timezone(Copenhagen),
                                    chrono::LocalResult::None
                                );
                                let expected = if skipped { (3, 0) } else { (from.hour(), from.minute()) };
                                assert_eq!((to.hour(), to.minute()), expected, "{what}: {to}");
                                let end = clock.period_ends(s).with_timezone(&Copenhagen);
                                assert_eq!(
                                    (end.date_naive(), end.hour(), end.minute()),
                                    (to.date_naive().succ_opt().unwrap(), 0, 0),
                                    "{what}"
                                );
                            }
                            _ => panic!("{what}: a clock has one length"),
                        }
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen >= 5 * starts.len(), "the table's clocks were all tried ({seen})");
    }

    #[test]
    fn the_law_s_figures() {
        let t = Table::embedded();
        let clocks = |r: RegimeId, s: StageId| t.get(r).unwrap().stage(s).unwrap().clock.clone();
        assert_eq!(clocks(RegimeId::Nis2, StageId::EarlyWarning), vec![Clock::hours_from_awareness(24)]);
        assert_eq!(clocks(RegimeId::Nis2, StageId::Notification), vec![Clock::hours_from_awareness(72)]);
        assert!(clocks(RegimeId::Nis2, StageId::Intermediate).is_empty());
        let final_ = &clocks(RegimeId::Nis2, StageId::Final)[0];
        assert_eq!(
            (final_.months, final_.from, final_.of, final_.latest),
            (Some(1), Start::Submission, Some(StageId::Notification), false)
        );
        assert_eq!(clocks(RegimeId::Gdpr, StageId::Notification), vec![Clock::hours_from_awareness(72)]);
        let initial = clocks(RegimeId::Dora, StageId::Initial);
        assert_eq!((initial[0].hours, initial[0].from), (Some(4), Start::Classification));
        assert_eq!(initial[1], Clock::hours_from_awareness(24));
        let dora_final = &clocks(RegimeId::Dora, StageId::Final)[0];
        assert_eq!((dora_final.months, dora_final.of, dora_final.latest), (Some(1), Some(StageId::Intermediate), true));
        assert!(clocks(RegimeId::PublicAuthority, StageId::Notification).is_empty());
        assert!(clocks(RegimeId::Voluntary, StageId::Notification).is_empty());
        assert!(t.get(RegimeId::Nis2).unwrap().basis.da.contains("Lov nr. 434 af 6. maj 2025"));
    }

    #[test]
    fn cfcs_receives_what_the_law_sends_it() {
        let t = Table::embedded();
        let to_cfcs: Vec<RegimeId> = t.all().iter().filter(|r| r.cfcs).map(|r| r.id).collect();
        assert_eq!(
            to_cfcs,
            vec![RegimeId::Nis2, RegimeId::Nis2018Oes, RegimeId::Nis2018Dsp, RegimeId::PublicAuthority, RegimeId::Voluntary]
        );
        assert!(t.get(RegimeId::PublicAuthority).unwrap().reminder.as_ref().is_some_and(|r| r.en.contains("FE-KTP-MILCERT")));
    }

    #[test]
    fn the_home_replaces_a_regime_and_bad_tables_are_refused() {
        let text = r#"
[[regime]]
id = "voluntary"
name = { da = "frivillig", en = "voluntary" }
basis = { da = "b", en = "b" }
authority = { da = "CFCS", en = "CFCS" }
citation = "sector rules of our own"
[[regime.stage]]
id = "notification"
name = { da = "underretning", en = "notification" }
citation = "our sector's executive order"
clock = [{ hours = 48, from = "awareness" }]
"#;
        let t = Table::with_override("home/regimes.toml", text).unwrap();
        assert_eq!(t.get(RegimeId::Voluntary).unwrap().stage[0].clock, vec![Clock::hours_from_awareness(48)]);
        assert_eq!(t.get(RegimeId::Nis2), Table::embedded().get(RegimeId::Nis2));
        let both = text.replace("hours = 48", "hours = 48, months = 1");
        assert!(Table::with_override("f", &both).unwrap_err().contains("one of them"));
        let unknown = text.replace("\"voluntary\"", "\"nis3\"");
        assert!(Table::with_override("f", &unknown).unwrap_err().starts_with("f: "));
    }
}
