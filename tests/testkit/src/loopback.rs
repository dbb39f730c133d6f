//! A TCP server on 127.0.0.1 running on its own thread and tokio runtime,
//! so the harness's in-process servers (proxies, fault injectors, the OIDC
//! issuer) work the same from sync tests, async tests and the supervisor.
//! Dropping the handle stops the accept loop and every connection task.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

use crate::error::{Error, IoContext, Result};

pub struct Server {
    pub addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// Binds 127.0.0.1:0 and serves each connection with `handle` on a task.
pub fn serve<H, F>(name: &str, handle: H) -> Result<Server>
where
    H: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let listener = std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .ctx(|| format!("{name}: binding 127.0.0.1:0"))?;
    serve_on(name, listener, handle)
}

/// Serves on a listener the caller bound (and set up) already.
pub fn serve_on<H, F>(name: &str, listener: std::net::TcpListener, handle: H) -> Result<Server>
where
    H: Fn(TcpStream, SocketAddr) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let addr = listener
        .local_addr()
        .ctx(|| format!("{name}: reading the listener address"))?;
    listener
        .set_nonblocking(true)
        .ctx(|| format!("{name}: making the listener non-blocking"))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .ctx(|| format!("{name}: starting a tokio runtime"))?;
    let (stop, stopped) = oneshot::channel::<()>();
    let handle = Arc::new(handle);
    let label = name.to_owned();
    let thread = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            rt.block_on(async move {
                let listener = match TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        tracing::error!("{label}: {e}");
                        return;
                    }
                };
                let accept = async {
                    loop {
                        match listener.accept().await {
                            Ok((stream, peer)) => {
                                tokio::spawn(handle(stream, peer));
                            }
                            Err(e) => {
                                tracing::warn!("{label}: accept: {e}");
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            }
                        }
                    }
                };
                tokio::select! {
                    () = accept => {}
                    _ = stopped => {}
                }
            });
            // Dropping the runtime here cancels every connection task.
        })
        .map_err(|e| Error::Usage(format!("{name}: cannot start its thread: {e}")))?;
    tracing::debug!("{name} listening on {addr}");
    Ok(Server {
        addr,
        stop: Some(stop),
        thread: Some(thread),
    })
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
