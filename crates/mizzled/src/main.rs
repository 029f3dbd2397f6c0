//! The `mizzled` binary: parses flags, sets up logging and runs the server
//! until SIGTERM or SIGINT.

use clap::Parser;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let flags = mizzled::config::Flags::parse();
    let config = match mizzled::config::Config::load(flags) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mizzled: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let filter = config.log.clone().or_else(|| std::env::var("RUST_LOG").ok()).unwrap_or_else(|| "info".to_owned());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    match mizzled::server::run(config) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            eprintln!("mizzled: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
