//! `POST/GET /api/v1/users`, `DELETE /api/v1/users/{id}` (scope `full`): the people who sign
//! in to the console. A generated password is in the create response only; passwords are
//! never returned otherwise.

use chrono::{DateTime, Utc};
use poem::http::StatusCode;
use poem_openapi::param::Path;
use poem_openapi::payload::Json;
use poem_openapi::{ApiResponse, Object, OpenApi};
use switchyard_engine::user::{self, password, Role, UserError};
use switchyard_engine::UserId;
use uuid::Uuid;

use super::ApiTags;
use crate::auth::ApiKeyAuth;
use crate::json_body::JsonBody;
use crate::problem::{ApiError, Problem};
use crate::schema::{Closed, Roles};
use crate::state::AppState;

pub struct UsersApi {
    pub state: AppState,
}

#[derive(Object, serde::Deserialize)]
struct CreateUser {
    #[oai(validator(min_length = 3, max_length = 254))]
    email: String,
    /// `admin`, `designer` or `auditor`.
    role: Closed<Roles>,
    /// At least 12 characters; leave it out to have one generated (shown once).
    #[oai(validator(max_length = 1024))]
    password: Option<String>,
}

#[derive(Object)]
struct UserBody {
    id: Uuid,
    email: String,
    role: Closed<Roles>,
    created_at: DateTime<Utc>,
    /// Set once the user may no longer sign in.
    disabled_at: Option<DateTime<Utc>>,
}

#[derive(Object)]
struct CreatedUser {
    user_id: Uuid,
    email: String,
    role: Closed<Roles>,
    /// The generated password, in this response only; `null` when the request gave one.
    password: Option<String>,
}

#[derive(Object)]
struct UserList {
    items: Vec<UserBody>,
    next_cursor: Option<String>,
}

#[derive(ApiResponse)]
enum CreateResponse {
    #[oai(status = 201)]
    Created(Json<CreatedUser>),
}

#[derive(ApiResponse)]
enum DeleteResponse {
    /// The user is disabled and signed out everywhere.
    #[oai(status = 204)]
    Disabled,
}

fn user_error(err: UserError) -> ApiError {
    match err {
        UserError::Invalid { field, message } => ApiError::invalid(field, message),
        UserError::EmailTaken(email) => Problem::new(
            StatusCode::CONFLICT,
            "email-taken",
            "Email taken",
            format!("a user with the email {email} already exists; choose another email"),
        )
        .field("email")
        .into(),
        UserError::NoTenant(id) => ApiError::not_found("tenant", id),
        UserError::TooMany => ApiError::quota("Users per tenant", err.to_string()),
        UserError::Store(err) => err.into(),
    }
}

#[OpenApi(tag = "ApiTags::Users")]
impl UsersApi {
    /// Create a console user of the caller's tenant.
    #[oai(path = "/api/v1/users", method = "post", operation_id = "createUser")]
    async fn create(
        &self,
        auth: ApiKeyAuth,
        body: JsonBody<CreateUser>,
    ) -> Result<CreateResponse, ApiError> {
        let actor = auth.require(&[])?;
        let role = Role::parse(&body.0.role).ok_or_else(|| {
            ApiError::invalid("role", "choose a role: admin, designer or auditor")
        })?;
        let given = body.0.password.filter(|p| !p.is_empty());
        let secret = given.clone().unwrap_or_else(password::generate);
        let created = user::create(&self.state.pool, &actor, &body.0.email, role, &secret)
            .await
            .map_err(user_error)?;
        Ok(CreateResponse::Created(Json(CreatedUser {
            user_id: created.id.0,
            email: created.email,
            role: created.role.as_str().into(),
            password: given.is_none().then_some(secret),
        })))
    }

    /// The tenant's users (never their passwords).
    #[oai(path = "/api/v1/users", method = "get", operation_id = "listUsers")]
    async fn list(&self, auth: ApiKeyAuth) -> Result<Json<UserList>, ApiError> {
        let actor = auth.require(&[])?;
        let users = user::list(&self.state.pool, actor.tenant_id).await?;
        Ok(Json(UserList {
            items: users
                .into_iter()
                .map(|l| UserBody {
                    id: l.user.id.0,
                    email: l.user.email,
                    role: l.user.role.as_str().into(),
                    created_at: l.user.created_at,
                    disabled_at: l.disabled_at,
                })
                .collect(),
            next_cursor: None,
        }))
    }

    /// Disable a user: they can no longer sign in, and their sessions end now.
    #[oai(
        path = "/api/v1/users/:id",
        method = "delete",
        operation_id = "deleteUser"
    )]
    async fn disable(&self, auth: ApiKeyAuth, id: Path<Uuid>) -> Result<DeleteResponse, ApiError> {
        let actor = auth.require(&[])?;
        if user::disable(&self.state.pool, &actor, UserId(id.0)).await? {
            Ok(DeleteResponse::Disabled)
        } else {
            Err(ApiError::not_found("active user", id.0))
        }
    }
}
