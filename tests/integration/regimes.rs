//! The law in force, end to end: one incident under several regimes, each stage filed
//! on Virk.dk clearing only its own clock, the final report's calendar month counted
//! from the recorded notification, clocks from the recording when detection is not
//! known, and the late-reason asked exactly when a report is late. Every time is
//! relative to now: the suite passes with the clock a year ahead.

use chrono::{DateTime, Duration, SecondsFormat, SubsecRound, Utc};

use crate::support::*;

fn rfc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A hospital's ransomware case: NIS2 and a personal data breach, detected at `detected`.
fn hospital(detected: serde_json::Value, late_reason: Option<&str>) -> serde_json::Value {
    let mut timeline = serde_json::json!({ "start": { "status": "unknown" }, "detected": detected });
    if let Some(r) = late_reason {
        timeline["late-reason"] = r.into();
    }
    serde_json::json!({
        "scheme": ["nis-operator", "personal-data"], "title": "Ransomware at the hospital",
        "personal-data": { "report-to": "datatilsynet", "unauthorised-disclosure": false, "unauthorised-access": true,
                           "alteration": false, "destruction": false, "loss": false, "categories": ["health"] },
        "description": { "what-happened": "Ransomware encrypted the patient journal servers.", "nature": ["malware"] },
        "timeline": timeline,
        "scope": { "affected": ["patients"], "total": 1200, "is-estimate": true },
        "cross-border": { "persons-in-other-countries": false, "services-in-other-countries": false },
        "consequences": { "availability": ["lack-of-continuity"] },
        "handling": { "measures": "Servers isolated, restore from backup." },
        "data-subjects": { "notified": "undecided" },
        "dpo": { "appointed": "no" },
        "nis": { "sector": "health", "service": "Patient journals", "users-affected": 1200, "duration": "ongoing",
                 "geographic-spread": "Region Hovedstaden" }
    })
}

