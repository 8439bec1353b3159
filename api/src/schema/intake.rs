//! The schema of an intake route (`switchyard_engine::intake::route::Route`, which checks
//! routes itself and reports every problem with its path).

use poem_openapi::Object;
use serde::Deserialize;
use serde_json::Value;

/// Which job a verified request moves, and how. Strings are payload templates and `when`
/// is a JSONLogic rule, over `{"body", "headers", "query"}`.
#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct IntakeRoute {
    /// A JSONLogic rule; the first route whose rule holds applies. Without one, always.
    pub when: Option<Value>,
    pub job: IntakeJob,
    /// Create the job (under the external id) when none has it.
    pub create: Option<IntakeCreate>,
    /// The transition to apply; or give `to`.
    pub transition: Option<String>,
    /// The state to move to.
    pub to: Option<String>,
    /// The transition's data: an object of templates.
    pub data: Option<Value>,
}

/// The job: by `id`, or by `external_id` (within `workflow` when named). Templates.
#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct IntakeJob {
    pub id: Option<String>,
    pub external_id: Option<String>,
    pub workflow: Option<String>,
}

/// A job to create when the external id names none.
#[derive(Object, Deserialize)]
#[oai(deny_unknown_fields)]
pub struct IntakeCreate {
    pub workflow: String,
    /// The new job's context: an object of templates.
    pub context: Option<Value>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_routes_the_engine_accepts_read_as_the_schema() {
        let routes = json!([
            {"when": {"==": [{"var": "body.MessageStatus"}, "delivered"]},
             "job": {"id": "{{query.job}}"}, "transition": "deliver",
             "data": {"status": "{{body.MessageStatus}}"}},
            {"job": {"external_id": "{{body.data.object.id}}", "workflow": "orders"},
             "create": {"workflow": "orders", "context": {"amount": "{{body.data.object.amount}}"}},
             "to": "paid"}
        ]);
        switchyard_engine::intake::route::parse(&routes).unwrap();
        let _: Vec<IntakeRoute> = serde_json::from_value(routes).unwrap();
    }
}
