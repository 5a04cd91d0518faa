//! The `autohub` binary: parse the command line and run it.

use clap::Parser;

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
