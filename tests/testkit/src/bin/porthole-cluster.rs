//! porthole-cluster: start and stop Porthole's test control plane.
//!
//!   eval "$(porthole-cluster up)"     start in the background, export KUBECONFIG
//!   porthole-cluster status           what runs, where, memory
//!   porthole-cluster down             stop it, remove the namespace and files
//!   porthole-cluster run -- CMD...    a cluster for the lifetime of CMD

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use porthole_testkit::cluster::{self, Launch};
use porthole_testkit::error::{Error, Result};
use porthole_testkit::state::{self, Phase, State};
use porthole_testkit::{bins, down, exec_credential, process, supervisor};

#[derive(Parser)]
#[command(
    name = "porthole-cluster",
    about = "Porthole's test control plane: kube-apiserver + etcd, users, fixtures, backends",
    version
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start a control plane in the background and print `export` lines:
    /// eval "$(porthole-cluster up)". Prints the same lines again if it is
    /// already running.
    Up {
        /// State directory [default: $PORTHOLE_CLUSTER_DIR, else
        /// $XDG_RUNTIME_DIR or /tmp, + /porthole-cluster]
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Also create this many services across namespaces scale-000...
        #[arg(long, env = "PORTHOLE_SCALE_SERVICES", default_value_t = 0)]
        scale: usize,
    },
    /// Stop the control plane and remove its network namespace and files.
    Down {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Every control plane under the state base directory, and every
        /// porthole-* network namespace with no process inside.
        #[arg(long)]
        all: bool,
    },
    /// Show what runs, where, and its memory; exit 1 if not running.
    Status {
        #[arg(long)]
        dir: Option<PathBuf>,
        /// The state file as JSON (plus RSS per component).
        #[arg(long)]
        json: bool,
    },
    /// Start a private control plane, run CMD with KUBECONFIG and
    /// PORTHOLE_CLUSTER_DIR set, stop the control plane when CMD ends.
    Run {
        #[arg(long, env = "PORTHOLE_SCALE_SERVICES", default_value_t = 0)]
        scale: usize,
        #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<String>,
    },
    /// (internal) The process that owns a control plane.
    #[command(hide = true)]
    Supervise {
        #[arg(long)]
        dir: PathBuf,
        #[arg(long)]
        id: String,
        #[arg(long, default_value_t = 0)]
        scale: usize,
        #[arg(long)]
        backends_bin: PathBuf,
        #[arg(long)]
        k8s_bin_dir: PathBuf,
        #[arg(long)]
        watch_stdin: bool,
        #[arg(long)]
        crash_report: Option<PathBuf>,
    },
    /// Exec credential plugin of the test exec users: prints an
    /// ExecCredential, counts its runs; options make odd plugins.
    ExecCredential(ExecArgs),
}

#[derive(clap::Args)]
struct ExecArgs {
    /// Counts every run (created on the first one).
    #[arg(long)]
    counter: PathBuf,
    /// client.authentication.k8s.io/v1 (default) or .../v1beta1.
    #[arg(long, default_value = "client.authentication.k8s.io/v1")]
    api_version: exec_credential::ExecApiVersion,
    /// The token: this file, trimmed.
    #[arg(long)]
    token_file: Option<PathBuf>,
    /// One token per line: run n prints line n; the last line repeats.
    #[arg(long)]
    tokens_file: Option<PathBuf>,
    #[arg(long, default_value_t = 300)]
    ttl_secs: u64,
    /// Hang this long before answering.
    #[arg(long, default_value_t = 0)]
    sleep_secs: u64,
    /// Exit with this code instead of printing a credential.
    #[arg(long)]
    fail_with: Option<u8>,
    /// Write this on stderr (every run).
    #[arg(long)]
    stderr: Option<String>,
    /// NAME=VALUE that must be in the environment (repeatable).
    #[arg(long)]
    require_env: Vec<String>,
    /// Fail unless KUBERNETES_EXEC_INFO has spec.cluster.server and
    /// certificate-authority-data (provideClusterInfo: true).
    #[arg(long)]
    expect_cluster_info: bool,
    /// Fail unless stdin (and KUBERNETES_EXEC_INFO spec.interactive) is so.
    #[arg(long, value_enum)]
    check_stdin: Option<exec_credential::StdinExpectation>,
    /// Return this client certificate (PEM) instead of a token.
    #[arg(long, requires = "client_key")]
    client_cert: Option<PathBuf>,
    #[arg(long, requires = "client_cert")]
    client_key: Option<PathBuf>,
}

