//! SPDY connections shared by the dials to one Pod, as kubectl shares one
//! per forward: a new forwarded connection then costs one round trip to
//! the node (SYN_STREAM, SYN_REPLY) instead of a TLS handshake and an
//! upgrade through the apiserver.
//!
//! Sharing has a price the pool bounds. The server does no per-stream
//! flow control, so a stream whose local reader stalls holds up the
//! connection's other streams once its queues fill: a connection carries
//! at most [`MAX_PAIRS`] forwarded connections, and one whose reader is
//! waiting on a slow stream takes no new ones. A connection stays
//! [`LINGER`] after its last forwarded connection ended, then closes.
//! One whose forwarded connection ended badly (the node's error, a reset,
//! a lost connection) takes no new ones either: the Pod it reaches may be
//! an earlier Pod of the same name, which the apiserver resolved when the
//! connection was made.
//!
//! Connections are keyed by context, user, server, namespace and Pod, so
//! credentials are never shared between contexts.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use super::conn::Connection;
use crate::cluster::client::ClusterClient;

/// Forwarded connections one SPDY connection carries at most.
pub const MAX_PAIRS: usize = 4;
/// How long an idle connection waits for the next dial.
pub const LINGER: Duration = Duration::from_secs(5);

/// Whose connection to which Pod.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    context: String,
    user: Option<String>,
    server: String,
    namespace: String,
    pod: String,
}

impl Key {
    pub fn new(client: &ClusterClient, namespace: &str, pod: &str) -> Self {
        Self {
            context: client.context().to_owned(),
            user: client.user().map(str::to_owned),
            server: client.server(),
            namespace: namespace.to_owned(),
            pod: pod.to_owned(),
        }
    }
}

/// One forwarded connection's use of a SPDY connection; [`Lease::release`]
/// says how it ended.
pub struct Lease {
    pub conn: Connection,
    /// The `requestid` of this forwarded connection.
    pub request: u64,
    /// Whether the connection was already open (rather than made for this).
    pub reused: bool,
    home: Option<(Key, u64)>,
}

struct Entry {
    id: u64,
    conn: Connection,
    pairs: usize,
    next_request: u64,
    idle_since: Option<Instant>,
}

static POOL: LazyLock<Mutex<HashMap<Key, Vec<Entry>>>> = LazyLock::new(Default::default);
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn pool() -> MutexGuard<'static, HashMap<Key, Vec<Entry>>> {
    POOL.lock().unwrap_or_else(|p| p.into_inner())
}

/// A shared connection to `key` with room for one more forwarded
/// connection, if there is one.
pub fn lease(key: &Key) -> Option<Lease> {
    let mut pool = pool();
    let entries = pool.get_mut(key)?;
    entries.retain(|e| e.conn.is_usable());
    let entry = entries
        .iter_mut()
        .filter(|e| e.pairs < MAX_PAIRS && !e.conn.is_waiting_on_a_stream())
        .min_by_key(|e| e.pairs)?;
    entry.pairs += 1;
    entry.idle_since = None;
    let request = entry.next_request;
    entry.next_request += 1;
    Some(Lease {
        conn: entry.conn.clone(),
        request,
        reused: true,
        home: Some((key.clone(), entry.id)),
    })
}

/// Shares a new connection to `key`, leased once for the dial that made it.
pub fn add(key: Key, conn: Connection) -> Lease {
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    pool().entry(key.clone()).or_default().push(Entry {
        id,
        conn: conn.clone(),
        pairs: 1,
        next_request: 1,
        idle_since: None,
    });
    Lease {
        conn,
        request: 0,
        reused: false,
        home: Some((key, id)),
    }
}

impl Lease {
    /// A connection of its own, shared with no one (tests).
    #[cfg(test)]
    pub fn alone(conn: Connection, request: u64) -> Self {
        Self {
            conn,
            request,
            reused: false,
            home: None,
        }
    }

    /// The forwarded connection ended; `well`: cleanly, so the connection
    /// may take more.
    pub fn release(mut self, well: bool) {
        self.settle(well);
    }

