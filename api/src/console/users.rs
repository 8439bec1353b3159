//! `/admin/users` (admins only): the tenant's people and API keys. Creating and disabling
//! go through `/api/v1/users` and `/api/v1/api-keys`; a generated password or a new key is
//! shown once, in the page that created it.

use poem::web::Data;
use poem::{handler, Request};
use serde_json::json;
use switchyard_engine::api_key::{self, Scope};
use switchyard_engine::user::{self, Role};

use super::render::{when, when_opt};
use super::sections;
use super::visit::{Page, Visit};
use crate::state::AppState;

#[handler]
pub async fn show(req: &Request, Data(state): Data<&AppState>) -> Page {
    let visit = Visit::start(req, state, &sections::USERS).await?;
    let users = user::list(&state.pool, visit.tenant()).await?;
    let keys = api_key::list(&state.pool, visit.tenant(), None, 500).await?;
    visit.page(
        "Users",
        "users",
        json!({
            "users": users.iter().map(|u| json!({
                "id": u.user.id.to_string(),
                "email": u.user.email,
                "role": u.user.role.as_str(),
                "created_at": when(&u.user.created_at),
                "disabled_at": when_opt(u.disabled_at.as_ref()),
                "is_me": u.user.id == visit.user.user_id,
            })).collect::<Vec<_>>(),
            // Least privileged first: the form starts, and resets after each user, at auditor.
            "roles": Role::ALL.iter().rev().map(|r| r.as_str()).collect::<Vec<_>>(),
            "keys": keys.iter().map(|k| json!({
                "id": k.id.to_string(),
                "name": k.name,
                "prefix": k.prefix,
                "scopes": k.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "),
                "created_at": when(&k.created_at),
                "revoked_at": when_opt(k.revoked_at.as_ref()),
            })).collect::<Vec<_>>(),
            "scopes": Scope::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        }),
    )
}
