//! Validation per scheme, and input errors that name the file and the field and exit 2.

use std::collections::BTreeSet;

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use certmail::incident::{self, Incident};

use crate::support::*;

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
}

fn problems(value: &Value) -> Vec<String> {
    let parsed: Incident = serde_json::from_value(value.clone()).expect("parses");
    let completed = incident::with_identity(parsed, Some(&test_identity()));
    incident::validate(&completed, now()).into_iter().map(|p| format!("{}: {}", p.path, p.expected)).collect()
}

/// The smallest valid incident of each scheme.
fn minimal(scheme: &str) -> Value {
    let mut v = json!({
        "scheme": scheme,
        "title": "Test",
        "description": { "what-happened": "x", "nature": ["hacking"] },
        "timeline": { "detected": { "status": "known", "at": "2026-11-21T10:00:00+01:00" } }
    });
    let start = json!({ "status": "known", "at": "2026-11-21T09:00:00+01:00" });
    match scheme {
        "nis-operator" => {
            v["nis"] = json!({ "sector": "energy", "service": "s", "users-affected": 1, "duration": "d", "geographic-spread": "g" });
            v["cross-border"] = json!({ "services-in-other-countries": false });
            v["timeline"]["start"] = start;
        }
        "digital-service-provider" => {
            v["nis"] = json!({ "service": "s", "users-affected": 1, "duration": "d", "geographic-spread": "g",
                               "extent-of-disruption": "e", "economic-and-societal-impact": "i" });
            v["cross-border"] = json!({ "services-in-other-countries": false });
        }
        "public-authority" => {
            v["timeline"]["start"] = start;
            v["handling"] = json!({ "measures": "m" });
        }
        "personal-data" => {
            v["personal-data"] = json!({ "report-to": "datatilsynet", "unauthorised-disclosure": false, "unauthorised-access": true,
                                         "alteration": false, "destruction": false, "loss": false, "categories": ["name"] });
            v["scope"] = json!({ "affected": ["customers"], "total": 3, "is-estimate": false });
            v["cross-border"] = json!({ "persons-in-other-countries": false });
            v["consequences"] = json!({ "confidentiality": ["misuse"] });
            v["handling"] = json!({ "measures": "m" });
            v["data-subjects"] = json!({ "notified": "undecided" });
            v["dpo"] = json!({ "appointed": "no" });
            v["timeline"]["start"] = start;
        }
        _ => {}
    }
    v
}

/// What each scheme requires beyond the common fields, as field paths.
const REQUIRED: &[(&str, &[&str])] = &[
    ("voluntary", &["title", "description.what-happened", "description.nature", "timeline.detected"]),
    (
        "nis-operator",
        &[
            "nis.sector",
            "nis.service",
            "nis.users-affected",
            "nis.duration",
            "nis.geographic-spread",
            "cross-border.services-in-other-countries",
            "timeline.start",
        ],
    ),
    (
        "digital-service-provider",
        &[
            "nis.service",
            "nis.users-affected",
            "nis.duration",
            "nis.geographic-spread",
            "nis.extent-of-disruption",
            "nis.economic-and-societal-impact",
            "cross-border.services-in-other-countries",
        ],
    ),
    ("public-authority", &["timeline.start", "handling.measures"]),
    (
        "personal-data",
        &[
            "personal-data.report-to",
            "personal-data.unauthorised-disclosure",
            "personal-data.unauthorised-access",
            "personal-data.alteration",
            "personal-data.destruction",
            "personal-data.loss",
            "personal-data.categories",
            "scope.affected",
            "scope.total",
            "cross-border.persons-in-other-countries",
            "handling.measures",
            "data-subjects.notified",
            "dpo.appointed",
            "timeline.start",
        ],
    ),
];

fn remove(value: &mut Value, path: &str) {
    let parts: Vec<&str> = path.split('.').collect();
    let mut v = value;
    for p in &parts[..parts.len() - 1] {
        v = v.get_mut(*p).unwrap();
    }
    v.as_object_mut().unwrap().remove(parts[parts.len() - 1]).unwrap_or_else(|| panic!("{path} not in the minimal incident"));
}

