//! What a workflow asks of the people and services that move it: the `transition.data`
//! fields a transition's guard and action templates read, and the `job.context` fields
//! the workflow reads anywhere. Forms are built from them (the console's transition and
//! New job forms), with a number field where a guard compares the field with a number.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::{TransitionDef, WorkflowDefinition};
use crate::template::strings;

/// One field a form asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Input {
    pub name: String,
    /// `number` where a guard compares it with a number or does arithmetic on it, else
    /// `text`.
    pub kind: &'static str,
}

const DATA: &str = "transition.data.";
const CONTEXT: &str = "job.context.";

/// The `transition.data` fields `transition` reads: its guard's variables, its actions'
/// templates.
pub fn transition_inputs(transition: &TransitionDef) -> Vec<Input> {
    let mut found = BTreeMap::new();
    if let Some(guard) = &transition.guard {
        from_rule(guard, DATA, &mut found, false);
    }
    for action in &transition.actions {
        from_templates(&action_templates(action), DATA, &mut found);
    }
    into_inputs(found)
}

/// The `job.context` fields the workflow reads in any guard, template or timeout.
pub fn context_inputs(def: &WorkflowDefinition) -> Vec<Input> {
    let mut found = BTreeMap::new();
    for t in &def.transitions {
        if let Some(guard) = &t.guard {
            from_rule(guard, CONTEXT, &mut found, false);
        }
        for action in &t.actions {
            from_templates(&action_templates(action), CONTEXT, &mut found);
        }
    }
    for state in &def.states {
        if let Some(at) = state.timeout.as_ref().and_then(|t| t.at.as_deref()) {
            from_templates(&[at], CONTEXT, &mut found);
        }
    }
    into_inputs(found)
}

fn action_templates(action: &super::ActionSpec) -> Vec<&str> {
    let payload = &action.payload_template;
    let mut sources: Vec<&str> = payload.path.as_deref().into_iter().collect();
    if let Some(body) = &payload.body {
        sources.extend(strings(body));
    }
    sources
}

fn into_inputs(found: BTreeMap<String, bool>) -> Vec<Input> {
    found
        .into_iter()
        .map(|(name, number)| Input {
            name,
            kind: if number { "number" } else { "text" },
        })
        .collect()
}

/// Publishing's warnings (the definition is published anyway): an action template that
/// names `{{transition.data.X}}` where the transition's guard does not read `X`. Nothing
/// then makes a caller give it, and a request that leaves it out moves the job and fails
/// the action afterwards. Paths are the template's (`transitions[0].actions[1].payload_template.body`).
pub fn warnings(def: &WorkflowDefinition) -> Vec<super::Problem> {
    let mut found = Vec::new();
    for (i, t) in def.transitions.iter().enumerate() {
        let mut required = BTreeMap::new();
        if let Some(guard) = &t.guard {
            from_rule(guard, DATA, &mut required, false);
        }
        for (j, action) in t.actions.iter().enumerate() {
            let payload = &action.payload_template;
            let at = format!("transitions[{i}].actions[{j}].payload_template");
            let mut parts: Vec<(&str, Vec<&str>)> = Vec::new();
            if let Some(path) = payload.path.as_deref() {
                parts.push(("path", vec![path]));
            }
            if let Some(body) = &payload.body {
                parts.push(("body", strings(body).collect()));
            }
            for (part, sources) in parts {
                let mut unasked: Vec<String> = sources
                    .iter()
                    .flat_map(|source| plain_reads(source, DATA))
                    .filter(|field| !required.contains_key(field))
                    .collect();
                unasked.sort();
                unasked.dedup();
                for field in unasked {
                    found.push(super::Problem {
                        path: format!("{at}.{part}"),
                        message: format!(
                            "{{{{transition.data.{field}}}}}: the guard of '{}' does not ask for {field}, so a request without it moves the job and then fails this action; require it in the guard (for example {{\"!!\": [{{\"var\": \"transition.data.{field}\"}}]}}) or give a default",
                            t.name
                        ),
                    });
                }
            }
        }
    }
    found
}

/// The fields after `prefix` named as a plain value, `{{prefix.X…}}`, unless the same
/// template also tests them with a block helper (`{{#if prefix.X}}…`), which is how a
/// template reads a field that may be missing.
fn plain_reads(source: &str, prefix: &str) -> Vec<String> {
    let tested: Vec<String> = ["{{#if ", "{{#unless ", "{{#with ", "{{#each "]
        .iter()
        .flat_map(|open| {
            source
                .match_indices(open)
                .filter_map(|(at, _)| field(source[at + open.len()..].trim_start(), prefix))
                .collect::<Vec<_>>()
        })
        .collect();
    source
        .match_indices("{{")
        .filter_map(|(at, _)| field(source[at + 2..].trim_start(), prefix))
        .filter(|f| !tested.contains(f))
        .collect()
}

