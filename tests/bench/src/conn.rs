//! Keep-alive HTTP/1.1 connections to the apiserver (TLS with a client
//! certificate) or to a local proxy (plain TCP), and GETs on them.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, StatusCode, header};
use http_body_util::{BodyExt as _, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::error::{Error, Result};

pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub type Sender = SendRequest<Empty<Bytes>>;

/// Where a client connects.
#[derive(Clone)]
pub enum Endpoint {
    Plain(SocketAddr),
    Tls {
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        server_name: ServerName<'static>,
    },
}

impl Endpoint {
    pub fn addr(&self) -> SocketAddr {
        match self {
            Endpoint::Plain(addr) | Endpoint::Tls { addr, .. } => *addr,
        }
    }

    /// The apiserver with a client certificate, HTTP/1.1 only (ALPN).
    pub fn tls_client_cert(
        addr: SocketAddr,
        ca_file: &Path,
        cert_file: &Path,
        key_file: &Path,
    ) -> Result<Endpoint> {
        let read_err = |path: &Path, e: rustls_pki_types::pem::Error| {
            Error::Tls(format!("{}: {e}", path.display()))
        };
        let mut roots = rustls::RootCertStore::empty();
        for cert in CertificateDer::pem_file_iter(ca_file).map_err(|e| read_err(ca_file, e))? {
            roots
                .add(cert.map_err(|e| read_err(ca_file, e))?)
                .map_err(|e| Error::Tls(format!("{}: {e}", ca_file.display())))?;
        }
        let chain = CertificateDer::pem_file_iter(cert_file)
            .map_err(|e| read_err(cert_file, e))?
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| read_err(cert_file, e))?;
        let key = PrivateKeyDer::from_pem_file(key_file).map_err(|e| read_err(key_file, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| Error::Tls(format!("client certificate: {e}")))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Endpoint::Tls {
            addr,
            config: Arc::new(config),
            server_name: ServerName::IpAddress(addr.ip().into()),
        })
    }

    /// A new keep-alive HTTP/1.1 connection (within [`CONNECT_TIMEOUT`]).
    pub async fn connect(&self) -> Result<Sender> {
        let what = || self.addr().to_string();
        let work = async {
            let tcp = TcpStream::connect(self.addr())
                .await
                .map_err(|e| e.to_string())?;
            tcp.set_nodelay(true).map_err(|e| e.to_string())?;
            match self {
                Endpoint::Plain(_) => handshake(tcp).await,
                Endpoint::Tls {
                    config,
                    server_name,
                    ..
                } => {
                    let tls = TlsConnector::from(config.clone())
                        .connect(server_name.clone(), tcp)
                        .await
                        .map_err(|e| format!("TLS: {e}"))?;
                    handshake(tls).await
                }
            }
        };
        match tokio::time::timeout(CONNECT_TIMEOUT, work).await {
            Ok(Ok(sender)) => Ok(sender),
            Ok(Err(detail)) => Err(Error::Connect {
                what: what(),
                detail,
            }),
            Err(_) => Err(Error::Timeout {
                what: format!("connecting to {}", what()),
                secs: CONNECT_TIMEOUT.as_secs(),
            }),
        }
    }
}

async fn handshake<S>(io: S) -> std::result::Result<Sender, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
    tokio::spawn(async move {
        // Ends when the sender is dropped or the peer closes.
        let _ = connection.await;
    });
    Ok(sender)
}

/// A GET as one of the ways sends it: the Host header and the path.
#[derive(Debug, Clone)]
pub struct Get {
    pub host: String,
    pub path: String,
}

impl Get {
    fn request(&self) -> Result<Request<Empty<Bytes>>> {
        Request::get(self.path.as_str())
            .header(header::HOST, self.host.as_str())
            .header(header::ACCEPT, "application/json, */*")
            .header(header::USER_AGENT, "porthole-bench")
            .body(Empty::new())
            .map_err(|e| Error::request(format!("GET {}", self.path), e))
    }

    /// Sends the request and waits for the response headers (within `timeout`).
    pub async fn send(
        &self,
        sender: &mut Sender,
        timeout: Duration,
    ) -> Result<hyper::Response<Incoming>> {
        let what = || format!("GET {} (Host {})", self.path, self.host);
        let request = self.request()?;
        let work = async {
            sender
                .ready()
                .await
                .map_err(|e| Error::request(what(), e))?;
            sender
                .send_request(request)
                .await
                .map_err(|e| Error::request(what(), e))
        };
        tokio::time::timeout(timeout, work)
            .await
            .map_err(|_| Error::Timeout {
                what: what(),
                secs: timeout.as_secs(),
            })?
    }

    /// The whole exchange: status and body length (the body is counted,
    /// not kept), all within `timeout`.
    pub async fn fetch(&self, sender: &mut Sender, timeout: Duration) -> Result<(StatusCode, u64)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let response = self.send(sender, timeout).await?;
        let status = response.status();
        let mut body = response.into_body();
        let mut bytes = 0u64;
        loop {
            let frame = tokio::time::timeout_at(deadline, body.frame())
                .await
                .map_err(|_| Error::Timeout {
                    what: format!("the body of GET {}", self.path),
                    secs: timeout.as_secs(),
                })?;
            match frame {
                None => break,
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        bytes += data.len() as u64;
                    }
                }
                Some(Err(e)) => {
                    return Err(Error::request(format!("the body of GET {}", self.path), e));
                }
            }
        }
        Ok((status, bytes))
    }
}
