//! The listener: TCP (loopback by default) or a Unix socket (mode 0600),
//! HTTP/1.1 with upgrades, one task per connection, a graceful stop
//! (in-flight requests get a bounded time to finish, new ones are refused)
//! and an immediate restart on the same port (SO_REUSEADDR).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::watch;

use super::framing::Framed;
use super::handler::{Handler, HandlerOptions, MAX_HEAD_BYTES, Stats};
use super::route::Upstreams;

/// Where to listen.
#[derive(Debug, Clone)]
pub enum Listen {
    Tcp(SocketAddr),
    Unix(PathBuf),
}

impl std::fmt::Display for Listen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Tcp(addr) => write!(f, "{addr}"),
            Self::Unix(path) => write!(f, "{}", path.display()),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "{address} is already in use (another kubectl proxy or Porthole?): choose another port"
    )]
    InUse { address: String },
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        source: std::io::Error,
    },
}

/// A running proxy. Dropping it stops accepting at once; [`Self::stop`]
/// also lets requests in flight finish.
pub struct ProxyServer {
    listening: Listen,
    stats: Arc<Stats>,
    stop: watch::Sender<Option<Duration>>,
    done: Option<tokio::task::JoinHandle<()>>,
}

impl ProxyServer {
    pub async fn start(
        listen: Listen,
        options: HandlerOptions,
        upstreams: Arc<dyn Upstreams>,
    ) -> Result<Self, ProxyError> {
        let stats = Arc::new(Stats::default());
        let (closing, closing_rx) = watch::channel(false);
        let handler = Arc::new(Handler::new(options, upstreams, stats.clone(), closing_rx));
        let (stop, stop_rx) = watch::channel(None);
        let (listening, done) = match &listen {
            Listen::Tcp(addr) => {
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .map_err(|source| bind_error(&listen, source))?;
                let local = listener
                    .local_addr()
                    .map_err(|source| bind_error(&listen, source))?;
                let listener = Arc::new(listener);
                let task = tokio::spawn(accept_loop(
                    move || {
                        let listener = listener.clone();
                        async move {
                            let (stream, _) = listener.accept().await?;
                            let _ = stream.set_nodelay(true);
                            Ok(stream)
                        }
                    },
                    handler,
                    stop_rx,
                    closing,
                ));
                (Listen::Tcp(local), task)
            }
            Listen::Unix(path) => {
                // A stale socket file from an earlier run would make bind fail.
                if tokio::fs::symlink_metadata(path)
                    .await
                    .is_ok_and(|m| is_socket(&m))
                {
                    let _ = tokio::fs::remove_file(path).await;
                }
                let listener = tokio::net::UnixListener::bind(path)
                    .map_err(|source| bind_error(&listen, source))?;
                set_owner_only(path)
                    .await
                    .map_err(|source| bind_error(&listen, source))?;
                let listener = Arc::new(listener);
                let task = tokio::spawn(accept_loop(
                    move || {
                        let listener = listener.clone();
                        async move { listener.accept().await.map(|(s, _)| s) }
                    },
                    handler,
                    stop_rx,
                    closing,
                ));
                (listen.clone(), task)
            }
        };
        Ok(Self {
            listening,
            stats,
            stop,
            done: Some(done),
        })
    }

    /// Where it listens (the real port when 0 was asked for).
    pub fn listening(&self) -> &Listen {
        &self.listening
    }

    pub fn stats(&self) -> Arc<Stats> {
        self.stats.clone()
    }

    /// Stops accepting, lets requests in flight finish within `grace`, then
    /// closes what is left (streams such as watches included).
    pub async fn stop(mut self, grace: Duration) {
        let _ = self.stop.send(Some(grace));
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
        if let Listen::Unix(path) = &self.listening {
            let _ = tokio::fs::remove_file(path).await;
        }
    }

    /// Runs until the listener fails (for `portholectl proxy`).
    pub async fn wait(mut self) {
        if let Some(done) = self.done.take() {
            let _ = done.await;
        }
    }
}

impl Drop for ProxyServer {
    fn drop(&mut self) {
        if let Some(done) = &self.done {
            done.abort();
        }
    }
}

async fn accept_loop<A, F, S>(
    accept: A,
    handler: Arc<Handler>,
    mut stop: watch::Receiver<Option<Duration>>,
    closing: watch::Sender<bool>,
) where
    A: Fn() -> F,
    F: Future<Output = std::io::Result<S>>,
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder.max_buf_size(MAX_HEAD_BYTES).keep_alive(true);
    let mut connections = tokio::task::JoinSet::new();
    // Tells every connection to finish its request in flight and close.
    let (draining, _) = watch::channel(false);
    let grace = loop {
        while connections.try_join_next().is_some() {}
        tokio::select! {
            accepted = accept() => match accepted {
                Ok(stream) => {
                    let handler = handler.clone();
                    let service = service_fn(move |request| {
                        let handler = handler.clone();
                        async move { Ok::<_, std::convert::Infallible>(handler.handle(request).await) }
                    });
                    let connection = builder
                        .serve_connection(TokioIo::new(Framed::new(stream, MAX_HEAD_BYTES)), service)
                        .with_upgrades();
                    let mut drain = draining.subscribe();
                    connections.spawn(async move {
                        let mut connection = std::pin::pin!(connection);
                        tokio::select! {
                            result = connection.as_mut() => log_end(result),
                            () = async { let _ = drain.wait_for(|d| *d).await; } => {
                                connection.as_mut().graceful_shutdown();
                                log_end(connection.await);
                            }
                        }
                    });
                }
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            changed = stop.changed() => {
                if changed.is_err() {
                    break Duration::ZERO;
                }
                if let Some(grace) = *stop.borrow() {
                    break grace;
                }
            }
        }
    };
    // New connections are refused from now on, not queued in the backlog
    // of a listener nobody accepts from any more.
    drop(accept);
    let _ = draining.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::info!("proxy stopped; what was still open after {grace:?} was closed");
    }
    connections.abort_all();
    // Upgraded streams (WebSocket, port-forward) end with the proxy.
    let _ = closing.send(true);
}

fn log_end(result: hyper::Result<()>) {
    if let Err(e) = result {
        tracing::debug!(error = %e, "proxy connection ended with an error");
    }
}

fn bind_error(listen: &Listen, source: std::io::Error) -> ProxyError {
    if source.kind() == std::io::ErrorKind::AddrInUse {
        ProxyError::InUse {
            address: listen.to_string(),
        }
    } else {
        ProxyError::Bind {
            address: listen.to_string(),
            source,
        }
    }
}

#[cfg(unix)]
fn is_socket(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt as _;
    meta.file_type().is_socket()
}

#[cfg(unix)]
async fn set_owner_only(path: &std::path::Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    tokio::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).await
}
