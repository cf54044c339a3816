//! The bridge from what the log and the configuration hold to the regimes: the table
//! in force (the embedded one with the home's regimes.toml), an incident's position
//! (its regimes and each stage's deadline) at a moment, and the configured figures.
//! `status`, `incident virk` and `notify` ask here, so they count alike; `notify` and
//! `preview` ask what to warn about before sending.

use chrono::{DateTime, Utc};

use crate::compose::Draft;
use crate::config::Settings;
use crate::exit::Failure;
use crate::incident::choices::PersonalDataAuthority;
use crate::incident::{Scheme, Schemes};
use crate::regimes::incident::{Configured, Known, Position, Recorded};
use crate::regimes::{self, RegimeId, StageId, Table, routing};
use crate::store::{Filed, StatusRow, Store};
use crate::warnings::Warning;

/// The regimes in force: the embedded table, with the home's regimes.toml.
pub fn regimes_table(settings: &Settings) -> Result<Table, Failure> {
    let path = settings.home.join(regimes::OVERRIDE_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => Table::with_override(&path.display().to_string(), &text).map_err(Failure::input),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Table::embedded()),
        Err(e) => Err(crate::exit::io_failure("cannot read the regimes", &path, e)),
    }
}

fn parse(t: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(t).ok().map(|t| t.with_timezone(&Utc))
}

/// An incident's regimes and stages at `now`, from what the log knows of it.
pub fn position(settings: &Settings, table: &Table, store: &Store, row: &StatusRow, now: DateTime<Utc>) -> Result<Position, Failure> {
    Ok(position_filed(settings, table, row, &store.filings(&row.reference)?, now))
}

/// [`position`], from the incident's filings already read (`status` shows them too).
pub fn position_filed(settings: &Settings, table: &Table, row: &StatusRow, filed: &[Filed], now: DateTime<Utc>) -> Position {
    let config = settings.file.deadlines.clone().unwrap_or_default();
    let filings = filed
        .iter()
        .filter_map(|f| {
            Some(Recorded {
                regime: f.regime.as_deref().and_then(RegimeId::from_key),
                stage: f.stage.as_deref().and_then(StageId::from_key),
                at: parse(&f.submitted_at)?,
            })
        })
        .collect();
    let known = Known {
        schemes: Schemes::from_keys(&row.scheme),
        detected: row.detected_at.as_deref().and_then(parse),
        recorded: parse(&row.created_at).unwrap_or(now),
        personal_data_to: match row.personal_data_to.as_deref() {
            Some("erhvervsstyrelsen") => Some(PersonalDataAuthority::Erhvervsstyrelsen),
            Some("datatilsynet") => Some(PersonalDataAuthority::Datatilsynet),
            _ => None,
        },
        classification: row.classified_at.as_deref().and_then(parse),
        filings,
    };
    regimes::incident::position(table, &known, &|s| configured(&config, s), now)
}

/// A scheme's figures from `[deadlines.schemes.SCHEME]`, as the regimes take them.
pub fn configured(config: &crate::config::DeadlinesConfig, scheme: Scheme) -> Option<Configured> {
    let hours = |h: Option<u64>| h.and_then(|h| u32::try_from(h).ok());
    config.schemes.get(scheme.key()).map(|c| Configured {
        early_warning_hours: hours(c.early_warning_hours),
        notification_hours: hours(c.notification_hours),
        final_report_hours: hours(c.final_report_hours),
    })
}

/// What to warn about before sending `draft` to `recipients` (ids): what its file
/// holds that is doubted (a CVR's check digits), where the law sends the report, and
/// the reminders of its regimes (`regimes::routing`).
pub fn before_sending(settings: &Settings, draft: &Draft, recipients: &[String], now: DateTime<Utc>) -> Result<Vec<Warning>, Failure> {
    let table = regimes_table(settings)?;
    let regimes = routing::regimes_of(&table, &draft.incident, now);
    let names: Vec<String> =
        recipients.iter().map(|id| settings.recipient(id).map(|r| r.display_name().to_string()).unwrap_or_else(|_| id.clone())).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut warnings = draft.doubts.clone();
    warnings.extend(routing::warnings(&regimes, &names));
    Ok(warnings)
}
