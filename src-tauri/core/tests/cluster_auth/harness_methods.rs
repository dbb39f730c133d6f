//! The auth methods the harness provides a real counterpart for: a rotated
//! token file, exec plugins (v1beta1, client certificate), OIDC refresh,
//! impersonation allowed and denied, proxy-url through HTTP CONNECT and
//! SOCKS5, basic auth (at the echo backend: the apiserver dropped it).

use http_body_util::BodyExt as _;
use porthole_core::cluster::{ClusterProblem, ContextStatus};
use porthole_testkit::proxies::{HttpConnectProxy, Socks5Proxy};
use porthole_testkit::users::{
    EXEC_CERT_USER, EXEC_V1BETA1_USER, FILE_USER_1, FILE_USER_2, TOKEN_FILE_CONTEXT,
};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_rewritten_token_file_is_used_by_the_next_request() {
    let state = &cluster().state;
    let file = cluster()
        .user(FILE_USER_1)
        .token_file
        .clone()
        .expect("file-user-1 has a token file");
    let original = std::fs::read_to_string(&file).expect("token file");
    // A copy of the context pointing at a copy of the file, so other tests
    // reading the shared one are not disturbed.
    let dir = scratch("token-file");
    let copy = dir.join("token");
    std::fs::write(&copy, &original).expect("copy token");
    let doc = single(cluster_entry(), json!({ "tokenFile": "token" }));
    let path = write(&dir, &doc);
    let c = client(&path, "ctx").await;
    assert_eq!(identity(&c).await.0, FILE_USER_1);

    let second = cluster().user(FILE_USER_2).token.clone().expect("token");
    let tmp = dir.join("token.tmp");
    std::fs::write(&tmp, format!("{second}\n")).expect("write");
    std::fs::rename(&tmp, &copy).expect("rename");
    assert_eq!(
        identity(&c).await.0,
        FILE_USER_2,
        "the next request used the new token"
    );

    // The harness's own context works as written too.
    let c = client(&state.kubeconfig, TOKEN_FILE_CONTEXT).await;
    assert_eq!(identity(&c).await.0, FILE_USER_1);
}

#[tokio::test]
async fn the_harness_v1beta1_plugin_and_the_certificate_plugin_authenticate() {
    let kubeconfig = &cluster().state.kubeconfig;
    let c = client(kubeconfig, "porthole-exec-v1beta1").await;
    assert_eq!(identity(&c).await.0, EXEC_V1BETA1_USER);
    let c = client(kubeconfig, "porthole-exec-cert").await;
    let (user, groups) = identity(&c).await;
    assert_eq!(
        user, EXEC_CERT_USER,
        "the certificate the plugin returned was presented"
    );
    assert!(!groups.is_empty());
    assert_eq!(c.authenticator().exec().expect("exec").runs(), 1);
}

#[tokio::test]
async fn oidc_refreshes_an_expired_id_token_and_the_apiserver_accepts_it() {
    let state = &cluster().state;
    let info = state.oidc.clone().expect("the harness runs an OIDC issuer");
    let before = porthole_testkit::oidc::refresh_count(state).expect("count");
    let c = client(&state.kubeconfig, &info.context).await;
    let (user, groups) = identity(&c).await;
    assert_eq!(user, porthole_testkit::oidc::username(&info.subject));
    assert!(
        groups.contains(&porthole_testkit::oidc::kubernetes_group()),
        "{groups:?}"
    );
    assert_eq!(c.authenticator().oidc().expect("oidc").refreshes(), 1);
    assert!(porthole_testkit::oidc::refresh_count(state).expect("count") > before);
    // The refreshed token is reused, not refreshed per request.
    assert_eq!(get_status(&c, "/version").await, 200);
    assert_eq!(c.authenticator().oidc().expect("oidc").refreshes(), 1);
}

#[tokio::test]
async fn oidc_with_a_bad_refresh_token_says_to_log_in_again() {
    let state = &cluster().state;
    let info = state.oidc.clone().expect("OIDC issuer");
    let doc = combined();
    let ctx = named(&doc, "contexts", &info.context)["context"].clone();
    let mut oidc_user = named(&doc, "users", ctx["user"].as_str().expect("user"))["user"].clone();
    oidc_user["auth-provider"]["config"]["refresh-token"] = json!("not-a-refresh-token");
    let dir = scratch("oidc-bad-refresh");
    let path = write(&dir, &single(cluster_entry(), oidc_user));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::OidcRefreshFailed { issuer, reason },
        } => {
            assert_eq!(issuer, info.issuer_url);
            assert!(!reason.contains("not-a-refresh-token"), "{reason}");
        }
        other => panic!("expected an OIDC refresh failure, got {other:?}"),
    }
}

