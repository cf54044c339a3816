//! The incident form as data: every field of an incident file in the order of the
//! joint Virk.dk form, what kind of value it takes, and its question in Danish and
//! English.
//!
//! `new` prints a file from it, the file checker walks files against it, `compose`
//! asks its questions, and the schema is checked against it in the tests, so the
//! four can never disagree about what a field is. Which fields a scheme requires is
//! not here: `validate` holds those rules, once.

use super::Language;
use super::choices::*;

/// One option of a choice: (key in incident files, Danish label, English label).
pub type Opt = (&'static str, &'static str, &'static str);

/// The value a field takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A table of further fields.
    Section,
    /// Text on one line.
    Line,
    /// Text that may run over several lines.
    Prose,
    /// true or false.
    Bool,
    /// A whole number, zero or more.
    Count,
    /// One of the options.
    Choice(&'static [Opt]),
    /// A list of options.
    Choices(&'static [Opt]),
    /// One option, or a list of them (`scheme`).
    OneOrMore(&'static [Opt]),
    /// A point in time: `{ status = "known", at = "..." }`; `end` allows "not-ended".
    Time { end: bool },
    /// A list of tables (`[[indicators]]`), each with the fields below it; the fields of
    /// the n-th are named `indicators[n].value` (counted from 0).
    Entries,
}

/// One field of an incident file.
#[derive(Debug, Clone, Copy)]
pub struct Field {
    /// The dotted path as written in the file, e.g. `nis.users-affected`.
    pub path: &'static str,
    pub kind: Kind,
    /// The question, in the form's words.
    pub da: &'static str,
    pub en: &'static str,
}

impl Field {
    pub fn question(&self, lang: Language) -> &'static str {
        match lang {
            Language::Da => self.da,
            Language::En => self.en,
        }
    }

    /// The last part of the path: the key in its table.
    pub fn key(&self) -> &'static str {
        self.path.rsplit('.').next().unwrap_or(self.path)
    }

    /// The table the field is in ("" for the top level).
    pub fn parent(&self) -> &'static str {
        self.path.rsplit_once('.').map_or("", |(p, _)| p)
    }
}

/// The report languages, as a choice.
pub const LANGUAGES: &[Opt] = &[("da", "Dansk", "Danish"), ("en", "Engelsk", "English")];

/// How much is known about a point in time, for points that have ended or are not ends.
pub const TIME_STATUS: &[Opt] =
    &[("known", "Præcist tidspunkt kendt", "Exact time known"), ("other", "Andet", "Other"), ("unknown", "Ved ikke", "Unknown")];

/// The keys of a point in time's table.
pub const TIME_KEYS: &[&str] = &["status", "at", "details"];

macro_rules! fields {
    ($($path:literal: $kind:expr, $da:literal, $en:literal;)+) => {
        /// Every field, in the form's order; a section comes before its fields.
        pub const FIELDS: &[Field] = &[$(Field { path: $path, kind: $kind, da: $da, en: $en },)+];
    };
}

use Kind::*;

