//! Kubeconfig: which files, how they merge, and what the UI may see of them.
//!
//! - [`locate`] decides which files to read, as kubectl does.
//! - [`load`] reads and merges them, one report per file.
//! - [`summary`] turns the merged config into secret-free context summaries.
//! - [`merge`] merges files exactly as kubectl does, keeping each entry's file.
//! - [`view`] and [`view_model`] are `config view`: what kubectl prints, with
//!   secrets masked; [`view_io`] does the reading around them.

pub mod load;
pub mod locate;
pub mod merge;
pub mod summary;
pub mod view;
pub mod view_io;
pub mod view_model;

pub use load::{ContextList, SourceReport, SourceState, load_contexts};
pub use locate::{KubeconfigSources, SourceOrigin};
pub use merge::{MergeError, MergedKubeconfig, load_merged};
pub use summary::ContextSummary;
pub use view::{ViewError, ViewOptions};
pub use view_io::{ConfigViewError, config_view};
pub use view_model::ConfigView;
