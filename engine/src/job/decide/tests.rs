//! The state machine without PostgreSQL: given a job and a definition, when a request is
//! decided, then the decision (or the refusal) is what the service would be answered.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;
use crate::definition::validate;
use crate::job::refusal::Allowed;
use crate::{JobId, TenantId};

/// A quote: `sent` times out after 3 days into `follow_up`; `follow_up` has an `at`
/// timeout rendered from the job's context; `accept` is guarded.
fn quote() -> WorkflowDefinition {
    validate(&json!({
        "name": "quote", "initial": "draft",
        "states": [
            {"name": "draft"},
            {"name": "sent", "timeout": {"after": "3d", "transition": "remind"}},
            {"name": "follow_up", "timeout": {"at": "{{job.context.expires_at}}", "transition": "expire"}},
            {"name": "accepted", "terminal": true},
            {"name": "expired", "terminal": true}
        ],
        "transitions": [
            {"name": "send", "from": ["draft"], "to": "sent"},
            {"name": "remind", "from": ["sent"], "to": "follow_up"},
            {"name": "resend", "from": ["sent", "follow_up"], "to": "sent"},
            {"name": "accept", "from": ["sent", "follow_up"], "to": "accepted",
             "guard": {">=": [{"var": "transition.data.amount"}, {"var": "job.context.minimum"}]}},
            {"name": "expire", "from": ["follow_up"], "to": "expired"},
            {"name": "give_up", "from": ["follow_up"], "to": "expired"}
        ]
    }))
    .expect("the test workflow is valid")
}

fn job_in(state: &str, context: Value) -> Job {
    let at = now();
    Job {
        id: JobId(Uuid::nil()),
        tenant_id: TenantId(Uuid::nil()),
        workflow_id: Uuid::nil(),
        workflow: "quote".into(),
        workflow_version: 1,
        state: state.into(),
        previous_state: None,
        version: 4,
        context,
        external_id: None,
        created_at: at,
        updated_at: at,
    }
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap()
}

fn by_name(name: &str, data: Value) -> TransitionRequest {
    TransitionRequest {
        job_id: JobId(Uuid::nil()),
        transition: Some(name.into()),
        to: None,
        data,
        expected_version: None,
    }
}

fn decide_on(job: &Job, request: &TransitionRequest) -> Result<Decision, TransitionError> {
    let definition = quote();
    decide(&Input {
        job,
        tenant_name: "acme",
        definition: &definition,
        request,
        last_actions: json!({}),
        now: now(),
    })
}

#[test]
fn given_a_draft_when_sent_then_it_moves_and_its_timeout_is_scheduled_three_days_out() {
    let job = job_in("draft", json!({"customer": "Acme"}));
    let decision = decide_on(&job, &by_name("send", json!({"note": "first"}))).unwrap();
    assert_eq!(decision.from, "draft");
    assert_eq!(decision.after.state, "sent");
    assert_eq!(decision.after.previous_state.as_deref(), Some("draft"));
    assert_eq!(decision.after.version, 5);
    assert_eq!(
        decision.after.context,
        json!({"customer": "Acme", "note": "first"})
    );
    assert_eq!(decision.cancels_timeouts_of, None);
    let timeout = decision.schedules.expect("sent has a timeout");
    assert_eq!(timeout.state, "sent");
    assert_eq!(timeout.transition, "remind");
    assert_eq!(timeout.due_at, now() + TimeDelta::days(3));
    assert_eq!(timeout.job_version, 5);
}

#[test]
fn given_a_sent_quote_when_it_is_resent_then_the_old_timeout_is_cancelled_and_a_new_one_scheduled()
{
    let job = job_in("sent", json!({}));
    let decision = decide_on(&job, &by_name("resend", json!({}))).unwrap();
    assert_eq!(decision.cancels_timeouts_of.as_deref(), Some("sent"));
    assert_eq!(decision.schedules.unwrap().state, "sent");
}

#[test]
fn given_a_timed_state_when_the_job_leaves_it_for_an_untimed_one_then_only_cancelling_is_decided() {
    let job = job_in("sent", json!({"minimum": 10}));
    let decision = decide_on(&job, &by_name("accept", json!({"amount": 12}))).unwrap();
    assert_eq!(decision.cancels_timeouts_of.as_deref(), Some("sent"));
    assert_eq!(decision.schedules, None);
}

