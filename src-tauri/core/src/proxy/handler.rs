//! One request through the proxy: route by Host, the checks (kubectl's
//! filter on API hosts, odd paths, cross-site, read-only), then forward
//! with the user's credentials and stream the answer back — or splice the
//! two connections after a `101 Switching Protocols`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http::header::{self, HeaderValue};
use http::{Method, Request, Response, StatusCode, Uri};
use http_body_util::BodyExt as _;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;

use super::filter::{Filter, host_without_port};
use super::guard::{self, Refusal};
use super::names::ServiceTarget;
use super::respond::{self, ProxyBody};
use super::route::{RouteError, Routed, Target, Upstreams, route};
use super::service_answer::service_response;
use super::www::Www;
use crate::cluster::classify;
use crate::cluster::client::{BoxError, ClientError};

/// Largest request head (request line and headers) accepted; more gets
/// `431`. hyper's own read limit is only approximate (its buffer grows in
/// steps), so the handler checks the exact size too.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// What the proxy was started with (the request side of `ProxyConfig`).
#[derive(Debug, Clone)]
pub struct HandlerOptions {
    /// kubectl's filter; `None` with `--disable-filter`.
    pub filter: Option<Filter>,
    /// `--api-prefix` (`/` by default).
    pub api_prefix: String,
    pub www: Option<Www>,
    pub append_server_path: bool,
    pub read_only: bool,
    /// Porthole's `*.localhost` host names.
    pub service_hosts: bool,
}

/// Counters the app shows.
#[derive(Debug, Default)]
pub struct Stats {
    pub requests: AtomicU64,
    pub refused: AtomicU64,
    pub upgrades: AtomicU64,
}

pub struct Handler {
    options: HandlerOptions,
    upstreams: Arc<dyn Upstreams>,
    stats: Arc<Stats>,
    /// Becomes true when the proxy is gone: upgraded streams end then.
    closing: tokio::sync::watch::Receiver<bool>,
}

impl Handler {
    pub fn new(
        options: HandlerOptions,
        upstreams: Arc<dyn Upstreams>,
        stats: Arc<Stats>,
        closing: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        Self {
            options,
            upstreams,
            stats,
            closing,
        }
    }

    pub async fn handle(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let response = if head_size(&request) > MAX_HEAD_BYTES {
            tracing::info!("refused: request head larger than {MAX_HEAD_BYTES} bytes");
            let mut response = respond::status_json(
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
                "RequestHeaderFieldsTooLarge",
                &format!(
                    "the request's headers are larger than {} KiB",
                    MAX_HEAD_BYTES / 1024
                ),
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        } else {
            self.decide(request).await
        };
        if matches!(
            response.status(),
            StatusCode::FORBIDDEN
                | StatusCode::BAD_REQUEST
                | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        ) {
            self.stats.refused.fetch_add(1, Ordering::Relaxed);
        }
        response
    }

    async fn decide(&self, request: Request<Incoming>) -> Response<ProxyBody> {
        let host_header = request
            .headers()
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_owned)
            .or_else(|| request.uri().authority().map(|a| a.to_string()))
            .unwrap_or_default();
        let routed = match route(
            &host_header,
            self.options.filter.as_ref(),
            self.upstreams.as_ref(),
            self.options.service_hosts,
        ) {
            Ok(routed) => routed,
            Err(RouteError::HostRefused) => {
                tracing::info!(host = %host_header, "refused: host not accepted");
                return respond::kubectl_forbidden();
            }
            Err(RouteError::UnknownContext(label)) => {
                return respond::status_json(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    &format!("no context of the kubeconfig has the host name {label}.localhost"),
                );
            }
            Err(RouteError::NoActiveContext) => {
                return respond::status_json(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "ServiceUnavailable",
                    "the kubeconfig has no current context: choose one in Porthole or with `kubectl config use-context`",
                );
            }
        };
        let own_origin = format!("http://{host_header}");
        match routed.target.clone() {
            Target::Api { generated } => {
                self.api(request, routed, generated, &host_header, &own_origin)
                    .await
            }
            Target::Service(target) => self.service(request, routed, &target, &own_origin).await,
        }
    }

