//! Helpers for child processes Porthole runs (login shells, exec plugins):
//! bounded output capture and killing a whole process group on timeout.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Reads `reader` to its end, keeping at most `limit` bytes (the rest is
/// drained so the child never blocks on a full pipe).
pub(crate) async fn read_bounded(mut reader: impl AsyncRead + Unpin, limit: usize) -> Vec<u8> {
    let mut kept = Vec::new();
    let mut chunk = [0u8; 4096];
    while let Ok(n) = reader.read(&mut chunk).await {
        if n == 0 {
            break;
        }
        let room = limit.saturating_sub(kept.len());
        kept.extend_from_slice(&chunk[..n.min(room)]);
    }
    kept
}

/// SIGKILL to a process group (the child's id, thanks to `process_group(0)`),
/// so whatever the child started dies with it.
#[cfg(unix)]
pub(crate) fn kill_group(group: Option<u32>) {
    let Some(pgid) = group.and_then(|id| libc::pid_t::try_from(id).ok()) else {
        return;
    };
    if pgid <= 1 {
        return;
    }
    // SAFETY: killpg takes two integers and touches no memory; the group is
    // the one created for this child, so nothing else is signalled.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}
