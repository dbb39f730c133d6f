//! Forwards that cannot start: the same message on stderr and the same
//! exit status from both, nothing on stdout.

use crate::support::{Outcome, Tool, hold_port, run_to_end, strings};

/// How the two stderr texts are compared.
pub enum Same {
    /// Every line.
    Text,
    /// The first line up to `prefix` (kubectl's Go error details differ
    /// from Porthole's), and the last line exactly.
    PrefixAndLastLine(String),
    /// Only the beginning.
    Prefix(String),
}

/// kubectl's usage hint names kubectl's command.
fn portholed(kubectl_stderr: &str) -> String {
    kubectl_stderr.replace("'kubectl port-forward -h'", "'portholectl forward -h'")
}

/// Runs both (portholectl with `porthole_extra` added), prints and
/// compares their failures: (kubectl's, portholectl's).
pub fn both(
    title: &str,
    args: &[String],
    porthole_extra: &[&str],
    same: &Same,
) -> (Outcome, Outcome) {
    let kubectl = run_to_end(Tool::Kubectl, args);
    let mut ours_args = args.to_vec();
    ours_args.extend(porthole_extra.iter().map(|a| (*a).to_owned()));
    let ours = run_to_end(Tool::Porthole, &ours_args);
    eprintln!("\n== {title}: {args:?}");
    eprintln!(
        "   kubectl     (exit {}): {}",
        kubectl.code,
        kubectl.stderr.trim_end()
    );
    eprintln!(
        "   portholectl (exit {}): {}",
        ours.code,
        ours.stderr.trim_end()
    );
    assert_ne!(
        kubectl.code, 0,
        "{title}: kubectl succeeded: {}",
        kubectl.stdout
    );
    assert_eq!(ours.code, kubectl.code, "{title}: exit status");
    assert_eq!(ours.stdout, "", "{title}: portholectl's stdout");
    let theirs = portholed(kubectl.stderr.trim_end());
    let ours_text = ours.stderr.trim_end();
    match same {
        Same::Text => assert_eq!(ours_text, theirs, "{title}: stderr"),
        Same::PrefixAndLastLine(prefix) => {
            assert!(
                theirs.starts_with(prefix.as_str()),
                "{title}: kubectl said {theirs:?}"
            );
            assert!(
                ours_text.starts_with(prefix.as_str()),
                "{title}: {ours_text:?}"
            );
            assert_eq!(
                ours_text.lines().last(),
                theirs.lines().last(),
                "{title}: last line"
            );
        }
        Same::Prefix(prefix) => {
            assert!(
                theirs.starts_with(prefix.as_str()),
                "{title}: kubectl said {theirs:?}"
            );
            assert!(
                ours_text.starts_with(prefix.as_str()),
                "{title}: {ours_text:?}"
            );
        }
    }
    (kubectl, ours)
}

fn same_text(title: &str, args: &[&str]) {
    both(title, &strings(args), &[], &Same::Text);
}

#[test]
fn usage_errors_read_like_kubectls() {
    same_text("no ports", &["-n", "team-a", "pod/echo-0"]);
    same_text(
        "zero --pod-running-timeout",
        &[
            "-n",
            "team-a",
            "svc/echo",
            ":80",
            "--pod-running-timeout=0s",
        ],
    );
}

#[test]
fn missing_objects_are_the_apiservers_not_found() {
    same_text("pod not found", &["-n", "team-a", "pod/nope", "8080"]);
    same_text("bare name: a pod", &["-n", "team-a", "nope", "8080"]);
    same_text("service not found", &["-n", "team-a", "svc/nope", "80"]);
    same_text(
        "deployment not found",
        &["-n", "team-a", "deploy/nope", "80"],
    );
    same_text("statefulset not found", &["-n", "team-a", "sts/nope", "80"]);
}