#[test]
fn minimal_incident_of_every_scheme_is_valid() {
    for (scheme, _) in REQUIRED {
        assert_eq!(problems(&minimal(scheme)), Vec::<String>::new(), "{scheme}");
    }
}

#[test]
fn each_required_field_is_named_when_missing() {
    for (scheme, fields) in REQUIRED {
        for field in *fields {
            let mut v = minimal(scheme);
            remove(&mut v, field);
            let found = problems(&v);
            assert!(found.iter().any(|p| p.starts_with(&format!("{field}:"))), "{scheme} without {field}: {found:?}");
        }
    }
}

#[test]
fn consistency_rules() {
    let mut v = minimal("voluntary");
    v["description"]["nature"] = json!(["unknown", "hacking"]);
    v["timeline"]["start"] = json!({ "status": "known", "at": "2026-11-21T11:00:00+01:00" });
    v["timeline"]["end"] = json!({ "status": "known", "at": "2026-11-21T08:00:00+01:00" });
    v["timeline"]["detected"]["at"] = json!("yesterday");
    v["reporter"] = json!({ "cvr": "1234", "email": "not an address", "phone": "12" });
    v["elaboration"] = json!({ "is-elaboration": true });
    let found = problems(&v).join("\n");
    for expected in [
        "description.nature:",
        "timeline.end: not before timeline.start",
        "timeline.detected.at: a date and time in RFC 3339",
        "reporter.cvr: a CVR number of 8 digits",
        "reporter.email: an e-mail address",
        "reporter.phone: a Danish phone number",
        "elaboration.earlier-reference:",
    ] {
        assert!(found.contains(expected), "missing {expected:?} in:\n{found}");
    }
    let mut future = minimal("voluntary");
    future["timeline"]["detected"]["at"] = json!("2027-01-01T00:00:00Z");
    assert!(problems(&future).join("\n").contains("a time in the past"));
}

#[test]
fn the_file_alone_does_not_make_a_report_late() {
    // Whether a report is late depends on its stage's deadline and what was filed,
    // which the log knows: `notify` asks for the reason then (see regimes.rs).
    let mut v = minimal("personal-data");
    v["timeline"]["detected"]["at"] = json!("2026-11-18T10:00:00+01:00");
    v["timeline"]["start"]["at"] = json!("2026-11-18T09:00:00+01:00");
    assert_eq!(problems(&v), Vec::<String>::new());
}

#[test]
fn a_list_of_schemes_requires_what_each_requires_once() {
    let mut v = minimal("voluntary");
    v["scheme"] = json!(["voluntary", "nis-operator", "public-authority"]);
    let found = problems(&v);
    assert_eq!(found.iter().filter(|p| p.starts_with("timeline.start:")).count(), 1, "{found:?}");
    assert!(found.iter().any(|p| p.starts_with("handling.measures:")) && found.iter().any(|p| p.starts_with("nis.sector:")), "{found:?}");
    v["scheme"] = json!(["voluntary"]);
    assert_eq!(problems(&v), Vec::<String>::new());
}

#[test]
fn unknown_field_names_file_and_path_and_exits_2() {
    let env = Env::new();
    let file = env.write("bad.toml", "scheme = \"voluntary\"\ntitle = \"t\"\n[description]\nwhat-happened = \"x\"\ncolour = \"red\"\n");
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("bad.toml") && err.contains("description") && err.contains("colour"), "{err}");
}

#[test]
fn bad_choice_names_the_field_and_the_options() {
    let env = Env::new();
    let file = env.write("bad.json", r#"{"scheme": "voluntary", "description": {"nature": ["hackin"]}}"#);
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("bad.json") && err.contains("description.nature") && err.contains("hacking"), "{err}");
}

