//! Discovery: what is in a context's cluster and how to open it.
//!
//! - [`Discovery`] ([`fetch`]): one-shot reads — namespaces (falling back to
//!   the context's namespace plus the ones the user added when listing is
//!   refused), services with ports, endpoint counts and the ways in from
//!   outside, one service's details (endpoints, pods with pod proxy links),
//!   nodes, pods, cluster-info.
//! - [`ServiceWatch`] ([`watch`]): the live service list of a context and
//!   namespace selection (kube-runtime watchers), updates batched for the UI.
//! - `index`: the objects of a service list (services, slices, ingresses,
//!   nodes) and the one join that makes them [`ServiceView`]s, for both.
//! - [`rows`]: the rows of a live list a table shows — filtered, sorted,
//!   one window at a time — so a long list stays in the backend.
//! - [`views`]: the IPC types (camelCase, TypeScript twins by ts-rs).
//! - [`convert`]: Kubernetes objects → views, pure.
//!
//! Every link comes from [`crate::urls`], the one URL builder. Each kind of
//! object that is forbidden or failing degrades on its own
//! ([`views::Degraded`]) and the rest still shows.

pub mod convert;
pub mod fetch;
mod index;
pub mod rows;
pub mod views;
pub mod watch;

pub use fetch::Discovery;
pub use views::*;
pub use watch::ServiceWatch;
