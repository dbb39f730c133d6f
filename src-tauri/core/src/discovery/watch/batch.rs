//! The output of a live list: when to send what ([`Batcher`], whose
//! [`Phase`] is the session's state), and the sending ([`Outbox`], which
//! also publishes what it sends for [`ServiceRows`](crate::discovery::rows::ServiceRows)).
//!
//! - While the first list arrives, `partial` lists of what came so far —
//!   the first chunk at once, then at most every [`PARTIAL_EVERY`].
//! - A `reset` with the whole list once every service stream has listed
//!   (or failed); slices, ingresses and nodes get [`AUX_GRACE`] more to
//!   join it. Again whenever an update could not be queued.
//! - Then `changed` batches, at most one per [`BATCH`], with only the views
//!   that really changed; `degraded` when a kind fails or recovers.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use crate::discovery::rows::Published;
use crate::discovery::views::{
    Degraded, ServiceKey, ServiceListChange, ServiceListUpdate, ServiceView,
};

/// Changes are sent in batches at most this often.
pub const BATCH: Duration = Duration::from_millis(50);
/// After the services are listed, slices, ingresses and nodes get this
/// long to be in the first list; later they arrive as changes.
pub const AUX_GRACE: Duration = Duration::from_millis(300);
/// While a first list arrives, the rows so far are shown at most this often.
pub const PARTIAL_EVERY: Duration = Duration::from_secs(1);

/// Where a session is in its output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Phase {
    /// No complete list sent yet: the rows so far go out as `partial` lists.
    FirstList {
        /// Services arrived since the last partial list.
        partial_due: bool,
        partial_sent_at: Option<Instant>,
        /// When the service streams had all listed (or failed) first; the
        /// other kinds get [`AUX_GRACE`] from then.
        services_listed_at: Option<Instant>,
    },
    /// The complete list went out (a `reset`); changes go out in batches.
    Live {
        /// A kind failed or recovered since the last batch.
        degraded_due: bool,
    },
}

/// What the streams have told of their first lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Settled {
    /// Every service stream has listed or is failing.
    pub services: bool,
    /// Every stream has.
    pub all: bool,
}

/// What to send now.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Flush {
    Wait,
    /// The rows so far.
    Partial,
    /// The whole list.
    Reset,
    /// The failures of now if `degraded`, and the views of `changed`.
    Batch {
        degraded: bool,
        changed: HashSet<ServiceKey>,
    },
}

/// Decides when each update is due; see the module documentation. Pure:
/// the time is given.
#[derive(Debug)]
pub(super) struct Batcher {
    phase: Phase,
    /// Services whose view may have changed since the last batch.
    dirty: HashSet<ServiceKey>,
    dirty_since: Option<Instant>,
}

impl Default for Batcher {
    fn default() -> Self {
        Self {
            phase: Phase::FirstList {
                partial_due: false,
                partial_sent_at: None,
                services_listed_at: None,
            },
            dirty: HashSet::new(),
            dirty_since: None,
        }
    }
}

impl Batcher {
    #[cfg(test)]
    pub fn phase(&self) -> &Phase {
        &self.phase
    }

    /// Services whose view may have changed. Before the complete list
    /// goes out there is nothing to change: that list will have them.
    pub fn touched(&mut self, keys: HashSet<ServiceKey>, now: Instant) {
        if keys.is_empty() || matches!(self.phase, Phase::FirstList { .. }) {
            return;
        }
        if self.dirty.is_empty() {
            self.dirty = keys;
        } else {
            self.dirty.extend(keys);
        }
        self.dirty_since.get_or_insert(now);
    }

    /// Part of a service list arrived (shown early while the first list
    /// is under way).
    pub fn services_arriving(&mut self) {
        if let Phase::FirstList { partial_due, .. } = &mut self.phase {
            *partial_due = true;
        }
    }

    /// A kind failed or recovered (the first list carries the failures of
    /// its time; after it, a `degraded` update).
    pub fn degraded_changed(&mut self) {
        if let Phase::Live { degraded_due } = &mut self.phase {
            *degraded_due = true;
        }
    }

