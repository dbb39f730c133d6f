//! Impersonation: `impersonator` may act as user `alice`, group
//! `porthole:impersonated` and uid `alice-uid` (ClusterRole with verb
//! `impersonate` on exactly those names); `viewer` may not. alice can read
//! services in `team-b`, which neither of them can, so success is visible.
//! Contexts: `porthole-impersonate` (allowed) and
//! `porthole-impersonate-denied` (viewer, Forbidden), both with `as`,
//! `as-groups` and `as-uid`.

use kube::{Api, Client};
use serde_json::json;

use crate::error::{Error, Result};
use crate::fixtures::create;
use crate::kubeconfig::Extra;
use crate::rbac::SERVICE_VIEWER_ROLE;
use crate::state::ImpersonationInfo;
use crate::users::{IMPERSONATOR, User, VIEWER};

pub const ALICE: &str = "alice";
pub const ALICE_UID: &str = "alice-uid";
pub const IMPERSONATED_GROUP: &str = "porthole:impersonated";
/// Where alice may read services.
pub const ALICE_NAMESPACE: &str = "team-b";
pub const CONTEXT: &str = "porthole-impersonate";
pub const DENIED_CONTEXT: &str = "porthole-impersonate-denied";
const ROLE: &str = "porthole:impersonate-alice";

/// The two impersonating contexts.
pub fn infos() -> Vec<ImpersonationInfo> {
    [
        (CONTEXT, IMPERSONATOR, true),
        (DENIED_CONTEXT, VIEWER, false),
    ]
    .into_iter()
    .map(|(context, user, allowed)| ImpersonationInfo {
        context: context.into(),
        user: user.into(),
        as_user: ALICE.into(),
        as_groups: vec![IMPERSONATED_GROUP.into()],
        as_uid: ALICE_UID.into(),
        allowed,
    })
    .collect()
}

/// Kubeconfig entries: the base user's token plus `as`, `as-groups`, `as-uid`.
pub fn extras(users: &[User]) -> Result<Vec<Extra>> {
    infos()
        .into_iter()
        .map(|i| {
            let token = users
                .iter()
                .find(|u| u.spec.name == i.user)
                .and_then(User::token)
                .ok_or_else(|| Error::Supervisor(format!("no token user {}", i.user)))?;
            Ok(Extra {
                context: i.context.clone(),
                user_name: format!("{}-as-{}", i.user, i.as_user),
                user: json!({
                    "token": token,
                    "as": i.as_user,
                    "as-groups": i.as_groups,
                    "as-uid": i.as_uid,
                }),
                namespace: Some(ALICE_NAMESPACE.into()),
            })
        })
        .collect()
}

pub async fn apply_rbac(client: &Client) -> Result<()> {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, RoleBinding};
    let imp = json!(["impersonate"]);
    create::<ClusterRole>(
        &Api::all(client.clone()),
        json!({
            "metadata": { "name": ROLE },
            "rules": [
                { "apiGroups": [""], "resources": ["users"], "verbs": imp, "resourceNames": [ALICE] },
                { "apiGroups": [""], "resources": ["groups"], "verbs": imp,
                  "resourceNames": [IMPERSONATED_GROUP] },
                { "apiGroups": ["authentication.k8s.io"], "resources": ["uids"], "verbs": imp,
                  "resourceNames": [ALICE_UID] },
            ]
        }),
    )
    .await?;
    create::<ClusterRoleBinding>(
        &Api::all(client.clone()),
        json!({
            "metadata": { "name": ROLE },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ROLE },
            "subjects": [{ "kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": IMPERSONATOR }],
        }),
    )
    .await?;
    create::<RoleBinding>(
        &Api::namespaced(client.clone(), ALICE_NAMESPACE),
        json!({
            "metadata": { "name": "porthole-alice" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                         "name": SERVICE_VIEWER_ROLE },
            "subjects": [{ "kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": ALICE }],
        }),
    )
    .await?;
    Ok(())
}
