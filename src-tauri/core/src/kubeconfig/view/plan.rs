//! Which entries `config view` shows (`--minify`), and which files
//! `--flatten` must read first.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use kube::config::{NamedAuthInfo, NamedCluster, NamedContext};
use secrecy::{ExposeSecret, SecretSlice};

use super::data::{
    CA, CLIENT_CERT, CLIENT_KEY, DataField, cluster_ref, decode_data, resolve_against, user_ref,
};
use super::error::{EntryRef, ViewError};
use crate::kubeconfig::merge::MergedKubeconfig;

/// What to show, as `kubectl config view`'s flags say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Keep only the current context (or [`Self::context`]) and what it uses.
    pub minify: bool,
    /// Inline certificate and key files as `*-data`.
    pub flatten: bool,
    /// Show secrets and data instead of masks.
    pub raw: bool,
    /// With `minify`: the context to keep instead of the current one.
    pub context: Option<String>,
}

/// One file `--flatten` must read: the entry and field that name it, and
/// where it is (resolved against the file that named it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineRequest {
    pub entry: EntryRef,
    pub field: &'static str,
    pub path: PathBuf,
}

/// Contents of the files `--flatten` inlines, by resolved path. Key files
/// are secrets: `Debug` lists the paths only.
#[derive(Default)]
pub struct InlinedFiles(HashMap<PathBuf, SecretSlice<u8>>);

impl InlinedFiles {
    pub fn insert(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.0.insert(path, SecretSlice::from(bytes));
    }

    pub(super) fn get(&self, path: &Path) -> Option<&[u8]> {
        self.0.get(path).map(|s| s.expose_secret())
    }
}

impl fmt::Debug for InlinedFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The entries to show, chosen (and minified) but not yet rendered. Its
/// `Debug` lists names only (kube's entry types print secrets in `Debug`).
pub struct ViewPlan<'a> {
    pub(super) merged: &'a MergedKubeconfig,
    pub(super) options: ViewOptions,
    pub(super) current_context: String,
    pub(super) clusters: Vec<&'a NamedCluster>,
    pub(super) users: Vec<&'a NamedAuthInfo>,
    pub(super) contexts: Vec<&'a NamedContext>,
}

impl fmt::Debug for ViewPlan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clusters: Vec<&str> = self.clusters.iter().map(|c| c.name.as_str()).collect();
        let users: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
        let contexts: Vec<&str> = self.contexts.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("ViewPlan")
            .field("options", &self.options)
            .field("current_context", &self.current_context)
            .field("clusters", &clusters)
            .field("users", &users)
            .field("contexts", &contexts)
            .finish_non_exhaustive()
    }
}

/// Chooses the entries to show, as `kubectl config view` does.
pub fn plan<'a>(
    merged: &'a MergedKubeconfig,
    options: &ViewOptions,
) -> Result<ViewPlan<'a>, ViewError> {
    let config = merged.config();
    check_all_data(merged)?;
    let mut clusters: Vec<&NamedCluster> = config.clusters.iter().collect();
    let mut users: Vec<&NamedAuthInfo> = config.auth_infos.iter().collect();
    let mut contexts: Vec<&NamedContext> = config.contexts.iter().collect();
    let mut current_context = merged.current_context().unwrap_or_default().to_owned();

    if options.minify {
        if let Some(name) = options.context.as_deref().filter(|c| !c.is_empty()) {
            current_context = name.to_owned();
        }
        if current_context.is_empty() {
            return Err(ViewError::NoCurrentContext);
        }
        let context = contexts
            .iter()
            .copied()
            .find(|c| c.name == current_context)
            .ok_or_else(|| ViewError::ContextNotFound {
                name: current_context.clone(),
            })?;
        let body = context.context.as_ref();
        let cluster_name = body.map(|c| c.cluster.as_str()).unwrap_or_default();
        let user_name = body.and_then(|c| c.user.as_deref()).unwrap_or_default();
        clusters = keep_named(&clusters, cluster_name, |c| &c.name).ok_or_else(|| {
            ViewError::ClusterNotFound {
                context: current_context.clone(),
                cluster: cluster_name.to_owned(),
            }
        })?;
        users =
            keep_named(&users, user_name, |u| &u.name).ok_or_else(|| ViewError::UserNotFound {
                context: current_context.clone(),
                user: user_name.to_owned(),
            })?;
        contexts = vec![context];
    }

    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    users.sort_by(|a, b| a.name.cmp(&b.name));
    contexts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ViewPlan {
        merged,
        options: options.clone(),
        current_context,
        clusters,
        users,
        contexts,
    })
}