    async fn api(
        &self,
        request: Request<Incoming>,
        routed: Routed,
        generated: bool,
        host_header: &str,
        own_origin: &str,
    ) -> Response<ProxyBody> {
        let path = request.uri().path().to_owned();
        let Some(api_path) = strip_leave_slash(&path, &self.options.api_prefix) else {
            if let Some(www) = &self.options.www
                && let Some(response) = www.serve(request.method(), &path).await
            {
                return response;
            }
            return respond::status_json(StatusCode::NOT_FOUND, "NotFound", "404 page not found");
        };
        if let Some(filter) = &self.options.filter {
            let method = request.method().as_str();
            let lower = host_header.to_ascii_lowercase();
            let accepted = if generated {
                filter.accept_path(method, &api_path)
            } else {
                filter.accept(method, &api_path, host_without_port(&lower))
            };
            if !accepted {
                tracing::info!(method, path = %api_path, "refused by the filter");
                return respond::kubectl_forbidden();
            }
        }
        let refused = guard::check_path(&path)
            .and_then(|()| guard::check_api_request(request.headers(), own_origin))
            .and_then(|()| self.read_only_check(request.method()));
        if let Err(refusal) = refused {
            return api_refusal(&refusal);
        }
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let upstream_path = format!("{api_path}{query}");
        self.forward(request, routed, &upstream_path, None).await
    }

    async fn service(
        &self,
        request: Request<Incoming>,
        routed: Routed,
        target: &ServiceTarget,
        own_origin: &str,
    ) -> Response<ProxyBody> {
        let path = request.uri().path().to_owned();
        let refused = guard::check_path(&path)
            .and_then(|()| {
                guard::check_service_request(request.method(), request.headers(), own_origin)
            })
            .and_then(|()| self.read_only_check(request.method()));
        if let Err(refusal) = refused {
            let status = match refusal {
                Refusal::OddPath => StatusCode::BAD_REQUEST,
                _ => StatusCode::FORBIDDEN,
            };
            return respond::service_page(status, "Request refused", refusal.message());
        }
        let prefix = target.proxy_prefix();
        // Links the apiserver rewrote to carry the prefix come back here:
        // map them to the service's root instead of doubling the prefix.
        let inner = match path.strip_prefix(&prefix) {
            Some("") => "/",
            Some(rest) if rest.starts_with('/') => rest,
            _ => path.as_str(),
        };
        let query = request
            .uri()
            .query()
            .map(|q| format!("?{q}"))
            .unwrap_or_default();
        let upstream_path = format!("{prefix}{inner}{query}");
        self.forward(request, routed, &upstream_path, Some(target))
            .await
    }

    fn read_only_check(&self, method: &Method) -> Result<(), Refusal> {
        if self.options.read_only {
            guard::check_read_only(method)
        } else {
            Ok(())
        }
    }

    async fn forward(
        &self,
        mut request: Request<Incoming>,
        routed: Routed,
        upstream_path: &str,
        service: Option<&ServiceTarget>,
    ) -> Response<ProxyBody> {
        let Ok(uri) = upstream_path.parse::<Uri>() else {
            return failure(
                service,
                StatusCode::BAD_REQUEST,
                "the path cannot be forwarded",
            );
        };
        if is_upgrade(&request) {
            return self.upgrade(request, routed, uri, service).await;
        }
        let headers = request.headers_mut();
        guard::strip_hop_by_hop(headers, false);
        guard::strip_client_credentials(headers);
        headers.remove(header::HOST);
        if service.is_none() {
            // Cookies belong to service pages; the API never reads them.
            headers.remove(header::COOKIE);
        }
        let (mut parts, body) = request.into_parts();
        parts.uri = uri;
        parts.version = http::Version::HTTP_11;
        let body = body.map_err(|e| Box::new(e) as BoxError).boxed_unsync();
        let result = routed
            .upstream
            .client
            .send_with(
                Request::from_parts(parts, body),
                self.options.append_server_path,
            )
            .await;
        match result {
            Ok(response) => match service {
                None => pass_back(response),
                Some(target) => service_response(response, target, &routed).await,
            },
            Err(error) => upstream_failure(&error, &routed, service),
        }
    }

