//! The store's SQL on two engines (docs/TEAM-MODE.md): a transaction on SQLite or on
//! PostgreSQL behind one enum, and what the schema needs of it today: the schema
//! version (`PRAGMA user_version` on SQLite, a one-row `schema_version` table on
//! PostgreSQL), and the migrations, written once in SQLite's words and rewritten for
//! PostgreSQL by [`for_postgres`].
//!
//! [`Engine`] runs one statement text on either: `?N` placeholders (rewritten to `$N`
//! for PostgreSQL, outside quotes), parameters as [`Value`]s, rows read back as
//! [`Cell`]s (a [`Row`] reads them by index as `i64`, `bool`, `String`, bytes or their
//! `Option`s), so a typed query is written once. Transactions are the connection's
//! state ([`Engine::begin_write`], [`Engine::commit`], savepoints), so a transaction
//! held across calls (`Pending`, an ingest batch) is the same engine on both.

use std::collections::HashMap;

use crate::exit::Failure;

/// A statement's parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl From<i64> for Value<'_> {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl<'a> From<&'a str> for Value<'a> {
    fn from(v: &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a String> for Value<'a> {
    fn from(v: &'a String) -> Self {
        Value::Text(v)
    }
}

impl From<bool> for Value<'_> {
    /// Flags are integers 0/1 on both engines.
    fn from(v: bool) -> Self {
        Value::Int(i64::from(v))
    }
}

impl From<i32> for Value<'_> {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}

impl From<u32> for Value<'_> {
    /// A pid or a UID: an `i64` parameter, never PostgreSQL's `oid`.
    fn from(v: u32) -> Self {
        Value::Int(v.into())
    }
}

impl<'a> From<&'a Vec<u8>> for Value<'a> {
    fn from(v: &'a Vec<u8>) -> Self {
        Value::Bytes(v)
    }
}

impl<'a> From<&'a &'a str> for Value<'a> {
    fn from(v: &'a &'a str) -> Self {
        Value::Text(v)
    }
}

impl<'a> From<&'a [u8]> for Value<'a> {
    fn from(v: &'a [u8]) -> Self {
        Value::Bytes(v)
    }
}

impl<'a, T: Into<Value<'a>>> From<Option<T>> for Value<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

/// One column of a row read back, whichever engine read it.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    pub fn int(&self) -> Option<i64> {
        match self {
            Cell::Int(v) => Some(*v),
            Cell::Bool(b) => Some(i64::from(*b)),
            _ => None,
        }
    }

    /// `EXISTS (…)` is an integer on SQLite and a boolean on PostgreSQL.
    pub fn bool(&self) -> Option<bool> {
        match self {
            Cell::Bool(b) => Some(*b),
            Cell::Int(v) => Some(*v != 0),
            _ => None,
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Cell::Text(t) => Some(t),
            _ => None,
        }
    }

    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Cell::Bytes(b) => Some(b),
            _ => None,
        }
    }
}

/// A connection to the store on either engine.
pub enum Engine {
    Sqlite(rusqlite::Connection),
    Postgres(Box<PgConnection>),
}

/// A PostgreSQL connection with its statements prepared once per text.
pub struct PgConnection {
    client: postgres::Client,
    prepared: HashMap<String, postgres::Statement>,
    in_transaction: bool,
    /// The last statement failed as a serialisation failure or a deadlock: the
    /// writing transaction it was in may be tried again.
    conflicted: bool,
}

impl PgConnection {
    pub fn new(client: postgres::Client) -> PgConnection {
        PgConnection { client, prepared: HashMap::new(), in_transaction: false, conflicted: false }
    }

    pub fn into_client(self) -> postgres::Client {
        self.client
    }

    /// Notes whether a statement failed as a conflict between transactions.
    fn note<T>(&mut self, done: Result<T, postgres::Error>) -> Result<T, postgres::Error> {
        use postgres::error::SqlState;
        self.conflicted = done
            .as_ref()
            .err()
            .and_then(postgres::Error::code)
            .is_some_and(|c| *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED);
        done
    }

