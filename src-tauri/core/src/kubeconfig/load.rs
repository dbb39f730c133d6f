//! Reading kubeconfig files, and what the user is told about each one.
//!
//! kubectl refuses to run when any file is malformed. Porthole is a window
//! onto every cluster, so a broken file is reported (path and the parser's
//! reason) and the other files keep working; the merge itself is
//! [`super::snapshot`]'s.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use kube::config::{Kubeconfig, KubeconfigError};
use serde::Serialize;
use thiserror::Error;
use ts_rs::TS;

use super::locate::{KubeconfigSources, SourceOrigin};
use super::summary::ContextSummary;
use crate::redact::strip_quoted_values;

/// Why one file could not be used. Messages never carry file contents.
#[derive(Debug, Error)]
pub enum FileProblem {
    #[error("{path}: file not found")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{path}: not a valid kubeconfig: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: the file reader stopped unexpectedly")]
    ReaderFailed { path: PathBuf },
}

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

/// Reads and merges `sources` with client-go's rules, skipping (and
/// reporting) files that cannot be used.
pub async fn load_contexts(sources: &KubeconfigSources) -> ContextList {
    super::snapshot::load_snapshot(sources).await.list
}

/// Reads one file keeping every path in it exactly as written: what
/// `kubectl config view` shows (kubectl's `config` verbs never resolve
/// paths); connecting resolves them per entry (`cluster::build`).
///
/// JSON files are parsed as JSON (YAML parsers reject the tab indentation
/// that JSON allows); anything else as YAML.
pub(crate) async fn read_file_as_written(path: &Path) -> Result<Kubeconfig, FileProblem> {
    read_file_as_written_hashed(path)
        .await
        .map(|(config, _)| config)
}

/// [`read_file_as_written`], with a hash of the file's bytes so a reload can
/// tell whether anything changed.
pub(crate) async fn read_file_as_written_hashed(
    path: &Path,
) -> Result<(Kubeconfig, u64), FileProblem> {
    let owned = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || std::fs::read(&owned)).await;
    let path = path.to_path_buf();
    let bytes = match result {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(source)) if source.kind() == io::ErrorKind::NotFound => {
            return Err(FileProblem::NotFound { path });
        }
        Ok(Err(source)) => return Err(FileProblem::Unreadable { path, source }),
        Err(_) => return Err(FileProblem::ReaderFailed { path }),
    };
    let mut hasher = DefaultHasher::new();
    bytes.hash(&mut hasher);
    let content_hash = hasher.finish();
    let text = match decode_text(bytes) {
        Ok(text) => text,
        Err(reason) => {
            return Err(FileProblem::Malformed {
                path,
                reason: reason.to_owned(),
            });
        }
    };
    parse_text(&text)
        .map(|config| (config, content_hash))
        .map_err(|reason| FileProblem::Malformed {
            path,
            reason: strip_quoted_values(&reason),
        })
}

/// Text of a kubeconfig file: UTF-8, or UTF-16 with a byte-order mark, as
/// kube and kubectl accept.
fn decode_text(bytes: Vec<u8>) -> Result<String, &'static str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| from([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16(&units).map_err(|_| "not valid UTF-16 text")
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "not valid UTF-8 text")
        }
        _ => String::from_utf8(bytes).map_err(|_| "not valid UTF-8 text"),
    }
}

/// Parses kubeconfig text; the error is the parser's first line only.
fn parse_text(text: &str) -> Result<Kubeconfig, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    Kubeconfig::from_yaml(text).map_err(|e| parse_reason(&e))
}

