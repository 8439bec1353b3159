//! Validation of a raw workflow document. It walks the JSON itself rather than relying on
//! deserialisation, so that one request reports every problem, each with its path.

use std::collections::{HashMap, HashSet, VecDeque};

use serde::Serialize;
use serde_json::{Map, Value};

use super::actions::check_actions;
use super::fields::{
    is_identifier, is_workflow_name, optional_bool, optional_str, required_array, required_str,
    unknown_keys, Problems,
};
use super::WorkflowDefinition;
use crate::guard;
use crate::json_path::JsonPath;

/// One thing wrong with a definition, and where.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub path: String,
    pub message: String,
}

/// Checks `doc` and returns the typed definition, or every problem found.
pub fn validate(doc: &Value) -> Result<WorkflowDefinition, Vec<Problem>> {
    let mut problems = Problems(Vec::new());
    let root = JsonPath::root();
    let Some(obj) = doc.as_object() else {
        problems.add(&root, "a workflow definition must be a JSON object");
        return Err(problems.0);
    };
    unknown_keys(
        obj,
        &root,
        &["name", "description", "initial", "states", "transitions"],
        &mut problems,
    );

    if let Some(name) = required_str(obj, &root, "name", &mut problems) {
        if !is_workflow_name(name) {
            problems.add(
                &root.key("name"),
                "use 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit",
            );
        }
    }
    optional_str(obj, &root, "description", &mut problems);

    let states = check_states(obj, &root, &mut problems);
    let state_names: HashMap<&str, bool> = states.iter().map(|(n, t, _)| (*n, *t)).collect();

    let initial = required_str(obj, &root, "initial", &mut problems);
    if let Some(initial) = initial {
        if !states.is_empty() && !state_names.contains_key(initial) {
            problems.add(
                &root.key("initial"),
                format!("'{initial}' is not one of the states"),
            );
        }
    }

    let edges = check_transitions(obj, &root, &state_names, &mut problems);
    super::timeouts::check(obj, &root, &mut problems);

    if let Some(initial) = initial.filter(|i| state_names.contains_key(i)) {
        let reachable = reachable_from(initial, &edges);
        for (name, _, path) in &states {
            if !reachable.contains(name) {
                problems.add(
                    path,
                    format!("state '{name}' cannot be reached from the initial state '{initial}'"),
                );
            }
        }
    }

    if !problems.0.is_empty() {
        return Err(problems.0);
    }
    serde_json::from_value(doc.clone()).map_err(|err| {
        vec![Problem {
            path: root.to_string(),
            message: err.to_string(),
        }]
    })
}

/// Returns `(name, terminal, path)` for each well-formed state.
fn check_states<'a>(
    obj: &'a Map<String, Value>,
    root: &JsonPath,
    problems: &mut Problems,
) -> Vec<(&'a str, bool, JsonPath)> {
    let path = root.key("states");
    let mut states = Vec::new();
    let Some(items) = required_array(obj, root, "states", problems) else {
        return states;
    };
    if items.is_empty() {
        problems.add(&path, "a workflow needs at least one state");
    }
    let mut seen: HashMap<&str, JsonPath> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let at = path.index(i);
        let Some(state) = item.as_object() else {
            problems.add(
                &at,
                "a state must be an object like {\"name\": \"created\"}",
            );
            continue;
        };
        unknown_keys(
            state,
            &at,
            &["name", "terminal", "description", "timeout"],
            problems,
        );
        optional_str(state, &at, "description", problems);
        let terminal = optional_bool(state, &at, "terminal", problems).unwrap_or(false);
        let Some(name) = required_str(state, &at, "name", problems) else {
            continue;
        };
        if !is_identifier(name) {
            problems.add(
                &at.key("name"),
                "use 1-100 letters, digits, '_', '-' or '.'",
            );
            continue;
        }
        if let Some(first) = seen.get(name) {
            problems.add(
                &at.key("name"),
                format!("duplicate state '{name}' (first at {first})"),
            );
            continue;
        }
        seen.insert(name, at.clone());
        states.push((name, terminal, at));
    }
    states
}

/// Checks every transition; returns the `(from, to)` edges of the well-formed ones.
fn check_transitions<'a>(
    obj: &'a Map<String, Value>,
    root: &JsonPath,
    states: &HashMap<&str, bool>,
    problems: &mut Problems,
) -> Vec<(&'a str, &'a str)> {
    let path = root.key("transitions");
    let mut edges = Vec::new();
    let items = match obj.get("transitions") {
        None | Some(Value::Null) => return edges,
        Some(Value::Array(items)) => items,
        Some(_) => {
            problems.add(&path, "must be an array of transitions");
            return edges;
        }
    };
    let mut seen: HashMap<&str, JsonPath> = HashMap::new();
    for (i, item) in items.iter().enumerate() {
        let at = path.index(i);
        let Some(t) = item.as_object() else {
            problems.add(&at, "a transition must be an object");
            continue;
        };
        unknown_keys(
            t,
            &at,
            &["name", "from", "to", "guard", "actions", "description"],
            problems,
        );
        optional_str(t, &at, "description", problems);
        if let Some(name) = required_str(t, &at, "name", problems) {
            if !is_identifier(name) {
                problems.add(
                    &at.key("name"),
                    "use 1-100 letters, digits, '_', '-' or '.'",
                );
            } else if let Some(first) = seen.get(name) {
                problems.add(
                    &at.key("name"),
                    format!("duplicate transition '{name}' (first at {first})"),
                );
            } else {
                seen.insert(name, at.clone());
            }
        }
        let to = required_str(t, &at, "to", problems);
        if let Some(to) = to {
            if !states.contains_key(to) {
                problems.add(&at.key("to"), format!("unknown state '{to}'"));
            }
        }
        let from = check_from(t, &at, states, problems);
        if let Some(to) = to.filter(|to| states.contains_key(to)) {
            edges.extend(from.into_iter().map(|f| (f, to)));
        }
        match t.get("guard") {
            None | Some(Value::Null) => {}
            Some(rule) => {
                if let Err(err) = guard::check(rule) {
                    problems.add(
                        &at.key("guard"),
                        format!("the guard is not valid JSONLogic: {err}"),
                    );
                }
            }
        }
        check_actions(t, &at, problems);
    }
    edges
}

