//! Probing contexts: is the apiserver there, which version, who does it
//! say the user is. Every context is probed in its own task with its own
//! timeout, so a dead cluster never delays a live one.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode, header};
use http_body_util::{BodyExt as _, Limited};
use serde::Deserialize;
use tokio::sync::mpsc;

use super::classify;
use super::client::{ClusterClient, empty_body, full_body};
use super::status::{ClusterProblem, ContextStatus, StatusUpdate};

/// Default time a probe may take, everything included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(8);
const BODY_LIMIT: usize = 256 * 1024;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Version {
    git_version: String,
}

#[derive(Deserialize)]
struct Review {
    status: Option<ReviewStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ReviewStatus {
    user_info: Option<UserInfo>,
}

#[derive(Deserialize)]
struct UserInfo {
    username: Option<String>,
    #[serde(default)]
    groups: Vec<String>,
}

#[derive(Deserialize)]
struct Status {
    message: Option<String>,
}

/// The status of one context, within `timeout`.
pub async fn probe(client: &ClusterClient, timeout: Duration) -> ContextStatus {
    match tokio::time::timeout(timeout, probe_unbounded(client)).await {
        Ok(status) => status,
        Err(_) => {
            let seconds = u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX);
            let problem = match client.authenticator().exec() {
                Some(exec) if exec.is_running() => ClusterProblem::PluginTimedOut {
                    command: exec.command().to_owned(),
                    seconds,
                },
                _ => ClusterProblem::Timeout {
                    phase: "waiting for the apiserver".into(),
                    seconds,
                },
            };
            ContextStatus::Failed { problem }
        }
    }
}

async fn probe_unbounded(client: &ClusterClient) -> ContextStatus {
    let started = Instant::now();
    let (status, body) = match call(client, Method::GET, "/version", None).await {
        Ok(answer) => answer,
        Err(problem) => return ContextStatus::Failed { problem },
    };
    let latency_ms = u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX);
    if let Some(problem) = refusal(client, status, &body) {
        return ContextStatus::Failed { problem };
    }
    let version = match serde_json::from_slice::<Version>(&body) {
        Ok(v) => v.git_version,
        Err(_) => {
            return ContextStatus::Failed {
                problem: ClusterProblem::Other {
                    detail: format!(
                        "{} answered /version with something that is not a Kubernetes version (status {status})",
                        client.server()
                    ),
                },
            };
        }
    };
    let (user, groups) = whoami(client).await.unwrap_or_default();
    ContextStatus::Reachable {
        version,
        user,
        groups,
        latency_ms,
    }
}

/// Who the apiserver says the user is (SelfSubjectReview), when allowed.
async fn whoami(client: &ClusterClient) -> Option<(Option<String>, Vec<String>)> {
    let review = serde_json::json!({
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "SelfSubjectReview",
    });
    let (status, body) = call(
        client,
        Method::POST,
        "/apis/authentication.k8s.io/v1/selfsubjectreviews",
        Some(Bytes::from(review.to_string())),
    )
    .await
    .ok()?;
    if !status.is_success() {
        return None;
    }
    let info = serde_json::from_slice::<Review>(&body)
        .ok()?
        .status?
        .user_info?;
    Some((info.username, info.groups))
}

fn refusal(client: &ClusterClient, status: StatusCode, body: &[u8]) -> Option<ClusterProblem> {
    let user = client.user().map(str::to_owned);
    match status {
        s if s.is_success() => None,
        StatusCode::UNAUTHORIZED => Some(ClusterProblem::Unauthorized { user }),
        StatusCode::FORBIDDEN => Some(ClusterProblem::Forbidden {
            user,
            message: serde_json::from_slice::<Status>(body)
                .ok()
                .and_then(|s| s.message)
                .unwrap_or_else(|| "access denied".into()),
        }),
        other => Some(ClusterProblem::Other {
            detail: format!("{} answered /version with {other}", client.server()),
        }),
    }
}

async fn call(
    client: &ClusterClient,
    method: Method,
    path: &str,
    json: Option<Bytes>,
) -> Result<(StatusCode, Bytes), ClusterProblem> {
    let builder = Request::builder()
        .method(method)
        .uri(path)
        .header(header::ACCEPT, "application/json");
    let request = match json {
        Some(body) => builder
            .header(header::CONTENT_TYPE, "application/json")
            .body(full_body(body)),
        None => builder.body(empty_body()),
    }
    .map_err(|e| ClusterProblem::Other {
        detail: format!("building the request for {path}: {e}"),
    })?;
    let response = client
        .send(request)
        .await
        .map_err(|e| classify::problem(&e))?;
    let status = response.status();
    let body = Limited::new(response.into_body(), BODY_LIMIT)
        .collect()
        .await
        .map_err(|e| ClusterProblem::Other {
            detail: format!("reading the answer to {path}: {e}"),
        })?
        .to_bytes();
    Ok((status, body))
}

/// Probes every context concurrently, each in its own task, sending each
/// status as soon as it is known. `clients` holds, per context, its client
/// or the problem that kept it from being built.
pub fn probe_all(
    clients: Vec<(String, Result<ClusterClient, ClusterProblem>)>,
    timeout: Duration,
) -> mpsc::UnboundedReceiver<StatusUpdate> {
    let (tx, rx) = mpsc::unbounded_channel();
    for (context, client) in clients {
        let tx = tx.clone();
        tokio::spawn(async move {
            let status = match client {
                Ok(client) => probe(&client, timeout).await,
                Err(problem) => ContextStatus::Failed { problem },
            };
            let _ = tx.send(StatusUpdate { context, status });
        });
    }
    rx
}
