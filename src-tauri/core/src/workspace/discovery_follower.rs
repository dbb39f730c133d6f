//! A context's discovery as of now, and a live service list that follows
//! it: when the context's client is rebuilt (kubeconfig edited) or the
//! proxy port changes, the list starts over with the new one. The follower
//! wakes when the clients are replaced or the settings change, never on a
//! timer.

use std::sync::{Arc, Weak};

use tokio::sync::watch;

use super::shared::Shared;
use crate::discovery::{Discovery, ServiceQuery, ServiceWatch};
use crate::settings::Settings;

/// What a context's discovery is made of: its client's fingerprint and the
/// proxy port.
pub(super) type DiscoveryPrint = (u64, u16);

/// Where a follower reads a context's discovery from.
pub(super) trait DiscoverySource: Send + Sync + 'static {
    type Discovery: Send + Sync + 'static;

    /// The context's discovery with what it was made of; `None` while it
    /// has no client.
    fn current(&self, context: &str) -> Option<(DiscoveryPrint, Self::Discovery)>;
}

impl DiscoverySource for Shared {
    type Discovery = Discovery;

    fn current(&self, context: &str) -> Option<(DiscoveryPrint, Discovery)> {
        let (print, client) = self.clients.entry(context)?;
        let port = self.settings.read(|s| s.proxy.port);
        let snapshot = self.snapshot();
        let namespace = snapshot
            .list
            .contexts
            .iter()
            .find(|c| c.name == context)
            .and_then(|c| c.namespace.clone());
        Some((
            (print, port),
            Discovery::new(&client, namespace.as_deref(), port),
        ))
    }
}

/// What tells a follower to look again: the clients were replaced, or the
/// settings changed.
pub(super) struct Changes {
    pub(super) clients: watch::Receiver<u64>,
    pub(super) settings: watch::Receiver<Settings>,
}

impl Changes {
    /// Waits for the next change; false once either sender is gone (the
    /// workspace was dropped).
    async fn next(&mut self) -> bool {
        tokio::select! {
            changed = self.clients.changed() => changed.is_ok(),
            changed = self.settings.changed() => changed.is_ok(),
        }
    }
}

/// The live service list of `context` for `query`, following its client
/// and the proxy port.
pub(super) fn watch_services(
    shared: &Arc<Shared>,
    context: &str,
    query: ServiceQuery,
) -> ServiceWatch {
    // Subscribed before the first read: a change in between is not missed.
    let changes = Changes {
        clients: shared.clients.subscribe(),
        settings: shared.settings.subscribe(),
    };
    let first = shared.current(context);
    let print = first.as_ref().map(|(print, _)| *print);
    let (tx, rx) = watch::channel(first.map(|(_, discovery)| discovery));
    let watch = ServiceWatch::follow(context, rx, query);
    tokio::spawn(follow(
        Arc::downgrade(shared),
        context.to_owned(),
        changes,
        tx,
        print,
    ));
    watch
}