    fn statement(&mut self, sql: &str) -> Result<postgres::Statement, Failure> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        let statement = self.client.prepare(&placeholders_for_postgres(sql)).map_err(pg_error("statement"))?;
        self.prepared.insert(sql.to_string(), statement.clone());
        Ok(statement)
    }
}

/// Which engine's words a statement is written in, where they differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The text at a path of keys in a JSON text column: `json_extract` on SQLite,
    /// `#>>` on a `jsonb` cast on PostgreSQL. Both give text for a JSON string, all
    /// the store's queries compare or show; the keys are the code's own constants.
    pub fn json_text(self, column: &str, path: &[&str]) -> String {
        assert!(path.iter().all(|k| !k.is_empty() && !k.contains(['"', '\'', '{', '}', ',', '\\'])), "JSON path {path:?}");
        match self {
            Dialect::Sqlite => {
                let path: String = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({column}, '${path}')")
            }
            Dialect::Postgres => format!("(CAST({column} AS jsonb) #>> '{{{}}}')", path.join(",")),
        }
    }

    /// The larger of two values: SQLite's two-argument `max`, PostgreSQL's `GREATEST`.
    pub fn greatest(self, a: &str, b: &str) -> String {
        match self {
            Dialect::Sqlite => format!("max({a}, {b})"),
            Dialect::Postgres => format!("GREATEST({a}, {b})"),
        }
    }
}

impl Engine {
    pub fn dialect(&self) -> Dialect {
        match self {
            Engine::Sqlite(_) => Dialect::Sqlite,
            Engine::Postgres(_) => Dialect::Postgres,
        }
    }

    /// Runs a statement; the number of rows it changed.
    pub fn execute(&mut self, sql: &str, values: &[Value]) -> Result<u64, Failure> {
        match self {
            Engine::Sqlite(conn) => sqlite_execute(conn, sql, values),
            Engine::Postgres(pg) => {
                let statement = pg.statement(sql)?;
                let params = pg_params(values);
                let done = pg.client.execute(&statement, &pg_refs(&params));
                pg.note(done).map_err(pg_error("statement"))
            }
        }
    }

