//! Kubeconfig: which files, how they merge, and what the UI may see of them.
//!
//! - [`locate`] decides which sources to read: kubectl's files, the files
//!   added in the app, the pod's service account ([`in_cluster`]).
//! - [`load`] reads files and says what became of each one.
//! - [`merge`] merges files exactly as kubectl does, keeping each entry's file.
//! - [`snapshot`] merges every source tolerantly into one [`Snapshot`]: the
//!   merged config plus the context list; [`watch`] keeps it live.
//! - [`summary`] turns the merged config into secret-free context summaries.
//! - [`references`] lists the files the config points at, [`lines`] finds
//!   where an entry sits in its file, for error messages.
//! - [`view`] and [`view_model`] are `config view`: what kubectl prints, with
//!   secrets masked; [`view_io`] does the reading around them.

pub mod in_cluster;
pub mod lines;
pub mod load;
pub mod locate;
pub mod merge;
pub mod references;
pub mod snapshot;
pub mod summary;
pub mod view;
pub mod view_io;
pub mod view_model;
pub mod watch;

pub use in_cluster::InClusterSource;
pub use lines::{EntryList, entry_label, entry_location, line_in_file, line_of};
pub use load::{ContextList, SourceReport, SourceState, load_contexts};
pub use locate::{KubeconfigSources, SourceOrigin};
pub use merge::{MergeError, MergedKubeconfig, load_merged};
pub use references::{FileReference, referenced_files};
pub use snapshot::{Snapshot, load_snapshot};
pub use summary::ContextSummary;
pub use view::{ViewError, ViewOptions};
pub use view_io::{ConfigViewError, config_view};
pub use view_model::ConfigView;
pub use watch::{WatchError, Watcher};
