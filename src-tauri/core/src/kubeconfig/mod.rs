//! Kubeconfig: which files, how they merge, and what the UI may see of them.
//!
//! - [`locate`] decides which files to read, as kubectl does.
//! - [`load`] reads and merges them, one report per file.
//! - [`summary`] turns the merged config into secret-free context summaries.

pub mod load;
pub mod locate;
pub mod summary;

pub use load::{ContextList, SourceReport, SourceState, load_contexts};
pub use locate::{KubeconfigSources, SourceOrigin};
pub use summary::ContextSummary;
