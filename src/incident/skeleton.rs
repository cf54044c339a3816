//! The commented incident file `certmail new` prints: every field of the form in the
//! form's order, the scheme's required ones marked and holding "<…>" placeholders
//! (which the checker takes for "not filled in", so they can never be sent), each
//! choice list in a comment, and the optional fields commented out. Pure.

use super::fields::{FIELDS, Field, Kind, Opt};
use super::{Language, Scheme, requirements};

/// Fields needed only in some cases, and when: (path, Danish, English).
const CONDITIONS: &[(&str, &str, &str)] = &[
    ("elaboration.earlier-reference", "Påkrævet når is-elaboration = true.", "Required when is-elaboration = true."),
    ("description.location-details", "Påkrævet når location er address eller other.", "Required when location is address or other."),
    ("description.nature-other", "Kan stå i stedet for nature.", "May stand instead of nature."),
    ("personal-data.categories-other", "Kan stå i stedet for categories.", "May stand instead of categories."),
    (
        "timeline.late-reason",
        "Påkrævet, når anmeldelsen kommer efter sin frist, og loven beder om begrundelsen (persondata: 72 timer; DORA: hver rapport); `certmail status` viser fristerne.",
        "Required when the report comes after its deadline and the law asks for the reasons (personal data: 72 hours; DORA: each report); `certmail status` shows the deadlines.",
    ),
    ("processors.details", "Påkrævet når involved = \"yes\".", "Required when involved = \"yes\"."),
    ("dpo.name", "Påkrævet når appointed = \"yes\".", "Required when appointed = \"yes\"."),
    ("dpo.email", "Påkrævet når appointed = \"yes\".", "Required when appointed = \"yes\"."),
    ("scope.is-estimate", "Påkrævet når total er angivet.", "Required when total is given."),
    ("handling.taken-by-others", "Påkrævet når taken-by indeholder \"others\".", "Required when taken-by holds \"others\"."),
    ("data-subjects.count", "Påkrævet når notified er partially eller all.", "Required when notified is partially or all."),
    ("data-subjects.public-informed-how", "Påkrævet når public-informed = true.", "Required when public-informed = true."),
    ("nis.third-party-consequences", "Påkrævet når third-party-provider er angivet.", "Required when third-party-provider is given."),
];

/// Fields required whenever another field is given: (field, the other field).
const FOLLOWS: &[(&str, &str)] = &[("scope.is-estimate", "scope.total")];

struct Words {
    intro: &'static str,
    required: &'static str,
    required_or: &'static str,
    one_of_section: &'static str,
    from_identity: &'static str,
    fill: &'static str,
    truth: &'static str,
    number: &'static str,
    from_list: &'static str,
    time: &'static str,
    choices: &'static str,
    one_choice: &'static str,
}

const DA: Words = Words {
    intro: "\
# Udfyld hvert felt mærket PÅKRÆVET: erstat \"<…>\" med svaret. Intet i \"<…>\" bliver
# nogensinde sendt: så længe et påkrævet felt ikke er udfyldt, afviser `certmail preview`
# og `certmail notify` filen og oplister alt, hvad der mangler.
# Valgfrie felter er kommenteret ud: fjern \"# \" foran for at bruge et.
# Tekst står i anførselstegn (\"…\", eller \"\"\"…\"\"\" over flere linjer); true, false og tal
# uden. Tidspunkter: RFC 3339 med forskydning fra UTC, f.eks. \"2026-01-31T06:40:00+01:00\"
# (+01:00 i dansk vintertid, +02:00 om sommeren).
# Derefter: certmail preview FIL   og   certmail notify FIL",
    required: "PÅKRÆVET.",
    required_or: "PÅKRÆVET (eller {}).",
    one_of_section: "PÅKRÆVET: mindst én af listerne i dette afsnit.",
    from_identity: "Udfyldes fra [identity] i konfigurationen, hvor felterne er udeladt.",
    fill: "<udfyld>",
    truth: "<true eller false>",
    number: "<antal>",
    from_list: "<vælg fra listen ovenfor>",
    time: "status: known (med at = tidspunkt), other (med details = \"…\"), unknown",
    choices: "Ét eller flere af:",
    one_choice: "Én af:",
};

