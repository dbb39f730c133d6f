//! One consistent picture of every kubeconfig source: the merged config
//! (to build clients from) and the context list (for the UI), built with
//! client-go's merge and tolerant of broken files.
//!
//! A file that cannot be used is skipped and reported. A file that breaks
//! after it was loaded once keeps its last good content merged, and its
//! contexts are marked stale, so a half-saved edit does not make clusters
//! vanish; a deleted file takes its contexts with it.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};

use kube::config::Kubeconfig;

use super::in_cluster::{IN_CLUSTER, synthesize};
use super::locate::KubeconfigSources;
use super::merge::{MergeError, MergedKubeconfig, refuse_duplicates};
use super::read::{FileProblem, hash_of, read_file_as_written_hashed};
use super::references::{FileReference, referenced_files};
use super::report::{ContextList, SourceReport, SourceState};
use super::summary::summarize;

/// The merged kubeconfig and its context list, from one read of the
/// sources. `generation` grows with every change a client must see
/// (including a rewritten certificate or token file).
#[derive(Debug)]
pub struct Snapshot {
    pub merged: MergedKubeconfig,
    pub list: ContextList,
    pub generation: u64,
}

impl Snapshot {
    /// The certificate, key and token files the merged config points at.
    pub fn referenced_files(&self) -> Vec<FileReference> {
        referenced_files(&self.merged)
    }
}

/// Reads and merges every source once; generation 1.
pub async fn load_snapshot(sources: &KubeconfigSources) -> Snapshot {
    SnapshotLoader::default()
        .load(sources)
        .await
        .into_snapshot(1)
}

/// Reads and merges `sources` with client-go's rules, skipping (and
/// reporting) files that cannot be used.
pub async fn load_contexts(sources: &KubeconfigSources) -> ContextList {
    load_snapshot(sources).await.list
}

/// Reads sources again and again, remembering each file's last good
/// content (the watcher keeps one).
#[derive(Default)]
pub(crate) struct SnapshotLoader {
    last_good: HashMap<PathBuf, Kubeconfig>,
}

/// One load, before it is given a generation.
pub(crate) struct Loaded {
    merged: MergedKubeconfig,
    list: ContextList,
    /// Changes whenever anything a snapshot reader could notice changed:
    /// a source's bytes or state, or a referenced file's bytes.
    pub(crate) fingerprint: u64,
    pub(crate) references: Vec<FileReference>,
}

impl Loaded {
    pub(crate) fn into_snapshot(self, generation: u64) -> Snapshot {
        Snapshot {
            merged: self.merged,
            list: self.list,
            generation,
        }
    }
}

/// What became of one source in one load.
struct Settled {
    state: SourceState,
    /// What to merge: the fresh content, or the last good one.
    config: Option<Kubeconfig>,
    stale: bool,
}

impl SnapshotLoader {
    pub(crate) async fn load(&mut self, sources: &KubeconfigSources) -> Loaded {
        let mut merged = MergedKubeconfig::empty();
        let mut reports = Vec::new();
        let mut stale_files = HashSet::new();
        let mut fingerprint = DefaultHasher::new();
        let mut seen = HashSet::new();

        let files = sources
            .paths
            .iter()
            .map(|p| (p, false))
            .chain(sources.added.iter().map(|p| (p, true)));
        for (path, added) in files {
            seen.insert(path.clone());
            let read = read_file_as_written_hashed(path)
                .await
                .and_then(|(config, hash)| check(path, &config).map(|()| (config, hash)));
            let settled = self.settle(path, read, &mut fingerprint);
            self.merge_one(
                path,
                added,
                settled,
                &mut merged,
                &mut reports,
                &mut stale_files,
            );
        }
        if let Some(source) = &sources.in_cluster {
            let key = PathBuf::from(IN_CLUSTER);
            seen.insert(key.clone());
            let settled = self.settle(&key, synthesize(source).await, &mut fingerprint);
            self.merge_one(
                &key,
                false,
                settled,
                &mut merged,
                &mut reports,
                &mut stale_files,
            );
        }
        // Forget files no longer listed: re-adding one must not resurrect it.
        self.last_good.retain(|path, _| seen.contains(path));

        let references = referenced_files(&merged);
        for reference in &references {
            reference.path.hash(&mut fingerprint);
            // The bytes are hashed, never kept: a token file is a secret.
            let content = tokio::fs::read(&reference.path).await.ok();
            content.map(|bytes| hash_of(&bytes)).hash(&mut fingerprint);
        }
        reports.hash(&mut fingerprint);
        sources.origin.hash(&mut fingerprint);

        let mut contexts = summarize(&merged, &stale_files);
        contexts.sort_by(|a, b| a.name.cmp(&b.name));
        let list = ContextList {
            origin: sources.origin.clone(),
            sources: reports,
            contexts,
            current_context: merged.current_context().map(str::to_owned),
        };
        Loaded {
            merged,
            list,
            fingerprint: fingerprint.finish(),
            references,
        }
    }

