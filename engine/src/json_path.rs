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

/// The first string in `value` that holds a NUL character, by path. PostgreSQL's `jsonb`
/// cannot store one, so such input is refused at the edge instead of failing at insert.
pub fn find_nul(value: &Value, path: &JsonPath) -> Option<JsonPath> {
    match value {
        Value::String(s) if s.contains('\0') => Some(path.clone()),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_nul(item, &path.index(i))),
        Value::Object(map) => map.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(path.key(k))
            } else {
                find_nul(v, &path.key(k))
            }
        }),
        _ => None,
    }
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

    #[test]
    fn finds_nul_characters() {
        let doc = json!({"a": ["ok", "bad\u{0}"]});
        assert_eq!(
            find_nul(&doc, &JsonPath::root()).map(|p| p.to_string()),
            Some("$.a[1]".to_string())
        );
    }
}
