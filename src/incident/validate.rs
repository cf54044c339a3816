//! Validation of an incident per scheme: what every report needs, what each scheme's
//! rules add, and consistency between fields. Pure: time is a parameter.
//!
//! Every problem names the field path as written in the file and what is expected,
//! and all problems are reported at once so a responder fixes the file in one go.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::choices::*;
use super::contact::{Cvr, Phone, canonical_cvr, canonical_phone, cvr_doubt};
use super::model::*;

/// One thing wrong with an incident file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Field path as in the file, e.g. `nis.duration`.
    pub path: String,
    /// What is expected there.
    pub expected: String,
    pub kind: ProblemKind,
}

/// Whether something is missing (what `new` marks required and the schema requires)
/// or is there but wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// Not given; any one of `or` would also do (`description.nature-other` for
    /// `description.nature`).
    Missing {
        or: &'static [&'static str],
    },
    Invalid,
}

struct Checker {
    scheme_key: &'static str,
    problems: Vec<Problem>,
}

impl Checker {
    fn problem(&mut self, path: &str, expected: impl Into<String>) {
        self.problems.push(Problem { path: path.to_string(), expected: expected.into(), kind: ProblemKind::Invalid });
    }

    fn missing(&mut self, path: &str, or: &'static [&'static str], expected: impl Into<String>) {
        self.problems.push(Problem { path: path.to_string(), expected: expected.into(), kind: ProblemKind::Missing { or } });
    }

    /// Requires a non-empty text; `why` says which rule asks for it.
    fn text(&mut self, path: &str, value: Option<&String>, why: &str) {
        if value.is_none_or(|v| v.trim().is_empty()) {
            self.missing(path, &[], format!("required for scheme \"{}\": {why}", self.scheme_key));
        }
    }

    fn present<T>(&mut self, path: &str, value: Option<&T>, why: &str) {
        if value.is_none() {
            self.missing(path, &[], format!("required for scheme \"{}\": {why}", self.scheme_key));
        }
    }

    fn non_empty<T>(&mut self, path: &str, values: &[T], why: &str) {
        if values.is_empty() {
            self.missing(path, &[], format!("required for scheme \"{}\": at least one choice: {why}", self.scheme_key));
        }
    }
}

/// Checks an incident (after the identity has filled the reporter) at time `now`.
pub fn validate(incident: &Incident, now: DateTime<Utc>) -> Vec<Problem> {
    let schemes = incident.scheme.as_ref().map(Schemes::list).unwrap_or_default();
    let Some(first) = schemes.first() else {
        let keys: Vec<_> = Scheme::OPTIONS.iter().map(|o| o.0).collect();
        let expected = format!("required: one of {}, or a list of them", keys.join(", "));
        return vec![Problem { path: "scheme".into(), expected, kind: ProblemKind::Missing { or: &[] } }];
    };
    let mut c = Checker { scheme_key: first.key(), problems: Vec::new() };
    common(&mut c, incident, now);
    // Each scheme's own rules, each problem once (two schemes may ask for one field).
    for scheme in &schemes {
        c.scheme_key = scheme.key();
        match scheme {
            Scheme::NisOperator => nis_operator(&mut c, incident),
            Scheme::DigitalServiceProvider => digital_service_provider(&mut c, incident),
            Scheme::PublicAuthority => public_authority(&mut c, incident),
            Scheme::Voluntary => {}
            Scheme::PersonalData => personal_data(&mut c, incident),
            Scheme::Financial => financial(&mut c, incident),
        }
    }
    let mut seen = std::collections::HashSet::new();
    c.problems.retain(|p| seen.insert(p.path.clone()));
    c.problems
}