    /// Runs a query; every row, as cells.
    pub fn query(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Vec<Cell>>, Failure> {
        match self {
            Engine::Sqlite(conn) => sqlite_query(conn, sql, values),
            Engine::Postgres(pg) => {
                let statement = pg.statement(sql)?;
                let params = pg_params(values);
                let done = pg.client.query(&statement, &pg_refs(&params));
                let rows = pg.note(done).map_err(pg_error("query"))?;
                rows.iter().map(|r| (0..r.len()).map(|i| pg_cell(r, i)).collect()).collect()
            }
        }
    }

    /// The first row of a query, if any.
    pub fn query_opt(&mut self, sql: &str, values: &[Value]) -> Result<Option<Vec<Cell>>, Failure> {
        Ok(self.query(sql, values)?.into_iter().next())
    }

    /// Every row of a query, to be read by index ([`Row::get`]).
    pub(crate) fn rows(&mut self, sql: &str, values: &[Value]) -> Result<Vec<Row>, Failure> {
        Ok(self.query(sql, values)?.into_iter().map(Row).collect())
    }

    /// The first row of a query, if any, to be read by index.
    pub(crate) fn row_opt(&mut self, sql: &str, values: &[Value]) -> Result<Option<Row>, Failure> {
        Ok(self.query(sql, values)?.into_iter().next().map(Row))
    }

    /// The one row a query gives (an aggregate, `EXISTS`); none is the store's error.
    pub(crate) fn row(&mut self, sql: &str, values: &[Value]) -> Result<Row, Failure> {
        self.row_opt(sql, values)?.ok_or_else(|| Failure::failed("incident log: a query that always answers gave no row"))
    }

    /// The first column of the one row a query gives.
    pub(crate) fn one<T: FromCell>(&mut self, sql: &str, values: &[Value]) -> Result<T, Failure> {
        self.row(sql, values)?.get(0)
    }

    /// The first column of the first row, if any.
    pub(crate) fn one_opt<T: FromCell>(&mut self, sql: &str, values: &[Value]) -> Result<Option<T>, Failure> {
        self.row_opt(sql, values)?.map(|r| r.get(0)).transpose()
    }

    /// Whether a transaction is open on this connection.
    pub(crate) fn in_transaction(&self) -> bool {
        match self {
            Engine::Sqlite(conn) => !conn.is_autocommit(),
            Engine::Postgres(pg) => pg.in_transaction,
        }
    }

    /// Begins a writing transaction: one writer at a time across every machine, as the
    /// store's reasoning needs (the next reference, the chain's appends). SQLite's
    /// `BEGIN IMMEDIATE`; on PostgreSQL the chain head row locked first, before any id
    /// is drawn (docs/TEAM-MODE.md). [`Engine::commit`] or [`Engine::rollback`] ends it.
    pub(crate) fn begin_write(&mut self) -> Result<(), Failure> {
        self.begin()?;
        if let Engine::Postgres(_) = self {
            let head = self.query_opt("SELECT 1 FROM chain_head WHERE id = 1 FOR UPDATE", &[]);
            match head {
                Ok(Some(_)) => {}
                Ok(None) => {
                    self.rollback();
                    return Err(Failure::failed(
                        "incident log (PostgreSQL): the chain head row is missing; the schema was not made by certmail",
                    ));
                }
                Err(e) => {
                    self.rollback();
                    return Err(e);
                }
            }
        }
        Ok(())
    }

    /// Begins a transaction without the head lock (the migration's, which locks itself).
    pub(crate) fn begin(&mut self) -> Result<(), Failure> {
        match self {
            Engine::Sqlite(conn) => conn.execute_batch("BEGIN IMMEDIATE").map_err(super::db_error("begin")),
            Engine::Postgres(pg) => {
                pg.client.batch_execute("BEGIN").map_err(pg_error("begin"))?;
                pg.in_transaction = true;
                Ok(())
            }
        }
    }

    pub(crate) fn commit(&mut self) -> Result<(), Failure> {
        match self {
            Engine::Sqlite(conn) => conn.execute_batch("COMMIT").map_err(super::db_error("commit")),
            Engine::Postgres(pg) => {
                let done = pg.client.batch_execute("COMMIT");
                let done = pg.note(done).map_err(pg_error("commit"));
                pg.in_transaction = false;
                done
            }
        }
    }

    /// Rolls back the open transaction, if any. Nothing to report: a connection that
    /// cannot roll back has lost the transaction with itself.
    pub(crate) fn rollback(&mut self) {
        if !self.in_transaction() {
            return;
        }
        match self {
            Engine::Sqlite(conn) => {
                let _ = conn.execute_batch("ROLLBACK");
            }
            Engine::Postgres(pg) => {
                let _ = pg.client.batch_execute("ROLLBACK");
                pg.in_transaction = false;
            }
        }
    }

    /// A savepoint inside the open transaction (`name` is the code's own word).
    pub(crate) fn savepoint(&mut self, name: &str) -> Result<(), Failure> {
        self.again(&format!("SAVEPOINT {name}"))
    }

    pub(crate) fn release(&mut self, name: &str) -> Result<(), Failure> {
        self.again(&format!("RELEASE SAVEPOINT {name}"))
    }

    /// A statement without parameters that runs again and again (a savepoint per
    /// received message): on SQLite it is prepared once, where [`Engine::batch`]
    /// parsed it at every message.
    fn again(&mut self, sql: &str) -> Result<(), Failure> {
        match self {
            Engine::Sqlite(conn) => sqlite_execute(conn, sql, &[]).map(drop),
            Engine::Postgres(_) => self.batch(sql),
        }
    }

    /// Undoes what was done since the savepoint, and ends it.
    pub(crate) fn rollback_to(&mut self, name: &str) {
        let _ = self.batch(&format!("ROLLBACK TO SAVEPOINT {name}"));
        let _ = self.batch(&format!("RELEASE SAVEPOINT {name}"));
    }

    /// Statements without parameters, run as one text.
    pub fn batch(&mut self, sql: &str) -> Result<(), Failure> {
        match self {
            Engine::Sqlite(conn) => conn.execute_batch(sql).map_err(super::db_error("statement")),
            Engine::Postgres(pg) => pg.client.batch_execute(sql).map_err(pg_error("statement")),
        }
    }

    /// A writing transaction ([`Engine::begin_write`]), committed if `work` succeeds
    /// and rolled back if not. On PostgreSQL a serialisation failure or a deadlock
    /// (which the head lock should make impossible) is tried once more, then reported.
    pub fn write<T>(&mut self, mut work: impl FnMut(&mut Engine) -> Result<T, Failure>) -> Result<T, Failure> {
        let mut tried = 0;
        loop {
            tried += 1;
            match self.write_once(&mut work) {
                Err(_) if tried == 1 && matches!(self, Engine::Postgres(pg) if pg.conflicted) => continue,
                done => return done,
            }
        }
    }

    fn write_once<T>(&mut self, work: &mut impl FnMut(&mut Engine) -> Result<T, Failure>) -> Result<T, Failure> {
        self.begin_write()?;
        match work(self).and_then(|out| self.commit().map(|()| out)) {
            Ok(out) => Ok(out),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }
}

/// A row read back, its columns by index.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row(pub(crate) Vec<Cell>);

impl Row {
    /// Column `i` as `T`; a column of another type (or none) is the store's error.
    pub(crate) fn get<T: FromCell>(&self, i: usize) -> Result<T, Failure> {
        let cell = self.0.get(i).unwrap_or(&Cell::Null);
        T::from_cell(cell).ok_or_else(|| Failure::failed(format!("incident log: column {i} holds {cell:?}, not {}", T::WHAT)))
    }
}

/// What a column may be read as.
pub(crate) trait FromCell: Sized {
    const WHAT: &'static str;
    fn from_cell(cell: &Cell) -> Option<Self>;
}

impl FromCell for i64 {
    const WHAT: &'static str = "an integer";
    fn from_cell(cell: &Cell) -> Option<Self> {
        cell.int()
    }
}

impl FromCell for bool {
    const WHAT: &'static str = "a boolean";
    fn from_cell(cell: &Cell) -> Option<Self> {
        cell.bool()
    }
}

impl FromCell for String {
    const WHAT: &'static str = "text";
    fn from_cell(cell: &Cell) -> Option<Self> {
        cell.text().map(str::to_string)
    }
}

impl FromCell for Vec<u8> {
    const WHAT: &'static str = "bytes";
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Bytes(b) => Some(b.clone()),
            // SQLite keeps what it was given: an empty blob written as text.
            Cell::Text(t) => Some(t.as_bytes().to_vec()),
            _ => None,
        }
    }
}

