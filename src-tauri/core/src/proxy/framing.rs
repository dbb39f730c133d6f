//! Request smuggling guard: a request with both `Content-Length` and
//! `Transfer-Encoding` is refused with `400` before hyper parses it.
//!
//! hyper follows RFC 9112 §6.1 and silently drops `Content-Length` when
//! `Transfer-Encoding` is present, so the handler cannot see that a client
//! sent both. [`Framed`] sits between the socket and hyper: it holds each
//! request head until it is complete, and when the head carries both
//! headers it replaces it with an invalid request line, which hyper answers
//! with `400 Bad Request` and a closed connection. Nothing is forwarded.
//! Bodies are followed (fixed length and chunked) so every head of a
//! keep-alive connection is checked; after an upgrade request, or anything
//! it cannot follow, it steps aside and lets hyper decide.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// What hyper receives instead of a smuggling attempt: not a valid request
/// line, so hyper answers `400` and closes the connection.
const REFUSED: &[u8] = b"\x00 / HTTP/1.1\r\n\r\n";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for a request head (held until complete).
    Head,
    /// A body of this many bytes left.
    Fixed(u64),
    /// A chunk-size line.
    ChunkSize,
    /// Chunk data left, then its CRLF.
    ChunkData(u64),
    /// The CRLF after chunk data.
    ChunkEnd,
    /// Trailer lines until an empty one.
    Trailers,
    /// Not inspected any more (upgrade, refusal, something odd).
    Off,
}

pub struct Framed<S> {
    inner: S,
    state: State,
    /// Read from `inner`, not yet given to hyper.
    held: Vec<u8>,
    /// `held[..released]` may be given out.
    released: usize,
    /// `held[released..scanned]` belongs to the head being collected.
    scanned: usize,
    /// A line being collected in the chunked states.
    line: Vec<u8>,
    max_head: usize,
}

impl<S> Framed<S> {
    pub fn new(inner: S, max_head: usize) -> Self {
        Self {
            inner,
            state: State::Head,
            held: Vec::new(),
            released: 0,
            scanned: 0,
            line: Vec::new(),
            max_head,
        }
    }

    /// Walks the bytes not yet scanned, releasing what hyper may see.
    fn scan(&mut self) {
        loop {
            match self.state {
                State::Off => {
                    self.released = self.held.len();
                    self.scanned = self.held.len();
                    return;
                }
                State::Head => {
                    // Empty lines before a request line are allowed.
                    while self.released == self.scanned
                        && matches!(self.held.get(self.released), Some(b'\r' | b'\n'))
                    {
                        self.released += 1;
                        self.scanned += 1;
                    }
                    let start = self.released;
                    let Some(end) = find_head_end(&self.held[start..]) else {
                        self.scanned = self.held.len();
                        if self.held.len() - start > self.max_head {
                            // hyper refuses it as too large.
                            self.state = State::Off;
                            continue;
                        }
                        return;
                    };
                    let head_end = start + end;
                    let next = inspect(&self.held[start..head_end]);
                    match next {
                        Next::Refuse => {
                            tracing::info!(
                                "refused: a request with both Content-Length and Transfer-Encoding"
                            );
                            self.held.splice(start.., REFUSED.iter().copied());
                            self.released = self.held.len();
                            self.scanned = self.held.len();
                            self.state = State::Off;
                            return;
                        }
                        Next::State(state) => {
                            self.released = head_end;
                            self.scanned = head_end;
                            self.state = state;
                        }
                    }
                }
                _ => {
                    if self.scanned >= self.held.len() {
                        return;
                    }
                    self.body_byte_run();
                }
            }
        }
    }

    /// Advances through body bytes (all released as they are scanned).
    fn body_byte_run(&mut self) {
        let available = self.held.len() - self.scanned;
        match self.state {
            State::Fixed(left) => {
                let take = usize::try_from(left).map_or(available, |l| l.min(available));
                self.scanned += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::Head
                } else {
                    State::Fixed(left)
                };
            }
            State::ChunkData(left) => {
                let take = usize::try_from(left).map_or(available, |l| l.min(available));
                self.scanned += take;
                let left = left - take as u64;
                self.state = if left == 0 {
                    State::ChunkEnd
                } else {
                    State::ChunkData(left)
                };
            }
            State::ChunkSize | State::ChunkEnd | State::Trailers => {
                let byte = self.held[self.scanned];
                self.scanned += 1;
                if byte != b'\n' {
                    if self.line.len() > 4096 {
                        self.state = State::Off;
                    } else {
                        self.line.push(byte);
                    }
                } else {
                    let line = std::mem::take(&mut self.line);
                    let line = line.strip_suffix(b"\r").unwrap_or(&line);
                    self.state = match self.state {
                        State::ChunkSize => match chunk_size(line) {
                            Some(0) => State::Trailers,
                            Some(n) => State::ChunkData(n),
                            None => State::Off,
                        },
                        State::ChunkEnd if line.is_empty() => State::ChunkSize,
                        State::Trailers if line.is_empty() => State::Head,
                        State::Trailers => State::Trailers,
                        _ => State::Off,
                    };
                }
            }
            State::Head | State::Off => {}
        }
        self.released = self.scanned;
    }
}

