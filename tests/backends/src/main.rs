//! `porthole-backends`: binds every `--serve MODE=ADDR:PORT` listener, writes
//! the ready file, and serves until SIGTERM or SIGINT. See `README.md`.

use std::process::ExitCode;

use porthole_test_backends::cli::{self, Command, Ready, ReadyListener};
use porthole_test_backends::{Backend, install_crypto_provider};
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;
use tokio::task::JoinSet;

fn main() -> ExitCode {
    let args = match cli::parse_args(std::env::args_os().skip(1)) {
        Ok(Command::Run(args)) => args,
        Ok(Command::Help) => {
            print!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("porthole-backends: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("porthole-backends: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(args))
}

async fn run(args: cli::Args) -> ExitCode {
    install_crypto_provider();

    // Handlers first: a SIGTERM sent right after the ready file appears must
    // not kill the process with the default action.
    let (mut terminate, mut interrupt) = match (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) {
        (Ok(terminate), Ok(interrupt)) => (terminate, interrupt),
        (Err(err), _) | (_, Err(err)) => {
            eprintln!("porthole-backends: cannot install signal handlers: {err}");
            return ExitCode::FAILURE;
        }
    };

    let mut backends = Vec::with_capacity(args.listeners.len());
    for listen in &args.listeners {
        let listener = match TcpListener::bind(listen.addr).await {
            Ok(listener) => listener,
            Err(err) => {
                eprintln!(
                    "porthole-backends: cannot bind the {} listener on {}: {err}",
                    listen.mode, listen.addr
                );
                return ExitCode::FAILURE;
            }
        };
        match Backend::new(listen.mode, listener) {
            Ok(backend) => backends.push(backend),
            Err(err) => {
                eprintln!(
                    "porthole-backends: cannot prepare the {} listener on {}: {err}",
                    listen.mode, listen.addr
                );
                return ExitCode::FAILURE;
            }
        }
    }

    let ready = Ready {
        listeners: backends
            .iter()
            .map(|b| ReadyListener {
                mode: b.mode().to_string(),
                addr: b.local_addr().to_string(),
                cert_pem: b.certificate_pem().map(str::to_owned),
            })
            .collect(),
        pid: std::process::id(),
    };
    for listener in &ready.listeners {
        eprintln!(
            "porthole-backends: {} listening on {}",
            listener.mode, listener.addr
        );
    }
    if let Some(path) = &args.ready_file
        && let Err(err) = cli::write_ready_file(path, &ready)
    {
        eprintln!(
            "porthole-backends: cannot write the ready file {}: {err}",
            path.display()
        );
        return ExitCode::FAILURE;
    }

    let (stop_tx, stop_rx) = watch::channel(false);
    let mut running = JoinSet::new();
    for backend in backends {
        let mut stop = stop_rx.clone();
        running.spawn(backend.run(async move {
            // An error means the sender is gone, which also means stop.
            let _ = stop.wait_for(|stopping| *stopping).await;
        }));
    }

    tokio::select! {
        _ = terminate.recv() => eprintln!("porthole-backends: SIGTERM, shutting down"),
        _ = interrupt.recv() => eprintln!("porthole-backends: SIGINT, shutting down"),
    }
    let _ = stop_tx.send(true);
    while running.join_next().await.is_some() {}
    ExitCode::SUCCESS
}
