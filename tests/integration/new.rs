//! `certmail new`: the commented file of each scheme is refused until filled in (exit
//! 2, naming every field still missing in one run), and sent once it is. The schema
//! requires per scheme what `notify` requires.

use chrono::{Duration, Utc};
use serde_json::Value;

use crate::support::*;

/// What each scheme's file asks to fill in (the reporter comes from `[identity]`).
const REQUIRED: &[(&str, &[&str])] = &[
    ("voluntary", &["title", "description.what-happened", "description.nature", "timeline.detected"]),
    (
        "nis-operator",
        &[
            "title",
            "description.what-happened",
            "description.nature",
            "timeline.start",
            "timeline.detected",
            "cross-border.services-in-other-countries",
            "nis.sector",
            "nis.service",
            "nis.users-affected",
            "nis.duration",
            "nis.geographic-spread",
        ],
    ),
    (
        "digital-service-provider",
        &[
            "title",
            "description.what-happened",
            "description.nature",
            "timeline.detected",
            "cross-border.services-in-other-countries",
            "nis.service",
            "nis.users-affected",
            "nis.duration",
            "nis.geographic-spread",
            "nis.extent-of-disruption",
            "nis.economic-and-societal-impact",
        ],
    ),
    (
        "public-authority",
        &["title", "description.what-happened", "description.nature", "timeline.start", "timeline.detected", "handling.measures"],
    ),
    (
        "personal-data",
        &[
            "title",
            "personal-data.report-to",
            "personal-data.unauthorised-disclosure",
            "personal-data.unauthorised-access",
            "personal-data.alteration",
            "personal-data.destruction",
            "personal-data.loss",
            "personal-data.categories",
            "description.what-happened",
            "description.nature",
            "timeline.start",
            "timeline.detected",
            "dpo.appointed",
            "scope.affected",
            "scope.total",
            "cross-border.persons-in-other-countries",
            "consequences",
            "handling.measures",
            "data-subjects.notified",
        ],
    ),
];

/// An answer for each key the files ask for, as a responder would type it in.
fn answers() -> Vec<(&'static str, String)> {
    // Relative to now, so the suite passes on any day (the clock a year ahead too).
    let detected = (Utc::now() - Duration::hours(2)).format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    let start = (Utc::now() - Duration::hours(5)).format("%Y-%m-%dT%H:%M:%S+00:00").to_string();
    vec![
        ("title", "\"Ransomware on the file servers\"".into()),
        ("what-happened", "\"\"\"\nFS01 and FS02 were encrypted overnight.\nThe VPN account had no MFA.\"\"\"".into()),
        ("nature", "[\"malware\", \"hacking\"]".into()),
        ("detected", format!("{{ status = \"known\", at = \"{detected}\" }}")),
        ("start", format!("{{ status = \"known\", at = \"{start}\" }}")),
        ("services-in-other-countries", "false".into()),
        ("persons-in-other-countries", "false".into()),
        ("sector", "\"energy\"".into()),
        ("service", "\"Electricity distribution\"".into()),
        ("users-affected", "12000".into()),
        ("duration", "\"4 hours\"".into()),
        ("geographic-spread", "\"Funen\"".into()),
        ("extent-of-disruption", "\"\"\"\nLogins failed for every customer.\"\"\"".into()),
        ("economic-and-societal-impact", "\"\"\"\nPayments delayed.\"\"\"".into()),
        ("measures", "\"\"\"\nServers isolated, VPN account locked.\"\"\"".into()),
        ("report-to", "\"datatilsynet\"".into()),
        ("unauthorised-disclosure", "false".into()),
        ("unauthorised-access", "true".into()),
        ("alteration", "false".into()),
        ("destruction", "false".into()),
        ("loss", "false".into()),
        ("categories", "[\"name\", \"cpr-number\"]".into()),
        ("appointed", "\"no\"".into()),
        ("affected", "[\"employees\"]".into()),
        ("total", "450".into()),
        ("is-estimate", "true".into()),
        ("confidentiality", "[\"misuse\"]".into()),
        ("notified", "\"undecided\"".into()),
    ]
}

/// Fills the file as a person would: each line still holding "<…>" gets its answer;
/// the lists of a section where one is enough are left as they are.
fn fill(text: &str) -> String {
    let answers = answers();
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let key = line.split('=').next().unwrap_or("").trim();
        let answer = answers.iter().find(|(k, _)| *k == key).filter(|_| !line.starts_with('#') && line.contains('='));
        match answer {
            Some((_, value)) if line.ends_with("\"\"\"") => {
                // A text over several lines: its placeholder is the next line.
                lines.next();
                out.push_str(&format!("{key} = {value}\n"));
            }
            Some((_, value)) if line.contains("\"<") => out.push_str(&format!("{key} = {value}\n")),
            _ => out.push_str(&format!("{line}\n")),
        }
    }
    out
}