#[test]
fn every_scheme_error_exits_2_naming_the_file() {
    let env = Env::new();
    let file = env.write("thin.toml", "scheme = \"nis-operator\"\ntitle = \"t\"\n");
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("thin.toml: nis.duration: required for scheme \"nis-operator\""), "{err}");
}

#[test]
fn garbage_inputs_give_clear_errors_not_panics() {
    let env = Env::new();
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("empty.toml", vec![]),
        ("binary.toml", (0u8..=255).cycle().take(5000).collect()),
        ("syntax.toml", b"scheme = \"voluntary\ntitle = [".to_vec()),
        ("syntax.json", b"{\"scheme\": ".to_vec()),
        ("array.json", b"[1,2,3]".to_vec()),
        ("deep.json", ("[".repeat(100_000) + &"]".repeat(100_000)).into_bytes()),
    ];
    for (name, bytes) in cases {
        let path = env.path(name);
        std::fs::write(&path, bytes).unwrap();
        let out = env.certmail(&["preview", path.to_str().unwrap()]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains(name), "{name}: {}", text(&out.stderr));
    }
    let stdin = env.certmail_stdin(&["preview", "-"], b"{\"scheme\": \"voluntary\", \"title\": 5}");
    assert_exit(&stdin, 2);
    assert!(text(&stdin.stderr).contains("<stdin>:1:34: title: expected text"), "{}", text(&stdin.stderr));
}

#[test]
fn schema_describes_every_section() {
    let env = Env::new();
    let out = env.certmail(&["schema"]);
    assert_success(&out);
    let schema: Value = serde_json::from_slice(&out.stdout).unwrap();
    let names = property_names(&schema);
    for section in [
        "elaboration",
        "reporter",
        "on-behalf-of",
        "personal-data",
        "description",
        "technology",
        "timeline",
        "processors",
        "dpo",
        "scope",
        "cross-border",
        "consequences",
        "handling",
        "data-subjects",
        "nis",
        "late-reason",
        "economic-and-societal-impact",
        "third-party-provider",
    ] {
        assert!(names.contains(section), "schema lacks {section}");
    }
}

fn property_names(schema: &Value) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    fn walk(v: &Value, names: &mut BTreeSet<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(props)) = map.get("properties") {
                    names.extend(props.keys().cloned());
                }
                map.values().for_each(|x| walk(x, names));
            }
            Value::Array(items) => items.iter().for_each(|x| walk(x, names)),
            _ => {}
        }
    }
    walk(schema, &mut names);
    names
}

fn object_keys(v: &Value, keys: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, x) in map {
                keys.insert(k.clone());
                object_keys(x, keys);
            }
        }
        Value::Array(items) => items.iter().for_each(|x| object_keys(x, keys)),
        _ => {}
    }
}

