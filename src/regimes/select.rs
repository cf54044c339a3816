//! Which regimes an incident is reported under: its schemes (the Virk.dk form's
//! choices), when it was detected (the 2018 NIS law for incidents before 1 July 2025)
//! and the personal data route. Pure.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Copenhagen;

use super::RegimeId;
use crate::incident::Scheme;
use crate::incident::choices::PersonalDataAuthority;

/// The first day the Danish NIS2 act's duty to notify applies (Danish time).
pub fn nis2_from() -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(2025, 7, 1).expect("a date").and_hms_opt(0, 0, 0).expect("midnight");
    Copenhagen.from_local_datetime(&day).single().expect("1 July 2025 00:00 is one instant").with_timezone(&Utc)
}

/// What selects an incident's regimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts {
    /// When its clocks start (detection, or when it was recorded).
    pub awareness: DateTime<Utc>,
    /// The personal data route the form chose (Datatilsynet when not said).
    pub personal_data_to: Option<PersonalDataAuthority>,
}

/// The regime a scheme maps to for an incident.
pub fn regime(scheme: Scheme, facts: &Facts) -> RegimeId {
    let nis2 = facts.awareness >= nis2_from();
    match scheme {
        Scheme::NisOperator if nis2 => RegimeId::Nis2,
        Scheme::NisOperator => RegimeId::Nis2018Oes,
        Scheme::DigitalServiceProvider if nis2 => RegimeId::Nis2,
        Scheme::DigitalServiceProvider => RegimeId::Nis2018Dsp,
        Scheme::PersonalData => match facts.personal_data_to {
            Some(PersonalDataAuthority::Erhvervsstyrelsen) => RegimeId::GdprTelecom,
            _ => RegimeId::Gdpr,
        },
        Scheme::Financial => RegimeId::Dora,
        Scheme::PublicAuthority => RegimeId::PublicAuthority,
        Scheme::Voluntary => RegimeId::Voluntary,
    }
}

/// The regimes of an incident's schemes, in the order given, each once (an operator
/// that is also a digital service provider reports once under NIS2).
pub fn regimes(schemes: &[Scheme], facts: &Facts) -> Vec<RegimeId> {
    let mut out = Vec::new();
    for s in schemes {
        let r = regime(*s, facts);
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(t: &str) -> Facts {
        Facts { awareness: DateTime::parse_from_rfc3339(t).unwrap().with_timezone(&Utc), personal_data_to: None }
    }

    #[test]
    fn incidents_before_july_2025_keep_the_2018_law() {
        assert_eq!(regime(Scheme::NisOperator, &facts("2025-06-30T23:59:00+02:00")), RegimeId::Nis2018Oes);
        assert_eq!(regime(Scheme::NisOperator, &facts("2025-07-01T00:00:00+02:00")), RegimeId::Nis2);
        assert_eq!(regime(Scheme::DigitalServiceProvider, &facts("2024-01-01T00:00:00Z")), RegimeId::Nis2018Dsp);
    }

    #[test]
    fn one_incident_several_regimes() {
        let f = facts("2026-11-20T08:00:00+01:00");
        let list = regimes(&[Scheme::NisOperator, Scheme::PersonalData, Scheme::DigitalServiceProvider], &f);
        assert_eq!(list, vec![RegimeId::Nis2, RegimeId::Gdpr]);
        let telecom = Facts { personal_data_to: Some(PersonalDataAuthority::Erhvervsstyrelsen), ..f };
        assert_eq!(regimes(&[Scheme::PersonalData], &telecom), vec![RegimeId::GdprTelecom]);
        assert_eq!(regimes(&[Scheme::Financial], &f), vec![RegimeId::Dora]);
    }
}
