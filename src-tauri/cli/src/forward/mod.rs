//! `portholectl forward TYPE/NAME [LOCAL_PORT:]REMOTE_PORT...`: a drop-in
//! for `kubectl port-forward` — the same arguments, flags, "Forwarding
//! from" and "Handling connection for" lines, errors and exit statuses —
//! over porthole-core's forwards, plus `--heal`: a forward to a service
//! follows its ready Pods instead of dying with the first one.
//!
//! - [`ports`]: `[LOCAL_PORT:]REMOTE_PORT`; [`addresses`]: `--address`.
//! - [`plan`]: each port resolved (and the wait for a Pod) before any
//!   listener opens, as kubectl resolves before it listens.
//! - [`session`]: the listeners, the lines they print, the end.
//! - [`messages`]: failures in kubectl's words.

mod addresses;
mod messages;
mod plan;
mod ports;
mod session;

use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use porthole_core::forward::{ForwardError, TargetKind};
use porthole_core::kubeconfig::KubeconfigSources;

use crate::duration::parse_go_duration;

/// Connecting to the apiserver and waiting for its answers.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

const ABOUT: &str = "Forward one or more local ports to a pod (like `kubectl port-forward`); a forward to a service heals (--heal)";

const LONG_ABOUT: &str = "\
Forward one or more local ports to a pod: a drop-in for `kubectl port-forward`, \
with the same arguments, flags, output lines and errors.

Use resource type/name such as deployment/mydeployment to select a pod. Resource \
type defaults to 'pod' if omitted. Types: pod (po), service (svc), deployment \
(deploy), replicaset (rs), statefulset (sts), daemonset (ds).

If there are multiple pods matching the criteria, a pod will be selected \
automatically. A forward to a pod, a deployment, a replica set, a stateful set or \
a daemon set ends when the selected pod terminates (\"error: lost connection to \
pod\"), as kubectl's does.

A forward to a service heals (--heal, on for services): it follows the service's \
ready endpoints, and when its pod goes away or turns unready, the listener stays \
and the next connection goes to another ready pod (connections still open to the \
old pod end). While no pod is ready, a new connection waits up to \
--pod-running-timeout for one. --heal=false pins the forward to one pod chosen at \
start, exactly like kubectl.

A connection that fails (nothing listens on the pod's port, the pod refused it) \
is reported on stderr and closed; unlike kubectl, the forward keeps listening.";

const EXAMPLES: &str = "\
Examples:
  # Listen on ports 5000 and 6000 locally, forwarding data to/from ports 5000 and 6000 in the pod
  portholectl forward pod/mypod 5000 6000

  # Listen on ports 5000 and 6000 locally, forwarding data to/from ports 5000 and 6000 in a pod selected by the deployment
  portholectl forward deployment/mydeployment 5000 6000

  # Listen on port 8443 locally, forwarding to the targetPort of the service's port named \"https\" in a pod selected by the service
  portholectl forward service/myservice 8443:https

  # The same, pinned to the pod chosen at start (kubectl's behaviour)
  portholectl forward --heal=false service/myservice 8443:https

  # Listen on port 8888 locally, forwarding to 5000 in the pod
  portholectl forward pod/mypod 8888:5000

  # Listen on port 8888 on all addresses, forwarding to 5000 in the pod
  portholectl forward --address 0.0.0.0 pod/mypod 8888:5000

  # Listen on port 8888 on localhost and selected IP, forwarding to 5000 in the pod
  portholectl forward --address localhost,10.19.21.23 pod/mypod 8888:5000

  # Listen on a random port locally, forwarding to 5000 in the pod
  portholectl forward pod/mypod :5000";

#[derive(Debug, Args)]
#[command(about = ABOUT, long_about = LONG_ABOUT, after_help = EXAMPLES)]
pub struct ForwardArgs {
    /// The pod, or what selects one: TYPE/NAME (pod, svc, deploy, rs, sts,
    /// ds; a bare NAME is a pod).
    #[arg(value_name = "TYPE/NAME")]
    pub target: Option<String>,
    /// [LOCAL_PORT:]REMOTE_PORT — `8080:80`, `80` (the same port locally),
    /// `:80` (a random local port); REMOTE_PORT may be a port name.
    #[arg(value_name = "[LOCAL_PORT:]REMOTE_PORT")]
    pub ports: Vec<String>,
    /// If present, the namespace scope for this request (default: the
    /// context's namespace, else `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// The name of the kubeconfig context to use (default: the current context).
    #[arg(long)]
    pub context: Option<String>,
    /// Addresses to listen on (comma separated). Only accepts IP addresses
    /// or localhost as a value. When localhost is supplied, it will try to
    /// bind on both 127.0.0.1 and ::1 and will fail if neither of these
    /// addresses are available to bind.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "localhost",
        value_name = "ADDRESSES"
    )]
    pub address: Vec<String>,
    /// The length of time (like 5s, 2m, or 3h, higher than zero) to wait
    /// until at least one pod is running; for a healing service forward,
    /// also how long a new connection waits for a ready pod.
    #[arg(
        long,
        default_value = "1m0s",
        value_parser = parse_go_duration,
        value_name = "DURATION"
    )]
    pub pod_running_timeout: Duration,
    /// Porthole: a service forward follows the service's ready pods, so it
    /// survives pod restarts (default: true for services). `--heal=false`
    /// pins it to one pod, exactly like kubectl. Pods and workloads are
    /// always pinned.
    #[arg(
        long,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true",
        value_name = "BOOL"
    )]
    pub heal: Option<bool>,
}

