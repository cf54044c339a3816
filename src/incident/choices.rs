//! The choice fields of the Virk.dk incident form, each with the form's own options
//! and their Danish and English labels.
//!
//! One macro defines each choice: the serde name used in incident files, and the two
//! labels the templates print. Nothing here reads or writes anything.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Language;

macro_rules! choice {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $key:literal, $da:literal, $en:literal;)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[doc = $en] #[serde(rename = $key)] $variant,)+
        }

        impl $name {
            /// Every option: (key in incident files, Danish label, English label).
            pub const OPTIONS: &'static [(&'static str, &'static str, &'static str)] = &[$(($key, $da, $en),)+];

            /// Every option, in the order of [`Self::OPTIONS`].
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            pub fn key(self) -> &'static str {
                match self { $($name::$variant => $key,)+ }
            }

            pub fn label(self, lang: Language) -> &'static str {
                match (self, lang) {
                    $(($name::$variant, Language::Da) => $da, ($name::$variant, Language::En) => $en,)+
                }
            }
        }
    };
}

choice! {
    /// Which notification scheme the report is made under.
    Scheme {
        NisOperator = "nis-operator", "Væsentlig eller vigtig enhed (NIS 2); før 1.7.2025 operatør af væsentlige tjenester (NIS)", "Essential or important entity (NIS2); before 1 July 2025 operator of essential services (NIS)";
        DigitalServiceProvider = "digital-service-provider", "Udbyder af digitale tjenester (NIS)", "Digital service provider (NIS)";
        PublicAuthority = "public-authority", "Større brud på it-sikkerheden i en offentlig myndighed", "Major IT security breach in a public authority";
        Voluntary = "voluntary", "Frivillig indberetning fra virksomhed til Center for Cybersikkerhed", "Voluntary report from a company to the Centre for Cyber Security";
        PersonalData = "personal-data", "Hændelse vedrørende persondata", "Personal data breach";
        Financial = "financial", "Hændelse vedrørende den finansielle sektor", "Incident in the financial sector (DORA)";
    }
}

/// An incident file's `scheme`: one name, or a list when one incident is reported
/// under several (a hospital's ransomware case: NIS2 and a personal data breach), as
/// the Virk.dk form routes one filing to several authorities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Schemes {
    One(Scheme),
    Several(Vec<Scheme>),
}

impl Schemes {
    /// Every scheme, in the order given, each once.
    pub fn list(&self) -> Vec<Scheme> {
        let all = match self {
            Schemes::One(s) => vec![*s],
            Schemes::Several(v) => v.clone(),
        };
        let mut out = Vec::new();
        for s in all {
            if !out.contains(&s) {
                out.push(s);
            }
        }
        out
    }

    /// The first scheme: its template frames the report.
    pub fn primary(&self) -> Option<Scheme> {
        self.list().first().copied()
    }

    /// The keys joined by commas, as the log's `scheme` column keeps them.
    pub fn keys(&self) -> String {
        self.list().iter().map(|s| s.key()).collect::<Vec<_>>().join(",")
    }

    /// The schemes of a `scheme` column (one key, or keys joined by commas).
    pub fn from_keys(text: &str) -> Vec<Scheme> {
        text.split(',').filter_map(|k| Scheme::OPTIONS.iter().position(|o| o.0 == k.trim())).map(|i| Scheme::ALL[i]).collect()
    }
}

impl From<Scheme> for Schemes {
    fn from(s: Scheme) -> Schemes {
        Schemes::One(s)
    }
}

choice! {
    /// The Traffic Light Protocol marking (FIRST TLP 2.0): how far the CERT may share
    /// the report. Written as the standard writes it, the first line of the report.
    Tlp {
        Clear = "TLP:CLEAR", "Ingen begrænsning på deling", "No limit on disclosure";
        Green = "TLP:GREEN", "Må deles i modtagerens fællesskab, men ikke offentligt", "Within the recipient's community, not publicly";
        Amber = "TLP:AMBER", "Kun efter behov i modtagerens organisation og hos dens kunder", "Need-to-know within the recipient's organisation and its clients";
        AmberStrict = "TLP:AMBER+STRICT", "Kun efter behov i modtagerens egen organisation", "Need-to-know within the recipient's organisation only";
        Red = "TLP:RED", "Kun til de navngivne modtagere; ingen videre deling", "For the named recipients only; no further disclosure";
    }
}