/// An incident with a distinctive value in every field, and the values to look for.
pub fn canary_incident() -> (Value, Vec<String>) {
    let mut canaries = Vec::new();
    let mut c = |field: &str| {
        let v = format!("cnry-{field}-q7");
        canaries.push(v.clone());
        v
    };
    let mut v = json!({
        "scheme": "personal-data",
        "title": c("title"),
        "language": "en",
        "tlp": "TLP:AMBER+STRICT",
        "elaboration": { "is-elaboration": true, "earlier-reference": c("earlier-reference") },
        "reporter": { "cvr": "73400113", "organisation": c("organisation"), "address": c("address"), "contact-name": c("contact-name"),
                      "contact-title": c("contact-title"), "email": "cnry-reporter@example.dk", "phone": "+45 73 40 01 12", "foreign-phone": false },
        "on-behalf-of": { "organisation": c("behalf-organisation"), "cvr": "73400114", "details": c("behalf-details") },
        "personal-data": { "report-to": "datatilsynet", "unauthorised-disclosure": true, "unauthorised-access": false, "alteration": false,
                           "destruction": false, "loss": true, "categories": ["cpr-number", "health"], "categories-other": c("categories-other") },
        "description": { "what-happened": c("what-happened"), "location": "address", "location-details": c("location-details"),
                         "nature": ["hacking", "malware"], "nature-other": c("nature-other") },
        "technology": { "it-equipment": ["server"], "communication": ["email"], "data-transfer": ["cloud"], "other": c("technology-other") },
        "timeline": {
            "start": { "status": "known", "at": "2026-11-21T07:34:01+01:00" },
            "end": { "status": "other", "details": c("end-details") },
            "detected": { "status": "known", "at": "2026-11-21T07:34:02+01:00" },
            "classified": { "status": "known", "at": "2026-11-21T07:34:04+01:00" },
            "how-detected": c("how-detected"), "duration": c("timeline-duration"), "notified-by-processor": "yes", "late-reason": c("late-reason")
        },
        "processors": { "involved": "yes", "details": c("processor-details") },
        "dpo": { "appointed": "yes", "name": c("dpo-name"), "email": "cnry-dpo@example.dk", "phone": "+45 73 40 01 15", "foreign-phone": false,
                 "other-actors": c("other-actors") },
        "scope": { "affected": ["patients", "minors"], "total": 7340116, "is-estimate": true, "details": c("scope-details") },
        "cross-border": { "services-in-other-countries": true, "persons-in-other-countries": true, "details": c("cross-border-details"),
                          "foreign-affected": ["citizens"], "foreign-total": 7340117 },
        "consequences": { "confidentiality": ["misuse"], "integrity": ["used-though-invalid"], "availability": ["lack-of-continuity"],
                          "authenticity": ["sender-cannot-be-trusted"], "persons": ["fraud"], "details": c("consequence-details") },
        "handling": { "measures": c("measures"), "taken-by": ["reporter", "others"], "taken-by-others": c("taken-by-others") },
        "data-subjects": { "notified": "partially", "count": 7340118, "when": { "status": "known", "at": "2026-11-21T07:34:03+01:00" },
                           "methods": ["letter"], "content": c("notice-content"), "attachment": c("notice-attachment"), "public-informed": true,
                           "public-informed-how": c("public-informed-how") },
        "nis": { "entity": "essential", "sector": "health", "service": c("nis-service"), "users-affected": 7340119, "users-details": c("users-details"),
                 "duration": c("nis-duration"), "geographic-spread": c("geographic-spread"), "extent-of-disruption": c("extent-of-disruption"),
                 "economic-and-societal-impact": c("economic-impact"), "third-party-provider": c("third-party-provider"),
                 "third-party-consequences": c("third-party-consequences") },
        "indicators": [
            { "type": "domain", "value": "cnry-indicator-q7.example.net", "note": c("indicator-note") },
            { "type": "email", "value": "cnry-phish@example.net" }
        ]
    });
    v["timeline"]["end"]["status"] = json!("other");
    canaries.extend(
        [
            "73400113",
            "cnry-reporter@example.dk",
            "+45 73 40 01 12",
            "73400114",
            // The report shows times in Danish time with the offset, numbers with separators.
            "2026-11-21 07:34:01 (UTC+01:00)",
            "2026-11-21 07:34:02 (UTC+01:00)",
            "cnry-dpo@example.dk",
            "+45 73 40 01 15",
            "7,340,116",
            "7,340,117",
            "7,340,118",
            "2026-11-21 07:34:03 (UTC+01:00)",
            "2026-11-21 07:34:04 (UTC+01:00)",
            "7,340,119",
            "cnry-indicator-q7.example.net",
            "cnry-phish@example.net",
        ]
        .map(String::from),
    );
    (v, canaries)
}

#[test]
fn canary_incident_is_valid_and_covers_every_field_of_the_schema() {
    let (incident, _) = canary_incident();
    assert_eq!(problems(&incident), Vec::<String>::new());
    let mut keys = BTreeSet::new();
    object_keys(&incident, &mut keys);
    let schema = incident::json_schema();
    let missing: Vec<_> = property_names(&schema).difference(&keys).cloned().collect();
    assert!(missing.is_empty(), "the canary incident lacks fields: {missing:?}");
}

