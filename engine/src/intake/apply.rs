//! Applying what a receipt's route chose: find the job (or create it), then transition it,
//! as the actor `intake`.
//!
//! Both writes carry an idempotency key made from the receipt's id, so running a receipt
//! again (the sender repeating a delivery whose first answer was lost, or a replay after
//! a crash) finds what the first run did instead of doing it twice.

use serde_json::{json, Value};
use uuid::Uuid;

use super::receipt::{Outcome, Settled};
use super::route::{NoPlan, Plan, Target};
use crate::idempotency::IdempotencyKey;
use crate::job::create::{self, CreateJob, CreateJobError, Created};
use crate::job::transition::{self, TransitionError, TransitionRequest};
use crate::{Actor, JobId, Pool, StoreError, TenantId};

/// What was committed, so the caller can wake the worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Committed {
    Nothing,
    /// Events only.
    Events,
    /// Events and work for the worker (actions or a timer).
    Work,
}

/// Runs `chosen` (the route [`super::route::choose`] picked, or why none) for receipt
/// `receipt_id` of endpoint `endpoint_id`.
pub async fn apply(
    pool: &Pool,
    tenant_id: TenantId,
    endpoint_id: Uuid,
    receipt_id: Uuid,
    chosen: Result<Plan, NoPlan>,
) -> Result<(Settled, Committed), StoreError> {
    let plan = match chosen {
        Ok(plan) => plan,
        Err(NoPlan::Unmatched) => {
            return Ok((
                settled(Outcome::Unmatched, None, "no route's when holds"),
                Committed::Nothing,
            ))
        }
        Err(NoPlan::Failed { route, reason }) => {
            let detail = format!("route {route} could not be applied: {reason}");
            return Ok((
                settled(Outcome::Refused, Some(route), &detail),
                Committed::Nothing,
            ));
        }
    };
    let actor = Actor::intake(tenant_id, endpoint_id, receipt_id);
    let route = Some(plan.route);
    let mut created = false;
    let job_id = match find(pool, tenant_id, &plan.job).await? {
        Found::One(id) => id,
        Found::Several(external_id) => {
            let detail = format!("several jobs have external id '{external_id}': name the workflow in the route's job");
            return Ok((
                settled(Outcome::Unmatched, route, &detail),
                Committed::Nothing,
            ));
        }
        Found::None(what) => match &plan.create {
            None => {
                let detail = format!("no job {what}");
                return Ok((
                    settled(Outcome::Unmatched, route, &detail),
                    Committed::Nothing,
                ));
            }
            Some((workflow, context)) => {
                let Target::External { external_id, .. } = &plan.job else {
                    unreachable!("routes that create name the job by external id");
                };
                let cmd = CreateJob {
                    workflow: workflow.clone(),
                    workflow_version: None,
                    context: context.clone(),
                    external_id: Some(external_id.clone()),
                };
                let key = key("create", receipt_id);
                match create::create(pool, &actor, &cmd, Some(&key)).await {
                    Ok((Created::New(job), _)) => {
                        created = true;
                        job.id
                    }
                    Ok((Created::Existing(job), _)) => job.id,
                    Err(CreateJobError::Store(err)) => return Err(err),
                    Err(err) => {
                        let detail = format!("the job could not be created: {err}");
                        return Ok((
                            settled(Outcome::Refused, route, &detail),
                            Committed::Nothing,
                        ));
                    }
                }
            }
        },
    };
    let moved = if created {
        Outcome::Created
    } else {
        Outcome::Applied
    };
    if plan.transition.is_none() && plan.to.is_none() {
        let mut done = settled(moved, route, "the job was created");
        done.job_id = Some(job_id.0);
        return Ok((done, Committed::Work));
    }
    let req = TransitionRequest {
        job_id,
        transition: plan.transition.clone(),
        to: plan.to.clone(),
        data: plan.data.clone(),
        expected_version: None,
    };
    match transition::apply(pool, &actor, &req, Some(&key("transition", receipt_id))).await {
        Ok((result, _)) => {
            let committed = if result.queued_work() || created {
                Committed::Work
            } else {
                Committed::Events
            };
            let done = Settled {
                outcome: moved,
                route: route.map(|r| r as i32),
                job_id: Some(job_id.0),
                event_id: Some(result.event.id.0),
                detail: None,
            };
            Ok((done, committed))
        }
        Err(TransitionError::Store(err)) => Err(err),
        Err(TransitionError::JobNotFound(id)) => {
            let detail = format!("no job {id}");
            Ok((
                settled(Outcome::Unmatched, route, &detail),
                Committed::Nothing,
            ))
        }
        Err(err) => {
            let mut refused = settled(Outcome::Refused, route, &err.to_string());
            refused.job_id = Some(job_id.0);
            if let Some(detail) = refused.detail.as_mut() {
                detail["refusal"] = json!(err.metric_label());
            }
            let committed = if created {
                Committed::Work
            } else {
                Committed::Nothing
            };
            Ok((refused, committed))
        }
    }
}

fn settled(outcome: Outcome, route: Option<usize>, reason: &str) -> Settled {
    Settled {
        outcome,
        route: route.map(|r| r as i32),
        job_id: None,
        event_id: None,
        detail: Some(json!({ "reason": reason })),
    }
}

/// The receipt's idempotency key for one of its writes: the same receipt, the same key.
fn key(what: &str, receipt_id: Uuid) -> IdempotencyKey {
    IdempotencyKey::new(
        format!("intake-{what}:{receipt_id}"),
        &[b"intake", what.as_bytes(), receipt_id.as_bytes()],
    )
}

enum Found {
    One(JobId),
    /// The external id names jobs of several workflows.
    Several(String),
    /// No such job: what was looked for.
    None(String),
}

async fn find(pool: &Pool, tenant_id: TenantId, target: &Target) -> Result<Found, StoreError> {
    match target {
        Target::Id(text) => Ok(match Uuid::parse_str(text.trim()) {
            Ok(id) => Found::One(JobId(id)),
            Err(_) => Found::None(format!("'{text}': not a job id")),
        }),
        Target::External {
            external_id,
            workflow,
        } => {
            let client = pool.get().await?;
            let stmt = client
                .prepare_cached(
                    "SELECT id FROM jobs WHERE tenant_id = $1 AND external_id = $2 \
                     AND ($3::text IS NULL OR workflow_name = $3) LIMIT 2",
                )
                .await?;
            let rows = client
                .query(&stmt, &[&tenant_id.0, external_id, workflow])
                .await?;
            Ok(match rows.as_slice() {
                [one] => Found::One(JobId(one.try_get("id")?)),
                [] => Found::None(format!("has external id '{external_id}'")),
                _ => Found::Several(external_id.clone()),
            })
        }
    }
}

/// The request as routes see it: `{"body", "headers", "query"}`.
pub fn request_value(body: Value, headers: Value, query: Value) -> Value {
    json!({ "body": body, "headers": headers, "query": query })
}
