//! The HTTP routes, one file per resource. Handlers parse, make one engine call and map
//! the outcome to a response enum.

mod action_retry;
mod api_keys;
mod connections;
mod events;
mod health;
mod hooks;
mod inbound;
mod intake;
mod integrations;
mod jobs;
mod limits;
mod paging;
mod progress;
mod timers;
mod transitions;
mod usage;
mod users;
mod workflows;
mod zapier;

use poem_openapi::{OpenApiService, Tags};

pub use intake::public_base;

use crate::state::AppState;

#[derive(Tags)]
enum ApiTags {
    /// Liveness and readiness.
    Health,
    /// API keys of the caller's tenant.
    ApiKeys,
    /// Publishing and reading workflow definitions.
    Workflows,
    /// Provider connections: encrypted credentials for actions.
    Connections,
    /// Creating jobs, moving them through their workflow, reading their history.
    Jobs,
    /// The tenant's event log: paging, export and chain verification.
    Events,
    /// Metering: usage totals and ledger rows.
    Usage,
    /// The integration catalog and the Webhook / Zapier connector.
    Integrations,
    /// Event subscriptions: signed webhooks of the log's events, and their deliveries.
    Subscriptions,
    /// A polling trigger for Zapier.
    Zapier,
    /// The people who sign in to the console.
    Users,
    /// Signed webhooks from other systems, routed onto jobs: endpoints and receipts.
    Intake,
}

/// The OpenAPI service holding every route.
pub type Api = OpenApiService<
    (
        health::HealthApi,
        api_keys::ApiKeysApi,
        workflows::WorkflowsApi,
        connections::ConnectionsApi,
        jobs::JobsApi,
        transitions::TransitionsApi,
        action_retry::ActionRetryApi,
        timers::TimersApi,
        events::EventsApi,
        usage::UsageApi,
        integrations::IntegrationsApi,
        hooks::HooksApi,
        zapier::ZapierApi,
        users::UsersApi,
        intake::IntakeApi,
        inbound::InboundApi,
    ),
    (),
>;

/// Builds the routes around `state`.
pub fn api(state: AppState) -> Api {
    OpenApiService::new(
        (
            health::HealthApi {
                state: state.clone(),
            },
            api_keys::ApiKeysApi {
                state: state.clone(),
            },
            workflows::WorkflowsApi {
                state: state.clone(),
            },
            connections::ConnectionsApi {
                state: state.clone(),
            },
            jobs::JobsApi {
                state: state.clone(),
            },
            transitions::TransitionsApi {
                state: state.clone(),
            },
            action_retry::ActionRetryApi {
                state: state.clone(),
            },
            timers::TimersApi {
                state: state.clone(),
            },
            events::EventsApi {
                state: state.clone(),
            },
            usage::UsageApi {
                state: state.clone(),
            },
            integrations::IntegrationsApi {
                state: state.clone(),
            },
            hooks::HooksApi {
                state: state.clone(),
            },
            zapier::ZapierApi {
                state: state.clone(),
            },
            users::UsersApi {
                state: state.clone(),
            },
            intake::IntakeApi {
                state: state.clone(),
            },
            inbound::InboundApi { state },
        ),
        "Switchyard",
        env!("CARGO_PKG_VERSION"),
    )
    .license(
        poem_openapi::LicenseObject::new("Apache-2.0")
            .url("https://www.apache.org/licenses/LICENSE-2.0"),
    )
    .description(
        "An event-sourced workflow engine: publish state machines, move jobs through them, \
         and read the append-only, hash-chained event log. Errors are application/problem+json.",
    )
}
