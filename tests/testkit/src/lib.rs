//! Porthole's test control plane (issue #3): a real kube-apiserver and etcd
//! (built from Go modules by tests/control-plane/build.sh) with a generated
//! PKI, users for each auth method, fixtures created through the API, and
//! backend HTTP servers in a network namespace behind Pod-backed endpoints;
//! test workloads ([`workload`]) whose Pods come and go while a test runs.
//!
//! Tests call [`cluster()`]: one control plane per test process, started on
//! first use (or the running one named by `PORTHOLE_CLUSTER_DIR`), torn down
//! when the process ends however it ends. The `porthole-cluster` binary
//! (`up`, `down`, `status`, `run`) manages clusters from a shell.
//! See tests/testkit/README.md.

pub mod apiserver;
pub mod backends;
pub mod basic_auth;
pub mod bins;
pub mod client;
pub mod cluster;
pub mod down;
pub mod error;
pub mod etcd;
pub mod exec_credential;
pub mod faults;
pub mod fixtures;
pub mod fsutil;
pub mod http_probe;
pub mod httpwire;
pub mod impersonation;
pub mod kubeconfig;
pub mod loopback;
pub mod netns;
pub mod node_agent;
pub mod oidc;
pub mod pki;
pub mod ports;
pub mod process;
pub mod proxies;
pub mod random;
pub mod rbac;
pub mod state;
pub mod supervisor;
pub mod users;
pub mod workload;
pub mod yaml;

pub use cluster::{Cluster, cluster, try_cluster};
pub use error::{Error, Result};
