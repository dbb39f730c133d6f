//! Secret-free summaries of contexts: what the UI and the CLI list.

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;
use ts_rs::TS;

use super::merge::MergedKubeconfig;
use crate::redact::url_without_userinfo;

/// One context as the user sees it in a list. Never holds a credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ContextSummary {
    pub name: String,
    /// Name of the cluster entry the context points at.
    pub cluster: String,
    /// The cluster's server URL (user-info removed); `None` when the cluster
    /// entry is missing or has no server.
    pub server: Option<String>,
    /// Name of the user (auth-info) entry.
    pub user: Option<String>,
    /// The context's default namespace, if set.
    pub namespace: Option<String>,
    /// Whether this is the merged config's `current-context`.
    pub current: bool,
    /// The file that defined this context (the first one, when several do).
    pub source: String,
    /// The file is broken right now and this is its last good version.
    pub stale: bool,
}

/// Summaries of the merged contexts, in merge order; contexts defined by a
/// file in `stale_files` are marked stale.
pub(super) fn summarize(
    merged: &MergedKubeconfig,
    stale_files: &HashSet<PathBuf>,
) -> Vec<ContextSummary> {
    let config = merged.config();
    let current = merged.current_context();
    config
        .contexts
        .iter()
        .map(|named| {
            let origin = merged.context_origin(&named.name);
            let ctx = named.context.as_ref();
            let cluster = ctx.map(|c| c.cluster.clone()).unwrap_or_default();
            let server = config
                .clusters
                .iter()
                .find(|c| c.name == cluster)
                .and_then(|c| c.cluster.as_ref())
                .and_then(|c| c.server.as_deref())
                .map(url_without_userinfo);
            ContextSummary {
                name: named.name.clone(),
                cluster,
                server,
                user: ctx.and_then(|c| c.user.clone()).filter(|u| !u.is_empty()),
                namespace: ctx
                    .and_then(|c| c.namespace.clone())
                    .filter(|n| !n.is_empty()),
                current: current == Some(named.name.as_str()),
                source: origin.map(|p| p.display().to_string()).unwrap_or_default(),
                stale: origin.is_some_and(|p| stale_files.contains(p)),
            }
        })
        .collect()
}