impl<T: FromCell> FromCell for Option<T> {
    const WHAT: &'static str = T::WHAT;
    fn from_cell(cell: &Cell) -> Option<Self> {
        match cell {
            Cell::Null => Some(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

/// `?N` (and a bare `?`, numbered in order) as PostgreSQL's `$N`, outside quotes and
/// comments.
pub fn placeholders_for_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut bare = 0;
    let mut tokens = tokenize(sql).into_iter().peekable();
    while let Some(t) = tokens.next() {
        if !t.word && t.text == "?" {
            match tokens.peek() {
                Some(n) if n.word && n.text.bytes().all(|b| b.is_ascii_digit()) => {
                    out.push('$');
                    out.push_str(&tokens.next().map(|n| n.text).unwrap_or_default());
                }
                _ => {
                    bare += 1;
                    out.push_str(&format!("${bare}"));
                }
            }
        } else {
            out.push_str(&t.text);
        }
    }
    out
}

/// A statement on SQLite (a connection, or a transaction through its deref); the rows
/// it changed.
pub(crate) fn sqlite_execute(conn: &rusqlite::Connection, sql: &str, values: &[Value]) -> Result<u64, Failure> {
    let mut statement = conn.prepare_cached(sql).map_err(super::db_error("statement"))?;
    let n = statement.execute(rusqlite::params_from_iter(values.iter().map(SqliteValue))).map_err(super::db_error("statement"))?;
    Ok(n as u64)
}

fn sqlite_query(conn: &rusqlite::Connection, sql: &str, values: &[Value]) -> Result<Vec<Vec<Cell>>, Failure> {
    let mut statement = conn.prepare_cached(sql).map_err(super::db_error("query"))?;
    let width = statement.column_count();
    let rows = statement
        .query_map(rusqlite::params_from_iter(values.iter().map(SqliteValue)), |r| (0..width).map(|i| sqlite_cell(r, i)).collect())
        .map_err(super::db_error("query"))?;
    rows.collect::<Result<Vec<_>, _>>().map_err(super::db_error("query"))
}

struct SqliteValue<'a, 'b>(&'b Value<'a>);

impl rusqlite::ToSql for SqliteValue<'_, '_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            Value::Null => ValueRef::Null,
            Value::Int(v) => ValueRef::Integer(*v),
            Value::Text(t) => ValueRef::Text(t.as_bytes()),
            Value::Bytes(b) => ValueRef::Blob(b),
        }))
    }
}

