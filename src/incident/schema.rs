//! The JSON Schema of incident files (schemars, from the model) with what each scheme
//! requires (`if scheme = … then required …`), so an editor flags a missing field as
//! `notify` would. What is required comes from `validate` itself: the fields it finds
//! missing in an empty incident of the scheme.

use chrono::DateTime;
use serde_json::{Value, json};

use super::model::Incident;
use super::validate::{ProblemKind, validate};
use super::{Scheme, choices};

/// What a scheme requires, in the form's order: each path, and the paths that would
/// do instead of it (`description.nature-other` for `description.nature`). The
/// reporter's fields are among them; `[identity]` usually fills those.
pub fn requirements(schemes: &[Scheme]) -> Vec<(String, &'static [&'static str])> {
    let scheme = match schemes {
        [one] => choices::Schemes::One(*one),
        several => choices::Schemes::Several(several.to_vec()),
    };
    let empty = Incident { scheme: Some(scheme), ..Default::default() };
    // An empty incident holds no time, so `now` decides nothing here.
    validate(&empty, DateTime::UNIX_EPOCH)
        .into_iter()
        .filter_map(|p| match p.kind {
            ProblemKind::Missing { or } => Some((p.path, or)),
            ProblemKind::Invalid => None,
        })
        .collect()
}

/// The JSON Schema of incident files, requiring per scheme what `notify` requires.
pub fn json_schema() -> Value {
    let mut schema = serde_json::to_value(schemars::schema_for!(Incident)).unwrap_or(Value::Null);
    let per_scheme: Vec<Value> = choices::Scheme::OPTIONS
        .iter()
        .filter_map(|(key, _, _)| {
            let scheme: Scheme = serde_json::from_value(json!(key)).ok()?;
            Some(json!({
                // The scheme named alone, or among a list of them.
                "if": {
                    "properties": { "scheme": { "anyOf": [{ "const": key }, { "type": "array", "contains": { "const": key } }] } },
                    "required": ["scheme"],
                },
                "then": required_by(scheme),
            }))
        })
        .collect();
    // Each indicator needs its type and value, as `validate` says; what a hash or a URL
    // looks like an editor can check too (the rest of `indicator::check` it cannot).
    if let Some(def) = schema.pointer_mut("/$defs/Indicator").and_then(Value::as_object_mut) {
        def.insert("required".into(), json!(["type", "value"]));
        let pattern = |kind: &str, re: &str| json!({ "if": { "properties": { "type": { "const": kind } } }, "then": { "properties": { "value": { "pattern": re } } } });
        def.insert(
            "allOf".into(),
            json!([
                pattern("hash", "^([0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$"),
                pattern("url", "^[hH][tT][tT][pP][sS]?://[^\\s]+$")
            ]),
        );
    }
    if let Value::Object(map) = &mut schema {
        map.insert("required".into(), json!(["scheme"]));
        map.insert("allOf".into(), Value::Array(per_scheme));
        map.insert(
            "description".into(),
            json!("A certmail incident file. `certmail new SCHEME` prints a commented one; the reporter's fields come from [identity] in the configuration when left out."),
        );
    }
    schema
}

/// One scheme's requirements as a schema; fields that have alternatives become `anyOf`.
fn required_by(scheme: Scheme) -> Value {
    let mut then = json!({});
    let mut alternatives = Vec::new();
    for (path, or) in requirements(&[scheme]) {
        if path.starts_with("reporter.") {
            continue;
        }
        if or.is_empty() {
            require(&mut then, &path);
        } else {
            let any: Vec<Value> = std::iter::once(path.as_str())
                .chain(or.iter().copied())
                .filter(|p| *p != "consequences")
                .map(|p| {
                    let mut one = json!({});
                    require(&mut one, p);
                    one
                })
                .collect();
            alternatives.push(json!({ "anyOf": any }));
        }
    }
    if !alternatives.is_empty() {
        then["allOf"] = Value::Array(alternatives);
    }
    then
}

