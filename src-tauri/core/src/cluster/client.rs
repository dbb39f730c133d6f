//! [`ClusterClient`]: requests to one context's apiserver with its
//! credentials, over a pooled HTTP/2-or-1.1 connection. Bodies stream both
//! ways. After a 401 an exec or OIDC credential is dropped and a request
//! without a streamed body is sent once more with a fresh one.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::header::AUTHORIZATION;
use http::uri::{Authority, PathAndQuery, Scheme};
use http::{Request, Response, StatusCode, Uri};
use http_body::Body as _;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt as _, Empty, Full};
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use super::client_env::ClientEnv;
use super::connect::{ConnectError, Connector, ProxyTarget};
use super::tls::{self, Trust};
use crate::auth::{AuthError, Authenticator};

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
/// Request bodies: anything that streams bytes.
pub type RequestBody = UnsyncBoxBody<Bytes, BoxError>;

/// Bodies up to this size with a known length are kept to be replayed after
/// a 401; anything else streams and is not retried.
const REPLAY_LIMIT: u64 = 1024 * 1024;

pub fn empty_body() -> RequestBody {
    Empty::new().map_err(|never| match never {}).boxed_unsync()
}

pub fn full_body(bytes: impl Into<Bytes>) -> RequestBody {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// Why a request got no response.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error(transparent)]
    Auth(#[from] AuthError),
    #[error(transparent)]
    Connect(ConnectError),
    #[error("no response headers within {seconds} s")]
    ResponseTimeout { seconds: u32 },
    #[error("request {0} cannot be sent to the cluster")]
    BadRequest(String),
    #[error("the request failed: {0}")]
    Http(String),
}

struct Inner {
    context: String,
    user: Option<String>,
    scheme: Scheme,
    authority: Authority,
    /// The server URL's path (e.g. Rancher's `/k8s/clusters/c-1`), no
    /// trailing slash.
    path_prefix: String,
    http: Client<Connector, RequestBody>,
    upgrade_connector: Connector,
    auth: Authenticator,
    response_timeout: Duration,
}

/// A client for one context. Cheap to clone.
#[derive(Clone)]
pub struct ClusterClient {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for ClusterClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterClient")
            .field("context", &self.inner.context)
            .field("server", &self.server())
            .finish_non_exhaustive()
    }
}

