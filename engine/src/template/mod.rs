//! Payload templates: handlebars in strict mode with HTML escaping off (payloads are JSON,
//! not HTML). In a JSON body every string leaf is a template; a leaf that is exactly one
//! `{{path}}` keeps the JSON type of the value it names.
//!
//! Templates are written by untrusted designers: [`policy`] bounds what compiles (size,
//! nesting, no partials or decorators), and [`metered`] renders under
//! [`budget::Budgets::template`] (steps, output bytes, time). [`render_payload_off_thread`] keeps
//! rendering off the async threads.

mod metered;
pub mod policy;
mod reads;

use std::sync::OnceLock;

use handlebars::{Context, Handlebars, RenderContext, RenderErrorReason, Renderable};
use serde_json::Value;
use thiserror::Error;

use crate::budget::{self, json_size, Budget};
use crate::json_path::{lookup, JsonPath};
use metered::{charge, with_budget, MeteredEach, MeteredWriter};
pub use reads::{may_read_root_key, strings};

/// Why a template could not be rendered.
#[derive(Clone, Debug, Error, PartialEq, Eq)]
pub enum RenderError {
    /// The template names a variable the context does not have.
    #[error("template variable `{0}` is missing")]
    Missing(String),
    /// The render ran out of its budget.
    #[error("the template was stopped: {0}")]
    Budget(String),
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
        hb.register_helper("each", Box::new(MeteredEach));
        // A designer's template never writes to the service's log.
        hb.unregister_helper("log");
        hb
    })
}

/// Checks that `source` is within the template limits and compiles, without rendering it.
pub fn check(source: &str) -> Result<(), String> {
    policy::compile(source).map(|_| ())
}

/// Every string leaf of `value` that does not compile, with its path below `value`.
pub fn check_value(value: &Value, path: &JsonPath) -> Vec<(String, String)> {
    let mut problems = Vec::new();
    walk_strings(value, path, &mut |leaf, at| {
        if let Err(err) = check(leaf) {
            problems.push((at.to_string(), err));
        }
    });
    problems
}

fn walk_strings(value: &Value, path: &JsonPath, visit: &mut dyn FnMut(&str, &JsonPath)) {
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

/// A rendered path and body.
pub type Payload = (Option<String>, Option<Value>);

/// Renders an action's path and body under one template budget.
pub fn render_payload(
    path: Option<&str>,
    body: Option<&Value>,
    context: &Value,
) -> Result<Payload, RenderError> {
    render_within(budget::current().template, path, body, context)
}

fn render_within(
    limits: budget::Limits,
    path: Option<&str>,
    body: Option<&Value>,
    context: &Value,
) -> Result<Payload, RenderError> {
    // Handlebars renders from its own copy of the context: make it once per payload.
    let ctx = Context::wraps(context).map_err(|e| RenderError::Other(e.to_string()))?;
    let scope = Scope {
        value: context,
        ctx: &ctx,
    };
    with_budget(Budget::new(limits), || {
        let path = path.map(|p| render_one(p, &scope)).transpose()?;
        let body = body.map(|b| render_tree(b, &scope)).transpose()?;
        Ok((path, body))
    })
}

/// The context as JSON (for single-expression leaves) and as handlebars holds it.
struct Scope<'a> {
    value: &'a Value,
    ctx: &'a Context,
}

/// [`render_payload`] on a blocking thread; a panic becomes a render error.
pub async fn render_payload_off_thread(
    path: Option<String>,
    body: Option<Value>,
    context: Value,
) -> Result<Payload, RenderError> {
    tokio::task::spawn_blocking(move || render_payload(path.as_deref(), body.as_ref(), &context))
        .await
        .unwrap_or_else(|_| {
            Err(RenderError::Other(
                "the template could not be rendered".into(),
            ))
        })
}

fn render_one(source: &str, scope: &Scope<'_>) -> Result<String, RenderError> {
    // Stored definitions were checked at publish; checking again costs one compile,
    // which rendering needs anyway, and holds old rows to today's limits.
    let template = policy::compile(source).map_err(RenderError::Other)?;
    let mut rc = RenderContext::new(None);
    let mut writer = MeteredWriter::default();
    template
        .render(engine(), scope.ctx, &mut rc, &mut writer)
        .map_err(|err| match err.reason() {
            RenderErrorReason::MissingVariable(Some(name)) => RenderError::Missing(name.clone()),
            RenderErrorReason::IOError(io) => RenderError::Budget(io.to_string()),
            RenderErrorReason::Other(msg) if msg.contains("budget") => {
                RenderError::Budget(msg.clone())
            }
            _ => RenderError::Other(err.to_string()),
        })?;
    Ok(writer.out)
}

fn render_tree(value: &Value, scope: &Scope<'_>) -> Result<Value, RenderError> {
    Ok(match value {
        Value::String(s) => match single_path(s) {
            Some(path) => {
                let found = lookup(scope.value, path)
                    .ok_or_else(|| RenderError::Missing(path.to_string()))?;
                charge(1, json_size(found)).map_err(|e| RenderError::Budget(e.to_string()))?;
                found.clone()
            }
            None => Value::String(render_one(s, scope)?),
        },
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|item| render_tree(item, scope))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| Ok((k.clone(), render_tree(v, scope)?)))
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

    fn render_value(body: &Value, context: &Value) -> Result<Value, RenderError> {
        let limits = budget::Limits::TEMPLATE.untimed();
        render_within(limits, None, Some(body), context).map(|(_, body)| body.unwrap())
    }

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
    fn each_keeps_the_built_in_helpers_behaviour() {
        let ctx = json!({"items": ["a", "b"], "obj": {"k": "v"}, "empty": [], "job": {"id": "j1"}});
        for (template, expected) in [
            (
                "{{#each items}}{{@index}}:{{this}}{{#if @last}}.{{/if}}{{/each}}",
                "0:a1:b.",
            ),
            ("{{#each obj}}{{@key}}={{this}};{{/each}}", "k=v;"),
            ("{{#each empty}}x{{else}}none{{/each}}", "none"),
            ("{{#each items as |item i|}}{{i}}{{item}}{{/each}}", "0a1b"),
            ("{{#each items}}{{../job.id}}{{/each}}", "j1j1"),
            (
                "{{#each items}}{{#if @first}}[{{/if}}{{this}}{{/each}}",
                "[ab",
            ),
        ] {
            let out = render_value(&json!({"x": template}), &ctx).unwrap();
            assert_eq!(out["x"], expected, "{template}");
        }
    }

    #[test]
    fn loops_and_output_are_held_to_the_budget() {
        let ctx = json!({"items": (0..400).collect::<Vec<_>>(), "big": "x".repeat(50_000)});
        let nested = "{{#each items}}{{#each @root.items}}{{/each}}{{/each}}";
        let err = render_value(&json!({"x": nested}), &ctx).unwrap_err();
        assert!(
            matches!(err, RenderError::Budget(ref m) if m.contains("step budget")),
            "{err}"
        );
        let wide = "{{#each items}}{{@root.big}}{{/each}}";
        let err = render_value(&json!({"x": wide}), &ctx).unwrap_err();
        assert!(
            matches!(err, RenderError::Budget(ref m) if m.contains("memory budget")),
            "{err}"
        );
    }

    #[test]
    fn broken_templates_do_not_compile() {
        assert!(check("{{#if x}}open").is_err());
        assert!(check("{{job.id}}").is_ok());
    }
}