fn common(c: &mut Checker, i: &Incident, now: DateTime<Utc>) {
    match i.title.as_deref().map(str::trim) {
        None | Some("") => c.missing("title", &[], "required: one line summing the incident up"),
        Some(t) if t.contains(['\r', '\n']) => c.problem("title", "one line (no line breaks)"),
        Some(t) if t.chars().count() > 200 => c.problem("title", "at most 200 characters"),
        _ => {}
    }
    if let Some(e) = &i.elaboration
        && e.is_elaboration
    {
        c.text("elaboration.earlier-reference", e.earlier_reference.as_ref(), "the reference of the earlier report");
    }
    let r = i.reporter.clone().unwrap_or_default();
    c.text("reporter.organisation", r.organisation.as_ref(), "the reporting organisation (or set [identity] in the config)");
    c.text("reporter.contact-name", r.contact_name.as_ref(), "the contact person");
    c.text("reporter.email", r.email.as_ref(), "the contact person's e-mail");
    c.text("reporter.phone", r.phone.as_ref(), "a phone number the CERT can call back");
    c.text("reporter.cvr", r.cvr.as_ref(), "the organisation's CVR number");
    if let Some(cvr) = &r.cvr
        && !cvr.trim().is_empty()
        && Cvr::parse(cvr).is_none()
    {
        c.problem("reporter.cvr", cvr_expected(cvr));
    }
    c.problems.extend(super::indicator::problems(&i.indicators));
    check_email(c, "reporter.email", r.email.as_ref());
    check_phone(c, "reporter.phone", r.phone.as_ref(), r.foreign_phone.unwrap_or(false));
    if let Some(b) = &i.on_behalf_of {
        c.text("on-behalf-of.organisation", b.organisation.as_ref(), "whom the report is made for");
        if let Some(cvr) = &b.cvr
            && Cvr::parse(cvr).is_none()
        {
            c.problem("on-behalf-of.cvr", cvr_expected(cvr));
        }
    }

    let d = i.description.clone().unwrap_or_default();
    c.text("description.what-happened", d.what_happened.as_ref(), "what happened (\"Beskriv hændelsen\")");
    if d.nature.is_empty() && d.nature_other.is_none() {
        c.missing("description.nature", &["description.nature-other"], "at least one nature of the incident, or description.nature-other");
    }
    exclusive(c, "description.nature", &d.nature, &[Nature::Unknown]);
    if matches!(d.location, Some(LocationKind::Address | LocationKind::Other)) {
        c.text("description.location-details", d.location_details.as_ref(), "the address or the other location");
    }
    if let Some(t) = &i.technology {
        exclusive(c, "technology.it-equipment", &t.it_equipment, &[ItEquipment::Unknown]);
        exclusive(c, "technology.communication", &t.communication, &[Communication::Unknown]);
        exclusive(c, "technology.data-transfer", &t.data_transfer, &[DataTransfer::Unknown]);
    }

    let t = i.timeline.clone().unwrap_or_default();
    c.present("timeline.detected", t.detected.as_ref(), "when the incident was detected; deadlines count from it");
    let start = time_point(c, "timeline.start", t.start.as_ref(), false, now);
    let end = time_point(c, "timeline.end", t.end.as_ref(), true, now);
    let detected = time_point(c, "timeline.detected", t.detected.as_ref(), false, now);
    time_point(c, "timeline.classified", t.classified.as_ref(), false, now);
    if let (Some(s), Some(e)) = (start, end)
        && e < s
    {
        c.problem("timeline.end", "not before timeline.start");
    }
    if let (Some(s), Some(d)) = (start, detected)
        && d < s
    {
        c.problem("timeline.detected", "not before timeline.start");
    }

    if let Some(p) = &i.processors
        && p.involved == Some(YesNoUnknown::Yes)
    {
        c.text("processors.details", p.details.as_ref(), "which processors are involved");
    }
    if let Some(dpo) = &i.dpo {
        if dpo.appointed == Some(YesNoUnknown::Yes) {
            c.text("dpo.name", dpo.name.as_ref(), "the data protection officer's name");
            c.text("dpo.email", dpo.email.as_ref(), "the data protection officer's e-mail");
        }
        check_email(c, "dpo.email", dpo.email.as_ref());
        check_phone(c, "dpo.phone", dpo.phone.as_ref(), dpo.foreign_phone.unwrap_or(false));
    }
    if let Some(s) = &i.scope {
        exclusive(c, "scope.affected", &s.affected, &[AffectedGroup::NotYetKnown]);
        if s.total.is_some() && s.is_estimate.is_none() {
            c.problem("scope.is-estimate", "true or false: is scope.total an estimate?");
        }
    }
    if let Some(x) = &i.cross_border {
        exclusive(c, "cross-border.foreign-affected", &x.foreign_affected, &[AffectedGroup::NotYetKnown]);
    }
    if let Some(k) = &i.consequences {
        exclusive(c, "consequences.confidentiality", &k.confidentiality, &[ConfidentialityConsequence::None]);
        exclusive(c, "consequences.integrity", &k.integrity, &[IntegrityConsequence::None]);
        exclusive(c, "consequences.availability", &k.availability, &[AvailabilityConsequence::None]);
        exclusive(c, "consequences.authenticity", &k.authenticity, &[AuthenticityConsequence::None]);
        exclusive(c, "consequences.persons", &k.persons, &[PersonConsequence::None]);
    }
    if let Some(h) = &i.handling
        && h.taken_by.contains(&MeasuresTakenBy::Others)
    {
        c.text("handling.taken-by-others", h.taken_by_others.as_ref(), "who the others taking measures are");
    }
    if let Some(s) = &i.data_subjects {
        if matches!(s.notified, Some(SubjectsNotified::Partially | SubjectsNotified::All)) {
            c.present("data-subjects.count", s.count.as_ref(), "how many persons were notified");
        }
        time_point(c, "data-subjects.when", s.when.as_ref(), false, now);
        if s.public_informed == Some(true) {
            c.text("data-subjects.public-informed-how", s.public_informed_how.as_ref(), "how and how widely the public was informed");
        }
    }
}

