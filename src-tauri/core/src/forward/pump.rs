//! Moves one connection's bytes both ways and counts them as they pass, so
//! the Forwards view shows live totals rather than totals at close.

use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

const CHUNK: usize = 64 * 1024;

/// Copies `from` to `to` until `from` ends, then shuts `to` down (the
/// half-close passes on where the transport can carry it).
pub async fn copy_counted<R, W>(mut from: R, mut to: W, counter: &AtomicU64) -> std::io::Result<u64>
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        to.write_all(&buf[..n]).await?;
        let n = n as u64;
        total += n;
        counter.fetch_add(n, Ordering::Relaxed);
    }
    to.shutdown().await?;
    Ok(total)
}

/// Both directions of a connection; returns when both have ended (or one
/// failed).
pub async fn both_ways<A, B>(
    a: A,
    b: B,
    a_to_b: &AtomicU64,
    b_to_a: &AtomicU64,
) -> std::io::Result<()>
where
    A: AsyncRead + AsyncWrite + Unpin,
    B: AsyncRead + AsyncWrite + Unpin,
{
    let (a_rx, a_tx) = tokio::io::split(a);
    let (b_rx, b_tx) = tokio::io::split(b);
    let up = copy_counted(a_rx, b_tx, a_to_b);
    let down = copy_counted(b_rx, a_tx, b_to_a);
    let (up, down) = tokio::join!(up, down);
    up.and(down).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_are_counted_in_each_direction() {
        let (client, near) = tokio::io::duplex(1024);
        let (far, mut server) = tokio::io::duplex(1024);
        let (sent, received) = (AtomicU64::new(0), AtomicU64::new(0));
        let mut client = client;
        let echo = async {
            let mut buf = [0u8; 5];
            server.read_exact(&mut buf).await.expect("read");
            server.write_all(b"world!").await.expect("write");
            server.shutdown().await.expect("shutdown");
        };
        let talk = async {
            client.write_all(b"hello").await.expect("write");
            client.shutdown().await.expect("shutdown");
            let mut got = Vec::new();
            client.read_to_end(&mut got).await.expect("read");
            got
        };
        let (got, (), pumped) = tokio::join!(talk, echo, both_ways(near, far, &sent, &received));
        pumped.expect("pump");
        assert_eq!(got, b"world!");
        assert_eq!(sent.load(Ordering::Relaxed), 5);
        assert_eq!(received.load(Ordering::Relaxed), 6);
    }
}
