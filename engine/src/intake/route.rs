//! Routes: which job a verified request moves, and how.
//!
//! ```json
//! {"when": {"==": [{"var": "body.MessageStatus"}, "delivered"]},
//!  "job": {"id": "{{query.job}}"},
//!  "transition": "deliver",
//!  "data": {"status": "{{body.MessageStatus}}", "sid": "{{body.MessageSid}}"}}
//! ```
//!
//! `when` is a guard and the strings are payload templates, over the request as
//! `{"body", "headers", "query"}`: the same interpreter and renderer as a workflow's, under
//! the same budgets. The first route whose `when` holds applies ([`choose`]).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::definition::Problem;
use crate::json_path::JsonPath;
use crate::{guard, template};

/// The most routes an endpoint holds.
pub const MAX_ROUTES: usize = 50;

/// One route, as checked.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A JSONLogic rule; a route without one always holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<Value>,
    pub job: JobSelector,
    /// Create the job when none has the external id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Create>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transition: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// The transition's data (a template tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
}

/// Which job: by id, or by external id (within `workflow` when named).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JobSelector {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
}

/// A job to create when the external id names none.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Create {
    pub workflow: String,
    /// The new job's context (a template tree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Value>,
}

impl Route {
    /// The workflow the route's job belongs to, when the route says.
    pub fn workflow(&self) -> Option<&str> {
        self.job
            .workflow
            .as_deref()
            .or(self.create.as_ref().map(|c| c.workflow.as_str()))
    }
}

/// Checks `routes` on their own (shape, guards, templates); every problem, each with its
/// path (`routes[0].job.id`). Whether transitions exist in their workflows is
/// [`check_against`]'s.
pub fn parse(routes: &Value) -> Result<Vec<Route>, Vec<Problem>> {
    let root = JsonPath::root().key("routes");
    let mut problems = Vec::new();
    let mut add = |path: &JsonPath, message: String| {
        problems.push(Problem {
            path: path.to_string().replacen("$.", "", 1),
            message,
        })
    };
    let Some(items) = routes.as_array() else {
        add(&root, "routes is a list of route objects".into());
        return Err(problems);
    };
    if items.len() > MAX_ROUTES {
        add(&root, format!("at most {MAX_ROUTES} routes"));
        return Err(problems);
    }
    let mut parsed = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let at = root.index(i);
        let route: Route = match serde_json::from_value(item.clone()) {
            Ok(route) => route,
            Err(err) => {
                add(&at, format!("not a route: {err}"));
                continue;
            }
        };
        if let Some(when) = &route.when {
            if let Err(err) = guard::check(when) {
                add(&at.key("when"), err);
            }
        }
        let selector = &route.job;
        match (&selector.id, &selector.external_id) {
            (Some(_), Some(_)) | (None, None) => add(
                &at.key("job"),
                "name the job by exactly one of \"id\" or \"external_id\"".into(),
            ),
            (Some(source), None) | (None, Some(source)) => {
                let field = if selector.id.is_some() {
                    "id"
                } else {
                    "external_id"
                };
                if let Err(err) = template::check(source) {
                    add(&at.key("job").key(field), err);
                }
            }
        }
        if route.create.is_some() && selector.external_id.is_none() {
            add(
                &at.key("create"),
                "a job is created under an external id: name the job by \"external_id\"".into(),
            );
        }
        match (&route.transition, &route.to) {
            (Some(_), Some(_)) => add(
                &at.key("to"),
                "give \"transition\" or \"to\", not both".into(),
            ),
            (None, None) if route.create.is_none() => add(
                &at.key("transition"),
                "a route moves its job: give \"transition\" or \"to\" (or \"create\")".into(),
            ),
            _ => {}
        }
        if let Some(data) = &route.data {
            if !data.is_object() {
                add(&at.key("data"), "data is an object of templates".into());
            }
            for (path, err) in template::check_value(data, &at.key("data")) {
                add_raw(&mut add, path, err);
            }
        }
        if let Some(create) = &route.create {
            if let Some(context) = &create.context {
                if !context.is_object() {
                    add(
                        &at.key("create").key("context"),
                        "context is an object of templates".into(),
                    );
                }
                let path = at.key("create").key("context");
                for (path, err) in template::check_value(context, &path) {
                    add_raw(&mut add, path, err);
                }
            }
        }
        parsed.push(route);
    }
    if problems.is_empty() {
        Ok(parsed)
    } else {
        Err(problems)
    }
}

