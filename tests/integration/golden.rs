//! Golden tests: each example incident rendered in Danish and English, compared with
//! the reviewed text in tests/golden/. Run with UPDATE_GOLDEN=1 to rewrite them, then
//! review the diff.

use std::path::Path;

use certmail::incident::{self, Language};
use certmail::template::{self, AttachmentInfo, ReportInput};

/// One incident file per regime: the examples, a voluntary report with indicators, and
/// fixtures for the regimes no example falls under (the 2018 NIS law for operators and
/// for digital service providers, the telecom route of a personal data breach), in
/// Danish summer time or across its start.
const EXAMPLES: &[&str] = &[
    "examples/voluntary-ransomware.toml",
    "examples/nis-operator-outage.toml",
    "examples/digital-service-provider.json",
    "examples/public-authority-phishing.toml",
    "examples/personal-data-breach.toml",
    "examples/hospital-ransomware.toml",
    "examples/bank-outage.toml",
    "tests/fixtures/golden/dns-outage-2018.toml",
    "tests/fixtures/golden/marketplace-outage-2018.json",
    "tests/fixtures/golden/telecom-breach.toml",
    "tests/fixtures/golden/voluntary-indicators.toml",
];

#[test]
fn rendered_examples_match_the_golden_files() {
    let identity = crate::support::test_identity();
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let mut mismatches = Vec::new();
    for example in EXAMPLES {
        let source = incident::read_source(Path::new(example)).unwrap();
        let parsed = incident::with_identity(incident::parse(&source).unwrap(), Some(&identity));
        for language in [Language::Da, Language::En] {
            let attachments = [AttachmentInfo { name: "iocs.txt".into(), size: 42 }];
            let input = ReportInput {
                incident: &parsed,
                reference: "CM-2026-0042",
                recipient_name: "Example CERT — test only",
                recipient_address: "cert@example-cert.invalid",
                created: chrono::DateTime::parse_from_rfc3339("2026-11-22T12:00:00Z").unwrap().to_utc(),
                follow_up: None,
                attachments: &attachments,
                samples: &[],
                changes: &[],
                language,
                regimes: &certmail::regimes::Table::embedded(),
            };
            let rendered = template::render(&input, None).unwrap();
            let actual = format!("Subject: {}\n\n{}", rendered.subject, rendered.body);
            let stem = Path::new(example).file_stem().unwrap().to_str().unwrap();
            let golden = Path::new("tests/golden").join(format!("{stem}.{}.txt", language.code()));
            if update {
                std::fs::create_dir_all(golden.parent().unwrap()).unwrap();
                std::fs::write(&golden, &actual).unwrap();
            } else if std::fs::read_to_string(&golden).ok().as_deref() != Some(actual.as_str()) {
                mismatches.push(golden.display().to_string());
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "rendered reports differ from {mismatches:?}; run UPDATE_GOLDEN=1 cargo test golden and review the diff"
    );
}

#[test]
fn user_templates_override_the_embedded_ones() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("voluntary.en.txt"),
        "{% block subject %}[{{ reference }}] custom{% endblock %}{% block body %}Custom: {{ incident.title }}{% endblock %}",
    )
    .unwrap();
    let source = incident::read_source(Path::new("examples/voluntary-ransomware.toml")).unwrap();
    let parsed = incident::parse(&source).unwrap();
    let input = ReportInput {
        incident: &parsed,
        reference: "CM-2026-0001",
        recipient_name: "r",
        recipient_address: "r@example.dk",
        created: chrono::DateTime::UNIX_EPOCH,
        follow_up: None,
        attachments: &[],
        samples: &[],
        changes: &[],
        language: Language::En,
        regimes: &certmail::regimes::Table::embedded(),
    };
    let rendered = template::render(&input, Some(dir.path())).unwrap();
    assert_eq!(rendered.subject, "[CM-2026-0001] custom");
    assert_eq!(rendered.body, "Custom: Ransomware på filservere\n");
    // The Danish one is not overridden.
    let da = ReportInput { language: Language::Da, ..input };
    assert!(template::render(&da, Some(dir.path())).unwrap().body.contains("Frivillig underretning"));
}
