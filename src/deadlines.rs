//! What an open incident waits for, and by when: delivery, the CERT's
//! acknowledgement, and each open stage of its regimes (computed by
//! `regimes::incident`: NIS2's early warning, notification and final report, GDPR's
//! notification, ...). Pure: the log's facts and `now` in, items out. Each item says
//! what it is (a [`Kind`]), so `status` and the hooks agree on it without reading its
//! words.

use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, Serializer};

use crate::incident::Language;
use crate::regimes::incident::{ClocksFrom, Position};
use crate::regimes::schedule::{NoClock, State};
use crate::regimes::{RegimeId, StageId};
use crate::store::StatusRow;

/// What an incident waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// Delivery of its notification: not delivered yet, or `failed` for good.
    Delivery { failed: bool },
    /// The CERT's acknowledgement of the notification.
    Acknowledgement,
    /// An answer to a question the CERT asked (bound by its signature).
    Answer,
    /// Messages about the incident that no good signature binds, to be read.
    Unverified,
    /// A stage of a regime not filed yet; `name` is how the hooks name it ("early
    /// warning", or "gdpr notification" when the incident has several regimes), its
    /// clock counted from `since`.
    LegalStage { regime: RegimeId, stage: StageId, name: String, since: DateTime<Utc> },
}

/// One thing an incident waits for.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Not in `status --json` (its `what` says it in words).
    #[serde(skip)]
    pub kind: Kind,
    pub what: String,
    /// When it is due; none for things due now. RFC 3339 in JSON (for scripts, as
    /// `deadlines` gives it); `stamp` writes it for people.
    #[serde(serialize_with = "due_text")]
    pub due: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// What to do about it.
    pub action: String,
}

fn due_text<S: Serializer>(due: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    due.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).serialize(s)
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// A due time as `status` shows it: in Danish time with its offset, as the English
/// report writes times ("2026-11-23 09:00 (UTC+01:00)"): the responder plans the night
/// by it, and the law's clocks are Danish.
pub fn stamp(t: DateTime<Utc>) -> String {
    crate::locale::time(t, crate::incident::Language::En)
}

/// The items of one open incident at `now`; `phone` is the CERT's (its recipient's).
pub fn items(row: &StatusRow, now: DateTime<Utc>, ack_timeout: Duration, legal: &Position, phone: &str) -> Vec<Item> {
    let cert_phone = phone;
    let mut items = Vec::new();
    if row.failed > 0 {
        items.push(Item {
            kind: Kind::Delivery { failed: true },
            what: "the notification FAILED and was not delivered".into(),
            due: None,
            overdue: true,
            action: format!("call the CERT at {cert_phone} now; once the cause is fixed, `certmail outbox retry {}`", row.reference),
        });
    } else if row.undelivered > 0 {
        items.push(Item {
            kind: Kind::Delivery { failed: false },
            what: "the notification is not delivered yet".into(),
            due: None,
            overdue: row.first_sent_at.is_none(),
            action: "run `certmail outbox flush`; check the relay with `certmail outbox list`".into(),
        });
    }
    if let Some(sent) = row.first_sent_at.as_deref().and_then(parse)
        && !row.acknowledged
    {
        let due = sent + ack_timeout;
        items.push(Item {
            kind: Kind::Acknowledgement,
            what: "acknowledgement from the CERT".into(),
            due: Some(due),
            overdue: now > due,
            action: if now > due {
                format!("no acknowledgement yet: call the CERT at {cert_phone}")
            } else {
                "wait for the CERT's reply".into()
            },
        });
    }
    if let Some(asked) = &row.unanswered_question_at {
        // Only a question bound by a good, whole-message signature is listed here.
        items.push(Item {
            kind: Kind::Answer,
            what: format!(
                "the CERT asked a question (received {}) and is waiting for your answer",
                parse(asked).map(stamp).unwrap_or_else(|| asked.clone())
            ),
            due: None,
            overdue: false,
            action: format!(
                "read it with `certmail read {}`, answer with `certmail notify FILE --follow-up {}`",
                row.reference, row.reference
            ),
        });
    }
    if row.unverified > 0 {
        items.push(Item {
            kind: Kind::Unverified,
            what: format!(
                "{} message(s) about this incident not signed by the CERT over the whole message: shown, not trusted",
                row.unverified
            ),
            due: None,
            overdue: false,
            action: format!(
                "read them with `certmail read {}`; confirm anything they ask at {cert_phone} before sending details",
                row.reference
            ),
        });
    }
    items.extend(legal_items(&row.reference, legal));
    items
}

