//! The connection's reader: the socket's read half and the header
//! decompressor. It hands each stream its frames, answers the server's
//! pings, refuses streams the server opens, and renews the session's
//! receive window.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt as _};
use tokio::sync::mpsc;

use super::super::frame::{self, Frame, status};
use super::super::headers::{Decompressor, HeaderError, Headers};
use super::state::{Incoming, MAX_FRAME, Out, READ_CHUNK, RECEIVE_WINDOW, Shared};

/// Reads frames and hands them to their streams until the connection
/// ends; then every stream still open learns it (its queue closes).
pub(super) async fn read_loop<R>(r: R, out: mpsc::WeakSender<Out>, shared: Arc<Shared>)
where
    R: AsyncRead + Unpin,
{
    let why = tokio::select! {
        why = read_frames(r, &out, &shared) => why,
        () = shared.closed.cancelled() => "the connection closed".to_owned(),
    };
    tracing::debug!(reason = %why, "SPDY connection ended");
    shared.closed.cancel();
    // Pending openers and open streams see their channels close.
    shared.streams().clear();
}

async fn read_frames<R>(mut r: R, out: &mpsc::WeakSender<Out>, shared: &Shared) -> String
where
    R: AsyncRead + Unpin,
{
    let mut decompressor = Decompressor::default();
    let mut buf = BytesMut::with_capacity(READ_CHUNK);
    // Data received since the session window was last renewed.
    let mut unacked: u32 = 0;
    loop {
        loop {
            let frame = match frame::decode(&mut buf, MAX_FRAME) {
                Ok(Some(frame)) => frame,
                Ok(None) => break,
                Err(e) => return e.to_string(),
            };
            if let Frame::Data { data, .. } = &frame {
                unacked = unacked.saturating_add(u32::try_from(data.len()).unwrap_or(u32::MAX));
                if unacked >= RECEIVE_WINDOW / 2 {
                    send_now(
                        out,
                        Frame::WindowUpdate {
                            stream: 0,
                            delta: unacked,
                        },
                    )
                    .await;
                    unacked = 0;
                }
            }
            if let Err(e) = dispatch(frame, &mut decompressor, out, shared).await {
                return e.to_string();
            }
        }
        buf.reserve(READ_CHUNK);
        match r.read_buf(&mut buf).await {
            Ok(0) => return "the server closed the connection".to_owned(),
            Ok(_) => shared.heard(),
            Err(e) => return format!("reading failed: {e}"),
        }
    }
}

async fn dispatch(
    frame: Frame,
    decompressor: &mut Decompressor,
    out: &mpsc::WeakSender<Out>,
    shared: &Shared,
) -> Result<(), HeaderError> {
    match frame {
        Frame::Data { stream, fin, data } => {
            if !data.is_empty() {
                deliver(shared, stream, Incoming::Data(data)).await;
            }
            if fin {
                deliver(shared, stream, Incoming::Fin).await;
            }
        }
        Frame::SynReply {
            stream,
            fin,
            headers,
        } => {
            decompressor.decompress(&headers)?;
            answer(shared, stream, Ok(())).await;
            if fin {
                deliver(shared, stream, Incoming::Fin).await;
            }
        }
        Frame::Headers {
            stream,
            fin,
            headers,
        } => {
            // Read (the compression context needs it), then ignored.
            decompressor.decompress(&headers)?;
            if fin {
                deliver(shared, stream, Incoming::Fin).await;
            }
        }
        Frame::SynStream {
            stream, headers, ..
        } => {
            let headers: Headers = decompressor.decompress(&headers)?;
            tracing::debug!(
                stream,
                ?headers,
                "SPDY: refusing a stream the server opened"
            );
            send_now(
                out,
                Frame::RstStream {
                    stream,
                    status: status::REFUSED_STREAM,
                },
            )
            .await;
        }
        Frame::RstStream { stream, status } => answer(shared, stream, Err(status)).await,
        // Odd ids are ours coming back; the server's are answered.
        Frame::Ping(id) => {
            if id % 2 == 0 {
                send_now(out, Frame::Ping(id)).await;
            }
        }
        Frame::GoAway { last_good, status } => {
            tracing::debug!(last_good, status, "SPDY: the server is going away");
            shared.going_away.store(true, Ordering::Relaxed);
            // Streams after `last_good` were never seen by the server.
            let refused: Vec<u32> = shared
                .streams()
                .keys()
                .copied()
                .filter(|id| *id > last_good)
                .collect();
            for stream in refused {
                answer(shared, stream, Err(status::REFUSED_STREAM)).await;
            }
        }
        Frame::Settings(entries) => tracing::trace!(?entries, "SPDY: server settings"),
        // The server never limits this end (see the flow-control note of
        // the connection), so its window updates change nothing.
        Frame::WindowUpdate { .. } | Frame::Unknown(_) => {}
    }
    Ok(())
}

/// The server answered a stream: `Ok` (SYN_REPLY) or a reset code. The
/// opener still waiting learns it; an open stream gets the reset.
async fn answer(shared: &Shared, stream: u32, outcome: Result<(), u32>) {
    let reply = shared
        .streams()
        .get_mut(&stream)
        .and_then(|slot| slot.reply.take());
    match (reply, outcome) {
        (Some(reply), outcome) => {
            let _ = reply.send(outcome);
        }
        (None, Err(code)) => deliver(shared, stream, Incoming::Reset(code)).await,
        (None, Ok(())) => {}
    }
}

/// Hands `item` to its stream, waiting while the stream's queue is full
/// (this is the back-pressure towards the server). Frames for streams
/// already gone are dropped.
async fn deliver(shared: &Shared, stream: u32, item: Incoming) {
    let sink = shared.streams().get(&stream).map(|s| s.incoming.clone());
    let Some(sink) = sink else { return };
    shared.reader_busy.store(true, Ordering::Relaxed);
    let _ = sink.send(item).await;
    shared.heard();
    shared.reader_busy.store(false, Ordering::Relaxed);
}

/// Queues a frame of the connection's own (ping answers, refusals) while
/// anyone still holds the connection.
async fn send_now(out: &mpsc::WeakSender<Out>, frame: Frame) {
    if let Some(out) = out.upgrade() {
        let _ = out.send(Out::Frame(frame)).await;
    }
}
