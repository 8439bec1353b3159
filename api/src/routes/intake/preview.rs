//! `POST /api/v1/intake/preview`'s bodies: a sample request, and what the routes would do
//! with it, in fields and in words.

use poem_openapi::Object;
use serde::Deserialize;
use serde_json::{json, Value};
use switchyard_engine::intake::route::{NoPlan, Plan, Target};

use super::bodies::object;
use crate::schema::{Documented, IntakeRoute, JsonObject};

/// A sample request to try routes against: nothing is verified, written or applied.
#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub(super) struct IntakeSample {
    pub(super) routes: Documented<Vec<IntakeRoute>>,
    /// The body as the sender sends it (JSON, a form, text), at most 200,000 characters.
    #[oai(validator(max_length = 200000))]
    pub(super) body: String,
    /// Default `application/json`; `application/x-www-form-urlencoded` reads a form.
    pub(super) content_type: Option<String>,
    /// The query string, without `?` (`job=…`).
    pub(super) query: Option<String>,
    /// Headers, names in lower case.
    pub(super) headers: Option<JsonObject>,
}

/// What the routes would do with the sample.
#[derive(Object)]
pub(super) struct IntakePreview {
    /// `matched`, `unmatched` (no route's `when` holds) or `failed` (a route could not be
    /// evaluated: `reason`).
    pub(super) outcome: String,
    pub(super) route: Option<i32>,
    /// The job as the route names it: `{"id"}` or `{"external_id", "workflow"}`.
    pub(super) job: Option<JsonObject>,
    /// The job to create when none has the external id: `{"workflow", "context"}`.
    pub(super) create: Option<JsonObject>,
    pub(super) transition: Option<String>,
    pub(super) to: Option<String>,
    pub(super) data: Option<JsonObject>,
    pub(super) reason: Option<String>,
    /// The same, in words.
    pub(super) summary: String,
    /// The request as routes see it: `{"body", "headers", "query"}`.
    pub(super) request: JsonObject,
}

/// The preview's answer for `chosen`.
pub(super) fn preview_answer(chosen: Result<Plan, NoPlan>, request: Value) -> IntakePreview {
    let mut answer = IntakePreview {
        outcome: "unmatched".into(),
        route: None,
        job: None,
        create: None,
        transition: None,
        to: None,
        data: None,
        reason: None,
        summary: "no route's when holds: the receipt would be unmatched".into(),
        request: object(request),
    };
    match chosen {
        Err(NoPlan::Unmatched) => {}
        Err(NoPlan::Failed { route, reason }) => {
            answer.outcome = "failed".into();
            answer.route = Some(route as i32);
            answer.summary = format!("route {route} could not be applied: {reason}");
            answer.reason = Some(reason);
        }
        Ok(plan) => {
            let (job, named) = match &plan.job {
                Target::Id(id) => (json!({"id": id}), format!("job {id}")),
                Target::External {
                    external_id,
                    workflow,
                } => (
                    json!({"external_id": external_id, "workflow": workflow}),
                    format!("the job with external id '{external_id}'"),
                ),
            };
            let change = match (&plan.transition, &plan.to) {
                (Some(t), _) => format!("apply '{t}' to {named}"),
                (None, Some(to)) => format!("move {named} to '{to}'"),
                (None, None) => format!("find {named}"),
            };
            let create = plan
                .create
                .as_ref()
                .map(|(workflow, _)| format!(", creating it in '{workflow}' when there is none"));
            answer.summary = format!(
                "route {}: {change}{} with data {}",
                plan.route,
                create.unwrap_or_default(),
                plan.data
            );
            answer.outcome = "matched".into();
            answer.route = Some(plan.route as i32);
            answer.job = Some(object(job));
            answer.create = plan.create.map(|(workflow, context)| {
                object(json!({"workflow": workflow, "context": context}))
            });
            answer.transition = plan.transition;
            answer.to = plan.to;
            answer.data = Some(object(plan.data));
        }
    }
    answer
}
