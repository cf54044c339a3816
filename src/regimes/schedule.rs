//! Each stage's due time and state for one incident at `now`: its regimes' clocks
//! started by the incident's facts (detection, classification) and by the stages
//! filed on Virk.dk. Pure: values in, values out.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Clock, Regime, RegimeId, Stage, StageId, Start};

/// One stage's submission, as `incident virk` recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    pub regime: RegimeId,
    pub stage: StageId,
    pub at: DateTime<Utc>,
}

/// What starts an incident's clocks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facts {
    /// Detection; when it is not known, when the incident was recorded.
    pub awareness: DateTime<Utc>,
    /// Whether `awareness` is the detection time the incident file gives.
    pub detection_known: bool,
    /// When it was classified as major (DORA), if known.
    pub classification: Option<DateTime<Utc>>,
    pub filings: Vec<Filing>,
}

/// Where a stage stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Past its due time and not filed.
    Overdue,
    /// Not filed, not past its due time (or without one).
    Open,
    /// Filed (on time or not: see `late`).
    Met,
}

/// Why an unfiled stage has no due time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoClock {
    /// The law sets none: on request, or without a fixed deadline.
    None,
    /// Its clock starts with an event that has not happened (a submission of `of`).
    Waits(StageId),
    /// Its clock starts with a classification certmail has not been told.
    WaitsClassification,
}

/// One stage of one regime at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deadline {
    pub regime: RegimeId,
    pub stage: StageId,
    pub due: Option<DateTime<Utc>>,
    pub state: State,
    /// The first submission of the stage.
    pub submitted: Option<DateTime<Utc>>,
    /// Submitted (or not yet) after its due time.
    pub late: bool,
    /// Why there is no due time, when there is none.
    pub no_clock: Option<NoClock>,
    /// The clock that sets `due`, in words ("72 h after detection").
    pub rule: Option<String>,
    /// When that clock started.
    pub started: Option<DateTime<Utc>>,
    /// Where the law's period ends: `due` for hours, the end of the due day for a
    /// month (the due time itself is the same time of day, never later).
    pub period_ends: Option<DateTime<Utc>>,
}

fn submissions(facts: &Facts, regime: RegimeId, stage: StageId) -> impl Iterator<Item = DateTime<Utc>> + '_ {
    facts.filings.iter().filter(move |f| f.regime == regime && f.stage == stage).map(|f| f.at)
}

fn start(facts: &Facts, regime: RegimeId, clock: &Clock) -> Option<DateTime<Utc>> {
    match (clock.from, clock.of) {
        (Start::Awareness, _) => Some(facts.awareness),
        (Start::Classification, _) => facts.classification,
        (Start::Submission, Some(of)) if clock.latest => submissions(facts, regime, of).max(),
        (Start::Submission, Some(of)) => submissions(facts, regime, of).min(),
        (Start::Submission, None) => None,
    }
}

fn stage_deadline(regime: &Regime, stage: &Stage, facts: &Facts, now: DateTime<Utc>) -> Deadline {
    // The earliest of the clocks that have started.
    let mut due: Option<(DateTime<Utc>, &Clock, DateTime<Utc>)> = None;
    let mut waits = None;
    for c in &stage.clock {
        match start(facts, regime.id, c) {
            Some(s) => {
                let d = c.due(s);
                if due.is_none_or(|(earlier, _, _)| d < earlier) {
                    due = Some((d, c, s));
                }
            }
            None => {
                waits.get_or_insert(match c.of {
                    Some(of) => NoClock::Waits(of),
                    None => NoClock::WaitsClassification,
                });
            }
        }
    }
    let submitted = submissions(facts, regime.id, stage.id).min();
    let due_at = due.map(|(d, _, _)| d);
    let late = match (due_at, submitted) {
        (Some(d), Some(s)) => s > d,
        (Some(d), None) => now > d,
        _ => false,
    };
    let state = match (submitted, late) {
        (Some(_), _) => State::Met,
        (None, true) => State::Overdue,
        (None, false) => State::Open,
    };
    let no_clock = match due_at {
        Some(_) => None,
        None => Some(waits.unwrap_or(NoClock::None)),
    };
    Deadline {
        regime: regime.id,
        stage: stage.id,
        due: due_at,
        state,
        submitted,
        late,
        no_clock,
        rule: due.map(|(_, c, _)| c.describe()),
        started: due.map(|(_, _, s)| s),
        period_ends: due.map(|(_, c, s)| c.period_ends(s)),
    }
}

/// Every stage of `regimes`, in the table's order.
pub fn deadlines(regimes: &[&Regime], facts: &Facts, now: DateTime<Utc>) -> Vec<Deadline> {
    regimes.iter().flat_map(|r| r.stage.iter().map(move |s| stage_deadline(r, s, facts, now))).collect()
}

/// Overdue first, then open by due time (those without one last), then met.
pub fn sort(list: &mut [Deadline]) {
    list.sort_by_key(|d| (d.state, d.due.is_none(), d.due));
}

