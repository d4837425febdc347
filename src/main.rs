//! The `qafila` command line: `check`, `poll`, `run`, and the read-only views `stories`, `sources`, `explain`.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use qafila::config::{Config, LogFormat};
use qafila::error::Error;
use qafila::{cli, daemon};

#[derive(Parser)]
#[command(
    name = "qafila",
    version,
    about = "Merged Arabic news feed for Central Asia and the Caucasus"
)]
struct Args {
    /// The config file [default: $QAFILA_CONFIG, else config/qafila.toml]
    #[arg(long, global = true, env = "QAFILA_CONFIG", default_value = qafila::config::DEFAULT_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Load and validate the config; print OK and the number of sources
    Check,
    /// Fetch every enabled source once now, store, write the feed file, print a line per source
    Poll,
    /// The daemon: serve the merged feed and poll on schedule until SIGTERM/SIGINT
    Run,
    /// The latest stories, newest first
    Stories {
        #[arg(long)]
        json: bool,
        /// How many stories (0 = all stored)
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Stories matching QUERY, newest first: words in any Arabic spelling, "a phrase", OR, -excluded, country:ID
    Search {
        #[arg(long)]
        json: bool,
        /// How many stories (0 = all that match)
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// The query; several arguments are joined with spaces (options go before it)
        #[arg(required = true, num_args = 1.., allow_hyphen_values = true)]
        query: Vec<String>,
    },
    /// Every configured source with its fetch state
    Sources {
        #[arg(long)]
        json: bool,
    },
    /// Why two stored items are, or are not, one story
    Explain { url1: String, url2: String },
    /// Apply retention now ([storage] retention_days), then optimize the database
    Prune,
    /// Write a consistent copy of the live database to PATH (safe while the daemon runs)
    Backup { path: PathBuf },
    /// Replace the database with the backup at PATH (stop the daemon first)
    Restore { path: PathBuf },
    /// Print [[source]] tables for the feeds of an OPML file (the config is not changed)
    ImportOpml { file: PathBuf },
    /// Print the configured sources as OPML
    ExportOpml,
    /// Print [[source]] tables for the feeds a web page leads to (advertised or at the usual paths)
    Discover { url: String },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let config_path = args.config.clone();
    let config = match Config::load(&args.config) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    init_logging(config.log.format);
    match execute(args.command, config, config_path) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("qafila: {e}");
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn execute(command: Command, config: Config, config_path: PathBuf) -> Result<ExitCode, Error> {
    match command {
        Command::Check => {
            println!(
                "OK {} sources ({} enabled)",
                config.sources.len(),
                config.enabled_sources().count()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Poll => {
            let runtime = runtime()?;
            let finished = runtime.block_on(daemon::poll_once(Arc::new(config)))?;
            // `poll` ends here, its database closed and its feed file written: the runtime's threads are left to the
            // OS too, like the round's memory.
            std::mem::forget(runtime);
            let reports = finished.leave_to_exit();
            for r in &reports {
                println!("{}", r.summary_line());
            }
            let all_failed = !reports.is_empty() && reports.iter().all(|r| r.failed());
            Ok(if all_failed {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Run => {
            runtime()?.block_on(daemon::run(Arc::new(config), config_path))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Stories { json, limit } => {
            cli::stories(&config, json, limit).map(|_| ExitCode::SUCCESS)
        }
        Command::Search { json, limit, query } => {
            cli::search(&config, &query.join(" "), json, limit).map(|_| ExitCode::SUCCESS)
        }
        Command::Sources { json } => cli::sources(&config, json).map(|_| ExitCode::SUCCESS),
        Command::Prune => {
            let report = runtime()?.block_on(daemon::prune_now(Arc::new(config)))?;
            println!(
                "pruned {} items and {} stories",
                report.items, report.stories
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { path } => cli::backup(&config, &path).map(|_| ExitCode::SUCCESS),
        Command::Restore { path } => cli::restore(&config, &path).map(|_| ExitCode::SUCCESS),
        Command::ImportOpml { file } => cli::import_opml(&config, &file).map(|_| ExitCode::SUCCESS),
        Command::ExportOpml => cli::export_opml(&config).map(|_| ExitCode::SUCCESS),
        Command::Discover { url } => {
            let tables = runtime()?.block_on(cli::discover(&config, &url))?;
            print!("{tables}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Explain { url1, url2 } => {
            cli::explain(&config, &url1, &url2).map(|_| ExitCode::SUCCESS)
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Internal(format!("cannot start the async runtime: {e}")))
}

/// `RUST_LOG` sets the level (default `info`). No colours unless stderr is a terminal; under systemd (journald sets
/// `JOURNAL_STREAM`) no timestamps either, since the journal adds its own.
fn init_logging(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let journald = std::env::var_os("JOURNAL_STREAM").is_some();
    match (format, journald) {
        (LogFormat::Json, _) => builder.json().init(),
        (LogFormat::Text, true) => builder.with_ansi(false).without_time().init(),
        (LogFormat::Text, false) => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}
