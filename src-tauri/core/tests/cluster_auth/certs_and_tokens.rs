//! Client certificates (data and files), tokens, tls-server-name,
//! insecure-skip-tls-verify.

use base64::Engine as _;
use porthole_core::cluster::{ClusterProblem, ContextStatus, TlsProblem};
use serde_json::json;

use crate::support::*;

fn b64d(v: &serde_json::Value) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(v.as_str().expect("base64 field"))
        .expect("base64")
}

#[tokio::test]
async fn client_certificate_data_authenticates_as_admin() {
    let c = client(cluster().kubeconfig(), "porthole-admin").await;
    let (user, groups) = identity(&c).await;
    assert_eq!(user, "admin");
    assert!(groups.iter().any(|g| g == "system:masters"), "{groups:?}");
}

#[tokio::test]
async fn certificate_files_are_read_relative_to_the_kubeconfig_that_names_them() {
    let dir = scratch("cert-files");
    let admin = user_entry("admin");
    let cluster = cluster_entry();
    std::fs::create_dir_all(dir.join("pki")).expect("mkdir");
    std::fs::write(
        dir.join("pki/admin.crt"),
        b64d(&admin["client-certificate-data"]),
    )
    .expect("crt");
    std::fs::write(dir.join("pki/admin.key"), b64d(&admin["client-key-data"])).expect("key");
    std::fs::write(
        dir.join("pki/ca.crt"),
        b64d(&cluster["certificate-authority-data"]),
    )
    .expect("ca");
    let doc = single(
        json!({ "server": cluster["server"], "certificate-authority": "pki/ca.crt" }),
        json!({ "client-certificate": "pki/admin.crt", "client-key": "pki/admin.key" }),
    );
    let path = write(&dir, &doc);
    // From another working directory: only the file's own directory counts.
    let c = client(&path, "ctx").await;
    assert_eq!(identity(&c).await.0, "admin");
}

#[tokio::test]
async fn a_static_token_authenticates_as_the_viewer() {
    let c = client(cluster().kubeconfig(), "porthole-viewer").await;
    let (user, groups) = identity(&c).await;
    assert_eq!(user, "viewer");
    assert!(groups.iter().any(|g| g == "porthole:viewers"), "{groups:?}");
    // RBAC-scoped: the viewer reads team-a but not team-b.
    assert_eq!(
        get_status(&c, "/api/v1/namespaces/team-a/services").await,
        200
    );
    assert_eq!(
        get_status(&c, "/api/v1/namespaces/team-b/services").await,
        403
    );
}

#[tokio::test]
async fn a_wrong_token_is_a_401_naming_the_user() {
    let dir = scratch("wrong-token");
    let path = write(
        &dir,
        &single(cluster_entry(), json!({ "token": "not-a-valid-token" })),
    );
    let c = client(&path, "ctx").await;
    match status(&c).await {
        ContextStatus::Failed {
            problem: ClusterProblem::Unauthorized { user },
        } => assert_eq!(user.as_deref(), Some("u")),
        other => panic!("expected 401, got {other:?}"),
    }
}

#[tokio::test]
async fn tls_server_name_is_what_the_certificate_is_checked_against() {
    let c = client(cluster().kubeconfig(), "porthole-admin-sni").await;
    assert_eq!(identity(&c).await.0, "admin");

    let dir = scratch("sni-wrong");
    let mut entry = cluster_entry();
    entry["tls-server-name"] = json!("wrong.porthole.test");
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::Tls {
                    problem:
                        TlsProblem::NameMismatch {
                            expected,
                            presented,
                        },
                },
        } => {
            assert_eq!(expected, "wrong.porthole.test");
            assert!(
                presented
                    .iter()
                    .any(|n| n.contains("127.0.0.1") || n.contains("localhost")),
                "{presented:?}"
            );
        }
        other => panic!("expected a name mismatch, got {other:?}"),
    }
}

#[tokio::test]
async fn a_ca_that_does_not_match_is_an_unknown_authority_and_insecure_skips_it() {
    let dir = scratch("ca-mismatch");
    let mut entry = cluster_entry();
    // Without a CA the system roots are used: they never signed the test CA.
    entry
        .as_object_mut()
        .expect("object")
        .remove("certificate-authority-data");
    let path = write(&dir, &single(entry.clone(), user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::Tls {
                    problem: TlsProblem::UnknownAuthority,
                },
        } => {}
        other => panic!("expected an unknown authority, got {other:?}"),
    }

    entry["insecure-skip-tls-verify"] = json!(true);
    let dir = scratch("ca-insecure");
    let path = write(&dir, &single(entry, user_entry("admin")));
    assert_eq!(identity(&client(&path, "ctx").await).await.0, "admin");
}
