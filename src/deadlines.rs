//! What an open incident waits for, and by when: delivery, the CERT's
//! acknowledgement, and the legal clocks of its scheme counted from detection
//! (NIS2: early warning 24 h, notification 72 h, final report one month; GDPR: 72 h).
//! Pure: the log's facts and `now` in, items out. Each item says what it is (a
//! [`Kind`]), so `status`, the hooks and whatever computes the clocks later agree on
//! it without reading its words.

use chrono::{DateTime, Duration, Utc};
use serde::{Serialize, Serializer};

use crate::config::SchemeClocks;
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
    /// A stage of a legal clock (`name`: "early warning", ...), counted from `since`.
    LegalStage { name: String, since: DateTime<Utc> },
}

/// One thing an incident waits for.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// Not in `status --json` (its `what` says it in words).
    #[serde(skip)]
    pub kind: Kind,
    pub what: String,
    /// When it is due; none for things due now. Shown as `stamp` shows it.
    #[serde(serialize_with = "due_text")]
    pub due: Option<DateTime<Utc>>,
    pub overdue: bool,
    /// What to do about it.
    pub action: String,
}

fn due_text<S: Serializer>(due: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    due.map(stamp).serialize(s)
}

/// The legal clocks of a scheme in hours after detection: (name, hours).
pub fn legal_clocks(scheme: &str, configured: Option<&SchemeClocks>) -> Vec<(&'static str, u64)> {
    let defaults: &[(&str, u64)] = match scheme {
        "nis-operator" | "digital-service-provider" => &[("early warning", 24), ("notification", 72), ("final report", 30 * 24)],
        "personal-data" => &[("notification to the supervisory authority (GDPR art. 33)", 72)],
        _ => &[],
    };
    let Some(c) = configured else { return defaults.to_vec() };
    let mut clocks = Vec::new();
    for (name, hours) in defaults {
        let set = match *name {
            "early warning" => c.early_warning_hours,
            "final report" => c.final_report_hours,
            _ => c.notification_hours,
        };
        clocks.push((*name, set.unwrap_or(*hours)));
    }
    if defaults.is_empty() {
        // Schemes without a legal clock can be given one by the operator.
        for (name, value) in
            [("early warning", c.early_warning_hours), ("notification", c.notification_hours), ("final report", c.final_report_hours)]
        {
            if let Some(h) = value {
                clocks.push((name, h));
            }
        }
    }
    clocks
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// A due time as `status` shows it.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// The items of one open incident at `now`; `phone` is the CERT's (its recipient's).
pub fn items(row: &StatusRow, now: DateTime<Utc>, ack_timeout: Duration, clocks: &[(&str, u64)], phone: &str) -> Vec<Item> {
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
    let detected = row.detected_at.as_deref().and_then(parse).or_else(|| parse(&row.created_at));
    if let Some(detected) = detected {
        for (name, hours) in clocks {
            // The Virk.dk filing covers the early warning and the notification; the
            // final report stays until the incident is closed.
            if row.virk_filed && *name != "final report" {
                continue;
            }
            let due = detected + Duration::hours(*hours as i64);
            items.push(Item {
                kind: Kind::LegalStage { name: name.to_string(), since: detected },
                what: format!("{name} via Virk.dk ({hours} h after detection)"),
                due: Some(due),
                overdue: now > due,
                action: "file it on Virk.dk, then `certmail incident virk REF --reference ...`".into(),
            });
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

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
        }
    }

    fn at(t: &str) -> DateTime<Utc> {
        parse(t).unwrap()
    }

    #[test]
    fn unacknowledged_after_an_hour_says_to_call_cfcs() {
        let clocks = legal_clocks("nis-operator", None);
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
    fn nis_clocks_count_from_detection_and_virk_filing_covers_the_notifications() {
        let clocks = legal_clocks("nis-operator", None);
        let list = items(&row(), at("2026-11-23T09:00:00Z"), Duration::hours(1), &clocks, PHONE);
        let stage =
            |list: &[Item], stage: &str| list.iter().find(|i| matches!(&i.kind, Kind::LegalStage { name, .. } if name == stage)).cloned();
        let early = stage(&list, "early warning").unwrap();
        assert_eq!(early.due.map(stamp).as_deref(), Some("2026-11-23 08:00 UTC"));
        assert_eq!(early.kind, Kind::LegalStage { name: "early warning".into(), since: at("2026-11-22T08:00:00Z") });
        assert!(early.overdue);
        let notification = stage(&list, "notification").unwrap();
        assert!(!notification.overdue);
        let mut filed = row();
        filed.virk_filed = true;
        let list = items(&filed, at("2026-11-23T09:00:00Z"), Duration::hours(1), &clocks, PHONE);
        assert!(stage(&list, "early warning").is_none() && stage(&list, "notification").is_none());
        assert!(stage(&list, "final report").is_some());
    }

    #[test]
    fn an_unanswered_question_is_listed_with_how_to_answer_it() {
        let asked = StatusRow {
            unanswered_question_at: Some("2026-11-22T10:20:00.000Z".into()),
            unanswered_question_signature: Some("good".into()),
            ..row()
        };
        let list = items(&asked, at("2026-11-22T10:30:00Z"), Duration::hours(1), &[], PHONE);
        let q = list.iter().find(|i| i.what.contains("question")).unwrap();
        assert!(q.what.contains("2026-11-22 10:20 UTC") && !q.what.contains("confirm"), "{}", q.what);
        assert!(q.what.starts_with("the CERT asked a question") && q.what.contains("waiting for your answer"), "{}", q.what);
        assert!(q.action.contains("--follow-up CM-2026-0001"));
        // Unsigned mail is never listed as the CERT's question: it is an unverified message.
        let unsigned = StatusRow { unverified: 1, ..row() };
        let list = items(&unsigned, at("2026-11-22T10:30:00Z"), Duration::hours(1), &[], PHONE);
        assert!(list.iter().all(|i| !i.what.contains("question")));
        assert!(list.iter().any(|i| i.what.contains("not signed by the CERT") && i.action.contains("certmail read CM-2026-0001")));
        assert!(items(&row(), at("2026-11-22T10:30:00Z"), Duration::hours(1), &[], PHONE).iter().all(|i| !i.what.contains("question")));
    }

    #[test]
    fn configured_clocks_replace_the_defaults() {
        let c = SchemeClocks { early_warning_hours: None, notification_hours: Some(48), final_report_hours: None };
        assert_eq!(legal_clocks("personal-data", Some(&c))[0].1, 48);
        assert_eq!(legal_clocks("voluntary", None), vec![]);
        assert_eq!(legal_clocks("voluntary", Some(&c)), vec![("notification", 48)]);
        let failed = StatusRow { failed: 1, ..row() };
        assert!(items(&failed, at("2026-11-22T10:01:00Z"), Duration::hours(1), &[], PHONE)[0].action.contains(PHONE));
    }
}