fn sqlite_cell(r: &rusqlite::Row, i: usize) -> rusqlite::Result<Cell> {
    use rusqlite::types::ValueRef;
    Ok(match r.get_ref(i)? {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(v) => Cell::Int(v),
        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
        ValueRef::Real(_) => return Err(rusqlite::Error::InvalidColumnType(i, "a real number".into(), rusqlite::types::Type::Real)),
    })
}

/// A parameter as PostgreSQL takes it: NULL goes to a parameter of any type.
#[derive(Debug)]
enum PgValue<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl postgres::types::ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            PgValue::Null => Ok(postgres::types::IsNull::Yes),
            PgValue::Int(v) => v.to_sql(ty, out),
            PgValue::Text(t) => t.to_sql(ty, out),
            PgValue::Bytes(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &postgres::types::Type) -> bool {
        true
    }

    fn to_sql_checked(
        &self,
        ty: &postgres::types::Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<postgres::types::IsNull, Box<dyn std::error::Error + Sync + Send>> {
        // Each value is held to the parameter's type by the type's own check.
        match self {
            PgValue::Null => Ok(postgres::types::IsNull::Yes),
            PgValue::Int(v) => v.to_sql_checked(ty, out),
            PgValue::Text(t) => t.to_sql_checked(ty, out),
            PgValue::Bytes(b) => b.to_sql_checked(ty, out),
        }
    }
}

fn pg_params<'a>(values: &[Value<'a>]) -> Vec<PgValue<'a>> {
    values
        .iter()
        .map(|v| match *v {
            Value::Null => PgValue::Null,
            Value::Int(i) => PgValue::Int(i),
            Value::Text(t) => PgValue::Text(t),
            Value::Bytes(b) => PgValue::Bytes(b),
        })
        .collect()
}