enum Next {
    Refuse,
    State(State),
}

/// Index just past the `\r\n\r\n` (or `\n\n`) ending a head.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            if bytes.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if bytes.get(i + 1) == Some(&b'\r') && bytes.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

/// What follows a request head.
fn inspect(head: &[u8]) -> Next {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split('\n');
    let request_line = lines.next().unwrap_or_default();
    let (mut length, mut transfer_encoding, mut chunked, mut upgrade) =
        (None::<u64>, false, false, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => match value.parse() {
                Ok(n) => length = Some(n),
                // hyper refuses a bad length itself.
                Err(_) => return Next::State(State::Off),
            },
            "transfer-encoding" => {
                transfer_encoding = true;
                chunked = value
                    .rsplit(',')
                    .next()
                    .is_some_and(|c| c.trim().eq_ignore_ascii_case("chunked"));
            }
            "upgrade" => upgrade = true,
            _ => {}
        }
    }
    if transfer_encoding && length.is_some() {
        return Next::Refuse;
    }
    if upgrade || request_line.starts_with("CONNECT ") {
        return Next::State(State::Off);
    }
    Next::State(if transfer_encoding {
        if chunked {
            State::ChunkSize
        } else {
            State::Off
        }
    } else {
        match length {
            Some(n) if n > 0 => State::Fixed(n),
            _ => State::Head,
        }
    })
}

fn chunk_size(line: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(line).ok()?;
    let size = text.split(';').next()?.trim();
    u64::from_str_radix(size, 16).ok()
}

impl<S: AsyncRead + Unpin> AsyncRead for Framed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        loop {
            if this.released > 0 {
                let n = this.released.min(buf.remaining());
                buf.put_slice(&this.held[..n]);
                this.held.drain(..n);
                this.released -= n;
                this.scanned -= n;
                return Poll::Ready(Ok(()));
            }
            if this.state == State::Off && this.held.is_empty() {
                return Pin::new(&mut this.inner).poll_read(cx, buf);
            }
            let mut chunk = [0u8; 8192];
            let mut read = ReadBuf::new(&mut chunk);
            match Pin::new(&mut this.inner).poll_read(cx, &mut read) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Ready(Ok(())) if read.filled().is_empty() => {
                    // End of stream: whatever is held goes to hyper as is.
                    this.state = State::Off;
                    this.released = this.held.len();
                    if this.released == 0 {
                        return Poll::Ready(Ok(()));
                    }
                }
                Poll::Ready(Ok(())) => {
                    this.held.extend_from_slice(read.filled());
                    this.scan();
                }
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Framed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// What hyper would read for `input`, fed in pieces of `step` bytes.
    async fn through(input: &[u8], step: usize) -> Vec<u8> {
        let (mut client, server) = tokio::io::duplex(1 << 16);
        let mut framed = Framed::new(server, 64 * 1024);
        let input = input.to_vec();
        let writer = tokio::spawn(async move {
            for piece in input.chunks(step) {
                client.write_all(piece).await.expect("write");
                tokio::task::yield_now().await;
            }
            drop(client);
        });
        let mut out = Vec::new();
        framed.read_to_end(&mut out).await.expect("read");
        writer.await.expect("writer");
        out
    }

    #[tokio::test]
    async fn ordinary_keep_alive_traffic_passes_unchanged() {
        let input = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n\
            POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello\
            POST /y HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\
            5;ext=1\r\nContent-Length: 9\r\n0\r\nTrailer: x\r\n\r\n\
            GET /z HTTP/1.1\r\nHost: a\r\n\r\n";
        for step in [1, 3, 7, 64, 4096] {
            assert_eq!(through(input, step).await, input.to_vec(), "step {step}");
        }
    }

    #[tokio::test]
    async fn content_length_with_transfer_encoding_is_replaced_in_any_order() {
        for head in [
            &b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"[..],
            b"POST /x HTTP/1.1\r\nHost: a\r\ntransfer-encoding: chunked\r\ncontent-length: 4\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
        ] {
            for step in [1, 5, 4096] {
                let out = through(head, step).await;
                assert!(out.starts_with(REFUSED), "step {step}: {:?}", String::from_utf8_lossy(&out));
                assert!(!out.windows(7).any(|w| w == b"POST /x"), "never passed on");
            }
        }
        // The second request of a keep-alive connection, after a body that
        // mentions both headers.
        let smuggled = b"POST /a HTTP/1.1\r\nContent-Length: 36\r\n\r\nContent-Length: 1\r\nTransfer-Encoding\
            GET /ok HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
        let out = through(smuggled, 2).await;
        let text = String::from_utf8_lossy(&out);
        assert!(text.contains("GET /ok"), "{text}");
        assert!(!text.contains("POST /b"), "{text}");
    }
}
