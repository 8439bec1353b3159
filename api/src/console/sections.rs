//! The console's sections: each page's address and who may open it, in one table. A page's
//! handler opens with its section ([`super::visit::Visit::start`]), and the navigation
//! lists only the sections the signed-in role may open, so the two cannot disagree.

use switchyard_engine::api_key::{grants, Scope};
use switchyard_engine::user::Role;

/// A section of the console.
pub struct Section {
    pub label: &'static str,
    pub href: &'static str,
    /// The scopes any of which opens it (a role acts with its scope; `full` opens all);
    /// empty: every role.
    pub allowed: &'static [Scope],
}

/// A page that belongs to no section (an address with no page): any role, nothing marked.
pub const NONE: Section = Section {
    label: "",
    href: "",
    allowed: &[],
};
pub const ACCOUNT: Section = Section {
    label: "Your account",
    href: "/admin",
    allowed: &[],
};
pub const INTEGRATIONS: Section = Section {
    label: "Integrations",
    href: "/admin/integrations",
    allowed: &[Scope::Designer],
};
pub const WORKFLOWS: Section = Section {
    label: "Workflows",
    href: "/admin/workflows",
    allowed: &[Scope::Designer],
};
pub const JOBS: Section = Section {
    label: "Jobs",
    href: "/admin/jobs",
    allowed: &[Scope::Service, Scope::Auditor],
};
pub const SUBSCRIPTIONS: Section = Section {
    label: "Subscriptions",
    href: "/admin/subscriptions",
    allowed: &[Scope::Full],
};
pub const INTAKE: Section = Section {
    label: "Intake",
    href: "/admin/intake",
    allowed: &[Scope::Designer],
};
pub const AUDIT: Section = Section {
    label: "Audit",
    href: "/admin/audit",
    allowed: &[Scope::Auditor],
};
pub const USERS: Section = Section {
    label: "Users",
    href: "/admin/users",
    allowed: &[Scope::Full],
};

/// The navigation's sections, in order.
pub const NAVIGATION: [&Section; 7] = [
    &INTEGRATIONS,
    &WORKFLOWS,
    &JOBS,
    &SUBSCRIPTIONS,
    &INTAKE,
    &AUDIT,
    &USERS,
];

impl Section {
    /// Whether `role` may open it.
    pub fn opens_for(&self, role: Role) -> bool {
        self.allowed.is_empty() || role_may(role, self.allowed)
    }
}

/// Whether `role` may do what a key with any of `allowed` may.
pub fn role_may(role: Role, allowed: &[Scope]) -> bool {
    grants(&[role.scope()], allowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(role: Role) -> Vec<&'static str> {
        NAVIGATION
            .iter()
            .filter(|s| s.opens_for(role))
            .map(|s| s.label)
            .collect()
    }

    #[test]
    fn each_role_is_shown_what_it_may_open() {
        assert_eq!(labels(Role::Admin).len(), NAVIGATION.len());
        assert_eq!(
            labels(Role::Designer),
            ["Integrations", "Workflows", "Intake"]
        );
        assert_eq!(labels(Role::Auditor), ["Jobs", "Audit"]);
    }
}
