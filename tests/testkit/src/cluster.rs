//! The test-facing handle: [`cluster()`] gives every test in a process the
//! same control plane, started once.
//!
//! - With `PORTHOLE_CLUSTER_DIR` set (`eval "$(make -s cluster-up)"`, or
//!   under `porthole-cluster run -- cargo test`), it attaches to that
//!   running cluster and never stops it.
//! - Otherwise it launches its own supervisor, tied to this process by a
//!   pipe: when the process ends — normally, by a panic, or killed — the
//!   pipe closes and the supervisor tears everything down. At a normal exit
//!   an `atexit` hook also waits for that teardown to finish.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Mutex, OnceLock, mpsc};
use std::time::{Duration, Instant};

use crate::bins;
use crate::error::{Error, IoContext, Result};
use crate::state::{self, Phase, State, UserInfo};
use crate::supervisor::StatusLine;

/// How long a start may take (a cold apiserver start is ~10 s on 2 cores;
/// the scale set adds its own time).
const START_TIMEOUT: Duration = Duration::from_secs(600);
/// Scale-set size for a cluster started by tests (env override).
pub const SCALE_ENV: &str = "PORTHOLE_SCALE_SERVICES";

/// A running control plane and where its files are.
#[derive(Debug, Clone)]
pub struct Cluster {
    pub state: State,
    /// Whether this process started it (and its end stops it).
    pub owned: bool,
}

/// How to launch a supervisor.
#[derive(Debug, Clone)]
pub struct Launch {
    pub dir: PathBuf,
    pub scale: usize,
    /// Detached (`up`): own session, survives this process. Otherwise
    /// owned: tied to this process through its stdin.
    pub detached: bool,
    pub crash_report: Option<PathBuf>,
}

impl Launch {
    /// A fresh directory and id for a cluster owned by this process.
    pub fn owned(scale: usize) -> Result<Launch> {
        let id = crate::random::hex(3)?;
        Ok(Launch {
            dir: state::test_run_dir(&id),
            scale,
            detached: false,
            crash_report: None,
        })
    }
}

/// A supervisor started by [`launch`]; keep `stdin` open as long as the
/// cluster should live.
pub struct Launched {
    pub state: State,
    pub child: Child,
    pub stdin: Option<ChildStdin>,
}

/// Starts `porthole-cluster supervise` and waits until it reports ready
/// (or fails, with its error).
pub fn launch(opts: &Launch) -> Result<Launched> {
    crate::netns::preflight()?;
    let k8s = bins::control_plane()?;
    let backends = bins::backends()?;
    let me = bins::cluster()?;
    let id = opts
        .dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_prefix(state::DIR_PREFIX))
        .map(|s| s.trim_start_matches('-').to_owned())
        .filter(|s| !s.is_empty())
        .map_or_else(|| crate::random::hex(3), Ok)?;
    let k8s_dir = k8s
        .kube_apiserver
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();

    let mut cmd = Command::new(&me);
    cmd.arg("supervise")
        .arg("--dir")
        .arg(&opts.dir)
        .args(["--id", &id, "--scale", &opts.scale.to_string()])
        .arg("--backends-bin")
        .arg(&backends)
        .arg("--k8s-bin-dir")
        .arg(&k8s_dir)
        .stdout(Stdio::piped());
    if let Some(p) = &opts.crash_report {
        cmd.arg("--crash-report").arg(p);
    }
    if opts.detached {
        cmd.stdin(Stdio::null()).stderr(Stdio::null());
    } else {
        cmd.arg("--watch-stdin")
            .stdin(Stdio::piped())
            .stderr(Stdio::inherit());
    }
    new_session(&mut cmd);
    let mut child = cmd.spawn().map_err(|source| Error::Spawn {
        what: "porthole-cluster supervise".into(),
        path: me.clone(),
        source,
    })?;
    let stdin = child.stdin.take();
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| Error::Supervisor("no stdout pipe".into()))?;

    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(START_TIMEOUT) {
        Ok(line) => line,
        Err(_) => {
            stop_supervisor(&mut child);
            return Err(Error::Timeout {
                what: "the control plane to start".into(),
                secs: START_TIMEOUT.as_secs(),
                detail: format!(
                    "supervisor pid {}, state in {}",
                    child.id(),
                    opts.dir.display()
                ),
            });
        }
    };
    let status: Option<StatusLine> = serde_json::from_str(line.trim()).ok();
    match status {
        Some(StatusLine { ready: true, .. }) => Ok(Launched {
            state: State::load(&opts.dir)?,
            child,
            stdin,
        }),
        Some(StatusLine { error: Some(e), .. }) => {
            let _ = child.wait();
            Err(Error::Supervisor(e))
        }
        _ => {
            let code = child.wait().map(|s| s.to_string()).unwrap_or_default();
            Err(Error::Supervisor(format!(
                "it exited ({code}) without reporting; output: {:?}",
                line.trim()
            )))
        }
    }
}

