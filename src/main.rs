use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use s3_api::config::Config;

/// A token-protected REST API over AWS for S3 buckets, their IAM policies, groups and users.
#[derive(Parser)]
#[command(name = "s3-api", version = s3_api::version::VERSION)]
struct Cli {
    /// The configuration file (.toml, .json, .yaml).
    #[arg(
        long,
        env = "S3API_CONFIG",
        default_value = "config/config.toml",
        global = true
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (the default).
    Serve,
    /// Load and validate the configuration, then exit.
    CheckConfig,
    /// Print the OpenAPI 3.1 document of the API.
    Openapi,
    /// Exit 0 when the service on ADDRESS answers its liveness route (for container health checks).
    Healthcheck {
        #[arg(long, default_value = "127.0.0.1:8080")]
        address: std::net::SocketAddr,
    },
    /// Run the cleaner once for an account (for a Kubernetes CronJob), then exit.
    Clean {
        /// The account, as named in the configuration.
        #[arg(long)]
        account: String,
    },
    /// Print the configuration of the earlier Go service (JSON) as this service's TOML; what cannot be carried
    /// over is named on standard error. Reads no configuration of this service.
    ConvertConfig {
        /// The Go service's configuration file.
        go_config: PathBuf,
    },
    /// Named API tokens.
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Mint a token: prints its secret once, and the `[[tokens]]` entry (with the secret's hash) to add to the
    /// configuration. Reads no configuration.
    New {
        /// Unique name; appears in audit events, logs and metrics.
        #[arg(long)]
        name: String,
        /// read | write | admin
        #[arg(long)]
        scope: String,
        /// Comma-separated account names, or `*` for every account.
        #[arg(long, value_delimiter = ',', required = true)]
        accounts: Vec<String>,
        /// RFC 3339 time from which the token is refused, e.g. 2027-06-30T00:00:00Z.
        #[arg(long)]
        expires: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        println!("{}", s3_api::http::openapi::json());
        return ExitCode::SUCCESS;
    }
    if let Some(Command::Token {
        action:
            TokenAction::New {
                name,
                scope,
                accounts,
                expires,
            },
    }) = &cli.command
    {
        return match s3_api::http::auth::mint(name, scope, accounts, expires.as_deref()) {
            Ok(minted) => {
                println!("{minted}");
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("s3-api token new: {e}");
                ExitCode::from(2)
            }
        };
    }
    if let Some(Command::ConvertConfig { go_config }) = &cli.command {
        let text = match std::fs::read_to_string(go_config) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("s3-api convert-config: {}: {e}", go_config.display());
                return ExitCode::from(2);
            }
        };
        return match s3_api::convert::convert(&text) {
            Ok(converted) => {
                for note in &converted.notes {
                    eprintln!("s3-api convert-config: {note}");
                }
                print!("{}", converted.toml);
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("s3-api convert-config: {}: {e}", go_config.display());
                ExitCode::from(2)
            }
        };
    }
    if let Some(Command::Healthcheck { address }) = cli.command {
        return match s3_api::server::healthcheck(address) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("s3-api healthcheck: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let config = match Config::load(&cli.config, std::env::vars()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("s3-api: {}: {e}", cli.config.display());
            return ExitCode::from(2);
        }
    };
    match cli.command.unwrap_or(Command::Serve) {
        Command::CheckConfig => {
            println!(
                "{}: valid ({} account{})",
                cli.config.display(),
                config.accounts.len(),
                if config.accounts.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Command::Clean { account } => {
            s3_api::telemetry::init_logging(&config);
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            match runtime.block_on(s3_api::server::clean(config, &account)) {
                Ok(report) => {
                    println!(
                        "deleted {} distribution(s), {} failed; interrupted creates: {} undone, {} found \
                         finished, {} not reclaimed",
                        report.deleted.len(),
                        report.failed.len(),
                        report.reclaimed.undone.len(),
                        report.reclaimed.finished.len(),
                        report.reclaimed.failed.len(),
                    );
                    if report.failed.is_empty() && report.reclaimed.failed.is_empty() {
                        ExitCode::SUCCESS
                    } else {
                        ExitCode::FAILURE
                    }
                }
                Err(e) => {
                    eprintln!("s3-api clean: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Healthcheck { .. }
        | Command::Openapi
        | Command::Token { .. }
        | Command::ConvertConfig { .. } => {
            unreachable!("answered before the configuration is read")
        }
        Command::Serve => {
            s3_api::telemetry::init_logging(&config);
            let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
            match runtime.block_on(s3_api::server::run(config, cli.config.clone())) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    tracing::error!(error = %e, "s3-api failed");
                    eprintln!("s3-api: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
