//! The load generator: N keep-alive connections, each sending one GET
//! after another for a warm-up and then a measured window.

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::conn::{Endpoint, Get};
use crate::error::{Error, Result};
use crate::stats::{Samples, Summary};

/// Per-request limit (a 1,000-item list on a busy 2-core machine included).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// A cell fails when more than this share of its requests failed.
const MAX_ERROR_SHARE: f64 = 0.05;

#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub connections: usize,
    pub warmup: Duration,
    pub measure: Duration,
}

#[derive(Default)]
struct Worker {
    samples: Samples,
    errors: usize,
    last_error: Option<String>,
}

/// Runs `get` on `endpoint` as `cell` says; the summary of the measured window.
pub async fn run(endpoint: Arc<Endpoint>, get: Get, cell: Cell) -> Result<Summary> {
    let start = Instant::now();
    let measure_from = start + cell.warmup;
    let end = measure_from + cell.measure;
    let mut workers = JoinSet::new();
    for _ in 0..cell.connections.max(1) {
        let endpoint = endpoint.clone();
        let get = get.clone();
        workers.spawn(async move { worker(&endpoint, &get, measure_from, end).await });
    }
    let mut samples = Samples::default();
    let mut errors = 0;
    let mut last_error = None;
    while let Some(joined) = workers.join_next().await {
        let w = joined.map_err(|e| Error::request("a load worker", e))?;
        samples.extend(w.samples);
        errors += w.errors;
        last_error = w.last_error.or(last_error);
    }
    let what = format!(
        "GET {} (Host {}) × {}",
        get.path, get.host, cell.connections
    );
    let total = samples.len() + errors;
    if total == 0 || errors as f64 > MAX_ERROR_SHARE * total as f64 {
        return Err(Error::request(
            what,
            format!(
                "{errors} of {total} requests failed; last: {}",
                last_error.unwrap_or_else(|| "no request completed".into())
            ),
        ));
    }
    Summary::of(&samples, errors, cell.measure)
        .ok_or_else(|| Error::request(what, "no request completed in the measured window"))
}

async fn worker(endpoint: &Endpoint, get: &Get, measure_from: Instant, end: Instant) -> Worker {
    let mut out = Worker::default();
    let mut sender = None;
    while Instant::now() < end {
        let conn = match &mut sender {
            Some(s) => s,
            None => match endpoint.connect().await {
                Ok(s) => sender.insert(s),
                Err(e) => {
                    out.errors += 1;
                    out.last_error = Some(e.to_string());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let began = Instant::now();
        let result = get.fetch(conn, REQUEST_TIMEOUT).await;
        let done = Instant::now();
        let measured = began >= measure_from && done <= end;
        match result {
            Ok((status, _)) if status.is_success() => {
                if measured {
                    out.samples.push(done - began);
                }
            }
            Ok((status, _)) => {
                if measured {
                    out.errors += 1;
                }
                out.last_error = Some(format!("status {status}"));
            }
            Err(e) => {
                if measured {
                    out.errors += 1;
                }
                out.last_error = Some(e.to_string());
                sender = None; // the connection is in an unknown state
            }
        }
    }
    out
}
