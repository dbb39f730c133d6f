//! [`ClientEnv`]: what a [`super::ClusterClient`] needs from its
//! surroundings besides the kubeconfig (plugins' search path, timeouts).

use std::time::Duration;

use super::connect::Timeouts;
use crate::auth::ExecEnv;
use crate::shell_path::SearchPath;

/// Everything about the environment a client needs besides the kubeconfig.
#[derive(Debug, Clone)]
pub struct ClientEnv {
    pub exec: ExecEnv,
    pub timeouts: Timeouts,
    /// Longest wait for response headers (not for a streamed body).
    pub response_timeout: Duration,
}

impl ClientEnv {
    /// Plugins found on `search_path`; connecting and the TLS handshake each
    /// get three quarters of `probe_timeout`, so they fail with their own
    /// precise error before a probe with that timeout gives up.
    pub fn new(
        search_path: SearchPath,
        probe_timeout: Duration,
        response_timeout: Duration,
    ) -> Self {
        use std::io::IsTerminal as _;
        Self {
            exec: ExecEnv {
                search_path,
                stdin_is_terminal: std::io::stdin().is_terminal(),
                timeout: crate::auth::exec::DEFAULT_TIMEOUT,
            },
            timeouts: Timeouts {
                connect: probe_timeout.mul_f32(0.75),
                tls_handshake: probe_timeout.mul_f32(0.75),
            },
            response_timeout,
        }
    }
}
