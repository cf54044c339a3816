//! Checks an incident file's tree against the form (`fields`): unknown keys, values of
//! the wrong kind and choices the form does not offer, every one of them, each with
//! its place and what was probably meant. What passes becomes the JSON value serde
//! reads into the model; what does not is left out, so the rest can still be checked.

use serde_json::{Map, Value as Json};

use super::choices::TimeKnowledge;
use super::diagnostic::{Diagnostic, DiagnosticKind};
use super::fields::{self, Field, Kind, Opt, TIME_KEYS};
use super::suggest;
use super::tree::{Entry, Node, Value};

/// What the checker made of a file.
#[derive(Debug, Default)]
pub struct Checked {
    /// The values that passed, for serde; placeholders, nulls and empty tables left out.
    pub value: Json,
    pub diagnostics: Vec<Diagnostic>,
    /// Fields still holding a `certmail new` placeholder, and where.
    pub placeholders: Vec<(String, usize)>,
    /// Fields whose value was refused (and reported): "missing" would say it twice.
    pub refused: Vec<String>,
    /// The file is JSON: "did you mean" is then written as JSON.
    json: bool,
}

/// A placeholder of `certmail new`: text in angle brackets, never a real answer.
pub fn is_placeholder(text: &str) -> bool {
    let t = text.trim();
    t.len() >= 2 && t.starts_with('<') && t.ends_with('>')
}

pub fn check(root: &Node, json: bool) -> Checked {
    let mut walk = Checked { json, ..Checked::default() };
    walk.value = match &root.value {
        Value::Table(entries) => Json::Object(walk.table("", entries)),
        other => {
            let found = other.described();
            walk.diagnostics.push(Diagnostic::new(
                Some(root.at),
                "",
                DiagnosticKind::WrongType,
                format!("expected the incident as an object ({{ \"scheme\": … }}), found {found}"),
            ));
            Json::Object(Map::new())
        }
    };
    walk
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() { key.to_string() } else { format!("{parent}.{key}") }
}

fn section_name(parent: &str) -> String {
    if parent.is_empty() { "at the top level".to_string() } else { format!("in [{parent}]") }
}

impl Checked {
    /// `key = value` as the file's format writes it.
    fn assign(&self, key: &str, value: &str) -> String {
        if self.json { format!("\"{key}\": {value}") } else { format!("{key} = {value}") }
    }

    fn known_at(&self, at: &str) -> String {
        if self.json {
            format!("{{ \"status\": \"known\", \"at\": \"{at}\" }}")
        } else {
            format!("{{ status = \"known\", at = \"{at}\" }}")
        }
    }

    fn table(&mut self, parent: &str, entries: &[Entry]) -> Map<String, Json> {
        self.table_as(parent, parent, entries)
    }

    /// A table whose fields are those of `form` (`indicators`), named below `parent`
    /// (`indicators[2]`) in what is reported.
    fn table_as(&mut self, form: &str, parent: &str, entries: &[Entry]) -> Map<String, Json> {
        let mut map = Map::new();
        for e in entries {
            let path = join(parent, &e.key);
            match fields::field(&join(form, &e.key)) {
                Some(f) => {
                    if let Some(v) = self.field(f, &path, &e.node) {
                        map.insert(e.key.clone(), v);
                    }
                }
                None => {
                    let siblings: Vec<&str> = fields::children(form).map(Field::key).collect();
                    self.unknown(parent, e, &siblings);
                }
            }
        }
        map
    }

    /// A list of tables, each checked against the fields below `path`. Every item keeps
    /// its place (an empty table for one refused), so that the n-th in the file is the
    /// n-th the rules check and name.
    fn entries(&mut self, path: &str, items: &[Node]) -> Option<Json> {
        let mut out = Vec::new();
        for (n, item) in items.iter().enumerate() {
            let here = format!("{path}[{n}]");
            match &item.value {
                Value::Table(entries) => out.push(Json::Object(self.table_as(path, &here, entries))),
                _ => {
                    let key = path.rsplit('.').next().unwrap_or(path);
                    self.wrong(&here, item, format_args!("a table: [[{key}]] on a line of its own, its fields below it"));
                    out.push(Json::Object(Map::new()));
                }
            }
        }
        (!out.is_empty()).then_some(Json::Array(out))
    }

