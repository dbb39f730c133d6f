//! Port-forwards as the app runs them (the workspace's registry), against
//! the real test control plane and its node agent: "Forward" on a TCP
//! service gives a local address where bytes go both ways, with its client
//! commands; the forward is saved with its local port; stop, start, a new
//! local port and "restore at start" behave; a new workspace on the same
//! settings brings it back on the same port; a service forward heals when
//! its Pod is replaced; every change is announced as an event.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use porthole_core::forward::{ForwardState, RemotePort, TargetKind};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::port_kind::PortKind;
use porthole_core::workspace::{
    ForwardTarget, ForwardView, Workspace, WorkspaceEvent, WorkspaceOptions,
};
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};

const ADMIN: &str = "porthole-admin";
const WITHIN: Duration = Duration::from_secs(30);

async fn workspace(dir: &Path) -> Arc<Workspace> {
    let ws = Workspace::start(WorkspaceOptions {
        sources: Some(KubeconfigSources::explicit(
            porthole_testkit::cluster().kubeconfig(),
        )),
        settings_path: Some(dir.join("settings.json")),
        probe_timeout: Duration::from_secs(8),
        reprobe_every: None,
        login_shell_path: false,
        login_shell: None,
        proxy_autostart: false,
    })
    .await;
    let deadline = Instant::now() + WITHIN;
    while ws.client(ADMIN).is_none() {
        assert!(Instant::now() < deadline, "no client for {ADMIN}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    ws
}

fn target(namespace: &str, name: &str, port: u16) -> ForwardTarget {
    ForwardTarget {
        context: ADMIN.into(),
        namespace: namespace.into(),
        kind: TargetKind::Service,
        name: name.into(),
        remote: RemotePort::Number(port),
    }
}

/// The tcp-echo Pod sends a probe back through the forward at `address`.
async fn echoes(address: &str) -> Result<(), String> {
    let addr: SocketAddr = address.parse().map_err(|e| format!("{address}: {e}"))?;
    porthole_testkit::http_probe::echoes(addr, Duration::from_secs(40)).await
}

/// Waits until `id`'s state is `want` (as a workspace view says).
async fn wait_state(ws: &Workspace, id: &str, want: &str) -> ForwardView {
    let deadline = Instant::now() + WITHIN;
    loop {
        let view = ws
            .forwards()
            .into_iter()
            .find(|v| v.id == id)
            .unwrap_or_else(|| panic!("no forward {id}"));
        let state = serde_json::to_value(&view.status.state).expect("json")["kind"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        if state == want {
            return view;
        }
        assert!(
            Instant::now() < deadline,
            "{id} is {state}, not {want}: {view:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn saved(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join("settings.json")).expect("settings saved");
    serde_json::from_str(&text).expect("settings are JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn forward_a_tcp_service_save_it_change_it_and_get_it_back_in_a_new_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workspace(dir.path()).await;
    let mut events = ws.subscribe();

    let view = ws
        .start_forward(&target("team-a", "postgres", 5432))
        .await
        .expect("started");
    assert_eq!(view.id, "porthole-admin/team-a/svc/postgres:5432");
    assert_eq!(view.port_kind, PortKind::Postgres);
    assert!(view.local_port != 0, "a local port was chosen");
    assert_eq!(view.address, format!("127.0.0.1:{}", view.local_port));
    assert_eq!(
        view.commands[0].command,
        format!("psql -h 127.0.0.1 -p {}", view.local_port)
    );
    let view = wait_state(&ws, &view.id, "listening").await;
    echoes(&view.address).await.expect("echo");
    let counted = ws
        .forwards()
        .into_iter()
        .find(|v| v.id == view.id)
        .expect("view");
    assert!(
        counted.status.bytes_sent >= 20,
        "the probe was counted: {counted:?}"
    );
    assert!(counted.status.connections_total >= 1, "{counted:?}");

    // Announced: an event with the forward in it.
    let deadline = Instant::now() + WITHIN;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, events.recv()).await {
            Ok(Ok(WorkspaceEvent::Forwards(views))) if views.iter().any(|v| v.id == view.id) => {
                break;
            }
            Ok(Ok(_)) => {}
            other => panic!("no forwards event: {other:?}"),
        }
    }

    // Saved with its local port, restored at start by default.
    let json = saved(dir.path());
    assert_eq!(json["forwards"][0]["localPort"], view.local_port, "{json}");
    assert_eq!(json["forwards"][0]["restore"], true, "{json}");
    assert_eq!(json["forwards"][0]["portKind"], "postgres", "{json}");

    // Starting the same target again changes nothing.
    let again = ws
        .start_forward(&target("team-a", "postgres", 5432))
        .await
        .expect("again");
    assert_eq!(again.local_port, view.local_port);
    assert_eq!(ws.forwards().len(), 1);

    // Stop: the port refuses; start: it answers on the same port.
    let stopped = ws.stop_forward(&view.id).expect("stopped");
    assert_eq!(stopped.status.state, ForwardState::Stopped);
    assert!(echoes(&view.address).await.is_err(), "stopped");
    ws.start_saved_forward(&view.id).await.expect("resumed");
    wait_state(&ws, &view.id, "listening").await;
    echoes(&view.address).await.expect("echo");

    // Another local port: the running forward moves there, and it is kept.
    let other = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port();
    let moved = ws
        .set_forward_local_port(&view.id, other)
        .await
        .expect("moved");
    assert_eq!(moved.local_port, other);
    assert_eq!(moved.address, format!("127.0.0.1:{other}"));
    wait_state(&ws, &view.id, "listening").await;
    echoes(&moved.address).await.expect("echo");
    assert!(echoes(&view.address).await.is_err(), "the old port is free");
    assert!(ws.set_forward_local_port(&view.id, 0).await.is_err());

    // A port another program holds on 127.0.0.1 (::1 is free): the forward
    // fails and names the holder, rather than listen on ::1 alone; back on
    // its port, it listens again.
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("hold a port");
    let held = holder.local_addr().expect("its address").port();
    let failed = ws
        .set_forward_local_port(&view.id, held)
        .await
        .expect("saved");
    let ForwardState::Failed { reason } = &failed.status.state else {
        panic!("not failed: {failed:?}");
    };
    assert!(
        reason.contains(&format!("port {held} is in use by"))
            && reason.contains(&format!("pid {}", std::process::id())),
        "names the holder: {reason}"
    );
    drop(holder);
    ws.set_forward_local_port(&view.id, other)
        .await
        .expect("back");
    wait_state(&ws, &view.id, "listening").await;
    echoes(&moved.address).await.expect("echo");

    // A second forward that is not restored at start.
    let redis = ws
        .start_forward(&target("team-a", "redis", 6379))
        .await
        .expect("redis");
    assert_eq!(redis.port_kind, PortKind::Redis);
    ws.set_forward_restore(&redis.id, false)
        .await
        .expect("restore off");
    drop(events);
    drop(ws);
    // Dropping the workspace closed its listeners.
    let deadline = Instant::now() + WITHIN;
    while echoes(&moved.address).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "the dropped workspace still forwards"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A new workspace on the same settings: postgres is back on its port,
    // redis is saved but stopped.
    let ws = workspace(dir.path()).await;
    let back = wait_state(&ws, &view.id, "listening").await;
    assert_eq!(back.local_port, other);
    echoes(&back.address).await.expect("echo");
    let redis = wait_state(&ws, &redis.id, "stopped").await;
    assert!(!redis.restore);

    // "Start all" starts redis too; remove forgets both.
    let all = ws.start_all_forwards().await;
    assert_eq!(all.len(), 2);
    let redis = wait_state(&ws, &redis.id, "listening").await;
    echoes(&redis.address).await.expect("echo");
    ws.remove_forward(&redis.id).await.expect("removed");
    ws.remove_forward(&view.id).await.expect("removed");
    assert!(ws.forwards().is_empty());
    assert!(ws.remove_forward(&view.id).await.is_err(), "already gone");
    assert_eq!(saved(dir.path())["forwards"], serde_json::json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_service_forward_heals_when_its_pod_is_replaced() {
    let cluster = porthole_testkit::cluster();
    let ns = unique_namespace("app-heal");
    let workload = Workload::create(
        cluster,
        &ns,
        "db",
        // Not 5432: the other test forwards that port at the same time.
        &[WorkloadPort::tcp_echo("postgres", 6543, 5432)],
    )
    .await
    .expect("workload");
    workload.add_pod("db-a").await.expect("db-a");
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = workspace(dir.path()).await;
    let view = ws
        .start_forward(&target(&ns, "db", 6543))
        .await
        .expect("started");
    let view = wait_state(&ws, &view.id, "listening").await;
    assert_eq!(view.status.pod.as_deref(), Some("db-a"));
    echoes(&view.address).await.expect("echo");

    workload.delete_pod("db-a").await.expect("delete db-a");
    let gone = Instant::now();
    workload.add_pod("db-b").await.expect("db-b");
    echoes(&view.address)
        .await
        .expect("echo after the pod changed");
    eprintln!(
        "healed: the next connection succeeded {:?} after the pod was deleted",
        gone.elapsed()
    );
    let healed = wait_state(&ws, &view.id, "listening").await;
    assert_eq!(healed.status.pod.as_deref(), Some("db-b"));
    assert!(healed.status.heals >= 1, "{healed:?}");
    drop(ws);
    workload.teardown().await.expect("teardown");
}
