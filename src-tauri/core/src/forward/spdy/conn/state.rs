//! What the connection's handle, reader and writer share: limits, the
//! stream table, the frames queued for writing.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::super::frame::{self, Frame};

pub const PING_EVERY: Duration = Duration::from_secs(5);
/// The window granted to the server, per stream and for the session.
pub const RECEIVE_WINDOW: u32 = 16 << 20;
/// SPDY/3.1's initial window (draft 3.1 §2.6.8).
pub(super) const DEFAULT_WINDOW: u32 = 64 * 1024;
pub(super) const SETTINGS_INITIAL_WINDOW_SIZE: u32 = 7;
/// A connection that shows no sign of life for this long, although pinged
/// all along, is taken for dead.
pub const SILENT_LIMIT: Duration = Duration::from_secs(60);
/// Largest frame read: the format's limit (Go writes at most 32 KiB).
pub(super) const MAX_FRAME: usize = frame::MAX_LENGTH;
/// Queued frames to write, across all streams.
pub(super) const OUT_QUEUE: usize = 64;
/// Frames queued for one stream before the reader waits for it.
pub(super) const STREAM_QUEUE: usize = 16;
/// How much the writer gathers into one write.
pub(super) const WRITE_BATCH: usize = 256 * 1024;
pub(super) const READ_CHUNK: usize = 64 * 1024;
/// Time for the goodbye (GOAWAY and the TLS close) at the end.
pub(super) const CLOSE_TIMEOUT: Duration = Duration::from_secs(5);

/// What a stream receives.
#[derive(Debug, PartialEq, Eq)]
pub enum Incoming {
    Data(Bytes),
    /// The peer finished sending (FLAG_FIN).
    Fin,
    /// The peer reset the stream (RST_STREAM) with this status.
    Reset(u32),
}

pub(super) struct Shared {
    pub(super) streams: Mutex<HashMap<u32, Slot>>,
    /// Cancelled when either task ends: nothing more goes in or out.
    pub(super) closed: CancellationToken,
    /// The server said GOAWAY: no new streams.
    pub(super) going_away: AtomicBool,
    pub(super) started: Instant,
    /// When the reader last got bytes (ms since `started`).
    pub(super) last_heard_ms: AtomicU64,
    /// The reader is waiting for a slow stream, not for the socket.
    pub(super) reader_busy: AtomicBool,
}

pub(super) struct Slot {
    pub(super) reply: Option<oneshot::Sender<Result<(), u32>>>,
    pub(super) incoming: mpsc::Sender<Incoming>,
}

pub(super) enum Out {
    /// A new stream: the writer numbers it, so that ids go out in order
    /// and header blocks pass the compressor in wire order.
    Open {
        headers: Vec<(String, String)>,
        fin: bool,
        slot: Slot,
        id: oneshot::Sender<u32>,
    },
    Frame(Frame),
}

impl Shared {
    pub(super) fn streams(&self) -> MutexGuard<'_, HashMap<u32, Slot>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(super) fn heard(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_heard_ms.store(ms, Ordering::Relaxed);
    }

    /// Nothing heard for too long while the reader was free to hear it.
    pub(super) fn silent(&self) -> bool {
        if self.reader_busy.load(Ordering::Relaxed) {
            return false;
        }
        let heard = Duration::from_millis(self.last_heard_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(heard) > SILENT_LIMIT
    }
}
