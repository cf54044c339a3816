//! The incident as an input file describes it: the sections of the joint Virk.dk
//! incident form, in the form's order, plus the NIS law's criteria (§ 5 and § 9).
//!
//! Field names are kebab-case in TOML and JSON; unknown fields are rejected so a typo
//! never silently drops information from a report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Language;
use super::choices::*;

/// An incident file. Only `scheme`, `title` and what the scheme requires are needed;
/// everything given is reported.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Incident {
    /// The notification scheme, or a list of them when one incident is reported under
    /// several (each with its own authority, stages and clocks).
    pub scheme: Option<Schemes>,
    /// One line summing the incident up (used in the encrypted Subject).
    pub title: Option<String>,
    /// Language of the report ("da" or "en"); default from the configuration.
    pub language: Option<Language>,
    /// The TLP marking of the report ("TLP:AMBER", …), its first line; only inside the
    /// encryption, never in the cleartext subject.
    pub tlp: Option<Tlp>,
    /// "Er dette en uddybning af en tidligere anmeldelse?"
    pub elaboration: Option<Elaboration>,
    /// "Oplysninger om indberetter"; missing fields come from `[identity]` in the config.
    pub reporter: Option<Reporter>,
    /// "Indberetter du på en andens vegne?"
    pub on_behalf_of: Option<OnBehalfOf>,
    /// "Hændelse vedrørende persondata": recipient authority and type of breach.
    pub personal_data: Option<PersonalData>,
    /// "Årsag til hændelsen / hvad er der sket", location and nature.
    pub description: Option<Description>,
    /// "Involveret teknologi".
    pub technology: Option<Technology>,
    /// "Tidslinje".
    pub timeline: Option<Timeline>,
    /// "Øvrige involverede (databehandlere, underleverandører mv.)".
    pub processors: Option<Processors>,
    /// "Databeskyttelsesrådgiver".
    pub dpo: Option<Dpo>,
    /// "Omfang".
    pub scope: Option<Scope>,
    /// "Grænseoverskridende hændelser".
    pub cross_border: Option<CrossBorder>,
    /// "Konsekvenser".
    pub consequences: Option<Consequences>,
    /// "Håndtering".
    pub handling: Option<Handling>,
    /// "Underretning": communication with the persons affected and the public.
    pub data_subjects: Option<DataSubjects>,
    /// The NIS law's criteria (§ 5, stk. 2-3 and § 9, stk. 2).
    pub nis: Option<Nis>,
    /// Indicators of compromise, each with its type and a note: listed in the report
    /// and attached as indicators.csv inside the encryption.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<Indicator>,
}