    fn settle(&mut self, well: bool) {
        let Some((key, id)) = self.home.take() else {
            return;
        };
        let mut pool = pool();
        let Some(entries) = pool.get_mut(&key) else {
            return;
        };
        let Some(at) = entries.iter().position(|e| e.id == id) else {
            return;
        };
        if !well {
            entries.remove(at);
        } else {
            let entry = &mut entries[at];
            entry.pairs = entry.pairs.saturating_sub(1);
            if entry.pairs == 0 {
                entry.idle_since = Some(Instant::now());
                if let Ok(runtime) = tokio::runtime::Handle::try_current() {
                    runtime.spawn(close_if_idle(key.clone(), id));
                }
            }
        }
        if entries.is_empty() {
            pool.remove(&key);
        }
    }
}

impl Drop for Lease {
    /// A lease dropped unreleased (a dial that failed, a task that ended
    /// abruptly) counts as ending badly.
    fn drop(&mut self) {
        self.settle(false);
    }
}

/// Drops the pool's hold on a connection still idle after [`LINGER`]; the
/// connection then says goodbye.
async fn close_if_idle(key: Key, id: u64) {
    tokio::time::sleep(LINGER).await;
    let mut pool = pool();
    let Some(entries) = pool.get_mut(&key) else {
        return;
    };
    entries.retain(|e| {
        e.id != id || e.pairs > 0 || e.idle_since.is_none_or(|since| since.elapsed() < LINGER)
    });
    if entries.is_empty() {
        pool.remove(&key);
    }
}

/// How many shared connections to `key` are open (diagnostics, tests).
pub fn connections(key: &Key) -> usize {
    pool().get(key).map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::super::peer::Peer;
    use super::*;

    fn key(pod: &str) -> Key {
        Key {
            context: "ctx".into(),
            user: Some("me".into()),
            server: "https://127.0.0.1:6443".into(),
            namespace: "ns".into(),
            pod: pod.into(),
        }
    }

    /// A connection whose server end is kept open (and returned).
    fn connection() -> (Connection, Peer) {
        let (client, peer) = Peer::new();
        (Connection::start(client), peer)
    }

    #[tokio::test]
    async fn a_connection_carries_up_to_max_pairs_with_fresh_request_ids() {
        let key = key("shared");
        let (conn, _peer) = connection();
        let first = add(key.clone(), conn);
        assert_eq!((first.request, first.reused), (0, false));
        let mut leases: Vec<Lease> = (1..MAX_PAIRS).map(|_| lease(&key).expect("room")).collect();
        let requests: Vec<u64> = leases.iter().map(|l| l.request).collect();
        assert_eq!(requests, (1..MAX_PAIRS as u64).collect::<Vec<_>>());
        assert!(leases.iter().all(|l| l.reused));
        assert!(lease(&key).is_none(), "full");
        leases.pop().expect("one").release(true);
        let again = lease(&key).expect("room again");
        assert_eq!(again.request, MAX_PAIRS as u64);
        again.release(true);
        assert_eq!(connections(&key), 1);
    }

    #[tokio::test]
    async fn a_connection_whose_stream_ended_badly_takes_no_more() {
        let key = key("bad");
        let (conn, _peer) = connection();
        let first = add(key.clone(), conn);
        let second = lease(&key).expect("room");
        second.release(false);
        assert!(lease(&key).is_none());
        assert_eq!(connections(&key), 0);
        // Its other streams carry on: the lease still holds it.
        assert!(first.conn.is_usable());
    }

    #[tokio::test]
    async fn a_lease_dropped_unreleased_counts_as_ending_badly() {
        let key = key("dropped");
        let (conn, _peer) = connection();
        drop(add(key.clone(), conn));
        assert_eq!(connections(&key), 0);
    }

    #[tokio::test]
    async fn a_closed_connection_is_not_leased() {
        let key = key("closed");
        let (conn, peer) = connection();
        let first = add(key.clone(), conn);
        drop(peer);
        tokio::time::timeout(Duration::from_secs(5), async {
            while first.conn.is_usable() {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        })
        .await
        .expect("the connection notices");
        assert!(lease(&key).is_none());
    }

    #[tokio::test]
    async fn pods_and_contexts_do_not_share() {
        let (conn, _peer) = connection();
        let _first = add(key("mine"), conn);
        assert!(lease(&key("other-pod")).is_none());
        let mut elsewhere = key("mine");
        elsewhere.context = "another-context".into();
        assert!(lease(&elsewhere).is_none());
    }
}