#[tokio::test]
async fn impersonation_is_allowed_by_rbac_and_denied_without_it() {
    let state = &cluster().state;
    for info in &state.impersonation {
        let c = client(&state.kubeconfig, &info.context).await;
        if info.allowed {
            let (user, groups) = identity(&c).await;
            assert_eq!(user, info.as_user, "{}", info.context);
            assert!(
                groups.iter().any(|g| info.as_groups.contains(g)),
                "{groups:?}"
            );
            assert_eq!(
                get_status(&c, "/api/v1/namespaces/team-b/services").await,
                200
            );
            // as-uid: the apiserver reports the impersonated uid.
            let review = http::Request::post("/apis/authentication.k8s.io/v1/selfsubjectreviews")
                .header("content-type", "application/json")
                .body(porthole_core::cluster::full_body(
                    r#"{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}"#,
                ))
                .expect("request");
            let body = c
                .send(review)
                .await
                .expect("review")
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            let review: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(
                review["status"]["userInfo"]["uid"],
                info.as_uid.as_str(),
                "{review}"
            );
        } else {
            assert_eq!(
                get_status(&c, "/api/v1/namespaces/team-b/services").await,
                403,
                "{} may not impersonate",
                info.context
            );
        }
    }
    assert!(state.impersonation.iter().any(|i| i.allowed));
    assert!(state.impersonation.iter().any(|i| !i.allowed));
}

#[tokio::test]
async fn proxy_url_tunnels_through_http_connect_and_socks5() {
    for (kind, proxy) in [
        ("http", HttpConnectProxy::start().expect("CONNECT proxy")),
        ("socks5", Socks5Proxy::start().expect("SOCKS5 proxy")),
    ] {
        let mut entry = cluster_entry();
        entry["proxy-url"] = json!(proxy.url());
        let dir = scratch(&format!("proxy-{kind}"));
        let path = write(&dir, &single(entry, user_entry("admin")));
        let c = client(&path, "ctx").await;
        assert_eq!(identity(&c).await.0, "admin", "through {kind}");
        assert!(proxy.tunnels() >= 1, "{kind}: no tunnel opened");
        let server = cluster_entry()["server"]
            .as_str()
            .expect("server")
            .to_owned();
        let target = server.trim_start_matches("https://").to_owned();
        assert!(
            proxy.targets().contains(&target),
            "{kind}: {:?}",
            proxy.targets()
        );
    }
}

#[tokio::test]
async fn a_proxy_that_refuses_is_reported_as_a_proxy_problem() {
    let proxy = HttpConnectProxy::start_with_basic_auth("u", "p").expect("proxy");
    let mut entry = cluster_entry();
    entry["proxy-url"] = json!(proxy.url());
    let dir = scratch("proxy-refuses");
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::Proxy { reason, .. },
        } => assert!(reason.contains("407"), "{reason}"),
        other => panic!("expected a proxy problem, got {other:?}"),
    }
}

#[tokio::test]
async fn basic_auth_reaches_the_echo_backend_as_an_authorization_header() {
    let info = cluster()
        .state
        .basic_auth
        .clone()
        .expect("basic auth set-up");
    let c = client(&info.kubeconfig, &info.context).await;
    let request = http::Request::get("/basic-auth-check")
        .body(porthole_core::cluster::empty_body())
        .expect("request");
    let response = c.send(request).await.expect("echo answers");
    let body = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let echo: serde_json::Value = serde_json::from_slice(&body).expect("echo JSON");
    assert_eq!(
        echo["headers"]["authorization"][0],
        info.expected_authorization
    );
}

#[tokio::test]
async fn credentials_never_travel_over_plain_http() {
    let info = cluster()
        .state
        .basic_auth
        .clone()
        .expect("basic auth set-up");
    let dir = scratch("plain-http");
    let path = write(
        &dir,
        &single(
            json!({ "server": info.echo_url }),
            json!({ "username": info.username, "password": info.password }),
        ),
    );
    let c = client(&path, "ctx").await;
    let request = http::Request::get("/plain")
        .body(porthole_core::cluster::empty_body())
        .expect("request");
    let body = c
        .send(request)
        .await
        .expect("echo answers")
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    let echo: serde_json::Value = serde_json::from_slice(&body).expect("echo JSON");
    assert!(echo["headers"].get("authorization").is_none(), "{echo}");
}
