//! `certmail doctor`: runs every check of `crate::doctor` and says, for each, what it
//! found and what to do. Exits 1 when any check is an error (a notification would
//! fail), 0 otherwise; warnings are said, not failed.

use std::time::SystemTime;

use crate::config::Settings;
use crate::doctor::{self, Check, Status};
use crate::exit::{CmdResult, Failure, FailureKind, Outcome};
use crate::output;

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let now = SystemTime::now();
    let mut checks = doctor::keys::identity(settings, now);
    checks.extend(doctor::keys::recipients(settings, now));
    checks.push(doctor::keys::team(settings, now));
    checks.push(doctor::relay::check(settings));
    checks.push(doctor::host::keyring(settings, now));
    checks.push(doctor::host::clock(settings, now));
    checks.push(doctor::host::file_modes(settings));
    checks.push(doctor::store::check(settings));
    checks.push(doctor::templates::check(settings));

    let errors = checks.iter().filter(|c| c.status == Status::Error).count();
    let report = serde_json::json!({ "checks": checks.iter().map(Check::to_json).collect::<Vec<_>>(), "ok": errors == 0 });
    if !json {
        for check in &checks {
            show(check);
        }
    }
    if errors > 0 {
        let failure = Failure::new(FailureKind::ChecksFailed, format!("{errors} check(s) in error; each says what to do"));
        // Under --json the checks travel with the error: one object.
        return Err(failure.with_report(report));
    }
    if json {
        output::json(&report);
    } else {
        let warnings = checks.iter().filter(|c| c.status == Status::Warning).count();
        output::say(&format!("No errors ({warnings} warning(s))."));
    }
    Ok(Outcome::Done)
}

fn show(check: &Check) {
    let mark = match check.status {
        Status::Ok => "ok     ",
        Status::Warning => "WARNING",
        Status::Error => "ERROR  ",
    };
    output::say(&format!("{mark} {}: {}", check.name, check.message));
    if !check.fix.is_empty() {
        output::say(&format!("        what to do: {}", check.fix));
    }
}