    async fn upgrade(
        &self,
        mut request: Request<Incoming>,
        routed: Routed,
        uri: Uri,
        service: Option<&ServiceTarget>,
    ) -> Response<ProxyBody> {
        let downstream = hyper::upgrade::on(&mut request);
        let (mut parts, _body) = request.into_parts();
        guard::strip_hop_by_hop(&mut parts.headers, true);
        guard::strip_client_credentials(&mut parts.headers);
        parts.headers.remove(header::HOST);
        if service.is_none() {
            parts.headers.remove(header::COOKIE);
        }
        parts.uri = uri;
        let upstream_request = Request::from_parts(parts, ());
        let answer = routed
            .upstream
            .client
            .upgrade(upstream_request, self.options.append_server_path)
            .await;
        match answer {
            Ok((response, Some(upstream))) => {
                self.stats.upgrades.fetch_add(1, Ordering::Relaxed);
                let (parts, _) = response.into_parts();
                let mut closing = self.closing.clone();
                tokio::spawn(async move {
                    match downstream.await {
                        Ok(downstream) => {
                            let mut down = TokioIo::new(downstream);
                            let mut up = TokioIo::new(upstream);
                            tokio::select! {
                                result = tokio::io::copy_bidirectional(&mut down, &mut up) => {
                                    if let Err(e) = result {
                                        tracing::debug!(error = %e, "upgraded stream ended");
                                    }
                                }
                                () = async { let _ = closing.wait_for(|c| *c).await; } => {}
                            }
                        }
                        Err(e) => tracing::debug!(error = %e, "client side of the upgrade failed"),
                    }
                });
                Response::from_parts(parts, respond::body(Bytes::new()))
            }
            // A refusal is passed back as it is and the connection closed
            // (CVE-2018-1002105: never keep using a connection whose upgrade
            // did not happen).
            Ok((response, None)) if response.status().as_u16() >= 400 => {
                let mut response = pass_back(response);
                response
                    .headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                response
            }
            Ok((response, None)) => {
                let status = response.status();
                let mut page = failure(
                    service,
                    StatusCode::BAD_GATEWAY,
                    &format!(
                        "the upgrade failed: the server answered {status} instead of switching protocols"
                    ),
                );
                page.headers_mut()
                    .insert(header::CONNECTION, HeaderValue::from_static("close"));
                page
            }
            Err(error) => upstream_failure(&error, &routed, service),
        }
    }
}

/// The size of a request's head as it came on the wire (request line,
/// headers, line ends).
fn head_size<B>(request: &Request<B>) -> usize {
    let line = request.method().as_str().len()
        + request
            .uri()
            .path_and_query()
            .map_or(1, |pq| pq.as_str().len())
        + " HTTP/1.1\r\n".len()
        + 1;
    request
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len() + 4)
        .sum::<usize>()
        + line
        + 2
}

/// kubectl's `stripLeaveSlash`: the path under `prefix`, keeping a leading
/// slash; `None` when the path is not under it.
fn strip_leave_slash(path: &str, prefix: &str) -> Option<String> {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        return Some(path.to_owned());
    }
    let rest = path.strip_prefix(prefix)?;
    if rest.is_empty() {
        Some("/".to_owned())
    } else if rest.starts_with('/') {
        Some(rest.to_owned())
    } else {
        None
    }
}

fn is_upgrade<B>(request: &Request<B>) -> bool {
    request.headers().contains_key(header::UPGRADE)
        && request
            .headers()
            .get_all(header::CONNECTION)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .any(|v| {
                v.split(',')
                    .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
            })
}

