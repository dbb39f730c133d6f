//! An in-process `ProxyServer` in front of a fake apiserver (plain HTTP on
//! loopback): for what the real one never does — a backend redirect whose
//! `Location` carries the proxy prefix, cookies with a prefixed path — and
//! for stopping and restarting with requests in flight.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt as _, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper_util::rt::TokioIo;
use porthole_core::auth::ExecEnv;
use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::{ClientEnv, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_merged};
use porthole_core::proxy::{Filter, HandlerOptions, Listen, ProxyServer, Upstream, Upstreams};
use porthole_core::shell_path::process_search_path;
use tokio::sync::Notify;

const PREFIX: &str = "/api/v1/namespaces/team-a/services/web:80/proxy";

type Body = BoxBody<Bytes, Infallible>;

pub struct FakeUpstream {
    paths: Arc<Mutex<Vec<String>>>,
    /// Notified when a `/slow` request has arrived.
    pub slow_started: Arc<Notify>,
    task: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
    pub kubeconfig: std::path::PathBuf,
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn full(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())).boxed());
    *response.status_mut() = status;
    response
}

fn redirect(location: &str) -> Response<Body> {
    let mut response = full(StatusCode::MOVED_PERMANENTLY, "");
    response
        .headers_mut()
        .insert("location", location.parse().expect("location"));
    response
}

async fn answer(
    request: Request<Incoming>,
    paths: Arc<Mutex<Vec<String>>>,
    slow_started: Arc<Notify>,
) -> Response<Body> {
    let path = request.uri().path().to_owned();
    paths.lock().expect("paths").push(path.clone());
    let last = path.rsplit('/').next().unwrap_or_default();
    match last {
        "redirect" => redirect(&format!("{PREFIX}/login?next=/")),
        "redirect-bare" => redirect(PREFIX),
        "redirect-away" => redirect("https://elsewhere.example/x"),
        "cookie" => {
            let mut response = full(StatusCode::OK, "cookie");
            response.headers_mut().insert(
                "set-cookie",
                format!("sid=1; Domain=fake.localhost; Path={PREFIX}/app; HttpOnly")
                    .parse()
                    .expect("cookie"),
            );
            response
        }
        "slow" => {
            slow_started.notify_one();
            tokio::time::sleep(Duration::from_secs(3)).await;
            full(StatusCode::OK, "slow-done")
        }
        "endless" => {
            let stream = futures_util::stream::unfold(0u64, |n| async move {
                tokio::time::sleep(Duration::from_millis(200)).await;
                Some((
                    Ok::<_, Infallible>(Frame::data(Bytes::from(format!("tick {n}\n")))),
                    n + 1,
                ))
            });
            Response::new(StreamBody::new(stream).boxed())
        }
        _ => full(StatusCode::OK, &format!("{{\"path\":{path:?}}}")),
    }
}

impl FakeUpstream {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake apiserver");
        let addr = listener.local_addr().expect("addr");
        let paths = Arc::new(Mutex::new(Vec::new()));
        let slow_started = Arc::new(Notify::new());
        let (p, s) = (paths.clone(), slow_started.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (p, s) = (p.clone(), s.clone());
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| {
                        let (p, s) = (p.clone(), s.clone());
                        async move { Ok::<_, Infallible>(answer(req, p, s).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("kubeconfig.json");
        let doc = serde_json::json!({
            "apiVersion": "v1", "kind": "Config",
            "clusters": [{"name": "fake", "cluster": {"server": format!("http://{addr}")}}],
            "users": [{"name": "fake", "user": {"token": "never-sent-over-http"}}],
            "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake"}}],
            "current-context": "fake",
        });
        std::fs::write(&kubeconfig, serde_json::to_vec(&doc).expect("json")).expect("write");
        Self {
            paths,
            slow_started,
            task,
            _dir: dir,
            kubeconfig,
        }
    }

    pub fn last_path(&self) -> Option<String> {
        self.paths.lock().expect("paths").last().cloned()
    }
}

struct One(Upstream);

impl Upstreams for One {
    fn active(&self) -> Option<Upstream> {
        Some(self.0.clone())
    }

    fn by_label(&self, label: &str) -> Option<Upstream> {
        (label == self.0.context).then(|| self.0.clone())
    }
}

/// A `ProxyServer` in this process in front of `fake`, on `port` (any free
/// one with `None`).
pub async fn in_process_proxy(fake: &FakeUpstream, port: Option<u16>) -> (ProxyServer, SocketAddr) {
    let merged = load_merged(&KubeconfigSources::explicit(&fake.kubeconfig))
        .await
        .expect("the fake kubeconfig loads");
    let env = ClientEnv {
        exec: ExecEnv {
            search_path: process_search_path(std::env::var_os("PATH").as_deref(), &[]),
            stdin_is_terminal: false,
            timeout: Duration::from_secs(10),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(3),
            tls_handshake: Duration::from_secs(3),
        },
        response_timeout: Duration::from_secs(20),
    };
    let client = client_for_context(&merged, "fake", &env)
        .await
        .unwrap_or_else(|p| panic!("client for the fake apiserver: {p}"));
    let options = HandlerOptions {
        filter: Some(Filter::kubectl_defaults()),
        api_prefix: "/".to_owned(),
        www: None,
        append_server_path: true,
        read_only: false,
        service_hosts: true,
    };
    let listen = Listen::Tcp(SocketAddr::from(([127, 0, 0, 1], port.unwrap_or(0))));
    let server = ProxyServer::start(
        listen,
        options,
        Arc::new(One(Upstream {
            context: "fake".to_owned(),
            client,
        })),
    )
    .await
    .unwrap_or_else(|e| panic!("the proxy starts: {e}"));
    let Listen::Tcp(addr) = server.listening().clone() else {
        panic!("a TCP listener");
    };
    (server, addr)
}
