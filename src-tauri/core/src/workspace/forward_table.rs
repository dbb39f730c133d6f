//! The workspace's port-forwards across every context: the saved ones
//! (from settings, in their order) and, for each, the running
//! [`Forward`] or the last status it ended in. Every change (a forward
//! added, started, stopped, removed, or its state moving on) wakes
//! [`ForwardTable::changed`], which the workspace turns into one event.
//!
//! Starting is async (the target is resolved, the port bound) and is not
//! done under the lock: [`ForwardTable::begin_start`] hands out a
//! generation, and [`ForwardTable::finish_start`] installs the result only
//! if nothing (a stop, another start) came in between.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;
use tokio::task::JoinHandle;

use super::forward_view::{ForwardView, view};
use super::lock::lock;
use crate::forward::local_port::stable_port_avoiding;
use crate::forward::{Forward, ForwardState, ForwardStatus};
use crate::settings::SavedForward;

pub(super) struct ForwardTable {
    entries: Mutex<Vec<Entry>>,
    /// Woken on every change of the set or of a state.
    changed: Arc<Notify>,
}

struct Entry {
    saved: SavedForward,
    run: Run,
    /// Bumped by every start and stop: a start that finishes late finds
    /// it moved on and drops its forward.
    generation: u64,
}

enum Run {
    /// Not running: never started, stopped, or failed; the last status.
    Idle(ForwardStatus),
    Starting,
    /// Running, and the task that wakes `changed` when its state moves.
    Running(Forward, JoinHandle<()>),
}

impl Drop for Run {
    fn drop(&mut self) {
        if let Run::Running(forward, watcher) = self {
            watcher.abort();
            forward.stop();
        }
    }
}

impl Entry {
    fn status(&self) -> ForwardStatus {
        match &self.run {
            Run::Idle(status) => status.clone(),
            Run::Starting => ForwardStatus::new(ForwardState::Starting),
            Run::Running(forward, _) => forward.status(),
        }
    }

    fn active(&self) -> bool {
        match &self.run {
            Run::Idle(_) => false,
            Run::Starting => true,
            Run::Running(forward, _) => forward.status().state.is_active(),
        }
    }
}

impl ForwardTable {
    pub(super) fn new(saved: &[SavedForward]) -> Self {
        let table = Self {
            entries: Mutex::new(Vec::new()),
            changed: Arc::new(Notify::new()),
        };
        for s in saved {
            table.upsert(s.clone());
        }
        table
    }

    /// What wakes on every change.
    pub(super) fn changed(&self) -> Arc<Notify> {
        self.changed.clone()
    }

    pub(super) fn views(&self) -> Vec<ForwardView> {
        lock(&self.entries)
            .iter()
            .map(|e| view(&e.saved, e.status()))
            .collect()
    }

    pub(super) fn view(&self, id: &str) -> Option<ForwardView> {
        lock(&self.entries)
            .iter()
            .find(|e| e.saved.id() == id)
            .map(|e| view(&e.saved, e.status()))
    }

    pub(super) fn saved(&self, id: &str) -> Option<SavedForward> {
        lock(&self.entries)
            .iter()
            .find(|e| e.saved.id() == id)
            .map(|e| e.saved.clone())
    }

    pub(super) fn all_saved(&self) -> Vec<SavedForward> {
        lock(&self.entries)
            .iter()
            .map(|e| e.saved.clone())
            .collect()
    }

    /// Chooses the local port of `id`'s first start (see
    /// [`stable_port_avoiding`]): never one another saved forward
    /// remembers, one choice at a time (two forwards started together
    /// cannot both pick the same free port). Remembered at once.
    pub(super) fn choose_port(&self, id: &str, upstream: u16) -> u16 {
        let mut entries = lock(&self.entries);
        let taken: Vec<u16> = entries
            .iter()
            .filter(|e| e.saved.id() != id)
            .map(|e| e.saved.local_port)
            .filter(|p| *p != 0)
            .collect();
        let port =
            stable_port_avoiding(id, None, upstream, IpAddr::V4(Ipv4Addr::LOCALHOST), &taken);
        if let Some(entry) = entries.iter_mut().find(|e| e.saved.id() == id) {
            entry.saved.local_port = port;
        }
        port
    }

    /// Running or starting.
    pub(super) fn is_active(&self, id: &str) -> bool {
        lock(&self.entries)
            .iter()
            .any(|e| e.saved.id() == id && e.active())
    }

    /// Adds `saved` (stopped) or updates the saved part of its entry.
    pub(super) fn upsert(&self, saved: SavedForward) {
        let id = saved.id();
        let mut entries = lock(&self.entries);
        match entries.iter_mut().find(|e| e.saved.id() == id) {
            Some(entry) => entry.saved = saved,
            None => entries.push(Entry {
                saved,
                run: Run::Idle(ForwardStatus::new(ForwardState::Stopped)),
                generation: 0,
            }),
        }
        drop(entries);
        self.changed.notify_one();
    }

    /// Marks `id` as starting (stopping what runs); its generation, or
    /// `None` when there is no such forward.
    pub(super) fn begin_start(&self, id: &str) -> Option<u64> {
        let mut entries = lock(&self.entries);
        let entry = entries.iter_mut().find(|e| e.saved.id() == id)?;
        entry.generation += 1;
        entry.run = Run::Starting;
        let generation = entry.generation;
        drop(entries);
        self.changed.notify_one();
        Some(generation)
    }