/// The problem lines of a failed run (after the summary line), and their line numbers.
fn problem_lines(err: &str) -> (Vec<String>, Vec<usize>) {
    let lines: Vec<String> = err.lines().skip(1).map(|l| l.trim().to_string()).collect();
    let numbers = lines.iter().filter_map(|l| l.split(':').nth(1)?.parse().ok()).collect();
    (lines, numbers)
}

/// No serde or Rust type names reach the person reading the error.
fn assert_plain_words(err: &str) {
    for internal in [" struct ", "TimePoint", " enum ", " variant ", "Option<", "invalid type: ", " a map"] {
        assert!(!err.contains(internal), "{internal:?} in:\n{err}");
    }
}

#[test]
fn broken_file_with_typos_lists_every_problem_in_file_order_with_did_you_mean() {
    let env = Env::new();
    let out = env.certmail(&["preview", "tests/fixtures/incidents/typos.toml"]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    let (lines, numbers) = problem_lines(&err);
    for expected in [
        "typos.toml:2:10: scheme: `volontary` is not a choice here; did you mean `voluntary`?",
        "typos.toml:3:1: titel: unknown field `titel` at the top level; did you mean `title`?",
        "typos.toml:6:2: Description: unknown field `Description` at the top level; did you mean `description`?",
        "typos.toml:7:1: description.what_happened: unknown field `what_happened` in [description]; did you mean `what-happened`?",
        "typos.toml:8:10: description.nature: expected a list in brackets, found text; did you mean `nature = [\"malware\", \"hacking\"]`?",
        "typos.toml:11:17: technology.it-equipment: `servers` is not a choice here; did you mean `server`?",
        "typos.toml:12:18: technology.communication: `E-mail` is not a choice here; did you mean `email`?",
        "typos.toml:15:12: timeline.detected: expected a point in time, with its offset from UTC, found a date/time; did you mean `detected = { status = \"known\", at = \"2026-01-20T06:40:00+01:00\" }`?",
        "typos.toml:16:9: timeline.start: expected a point in time, found text; did you mean `start = { status = \"known\"",
        "typos.toml:19:13: scope.affected: `employes` is not a choice here; did you mean `employees`?",
        "typos.toml:20:9: scope.total: expected a whole number",
        "typos.toml:21:15: scope.is-estimate: expected true or false without quotes, found text; did you mean `is-estimate = true`?",
        "typos.toml:22:1: scope.sector: unknown field `sector` in [scope]; did you mean `nis.sector`",
    ] {
        assert!(lines.iter().any(|l| l.contains(expected)), "missing {expected:?} in:\n{err}");
    }
    assert_eq!(lines.len(), 13, "{err}");
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "not in file order:\n{err}");
    assert_plain_words(&err);
}

