//! An incident file read as a tree of values that remember where they are in the text,
//! from TOML (toml's parser, which goes on past a syntax error) or JSON (a small
//! scanner over text serde_json has already accepted). The checker walks this tree;
//! nothing here knows what an incident is.

use toml::de::{DeTable, DeValue};

/// A value and the byte offset where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub at: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Text(String),
    /// A whole number; `None` when it does not fit in 128 bits.
    Integer(Option<i128>),
    Float(f64),
    Bool(bool),
    /// A TOML date or time, as written; `complete` when it has date, time and offset.
    Datetime {
        text: String,
        complete: bool,
    },
    /// JSON's null: the same as leaving the field out.
    Null,
    List(Vec<Node>),
    Table(Vec<Entry>),
}

/// One key of a table, where the key is written, and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key: String,
    pub key_at: usize,
    pub node: Node,
}

/// A syntax error: where, and what the parser expected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub at: usize,
    pub message: String,
}

/// What could be read of a file, and every syntax error met on the way.
pub struct Tree {
    pub root: Node,
    pub errors: Vec<SyntaxError>,
}

impl Value {
    /// The value's kind in words, for "expected …, found …".
    pub fn described(&self) -> &'static str {
        match self {
            Value::Text(_) => "text",
            Value::Integer(_) => "a number",
            Value::Float(_) => "a decimal number",
            Value::Bool(_) => "true/false",
            Value::Datetime { .. } => "a date/time",
            Value::Null => "null",
            Value::List(_) => "a list",
            Value::Table(_) => "a table",
        }
    }
}

impl Node {
    /// The entry at a dotted path below this node, if the file has it (the tests read
    /// values with it; [`Node::position`] is what places problems).
    #[cfg(test)]
    pub fn get(&self, path: &str) -> Option<&Entry> {
        let mut node = self;
        let mut found = None;
        for key in path.split('.') {
            let Value::Table(entries) = &node.value else { return None };
            let entry = entries.iter().find(|e| e.key == key)?;
            node = &entry.node;
            found = Some(entry);
        }
        found
    }

    /// Where the field at a dotted path is written, with list items as `key[n]`
    /// (`indicators[2].value`): where its key is (an item's own start) and its value.
    pub fn position(&self, path: &str) -> Option<(usize, usize)> {
        let mut node = self;
        let mut found = None;
        for part in path.split('.') {
            let (key, index) = match part.strip_suffix(']').and_then(|p| p.split_once('[')) {
                Some((key, n)) => (key, Some(n.parse::<usize>().ok()?)),
                None => (part, None),
            };
            let Value::Table(entries) = &node.value else { return None };
            let entry = entries.iter().find(|e| e.key == key)?;
            node = &entry.node;
            found = Some((entry.key_at, node.at));
            if let Some(n) = index {
                let Value::List(items) = &node.value else { return None };
                node = items.get(n)?;
                found = Some((node.at, node.at));
            }
        }
        found
    }
}

/// Reads TOML, recovering from syntax errors as far as toml's parser can.
pub fn from_toml(text: &str) -> Tree {
    let (table, errors) = DeTable::parse_recoverable(text);
    let at = table.span().start;
    let root = Node { at, value: toml_table(table.get_ref()) };
    let errors = errors
        .into_iter()
        .map(|e| SyntaxError { at: e.span().map_or(0, |s| s.start), message: e.message().trim().to_string() })
        .collect::<Vec<_>>();
    let mut errors = errors;
    errors.sort_by_key(|e| e.at);
    Tree { root, errors }
}

fn toml_table(table: &DeTable) -> Value {
    let mut entries: Vec<Entry> =
        table.iter().map(|(k, v)| Entry { key: k.get_ref().to_string(), key_at: k.span().start, node: toml_node(v) }).collect();
    // The map is ordered by key; the file's order is what people read.
    entries.sort_by_key(|e| e.key_at);
    Value::Table(entries)
}

fn toml_node(v: &toml::Spanned<DeValue>) -> Node {
    let value = match v.get_ref() {
        DeValue::String(s) => Value::Text(s.to_string()),
        DeValue::Integer(i) => Value::Integer(i128::from_str_radix(i.as_str(), i.radix()).ok()),
        DeValue::Float(f) => Value::Float(f.as_str().parse().unwrap_or(f64::NAN)),
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => {
            Value::Datetime { text: d.to_string(), complete: d.date.is_some() && d.time.is_some() && d.offset.is_some() }
        }
        DeValue::Array(items) => Value::List(items.iter().map(toml_node).collect()),
        DeValue::Table(t) => toml_table(t),
    };
    Node { at: v.span().start, value }
}

/// Deeper nesting than any incident file has is refused (serde_json stops at 128).
const MAX_JSON_DEPTH: usize = 128;

