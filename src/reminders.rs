//! The time-based hook events: which of an open incident's deadlines call for one at
//! `now` (`ack-overdue`, `deadline-due`, `deadline-overdue`). Pure: items in, events
//! out. It reads only an item's kind, due time and overdue flag, never how the
//! clocks behind them were computed, so another way of computing them changes
//! nothing here.

use chrono::{DateTime, Duration, Utc};

use crate::deadlines::{Item, Kind};
use crate::hooks::{About, Event, EventKind};
use crate::store::timestamp;

/// A legal clock is "due soon" once a quarter of its time is left, but never more
/// than this before it is due: NIS2's 24-hour early warning 6 h before, a 72-hour
/// notification 18 h before, a one-month final report a day before.
pub const MAX_LEAD: Duration = Duration::hours(24);

/// How long before `due` a clock that started at `since` is due soon.
pub fn lead(since: DateTime<Utc>, due: DateTime<Utc>) -> Duration {
    ((due - since) / 4).clamp(Duration::zero(), MAX_LEAD)
}

/// The events `items` (one open incident's, at `now`) call for. `phone` is the
/// number to call the CERT the incident's notification went to.
pub fn events(reference: &str, items: &[Item], now: DateTime<Utc>, phone: &str) -> Vec<Event> {
    let mut events = Vec::new();
    for item in items {
        let Some(due) = item.due else { continue };
        let (event, deadline, phone) = match &item.kind {
            Kind::Acknowledgement if item.overdue => (EventKind::AckOverdue, "acknowledgement".to_string(), Some(phone.to_string())),
            Kind::LegalStage { name, .. } if item.overdue => (EventKind::DeadlineOverdue, name.clone(), None),
            Kind::LegalStage { name, since, .. } if now >= due - lead(*since, due) => (EventKind::DeadlineDue, name.clone(), None),
            _ => continue,
        };
        events.push(Event {
            event,
            reference: Some(reference.to_string()),
            at: timestamp(now),
            about: About::Deadline { deadline, due: timestamp(due), action: item.action.clone(), phone },
        });
    }
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-22T10:00:00Z").unwrap().with_timezone(&Utc) + Duration::hours(hours)
    }

    fn stage(name: &str, since: i64, due: i64, now: i64) -> Item {
        Item {
            kind: Kind::LegalStage {
                regime: crate::regimes::RegimeId::Nis2,
                stage: crate::regimes::StageId::EarlyWarning,
                name: name.into(),
                since: at(since),
            },
            what: name.into(),
            due: Some(at(due)),
            overdue: at(now) > at(due),
            action: "file it".into(),
        }
    }

    fn kinds(items: &[Item], now: i64) -> Vec<(EventKind, String)> {
        events("CM-1", items, at(now), "+45 1")
            .into_iter()
            .map(|e| match e.about {
                About::Deadline { deadline, .. } => (e.event, deadline),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn a_clock_is_due_soon_in_its_last_quarter_and_at_most_a_day_ahead() {
        assert_eq!(lead(at(0), at(24)), Duration::hours(6));
        assert_eq!(lead(at(0), at(72)), Duration::hours(18));
        assert_eq!(lead(at(0), at(720)), Duration::hours(24));
        assert_eq!(kinds(&[stage("early warning", 0, 24, 17)], 17), []);
        assert_eq!(kinds(&[stage("early warning", 0, 24, 18)], 18), [(EventKind::DeadlineDue, "early warning".into())]);
        assert_eq!(kinds(&[stage("early warning", 0, 24, 25)], 25), [(EventKind::DeadlineOverdue, "early warning".into())]);
        assert_eq!(kinds(&[stage("final report", 0, 720, 690)], 690), []);
        assert_eq!(kinds(&[stage("final report", 0, 720, 697)], 697), [(EventKind::DeadlineDue, "final report".into())]);
    }

    #[test]
    fn an_overdue_acknowledgement_says_whom_to_call_and_other_items_are_no_event() {
        let ack = |overdue| Item {
            kind: Kind::Acknowledgement,
            what: "acknowledgement".into(),
            due: Some(at(1)),
            overdue,
            action: "call".into(),
        };
        let question = Item { kind: Kind::Answer, what: "answer".into(), due: None, overdue: false, action: String::new() };
        let failed = Item { kind: Kind::Delivery { failed: true }, what: "failed".into(), due: None, overdue: true, action: String::new() };
        assert!(events("CM-1", &[ack(false), question.clone(), failed.clone()], at(0), "+45 1").is_empty());
        let told = events("CM-1", &[ack(true), question, failed], at(2), "+45 1");
        assert_eq!(told.len(), 1);
        let json = serde_json::to_value(&told[0]).unwrap();
        assert_eq!(json["event"], "ack-overdue");
        assert_eq!(json["reference"], "CM-1");
        assert_eq!(json["deadline"], "acknowledgement");
        assert_eq!(json["due"], "2026-11-22T11:00:00.000Z");
        assert_eq!(json["phone"], "+45 1");
        assert_eq!(told[0].key(), "ack-overdue:CM-1:acknowledgement");
    }
}
