//! Porthole's own settings (never the user's kubeconfig): kubeconfig files
//! the user added in the app, extra directories to search for exec
//! plugins, the proxy's settings, the browser command, the namespaces
//! added by hand per context and the saved port-forwards. Stored as JSON in the platform config dir.
//!
//! A settings file that does not parse is never overwritten silently: the
//! app starts with defaults and says so, and the first save moves the
//! broken file aside (`settings.json.broken-<unix time>`) and says where.
//!
//! - [`model`]: the file's schema and defaults.
//! - [`store`]: the file on disk and the changes the app makes to it.
//! - [`validation`]: checks on what the user types (namespaces, the
//!   proxy's address, a saved port-forward).

use std::io;
use std::path::PathBuf;

use thiserror::Error;

pub mod model;
pub mod store;
pub mod validation;

pub use model::{ProxySettings, SavedForward, Settings};
pub use store::{CONFIG_DIR_VAR, SettingsStore, settings_path};
pub use validation::{LoopbackError, check_forward, check_namespace, parse_loopback};

pub use crate::dns_label::LabelProblem;
use crate::open::command::BrowserCommandError;

/// Why settings could not be loaded, saved or changed.
#[derive(Debug, Error)]
pub enum SettingsError {
    #[error(
        "no place for settings: neither $PORTHOLE_CONFIG_DIR, $XDG_CONFIG_HOME nor a home directory is set"
    )]
    NoConfigDir,
    #[error("{path}: cannot read settings: {source}")]
    Read { path: PathBuf, source: io::Error },
    #[error(
        "{path}:{line}:{column}: {field}: {reason} (the file is kept as it is; Porthole uses default settings until it is fixed)"
    )]
    Malformed {
        path: PathBuf,
        line: usize,
        column: usize,
        /// Where in the document it failed (`kubeconfigs[1]`, or `.` for the
        /// document itself).
        field: String,
        reason: String,
    },
    #[error("{path}: cannot save settings: {source}")]
    Write { path: PathBuf, source: io::Error },
    #[error("{path}: no such file")]
    KubeconfigNotFound { path: PathBuf },
    #[error("{path}: is a directory, not a kubeconfig file")]
    KubeconfigIsDirectory { path: PathBuf },
    #[error("{path}: cannot check the file: {source}")]
    KubeconfigUnreadable { path: PathBuf, source: io::Error },
    #[error("the settings task stopped unexpectedly")]
    TaskFailed,
    #[error(transparent)]
    BrowserCommand(#[from] BrowserCommandError),
    #[error(
        "namespace {namespace:?}: {problem} (a namespace name is a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit)"
    )]
    InvalidNamespace {
        namespace: String,
        problem: LabelProblem,
    },
    #[error("no context name given for the namespace")]
    NoContext,
    #[error("port-forward {id}: {reason}")]
    InvalidForward { id: String, reason: String },
}
