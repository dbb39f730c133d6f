//! Fault injectors for the status probe: endpoints that misbehave in ways
//! no real server can be asked to. A real apiserver always finishes a TLS
//! handshake and a real host either answers a SYN or rejects it, so these
//! are built here on purpose:
//!
//! - [`StallingTlsStub`]: accepts TCP, reads the ClientHello, never answers
//!   (a wedged apiserver or a middlebox eating the handshake).
//! - [`Blackhole`]: an address whose `connect` never completes and never
//!   errors (SYN dropped, as behind a firewall that drops).
//! - [`refused_addr`]: a loopback port nobody listens on (RST at once).

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use crate::error::{Error, IoContext, Result};
use crate::loopback;

/// Accepts TCP connections and never answers the TLS handshake; holds each
/// connection open until the client gives up or the stub is dropped.
pub struct StallingTlsStub {
    server: loopback::Server,
    accepted: Arc<AtomicUsize>,
}

impl StallingTlsStub {
    pub fn start() -> Result<StallingTlsStub> {
        let accepted = Arc::new(AtomicUsize::new(0));
        let count = accepted.clone();
        let server = loopback::serve("stalling-tls-stub", move |mut stream, _peer| {
            count.fetch_add(1, Ordering::SeqCst);
            async move {
                // Swallow whatever comes (the ClientHello) until EOF.
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
            }
        })?;
        Ok(StallingTlsStub { server, accepted })
    }

    pub fn addr(&self) -> SocketAddr {
        self.server.addr
    }

    /// `https://127.0.0.1:PORT`, for a kubeconfig `server`.
    pub fn url(&self) -> String {
        format!("https://{}", self.server.addr)
    }

    /// TCP connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }
}

/// A loopback address where TCP connects hang: SYNs are dropped silently.
///
/// How: a listener with a backlog of 0 whose single accept-queue slot is
/// taken by a connection of our own that is never accepted. Linux then
/// drops every further SYN to that port without an answer (listen-queue
/// overflow, `tcp_conn_request`), so the client retransmits its SYN as it
/// would toward a firewall that drops: no SYN-ACK, no RST, no ICMP. Chosen
/// over an nftables/iptables DROP rule because it needs no root, no extra
/// tools and no global state, and it is gone when the handle drops. The
/// kernel's own SYN retry limit still ends a connect after ~2 minutes
/// (`net.ipv4.tcp_syn_retries`), as it would for a real blackhole.
///
/// [`Blackhole::new`] proves the trick on this kernel (a probe connect must
/// stay pending) and fails with an explanation otherwise; it never skips.
pub struct Blackhole {
    addr: SocketAddr,
    _listener: std::net::TcpListener,
    _filler: std::net::TcpStream,
}

/// How long the self-check waits for a connect that must not complete.
const PROBE_WAIT: Duration = Duration::from_millis(300);

impl Blackhole {
    pub fn new() -> Result<Blackhole> {
        let socket = socket2::Socket::new(
            socket2::Domain::IPV4,
            socket2::Type::STREAM,
            Some(socket2::Protocol::TCP),
        )
        .ctx(|| "blackhole: creating a socket")?;
        let bind: SocketAddr = (Ipv4Addr::LOCALHOST, 0).into();
        socket
            .bind(&bind.into())
            .ctx(|| "blackhole: binding 127.0.0.1:0")?;
        socket.listen(0).ctx(|| "blackhole: listen(0)")?;
        let listener: std::net::TcpListener = socket.into();
        let addr = listener.local_addr().ctx(|| "blackhole: its address")?;
        // Fills the accept queue (backlog 0 admits one connection).
        let filler = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(2))
            .ctx(|| format!("blackhole: the filler connection to {addr}"))?;
        let hole = Blackhole {
            addr,
            _listener: listener,
            _filler: filler,
        };
        hole.self_check()?;
        Ok(hole)
    }

    /// Synchronous on purpose: callable from sync tests and from inside a
    /// runtime alike (it blocks for [`PROBE_WAIT`] at most).
    fn self_check(&self) -> Result<()> {
        let addr = self.addr;
        match std::net::TcpStream::connect_timeout(&addr, PROBE_WAIT) {
            Err(e) if e.kind() == std::io::ErrorKind::TimedOut => Ok(()),
            Ok(_) => Err(Error::Fault(format!(
                "blackhole: a connect to {addr} completed although the listen queue is full; \
                 this kernel does not drop SYNs on listen-queue overflow, so the blackhole \
                 cannot be built this way (a DROP rule with nft/iptables would be needed)"
            ))),
            Err(e) => Err(Error::Fault(format!(
                "blackhole: a connect to {addr} failed ({e}) instead of hanging; \
                 net.ipv4.tcp_abort_on_overflow or a firewall may answer SYNs here"
            ))),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `https://127.0.0.1:PORT`, for a kubeconfig `server`.
    pub fn url(&self) -> String {
        format!("https://{}", self.addr)
    }
}

/// A loopback address nobody listens on: connects fail with
/// ECONNREFUSED at once. (The port was free a moment ago; another process
/// could take it, which on a test machine is unlikely.)
pub fn refused_addr() -> Result<SocketAddr> {
    let l = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .ctx(|| "binding 127.0.0.1:0 for a refused port")?;
    let addr = l
        .local_addr()
        .ctx(|| "reading a fresh listener's address")?;
    drop(l);
    Ok(addr)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn each_fault_behaves() {
        let hole = Blackhole::new().expect("blackhole");
        let r = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(hole.addr()),
        )
        .await;
        assert!(r.is_err(), "connect to the blackhole must hang, got {r:?}");

        let refused = refused_addr().expect("port");
        let e = tokio::net::TcpStream::connect(refused)
            .await
            .expect_err("refused");
        assert_eq!(e.kind(), std::io::ErrorKind::ConnectionRefused);

        let stub = StallingTlsStub::start().expect("stub");
        let mut s = tokio::net::TcpStream::connect(stub.addr())
            .await
            .expect("tcp connects");
        tokio::io::AsyncWriteExt::write_all(&mut s, b"\x16\x03\x01hello")
            .await
            .expect("write");
        let mut buf = [0u8; 1];
        let read = tokio::time::timeout(Duration::from_millis(500), s.read(&mut buf)).await;
        assert!(read.is_err(), "the stub must not answer");
        assert_eq!(stub.accepted(), 1);
    }
}