const EN: Words = Words {
    intro: "\
# Fill in every field marked REQUIRED: replace \"<…>\" with the answer. Nothing in \"<…>\"
# is ever sent: until every required field is filled in, `certmail preview` and
# `certmail notify` refuse the file and list everything still missing.
# Optional fields are commented out: remove the leading \"# \" to use one.
# Text goes in quotes (\"…\", or \"\"\"…\"\"\" over several lines); true, false and numbers
# without. Times: RFC 3339 with the offset from UTC, e.g. \"2026-01-31T06:40:00+01:00\"
# (+01:00 in Danish winter time, +02:00 in summer).
# Then: certmail preview FILE   and   certmail notify FILE",
    required: "REQUIRED.",
    required_or: "REQUIRED (or {}).",
    one_of_section: "REQUIRED: at least one of the lists in this section.",
    from_identity: "Filled from [identity] in the configuration where these fields are left out.",
    fill: "<fill in>",
    truth: "<true or false>",
    number: "<number>",
    from_list: "<choose from the list above>",
    time: "status: known (with at = the time), other (with details = \"…\"), unknown",
    choices: "One or more of:",
    one_choice: "One of:",
};

/// The commented incident file for one or more schemes, in a language: what each of
/// them requires is marked.
pub fn skeleton(schemes: &[Scheme], lang: Language) -> String {
    let words = if lang == Language::Da { &DA } else { &EN };
    let required = requirements(schemes);
    let marker = |path: &str| -> Option<String> {
        if path.starts_with("reporter.") {
            return None;
        }
        // Needed as soon as a required field is given: as good as required itself.
        if let Some((_, when)) = FOLLOWS.iter().find(|(p, _)| *p == path)
            && required.iter().any(|(p, _)| p == when)
        {
            return Some(words.required.to_string());
        }
        if let Some((_, or)) = required.iter().find(|(p, _)| p == path) {
            return Some(match or.iter().find(|o| !o.starts_with(&format!("{path}."))) {
                Some(alt) => words.required_or.replace("{}", alt.rsplit('.').next().unwrap_or(alt)),
                None => words.required.to_string(),
            });
        }
        // A section of which at least one list is required marks each of its lists.
        let parent = path.rsplit_once('.').map(|(p, _)| p)?;
        required.iter().any(|(p, or)| p == parent && or.contains(&path)).then(|| words.one_of_section.to_string())
    };

    let mut out = String::new();
    let labels: Vec<&str> = schemes.iter().map(|s| s.label(lang)).collect();
    let keys: Vec<String> = schemes.iter().map(|s| format!("\"{}\"", s.key())).collect();
    let names: Vec<&str> = schemes.iter().map(|s| s.key()).collect();
    out.push_str(&format!("# certmail incident file: {} ({})\n#\n", labels.join(" + "), names.join(", ")));
    // One scheme is written as a name, several as a list.
    let scheme_value = if keys.len() == 1 { keys[0].clone() } else { format!("[{}]", keys.join(", ")) };
    out.push_str(words.intro);
    out.push('\n');
    for f in FIELDS {
        let condition = CONDITIONS.iter().find(|c| c.0 == f.path).map(|c| if lang == Language::Da { c.1 } else { c.2 });
        match (f.path, f.kind) {
            ("scheme", _) => out.push_str(&format!("\n# {}\nscheme = {scheme_value}\n", f.question(lang))),
            ("language", _) => out.push_str(&format!("# {}: da | en\nlanguage = \"{}\"\n", f.question(lang), lang.code())),
            (_, Kind::Entries) => entries(&mut out, f, lang),
            // An item's fields are in the commented example `entries` writes.
            _ if super::fields::field(f.parent()).is_some_and(|p| p.kind == Kind::Entries) => {}
            (_, Kind::Section) => {
                out.push_str(&format!("\n# ── {} ──\n[{}]\n", f.question(lang), f.path));
                if let Some(m) = marker(f.path) {
                    out.push_str(&format!("# {m}\n"));
                }
                if f.path == "reporter" {
                    out.push_str(&format!("# {}\n", words.from_identity));
                }
            }
            _ => field(&mut out, f, lang, words, marker(f.path), condition),
        }
    }
    out
}