/// Adds `required` for a dotted path, nesting `properties` for each section on the way.
fn require(schema: &mut Value, path: &str) {
    let (key, rest) = match path.split_once('.') {
        Some((k, r)) => (k, Some(r)),
        None => (path, None),
    };
    let required = schema.as_object_mut().map(|m| m.entry("required").or_insert_with(|| json!([])));
    if let Some(Value::Array(list)) = required
        && !list.iter().any(|v| v == key)
    {
        list.push(json!(key));
    }
    if let Some(rest) = rest {
        let inner = &mut schema["properties"][key];
        if inner.is_null() {
            *inner = json!({});
        }
        require(inner, rest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::fields::{FIELDS, Kind};

    /// Every property of the schema (from the model) as (path, kind in words).
    fn properties(schema: &Value) -> Vec<(String, &'static str)> {
        fn resolve<'a>(root: &'a Value, v: &'a Value) -> &'a Value {
            let v = v.get("anyOf").and_then(|a| a.get(0)).unwrap_or(v);
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => &root["$defs"][r.rsplit('/').next().unwrap()],
                None => v,
            }
        }
        fn walk(root: &Value, object: &Value, prefix: &str, out: &mut Vec<(String, &'static str)>) {
            for (name, prop) in object["properties"].as_object().unwrap() {
                let path = if prefix.is_empty() { name.clone() } else { format!("{prefix}.{name}") };
                // `scheme`: one name or a list of them; the one name tells its kind.
                let def = resolve(root, resolve(root, prop));
                let types = def.get("type").map(|t| t.to_string()).unwrap_or_default();
                let items = def.get("items").map(|i| resolve(root, i));
                let kind = if def.get("properties").is_some_and(|p| p.get("status").is_some()) {
                    "time"
                } else if let Some(item) = items.filter(|i| i.get("properties").is_some()) {
                    walk(root, item, &path, out);
                    "entries"
                } else if def.get("properties").is_some() {
                    walk(root, def, &path, out);
                    "section"
                } else if types.contains("array") {
                    "choices"
                } else if def.get("oneOf").is_some() || def.get("enum").is_some() {
                    "choice"
                } else if types.contains("boolean") {
                    "bool"
                } else if types.contains("integer") {
                    "count"
                } else {
                    "text"
                };
                out.push((path, kind));
            }
        }
        let mut out = Vec::new();
        walk(schema, schema, "", &mut out);
        out
    }

    #[test]
    fn the_form_and_the_model_have_the_same_fields_of_the_same_kinds() {
        let mut from_model = properties(&json_schema());
        from_model.sort();
        let mut from_form: Vec<(String, &str)> = FIELDS
            .iter()
            .map(|f| {
                let kind = match f.kind {
                    Kind::Section => "section",
                    Kind::Line | Kind::Prose => "text",
                    Kind::Bool => "bool",
                    Kind::Count => "count",
                    Kind::Choice(_) | Kind::OneOrMore(_) => "choice",
                    Kind::Choices(_) => "choices",
                    Kind::Time { .. } => "time",
                    Kind::Entries => "entries",
                };
                (f.path.to_string(), kind)
            })
            .collect();
        from_form.sort();
        assert_eq!(from_form, from_model);
    }

    #[test]
    fn an_indicator_needs_its_type_and_value_and_a_hash_looks_like_one() {
        let schema = json_schema();
        let def = &schema["$defs"]["Indicator"];
        assert_eq!(def["required"], json!(["type", "value"]));
        let hash = def["allOf"][0]["then"]["properties"]["value"]["pattern"].as_str().unwrap();
        assert!(hash.contains("{64}"), "{hash}");
    }

    #[test]
    fn every_requirement_is_a_field_of_the_form() {
        for (key, _, _) in choices::Scheme::OPTIONS {
            let scheme: Scheme = serde_json::from_value(json!(key)).unwrap();
            for (path, or) in requirements(&[scheme]) {
                for p in std::iter::once(path.as_str()).chain(or.iter().copied()) {
                    assert!(crate::incident::fields::field(p).is_some(), "{key}: {p}");
                }
            }
        }
    }
}
