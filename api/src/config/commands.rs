//! The subcommands and their own options.

use clap::{Args, Subcommand};

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and an action worker.
    Serve(ServeArgs),
    /// Run only an action worker.
    Worker(WorkerOnlyArgs),
    /// Set up a demo tenant and workflows, walk through a job, then keep serving.
    Demo(DemoArgs),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage console users.
    #[command(subcommand)]
    User(UserCommand),
    /// Audit the event log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Manage the credential encryption key.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Measure transitions and action delivery against same-machine baselines.
    Bench(BenchArgs),
}

/// Options of `switchyard worker`.
#[derive(Clone, Debug, Args)]
pub struct WorkerOnlyArgs {
    /// Serve `GET /metrics`, `/healthz` and `/readyz` on this address (a worker has no API).
    #[arg(long, env = "SWITCHYARD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

/// Options of `switchyard bench`.
#[derive(Clone, Debug, Args)]
pub struct BenchArgs {
    /// Seconds each measurement runs (there are seven, plus set-up and draining).
    #[arg(long, default_value_t = 8)]
    pub seconds: u64,
    /// Also write the figures as JSON to this file.
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// Run the API and its worker as this many `switchyard serve` processes on the bench's
    /// database (0: in the bench's own process).
    #[arg(long, default_value_t = 0)]
    pub processes: usize,
}

/// `switchyard keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Re-encrypt every stored credential under the current key, in one transaction.
    Rotate,
}

/// Options of the commands that serve HTTP.
#[derive(Clone, Debug, Args)]
pub struct ServeArgs {
    /// The address the API listens on.
    #[arg(long, env = "SWITCHYARD_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Sustained requests per second per tenant, in this process (0: no limit).
    #[arg(long, env = "SWITCHYARD_TENANT_RATE_LIMIT", default_value_t = 200)]
    pub tenant_rate_limit: u32,
    /// Failed authentications per minute per client address (0: no limit).
    #[arg(long, env = "SWITCHYARD_AUTH_FAILURE_LIMIT", default_value_t = 30)]
    pub auth_failure_limit: u32,
    /// Sustained requests per second per intake endpoint, in this process (0: no limit).
    #[arg(long, env = "SWITCHYARD_INTAKE_RATE_LIMIT", default_value_t = 50)]
    pub intake_rate_limit: u32,
    /// The address senders reach this server at (`https://hooks.example.com`): intake
    /// endpoints' `url`, and what Twilio signs. Unset, the request's own `Host`.
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve `GET /metrics` on the API listener to `Authorization: Bearer <token>`;
    /// unset, the API does not serve metrics.
    #[arg(long, env = "SWITCHYARD_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// Serve `GET /metrics`, `/healthz` and `/readyz` on this address too, without a
    /// token (keep it private).
    #[arg(long, env = "SWITCHYARD_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,
}

impl ServeArgs {
    /// The request limits these options give.
    pub fn limits(&self) -> crate::throttle::RequestLimits {
        crate::throttle::RequestLimits {
            tenant_per_second: self.tenant_rate_limit,
            auth_failures_per_minute: self.auth_failure_limit,
            intake_per_second: self.intake_rate_limit,
        }
    }
}

/// Options of `switchyard demo`.
#[derive(Clone, Debug, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub serve: ServeArgs,
    /// Where the demo's catch-hook receiver (its stand-in CRM and Zapier) listens.
    #[arg(
        long,
        env = "SWITCHYARD_DEMO_HOOK_LISTEN",
        default_value = "127.0.0.1:8081"
    )]
    pub hook_listen: String,
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

/// `switchyard user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a console user; prints {"user_id", "email", "role", "password"} as JSON, with a
    /// generated password shown once (null when it was read from standard input).
    Create {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: uuid::Uuid,
        #[arg(long)]
        email: String,
        /// `admin`, `designer` or `auditor`.
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
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