/// A usage error, as kubectl prints it (exit status 1).
fn usage(message: &str) -> String {
    format!("error: {message}\nSee 'portholectl forward -h' for help and examples")
}

/// `TYPE/NAME`, kubectl's way: no `TYPE/` means a pod.
fn parse_target(text: &str) -> Result<(TargetKind, String), String> {
    let (kind, name) = match text.split_once('/') {
        Some((kind, name)) => (
            TargetKind::parse(kind).ok_or_else(|| {
                format!("error: {}", ForwardError::UnsupportedKind(kind.to_owned()))
            })?,
            name,
        ),
        None => (TargetKind::Pod, text),
    };
    if name.is_empty() || name.contains('/') {
        return Err(
            "error: arguments in resource/name form must have a single resource and name".into(),
        );
    }
    Ok((kind, name.to_owned()))
}

pub(super) async fn run(sources: &KubeconfigSources, args: ForwardArgs) -> ExitCode {
    match forward(sources, args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs until Ctrl-C / SIGTERM (Ok) or a failure (the message to print).
async fn forward(sources: &KubeconfigSources, args: ForwardArgs) -> Result<(), String> {
    let (Some(target_text), false) = (&args.target, args.ports.is_empty()) else {
        return Err(usage(
            "TYPE/NAME and list of ports are required for port-forward",
        ));
    };
    if args.pod_running_timeout.is_zero() {
        return Err(usage("--pod-running-timeout must be higher than zero"));
    }
    let (kind, name) = parse_target(target_text)?;
    let addresses = addresses::parse(&args.address).map_err(|e| format!("error: {e}"))?;
    let ports = args
        .ports
        .iter()
        .map(|p| ports::parse(p))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("error: {e}"))?;
    let context = crate::context::connect(sources, args.context.as_deref(), REQUEST_TIMEOUT)
        .await
        .map_err(|e| format!("error: {e}"))?;
    let namespace = args
        .namespace
        .clone()
        .or(context.namespace.clone())
        .unwrap_or_else(|| "default".to_owned());
    let heal = match (args.heal, kind) {
        (Some(heal), TargetKind::Service) => heal,
        (Some(true), _) => {
            eprintln!(
                "warning: --heal applies to services: {}/{name} stays on one pod, as with kubectl",
                kind.short()
            );
            false
        }
        (_, kind) => kind == TargetKind::Service,
    };
    let request = plan::Request {
        client: &context.client,
        target: porthole_core::forward::Target {
            namespace,
            kind,
            name,
        },
        heal,
        pod_running_timeout: args.pod_running_timeout,
    };
    let plans = plan::plan_all(&request, ports).await?;
    let forwards = session::start(&request, &plans, &addresses).await?;
    session::serve(forwards).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser as _;

    fn parse(args: &[&str]) -> ForwardArgs {
        let mut argv = vec!["portholectl", "forward"];
        argv.extend_from_slice(args);
        match crate::Cli::try_parse_from(argv).expect("parses").command {
            crate::Command::Forward(args) => *args,
            other => panic!("not forward: {other:?}"),
        }
    }

    #[test]
    fn kubectl_arguments_parse_in_any_order() {
        let a = parse(&[
            "-n",
            "team-a",
            "svc/echo",
            "8080:80",
            ":http",
            "--address",
            "localhost,0.0.0.0",
            "--address=::1",
            "--context",
            "dev",
            "--pod-running-timeout=1m30s",
        ]);
        assert_eq!(a.target.as_deref(), Some("svc/echo"));
        assert_eq!(a.ports, ["8080:80", ":http"]);
        assert_eq!(a.namespace.as_deref(), Some("team-a"));
        assert_eq!(a.context.as_deref(), Some("dev"));
        assert_eq!(a.address, ["localhost", "0.0.0.0", "::1"]);
        assert_eq!(a.pod_running_timeout, Duration::from_secs(90));
        assert_eq!(a.heal, None);
    }

    #[test]
    fn defaults_are_kubectls() {
        let a = parse(&["pod/x", "80"]);
        assert_eq!(a.address, ["localhost"]);
        assert_eq!(a.pod_running_timeout, Duration::from_secs(60));
        assert_eq!(a.namespace, None);
    }

    #[test]
    fn heal_is_a_kubectl_style_boolean_flag() {
        assert_eq!(parse(&["svc/x", "80", "--heal"]).heal, Some(true));
        assert_eq!(parse(&["svc/x", "80", "--heal=false"]).heal, Some(false));
        assert_eq!(parse(&["--heal=true", "svc/x", "80"]).heal, Some(true));
        // `--heal false` would read `false` as a port: `=` is required.
        assert_eq!(parse(&["svc/x", "--heal", "80"]).ports, ["80"]);
    }

    #[test]
    fn targets_default_to_pods_and_take_kubectls_type_names() {
        assert_eq!(
            parse_target("echo-0"),
            Ok((TargetKind::Pod, "echo-0".to_owned()))
        );
        assert_eq!(
            parse_target("deployment.apps/web"),
            Ok((TargetKind::Deployment, "web".to_owned()))
        );
        assert_eq!(
            parse_target("svc/echo"),
            Ok((TargetKind::Service, "echo".to_owned()))
        );
        assert!(
            parse_target("cronjob/x")
                .expect_err("not forwardable")
                .contains("\"cronjob\"")
        );
        assert!(parse_target("pod/").is_err());
    }

    #[test]
    fn help_explains_healing_and_how_to_turn_it_off() {
        use clap::CommandFactory as _;
        let mut cli = crate::Cli::command();
        let help = cli
            .find_subcommand_mut("forward")
            .expect("forward")
            .render_long_help()
            .to_string();
        for needed in [
            "--heal",
            "--heal=false",
            "ready pod",
            "kubectl port-forward",
        ] {
            assert!(help.contains(needed), "{needed:?} missing from:\n{help}");
        }
    }

    #[test]
    fn missing_ports_are_kubectls_usage_error() {
        assert_eq!(
            usage("TYPE/NAME and list of ports are required for port-forward"),
            "error: TYPE/NAME and list of ports are required for port-forward\nSee 'portholectl forward -h' for help and examples"
        );
    }
}
