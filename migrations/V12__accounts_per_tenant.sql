-- Accounts belong to a tenant: the same email may have an account in several tenants,
-- unique within one (case-insensitive). Sign-in finds the accounts by email.
DROP INDEX users_email;
CREATE UNIQUE INDEX users_email_per_tenant ON users (tenant_id, lower(email));
CREATE INDEX users_by_email ON users (lower(email));