/// One indicator of compromise (`[[indicators]]`); its value is checked by its type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Indicator {
    /// ip, domain, url, email or hash.
    #[serde(rename = "type")]
    pub kind: Option<IndicatorType>,
    /// The indicator as it is (not defanged): 203.0.113.7, evil.example.net, a URL, an
    /// e-mail address, or an MD5, SHA-1 or SHA-256 hash in hex.
    pub value: Option<String>,
    /// What it is and where it was seen.
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Elaboration {
    /// Is this an elaboration of an earlier report?
    pub is_elaboration: bool,
    /// Reference of the earlier report (certmail's CM-… reference or the Virk.dk number).
    pub earlier_reference: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Reporter {
    pub cvr: Option<String>,
    pub organisation: Option<String>,
    pub address: Option<String>,
    /// "Kontaktperson (navn og titel)": the name.
    pub contact_name: Option<String>,
    /// "Kontaktperson (navn og titel)": the title.
    pub contact_title: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// "Er udenlandsk telefonnummer".
    pub foreign_phone: Option<bool>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OnBehalfOf {
    pub organisation: Option<String>,
    pub cvr: Option<String>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct PersonalData {
    /// "Hvem ønsker du at indberette til?"
    pub report_to: Option<PersonalDataAuthority>,
    /// "Er der sket uberettiget offentliggørelse/videregivelse af personoplysninger?"
    pub unauthorised_disclosure: Option<bool>,
    /// "Har der været uberettiget adgang til personoplysninger?"
    pub unauthorised_access: Option<bool>,
    /// "Er der sket ændring af personoplysninger?"
    pub alteration: Option<bool>,
    /// "Er der sket tilintetgørelse af personoplysninger?"
    pub destruction: Option<bool>,
    /// "Er der sket tab af personoplysninger?"
    pub loss: Option<bool>,
    /// Categories of personal data affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub categories: Vec<PersonalDataCategory>,
    /// "Andet" category, in words.
    pub categories_other: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Description {
    /// "Beskriv hændelsen".
    pub what_happened: Option<String>,
    /// "Hvor fandt hændelsen fysisk sted".
    pub location: Option<LocationKind>,
    /// The address, or the "Andet" text.
    pub location_details: Option<String>,
    /// "Angiv karakteren af hændelsen".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub nature: Vec<Nature>,
    /// "Andet" nature, in words.
    pub nature_other: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Technology {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub it_equipment: Vec<ItEquipment>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub communication: Vec<Communication>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_transfer: Vec<DataTransfer>,
    /// "Andet", in words.
    pub other: Option<String>,
}

/// One point of the timeline: known exactly (with `at`), "other" (with `details`),
/// not ended (end only), or unknown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct TimePoint {
    pub status: TimeKnowledge,
    /// RFC 3339 date and time with offset, e.g. 2026-11-20T08:15:00+01:00.
    pub at: Option<String>,
    pub details: Option<String>,
}

impl TimePoint {
    /// The instant, when the point is known exactly and its time reads as RFC 3339.
    pub fn known_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        (self.status == TimeKnowledge::Known)
            .then_some(self.at.as_deref())
            .flatten()
            .and_then(|a| chrono::DateTime::parse_from_rfc3339(a).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
    }
}

impl Incident {
    /// The detection time, when the file gives it as known: what starts the clocks.
    pub fn detected_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.timeline.as_ref().and_then(|t| t.detected.as_ref()).and_then(TimePoint::known_at)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Timeline {
    pub start: Option<TimePoint>,
    pub end: Option<TimePoint>,
    pub detected: Option<TimePoint>,
    /// When a financial entity classified the incident as major: DORA's initial
    /// notification is due 4 hours after it (delegated regulation (EU) 2025/301 art. 5).
    pub classified: Option<TimePoint>,
    /// "Hvordan blev hændelsen konstateret?"
    pub how_detected: Option<String>,
    /// "Varighed".
    pub duration: Option<String>,
    /// "Er der modtaget underretning om hændelsen fra en databehandler eller udbyder af digitale tjenester?"
    pub notified_by_processor: Option<YesNoUnknown>,
    /// "Begrundelse af hvorfor tidsfristen ikke er overholdt".
    pub late_reason: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Processors {
    /// "Er der involveret databehandlere eller lignende?"
    pub involved: Option<YesNoUnknown>,
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Dpo {
    /// "Er der udpeget en databeskyttelsesrådgiver?"
    pub appointed: Option<YesNoUnknown>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub foreign_phone: Option<bool>,
    /// "Evt. andre aktører involveret i håndteringen af hændelsen (f.eks. CFCS, politiet etc.)"
    pub other_actors: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Scope {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub affected: Vec<AffectedGroup>,
    /// "Angiv samlet antal".
    pub total: Option<u64>,
    /// "Er antallet et skøn/overslag?"
    pub is_estimate: Option<bool>,
    /// "Øvrige oplysninger om omfanget".
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct CrossBorder {
    /// "Vurderes hændelsen at have væsentlige konsekvenser for tjenester i andre EU- eller EØS-lande?"
    pub services_in_other_countries: Option<bool>,
    /// "Har hændelsen konsekvenser for personer i andre EU- eller EØS-lande?"
    pub persons_in_other_countries: Option<bool>,
    /// "Oplysninger om involverede lande samt berørte tjenester og personer".
    pub details: Option<String>,
    /// Foreign persons affected.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_affected: Vec<AffectedGroup>,
    pub foreign_total: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Consequences {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub confidentiality: Vec<ConfidentialityConsequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub integrity: Vec<IntegrityConsequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub availability: Vec<AvailabilityConsequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub authenticity: Vec<AuthenticityConsequence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub persons: Vec<PersonConsequence>,
    /// "Uddybende oplysninger".
    pub details: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Handling {
    /// "Foranstaltninger, der er truffet".
    pub measures: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taken_by: Vec<MeasuresTakenBy>,
    /// Who the "others" are.
    pub taken_by_others: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct DataSubjects {
    /// "Er de berørte personer blevet underrettet?"
    pub notified: Option<SubjectsNotified>,
    /// "Angiv antal".
    pub count: Option<u64>,
    /// "Hvornår blev underretning givet?" (known with `at`, or unknown).
    pub when: Option<TimePoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<NotificationMethod>,
    /// "Indhold af underretningen".
    pub content: Option<String>,
    /// "Eventuel vedhæftning": name of the attached notice.
    pub attachment: Option<String>,
    /// "Er offentligheden blevet informeret om hændelsen?"
    pub public_informed: Option<bool>,
    /// "Beskriv hvordan og i hvilket omfang".
    pub public_informed_how: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Nis {
    /// Essential or important entity (NIS2; not asked under the 2018 law).
    pub entity: Option<Nis2Entity>,
    /// The sector, from the NIS2 law's annexes (or the 2018 law's list).
    pub sector: Option<Sector>,
    /// The essential or digital service affected.
    pub service: Option<String>,
    /// § 5(2)(1), § 9(2)(1): number of users affected.
    pub users_affected: Option<u64>,
    /// Users who depend on the service for their own services (§ 9(2)(1)), in words.
    pub users_details: Option<String>,
    /// § 5(2)(2), § 9(2)(2): duration.
    pub duration: Option<String>,
    /// § 5(2)(3), § 9(2)(3): geographic spread.
    pub geographic_spread: Option<String>,
    /// § 9(2)(4): extent of the disruption of the service.
    pub extent_of_disruption: Option<String>,
    /// § 9(2)(5): extent of the impact on economic and societal activities.
    pub economic_and_societal_impact: Option<String>,
    /// § 5(3): the third-party digital service provider the service depends on.
    pub third_party_provider: Option<String>,
    /// § 5(3): the consequences for the continuity of the service of an incident at that provider.
    pub third_party_consequences: Option<String>,
}
