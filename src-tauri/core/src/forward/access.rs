//! May this user forward here? A SelfSubjectAccessReview before the
//! listener opens, so a forward RBAC forbids fails at once with the
//! reason (as kubectl's does), not at its first connection. The WebSocket
//! upgrade is a GET and SPDY's a POST: either verb is enough.

use std::time::Duration;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use super::error::ForwardError;
use crate::cluster::client::ClusterClient;

const REVIEW_TIMEOUT: Duration = Duration::from_secs(15);

/// Ok when the user may create (or get) `pods/portforward` on `pod` (any
/// Pod when None) in `namespace`. A review that cannot be made is not a
/// refusal: the first connection will tell.
pub async fn check(
    client: &ClusterClient,
    namespace: &str,
    pod: Option<&str>,
) -> Result<(), ForwardError> {
    let mut last_reason = String::new();
    for verb in ["create", "get"] {
        match review(client, namespace, pod, verb).await {
            Some((true, _)) | None => return Ok(()),
            Some((false, reason)) => last_reason = reason,
        }
    }
    let object = pod.map_or_else(|| "pods".to_owned(), |p| format!("pods \"{p}\""));
    let user = client.user().unwrap_or("this user");
    let mut message = format!(
        "{object} is forbidden: {user} (kubeconfig user) cannot create resource \"pods/portforward\" in the namespace \"{namespace}\""
    );
    if !last_reason.is_empty() {
        message.push_str(&format!(": {last_reason}"));
    }
    Err(ForwardError::Forbidden(message))
}

async fn review(
    client: &ClusterClient,
    namespace: &str,
    pod: Option<&str>,
    verb: &str,
) -> Option<(bool, String)> {
    let api: Api<SelfSubjectAccessReview> = Api::all(client.kube_client(namespace));
    let request = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some(verb.to_owned()),
                resource: Some("pods".to_owned()),
                subresource: Some("portforward".to_owned()),
                name: pod.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let answer = tokio::time::timeout(REVIEW_TIMEOUT, api.create(&PostParams::default(), &request))
        .await
        .ok()?
        .ok()?;
    let status = answer.status?;
    Some((status.allowed, status.reason.unwrap_or_default()))
}
