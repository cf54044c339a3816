//! Blind acceptance of the legal clocks: every case of `tests/regimes-blind/cases.toml`
//! (expectations from the law, `tests/regimes-blind/RULES.md`) is recorded through the
//! real binary in its own home (an incident file, `notify` without a relay, `incident
//! virk` per filing) and held to `status --json`'s `deadlines`.
//!
//! Times are relative to now, or fixed instants in the past, or fixed instants in the
//! future with certmail's clock pinned there by libfaketime (Debian's `faketime`), so
//! no case knows today's date and the suite passes a year ahead as well.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use chrono::{DateTime, Datelike, Duration, NaiveDate, SecondsFormat, TimeZone, Utc, Weekday};
use chrono_tz::Europe::Copenhagen;
use serde::Deserialize;
use serde_json::Value;

use crate::support::*;

#[derive(Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Schemes {
    One(String),
    Many(Vec<String>),
}

impl Schemes {
    fn list(&self) -> Vec<String> {
        match self {
            Schemes::One(s) => vec![s.clone()],
            Schemes::Many(v) => v.clone(),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct Case {
    name: String,
    #[allow(dead_code)]
    about: String,
    scheme: Schemes,
    sector: Option<String>,
    report_to: Option<String>,
    detected: String,
    classified: Option<String>,
    clock: Option<String>,
    tolerance_s: Option<i64>,
    #[serde(default)]
    filing: Vec<Filing>,
    #[serde(default)]
    expect: Vec<Expect>,
    #[serde(default)]
    absent: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Filing {
    stage: String,
    regime: Option<String>,
    at: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    regime: String,
    stage: String,
    due: String,
    state: String,
}

/// What the time expressions of one case refer to.
struct Times {
    leap: i32,
    now: DateTime<Utc>,
    detected: Option<DateTime<Utc>>,
    classified: Option<DateTime<Utc>>,
    recorded: Option<DateTime<Utc>>,
    filed: HashMap<String, DateTime<Utc>>,
}

const STAGES: &[&str] = &["early-warning", "notification", "intermediate", "initial", "final"];

impl Times {
    /// An RFC 3339 instant, or BASE followed by signed terms (see cases.toml).
    fn eval(&self, expr: &str) -> Result<DateTime<Utc>, String> {
        let expr = expr.replace("{leap}", &self.leap.to_string());
        let expr = expr.trim();
        if expr.starts_with(|c: char| c.is_ascii_digit()) {
            return DateTime::parse_from_rfc3339(expr).map(|t| t.with_timezone(&Utc)).map_err(|e| format!("bad time {expr:?}: {e}"));
        }
        let (mut t, rest) = if expr.starts_with(['+', '-']) {
            (self.now, expr)
        } else if let Some(after) = expr.strip_prefix("filed:") {
            let stage = STAGES.iter().find(|s| after.starts_with(**s)).ok_or_else(|| format!("unknown stage in {expr:?}"))?;
            let t = *self.filed.get(*stage).ok_or_else(|| format!("{expr:?}: no filing of {stage} yet"))?;
            (t, &after[stage.len()..])
        } else {
            let end = expr.find(['+', '-']).unwrap_or(expr.len());
            let base = match &expr[..end] {
                "now" => Some(self.now),
                "detected" => self.detected,
                "classified" => self.classified,
                "recorded" => self.recorded,
                other => return Err(format!("unknown base {other:?} in {expr:?}")),
            };
            (base.ok_or_else(|| format!("{expr:?}: its base is not known"))?, &expr[end..])
        };
        let mut rest = rest;
        while !rest.is_empty() {
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            let body = &rest[1..];
            let digits = body.find(|c: char| !c.is_ascii_digit()).ok_or_else(|| format!("no unit in {expr:?}"))?;
            let n: i64 = body[..digits].parse().map_err(|_| format!("no number in {expr:?}"))?;
            let unit = &body[digits..digits + 1];
            t = match unit {
                "m" => t + Duration::minutes(sign * n),
                "h" => t + Duration::hours(sign * n),
                "d" => t + Duration::hours(24 * sign * n),
                "M" if sign == 1 => months_later(t, n as u32),
                _ => return Err(format!("bad unit {unit:?} in {expr:?}")),
            };
            rest = &body[digits + 1..];
        }
        Ok(t)
    }
}

/// Reg. 1182/71 art. 3(1), 3(2)(c), in Danish time: a period of `months` months from the
/// day of `t` (not counted) ends at the end of the day with the same date `months`
/// months later, or of that month's last day if there is no such date.
fn months_later(t: DateTime<Utc>, months: u32) -> DateTime<Utc> {
    let day = t.with_timezone(&Copenhagen).date_naive();
    let index = day.year() * 12 + day.month0() as i32 + months as i32;
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let last = (28..=31).rev().find(|d| NaiveDate::from_ymd_opt(year, month, *d).is_some()).unwrap();
    let end = NaiveDate::from_ymd_opt(year, month, day.day().min(last)).unwrap().succ_opt().unwrap();
    Copenhagen.from_local_datetime(&end.and_hms_opt(0, 0, 0).unwrap()).single().unwrap().with_timezone(&Utc)
}

/// The first leap year after this one whose 29 February is a weekday (Reg. 1182/71
/// art. 3(4) cannot then move a period ending that day).
fn leap_year() -> i32 {
    (Utc::now().year() + 1..)
        .find(|y| NaiveDate::from_ymd_opt(*y, 2, 29).is_some_and(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun)))
        .unwrap()
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&Copenhagen).to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn regime_matches(key: &str, id: &str) -> bool {
    let id = id.to_ascii_lowercase();
    match key {
        "nis2" => id.contains("nis2") && !id.contains("2018"),
        "nis" => id.contains("nis"),
        "gdpr" => id.contains("gdpr"),
        "pd" => ["gdpr", "telecom", "611", "eprivacy", "personal"].iter().any(|s| id.contains(s)),
        "dora" => id.contains("dora"),
        "any" => true,
        other => id == other,
    }
}

/// The incident file a responder would write for the case.
fn incident_file(case: &Case, schemes: &[String], times: &Times) -> String {
    let has = |s: &str| schemes.iter().any(|x| x == s);
    let list = schemes.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(", ");
    let mut f = format!("scheme = [{list}]\ntitle = \"Blind case {}\"\nlanguage = \"en\"\n\n", case.name);
    if has("personal-data") {
        f += &format!(
            "[personal-data]\nreport-to = {:?}\nunauthorised-disclosure = false\nunauthorised-access = true\nalteration = false\ndestruction = false\nloss = false\ncategories = [\"name\", \"contact-details\"]\n\n",
            case.report_to.as_deref().unwrap_or("datatilsynet")
        );
    }
    f += "[description]\nwhat-happened = \"Ransomware encrypted file servers; the attacker may have read data first.\"\nnature = [\"malware\"]\n\n";
    f += "[timeline]\n";
    match times.detected {
        Some(d) => {
            f += &format!("start = {{ status = \"known\", at = \"{}\" }}\n", local(d - Duration::hours(1)));
            f += &format!("detected = {{ status = \"known\", at = \"{}\" }}\n", local(d));
        }
        None => f += "start = { status = \"unknown\" }\ndetected = { status = \"unknown\" }\n",
    }
    if let Some(c) = times.classified {
        f += &format!("classified = {{ status = \"known\", at = \"{}\" }}\n", local(c));
    }
    f += "late-reason = \"The extent could only be assessed once logging was restored.\"\n\n";
    f += "[dpo]\nappointed = \"no\"\n\n[scope]\naffected = [\"customers\"]\ntotal = 1200\nis-estimate = true\n\n";
    f += "[cross-border]\nservices-in-other-countries = false\npersons-in-other-countries = false\n\n";
    f += "[consequences]\nconfidentiality = [\"misuse\"]\nintegrity = [\"none\"]\navailability = [\"lack-of-continuity\"]\nauthenticity = [\"none\"]\npersons = [\"lost-control\"]\n\n";
    f += "[handling]\nmeasures = \"Servers isolated, restore from backup under way.\"\ntaken-by = [\"reporter\"]\n\n";
    f += "[data-subjects]\nnotified = \"undecided\"\n\n";
    if has("nis-operator") || has("digital-service-provider") {
        f += "[nis]\n";
        if has("nis-operator") {
            f += &format!("sector = {:?}\n", case.sector.as_deref().unwrap_or("health"));
        }
        f += "service = \"Patient records\"\nusers-affected = 1200\nduration = \"Ongoing\"\ngeographic-spread = \"Region Hovedstaden\"\n";
        f += "extent-of-disruption = \"Service down\"\neconomic-and-societal-impact = \"Appointments postponed\"\n";
    }
    f
}

/// Runs certmail in the case's home, under the case's pinned clock if it has one.
fn run(env: &Env, clock: Option<DateTime<Utc>>, args: &[&str]) -> Output {
    let mut cmd = match clock {
        None => env.command(),
        Some(t) => {
            let mut c = Command::new("faketime");
            c.arg("-f").arg(format!("@{}", t.format("%Y-%m-%d %H:%M:%S"))).arg(env!("CARGO_BIN_EXE_certmail"));
            c.env("TZ", "UTC")
                .env("CERTMAIL_HOME", &env.home)
                .envs(env.store_url.iter().map(|u| ("CERTMAIL_STORE_URL", u)))
                .env_remove("CERTMAIL_CONFIG")
                .stdin(Stdio::null());
            c
        }
    };
    cmd.args(args).output().expect("run certmail")
}

fn describe(out: &Output) -> String {
    format!("exit {:?}; stdout: {}; stderr: {}", out.status.code(), text(&out.stdout).trim(), text(&out.stderr).trim())
}

/// Runs one case; the mismatches (empty when it passes).
fn run_case(case: &Case, leap: i32) -> Result<Vec<String>, String> {
    let clock = match &case.clock {
        Some(c) => Some(Times { leap, now: Utc::now(), detected: None, classified: None, recorded: None, filed: HashMap::new() }.eval(c)?),
        None => None,
    };
    let now = clock.unwrap_or_else(|| DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap());
    let mut times = Times { leap, now, detected: None, classified: None, recorded: None, filed: HashMap::new() };
    if case.detected != "unknown" {
        times.detected = Some(times.eval(&case.detected)?);
    }
    if let Some(c) = &case.classified {
        times.classified = Some(times.eval(c)?);
    }
    let schemes = case.scheme.list();
    let env = Env::new();
    let file = env.write("incident.toml", &incident_file(case, &schemes, &times));
    times.recorded = Some(clock.unwrap_or_else(Utc::now));
    let notified = run(&env, clock, &["notify", file.to_str().unwrap(), "--json"]);
    let json: Value = serde_json::from_slice(&notified.stdout).map_err(|_| format!("notify: {}", describe(&notified)))?;
    let reference = json["reference"].as_str().ok_or_else(|| format!("notify gave no reference: {}", describe(&notified)))?.to_string();
    for (n, filing) in case.filing.iter().enumerate() {
        let at = times.eval(&filing.at)?;
        let at_text = local(at);
        let virk_ref = format!("2026-9{n:05}");
        let mut args = vec!["incident", "virk", &reference, "--stage", &filing.stage, "--at", &at_text, "--reference", &virk_ref];
        if let Some(r) = &filing.regime {
            args.extend(["--regime", r]);
        }
        let mut out = run(&env, clock, &args);
        if !out.status.success() && text(&out.stderr).to_lowercase().contains("late") {
            // A late filing may have to say why; the law asks for the reasons (GDPR art. 33(1)).
            args.extend(["--late-reason", "Scope assessment took longer."]);
            out = run(&env, clock, &args);
        }
        if !out.status.success() {
            return Err(format!("filing {} at {at_text}: {}", filing.stage, describe(&out)));
        }
        let latest = times.filed.entry(filing.stage.clone()).or_insert(at);
        *latest = (*latest).max(at);
    }
    let status = run(&env, clock, &["status", "--json"]);
    let status_json: Value = serde_json::from_slice(&status.stdout).map_err(|_| format!("status: {}", describe(&status)))?;
    let incident = status_json["incidents"]
        .as_array()
        .and_then(|all| all.iter().find(|i| i["reference"] == reference.as_str()))
        .ok_or_else(|| format!("status does not list {reference}: {}", describe(&status)))?;
    let deadlines = incident["deadlines"].as_array().cloned().unwrap_or_default();
    let shown = |d: &Value| format!("{}/{} due {} {}", d["regime"], d["stage"], d["due"], d["state"]).replace('"', "");
    let all: Vec<String> = deadlines.iter().map(shown).collect();
    let tolerance = Duration::seconds(case.tolerance_s.unwrap_or(1));
    let mut problems = Vec::new();
    for e in &case.expect {
        let due = times.eval(&e.due)?;
        let want = format!("{}/{} due {} {}", e.regime, e.stage, local(due), e.state);
        let matching: Vec<&Value> = deadlines
            .iter()
            .filter(|d| d["stage"] == e.stage.as_str() && d["regime"].as_str().is_some_and(|r| regime_matches(&e.regime, r)))
            .collect();
        let [found] = matching[..] else {
            problems.push(format!("expected {want}; found {} such deadlines among [{}]", matching.len(), all.join("; ")));
            continue;
        };
        // These cases were written from the law alone, where a period of months ends
        // with the last hour of its last day (Regulation 1182/71 art. 3(2)(c)); certmail
        // calls the same time of day on that date `due` (never later) and gives the
        // period's end as `period_ends`: that is what such an expectation is held to.
        let instant = |key: &str| found[key].as_str().and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc));
        let months = found["rule"].as_str().is_some_and(|r| r.contains("month"));
        if months && !instant("due").zip(instant("period_ends")).is_some_and(|(d, p)| d <= p && p - d <= Duration::days(1)) {
            problems.push(format!(
                "{}/{}: due {} and period_ends {} are not the same day",
                e.regime, e.stage, found["due"], found["period_ends"]
            ));
        }
        let got_due = instant(if months { "period_ends" } else { "due" });
        let due_ok = got_due.is_some_and(|g| (g - due).abs() <= tolerance);
        let state_ok = found["state"] == e.state.as_str();
        if !due_ok || !state_ok {
            let got = format!(
                "{}/{} due {} {}",
                found["regime"].as_str().unwrap_or("?"),
                e.stage,
                got_due.map(local).unwrap_or_else(|| found["due"].to_string()),
                found["state"].as_str().unwrap_or("?")
            );
            problems.push(format!("expected {want}; got {got}"));
        }
    }
    for pair in &case.absent {
        let (regime, stage) = pair.split_once('/').ok_or_else(|| format!("bad absent entry {pair:?}"))?;
        let clocks: Vec<String> = deadlines
            .iter()
            .filter(|d| !d["due"].is_null())
            .filter(|d| stage == "*" || d["stage"] == stage)
            .filter(|d| d["regime"].as_str().is_some_and(|r| regime_matches(regime, r)))
            .map(shown)
            .collect();
        if !clocks.is_empty() {
            problems.push(format!("expected no clock for {pair}; got [{}]", clocks.join("; ")));
        }
    }
    Ok(problems)
}

#[test]
fn blind_cases_hold_the_law() {
    require("faketime", "faketime");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/regimes-blind/cases.toml");
    let cases: Cases = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(cases.case.len() >= 30, "at least 30 cases");
    let leap = leap_year();
    let workers = 3;
    let results: Vec<(String, Result<Vec<String>, String>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|w| {
                let cases = &cases.case;
                scope.spawn(move || cases.iter().skip(w).step_by(workers).map(|c| (c.name.clone(), run_case(c, leap))).collect::<Vec<_>>())
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap()).collect()
    });
    let mut failures = Vec::new();
    for (name, result) in &results {
        match result {
            Ok(problems) if problems.is_empty() => eprintln!("PASS {name}"),
            Ok(problems) => failures.push(format!("FAIL {name}:\n    {}", problems.join("\n    "))),
            Err(e) => failures.push(format!("FAIL {name}: could not run: {e}")),
        }
    }
    assert!(failures.is_empty(), "{} of {} blind cases fail ({{leap}} = {leap}):\n{}", failures.len(), results.len(), failures.join("\n"));
}