fn notified(env: &Env, incident: &serde_json::Value) -> String {
    let file = env.write("hospital.json", &incident.to_string());
    let (out, _) = env.notify(&file, &["--json"]);
    assert_queued(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string()
}

fn status(env: &Env) -> serde_json::Value {
    let out = env.certmail(&["status", "--json"]);
    assert_success(&out);
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["incidents"][0].clone()
}

fn deadline(incident: &serde_json::Value, regime: &str, stage: &str) -> (DateTime<Utc>, String) {
    let d = incident["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["regime"] == regime && d["stage"] == stage)
        .unwrap_or_else(|| panic!("{regime} {stage} in {}", incident["deadlines"]))
        .clone();
    let due = DateTime::parse_from_rfc3339(d["due"].as_str().unwrap()).unwrap().with_timezone(&Utc);
    (due, d["state"].as_str().unwrap().to_string())
}

#[test]
fn each_stage_is_filed_on_its_own_and_the_final_report_counts_a_month_from_the_notification() {
    let env = Env::new();
    let now = Utc::now().trunc_subsecs(0);
    let detected = (now - Duration::hours(30)).with_timezone(&chrono::FixedOffset::east_opt(3600).unwrap());
    let incident = hospital(serde_json::json!({ "status": "known", "at": detected.to_rfc3339() }), Some("found late"));
    let reference = notified(&env, &incident);
    let detected = detected.with_timezone(&Utc);

    let s = status(&env);
    assert_eq!(s["reference"], reference.as_str());
    assert_eq!(s["schemes"], serde_json::json!(["nis-operator", "personal-data"]));
    let regimes: Vec<&str> = s["regimes"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(regimes, ["nis2", "gdpr"]);
    assert_eq!(deadline(&s, "nis2", "early-warning"), (detected + Duration::hours(24), "overdue".into()));
    assert_eq!(deadline(&s, "nis2", "notification"), (detected + Duration::hours(72), "open".into()));
    assert_eq!(deadline(&s, "gdpr", "notification"), (detected + Duration::hours(72), "open".into()));
    // Overdue first; the final report has no due time until the notification is filed.
    assert_eq!(s["deadlines"][0]["state"], "overdue");
    assert!(s["deadlines"].as_array().unwrap().iter().all(|d| d["stage"] != "final"));
    assert!(s["stages_without_deadline"].to_string().contains("submission of notification"), "{}", s["stages_without_deadline"]);

    // A stage the incident's regimes do not have is refused.
    let out = env.certmail(&["incident", "virk", &reference, "--stage", "initial", "--reference", "V-1"]);
    assert_exit(&out, 2);

    let out = env.certmail(&["incident", "virk", &reference, "--stage", "early-warning", "--reference", "V-1"]);
    assert_success(&out);
    assert!(text(&out.stderr).contains("after its deadline"), "a late early warning is said: {}", text(&out.stderr));
    let s = status(&env);
    assert_eq!(deadline(&s, "nis2", "early-warning").1, "met");
    assert_eq!(deadline(&s, "nis2", "notification").1, "open", "filing the early warning clears only its own clock");
    assert_eq!(deadline(&s, "gdpr", "notification").1, "open");

    let filed = now - Duration::hours(2);
    let out = env.certmail(&[
        "incident",
        "virk",
        &reference,
        "--stage",
        "notification",
        "--regime",
        "nis2",
        "--at",
        &rfc(filed),
        "--reference",
        "V-2",
    ]);
    assert_success(&out);
    let s = status(&env);
    assert_eq!(deadline(&s, "nis2", "notification").1, "met");
    // One calendar month in Danish time after the recorded notification.
    let final_ = deadline(&s, "nis2", "final");
    assert_eq!(final_, (certmail::regimes::clock::add_months(filed, 1), "open".into()));
    assert_eq!(deadline(&s, "gdpr", "notification").1, "open");

    // Without --stage: the stage due first that is not filed (the GDPR notification).
    assert_success(&env.certmail(&["incident", "virk", &reference, "--reference", "V-3"]));
    assert_eq!(deadline(&status(&env), "gdpr", "notification").1, "met");
    // A filing cannot be recorded in the future.
    let future = rfc(now + Duration::hours(3));
    assert_exit(&env.certmail(&["incident", "virk", &reference, "--stage", "intermediate", "--at", &future, "--reference", "V-4"]), 2);
    assert_success(&env.certmail(&["log", "verify"]));
    let text_status = text(&env.certmail(&["status"]).stdout);
    assert!(text_status.contains("reported under the Danish NIS2 Act (nis2), the GDPR (gdpr)"), "{text_status}");
    assert!(text_status.contains("final report"), "{text_status}");
}

#[test]
fn unknown_detection_starts_the_clocks_at_the_recording_and_says_so() {
    let env = Env::new();
    let before = Utc::now();
    let incident = hospital(serde_json::json!({ "status": "unknown" }), None);
    let reference = notified(&env, &incident);
    let s = status(&env);
    assert_eq!(s["reference"], reference.as_str());
    assert_eq!(s["clocks_from"]["event"], "recorded");
    let (due, state) = deadline(&s, "gdpr", "notification");
    assert_eq!(state, "open");
    assert!(due >= before + Duration::hours(72) - Duration::seconds(2) && due <= Utc::now() + Duration::hours(72), "{due}");
    let shown = text(&env.certmail(&["status"]).stdout);
    assert!(shown.contains("the detection time is not known"), "{shown}");

    // `at` is checked even where it is not used.
    let bad = hospital(serde_json::json!({ "status": "other", "details": "weekend", "at": "last friday" }), None);
    let file = env.write("bad.json", &bad.to_string());
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("timeline.detected.at"), "{}", text(&out.stderr));
}

#[test]
fn the_late_reason_is_asked_only_of_a_late_report() {
    let env = Env::new();
    let at = |hours: i64| serde_json::json!({ "status": "known", "at": rfc(Utc::now() - Duration::hours(hours)) });
    // 80 hours on, the GDPR notification (72 h) is late, and GDPR art. 33(1) asks why.
    let file = env.write("late.json", &hospital(at(80), None).to_string());
    let out = env.certmail(&["notify", file.to_str().unwrap()]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("timeline.late-reason") && text(&out.stderr).contains("under gdpr"), "{}", text(&out.stderr));
    // 30 hours on, only NIS2's early warning (24 h) is late: said, not refused.
    let file = env.write("early.json", &hospital(at(30), None).to_string());
    let (out, _) = env.notify(&file, &[]);
    assert_queued(&out);
    assert!(
        text(&out.stderr).contains("early-warning under nis2") && text(&out.stderr).contains("filing on Virk.dk is late"),
        "{}",
        text(&out.stderr)
    );
    // Two hours on, nothing is late.
    let file = env.write("timely.json", &hospital(at(2), None).to_string());
    let (out, _) = env.notify(&file, &[]);
    assert_queued(&out);
    assert!(!text(&out.stderr).contains("is late"), "{}", text(&out.stderr));
}

#[test]
fn new_and_schema_take_several_schemes() {
    let env = Env::new();
    let out = env.certmail(&["new", "nis-operator", "personal-data", "--lang", "en"]);
    assert_success(&out);
    let file = text(&out.stdout);
    assert!(file.contains("scheme = [\"nis-operator\", \"personal-data\"]"), "{file}");
    assert!(file.lines().any(|l| l.starts_with("sector = ")) && file.lines().any(|l| l.starts_with("report-to = ")), "{file}");
    let schema = text(&env.certmail(&["schema"]).stdout);
    assert!(schema.contains("\"contains\""), "a list of schemes requires each one's fields");
    assert_success(&env.certmail(&["new", "financial"]));
}

#[test]
fn dora_stages_chain_a_home_table_replaces_a_regime_and_the_chain_covers_filings() {
    let env = Env::new();
    let now = Utc::now().trunc_subsecs(0);
    let detected = now - Duration::hours(10);
    let classified = now - Duration::hours(9);
    let example = std::fs::read_to_string("examples/bank-outage.toml").unwrap();
    let incident: String = example
        .lines()
        .map(|l| match l.split(' ').next() {
            Some("start") => format!("start = {{ status = \"known\", at = \"{}\" }}", rfc(detected - Duration::minutes(15))),
            Some("detected") => format!("detected = {{ status = \"known\", at = \"{}\" }}", rfc(detected)),
            Some("classified") => format!("classified = {{ status = \"known\", at = \"{}\" }}", rfc(classified)),
            _ => l.to_string(),
        })
        .map(|l| l + "\n")
        .collect();
    let file = env.write("bank.toml", &incident);
    let (out, _) = env.notify(&file, &["--json"]);
    assert_queued(&out);
    let reference = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["reference"].as_str().unwrap().to_string();
    let s = status(&env);
    // 4 hours after classification, sooner than 24 hours after awareness: overdue.
    assert_eq!(deadline(&s, "dora", "initial"), (classified + Duration::hours(4), "overdue".into()));
    let initial = now - Duration::hours(4);
    let out = env.certmail(&[
        "incident",
        "virk",
        &reference,
        "--stage",
        "initial",
        "--at",
        &rfc(initial),
        "--reference",
        "FT-1",
        "--late-reason",
        "x",
    ]);
    assert_success(&out);
    assert_eq!(deadline(&status(&env), "dora", "intermediate"), (initial + Duration::hours(72), "open".into()));

    // The chain covers the filing's row: an edit behind certmail's back is found.
    assert_success(&env.certmail(&["log", "verify"]));
    crate::log::tamper(&env, "UPDATE filings SET submitted_at = '2099-01-01T00:00:00.000Z'");
    assert_exit(&env.certmail(&["log", "verify"]), 1);
    crate::log::tamper(&env, &format!("UPDATE filings SET submitted_at = '{}'", certmail::store::timestamp(initial)));
    assert_success(&env.certmail(&["log", "verify"]));

    // A sector's own figures, from the home.
    let table = r#"
[[regime]]
id = "dora"
name = { da = "DORA", en = "DORA" }
basis = { da = "b", en = "b" }
authority = { da = "Finanstilsynet", en = "Finanstilsynet" }
citation = "a sector's own rules, for this test"
[[regime.stage]]
id = "initial"
name = { da = "første", en = "initial" }
citation = "test figures"
clock = [{ hours = 48, from = "awareness" }]
"#;
    std::fs::write(
        env.home.join("regimes.toml"),
        table.replace(
            "basis = { da = \"b\", en = \"b\" }",
            "basis = { da = \"The sector's own basis, § 99\", en = \"The sector's own basis, § 99\" }",
        ),
    )
    .unwrap();
    assert_eq!(deadline(&status(&env), "dora", "initial"), (detected + Duration::hours(48), "met".into()));
    // The report names the legal basis the home's table gives.
    let out = env.certmail(&["preview", file.to_str().unwrap()]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("The sector's own basis, § 99"), "{}", text(&out.stdout));
    std::fs::write(env.home.join("regimes.toml"), table.replace("hours = 48", "hours = 48, months = 1")).unwrap();
    let out = env.certmail(&["status"]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("regimes.toml"), "{}", text(&out.stderr));
}

#[test]
fn one_filing_of_a_stage_covers_every_regime_that_has_it() {
    let env = Env::new();
    let detected = Utc::now().trunc_subsecs(0) - Duration::hours(2);
    let reference = notified(&env, &hospital(serde_json::json!({ "status": "known", "at": rfc(detected) }), None));
    let out = env.certmail(&["incident", "virk", &reference, "--stage", "notification", "--reference", "V-9"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("under nis2") && text(&out.stdout).contains("under gdpr"), "{}", text(&out.stdout));
    let s = status(&env);
    assert_eq!(deadline(&s, "nis2", "notification").1, "met");
    assert_eq!(deadline(&s, "gdpr", "notification").1, "met");
    assert_eq!(deadline(&s, "nis2", "early-warning").1, "open", "the early warning is a submission of its own");
    assert_eq!(deadline(&s, "nis2", "final").1, "open");
    assert_success(&env.certmail(&["log", "verify"]));
}

#[test]
fn a_filing_is_refused_when_it_cannot_be_true_and_a_stage_filed_again_is_said_to_be() {
    let env = Env::new();
    let now = Utc::now().trunc_subsecs(0);
    let detected = now - Duration::hours(30);
    let reference = notified(&env, &hospital(serde_json::json!({ "status": "known", "at": rfc(detected) }), Some("found late")));
    let virk = |extra: &[&str]| {
        let mut args = vec!["incident", "virk", reference.as_str()];
        args.extend_from_slice(extra);
        env.certmail(&args)
    };
    let filings = |env: &Env| text(&env.certmail(&["log", "show", &reference]).stdout).matches("virk-filed").count();
    let refused = |out: &std::process::Output, field: &str, said: &str| {
        assert_exit(out, 2);
        let err = text(&out.stderr);
        assert!(err.contains(field) && err.contains(said), "{err}");
    };
    // An empty Virk.dk reference, a filing before the incident was detected, a
    // receipt that is not a PDF: refused, naming the option, nothing recorded.
    refused(&virk(&["--stage", "early-warning", "--reference", "  "]), "--reference", "empty");
    let before = rfc(detected - Duration::days(3));
    refused(&virk(&["--stage", "early-warning", "--at", &before, "--reference", "V-0"]), "--at", "before the incident was detected");
    let not_pdf = env.write("receipt.pdf", "this is no pdf\n");
    refused(&virk(&["--stage", "early-warning", "--reference", "V-0", "--receipt", not_pdf.to_str().unwrap()]), "--receipt", "not a PDF");
    let json = virk(&["--stage", "early-warning", "--reference", "", "--json"]);
    assert_exit(&json, 2);
    let error: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(error["error"]["field"], "--reference", "{error}");
    assert_eq!(filings(&env), 0);

    // The final report follows the notification it counts from.
    let notified_at = now - Duration::hours(3);
    assert_success(&virk(&["--stage", "notification", "--regime", "nis2", "--at", &rfc(notified_at), "--reference", "V-1"]));
    let earlier = rfc(notified_at - Duration::hours(1));
    refused(&virk(&["--stage", "final", "--regime", "nis2", "--at", &earlier, "--reference", "V-2"]), "--at", "follows the notification");

    // Without --regime, a stage filed under one regime is filed for the others only.
    let out = virk(&["--stage", "notification", "--reference", "V-3"]);
    assert_success(&out);
    assert!(text(&out.stdout).contains("under gdpr") && !text(&out.stdout).contains("under nis2"), "{}", text(&out.stdout));
    assert!(!text(&out.stderr).contains("already filed"), "{}", text(&out.stderr));
    // Filed again where it is filed everywhere: recorded, and said to be a correction.
    let out = virk(&["--stage", "notification", "--regime", "nis2", "--reference", "V-4"]);
    assert_success(&out);
    assert!(text(&out.stderr).contains("already filed"), "{}", text(&out.stderr));
    assert_eq!(filings(&env), 3);
}

#[test]
fn preview_refuses_a_late_report_without_its_reasons_as_notify_does() {
    let env = Env::new();
    let detected = Utc::now().trunc_subsecs(0) - Duration::hours(100);
    let incident = hospital(serde_json::json!({ "status": "known", "at": rfc(detected) }), None);
    let file = env.write("late.json", &incident.to_string());
    for command in ["preview", "notify"] {
        let out = env.certmail(&[command, file.to_str().unwrap()]);
        assert_exit(&out, 2);
        assert!(text(&out.stderr).contains("timeline.late-reason"), "{command}: {}", text(&out.stderr));
    }
}

#[test]
fn a_figure_the_configuration_sets_is_said_to_be_set_there() {
    let env = Env::new();
    let mut config = std::fs::read_to_string(env.config_path()).unwrap();
    config.push_str("\n[deadlines.schemes.personal-data]\nnotification-hours = 48\n");
    std::fs::write(env.config_path(), config).unwrap();
    let detected = Utc::now().trunc_subsecs(0) - Duration::hours(2);
    notified(&env, &hospital(serde_json::json!({ "status": "known", "at": rfc(detected) }), None));
    let s = status(&env);
    assert_eq!(deadline(&s, "gdpr", "notification"), (detected + Duration::hours(48), "open".into()));
    let rule = |regime: &str| {
        s["deadlines"].as_array().unwrap().iter().find(|d| d["regime"] == regime && d["stage"] == "notification").unwrap()["rule"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(rule("gdpr").contains("[deadlines.schemes]"), "{}", rule("gdpr"));
    assert!(!rule("nis2").contains("[deadlines.schemes]"), "the table's own figure: {}", rule("nis2"));
    let out = env.certmail(&["status"]);
    assert!(text(&out.stdout).contains("48 h after detection, as [deadlines.schemes]"), "{}", text(&out.stdout));
}
