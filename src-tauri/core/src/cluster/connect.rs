//! Opening connections to a cluster: DNS, TCP, an optional `proxy-url`
//! tunnel and TLS, each step with its own timeout and its own error, so a
//! failure can say exactly what went wrong (which host did not resolve,
//! which address refused, which name the certificate lacked).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use http::Uri;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use super::tunnel;
use crate::auth::SecretHeader;

/// Per-step limits. None applies to an established stream.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    /// DNS plus TCP connect (plus the proxy tunnel).
    pub connect: Duration,
    pub tls_handshake: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            tls_handshake: Duration::from_secs(10),
        }
    }
}

/// A `proxy-url`.
#[derive(Debug, Clone)]
pub enum ProxyTarget {
    HttpConnect {
        host: String,
        port: u16,
        auth: Option<SecretHeader>,
        /// The URL without credentials, for messages.
        shown: String,
    },
    Socks5 {
        host: String,
        port: u16,
        credentials: Option<(String, secrecy::SecretString)>,
        shown: String,
    },
}

impl ProxyTarget {
    fn shown(&self) -> &str {
        match self {
            Self::HttpConnect { shown, .. } | Self::Socks5 { shown, .. } => shown,
        }
    }
}

/// Why a connection could not be opened.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConnectError {
    #[error("the URL {0} has no host")]
    NoHost(String),
    #[error("cannot resolve {host}: {reason}")]
    Dns { host: String, reason: String },
    #[error("connection refused by {address}")]
    Refused { address: String },
    #[error("cannot connect to {address}: {reason}")]
    Unreachable { address: String, reason: String },
    #[error("connecting to {address} took longer than {seconds} s")]
    ConnectTimeout { address: String, seconds: u32 },
    #[error("proxy {proxy}: {reason}")]
    Proxy { proxy: String, reason: String },
    #[error("TLS handshake with {address} failed: {error}")]
    Tls {
        address: String,
        /// The name the certificate was checked against.
        checked_name: String,
        error: rustls::Error,
    },
    #[error("TLS handshake with {address} failed: {reason}")]
    TlsIo { address: String, reason: String },
    #[error("the TLS handshake with {address} did not finish within {seconds} s")]
    TlsTimeout { address: String, seconds: u32 },
}

impl ConnectError {
    /// The connect step's own error inside another error's source chain
    /// (hyper wraps it).
    pub fn find_in<'a>(error: &'a (dyn std::error::Error + 'static)) -> Option<&'a ConnectError> {
        let mut current = Some(error);
        while let Some(err) = current {
            if let Some(connect) = err.downcast_ref::<ConnectError>() {
                return Some(connect);
            }
            current = err.source();
        }
        None
    }
}

/// Opens connections for hyper's pool.
#[derive(Clone)]
pub struct Connector {
    inner: Arc<Inner>,
}

struct Inner {
    /// `None`: plain HTTP (an `http://` server).
    tls: Option<Arc<ClientConfig>>,
    /// `tls-server-name`, when set.
    tls_server_name: Option<String>,
    proxy: Option<ProxyTarget>,
    timeouts: Timeouts,
}

impl Connector {
    pub fn new(
        tls: Option<Arc<ClientConfig>>,
        tls_server_name: Option<String>,
        proxy: Option<ProxyTarget>,
        timeouts: Timeouts,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                tls,
                tls_server_name,
                proxy,
                timeouts,
            }),
        }
    }

    /// Opens a connection to `uri`'s host and port.
    pub async fn connect(&self, uri: Uri) -> Result<ClusterConn, ConnectError> {
        let inner = &self.inner;
        let host = uri
            .host()
            .ok_or_else(|| ConnectError::NoHost(uri.to_string()))?
            .to_owned();
        let https = uri.scheme_str() == Some("https");
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let address = if host.contains(':') && !host.starts_with('[') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let seconds = |d: Duration| u32::try_from(d.as_secs()).unwrap_or(u32::MAX);
        let tcp = tokio::time::timeout(inner.timeouts.connect, inner.open(&host, port, &address))
            .await
            .map_err(|_| match &inner.proxy {
                Some(proxy) => ConnectError::Proxy {
                    proxy: proxy.shown().to_owned(),
                    reason: format!(
                        "no tunnel to {address} within {} s",
                        seconds(inner.timeouts.connect)
                    ),
                },
                None => ConnectError::ConnectTimeout {
                    address: address.clone(),
                    seconds: seconds(inner.timeouts.connect),
                },
            })??;
        let _ = tcp.set_nodelay(true);
        let Some(tls) = (https).then_some(()).and(inner.tls.clone()) else {
            return Ok(ClusterConn::new(Stream::Plain(tcp), false));
        };
        let checked = inner
            .tls_server_name
            .clone()
            .unwrap_or_else(|| host.clone());
        let name: ServerName<'static> =
            super::tls::server_name(&host, inner.tls_server_name.as_deref()).map_err(|reason| {
                ConnectError::TlsIo {
                    address: address.clone(),
                    reason,
                }
            })?;
        let connector = tokio_rustls::TlsConnector::from(tls);
        let stream =
            tokio::time::timeout(inner.timeouts.tls_handshake, connector.connect(name, tcp))
                .await
                .map_err(|_| ConnectError::TlsTimeout {
                    address: address.clone(),
                    seconds: seconds(inner.timeouts.tls_handshake),
                })?
                .map_err(|e| tls_error(e, &address, &checked))?;
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        Ok(ClusterConn::new(Stream::Tls(Box::new(stream)), h2))
    }
}

