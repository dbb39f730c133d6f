//! The I/O around the pure [`super::view`]: load and merge the files, read
//! what `--flatten` inlines (through tokio, off the async workers), render.

use thiserror::Error;

use super::locate::KubeconfigSources;
use super::merge::{MergeError, load_merged};
use super::view::{InlineRequest, InlinedFiles, ViewError, ViewOptions, plan};
use super::view_model::ConfigView;

/// Why `config view` failed: a file could not be merged, or the view could
/// not be built from the merged config.
#[derive(Debug, Error)]
pub enum ConfigViewError {
    #[error(transparent)]
    Load(#[from] MergeError),
    #[error(transparent)]
    View(#[from] ViewError),
}

/// The merged kubeconfig of `sources` as `kubectl config view` would print
/// it with the same flags (plus Porthole's stricter redaction).
pub async fn config_view(
    sources: &KubeconfigSources,
    options: &ViewOptions,
) -> Result<ConfigView, ConfigViewError> {
    let merged = load_merged(sources).await?;
    let plan = plan(&merged, options)?;
    let files = read_inlined(plan.files_to_inline()?).await?;
    Ok(plan.render(&files)?)
}

/// Reads the files `--flatten` inlines; the first unreadable one is named
/// with the entry and field that point at it.
pub async fn read_inlined(requests: Vec<InlineRequest>) -> Result<InlinedFiles, ViewError> {
    let mut files = InlinedFiles::default();
    for request in requests {
        match tokio::fs::read(&request.path).await {
            Ok(bytes) => files.insert(request.path, bytes),
            Err(source) => {
                return Err(ViewError::InlineUnreadable {
                    entry: request.entry,
                    field: request.field,
                    path: request.path,
                    source,
                });
            }
        }
    }
    Ok(files)
}