fn add_raw(add: &mut impl FnMut(&JsonPath, String), path: String, err: String) {
    // `check_value` gives its paths as text; re-root them as the other problems are.
    let mut at = JsonPath::root();
    for part in path.trim_start_matches("$.").split('.') {
        at = at.key(part);
    }
    add(&at, err);
}

/// What a route's workflow offers, for [`check_against`].
pub struct WorkflowShape {
    pub transitions: Vec<String>,
    pub states: Vec<String>,
}

/// Checks each route's `transition`, `to` and workflow against the tenant's published
/// workflows (`shape` of a name; `None` when no such workflow).
pub fn check_against<'a>(
    routes: &[Route],
    shape: impl Fn(&str) -> Option<&'a WorkflowShape>,
) -> Vec<Problem> {
    let mut problems = Vec::new();
    for (i, route) in routes.iter().enumerate() {
        let at = format!("routes[{i}]");
        let Some(workflow) = route.workflow() else {
            continue;
        };
        let Some(found) = shape(workflow) else {
            let field = if route.job.workflow.is_some() {
                "job.workflow"
            } else {
                "create.workflow"
            };
            problems.push(Problem {
                path: format!("{at}.{field}"),
                message: format!("no workflow named '{workflow}' is published"),
            });
            continue;
        };
        if let Some(name) = &route.transition {
            if !found.transitions.contains(name) {
                problems.push(Problem {
                    path: format!("{at}.transition"),
                    message: format!(
                        "workflow '{workflow}' has no transition named '{name}'; it has: {}",
                        found.transitions.join(", ")
                    ),
                });
            }
        }
        if let Some(state) = &route.to {
            if !found.states.contains(state) {
                problems.push(Problem {
                    path: format!("{at}.to"),
                    message: format!("workflow '{workflow}' has no state named '{state}'"),
                });
            }
        }
    }
    problems
}

/// What the chosen route asks for, rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Plan {
    /// The route's index.
    pub route: usize,
    pub job: Target,
    pub create: Option<(String, Value)>,
    pub transition: Option<String>,
    pub to: Option<String>,
    pub data: Value,
}

/// The job, as rendered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Target {
    Id(String),
    External {
        external_id: String,
        workflow: Option<String>,
    },
}

/// Why no plan came of a request.
#[derive(Clone, Debug, PartialEq)]
pub enum NoPlan {
    /// No route's `when` holds.
    Unmatched,
    /// A route's `when` or templates could not be evaluated (its budget, a missing
    /// variable): the route and why.
    Failed { route: usize, reason: String },
}

/// The first route whose `when` holds for `request` (`{"body", "headers", "query"}`),
/// rendered. Runs guards and templates: call it off the async threads.
pub fn choose(routes: &[Route], request: &Value) -> Result<Plan, NoPlan> {
    for (i, route) in routes.iter().enumerate() {
        if let Some(when) = &route.when {
            let outcome = guard::evaluate(when, request).map_err(|reason| NoPlan::Failed {
                route: i,
                reason: format!("its when: {reason}"),
            })?;
            if !outcome.passed {
                continue;
            }
        }
        return render(i, route, request).map_err(|reason| NoPlan::Failed { route: i, reason });
    }
    Err(NoPlan::Unmatched)
}

fn render(index: usize, route: &Route, request: &Value) -> Result<Plan, String> {
    let selector = route
        .job
        .id
        .as_deref()
        .or(route.job.external_id.as_deref())
        .unwrap_or_default();
    let data = route
        .data
        .clone()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let (job, data) = template::render_payload(Some(selector), Some(&data), request)
        .map_err(|err| format!("its job or data: {err}"))?;
    let job = job.unwrap_or_default();
    if job.trim().is_empty() {
        return Err("its job rendered empty".into());
    }
    let target = match route.job.id {
        Some(_) => Target::Id(job),
        None => Target::External {
            external_id: job,
            workflow: route.workflow().map(str::to_string),
        },
    };
    let create = match &route.create {
        None => None,
        Some(create) => {
            let context = create
                .context
                .clone()
                .unwrap_or_else(|| Value::Object(Map::new()));
            let (_, context) = template::render_payload(None, Some(&context), request)
                .map_err(|err| format!("its create.context: {err}"))?;
            Some((create.workflow.clone(), context.unwrap_or_default()))
        }
    };
    Ok(Plan {
        route: index,
        job: target,
        create,
        transition: route.transition.clone(),
        to: route.to.clone(),
        data: data.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests;
