//! Where a queued item stands, as the API shows it: the queue's own columns, declared once
//! for every body that shows a queued item (an action run, a delivery), in the naming of
//! the route the body belongs to.

use switchyard_engine::queue::Progress;

macro_rules! progress_body {
    ($name:ident, $case:literal) => {
        /// Where a queued item stands.
        #[derive(poem_openapi::Object)]
        #[oai(rename_all = $case)]
        pub struct $name {
            /// `waiting` (behind an earlier action of its job), `pending`, `running`,
            /// `succeeded`, `failed` or `skipped` (an earlier action failed).
            status: $crate::schema::Closed<$crate::schema::Statuses>,
            attempts: i32,
            last_status_code: Option<i32>,
            next_attempt_at: Option<chrono::DateTime<chrono::Utc>>,
            last_error: Option<String>,
            created_at: chrono::DateTime<chrono::Utc>,
            updated_at: chrono::DateTime<chrono::Utc>,
        }

        impl From<Progress> for $name {
            fn from(p: Progress) -> Self {
                $name {
                    status: p.status.as_str().into(),
                    attempts: p.attempts,
                    last_status_code: p.last_status_code,
                    next_attempt_at: p.next_attempt_at,
                    last_error: p.last_error,
                    created_at: p.created_at,
                    updated_at: p.updated_at,
                }
            }
        }
    };
}

progress_body!(ProgressBody, "snake_case");
progress_body!(ProgressBodyCamel, "camelCase");
