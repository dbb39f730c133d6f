//! Porthole's test backends: small HTTP servers (and a raw TCP echo) that the
//! test control plane runs inside a network namespace, so the
//! kube-apiserver's service proxy and port-forwards reach them through a Pod
//! IP.
//!
//! Every listener serves one [`Mode`]. [`Backend::new`] takes a bound
//! listener (and, for `https`, generates a self-signed certificate);
//! [`Backend::run`] serves until the shutdown future resolves. The binary
//! (`porthole-backends`) is a thin wrapper around this library; tests start
//! backends in-process on `127.0.0.1:0`.

pub mod cli;
mod download;
mod echo;
mod elasticsearch;
mod http;
mod https;
mod spa;
mod stream;
mod tcp_echo;
mod websocket;

use std::convert::Infallible;
use std::fmt;
use std::future::Future;
use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

pub use http::Body;
pub use https::install_crypto_provider;

/// How long open connections may keep running after shutdown was requested.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);
/// How long a client may take to finish the TLS handshake.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What a listener serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A single-page app with root-relative asset URLs.
    Spa,
    /// Echoes the request (method, path, query, headers, body length) as
    /// JSON; `GET /whoami` answers with the address that was reached.
    Echo,
    /// An Elasticsearch look-alike (`/_cluster/health`, `/_search`).
    Elasticsearch,
    /// `echo` over TLS with a self-signed certificate.
    Https,
    /// Chunked responses and server-sent events.
    Stream,
    /// WebSocket echo on `/ws`.
    Websocket,
    /// Large generated downloads.
    Download,
    /// Raw TCP, not HTTP: every byte is echoed back; on EOF from the client
    /// the rest is written, then the connection is closed.
    TcpEcho,
}

impl Mode {
    /// Every mode, in the order the documentation lists them.
    pub const ALL: [Mode; 8] = [
        Mode::Spa,
        Mode::Echo,
        Mode::Elasticsearch,
        Mode::Https,
        Mode::Stream,
        Mode::Websocket,
        Mode::Download,
        Mode::TcpEcho,
    ];