choice! {
    /// What an indicator of compromise is (`[[indicators]]`); its value is checked by it.
    IndicatorType {
        Ip = "ip", "IP-adresse", "IP address";
        Domain = "domain", "Domæne", "Domain";
        Url = "url", "URL", "URL";
        Email = "email", "E-mailadresse", "E-mail address";
        Hash = "hash", "Filhash", "File hash";
    }
}

choice! {
    /// Sector: those of the NIS2 law's annexes (directive (EU) 2022/2555 annexes I and
    /// II, bilag 1 and 2 of lov nr. 434 af 6. maj 2025), and the 2018 law's own
    /// (maritime; banking and finance as one), which incidents before 1 July 2025 keep.
    Sector {
        Energy = "energy", "Energi", "Energy";
        Transport = "transport", "Transport", "Transport";
        Banking = "banking", "Bankvirksomhed", "Banking";
        FinancialMarketInfrastructure = "financial-market-infrastructure", "Finansielle markedsinfrastrukturer", "Financial market infrastructures";
        Health = "health", "Sundhed", "Health";
        DrinkingWater = "drinking-water", "Drikkevand", "Drinking water";
        WasteWater = "waste-water", "Spildevand", "Waste water";
        DigitalInfrastructure = "digital-infrastructure", "Digital infrastruktur", "Digital infrastructure";
        IctServiceManagement = "ict-service-management", "Forvaltning af IKT-tjenester (business-to-business)", "ICT service management (business-to-business)";
        PublicAdministration = "public-administration", "Offentlig forvaltning", "Public administration";
        Space = "space", "Rummet", "Space";
        PostalAndCourier = "postal-and-courier", "Post- og kurertjenester", "Postal and courier services";
        WasteManagement = "waste-management", "Affaldshåndtering", "Waste management";
        Chemicals = "chemicals", "Fremstilling, produktion og distribution af kemikalier", "Manufacture, production and distribution of chemicals";
        Food = "food", "Produktion, forarbejdning og distribution af fødevarer", "Production, processing and distribution of food";
        Manufacturing = "manufacturing", "Fremstilling (medicinsk udstyr, elektronik, maskiner, køretøjer m.m.)", "Manufacturing (medical devices, electronics, machinery, vehicles and more)";
        DigitalProviders = "digital-providers", "Udbydere af digitale tjenester", "Digital providers";
        Research = "research", "Forskning", "Research";
        Maritime = "maritime", "Søfart (NIS-loven 2018)", "Maritime (2018 NIS law)";
        BankingFinance = "banking-finance", "Bank/finans (NIS-loven 2018)", "Banking/finance (2018 NIS law)";
    }
}

impl Sector {
    /// The NIS2 annex that lists the sector (1: high criticality, 2: other critical),
    /// none for the 2018 law's own.
    pub fn nis2_annex(self) -> Option<u8> {
        use Sector::*;
        match self {
            Energy
            | Transport
            | Banking
            | FinancialMarketInfrastructure
            | Health
            | DrinkingWater
            | WasteWater
            | DigitalInfrastructure
            | IctServiceManagement
            | PublicAdministration
            | Space => Some(1),
            PostalAndCourier | WasteManagement | Chemicals | Food | Manufacturing | DigitalProviders | Research => Some(2),
            Maritime | BankingFinance => None,
        }
    }
}

choice! {
    /// What the NIS2 law makes the entity (directive (EU) 2022/2555 art. 3).
    Nis2Entity {
        Essential = "essential", "Væsentlig enhed", "Essential entity";
        Important = "important", "Vigtig enhed", "Important entity";
    }
}

choice! {
    /// "Hvem ønsker du at indberette til?" for a personal data breach.
    PersonalDataAuthority {
        Datatilsynet = "datatilsynet", "Datatilsynet", "The Danish Data Protection Agency (Datatilsynet)";
        Erhvervsstyrelsen = "erhvervsstyrelsen", "Erhvervsstyrelsen (teleselskab, internetudbyder o.l.)", "The Danish Business Authority (telecom and internet providers)";
    }
}

choice! {
    /// "Hvor fandt hændelsen fysisk sted".
    LocationKind {
        Address = "address", "Adresse", "Address";
        Unknown = "unknown", "Ved ikke", "Unknown";
        Other = "other", "Andet", "Other";
    }
}