/// Reads JSON. serde_json judges the syntax (one error: JSON cannot go on past one);
/// the scanner then only finds where each value is.
pub fn from_json(text: &str) -> Tree {
    if let Err(e) = serde_json::from_str::<serde_json::Value>(text) {
        let at = offset_of(text, e.line(), e.column());
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        return Tree { root: Node { at: 0, value: Value::Table(Vec::new()) }, errors: vec![SyntaxError { at, message }] };
    }
    let mut scanner = Scanner { text, i: 0 };
    match scanner.value(0) {
        Ok(root) => Tree { root, errors: Vec::new() },
        Err(at) => Tree {
            root: Node { at: 0, value: Value::Table(Vec::new()) },
            errors: vec![SyntaxError { at, message: "cannot read this JSON".into() }],
        },
    }
}

/// The byte offset of serde_json's 1-based line and column.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line.saturating_sub(1)).map(str::len).sum();
    (start + column.saturating_sub(1)).min(text.len())
}

struct Scanner<'a> {
    text: &'a str,
    i: usize,
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while self.text.as_bytes().get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> Result<(), usize> {
        self.skip_space();
        if self.text.as_bytes().get(self.i) == Some(&byte) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.i)
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, usize> {
        self.skip_space();
        let at = self.i;
        if depth > MAX_JSON_DEPTH {
            return Err(at);
        }
        let value = match self.text.as_bytes().get(at) {
            Some(b'{') => {
                self.i += 1;
                let mut entries = Vec::new();
                self.skip_space();
                if self.eat(b'}').is_err() {
                    loop {
                        self.skip_space();
                        let key_at = self.i;
                        let key = self.string()?;
                        self.eat(b':')?;
                        let node = self.value(depth + 1)?;
                        entries.push(Entry { key, key_at, node });
                        if self.eat(b',').is_err() {
                            self.eat(b'}')?;
                            break;
                        }
                    }
                }
                Value::Table(entries)
            }
            Some(b'[') => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_err() {
                    loop {
                        items.push(self.value(depth + 1)?);
                        if self.eat(b',').is_err() {
                            self.eat(b']')?;
                            break;
                        }
                    }
                }
                Value::List(items)
            }
            Some(b'"') => Value::Text(self.string()?),
            Some(_) => {
                let rest = &self.text[at..];
                let len = rest.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c))).unwrap_or(rest.len());
                self.i += len;
                match &rest[..len] {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    "null" => Value::Null,
                    n if n.contains(['.', 'e', 'E']) => Value::Float(n.parse().map_err(|_| at)?),
                    n => Value::Integer(n.parse().ok()),
                }
            }
            None => return Err(at),
        };
        Ok(Node { at, value })
    }

    /// A string token, decoded by serde_json so every escape means what JSON says.
    fn string(&mut self) -> Result<String, usize> {
        let start = self.i;
        let bytes = self.text.as_bytes();
        if bytes.get(start) != Some(&b'"') {
            return Err(start);
        }
        let mut j = start + 1;
        while j < bytes.len() && bytes[j] != b'"' {
            j += if bytes[j] == b'\\' { 2 } else { 1 };
        }
        let end = (j + 1).min(bytes.len());
        self.i = end;
        serde_json::from_str(&self.text[start..end]).map_err(|_| start)
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toml_values_know_their_lines_and_keep_the_file_order() {
        let text = "title = \"x\"\n[nis]\nusers-affected = 5\nduration = \"2 h\"\n";
        let tree = from_toml(text);
        assert!(tree.errors.is_empty());
        let users = tree.root.get("nis.users-affected").unwrap();
        assert_eq!(line_column(text, users.key_at), (3, 1));
        assert_eq!(line_column(text, users.node.at), (3, 18));
        let Value::Table(nis) = &tree.root.get("nis").unwrap().node.value else { panic!() };
        assert_eq!(nis.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(), ["users-affected", "duration"]);
    }

    #[test]
    fn toml_goes_on_past_syntax_errors() {
        let text = "title = Ransomware\nlanguage = \"da\"\n[nis\nservice = \"x\"\n";
        let tree = from_toml(text);
        assert!(tree.errors.len() >= 2, "{:?}", tree.errors);
        assert_eq!(line_column(text, tree.errors[0].at).0, 1);
        assert!(tree.root.get("language").is_some());
    }

    #[test]
    fn json_values_know_their_lines() {
        let text = "{\n  \"scheme\": \"voluntary\",\n  \"nis\": {\"users-affected\": 12, \"x\\u00e6\": [true, null]}\n}";
        let tree = from_json(text);
        assert!(tree.errors.is_empty());
        let users = tree.root.get("nis.users-affected").unwrap();
        assert_eq!(line_column(text, users.key_at), (3, 11));
        assert_eq!(users.node.value, Value::Integer(Some(12)));
        assert!(tree.root.get("nis.xæ").is_some());
        let broken = from_json("{\n\"a\": 1,,\n}");
        assert_eq!(line_column("{\n\"a\": 1,,\n}", broken.errors[0].at).0, 2);
    }
}
