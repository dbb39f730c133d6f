//! One session of a live list: the streams of one client, the index of
//! what they report, and the batcher whose [`Phase`](super::batch::Phase)
//! is the session's state. Runs until the receiver of its updates is gone
//! (or the watch starts over with another client).

use std::time::Instant;

use tokio::sync::mpsc;

use super::batch::{Batcher, Flush, Outbox, Settled};
use super::streams::{SCOPE_KINDS, Signal, StreamId, Streams};
use crate::discovery::fetch::Discovery;
use crate::discovery::index::ServiceIndex;
use crate::discovery::views::{Degraded, ResourceKind, ServiceQuery, ServiceView};

/// The watches of one target, and what they have seen.
pub(super) struct Session {
    discovery: Discovery,
    query: ServiceQuery,
    started: Instant,
    streams: Streams,
    signals: mpsc::Receiver<Signal>,
    index: ServiceIndex,
    batcher: Batcher,
    /// Services cannot be listed in all namespaces: why, and the
    /// namespaces shown instead.
    fallback: Option<Degraded>,
}

impl Session {
    pub fn new(discovery: Discovery, query: ServiceQuery) -> Self {
        let (streams, signals) = Streams::new(discovery.kube().clone());
        Self {
            discovery,
            query,
            started: Instant::now(),
            streams,
            signals,
            index: ServiceIndex::default(),
            batcher: Batcher::default(),
            fallback: None,
        }
    }

    pub async fn run(&mut self, out: &mut Outbox) {
        self.streams
            .start_scope(self.query.namespace.clone().as_deref());
        self.streams.start((ResourceKind::Nodes, None));
        tracing::debug!(context = %out.context(), query = ?self.query, "watching services");
        loop {
            let deadline = self.batcher.deadline();
            let signal = tokio::select! {
                s = self.signals.recv() => s,
                () = sleep_until(deadline) => None,
            };
            if let Some(signal) = signal {
                self.apply(signal);
                // Take whatever else is queued before deciding.
                while let Ok(s) = self.signals.try_recv() {
                    self.apply(s);
                }
            }
            self.flush(out);
            if out.closed() {
                return;
            }
        }
    }

    fn flush(&mut self, out: &mut Outbox) {
        let table = &self.streams.table;
        let settled = Settled {
            services: table.services_settled(),
            all: table.all_settled(),
        };
        let base = self.discovery.base();
        match self
            .batcher
            .flush(Instant::now(), settled, out.overflowed())
        {
            Flush::Wait => {}
            Flush::Partial => {
                let services: Vec<ServiceView> = self
                    .index
                    .services()
                    .chain(table.services_listing())
                    .map(|s| self.index.unjoined_view(base, s))
                    .collect();
                out.partial(services);
            }
            Flush::Reset => {
                let views = self
                    .index
                    .views(base, |namespace| table.slices_listed_for(namespace));
                let took_ms = u32::try_from(self.started.elapsed().as_millis()).unwrap_or(u32::MAX);
                out.reset(views, self.degraded(), took_ms);
            }
            Flush::Batch { degraded, changed } => {
                if degraded {
                    out.degraded(self.degraded());
                }
                if !changed.is_empty() {
                    let views = changed
                        .into_iter()
                        .map(|key| {
                            let known = table.slices_listed_for(&key.namespace);
                            let view = self.index.view(base, &key, known);
                            (key, view)
                        })
                        .collect();
                    out.changes(views);
                }
            }
        }
    }

    /// What cannot be read now.
    fn degraded(&self) -> Vec<Degraded> {
        let mut out: Vec<Degraded> = self.fallback.iter().cloned().collect();
        out.extend(self.streams.table.failures().cloned());
        out
    }

    fn apply(&mut self, signal: Signal) {
        let table = &mut self.streams.table;
        match signal {
            Signal::ListStarted(id) => table.list_started(&id),
            Signal::Listing(id, objects) => {
                let services = id.0 == ResourceKind::Services;
                if table.chunk(id, objects) && services {
                    self.batcher.services_arriving();
                }
            }
            Signal::Failed(id, d) => self.failed(id, d),
            Signal::Recovered(id) => {
                if table.recovered(&id) {
                    self.batcher.degraded_changed();
                }
            }
            Signal::Listed(id, rest) => {
                let Some((objects, was_failing)) = table.listed(&id, rest) else {
                    return;
                };
                if was_failing {
                    self.batcher.degraded_changed();
                }
                let (kind, scope) = id;
                self.index.relist(kind, scope.as_deref(), objects);
                if kind == ResourceKind::EndpointSlices {
                    // Counts are known now for this scope.
                    self.index.touch_services_in(scope.as_deref());
                }
            }
            Signal::Applied(id, object) => {
                if table.contains(&id) {
                    self.index.upsert(object);
                }
            }
            Signal::Deleted(id, object) => {
                if table.contains(&id) {
                    self.index.remove(&object);
                }
            }
        }
        let touched = self.index.take_touched();
        self.batcher.touched(touched, Instant::now());
    }

    fn failed(&mut self, id: StreamId, d: Degraded) {
        let table = &mut self.streams.table;
        if !table.contains(&id) {
            return;
        }
        // Not allowed to list services in all namespaces: show the
        // namespaces the user can name instead.
        if id == (ResourceKind::Services, None) && d.forbidden && !table.has_listed(&id) {
            let namespaces = self.discovery.fallback_namespaces(&self.query);
            tracing::info!(context = %self.discovery.base().context, ?namespaces, "services cannot be listed in all namespaces; watching namespaces one by one");
            for kind in SCOPE_KINDS {
                self.streams.stop(&(kind, None));
            }
            for ns in &namespaces {
                self.streams.start_scope(Some(ns));
            }
            self.fallback = Some(Degraded {
                reason: format!("{} — showing {}", d.reason, namespaces.join(", ")),
                ..d
            });
            self.batcher.degraded_changed();
            return;
        }
        if table.failed(&id, d) {
            self.batcher.degraded_changed();
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(t) => tokio::time::sleep_until(tokio::time::Instant::from_std(t)).await,
        None => std::future::pending().await,
    }
}
