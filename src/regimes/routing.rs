//! Where the law sends an incident's report, said before the e-mail goes: when no
//! regime of the incident has CFCS receive it (a personal data breach: Datatilsynet;
//! the telecom route: Erhvervsstyrelsen; DORA: Finanstilsynet), the legal report goes
//! via Virk.dk to the authority the table names and the e-mail is voluntary; and each
//! regime's reminder (public authorities: CFCS' FIIN address). Words and authorities
//! come from the table; nothing here blocks sending. Pure.

use chrono::{DateTime, Utc};

use super::{Regime, RegimeId, Table, select};
use crate::incident::{Incident, Schemes};
use crate::warnings::{Warning, WarningKind};

/// The regimes of an incident as its file describes it: its schemes, its known
/// detection time (else `recorded`, when the clocks start) and its personal data route.
pub fn regimes_of(table: &Table, incident: &Incident, recorded: DateTime<Utc>) -> Vec<Regime> {
    let detected = incident.detected_at();
    let facts = select::Facts {
        awareness: detected.unwrap_or(recorded),
        personal_data_to: incident.personal_data.as_ref().and_then(|p| p.report_to),
    };
    let schemes = incident.scheme.as_ref().map(Schemes::list).unwrap_or_default();
    let ids: Vec<RegimeId> = select::regimes(&schemes, &facts);
    ids.iter().filter_map(|id| table.get(*id).cloned()).collect()
}

/// What to say before sending an incident under `regimes` to `recipients` (their
/// display names).
pub fn warnings(regimes: &[Regime], recipients: &[&str]) -> Vec<Warning> {
    let mut out = Vec::new();
    if !regimes.is_empty() && !regimes.iter().any(|r| r.cfcs) {
        let to = match recipients {
            [] => "the CERT".to_string(),
            names => names.join(" and "),
        };
        for r in regimes {
            out.push(Warning::new(
                WarningKind::Routing,
                format!(
                    "the legal report under {} ({}) goes via Virk.dk to {}; CFCS does not receive it. This e-mail to {to} is voluntary, operational information and does not make that report: file it on Virk.dk too",
                    r.name.en, r.basis.en, r.authority.en
                ),
            ));
        }
    }
    for r in regimes {
        if let Some(reminder) = &r.reminder {
            out.push(Warning::new(WarningKind::Reminder, reminder.en.clone()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn regimes(ids: &[RegimeId]) -> Vec<Regime> {
        let t = Table::embedded();
        ids.iter().map(|id| t.get(*id).unwrap().clone()).collect()
    }

    #[test]
    fn a_report_cfcs_does_not_receive_is_said_with_its_authority() {
        let w = warnings(&regimes(&[RegimeId::Gdpr]), &["CFCS Netsikkerhedstjenesten"]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, WarningKind::Routing);
        for said in ["via Virk.dk", "Datatilsynet", "voluntary", "CFCS does not receive it", "to CFCS Netsikkerhedstjenesten"] {
            assert!(w[0].message.contains(said), "{said}: {}", w[0].message);
        }
        let both = warnings(&regimes(&[RegimeId::GdprTelecom, RegimeId::Dora]), &[]);
        assert!(both[0].message.contains("Erhvervsstyrelsen") && both[1].message.contains("Finanstilsynet"), "{both:?}");
    }

    #[test]
    fn a_report_cfcs_receives_is_not_warned_about_and_public_authorities_hear_of_fiin() {
        assert!(warnings(&regimes(&[RegimeId::Nis2, RegimeId::Gdpr]), &["x"]).is_empty());
        assert!(warnings(&regimes(&[RegimeId::Voluntary]), &["x"]).is_empty());
        let w = warnings(&regimes(&[RegimeId::PublicAuthority]), &["x"]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].kind, WarningKind::Reminder);
        assert!(w[0].message.contains("FIIN: FE-KTP-MILCERT"), "{}", w[0].message);
    }
}
