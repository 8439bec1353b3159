-- Console accounts: people of a tenant with a role, and their sign-in sessions. Passwords
-- are argon2id hashes (PHC strings); session tokens are stored only as their SHA-256.

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    tenant_id      uuid NOT NULL REFERENCES tenants (id),
    email          text NOT NULL,
    role           text NOT NULL CHECK (role IN ('admin', 'designer', 'auditor')),
    password_hash  text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    disabled_at    timestamptz
);
-- Sign-in names a person by email alone, so an email belongs to one user.
CREATE UNIQUE INDEX users_email ON users (lower(email));
CREATE INDEX users_by_tenant ON users (tenant_id, id);

CREATE TABLE sessions (
    id             uuid PRIMARY KEY,
    user_id        uuid NOT NULL REFERENCES users (id),
    token_sha256   bytea NOT NULL UNIQUE,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    -- The absolute end; an idle session ends earlier (checked against last_seen_at).
    expires_at     timestamptz NOT NULL,
    revoked_at     timestamptz
);
CREATE INDEX sessions_by_user ON sessions (user_id);
