//! One SPDY/3.1 client connection over an upgraded HTTP connection: a
//! writer task that owns the socket's write half and the header
//! compressor, and a reader task that owns the read half and the
//! decompressor and hands each stream its frames.
//!
//! Flow control: the Go SPDY server the kubelet uses
//! (github.com/moby/spdystream) neither sends WINDOW_UPDATE nor holds a
//! sender to its window, so waiting for window here would stall every
//! stream after 64 KiB. Streams send freely and back-pressure comes from
//! the socket. As a receiver this end keeps to the draft all the same, at
//! little cost: it grants [`RECEIVE_WINDOW`] per stream (SETTINGS) and
//! for the session (WINDOW_UPDATE on stream 0) when it starts, and
//! renews each once half of it is used ([`StreamTx::consumed`] for
//! streams, the reader for the session).
//!
//! The connection pings the server every [`PING_EVERY`] (kubectl does
//! too: it keeps idle forwards open through proxies that drop quiet
//! connections) and gives up on it after [`SILENT_LIMIT`] without a frame
//! (time spent waiting on a slow stream or a full socket aside: a busy
//! server is not a dead one).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

mod reader;
mod state;
mod writer;

use state::*;
pub use state::{Incoming, PING_EVERY, RECEIVE_WINDOW, SILENT_LIMIT};

use super::frame::{Frame, status};

/// Why a stream did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the server refused the stream ({})", status::name(*.0))]
    Refused(u32),
    #[error("the SPDY connection closed")]
    Closed,
}

/// A handle on the connection; the connection says goodbye once every
/// handle and every stream is gone.
#[derive(Clone)]
pub struct Connection {
    out: mpsc::Sender<Out>,
    shared: Arc<Shared>,
}

/// A stream whose SYN_STREAM went out; [`Opening::replied`] waits for the
/// server's SYN_REPLY.
pub struct Opening {
    stream: Stream,
    reply: oneshot::Receiver<Result<(), u32>>,
}

/// An open stream: its frames in [`Stream::rx`], its sending side in
/// [`Stream::tx`]. Dropping it forgets the stream.
pub struct Stream {
    pub rx: mpsc::Receiver<Incoming>,
    pub tx: StreamTx,
    _slot: SlotGuard,
}

/// The sending side of a stream.
#[derive(Clone)]
pub struct StreamTx {
    id: u32,
    out: mpsc::Sender<Out>,
}

struct SlotGuard {
    id: u32,
    shared: Arc<Shared>,
}

impl Connection {
    /// Starts the connection's tasks on an upgraded stream.
    pub fn start<IO>(io: IO) -> Self
    where
        IO: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (read_half, write_half) = tokio::io::split(io);
        let (out, out_rx) = mpsc::channel(OUT_QUEUE);
        let shared = Arc::new(Shared {
            streams: Mutex::new(HashMap::new()),
            closed: CancellationToken::new(),
            going_away: AtomicBool::new(false),
            started: Instant::now(),
            last_heard_ms: AtomicU64::new(0),
            reader_busy: AtomicBool::new(false),
        });
        tokio::spawn(writer::write_loop(write_half, out_rx, shared.clone()));
        tokio::spawn(reader::read_loop(
            read_half,
            out.downgrade(),
            shared.clone(),
        ));
        Self { out, shared }
    }

    /// Whether new streams can still be opened here.
    pub fn is_usable(&self) -> bool {
        !self.shared.closed.is_cancelled() && !self.shared.going_away.load(Ordering::Relaxed)
    }

    /// Whether the reader is waiting for a stream whose queue is full (new
    /// streams would wait with it).
    pub fn is_waiting_on_a_stream(&self) -> bool {
        self.shared.reader_busy.load(Ordering::Relaxed)
    }

    /// Sends SYN_STREAM with `headers` (`fin`: this end will not send).
    pub async fn open(
        &self,
        headers: Vec<(String, String)>,
        fin: bool,
    ) -> Result<Opening, OpenError> {
        if !self.is_usable() {
            return Err(OpenError::Closed);
        }
        let (incoming, rx) = mpsc::channel(STREAM_QUEUE);
        let (reply_tx, reply) = oneshot::channel();
        let (id_tx, id_rx) = oneshot::channel();
        let slot = Slot {
            reply: Some(reply_tx),
            incoming,
        };
        self.out
            .send(Out::Open {
                headers,
                fin,
                slot,
                id: id_tx,
            })
            .await
            .map_err(|_| OpenError::Closed)?;
        let id = id_rx.await.map_err(|_| OpenError::Closed)?;
        Ok(Opening {
            stream: Stream {
                rx,
                tx: StreamTx {
                    id,
                    out: self.out.clone(),
                },
                _slot: SlotGuard {
                    id,
                    shared: self.shared.clone(),
                },
            },
            reply,
        })
    }
}

