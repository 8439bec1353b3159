//! A person's role: a word of its own, so the events that name one need nothing else of
//! [`crate::user`].

use serde::{Deserialize, Serialize};

/// What a person may do in the console and through the API with their session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Admin,
    Designer,
    Auditor,
}

impl Role {
    /// Every role, for messages.
    pub const ALL: [Role; 3] = [Role::Admin, Role::Designer, Role::Auditor];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Designer => "designer",
            Role::Auditor => "auditor",
        }
    }

    pub fn parse(name: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

crate::stored_as_text!(Role, Role::parse);