impl From<ExecArgs> for exec_credential::Options {
    fn from(a: ExecArgs) -> Self {
        exec_credential::Options {
            api_version: a.api_version,
            token_file: a.token_file,
            tokens_file: a.tokens_file,
            counter: a.counter,
            ttl_secs: a.ttl_secs,
            sleep_secs: a.sleep_secs,
            fail_with: a.fail_with,
            stderr: a.stderr,
            require_env: a.require_env,
            expect_cluster_info: a.expect_cluster_info,
            check_stdin: a.check_stdin,
            client_cert: a.client_cert,
            client_key: a.client_key,
        }
    }
}

fn exec_credential_main(args: ExecArgs) -> ExitCode {
    let opts = exec_credential::Options::from(args);
    match exec_credential::run(&opts) {
        Ok(exec_credential::Outcome::Credential(json)) => {
            println!("{json}");
            ExitCode::SUCCESS
        }
        Ok(exec_credential::Outcome::Fail { code, message }) => {
            if !message.is_empty() {
                eprintln!("porthole-cluster exec-credential: {message}");
            }
            ExitCode::from(code)
        }
        Err(e) => {
            eprintln!("porthole-cluster exec-credential: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Cmd::Supervise {
            dir,
            id,
            scale,
            backends_bin,
            k8s_bin_dir,
            watch_stdin,
            crash_report,
        } => {
            let opts = supervisor::Options {
                dir,
                id,
                scale,
                watch_stdin,
                backends_bin,
                plugin_bin: std::env::current_exe().unwrap_or_else(|_| "porthole-cluster".into()),
                k8s: bins::ControlPlaneBins::in_dir(&k8s_bin_dir),
                crash_report,
            };
            supervise(opts)
        }
        Cmd::ExecCredential(args) => exec_credential_main(args),
        cmd => {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    eprintln!("porthole-cluster: cannot start a tokio runtime: {e}");
                    return ExitCode::FAILURE;
                }
            };
            match rt.block_on(command(cmd)) {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("porthole-cluster: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}

fn supervise(opts: supervisor::Options) -> ExitCode {
    let log_dir = opts.dir.join("logs");
    if let Err(e) = porthole_testkit::fsutil::create_private_dir(&log_dir) {
        println!(
            "{}",
            serde_json::json!({ "ready": false, "error": e.to_string() })
        );
        return ExitCode::FAILURE;
    }
    if let Ok(file) = std::fs::File::create(log_dir.join("supervisor.log")) {
        tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(file))
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| "info".into()),
            )
            .init();
    }
    porthole_testkit::client::install_crypto_provider();
    // Current-thread: every child is spawned from this (main) thread, which
    // PR_SET_PDEATHSIG ties their lives to.
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            println!(
                "{}",
                serde_json::json!({ "ready": false, "error": format!("tokio runtime: {e}") })
            );
            return ExitCode::FAILURE;
        }
    };
    let code = rt.block_on(supervisor::run(opts));
    // A blocking read of stdin (--watch-stdin) never returns while the
    // owner keeps the pipe open: do not wait for it.
    rt.shutdown_background();
    if code == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

