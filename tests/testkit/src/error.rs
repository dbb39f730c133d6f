//! One error type for the harness. Every message says what failed and, where
//! there is one, what to do about it.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "{what} needs root (it creates a network namespace and a veth pair with `ip netns`); \
         run the tests as root, e.g. `sudo -E make test` (effective uid is {uid})"
    )]
    NotRoot { what: String, uid: u32 },

    #[error("`{tool}` was not found on PATH; {how}")]
    MissingTool { tool: String, how: String },

    #[error("network namespace setup failed at `{command}`: {detail}")]
    Netns { command: String, detail: String },

    #[error(
        "kube-apiserver/etcd binaries are not available: {detail}\n\
         Run tests/control-plane/build.sh (needs Go, see tests/control-plane/README.md), \
         or point PORTHOLE_K8S_BIN_DIR at a directory holding `kube-apiserver` and `etcd`."
    )]
    ControlPlaneBinaries { detail: String },

    #[error("{what} failed; its output:\n{output}")]
    BuildFailed { what: String, output: String },

    #[error("{name} not found: {hint}")]
    BinaryNotFound { name: String, hint: String },

    #[error("cannot start {what} ({path}): {source}")]
    Spawn {
        what: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{what} exited early ({status}); last lines of {log}:\n{tail}")]
    ExitedEarly {
        what: String,
        status: String,
        log: PathBuf,
        tail: String,
    },

    #[error(
        "{what}: port still in use after {attempts} attempts with fresh free ports \
         (another process keeps grabbing them?); last lines of its log:\n{tail}"
    )]
    PortClash {
        what: String,
        attempts: u32,
        tail: String,
    },

    #[error("timed out after {secs} s waiting for {what}: {detail}")]
    Timeout {
        what: String,
        secs: u64,
        detail: String,
    },

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("generating the test PKI ({what}): {source}")]
    Pki {
        what: String,
        #[source]
        source: rcgen::Error,
    },

    #[error("Kubernetes API call failed ({context}): {source}")]
    Kube {
        context: String,
        #[source]
        source: Box<kube::Error>,
    },

    #[error("{context}: {source}")]
    Json {
        context: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("kubeconfig {path}: {detail}")]
    Kubeconfig { path: PathBuf, detail: String },

    #[error("cluster state {path}: {detail}")]
    State { path: PathBuf, detail: String },

    #[error("{0}")]
    NotRunning(String),

    #[error("backends: {0}")]
    Backends(String),

    #[error("OIDC issuer: {0}")]
    Oidc(String),

    #[error("fault injector: {0}")]
    Fault(String),

    #[error("test workload: {0}")]
    Workload(String),

    #[error("control-plane supervisor failed: {0}")]
    Supervisor(String),

    #[error("{0}")]
    Usage(String),
}

impl Error {
    pub fn kube(context: impl Into<String>, source: kube::Error) -> Self {
        Error::Kube {
            context: context.into(),
            source: Box::new(source),
        }
    }

    pub fn json(context: impl Into<String>, source: serde_json::Error) -> Self {
        Error::Json {
            context: context.into(),
            source,
        }
    }
}

/// Adds a human context to I/O results: `fs::write(p, b).ctx(|| format!("writing {p:?}"))`.
pub trait IoContext<T> {
    fn ctx<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn ctx<S: Into<String>>(self, context: impl FnOnce() -> S) -> Result<T> {
        self.map_err(|source| Error::Io {
            context: context().into(),
            source,
        })
    }
}