#[test]
fn new_file_of_every_scheme_names_what_is_missing_and_is_sent_when_filled() {
    let env = Env::new();
    for (scheme, required) in REQUIRED {
        for lang in ["da", "en"] {
            let out = env.certmail(&["new", scheme, "--lang", lang]);
            assert_success(&out);
            let skeleton = text(&out.stdout);
            let file = env.write(&format!("{scheme}-{lang}.toml"), &skeleton);

            let unfilled = env.certmail(&["notify", file.to_str().unwrap()]);
            assert_exit(&unfilled, 2);
            let err = text(&unfilled.stderr);
            for field in *required {
                assert!(err.contains(&format!(": {field}: not filled in yet")), "{scheme} {lang}: {field} not named in:\n{err}");
            }
            let named = err.lines().filter(|l| l.contains("not filled in yet")).count();
            assert_eq!(named, required.len(), "{scheme} {lang}: exactly what is missing:\n{err}");
            // Each with its line and column, in file order.
            let lines: Vec<usize> = err.lines().skip(1).map(|l| l.trim().split(':').nth(1).unwrap().parse().unwrap()).collect();
            assert!(lines.windows(2).all(|w| w[0] <= w[1]), "{scheme}: not in file order:\n{err}");

            let filled = env.write(&format!("{scheme}-{lang}-filled.toml"), &fill(&skeleton));
            let (sent, bytes) = env.notify(&filled, &[]);
            assert_exit(&sent, 3);
            assert!(text(&sent.stdout).contains("queued in the outbox"), "{scheme} {lang}: {}", text(&sent.stdout));
            assert!(!bytes.is_empty());
        }
    }
}

#[test]
fn new_file_marks_required_fields_lists_choices_and_comments_out_the_rest() {
    let env = Env::bare();
    let out = env.certmail(&["new", "nis-operator", "--lang", "en"]);
    assert_success(&out);
    let file = text(&out.stdout);
    assert!(file.contains("# REQUIRED. Sector\n# One of:\n#   energy "), "{file}");
    assert!(file.contains("\nsector = \"<choose from the list above>\"\n"));
    assert!(file.contains("#   drinking-water                   Drinking water\n"), "{file}");
    // Optional fields are there to uncomment, in the form's order.
    let order =
        ["[elaboration]", "[reporter]", "[on-behalf-of]", "[description]", "[technology]", "[timeline]", "[dpo]", "[scope]", "[nis]"];
    let places: Vec<usize> = order.iter().map(|s| file.find(s).unwrap_or_else(|| panic!("{s} missing"))).collect();
    assert!(places.windows(2).all(|w| w[0] < w[1]));
    assert!(file.contains("\n# location = \"<address | unknown | other>\"\n"));
    let danish = text(&env.certmail(&["new", "nis-operator", "--lang", "da"]).stdout);
    assert!(danish.contains("# PÅKRÆVET. Sektor\n") && danish.contains("language = \"da\""), "{danish}");
    let bad = env.certmail(&["new", "volontary"]);
    assert_exit(&bad, 2);
    assert!(text(&bad.stderr).contains("voluntary"), "{}", text(&bad.stderr));
}

#[test]
fn new_schema_requires_per_scheme_what_notify_requires() {
    let env = Env::bare();
    let schema: Value = serde_json::from_slice(&env.certmail(&["schema"]).stdout).unwrap();
    assert_eq!(schema["required"], serde_json::json!(["scheme"]));
    let branch = |scheme: &str| {
        schema["allOf"].as_array().unwrap().iter().find(|b| b["if"]["properties"]["scheme"]["anyOf"][0]["const"] == scheme).unwrap()["then"]
            .clone()
    };
    let nis = branch("nis-operator");
    assert_eq!(
        nis["properties"]["nis"]["required"],
        serde_json::json!(["sector", "service", "users-affected", "duration", "geographic-spread"])
    );
    assert!(nis["required"].as_array().unwrap().contains(&Value::from("title")));
    let voluntary = branch("voluntary");
    assert!(voluntary["properties"].get("nis").is_none());
    // "nature" or "nature-other" will do.
    let any = &voluntary["allOf"][0]["anyOf"];
    assert_eq!(any[1]["properties"]["description"]["required"], serde_json::json!(["nature-other"]));
}