    /// Decides what to merge for one source from how reading it went.
    fn settle(
        &mut self,
        key: &Path,
        read: Result<(Kubeconfig, u64), FileProblem>,
        fingerprint: &mut DefaultHasher,
    ) -> Settled {
        let problem = match read {
            Ok((config, content_hash)) => {
                content_hash.hash(fingerprint);
                let contexts = u32::try_from(config.contexts.len()).unwrap_or(u32::MAX);
                self.last_good.insert(key.to_path_buf(), config.clone());
                return Settled {
                    state: SourceState::Loaded { contexts },
                    config: Some(config),
                    stale: false,
                };
            }
            Err(FileProblem::NotFound { .. }) => {
                self.last_good.remove(key);
                return Settled {
                    state: SourceState::Missing,
                    config: None,
                    stale: false,
                };
            }
            Err(problem) => problem,
        };
        let state = match problem {
            FileProblem::Malformed { reason, .. } => SourceState::Malformed { reason },
            FileProblem::Unreadable { source, .. } => SourceState::Unreadable {
                reason: source.to_string(),
            },
            e @ (FileProblem::ReaderFailed { .. } | FileProblem::NotFound { .. }) => {
                SourceState::Unreadable {
                    reason: e.to_string(),
                }
            }
        };
        let config = self.last_good.get(key).cloned();
        Settled {
            state,
            stale: config.is_some(),
            config,
        }
    }

    fn merge_one(
        &self,
        path: &Path,
        added: bool,
        settled: Settled,
        merged: &mut MergedKubeconfig,
        reports: &mut Vec<SourceReport>,
        stale_files: &mut HashSet<PathBuf>,
    ) {
        let shown = path.display().to_string();
        if !matches!(
            settled.state,
            SourceState::Loaded { .. } | SourceState::Missing
        ) {
            tracing::info!(
                path = %shown,
                state = ?settled.state,
                last_good = settled.stale,
                "kubeconfig source not used as is"
            );
        }
        if let Some(config) = settled.config {
            if settled.stale {
                stale_files.insert(path.to_path_buf());
            }
            merged.push_file(path.to_path_buf(), config);
        }
        reports.push(SourceReport {
            path: shown,
            state: settled.state,
            added,
        });
    }
}

