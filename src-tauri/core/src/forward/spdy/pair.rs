//! One forwarded TCP connection over SPDY, as the kubelet's port-forward
//! handler expects it (k8s.io/cri-streaming, portforward/httpstream.go):
//! an error stream and a data stream with the same `port` and
//! `requestid` headers. The data stream carries the bytes both ways, and
//! FIN passes each side's end of sending on (a half-close, which the
//! WebSocket protocol cannot carry). The error stream carries the node's
//! message when forwarding fails ("… connect: connection refused"); this
//! end never writes on it, so it is opened already finished (FLAG_FIN).

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, ReadHalf};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::conn::{Connection, Incoming, OpenError, Stream, StreamTx};
use super::frame::status;
use crate::forward::dial::{PIPE_BUFFER, PodStream};
use crate::forward::error::DialError;

/// How long the node has to accept both streams (kubectl waits as long).
pub const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);
/// How long the error stream may stay open after the data stream ended.
const ERROR_STREAM_GRACE: Duration = Duration::from_secs(5);
/// How often a stream whose local side stopped sending checks whether the
/// local side is gone altogether (then the Pod's side is reset).
const LOCAL_GONE_CHECK: Duration = Duration::from_secs(1);
/// Most of an error message kept.
const MAX_ERROR_TEXT: usize = 64 * 1024;
/// Room for each read from the local side (a DATA frame's most).
const CHUNK: usize = 64 * 1024;
/// Received bytes acknowledged per WINDOW_UPDATE (half the draft's
/// initial 64 KiB window).
const ACK_EVERY: u32 = 32 * 1024;

/// Opens the two streams for `port` on `conn` and starts moving bytes
/// between them and the returned [`PodStream`].
pub async fn open(conn: &Connection, port: u16, request_id: u64) -> Result<PodStream, DialError> {
    let headers = |kind: &str| {
        vec![
            ("streamtype".to_owned(), kind.to_owned()),
            ("port".to_owned(), port.to_string()),
            ("requestid".to_owned(), request_id.to_string()),
        ]
    };
    // Both SYN_STREAMs go out before either reply is awaited: one round
    // trip to the node, not two.
    let streams = async {
        let error = conn.open(headers("error"), true).await?;
        let data = conn.open(headers("data"), false).await?;
        tokio::try_join!(error.replied(), data.replied())
    };
    let (error, data) = tokio::time::timeout(STREAM_CREATION_TIMEOUT, streams)
        .await
        .map_err(|_| {
            DialError::Protocol(format!(
                "the node did not accept the port-forward streams within {} s",
                STREAM_CREATION_TIMEOUT.as_secs()
            ))
        })?
        .map_err(|e: OpenError| DialError::Protocol(format!("opening the streams: {e}")))?;
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    let (error_tx, remote_error) = oneshot::channel();
    tokio::spawn(bridge(error, data, theirs, error_tx));
    Ok(PodStream {
        io: ours,
        remote_error,
    })
}

/// Moves bytes between the streams and the pipe until both directions
/// have ended, and passes the error stream's text on.
async fn bridge(
    mut error: Stream,
    mut data: Stream,
    pipe: DuplexStream,
    error_tx: oneshot::Sender<String>,
) {
    let (pipe_rx, mut pipe_tx) = tokio::io::split(pipe);
    let stop = CancellationToken::new();
    let mut up = tokio::spawn(upstream(pipe_rx, data.tx.clone(), stop.clone()));
    let mut error_tx = Some(error_tx);
    let mut text = String::new();
    let mut error_open = true;
    // The Pod's side finished sending (FIN), or the stream was reset.
    let mut remote_done = false;
    // Still watching the data stream for a reset after its FIN.
    let mut data_open = true;
    let mut up_done = false;
    let mut unacked: u32 = 0;
    let mut grace: Option<tokio::time::Instant> = None;
    let mut check = tokio::time::interval(LOCAL_GONE_CHECK);
    loop {
        if remote_done && up_done {
            if !error_open {
                break;
            }
            grace.get_or_insert_with(|| tokio::time::Instant::now() + ERROR_STREAM_GRACE);
        }
        let grace_over = async {
            match grace {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            item = data.rx.recv(), if data_open => match item {
                Some(Incoming::Data(bytes)) if !remote_done => {
                    if pipe_tx.write_all(&bytes).await.is_err() {
                        local_gone(&data.tx, &stop).await;
                        remote_done = true;
                        data_open = false;
                        continue;
                    }
                    unacked = unacked.saturating_add(u32::try_from(bytes.len()).unwrap_or(u32::MAX));
                    if unacked >= ACK_EVERY {
                        let _ = data.tx.consumed(unacked).await;
                        unacked = 0;
                    }
                }
                Some(Incoming::Data(_)) => {}
                Some(Incoming::Fin) => {
                    let _ = pipe_tx.shutdown().await;
                    remote_done = true;
                }
                Some(Incoming::Reset(_)) | None => {
                    let _ = pipe_tx.shutdown().await;
                    stop.cancel();
                    remote_done = true;
                    data_open = false;
                }
            },
            item = error.rx.recv(), if error_open => match item {
                Some(Incoming::Data(bytes)) => {
                    let room = MAX_ERROR_TEXT.saturating_sub(text.len());
                    text.push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(room)]));
                }
                Some(Incoming::Fin | Incoming::Reset(_)) | None => {
                    error_open = false;
                    // Said as soon as it is known: the connection's user
                    // looks for it when its copying ends.
                    if !text.is_empty() && let Some(tx) = error_tx.take() {
                        let _ = tx.send(std::mem::take(&mut text));
                    }
                }
            },
            _ = &mut up, if !up_done => up_done = true,
            _ = check.tick(), if up_done && !remote_done => {
                // A zero-length write fails once the local side dropped
                // its end of the pipe.
                if pipe_tx.write(&[]).await.is_err() {
                    local_gone(&data.tx, &stop).await;
                    remote_done = true;
                    data_open = false;
                }
            }
            () = grace_over => {
                tracing::debug!(stream = error.tx.id(), "SPDY: the error stream stayed open; closing anyway");
                break;
            }
        }
    }
    stop.cancel();
    if !text.is_empty()
        && let Some(tx) = error_tx.take()
    {
        let _ = tx.send(text);
    }
}

/// The local side went away: the Pod's side is reset, nothing more is sent.
async fn local_gone(data: &StreamTx, stop: &CancellationToken) {
    stop.cancel();
    let _ = data.reset(status::CANCEL).await;
}

/// Sends what the local side writes, in DATA frames, then FIN when it
/// stops sending.
async fn upstream(mut pipe: ReadHalf<DuplexStream>, tx: StreamTx, stop: CancellationToken) {
    let mut buf = BytesMut::new();
    loop {
        buf.reserve(CHUNK);
        let read = tokio::select! {
            read = pipe.read_buf(&mut buf) => read,
            () = stop.cancelled() => return,
        };
        let (chunk, fin) = match read {
            Ok(0) | Err(_) => (Bytes::new(), true),
            Ok(_) => (buf.split().freeze(), false),
        };
        let sent = tokio::select! {
            sent = tx.send(chunk, fin) => sent,
            () = stop.cancelled() => return,
        };
        if fin || sent.is_err() {
            return;
        }
    }
}
