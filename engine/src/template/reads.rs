//! Which parts of the context a template may read, decided from its text. Conservative:
//! a template that names the key, or reaches the root some other way (`this`, `@root`,
//! `lookup`, `.`), may read it.

use serde_json::Value;

/// A test of whether a template may read the context's top-level `key`.
pub fn may_read_root_key(key: &'static str) -> impl Fn(&str) -> bool {
    move |source| {
        source.contains(key)
            || ["this", "@root", "lookup", "{{.", "{{#each .", "{{#with ."]
                .iter()
                .any(|way| source.contains(way))
    }
}

/// Every string leaf of `value` (each is a template in a payload body).
pub fn strings(value: &Value) -> impl Iterator<Item = &str> {
    let mut leaves = Vec::new();
    collect(value, &mut leaves);
    leaves.into_iter()
}

fn collect<'v>(value: &'v Value, leaves: &mut Vec<&'v str>) {
    match value {
        Value::String(s) => leaves.push(s),
        Value::Array(items) => items.iter().for_each(|item| collect(item, leaves)),
        Value::Object(map) => map.values().for_each(|v| collect(v, leaves)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_template_naming_the_key_or_the_root_may_read_it() {
        let reads = may_read_root_key("last_actions");
        assert!(reads("{{last_actions.crm.status}}"));
        assert!(reads("{{#each this}}{{@key}}{{/each}}"));
        assert!(reads("{{lookup @root \"last_actions\"}}"));
        assert!(!reads("{{job.context.customer}}"));
        let body = json!({"a": ["x", {"b": "{{last_actions.x}}"}]});
        assert!(strings(&body).any(&reads));
    }
}