fn pg_refs<'a>(params: &'a [PgValue<'a>]) -> Vec<&'a (dyn postgres::types::ToSql + Sync)> {
    params.iter().map(|p| p as &(dyn postgres::types::ToSql + Sync)).collect()
}

fn pg_cell(r: &postgres::Row, i: usize) -> Result<Cell, Failure> {
    use postgres::types::Type;
    let bad = |e: postgres::Error| Failure::failed(format!("incident log (PostgreSQL): column {i}: {e}"));
    let ty = r.columns()[i].type_().clone();
    Ok(match ty {
        Type::INT8 => r.try_get::<_, Option<i64>>(i).map_err(bad)?.map_or(Cell::Null, Cell::Int),
        Type::INT4 => r.try_get::<_, Option<i32>>(i).map_err(bad)?.map_or(Cell::Null, |v| Cell::Int(v.into())),
        Type::INT2 => r.try_get::<_, Option<i16>>(i).map_err(bad)?.map_or(Cell::Null, |v| Cell::Int(v.into())),
        Type::BOOL => r.try_get::<_, Option<bool>>(i).map_err(bad)?.map_or(Cell::Null, Cell::Bool),
        Type::BYTEA => r.try_get::<_, Option<Vec<u8>>>(i).map_err(bad)?.map_or(Cell::Null, Cell::Bytes),
        Type::TEXT | Type::VARCHAR | Type::NAME | Type::BPCHAR | Type::UNKNOWN => {
            r.try_get::<_, Option<String>>(i).map_err(bad)?.map_or(Cell::Null, Cell::Text)
        }
        other => {
            return Err(Failure::failed(format!(
                "incident log (PostgreSQL): column {i} has the type {other}, which the store does not read"
            )));
        }
    })
}

pub(crate) fn pg_error(what: &str) -> impl Fn(postgres::Error) -> Failure + '_ {
    // The client's Display says only "db error"; the server's message is in its source.
    move |e| {
        let said = e.as_db_error().map_or_else(|| e.to_string(), |d| format!("{}: {}", d.severity(), d.message()));
        Failure::failed(format!("incident log (PostgreSQL): {what}: {said}"))
    }
}

impl Engine {
    /// How many migrations the schema has had.
    fn version(&mut self) -> Result<usize, Failure> {
        match self {
            Engine::Sqlite(conn) => conn.query_row("PRAGMA user_version", [], |r| r.get(0)).map_err(super::db_error("schema version")),
            Engine::Postgres(_) => {
                self.batch("CREATE TABLE IF NOT EXISTS schema_version (id BIGINT PRIMARY KEY CHECK (id = 1), version BIGINT NOT NULL)")?;
                let version: Option<i64> = self.one_opt("SELECT version FROM schema_version WHERE id = 1", &[])?;
                Ok(version.map_or(0, |v| v.max(0) as usize))
            }
        }
    }

    /// Applies migration number `n` (from 1) and records it.
    fn apply(&mut self, n: usize, sql: &str) -> Result<(), Failure> {
        match self {
            Engine::Sqlite(conn) => {
                conn.execute_batch(sql).map_err(super::db_error("migration"))?;
                conn.pragma_update(None, "user_version", n).map_err(super::db_error("migration"))
            }
            Engine::Postgres(pg) => {
                pg.client.batch_execute(&for_postgres(sql)).map_err(pg_error(&format!("migration {n}")))?;
                self.execute(
                    "INSERT INTO schema_version (id, version) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET version = ?1",
                    &[(n as i64).into()],
                )
                .map(|_| ())
            }
        }
    }
}

/// Brings the schema up to `migrations.len()`; returns the version it had. A schema
/// newer than this certmail knows is refused.
pub(crate) fn apply_migrations(tx: &mut Engine, migrations: &[&str]) -> Result<usize, Failure> {
    let version = tx.version()?;
    if version > migrations.len() {
        return Err(Failure::failed(format!(
            "the incident log has schema version {version}, newer than this certmail knows ({}); upgrade certmail",
            migrations.len()
        )));
    }
    for (i, sql) in migrations.iter().enumerate().skip(version) {
        tx.apply(i + 1, sql)?;
    }
    Ok(version)
}

