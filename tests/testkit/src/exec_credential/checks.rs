//! What the plugin checks about how it was started, so a test sees a
//! client that starts it wrongly fail loudly: environment, the cluster
//! info of `provideClusterInfo: true`, and whether stdin was handed over.

use std::os::fd::RawFd;

use serde_json::Value;

/// The environment variable client-go (and Porthole) set for the plugin.
pub const EXEC_INFO_ENV: &str = "KUBERNETES_EXEC_INFO";

/// What stdin should be (`--check-stdin`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StdinExpectation {
    /// Not readable interactively: fd 0 closed, `/dev/null`, or a pipe
    /// whose writer is gone (interactiveMode Never, or no terminal).
    Closed,
    /// Handed over: fd 0 is open and is not `/dev/null` or a dead pipe.
    Open,
}

/// `NAME=VALUE` must be set exactly; returns why not.
pub fn require_env(spec: &str) -> Result<(), String> {
    let (name, want) = spec
        .split_once('=')
        .ok_or_else(|| format!("--require-env wants NAME=VALUE, got {spec:?}"))?;
    match std::env::var(name) {
        Ok(v) if v == want => Ok(()),
        // The value may be a secret handed to the plugin: never print it.
        Ok(_) => Err(format!("environment variable {name} has the wrong value")),
        Err(_) => Err(format!("environment variable {name} is not set")),
    }
}

/// KUBERNETES_EXEC_INFO parsed, if set.
pub fn exec_info() -> Result<Option<Value>, String> {
    match std::env::var(EXEC_INFO_ENV) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("{EXEC_INFO_ENV} is not JSON: {e}")),
        Err(_) => Ok(None),
    }
}

/// What `provideClusterInfo: true` gives: `spec.cluster.server` and
/// `spec.cluster.certificate-authority-data`.
pub fn cluster_info(info: Option<&Value>) -> Result<(), String> {
    let info = info.ok_or_else(|| format!("{EXEC_INFO_ENV} is not set"))?;
    let cluster = &info["spec"]["cluster"];
    if cluster.is_null() {
        return Err(format!(
            "{EXEC_INFO_ENV} has no spec.cluster (provideClusterInfo is not true?)"
        ));
    }
    for field in ["server", "certificate-authority-data"] {
        if cluster[field].as_str().is_none_or(str::is_empty) {
            return Err(format!("{EXEC_INFO_ENV} has no spec.cluster.{field}"));
        }
    }
    Ok(())
}

/// How fd 0 looks to this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinState {
    NotOpen,
    DevNull,
    /// A pipe or socket whose other end is closed (EOF, no data).
    Hangup,
    Open,
}

impl StdinState {
    fn closed(self) -> bool {
        self != StdinState::Open
    }
}

pub fn stdin_state() -> StdinState {
    fd_state(0)
}

fn fd_state(fd: RawFd) -> StdinState {
    // SAFETY: fcntl/fstat/poll on a descriptor number; no memory is shared
    // beyond the stack structs passed in.
    unsafe {
        if libc::fcntl(fd, libc::F_GETFD) == -1 {
            return StdinState::NotOpen;
        }
        let mut st: libc::stat = std::mem::zeroed();
        if libc::fstat(fd, &raw mut st) == 0 && (st.st_mode & libc::S_IFMT) == libc::S_IFCHR {
            let mut null: libc::stat = std::mem::zeroed();
            if libc::stat(c"/dev/null".as_ptr(), &raw mut null) == 0 && null.st_rdev == st.st_rdev {
                return StdinState::DevNull;
            }
        }
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        if libc::poll(&raw mut p, 1, 0) == 1
            && p.revents & libc::POLLHUP != 0
            && p.revents & libc::POLLIN == 0
        {
            return StdinState::Hangup;
        }
    }
    StdinState::Open
}

/// Checks stdin and, when KUBERNETES_EXEC_INFO is set, its
/// `spec.interactive`, against the expectation.
pub fn stdin(want: StdinExpectation, info: Option<&Value>) -> Result<(), String> {
    let state = stdin_state();
    let want_closed = want == StdinExpectation::Closed;
    if state.closed() != want_closed {
        return Err(format!(
            "stdin should be {} but it is {state:?}",
            if want_closed { "closed" } else { "open" }
        ));
    }
    if let Some(info) = info {
        let interactive = info["spec"]["interactive"].as_bool().unwrap_or(false);
        if interactive == want_closed {
            return Err(format!(
                "{EXEC_INFO_ENV} says spec.interactive={interactive}, expected {}",
                !want_closed
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cluster_info_needs_server_and_ca() {
        assert!(cluster_info(None).is_err());
        let without = json!({"spec": {"interactive": false}});
        assert!(cluster_info(Some(&without)).is_err());
        let ok = json!({"spec": {"cluster": {"server": "https://x", "certificate-authority-data": "Zm9v"}}});
        assert!(cluster_info(Some(&ok)).is_ok());
    }

    #[test]
    fn fd_states() {
        let null = std::fs::File::open("/dev/null").expect("open /dev/null");
        assert_eq!(
            fd_state(std::os::fd::AsRawFd::as_raw_fd(&null)),
            StdinState::DevNull
        );
        assert_eq!(fd_state(-1), StdinState::NotOpen);
        let (r, w) = std::io::pipe().expect("pipe");
        let rfd = std::os::fd::AsRawFd::as_raw_fd(&r);
        assert_eq!(fd_state(rfd), StdinState::Open);
        drop(w);
        assert_eq!(fd_state(rfd), StdinState::Hangup);
    }

    #[test]
    fn env_requirement_does_not_echo_values() {
        let err = require_env("PATH=definitely-not-this").expect_err("mismatch");
        assert!(!err.contains("definitely-not-this"), "{err}");
        assert!(require_env("no-equals-sign").is_err());
    }
}