fn field(out: &mut String, f: &Field, lang: Language, words: &Words, marker: Option<String>, condition: Option<&str>) {
    let mut note = vec![f.question(lang).to_string()];
    if let Some(m) = &marker {
        note.insert(0, m.clone());
    }
    if let Some(c) = condition {
        note.push(c.to_string());
    }
    let note = note.join(" ");
    // The form's questions end without a full stop; a note after one needs it.
    let note = if condition.is_some() && !f.question(lang).ends_with(['?', '.', ')']) {
        note.replacen(f.question(lang), &format!("{}.", f.question(lang)), 1)
    } else {
        note
    };
    out.push_str(&format!("# {note}\n"));
    let key = f.key();
    let value = match f.kind {
        Kind::Line => quoted(words.fill),
        Kind::Prose => format!("\"\"\"\n{}\"\"\"", words.fill),
        Kind::Bool => quoted(words.truth),
        Kind::Count => quoted(words.number),
        Kind::Choice(options) => {
            list_options(out, words.one_choice, options, lang);
            if options.len() <= 4 { quoted(&format!("<{}>", keys(options, " | "))) } else { quoted(words.from_list) }
        }
        Kind::Choices(options) | Kind::OneOrMore(options) => {
            list_options(out, words.choices, options, lang);
            format!("[{}]", quoted(words.from_list))
        }
        Kind::Time { end } => {
            let statuses = if end { "known | other | not-ended | unknown" } else { "known | other | unknown" };
            let time = words.time.replace("unknown", if end { "not-ended, unknown" } else { "unknown" });
            out.push_str(&format!("# {time}\n"));
            format!("{{ status = \"<{statuses}>\", at = \"<YYYY-MM-DDTHH:MM:SS+01:00>\" }}")
        }
        Kind::Section | Kind::Entries => unreachable!("sections and lists of tables are written by skeleton"),
    };
    // A required field is a line to fill in; an optional one is there to uncomment.
    let comment = if marker.is_some() { "" } else { "# " };
    let value = if comment.is_empty() { value } else { value.replace('\n', "\n# ") };
    out.push_str(&format!("{comment}{key} = {value}\n"));
}

/// A list of tables (`[[indicators]]`): optional, so a commented example of one item,
/// with the choices of its type, to copy once per indicator.
fn entries(out: &mut String, f: &Field, lang: Language) {
    out.push_str(&format!("\n# ── {} ──\n", f.question(lang)));
    let (note, example) = match lang {
        Language::Da => (
            "Valgfri. Listes i rapporten og vedhæftes som indicators.csv (type,value,note) i den krypterede del.",
            [("type", "ip"), ("value", "203.0.113.7"), ("note", "C2-server, set i firewall-loggen 20.11 kl. 02:10")],
        ),
        Language::En => (
            "Optional. Listed in the report and attached as indicators.csv (type,value,note) inside the encryption.",
            [("type", "ip"), ("value", "203.0.113.7"), ("note", "C2 server, seen in the firewall log on 20.11 at 02:10")],
        ),
    };
    out.push_str(&format!("# {note}\n"));
    for child in super::fields::children(f.path) {
        out.push_str(&format!("# {}: {}\n", child.key(), child.question(lang)));
        if let Kind::Choice(options) = child.kind {
            list_options(out, if lang == Language::Da { DA.one_choice } else { EN.one_choice }, options, lang);
        }
    }
    out.push_str(&format!("# [[{}]]\n", f.path));
    for (key, value) in example {
        out.push_str(&format!("# {key} = \"{value}\"\n"));
    }
}

fn quoted(text: &str) -> String {
    format!("\"{text}\"")
}

fn keys(options: &[Opt], sep: &str) -> String {
    options.iter().map(|o| o.0).collect::<Vec<_>>().join(sep)
}

fn list_options(out: &mut String, heading: &str, options: &[Opt], lang: Language) {
    let width = options.iter().map(|o| o.0.len()).max().unwrap_or(0);
    out.push_str(&format!("# {heading}\n"));
    for (key, da, en) in options {
        let label = if lang == Language::Da { da } else { en };
        out.push_str(&format!("#   {key:<width$}  {label}\n"));
    }
}