fields! {
    "scheme": OneOrMore(Scheme::OPTIONS), "Hvilken hændelse ønsker du at indberette?", "Which kind of incident are you reporting?";
    "title": Line, "Overskrift: én linje, der opsummerer hændelsen", "Title: one line summing the incident up";
    "language": Choice(LANGUAGES), "Rapportens sprog", "Language of the report";
    "tlp": Choice(Tlp::OPTIONS), "TLP-markering: hvor bredt CERT'et må dele rapporten", "TLP marking: how widely the CERT may share the report";

    "elaboration": Section, "Er dette en uddybning af en tidligere anmeldelse?", "Is this an elaboration of an earlier report?";
    "elaboration.is-elaboration": Bool, "Er dette en uddybning af en tidligere anmeldelse?", "Is this an elaboration of an earlier report?";
    "elaboration.earlier-reference": Line, "Referencenummer på den tidligere anmeldelse", "Reference of the earlier report";

    "reporter": Section, "Oplysninger om indberetter", "The reporter";
    "reporter.cvr": Line, "CVR-nummer (8 cifre)", "CVR number (8 digits)";
    "reporter.organisation": Line, "Myndighedens/virksomhedens navn", "Name of the authority or company";
    "reporter.address": Line, "Adresse", "Address";
    "reporter.contact-name": Line, "Kontaktperson: navn", "Contact person: name";
    "reporter.contact-title": Line, "Kontaktperson: titel", "Contact person: title";
    "reporter.email": Line, "E-mail på kontaktperson", "Contact person's e-mail";
    "reporter.phone": Line, "Telefonnummer på kontaktperson", "Contact person's phone number";
    "reporter.foreign-phone": Bool, "Er udenlandsk telefonnummer", "Is it a foreign phone number?";

    "on-behalf-of": Section, "Indberetter du på en andens vegne?", "Are you reporting on behalf of someone else?";
    "on-behalf-of.organisation": Line, "Hvem indberetter du for? (navn)", "On whose behalf? (name)";
    "on-behalf-of.cvr": Line, "Deres CVR-nummer", "Their CVR number";
    "on-behalf-of.details": Prose, "Uddybning", "Details";

    "personal-data": Section, "Hændelse vedrørende persondata", "Personal data breach";
    "personal-data.report-to": Choice(PersonalDataAuthority::OPTIONS), "Hvem ønsker du at indberette til?", "Which authority are you reporting to?";
    "personal-data.unauthorised-disclosure": Bool, "Er der sket uberettiget offentliggørelse/videregivelse af personoplysninger?", "Have personal data been disclosed without authorisation?";
    "personal-data.unauthorised-access": Bool, "Har der været uberettiget adgang til personoplysninger?", "Has there been unauthorised access to personal data?";
    "personal-data.alteration": Bool, "Er der sket ændring af personoplysninger?", "Have personal data been altered?";
    "personal-data.destruction": Bool, "Er der sket tilintetgørelse af personoplysninger?", "Have personal data been destroyed?";
    "personal-data.loss": Bool, "Er der sket tab af personoplysninger?", "Have personal data been lost?";
    "personal-data.categories": Choices(PersonalDataCategory::OPTIONS), "Hvilke personoplysninger er berørt af hændelsen?", "Which personal data are affected?";
    "personal-data.categories-other": Line, "Andre personoplysninger (Andet)", "Other personal data (in words)";

    "description": Section, "Årsag til hændelsen / hvad er der sket", "What happened";
    "description.what-happened": Prose, "Beskriv hændelsen", "Describe the incident";
    "description.location": Choice(LocationKind::OPTIONS), "Hvor fandt hændelsen fysisk sted?", "Where did the incident physically take place?";
    "description.location-details": Line, "Adressen, eller hvor (Andet)", "The address, or where (other)";
    "description.nature": Choices(Nature::OPTIONS), "Angiv karakteren af hændelsen", "The nature of the incident";
    "description.nature-other": Line, "Anden karakter (Andet)", "Other nature (in words)";

    "technology": Section, "Involveret teknologi", "Technology involved";
    "technology.it-equipment": Choices(ItEquipment::OPTIONS), "IT-udstyr", "IT equipment";
    "technology.communication": Choices(Communication::OPTIONS), "Kommunikation", "Communication";
    "technology.data-transfer": Choices(DataTransfer::OPTIONS), "Overførsel og lagring af data", "Data transfer and storage";
    "technology.other": Line, "Anden teknologi (Andet)", "Other technology (in words)";

    "timeline": Section, "Tidslinje", "Timeline";
    "timeline.start": Time { end: false }, "Dato og tidspunkt for hændelsens start", "When did the incident start?";
    "timeline.end": Time { end: true }, "Dato og tidspunkt for hændelsens afslutning", "When did the incident end?";
    "timeline.detected": Time { end: false }, "Dato og tidspunkt for hændelsens konstatering", "When was the incident detected?";
    "timeline.classified": Time { end: false }, "Hvornår blev hændelsen klassificeret som større (DORA)?", "When was the incident classified as major (DORA)?";
    "timeline.how-detected": Prose, "Hvordan blev hændelsen konstateret?", "How was the incident detected?";
    "timeline.duration": Line, "Varighed", "Duration";
    "timeline.notified-by-processor": Choice(YesNoUnknown::OPTIONS), "Er der modtaget underretning om hændelsen fra en databehandler eller udbyder af digitale tjenester?", "Were you notified of the incident by a processor or a digital service provider?";
    "timeline.late-reason": Prose, "Begrundelse af hvorfor tidsfristen ikke er overholdt", "Why the deadline was not met";

    "processors": Section, "Øvrige involverede (databehandlere, underleverandører mv.)", "Others involved (processors, subcontractors)";
    "processors.involved": Choice(YesNoUnknown::OPTIONS), "Er der involveret databehandlere eller lignende?", "Are processors or the like involved?";
    "processors.details": Prose, "Hvilke?", "Which?";

    "dpo": Section, "Databeskyttelsesrådgiver", "Data protection officer";
    "dpo.appointed": Choice(YesNoUnknown::OPTIONS), "Er der udpeget en databeskyttelsesrådgiver?", "Has a data protection officer been appointed?";
    "dpo.name": Line, "Navn på databeskyttelsesrådgiver (DPO)", "The DPO's name";
    "dpo.email": Line, "E-mail på DPO", "The DPO's e-mail";
    "dpo.phone": Line, "Telefonnummer på DPO", "The DPO's phone number";
    "dpo.foreign-phone": Bool, "Er udenlandsk telefonnummer", "Is it a foreign phone number?";
    "dpo.other-actors": Prose, "Evt. andre aktører involveret i håndteringen af hændelsen (f.eks. CFCS, politiet)", "Other actors involved in handling the incident (e.g. CFCS, the police)";

    "scope": Section, "Omfang", "Scope";
    "scope.affected": Choices(AffectedGroup::OPTIONS), "Angiv hvilke personer, der har været berørt af hændelsen", "Who has been affected?";
    "scope.total": Count, "Angiv samlet antal", "How many in all?";
    "scope.is-estimate": Bool, "Er antallet et skøn/overslag?", "Is the number an estimate?";
    "scope.details": Prose, "Øvrige oplysninger om omfanget", "More about the scope";

    "cross-border": Section, "Grænseoverskridende hændelser", "Cross-border impact";
    "cross-border.services-in-other-countries": Bool, "Vurderes hændelsen at have væsentlige konsekvenser for tjenester i andre EU- eller EØS-lande?", "Does the incident have significant consequences for services in other EU or EEA countries?";
    "cross-border.persons-in-other-countries": Bool, "Har hændelsen konsekvenser for personer i andre EU- eller EØS-lande?", "Does the incident have consequences for persons in other EU or EEA countries?";
    "cross-border.details": Prose, "Oplysninger om involverede lande samt berørte tjenester og personer", "The countries involved and the services and persons affected";
    "cross-border.foreign-affected": Choices(AffectedGroup::OPTIONS), "Hvilke udenlandske personer er berørt?", "Which foreign persons are affected?";
    "cross-border.foreign-total": Count, "Antal berørte udenlandske personer", "How many foreign persons are affected?";

    "consequences": Section, "Sandsynlige konsekvenser af hændelsen", "Likely consequences of the incident";
    "consequences.confidentiality": Choices(ConfidentialityConsequence::OPTIONS), "Brud på fortrolighed", "Breach of confidentiality";
    "consequences.integrity": Choices(IntegrityConsequence::OPTIONS), "Brud på integritet", "Breach of integrity";
    "consequences.availability": Choices(AvailabilityConsequence::OPTIONS), "Brud på tilgængeligheden", "Breach of availability";
    "consequences.authenticity": Choices(AuthenticityConsequence::OPTIONS), "Brud på autenticiteten", "Breach of authenticity";
    "consequences.persons": Choices(PersonConsequence::OPTIONS), "Fysisk, materiel eller immateriel skade for de berørte", "Physical, material or non-material damage to those affected";
    "consequences.details": Prose, "Uddybende oplysninger", "Details";

    "handling": Section, "Håndtering", "Handling";
    "handling.measures": Prose, "Foranstaltninger, der er truffet", "Measures taken";
    "handling.taken-by": Choices(MeasuresTakenBy::OPTIONS), "Hvem har foretaget foranstaltningerne?", "Who took the measures?";
    "handling.taken-by-others": Line, "Hvem er de andre?", "Who are the others?";

    "data-subjects": Section, "Underretning af de berørte personer", "Notification of the persons affected";
    "data-subjects.notified": Choice(SubjectsNotified::OPTIONS), "Er de berørte personer blevet underrettet?", "Have the persons affected been notified?";
    "data-subjects.count": Count, "Angiv antal underrettede", "How many were notified?";
    "data-subjects.when": Time { end: false }, "Hvornår blev underretning givet?", "When were they notified?";
    "data-subjects.methods": Choices(NotificationMethod::OPTIONS), "Hvilken metode er eller vil blive anvendt til at underrette de berørte?", "How are or will they be notified?";
    "data-subjects.content": Prose, "Indhold af underretningen", "Content of the notice";
    "data-subjects.attachment": Line, "Eventuel vedhæftning (filnavn)", "Attached notice (file name)";
    "data-subjects.public-informed": Bool, "Er offentligheden blevet informeret om hændelsen?", "Has the public been informed?";
    "data-subjects.public-informed-how": Prose, "Beskriv hvordan og i hvilket omfang", "How and how widely?";

    "nis": Section, "Berørt tjeneste og hændelsens betydning (NIS 2-loven)", "The service affected and the incident's significance (the NIS2 law)";
    "nis.entity": Choice(Nis2Entity::OPTIONS), "Væsentlig eller vigtig enhed (NIS 2)", "Essential or important entity (NIS2)";
    "nis.sector": Choice(Sector::OPTIONS), "Sektor", "Sector";
    "nis.service": Line, "Den berørte væsentlige eller digitale tjeneste", "The essential or digital service affected";
    "nis.users-affected": Count, "Antal berørte brugere", "Number of users affected";
    "nis.users-details": Prose, "Brugere, der er afhængige af tjenesten", "Users who depend on the service";
    "nis.duration": Line, "Hændelsens varighed", "Duration of the incident";
    "nis.geographic-spread": Line, "Geografisk spredning", "Geographic spread";
    "nis.extent-of-disruption": Prose, "Omfanget af forstyrrelsen af tjenesten", "Extent of the disruption of the service";
    "nis.economic-and-societal-impact": Prose, "Omfanget af indvirkningen på økonomiske og samfundsmæssige aktiviteter", "Impact on economic and societal activities";
    "nis.third-party-provider": Line, "Udbyder af digitale tjenester, som tjenesten afhænger af", "The digital service provider the service depends on";
    "nis.third-party-consequences": Prose, "Konsekvenser for tjenestens kontinuitet af en hændelse hos udbyderen", "Consequences for the service's continuity of an incident at that provider";

    "indicators": Entries, "Indikatorer (IoC'er): én [[indicators]] pr. indikator", "Indicators of compromise: one [[indicators]] each";
    "indicators.type": Choice(IndicatorType::OPTIONS), "Indikatorens type (en filhash er MD5, SHA-1 eller SHA-256 i hex)", "The indicator's type (a file hash is MD5, SHA-1 or SHA-256 in hex)";
    "indicators.value": Line, "Værdien præcis som den er (ikke \"defanged\" som 203.0.113[.]7)", "The value as it is (not defanged)";
    "indicators.note": Line, "Hvad det er, og hvor det er set", "What it is and where it was seen";
}

/// The field at a dotted path.
pub fn field(path: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.path == path)
}

/// The fields directly in a table ("" for the top level), in the form's order.
pub fn children(parent: &str) -> impl Iterator<Item = &'static Field> + '_ {
    FIELDS.iter().filter(move |f| f.parent() == parent)
}

/// Where a path comes in the form: fields, sections and anything below them.
pub fn form_order(path: &str) -> usize {
    let mut p = path;
    loop {
        if let Some(i) = FIELDS.iter().position(|f| f.path == p) {
            return i;
        }
        match p.rsplit_once('.') {
            Some((parent, _)) => p = parent,
            None => return FIELDS.len(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_sits_in_a_section_listed_before_it() {
        for (i, f) in FIELDS.iter().enumerate() {
            if !f.parent().is_empty() {
                let parent = FIELDS.iter().position(|p| p.path == f.parent()).unwrap_or_else(|| panic!("{} has no section", f.path));
                assert!(parent < i && matches!(FIELDS[parent].kind, Section | Entries), "{}", f.path);
            }
        }
        let mut paths: Vec<_> = FIELDS.iter().map(|f| f.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), FIELDS.len(), "a path is listed twice");
    }
}
