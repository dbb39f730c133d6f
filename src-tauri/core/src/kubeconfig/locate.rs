//! Which kubeconfig files to read, with kubectl's precedence:
//! an explicit `--kubeconfig` file, else the `$KUBECONFIG` list, else
//! `~/.kube/config`. The app then merges the files the user added in its
//! settings, and a pod's service account last.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

use super::in_cluster::InClusterSource;
use crate::settings::Settings;

/// Where the list of kubeconfig files came from; shown to the user when
/// nothing was found, so they know where Porthole looked.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
#[ts(export)]
pub enum SourceOrigin {
    /// `--kubeconfig FILE` on the command line: the file must exist.
    Flag,
    /// The `$KUBECONFIG` environment variable (a path list).
    EnvVar,
    /// kubectl's default, `~/.kube/config`.
    Default,
    /// No `$KUBECONFIG` and no home directory to look in.
    NoHome,
    /// Only the pod's service account (`portholectl proxy --in-cluster`).
    InCluster,
}

/// The ordered list of sources to read and merge: `paths`, then `added`,
/// then the in-cluster service account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigSources {
    pub origin: SourceOrigin,
    /// The files kubectl would read (flag, `$KUBECONFIG` or default path).
    pub paths: Vec<PathBuf>,
    /// Files the user added in Porthole, in the order added; none of them
    /// is also in `paths`.
    pub added: Vec<PathBuf>,
    /// The pod's service account, when running in a pod.
    pub in_cluster: Option<InClusterSource>,
}

impl KubeconfigSources {
    /// Exactly these files, nothing added.
    pub fn files(origin: SourceOrigin, paths: Vec<PathBuf>) -> Self {
        Self {
            origin,
            paths,
            added: Vec::new(),
            in_cluster: None,
        }
    }

    /// An explicit file, as `kubectl --kubeconfig FILE`.
    pub fn explicit(path: impl Into<PathBuf>) -> Self {
        Self::files(SourceOrigin::Flag, vec![path.into()])
    }

    /// The service account alone: no kubeconfig file is read.
    pub fn in_cluster_only(source: InClusterSource) -> Self {
        Self {
            origin: SourceOrigin::InCluster,
            paths: Vec::new(),
            added: Vec::new(),
            in_cluster: Some(source),
        }
    }

    /// What the app reads: kubectl's files from the environment, then the
    /// files added in `settings`, then the service account when this
    /// process runs in a pod.
    pub fn for_app(settings: &Settings) -> Self {
        Self::from_env()
            .with_added(settings.kubeconfigs.iter().map(PathBuf::from))
            .with_in_cluster(InClusterSource::from_env())
    }

    /// Appends files added by the user, skipping any already listed (compared
    /// as absolute paths, so `./a` and `$PWD/a` are one file).
    pub fn with_added(mut self, files: impl IntoIterator<Item = PathBuf>) -> Self {
        let mut seen: HashSet<PathBuf> = self.all_files().map(same_file_key).collect();
        for file in files {
            if !file.as_os_str().is_empty() && seen.insert(same_file_key(&file)) {
                self.added.push(file);
            }
        }
        self
    }

    /// Sets (or clears) the in-cluster source.
    pub fn with_in_cluster(mut self, source: Option<InClusterSource>) -> Self {
        self.in_cluster = source;
        self
    }

    /// The kubeconfig files in merge order (the in-cluster source aside).
    pub fn all_files(&self) -> impl Iterator<Item = &Path> {
        self.paths.iter().chain(&self.added).map(PathBuf::as_path)
    }

    /// The sources kubectl would use in this process's environment.
    pub fn from_env() -> Self {
        Self::from_parts(
            std::env::var_os("KUBECONFIG").as_deref(),
            std::env::home_dir().as_deref(),
        )
    }

    /// The same decision as [`Self::from_env`] from explicit inputs.
    ///
    /// Like kubectl: an empty `$KUBECONFIG` counts as unset, empty list
    /// entries are ignored and a file listed twice is read once.
    pub fn from_parts(kubeconfig_var: Option<&OsStr>, home: Option<&Path>) -> Self {
        if let Some(var) = kubeconfig_var.filter(|v| !v.is_empty()) {
            let mut seen = HashSet::new();
            let paths: Vec<PathBuf> = std::env::split_paths(var)
                .filter(|p| !p.as_os_str().is_empty())
                .filter(|p| seen.insert(p.clone()))
                .collect();
            if !paths.is_empty() {
                return Self::files(SourceOrigin::EnvVar, paths);
            }
        }
        match home {
            Some(home) => Self::files(
                SourceOrigin::Default,
                vec![home.join(".kube").join("config")],
            ),
            None => Self::files(SourceOrigin::NoHome, Vec::new()),
        }
    }
}

/// The absolute form of a path, without touching the file system (a file
/// that does not exist yet is still one file).
fn same_file_key(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubeconfig_list_wins_over_home_and_drops_empty_and_repeated_entries() {
        let s = KubeconfigSources::from_parts(
            Some(OsStr::new("/a/one::/b/two:/a/one")),
            Some(Path::new("/home/u")),
        );
        assert_eq!(s.origin, SourceOrigin::EnvVar);
        assert_eq!(
            s.paths,
            vec![PathBuf::from("/a/one"), PathBuf::from("/b/two")]
        );
    }

    #[test]
    fn empty_kubeconfig_falls_back_to_home_config() {
        for var in [Some(OsStr::new("")), Some(OsStr::new("::")), None] {
            let s = KubeconfigSources::from_parts(var, Some(Path::new("/home/u")));
            assert_eq!(s.origin, SourceOrigin::Default);
            assert_eq!(s.paths, vec![PathBuf::from("/home/u/.kube/config")]);
        }
    }

    #[test]
    fn added_files_come_after_the_list_in_order_and_are_not_repeated() {
        let s =
            KubeconfigSources::from_parts(Some(OsStr::new("/a/one:/b/two")), None).with_added([
                PathBuf::from("/c/three"),
                PathBuf::from("/a/one"),
                PathBuf::from("/d/four"),
                PathBuf::from("/c/three"),
            ]);
        assert_eq!(s.paths, [PathBuf::from("/a/one"), PathBuf::from("/b/two")]);
        assert_eq!(
            s.added,
            [PathBuf::from("/c/three"), PathBuf::from("/d/four")],
            "a listed file is not added again"
        );
        let all: Vec<&Path> = s.all_files().collect();
        assert_eq!(all.len(), 4);
    }

    #[test]
    fn settings_files_are_added_after_the_environment_list() {
        let settings = Settings {
            kubeconfigs: vec!["/added/x".into()],
            ..Settings::default()
        };
        let s = KubeconfigSources::for_app(&settings);
        assert_eq!(s.added.last(), Some(&PathBuf::from("/added/x")));
    }

    #[test]
    fn no_home_and_no_variable_means_nothing_to_read() {
        let s = KubeconfigSources::from_parts(None, None);
        assert_eq!(s.origin, SourceOrigin::NoHome);
        assert!(s.paths.is_empty());
    }
}
