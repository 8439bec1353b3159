use super::*;
use serde_json::json;

fn twilio_route() -> Value {
    json!([{"when": {"==": [{"var": "body.MessageStatus"}, "delivered"]},
            "job": {"id": "{{query.job}}"},
            "transition": "deliver",
            "data": {"status": "{{body.MessageStatus}}", "sid": "{{body.MessageSid}}"}}])
}

#[test]
fn the_first_route_that_holds_is_rendered() {
    let routes = parse(&twilio_route()).unwrap();
    let request = json!({"body": {"MessageStatus": "delivered", "MessageSid": "SM1"},
                         "headers": {}, "query": {"job": "j-1"}});
    let plan = choose(&routes, &request).unwrap();
    assert_eq!(plan.job, Target::Id("j-1".into()));
    assert_eq!(plan.transition.as_deref(), Some("deliver"));
    assert_eq!(plan.data, json!({"status": "delivered", "sid": "SM1"}));

    let sent = json!({"body": {"MessageStatus": "sent"}, "headers": {}, "query": {}});
    assert_eq!(choose(&routes, &sent), Err(NoPlan::Unmatched));
}

#[test]
fn a_missing_variable_names_the_route() {
    let routes = parse(&twilio_route()).unwrap();
    let request =
        json!({"body": {"MessageStatus": "delivered"}, "headers": {}, "query": {"job": "j"}});
    let Err(NoPlan::Failed { route, reason }) = choose(&routes, &request) else {
        panic!("a missing MessageSid fails the route");
    };
    assert_eq!(route, 0);
    assert!(reason.contains("MessageSid"), "{reason}");
}

#[test]
fn problems_name_their_paths() {
    let routes = json!([
        {"job": {}, "transition": "x"},
        {"job": {"id": "{{#each}}"}, "to": "a", "transition": "b"},
        {"job": {"id": "x"}, "when": {"nope": [1]}},
        {"job": {"id": "x"}, "create": {"workflow": "w"}, "transition": "t"},
        {"job": {"id": "x"}, "transition": "t", "data": {"a": "{{#if}}"}},
        {"job": {"id": "x"}, "transition": "t", "extra": 1}
    ]);
    let problems = parse(&routes).unwrap_err();
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].job",
            "routes[1].job.id",
            "routes[1].to",
            "routes[2].when",
            "routes[2].transition",
            "routes[3].create",
            "routes[4].data.a",
            "routes[5]"
        ],
        "{problems:?}"
    );
}

#[test]
fn transitions_and_states_are_checked_against_the_workflow() {
    let routes = parse(&json!([
        {"job": {"external_id": "{{body.id}}", "workflow": "orders"}, "transition": "pay"},
        {"job": {"external_id": "{{body.id}}", "workflow": "orders"}, "to": "nowhere"},
        {"job": {"external_id": "{{body.id}}"}, "create": {"workflow": "missing"}},
        {"job": {"id": "{{body.id}}"}, "transition": "anything"}
    ]))
    .unwrap();
    let orders = WorkflowShape {
        transitions: vec!["ship".into()],
        states: vec!["new".into(), "shipped".into()],
    };
    let problems = check_against(&routes, |name| (name == "orders").then_some(&orders));
    let paths: Vec<&str> = problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "routes[0].transition",
            "routes[1].to",
            "routes[2].create.workflow"
        ]
    );
}
