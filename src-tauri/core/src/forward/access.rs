//! Whether the user may port-forward in a namespace, asked before any
//! connection arrives. kubectl finds out from the streaming connection it
//! opens at start (no port stream yet); this engine opens a stream per
//! connection, and a stream reaches the Pod's port, so a
//! SelfSubjectAccessReview asks instead — no side effect on the Pod.

use std::fmt;
use std::time::Duration;

use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use kube::Api;
use kube::api::PostParams;

use super::error::ForwardError;
use crate::cluster::client::ClusterClient;

/// How long each review may take.
const REVIEW_TIMEOUT: Duration = Duration::from_secs(15);

/// The answer of the review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardAccess {
    Allowed,
    Denied(Denied),
}

/// A refusal, worded as the apiserver words the 403 of the upgrade.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denied {
    pub namespace: String,
    pub pod: Option<String>,
    /// Who the apiserver says the user is, when it says.
    pub user: Option<String>,
    /// The authorizer's reason, when it gives one.
    pub reason: Option<String>,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.pod {
            Some(pod) => write!(f, "pods {pod:?} is forbidden: ")?,
            None => f.write_str("pods is forbidden: ")?,
        }
        if let Some(user) = &self.user {
            write!(f, "User {user:?} ")?;
        }
        write!(
            f,
            "cannot create resource \"pods/portforward\" in API group \"\" in the namespace {:?}",
            self.namespace
        )?;
        match self.reason.as_deref().filter(|r| !r.is_empty()) {
            Some(reason) => write!(f, ": {reason}"),
            None => Ok(()),
        }
    }
}

/// May the user create `pods/portforward` for `pod` (any Pod when None)
/// in `namespace`?
pub async fn check(
    client: &ClusterClient,
    namespace: &str,
    pod: Option<&str>,
) -> Result<ForwardAccess, ForwardError> {
    let kube = client.kube_client(namespace);
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(namespace.to_owned()),
                verb: Some("create".into()),
                resource: Some("pods".into()),
                subresource: Some("portforward".into()),
                name: pod.map(str::to_owned),
                ..ResourceAttributes::default()
            }),
            ..SelfSubjectAccessReviewSpec::default()
        },
        ..SelfSubjectAccessReview::default()
    };
    let api: Api<SelfSubjectAccessReview> = Api::all(kube.clone());
    let answer = tokio::time::timeout(REVIEW_TIMEOUT, api.create(&PostParams::default(), &review))
        .await
        .map_err(|_| ForwardError::Unreachable("the access review timed out".into()))?
        .map_err(|e| ForwardError::Api {
            what: "an access review".into(),
            detail: e.to_string(),
        })?;
    let status = answer.status.unwrap_or_default();
    if status.allowed {
        return Ok(ForwardAccess::Allowed);
    }
    Ok(ForwardAccess::Denied(Denied {
        namespace: namespace.to_owned(),
        pod: pod.map(str::to_owned),
        user: whoami(&kube).await,
        reason: status.reason,
    }))
}

/// The user's name as the apiserver sees it (SelfSubjectReview).
async fn whoami(kube: &kube::Client) -> Option<String> {
    let api: Api<SelfSubjectReview> = Api::all(kube.clone());
    let review = tokio::time::timeout(
        REVIEW_TIMEOUT,
        api.create(&PostParams::default(), &SelfSubjectReview::default()),
    )
    .await
    .ok()?
    .ok()?;
    review.status?.user_info?.username
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_like_the_apiservers_403() {
        let denied = Denied {
            namespace: "monitoring".into(),
            pod: Some("prometheus-0".into()),
            user: Some("viewer".into()),
            reason: Some(String::new()),
        };
        assert_eq!(
            denied.to_string(),
            "pods \"prometheus-0\" is forbidden: User \"viewer\" cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"monitoring\""
        );
        let any = Denied {
            pod: None,
            user: None,
            reason: Some("no RBAC policy matched".into()),
            ..denied
        };
        assert_eq!(
            any.to_string(),
            "pods is forbidden: cannot create resource \"pods/portforward\" in API group \"\" in the namespace \"monitoring\": no RBAC policy matched"
        );
    }
}
