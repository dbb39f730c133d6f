//! Forwards that work: the same "Forwarding from" and "Handling connection
//! for" lines from both, and a GET through each listener.

use crate::support::{BOTH, Forwarding, Tool, free_port, normalise, show, strings};

/// One comparison: the arguments, how many "Forwarding from" lines they
/// give, and the GETs to make (listener index, path, what the body holds).
pub struct Case<'a> {
    pub title: &'a str,
    pub args: Vec<String>,
    /// Added for portholectl only (e.g. `--heal=false`).
    pub porthole_extra: Vec<String>,
    pub listeners: usize,
    pub gets: Vec<(usize, &'a str, String)>,
    /// Local ports given on the command line (kept when normalising).
    pub fixed: Vec<u16>,
}

impl<'a> Case<'a> {
    pub fn new(title: &'a str, args: Vec<String>, listeners: usize) -> Case<'a> {
        Case {
            title,
            args,
            porthole_extra: Vec::new(),
            listeners,
            gets: vec![(0, "/healthz", "ok".into())],
            fixed: Vec::new(),
        }
    }
}

/// Runs the case with both tools, one after the other (fixed ports are
/// reused), stopping each with Ctrl-C; compares the transcripts.
pub fn compare(case: &Case<'_>) {
    let mut transcripts = Vec::new();
    for tool in BOTH {
        let mut args = case.args.clone();
        if tool == Tool::Porthole {
            args.extend(case.porthole_extra.iter().cloned());
        }
        let mut f = Forwarding::start(tool, &args, case.listeners);
        for (n, path, want) in &case.gets {
            let body = f.get(*n, path);
            assert!(
                body.contains(want.as_str()),
                "{} {args:?}: GET {path} via listener {n}: {body:?} lacks {want:?}",
                tool.name()
            );
        }
        let (status, lines, stderr) = f.stop_with(libc::SIGINT);
        assert!(
            status.success(),
            "{} {args:?} after Ctrl-C: {status}; stderr: {stderr}",
            tool.name()
        );
        transcripts.push(normalise(&lines, &case.fixed));
    }
    show(case.title, &transcripts[0], &transcripts[1]);
    assert_eq!(transcripts[0], transcripts[1], "{}", case.title);
}

#[test]
fn a_pod_port_on_a_random_local_port_both_loopback_addresses() {
    let mut case = Case::new(
        "pod, random local port",
        strings(&["-n", "team-a", "pod/echo-0", ":8080"]),
        2,
    );
    case.gets.push((1, "/healthz", "ok".into()));
    compare(&case);
}

#[test]
fn a_service_port_by_number_prints_the_pods_target_port() {
    compare(&Case::new(
        "svc/echo :80 (→ targetPort 8080)",
        strings(&["-n", "team-a", "svc/echo", ":80"]),
        2,
    ));
}

#[test]
fn a_service_port_by_name() {
    compare(&Case::new(
        "svc/echo :http (named service port)",
        strings(&["-n", "team-a", "svc/echo", ":http"]),
        2,
    ));
}

#[test]
fn two_fixed_local_ports_at_once() {
    let (a, b) = (free_port(), free_port());
    let mut case = Case::new(
        "svc/echo A:80 B:http (two fixed ports)",
        strings(&[
            "-n",
            "team-a",
            "svc/echo",
            &format!("{a}:80"),
            &format!("{b}:http"),
        ]),
        4,
    );
    case.gets.push((2, "/healthz", "ok".into()));
    case.fixed = vec![a, b];
    compare(&case);
}

#[test]
fn a_port_alone_listens_on_the_same_number() {
    // The one fixture whose Pod port equals its service port; 9200 must
    // be free on this machine.
    let mut case = Case::new(
        "svc/numeric-only 9200 (local = remote)",
        strings(&["-n", "default", "svc/numeric-only", "9200"]),
        2,
    );
    case.fixed = vec![9200];
    compare(&case);
}

#[test]
fn addresses_given_one_by_one() {
    let mut case = Case::new(
        "--address 127.0.0.1 --address ::1",
        strings(&[
            "-n",
            "team-a",
            "--address",
            "::1",
            "--address",
            "127.0.0.1",
            "pod/echo-0",
            ":8080",
        ]),
        2,
    );
    case.gets.push((1, "/healthz", "ok".into()));
    compare(&case);
}

#[test]
fn all_addresses() {
    compare(&Case::new(
        "--address 0.0.0.0",
        strings(&["--address", "0.0.0.0", "-n", "team-a", "svc/echo", ":80"]),
        1,
    ));
}

#[test]
fn the_viewer_forwards_where_rbac_lets_it() {
    compare(&Case::new(
        "viewer: svc/echo in team-a",
        strings(&[
            "--context",
            "porthole-viewer",
            "-n",
            "team-a",
            "svc/echo",
            ":80",
        ]),
        2,
    ));
}

#[test]
fn a_pinned_service_forward_is_kubectls() {
    let mut case = Case::new(
        "svc/echo :80 vs --heal=false",
        strings(&["-n", "team-a", "svc/echo", ":80"]),
        2,
    );
    case.porthole_extra = strings(&["--heal=false"]);
    compare(&case);
}