    /// When the next update may be due without a new signal.
    pub fn deadline(&self) -> Option<Instant> {
        match &self.phase {
            Phase::FirstList {
                services_listed_at: Some(t),
                ..
            } => Some(*t + AUX_GRACE),
            Phase::FirstList {
                partial_due,
                partial_sent_at,
                ..
            } => partial_sent_at
                .filter(|_| *partial_due)
                .map(|t| t + PARTIAL_EVERY),
            Phase::Live { .. } => self.dirty_since.map(|t| t + BATCH),
        }
    }

    /// What to send at `now`, the phase moved on as if it was sent.
    /// `overflowed`: an update could not be queued, so the next one must
    /// be a reset.
    pub fn flush(&mut self, now: Instant, settled: Settled, overflowed: bool) -> Flush {
        match &mut self.phase {
            Phase::Live { degraded_due } if !overflowed => {
                let degraded = std::mem::take(degraded_due);
                let due = self.dirty_since.is_some_and(|t| now >= t + BATCH);
                let changed = if due {
                    self.dirty_since = None;
                    std::mem::take(&mut self.dirty)
                } else {
                    HashSet::new()
                };
                if !degraded && changed.is_empty() {
                    Flush::Wait
                } else {
                    Flush::Batch { degraded, changed }
                }
            }
            _ => self.reset_when_listed(now, settled, overflowed),
        }
    }

    /// Before the first complete list, or after an overflow: partial lists
    /// (first list only) until the services are listed, then a reset.
    fn reset_when_listed(&mut self, now: Instant, settled: Settled, overflowed: bool) -> Flush {
        if !settled.services {
            if let Phase::FirstList {
                partial_due,
                partial_sent_at,
                ..
            } = &mut self.phase
                && *partial_due
                && partial_sent_at.is_none_or(|t| now >= t + PARTIAL_EVERY)
            {
                *partial_due = false;
                *partial_sent_at = Some(now);
                return Flush::Partial;
            }
            return Flush::Wait;
        }
        if let Phase::FirstList {
            services_listed_at, ..
        } = &mut self.phase
        {
            let listed_at = *services_listed_at.get_or_insert(now);
            if !overflowed && !settled.all && now < listed_at + AUX_GRACE {
                return Flush::Wait;
            }
        }
        self.phase = Phase::Live {
            degraded_due: false,
        };
        self.dirty.clear();
        self.dirty_since = None;
        Flush::Reset
    }
}

/// Where a watch's updates go, and the list as last sent.
pub(super) struct Outbox {
    id: u64,
    context: String,
    tx: mpsc::Sender<ServiceListUpdate>,
    /// An update was dropped (the receiver did not keep up): the next one
    /// must be a reset.
    overflowed: bool,
    published: Arc<Mutex<Published>>,
}

impl Outbox {
    pub fn new(
        id: u64,
        context: String,
        tx: mpsc::Sender<ServiceListUpdate>,
        published: Arc<Mutex<Published>>,
    ) -> Self {
        Self {
            id,
            context,
            tx,
            overflowed: false,
            published,
        }
    }

    pub fn context(&self) -> &str {
        &self.context
    }

    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The receiver is gone.
    pub fn closed(&self) -> bool {
        self.tx.is_closed()
    }

