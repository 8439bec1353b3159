//! Configuration: every setting is a flag and an environment variable, validated at
//! start-up. See the table in README.md.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Switchyard: an event-sourced workflow engine.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Where the data lives.
#[derive(Clone, Debug, Args)]
pub struct DatabaseArgs {
    /// An external PostgreSQL; without it an embedded cluster runs under --data-dir.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// The embedded cluster's directory.
    #[arg(
        long,
        env = "SWITCHYARD_DATA_DIR",
        default_value = ".switchyard",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Most database connections this process opens.
    #[arg(
        long,
        env = "SWITCHYARD_DB_POOL_SIZE",
        default_value_t = 32,
        global = true
    )]
    pub db_pool_size: usize,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API (and, as they are built, the action worker).
    Serve(ServeArgs),
    /// Set up a demo tenant and workflows, walk through a job, then keep serving.
    Demo(ServeArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Audit the event log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

/// Options of the commands that serve HTTP.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The address the API listens on.
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
}

/// `switchyard tenant ...`
#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant and a `full` API key; prints {"tenant_id", "api_key"} as JSON.
    Create {
        #[arg(long)]
        name: String,
    },
}

/// `switchyard audit ...`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute every hash chain; exits 1 and reports the first break if one is found.
    Verify {
        /// Only this tenant's events.
        #[arg(long)]
        tenant: Option<uuid::Uuid>,
    },
}
