//! The local proxy against the real kube-apiserver of the test control
//! plane (#5): parity with `kubectl proxy`, hostile requests, credentials,
//! streaming, per-service hosts, graceful stop. One cluster per process.

mod cli_flags;
mod credentials;
mod fake;
mod hostile;
mod lifecycle;
mod parity;
mod service_hosts;
mod streaming;
mod support;