/// The parser's own words: its first line only, because the lines after it
/// quote the file around the error, and that may be a token or a key.
fn parse_reason(e: &KubeconfigError) -> String {
    let full = match e {
        KubeconfigError::Parse(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let first = full.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).expect("write fixture");
        p
    }

    const A: &str = r#"
apiVersion: v1
kind: Config
current-context: shared
clusters:
- name: c1
  cluster: {server: "https://one.example:6443"}
users:
- name: u1
  user: {token: "token-from-a"}
contexts:
- name: shared
  context: {cluster: c1, user: u1, namespace: team-a}
- name: alpha
  context: {cluster: c1, user: u1}
"#;

    const B: &str = r#"
apiVersion: v1
kind: Config
current-context: beta
clusters:
- name: c2
  cluster: {server: "https://two.example"}
contexts:
- name: shared
  context: {cluster: c2, user: nobody, namespace: ignored}
- name: beta
  context: {cluster: c2}
"#;

    #[tokio::test]
    async fn first_file_wins_for_contexts_and_current_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a.yaml", A);
        let b = write(dir.path(), "b.yaml", B);
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![a.clone(), b.clone()],
        ))
        .await;

        let names: Vec<&str> = list.contexts.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["alpha", "beta", "shared"]);
        assert_eq!(list.current_context.as_deref(), Some("shared"));
        let shared = list.current().expect("current context exists");
        assert_eq!(shared.namespace.as_deref(), Some("team-a"));
        assert_eq!(shared.server.as_deref(), Some("https://one.example:6443"));
        assert_eq!(shared.source, a.display().to_string());
        let beta = &list.contexts[1];
        assert_eq!(beta.source, b.display().to_string());
        assert_eq!(beta.user, None);
        assert_eq!(
            list.sources[1].state,
            SourceState::Loaded { contexts: 2 },
            "b defines two contexts even though one is shadowed"
        );
        assert_eq!(list.problems().count(), 0);
    }

    #[tokio::test]
    async fn an_empty_current_context_does_not_hide_the_next_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty_current = write(
            dir.path(),
            "written-by-kubectl.yaml",
            "apiVersion: v1\nkind: Config\ncurrent-context: \"\"\n",
        );
        let b = write(dir.path(), "b.yaml", B);
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![empty_current, b],
        ))
        .await;
        assert_eq!(list.current_context.as_deref(), Some("beta"));
        assert!(list.current().is_some_and(|c| c.name == "beta"));
    }

    #[tokio::test]
    async fn missing_files_are_skipped_but_listed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let b = write(dir.path(), "b.yaml", B);
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![dir.path().join("nope.yaml"), b],
        ))
        .await;
        assert_eq!(list.sources[0].state, SourceState::Missing);
        assert_eq!(list.contexts.len(), 2);
        assert_eq!(list.current_context.as_deref(), Some("beta"));
        assert_eq!(list.problems().count(), 0);
    }

    #[tokio::test]
    async fn a_missing_explicit_file_is_a_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let list = load_contexts(&KubeconfigSources::explicit(dir.path().join("x"))).await;
        assert_eq!(list.problems().count(), 1);
    }

    #[tokio::test]
    async fn malformed_file_reports_path_and_reason_and_others_still_load() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bad = write(
            dir.path(),
            "bad.yaml",
            "apiVersion: v1\nkind: Config\ncontexts: \"super-secret-token\"\n",
        );
        let b = write(dir.path(), "b.yaml", B);
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![bad.clone(), b],
        ))
        .await;
        let problems: Vec<_> = list.problems().collect();
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].path, bad.display().to_string());
        let SourceState::Malformed { reason } = &problems[0].state else {
            panic!("expected malformed, got {:?}", problems[0].state);
        };
        assert!(reason.contains("line 3"), "reason names the line: {reason}");
        assert!(
            !reason.contains("super-secret-token"),
            "value leaked: {reason}"
        );
        assert!(
            !reason.contains("kind: Config"),
            "file text leaked: {reason}"
        );
        assert_eq!(list.contexts.len(), 2, "the good file still loads");
    }

    #[tokio::test]
    async fn a_file_of_another_kind_is_refused_and_earlier_files_stay() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a.yaml", A);
        let odd = write(dir.path(), "odd.yaml", "kind: NotAConfig\ncontexts: []\n");
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![a, odd],
        ))
        .await;
        assert!(matches!(
            list.sources[1].state,
            SourceState::Malformed { .. }
        ));
        assert_eq!(list.contexts.len(), 2, "a.yaml's contexts are kept");
        assert_eq!(list.current_context.as_deref(), Some("shared"));
    }

    #[tokio::test]
    async fn directory_is_unreadable_not_missing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let list = load_contexts(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![dir.path().to_path_buf()],
        ))
        .await;
        assert!(matches!(
            list.sources[0].state,
            SourceState::Unreadable { .. }
        ));
    }

    #[tokio::test]
    async fn empty_file_is_an_empty_config() {
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = write(dir.path(), "empty.yaml", "");
        let list =
            load_contexts(&KubeconfigSources::files(SourceOrigin::EnvVar, vec![empty])).await;
        assert_eq!(list.sources[0].state, SourceState::Loaded { contexts: 0 });
        assert!(list.contexts.is_empty());
        assert_eq!(list.current_context, None);
    }
}
