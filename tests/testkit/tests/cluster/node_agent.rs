//! The node agent (porthole-node-agent, the test cluster's stand-in for the
//! kubelet) proven with kubectl through the real apiserver: `port-forward`,
//! `exec` and `logs`, each with kubectl's default (WebSocket) and with its
//! SPDY fallback.

use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use porthole_testkit::node_agent::append_log_line;

use crate::support::{PortForward, Streaming, TRANSPORTS, cluster, get, kubectl, run, unique};

fn kubectl_with(env: &[(&str, &str)], args: &[&str]) -> Command {
    let mut cmd = kubectl("admin", args);
    cmd.envs(env.iter().copied());
    cmd
}

/// `kubectl port-forward TARGET :REMOTE`, then an HTTP GET through the
/// local port it printed.
fn forward_and_get(env: &[(&str, &str)], namespace: &str, target: &str, remote: &str) {
    let pf = PortForward::start(kubectl_with(env, &[]), namespace, target, remote);
    let resp = get(&format!("http://{}/healthz", pf.local), &[]);
    assert_eq!(
        (resp.status, resp.body.trim()),
        (200, "ok"),
        "GET /healthz through `kubectl port-forward -n {namespace} {target} :{remote}` ({env:?})"
    );
}

#[test]
fn port_forward_to_a_pod_and_a_service_reaches_the_backend_over_websocket_and_spdy() {
    for (transport, env) in TRANSPORTS {
        eprintln!("port-forward over {transport}");
        forward_and_get(env, "team-a", "pod/echo-0", "8080");
        forward_and_get(env, "team-a", "svc/echo", "80");
    }
}

#[test]
fn exec_runs_the_command_in_the_pod_network_over_websocket_and_spdy() {
    let c = cluster();
    let spa_ip = &c.state.backend("spa").expect("the spa backend").ip;
    for (transport, env) in TRANSPORTS {
        let out = run(kubectl_with(
            env,
            &[
                "exec",
                "-n",
                "team-a",
                "echo-0",
                "--",
                "sh",
                "-c",
                "echo $((6*7))",
            ],
        ));
        assert!(
            out.status.success(),
            "kubectl exec over {transport} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout).trim(),
            "42",
            "over {transport}"
        );

        // The command's exit status comes back as kubectl's.
        let out = run(kubectl_with(
            env,
            &["exec", "-n", "team-a", "echo-0", "--", "sh", "-c", "exit 3"],
        ));
        assert_eq!(out.status.code(), Some(3), "exit status over {transport}");

        // "In the pod" means in the network: another pod is reachable.
        let url = format!("http://{spa_ip}:8080/healthz");
        let out = run(kubectl_with(
            env,
            &[
                "exec", "-n", "team-a", "echo-0", "--", "curl", "-sS", "-m", "5", &url,
            ],
        ));
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).trim() == "ok",
            "curl {url} from the pod over {transport} ({}): stdout {:?} stderr {:?} \
             (the exec runs host binaries in the network namespace: curl must be installed)",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn logs_follow_receives_a_line_written_after_it_started() {
    let log = cluster().state.pod_log("staging", "echo-0", "echo");
    for (transport, env) in TRANSPORTS {
        let mut follow = Streaming::start(kubectl_with(
            env,
            &["logs", "-f", "-n", "staging", "echo-0"],
        ));
        // The container's first line proves the stream is open.
        follow.wait_for("start line", Duration::from_secs(30), |l| {
            l.contains("porthole test container staging/echo-0/echo started")
        });
        let marker = unique("written-after-follow-started");
        append_log_line(&log, &marker).expect("appending to the container log");
        follow.wait_for(
            &format!("{marker} ({transport})"),
            Duration::from_secs(10),
            |l| l == marker,
        );
    }
}

#[test]
fn logs_honour_tail_timestamps_since_and_previous() {
    let log = cluster().state.pod_log("default", "echo-0", "echo");
    // A line from long ago, then a fresh one.
    std::fs::OpenOptions::new()
        .append(true)
        .open(&log)
        .and_then(|mut f| {
            std::io::Write::write_all(
                &mut f,
                b"2020-01-01T00:00:00.000000000Z stdout F old-line\n",
            )
        })
        .expect("appending an old line");
    let fresh = unique("fresh-line");
    append_log_line(&log, &fresh).expect("appending a line");

    let ok = |args: &[&str]| {
        let mut all = vec!["logs", "-n", "default", "echo-0"];
        all.extend_from_slice(args);
        let out = run(kubectl("admin", &all));
        assert!(
            out.status.success(),
            "kubectl {all:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };

    let all = ok(&[]);
    assert!(all.contains("old-line") && all.contains(&fresh), "{all}");

    let tail = ok(&["--tail=1", "--timestamps"]);
    let lines: Vec<&str> = tail.lines().collect();
    assert_eq!(lines.len(), 1, "--tail=1: {tail}");
    let (ts, text) = lines[0].split_once(' ').expect("timestamp then text");
    assert!(
        ts.contains('T') && ts.ends_with('Z'),
        "--timestamps: {tail}"
    );
    assert_eq!(text, fresh);

    let since = ok(&["--since=1h"]);
    assert!(
        since.contains(&fresh) && !since.contains("old-line"),
        "--since=1h: {since}"
    );

    let out = run(kubectl(
        "admin",
        &["logs", "-n", "default", "echo-0", "--previous"],
    ));
    assert!(
        !out.status.success(),
        "--previous must fail: these containers never restart"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("previous terminated container"),
        "--previous: {err}"
    );
}

#[test]
fn attach_streams_what_the_container_writes_over_websocket_and_spdy() {
    let log = cluster().state.pod_log("team-a", "echo-0", "echo");
    for (transport, env) in TRANSPORTS {
        let mut attached =
            Streaming::start(kubectl_with(env, &["attach", "-n", "team-a", "echo-0"]));
        // Attach shows only what is written after it connected: write until
        // a line arrives.
        let marker = unique("written-while-attached");
        let (tx, rx) = mpsc::channel::<()>();
        let writer = {
            let log = log.clone();
            let marker = marker.clone();
            std::thread::spawn(move || {
                while rx.recv_timeout(Duration::from_millis(200)).is_err() {
                    append_log_line(&log, &marker).expect("appending to the container log");
                }
            })
        };
        attached.wait_for(
            &format!("{marker} ({transport})"),
            Duration::from_secs(20),
            |l| l == marker,
        );
        let _ = tx.send(());
        writer.join().expect("writer thread");
    }
}