fn api_refusal(refusal: &Refusal) -> Response<ProxyBody> {
    let (status, reason) = match refusal {
        Refusal::OddPath => (StatusCode::BAD_REQUEST, "BadRequest"),
        Refusal::CrossSite | Refusal::ReadOnly => (StatusCode::FORBIDDEN, "Forbidden"),
    };
    respond::status_json(status, reason, refusal.message())
}

fn failure(
    service: Option<&ServiceTarget>,
    status: StatusCode,
    message: &str,
) -> Response<ProxyBody> {
    match service {
        None => respond::status_json(status, "BadGateway", message),
        Some(_) => respond::service_page(status, "The service could not be reached", message),
    }
}

/// The upstream's response, streamed, minus hop-by-hop headers.
fn pass_back(response: Response<Incoming>) -> Response<ProxyBody> {
    let (mut parts, body) = response.into_parts();
    guard::strip_hop_by_hop(&mut parts.headers, false);
    Response::from_parts(
        parts,
        body.map_err(|e| Box::new(e) as BoxError).boxed_unsync(),
    )
}

/// Porthole could not get an answer: a Status (API) or a page (service),
/// saying what failed.
fn upstream_failure(
    error: &ClientError,
    routed: &Routed,
    service: Option<&ServiceTarget>,
) -> Response<ProxyBody> {
    let problem = classify::problem(error);
    let status = match error {
        ClientError::ResponseTimeout { .. } => StatusCode::GATEWAY_TIMEOUT,
        ClientError::Connect(crate::cluster::connect::ConnectError::ConnectTimeout { .. })
        | ClientError::Connect(crate::cluster::connect::ConnectError::TlsTimeout { .. }) => {
            StatusCode::GATEWAY_TIMEOUT
        }
        _ => StatusCode::BAD_GATEWAY,
    };
    let message = format!(
        "Porthole could not reach the API server of context {}: {problem}",
        routed.upstream.context
    );
    tracing::warn!(context = %routed.upstream.context, %problem, "upstream failed");
    match service {
        None => respond::status_json(
            status,
            if status == StatusCode::GATEWAY_TIMEOUT {
                "Timeout"
            } else {
                "BadGateway"
            },
            &message,
        ),
        Some(_) => respond::service_page(status, "The cluster could not be reached", &message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proxy::service_answer::{host_only_cookie, map_prefixed};

    #[test]
    fn the_api_prefix_is_stripped_leaving_a_slash() {
        assert_eq!(strip_leave_slash("/api/v1", "/"), Some("/api/v1".into()));
        assert_eq!(strip_leave_slash("/k8s/api", "/k8s/"), Some("/api".into()));
        assert_eq!(strip_leave_slash("/k8s", "/k8s/"), Some("/".into()));
        assert_eq!(strip_leave_slash("/k8sx/api", "/k8s/"), None);
        assert_eq!(strip_leave_slash("/static/x", "/k8s/"), None);
    }

    #[test]
    fn prefixed_locations_and_cookies_map_back_to_the_root() {
        let prefix = "/api/v1/namespaces/ns/services/web:80/proxy";
        assert_eq!(
            map_prefixed(&format!("{prefix}/login?next=/"), prefix),
            Some("/login?next=/".into())
        );
        assert_eq!(map_prefixed(prefix, prefix), Some("/".into()));
        assert_eq!(
            map_prefixed(&format!("{prefix}?a=1"), prefix),
            Some("/?a=1".into())
        );
        assert_eq!(map_prefixed("https://elsewhere/", prefix), None);
        assert_eq!(map_prefixed(&format!("{prefix}x"), prefix), None);
        assert_eq!(
            host_only_cookie(
                &format!("sid=1; Domain=ctx.localhost; Path={prefix}/app; HttpOnly"),
                prefix
            ),
            "sid=1; Path=/app; HttpOnly"
        );
    }
}
