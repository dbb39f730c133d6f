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
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream, ReadHalf, WriteHalf};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::conn::{Incoming, OpenError, RECEIVE_WINDOW, Stream, StreamTx};
use super::frame::status;
use super::pool::Lease;
use crate::forward::error::DialError;
use crate::forward::stream::{PIPE_BUFFER, PodStream};

/// How long the error stream may stay open after the data stream ended.
const ERROR_STREAM_GRACE: Duration = Duration::from_secs(5);
/// How often a stream whose local side stopped sending checks whether the
/// local side is gone altogether (then the Pod's side is reset).
const LOCAL_GONE_CHECK: Duration = Duration::from_secs(1);
/// Most of an error message kept.
const MAX_ERROR_TEXT: usize = 64 * 1024;
/// Room for each read from the local side (a DATA frame's most).
const CHUNK: usize = 64 * 1024;
/// Received bytes acknowledged per WINDOW_UPDATE: half the window.
const ACK_EVERY: u32 = RECEIVE_WINDOW / 2;

/// Opens the two streams for `port` on the leased connection (the node
/// must accept them within `reply_within`) and starts moving bytes
/// between them and the returned [`PodStream`]. The lease is released
/// when the forwarded connection ends, saying whether it ended well.
pub async fn open(lease: Lease, port: u16, reply_within: Duration) -> Result<PodStream, DialError> {
    let headers = |kind: &str| {
        vec![
            ("streamtype".to_owned(), kind.to_owned()),
            ("port".to_owned(), port.to_string()),
            ("requestid".to_owned(), lease.request.to_string()),
        ]
    };
    // Both SYN_STREAMs go out before either reply is awaited: one round
    // trip to the node, not two.
    let streams = async {
        let error = lease.conn.open(headers("error"), true).await?;
        let data = lease.conn.open(headers("data"), false).await?;
        tokio::try_join!(error.replied(), data.replied())
    };
    // A failure drops the lease: the connection takes no more streams.
    let (error, data) = tokio::time::timeout(reply_within, streams)
        .await
        .map_err(|_| {
            DialError::Protocol(format!(
                "the node did not accept the port-forward streams within {} s",
                reply_within.as_secs()
            ))
        })?
        .map_err(|e: OpenError| DialError::Protocol(format!("opening the streams: {e}")))?;
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    let (error_tx, remote_error) = oneshot::channel();
    tokio::spawn(async move {
        let well = bridge(error, data, theirs, error_tx).await;
        lease.release(well);
    });
    Ok(PodStream {
        io: ours,
        remote_error,
    })
}

