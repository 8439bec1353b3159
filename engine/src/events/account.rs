//! The payloads of the events about who may act: tenants, API keys and users, each in
//! its own stream. None carries a secret: a key is named by its id and prefix, a user by
//! their email.

use serde::{Deserialize, Serialize};

use super::Payload;
use crate::log::EventType;
use crate::user::role::Role;
use crate::{ApiKeyId, TenantId, UserId};

/// `tenant.created`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantCreated {
    pub id: TenantId,
    pub name: String,
}

impl Payload for TenantCreated {
    const TYPE: EventType = EventType::TenantCreated;
}

/// `api_key.created`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyCreated {
    pub id: ApiKeyId,
    pub name: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    /// Scope names as clients write them.
    pub scopes: Vec<String>,
}

impl Payload for ApiKeyCreated {
    const TYPE: EventType = EventType::ApiKeyCreated;
}

/// `api_key.revoked`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKeyRevoked {
    pub id: ApiKeyId,
}

impl Payload for ApiKeyRevoked {
    const TYPE: EventType = EventType::ApiKeyRevoked;
}

/// `user.created`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserCreated {
    pub id: UserId,
    pub email: String,
    pub role: Role,
}

impl Payload for UserCreated {
    const TYPE: EventType = EventType::UserCreated;
}

/// `user.disabled`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserDisabled {
    pub id: UserId,
}

impl Payload for UserDisabled {
    const TYPE: EventType = EventType::UserDisabled;
}
