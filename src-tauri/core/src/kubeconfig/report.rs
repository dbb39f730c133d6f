//! What the UI and `portholectl contexts` are told about the kubeconfig:
//! each file and what became of it, and the merged contexts. Holds no
//! secret.

use serde::Serialize;
use ts_rs::TS;

use super::locate::SourceOrigin;
use super::summary::ContextSummary;

/// What happened to one file of the list.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(tag = "state", rename_all = "camelCase")]
#[ts(export)]
pub enum SourceState {
    /// Read and merged; `contexts` is how many contexts the file defines.
    Loaded { contexts: u32 },
    /// The file does not exist (skipped, as kubectl skips it in `$KUBECONFIG`).
    Missing,
    /// The file exists but could not be read (permissions, a directory, ...).
    Unreadable { reason: String },
    /// The file could not be parsed; `reason` is the parser's, values removed.
    Malformed { reason: String },
}

/// One kubeconfig file and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SourceReport {
    /// The file, or `in-cluster` for the pod's service account.
    pub path: String,
    pub state: SourceState,
    /// Added by the user in Porthole's settings (the UI offers "Remove").
    pub added: bool,
}

/// Everything the UI and `portholectl contexts` show: the merged contexts,
/// and per file whether it was used. Holds no secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ContextList {
    /// Where the file list came from (flag, `$KUBECONFIG`, default path).
    pub origin: SourceOrigin,
    /// Every file looked at, in merge order.
    pub sources: Vec<SourceReport>,
    /// Contexts sorted by name, as `kubectl config get-contexts` lists them.
    pub contexts: Vec<ContextSummary>,
    /// `current-context` of the merged config (first file that sets it wins),
    /// even when it names a context that does not exist.
    pub current_context: Option<String>,
}

impl ContextList {
    /// Files that the user has to fix: unreadable or malformed ones, and a
    /// missing file that was named explicitly (`--kubeconfig`, added in the
    /// app, or the service account when it is the only source).
    pub fn problems(&self) -> impl Iterator<Item = &SourceReport> {
        self.sources.iter().filter(move |s| match s.state {
            SourceState::Loaded { .. } => false,
            SourceState::Missing => {
                s.added || matches!(self.origin, SourceOrigin::Flag | SourceOrigin::InCluster)
            }
            SourceState::Unreadable { .. } | SourceState::Malformed { .. } => true,
        })
    }

    /// The summary of the current context, when it exists.
    pub fn current(&self) -> Option<&ContextSummary> {
        self.contexts.iter().find(|c| c.current)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(path: &str, state: SourceState, added: bool) -> SourceReport {
        SourceReport {
            path: path.into(),
            state,
            added,
        }
    }

    fn list(origin: SourceOrigin, sources: Vec<SourceReport>) -> ContextList {
        ContextList {
            origin,
            sources,
            contexts: Vec::new(),
            current_context: None,
        }
    }

    #[test]
    fn unreadable_and_malformed_files_are_problems_loaded_ones_are_not() {
        let list = list(
            SourceOrigin::EnvVar,
            vec![
                report("a", SourceState::Loaded { contexts: 1 }, false),
                report(
                    "b",
                    SourceState::Unreadable {
                        reason: "denied".into(),
                    },
                    false,
                ),
                report(
                    "c",
                    SourceState::Malformed {
                        reason: "line 3".into(),
                    },
                    true,
                ),
            ],
        );
        let paths: Vec<&str> = list.problems().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["b", "c"]);
    }

    #[test]
    fn a_missing_file_is_a_problem_only_when_it_was_named() {
        let listed = list(
            SourceOrigin::EnvVar,
            vec![
                report("from-env", SourceState::Missing, false),
                report("added", SourceState::Missing, true),
            ],
        );
        let paths: Vec<&str> = listed.problems().map(|s| s.path.as_str()).collect();
        assert_eq!(
            paths,
            ["added"],
            "a missing $KUBECONFIG entry is skipped, as kubectl does"
        );

        for origin in [SourceOrigin::Flag, SourceOrigin::InCluster] {
            let named = list(origin, vec![report("x", SourceState::Missing, false)]);
            assert_eq!(named.problems().count(), 1);
        }
    }

    #[test]
    fn the_current_context_is_the_one_marked_current() {
        let mut list = list(SourceOrigin::EnvVar, Vec::new());
        assert!(list.current().is_none());
        let summary = |name: &str, current: bool| ContextSummary {
            name: name.into(),
            cluster: "c".into(),
            server: None,
            user: None,
            namespace: None,
            current,
            source: "config".into(),
            stale: false,
        };
        list.contexts = vec![summary("a", false), summary("b", true)];
        assert_eq!(list.current().map(|c| c.name.as_str()), Some("b"));
    }
}
