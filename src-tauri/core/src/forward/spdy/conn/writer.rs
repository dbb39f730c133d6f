//! The connection's writer: the socket's write half and the header
//! compressor. It numbers new streams, batches what the streams queue,
//! pings, and says GOAWAY once nothing can queue any more.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bytes::BytesMut;
use tokio::io::{AsyncWrite, AsyncWriteExt as _};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::super::frame::{self, Frame, status};
use super::super::headers::{Compressor, HeaderError};
use super::state::{
    CLOSE_TIMEOUT, DEFAULT_WINDOW, Out, PING_EVERY, RECEIVE_WINDOW, SETTINGS_INITIAL_WINDOW_SIZE,
    SILENT_LIMIT, Shared, WRITE_BATCH,
};

/// Writes what the streams queue, plus pings; says GOAWAY once nothing
/// can queue any more.
pub(super) async fn write_loop<W>(mut w: W, mut rx: mpsc::Receiver<Out>, shared: Arc<Shared>)
where
    W: AsyncWrite + Unpin,
{
    let mut compressor = Compressor::default();
    let mut next_id: u32 = 1;
    let mut next_ping: u32 = 1;
    let mut buf = BytesMut::new();
    let mut ping = tokio::time::interval_at(Instant::now() + PING_EVERY, PING_EVERY);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    Frame::Settings(vec![(0, SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW)]).encode(&mut buf);
    Frame::WindowUpdate {
        stream: 0,
        delta: RECEIVE_WINDOW - DEFAULT_WINDOW,
    }
    .encode(&mut buf);
    let goodbye = loop {
        // What the last round queued (first: the greeting).
        let started = Instant::now();
        if let Err(e) = w.write_all(&buf).await {
            tracing::debug!(error = %e, "SPDY: writing failed");
            buf.clear();
            break false;
        }
        buf.clear();
        // A write that had to wait was held back by a server that is busy,
        // not gone: its silence meanwhile does not count.
        if started.elapsed() > PING_EVERY {
            shared.heard();
        }
        tokio::select! {
            () = shared.closed.cancelled() => break false,
            out = rx.recv() => {
                let Some(out) = out else { break true };
                let mut next = Some(out);
                let mut failed = false;
                while let Some(out) = next.take() {
                    // The compressor's state is the connection's: after a
                    // failure, no later block could be read.
                    if let Err(e) = encode(out, &mut buf, &mut compressor, &mut next_id, &shared) {
                        tracing::warn!(error = %e, "SPDY: compressing headers failed; closing the connection");
                        failed = true;
                        break;
                    }
                    if buf.len() < WRITE_BATCH {
                        next = rx.try_recv().ok();
                    }
                }
                if failed {
                    break false;
                }
            }
            _ = ping.tick() => {
                if shared.silent() {
                    tracing::warn!(
                        seconds = SILENT_LIMIT.as_secs(),
                        "SPDY: the server stopped answering pings; closing the connection"
                    );
                    break false;
                }
                Frame::Ping(next_ping).encode(&mut buf);
                next_ping = next_ping.wrapping_add(2);
            }
        }
    };
    shared.closed.cancel();
    let finish = async {
        if goodbye {
            Frame::GoAway {
                last_good: 0,
                status: 0,
            }
            .encode(&mut buf);
            w.write_all(&buf).await?;
        }
        w.shutdown().await
    };
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, finish).await;
}

fn encode(
    out: Out,
    buf: &mut BytesMut,
    compressor: &mut Compressor,
    next_id: &mut u32,
    shared: &Shared,
) -> Result<(), HeaderError> {
    match out {
        Out::Frame(frame) => frame.encode(buf),
        Out::Open {
            headers,
            fin,
            slot,
            id,
        } => {
            // Ids are 31 bits; a connection that ran out opens no more
            // (dropping the slot fails the opener).
            if *next_id > 0x7fff_ffff {
                shared.going_away.store(true, Ordering::Relaxed);
                return Ok(());
            }
            // The opener gave up (timed out) before its turn.
            if id.is_closed() {
                return Ok(());
            }
            let pairs: Vec<(&str, &str)> = headers
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .collect();
            let block = compressor.compress(&pairs)?;
            let stream = *next_id;
            *next_id += 2;
            shared.streams().insert(stream, slot);
            // The block must go out (the peer's decompressor needs it)
            // even if the opener gave up meanwhile; the stream then ends
            // at once.
            let abandoned = id.send(stream).is_err();
            Frame::SynStream {
                stream,
                associated: 0,
                priority: 0,
                flags: if fin { frame::FLAG_FIN } else { 0 },
                headers: block,
            }
            .encode(buf);
            if abandoned {
                shared.streams().remove(&stream);
                Frame::RstStream {
                    stream,
                    status: status::CANCEL,
                }
                .encode(buf);
            }
        }
    }
    Ok(())
}
