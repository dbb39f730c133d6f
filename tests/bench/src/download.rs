//! The download cell: N bytes from the download backend through the
//! service proxy of each way (or through a port-forward), on a fresh
//! connection per run; the proxy rows take the best of a few runs (noise
//! from other work on the machine only slows).

use std::time::Duration;

use tokio::time::Instant;

use crate::conn::{Endpoint, Get};
use crate::error::{Error, Result};
use crate::ways::{Service, Way};

pub const RUNS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(300);
pub const DOWNLOAD: Service<'static> = Service {
    namespace: "default",
    name: "download",
    port: "80",
};

/// MiB/s through `way`, best of [`RUNS`].
pub async fn measure(way: &Way, bytes: u64) -> Result<f64> {
    let get = way.service(DOWNLOAD, &format!("/download?bytes={bytes}"));
    let speeds = speeds(&way.endpoint, &get, bytes, way.kind.name()).await?;
    Ok(speeds.into_iter().fold(0.0, f64::max))
}

/// `GET /download?bytes=N` as `get` spells it, [`RUNS`] times, each on a
/// fresh connection: MiB/s of each run.
pub async fn speeds(endpoint: &Endpoint, get: &Get, bytes: u64, through: &str) -> Result<Vec<f64>> {
    let mut speeds = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let mut sender = endpoint.connect().await?;
        let start = Instant::now();
        let (status, got) = get.fetch(&mut sender, TIMEOUT).await?;
        let secs = start.elapsed().as_secs_f64();
        if !status.is_success() || got != bytes {
            return Err(Error::request(
                format!("downloading through {through}"),
                format!("status {status}, {got} of {bytes} bytes"),
            ));
        }
        if secs > 0.0 {
            speeds.push(bytes as f64 / (1024.0 * 1024.0) / secs);
        }
    }
    Ok(speeds)
}
