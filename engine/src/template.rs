//! Payload templates: handlebars in strict mode with HTML escaping off (payloads are JSON,
//! not HTML). In a JSON body every string leaf is a template; a leaf that is exactly one
//! `{{path}}` keeps the JSON type of the value it names.

use std::sync::OnceLock;

use handlebars::{Handlebars, RenderErrorReason, Template};
use serde_json::Value;
use thiserror::Error;

use crate::json_path::lookup;

/// Why a template could not be rendered.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    /// The template names a variable the context does not have.
    #[error("template variable `{0}` is missing")]
    Missing(String),
    /// Any other template error.
    #[error("template error: {0}")]
    Other(String),
}

fn engine() -> &'static Handlebars<'static> {
    static ENGINE: OnceLock<Handlebars<'static>> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut hb = Handlebars::new();
        hb.set_strict_mode(true);
        hb.register_escape_fn(handlebars::no_escape);
        hb
    })
}

/// Checks that `source` compiles, without rendering it.
pub fn check(source: &str) -> Result<(), String> {
    Template::compile(source)
        .map(|_| ())
        .map_err(|err| err.to_string())
}

/// Every string leaf of `value` that does not compile, with its path below `value`.
pub fn check_value(value: &Value, path: &crate::json_path::JsonPath) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    walk_strings(value, path, &mut |leaf, at| {
        if let Err(err) = check(leaf) {
            problems.push((at.to_string(), err));
        }
    });
    problems
}

fn walk_strings(
    value: &Value,
    path: &crate::json_path::JsonPath,
    visit: &mut dyn FnMut(&str, &crate::json_path::JsonPath),
) {
    match value {
        Value::String(s) => visit(s, path),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk_strings(item, &path.index(i), visit);
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                walk_strings(v, &path.key(k), visit);
            }
        }
        _ => {}
    }
}

/// Renders one string template against `context`.
pub fn render_str(source: &str, context: &Value) -> Result<String, RenderError> {
    engine()
        .render_template(source, context)
        .map_err(|err| match err.reason() {
            RenderErrorReason::MissingVariable(Some(name)) => RenderError::Missing(name.clone()),
            _ => RenderError::Other(err.to_string()),
        })
}

/// Renders every string leaf of `value`; single-expression leaves keep their JSON type.
pub fn render_value(value: &Value, context: &Value) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(s) => match single_path(s) {
            Some(path) => lookup(context, path)
                .cloned()
                .ok_or_else(|| RenderError::Missing(path.to_string()))?,
            None => Value::String(render_str(s, context)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_value(item, context))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_value(v, context)?)))
                .collect::<Result<_, RenderError>>()?,
        ),
        other => other.clone(),
    })
}

/// `Some("job.id")` for a leaf that is exactly `{{job.id}}` (a plain variable path, not a
/// helper call or a triple-stash), `None` otherwise.
fn single_path(leaf: &str) -> Option<&str> {
    let inner = leaf.strip_prefix("{{")?.strip_suffix("}}")?;
    if inner.starts_with('{') || inner.contains("{{") || inner.contains("}}") {
        return None;
    }
    let path = inner.trim();
    let plain = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']'));
    plain.then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ctx() -> Value {
        json!({"job": {"id": "j1", "current_state": "scheduled", "version": 2,
                       "context": {"amount": 12.5, "tags": ["a"], "name": "<Ana & Co>"}},
               "tenant": {"id": "t1"}})
    }

    #[test]
    fn single_expression_leaves_keep_their_type() {
        let body = json!({"v": "{{job.version}}", "amount": "{{ job.context.amount }}",
                          "tags": "{{job.context.tags}}"});
        let out = render_value(&body, &ctx()).unwrap();
        assert_eq!(out, json!({"v": 2, "amount": 12.5, "tags": ["a"]}));
    }

    #[test]
    fn mixed_leaves_render_as_unescaped_strings() {
        let body =
            json!({"text": "Job {{job.id}} for {{job.context.name}} is {{job.current_state}}"});
        let out = render_value(&body, &ctx()).unwrap();
        assert_eq!(out, json!({"text": "Job j1 for <Ana & Co> is scheduled"}));
    }

    #[test]
    fn a_missing_variable_is_named() {
        let err = render_value(&json!({"x": "{{job.nope}}"}), &ctx()).unwrap_err();
        assert_eq!(err, RenderError::Missing("job.nope".into()));
        let err = render_value(&json!({"x": "id {{tenant.nope}}"}), &ctx()).unwrap_err();
        assert!(matches!(err, RenderError::Missing(name) if name.contains("tenant.nope")));
    }

    #[test]
    fn broken_templates_do_not_compile() {
        assert!(check("{{#if x}}open").is_err());
        assert!(check("{{job.id}}").is_ok());
    }
}