/// A migration in SQLite's words, in PostgreSQL's: `INTEGER PRIMARY KEY` of an `id`
/// becomes an identity (by default, so copied rows keep their ids), other integers
/// `BIGINT`, `BLOB` `BYTEA`, and `TEXT` is compared bytewise (`COLLATE "C"`) as in
/// SQLite, whatever the database's locale. Comments and quoted text are left alone;
/// the rest of the migrations is SQL both engines read alike.
pub(crate) fn for_postgres(sql: &str) -> String {
    let tokens = tokenize(sql);
    let word = |i: usize| tokens.get(i).filter(|t| t.word).map(|t| t.text.to_ascii_uppercase());
    // The next (or previous) token that is not white space.
    let space = |t: &Token| !t.word && t.text.trim().is_empty();
    let next = |mut i: usize| {
        i += 1;
        while tokens.get(i).is_some_and(space) {
            i += 1;
        }
        i
    };
    let prev = |i: usize| (0..i).rev().find(|&j| !space(&tokens[j]));
    let mut out = String::with_capacity(sql.len() + 256);
    let mut i = 0;
    while i < tokens.len() {
        let t = &tokens[i];
        match word(i).as_deref() {
            Some("INTEGER") => {
                let (primary, key) = (next(i), next(next(i)));
                if word(primary).as_deref() == Some("PRIMARY") && word(key).as_deref() == Some("KEY") {
                    let column = prev(i).and_then(word);
                    out.push_str(if column.as_deref() == Some("ID") {
                        "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
                    } else {
                        "BIGINT PRIMARY KEY"
                    });
                    i = key + 1;
                    continue;
                }
                out.push_str("BIGINT");
            }
            Some("BLOB") => out.push_str("BYTEA"),
            Some("TEXT") => out.push_str("TEXT COLLATE \"C\""),
            _ => out.push_str(&t.text),
        }
        i += 1;
    }
    out
}

struct Token {
    /// An identifier or key word (letters, digits, `_`), outside comments and quotes.
    word: bool,
    text: String,
}

