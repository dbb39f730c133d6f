//! Clusters: a client per context (auth from the kubeconfig), and what the
//! user sees of each one — reachable with its version and user, or a
//! precise failure that says what to do.
//!
//! - [`build`]: kubeconfig entry → [`ClusterClient`] (fields checked, paths
//!   resolved, authenticator chosen).
//! - [`client`]: requests with credentials, retry after a 401;
//!   [`client_env`]: what a client needs besides the kubeconfig.
//! - [`connect`], [`tunnel`], [`tls`]: DNS, TCP, proxy tunnels, TLS, each
//!   step with its timeout and its own error.
//! - [`classify`]: errors → [`ClusterProblem`].
//! - [`probe`]: status per context, all concurrently.
//! - [`status`]: the status types the UI and `portholectl` show.

pub mod build;
pub mod classify;
pub mod client;
pub mod client_env;
pub mod connect;
pub mod probe;
pub mod status;
pub mod tls;
mod tunnel;

pub use build::client_for_context;
pub use client::{ClientError, ClusterClient, RequestBody, empty_body, full_body};
pub use client_env::ClientEnv;
pub use status::{ClusterProblem, ContextStatus, StatusUpdate, TlsProblem};
