//! Merging kubeconfig files with client-go's rules, keeping where each entry
//! came from.
//!
//! kube's `Kubeconfig::merge` differs from kubectl in ways a user sees, so
//! the view (and anything that must agree with kubectl) merges here:
//! - `current-context: ""` — which kubectl itself writes — does not hide a
//!   later file's current context;
//! - `extensions` and `preferences.extensions` merge per name (first file
//!   wins per name), not as a whole list;
//! - `preferences.colors` is on when any file turns it on;
//! - a file that names the same cluster, user, context or extension twice is
//!   refused, as kubectl refuses it.
//!
//! Named clusters, users and contexts are taken whole from the first file
//! that defines them. Each keeps the file it came from: `--flatten` reads a
//! relative certificate path against that file's directory.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};

use kube::config::{Kubeconfig, NamedExtension, Preferences};
use thiserror::Error;

use super::locate::{KubeconfigSources, SourceOrigin};
use super::read::{FileProblem, read_file_as_written};

/// Why the files could not be merged. Names files and fields, never values.
#[derive(Debug, Error)]
pub enum MergeError {
    #[error(transparent)]
    File(#[from] FileProblem),
    #[error(
        "{path}: {list} defines {name:?} more than once; kubectl refuses such a file too — rename or remove one"
    )]
    DuplicateName {
        path: PathBuf,
        /// The list, as a field path: `clusters`, `users[\"u\"].user.extensions`.
        list: String,
        name: String,
    },
}

/// The merged kubeconfig, with paths exactly as written in the files.
///
/// Its `Debug` shows file and entry names only: kube's types print
/// auth-provider secrets and exec environments in `Debug`, so the config
/// itself is kept private to the crate.
pub struct MergedKubeconfig {
    config: Kubeconfig,
    /// Files that were read, in merge order (missing ones left out).
    files: Vec<PathBuf>,
    cluster_origin: HashMap<String, usize>,
    user_origin: HashMap<String, usize>,
    context_origin: HashMap<String, usize>,
}

impl MergedKubeconfig {
    pub(crate) fn config(&self) -> &Kubeconfig {
        &self.config
    }

    /// Files that were read, in merge order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// The merged `current-context`, when one is set and not empty.
    pub fn current_context(&self) -> Option<&str> {
        self.config
            .current_context
            .as_deref()
            .filter(|c| !c.is_empty())
    }

    /// The file that defined the cluster `name`.
    pub fn cluster_origin(&self, name: &str) -> Option<&Path> {
        self.origin(&self.cluster_origin, name)
    }

    /// The file that defined the user `name`.
    pub fn user_origin(&self, name: &str) -> Option<&Path> {
        self.origin(&self.user_origin, name)
    }

    /// The file that defined the context `name`.
    pub fn context_origin(&self, name: &str) -> Option<&Path> {
        self.origin(&self.context_origin, name)
    }

    fn origin(&self, map: &HashMap<String, usize>, name: &str) -> Option<&Path> {
        map.get(name)
            .and_then(|&i| self.files.get(i))
            .map(PathBuf::as_path)
    }
}

impl fmt::Debug for MergedKubeconfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.config;
        let clusters: Vec<&str> = config.clusters.iter().map(|c| c.name.as_str()).collect();
        let users: Vec<&str> = config.auth_infos.iter().map(|u| u.name.as_str()).collect();
        let contexts: Vec<&str> = config.contexts.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("MergedKubeconfig")
            .field("files", &self.files)
            .field("current_context", &self.current_context())
            .field("clusters", &clusters)
            .field("users", &users)
            .field("contexts", &contexts)
            .finish_non_exhaustive()
    }
}

/// Reads every file of `sources` (paths as written) and merges them.
///
/// Like kubectl, a missing file in `$KUBECONFIG` is skipped and any other
/// problem stops the merge. Unlike kubectl, a missing `--kubeconfig` file is
/// an error, not an empty config: a typo should not look like "no clusters".
pub async fn load_merged(sources: &KubeconfigSources) -> Result<MergedKubeconfig, MergeError> {
    let mut files = Vec::with_capacity(sources.paths.len());
    for path in &sources.paths {
        match read_file_as_written(path).await {
            Ok(config) => files.push((path.clone(), config)),
            Err(FileProblem::NotFound { .. }) if sources.origin != SourceOrigin::Flag => {}
            Err(problem) => return Err(problem.into()),
        }
    }
    merge_files(files)
}