impl ClusterClient {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        context: &str,
        user: Option<String>,
        server: Uri,
        trust: &Trust,
        tls_server_name: Option<String>,
        proxy: Option<ProxyTarget>,
        auth: Authenticator,
        env: &ClientEnv,
    ) -> Result<Self, String> {
        let https = server.scheme_str() == Some("https");
        let tls = if https {
            Some(tls::client_config(
                trust,
                auth.cert_slot(),
                tls::ALPN_H2_H1,
            )?)
        } else {
            None
        };
        // Upgrades (WebSocket, SPDY) need HTTP/1.1: their own connections.
        let upgrade_tls = if https {
            Some(tls::client_config(trust, auth.cert_slot(), tls::ALPN_H1)?)
        } else {
            None
        };
        let upgrade_connector = Connector::new(
            upgrade_tls,
            tls_server_name.clone(),
            proxy.clone(),
            env.timeouts,
        );
        let connector = Connector::new(tls, tls_server_name, proxy, env.timeouts);
        let http = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let parts = server.into_parts();
        let authority = parts
            .authority
            .ok_or_else(|| "the server URL has no host".to_owned())?;
        Ok(Self {
            inner: Arc::new(Inner {
                context: context.to_owned(),
                user,
                scheme: parts.scheme.unwrap_or(Scheme::HTTPS),
                authority,
                path_prefix: parts
                    .path_and_query
                    .map(|p| p.path().trim_end_matches('/').to_owned())
                    .unwrap_or_default(),
                http,
                upgrade_connector,
                auth,
                response_timeout: env.response_timeout,
            }),
        })
    }

    pub fn context(&self) -> &str {
        &self.inner.context
    }

    /// The kubeconfig user entry's name.
    pub fn user(&self) -> Option<&str> {
        self.inner.user.as_deref()
    }

    pub fn server(&self) -> String {
        format!(
            "{}://{}{}",
            self.inner.scheme, self.inner.authority, self.inner.path_prefix
        )
    }

    pub fn authenticator(&self) -> &Authenticator {
        &self.inner.auth
    }

    /// Sends `request` (its URI: a path and query, like `/api/v1/pods`) to
    /// the apiserver with the user's credentials. The response body streams.
    pub async fn send(
        &self,
        request: Request<RequestBody>,
    ) -> Result<Response<Incoming>, ClientError> {
        self.send_with(request, true).await
    }

    /// [`Self::send`]; with `append_server_path` false the server URL's
    /// own path is left out (`kubectl proxy` without
    /// `--append-server-path`).
    pub async fn send_with(
        &self,
        request: Request<RequestBody>,
        append_server_path: bool,
    ) -> Result<Response<Incoming>, ClientError> {
        let (mut parts, body) = request.into_parts();
        parts.uri = self.absolute(&parts.uri, append_server_path)?;
        let (kept, first_body) = match replayable(body).await? {
            Replay::Kept(bytes) => (Some(bytes.clone()), full_body(bytes)),
            Replay::Streaming(stream) => (None, stream),
        };
        let applied = self.inner.auth.apply().await?;
        let response = self
            .send_once(&parts, first_body, applied.authorization.as_ref())
            .await?;
        if response.status() != StatusCode::UNAUTHORIZED || !applied.can_refresh() {
            return Ok(response);
        }
        self.inner.auth.rejected(&applied).await;
        let Some(bytes) = kept else {
            return Ok(response);
        };
        tracing::info!(context = %self.inner.context, "401 from the apiserver: refreshing the credential and retrying once");
        let applied = self.inner.auth.apply().await?;
        self.send_once(&parts, full_body(bytes), applied.authorization.as_ref())
            .await
    }

    /// Sends an HTTP/1.1 upgrade request (WebSocket, SPDY) on a connection
    /// of its own. On `101 Switching Protocols` the upgraded stream comes
    /// with the response; any other answer comes back as it is, and its
    /// connection is not reused.
    pub async fn upgrade(
        &self,
        request: Request<()>,
        append_server_path: bool,
    ) -> Result<(Response<Incoming>, Option<hyper::upgrade::Upgraded>), ClientError> {
        let (mut parts, ()) = request.into_parts();
        parts.uri = self.absolute(&parts.uri, append_server_path)?;
        parts.version = http::Version::HTTP_11;
        let applied = self.inner.auth.apply().await?;
        let mut request = Request::from_parts(parts, empty_body());
        self.add_credentials(&mut request, applied.authorization.as_ref());
        if !request.headers().contains_key(http::header::HOST)
            && let Ok(host) = http::HeaderValue::from_str(self.inner.authority.as_str())
        {
            request.headers_mut().insert(http::header::HOST, host);
        }
        let seconds = u32::try_from(self.inner.response_timeout.as_secs()).unwrap_or(u32::MAX);
        let work = async {
            let conn = self
                .inner
                .upgrade_connector
                .connect(request.uri().clone())
                .await
                .map_err(ClientError::Connect)?;
            let (mut sender, connection) = hyper::client::conn::http1::handshake(conn)
                .await
                .map_err(|e| ClientError::Http(e.to_string()))?;
            tokio::spawn(async move {
                if let Err(e) = connection.with_upgrades().await {
                    tracing::debug!(error = %e, "upgrade connection ended");
                }
            });
            // The request goes out in origin form on its own connection.
            let (mut parts, body) = request.into_parts();
            parts.uri = parts
                .uri
                .path_and_query()
                .map(|pq| pq.as_str().to_owned())
                .unwrap_or_else(|| "/".to_owned())
                .parse()
                .map_err(|_| ClientError::BadRequest("upgrade path".into()))?;
            sender
                .send_request(Request::from_parts(parts, body))
                .await
                .map_err(|e| ClientError::Http(e.to_string()))
        };
        let mut response = tokio::time::timeout(self.inner.response_timeout, work)
            .await
            .map_err(|_| ClientError::ResponseTimeout { seconds })??;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.inner.auth.rejected(&applied).await;
        }
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Ok((response, None));
        }
        let upgraded = hyper::upgrade::on(&mut response)
            .await
            .map_err(|e| ClientError::Http(format!("the upgrade failed: {e}")))?;
        Ok((response, Some(upgraded)))
    }

    fn add_credentials<B>(
        &self,
        request: &mut Request<B>,
        authorization: Option<&crate::auth::SecretHeader>,
    ) {
        let headers = request.headers_mut();
        // Like client-go, credentials only travel over TLS: a plain
        // `http://` server gets none (a typo must not leak a token).
        if let Some(auth) = authorization.filter(|_| self.inner.scheme == Scheme::HTTPS) {
            headers.insert(AUTHORIZATION, auth.header_value());
        }
        for (name, value) in self.inner.auth.impersonation() {
            headers.append(name.clone(), value.clone());
        }
    }

    async fn send_once(
        &self,
        parts: &http::request::Parts,
        body: RequestBody,
        authorization: Option<&crate::auth::SecretHeader>,
    ) -> Result<Response<Incoming>, ClientError> {
        let mut request = Request::from_parts(clone_parts(parts), body);
        self.add_credentials(&mut request, authorization);
        let seconds = u32::try_from(self.inner.response_timeout.as_secs()).unwrap_or(u32::MAX);
        tokio::time::timeout(
            self.inner.response_timeout,
            self.inner.http.request(request),
        )
        .await
        .map_err(|_| ClientError::ResponseTimeout { seconds })?
        .map_err(classify_hyper)
    }

    fn absolute(&self, uri: &Uri, append_server_path: bool) -> Result<Uri, ClientError> {
        let pq = uri.path_and_query().map_or("/", PathAndQuery::as_str);
        let prefix = if append_server_path {
            self.inner.path_prefix.as_str()
        } else {
            ""
        };
        let joined = format!("{prefix}{pq}");
        Uri::builder()
            .scheme(self.inner.scheme.clone())
            .authority(self.inner.authority.clone())
            .path_and_query(joined)
            .build()
            .map_err(|_| ClientError::BadRequest(pq.to_owned()))
    }

    /// A kube-rs client over this one, for typed API calls, lists and
    /// watches. Its default namespace is `namespace`.
    pub fn kube_client(&self, namespace: &str) -> kube::Client {
        let this = self.clone();
        let service = tower::service_fn(move |request: Request<kube::client::Body>| {
            let this = this.clone();
            async move {
                let request =
                    request.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync());
                this.send(request).await
            }
        });
        kube::Client::new(service, namespace)
    }
}

