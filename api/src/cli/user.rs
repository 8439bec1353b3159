//! `switchyard user create`: a console user of a tenant, with a generated password shown
//! once (or one read from standard input).

use std::io::BufRead;

use switchyard_engine::user::{self, password, Role, UserError};
use switchyard_engine::{Actor, TenantId};

use crate::config::DatabaseArgs;
use crate::database;

/// Creates the user and prints `{"user_id", "email", "role", "password"}`.
pub async fn create(
    db: &DatabaseArgs,
    tenant: uuid::Uuid,
    email: &str,
    role: &str,
    password_stdin: bool,
) -> anyhow::Result<()> {
    let role = Role::parse(role).ok_or_else(|| {
        anyhow::anyhow!("--role must be one of admin, designer, auditor (not '{role}')")
    })?;
    let (secret, shown) = if password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        password::check(&line).map_err(|m| anyhow::anyhow!("the password on stdin: {m}"))?;
        (line, None)
    } else {
        let generated = password::generate();
        (generated.clone(), Some(generated))
    };
    let database = database::open(db).await?;
    let actor = Actor::operator(TenantId(tenant));
    let created = user::create(&database.pool, &actor, email, role, &secret)
        .await
        .map_err(|err| match err {
            UserError::Store(err) => anyhow::Error::from(err),
            other => anyhow::anyhow!("{other}"),
        })?;
    println!(
        "{}",
        serde_json::json!({
            "user_id": created.id,
            "email": created.email,
            "role": created.role,
            "password": shown,
        })
    );
    Ok(())
}