impl Opening {
    /// The stream, once the server replied.
    pub async fn replied(self) -> Result<Stream, OpenError> {
        match self.reply.await {
            Ok(Ok(())) => Ok(self.stream),
            Ok(Err(code)) => Err(OpenError::Refused(code)),
            Err(_) => Err(OpenError::Closed),
        }
    }
}

impl StreamTx {
    pub fn id(&self) -> u32 {
        self.id
    }

    /// Sends `data` (at most 16 MiB; `fin`: the last of it). Fails once
    /// the connection is gone.
    pub async fn send(&self, data: Bytes, fin: bool) -> Result<(), OpenError> {
        self.frame(Frame::Data {
            stream: self.id,
            fin,
            data,
        })
        .await
    }

    /// Resets the stream (RST_STREAM).
    pub async fn reset(&self, code: u32) -> Result<(), OpenError> {
        self.frame(Frame::RstStream {
            stream: self.id,
            status: code,
        })
        .await
    }

    /// Tells the peer `bytes` more of its data were taken (WINDOW_UPDATE).
    pub async fn consumed(&self, bytes: u32) -> Result<(), OpenError> {
        self.frame(Frame::WindowUpdate {
            stream: self.id,
            delta: bytes,
        })
        .await
    }

    async fn frame(&self, frame: Frame) -> Result<(), OpenError> {
        self.out
            .send(Out::Frame(frame))
            .await
            .map_err(|_| OpenError::Closed)
    }
}