#[test]
fn broken_toml_syntax_is_reported_line_by_line_in_one_run() {
    let env = Env::new();
    let out = env.certmail(&["notify", "tests/fixtures/incidents/syntax.toml"]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    let (lines, numbers) = problem_lines(&err);
    for (line, says) in [
        (2, "text goes in quotes: title = \"Ransomware on the file servers\""),
        (6, "for a Windows path use single quotes"),
        (7, "typographic quotes"),
        (11, "closing quote is missing"),
    ] {
        let place = format!("syntax.toml:{line}:");
        assert!(lines.iter().any(|l| l.contains(&place) && l.contains(says)), "line {line}: {says:?} not in:\n{err}");
    }
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{err}");
    // The broken lines are reported once, not again as missing fields.
    assert!(!err.contains("title: required") && !err.contains("description.nature: at least"), "{err}");
}

#[test]
fn broken_windows_1252_file_names_its_lines_and_says_to_save_as_utf8() {
    let env = Env::new();
    // As Notepad on a Danish Windows saves it: Windows-1252, CRLF line ends.
    let utf8 = "scheme = \"voluntary\"\r\ntitle = \"Ransomware på filserverne\"\r\n\r\n[description]\r\nwhat-happened = \"Filerne er krypteret – “løsesum” krævet\"\r\nnature = [\"malware\"]\r\n";
    let cp1252: Vec<u8> = utf8
        .chars()
        .map(|c| match c {
            '–' => 0x96,
            '“' => 0x93,
            '”' => 0x94,
            c if (c as u32) < 0x100 => c as u32 as u8,
            c => panic!("{c} is not in the fixture's code page"),
        })
        .collect();
    let file = env.path("haendelse.toml");
    std::fs::write(&file, cp1252).unwrap();
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    assert!(err.contains("haendelse.toml:2:22: line 2 is not UTF-8") && err.contains("'å'"), "{err}");
    assert!(err.contains("haendelse.toml:5:39: line 5 is not UTF-8"), "{err}");
    assert!(err.contains("save the file as UTF-8"), "{err}");
    // The rest of the file is still checked in the same run.
    assert!(err.contains("timeline.detected: required"), "{err}");
    assert!(!err.contains("offset"), "{err}");
}

#[test]
fn broken_json_values_of_the_wrong_kind_are_named_with_line_and_column() {
    let env = Env::new();
    let out = env.certmail(&["preview", "tests/fixtures/incidents/types.json"]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    for expected in [
        "types.json:5:15: nis.sector: `Energi` is not a choice here; did you mean `energy`?",
        "types.json:7:23: nis.users-affected: expected a whole number without quotes, found text; did you mean `\"users-affected\": 12000`?",
        "types.json:8:17: nis.duration: expected text in quotes, found a number",
        "types.json:11:52: cross-border.services-in-other-countries: expected true or false without quotes",
        "types.json: timeline.start: required for scheme \"nis-operator\"",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    assert_plain_words(&err);
}

#[test]
fn broken_form_and_broken_meaning_come_in_the_same_run() {
    let env = Env::new();
    let detected = (Utc::now() - chrono::Duration::hours(1)).to_rfc3339();
    let file = env.write(
        "mixed.toml",
        &format!(
            "scheme = \"voluntary\"\ntitle = \"t\"\n\n[reporter]\ncvr = \"1234567\"\n\n[description]\nwhat-happened = \"x\"\nnature = [\"phising\"]\n\n[timeline]\ndetected = {{ status = \"known\", at = \"{detected}\" }}\nend = {{ status = \"known\", at = \"2020-01-01T00:00:00Z\" }}\nstart = {{ status = \"known\", at = \"{detected}\", when = \"night\" }}\n"
        ),
    );
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    let err = text(&out.stderr);
    for expected in [
        "mixed.toml:5:7: reporter.cvr: a CVR number of 8 digits, not \"1234567\"",
        "mixed.toml:9:11: description.nature: `phising` is not a choice here; did you mean `phishing`?",
        "mixed.toml:13:7: timeline.end: not before timeline.start",
        "mixed.toml:14:",
        "timeline.start.when: unknown field `when` in [timeline.start]",
    ] {
        assert!(err.contains(expected), "missing {expected:?} in:\n{err}");
    }
    let (_, numbers) = problem_lines(&err);
    assert!(numbers.windows(2).all(|w| w[0] <= w[1]), "{err}");
}

#[test]
fn read_commands_on_a_home_that_does_not_exist_say_so_and_create_nothing() {
    let env = Env::bare();
    let missing = env.path("mistyped-home");
    for args in [&["status"][..], &["status", "--json"], &["outbox", "list"], &["log", "list"], &["read", "CM-7KQ2-M9XD-3RTA"]] {
        let out = env.command().env("CERTMAIL_HOME", &missing).args(args).output().unwrap();
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("no certmail home at"), "{args:?}: {}", text(&out.stderr));
        assert!(!missing.exists(), "{args:?} created {}", missing.display());
    }
}