#[test]
fn given_an_at_timeout_when_entering_then_the_time_renders_from_the_job_as_it_will_be() {
    let job = job_in("sent", json!({}));
    let request = by_name("remind", json!({"expires_at": "2026-12-10T12:00:00Z"}));
    let timeout = decide_on(&job, &request).unwrap().schedules.unwrap();
    assert_eq!(
        timeout.due_at,
        Utc.with_ymd_and_hms(2026, 12, 10, 12, 0, 0).unwrap()
    );
    assert_eq!(timeout.transition, "expire");
}

#[test]
fn given_an_at_timeout_when_its_time_is_not_a_time_or_too_far_then_the_transition_is_refused() {
    let job = job_in("sent", json!({}));
    for (expires_at, says) in [
        ("next tuesday", "not an RFC 3339 time"),
        ("2028-01-01T00:00:00Z", "more than a year ahead"),
    ] {
        let request = by_name("remind", json!({ "expires_at": expires_at }));
        match decide_on(&job, &request) {
            Err(TransitionError::Invalid { field, message }) => {
                assert_eq!(field, "data");
                assert!(message.contains(says), "{message}");
            }
            other => panic!("{expires_at}: {other:?}"),
        }
    }
    // A missing variable is a render error, refused the same way.
    let refused = decide_on(&job, &by_name("remind", json!({})));
    assert!(
        matches!(&refused, Err(TransitionError::Invalid { message, .. }) if message.contains("did not render")),
        "{refused:?}"
    );
}

#[test]
fn given_a_guard_when_it_passes_then_the_decision_reports_what_it_read() {
    let job = job_in("sent", json!({"minimum": 10}));
    let decision = decide_on(&job, &by_name("accept", json!({"amount": 12}))).unwrap();
    let guard = decision.guard.expect("accept has a guard");
    assert!(guard.passed);
    assert_eq!(
        Value::Object(guard.inputs),
        json!({"transition.data.amount": 12, "job.context.minimum": 10})
    );
}

