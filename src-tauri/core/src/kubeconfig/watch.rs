//! Live reload: a new [`Snapshot`] whenever a kubeconfig source or a file it
//! points at (CA, client certificate/key, token file) changes.
//!
//! notify's callback runs on its own thread and only forwards events into a
//! channel; one async task filters them, debounces, reloads and publishes on
//! a `tokio::sync::watch` channel. A snapshot is published only when
//! something changed (see the loader's fingerprint), and after each reload
//! the set of watched directories is worked out again, since the config may
//! now point at other files.

mod targets;

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};
use thiserror::Error;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::locate::KubeconfigSources;
use super::references::FileReference;
use super::snapshot::{Snapshot, SnapshotLoader};
use targets::{Targets, files_to_watch, is_relevant, plan};

/// Quiet time after the last event before reloading: one save is often
/// several events (truncate, write, close; or create, write, rename).
const DEBOUNCE: Duration = Duration::from_millis(150);
/// A steady stream of events still reloads this often.
const MAX_DELAY: Duration = Duration::from_millis(600);

#[derive(Debug, Error)]
pub enum WatchError {
    #[error("cannot watch kubeconfig files: {0}")]
    Notify(#[from] notify::Error),
}

enum Command {
    /// The sender, when given, hears once the reload is published.
    SetSources(KubeconfigSources, Option<oneshot::Sender<()>>),
    Reload(Option<oneshot::Sender<()>>),
}

/// Keeps the kubeconfig snapshot live. Dropping it stops watching.
pub struct Watcher {
    commands: mpsc::UnboundedSender<Command>,
    task: JoinHandle<()>,
}

impl Watcher {
    /// Loads `sources`, starts watching, and returns the receiver of
    /// snapshots (it already holds the first one).
    pub async fn start(
        sources: KubeconfigSources,
    ) -> Result<(Self, watch::Receiver<Arc<Snapshot>>), WatchError> {
        let (event_tx, events) = mpsc::unbounded_channel();
        // Runs on notify's thread: hand over and return, never block.
        let notifier = notify::recommended_watcher(move |event| {
            let _ = event_tx.send(event);
        })?;
        let mut state = State {
            loader: SnapshotLoader::default(),
            sources,
            notifier: Arc::new(Mutex::new(notifier)),
            targets: Targets::default(),
            fingerprint: None,
            generation: 0,
        };
        let (first, references) = state.load().await;
        let (snapshots, receiver) = watch::channel(Arc::new(first));
        if state.rewatch(&references).await {
            // Something may have changed before the watches were in place.
            state.reload(&snapshots).await;
        }
        let (commands, command_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(state.run(snapshots, events, command_rx));
        Ok((Self { commands, task }, receiver))
    }

    /// Replaces the sources (the user added or removed a file) and reloads.
    pub fn set_sources(&self, sources: KubeconfigSources) {
        let _ = self.commands.send(Command::SetSources(sources, None));
    }

    /// Reloads now, publishing only if something changed.
    pub fn reload(&self) {
        let _ = self.commands.send(Command::Reload(None));
    }

    /// [`Self::set_sources`], returning once the new snapshot is published
    /// (so a caller reading the receiver next sees it).
    pub async fn set_sources_and_wait(&self, sources: KubeconfigSources) {
        let (done, wait) = oneshot::channel();
        if self
            .commands
            .send(Command::SetSources(sources, Some(done)))
            .is_ok()
        {
            let _ = wait.await;
        }
    }

    /// [`Self::reload`], returning once it is done.
    pub async fn reload_and_wait(&self) {
        let (done, wait) = oneshot::channel();
        if self.commands.send(Command::Reload(Some(done))).is_ok() {
            let _ = wait.await;
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct State {
    loader: SnapshotLoader,
    sources: KubeconfigSources,
    /// Locked only inside `spawn_blocking`: notify's calls wait for its thread.
    notifier: Arc<Mutex<RecommendedWatcher>>,
    targets: Targets,
    fingerprint: Option<u64>,
    generation: u64,
}

type NotifyEvent = notify::Result<notify::Event>;

impl State {
    async fn run(
        mut self,
        snapshots: watch::Sender<Arc<Snapshot>>,
        mut events: mpsc::UnboundedReceiver<NotifyEvent>,
        mut commands: mpsc::UnboundedReceiver<Command>,
    ) {
        // (first relevant event, deadline) while a reload is pending.
        let mut pending: Option<(Instant, Instant)> = None;
        loop {
            let deadline = pending.map(|(_, deadline)| deadline);
            tokio::select! {
                command = commands.recv() => match command {
                    None => break,
                    Some(Command::SetSources(sources, done)) => {
                        self.sources = sources;
                        pending = None;
                        self.reload(&snapshots).await;
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                    }
                    Some(Command::Reload(done)) => {
                        pending = None;
                        self.reload(&snapshots).await;
                        if let Some(done) = done {
                            let _ = done.send(());
                        }
                    }
                },
                Some(event) = events.recv() => {
                    if self.matters(&event) {
                        let now = Instant::now();
                        let first = pending.map_or(now, |(first, _)| first);
                        pending = Some((first, (now + DEBOUNCE).min(first + MAX_DELAY)));
                    }
                }
                () = sleep_until(deadline), if deadline.is_some() => {
                    pending = None;
                    self.reload(&snapshots).await;
                }
            }
            if snapshots.is_closed() {
                tracing::debug!("no snapshot receivers left; kubeconfig watcher stops");
                break;
            }
        }
    }

    fn matters(&self, event: &NotifyEvent) -> bool {
        match event {
            Ok(event) => is_relevant(event, &self.targets.files),
            Err(e) => {
                // Lost events (queue overflow): reload to be safe.
                tracing::warn!(error = %e, "file watcher error; reloading kubeconfig");
                true
            }
        }
    }

    /// Loads, publishes when something changed, and re-targets the watches;
    /// loads again when new directories are watched, for changes that
    /// happened before those watches existed.
    async fn reload(&mut self, snapshots: &watch::Sender<Arc<Snapshot>>) {
        for _ in 0..3 {
            let started = Instant::now();
            let fingerprint = self.fingerprint;
            let (snapshot, references) = self.load().await;
            if self.fingerprint != fingerprint {
                tracing::info!(
                    generation = snapshot.generation,
                    contexts = snapshot.list.contexts.len(),
                    problems = snapshot.list.problems().count(),
                    took_ms = started.elapsed().as_millis(),
                    "kubeconfig reloaded"
                );
                snapshots.send_replace(Arc::new(snapshot));
            }
            if !self.rewatch(&references).await {
                break;
            }
        }
    }

    /// One load; the generation moves on only when the fingerprint changed.
    async fn load(&mut self) -> (Snapshot, Vec<FileReference>) {
        let loaded = self.loader.load(&self.sources).await;
        if self.fingerprint != Some(loaded.fingerprint) {
            self.fingerprint = Some(loaded.fingerprint);
            self.generation += 1;
        }
        let references = loaded.references.clone();
        (loaded.into_snapshot(self.generation), references)
    }

    /// Points the watches at the current files; true when a directory is
    /// watched that was not before.
    async fn rewatch(&mut self, references: &[FileReference]) -> bool {
        let files = files_to_watch(&self.sources, references);
        let notifier = Arc::clone(&self.notifier);
        let old_dirs = self.targets.dirs.clone();
        let applied =
            tokio::task::spawn_blocking(move || apply(&notifier, &old_dirs, plan(&files))).await;
        match applied {
            Ok(targets) => {
                let added = targets.dirs.difference(&self.targets.dirs).count() > 0;
                self.targets = targets;
                added
            }
            Err(e) => {
                tracing::warn!(error = %e, "re-targeting kubeconfig watches failed");
                false
            }
        }
    }
}

/// Adds and removes directory watches (blocking: notify waits for its
/// thread). Every wanted directory is (re-)added: one that was deleted and
/// created again is a new directory to inotify.
fn apply(
    notifier: &Mutex<RecommendedWatcher>,
    old_dirs: &HashSet<PathBuf>,
    mut wanted: Targets,
) -> Targets {
    let Ok(mut notifier) = notifier.lock() else {
        return Targets::default();
    };
    for dir in old_dirs.difference(&wanted.dirs) {
        // Fails when the directory is gone already, which is fine.
        let _ = notifier.unwatch(dir);
    }
    wanted.dirs.retain(
        |dir| match notifier.watch(dir, RecursiveMode::NonRecursive) {
            Ok(()) => true,
            Err(e) => {
                tracing::debug!(dir = %dir.display(), error = %e, "cannot watch directory");
                false
            }
        },
    );
    tracing::debug!(dirs = ?wanted.dirs, "watching kubeconfig directories");
    wanted
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