    /// Installs what starting `id` gave, unless a stop or another start
    /// came since `generation` (the forward is then dropped: stopped).
    pub(super) fn finish_start(&self, id: &str, generation: u64, started: Result<Forward, String>) {
        let mut entries = lock(&self.entries);
        let Some(entry) = entries
            .iter_mut()
            .find(|e| e.saved.id() == id && e.generation == generation)
        else {
            return;
        };
        entry.run = match started {
            Ok(forward) => {
                let watcher = tokio::spawn(wake_on_change(forward.subscribe(), self.changed()));
                Run::Running(forward, watcher)
            }
            Err(reason) => Run::Idle(ForwardStatus::new(ForwardState::Failed { reason })),
        };
        drop(entries);
        self.changed.notify_one();
    }

    /// Stops `id`, keeping its counters; its view after, or `None` when
    /// there is no such forward.
    pub(super) fn stop(&self, id: &str) -> Option<ForwardView> {
        let mut entries = lock(&self.entries);
        let entry = entries.iter_mut().find(|e| e.saved.id() == id)?;
        entry.generation += 1;
        let mut last = entry.status();
        last.state = ForwardState::Stopped;
        last.listening.clear();
        last.connections_active = 0;
        entry.run = Run::Idle(last);
        let shown = view(&entry.saved, entry.status());
        drop(entries);
        self.changed.notify_one();
        Some(shown)
    }

    /// Stops and forgets `id`; false when there was none.
    pub(super) fn remove(&self, id: &str) -> bool {
        let mut entries = lock(&self.entries);
        let before = entries.len();
        entries.retain(|e| e.saved.id() != id);
        let removed = entries.len() != before;
        drop(entries);
        if removed {
            self.changed.notify_one();
        }
        removed
    }
}

/// Wakes `changed` each time the forward's state, Pod or error changes,
/// until the forward is gone.
async fn wake_on_change(
    mut status: tokio::sync::watch::Receiver<ForwardStatus>,
    changed: Arc<Notify>,
) {
    while status.changed().await.is_ok() {
        changed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::{RemotePort, TargetKind};
    use crate::port_kind::PortKind;

    fn saved(name: &str) -> SavedForward {
        SavedForward {
            context: "ctx".into(),
            namespace: "team-a".into(),
            kind: TargetKind::Service,
            name: name.into(),
            remote: RemotePort::Number(5432),
            local_port: 15432,
            restore: true,
            port_kind: PortKind::Postgres,
        }
    }

    #[tokio::test]
    async fn saved_forwards_start_stopped_in_their_order() {
        let table = ForwardTable::new(&[saved("a"), saved("b")]);
        let views = table.views();
        assert_eq!(
            views
                .iter()
                .map(|v| v.target.name.as_str())
                .collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(
            views
                .iter()
                .all(|v| v.status.state == ForwardState::Stopped)
        );
        assert!(!table.is_active("ctx/team-a/svc/a:5432"));
    }

    #[tokio::test]
    async fn a_start_that_finishes_after_a_stop_is_dropped() {
        let table = ForwardTable::new(&[saved("a")]);
        let id = saved("a").id();
        let woken = table.changed();
        let generation = table.begin_start(&id).expect("known");
        assert!(table.is_active(&id), "starting counts as active");
        assert_eq!(
            table.view(&id).expect("view").status.state,
            ForwardState::Starting
        );
        table.stop(&id).expect("stopped");
        table.finish_start(&id, generation, Err("too late".into()));
        assert_eq!(
            table.view(&id).expect("view").status.state,
            ForwardState::Stopped,
            "the late result is not installed"
        );
        let generation = table.begin_start(&id).expect("known");
        table.finish_start(&id, generation, Err("pod gone".into()));
        assert_eq!(
            table.view(&id).expect("view").status.state,
            ForwardState::Failed {
                reason: "pod gone".into()
            }
        );
        assert!(!table.is_active(&id));
        // Every change woke the announcer (a permit is stored).
        tokio::time::timeout(std::time::Duration::from_secs(1), woken.notified())
            .await
            .expect("woken");
        assert!(table.remove(&id));
        assert!(!table.remove(&id));
        assert!(table.begin_start(&id).is_none());
    }

    #[tokio::test]
    async fn a_first_port_is_never_one_another_forward_remembers() {
        let table = ForwardTable::new(&[saved("a")]);
        let mut b = saved("b");
        b.local_port = 0;
        table.upsert(b.clone());
        let port = table.choose_port(&b.id(), 15432);
        assert_ne!(port, 15432, "a remembers 15432");
        assert_ne!(port, 0);
        assert_eq!(
            table.saved(&b.id()).expect("b").local_port,
            port,
            "remembered"
        );
    }

    #[tokio::test]
    async fn upsert_changes_the_saved_part_only() {
        let table = ForwardTable::new(&[saved("a")]);
        let mut moved = saved("a");
        moved.local_port = 25432;
        moved.restore = false;
        table.upsert(moved.clone());
        assert_eq!(table.all_saved(), [moved]);
        let v = table.view(&saved("a").id()).expect("view");
        assert_eq!(v.local_port, 25432);
        assert_eq!(v.address, "127.0.0.1:25432");
        assert!(!v.restore);
    }
}