/// The stage a filing without `--stage` records: the unfiled stage due first (a stage
/// with a clock before one without), of `regime` when given.
pub fn next_open(list: &[Deadline], regime: Option<RegimeId>) -> Option<&Deadline> {
    let mut open: Vec<&Deadline> = list
        .iter()
        .filter(|d| d.submitted.is_none() && regime.is_none_or(|r| r == d.regime) && d.no_clock != Some(NoClock::None))
        .collect();
    if open.is_empty() {
        open = list.iter().filter(|d| d.submitted.is_none() && regime.is_none_or(|r| r == d.regime)).collect();
    }
    open.into_iter().min_by_key(|d| (d.due.is_none(), d.due))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regimes::Table;

    fn at(t: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc)
    }

    fn facts(detected: &str, filings: &[(RegimeId, StageId, &str)]) -> Facts {
        Facts {
            awareness: at(detected),
            detection_known: true,
            classification: None,
            filings: filings.iter().map(|(r, s, t)| Filing { regime: *r, stage: *s, at: at(t) }).collect(),
        }
    }

    fn run(ids: &[RegimeId], facts: &Facts, now: &str) -> Vec<Deadline> {
        let table = Table::embedded();
        let regimes: Vec<&Regime> = ids.iter().map(|id| table.get(*id).unwrap()).collect();
        deadlines(&regimes, facts, at(now))
    }

    fn find(list: &[Deadline], r: RegimeId, s: StageId) -> Deadline {
        list.iter().find(|d| d.regime == r && d.stage == s).cloned().unwrap()
    }

    use RegimeId::*;
    use StageId::*;

    #[test]
    fn nis2_stages_count_from_detection_and_the_final_from_the_notification() {
        let f = facts("2026-10-20T09:00:00+02:00", &[]);
        let list = run(&[Nis2, Gdpr], &f, "2026-10-21T10:00:00+02:00");
        let early = find(&list, Nis2, EarlyWarning);
        assert_eq!((early.due, early.state), (Some(at("2026-10-21T09:00:00+02:00")), State::Overdue));
        let n = find(&list, Nis2, Notification);
        assert_eq!((n.due, n.state), (Some(at("2026-10-23T09:00:00+02:00")), State::Open));
        assert_eq!(find(&list, Gdpr, Notification).due, Some(at("2026-10-23T09:00:00+02:00")));
        let fin = find(&list, Nis2, Final);
        assert_eq!((fin.due, fin.no_clock), (None, Some(NoClock::Waits(Notification))));
        assert_eq!(find(&list, Nis2, Intermediate).no_clock, Some(NoClock::None));

        // Filing the early warning clears only it; the notification filed on the 23rd
        // (summer time) starts the final report's month, due on 23 November (winter time).
        let f = facts(
            "2026-10-20T09:00:00+02:00",
            &[(Nis2, EarlyWarning, "2026-10-21T08:00:00+02:00"), (Nis2, Notification, "2026-10-23T08:30:00+02:00")],
        );
        let list = run(&[Nis2], &f, "2026-10-24T10:00:00+02:00");
        let early = find(&list, Nis2, EarlyWarning);
        assert_eq!((early.state, early.late), (State::Met, false));
        let fin = find(&list, Nis2, Final);
        assert_eq!((fin.due, fin.state), (Some(at("2026-11-23T08:30:00+01:00")), State::Open));
        assert_eq!(fin.rule.as_deref(), Some("1 month after the notification submission"));
    }

    #[test]
    fn a_stage_filed_after_its_deadline_is_met_and_late() {
        let f = facts("2026-11-01T09:00:00+01:00", &[(Gdpr, Notification, "2026-11-05T09:00:00+01:00")]);
        let n = find(&run(&[Gdpr], &f, "2026-11-06T09:00:00+01:00"), Gdpr, Notification);
        assert_eq!((n.state, n.late, n.submitted), (State::Met, true, Some(at("2026-11-05T09:00:00+01:00"))));
    }

    #[test]
    fn dora_clocks_chain_from_submissions_and_classification() {
        let mut f = facts("2027-01-31T10:00:00+01:00", &[]);
        let list = run(&[Dora], &f, "2027-01-31T11:00:00+01:00");
        // Classification not known: the 24-hour bound from awareness.
        assert_eq!(find(&list, Dora, Initial).due, Some(at("2027-02-01T10:00:00+01:00")));
        f.classification = Some(at("2027-01-31T12:00:00+01:00"));
        let list = run(&[Dora], &f, "2027-01-31T13:00:00+01:00");
        assert_eq!(find(&list, Dora, Initial).due, Some(at("2027-01-31T16:00:00+01:00")));
        assert_eq!(find(&list, Dora, Intermediate).no_clock, Some(NoClock::Waits(Initial)));
        f.filings = vec![
            Filing { regime: Dora, stage: Initial, at: at("2027-01-31T15:00:00+01:00") },
            Filing { regime: Dora, stage: Intermediate, at: at("2027-02-02T15:00:00+01:00") },
            Filing { regime: Dora, stage: Intermediate, at: at("2027-03-31T09:00:00+02:00") },
        ];
        let list = run(&[Dora], &f, "2027-04-01T09:00:00+02:00");
        assert_eq!(find(&list, Dora, Intermediate).due, Some(at("2027-02-03T15:00:00+01:00")));
        // One month after the latest intermediate report: 31 March + 1 month = 30 April.
        assert_eq!(find(&list, Dora, Final).due, Some(at("2027-04-30T09:00:00+02:00")));
    }

    #[test]
    fn overdue_first_then_by_due_time() {
        let f = facts("2026-11-20T08:00:00+01:00", &[(Nis2, EarlyWarning, "2026-11-20T09:00:00+01:00")]);
        let mut list = run(&[Gdpr, Nis2], &f, "2026-11-23T09:00:00+01:00");
        sort(&mut list);
        let order: Vec<(RegimeId, StageId, State)> = list.iter().map(|d| (d.regime, d.stage, d.state)).collect();
        assert_eq!(order[0].2, State::Overdue);
        assert_eq!(order[1].2, State::Overdue);
        assert!(order.iter().position(|o| o.2 == State::Met) > order.iter().position(|o| o.2 == State::Open));
        let next = next_open(&list, None).unwrap();
        assert_eq!(next.due, Some(at("2026-11-23T08:00:00+01:00")));
        assert_eq!(next_open(&list, Some(Nis2)).unwrap().stage, Notification);
    }
}
