//! Per-service hosts (#5 item 3): a service mounted at `/` of its own
//! `PORT.SERVICE.NAMESPACE.CONTEXT.localhost` origin, on the real apiserver.

use crate::fake::{FakeUpstream, in_process_proxy};
use crate::support::{Proxy, Req, cluster, send};

const SPA_PREFIX: &str = "/api/v1/namespaces/team-a/services/web:80/proxy";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spa_is_served_at_the_root_of_its_service_host_with_its_assets() {
    let _ = cluster();
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    let host = format!("80.web.team-a.porthole-admin.localhost:{}", porthole.port);
    let get = |path: &str| Req::get(path).host(host.clone());

    let index = send(&porthole.addr, &get("/")).await;
    assert_eq!(index.status, 200, "{}", index.text());
    assert!(
        index
            .header("content-type")
            .is_some_and(|t| t.starts_with("text/html")),
        "{:?}",
        index.headers
    );
    let html = index.text();
    assert!(
        html.contains("PORTHOLE-SPA-LOADING"),
        "the SPA's page: {html}"
    );
    // The apiserver rewrote the root-relative links to carry its prefix;
    // Porthole maps them back to the service's root in the HTML.
    let rewritten = format!("{SPA_PREFIX}/assets/app.css");
    assert!(
        !html.contains(SPA_PREFIX) && html.contains("\"/assets/app.css\""),
        "links are root-relative again: {html}"
    );

    for (path, content_type, needle) in [
        ("/assets/app.js", "text/javascript", "PORTHOLE-SPA-OK"),
        ("/assets/app.css", "text/css", "--porthole-css"),
        ("/assets/logo.svg", "image/svg+xml", "<svg"),
        ("/api/data", "application/json", "porthole-test-spa"),
        ("/page2", "text/html", "PORTHOLE-SPA-PAGE2"),
    ] {
        let resp = send(&porthole.addr, &get(path)).await;
        assert_eq!(resp.status, 200, "{path}: {}", resp.text());
        assert!(
            resp.header("content-type")
                .is_some_and(|t| t.starts_with(content_type)),
            "{path}: {:?}",
            resp.header("content-type")
        );
        assert!(resp.text().contains(needle), "{path}: {}", resp.text());
    }

    // A link the apiserver rewrote maps back to the same file at the root.
    let direct = send(&porthole.addr, &get("/assets/app.css")).await;
    let via_link = send(&porthole.addr, &get(&rewritten)).await;
    assert_eq!(via_link.status, 200, "{rewritten}: {}", via_link.text());
    assert_eq!(via_link.body, direct.body, "{rewritten} is /assets/app.css");
    // The prefix without its slash (the apiserver would answer 301) is the
    // service's root.
    let bare = send(&porthole.addr, &get(SPA_PREFIX)).await;
    assert_eq!(bare.status, 200, "{SPA_PREFIX}: {}", bare.text());
    assert!(bare.text().contains("PORTHOLE-SPA-LOADING"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_https_backend_answers_through_its_https_service_host() {
    let _ = cluster();
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    let resp = send(
        &porthole.addr,
        &Req::get("/over-tls?x=1").host(format!(
            "https--443.secure.default.porthole-admin.localhost:{}",
            porthole.port
        )),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text());
    let echo = resp.json();
    assert_eq!(echo["tls"], true, "reached the TLS backend: {echo}");
    assert_eq!(echo["path"], "/over-tls", "{echo}");
    assert_eq!(echo["rawQuery"], "x=1", "{echo}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_failures_are_readable_pages_on_service_hosts_and_status_on_api_hosts() {
    let _ = cluster();
    let porthole = Proxy::porthole("porthole-admin", &[]).await;
    let port = porthole.port;

    let none = send(
        &porthole.addr,
        &Req::get("/").host(format!(
            "80.no-endpoints.default.porthole-admin.localhost:{port}"
        )),
    )
    .await;
    assert_eq!(none.status, 503, "{}", none.text());
    assert!(
        none.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert!(
        none.text().contains("No endpoints") && none.text().contains("default/no-endpoints:80"),
        "a page naming the failure and the service: {}",
        none.text()
    );

    for host in [
        format!("80.web.team-a.no-such-context.localhost:{port}"),
        format!("no-such-context.localhost:{port}"),
    ] {
        let unknown = send(&porthole.addr, &Req::get("/").host(host.clone())).await;
        assert_eq!(unknown.status, 404, "{host}: {}", unknown.text());
        let status = unknown.json();
        assert_eq!(status["kind"], "Status", "{status}");
        assert_eq!(status["reason"], "NotFound", "{status}");
        assert!(
            status["message"]
                .as_str()
                .is_some_and(|m| m.contains("no-such-context")),
            "{status}"
        );
    }

    // The viewer may not proxy to team-b: the page names the user.
    let viewer = Proxy::porthole("porthole-viewer", &[]).await;
    let denied = send(
        &viewer.addr,
        &Req::get("/").host(format!(
            "80.frontend.team-b.porthole-viewer.localhost:{}",
            viewer.port
        )),
    )
    .await;
    assert_eq!(denied.status, 403, "{}", denied.text());
    assert!(
        denied.text().contains("Not allowed") && denied.text().contains("viewer"),
        "a page naming the user: {}",
        denied.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prefixed_locations_and_cookie_paths_map_back_to_the_service_root() {
    let fake = FakeUpstream::start().await;
    let (server, addr) = in_process_proxy(&fake, None).await;
    let host = format!("80.web.team-a.fake.localhost:{}", addr.port());
    let redirect = send(&addr.to_string(), &Req::get("/redirect").host(host.clone())).await;
    assert_eq!(redirect.status, 301, "{}", redirect.text());
    assert_eq!(
        redirect.header("location"),
        Some("/login?next=/"),
        "the prefixed Location maps back to the service root"
    );
    assert_eq!(
        fake.last_path().as_deref(),
        Some(format!("{SPA_PREFIX}/redirect").as_str()),
        "the service host forwarded under the service's proxy prefix"
    );
    let bare = send(
        &addr.to_string(),
        &Req::get("/redirect-bare").host(host.clone()),
    )
    .await;
    assert_eq!(
        bare.header("location"),
        Some("/"),
        "the bare prefix is the root"
    );
    let other = send(
        &addr.to_string(),
        &Req::get("/redirect-away").host(host.clone()),
    )
    .await;
    assert_eq!(
        other.header("location"),
        Some("https://elsewhere.example/x"),
        "other places are left alone"
    );
    let cookie = send(&addr.to_string(), &Req::get("/cookie").host(host)).await;
    assert_eq!(
        cookie.header("set-cookie"),
        Some("sid=1; Path=/app; HttpOnly"),
        "the cookie stays on this host, its path at the root"
    );
    server.stop(std::time::Duration::from_secs(1)).await;
}
