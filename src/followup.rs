//! A follow-up written as only what changed: the file's fields laid over the incident
//! as last reported, and the list of what that changed, which the report shows before
//! the whole updated report. Pure: JSON values in, values out.
//!
//! A field the file leaves out keeps its earlier value (so a field cannot be removed
//! by leaving it out, only given a new value); a list given replaces the earlier list.

use serde::Serialize;
use serde_json::{Map, Value};

/// One field whose value the follow-up changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The field's path as the file names it, e.g. `handling.measures`.
    pub field: String,
    /// The new value as text; continuation lines are indented.
    pub value: String,
    /// The earlier value, when it and the new one are short enough to share a line.
    pub was: Option<String>,
}

/// Lays `update` over `earlier`: objects field by field, anything else (text, numbers,
/// lists) replaced; `null` in `update` means the file did not give it.
pub fn merge(earlier: &Value, update: &Value) -> Value {
    match (earlier, update) {
        (Value::Object(old), Value::Object(new)) => {
            let mut merged = old.clone();
            for (key, value) in new {
                let next = match old.get(key) {
                    Some(before) => merge(before, value),
                    None => value.clone(),
                };
                merged.insert(key.clone(), next);
            }
            Value::Object(merged)
        }
        (_, Value::Null) => earlier.clone(),
        (_, new) => new.clone(),
    }
}

/// The fields whose values differ, by path (`description.…` before `handling.…`).
pub fn changes(earlier: &Value, merged: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", earlier, merged, &mut out);
    out
}

fn walk(path: &str, earlier: &Value, merged: &Value, out: &mut Vec<Change>) {
    match merged {
        Value::Object(fields) => {
            let empty = Map::new();
            let before = earlier.as_object().unwrap_or(&empty);
            for (key, value) in fields {
                let field = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                walk(&field, before.get(key).unwrap_or(&Value::Null), value, out);
            }
        }
        Value::Null => {}
        value if value != earlier => {
            let one_line = |t: &String| !t.is_empty() && !t.contains('\n') && t.chars().count() <= 80;
            let new = shown(value);
            let was = Some(shown(earlier)).filter(|w| one_line(w) && one_line(&new));
            out.push(Change { field: path.to_string(), value: indented(&new), was });
        }
        _ => {}
    }
}

/// A value as the report shows it: text as it is, a list as its items (a list of
/// tables, the indicators, one item a line).
fn shown(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.trim_end().to_string(),
        Value::Array(items) if items.iter().any(Value::is_object) => items.iter().map(shown).collect::<Vec<_>>().join("\n"),
        Value::Array(items) => items.iter().map(shown).collect::<Vec<_>>().join(", "),
        // An indicator as an analyst reads it: "ip 203.0.113.7 (C2)", not JSON.
        Value::Object(map) if map.contains_key("type") && map.contains_key("value") => {
            let note = map.get("note").map(shown).filter(|n| !n.is_empty()).map(|n| format!(" ({n})")).unwrap_or_default();
            format!("{} {}{note}", shown(&map["type"]), shown(&map["value"]))
        }
        other => other.to_string(),
    }
}

/// Text of several lines starts on its own line, each line indented under the field.
fn indented(text: &str) -> String {
    if !text.contains('\n') {
        return text.to_string();
    }
    text.lines().map(|l| format!("\n    {l}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_fields_given_change_and_each_is_listed_once() {
        let earlier = json!({
            "scheme": "voluntary", "title": "Ransomware",
            "scope": { "total": 450, "is-estimate": true, "affected": ["employees"] },
            "handling": { "measures": "Isolated." },
            "timeline": { "end": { "status": "not-ended", "at": null } },
        });
        let update = json!({
            "scheme": null, "title": null,
            "scope": { "total": 1200, "is-estimate": null, "affected": ["employees", "customers"] },
            "handling": { "measures": "Isolated.\nRestored from backup." },
            "timeline": { "end": { "status": "known", "at": "2026-11-21T10:00:00+01:00" } },
            "nis": null,
        });
        let merged = merge(&earlier, &update);
        assert_eq!(merged["title"], "Ransomware");
        assert_eq!(merged["scope"]["is-estimate"], true);
        assert_eq!(merged["scope"]["total"], 1200);
        let c = |field: &str, value: &str, was: Option<&str>| Change { field: field.into(), value: value.into(), was: was.map(Into::into) };
        assert_eq!(
            changes(&earlier, &merged),
            [
                c("handling.measures", "\n    Isolated.\n    Restored from backup.", None),
                c("scope.affected", "employees, customers", Some("employees")),
                c("scope.total", "1200", Some("450")),
                c("timeline.end.at", "2026-11-21T10:00:00+01:00", None),
                c("timeline.end.status", "known", Some("not-ended")),
            ]
        );
        assert!(changes(&merged, &merge(&merged, &update)).is_empty(), "the same update again changes nothing");
    }

    #[test]
    fn changed_indicators_are_listed_one_a_line() {
        let earlier = json!({ "indicators": [{ "type": "ip", "value": "203.0.113.7" }] });
        let update = json!({ "indicators": [
            { "type": "ip", "value": "203.0.113.7", "note": "C2" },
            { "type": "domain", "value": "evil.example.net" },
        ] });
        let listed = changes(&earlier, &merge(&earlier, &update));
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].value, "\n    ip 203.0.113.7 (C2)\n    domain evil.example.net");
        assert_eq!(listed[0].was, None);
    }
}