/// Merges parsed files in order with client-go's rules.
pub(crate) fn merge_files(
    files: Vec<(PathBuf, Kubeconfig)>,
) -> Result<MergedKubeconfig, MergeError> {
    let mut merged = MergedKubeconfig::empty();
    for (path, config) in files {
        refuse_duplicates(&path, &config)?;
        merged.push_file(path, config);
    }
    Ok(merged)
}

impl MergedKubeconfig {
    /// Nothing merged yet.
    pub(super) fn empty() -> Self {
        Self {
            config: Kubeconfig::default(),
            files: Vec::new(),
            cluster_origin: HashMap::new(),
            user_origin: HashMap::new(),
            context_origin: HashMap::new(),
        }
    }

    /// Merges one more file, after the ones already merged. The caller has
    /// checked it with [`refuse_duplicates`].
    pub(super) fn push_file(&mut self, path: PathBuf, next: Kubeconfig) {
        let index = self.files.len();
        self.files.push(path);
        let acc = &mut self.config;
        for named in next.clusters {
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.cluster_origin.entry(named.name.clone())
            {
                e.insert(index);
                acc.clusters.push(named);
            }
        }
        for named in next.auth_infos {
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.user_origin.entry(named.name.clone())
            {
                e.insert(index);
                acc.auth_infos.push(named);
            }
        }
        for named in next.contexts {
            if let std::collections::hash_map::Entry::Vacant(e) =
                self.context_origin.entry(named.name.clone())
            {
                e.insert(index);
                acc.contexts.push(named);
            }
        }
        if acc.current_context.as_deref().is_none_or(str::is_empty)
            && let Some(current) = next.current_context.filter(|c| !c.is_empty())
        {
            acc.current_context = Some(current);
        }
        acc.extensions = merge_extensions(acc.extensions.take(), next.extensions);
        acc.preferences = merge_preferences(acc.preferences.take(), next.preferences);
        acc.kind = acc.kind.take().or(next.kind);
        acc.api_version = acc.api_version.take().or(next.api_version);
    }
}

fn merge_extensions(
    first: Option<Vec<NamedExtension>>,
    next: Option<Vec<NamedExtension>>,
) -> Option<Vec<NamedExtension>> {
    let Some(next) = next else { return first };
    let mut list = first.unwrap_or_default();
    let known: HashSet<String> = list.iter().map(|e| e.name.clone()).collect();
    list.extend(next.into_iter().filter(|e| !known.contains(&e.name)));
    Some(list)
}

fn merge_preferences(first: Option<Preferences>, next: Option<Preferences>) -> Option<Preferences> {
    match (first, next) {
        (None, next) => next,
        (first, None) => first,
        (Some(mut first), Some(next)) => {
            if next.colors == Some(true) {
                first.colors = Some(true);
            }
            first.extensions = merge_extensions(first.extensions, next.extensions);
            Some(first)
        }
    }
}