impl Inner {
    async fn open(&self, host: &str, port: u16, address: &str) -> Result<TcpStream, ConnectError> {
        match &self.proxy {
            None => dial(host, port, address).await,
            Some(proxy) => {
                let failed = |reason: String| ConnectError::Proxy {
                    proxy: proxy.shown().to_owned(),
                    reason,
                };
                let (phost, pport) = match proxy {
                    ProxyTarget::HttpConnect { host, port, .. }
                    | ProxyTarget::Socks5 { host, port, .. } => (host.as_str(), *port),
                };
                let paddr = format!("{phost}:{pport}");
                let stream = dial(phost, pport, &paddr)
                    .await
                    .map_err(|e| failed(e.to_string()))?;
                match proxy {
                    ProxyTarget::HttpConnect { auth, .. } => {
                        tunnel::http_connect(stream, host, port, auth.as_ref()).await
                    }
                    ProxyTarget::Socks5 { credentials, .. } => {
                        use secrecy::ExposeSecret as _;
                        let creds = credentials
                            .as_ref()
                            .map(|(u, p)| (u.as_str(), p.expose_secret()));
                        tunnel::socks5_connect(stream, host, port, creds).await
                    }
                }
                .map_err(failed)
            }
        }
    }
}

/// Resolves `host` and connects to its addresses in turn.
async fn dial(host: &str, port: u16, address: &str) -> Result<TcpStream, ConnectError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<std::net::SocketAddr> = match bare.parse::<std::net::IpAddr>() {
        Ok(ip) => vec![std::net::SocketAddr::new(ip, port)],
        Err(_) => tokio::net::lookup_host((bare, port))
            .await
            .map_err(|e| ConnectError::Dns {
                host: bare.to_owned(),
                reason: e.to_string(),
            })?
            .collect(),
    };
    let mut last = ConnectError::Dns {
        host: bare.to_owned(),
        reason: "no address found".into(),
    };
    for addr in addrs {
        match TcpStream::connect(addr).await {
            Ok(stream) => return Ok(stream),
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                last = ConnectError::Refused {
                    address: address.to_owned(),
                };
            }
            Err(e) => {
                last = ConnectError::Unreachable {
                    address: address.to_owned(),
                    reason: e.to_string(),
                };
            }
        }
    }
    Err(last)
}

fn tls_error(e: io::Error, address: &str, checked: &str) -> ConnectError {
    if let Some(error) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return ConnectError::Tls {
            address: address.to_owned(),
            checked_name: checked.to_owned(),
            error: error.clone(),
        };
    }
    ConnectError::TlsIo {
        address: address.to_owned(),
        reason: if e.kind() == io::ErrorKind::UnexpectedEof {
            "the server closed the connection (is it speaking TLS?)".to_owned()
        } else {
            e.to_string()
        },
    }
}

impl tower::Service<Uri> for Connector {
    type Response = ClusterConn;
    type Error = ConnectError;
    type Future = Pin<Box<dyn Future<Output = Result<ClusterConn, ConnectError>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { this.connect(uri).await })
    }
}

/// A TCP or TLS stream to the cluster.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_flush(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(s) => Pin::new(s).poll_write_vectored(cx, bufs),
            Self::Tls(s) => Pin::new(s.as_mut()).poll_write_vectored(cx, bufs),
        }
    }

    fn is_write_vectored(&self) -> bool {
        match self {
            Self::Plain(s) => s.is_write_vectored(),
            Self::Tls(s) => s.is_write_vectored(),
        }
    }
}

/// A connection as hyper's pool sees it: the stream and whether TLS
/// negotiated HTTP/2.
pub struct ClusterConn {
    io: TokioIo<Stream>,
    h2: bool,
}

impl ClusterConn {
    fn new(stream: Stream, h2: bool) -> Self {
        Self {
            io: TokioIo::new(stream),
            h2,
        }
    }
}

impl Connection for ClusterConn {
    fn connected(&self) -> Connected {
        let connected = Connected::new();
        if self.h2 {
            connected.negotiated_h2()
        } else {
            connected
        }
    }
}

impl hyper::rt::Read for ClusterConn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for ClusterConn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().io).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }
}