/// SIGTERM (the supervisor tears down), SIGKILL if it is still there after a minute.
fn stop_supervisor(child: &mut Child) {
    crate::process::signal(child.id(), libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if !matches!(child.try_wait(), Ok(None)) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}

fn new_session(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe. A new session keeps terminal
    // signals (Ctrl-C to the test run) away from the supervisor's children;
    // the supervisor itself notices the owner's end through its stdin.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

/// The owned supervisor, for the atexit hook.
static OWNED: Mutex<Option<(Child, Option<ChildStdin>)>> = Mutex::new(None);
static CLUSTER: OnceLock<std::result::Result<Cluster, String>> = OnceLock::new();

extern "C" fn stop_owned_at_exit() {
    let Ok(mut guard) = OWNED.try_lock() else {
        return;
    };
    if let Some((mut child, stdin)) = guard.take() {
        drop(stdin); // EOF: the supervisor starts its teardown
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            match child.try_wait() {
                Ok(Some(_)) | Err(_) => return,
                Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }
}

/// The shared control plane of this process; panics with the reason if it
/// cannot be started (for tests). See [`try_cluster`].
pub fn cluster() -> &'static Cluster {
    match try_cluster() {
        Ok(c) => c,
        Err(e) => panic!("porthole test control plane: {e}"),
    }
}

/// The shared control plane of this process, started on first use (or the
/// one `PORTHOLE_CLUSTER_DIR` names).
pub fn try_cluster() -> Result<&'static Cluster> {
    let result = CLUSTER.get_or_init(|| init().map_err(|e| e.to_string()));
    result.as_ref().map_err(|e| Error::Supervisor(e.clone()))
}

fn init() -> Result<Cluster> {
    crate::client::install_crypto_provider();
    if let Some(dir) = std::env::var_os(state::DIR_ENV) {
        return attach(Path::new(&dir));
    }
    let scale = match std::env::var(SCALE_ENV) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| Error::Usage(format!("{SCALE_ENV}={v:?} is not a number of services")))?,
        Err(_) => 0,
    };
    let launched = launch(&Launch::owned(scale)?)?;
    let state = launched.state;
    if let Ok(mut g) = OWNED.lock() {
        *g = Some((launched.child, launched.stdin));
    }
    // SAFETY: registering a plain extern "C" fn.
    unsafe { libc::atexit(stop_owned_at_exit) };
    Ok(Cluster { state, owned: true })
}

/// A cluster someone else started (`porthole-cluster up`).
pub fn attach(dir: &Path) -> Result<Cluster> {
    let state = State::load(dir).map_err(|e| {
        Error::NotRunning(format!(
            "{}={} but no control plane runs there ({e}); start one with \
             `eval \"$(make -s cluster-up)\"` or unset {}",
            state::DIR_ENV,
            dir.display(),
            state::DIR_ENV
        ))
    })?;
    if !state.supervisor_alive() || state.phase != Phase::Ready {
        return Err(Error::NotRunning(format!(
            "the control plane in {} is not running (phase {:?}, supervisor pid {}); \
             run `make cluster-down && eval \"$(make -s cluster-up)\"`",
            dir.display(),
            state.phase,
            state.supervisor_pid
        )));
    }
    Ok(Cluster {
        state,
        owned: false,
    })
}

impl Cluster {
    /// The combined kubeconfig (context per user, current = admin).
    pub fn kubeconfig(&self) -> &Path {
        &self.state.kubeconfig
    }

    pub fn user(&self, name: &str) -> &UserInfo {
        match self.state.user(name) {
            Some(u) => u,
            None => panic!("no test user named {name:?}"),
        }
    }

    /// The kubeconfig holding only `user`.
    pub fn user_kubeconfig(&self, user: &str) -> &Path {
        &self.user(user).kubeconfig
    }

    /// `kubectl --kubeconfig <user's file>` (stdin closed).
    pub fn kubectl(&self, user: &str) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(self.user_kubeconfig(user))
            .stdin(Stdio::null());
        cmd
    }

    /// `kubectl --kubeconfig <combined> --context <context>` (stdin closed):
    /// for the contexts that are not one user as is (`porthole-oidc`,
    /// `porthole-impersonate`, `porthole-admin-sni`…).
    pub fn kubectl_context(&self, context: &str) -> Command {
        let mut cmd = Command::new("kubectl");
        cmd.arg("--kubeconfig")
            .arg(self.kubeconfig())
            .args(["--context", context])
            .stdin(Stdio::null());
        cmd
    }

    /// How many times the exec plugin of `user` has run.
    pub fn exec_count(&self, user: &str) -> Result<u64> {
        let path = self.user(user).exec_counter.clone().ok_or_else(|| {
            Error::Usage(format!(
                "user {user} does not authenticate with an exec plugin"
            ))
        })?;
        crate::exec_credential::read_count(&path)
    }

    /// A kube-rs client for `user`.
    pub async fn client(&self, user: &str) -> Result<kube::Client> {
        crate::client::from_file(self.user_kubeconfig(user)).await
    }

    /// `https://127.0.0.1:PORT`
    pub fn apiserver_url(&self) -> &str {
        self.state.apiserver.as_ref().map_or("", |a| a.url.as_str())
    }

    /// Address (`ip:port`) of a backend instance's listener of `mode`.
    pub fn backend_addr(&self, instance: &str, mode: &str) -> Option<String> {
        let b = self.state.backend(instance)?;
        b.listeners
            .iter()
            .find(|(m, _)| m == mode)
            .map(|(_, p)| format!("{}:{p}", b.ip))
    }

    /// Where a test may write scratch files (inside the state directory,
    /// removed with the cluster).
    pub fn scratch_dir(&self, name: &str) -> Result<PathBuf> {
        let p = self.state.dir.join("scratch").join(name);
        std::fs::create_dir_all(&p).ctx(|| format!("creating {}", p.display()))?;
        Ok(p)
    }
}
