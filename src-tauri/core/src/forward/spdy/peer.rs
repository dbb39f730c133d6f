//! The server end of a SPDY connection, for tests: frames in and out
//! through its own header contexts, as the kubelet's end would see them.

use std::time::Duration;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};

use super::frame::{self, Frame};
use super::headers::{Compressor, Decompressor, Headers};

pub struct Peer {
    pub io: DuplexStream,
    buf: BytesMut,
    rx: Decompressor,
    pub tx: Compressor,
}

impl Peer {
    /// A peer and the client's end of the socket.
    pub fn new() -> (DuplexStream, Self) {
        let (client, server) = tokio::io::duplex(1 << 20);
        let peer = Self {
            io: server,
            buf: BytesMut::new(),
            rx: Decompressor::default(),
            tx: Compressor::default(),
        };
        (client, peer)
    }

    /// The next frame the client sent (within 5 s), the session greeting
    /// (SETTINGS, and WINDOW_UPDATE for the session) aside.
    pub async fn frame(&mut self) -> Frame {
        loop {
            match self.raw_frame().await {
                Frame::Settings(_) | Frame::WindowUpdate { stream: 0, .. } => {}
                other => return other,
            }
        }
    }

    /// The next frame the client sent (within 5 s).
    pub async fn raw_frame(&mut self) -> Frame {
        loop {
            if let Some(f) = frame::decode(&mut self.buf, frame::MAX_LENGTH).expect("valid") {
                return f;
            }
            let n = tokio::time::timeout(Duration::from_secs(5), self.io.read_buf(&mut self.buf))
                .await
                .expect("a frame in time")
                .expect("read");
            assert!(n > 0, "the client closed");
        }
    }

    /// The next frame that is not a ping or a window update.
    pub async fn significant_frame(&mut self) -> Frame {
        loop {
            match self.frame().await {
                Frame::Ping(_) | Frame::WindowUpdate { .. } => {}
                other => return other,
            }
        }
    }

    pub async fn send(&mut self, frame: Frame) {
        let mut out = BytesMut::new();
        frame.encode(&mut out);
        self.io.write_all(&out).await.expect("write");
    }

    pub async fn reply(&mut self, stream: u32) {
        let headers = self.tx.compress(&[]).expect("compress");
        self.send(Frame::SynReply {
            stream,
            fin: false,
            headers,
        })
        .await;
    }

    /// The next SYN_STREAM: its id, flags and headers.
    pub async fn syn(&mut self) -> (u32, u8, Headers) {
        match self.frame().await {
            Frame::SynStream {
                stream,
                flags,
                headers,
                ..
            } => (
                stream,
                flags,
                self.rx.decompress(&headers).expect("headers"),
            ),
            other => panic!("a SYN_STREAM, got {other:?}"),
        }
    }
}
