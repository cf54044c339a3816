//! One incident's legal position: from what the log knows of it (schemes, detection,
//! filings) to its regimes and each stage's deadline, with the operator's configured
//! figures applied. Pure: plain values in, the result out; the commands read the log.

use chrono::{DateTime, Utc};

use super::schedule::{self, Deadline, Filing};
use super::select;
use super::{Clock, Regime, RegimeId, StageId, Table};
use crate::incident::Scheme;
use crate::incident::choices::PersonalDataAuthority;

/// Hours the configuration sets for a scheme's stages (`[deadlines.schemes.SCHEME]`),
/// counted from detection, where a sector's rules give other figures than the table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Configured {
    pub early_warning_hours: Option<u32>,
    /// The first report of a regime: its notification (DORA: initial notification).
    pub notification_hours: Option<u32>,
    pub final_report_hours: Option<u32>,
}

/// A filing as the log recorded it: a filing from before stages had none, and
/// counted for every stage but the intermediate and final reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub regime: Option<RegimeId>,
    pub stage: Option<StageId>,
    pub at: DateTime<Utc>,
}

/// What the log knows of an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Known {
    pub schemes: Vec<Scheme>,
    /// The known detection time (`timeline.detected` with status "known").
    pub detected: Option<DateTime<Utc>>,
    /// When certmail recorded it.
    pub recorded: DateTime<Utc>,
    pub personal_data_to: Option<PersonalDataAuthority>,
    pub classification: Option<DateTime<Utc>>,
    pub filings: Vec<Recorded>,
}

/// Where the clocks start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClocksFrom {
    Detection(DateTime<Utc>),
    /// Detection is unknown or "other": the clocks start when the incident was recorded.
    Recorded(DateTime<Utc>),
}

impl ClocksFrom {
    pub fn at(self) -> DateTime<Utc> {
        match self {
            ClocksFrom::Detection(t) | ClocksFrom::Recorded(t) => t,
        }
    }
}

/// An incident's regimes and their stages at one moment.
#[derive(Debug, Clone)]
pub struct Position {
    pub regimes: Vec<Regime>,
    pub clocks_from: ClocksFrom,
    /// Every stage, overdue first, then by due time, then those met.
    pub deadlines: Vec<Deadline>,
}

impl Position {
    pub fn regime(&self, id: RegimeId) -> Option<&Regime> {
        self.regimes.iter().find(|r| r.id == id)
    }
}

/// A regime with the configured figures of the scheme that brought it in.
fn configured(mut regime: Regime, c: &Configured) -> Regime {
    for stage in &mut regime.stage {
        let hours = match stage.id {
            StageId::EarlyWarning => c.early_warning_hours,
            StageId::Notification | StageId::Initial => c.notification_hours,
            StageId::Final => c.final_report_hours,
            StageId::Intermediate => None,
        };
        if let Some(h) = hours {
            stage.clock = vec![Clock::configured_hours(h)];
        }
    }
    regime
}

/// The incident's position at `now`; `config` gives a scheme's configured figures.
pub fn position(table: &Table, known: &Known, config: &dyn Fn(Scheme) -> Option<Configured>, now: DateTime<Utc>) -> Position {
    let clocks_from = match known.detected {
        Some(t) => ClocksFrom::Detection(t),
        None => ClocksFrom::Recorded(known.recorded),
    };
    let facts = select::Facts { awareness: clocks_from.at(), personal_data_to: known.personal_data_to };
    let mut regimes: Vec<Regime> = Vec::new();
    for scheme in &known.schemes {
        let id = select::regime(*scheme, &facts);
        let Some(regime) = table.get(id) else { continue };
        if regimes.iter().any(|r| r.id == id) {
            continue;
        }
        regimes.push(match config(*scheme) {
            Some(c) => configured(regime.clone(), &c),
            None => regime.clone(),
        });
    }
    let mut filings = Vec::new();
    for f in &known.filings {
        match (f.regime, f.stage) {
            (Some(regime), Some(stage)) => filings.push(Filing { regime, stage, at: f.at }),
            // A filing from before stages cleared every clock but the final report's.
            _ => {
                for r in &regimes {
                    for s in r.stage.iter().filter(|s| !matches!(s.id, StageId::Intermediate | StageId::Final)) {
                        filings.push(Filing { regime: r.id, stage: s.id, at: f.at });
                    }
                }
            }
        }
    }
    let facts = schedule::Facts {
        awareness: clocks_from.at(),
        detection_known: known.detected.is_some(),
        classification: known.classification,
        filings,
    };
    let refs: Vec<&Regime> = regimes.iter().collect();
    let mut deadlines = schedule::deadlines(&refs, &facts, now);
    schedule::sort(&mut deadlines);
    Position { regimes, clocks_from, deadlines }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regimes::schedule::State;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    fn known(schemes: &[Scheme], detected: Option<&str>) -> Known {
        Known {
            schemes: schemes.to_vec(),
            detected: detected.map(at),
            recorded: at("2026-11-20T12:00:00+01:00"),
            personal_data_to: None,
            classification: None,
            filings: Vec::new(),
        }
    }

    #[test]
    fn unknown_detection_counts_from_the_recording_and_config_replaces_figures() {
        let none = |_: Scheme| -> Option<Configured> { None };
        let p = position(&Table::embedded(), &known(&[Scheme::PersonalData], None), &none, at("2026-11-21T12:00:00+01:00"));
        assert_eq!(p.clocks_from, ClocksFrom::Recorded(at("2026-11-20T12:00:00+01:00")));
        assert_eq!(p.deadlines[0].due, Some(at("2026-11-23T12:00:00+01:00")));
        let c = |s: Scheme| (s == Scheme::PersonalData).then_some(Configured { notification_hours: Some(48), ..Configured::default() });
        let p = position(&Table::embedded(), &known(&[Scheme::PersonalData], None), &c, at("2026-11-21T12:00:00+01:00"));
        assert_eq!(p.deadlines[0].due, Some(at("2026-11-22T12:00:00+01:00")));
    }

    #[test]
    fn a_filing_from_before_stages_clears_all_but_the_final_report() {
        let mut k = known(&[Scheme::NisOperator, Scheme::PersonalData], Some("2026-11-20T08:00:00+01:00"));
        k.filings.push(Recorded { regime: None, stage: None, at: at("2026-11-20T20:00:00+01:00") });
        let p = position(&Table::embedded(), &k, &|_| None, at("2026-11-25T12:00:00+01:00"));
        let state = |r, s| p.deadlines.iter().find(|d| d.regime == r && d.stage == s).unwrap().state;
        assert_eq!(state(RegimeId::Nis2, StageId::EarlyWarning), State::Met);
        assert_eq!(state(RegimeId::Gdpr, StageId::Notification), State::Met);
        assert_eq!(state(RegimeId::Nis2, StageId::Final), State::Open);
        let fin = p.deadlines.iter().find(|d| d.stage == StageId::Final).unwrap();
        assert_eq!(fin.due, Some(at("2026-12-20T20:00:00+01:00")));
    }
}