#[test]
fn ports_the_target_does_not_have() {
    same_text(
        "service port number missing",
        &["-n", "team-a", "svc/echo", "81"],
    );
    same_text(
        "service port name missing",
        &["-n", "team-a", "svc/echo", "foo"],
    );
    same_text(
        "container port name missing",
        &["-n", "team-a", "pod/echo-0", "foo"],
    );
}

#[test]
fn ports_that_do_not_parse() {
    same_text(
        "local port not a number",
        &["-n", "team-a", "pod/echo-0", "abc:80"],
    );
    same_text("remote port 0", &["-n", "team-a", "pod/echo-0", "0"]);
    same_text(
        "port out of range",
        &["-n", "team-a", "pod/echo-0", "70000"],
    );
    same_text(
        "remote out of range",
        &["-n", "team-a", "pod/echo-0", "8080:70000"],
    );
    same_text(
        "remote port empty",
        &["-n", "team-a", "pod/echo-0", "8080:"],
    );
}

#[test]
fn addresses_that_are_not_ips_or_not_here() {
    same_text(
        "--address not an IP",
        &["-n", "team-a", "--address", "nope", "pod/echo-0", ":8080"],
    );
    both(
        "--address not on this machine",
        &strings(&[
            "-n",
            "team-a",
            "--address",
            "1.2.3.4",
            "pod/echo-0",
            ":8080",
        ]),
        &[],
        &Same::PrefixAndLastLine("Unable to listen on port 0:".into()),
    );
}

#[test]
fn a_local_port_in_use_names_its_holder() {
    let (port, _held) = hold_port();
    let (_, ours) = both(
        "local port in use",
        &strings(&["-n", "team-a", "pod/echo-0", &format!("{port}:8080")]),
        &[],
        &Same::PrefixAndLastLine(format!("Unable to listen on port {port}:")),
    );
    // Porthole names the process holding it: this test.
    assert!(
        ours.stderr.contains(&format!("port {port} is in use by"))
            && ours
                .stderr
                .contains(&format!("(pid {})", std::process::id())),
        "{}",
        ours.stderr
    );
}

#[test]
fn rbac_refusals_are_the_apiservers_forbidden() {
    same_text(
        "viewer may not read team-b",
        &[
            "--context",
            "porthole-viewer",
            "-n",
            "team-b",
            "svc/backend",
            ":8080",
        ],
    );
    // monitoring: readable, but no pods/portforward (kubectl learns it
    // from its first dial, Porthole from an access review: no listener).
    same_text(
        "viewer may not forward in monitoring (pod)",
        &[
            "--context",
            "porthole-viewer",
            "-n",
            "monitoring",
            "pod/prometheus-0",
            ":9090",
        ],
    );
    both(
        "viewer may not forward in monitoring (pinned service)",
        &strings(&[
            "--context",
            "porthole-viewer",
            "-n",
            "monitoring",
            "svc/prometheus",
            ":9090",
        ]),
        &["--heal=false"],
        &Same::Text,
    );
    // A healing forward has no one Pod yet: the refusal names none.
    let (_, ours) = both(
        "viewer may not forward in monitoring (healing service)",
        &strings(&[
            "--context",
            "porthole-viewer",
            "-n",
            "monitoring",
            "svc/prometheus",
            ":9090",
        ]),
        &[],
        &Same::Prefix("error: error upgrading connection: pods ".into()),
    );
    assert!(
        ours.stderr
            .contains("User \"viewer\" cannot create resource \"pods/portforward\""),
        "{}",
        ours.stderr
    );
}

#[test]
fn a_pinned_service_without_pods_times_out_like_kubectl() {
    both(
        "no pod within --pod-running-timeout (pinned)",
        &strings(&[
            "-n",
            "default",
            "svc/no-endpoints",
            "80",
            "--pod-running-timeout=2s",
        ]),
        &["--heal=false"],
        &Same::Text,
    );
    both(
        "service without a selector (pinned)",
        &strings(&["-n", "default", "svc/external-name", "443"]),
        &["--heal=false"],
        &Same::Text,
    );
}