choice! {
    /// "Karakteren af sikkerhedsbruddet".
    Nature {
        TheftOrLossOfMedia = "theft-or-loss-of-media", "Tyveri, kopiering eller bortkomst af medie", "Theft, copying or loss of media";
        Hacking = "hacking", "Hacking", "Hacking";
        Malware = "malware", "Malware (f.eks. virus, ransomware, spyware)", "Malware (e.g. virus, ransomware, spyware)";
        Phishing = "phishing", "Phishing", "Phishing";
        Dos = "dos", "DoS", "DoS";
        IncorrectInformationExposed = "incorrect-information-exposed", "Eksponering af urigtige oplysninger", "Exposure of incorrect information";
        UnintendedDisclosure = "unintended-disclosure", "Utilsigtet videregivelse", "Unintended disclosure";
        UnintendedAccess = "unintended-access", "Utilsigtet adgang", "Unintended access";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// Involved technology: "IT-udstyr".
    ItEquipment {
        Server = "server", "Server (fx web, email, netværk)", "Server (e.g. web, e-mail, network)";
        PersonalComputer = "personal-computer", "Personlig computer (fx bærbar, stationær, tablet)", "Personal computer (e.g. laptop, desktop, tablet)";
        MobilePhone = "mobile-phone", "Mobiltelefon", "Mobile phone";
        StorageDevice = "storage-device", "Lagerenhed (fx USB stick, SD kort, CD)", "Storage device (e.g. USB stick, SD card, CD)";
        TelecomNetwork = "telecom-network", "Telenetværk", "Telecom network";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// Involved technology: "Kommunikation".
    Communication {
        Email = "email", "Email", "E-mail";
        Sms = "sms", "SMS", "SMS";
        InternetBased = "internet-based", "Internetbaseret (fx iMessage, Skype, WhatsApp, Signal)", "Internet-based (e.g. iMessage, Skype, WhatsApp, Signal)";
        SocialMedia = "social-media", "Sociale medier", "Social media";
        Browser = "browser", "Browser", "Browser";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// Involved technology: "Overførsel og lagring af data".
    DataTransfer {
        Cloud = "cloud", "Cloud", "Cloud";
        Ftp = "ftp", "FTP", "FTP";
        PeerToPeer = "peer-to-peer", "Peer-to-peer (P2P)", "Peer-to-peer (P2P)";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// "Type af personoplysninger, der er berørt af hændelsen".
    PersonalDataCategory {
        Name = "name", "Navn", "Name";
        DateOfBirth = "date-of-birth", "Fødselsdato", "Date of birth";
        ContactDetails = "contact-details", "Kontaktoplysninger", "Contact details";
        CprNumber = "cpr-number", "Personnummer (cpr-nr.)", "CPR number";
        FinancialCircumstances = "financial-circumstances", "Økonomiske forhold", "Financial circumstances";
        LocationData = "location-data", "Lokationsdata", "Location data";
        CriminalOffences = "criminal-offences", "Strafbare forhold", "Criminal offences";
        PaymentDetails = "payment-details", "Betalingsoplysninger (kreditkort mv.)", "Payment details (credit cards etc.)";
        IpAddress = "ip-address", "IP-adresse", "IP address";
        Race = "race", "Race", "Race";
        Ethnicity = "ethnicity", "Etnicitet", "Ethnicity";
        PoliticalAffiliation = "political-affiliation", "Politisk tilhørsforhold", "Political affiliation";
        ReligiousOrPhilosophicalBelief = "religious-or-philosophical-belief", "Religiøs eller filosofisk overbevisning", "Religious or philosophical belief";
        TradeUnionMembership = "trade-union-membership", "Fagforeningsmæssigt tilhørsforhold", "Trade union membership";
        SexLifeOrOrientation = "sex-life-or-orientation", "Seksuelle forhold eller orientering", "Sex life or sexual orientation";
        Health = "health", "Helbredsoplysninger", "Health data";
        Genetic = "genetic", "Genetiske data", "Genetic data";
        Biometric = "biometric", "Biometriske data", "Biometric data";
        NotYetKnown = "not-yet-known", "Endnu uvist", "Not yet known";
    }
}

choice! {
    /// "Ja / Nej / Ved ikke" answers.
    YesNoUnknown {
        Yes = "yes", "Ja", "Yes";
        No = "no", "Nej", "No";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// How much is known about a point in the timeline.
    TimeKnowledge {
        Known = "known", "Præcist tidspunkt kendt", "Exact time known";
        Other = "other", "Andet", "Other";
        NotEnded = "not-ended", "Er ikke afsluttet", "Not ended";
        Unknown = "unknown", "Ved ikke", "Unknown";
    }
}

choice! {
    /// "Angiv hvilke personer, der har været berørt af hændelsen".
    AffectedGroup {
        Employees = "employees", "Medarbejdere", "Employees";
        Users = "users", "Brugere", "Users";
        Subscribers = "subscribers", "Abonnenter", "Subscribers";
        Pupils = "pupils", "Elever", "Pupils";
        Customers = "customers", "Kunder", "Customers";
        Patients = "patients", "Patienter", "Patients";
        Minors = "minors", "Mindreårige (under 18 år)", "Minors (under 18)";
        Citizens = "citizens", "Borgere", "Citizens";
        LegalPersons = "legal-persons", "Juridiske personer (virksomheder / organisationer)", "Legal persons (companies / organisations)";
        Others = "others", "Andre", "Others";
        NotYetKnown = "not-yet-known", "Endnu uvist", "Not yet known";
    }
}

choice! {
    /// "Brud på fortrolighed".
    ConfidentialityConsequence {
        MoreThanNecessary = "more-than-necessary", "Videregivelse af større mængde oplysninger end nødvendigt", "Disclosure of more information than necessary";
        WithoutConsent = "without-consent", "Videregivelse af oplysninger, som ikke er omfattet af de berørtes udtrykkelige samtykke", "Disclosure of information not covered by the data subjects' explicit consent";
        LinkedToOtherData = "linked-to-other-data", "Utilsigtet videregivelse af oplysninger, der er linket til andre oplysninger om de berørte", "Unintended disclosure of information linked to other information about the data subjects";
        Misuse = "misuse", "Oplysningerne kan blive misbrugt til andre eller ulovlige formål", "The information may be misused for other or unlawful purposes";
        Other = "other", "Andre konsekvenser som følge af brud på fortrolighed", "Other consequences of the breach of confidentiality";
        None = "none", "Ingen af ovenstående", "None of the above";
    }
}

choice! {
    /// "Brud på integritet".
    IntegrityConsequence {
        UsedThoughInvalid = "used-though-invalid", "Oplysningerne kan være blevet ændret og brugt, selvom oplysningerne ikke længere er valide", "The information may have been altered and used although no longer valid";
        ConvertedToOtherData = "converted-to-other-data", "Oplysningerne kan være blevet omdannet til andre valide data, og brugt til andre formål", "The information may have been turned into other valid data and used for other purposes";
        Other = "other", "Andre konsekvenser som følge af brud på integritet", "Other consequences of the breach of integrity";
        None = "none", "Ingen af ovenstående", "None of the above";
    }
}

choice! {
    /// "Brud på tilgængeligheden".
    AvailabilityConsequence {
        CannotProvideCriticalHelp = "cannot-provide-critical-help", "Manglende evne til at yde afgørende hjælp til dem som er berørt af hændelsen", "Inability to provide critical help to those affected";
        ChangedAbilityToHelp = "changed-ability-to-help", "Ændringer i muligheden for at yde afgørende hjælp til de berørte", "Changes in the ability to provide critical help to those affected";
        LackOfContinuity = "lack-of-continuity", "Manglende kontinuitet", "Lack of continuity";
        Other = "other", "Andre konsekvenser som følge af brud på tilgængeligheden", "Other consequences of the breach of availability";
        None = "none", "Ingen af ovenstående", "None of the above";
    }
}

choice! {
    /// "Brud på autenticiteten".
    AuthenticityConsequence {
        SenderCannotBeTrusted = "sender-cannot-be-trusted", "Manglende evne til at sikre tilliden til, at en meddelelse stammer fra den afsender, den påstås at være fra", "Inability to ensure that a message comes from the sender it claims to be from";
        Other = "other", "Andre konsekvenser som følge af brud på autenticiteten", "Other consequences of the breach of authenticity";
        None = "none", "Ingen af ovenstående", "None of the above";
    }
}

choice! {
    /// "Fysisk, materiel eller immateriel skade med betydelige konsekvenser for den berørte".
    PersonConsequence {
        LostControl = "lost-control", "Mistet kontrol over egne oplysninger", "Lost control over own information";
        RestrictedRights = "restricted-rights", "Begrænset i sine rettigheder", "Restricted in their rights";
        Discrimination = "discrimination", "Udsat for diskrimination", "Subjected to discrimination";
        IdentityTheft = "identity-theft", "Udsat for identitetstyveri", "Subjected to identity theft";
        Fraud = "fraud", "Udsat for bedrageri", "Subjected to fraud";
        FinancialLoss = "financial-loss", "Lidt økonomisk tab", "Suffered financial loss";
        ReputationalDamage = "reputational-damage", "Skade på omdømme", "Damage to reputation";
        Other = "other", "Andre konsekvenser for de berørte", "Other consequences for those affected";
        None = "none", "Ingen af ovenstående", "None of the above";
    }
}

choice! {
    /// "Hvem har foretaget foranstaltningerne?".
    MeasuresTakenBy {
        Reporter = "reporter", "Indberetter", "The reporter";
        Processor = "processor", "Databehandler", "Data processor";
        Others = "others", "Andre", "Others";
    }
}

choice! {
    /// "Er de berørte personer blevet underrettet?".
    SubjectsNotified {
        NotYetWillBe = "not-yet-will-be", "Ikke endnu, men underretning vil ske", "Not yet, but they will be";
        WillNotBe = "will-not-be", "Nej, underretning vil ikke ske", "No, they will not be";
        Undecided = "undecided", "Det er endnu ikke besluttet", "Not decided yet";
        Partially = "partially", "Ja delvist", "Yes, partially";
        All = "all", "Ja, alle er underrettet", "Yes, all have been notified";
    }
}

choice! {
    /// "Hvilken metode er eller vil blive anvendt til at underrette de berørte personer".
    NotificationMethod {
        Email = "email", "E-mail", "E-mail";
        Letter = "letter", "Fysisk brev", "Letter";
        Phone = "phone", "Telefon", "Phone";
        Website = "website", "Hjemmeside/Web", "Website";
        Sms = "sms", "SMS", "SMS";
    }
}

/// Every choice's labels in one language, keyed by choice name and option key,
/// for the templates (`labels.nature["hacking"]`).
pub fn labels(lang: Language) -> serde_json::Value {
    fn table(options: &[(&str, &str, &str)], lang: Language) -> serde_json::Value {
        let map = options
            .iter()
            .map(|(key, da, en)| (key.to_string(), serde_json::Value::from(if lang == Language::Da { *da } else { *en })))
            .collect::<serde_json::Map<_, _>>();
        serde_json::Value::Object(map)
    }
    serde_json::json!({
        "scheme": table(Scheme::OPTIONS, lang),
        "sector": table(Sector::OPTIONS, lang),
        "entity": table(Nis2Entity::OPTIONS, lang),
        "annex": Sector::ALL.iter().filter_map(|s| s.nis2_annex().map(|a| (s.key().to_string(), serde_json::Value::from(a)))).collect::<serde_json::Map<_, _>>(),
        "authority": table(PersonalDataAuthority::OPTIONS, lang),
        "location": table(LocationKind::OPTIONS, lang),
        "nature": table(Nature::OPTIONS, lang),
        "it_equipment": table(ItEquipment::OPTIONS, lang),
        "communication": table(Communication::OPTIONS, lang),
        "data_transfer": table(DataTransfer::OPTIONS, lang),
        "category": table(PersonalDataCategory::OPTIONS, lang),
        "yes_no_unknown": table(YesNoUnknown::OPTIONS, lang),
        "time": table(TimeKnowledge::OPTIONS, lang),
        "group": table(AffectedGroup::OPTIONS, lang),
        "confidentiality": table(ConfidentialityConsequence::OPTIONS, lang),
        "integrity": table(IntegrityConsequence::OPTIONS, lang),
        "availability": table(AvailabilityConsequence::OPTIONS, lang),
        "authenticity": table(AuthenticityConsequence::OPTIONS, lang),
        "persons": table(PersonConsequence::OPTIONS, lang),
        "taken_by": table(MeasuresTakenBy::OPTIONS, lang),
        "subjects_notified": table(SubjectsNotified::OPTIONS, lang),
        "method": table(NotificationMethod::OPTIONS, lang),
        "indicator": table(IndicatorType::OPTIONS, lang),
    })
}
