//! A client per context, kept while what built it is unchanged (so adding
//! one cluster does not re-run every other cluster's exec plugin), and a
//! notification each time the clients are replaced, for whoever follows
//! them (the service watches).

use std::collections::HashMap;
use std::sync::Mutex;

use tokio::sync::watch;

use super::lock::lock;
use crate::cluster::ClusterClient;
use crate::kubeconfig::{EntryList, Snapshot};

/// Per context: the fingerprint of what built the client, and the client.
pub(super) type Clients<C> = HashMap<String, (u64, C)>;

pub(super) struct ClientCache<C = ClusterClient> {
    clients: Mutex<Clients<C>>,
    /// Bumped each time the clients are replaced.
    replaced: watch::Sender<u64>,
}

impl<C: Clone> ClientCache<C> {
    pub(super) fn new() -> Self {
        Self {
            clients: Mutex::new(HashMap::new()),
            replaced: watch::Sender::new(0),
        }
    }

    pub(super) fn get(&self, context: &str) -> Option<C> {
        lock(&self.clients)
            .get(context)
            .map(|(_, client)| client.clone())
    }

    /// The client of `context` with the fingerprint it was built from.
    pub(super) fn entry(&self, context: &str) -> Option<(u64, C)> {
        lock(&self.clients).get(context).cloned()
    }

    /// Every client as of now.
    pub(super) fn all(&self) -> Clients<C> {
        lock(&self.clients).clone()
    }

    /// Replaces every client and tells the subscribers.
    pub(super) fn replace(&self, next: Clients<C>) {
        *lock(&self.clients) = next;
        self.replaced.send_modify(|n| *n += 1);
    }

    /// A receiver that hears of every replacement from now on.
    pub(super) fn subscribe(&self) -> watch::Receiver<u64> {
        self.replaced.subscribe()
    }
}

/// The client `previous` has for `context` when it can be kept: built from
/// the same fingerprint, and no rebuild of everything asked for (`force`:
/// the search path changed or the user asked).
pub(super) fn reusable<C: Clone>(
    previous: &Clients<C>,
    context: &str,
    print: u64,
    force: bool,
) -> Option<C> {
    previous
        .get(context)
        .filter(|(old, _)| !force && *old == print)
        .map(|(_, client)| client.clone())
}

/// What a context's client is built from: its context, cluster and user
/// entries and the size and time of every file they reference. Unchanged,
/// the client (and its cached exec credential) is kept across reloads.
pub(super) async fn fingerprint(snapshot: &Snapshot, context: &str) -> u64 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let config = snapshot.merged.config();
    let mut hasher = DefaultHasher::new();
    let ctx = config.contexts.iter().find(|c| c.name == context);
    let (cluster, user) = ctx
        .and_then(|c| c.context.as_ref())
        .map(|c| (c.cluster.clone(), c.user.clone().unwrap_or_default()))
        .unwrap_or_default();
    entry_json(ctx).hash(&mut hasher);
    entry_json(config.clusters.iter().find(|c| c.name == cluster)).hash(&mut hasher);
    entry_json(config.auth_infos.iter().find(|u| u.name == user)).hash(&mut hasher);
    for reference in snapshot.referenced_files() {
        let ours = match reference.list {
            EntryList::Clusters => reference.name == cluster,
            EntryList::Users => reference.name == user,
            EntryList::Contexts => reference.name == context,
        };
        if ours {
            reference.path.hash(&mut hasher);
            if let Ok(meta) = tokio::fs::metadata(&reference.path).await {
                meta.len().hash(&mut hasher);
                meta.modified().ok().hash(&mut hasher);
            }
        }
    }
    hasher.finish()
}

/// A kubeconfig entry as JSON text (empty when there is none).
fn entry_json<T: serde::Serialize>(entry: Option<&T>) -> String {
    entry
        .and_then(|e| serde_json::to_value(e).ok())
        .map(|v| v.to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::kubeconfig::{KubeconfigSources, load_snapshot};

    fn clients(entries: &[(&str, u64, &'static str)]) -> Clients<&'static str> {
        entries
            .iter()
            .map(|(context, print, client)| ((*context).to_owned(), (*print, *client)))
            .collect()
    }

    #[test]
    fn a_client_is_kept_only_for_the_same_fingerprint_and_no_forced_rebuild() {
        let previous = clients(&[("a", 1, "client-a"), ("b", 2, "client-b")]);
        assert_eq!(reusable(&previous, "a", 1, false), Some("client-a"));
        assert_eq!(reusable(&previous, "a", 9, false), None, "inputs changed");
        assert_eq!(reusable(&previous, "a", 1, true), None, "forced");
        assert_eq!(reusable(&previous, "new", 1, false), None, "never built");
    }

    #[tokio::test]
    async fn replacing_the_clients_notifies_subscribers_and_drops_the_old_ones() {
        let cache = ClientCache::new();
        cache.replace(clients(&[("a", 1, "old-a"), ("gone", 3, "old-gone")]));
        let mut heard = cache.subscribe();
        assert!(!heard.has_changed().expect("open"));
        cache.replace(clients(&[("a", 2, "new-a")]));
        assert!(heard.has_changed().expect("open"));
        heard.mark_unchanged();
        assert_eq!(cache.get("a"), Some("new-a"));
        assert_eq!(cache.entry("a"), Some((2, "new-a")));
        assert_eq!(
            cache.get("gone"),
            None,
            "a vanished context loses its client"
        );
        assert_eq!(cache.all(), clients(&[("a", 2, "new-a")]));
        drop(cache);
        assert!(heard.changed().await.is_err(), "the cache is gone");
    }

    fn write_kubeconfig(dir: &Path, a_server: &str, b_server: &str) {
        let text = format!(
            "apiVersion: v1
kind: Config
clusters:
- name: a
  cluster: {{server: '{a_server}', certificate-authority: ca.pem}}
- name: b
  cluster: {{server: '{b_server}'}}
users:
- name: u
  user: {{token: t}}
contexts:
- name: a
  context: {{cluster: a, user: u}}
- name: b
  context: {{cluster: b, user: u}}
"
        );
        std::fs::write(dir.join("config"), text).expect("kubeconfig");
    }

    async fn prints(dir: &Path) -> (u64, u64) {
        let snapshot = load_snapshot(&KubeconfigSources::explicit(dir.join("config"))).await;
        (
            fingerprint(&snapshot, "a").await,
            fingerprint(&snapshot, "b").await,
        )
    }

    #[tokio::test]
    async fn a_fingerprint_changes_with_its_own_entries_and_files_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(dir.path().join("ca.pem"), "one").expect("ca");
        write_kubeconfig(dir.path(), "https://a:6443", "https://b:6443");
        let (a, b) = prints(dir.path()).await;
        assert_eq!(prints(dir.path()).await, (a, b), "stable");

        write_kubeconfig(dir.path(), "https://a:6443", "https://b2:6443");
        let (a2, b2) = prints(dir.path()).await;
        assert_eq!(a2, a, "another context's change keeps this client");
        assert_ne!(b2, b, "its own server changed");

        std::fs::write(dir.path().join("ca.pem"), "two, longer").expect("ca");
        let (a3, b3) = prints(dir.path()).await;
        assert_ne!(a3, a, "a file it references changed");
        assert_eq!(b3, b2);
    }
}
