//! Exec credential plugins (`aws eks get-token`, `gke-gcloud-auth-plugin`,
//! `kubelogin`, ...): run asynchronously, one run shared by every request
//! that needs it, the result cached until shortly before it expires, and
//! dropped after a 401 so the next request runs the plugin again.
//!
//! A run is a task of its own: a caller that stops waiting (a status probe
//! that timed out) does not kill a plugin that is waiting for the user to
//! log in in the browser; the next caller gets its result.

pub mod credential;
mod error;
mod run;
mod spec;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use futures_util::FutureExt as _;
use futures_util::future::{BoxFuture, Shared};

pub use credential::{ClusterInfo, Credential, ExecCredential};
pub use error::ExecError;
pub use spec::{DEFAULT_TIMEOUT, ExecEnv, ExecSpec, InteractiveMode};

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
