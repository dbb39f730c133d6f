//! The harness proven with the reference client (kubectl) against the real
//! control plane. All tests in this binary share one control plane through
//! `porthole_testkit::cluster()`; they only read the fixtures, or write in
//! namespaces of their own.

mod auth;
mod auth_methods;
mod fixtures;
mod lifecycle;
mod network;
mod node_agent;
mod proxy;
mod support;
mod workload;
