//! `certmail status`: the open incidents, what each waits for, and what is overdue.

use chrono::Utc;

use crate::config::Settings;
use crate::deadlines;
use crate::exit::{CmdResult, Outcome};
use crate::output;
use crate::store::Store;

pub fn run(settings: &Settings, json: bool) -> CmdResult {
    let path = settings.store_path();
    let rows = if path.exists() { Store::open(&path)?.open_incidents()? } else { Vec::new() };
    let now = Utc::now();
    let config = settings.file.deadlines.clone().unwrap_or_default();
    let ack = chrono::Duration::minutes(config.ack_minutes.unwrap_or(60) as i64);
    let mut report = Vec::new();
    for row in &rows {
        let clocks = deadlines::legal_clocks(&row.scheme, config.schemes.get(&row.scheme));
        let items = deadlines::items(row, now, ack, &clocks);
        report.push((row, items));
    }
    if json {
        let incidents: Vec<_> = report
            .iter()
            .map(|(row, items)| {
                serde_json::json!({
                    "reference": row.reference, "scheme": row.scheme, "title": row.title,
                    "detected_at": row.detected_at, "acknowledged": row.acknowledged, "virk_filed": row.virk_filed,
                    "overdue": items.iter().any(|i| i.overdue), "waiting_for": items,
                })
            })
            .collect();
        output::json(&serde_json::json!({ "incidents": incidents }));
        return Ok(Outcome::Done);
    }
    if report.is_empty() {
        output::say("No open incidents.");
    }
    for (row, items) in &report {
        let flag = if items.iter().any(|i| i.overdue) { "OVERDUE" } else { "open" };
        output::say(&format!("{} [{flag}] {} ({})", row.reference, row.title, row.scheme));
        if items.is_empty() {
            output::say("  waiting for nothing");
        }
        for i in items {
            let due = i.due.as_deref().map(|d| format!(" due {d}")).unwrap_or_default();
            let mark = if i.overdue { "!!" } else { "  " };
            output::say(&format!("  {mark} {}{due}: {}", i.what, i.action));
        }
    }
    Ok(Outcome::Done)
}
