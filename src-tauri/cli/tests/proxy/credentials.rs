//! Credentials (#5 item 4): the user's identity never reaches a service
//! backend, and a client's own `Authorization` / `Impersonate-*` headers are
//! dropped on every host — Porthole always asks as the kubeconfig user.

use serde_json::{Value, json};

use crate::support::{Kind, Proxy, Req, Resp, cluster, print_table, send};

/// Headers a client adds to try to be someone else.
fn borrowed_identity(req: Req) -> Req {
    req.header("Authorization", "Bearer client-chosen-token-0000")
        .header("Impersonate-User", "system:admin")
        .header("Impersonate-Group", "system:masters")
        .header("Impersonate-Uid", "root-uid")
        .header("Proxy-Authorization", "Basic Y2xpZW50OnNlY3JldA==")
        .header("X-Remote-User", "mallory")
        .header("Cookie", "session=cookie-of-this-origin")
}

fn names(echo: &Value) -> Vec<String> {
    echo["headers"]
        .as_object()
        .map(|h| h.keys().cloned().collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_user_or_client_credential_reaches_a_service_backend() {
    let c = cluster();
    let viewer_token = c
        .user("viewer")
        .token
        .clone()
        .expect("the viewer authenticates with a token");
    let mut rows = Vec::new();
    for (context, user) in [("porthole-viewer", "viewer"), ("porthole-admin", "admin")] {
        let kubectl = Proxy::kubectl(context, &[]).await;
        let porthole = Proxy::porthole(context, &[]).await;
        let classic = "/api/v1/namespaces/team-a/services/echo:http/proxy/credentials";
        let service_host = format!("80.echo.team-a.{context}.localhost:{}", porthole.port);
        let tries: [(&str, &Proxy, Req); 3] = [
            ("kubectl proxy, apiserver path", &kubectl, Req::get(classic)),
            ("porthole, apiserver path", &porthole, Req::get(classic)),
            (
                "porthole, service host",
                &porthole,
                Req::get("/credentials").host(service_host.clone()),
            ),
        ];
        for (via, proxy, req) in tries {
            let resp: Resp = send(&proxy.addr, &borrowed_identity(req)).await;
            if proxy.kind == Kind::Kubectl && resp.status != 200 {
                // kubectl proxy forwards the client's Authorization: the
                // apiserver then judges the client's token, not the user's.
                rows.push(vec![
                    format!("{user} ({context})"),
                    via.to_owned(),
                    format!(
                        "(not reached: {} {})",
                        resp.status,
                        resp.json()["message"].as_str().unwrap_or("")
                    ),
                    "-".into(),
                    "-".into(),
                ]);
                continue;
            }
            assert_eq!(resp.status, 200, "{context} {via}: {}", resp.text());
            let echo = resp.json();
            let seen = names(&echo);
            let text = resp.text();
            assert!(
                !text.contains(&viewer_token),
                "{context} {via}: the viewer's token reached the service: {text}"
            );
            if proxy.kind == Kind::Porthole {
                for forbidden in [
                    "authorization",
                    "impersonate-user",
                    "impersonate-group",
                    "impersonate-uid",
                    "proxy-authorization",
                    "x-remote-user",
                ] {
                    assert!(
                        !seen.iter().any(|h| h == forbidden),
                        "{context} {via}: the service saw {forbidden}: {echo}"
                    );
                }
                assert!(
                    !text.contains("client-chosen-token") && !text.contains("system:masters"),
                    "{context} {via}: a client credential reached the service: {text}"
                );
            }
            rows.push(vec![
                format!("{user} ({context})"),
                via.to_owned(),
                seen.join(", "),
                format!(
                    "XFF={} XFU={}",
                    echo["headers"]["x-forwarded-for"][0]
                        .as_str()
                        .unwrap_or("-"),
                    echo["headers"]["x-forwarded-uri"][0]
                        .as_str()
                        .unwrap_or("-")
                ),
                echo["headers"]["cookie"][0]
                    .as_str()
                    .map_or("dropped", |_| "passed")
                    .to_owned(),
            ]);
        }
    }
    print_table(
        "What the echo service saw (request sent with Authorization, Impersonate-*, Proxy-Authorization, X-Remote-User, Cookie)",
        &[
            "user",
            "via",
            "headers at the service",
            "forwarded",
            "cookie",
        ],
        &rows,
    );
}

/// The user the apiserver saw for a request through `proxy`
/// (a SelfSubjectReview, allowed for every authenticated user).
async fn who(proxy: &Proxy, host: Option<String>, extra: &[(&str, &str)]) -> String {
    let mut req = Req::new("POST", "/apis/authentication.k8s.io/v1/selfsubjectreviews").json(
        "application/json",
        &json!({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}),
    );
    if let Some(host) = host {
        req = req.host(host);
    }
    for (k, v) in extra {
        req = req.header(k, *v);
    }
    let resp = send(&proxy.addr, &req).await;
    if resp.status != 201 {
        return format!(
            "{} {}",
            resp.status,
            resp.json()["message"].as_str().unwrap_or("")
        );
    }
    resp.json()["status"]["userInfo"]["username"]
        .as_str()
        .unwrap_or("?")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clients_own_authorization_and_impersonation_headers_are_dropped_on_every_host() {
    let c = cluster();
    let viewer_token = c.user("viewer").token.clone().expect("viewer token");
    let bearer = format!("Bearer {viewer_token}");
    let mut rows = Vec::new();
    let mut check = |what: &str, kubectl: String, porthole: String, expected: &str| {
        rows.push(vec![
            what.to_owned(),
            kubectl,
            porthole.clone(),
            expected.to_owned(),
        ]);
        assert_eq!(
            porthole, expected,
            "{what}: porthole asked as the wrong user"
        );
    };

    // The impersonator may act as alice: a client header would make it so.
    let (k, p) = (
        Proxy::kubectl("porthole-impersonator", &[]).await,
        Proxy::porthole("porthole-impersonator", &[]).await,
    );
    let alice = [("Impersonate-User", "alice")];
    check(
        "impersonator + Impersonate-User: alice, API host",
        who(&k, None, &alice).await,
        who(&p, None, &alice).await,
        "impersonator",
    );
    check(
        "impersonator + Impersonate-User: alice, context host",
        "-".into(),
        who(
            &p,
            Some(format!("porthole-impersonator.localhost:{}", p.port)),
            &alice,
        )
        .await,
        "impersonator",
    );

    // A cert user and someone else's token.
    let (k, p) = (
        Proxy::kubectl("porthole-admin", &[]).await,
        Proxy::porthole("porthole-admin", &[]).await,
    );
    let token = [("Authorization", bearer.as_str())];
    check(
        "admin (cert) + Authorization: Bearer <viewer token>",
        who(&k, None, &token).await,
        who(&p, None, &token).await,
        "admin",
    );
    check(
        "admin (cert) + Authorization, context host",
        "-".into(),
        who(
            &p,
            Some(format!("porthole-admin.localhost:{}", p.port)),
            &token,
        )
        .await,
        "admin",
    );

    // The viewer asking to be system:admin: its own RBAC still applies.
    let (k, p) = (
        Proxy::kubectl("porthole-viewer", &[]).await,
        Proxy::porthole("porthole-viewer", &[]).await,
    );
    let admin = [
        ("Impersonate-User", "system:admin"),
        ("Impersonate-Group", "system:masters"),
    ];
    check(
        "viewer + Impersonate-User: system:admin",
        who(&k, None, &admin).await,
        who(&p, None, &admin).await,
        "viewer",
    );
    let mut namespaces = Req::get("/api/v1/namespaces");
    for (name, value) in admin {
        namespaces = namespaces.header(name, value);
    }
    let k_list = send(&k.addr, &namespaces).await;
    let p_list = send(&p.addr, &namespaces).await;
    let message = p_list.json()["message"].as_str().unwrap_or("").to_owned();
    rows.push(vec![
        "viewer + Impersonate-*: GET /api/v1/namespaces".into(),
        format!(
            "{} {}",
            k_list.status,
            k_list.json()["message"].as_str().unwrap_or("")
        ),
        format!("{} {message}", p_list.status),
        "403, the viewer's own RBAC".into(),
    ]);
    assert_eq!(p_list.status, 403, "{}", p_list.text());
    assert!(
        message.contains("User \"viewer\" cannot list resource \"namespaces\""),
        "the viewer's RBAC decided, not an impersonation check: {message}"
    );
    print_table(
        "Who the apiserver saw (SelfSubjectReview) when a client sends its own credentials",
        &["request", "kubectl proxy", "porthole", "porthole must be"],
        &rows,
    );
}
