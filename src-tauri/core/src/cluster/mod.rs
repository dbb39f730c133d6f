//! Clusters: a client per context (auth from the kubeconfig), and what the
//! user sees of each one — reachable with its version and user, or a
//! precise failure that says what to do.
//!
//! - [`status`]: the status types the UI and `portholectl` show.

pub mod status;

pub use status::{ClusterProblem, ContextStatus, StatusUpdate, TlsProblem};