    fn unknown(&mut self, parent: &str, e: &Entry, siblings: &[&'static str]) {
        let key = &e.key;
        let here = section_name(parent);
        let message = if let Some(meant) = suggest::closest(key, siblings.iter().copied()) {
            let meant_path = join(parent, meant);
            self.refused.push(meant_path.clone());
            // Check what is under a misspelt section too, so its problems come in this run.
            if let (Some(f), Value::Table(_)) = (fields::field(&meant_path), &e.node.value)
                && f.kind == Kind::Section
            {
                self.field(f, &meant_path, &e.node);
            }
            format!("unknown field `{key}` {here}; did you mean `{meant}`?")
        } else {
            let typed = suggest::normalize(key);
            let elsewhere: Vec<&str> = fields::FIELDS.iter().filter(|f| f.key() == typed && f.parent() != parent).map(|f| f.path).collect();
            if elsewhere.is_empty() {
                format!("unknown field `{key}` {here}; the fields here are: {}", siblings.join(", "))
            } else {
                let places: Vec<String> = elsewhere.iter().map(|p| format!("`{p}`")).collect();
                format!("unknown field `{key}` {here}; did you mean {} (a field of another section)?", places.join(" or "))
            }
        };
        self.diagnostics.push(Diagnostic::new(Some(e.key_at), &join(parent, key), DiagnosticKind::UnknownField, message));
    }

    fn wrong(&mut self, path: &str, node: &Node, expected: impl std::fmt::Display) -> Option<Json> {
        self.wrong_meant(path, node, expected, None::<String>)
    }

    /// A value of the wrong kind, and the line as it was probably meant.
    fn wrong_meant(
        &mut self,
        path: &str,
        node: &Node,
        expected: impl std::fmt::Display,
        meant: Option<impl std::fmt::Display>,
    ) -> Option<Json> {
        let found = node.value.described();
        let meant = meant.map(|m| format!("; did you mean `{m}`?")).unwrap_or_default();
        self.diagnostics.push(Diagnostic::new(
            Some(node.at),
            path,
            DiagnosticKind::WrongType,
            format!("expected {expected}, found {found}{meant}"),
        ));
        self.refused.push(path.to_string());
        None
    }

    fn field(&mut self, f: &Field, path: &str, node: &Node) -> Option<Json> {
        if let Value::Text(t) = &node.value
            && is_placeholder(t)
        {
            self.placeholders.push((path.to_string(), node.at));
            return None;
        }
        if node.value == Value::Null {
            return None;
        }
        let key = f.key();
        match (f.kind, &node.value) {
            (Kind::Section, Value::Table(entries)) => {
                let map = self.table(path, entries);
                (!map.is_empty()).then_some(Json::Object(map))
            }
            (Kind::Section, _) => self.wrong(path, node, format_args!("a section: [{path}] on a line of its own, its fields below it")),
            (Kind::Entries, Value::List(items)) => self.entries(path, items),
            (Kind::Entries, _) => {
                self.wrong(path, node, format_args!("a list of tables: [[{key}]] on a line of its own for each, its fields below it"))
            }
            (Kind::Line | Kind::Prose, Value::Text(t)) => Some(Json::String(t.clone())),
            (Kind::Line | Kind::Prose, Value::Integer(_) | Value::Float(_) | Value::Bool(_) | Value::Datetime { .. }) => {
                self.wrong(path, node, "text in quotes")
            }
            (Kind::Line | Kind::Prose, _) => self.wrong(path, node, format_args!("text in quotes: {key} = \"…\"")),
            (Kind::Bool, Value::Bool(b)) => Some(Json::Bool(*b)),
            (Kind::Bool, Value::Text(t)) => match yes_or_no(t) {
                Some(b) => self.wrong_meant(path, node, "true or false without quotes", Some(self.assign(key, &b.to_string()))),
                None => self.wrong(path, node, "true or false (without quotes)"),
            },
            (Kind::Bool, _) => self.wrong(path, node, "true or false"),
            (Kind::Count, Value::Integer(Some(n))) if (0..=u64::MAX as i128).contains(n) => Some(Json::from(*n as u64)),
            (Kind::Count, Value::Integer(_)) => self.wrong(path, node, "a whole number, zero or more"),
            (Kind::Count, Value::Text(t)) => match count_in_text(t) {
                Some(n) => self.wrong_meant(path, node, "a whole number without quotes", Some(self.assign(key, &n.to_string()))),
                None => self.wrong(path, node, "a whole number (say what is uncertain in the details)"),
            },
            (Kind::Count, Value::Float(_)) => self.wrong(path, node, "a whole number, without decimals"),
            (Kind::Count, _) => self.wrong(path, node, "a whole number"),
            (Kind::Choice(options), Value::Text(t)) => {
                let chosen = self.choice(path, node.at, t, options).map(Json::from);
                if chosen.is_none() {
                    self.refused.push(path.to_string());
                }
                chosen
            }
            (Kind::Choice(options), _) => self.wrong(path, node, format_args!("one of {} in quotes", keys(options))),
            (Kind::Choices(options) | Kind::OneOrMore(options), Value::List(items)) => self.choices(path, items, options),
            (Kind::OneOrMore(options), Value::Text(t)) => {
                let chosen = self.choice(path, node.at, t, options).map(Json::from);
                if chosen.is_none() {
                    self.refused.push(path.to_string());
                }
                chosen
            }
            (Kind::OneOrMore(options), _) => {
                self.wrong(path, node, format_args!("one of {} in quotes, or a list of them in brackets", keys(options)))
            }
            (Kind::Choices(options), Value::Text(t)) => {
                let parts: Vec<&str> = t.split(',').map(str::trim).collect();
                let meant: Option<Vec<&str>> = parts.iter().map(|p| suggest::choice(p, options)).collect();
                match meant {
                    Some(m) => {
                        let list = m.iter().map(|k| format!("\"{k}\"")).collect::<Vec<_>>().join(", ");
                        self.wrong_meant(path, node, "a list in brackets", Some(self.assign(key, &format!("[{list}]"))))
                    }
                    None => self.wrong(path, node, format_args!("a list in brackets of {}", keys(options))),
                }
            }
            (Kind::Choices(options), _) => self.wrong(path, node, format_args!("a list in brackets of {}", keys(options))),
            (Kind::Time { end }, Value::Table(entries)) => self.time(path, node, entries, end),
            (Kind::Time { .. }, Value::Text(t)) if chrono::DateTime::parse_from_rfc3339(t.trim()).is_ok() => {
                let meant = self.assign(key, &self.known_at(t.trim()));
                self.wrong_meant(path, node, "a point in time", Some(meant))
            }
            (Kind::Time { .. }, Value::Datetime { text, complete }) => {
                // A time without its offset is ambiguous: the example adds Danish winter time's.
                let (at, offset) = if *complete { (text.clone(), "") } else { (format!("{text}+01:00"), ", with its offset from UTC") };
                let meant = self.assign(key, &self.known_at(&at));
                self.wrong_meant(path, node, format_args!("a point in time{offset}"), Some(meant))
            }
            (Kind::Time { .. }, _) => self.wrong(
                path,
                node,
                format_args!("a point in time: {key} = {{ status = \"known\", at = \"2026-01-31T06:40:00+01:00\" }}, or status \"other\" with details, or \"unknown\""),
            ),
        }
    }

    /// One option; a near miss is reported with what it probably meant.
    fn choice(&mut self, path: &str, at: usize, typed: &str, options: &'static [Opt]) -> Option<&'static str> {
        if let Some(o) = options.iter().find(|o| o.0 == typed) {
            return Some(o.0);
        }
        let message = match suggest::choice(typed, options) {
            Some(meant) => format!("`{typed}` is not a choice here; did you mean `{meant}`? The choices: {}", keys(options)),
            None => format!("`{typed}` is not a choice here; expected one of {}", keys(options)),
        };
        self.diagnostics.push(Diagnostic::new(Some(at), path, DiagnosticKind::UnknownChoice, message));
        None
    }

    fn choices(&mut self, path: &str, items: &[Node], options: &'static [Opt]) -> Option<Json> {
        let mut chosen = Vec::new();
        for item in items {
            match &item.value {
                Value::Text(t) if is_placeholder(t) => self.placeholders.push((path.to_string(), item.at)),
                Value::Text(t) => match self.choice(path, item.at, t, options) {
                    Some(key) => chosen.push(Json::from(key)),
                    None => self.refused.push(path.to_string()),
                },
                _ => {
                    self.wrong(path, item, format_args!("choices in quotes, one of {}", keys(options)));
                }
            }
        }
        (!chosen.is_empty()).then_some(Json::Array(chosen))
    }

    /// A point in time: `{ status, at, details }`.
    fn time(&mut self, path: &str, node: &Node, entries: &[Entry], end: bool) -> Option<Json> {
        let mut map = Map::new();
        let mut unfilled_status = None;
        for e in entries {
            let sub = join(path, &e.key);
            match (e.key.as_str(), &e.node.value) {
                (_, Value::Text(t)) if TIME_KEYS.contains(&e.key.as_str()) && is_placeholder(t) => {
                    self.placeholders.push((sub.clone(), e.node.at));
                    if e.key == "status" {
                        unfilled_status = Some(e.node.at);
                    }
                }
                ("status", Value::Text(t)) => {
                    let options: &'static [Opt] = if end { TimeKnowledge::OPTIONS } else { fields::TIME_STATUS };
                    match self.choice(&sub, e.node.at, t, options) {
                        Some(k) => drop(map.insert(e.key.clone(), Json::from(k))),
                        None => self.refused.push(path.to_string()),
                    }
                }
                ("at", Value::Text(t)) => drop(map.insert(e.key.clone(), Json::from(t.clone()))),
                ("at", Value::Datetime { text, complete: true }) => drop(map.insert(e.key.clone(), Json::from(text.clone()))),
                ("at", Value::Datetime { text, .. }) => {
                    self.wrong(&sub, &e.node, format_args!("a date and time with its offset from UTC, e.g. \"{text}+01:00\" (+01:00 in Danish winter time, +02:00 in summer)"));
                }
                ("details", Value::Text(t)) => drop(map.insert(e.key.clone(), Json::from(t.clone()))),
                ("status" | "details" | "at", _) => {
                    self.wrong(&sub, &e.node, "text in quotes");
                }
                _ => self.unknown(path, e, TIME_KEYS),
            }
        }
        if map.is_empty() || self.refused.iter().any(|r| r == path || r.starts_with(&format!("{path}."))) {
            return None;
        }
        if !map.contains_key("status") {
            let (at, kind) = match unfilled_status {
                Some(at) => (at, DiagnosticKind::Unfilled),
                None => (node.at, DiagnosticKind::Missing),
            };
            let message = "status: \"known\" (with at), \"other\" (with details) or \"unknown\"";
            self.diagnostics.push(Diagnostic::new(Some(at), &join(path, "status"), kind, message));
            self.refused.push(path.to_string());
            return None;
        }
        Some(Json::Object(map))
    }
}

fn keys(options: &[Opt]) -> String {
    options.iter().map(|o| o.0).collect::<Vec<_>>().join(", ")
}

/// "yes", "ja", "true" … in quotes, where TOML wants a bare true or false.
fn yes_or_no(text: &str) -> Option<bool> {
    match suggest::normalize(text).as_str() {
        "true" | "yes" | "ja" | "y" | "j" => Some(true),
        "false" | "no" | "nej" | "n" => Some(false),
        _ => None,
    }
}

/// A number written as text ("450", "1.840", "12 000"), as it was probably meant.
fn count_in_text(text: &str) -> Option<u64> {
    let digits: String = text.trim().chars().filter(|c| !matches!(c, ' ' | '_' | '.' | ',')).collect();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
}
