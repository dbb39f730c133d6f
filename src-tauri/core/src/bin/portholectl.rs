//! `portholectl`: Porthole's engine without a window. Built from
//! porthole-core alone, so it carries no GUI library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    porthole_core::cli::init_logging();
    let cli = porthole_core::cli::Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(porthole_core::cli::run(cli))
}