/// Publishes the context's discovery again whenever what it is made of
/// changes; ends with the watch (its receiver dropped) or the source.
async fn follow<S: DiscoverySource>(
    source: Weak<S>,
    context: String,
    mut changes: Changes,
    tx: watch::Sender<Option<S::Discovery>>,
    mut last: Option<DiscoveryPrint>,
) {
    loop {
        tokio::select! {
            () = tx.closed() => return,
            open = changes.next() => if !open {
                return;
            },
        }
        let Some(source) = source.upgrade() else {
            return;
        };
        let next = source.current(&context);
        let print = next.as_ref().map(|(print, _)| *print);
        if print != last {
            tracing::debug!(%context, "the context's client changed: its service watch starts over");
            last = print;
            tx.send_replace(next.map(|(_, discovery)| discovery));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A context's discovery stand-in: what it was made of, and a name.
    #[derive(Default)]
    struct Fake {
        now: Mutex<Option<(DiscoveryPrint, &'static str)>>,
        reads: AtomicUsize,
    }

    impl Fake {
        fn set(&self, next: Option<(DiscoveryPrint, &'static str)>) {
            *self.now.lock().expect("lock") = next;
        }
    }

    impl DiscoverySource for Fake {
        type Discovery = &'static str;

        fn current(&self, context: &str) -> Option<(DiscoveryPrint, &'static str)> {
            assert_eq!(context, "ctx");
            self.reads.fetch_add(1, Ordering::SeqCst);
            *self.now.lock().expect("lock")
        }
    }

    struct Setup {
        fake: Arc<Fake>,
        clients: watch::Sender<u64>,
        settings: watch::Sender<Settings>,
        out: watch::Receiver<Option<&'static str>>,
        task: tokio::task::JoinHandle<()>,
    }

    fn start(first: Option<(DiscoveryPrint, &'static str)>) -> Setup {
        let fake = Arc::new(Fake::default());
        fake.set(first);
        let clients = watch::Sender::new(0);
        let settings = watch::Sender::new(Settings::default());
        let changes = Changes {
            clients: clients.subscribe(),
            settings: settings.subscribe(),
        };
        let (tx, out) = watch::channel(first.map(|(_, d)| d));
        let task = tokio::spawn(follow(
            Arc::downgrade(&fake),
            "ctx".to_owned(),
            changes,
            tx,
            first.map(|(print, _)| print),
        ));
        Setup {
            fake,
            clients,
            settings,
            out,
            task,
        }
    }

    /// Lets the follower run until it has read the source `reads` times.
    async fn until_read(fake: &Fake, reads: usize) {
        while fake.reads.load(Ordering::SeqCst) < reads {
            tokio::task::yield_now().await;
        }
    }

    /// Whether `out` got something new within a few turns of the
    /// (single-threaded) scheduler: a woken follower runs in the next one,
    /// while a poll would take its period.
    async fn published_at_once(out: &mut watch::Receiver<Option<&'static str>>) -> bool {
        for _ in 0..100 {
            if out.has_changed().expect("open") {
                return true;
            }
            tokio::task::yield_now().await;
        }
        false
    }

    #[tokio::test]
    async fn a_rebuilt_client_is_followed_at_once() {
        let mut s = start(Some(((1, 8001), "old")));
        s.fake.set(Some(((2, 8001), "rebuilt")));
        s.clients.send_modify(|n| *n += 1);
        assert!(published_at_once(&mut s.out).await, "woken, not polled");
        assert_eq!(*s.out.borrow_and_update(), Some("rebuilt"));
    }

    #[tokio::test]
    async fn a_new_proxy_port_in_the_settings_is_followed() {
        let mut s = start(Some(((1, 8001), "8001")));
        s.fake.set(Some(((1, 18765), "18765")));
        s.settings
            .send_modify(|settings| settings.proxy.port = 18765);
        assert!(published_at_once(&mut s.out).await);
        assert_eq!(*s.out.borrow_and_update(), Some("18765"));
    }

    #[tokio::test]
    async fn the_same_print_publishes_nothing_and_a_lost_client_publishes_none() {
        let mut s = start(Some(((1, 8001), "kept")));
        s.fake.set(Some(((1, 8001), "rebuilt, same inputs")));
        s.clients.send_modify(|n| *n += 1);
        until_read(&s.fake, 1).await;
        assert!(!s.out.has_changed().expect("open"), "nothing to start over");

        s.fake.set(None);
        s.clients.send_modify(|n| *n += 1);
        s.out.changed().await.expect("published");
        assert_eq!(*s.out.borrow_and_update(), None, "the client is gone");

        s.fake.set(Some(((3, 8001), "back")));
        s.clients.send_modify(|n| *n += 1);
        s.out.changed().await.expect("published");
        assert_eq!(*s.out.borrow_and_update(), Some("back"));
    }

    #[tokio::test]
    async fn the_follower_ends_with_its_watch() {
        let s = start(None);
        drop(s.out);
        s.task.await.expect("ended");
    }

    #[tokio::test]
    async fn the_follower_ends_with_the_workspace() {
        let s = start(None);
        drop(s.clients);
        s.task.await.expect("ended");
        let s = start(None);
        drop(s.fake);
        s.settings.send_modify(|settings| settings.proxy.port = 1);
        s.task.await.expect("ended");
    }
}
