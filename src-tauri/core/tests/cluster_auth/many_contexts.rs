//! Fifty contexts, ten of them dead (refused, blackholed, a TLS handshake
//! that stalls): all statuses arrive within the probe timeout plus a small
//! margin, and no dead context delays a live one. Prints the figures.

use std::time::{Duration, Instant};

use porthole_core::cluster::connect::Timeouts;
use porthole_core::cluster::probe::probe_all;
use porthole_core::cluster::{ClusterProblem, ContextStatus, TlsProblem, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_merged};
use porthole_testkit::faults::{Blackhole, StallingTlsStub, refused_addr};
use serde_json::{Value, json};

use crate::support::*;

const PROBE_TIMEOUT: Duration = Duration::from_secs(4);
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

#[tokio::test]
async fn fifty_contexts_with_ten_dead_resolve_within_the_timeout_and_dead_ones_never_delay_live_ones()
 {
    let blackholes: Vec<Blackhole> = (0..3)
        .map(|_| Blackhole::new().expect("blackhole"))
        .collect();
    let stalls: Vec<StallingTlsStub> = (0..3)
        .map(|_| StallingTlsStub::start().expect("stalling TLS stub"))
        .collect();
    let refused: Vec<String> = (0..4)
        .map(|_| format!("https://{}", refused_addr().expect("free port")))
        .collect();

    let live = cluster_entry();
    let mut clusters = vec![json!({ "name": "live", "cluster": live })];
    let mut dead_servers: Vec<(String, &str)> = Vec::new();
    dead_servers.extend(refused.iter().map(|u| (u.clone(), "refused")));
    dead_servers.extend(blackholes.iter().map(|b| (b.url(), "blackholed")));
    dead_servers.extend(stalls.iter().map(|s| (s.url(), "stalled-tls")));
    for (i, (server, _)) in dead_servers.iter().enumerate() {
        let mut entry = cluster_entry();
        entry["server"] = json!(server);
        clusters.push(json!({ "name": format!("dead-{i}"), "cluster": entry }));
    }
    let users = vec![
        json!({ "name": "admin", "user": user_entry("admin") }),
        json!({ "name": "viewer", "user": user_entry("viewer") }),
    ];
    let mut contexts: Vec<Value> = (0..40)
        .map(|i| {
            let user = if i % 2 == 0 { "admin" } else { "viewer" };
            json!({ "name": format!("live-{i:02}"), "context": { "cluster": "live", "user": user } })
        })
        .collect();
    contexts.extend((0..dead_servers.len()).map(|i| {
        json!({ "name": format!("dead-{i}"), "context": { "cluster": format!("dead-{i}"), "user": "admin" } })
    }));
    let doc = json!({
        "apiVersion": "v1", "kind": "Config", "clusters": clusters, "users": users,
        "contexts": contexts, "current-context": "live-00",
    });
    let dir = scratch("fifty");
    let path = write(&dir, &doc);

    let merged = load_merged(&KubeconfigSources::explicit(&path))
        .await
        .expect("loads");
    let mut env = env();
    env.timeouts = Timeouts {
        connect: STEP_TIMEOUT,
        tls_handshake: STEP_TIMEOUT,
    };
    let started = Instant::now();
    let mut clients = Vec::new();
    for i in 0..40 {
        let name = format!("live-{i:02}");
        clients.push((name.clone(), client_for_context(&merged, &name, &env).await));
    }
    for i in 0..dead_servers.len() {
        let name = format!("dead-{i}");
        clients.push((name.clone(), client_for_context(&merged, &name, &env).await));
    }
    let mut rx = probe_all(clients, PROBE_TIMEOUT);
    let mut live_done = None;
    let mut seen = 0;
    let mut live_ok = 0;
    while let Some(update) = rx.recv().await {
        seen += 1;
        if let Some(i) = update.context.strip_prefix("dead-") {
            let kind = dead_servers[i.parse::<usize>().expect("index")].1;
            let ContextStatus::Failed { problem } = &update.status else {
                panic!(
                    "{} ({kind}) must fail, got {:?}",
                    update.context, update.status
                );
            };
            match (kind, problem) {
                ("refused", ClusterProblem::ConnectionRefused { .. })
                | ("blackholed", ClusterProblem::Timeout { .. })
                | (
                    "stalled-tls",
                    ClusterProblem::Tls {
                        problem: TlsProblem::HandshakeStalled,
                    },
                ) => {}
                _ => panic!("{} ({kind}): unexpected {problem:?}", update.context),
            }
        } else {
            assert!(
                matches!(update.status, ContextStatus::Reachable { .. }),
                "{}: {:?}",
                update.context,
                update.status
            );
            live_ok += 1;
            if live_ok == 40 {
                live_done = Some(started.elapsed());
            }
        }
    }
    let total = started.elapsed();
    assert_eq!(seen, 50);
    let live_done = live_done.expect("all live contexts answered");
    println!(
        "status of 50 contexts (10 dead: 4 refused, 3 blackholed, 3 stalled TLS), probe timeout {} s: \
         all 40 live ones in {} ms, all 50 in {} ms",
        PROBE_TIMEOUT.as_secs(),
        live_done.as_millis(),
        total.as_millis()
    );
    // Functional bounds (timeouts work), generous on purpose.
    assert!(
        live_done < STEP_TIMEOUT,
        "live contexts waited for dead ones: {live_done:?}"
    );
    assert!(
        total < PROBE_TIMEOUT + Duration::from_secs(2),
        "took {total:?}"
    );
    assert!(
        stalls.iter().all(|s| s.accepted() > 0),
        "the stalling stubs were reached"
    );
}