fn tokenize(sql: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let mut chars = sql.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let end = if c.is_ascii_alphanumeric() || c == '_' {
            let mut end = start + 1;
            while let Some(&(j, d)) = chars.peek() {
                if !(d.is_ascii_alphanumeric() || d == '_') {
                    break;
                }
                end = j + 1;
                chars.next();
            }
            tokens.push(Token { word: true, text: sql[start..end].to_string() });
            continue;
        } else if c == '-' && chars.peek().is_some_and(|&(_, d)| d == '-') {
            // A comment, to the end of its line.
            sql[start..].find('\n').map_or(sql.len(), |n| start + n)
        } else if c == '\'' || c == '"' {
            // Quoted, to the closing quote (a doubled quote is part of it).
            let mut end = sql.len();
            let mut k = start + 1;
            while let Some(n) = sql[k..].find(c) {
                let at = k + n;
                if sql[at + 1..].starts_with(c) {
                    k = at + 2;
                } else {
                    end = at + 1;
                    break;
                }
            }
            end
        } else {
            start + c.len_utf8()
        };
        while chars.peek().is_some_and(|&(j, _)| j < end) {
            chars.next();
        }
        tokens.push(Token { word: false, text: sql[start..end].to_string() });
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_rewritten_word_by_word_outside_comments_and_quotes() {
        let sqlite = "CREATE TABLE t (\n    id  INTEGER PRIMARY KEY,\n    n integer NOT NULL, -- an INTEGER, TEXT or BLOB here stays\n    \
                      b BLOB, flags TEXT NOT NULL DEFAULT 'TEXT ''INTEGER''',\n    texts TEXT\n);\n\
                      CREATE TABLE u (message INTEGER PRIMARY KEY REFERENCES t(id), \"INTEGER\" INTEGER);";
        assert_eq!(
            for_postgres(sqlite),
            "CREATE TABLE t (\n    id  BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,\n    n BIGINT NOT NULL, -- an INTEGER, TEXT or BLOB here stays\n    \
             b BYTEA, flags TEXT COLLATE \"C\" NOT NULL DEFAULT 'TEXT ''INTEGER''',\n    texts TEXT COLLATE \"C\"\n);\n\
             CREATE TABLE u (message BIGINT PRIMARY KEY REFERENCES t(id), \"INTEGER\" BIGINT);"
        );
        assert_eq!(
            for_postgres("ALTER TABLE messages ADD COLUMN claimed_by INTEGER;"),
            "ALTER TABLE messages ADD COLUMN claimed_by BIGINT;"
        );
        assert_eq!(for_postgres("-- only a comment\n"), "-- only a comment\n");
    }

    #[test]
    fn placeholders_become_postgresql_ones_outside_quotes_and_comments() {
        assert_eq!(
            placeholders_for_postgres(
                "SELECT a FROM t WHERE b = ?1 AND (CAST(?2 AS TEXT) IS NULL OR c = ?2) AND d LIKE '%?3%' -- ?4\n LIMIT ?10"
            ),
            "SELECT a FROM t WHERE b = $1 AND (CAST($2 AS TEXT) IS NULL OR c = $2) AND d LIKE '%?3%' -- ?4\n LIMIT $10"
        );
        assert_eq!(placeholders_for_postgres("VALUES (?, ?, 'it''s ?')"), "VALUES ($1, $2, 'it''s ?')");
    }

    #[test]
    fn json_paths_and_greatest_in_each_dialect() {
        assert_eq!(Dialect::Sqlite.json_text("e.detail", &["virk-reference"]), "json_extract(e.detail, '$.\"virk-reference\"')");
        assert_eq!(
            Dialect::Postgres.json_text("i.incident_json", &["personal-data", "report-to"]),
            "(CAST(i.incident_json AS jsonb) #>> '{personal-data,report-to}')"
        );
        assert_eq!(Dialect::Postgres.greatest("last_uid", "?3"), "GREATEST(last_uid, ?3)");
    }

    #[test]
    fn the_sqlite_engine_takes_values_and_gives_cells() {
        let mut db = Engine::Sqlite(rusqlite::Connection::open_in_memory().unwrap());
        db.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, bytes BLOB)", &[]).unwrap();
        let id = db.query("INSERT INTO t (name, bytes) VALUES (?1, ?2) RETURNING id", &["a".into(), Value::Bytes(b"\0\xff")]).unwrap();
        assert_eq!(id, [[Cell::Int(1)]]);
        assert_eq!(db.execute("INSERT INTO t (name, bytes) VALUES (?1, ?2)", &[Value::Null, Value::Null]).unwrap(), 1);
        let rows = db.query("SELECT name, bytes, EXISTS (SELECT 1 FROM t WHERE name = ?1) FROM t ORDER BY id", &["a".into()]).unwrap();
        assert_eq!(rows[0], [Cell::Text("a".into()), Cell::Bytes(vec![0, 255]), Cell::Int(1)]);
        assert_eq!(rows[1][..2], [Cell::Null, Cell::Null]);
        assert_eq!(rows[1][2].bool(), Some(true));
        assert!(db.query_opt("SELECT id FROM t WHERE id = ?1", &[7.into()]).unwrap().is_none());
        // A write commits what its work did, or nothing of it.
        let n = db.write(|tx| tx.execute("DELETE FROM t WHERE id = ?1", &[1.into()])).unwrap();
        assert_eq!(n, 1);
        let failed: Result<(), Failure> = db.write(|tx| {
            tx.execute("DELETE FROM t", &[])?;
            Err(Failure::failed("changed my mind"))
        });
        assert!(failed.is_err());
        assert_eq!(db.query("SELECT COUNT(*) FROM t", &[]).unwrap(), [[Cell::Int(1)]]);
    }
}