fn nis_operator(c: &mut Checker, i: &Incident) {
    let n = i.nis.clone().unwrap_or_default();
    c.present("nis.sector", n.sector.as_ref(), "the operator's sector");
    c.text("nis.service", n.service.as_ref(), "the essential service affected (NIS law § 5, stk. 1)");
    c.present("nis.users-affected", n.users_affected.as_ref(), "number of users affected (§ 5, stk. 2, nr. 1)");
    c.text("nis.duration", n.duration.as_ref(), "the incident's duration (§ 5, stk. 2, nr. 2)");
    c.text("nis.geographic-spread", n.geographic_spread.as_ref(), "the area affected (§ 5, stk. 2, nr. 3)");
    if n.third_party_provider.is_some() {
        c.text(
            "nis.third-party-consequences",
            n.third_party_consequences.as_ref(),
            "consequences of the provider's incident for the service (§ 5, stk. 3)",
        );
    }
    let x = i.cross_border.clone().unwrap_or_default();
    c.present(
        "cross-border.services-in-other-countries",
        x.services_in_other_countries.as_ref(),
        "true or false: cross-border consequences (§ 5, stk. 1)",
    );
    let t = i.timeline.clone().unwrap_or_default();
    c.present("timeline.start", t.start.as_ref(), "when the incident started");
}

fn digital_service_provider(c: &mut Checker, i: &Incident) {
    let n = i.nis.clone().unwrap_or_default();
    c.text("nis.service", n.service.as_ref(), "the digital service affected (NIS law § 9, stk. 1)");
    c.present("nis.users-affected", n.users_affected.as_ref(), "number of users affected (§ 9, stk. 2, nr. 1)");
    c.text("nis.duration", n.duration.as_ref(), "the incident's duration (§ 9, stk. 2, nr. 2)");
    c.text("nis.geographic-spread", n.geographic_spread.as_ref(), "the area affected (§ 9, stk. 2, nr. 3)");
    c.text(
        "nis.extent-of-disruption",
        n.extent_of_disruption.as_ref(),
        "how far the service's functioning is disrupted (§ 9, stk. 2, nr. 4)",
    );
    c.text(
        "nis.economic-and-societal-impact",
        n.economic_and_societal_impact.as_ref(),
        "impact on economic and societal activities (§ 9, stk. 2, nr. 5)",
    );
    let x = i.cross_border.clone().unwrap_or_default();
    c.present(
        "cross-border.services-in-other-countries",
        x.services_in_other_countries.as_ref(),
        "true or false: cross-border consequences (§ 9, stk. 1)",
    );
}

