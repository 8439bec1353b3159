//! JSON paths for error messages (`$.transitions[0].to`), and looking a dotted path up in
//! a JSON value the way guards and templates name variables (`job.context.items.0`).

use serde_json::Value;

/// A JSON path under construction: `$`, then `.key` and `[index]` segments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JsonPath(String);

impl JsonPath {
    /// The document root, `$`.
    pub fn root() -> Self {
        JsonPath("$".into())
    }

    /// This path followed by an object key.
    pub fn key(&self, key: &str) -> Self {
        JsonPath(format!("{}.{key}", self.0))
    }

    /// This path followed by an array index.
    pub fn index(&self, index: usize) -> Self {
        JsonPath(format!("{}[{index}]", self.0))
    }
}

impl std::fmt::Display for JsonPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<JsonPath> for String {
    fn from(path: JsonPath) -> String {
        path.0
    }
}

/// Looks up a dotted variable path (`a.b.0`, `a.[b c]`, `a.b.[0]`) in `value`.
/// `None` when any segment is missing; an empty path names the whole value.
pub fn lookup<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    if path.is_empty() {
        return Some(value);
    }
    let mut current = value;
    for raw in path.split('.') {
        let segment = raw
            .strip_prefix('[')
            .and_then(|s| s.strip_suffix(']'))
            .unwrap_or(raw);
        current = match current {
            Value::Object(map) => map.get(segment)?,
            Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn looks_up_nested_keys_and_indexes() {
        let doc = json!({"job": {"context": {"items": [{"sku": "a"}]}}});
        assert_eq!(lookup(&doc, "job.context.items.0.sku"), Some(&json!("a")));
        assert_eq!(lookup(&doc, "job.context.items.[0].sku"), Some(&json!("a")));
        assert_eq!(lookup(&doc, "job.missing"), None);
        assert_eq!(lookup(&doc, "job.context.items.7"), None);
    }

    #[test]
    fn builds_readable_paths() {
        let path = JsonPath::root().key("transitions").index(2).key("to");
        assert_eq!(path.to_string(), "$.transitions[2].to");
    }
}