fn check_from<'a>(
    t: &'a Map<String, Value>,
    at: &JsonPath,
    states: &HashMap<&str, bool>,
    problems: &mut Problems,
) -> Vec<&'a str> {
    let mut from = Vec::new();
    let Some(items) = required_array(t, at, "from", problems) else {
        return from;
    };
    if items.is_empty() {
        problems.add(
            &at.key("from"),
            "list at least one state the transition may leave",
        );
    }
    for (j, f) in items.iter().enumerate() {
        let fat = at.key("from").index(j);
        match f.as_str() {
            None => problems.add(&fat, "must be a state name"),
            Some(name) => match states.get(name) {
                None => problems.add(&fat, format!("unknown state '{name}'")),
                Some(true) => problems.add(
                    &fat,
                    format!("'{name}' is terminal: no transition may leave it"),
                ),
                Some(false) => from.push(name),
            },
        }
    }
    from
}

fn reachable_from<'a>(initial: &'a str, edges: &[(&'a str, &'a str)]) -> HashSet<&'a str> {
    let mut seen = HashSet::from([initial]);
    let mut queue = VecDeque::from([initial]);
    while let Some(state) = queue.pop_front() {
        for (_, to) in edges.iter().filter(|(from, _)| *from == state) {
            if seen.insert(to) {
                queue.push_back(to);
            }
        }
    }
    seen
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(problems: &[Problem]) -> Vec<&str> {
        problems.iter().map(|p| p.path.as_str()).collect()
    }

    #[test]
    fn a_valid_definition_becomes_typed() {
        let doc = json!({
            "name": "approval", "initial": "draft",
            "states": [{"name": "draft"}, {"name": "review"}, {"name": "done", "terminal": true}],
            "transitions": [
                {"name": "submit", "from": ["draft"], "to": "review"},
                {"name": "approve", "from": ["review"], "to": "done",
                 "guard": {"==": [{"var": "transition.data.ok"}, true]}}
            ]
        });
        let def = validate(&doc).unwrap();
        assert_eq!(def.transitions.len(), 2);
        assert_eq!(def.allowed_from("review").count(), 1);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        let doc = json!({
            "name": "bad", "initial": "nowhere", "colour": "red",
            "states": [{"name": "a"}, {"name": "a"}, {"name": "end", "terminal": true}, {"name": "island"}],
            "transitions": [
                {"name": "go", "from": ["a", "ghost"], "to": "end", "guard": {"nope": []}},
                {"name": "go", "from": ["end"], "to": "a"},
                {"name": "act", "from": ["a"], "to": "end", "actions": [
                    {"name": "x", "action_type": "EMAIL",
                     "payload_template": {"connection_id": "not-a-uuid", "body": {"t": "{{#if}}"}},
                     "retry": {"max_attempts": 0, "schedule": ["5y"]}, "timeout_ms": 0}
                ]}
            ]
        });
        let problems = validate(&doc).unwrap_err();
        let got = paths(&problems);
        for expected in [
            "$.colour",
            "$.states[1].name",
            "$.initial",
            "$.transitions[0].from[1]",
            "$.transitions[0].guard",
            "$.transitions[1].name",
            "$.transitions[1].from[0]",
            "$.transitions[2].actions[0].action_type",
            "$.transitions[2].actions[0].payload_template.connection_id",
            "$.transitions[2].actions[0].payload_template.body.t",
            "$.transitions[2].actions[0].retry.max_attempts",
            "$.transitions[2].actions[0].retry.schedule[0]",
            "$.transitions[2].actions[0].timeout_ms",
        ] {
            assert!(got.contains(&expected), "missing {expected} in {got:?}");
        }
    }

    #[test]
    fn unreachable_states_are_named() {
        let doc = json!({
            "name": "w", "initial": "a",
            "states": [{"name": "a"}, {"name": "b"}, {"name": "lost"}],
            "transitions": [{"name": "t", "from": ["a"], "to": "b"}]
        });
        let problems = validate(&doc).unwrap_err();
        assert_eq!(paths(&problems), vec!["$.states[2]"]);
        assert!(problems[0].message.contains("'lost'"));
    }

    #[test]
    fn missing_required_fields_are_each_reported() {
        let problems = validate(&json!({})).unwrap_err();
        assert_eq!(paths(&problems), vec!["$.name", "$.states", "$.initial"]);
        assert!(validate(&json!([1])).is_err());
    }
}