async fn command(cmd: Cmd) -> Result<ExitCode> {
    match cmd {
        Cmd::Up { dir, scale } => up(dir.unwrap_or_else(state::default_up_dir), scale).await,
        Cmd::Down { dir, all } => {
            let report = if all {
                let r = down::down_all().await?;
                if r.is_empty() {
                    println!("porthole-cluster: nothing to stop");
                }
                r
            } else {
                let dir = dir.unwrap_or_else(state::default_up_dir);
                let r = down::down(&dir).await?;
                if r.is_empty() {
                    println!(
                        "porthole-cluster: nothing to stop ({} does not exist)",
                        dir.display()
                    );
                }
                r
            };
            for line in report {
                println!("porthole-cluster: {line}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Cmd::Status { dir, json } => status(&dir.unwrap_or_else(state::default_up_dir), json),
        Cmd::Run { scale, command } => run(scale, command).await,
        Cmd::Supervise { .. } | Cmd::ExecCredential { .. } => {
            Err(Error::Usage("handled in main".into()))
        }
    }
}

fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

fn print_exports(st: &State) {
    println!(
        "export KUBECONFIG={}",
        sh_quote(&st.kubeconfig.display().to_string())
    );
    println!(
        "export {}={}",
        state::DIR_ENV,
        sh_quote(&st.dir.display().to_string())
    );
}

fn summary(st: &State) -> String {
    let api = st
        .apiserver
        .as_ref()
        .map(|a| format!("kube-apiserver {} at {}", a.version, a.url))
        .unwrap_or_else(|| "kube-apiserver not started".into());
    let contexts: Vec<&str> = st
        .users
        .iter()
        .map(|u| u.context.as_str())
        .chain(st.impersonation.iter().map(|i| i.context.as_str()))
        .chain(st.oidc.iter().map(|o| o.context.as_str()))
        .chain([porthole_testkit::kubeconfig::SNI_CONTEXT])
        .collect();
    let services = st.fixtures.as_ref().map_or(0, |f| f.services);
    let ns = st
        .netns
        .as_ref()
        .map(|n| format!("{} ({})", n.name, n.subnet))
        .unwrap_or_default();
    format!(
        "{api}\n  contexts: {} (current: {})\n  {services} services; backends in network namespace {ns}\n  state: {}",
        contexts.join(", "),
        contexts.first().unwrap_or(&""),
        st.dir.display()
    )
}

fn crash_report_path(dir: &Path) -> PathBuf {
    let mut name = dir.file_name().unwrap_or_default().to_os_string();
    name.push(".crash.log");
    dir.with_file_name(name)
}

async fn up(dir: PathBuf, scale: usize) -> Result<ExitCode> {
    if dir.exists() {
        match State::load(&dir) {
            Ok(st) if st.supervisor_alive() => {
                let st = wait_ready(&dir, st).await?;
                eprintln!("porthole-cluster: already running: {}", summary(&st));
                print_exports(&st);
                return Ok(ExitCode::SUCCESS);
            }
            Ok(_) => {
                eprintln!(
                    "porthole-cluster: cleaning up a control plane that is no longer running"
                );
                for line in down::down(&dir).await? {
                    eprintln!("porthole-cluster: {line}");
                }
            }
            Err(e) => {
                let ours = dir
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(state::DIR_PREFIX));
                if !ours {
                    return Err(Error::Usage(format!(
                        "{} exists and is not a porthole-cluster state directory ({e})",
                        dir.display()
                    )));
                }
                std::fs::remove_dir_all(&dir).map_err(|source| Error::Io {
                    context: format!("removing the stale {}", dir.display()),
                    source,
                })?;
            }
        }
    }
    let crash = crash_report_path(&dir);
    let _ = std::fs::remove_file(&crash);
    let t = Instant::now();
    eprintln!(
        "porthole-cluster: starting the control plane in {} ...",
        dir.display()
    );
    let opts = Launch {
        dir: dir.clone(),
        scale,
        detached: true,
        crash_report: Some(crash),
    };
    let launched = tokio::task::spawn_blocking(move || cluster::launch(&opts))
        .await
        .map_err(|e| Error::Supervisor(format!("launcher task: {e}")))??;
    // Detached: the supervisor lives on in its own session.
    drop(launched.child);
    let st = launched.state;
    eprintln!(
        "porthole-cluster: up in {:.1} s: {}\n  stop it with: porthole-cluster down (or make cluster-down)",
        t.elapsed().as_secs_f64(),
        summary(&st)
    );
    print_exports(&st);
    Ok(ExitCode::SUCCESS)
}

async fn wait_ready(dir: &Path, mut st: State) -> Result<State> {
    let deadline = Instant::now() + Duration::from_secs(600);
    while st.phase != Phase::Ready {
        if !st.supervisor_alive() || Instant::now() > deadline {
            return Err(Error::NotRunning(format!(
                "the control plane in {} did not become ready (phase {:?})",
                dir.display(),
                st.phase
            )));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        st = State::load(dir)?;
    }
    Ok(st)
}

fn status(dir: &Path, json: bool) -> Result<ExitCode> {
    let crash = crash_report_path(dir);
    let st = match State::load(dir) {
        Ok(st) => st,
        Err(_) => {
            println!(
                "porthole-cluster: not running ({} does not exist)",
                dir.display()
            );
            if crash.exists() {
                println!("last crash report: {}", crash.display());
            }
            return Ok(ExitCode::FAILURE);
        }
    };
    let alive = st.supervisor_alive();
    let rss: Vec<(&str, u32, Option<u64>)> = st
        .component_pids()
        .into_iter()
        .map(|(n, p)| (n, p, process::rss_kib(p)))
        .collect();
    let total: u64 = rss.iter().filter_map(|r| r.2).sum();
    if json {
        let mut v = serde_json::to_value(&st).map_err(|e| Error::json("state", e))?;
        v["supervisor_alive"] = serde_json::json!(alive);
        v["rss_kib"] = rss
            .iter()
            .map(|(n, _, r)| ((*n).to_owned(), serde_json::json!(r)))
            .collect::<serde_json::Map<_, _>>()
            .into();
        v["rss_kib_total"] = serde_json::json!(total);
        println!("{v:#}");
    } else {
        println!(
            "porthole-cluster: {} (phase {:?}, supervisor pid {})",
            if alive { "running" } else { "NOT running" },
            st.phase,
            st.supervisor_pid
        );
        println!("  {}", summary(&st));
        println!("  kubeconfig: {}", st.kubeconfig.display());
        for (name, pid, kib) in &rss {
            let mem = kib.map_or("not running".into(), |k| format!("{} MiB RSS", k / 1024));
            println!("  {name:<19} pid {pid:<8} {mem}");
        }
        println!("  total RSS: {} MiB", total / 1024);
        let timings: Vec<String> = st
            .timings_ms
            .iter()
            .map(|(k, v)| format!("{k} {:.1} s", *v as f64 / 1000.0))
            .collect();
        println!("  start: {}", timings.join(", "));
        if crash.exists() {
            println!("  last crash report: {}", crash.display());
        }
    }
    Ok(if alive && st.phase == Phase::Ready {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn run(scale: usize, command: Vec<String>) -> Result<ExitCode> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| Error::Usage("run needs a command after --".into()))?;
    let opts = Launch::owned(scale)?;
    let launched = tokio::task::spawn_blocking(move || cluster::launch(&opts))
        .await
        .map_err(|e| Error::Supervisor(format!("launcher task: {e}")))??;
    let cluster::Launched {
        state: st,
        child: mut supervisor,
        stdin,
    } = launched;
    eprintln!("porthole-cluster: {}", summary(&st));
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .env("KUBECONFIG", &st.kubeconfig)
        .env(state::DIR_ENV, &st.dir)
        .spawn()
        .map_err(|source| Error::Spawn {
            what: "the command".into(),
            path: program.into(),
            source,
        })?;
    // Ctrl-C reaches CMD too (same process group); we outlive it to tear down.
    let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()).ok();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let status = loop {
        tokio::select! {
            s = child.wait() => break s,
            Some(()) = async { match int.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {}
            Some(()) = async { match term.as_mut() { Some(s) => s.recv().await, None => std::future::pending().await } } => {
                if let Some(pid) = child.id() { process::signal(pid, libc::SIGTERM); }
            }
        }
    };
    // Close the supervisor's stdin and wait for its teardown.
    drop(stdin);
    let _ = tokio::task::spawn_blocking(move || supervisor.wait()).await;
    let code = match status {
        Ok(s) => s.code().unwrap_or(1),
        Err(e) => {
            eprintln!("porthole-cluster: waiting for {program}: {e}");
            1
        }
    };
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}