impl Drop for SlotGuard {
    fn drop(&mut self) {
        self.shared.streams().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncReadExt as _;

    use super::super::peer::Peer;
    use super::*;

    fn pair() -> (Connection, Peer) {
        let (client, peer) = Peer::new();
        (Connection::start(client), peer)
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[tokio::test]
    async fn the_session_starts_by_granting_the_receive_window() {
        let (_conn, mut peer) = pair();
        assert_eq!(
            peer.raw_frame().await,
            Frame::Settings(vec![(0, SETTINGS_INITIAL_WINDOW_SIZE, RECEIVE_WINDOW)])
        );
        assert_eq!(
            peer.raw_frame().await,
            Frame::WindowUpdate {
                stream: 0,
                delta: RECEIVE_WINDOW - DEFAULT_WINDOW
            }
        );
    }

    #[tokio::test]
    async fn streams_get_odd_increasing_ids_and_their_replies() {
        let (conn, mut peer) = pair();
        let a = conn
            .open(headers(&[("streamtype", "error")]), true)
            .await
            .expect("open");
        let b = conn
            .open(headers(&[("streamtype", "data")]), false)
            .await
            .expect("open");
        let (id_a, flags_a, h_a) = peer.syn().await;
        let (id_b, flags_b, h_b) = peer.syn().await;
        assert_eq!((id_a, flags_a), (1, super::super::frame::FLAG_FIN));
        assert_eq!((id_b, flags_b), (3, 0));
        assert_eq!(h_a, headers(&[("streamtype", "error")]));
        assert_eq!(h_b, headers(&[("streamtype", "data")]));
        peer.reply(3).await;
        peer.reply(1).await;
        let a = a.replied().await.expect("a");
        let b = b.replied().await.expect("b");
        assert_eq!((a.tx.id(), b.tx.id()), (1, 3));
    }

    #[tokio::test]
    async fn data_fin_and_reset_reach_their_stream() {
        let (conn, mut peer) = pair();
        let opening = conn.open(headers(&[]), false).await.expect("open");
        let (id, _, _) = peer.syn().await;
        peer.reply(id).await;
        let mut stream = opening.replied().await.expect("replied");
        peer.send(Frame::Data {
            stream: id,
            fin: true,
            data: Bytes::from_static(b"pong"),
        })
        .await;
        assert_eq!(
            stream.rx.recv().await,
            Some(Incoming::Data(Bytes::from_static(b"pong")))
        );
        assert_eq!(stream.rx.recv().await, Some(Incoming::Fin));
        peer.send(Frame::RstStream {
            stream: id,
            status: status::CANCEL,
        })
        .await;
        assert_eq!(
            stream.rx.recv().await,
            Some(Incoming::Reset(status::CANCEL))
        );
        stream
            .tx
            .send(Bytes::from_static(b"ping"), true)
            .await
            .expect("send");
        assert_eq!(
            peer.frame().await,
            Frame::Data {
                stream: id,
                fin: true,
                data: Bytes::from_static(b"ping")
            }
        );
    }

    #[tokio::test]
    async fn a_stream_reset_before_its_reply_is_refused() {
        let (conn, mut peer) = pair();
        let opening = conn.open(headers(&[]), false).await.expect("open");
        let (id, _, _) = peer.syn().await;
        peer.send(Frame::RstStream {
            stream: id,
            status: status::REFUSED_STREAM,
        })
        .await;
        assert_eq!(
            opening.replied().await.err(),
            Some(OpenError::Refused(status::REFUSED_STREAM))
        );
    }

    #[tokio::test]
    async fn the_servers_pings_are_answered_and_its_streams_refused() {
        let (conn, mut peer) = pair();
        peer.send(Frame::Ping(2)).await;
        assert_eq!(peer.frame().await, Frame::Ping(2));
        let headers = peer.tx.compress(&[("x", "y")]).expect("compress");
        peer.send(Frame::SynStream {
            stream: 2,
            associated: 0,
            priority: 0,
            flags: 0,
            headers,
        })
        .await;
        assert_eq!(
            peer.frame().await,
            Frame::RstStream {
                stream: 2,
                status: status::REFUSED_STREAM
            }
        );
        drop(conn);
    }

    #[tokio::test]
    async fn goaway_refuses_streams_the_server_never_saw() {
        let (conn, mut peer) = pair();
        let opening = conn.open(headers(&[]), false).await.expect("open");
        let (id, _, _) = peer.syn().await;
        peer.send(Frame::GoAway {
            last_good: 0,
            status: 0,
        })
        .await;
        assert_eq!(
            opening.replied().await.err(),
            Some(OpenError::Refused(status::REFUSED_STREAM))
        );
        assert!(!conn.is_usable());
        assert_eq!(id, 1);
    }

    #[tokio::test]
    async fn the_last_handle_gone_says_goaway_and_closes() {
        let (conn, mut peer) = pair();
        let opening = conn.open(headers(&[]), false).await.expect("open");
        let (id, _, _) = peer.syn().await;
        peer.reply(id).await;
        let stream = opening.replied().await.expect("replied");
        drop(conn);
        drop(stream);
        assert_eq!(
            peer.frame().await,
            Frame::GoAway {
                last_good: 0,
                status: 0
            }
        );
        let mut rest = Vec::new();
        peer.io.read_to_end(&mut rest).await.expect("eof");
        assert!(rest.is_empty());
    }

    #[tokio::test]
    async fn a_closed_connection_ends_its_streams_and_opens_no_more() {
        let (conn, mut peer) = pair();
        let opening = conn.open(headers(&[]), false).await.expect("open");
        let (id, _, _) = peer.syn().await;
        peer.reply(id).await;
        let mut stream = opening.replied().await.expect("replied");
        drop(peer);
        assert_eq!(stream.rx.recv().await, None);
        assert!(!conn.is_usable());
        assert_eq!(
            conn.open(headers(&[]), false).await.err(),
            Some(OpenError::Closed)
        );
    }
}
