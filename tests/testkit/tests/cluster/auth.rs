//! Users: admin (client certificate), viewer (static token, RBAC in two
//! namespaces), exec-user (exec plugin), and the SNI-only server name.

use porthole_testkit::kubeconfig::SNI_CONTEXT;
use porthole_testkit::users::{ADMIN, EXEC_USER, VIEWER};

use crate::support::{cluster, kubectl, ok, pinned_kubernetes_version, run};

#[test]
fn version_is_the_pinned_release() {
    let out = ok(kubectl(ADMIN, &["get", "--raw", "/version"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("/version is JSON");
    assert_eq!(v["gitVersion"], pinned_kubernetes_version(), "{out}");
}

#[test]
fn admin_is_cluster_admin_through_its_client_certificate() {
    let out = ok(kubectl(ADMIN, &["auth", "whoami", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("whoami JSON");
    assert_eq!(v["status"]["userInfo"]["username"], "admin", "{out}");
    let can = ok(kubectl(
        ADMIN,
        &["auth", "can-i", "*", "*", "--all-namespaces"],
    ));
    assert_eq!(can.trim(), "yes");
}

#[test]
fn viewer_is_forbidden_to_list_namespaces_but_reads_its_namespaces() {
    let out = run(kubectl(VIEWER, &["get", "ns"]));
    assert!(!out.status.success(), "viewer must not list namespaces");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("Forbidden") && err.contains("User \"viewer\""),
        "{err}"
    );

    let svc = ok(kubectl(
        VIEWER,
        &["get", "svc", "-n", "team-a", "-o", "name"],
    ));
    assert!(svc.contains("service/echo"), "{svc}");
    let svc = ok(kubectl(
        VIEWER,
        &["get", "svc", "-n", "monitoring", "-o", "name"],
    ));
    assert!(svc.contains("service/grafana"), "{svc}");
    // Its context defaults to team-a.
    let svc = ok(kubectl(VIEWER, &["get", "svc", "-o", "name"]));
    assert!(svc.contains("service/web"), "{svc}");

    let out = run(kubectl(VIEWER, &["get", "svc", "-n", "team-b"]));
    assert!(!out.status.success(), "viewer must not read team-b");
    let out = run(kubectl(
        VIEWER,
        &["delete", "svc", "echo", "-n", "team-a", "--dry-run=server"],
    ));
    assert!(!out.status.success(), "viewer is read-only");
}

#[test]
fn exec_user_authenticates_through_the_plugin_and_the_count_moves() {
    let c = cluster();
    let before = c.exec_count(EXEC_USER).expect("read the counter");
    let out = ok(kubectl(EXEC_USER, &["auth", "whoami", "-o", "json"]));
    let v: serde_json::Value = serde_json::from_str(&out).expect("whoami JSON");
    assert_eq!(v["status"]["userInfo"]["username"], "exec-user", "{out}");
    let groups = v["status"]["userInfo"]["groups"].to_string();
    assert!(groups.contains("porthole:exec-users"), "{groups}");
    let after = c.exec_count(EXEC_USER).expect("read the counter");
    assert!(after > before, "the plugin ran (count {before} -> {after})");
    // Read-only cluster-wide: it may list namespaces, not delete them.
    ok(kubectl(EXEC_USER, &["get", "ns"]));
    let out = run(kubectl(
        EXEC_USER,
        &["delete", "ns", "team-b", "--dry-run=server"],
    ));
    assert!(!out.status.success());
}

#[test]
fn exec_plugin_prints_a_v1_exec_credential() {
    let c = cluster();
    let user = c.user(EXEC_USER);
    let counter = user.exec_counter.clone().expect("exec user has a counter");
    let token_file = counter.with_file_name("exec-user.token");
    let before = c.exec_count(EXEC_USER).expect("counter");
    let out = ok({
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_porthole-cluster"));
        cmd.arg("exec-credential")
            .arg("--token-file")
            .arg(&token_file)
            .arg("--counter")
            .arg(&counter)
            .args(["--ttl-secs", "120"]);
        cmd
    });
    let v: serde_json::Value = serde_json::from_str(&out).expect("ExecCredential JSON");
    assert_eq!(v["kind"], "ExecCredential");
    assert_eq!(v["apiVersion"], "client.authentication.k8s.io/v1");
    assert_eq!(v["status"]["token"].as_str(), user.token.as_deref());
    assert!(v["status"]["expirationTimestamp"].is_string(), "{out}");
    assert!(c.exec_count(EXEC_USER).expect("counter") > before);
}

#[test]
fn the_sni_only_name_works_through_tls_server_name_and_is_verified() {
    let c = cluster();
    let mut cmd = std::process::Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(c.kubeconfig()).args([
        "--context",
        SNI_CONTEXT,
        "get",
        "--raw",
        "/readyz",
    ]);
    assert_eq!(ok(cmd).trim(), "ok");

    // The same cluster with a name the certificate does not carry fails:
    // the client really verifies against tls-server-name.
    let mut cmd = std::process::Command::new("kubectl");
    cmd.arg("--kubeconfig").arg(c.kubeconfig()).args([
        "--context",
        SNI_CONTEXT,
        "--tls-server-name",
        "wrong.porthole.test",
        "get",
        "--raw",
        "/readyz",
    ]);
    let out = run(cmd);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("x509") || err.contains("certificate"), "{err}");
}