fn public_authority(c: &mut Checker, i: &Incident) {
    let t = i.timeline.clone().unwrap_or_default();
    c.present("timeline.start", t.start.as_ref(), "when the incident started");
    let h = i.handling.clone().unwrap_or_default();
    c.text("handling.measures", h.measures.as_ref(), "the measures taken so far");
}

fn financial(c: &mut Checker, i: &Incident) {
    let t = i.timeline.clone().unwrap_or_default();
    c.present("timeline.start", t.start.as_ref(), "when the incident started");
    let h = i.handling.clone().unwrap_or_default();
    c.text("handling.measures", h.measures.as_ref(), "the measures taken so far");
}

fn personal_data(c: &mut Checker, i: &Incident) {
    let p = i.personal_data.clone().unwrap_or_default();
    c.present("personal-data.report-to", p.report_to.as_ref(), "datatilsynet or erhvervsstyrelsen");
    c.present("personal-data.unauthorised-disclosure", p.unauthorised_disclosure.as_ref(), "true or false");
    c.present("personal-data.unauthorised-access", p.unauthorised_access.as_ref(), "true or false");
    c.present("personal-data.alteration", p.alteration.as_ref(), "true or false");
    c.present("personal-data.destruction", p.destruction.as_ref(), "true or false");
    c.present("personal-data.loss", p.loss.as_ref(), "true or false");
    if p.categories.is_empty() && p.categories_other.is_none() {
        c.missing(
            "personal-data.categories",
            &["personal-data.categories-other"],
            "at least one category of personal data, or personal-data.categories-other",
        );
    }
    exclusive(c, "personal-data.categories", &p.categories, &[PersonalDataCategory::NotYetKnown]);
    let s = i.scope.clone().unwrap_or_default();
    c.non_empty("scope.affected", &s.affected, "who is affected");
    c.present("scope.total", s.total.as_ref(), "how many persons are affected");
    let x = i.cross_border.clone().unwrap_or_default();
    c.present("cross-border.persons-in-other-countries", x.persons_in_other_countries.as_ref(), "true or false");
    let k = i.consequences.clone().unwrap_or_default();
    if k.confidentiality.is_empty()
        && k.integrity.is_empty()
        && k.availability.is_empty()
        && k.authenticity.is_empty()
        && k.persons.is_empty()
    {
        c.missing(
            "consequences",
            &[
                "consequences.confidentiality",
                "consequences.integrity",
                "consequences.availability",
                "consequences.authenticity",
                "consequences.persons",
            ],
            "at least one likely consequence (confidentiality, integrity, availability, authenticity or persons)",
        );
    }
    let h = i.handling.clone().unwrap_or_default();
    c.text("handling.measures", h.measures.as_ref(), "the measures taken");
    let d = i.data_subjects.clone().unwrap_or_default();
    c.present("data-subjects.notified", d.notified.as_ref(), "whether the persons affected are notified");
    let dpo = i.dpo.clone().unwrap_or_default();
    c.present("dpo.appointed", dpo.appointed.as_ref(), "yes, no or unknown");
    let t = i.timeline.clone().unwrap_or_default();
    c.present("timeline.start", t.start.as_ref(), "when the breach started");
    // Whether the report is late depends on its stage's deadline and what was filed,
    // which the log knows: `notify` asks for timeline.late-reason then (see regimes).
}

/// Checks a time point; returns its instant when known and valid.
fn time_point(c: &mut Checker, path: &str, point: Option<&TimePoint>, is_end: bool, now: DateTime<Utc>) -> Option<DateTime<FixedOffset>> {
    let p = point?;
    match p.status {
        TimeKnowledge::Known => match p.at.as_deref() {
            None => c.problem(
                &format!("{path}.at"),
                "a date and time (RFC 3339 with offset, e.g. 2026-11-20T08:15:00+01:00) since status is \"known\"",
            ),
            Some(at) => match DateTime::parse_from_rfc3339(at) {
                Err(_) => c.problem(
                    &format!("{path}.at"),
                    format!("a date and time in RFC 3339 with offset, e.g. 2026-11-20T08:15:00+01:00, not {at:?}"),
                ),
                // Five minutes of slack for clocks that disagree a little.
                Ok(t) if t.with_timezone(&Utc) > now + Duration::minutes(5) => {
                    c.problem(&format!("{path}.at"), format!("a time in the past, not {at}"))
                }
                Ok(t) => return Some(t),
            },
        },
        TimeKnowledge::Other => {
            if p.details.as_deref().is_none_or(|d| d.trim().is_empty()) {
                c.problem(&format!("{path}.details"), "a description, since status is \"other\"");
            }
            unused_at(c, path, p, now);
        }
        TimeKnowledge::NotEnded if !is_end => {
            c.problem(&format!("{path}.status"), "known, other or unknown (\"not-ended\" is for timeline.end only)")
        }
        TimeKnowledge::NotEnded | TimeKnowledge::Unknown => unused_at(c, path, p, now),
    }
    None
}

