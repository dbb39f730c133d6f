//! Which kubeconfig files to read, with kubectl's precedence:
//! an explicit `--kubeconfig` file, else the `$KUBECONFIG` list, else
//! `~/.kube/config`.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;
use ts_rs::TS;

/// Where the list of kubeconfig files came from; shown to the user when
/// nothing was found, so they know where Porthole looked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
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
}

/// The ordered list of files to read and merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeconfigSources {
    pub origin: SourceOrigin,
    pub paths: Vec<PathBuf>,
}

impl KubeconfigSources {
    /// An explicit file, as `kubectl --kubeconfig FILE`.
    pub fn explicit(path: impl Into<PathBuf>) -> Self {
        Self {
            origin: SourceOrigin::Flag,
            paths: vec![path.into()],
        }
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
                return Self {
                    origin: SourceOrigin::EnvVar,
                    paths,
                };
            }
        }
        match home {
            Some(home) => Self {
                origin: SourceOrigin::Default,
                paths: vec![home.join(".kube").join("config")],
            },
            None => Self {
                origin: SourceOrigin::NoHome,
                paths: Vec::new(),
            },
        }
    }
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
    fn no_home_and_no_variable_means_nothing_to_read() {
        let s = KubeconfigSources::from_parts(None, None);
        assert_eq!(s.origin, SourceOrigin::NoHome);
        assert!(s.paths.is_empty());
    }
}