/// Moves bytes between the streams and the pipe until both directions
/// have ended, and passes on what went wrong, if anything. True if all
/// went well: both sides finished sending and the node said nothing.
async fn bridge(
    mut error: Stream,
    mut data: Stream,
    pipe: DuplexStream,
    error_tx: oneshot::Sender<String>,
) -> bool {
    let (pipe_rx, pipe_tx) = tokio::io::split(pipe);
    let stop = CancellationToken::new();
    let mut up = tokio::spawn(upstream(pipe_rx, data.tx.clone(), stop.clone()));
    let mut up_done = false;
    let mut down = Downstream {
        pipe: pipe_tx,
        tx: data.tx.clone(),
        stop: stop.clone(),
        done: false,
        watching: true,
        unacked: 0,
        ended_by: None,
    };
    let mut said = Said {
        text: String::new(),
        open: true,
        tx: Some(error_tx),
    };
    let mut grace: Option<tokio::time::Instant> = None;
    let mut well = true;
    let mut check = tokio::time::interval(LOCAL_GONE_CHECK);
    loop {
        if down.done && up_done {
            if !said.open {
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
            item = data.rx.recv(), if down.watching => {
                down.take(item).await;
                // Frames the server still sends are dropped, not queued
                // (a full queue would hold up the connection's reader).
                if !down.watching {
                    data.rx.close();
                }
            }
            item = error.rx.recv(), if said.open => {
                said.take(item);
                if !said.open {
                    error.rx.close();
                }
            }
            _ = &mut up, if !up_done => up_done = true,
            _ = check.tick(), if up_done && !down.done => {
                down.check_local().await;
                if !down.watching {
                    data.rx.close();
                }
            }
            () = grace_over => {
                tracing::debug!(stream = error.tx.id(), "SPDY: the error stream stayed open; closing anyway");
                well = false;
                break;
            }
        }
    }
    stop.cancel();
    // The local side going away is its own affair: the connection is fine.
    let well = well && down.ended_by.is_none() && said.text.is_empty() && said.tx.is_some();
    let fallback = down.ended_by.take();
    said.finish(fallback);
    well
}

/// The Pod-to-local direction of a data stream.
struct Downstream {
    pipe: WriteHalf<DuplexStream>,
    tx: StreamTx,
    stop: CancellationToken,
    /// The Pod's side finished sending (FIN) or the stream ended.
    done: bool,
    /// Still reading the stream (after its FIN, for a reset).
    watching: bool,
    /// Bytes taken since the last WINDOW_UPDATE.
    unacked: u32,
    /// Why the stream ended early, when no FIN came first.
    ended_by: Option<String>,
}

impl Downstream {
    async fn take(&mut self, item: Option<Incoming>) {
        match item {
            Some(Incoming::Data(bytes)) if !self.done => {
                if self.pipe.write_all(&bytes).await.is_err() {
                    self.local_gone().await;
                    return;
                }
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                self.unacked = self.unacked.saturating_add(len);
                if self.unacked >= ACK_EVERY {
                    let _ = self.tx.consumed(self.unacked).await;
                    self.unacked = 0;
                }
            }
            Some(Incoming::Data(_)) => {}
            Some(Incoming::Fin) => {
                let _ = self.pipe.shutdown().await;
                self.done = true;
            }
            Some(Incoming::Reset(code)) => {
                self.end(format!(
                    "the node reset the stream ({})",
                    status::name(code)
                ))
                .await;
            }
            None => {
                self.end("the connection to the apiserver closed".to_owned())
                    .await;
            }
        }
    }

    /// The stream is over; `why`, unless it had already finished.
    async fn end(&mut self, why: String) {
        if !self.done {
            self.ended_by = Some(why);
            let _ = self.pipe.shutdown().await;
        }
        self.stop.cancel();
        self.done = true;
        self.watching = false;
    }

    /// A zero-length write fails once the local side dropped its end of
    /// the pipe: then the Pod's side is reset.
    async fn check_local(&mut self) {
        if self.pipe.write(&[]).await.is_err() {
            self.local_gone().await;
        }
    }

    async fn local_gone(&mut self) {
        self.stop.cancel();
        let _ = self.tx.reset(status::CANCEL).await;
        self.done = true;
        self.watching = false;
    }
}

/// The error stream's text.
struct Said {
    text: String,
    open: bool,
    tx: Option<oneshot::Sender<String>>,
}

impl Said {
    fn take(&mut self, item: Option<Incoming>) {
        match item {
            Some(Incoming::Data(bytes)) => {
                let room = MAX_ERROR_TEXT.saturating_sub(self.text.len());
                self.text
                    .push_str(&String::from_utf8_lossy(&bytes[..bytes.len().min(room)]));
            }
            Some(Incoming::Fin | Incoming::Reset(_)) | None => {
                self.open = false;
                // Passed on as soon as it is known: the connection's user
                // looks for it when its copying ends.
                if !self.text.is_empty() {
                    self.finish(None);
                }
            }
        }
    }

    /// Sends the node's text, else `fallback`, once.
    fn finish(&mut self, fallback: Option<String>) {
        let message = if self.text.is_empty() {
            fallback
        } else {
            Some(std::mem::take(&mut self.text))
        };
        if let Some(message) = message
            && let Some(tx) = self.tx.take()
        {
            let _ = tx.send(message);
        }
    }
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

#[cfg(test)]
mod tests {
    use super::super::STREAM_CREATION_TIMEOUT;
    use super::super::conn::Connection;
    use super::super::frame::{FLAG_FIN, Frame};
    use super::super::headers;
    use super::super::peer::Peer;
    use super::*;

    /// A pair opened against a test peer: the client's stream, the peer,
    /// and the error and data stream ids.
    async fn opened(port: u16) -> (PodStream, Peer, u32, u32) {
        let (client, mut peer) = Peer::new();
        let conn = Connection::start(client);
        let dial = tokio::spawn(async move {
            open(Lease::alone(conn, 7), port, STREAM_CREATION_TIMEOUT).await
        });
        let (error, flags, error_headers) = peer.syn().await;
        let (data, data_flags, data_headers) = peer.syn().await;
        assert_eq!((flags, data_flags), (FLAG_FIN, 0));
        assert_eq!(headers::get(&error_headers, "streamtype"), Some("error"));
        assert_eq!(headers::get(&data_headers, "streamtype"), Some("data"));
        for h in [&error_headers, &data_headers] {
            assert_eq!(headers::get(h, "port"), Some(port.to_string().as_str()));
            assert_eq!(headers::get(h, "requestid"), Some("7"));
        }
        peer.reply(error).await;
        peer.reply(data).await;
        let stream = dial.await.expect("join").expect("open");
        (stream, peer, error, data)
    }

    fn data(stream: u32, fin: bool, bytes: &'static [u8]) -> Frame {
        Frame::Data {
            stream,
            fin,
            data: Bytes::from_static(bytes),
        }
    }

    #[tokio::test]
    async fn bytes_and_each_sides_end_of_sending_pass_both_ways() {
        let (mut stream, mut peer, error, id) = opened(5432).await;
        stream.io.write_all(b"ping").await.expect("write");
        stream.io.shutdown().await.expect("half-close");
        assert_eq!(peer.significant_frame().await, data(id, false, b"ping"));
        assert_eq!(peer.significant_frame().await, data(id, true, b""));
        // The local side stopped sending; the Pod still answers.
        peer.send(data(id, false, b"pong")).await;
        peer.send(data(id, true, b"")).await;
        peer.send(data(error, true, b"")).await;
        let mut got = Vec::new();
        stream.io.read_to_end(&mut got).await.expect("read");
        assert_eq!(got, b"pong");
        assert!(stream.remote_error.await.is_err(), "nothing went wrong");
    }

    #[tokio::test]
    async fn the_nodes_error_text_is_passed_on() {
        let (mut stream, mut peer, error, id) = opened(9999).await;
        // What the kubelet does when it cannot reach the port.
        peer.send(data(id, true, b"")).await;
        peer.send(data(
            error,
            false,
            b"error forwarding port 9999: connection refused",
        ))
        .await;
        peer.send(Frame::RstStream {
            stream: id,
            status: status::CANCEL,
        })
        .await;
        peer.send(Frame::RstStream {
            stream: error,
            status: status::CANCEL,
        })
        .await;
        let mut got = Vec::new();
        stream.io.read_to_end(&mut got).await.expect("read");
        assert!(got.is_empty());
        assert_eq!(
            stream.remote_error.await.as_deref(),
            Ok("error forwarding port 9999: connection refused")
        );
    }

    #[tokio::test]
    async fn a_reset_without_a_word_is_named() {
        let (mut stream, mut peer, error, id) = opened(80).await;
        for stream in [id, error] {
            peer.send(Frame::RstStream { stream, status: 6 }).await;
        }
        let mut got = Vec::new();
        stream.io.read_to_end(&mut got).await.expect("read");
        let said = stream.remote_error.await;
        assert_eq!(
            said.as_deref(),
            Ok("the node reset the stream (INTERNAL_ERROR)")
        );
    }

    #[tokio::test]
    async fn a_lost_connection_is_named() {
        let (mut stream, peer, _, _) = opened(80).await;
        drop(peer);
        let mut got = Vec::new();
        stream.io.read_to_end(&mut got).await.expect("read");
        assert_eq!(
            stream.remote_error.await.as_deref(),
            Ok("the connection to the apiserver closed")
        );
    }

    #[tokio::test]
    async fn a_local_side_that_goes_away_resets_the_pods_side() {
        let (stream, mut peer, _, id) = opened(80).await;
        drop(stream);
        assert_eq!(peer.significant_frame().await, data(id, true, b""));
        assert_eq!(
            peer.significant_frame().await,
            Frame::RstStream {
                stream: id,
                status: status::CANCEL
            }
        );
    }

    #[tokio::test]
    async fn data_taken_renews_the_stream_and_session_windows() {
        let (mut stream, mut peer, _, id) = opened(80).await;
        let chunk = Bytes::from(vec![7u8; 32 * 1024]);
        let chunks = (ACK_EVERY as usize).div_ceil(chunk.len());
        let total = chunks * chunk.len();
        let read = tokio::spawn(async move {
            let mut got = vec![0u8; total];
            stream.io.read_exact(&mut got).await.expect("read");
            stream
        });
        for _ in 0..chunks {
            peer.send(Frame::Data {
                stream: id,
                fin: false,
                data: chunk.clone(),
            })
            .await;
        }
        let _stream = read.await.expect("join");
        let mut renewed = Vec::new();
        while renewed.len() < 2 {
            match peer.raw_frame().await {
                Frame::WindowUpdate { stream, delta } => renewed.push((stream, delta)),
                Frame::Ping(_) | Frame::Settings(_) => {}
                other => panic!("a WINDOW_UPDATE, got {other:?}"),
            }
        }
        renewed.retain(|(stream, delta)| *stream != 0 || *delta != RECEIVE_WINDOW - 64 * 1024);
        while renewed.len() < 2 {
            match peer.raw_frame().await {
                Frame::WindowUpdate { stream, delta } => renewed.push((stream, delta)),
                Frame::Ping(_) => {}
                other => panic!("a WINDOW_UPDATE, got {other:?}"),
            }
        }
        renewed.sort_unstable();
        assert_eq!(renewed, [(0, total as u32), (id, total as u32)]);
    }

    #[tokio::test]
    async fn a_refused_stream_fails_the_dial() {
        let (client, mut peer) = Peer::new();
        let conn = Connection::start(client);
        let dial =
            tokio::spawn(
                async move { open(Lease::alone(conn, 0), 0, STREAM_CREATION_TIMEOUT).await },
            );
        let (error, _, _) = peer.syn().await;
        peer.send(Frame::RstStream {
            stream: error,
            status: status::REFUSED_STREAM,
        })
        .await;
        let outcome = dial.await.expect("join");
        match outcome {
            Err(DialError::Protocol(message)) => {
                assert!(message.contains("REFUSED_STREAM"), "{message}")
            }
            Err(other) => panic!("a protocol error, got {other}"),
            Ok(_) => panic!("a protocol error, got a stream"),
        }
    }
}
