//! The `autohub` binary: parse the command line and run it.

use clap::Parser;

/// mimalloc: under load glibc malloc's arena locks were the largest single cost.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = autohub::cli::Cli::parse();
    match autohub::cli::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("autohub: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