/// An `at` given with a status other than "known" is not used for the clocks, but a
/// report still shows it: it must be a valid time in the past too.
fn unused_at(c: &mut Checker, path: &str, p: &TimePoint, now: DateTime<Utc>) {
    let Some(at) = p.at.as_deref() else { return };
    match DateTime::parse_from_rfc3339(at) {
        Err(_) => c.problem(
            &format!("{path}.at"),
            format!("a date and time in RFC 3339 with offset, e.g. 2026-11-20T08:15:00+01:00, not {at:?} (or leave `at` out)"),
        ),
        Ok(t) if t.with_timezone(&Utc) > now + Duration::minutes(5) => {
            c.problem(&format!("{path}.at"), format!("a time in the past, not {at}"))
        }
        Ok(_) => {}
    }
}

/// Options like "unknown" or "none of the above" cannot stand next to other options.
fn exclusive<T: PartialEq + Copy>(c: &mut Checker, path: &str, values: &[T], alone: &[T]) {
    if values.len() > 1 && values.iter().any(|v| alone.contains(v)) {
        c.problem(path, "\"unknown\", \"not-yet-known\" or \"none\" cannot be combined with other choices");
    }
}

fn cvr_expected(cvr: &str) -> String {
    format!("a CVR number of 8 digits, not {cvr:?} (spaces and a DK prefix are fine)")
}

fn check_email(c: &mut Checker, path: &str, value: Option<&String>) {
    let Some(v) = value.filter(|v| !v.trim().is_empty()) else { return };
    if !is_plain_address(v) {
        c.problem(path, format!("an e-mail address like name@example.dk, not {v:?}"));
    }
}

/// A conservative address check: one @, a dotted domain, no spaces or header syntax.
pub fn is_plain_address(v: &str) -> bool {
    let Some((local, domain)) = v.split_once('@') else { return false };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && v.chars().all(|ch| ch.is_ascii_graphic() && !"<>()[]\\,;:\"@".contains(ch) || ch == '@')
        && !domain.contains('@')
}

fn check_phone(c: &mut Checker, path: &str, value: Option<&String>, foreign: bool) {
    let Some(v) = value.filter(|v| !v.trim().is_empty()) else { return };
    if let Err(expected) = Phone::parse(v, foreign) {
        c.problem(path, expected);
    }
}

/// The identity's contact details as `init` keeps them: in their one form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contact {
    pub cvr: String,
    pub phone: Option<String>,
    /// Why the CVR is doubted (its check digits fail), if it is.
    pub cvr_doubt: Option<String>,
}

/// Checks the identity's contact details as `init` receives them (`foreign`: the
/// phone is not Danish), and gives them in their one form.
pub fn validate_contact(email: &str, cvr: &str, phone: Option<&str>, foreign: bool) -> Result<Contact, String> {
    let mut c = Checker { scheme_key: "", problems: Vec::new() };
    check_email(&mut c, "--email", Some(&email.to_string()));
    if Cvr::parse(cvr).is_none() {
        c.problem("--cvr", cvr_expected(cvr));
    }
    check_phone(&mut c, "--phone", phone.map(str::to_string).as_ref(), foreign);
    match c.problems.first() {
        None => Ok(Contact { cvr: canonical_cvr(cvr), phone: phone.map(|p| canonical_phone(p, foreign)), cvr_doubt: cvr_doubt(cvr) }),
        Some(p) => Err(format!("{}: {}", p.path, p.expected)),
    }
}
