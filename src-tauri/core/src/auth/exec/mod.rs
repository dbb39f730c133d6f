//! Exec credential plugins (`aws eks get-token`, `gke-gcloud-auth-plugin`,
//! `kubelogin`, ...): run asynchronously, one run shared by every request
//! that needs it, the result cached until shortly before it expires, and
//! dropped after a 401 so the next request runs the plugin again.
//!
//! A run is a task of its own: a caller that stops waiting (a status probe
//! that timed out) does not kill a plugin that is waiting for the user to
//! log in in the browser; the next caller gets its result.

pub mod credential;
mod run;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

pub use credential::{ClusterInfo, Credential, ExecCredential};

use crate::shell_path::SearchPath;

/// How long a plugin may run before it is killed, by default. Generous:
/// plugins such as kubelogin wait for a browser login.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// `interactiveMode` of the kubeconfig's exec entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InteractiveMode {
    Never,
    IfAvailable,
    Always,
}

/// The kubeconfig's exec entry, with the command as client-go resolves it
/// (relative to the kubeconfig only when it contains a path separator).
#[derive(Clone)]
pub struct ExecSpec {
    pub command: String,
    pub args: Vec<String>,
    /// `env` entries; values may be secrets, so `Debug` shows names only.
    pub env: Vec<(String, String)>,
    pub api_version: String,
    pub interactive_mode: InteractiveMode,
    /// Set when `provideClusterInfo: true`.
    pub cluster: Option<ClusterInfo>,
    pub install_hint: Option<String>,
}

impl std::fmt::Debug for ExecSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("ExecSpec")
            .field("command", &self.command)
            .field("args", &self.args.len())
            .field("env", &env)
            .field("api_version", &self.api_version)
            .field("interactive_mode", &self.interactive_mode)
            .finish_non_exhaustive()
    }
}

/// Where and how plugins run: the search path (process + login shell +
/// settings), whether a terminal is there to talk to, the timeout.
#[derive(Debug, Clone)]
pub struct ExecEnv {
    pub search_path: SearchPath,
    pub stdin_is_terminal: bool,
    pub timeout: Duration,
}

/// Why a plugin gave no credential. Holds no plugin output except scrubbed
/// stderr lines.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    #[error("exec plugin {command:?} not found on the search path")]
    NotFound {
        command: String,
        searched: Vec<String>,
        install_hint: Option<String>,
    },
    #[error("exec plugin {command:?} could not be started: {reason}")]
    Spawn { command: String, reason: String },
    #[error("exec plugin {command:?} failed")]
    Failed {
        command: String,
        exit_code: Option<i32>,
        stderr: Vec<String>,
        reason: Option<String>,
    },
    #[error("exec plugin {command:?} did not finish within {seconds} s")]
    TimedOut { command: String, seconds: u32 },
    #[error(
        "exec plugin {command:?} needs an interactive terminal (interactiveMode: Always); run it once from a terminal, e.g. with kubectl"
    )]
    NeedsTerminal { command: String },
}

type Run = Shared<BoxFuture<'static, Result<Arc<ExecCredential>, ExecError>>>;

#[derive(Default)]
struct State {
    cached: Option<Arc<ExecCredential>>,
    /// Bumped for every new credential; a 401 only drops the one it saw.
    generation: u64,
    running: Option<Run>,
}

struct Inner {
    spec: ExecSpec,
    env: ExecEnv,
    state: Mutex<State>,
    runs: AtomicU64,
}

/// One user's exec plugin and its cached credential.
#[derive(Clone)]
pub struct ExecAuth {
    inner: Arc<Inner>,
}

impl ExecAuth {
    pub fn new(spec: ExecSpec, env: ExecEnv) -> Self {
        Self {
            inner: Arc::new(Inner {
                spec,
                env,
                state: Mutex::new(State::default()),
                runs: AtomicU64::new(0),
            }),
        }
    }

    pub fn command(&self) -> &str {
        &self.inner.spec.command
    }

    /// How many times the plugin was started.
    pub fn runs(&self) -> u64 {
        self.inner.runs.load(Ordering::Relaxed)
    }

    /// Whether a run is going on right now.
    pub fn is_running(&self) -> bool {
        self.inner.lock().running.is_some()
    }

    /// A fresh credential and its generation: the cached one, the result
    /// of the run in progress, or a new run.
    pub async fn credential(&self) -> Result<(Arc<ExecCredential>, u64), ExecError> {
        let run = {
            let mut state = self.inner.lock();
            if let Some(cached) = &state.cached
                && cached.is_fresh(Instant::now())
            {
                return Ok((cached.clone(), state.generation));
            }
            match &state.running {
                Some(run) => run.clone(),
                None => {
                    let run = self.start_run();
                    state.running = Some(run.clone());
                    run
                }
            }
        };
        let credential = run.await?;
        let generation = self.inner.lock().generation;
        Ok((credential, generation))
    }

    /// The apiserver refused the credential of `generation`: forget it, so
    /// the next request runs the plugin again (once, however many requests
    /// saw the 401).
    pub fn rejected(&self, generation: u64) {
        let mut state = self.inner.lock();
        if state.generation == generation {
            state.cached = None;
        }
    }

    fn start_run(&self) -> Run {
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            inner.runs.fetch_add(1, Ordering::Relaxed);
            let result = inner.run_once().await.map(Arc::new);
            let mut state = inner.lock();
            state.running = None;
            if let Ok(credential) = &result {
                state.cached = Some(credential.clone());
                state.generation += 1;
            }
            result
        });
        let command = self.inner.spec.command.clone();
        async move {
            task.await.unwrap_or_else(|_| {
                Err(ExecError::Spawn {
                    command,
                    reason: "the task running it stopped".into(),
                })
            })
        }
        .boxed()
        .shared()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn run_once(&self) -> Result<ExecCredential, ExecError> {
        let interactive =
            self.spec.interactive_mode != InteractiveMode::Never && self.env.stdin_is_terminal;
        if self.spec.interactive_mode == InteractiveMode::Always && !interactive {
            return Err(ExecError::NeedsTerminal {
                command: self.spec.command.clone(),
            });
        }
        run::run_plugin(
            &self.spec,
            &self.env.search_path,
            interactive,
            self.env.timeout,
        )
        .await
    }
}
