//! Every port argument resolved before any listener opens, as kubectl
//! resolves before it listens: the object and its ports exist, a pinned
//! forward has a running Pod (waiting up to `--pod-running-timeout` for
//! one to appear), the local port of `NAME` alone is known, and the user
//! may forward there at all (RBAC).

use std::time::{Duration, Instant};

use porthole_core::cluster::ClusterClient;
use porthole_core::forward::access::{self, ForwardAccess};
use porthole_core::forward::{ForwardError, Route, Target, TargetKind, target};

use super::messages;
use super::ports::{LocalPort, PortArg};

/// Between two looks for a Pod while none matches.
const POD_RETRY: Duration = Duration::from_secs(1);

/// What every port of one command shares.
pub struct Request<'a> {
    pub client: &'a ClusterClient,
    pub target: Target,
    pub heal: bool,
    pub pod_running_timeout: Duration,
}

/// One port, ready to listen.
#[derive(Debug, Clone)]
pub struct Planned {
    pub arg: PortArg,
    /// 0: a random port.
    pub local: u16,
    /// What "-> X" shows before the forward runs: the Pod's port as
    /// kubectl prints it (for a healing service: the target port when the
    /// service gives a number).
    pub remote_shown: Option<u16>,
    /// The Pod a pinned forward uses.
    pub pinned_pod: Option<String>,
    /// The route resolved here, which the forward then serves.
    pub route: Route,
}

impl Planned {
    /// The remote as kubectl's messages show it, the argument's own text
    /// when no number is known yet.
    pub fn remote_text(&self) -> String {
        self.remote_shown
            .map_or_else(|| self.arg.remote.to_string(), |n| n.to_string())
    }
}

/// Plans every port; the first failure ends the command, in kubectl's words.
pub async fn plan_all(request: &Request<'_>, ports: Vec<PortArg>) -> Result<Vec<Planned>, String> {
    let deadline = Instant::now() + request.pod_running_timeout;
    let mut plans = Vec::with_capacity(ports.len());
    for arg in ports {
        let plan = match plan_waiting(request, &arg, deadline).await {
            Ok(plan) => plan,
            Err(Waited::TimedOut) => {
                return Err("error: timed out waiting for the condition".into());
            }
            Err(Waited::Failed(e)) => return Err(messages::start_failure(&e, &arg.remote)),
        };
        plans.push(plan);
    }
    check_access(request, &plans).await?;
    Ok(plans)
}

enum Waited {
    Failed(ForwardError),
    /// No Pod appeared within `--pod-running-timeout`.
    TimedOut,
}

/// [`plan`], again while no Pod matches at all (kubectl waits for one).
async fn plan_waiting(
    request: &Request<'_>,
    arg: &PortArg,
    deadline: Instant,
) -> Result<Planned, Waited> {
    let mut said = false;
    loop {
        match plan(request, arg).await {
            Err(ForwardError::NoRunningPod { what }) => {
                let now = Instant::now();
                if now >= deadline {
                    return Err(Waited::TimedOut);
                }
                if !said {
                    tracing::info!(%what, "no pod yet: waiting for one");
                    said = true;
                }
                tokio::time::sleep(POD_RETRY.min(deadline - now)).await;
            }
            other => return other.map_err(Waited::Failed),
        }
    }
}

async fn plan(request: &Request<'_>, arg: &PortArg) -> Result<Planned, ForwardError> {
    let route = target::resolve(request.client, &request.target, &arg.remote, request.heal).await?;
    let (remote_shown, pinned_pod) = match &route {
        Route::Pod { pod, port } => (Some(*port), Some(pod.clone())),
        Route::Service { target_hint, .. } => (*target_hint, None),
    };
    let local = match arg.local {
        LocalPort::Fixed(n) => n,
        LocalPort::Random => 0,
        LocalPort::NumberOfName => match (&route, request.target.kind) {
            (Route::Service { service_port, .. }, _) => *service_port,
            // A pinned service forward: `http` alone listens on the service
            // port's number (kubectl), which the pinned route no longer holds.
            (Route::Pod { .. }, TargetKind::Service) => {
                match target::resolve(request.client, &request.target, &arg.remote, true).await? {
                    Route::Service { service_port, .. } => service_port,
                    Route::Pod { port, .. } => port,
                }
            }
            (Route::Pod { port, .. }, _) => *port,
        },
    };
    Ok(Planned {
        arg: arg.clone(),
        local,
        remote_shown,
        pinned_pod,
        route,
    })
}

/// kubectl learns from its first dial that RBAC refuses `pods/portforward`
/// and stops; an access review tells the same before listening. A review
/// that cannot be made is no reason to stop: the forward would say so on
/// its first connection.
async fn check_access(request: &Request<'_>, plans: &[Planned]) -> Result<(), String> {
    let pod = plans.first().and_then(|p| p.pinned_pod.as_deref());
    match access::check(request.client, &request.target.namespace, pod).await {
        Ok(ForwardAccess::Allowed) => Ok(()),
        Ok(ForwardAccess::Denied(denied)) => {
            Err(format!("error: error upgrading connection: {denied}"))
        }
        Err(e) => {
            tracing::debug!(error = %e, "the port-forward access review failed");
            Ok(())
        }
    }
}
