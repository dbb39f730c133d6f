//! The local proxy against the real kube-apiserver of the test control
//! plane (#5): parity with `kubectl proxy`, hostile requests, credentials,
//! streaming, per-service hosts, graceful stop. One cluster per process.

mod credentials;
mod hostile;
mod parity;
mod streaming;
mod support;