enum Replay {
    Kept(Bytes),
    Streaming(RequestBody),
}

/// Small bodies of known length are collected so they can be sent twice.
async fn replayable(body: RequestBody) -> Result<Replay, ClientError> {
    let hint = body.size_hint();
    if body.is_end_stream() {
        return Ok(Replay::Kept(Bytes::new()));
    }
    match hint.exact() {
        Some(n) if n <= REPLAY_LIMIT => {
            let bytes = body
                .collect()
                .await
                .map_err(|e| ClientError::Http(format!("reading the request body: {e}")))?
                .to_bytes();
            Ok(Replay::Kept(bytes))
        }
        _ => Ok(Replay::Streaming(body)),
    }
}

fn clone_parts(parts: &http::request::Parts) -> http::request::Parts {
    let mut builder = Request::builder()
        .method(parts.method.clone())
        .uri(parts.uri.clone())
        .version(parts.version);
    if let Some(headers) = builder.headers_mut() {
        *headers = parts.headers.clone();
    }
    let (mut new, ()) = builder.body(()).unwrap_or_default().into_parts();
    new.extensions = parts.extensions.clone();
    new
}

/// Finds the connect step's own error inside hyper's.
fn classify_hyper(e: hyper_util::client::legacy::Error) -> ClientError {
    if let Some(connect) = ConnectError::find_in(&e) {
        return ClientError::Connect(connect.clone());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text = format!("{text}: {s}");
        source = s.source();
    }
    ClientError::Http(text)
}
