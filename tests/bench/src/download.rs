//! The download cell: N bytes from the download backend through the
//! service proxy of each way, on a fresh connection; throughput of the
//! best of a few runs (noise from other work on the machine only slows).

use std::time::Duration;

use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::ways::{Service, Way};

const RUNS: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(300);
pub const DOWNLOAD: Service<'static> = Service {
    namespace: "default",
    name: "download",
    port: "80",
};

/// MiB/s through `way`, best of [`RUNS`].
pub async fn measure(way: &Way, bytes: u64) -> Result<f64> {
    let get = way.service(DOWNLOAD, &format!("/download?bytes={bytes}"));
    let mut best: f64 = 0.0;
    for _ in 0..RUNS {
        let mut sender = way.endpoint.connect().await?;
        let start = Instant::now();
        let (status, got) = get.fetch(&mut sender, TIMEOUT).await?;
        let secs = start.elapsed().as_secs_f64();
        if !status.is_success() || got != bytes {
            return Err(Error::request(
                format!("downloading through {}", way.kind.name()),
                format!("status {status}, {got} of {bytes} bytes"),
            ));
        }
        if secs > 0.0 {
            best = best.max(bytes as f64 / (1024.0 * 1024.0) / secs);
        }
    }
    Ok(best)
}
