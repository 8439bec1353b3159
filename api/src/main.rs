//! The `switchyard` binary: parses the command line and runs one subcommand.

use clap::Parser;
use switchyard_api::cli;
use switchyard_api::config::{
    AuditCommand, Cli, Command, KeysCommand, LogFormat, TenantCommand, UserCommand,
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    // The demo's terminal narrates what its receiver gets: a line per API request would
    // drown it, so the demo logs requests only when they go wrong (or RUST_LOG says so).
    let default_filter = match args.command {
        Command::Demo(_) => "info,poem=warn",
        _ => "info",
    };
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
        )
        .with_writer(std::io::stderr);
    match args.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
    match args.budgets.budgets() {
        Ok(budgets) => switchyard_engine::budget::configure(budgets),
        Err(err) => {
            eprintln!("error: {err}");
            return std::process::ExitCode::from(2);
        }
    }
    let outcome = match &args.command {
        Command::Serve(serve) => cli::serve::run(&args, serve).await.map(|_| true),
        Command::Demo(demo) => cli::demo::run(&args, demo).await.map(|_| true),
        Command::Bench(bench) => cli::bench::run(&args, bench).await.map(|_| true),
        Command::Worker(worker) => cli::serve::run_worker(&args, worker).await.map(|_| true),
        Command::Keys(KeysCommand::Rotate) => cli::keys::rotate(&args.database, &args.vault)
            .await
            .map(|_| true),
        Command::Migrate => switchyard_api::database::open(&args.database)
            .await
            .map(|_| {
                println!("migrations are up to date");
                true
            }),
        Command::Tenant(TenantCommand::Create { name }) => {
            cli::tenant::create(&args.database, name)
                .await
                .map(|_| true)
        }
        Command::User(UserCommand::Create {
            tenant,
            email,
            role,
            password_stdin,
        }) => cli::user::create(&args.database, *tenant, email, role, *password_stdin)
            .await
            .map(|_| true),
        Command::Audit(AuditCommand::Verify { tenant }) => {
            cli::audit::verify(&args.database, *tenant).await
        }
    };
    match outcome {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
