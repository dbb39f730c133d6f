//! Forwards to test workloads (`porthole_testkit::workload`: Pods the test
//! adds and deletes behind a Service in a namespace of its own): named
//! container ports, a service whose target port is a name, deployments and
//! stateful sets, a Pod that is not running, and a Pod that goes away.

use std::io::Write as _;
use std::process::Stdio;
use std::time::Duration;

use porthole_testkit::users::ADMIN;
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};
use serde_json::json;

use crate::failures::{Same, both};
use crate::parity::{Case, compare};
use crate::support::{BOTH, Forwarding, Tool, cluster, strings};

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A workload `service` in a namespace of its own, with one HTTP echo
/// port named `http` (80 → 8080) unless `port` says otherwise.
pub fn workload(
    rt: &tokio::runtime::Runtime,
    service: &str,
    port: Option<WorkloadPort>,
) -> Workload {
    let port = port.unwrap_or_else(|| WorkloadPort::http_echo("http", 80, 8080));
    rt.block_on(Workload::create(
        cluster(),
        &unique_namespace("fwd"),
        service,
        &[port],
    ))
    .unwrap_or_else(|e| panic!("creating the workload {service}: {e}"))
}

/// `kubectl apply` of one object as the admin.
fn apply(object: &serde_json::Value) {
    let mut cmd = cluster().kubectl(ADMIN);
    cmd.args(["apply", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("kubectl apply");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(object.to_string().as_bytes())
        .expect("write the object");
    let out = child.wait_with_output().expect("kubectl apply ends");
    assert!(
        out.status.success(),
        "kubectl apply {object}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn delete(namespace: &str, what: &str) {
    let out = cluster()
        .kubectl(ADMIN)
        .args(["delete", "-n", namespace, what, "--wait=false"])
        .output()
        .expect("kubectl delete");
    assert!(
        out.status.success(),
        "kubectl delete {what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A workload object selecting the Pods labelled `app: <app>` (no
/// controller runs in the test cluster: it only selects).
fn selecting(kind: &str, namespace: &str, app: &str) -> serde_json::Value {
    let mut object = json!({
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": { "name": app, "namespace": namespace },
        "spec": {
            "replicas": 1,
            "selector": { "matchLabels": { "app": app } },
            "template": {
                "metadata": { "labels": { "app": app } },
                "spec": { "containers": [{ "name": app, "image": "porthole.test/none" }] }
            }
        }
    });
    if kind == "StatefulSet" {
        object["spec"]["serviceName"] = json!(app);
    }
    object
}

#[test]
fn named_ports_deployments_and_stateful_sets_resolve_like_kubectl() {
    let rt = runtime();
    // The service names its target port: kubectl finds the number in the
    // Pod's container ports, Porthole (healing) in the endpoints.
    let w = workload(
        &rt,
        "web",
        Some(WorkloadPort::http_echo("http", 80, 8080).target_by_name()),
    );
    let ns = w.namespace().to_owned();
    let pod = rt.block_on(w.add_pod("web-a")).expect("add pod web-a");
    let whoami = format!("{}:8080", pod.ip);
    apply(&selecting("Deployment", &ns, "web"));
    apply(&selecting("StatefulSet", &ns, "web"));

    let who = |title, target: &str, port: &str| {
        let mut case = Case::new(title, strings(&["-n", &ns, target, port]), 2);
        case.gets = vec![(0, "/whoami", whoami.clone())];
        compare(&case);
    };
    who("pod, named container port", "pod/web-a", ":http");
    who("svc with a named targetPort", "svc/web", ":80");
    who("svc port name → named targetPort", "svc/web", ":http");
    who("deployment, named container port", "deploy/web", ":http");
    who(
        "deployment.apps/NAME, port number",
        "deployment.apps/web",
        ":8080",
    );
    who("statefulset", "sts/web", ":http");

    delete(&ns, "deployment/web");
    delete(&ns, "statefulset/web");
    rt.block_on(w.teardown()).expect("teardown");
}

#[test]
fn a_pod_that_is_not_running_is_refused_like_kubectl() {
    let rt = runtime();
    let w = workload(&rt, "idle", None);
    let ns = w.namespace().to_owned();
    // No kubelet reports on it: it stays Pending.
    apply(&json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": "pending", "namespace": ns, "labels": { "app": "waiting" } },
        "spec": { "containers": [{ "name": "c", "image": "porthole.test/none" }] }
    }));
    apply(&selecting("Deployment", &ns, "waiting"));
    for (title, target) in [
        ("not running: pod", "pod/pending"),
        ("not running: the deployment's only pod", "deploy/waiting"),
    ] {
        let args = strings(&["-n", &ns, target, "8080"]);
        let (kubectl, _) = both(title, &args, &[], &Same::Text);
        assert_eq!(
            kubectl.stderr.trim_end(),
            "error: unable to forward port because pod is not running. Current status=Pending"
        );
    }
    delete(&ns, "deployment/waiting");
    delete(&ns, "pod/pending");
    rt.block_on(w.teardown()).expect("teardown");
}

/// Both tools forward to one Pod, which is then deleted: each ends with
/// "error: lost connection to pod" and exit status 1. kubectl notices when
/// its stream breaks (the next connection), Porthole when the Pod goes.
#[test]
fn a_pinned_forward_ends_when_its_pod_goes() {
    let rt = runtime();
    let w = workload(&rt, "lost", None);
    let ns = w.namespace().to_owned();
    let pod = rt.block_on(w.add_pod("a")).expect("add pod a");
    let whoami = format!("{}:8080", pod.ip);
    let pod_args = strings(&["-n", &ns, "pod/a", ":http"]);
    let mut pinned_svc = strings(&["-n", &ns, "svc/lost", ":http"]);
    let mut forwards: Vec<(String, Forwarding)> = BOTH
        .into_iter()
        .map(|tool| {
            (
                format!("{} pod/a", tool.name()),
                Forwarding::start(tool, &pod_args, 2),
            )
        })
        .collect();
    forwards.push((
        "kubectl port-forward svc/lost".into(),
        Forwarding::start(Tool::Kubectl, &pinned_svc, 2),
    ));
    pinned_svc.push("--heal=false".into());
    forwards.push((
        "portholectl forward --heal=false svc/lost".into(),
        Forwarding::start(Tool::Porthole, &pinned_svc, 2),
    ));
    for (name, f) in &mut forwards {
        assert_eq!(f.get(0, "/whoami").trim(), whoami, "{name}");
    }

    rt.block_on(w.delete_pod("a")).expect("delete pod a");
    eprintln!("\n== the forwarded pod is deleted");
    for (name, mut f) in forwards {
        let status = match f.wait_exit(Duration::from_secs(10)) {
            Some(status) => status,
            None => {
                // Not noticed yet: a connection finds the stream broken.
                let _ = crate::support::http_get(&f.local(0), "/whoami");
                f.wait_exit(Duration::from_secs(20))
                    .unwrap_or_else(|| panic!("{name} still runs after its pod went"))
            }
        };
        let (status, _, stderr) = f.finish(status);
        eprintln!(
            "   {name:<45} exit {:?}: {}",
            status.code(),
            stderr.trim_end()
        );
        assert_eq!(status.code(), Some(1), "{name}: {stderr}");
        let last = stderr.lines().last().unwrap_or_default();
        assert!(
            last.starts_with("error: lost connection to pod"),
            "{name}: {stderr}"
        );
    }
    rt.block_on(w.teardown()).expect("teardown");
}