/// The first segment after `prefix` of every literal variable path in `rule`; `numeric`
/// when the variable is an operand of a comparison with a number or of arithmetic.
fn from_rule(rule: &Value, prefix: &str, found: &mut BTreeMap<String, bool>, numeric: bool) {
    match rule {
        Value::Object(map) => {
            for (op, args) in map {
                if op == "var" {
                    let path = match args {
                        Value::Array(items) => items.first(),
                        other => Some(other),
                    };
                    if let Some(field) = path.and_then(Value::as_str).and_then(|p| field(p, prefix))
                    {
                        let seen = found.entry(field).or_insert(false);
                        *seen |= numeric;
                    }
                    continue;
                }
                let operands = args.as_array().map(Vec::as_slice).unwrap_or_default();
                let compares_number = matches!(op.as_str(), "<" | "<=" | ">" | ">=")
                    && operands.iter().any(Value::is_number)
                    || matches!(op.as_str(), "+" | "-" | "*" | "/" | "%" | "min" | "max");
                match args {
                    Value::Array(items) => items
                        .iter()
                        .for_each(|a| from_rule(a, prefix, found, compares_number)),
                    other => from_rule(other, prefix, found, compares_number),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| from_rule(item, prefix, found, numeric)),
        _ => {}
    }
}

/// Every `prefix<field>` named in the templates.
fn from_templates(sources: &[&str], prefix: &str, found: &mut BTreeMap<String, bool>) {
    for source in sources {
        for (at, _) in source.match_indices(prefix) {
            if let Some(field) = field(&source[at..], prefix) {
                found.entry(field).or_insert(false);
            }
        }
    }
}

/// The identifier after `prefix` at the start of `path`.
fn field(path: &str, prefix: &str) -> Option<String> {
    let rest = path.strip_prefix(prefix)?;
    let name: String = rest
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
        .collect();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def() -> WorkflowDefinition {
        serde_json::from_value(json!({
            "name": "w", "initial": "a",
            "states": [{"name": "a"}, {"name": "b", "timeout": {"at": "{{job.context.due}}", "transition": "back"}}],
            "transitions": [
                {"name": "go", "from": ["a"], "to": "b",
                 "guard": {"and": [{"!!": [{"var": "transition.data.technician"}]},
                                   {">": [{"var": "job.context.amount"}, 0]}]},
                 "actions": [{"name": "x", "action_type": "WEBHOOK",
                              "payload_template": {"connection_id": "00000000-0000-0000-0000-000000000000",
                                                   "path": "/jobs/{{job.id}}",
                                                   "body": {"who": "{{transition.data.technician}}",
                                                            "note": "{{#if transition.data.note}}{{transition.data.note}}{{/if}}",
                                                            "customer": "{{job.context.customer.name}}"}}}]},
                {"name": "back", "from": ["b"], "to": "a"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn a_transitions_data_fields_come_from_its_guard_and_templates() {
        let d = def();
        let inputs = transition_inputs(&d.transitions[0]);
        assert_eq!(
            inputs,
            [
                Input {
                    name: "note".into(),
                    kind: "text"
                },
                Input {
                    name: "technician".into(),
                    kind: "text"
                },
            ]
        );
        assert!(transition_inputs(&d.transitions[1]).is_empty());
    }

    #[test]
    fn a_template_reading_data_the_guard_does_not_ask_for_is_warned_about() {
        let mut d = def();
        // The guard asks for the technician; `note` is read only in a block helper.
        assert!(warnings(&d).is_empty(), "{:?}", warnings(&d));
        d.transitions[0].guard = None;
        let found = warnings(&d);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].path,
            "transitions[0].actions[0].payload_template.body"
        );
        assert!(
            found[0]
                .message
                .starts_with("{{transition.data.technician}}"),
            "{}",
            found[0].message
        );
    }

    #[test]
    fn context_fields_come_from_every_guard_template_and_timeout() {
        let inputs = context_inputs(&def());
        let named: Vec<(&str, &str)> = inputs.iter().map(|i| (i.name.as_str(), i.kind)).collect();
        assert_eq!(
            named,
            [("amount", "number"), ("customer", "text"), ("due", "text")]
        );
    }
}