/// What kubectl refuses in a single file: another `kind` or `apiVersion`
/// (client-go's decoder only knows `v1` `Config`), or a name defined twice.
fn check(path: &Path, config: &Kubeconfig) -> Result<(), FileProblem> {
    let malformed = |reason: String| FileProblem::Malformed {
        path: path.to_path_buf(),
        reason,
    };
    let set = |v: &Option<String>| v.as_deref().filter(|s| !s.is_empty()).map(str::to_owned);
    // The values are not quoted back: the field may hold anything.
    if set(&config.kind).is_some_and(|k| k != "Config") {
        return Err(malformed(
            "`kind` is not `Config`: this is not a kubeconfig".into(),
        ));
    }
    if set(&config.api_version).is_some_and(|v| v != "v1") {
        return Err(malformed("`apiVersion` is not `v1`".into()));
    }
    refuse_duplicates(path, config).map_err(|e| match e {
        MergeError::DuplicateName { list, name, .. } => malformed(format!(
            "{list} defines {name:?} more than once; kubectl refuses such a file too"
        )),
        MergeError::File(problem) => problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::SourceOrigin;
    use std::fs;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        fs::write(&p, text).expect("write fixture");
        p
    }

    const GOOD: &str = "apiVersion: v1\nkind: Config\ncurrent-context: a\nclusters:\n- name: c\n  cluster: {server: https://a, certificate-authority: ca.crt}\ncontexts:\n- name: a\n  context: {cluster: c}\n";

    #[tokio::test]
    async fn merged_config_keeps_origins_and_list_matches_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a", GOOD);
        let b = write(
            dir.path(),
            "b",
            "contexts:\n- name: a\n  context: {cluster: other}\n- name: b\n  context: {cluster: c}\n",
        );
        let snap = load_snapshot(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![a.clone(), b.clone()],
        ))
        .await;
        assert_eq!(snap.generation, 1);
        assert_eq!(snap.merged.files(), [a.clone(), b.clone()]);
        assert_eq!(snap.merged.context_origin("a"), Some(a.as_path()));
        assert_eq!(snap.merged.context_origin("b"), Some(b.as_path()));
        assert_eq!(snap.merged.cluster_origin("c"), Some(a.as_path()));
        assert_eq!(snap.list.current_context.as_deref(), Some("a"));
        assert_eq!(snap.list.contexts[0].cluster, "c", "first file wins");
        assert!(snap.list.contexts.iter().all(|c| !c.stale));
        let refs = snap.referenced_files();
        assert_eq!(refs.len(), 1);
        assert_eq!(refs[0].path, dir.path().join("ca.crt"));
    }

    #[tokio::test]
    async fn a_file_with_a_name_twice_is_skipped_and_the_rest_merges() {
        let dir = tempfile::tempdir().expect("tempdir");
        let dup = write(
            dir.path(),
            "dup",
            "contexts:\n- name: x\n  context: {cluster: c}\n- name: x\n  context: {cluster: c}\n",
        );
        let a = write(dir.path(), "a", GOOD);
        let snap = load_snapshot(&KubeconfigSources::files(
            SourceOrigin::EnvVar,
            vec![dup, a.clone()],
        ))
        .await;
        let SourceState::Malformed { reason } = &snap.list.sources[0].state else {
            panic!("expected malformed: {:?}", snap.list.sources[0]);
        };
        assert!(
            reason.contains("contexts") && reason.contains("\"x\""),
            "{reason}"
        );
        assert_eq!(snap.merged.files(), [a]);
        assert_eq!(snap.list.contexts.len(), 1);
    }

    #[tokio::test]
    async fn last_good_content_stays_merged_and_stale_until_fixed_or_deleted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a", GOOD);
        let sources = KubeconfigSources::files(SourceOrigin::EnvVar, vec![a.clone()]);
        let mut loader = SnapshotLoader::default();
        let first = loader.load(&sources).await;

        write(dir.path(), "a", "contexts: [\n");
        let broken = loader.load(&sources).await;
        assert_ne!(broken.fingerprint, first.fingerprint);
        assert!(matches!(
            broken.list.sources[0].state,
            SourceState::Malformed { .. }
        ));
        assert_eq!(broken.list.contexts.len(), 1);
        assert!(broken.list.contexts[0].stale);
        assert_eq!(broken.merged.context_origin("a"), Some(a.as_path()));

        write(dir.path(), "a", GOOD);
        let fixed = loader.load(&sources).await;
        assert_eq!(fixed.fingerprint, first.fingerprint);
        assert!(!fixed.list.contexts[0].stale);

        write(dir.path(), "a", "contexts: [\n");
        fs::remove_file(&a).expect("remove");
        let gone = loader.load(&sources).await;
        assert_eq!(gone.list.sources[0].state, SourceState::Missing);
        assert!(gone.list.contexts.is_empty());
    }

    #[tokio::test]
    async fn a_file_broken_from_the_start_has_nothing_to_fall_back_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a", "contexts: [\n");
        let snap = load_snapshot(&KubeconfigSources::files(SourceOrigin::EnvVar, vec![a])).await;
        assert!(snap.list.contexts.is_empty());
        assert_eq!(snap.list.problems().count(), 1);
    }

    #[tokio::test]
    async fn a_referenced_file_change_changes_the_fingerprint() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a", GOOD);
        write(dir.path(), "ca.crt", "one");
        let sources = KubeconfigSources::files(SourceOrigin::EnvVar, vec![a]);
        let mut loader = SnapshotLoader::default();
        let before = loader.load(&sources).await.fingerprint;
        assert_eq!(loader.load(&sources).await.fingerprint, before);
        write(dir.path(), "ca.crt", "two");
        assert_ne!(loader.load(&sources).await.fingerprint, before);
    }

    #[tokio::test]
    async fn added_files_merge_after_the_list_and_are_marked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let a = write(dir.path(), "a", GOOD);
        let extra = write(
            dir.path(),
            "extra",
            "current-context: e\ncontexts:\n- name: a\n  context: {cluster: shadowed}\n- name: e\n  context: {cluster: c}\n",
        );
        let sources = KubeconfigSources::files(SourceOrigin::EnvVar, vec![a.clone()])
            .with_added([extra.clone(), a]);
        let snap = load_snapshot(&sources).await;
        let added: Vec<(bool, &str)> = snap
            .list
            .sources
            .iter()
            .map(|s| (s.added, s.path.as_str()))
            .collect();
        assert_eq!(added.len(), 2, "a listed file is read once: {added:?}");
        assert_eq!(added[1], (true, extra.to_str().expect("utf-8")));
        assert!(!added[0].0);
        assert_eq!(snap.list.current_context.as_deref(), Some("a"));
        assert_eq!(snap.list.contexts[0].cluster, "c");
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
