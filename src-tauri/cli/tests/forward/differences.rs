//! Where `portholectl forward` differs from `kubectl port-forward` on
//! purpose, each shown with both: a service forward heals (kubectl's dies
//! with its Pod), a failed connection does not end the forward (kubectl's
//! ends), and a headless service is forwarded to the port its Pods serve.

use std::time::{Duration, Instant};

use crate::support::{Forwarding, Tool, http_get, run_to_end, strings};
use crate::workloads::{runtime, workload};

/// kubectl's forward ends when a connection fails or its stream breaks:
/// waits for that (a connection attempt makes it notice) and returns its
/// stderr.
fn kubectl_dies(mut f: Forwarding, listener: usize) -> String {
    let status = match f.wait_exit(Duration::from_secs(5)) {
        Some(status) => status,
        None => {
            let _ = http_get(&f.local(listener), "/healthz");
            f.wait_exit(Duration::from_secs(20))
                .expect("kubectl port-forward ends after a failed connection")
        }
    };
    let (status, _, stderr) = f.finish(status);
    assert_eq!(status.code(), Some(1), "kubectl: {stderr}");
    stderr
}

/// A service forward moves to another ready Pod when its Pod goes
/// (kubectl's dies), and while none is ready a new connection waits for
/// one. Prints the heal times: Pod gone → next successful connection.
#[test]
fn a_service_forward_heals_where_kubectls_dies() {
    let rt = runtime();
    let w = workload(&rt, "heal", None);
    let ns = w.namespace().to_owned();
    let a = rt.block_on(w.add_pod("a")).expect("add pod a");
    let args = strings(&["-n", &ns, "svc/heal", ":http"]);
    // Both start while a is the only Pod: both use a.
    let mut kubectl = Forwarding::start(Tool::Kubectl, &args, 2);
    let mut ours = Forwarding::start(Tool::Porthole, &args, 2);
    for f in [&mut kubectl, &mut ours] {
        assert_eq!(f.get(0, "/whoami").trim(), format!("{}:8080", a.ip));
    }
    // b is ready before a goes (and has an address of its own).
    let b = rt.block_on(w.add_pod("b")).expect("add pod b");
    rt.block_on(w.delete_pod("a")).expect("delete pod a");
    let gone = Instant::now();
    assert_eq!(ours.get(0, "/whoami").trim(), format!("{}:8080", b.ip));
    let moved = gone.elapsed();
    let theirs = kubectl_dies(kubectl, 0);

    // No ready Pod: a connection waits until one is.
    rt.block_on(w.delete_pod("b")).expect("delete pod b");
    let local = ours.local(0);
    let waiting = std::thread::spawn(move || {
        let result = http_get(&local, "/whoami");
        (result, Instant::now())
    });
    std::thread::sleep(Duration::from_millis(500));
    let c = rt.block_on(w.add_pod("c")).expect("add pod c");
    let ready = Instant::now();
    let (answer, answered) = waiting.join().expect("the waiting GET");
    assert_eq!(
        answer.expect("GET through the healing forward").trim(),
        format!("{}:8080", c.ip)
    );
    ours.next_line("a `Handling connection for` line", |l| {
        l.starts_with("Handling connection for ")
    });
    eprintln!("\n== svc/heal: pod a deleted while b is ready; then b deleted and c added");
    eprintln!(
        "   kubectl port-forward: {}",
        theirs.trim_end().replace('\n', " | ")
    );
    eprintln!(
        "   portholectl forward:  a gone → answered by b in {moved:?}; with no pod ready a connection waited and was answered by c {:?} after c was ready",
        answered.saturating_duration_since(ready)
    );
    eprintln!(
        "   portholectl stderr:   {}",
        ours.stderr_now().replace('\n', " | ")
    );
    assert!(theirs.contains("lost connection to pod"), "{theirs}");
    let (status, _, _) = ours.stop_with(libc::SIGTERM);
    assert!(status.success(), "portholectl after SIGTERM: {status}");
    rt.block_on(w.teardown()).expect("teardown");
}

#[test]
fn a_failed_connection_is_reported_and_the_forward_keeps_listening() {
    // Nothing listens on 9999 in the Pod.
    let args = strings(&["-n", "team-a", "pod/echo-0", ":9999", ":8080"]);
    let mut ours = Forwarding::start(Tool::Porthole, &args, 4);
    let refused = http_get(&ours.local(0), "/");
    assert!(
        refused.is_err(),
        "GET via the port nothing serves: {refused:?}"
    );
    ours.next_line("a `Handling connection for` line", |l| {
        l.starts_with("Handling connection for ")
    });
    assert_eq!(ours.get(2, "/healthz").trim(), "ok", "still listening");
    let said = ours.wait_stderr("the failure", |l| {
        l.starts_with("error: an error occurred forwarding ") && l.contains(" -> 9999: ")
    });
    let (status, _, _) = ours.stop_with(libc::SIGINT);
    assert!(status.success(), "{status}");

    let kubectl = Forwarding::start(Tool::Kubectl, &args, 4);
    let theirs = kubectl_dies(kubectl, 0);
    eprintln!("\n== a connection to a port nothing serves in the pod");
    eprintln!(
        "   kubectl port-forward: exits 1: {}",
        theirs.trim_end().replace('\n', " | ")
    );
    eprintln!("   portholectl forward:  keeps listening: {said}");
    assert!(theirs.contains("lost connection to pod"), "{theirs}");
}

#[test]
fn a_headless_service_is_forwarded_to_the_port_its_pods_serve() {
    // kubectl takes a headless service's port as the Pod's port (80 here,
    // where nothing listens); Porthole takes the target port, as the
    // endpoints do (8080).
    let args = strings(&["-n", "default", "svc/headless", ":80"]);
    let mut ours = Forwarding::start(Tool::Porthole, &args, 2);
    assert_eq!(ours.get(0, "/healthz").trim(), "ok");
    let ours_line = ours.lines[0].clone();
    drop(ours);
    let kubectl = Forwarding::start(Tool::Kubectl, &args, 2);
    let theirs_line = kubectl.lines[0].clone();
    let theirs = kubectl_dies(kubectl, 0);
    eprintln!("\n== svc/headless :80 (targetPort 8080)");
    eprintln!(
        "   kubectl port-forward: {theirs_line}; a GET ends it: {}",
        theirs.trim_end().replace('\n', " | ")
    );
    eprintln!("   portholectl forward:  {ours_line}; GET /healthz: ok");
    assert!(theirs_line.ends_with("-> 80"), "{theirs_line}");
    assert!(ours_line.ends_with("-> 8080"), "{ours_line}");
}

#[test]
fn an_unknown_type_is_named_differently() {
    let args = strings(&["-n", "team-a", "foo/bar", "80"]);
    let kubectl = run_to_end(Tool::Kubectl, &args);
    let ours = run_to_end(Tool::Porthole, &args);
    eprintln!("\n== foo/bar 80");
    eprintln!(
        "   kubectl port-forward (exit {}): {}",
        kubectl.code,
        kubectl.stderr.trim_end()
    );
    eprintln!(
        "   portholectl forward  (exit {}): {}",
        ours.code,
        ours.stderr.trim_end()
    );
    assert_eq!(ours.code, kubectl.code);
    assert_eq!(
        ours.stderr.trim_end(),
        "error: resource type \"foo\" cannot be forwarded to (use pod, svc, deploy, rs, sts or ds)"
    );
}
