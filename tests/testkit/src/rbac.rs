//! What the test users may do. admin needs nothing here (`system:masters`).
//!
//! - `porthole:service-viewer` (ClusterRole): read services, endpoints,
//!   endpoint slices, pods, config maps, events, ingresses, and GET through
//!   the service and pod proxy (opening a service is what Porthole is for).
//! - viewer (group `porthole:viewers`): that role in `team-a` and
//!   `monitoring` only, so it cannot list namespaces cluster-wide. It may
//!   also port-forward (`pods/portforward`, role `porthole:port-forwarder`)
//!   in `team-a` only: in `monitoring`, which it reads, a forward is a 403.
//! - exec users (group `porthole:exec-users`), the token-file users
//!   (`porthole:file-users`) and OIDC users (`oidc:porthole-oidc-users`):
//!   the built-in `view` role plus `porthole:service-viewer`, cluster-wide.
//! - impersonation: see `impersonation.rs`.

use kube::{Api, Client};
use serde_json::json;

use crate::error::Result;
use crate::fixtures::create;
use crate::users::{EXEC_GROUP, FILE_USERS_GROUP, VIEWERS_GROUP};

pub const SERVICE_VIEWER_ROLE: &str = "porthole:service-viewer";
/// Namespaces the viewer may read.
pub const VIEWER_NAMESPACES: &[&str] = &["team-a", "monitoring"];
pub const PORT_FORWARDER_ROLE: &str = "porthole:port-forwarder";
/// Namespaces the viewer may port-forward in (a subset of the ones it reads).
pub const VIEWER_FORWARD_NAMESPACES: &[&str] = &["team-a"];

fn group(name: &str) -> serde_json::Value {
    json!([{ "kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": name }])
}

/// Binds the viewers' group to cluster role `role` in `namespace`.
async fn bind_viewers(client: &Client, namespace: &str, binding: &str, role: &str) -> Result<()> {
    create::<k8s_openapi::api::rbac::v1::RoleBinding>(
        &Api::namespaced(client.clone(), namespace),
        json!({
            "metadata": { "name": binding },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                         "name": role },
            "subjects": group(VIEWERS_GROUP),
        }),
    )
    .await
    .map(drop)
}

pub async fn apply(client: &Client) -> Result<()> {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    let read = json!(["get", "list", "watch"]);
    create::<ClusterRole>(
        &Api::all(client.clone()),
        json!({
            "metadata": { "name": SERVICE_VIEWER_ROLE },
            "rules": [
                { "apiGroups": [""], "verbs": read,
                  "resources": ["services", "endpoints", "pods", "configmaps", "events"] },
                { "apiGroups": [""], "verbs": ["get"],
                  "resources": ["services/proxy", "pods/proxy"] },
                // Bound in a namespace this is `get` on that namespace only;
                // bound cluster-wide it lists namespaces and nodes.
                { "apiGroups": [""], "verbs": read, "resources": ["namespaces", "nodes"] },
                { "apiGroups": ["discovery.k8s.io"], "verbs": read, "resources": ["endpointslices"] },
                { "apiGroups": ["networking.k8s.io"], "verbs": read, "resources": ["ingresses"] },
            ]
        }),
    )
    .await?;
    for ns in VIEWER_NAMESPACES {
        bind_viewers(client, ns, "porthole-viewers", SERVICE_VIEWER_ROLE).await?;
    }
    // SPDY (a POST) needs `create`; the WebSocket upgrade (a GET) needs
    // `get` and, at this version, `create` too (with either alone kubectl's
    // WebSocket attempt is a 403 and only its SPDY fallback may work).
    create::<ClusterRole>(
        &Api::all(client.clone()),
        json!({
            "metadata": { "name": PORT_FORWARDER_ROLE },
            "rules": [
                { "apiGroups": [""], "verbs": ["get", "create"], "resources": ["pods/portforward"] },
            ]
        }),
    )
    .await?;
    for ns in VIEWER_FORWARD_NAMESPACES {
        bind_viewers(
            client,
            ns,
            "porthole-viewers-port-forward",
            PORT_FORWARDER_ROLE,
        )
        .await?;
    }
    let oidc_group = crate::oidc::kubernetes_group();
    for (prefix, group_name) in [
        ("porthole:exec-users", EXEC_GROUP),
        ("porthole:file-users", FILE_USERS_GROUP),
        ("porthole:oidc-users", oidc_group.as_str()),
    ] {
        for (suffix, role) in [("view", "view"), ("services", SERVICE_VIEWER_ROLE)] {
            create::<ClusterRoleBinding>(
                &Api::all(client.clone()),
                json!({
                    "metadata": { "name": format!("{prefix}-{suffix}") },
                    "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                 "name": role },
                    "subjects": group(group_name),
                }),
            )
            .await?;
        }
    }
    crate::impersonation::apply_rbac(client).await?;
    Ok(())
}
