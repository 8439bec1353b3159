//! Configuration: every setting is a flag and an environment variable, validated at
//! start-up. See the table in README.md.

use std::path::PathBuf;

use clap::{Args, Parser};

mod budgets;
mod commands;
pub use budgets::BudgetArgs;
pub use commands::{
    AuditCommand, BenchArgs, Command, DemoArgs, KeysCommand, ServeArgs, TenantCommand, UserCommand,
    WorkerOnlyArgs,
};

/// Switchyard: an event-sourced workflow engine.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(flatten)]
    pub vault: VaultArgs,
    #[command(flatten)]
    pub providers: ProviderArgs,
    #[command(flatten)]
    pub worker: WorkerArgs,
    #[command(flatten)]
    pub budgets: BudgetArgs,
    /// How log lines are written to standard error: `text`, or `json` (one object a line,
    /// with the span fields) for a log collector.
    #[arg(
        long,
        env = "SWITCHYARD_LOG_FORMAT",
        global = true,
        value_enum,
        default_value_t = LogFormat::Text
    )]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

/// The shape of log lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
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

/// The credential encryption key, in order of precedence, and old keys still accepted
/// for reading while a rotation is pending.
#[derive(Clone, Args)]
pub struct VaultArgs {
    #[arg(
        long,
        env = "INTEGRATION_SECRET_ENCRYPTION_KEY",
        global = true,
        hide_env_values = true
    )]
    pub integration_secret_encryption_key: Option<String>,
    #[arg(long, env = "ENCRYPTION_KEY", global = true, hide_env_values = true)]
    pub encryption_key: Option<String>,
    /// Accepted with a warning: prefer INTEGRATION_SECRET_ENCRYPTION_KEY.
    #[arg(
        long,
        env = "WEBHOOK_SECRET_ENCRYPTION_KEY",
        global = true,
        hide_env_values = true
    )]
    pub webhook_secret_encryption_key: Option<String>,
    /// Old keys (comma-separated) that can still decrypt, e.g. until `keys rotate` has run.
    #[arg(
        long,
        env = "INTEGRATION_SECRET_ENCRYPTION_KEY_OLD",
        global = true,
        hide_env_values = true
    )]
    pub integration_secret_encryption_key_old: Option<String>,
    #[arg(
        long,
        env = "ENCRYPTION_KEY_OLD",
        global = true,
        hide_env_values = true
    )]
    pub encryption_key_old: Option<String>,
    #[arg(
        long,
        env = "WEBHOOK_SECRET_ENCRYPTION_KEY_OLD",
        global = true,
        hide_env_values = true
    )]
    pub webhook_secret_encryption_key_old: Option<String>,
}

impl std::fmt::Debug for VaultArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultArgs(redacted)")
    }
}

impl VaultArgs {
    /// The key material as the vault takes it.
    pub fn sources(&self) -> switchyard_actions::vault::KeySources {
        switchyard_actions::vault::KeySources {
            integration_key: self.integration_secret_encryption_key.clone(),
            encryption_key: self.encryption_key.clone(),
            webhook_key: self.webhook_secret_encryption_key.clone(),
            old_keys: [
                &self.integration_secret_encryption_key_old,
                &self.encryption_key_old,
                &self.webhook_secret_encryption_key_old,
            ]
            .into_iter()
            .flatten()
            .cloned()
            .collect(),
        }
    }
}

/// Where the providers with public APIs are (tests point these at local fakes).
#[derive(Clone, Debug, Args)]
pub struct ProviderArgs {
    #[arg(
        long,
        env = "SWITCHYARD_TWILIO_BASE_URL",
        default_value = "https://api.twilio.com",
        global = true
    )]
    pub twilio_base_url: String,
    #[arg(
        long,
        env = "SWITCHYARD_SENDGRID_BASE_URL",
        default_value = "https://api.sendgrid.com",
        global = true
    )]
    pub sendgrid_base_url: String,
}

/// How the action worker runs and where it may send requests.
#[derive(Clone, Debug, Args)]
pub struct WorkerArgs {
    /// Actions in flight at once in this process.
    #[arg(
        long,
        env = "SWITCHYARD_WORKER_CONCURRENCY",
        default_value_t = 64,
        global = true
    )]
    pub worker_concurrency: usize,
    /// Let actions reach private, loopback and link-local addresses (the demo and tests).
    #[arg(
        long,
        env = "SWITCHYARD_ALLOW_PRIVATE_TARGETS",
        default_value_t = false,
        global = true
    )]
    pub allow_private_targets: bool,
    /// Private ranges allowed anyway, comma-separated CIDRs (e.g. `10.20.0.0/16`).
    #[arg(
        long,
        env = "SWITCHYARD_ALLOWED_CIDRS",
        default_value = "",
        global = true
    )]
    pub allowed_cidrs: String,
    /// How long a stopping process waits for its requests in flight (e.g. `20s`, `2m`).
    #[arg(
        long,
        env = "SWITCHYARD_DRAIN_TIMEOUT",
        default_value = "20s",
        global = true
    )]
    pub drain_timeout: String,
    /// Consecutive failures (network error, timeout, 5xx) after which a destination's
    /// circuit opens and its requests wait.
    #[arg(
        long,
        env = "SWITCHYARD_BREAKER_FAILURES",
        default_value_t = 5,
        global = true
    )]
    pub breaker_failures: u32,
    /// How long an open circuit waits before one probe request decides (e.g. `30s`).
    #[arg(
        long,
        env = "SWITCHYARD_BREAKER_COOLDOWN",
        default_value = "30s",
        global = true
    )]
    pub breaker_cooldown: String,
    #[command(flatten)]
    pub deliveries: DeliveryArgs,
}