/// How the hooks name a stage: as before regimes ("early warning", "notification",
/// "final report"), with the regime in front when an incident has several.
pub fn stage_name(regime: RegimeId, stage: StageId, several: bool) -> String {
    let words = match stage {
        StageId::EarlyWarning => "early warning",
        StageId::Initial => "initial notification",
        StageId::Notification => "notification",
        StageId::Intermediate => "intermediate report",
        StageId::Final => "final report",
    };
    if several { format!("{regime} {words}") } else { words.to_string() }
}

/// The stages of `legal` not filed yet, as items.
fn legal_items(reference: &str, legal: &Position) -> Vec<Item> {
    let several = legal.regimes.len() > 1;
    let mut items = Vec::new();
    for d in legal.deadlines.iter().filter(|d| d.state != State::Met) {
        let Some(regime) = legal.regime(d.regime) else { continue };
        let words = regime.stage(d.stage).map(|s| s.name.get(Language::En).to_string()).unwrap_or_else(|| d.stage.to_string());
        let when = match (&d.rule, d.no_clock) {
            (Some(rule), _) => rule.clone(),
            (None, Some(NoClock::Waits(of))) => format!("its clock starts when the {of} is filed"),
            (None, Some(NoClock::WaitsClassification)) => "its clock starts at classification as major".to_string(),
            (None, _) if d.stage == StageId::Intermediate => "on request".to_string(),
            (None, _) => "no fixed deadline".to_string(),
        };
        let unknown_start = match legal.clocks_from {
            ClocksFrom::Recorded(_) if d.rule.as_deref().is_some_and(|r| r.contains("detection")) => {
                "; counted from when the incident was recorded, as its detection time is not known"
            }
            _ => "",
        };
        // A month's period runs to the end of its last day; the due time shown is the
        // same time of day, the earlier reading, and the responder should know both.
        let period = match (d.due, d.period_ends) {
            (Some(due), Some(end)) if end > due => format!("; the law's period runs to the end of that day, {}", stamp(end)),
            _ => String::new(),
        };
        let unknown_start = format!("{unknown_start}{period}");
        items.push(Item {
            kind: Kind::LegalStage {
                regime: d.regime,
                stage: d.stage,
                name: stage_name(d.regime, d.stage, several),
                since: d.started.unwrap_or(legal.clocks_from.at()),
            },
            what: if several {
                format!("{}: {words} via Virk.dk ({when}{unknown_start})", regime.name.en)
            } else {
                format!("{words} via Virk.dk ({when}{unknown_start})")
            },
            due: d.due,
            overdue: d.state == State::Overdue,
            action: format!(
                "file it on Virk.dk (for {}), then `certmail incident virk {reference} --stage {} --regime {} --reference ...`",
                regime.authority.en, d.stage, d.regime
            ),
        });
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::regimes::Table;
    use crate::regimes::incident::{Known, Recorded, position};

    const PHONE: &str = "+45 3332 5580";

    fn row() -> StatusRow {
        StatusRow {
            reference: "CM-2026-0001".into(),
            scheme: "nis-operator".into(),
            title: "t".into(),
            created_at: "2026-11-22T10:00:00.000Z".into(),
            detected_at: Some("2026-11-22T09:00:00+01:00".into()),
            first_sent_at: Some("2026-11-22T10:00:00.000Z".into()),
            undelivered: 0,
            failed: 0,
            bounced_but_acknowledged: 0,
            acknowledged: false,
            acknowledged_at: None,
            cert_case: None,
            virk_filed: false,
            virk_reference: None,
            unanswered_question_at: None,
            unanswered_question_signature: None,
            cert_closed: false,
            last_reply_at: None,
            last_reply_from: None,
            unverified: 0,
            recipient: Some("cfcs".into()),
            personal_data_to: None,
            classified_at: None,
        }
    }

    fn at(t: &str) -> DateTime<Utc> {
        parse(t).unwrap()
    }

    fn legal(row: &StatusRow, filings: Vec<Recorded>, now: &str) -> Position {
        let known = Known {
            schemes: crate::incident::Schemes::from_keys(&row.scheme),
            detected: row.detected_at.as_deref().and_then(parse),
            recorded: parse(&row.created_at).unwrap(),
            personal_data_to: None,
            classification: None,
            filings,
        };
        position(&Table::embedded(), &known, &|_| None, at(now))
    }

    fn none() -> Position {
        legal(&StatusRow { scheme: "voluntary".into(), ..row() }, vec![], "2026-11-22T10:30:00Z")
    }

    #[test]
    fn unacknowledged_after_an_hour_says_to_call_cfcs() {
        let clocks = legal(&row(), vec![], "2026-11-22T10:30:00Z");
        let early = items(&row(), at("2026-11-22T10:30:00Z"), Duration::hours(1), &clocks, PHONE);
        assert!(!early[0].overdue);
        let late = items(&row(), at("2026-11-22T11:01:00Z"), Duration::hours(1), &clocks, PHONE);
        assert!(late[0].overdue && late[0].action.contains(PHONE));
        let mut acked = row();
        acked.acknowledged = true;
        assert!(
            items(&acked, at("2026-11-22T11:01:00Z"), Duration::hours(1), &clocks, PHONE).iter().all(|i| i.kind != Kind::Acknowledgement)
        );
    }

    #[test]
    fn each_stage_is_an_item_and_a_filing_clears_only_its_own() {
        let now = "2026-11-23T09:00:00Z";
        let list = items(&row(), at(now), Duration::hours(1), &legal(&row(), vec![], now), PHONE);
        let stage = |list: &[Item], stage: StageId| {
            list.iter().find(|i| matches!(&i.kind, Kind::LegalStage { stage: s, .. } if *s == stage)).cloned()
        };
        let early = stage(&list, StageId::EarlyWarning).unwrap();
        assert_eq!(early.due.map(stamp).as_deref(), Some("2026-11-23 09:00 (UTC+01:00)"));
        assert!(
            matches!(&early.kind, Kind::LegalStage { name, since, .. } if name == "early warning" && *since == at("2026-11-22T08:00:00Z"))
        );
        assert!(early.overdue && early.action.contains("--stage early-warning --regime nis2"), "{early:?}");
        assert!(!stage(&list, StageId::Notification).unwrap().overdue);
        assert!(stage(&list, StageId::Final).unwrap().what.contains("its clock starts when the notification is filed"));
        let filed = vec![Recorded { regime: Some(RegimeId::Nis2), stage: Some(StageId::EarlyWarning), at: at("2026-11-22T20:00:00Z") }];
        let list = items(&row(), at(now), Duration::hours(1), &legal(&row(), filed, now), PHONE);
        assert!(stage(&list, StageId::EarlyWarning).is_none() && stage(&list, StageId::Notification).is_some());
        // Detection not known: the clocks count from the recording, and it says so.
        let unknown = StatusRow { detected_at: None, ..row() };
        let list = items(&unknown, at(now), Duration::hours(1), &legal(&unknown, vec![], now), PHONE);
        assert!(stage(&list, StageId::Notification).unwrap().what.contains("detection time is not known"));
    }

    #[test]
    fn an_unanswered_question_is_listed_with_how_to_answer_it() {
        let asked = StatusRow {
            unanswered_question_at: Some("2026-11-22T10:20:00.000Z".into()),
            unanswered_question_signature: Some("good".into()),
            ..row()
        };
        let list = items(&asked, at("2026-11-22T10:30:00Z"), Duration::hours(1), &none(), PHONE);
        let q = list.iter().find(|i| i.what.contains("question")).unwrap();
        assert!(q.what.contains("2026-11-22 11:20 (UTC+01:00)") && !q.what.contains("confirm"), "{}", q.what);
        assert!(q.what.starts_with("the CERT asked a question") && q.what.contains("waiting for your answer"), "{}", q.what);
        assert!(q.action.contains("--follow-up CM-2026-0001"));
        // Unsigned mail is never listed as the CERT's question: it is an unverified message.
        let unsigned = StatusRow { unverified: 1, ..row() };
        let list = items(&unsigned, at("2026-11-22T10:30:00Z"), Duration::hours(1), &none(), PHONE);
        assert!(list.iter().all(|i| !i.what.contains("question")));
        assert!(list.iter().any(|i| i.what.contains("not signed by the CERT") && i.action.contains("certmail read CM-2026-0001")));
        assert!(items(&row(), at("2026-11-22T10:30:00Z"), Duration::hours(1), &none(), PHONE).iter().all(|i| !i.what.contains("question")));
    }

    #[test]
    fn a_failed_delivery_says_to_call() {
        let failed = StatusRow { failed: 1, ..row() };
        assert!(items(&failed, at("2026-11-22T10:01:00Z"), Duration::hours(1), &none(), PHONE)[0].action.contains(PHONE));
    }
}
