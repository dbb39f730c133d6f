//! Test workloads (`porthole_testkit::workload`): Pods that come and go
//! behind a test-owned Service, reached with kubectl through the real
//! apiserver and the node agent.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Namespace, Pod};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use porthole_testkit::users::ADMIN;
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};

use crate::support::{
    PortForward, TRANSPORTS, agent_get, cluster, echo_exchange, get, kubectl, ok, run, runtime,
};

fn ports() -> [WorkloadPort; 2] {
    [
        WorkloadPort::tcp_echo("echo", 7000, 7000),
        WorkloadPort::http_echo("http", 80, 8080),
    ]
}

fn whoami(local: &str) -> String {
    let resp = get(&format!("http://{local}/whoami"), &[]);
    assert_eq!(
        resp.status, 200,
        "GET /whoami through {local}: {}",
        resp.body
    );
    resp.body.trim().to_owned()
}

/// (address, ready, pod name) of every endpoint in the workload's slice.
async fn slice_endpoints(w: &Workload) -> Vec<(String, bool, String)> {
    let client = cluster().client(ADMIN).await.expect("admin client");
    let slice = Api::<EndpointSlice>::namespaced(client, w.namespace())
        .get(&format!("{}-porthole", w.service()))
        .await
        .expect("the workload's EndpointSlice");
    slice
        .endpoints
        .iter()
        .flatten()
        .map(|e| {
            (
                e.addresses.join(","),
                e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false),
                e.target_ref
                    .as_ref()
                    .and_then(|r| r.name.clone())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

#[test]
fn a_replaced_pod_takes_over_the_service_for_kubectl_port_forward() {
    let rt = runtime();
    let ns = unique_namespace("wl");
    let w = rt
        .block_on(Workload::create(cluster(), &ns, "heal", &ports()))
        .expect("create the workload");
    let a = rt.block_on(w.add_pod("a")).expect("add pod a");
    assert_eq!(w.pod_ip("a"), Some(a.ip));
    assert_eq!(
        rt.block_on(slice_endpoints(&w)),
        vec![(a.ip.to_string(), true, "a".to_owned())]
    );

    for (transport, env) in TRANSPORTS {
        eprintln!("pod a over {transport}");
        let mut cmd = kubectl(ADMIN, &[]);
        cmd.envs(env.iter().copied());
        let tcp = PortForward::start(cmd, &ns, "pod/a", "7000");
        echo_exchange(&tcp.local, 1 << 20);
        let mut cmd = kubectl(ADMIN, &[]);
        cmd.envs(env.iter().copied());
        let http = PortForward::start(cmd, &ns, "pod/a", "8080");
        assert_eq!(whoami(&http.local), format!("{}:8080", a.ip));
    }

    rt.block_on(w.delete_pod("a")).expect("delete pod a");
    assert_eq!(w.pod_ip("a"), None);
    assert!(rt.block_on(slice_endpoints(&w)).is_empty());
    let b = rt.block_on(w.add_pod("b")).expect("add pod b");
    assert_ne!(a.node, b.node, "pods are spread over the Nodes");

    // kubectl resolves the service to its (only) Pod and the service port to
    // the container port.
    let svc = PortForward::start(kubectl(ADMIN, &[]), &ns, "svc/heal", "80");
    assert_eq!(whoami(&svc.local), format!("{}:8080", b.ip));
    let svc_tcp = PortForward::start(kubectl(ADMIN, &[]), &ns, "svc/heal", "7000");
    echo_exchange(&svc_tcp.local, 100_000);
    drop((svc, svc_tcp));

    // Unready: the Pod's condition and its endpoint say so.
    rt.block_on(w.set_ready("b", false)).expect("b unready");
    assert_eq!(
        rt.block_on(slice_endpoints(&w)),
        vec![(b.ip.to_string(), false, "b".to_owned())]
    );
    let ready = ok(kubectl(
        ADMIN,
        &[
            "get",
            "pod",
            "b",
            "-n",
            &ns,
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ],
    ));
    assert_eq!(ready, "False");
    rt.block_on(w.set_ready("b", true)).expect("b ready again");
    assert_eq!(
        rt.block_on(slice_endpoints(&w)),
        vec![(b.ip.to_string(), true, "b".to_owned())]
    );

    rt.block_on(w.teardown()).expect("teardown");
    let gone = rt.block_on(async {
        let client = cluster().client(ADMIN).await.expect("admin client");
        Api::<Namespace>::all(client).get_opt(&ns).await
    });
    assert!(
        matches!(gone, Ok(None)),
        "namespace {ns} after teardown: {gone:?}"
    );
}

#[test]
fn the_node_agent_learns_and_forgets_workload_pods_at_run_time() {
    let rt = runtime();
    let ns = unique_namespace("wl");
    let w = rt
        .block_on(Workload::create(cluster(), &ns, "agent", &ports()))
        .expect("create the workload");
    let p = rt.block_on(w.add_pod("p")).expect("add pod p");
    let node_ip = cluster()
        .state
        .node_agent
        .as_ref()
        .expect("node agent")
        .addresses[0]
        .clone();
    let logs = format!("/containerLogs/{ns}/p/{}", w.container());

    let (code, body) = agent_get(&node_ip, &logs);
    assert_eq!(code, 200, "{body}");
    assert!(
        body.contains(&format!("porthole test container {ns}/p/agent started")),
        "{body}"
    );

    // exec and logs through the apiserver, as for the fixture Pods.
    let out = ok(kubectl(
        ADMIN,
        &["exec", "-n", &ns, "p", "--", "sh", "-c", "echo $((6*7))"],
    ));
    assert_eq!(out.trim(), "42");
    let out = ok(kubectl(ADMIN, &["logs", "-n", &ns, "p"]));
    assert!(out.contains("started"), "{out}");

    rt.block_on(w.delete_pod("p")).expect("delete pod p");
    let (code, body) = agent_get(&node_ip, &logs);
    assert_eq!(code, 404, "{body}");
    assert!(body.contains(&format!("pod {ns}/p is not known")), "{body}");
    // The address is free again, nothing listens there.
    assert!(
        std::net::TcpStream::connect_timeout(&(p.ip, 8080).into(), Duration::from_secs(2)).is_err(),
        "{} still answers after delete_pod",
        p.ip
    );
    let pods = rt.block_on(async {
        let client = cluster().client(ADMIN).await.expect("admin client");
        Api::<Pod>::namespaced(client, &ns).get_opt("p").await
    });
    assert!(matches!(pods, Ok(None)), "{pods:?}");
    drop(w);
}

#[test]
fn the_viewer_may_port_forward_in_team_a_but_not_in_monitoring() {
    let allowed = PortForward::start(kubectl("viewer", &[]), "team-a", "pod/echo-0", "8080");
    let resp = get(&format!("http://{}/healthz", allowed.local), &[]);
    assert_eq!((resp.status, resp.body.trim()), (200, "ok"));
    drop(allowed);

    // monitoring: readable, but no forwarding.
    ok(kubectl(
        "viewer",
        &["get", "pod", "-n", "monitoring", "grafana-0"],
    ));
    for (transport, env) in TRANSPORTS {
        let mut cmd = kubectl(
            "viewer",
            &["port-forward", "-n", "monitoring", "pod/grafana-0", ":8080"],
        );
        cmd.envs(env.iter().copied());
        let out = run(cmd);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "over {transport}: {stderr}");
        assert!(
            stderr.contains("forbidden") && stderr.contains("pods/portforward"),
            "over {transport}: {stderr}"
        );
    }
}
