//! Writes an answer into an incident file's TOML text, keeping everything else as it
//! was: the comments `new` wrote and the ones the responder added, the order, the
//! other values. The only toml_edit user. Pure: text in, text out.

use toml_edit::{Array, DocumentMut, InlineTable, Item, Table, value};

use super::answer::Answer;

/// The text with the field at `path` set to `answer` (its sections made if need be).
pub fn set(text: &str, path: &str, answer: &Answer) -> Result<String, String> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| e.message().to_string())?;
    let mut keys: Vec<&str> = path.split('.').collect();
    let last = keys.pop().ok_or("empty field path")?;
    let mut table: &mut Table = doc.as_table_mut();
    for key in keys {
        let item = table.entry(key).or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(false);
            Item::Table(t)
        });
        // An inline table written as `section = { … }` is made a table of its own.
        if let Item::Value(toml_edit::Value::InlineTable(inline)) = item {
            let t = std::mem::take(inline).into_table();
            *item = Item::Table(t);
        }
        table = item.as_table_mut().ok_or_else(|| format!("`{key}` in the file is not a section"))?;
    }
    let new = match answer {
        Answer::Text(t) => value(t.as_str()),
        Answer::Bool(b) => value(*b),
        Answer::Count(n) => value(i64::try_from(*n).map_err(|_| "the number is too large")?),
        Answer::Choice(c) => value(*c),
        Answer::Choices(list) => value(list.iter().copied().collect::<Array>()),
        Answer::Time { status, at, details } => {
            let mut t = InlineTable::new();
            t.insert("status", (*status).into());
            if let Some(at) = at {
                t.insert("at", at.as_str().into());
            }
            if let Some(d) = details {
                t.insert("details", d.as_str().into());
            }
            value(t)
        }
    };
    match table.get_mut(last) {
        // Replacing the value keeps the key where it was, with its comment above it.
        Some(slot) => *slot = new,
        None => {
            table.insert(last, new);
        }
    }
    Ok(doc.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_replaces_the_placeholder_and_keeps_the_comments() {
        let text = "# head\nscheme = \"voluntary\"\n# REQUIRED. Title\ntitle = \"<fill in>\"\n\n[description]\n# Nature\nnature = [\"<choose>\"]\n# nature-other = \"<fill in>\"\n\n[handling]\n";
        let text = set(text, "title", &Answer::Text("Ransomware \"LockBit\"".into())).unwrap();
        let text = set(&text, "description.nature", &Answer::Choices(vec!["malware", "hacking"])).unwrap();
        let text =
            set(&text, "timeline.detected", &Answer::Time { status: "known", at: Some("2026-01-31T06:40:00+01:00".into()), details: None })
                .unwrap();
        assert!(
            text.contains("# REQUIRED. Title\ntitle = 'Ransomware \"LockBit\"'\n")
                || text.contains("# REQUIRED. Title\ntitle = \"Ransomware \\\"LockBit\\\"\"\n"),
            "{text}"
        );
        assert!(text.contains("# Nature\nnature = [\"malware\", \"hacking\"]\n# nature-other"), "{text}");
        // A section the file lacks is added at its end.
        assert!(text.ends_with("[timeline]\ndetected = { status = \"known\", at = \"2026-01-31T06:40:00+01:00\" }\n"), "{text}");
        assert!(text.starts_with("# head\n"));
    }
}
