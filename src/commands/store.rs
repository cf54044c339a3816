//! `certmail store migrate --to postgres://…`: moves this home's SQLite log and outbox
//! into the team's empty PostgreSQL store (store/moving.rs), then renames the SQLite
//! file to `certmail.sqlite.moved`, which keeps this home from starting a new one.

use crate::cli::StoreCommand;
use crate::config::Settings;
use crate::exit::{CmdResult, Failure, FailureKind, Outcome};
use crate::output;
use crate::store::moving;
use crate::store::target::Location;

pub fn run(settings: &Settings, command: &StoreCommand, json: bool) -> CmdResult {
    let StoreCommand::Migrate { to } = command;
    let Location::Postgres(pg) = settings.store_location_to(to)? else {
        return Err(Failure::config("--to must name a PostgreSQL store"));
    };
    let sqlite = settings.store_path();
    let moved = moving::moved_path(&sqlite);
    if !sqlite.exists() {
        return Err(if moved.exists() {
            Failure::new(
                FailureKind::Conflict,
                format!("this home's log was moved already ({} is the copy left behind): store migrate runs once", moved.display()),
            )
        } else {
            Failure::not_found(format!("{}: no SQLite incident log to move", sqlite.display()))
        });
    }
    let now = crate::store::timestamp(chrono::Utc::now());
    let by = crate::identity::actor(settings, std::time::SystemTime::now());
    let done = moving::move_to_postgres(&sqlite, &pg, by, &now)?;
    let renamed = rename(&sqlite, &moved);
    if json {
        let tables: serde_json::Map<String, serde_json::Value> = done.tables.iter().map(|(t, n)| (t.clone(), (*n).into())).collect();
        output::json(&serde_json::json!({
            "to": pg.url,
            "tables": tables,
            "spooled_read_in": done.spooled_read_in,
            "files_read_in": done.files_read_in,
            "warnings": done.warnings,
            "events": done.head.count,
            "head": done.head.hash,
            "moved": moved.display().to_string(),
        }));
    } else {
        for w in &done.warnings {
            output::warn(w);
        }
        output::say(&format!("Copied into {}:", pg.url));
        for (table, n) in &done.tables {
            output::say(&format!("  {table:<18} {n}"));
        }
        if done.spooled_read_in > 0 || done.files_read_in > 0 {
            output::say(&format!(
                "Read in: {} spooled message(s), {} mail file(s), each matching its hash.",
                done.spooled_read_in, done.files_read_in
            ));
        }
        output::say(&format!("Verified on PostgreSQL: {} events, head {} (as in SQLite).", done.head.count, done.head.hash));
        output::say(&format!("The SQLite log is kept as {}. Set [store] url = \"{}\" in every home.", moved.display(), pg.url));
    }
    renamed?;
    Ok(Outcome::Done)
}

/// The SQLite file (and a WAL or shared-memory file SQLite left) renamed to `moved`.
fn rename(sqlite: &std::path::Path, moved: &std::path::Path) -> Result<(), Failure> {
    for suffix in ["-wal", "-shm"] {
        let (mut from, mut to) = (sqlite.as_os_str().to_owned(), moved.as_os_str().to_owned());
        from.push(suffix);
        to.push(suffix);
        if std::path::Path::new(&from).exists() {
            std::fs::rename(&from, &to)
                .map_err(|e| crate::exit::io_failure("cannot rename the moved log", std::path::Path::new(&from), e))?;
        }
    }
    std::fs::rename(sqlite, moved).map_err(|e| crate::exit::io_failure("cannot rename the moved log", sqlite, e))
}
