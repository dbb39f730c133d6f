//! [`ExecError`]: why an exec plugin gave no credential.

/// Why a plugin gave no credential. Holds no plugin output except scrubbed
/// stderr lines.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ExecError {
    #[error("exec plugin {command:?} not found on the search path")]
    NotFound {
        command: String,
        searched: Vec<String>,
        install_hint: Option<String>,
    },
    #[error("exec plugin {command:?} could not be started: {reason}")]
    Spawn { command: String, reason: String },
    #[error("exec plugin {command:?} failed")]
    Failed {
        command: String,
        exit_code: Option<i32>,
        stderr: Vec<String>,
        reason: Option<String>,
    },
    #[error("exec plugin {command:?} did not finish within {seconds} s")]
    TimedOut { command: String, seconds: u32 },
    #[error(
        "exec plugin {command:?} needs an interactive terminal (interactiveMode: Always); run it once from a terminal, e.g. with kubectl"
    )]
    NeedsTerminal { command: String },
}