/// kubectl decodes every `*-data` field when it loads the files, so bad
/// base64 anywhere fails the view, even in an entry `--minify` drops.
fn check_all_data(merged: &MergedKubeconfig) -> Result<(), ViewError> {
    let config = merged.config();
    for named in &config.clusters {
        let entry = cluster_ref(merged, named);
        let data = named
            .cluster
            .as_ref()
            .and_then(|c| c.certificate_authority_data.as_deref());
        decode_data(&entry, CA.data_field, data)?;
    }
    for named in &config.auth_infos {
        let entry = user_ref(merged, named);
        let user = named.auth_info.as_ref();
        let cert = user.and_then(|u| u.client_certificate_data.as_deref());
        decode_data(&entry, CLIENT_CERT.data_field, cert)?;
        let key = user
            .and_then(|u| u.client_key_data.as_ref())
            .map(|s| s.expose_secret());
        decode_data(&entry, CLIENT_KEY.data_field, key)?;
    }
    Ok(())
}

/// The entry called `name` alone; nothing when `name` is empty (a context
/// without a user); `None` when it does not exist.
fn keep_named<'a, T>(
    all: &[&'a T],
    name: &str,
    name_of: impl Fn(&T) -> &String,
) -> Option<Vec<&'a T>> {
    if name.is_empty() {
        return Some(Vec::new());
    }
    all.iter()
        .copied()
        .find(|e| name_of(e) == name)
        .map(|e| vec![e])
}

impl ViewPlan<'_> {
    /// The files `--flatten` must read (none without `--flatten`).
    pub fn files_to_inline(&self) -> Result<Vec<InlineRequest>, ViewError> {
        let mut requests = Vec::new();
        if !self.options.flatten {
            return Ok(requests);
        }
        for named in &self.clusters {
            let entry = self.cluster_ref(named);
            let cluster = named.cluster.as_ref();
            let path = cluster.and_then(|c| c.certificate_authority.as_deref());
            let data = cluster.and_then(|c| c.certificate_authority_data.as_deref());
            requests.extend(self.inline_request(&entry, CA, path, data)?);
        }
        for named in &self.users {
            let entry = self.user_ref(named);
            let user = named.auth_info.as_ref();
            let cert = user.and_then(|u| u.client_certificate.as_deref());
            let cert_data = user.and_then(|u| u.client_certificate_data.as_deref());
            requests.extend(self.inline_request(&entry, CLIENT_CERT, cert, cert_data)?);
            let key = user.and_then(|u| u.client_key.as_deref());
            let key_data = user
                .and_then(|u| u.client_key_data.as_ref())
                .map(|s| s.expose_secret());
            requests.extend(self.inline_request(&entry, CLIENT_KEY, key, key_data)?);
        }
        Ok(requests)
    }

    fn inline_request(
        &self,
        entry: &EntryRef,
        field: DataField,
        path: Option<&str>,
        data: Option<&str>,
    ) -> Result<Option<InlineRequest>, ViewError> {
        let Some(path) = path.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        if !decode_data(entry, field.data_field, data)?.is_empty() {
            return Err(ViewError::PathAndData {
                entry: entry.clone(),
                path_field: field.path_field,
            });
        }
        Ok(Some(InlineRequest {
            entry: entry.clone(),
            field: field.path_field,
            path: resolve_against(&entry.file, path),
        }))
    }

    pub(super) fn cluster_ref(&self, named: &NamedCluster) -> EntryRef {
        cluster_ref(self.merged, named)
    }

    pub(super) fn user_ref(&self, named: &NamedAuthInfo) -> EntryRef {
        user_ref(self.merged, named)
    }
}