/// Subscription deliveries: the retry schedule and the limits of seed 002.
#[derive(Clone, Debug, Args)]
pub struct DeliveryArgs {
    /// Delay before each delivery attempt, comma-separated; its length is the number of attempts.
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERY_RETRY_SCHEDULE",
        default_value = "0s,1m,5m,30m,2h",
        global = true
    )]
    pub delivery_retry_schedule: String,
    /// Deliveries per minute per subscription; the excess waits for a free slot.
    #[arg(
        long,
        env = "SWITCHYARD_DELIVERIES_PER_MINUTE",
        default_value_t = 100,
        global = true
    )]
    pub deliveries_per_minute: i32,
    /// Subscriptions per tenant.
    #[arg(
        long,
        env = "SWITCHYARD_MAX_SUBSCRIPTIONS",
        default_value_t = 10,
        global = true
    )]
    pub max_subscriptions: i64,
    /// The largest delivery body in bytes; a larger one fails without being sent.
    #[arg(
        long,
        env = "SWITCHYARD_MAX_DELIVERY_BYTES",
        default_value_t = 262_144,
        global = true
    )]
    pub max_delivery_bytes: usize,
    /// Refuse subscription URLs that are not https.
    #[arg(
        long,
        env = "SWITCHYARD_REQUIRE_HTTPS_SUBSCRIPTIONS",
        default_value_t = false,
        global = true
    )]
    pub require_https_subscriptions: bool,
    /// How long a replaced signing secret (a subscription's or a connector's) keeps
    /// signing beside the new one, e.g. `24h`; `0s` stops it at once.
    #[arg(
        long,
        env = "SWITCHYARD_SECRET_OVERLAP",
        default_value = "24h",
        global = true
    )]
    pub secret_overlap: String,
}

impl DeliveryArgs {
    /// The delivery configuration, checked.
    pub fn config(&self) -> anyhow::Result<switchyard_actions::deliveries::DeliveryConfig> {
        use switchyard_actions::deliveries::{deliver, DeliveryConfig};
        let retry_schedule = deliver::parse_schedule(&self.delivery_retry_schedule)
            .map_err(|err| anyhow::anyhow!("SWITCHYARD_DELIVERY_RETRY_SCHEDULE: {err}"))?;
        anyhow::ensure!(
            self.deliveries_per_minute >= 1,
            "SWITCHYARD_DELIVERIES_PER_MINUTE must be at least 1"
        );
        anyhow::ensure!(
            self.max_subscriptions >= 1,
            "SWITCHYARD_MAX_SUBSCRIPTIONS must be at least 1"
        );
        anyhow::ensure!(
            self.max_delivery_bytes >= 1024,
            "SWITCHYARD_MAX_DELIVERY_BYTES must be at least 1024"
        );
        let secret_overlap = switchyard_engine::definition::parse_duration(&self.secret_overlap)
            .map_err(|err| anyhow::anyhow!("SWITCHYARD_SECRET_OVERLAP: {err}"))?;
        Ok(DeliveryConfig {
            secret_overlap,
            retry_schedule,
            per_minute: self.deliveries_per_minute,
            max_subscriptions: self.max_subscriptions,
            max_payload_bytes: self.max_delivery_bytes,
            require_https: self.require_https_subscriptions,
            ..DeliveryConfig::default()
        })
    }
}

impl WorkerArgs {
    /// The worker's configuration, checked.
    pub fn config(
        &self,
        providers: &ProviderArgs,
    ) -> anyhow::Result<switchyard_actions::worker::WorkerConfig> {
        use switchyard_actions::egress::EgressPolicy;
        anyhow::ensure!(
            (1..=10_000).contains(&self.worker_concurrency),
            "SWITCHYARD_WORKER_CONCURRENCY must be from 1 to 10000"
        );
        anyhow::ensure!(
            (1..=1000).contains(&self.breaker_failures),
            "SWITCHYARD_BREAKER_FAILURES must be from 1 to 1000"
        );
        let cooldown = switchyard_engine::definition::parse_duration(&self.breaker_cooldown)
            .map_err(|err| anyhow::anyhow!("SWITCHYARD_BREAKER_COOLDOWN: {err}"))?;
        let allowed = EgressPolicy::parse_cidrs(&self.allowed_cidrs)
            .map_err(|err| anyhow::anyhow!("SWITCHYARD_ALLOWED_CIDRS: {err}"))?;
        Ok(switchyard_actions::worker::WorkerConfig {
            concurrency: self.worker_concurrency,
            policy: EgressPolicy {
                allow_private: self.allow_private_targets,
                allowed,
            },
            endpoints: providers.endpoints(),
            deliveries: self.deliveries.config()?,
            drain_timeout: switchyard_engine::definition::parse_duration(&self.drain_timeout)
                .map_err(|err| anyhow::anyhow!("SWITCHYARD_DRAIN_TIMEOUT: {err}"))?,
            breaker: switchyard_engine::flow::Breaker {
                failures: self.breaker_failures,
                cooldown,
            },
            ..Default::default()
        })
    }
}

impl ProviderArgs {
    /// The endpoints as the providers take them.
    pub fn endpoints(&self) -> switchyard_actions::providers::ProviderEndpoints {
        switchyard_actions::providers::ProviderEndpoints {
            twilio_base: self.twilio_base_url.clone(),
            sendgrid_base: self.sendgrid_base_url.clone(),
        }
    }
}
