//! Kubeconfig: which files, how they merge, and what the UI may see of them.
//!
//! A module here uses only those above it in this list (no import cycles;
//! `tests/tools/module_cycles.py` checks):
//!
//! - [`read`] reads one file as written, or says why it cannot be used.
//! - [`in_cluster`] turns the pod's service account into a config.
//! - [`locate`] decides which sources to read: kubectl's files, the files
//!   added in the app, the pod's service account.
//! - [`merge`] merges files exactly as kubectl does, keeping each entry's file.
//! - [`lines`] finds where an entry sits in its file, for error messages;
//!   [`references`] lists the files the merged config points at;
//!   [`summary`] turns it into secret-free context summaries.
//! - [`report`]: what the UI is told, each file's state and the contexts.
//! - [`snapshot`] merges every source tolerantly into one [`Snapshot`]: the
//!   merged config plus the context list; [`watch`] keeps it live.
//! - [`view_model`] is what `config view` prints, [`view`] builds it as
//!   kubectl does with secrets masked, [`view_io`] does the reading around.

pub mod in_cluster;
pub mod lines;
pub mod locate;
pub mod merge;
pub mod read;
pub mod references;
pub mod report;
pub mod snapshot;
pub mod summary;
pub mod view;
pub mod view_io;
pub mod view_model;
pub mod watch;

pub use in_cluster::InClusterSource;
pub use lines::{EntryList, entry_label, entry_location, line_in_file, line_of};
pub use locate::{KubeconfigSources, SourceOrigin};
pub use merge::{MergeError, MergedKubeconfig, load_merged};
pub use references::{FileReference, referenced_files};
pub use report::{ContextList, SourceReport, SourceState};
pub use snapshot::{Snapshot, load_contexts, load_snapshot};
pub use summary::ContextSummary;
pub use view::{ViewError, ViewOptions};
pub use view_io::{ConfigViewError, config_view};
pub use view_model::ConfigView;
pub use watch::{WatchError, Watcher};