    /// The name used on the command line and in the ready file.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Spa => "spa",
            Mode::Echo => "echo",
            Mode::Elasticsearch => "elasticsearch",
            Mode::Https => "https",
            Mode::Stream => "stream",
            Mode::Websocket => "websocket",
            Mode::Download => "download",
            Mode::TcpEcho => "tcp-echo",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A mode name that is not one of [`Mode::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMode(pub String);

impl fmt::Display for UnknownMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let known: Vec<&str> = Mode::ALL.iter().map(|m| m.as_str()).collect();
        write!(f, "unknown mode {:?} (known: {})", self.0, known.join(", "))
    }
}

impl std::error::Error for UnknownMode {}

impl FromStr for Mode {
    type Err = UnknownMode;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownMode(s.to_owned()))
    }
}

/// Why a backend could not be prepared.
#[derive(Debug)]
pub enum Error {
    /// Reading the listener's address failed.
    Io(std::io::Error),
    /// Generating the certificate or the TLS configuration failed.
    Tls(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io(err) => write!(f, "{err}"),
            Error::Tls(msg) => write!(f, "TLS set-up failed: {msg}"),
        }
    }
}

impl std::error::Error for Error {}

impl From<std::io::Error> for Error {
    fn from(err: std::io::Error) -> Self {
        Error::Io(err)
    }
}

/// A bound listener, ready to serve one mode.
pub struct Backend {
    mode: Mode,
    listener: TcpListener,
    local_addr: SocketAddr,
    tls: Option<https::TlsIdentity>,
}

impl Backend {
    /// Prepares `listener` to serve `mode`. For [`Mode::Https`] this
    /// generates a self-signed certificate for the listen IP and `localhost`.
    pub fn new(mode: Mode, listener: TcpListener) -> Result<Self, Error> {
        let local_addr = listener.local_addr()?;
        let tls = match mode {
            Mode::Https => Some(https::TlsIdentity::generate(local_addr)?),
            _ => None,
        };
        Ok(Backend {
            mode,
            listener,
            local_addr,
            tls,
        })
    }

    /// The mode this backend serves.
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The address the listener is bound to (with the real port when bound
    /// to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The self-signed certificate (PEM) of an `https` backend.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.tls.as_ref().map(|t| t.cert_pem.as_str())
    }

    /// The self-signed certificate (DER) of an `https` backend.
    pub fn certificate_der(&self) -> Option<&[u8]> {
        self.tls.as_ref().map(|t| t.cert_der.as_ref())
    }

    /// Serves until `shutdown` resolves, then stops accepting, lets open
    /// connections finish for a short grace period and returns.
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let Backend {
            mode,
            listener,
            tls,
            ..
        } = self;
        let acceptor = tls.map(|t| t.acceptor);
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut connections = JoinSet::new();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok((tcp, peer)) if mode == Mode::TcpEcho => {
                        connections.spawn(tcp_echo::serve(tcp, peer, stop_rx.clone()));
                    }
                    Ok((tcp, _peer)) => {
                        connections.spawn(serve_connection(
                            mode,
                            tcp,
                            acceptor.clone(),
                            stop_rx.clone(),
                        ));
                    }
                    Err(err) => {
                        // EMFILE and friends: back off instead of spinning.
                        eprintln!("porthole-backends[{mode}] accept failed: {err}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                },
                Some(_) = connections.join_next(), if !connections.is_empty() => {}
            }
        }
        drop(listener);
        // The receivers outlive this send: ignore "no receivers" when idle.
        let _ = stop_tx.send(true);
        let drained = async { while connections.join_next().await.is_some() {} };
        if tokio::time::timeout(SHUTDOWN_GRACE, drained).await.is_err() {
            connections.shutdown().await;
        }
    }
}

/// Serves `mode` on `listener` until the process ends.
pub async fn serve(mode: Mode, listener: TcpListener) -> Result<(), Error> {
    Backend::new(mode, listener)?
        .run(std::future::pending())
        .await;
    Ok(())
}

async fn serve_connection(
    mode: Mode,
    tcp: TcpStream,
    tls: Option<TlsAcceptor>,
    stop: watch::Receiver<bool>,
) {
    // Streaming tests care about each chunk leaving at once.
    let _ = tcp.set_nodelay(true);
    // The address the client reached (`/whoami`): the listen address, or
    // the real one when listening on 0.0.0.0 or [::].
    let reached = match tcp.local_addr() {
        Ok(addr) => addr,
        Err(err) => {
            eprintln!("porthole-backends[{mode}] cannot read a connection's address: {err}");
            return;
        }
    };
    let conn = Conn {
        mode,
        tls: tls.is_some(),
        reached,
    };
    match tls {
        None => drive(conn, TokioIo::new(tcp), stop).await,
        Some(acceptor) => {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => drive(conn, TokioIo::new(stream), stop).await,
                Ok(Err(err)) => eprintln!("porthole-backends[{mode}] TLS handshake failed: {err}"),
                Err(_) => eprintln!("porthole-backends[{mode}] TLS handshake timed out"),
            }
        }
    }
}

/// What a request handler knows about its connection.
#[derive(Clone, Copy)]
struct Conn {
    mode: Mode,
    tls: bool,
    /// The local address the client connected to.
    reached: SocketAddr,
}

async fn drive<I>(conn_info: Conn, io: I, mut stop: watch::Receiver<bool>)
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let builder = auto::Builder::new(TokioExecutor::new());
    let service =
        service_fn(move |req| async move { Ok::<_, Infallible>(dispatch(conn_info, req).await) });
    let conn = builder.serve_connection_with_upgrades(io, service);
    tokio::pin!(conn);
    tokio::select! {
        // Connection errors (a client going away mid-stream) are routine for
        // a test backend; requests are logged by `dispatch`.
        _ = conn.as_mut() => return,
        _ = stop.wait_for(|stopping| *stopping) => conn.as_mut().graceful_shutdown(),
    }
    let _ = conn.await;
}

/// Routes one request: `/healthz` for every mode, `/whoami` for `echo` and
/// `https`, then the mode's handler. Logs one line per request (method,
/// path, status; never a header value).
async fn dispatch(conn: Conn, req: Request<Incoming>) -> Response<Body> {
    let Conn { mode, tls, reached } = conn;
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let get = method == Method::GET || method == Method::HEAD;
    let response = if path == "/healthz" && get {
        http::text(hyper::StatusCode::OK, "ok")
    } else if path == "/whoami" && get && matches!(mode, Mode::Echo | Mode::Https) {
        // Which Pod answered: its address, as the client reached it.
        http::text(hyper::StatusCode::OK, format!("{reached}\n"))
    } else {
        match mode {
            Mode::Spa => spa::handle(req),
            Mode::Echo => echo::handle(req, false).await,
            Mode::Https => echo::handle(req, tls).await,
            Mode::Elasticsearch => elasticsearch::handle(req),
            Mode::Stream => stream::handle(req),
            Mode::Websocket => websocket::handle(req),
            Mode::Download => download::handle(req),
            // Served by `tcp_echo`, never by HTTP.
            Mode::TcpEcho => http::not_found(),
        }
    };
    eprintln!(
        "porthole-backends[{mode}] {method} {path} {}",
        response.status().as_u16()
    );
    response
}