#[test]
fn given_a_guard_when_it_fails_then_the_refusal_names_the_transition_and_its_inputs() {
    let job = job_in("sent", json!({"minimum": 10}));
    match decide_on(&job, &by_name("accept", json!({"amount": 3}))) {
        Err(TransitionError::GuardFailed {
            transition, inputs, ..
        }) => {
            assert_eq!(transition, "accept");
            assert_eq!(inputs["transition.data.amount"], json!(3));
            assert_eq!(inputs["job.context.minimum"], json!(10));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn given_a_state_when_a_transition_does_not_leave_it_then_the_refusal_lists_those_that_do() {
    let job = job_in("draft", json!({}));
    match decide_on(&job, &by_name("accept", json!({}))) {
        Err(TransitionError::NotAllowed {
            current_state,
            allowed,
            ..
        }) => {
            assert_eq!(current_state, "draft");
            assert_eq!(
                allowed,
                vec![Allowed {
                    name: "send".into(),
                    to: "sent".into()
                }]
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn given_a_request_when_it_names_nothing_known_then_it_is_refused_before_anything_is_evaluated() {
    let job = job_in("follow_up", json!({}));
    let unknown = decide_on(&job, &by_name("teleport", json!({})));
    assert!(
        matches!(&unknown, Err(TransitionError::UnknownTransition { name, known }) if name == "teleport" && known.len() == 6),
        "{unknown:?}"
    );
    let mut both = by_name("expire", json!({}));
    both.to = Some("expired".into());
    assert!(matches!(
        decide_on(&job, &both),
        Err(TransitionError::Invalid {
            field: "transition",
            ..
        })
    ));
    let not_object = by_name("expire", json!([1]));
    assert!(matches!(
        decide_on(&job, &not_object),
        Err(TransitionError::Invalid { field: "data", .. })
    ));
}

#[test]
fn given_a_target_state_when_two_transitions_lead_there_then_the_request_is_ambiguous() {
    let job = job_in("follow_up", json!({}));
    let request = TransitionRequest {
        to: Some("expired".into()),
        transition: None,
        ..by_name("", json!({}))
    };
    match decide_on(&job, &request) {
        Err(TransitionError::Ambiguous { to, candidates }) => {
            assert_eq!(to, "expired");
            assert_eq!(candidates, vec!["expire", "give_up"]);
        }
        other => panic!("{other:?}"),
    }
    let one = TransitionRequest {
        to: Some("accepted".into()),
        transition: None,
        ..by_name("", json!({"amount": 1}))
    };
    let job = job_in("follow_up", json!({"minimum": 0}));
    assert_eq!(
        decide_on(&job, &one).unwrap().after.state,
        "accepted",
        "by target state"
    );
}

#[test]
fn given_an_expected_version_when_the_job_moved_then_the_conflict_says_both_versions() {
    let job = job_in("draft", json!({}));
    let request = TransitionRequest {
        expected_version: Some(3),
        ..by_name("send", json!({}))
    };
    assert!(matches!(
        decide_on(&job, &request),
        Err(TransitionError::VersionConflict {
            expected: 3,
            actual: 4
        })
    ));
}

#[test]
fn deciding_twice_gives_the_same_decision_but_for_fresh_ids() {
    // What a dry run answers is what the real call writes: both are this decision.
    let job = job_in("sent", json!({"minimum": 10}));
    let request = by_name("resend", json!({"amount": 12}));
    let (a, b) = (
        decide_on(&job, &request).unwrap(),
        decide_on(&job, &request).unwrap(),
    );
    let fresh_ids = |mut d: Decision| {
        d.run_ids.clear();
        if let Some(t) = d.schedules.as_mut() {
            t.id = Uuid::nil();
        }
        d
    };
    assert_eq!(fresh_ids(a), fresh_ids(b));
}

#[test]
fn the_event_of_a_decision_is_the_stored_job_transitioned_payload() {
    let definition = validate(&json!({
        "name": "n", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
        "transitions": [{"name": "go", "from": ["a"], "to": "b", "actions": [
            {"name": "first", "action_type": "WEBHOOK",
             "payload_template": {"connection_id": "00000000-0000-0000-0000-000000000001"}},
            {"name": "second", "action_type": "WEBHOOK",
             "payload_template": {"connection_id": "00000000-0000-0000-0000-000000000001"}}]}]
    }))
    .unwrap();
    let job = job_in("a", json!({}));
    let request = by_name("go", json!({"x": 1}));
    let decision = decide(&Input {
        job: &job,
        tenant_name: "acme",
        definition: &definition,
        request: &request,
        last_actions: json!({}),
        now: now(),
    })
    .unwrap();
    let data = serde_json::to_value(decision.event(&definition, &request.data)).unwrap();
    assert_eq!(
        data,
        json!({
            "transition": "go", "from": "a", "to": "b", "data": {"x": 1}, "job_version": 5,
            "guard": null,
            "actions": [
                {"id": decision.run_ids[0], "name": "first", "ordinal": 0},
                {"id": decision.run_ids[1], "name": "second", "ordinal": 1}
            ]
        })
    );
}

#[test]
fn last_actions_are_read_when_a_guard_names_them_even_through_a_computed_path() {
    let with_guard = |guard: Value| {
        validate(&json!({
            "name": "n", "initial": "a", "states": [{"name": "a"}, {"name": "b"}],
            "transitions": [{"name": "go", "from": ["a"], "to": "b", "guard": guard}]
        }))
        .unwrap()
    };
    let reads = |guard: Value| needs_last_actions(&with_guard(guard), "a");
    assert!(reads(
        json!({"==": [{"var": "last_actions.crm.status"}, "failed"]})
    ));
    assert!(reads(
        json!({"==": [{"var": {"cat": ["last_", "actions.crm.status"]}}, "failed"]})
    ));
    assert!(!reads(json!({"!!": {"var": "transition.data.ok"}})));
    assert!(!needs_last_actions(&quote(), "draft"));
}

#[test]
fn a_new_job_schedules_its_initial_states_timeout_from_creation() {
    let definition = validate(&json!({
        "name": "n", "initial": "waiting",
        "states": [{"name": "waiting", "timeout": {"after": "1h", "transition": "lapse"}}, {"name": "lapsed", "terminal": true}],
        "transitions": [{"name": "lapse", "from": ["waiting"], "to": "lapsed"}]
    }))
    .unwrap();
    let mut job = job_in("waiting", json!({}));
    job.version = 0;
    let timeout = initial_timeout(&definition, &job, now()).unwrap().unwrap();
    assert_eq!(
        (timeout.due_at, timeout.job_version),
        (now() + TimeDelta::hours(1), 0)
    );
    assert_eq!(
        initial_timeout(&quote(), &job_in("draft", json!({})), now()).unwrap(),
        None
    );
}
