//! The background task that keeps a status per context: it resolves the
//! login shell's PATH, then after every snapshot, kick and re-probe tick
//! builds the clients whose inputs changed and probes them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use tokio::sync::watch;

use super::clients::{fingerprint, reusable};
use super::events::WorkspaceEvent;
use super::lock::lock;
use super::shared::Shared;
use crate::cluster::probe::probe_all;
use crate::cluster::{ClientEnv, ClusterClient, ClusterProblem, ContextStatus, client_for_context};
use crate::kubeconfig::Snapshot;
use crate::shell_path::{self, ResolvedPath, SearchPath};

/// The background task: PATH, then clients and probes after every snapshot,
/// kick and re-probe tick.
pub(super) async fn drive(shared: Arc<Shared>, mut snapshots: watch::Receiver<Arc<Snapshot>>) {
    let resolved = if shared.options.login_shell_path {
        let shell = match &shared.options.login_shell {
            Some(shell) => shell.clone(),
            None => shell_path::default_login_shell().await,
        };
        ResolvedPath::resolve(
            std::env::var_os("PATH"),
            &shell,
            shell_path::DEFAULT_TIMEOUT,
        )
        .await
    } else {
        ResolvedPath::process_only(std::env::var_os("PATH"))
    };
    shared.path.send_replace(Some(Arc::new(resolved)));
    shared.rebuild_and_probe(true).await;

    let every = shared.options.reprobe_every;
    let mut tick = every.map(|d| {
        let mut i = tokio::time::interval_at(tokio::time::Instant::now() + d, d);
        i.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        i
    });
    loop {
        let step = tokio::select! {
            changed = snapshots.changed() => {
                if changed.is_err() {
                    return;
                }
                let next = snapshots.borrow_and_update().clone();
                shared.mark_checking();
                let _ = shared.events.send(WorkspaceEvent::ContextsChanged(next.list.clone()));
                Step::Rebuild { force: false }
            }
            () = shared.kick.notified() => Step::Rebuild { force: true },
            _ = async {
                match tick.as_mut() {
                    Some(t) => t.tick().await,
                    None => std::future::pending().await,
                }
            } => Step::Reprobe,
        };
        match step {
            Step::Reprobe => shared.probe_existing().await,
            Step::Rebuild { force } => shared.rebuild_and_probe(force).await,
        }
    }
}

enum Step {
    /// Probe the clients there are.
    Reprobe,
    /// Build clients for changed contexts (all of them when forced: the
    /// search path changed or the user asked), then probe.
    Rebuild { force: bool },
}

impl Shared {
    /// New contexts start as "checking"; vanished ones are forgotten.
    pub(super) fn mark_checking(&self) {
        let snapshot = self.snapshot();
        let mut statuses = lock(&self.statuses);
        statuses.retain(|name, _| snapshot.list.contexts.iter().any(|c| &c.name == name));
        for c in &snapshot.list.contexts {
            statuses
                .entry(c.name.clone())
                .or_insert(ContextStatus::Checking);
        }
    }

    fn client_env(&self) -> ClientEnv {
        let extra: Vec<PathBuf> = self
            .settings
            .read(|s| s.extra_path_dirs.iter().map(PathBuf::from).collect());
        let search: SearchPath = match self.path.borrow().as_ref() {
            Some(resolved) => resolved.search_path(&extra),
            None => shell_path::process_search_path(std::env::var_os("PATH").as_deref(), &extra),
        };
        ClientEnv::new(search, self.options.probe_timeout, Duration::from_secs(30))
    }

    /// Builds a client for every context of the snapshot whose inputs
    /// changed (every context when `force`) and probes them all.
    async fn rebuild_and_probe(&self, force: bool) {
        let snapshot = self.snapshot();
        let env = self.client_env();
        let previous = self.clients.all();
        let mut built = Vec::with_capacity(snapshot.list.contexts.len());
        let mut clients = HashMap::new();
        for summary in &snapshot.list.contexts {
            let print = fingerprint(&snapshot, &summary.name).await;
            let result = match reusable(&previous, &summary.name, print, force) {
                Some(client) => Ok(client),
                None => client_for_context(&snapshot.merged, &summary.name, &env).await,
            };
            if let Ok(client) = &result {
                clients.insert(summary.name.clone(), (print, client.clone()));
            }
            built.push((summary.name.clone(), result));
        }
        self.clients.replace(clients);
        self.probe(built).await;
    }

    /// Probes the existing clients again (the periodic check).
    async fn probe_existing(&self) {
        let snapshot = self.snapshot();
        let clients = self.clients.all();
        let statuses = lock(&self.statuses).clone();
        let work: Vec<(String, Result<ClusterClient, ClusterProblem>)> = snapshot
            .list
            .contexts
            .iter()
            .filter_map(|c| match clients.get(&c.name) {
                Some((_, client)) => Some((c.name.clone(), Ok(client.clone()))),
                // A context whose client could not be built keeps its problem.
                None => match statuses.get(&c.name) {
                    Some(ContextStatus::Failed { problem }) => {
                        Some((c.name.clone(), Err(problem.clone())))
                    }
                    _ => None,
                },
            })
            .collect();
        self.probe(work).await;
    }

    async fn probe(&self, work: Vec<(String, Result<ClusterClient, ClusterProblem>)>) {
        let round = self.round.fetch_add(1, Ordering::AcqRel) + 1;
        let mut updates = probe_all(work, self.options.probe_timeout);
        while let Some(update) = updates.recv().await {
            if self.round.load(Ordering::Acquire) != round {
                return;
            }
            let changed = {
                let mut statuses = lock(&self.statuses);
                if !statuses.contains_key(&update.context) {
                    continue;
                }
                let old = statuses.insert(update.context.clone(), update.status.clone());
                old.as_ref() != Some(&update.status)
            };
            if changed {
                if let ContextStatus::Failed { problem } = &update.status {
                    tracing::info!(context = %update.context, %problem, "context unavailable");
                }
                let _ = self.events.send(WorkspaceEvent::Status(update));
            }
        }
    }
}
