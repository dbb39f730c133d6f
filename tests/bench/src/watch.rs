//! Watch-event latency: one watch per way on the bench namespace's
//! ConfigMaps with the watch label; a ConfigMap is created (directly) and
//! the time until its ADDED event arrives is taken on every way at once.

use std::time::Duration;

use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use kube::api::{DeleteParams, ListParams, PostParams};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::conn::Sender;
use crate::error::{Error, Result};
use crate::fixtures::{BenchNamespace, WATCH_LABEL, config_map};
use crate::stats::Samples;
use crate::ways::Way;

const OPEN_TIMEOUT: Duration = Duration::from_secs(15);
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
const PAUSE: Duration = Duration::from_millis(20);
/// Events created before the measured ones (connections and caches warm).
const WARMUP_EVENTS: usize = 3;

struct Arrival {
    way: usize,
    name: String,
    at: Instant,
}

/// Latency from "create sent" to "ADDED arrived" for each way, in `ways` order.
pub async fn measure(ways: &[Way], ns: &BenchNamespace, events: usize) -> Result<Vec<Samples>> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let mut readers = Vec::new();
    for (i, way) in ways.iter().enumerate() {
        let (sender, body) = open(way, &ns.name).await?;
        let tx = tx.clone();
        readers.push(tokio::spawn(async move {
            read_events(body, i, tx).await;
            drop(sender);
        }));
    }
    drop(tx);
    let api = ns.config_maps();
    let mut per_way = vec![Samples::default(); ways.len()];
    let total = WARMUP_EVENTS + events;
    for n in 0..total {
        let name = format!("watch-{n:04}");
        let cm = config_map(&name, WATCH_LABEL)?;
        let sent = Instant::now();
        let params = PostParams::default();
        let created = tokio::time::timeout(EVENT_TIMEOUT, api.create(&params, &cm));
        match created.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return Err(Error::request(format!("creating ConfigMap {name}"), e)),
            Err(_) => {
                return Err(Error::Timeout {
                    what: format!("creating ConfigMap {name}"),
                    secs: EVENT_TIMEOUT.as_secs(),
                });
            }
        }
        let mut seen = vec![None; ways.len()];
        let deadline = Instant::now() + EVENT_TIMEOUT;
        while seen.iter().any(Option::is_none) {
            let arrival = match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(a)) => a,
                Ok(None) => return Err(Error::request("the watches", "every watch stream ended")),
                Err(_) => {
                    let missing: Vec<&str> = ways
                        .iter()
                        .zip(&seen)
                        .filter(|(_, s)| s.is_none())
                        .map(|(w, _)| w.kind.name())
                        .collect();
                    return Err(Error::Timeout {
                        what: format!("the ADDED event of {name} through {}", missing.join(", ")),
                        secs: EVENT_TIMEOUT.as_secs(),
                    });
                }
            };
            if arrival.name == name
                && let Some(slot) = seen.get_mut(arrival.way)
            {
                *slot = Some(arrival.at.saturating_duration_since(sent));
            }
        }
        if n >= WARMUP_EVENTS {
            for (samples, latency) in per_way.iter_mut().zip(seen.into_iter().flatten()) {
                samples.push(latency);
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    for reader in readers {
        reader.abort();
    }
    let delete = DeleteParams::default();
    let selector = ListParams::default().labels(&format!("{WATCH_LABEL}=true"));
    let cleanup = api.delete_collection(&delete, &selector);
    if let Ok(Err(e)) = tokio::time::timeout(EVENT_TIMEOUT, cleanup).await {
        eprintln!("porthole-bench: removing the watch ConfigMaps: {e}");
    }
    Ok(per_way)
}

/// A watch request through `way`: its connection and the streaming body.
async fn open(way: &Way, namespace: &str) -> Result<(Sender, Incoming)> {
    let get = way.api(&format!(
        "/api/v1/namespaces/{namespace}/configmaps?watch=1&timeoutSeconds=600&labelSelector={}%3Dtrue",
        WATCH_LABEL.replace('/', "%2F")
    ));
    let mut sender = way.endpoint.connect().await?;
    let response = get.send(&mut sender, OPEN_TIMEOUT).await?;
    if !response.status().is_success() {
        return Err(Error::request(
            format!("opening a watch through {}", way.kind.name()),
            format!("status {}", response.status()),
        ));
    }
    Ok((sender, response.into_body()))
}

/// Reads newline-separated watch events, reporting each ADDED object's name.
async fn read_events(mut body: Incoming, way: usize, tx: mpsc::UnboundedSender<Arrival>) {
    let mut buffer: Vec<u8> = Vec::new();
    while let Some(Ok(frame)) = body.frame().await {
        let at = Instant::now();
        let Some(data) = frame.data_ref() else {
            continue;
        };
        buffer.extend_from_slice(data);
        while let Some(end) = buffer.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = buffer.drain(..=end).collect();
            if let Some(name) = added_name(&line)
                && tx.send(Arrival { way, name, at }).is_err()
            {
                return;
            }
        }
    }
}

/// The object name of an `ADDED` watch event line.
fn added_name(line: &[u8]) -> Option<String> {
    let event: serde_json::Value = serde_json::from_slice(line).ok()?;
    if event["type"] != "ADDED" {
        return None;
    }
    event["object"]["metadata"]["name"]
        .as_str()
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn added_events_give_the_name() {
        let line = br#"{"type":"ADDED","object":{"metadata":{"name":"watch-0001"}}}"#;
        assert_eq!(added_name(line), Some("watch-0001".into()));
        let modified = br#"{"type":"MODIFIED","object":{"metadata":{"name":"x"}}}"#;
        assert_eq!(added_name(modified), None);
        assert_eq!(added_name(b"not json"), None);
    }
}