/// kubectl turns each list into a map by name and refuses a name seen twice.
pub(super) fn refuse_duplicates(path: &Path, config: &Kubeconfig) -> Result<(), MergeError> {
    let check = |list: String, names: &mut dyn Iterator<Item = &String>| {
        let mut seen = HashSet::new();
        for name in names {
            if !seen.insert(name) {
                return Err(MergeError::DuplicateName {
                    path: path.to_path_buf(),
                    list,
                    name: name.clone(),
                });
            }
        }
        Ok(())
    };
    let ext_names = |exts: &Option<Vec<NamedExtension>>| -> Vec<String> {
        exts.iter().flatten().map(|e| e.name.clone()).collect()
    };

    check(
        "clusters".into(),
        &mut config.clusters.iter().map(|c| &c.name),
    )?;
    check(
        "users".into(),
        &mut config.auth_infos.iter().map(|u| &u.name),
    )?;
    check(
        "contexts".into(),
        &mut config.contexts.iter().map(|c| &c.name),
    )?;
    check(
        "extensions".into(),
        &mut ext_names(&config.extensions).iter(),
    )?;
    if let Some(prefs) = &config.preferences {
        check(
            "preferences.extensions".into(),
            &mut ext_names(&prefs.extensions).iter(),
        )?;
    }
    for c in &config.clusters {
        let exts = c.cluster.as_ref().map(|c| ext_names(&c.extensions));
        check(
            format!("clusters[{:?}].cluster.extensions", c.name),
            &mut exts.unwrap_or_default().iter(),
        )?;
    }
    for u in &config.auth_infos {
        let exts = u.auth_info.as_ref().map(|u| ext_names(&u.extensions));
        check(
            format!("users[{:?}].user.extensions", u.name),
            &mut exts.unwrap_or_default().iter(),
        )?;
    }
    for c in &config.contexts {
        let exts = c.context.as_ref().map(|c| ext_names(&c.extensions));
        check(
            format!("contexts[{:?}].context.extensions", c.name),
            &mut exts.unwrap_or_default().iter(),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Kubeconfig {
        Kubeconfig::from_yaml(text).expect("test kubeconfig parses")
    }

    #[test]
    fn an_empty_current_context_does_not_hide_a_later_one() {
        let merged = merge_files(vec![
            ("/a".into(), parse("current-context: \"\"\n")),
            ("/b".into(), parse("current-context: second\n")),
            ("/c".into(), parse("current-context: third\n")),
        ])
        .expect("merges");
        assert_eq!(merged.current_context(), Some("second"));
    }

    #[test]
    fn named_entries_come_whole_from_the_first_file_that_defines_them() {
        let merged = merge_files(vec![
            (
                "/dir1/a".into(),
                parse("clusters:\n- name: c\n  cluster: {server: https://a}\n"),
            ),
            (
                "/dir2/b".into(),
                parse(
                    "clusters:\n- name: c\n  cluster: {server: https://b, insecure-skip-tls-verify: true}\n- name: d\n  cluster: {server: https://d}\n",
                ),
            ),
        ])
        .expect("merges");
        let c = &merged.config().clusters[0];
        let cluster = c.cluster.as_ref().expect("cluster body");
        assert_eq!(cluster.server.as_deref(), Some("https://a"));
        assert_eq!(cluster.insecure_skip_tls_verify, None);
        assert_eq!(merged.cluster_origin("c"), Some(Path::new("/dir1/a")));
        assert_eq!(merged.cluster_origin("d"), Some(Path::new("/dir2/b")));
    }

    #[test]
    fn extensions_and_preferences_merge_per_name() {
        let merged = merge_files(vec![
            (
                "/a".into(),
                parse(
                    "extensions:\n- {name: shared, extension: 1}\npreferences:\n  extensions:\n  - {name: p, extension: 1}\n",
                ),
            ),
            (
                "/b".into(),
                parse(
                    "extensions:\n- {name: shared, extension: 2}\n- {name: other, extension: 2}\npreferences:\n  colors: true\n  extensions:\n  - {name: p, extension: 2}\n  - {name: q, extension: 2}\n",
                ),
            ),
        ])
        .expect("merges");
        let exts = merged.config().extensions.as_ref().expect("extensions");
        let pairs: Vec<(&str, &serde_json::Value)> = exts
            .iter()
            .map(|e| (e.name.as_str(), &e.extension))
            .collect();
        assert_eq!(
            pairs,
            [
                ("shared", &serde_json::json!(1)),
                ("other", &serde_json::json!(2))
            ]
        );
        let prefs = merged.config().preferences.as_ref().expect("preferences");
        assert_eq!(prefs.colors, Some(true));
        assert_eq!(prefs.extensions.as_ref().map(Vec::len), Some(2));
    }

    #[test]
    fn a_name_defined_twice_in_one_file_is_refused_naming_file_and_list() {
        let err = merge_files(vec![(
            "/zoo/dup.yaml".into(),
            parse("users:\n- name: u\n  user: {token: zoo-secret-dup-1}\n- name: u\n  user: {token: zoo-secret-dup-2}\n"),
        )])
        .expect_err("duplicate refused");
        let text = err.to_string();
        assert!(
            text.contains("/zoo/dup.yaml") && text.contains("users") && text.contains("\"u\""),
            "{text}"
        );
        assert!(!text.contains("zoo-secret"), "{text}");
    }

    #[test]
    fn debug_shows_names_but_no_credentials() {
        let merged = merge_files(vec![(
            "/a".into(),
            parse(
                "users:\n- name: oidc\n  user:\n    auth-provider:\n      name: oidc\n      config: {client-secret: zoo-secret-cs, id-token: zoo-secret-idt}\n    exec:\n      command: x\n      env: [{name: T, value: zoo-secret-env}]\n",
            ),
        )])
        .expect("merges");
        let debug = format!("{merged:?}");
        assert!(debug.contains("oidc"), "{debug}");
        assert!(!debug.contains("zoo-secret"), "{debug}");
    }
}
