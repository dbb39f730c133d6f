//! Failures that say what to do: refused, DNS.

use porthole_core::cluster::{ClusterProblem, ContextStatus};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn nothing_listening_is_connection_refused_with_the_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = scratch("refused");
    let mut entry = cluster_entry();
    entry["server"] = json!(format!("https://127.0.0.1:{port}"));
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::ConnectionRefused { address },
        } => assert_eq!(address, format!("127.0.0.1:{port}")),
        other => panic!("expected connection refused, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unresolvable_host_is_a_dns_failure_naming_it() {
    let dir = scratch("dns");
    let mut entry = cluster_entry();
    entry["server"] = json!("https://no-such-cluster.invalid:6443");
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::Dns { host, .. },
        } => assert_eq!(host, "no-such-cluster.invalid"),
        other => panic!("expected a DNS failure, got {other:?}"),
    }
}