    pub fn send(&mut self, change: ServiceListChange) {
        let update = ServiceListUpdate {
            context: self.context.clone(),
            watch_id: self.id,
            change,
        };
        match self.tx.try_send(update) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full(_)) => {
                tracing::debug!(context = %self.context, "service list updates not taken; a reset follows");
                self.overflowed = true;
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    pub fn published(&self) -> MutexGuard<'_, Published> {
        self.published
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The whole list, `took_ms` after the session started.
    pub fn reset(
        &mut self,
        views: BTreeMap<ServiceKey, ServiceView>,
        degraded: Vec<Degraded>,
        took_ms: u32,
    ) {
        // Published in key order, which is (namespace, name) order.
        let services: Vec<ServiceView> = views.values().cloned().collect();
        {
            let mut p = self.published();
            p.replace(views, true);
            p.set_degraded(degraded.clone());
        }
        tracing::debug!(context = %self.context, services = services.len(), took_ms, "service list complete");
        self.overflowed = false;
        self.send(ServiceListChange::Reset {
            services,
            degraded,
            took_ms,
        });
    }

    /// The rows of a list under way, without endpoint counts.
    pub fn partial(&mut self, mut services: Vec<ServiceView>) {
        services.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        tracing::debug!(context = %self.context, services = services.len(), "first rows of a list under way");
        let views = services.iter().map(|v| (v.key(), v.clone())).collect();
        self.published().replace(views, false);
        self.send(ServiceListChange::Partial { services });
    }

    pub fn degraded(&mut self, degraded: Vec<Degraded>) {
        self.published().set_degraded(degraded.clone());
        self.send(ServiceListChange::Degraded { degraded });
    }

    /// The views of services that may have changed (`None`: gone); only
    /// those that differ from the list as sent go out.
    pub fn changes(&mut self, views: Vec<(ServiceKey, Option<ServiceView>)>) {
        let mut upserted = Vec::new();
        let mut removed = Vec::new();
        {
            let mut p = self.published();
            for (key, view) in views {
                match view {
                    Some(view) => {
                        if p.views.get(&key) != Some(&view) {
                            p.views.insert(key, view.clone());
                            upserted.push(view);
                        }
                    }
                    None => {
                        if p.views.remove(&key).is_some() {
                            removed.push(key);
                        }
                    }
                }
            }
            if !upserted.is_empty() || !removed.is_empty() {
                p.version += 1;
            }
        }
        if upserted.is_empty() && removed.is_empty() {
            return;
        }
        upserted.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        removed.sort();
        self.send(ServiceListChange::Changed { upserted, removed });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discovery::convert::tests::{base, from};
    use crate::discovery::views::ResourceKind;

    const NOT_LISTED: Settled = Settled {
        services: false,
        all: false,
    };
    const SERVICES_LISTED: Settled = Settled {
        services: true,
        all: false,
    };
    const ALL_LISTED: Settled = Settled {
        services: true,
        all: true,
    };
    const MS: Duration = Duration::from_millis(1);

    fn key(name: &str) -> ServiceKey {
        ServiceKey {
            namespace: "ns".into(),
            name: name.into(),
        }
    }

    fn keys(names: &[&str]) -> HashSet<ServiceKey> {
        names.iter().map(|n| key(n)).collect()
    }

    /// A batcher that has sent its complete list at `t`.
    fn live(t: Instant) -> Batcher {
        let mut b = Batcher::default();
        assert_eq!(b.flush(t, ALL_LISTED, false), Flush::Reset);
        b
    }

    fn view(name: &str, ip: &str) -> ServiceView {
        let service: k8s_openapi::api::core::v1::Service = from(serde_json::json!({
            "metadata": { "name": name, "namespace": "ns" },
            "spec": { "clusterIP": ip },
        }));
        crate::discovery::convert::service_view(&base(), &service, Default::default())
    }

    fn outbox(queue: usize) -> (Outbox, mpsc::Receiver<ServiceListUpdate>) {
        let (tx, rx) = mpsc::channel(queue);
        let published = Arc::new(Mutex::new(Published::default()));
        (Outbox::new(7, "ctx".into(), tx, published), rx)
    }

    #[test]
    fn the_first_rows_go_out_at_once_then_at_most_every_partial_every() {
        let t = Instant::now();
        let mut b = Batcher::default();
        assert_eq!(b.flush(t, NOT_LISTED, false), Flush::Wait, "nothing yet");
        assert_eq!(b.deadline(), None);
        b.services_arriving();
        assert_eq!(b.flush(t, NOT_LISTED, false), Flush::Partial);
        assert_eq!(b.flush(t, NOT_LISTED, false), Flush::Wait, "sent");
        b.services_arriving();
        assert_eq!(b.deadline(), Some(t + PARTIAL_EVERY));
        assert_eq!(b.flush(t + 100 * MS, NOT_LISTED, false), Flush::Wait);
        assert_eq!(
            b.flush(t + PARTIAL_EVERY, NOT_LISTED, false),
            Flush::Partial
        );
    }

    #[test]
    fn the_complete_list_gives_the_other_kinds_aux_grace_to_join() {
        let t = Instant::now();
        let mut b = Batcher::default();
        b.services_arriving();
        assert_eq!(b.flush(t, SERVICES_LISTED, false), Flush::Wait);
        assert_eq!(b.deadline(), Some(t + AUX_GRACE));
        assert_eq!(
            b.flush(t + AUX_GRACE - MS, SERVICES_LISTED, false),
            Flush::Wait,
            "no partial list once the services are listed"
        );
        assert_eq!(b.flush(t + AUX_GRACE, SERVICES_LISTED, false), Flush::Reset);
        assert_eq!(
            *b.phase(),
            Phase::Live {
                degraded_due: false
            }
        );
        assert_eq!(b.deadline(), None);
    }

    #[test]
    fn the_complete_list_goes_at_once_when_every_stream_has_listed() {
        let t = Instant::now();
        let mut b = Batcher::default();
        assert_eq!(b.flush(t, SERVICES_LISTED, false), Flush::Wait);
        assert_eq!(b.flush(t + MS, ALL_LISTED, false), Flush::Reset);
    }

    #[test]
    fn the_grace_runs_from_when_the_services_first_listed() {
        let t = Instant::now();
        let mut b = Batcher::default();
        assert_eq!(b.flush(t, SERVICES_LISTED, false), Flush::Wait);
        // A service stream that was failing answers again, then lists.
        b.services_arriving();
        assert_eq!(b.flush(t + MS, NOT_LISTED, false), Flush::Partial);
        assert_eq!(b.deadline(), Some(t + AUX_GRACE));
        assert_eq!(b.flush(t + AUX_GRACE, SERVICES_LISTED, false), Flush::Reset);
    }

    #[test]
    fn after_the_complete_list_changes_go_out_at_most_every_batch() {
        let t = Instant::now();
        let mut b = live(t);
        b.touched(keys(&["a"]), t + MS);
        assert_eq!(b.deadline(), Some(t + MS + BATCH));
        assert_eq!(b.flush(t + 10 * MS, ALL_LISTED, false), Flush::Wait);
        b.touched(keys(&["b"]), t + 20 * MS);
        assert_eq!(b.deadline(), Some(t + MS + BATCH), "from the first change");
        assert_eq!(
            b.flush(t + MS + BATCH, ALL_LISTED, false),
            Flush::Batch {
                degraded: false,
                changed: keys(&["a", "b"])
            }
        );
        assert_eq!(b.deadline(), None);
        assert_eq!(b.flush(t + 2 * BATCH, ALL_LISTED, false), Flush::Wait);
    }

    #[test]
    fn changes_before_the_complete_list_are_in_it_not_sent_again() {
        let t = Instant::now();
        let mut b = Batcher::default();
        b.touched(keys(&["a"]), t);
        b.degraded_changed();
        assert_eq!(b.flush(t, ALL_LISTED, false), Flush::Reset);
        assert_eq!(b.deadline(), None);
        assert_eq!(b.flush(t + BATCH, ALL_LISTED, false), Flush::Wait);
    }

    #[test]
    fn a_failure_after_the_complete_list_goes_out_with_the_next_batch() {
        let t = Instant::now();
        let mut b = live(t);
        b.degraded_changed();
        assert_eq!(
            b.flush(t, ALL_LISTED, false),
            Flush::Batch {
                degraded: true,
                changed: HashSet::new()
            },
            "at once"
        );
        assert_eq!(b.flush(t, ALL_LISTED, false), Flush::Wait);
        b.services_arriving();
        assert_eq!(b.flush(t, NOT_LISTED, false), Flush::Wait, "no partials");
    }

    #[test]
    fn an_update_not_queued_makes_the_next_one_a_reset_once_the_services_are_listed() {
        let t = Instant::now();
        let mut b = live(t);
        b.touched(keys(&["a"]), t);
        b.services_arriving();
        assert_eq!(b.flush(t + BATCH, NOT_LISTED, true), Flush::Wait);
        assert_eq!(
            b.flush(t + BATCH, SERVICES_LISTED, true),
            Flush::Reset,
            "no grace"
        );
        assert_eq!(b.flush(t + 2 * BATCH, ALL_LISTED, false), Flush::Wait);
        // Before the first list too: no grace.
        let mut first = Batcher::default();
        assert_eq!(first.flush(t, SERVICES_LISTED, true), Flush::Reset);
    }

    #[test]
    fn only_views_that_really_changed_go_out() {
        let (mut out, mut rx) = outbox(8);
        out.reset(
            [view("a", "10.0.0.1"), view("b", "10.0.0.2")]
                .into_iter()
                .map(|v| (v.key(), v))
                .collect(),
            Vec::new(),
            5,
        );
        let Ok(first) = rx.try_recv() else {
            panic!("a reset")
        };
        assert_eq!((first.watch_id, first.context.as_str()), (7, "ctx"));
        assert!(
            matches!(first.change, ServiceListChange::Reset { took_ms: 5, ref services, .. } if services.len() == 2)
        );
        let version = out.published().version;

        out.changes(vec![
            (key("a"), Some(view("a", "10.0.0.1"))),
            (key("c"), None),
        ]);
        assert!(rx.try_recv().is_err(), "nothing changed");
        assert_eq!(out.published().version, version);

        out.changes(vec![
            (key("d"), Some(view("d", "10.0.0.4"))),
            (key("a"), None),
            (key("b"), Some(view("b", "10.0.0.9"))),
        ]);
        let Ok(update) = rx.try_recv() else {
            panic!("a change")
        };
        let ServiceListChange::Changed { upserted, removed } = update.change else {
            panic!("changed: {update:?}")
        };
        let names: Vec<&str> = upserted.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["b", "d"]);
        assert_eq!(removed, [key("a")]);
        let p = out.published();
        assert_eq!(p.version, version + 1);
        assert_eq!(
            p.views.keys().cloned().collect::<Vec<_>>(),
            [key("b"), key("d")]
        );
    }

    #[test]
    fn partial_lists_are_sorted_and_published_as_incomplete() {
        let (mut out, mut rx) = outbox(8);
        out.partial(vec![view("b", "10.0.0.2"), view("a", "10.0.0.1")]);
        let Ok(update) = rx.try_recv() else {
            panic!("a partial list")
        };
        let ServiceListChange::Partial { services } = update.change else {
            panic!("partial: {update:?}")
        };
        let names: Vec<&str> = services.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(!out.published().complete);
        assert_eq!(out.published().views.len(), 2);
    }

    #[test]
    fn a_full_queue_is_remembered_until_the_next_reset() {
        let (mut out, mut rx) = outbox(1);
        let failure = Degraded {
            resource: ResourceKind::Ingresses,
            namespace: None,
            reason: "forbidden".into(),
            forbidden: true,
        };
        out.degraded(vec![failure.clone()]);
        assert!(!out.overflowed());
        out.degraded(Vec::new());
        assert!(out.overflowed(), "the second did not fit");
        assert!(
            out.published().degraded.is_empty(),
            "published all the same"
        );
        assert!(rx.try_recv().is_ok());
        out.reset(BTreeMap::new(), vec![failure], 1);
        assert!(!out.overflowed());
        assert!(out.published().complete);
        assert!(matches!(
            rx.try_recv().map(|u| u.change),
            Ok(ServiceListChange::Reset { .. })
        ));
        drop(rx);
        assert!(out.closed());
    }
}
