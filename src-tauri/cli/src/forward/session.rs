//! The forwards of one command: started port by port with kubectl's
//! "Forwarding from" lines, kubectl's rule for which listeners must bind,
//! "Handling connection for" per connection, failures on stderr, and the
//! end — Ctrl-C or SIGTERM (exit 0), or a forward lost with its Pod
//! ("error: lost connection to pod …", exit 1).

use std::io::Write as _;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch};

use porthole_core::forward::{
    ConnectionEvent, Forward, ForwardError, ForwardOptions, ForwardRequest, ForwardState,
    ForwardStatus, Route,
};

use super::addresses::ListenAddress;
use super::messages;
use super::plan::{Planned, Request};

/// How long a service forward may take to learn its Pod's port (a named
/// target port) for its "Forwarding from" line.
const PORT_LEARN_WAIT: Duration = Duration::from_secs(5);

/// A forward that listens, and what its lines show.
pub struct Running {
    forward: Arc<Forward>,
    /// Subscribed before the first "Forwarding from" line, so no
    /// connection goes unreported.
    connections: broadcast::Receiver<ConnectionEvent>,
    changes: watch::Receiver<ForwardStatus>,
    local: u16,
    remote: String,
    target: String,
}

/// One line on stdout, flushed; a closed stdout is not a reason to stop.
fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

/// Starts a forward per planned port. A port that cannot listen is
/// reported and skipped (kubectl carries on with the others); when none
/// listens, the message kubectl ends with.
pub async fn start(
    request: &Request<'_>,
    plans: &[Planned],
    addresses: &[ListenAddress],
) -> Result<Vec<Running>, String> {
    let mut running = Vec::new();
    let mut failed = Vec::new();
    for plan in plans {
        let forward_request = ForwardRequest {
            target: request.target.clone(),
            remote: plan.arg.remote.clone(),
            addresses: addresses.iter().map(|a| a.ip).collect(),
            local_port: plan.local,
            options: ForwardOptions {
                heal: request.heal,
                ready_wait: request.pod_running_timeout,
                ..ForwardOptions::default()
            },
        };
        let forward =
            match Forward::start_on(request.client.clone(), forward_request, plan.route.clone())
                .await
            {
                Ok(forward) => forward,
                Err(ForwardError::Listen { reason, .. }) => {
                    eprintln!("Unable to listen on port {}: {reason}", plan.local);
                    failed.push(format!("{{{} {}}}", plan.local, plan.remote_text()));
                    continue;
                }
                Err(e) => return Err(messages::start_failure(&e, &plan.arg.remote)),
            };
        let bound: Vec<IpAddr> = forward.listening().iter().map(|a| a.ip()).collect();
        if let Some(missing) = must_bind_failures(addresses, &bound) {
            forward.stop();
            let why = if forward.bind_warnings().is_empty() {
                missing
            } else {
                forward.bind_warnings().join("; ")
            };
            eprintln!("Unable to listen on port {}: {why}", plan.local);
            failed.push(format!("{{{} {}}}", plan.local, plan.remote_text()));
            continue;
        }
        for warning in forward.bind_warnings() {
            // kubectl says nothing when one loopback address of `localhost`
            // cannot bind (no IPv6, say); the log keeps it.
            tracing::info!(%warning, "a localhost address did not bind");
        }
        let connections = forward.connections();
        let changes = forward.subscribe();
        let local = forward.local_port();
        let remote = shown_remote(&forward, plan).await;
        for address in addresses.iter().filter(|a| bound.contains(&a.ip)) {
            say(&format!(
                "Forwarding from {} -> {remote}",
                address.with_port(local)
            ));
        }
        running.push(Running {
            forward: Arc::new(forward),
            connections,
            changes,
            local,
            remote,
            target: request.target.to_string(),
        });
    }
    if running.is_empty() {
        return Err(format!(
            "error: unable to listen on any of the requested ports: [{}]",
            failed.join(" ")
        ));
    }
    Ok(running)
}

/// kubectl's rule: every address named on its own must bind, and of
/// `localhost`'s two at least one. `None` when the rule holds.
fn must_bind_failures(addresses: &[ListenAddress], bound: &[IpAddr]) -> Option<String> {
    let missing: Vec<&str> = addresses
        .iter()
        .filter(|a| !a.from_localhost && !bound.contains(&a.ip))
        .map(|a| a.text.as_str())
        .collect();
    let localhost: Vec<&ListenAddress> = addresses.iter().filter(|a| a.from_localhost).collect();
    let localhost_failed =
        !localhost.is_empty() && !localhost.iter().any(|a| bound.contains(&a.ip));
    if missing.is_empty() && !localhost_failed {
        return None;
    }
    let mut all = missing;
    if localhost_failed {
        all.push("localhost");
    }
    Some(format!("could not listen on {}", all.join(", ")))
}

/// The Pod port kubectl's line shows: known from the route, or (a service
/// whose target port is a name) from the endpoints once they arrive.
async fn shown_remote(forward: &Forward, plan: &Planned) -> String {
    match forward.route() {
        Route::Pod { port, .. } => return port.to_string(),
        Route::Service {
            target_hint: Some(port),
            ..
        } => return port.to_string(),
        Route::Service { .. } => {}
    }
    let mut status = forward.subscribe();
    let learned = tokio::time::timeout(
        PORT_LEARN_WAIT,
        status.wait_for(|s| s.pod_port.is_some() || s.state != ForwardState::Starting),
    )
    .await;
    match learned {
        Ok(Ok(s)) if s.pod_port.is_some() => s.pod_port.map_or_else(String::new, |p| p.to_string()),
        _ => plan.remote_text(),
    }
}

/// Serves until Ctrl-C / SIGTERM (Ok) or until a forward fails for good.
pub async fn serve(running: Vec<Running>) -> Result<(), String> {
    let (failed_tx, mut failed_rx) = mpsc::channel::<String>(running.len().max(1));
    let mut tasks = Vec::new();
    let mut forwards = Vec::new();
    for r in running {
        tasks.push(tokio::spawn(print_connections(r.connections)));
        tasks.push(tokio::spawn(report_changes(
            r.changes, r.local, r.remote, r.target,
        )));
        forwards.push(r.forward.clone());
        let forward = r.forward;
        let failed = failed_tx.clone();
        tasks.push(tokio::spawn(async move {
            if let Some(reason) = forward.finished().await {
                let _ = failed.send(reason).await;
            }
        }));
    }
    drop(failed_tx);
    let outcome = tokio::select! {
        () = crate::shutdown::signal() => Ok(()),
        Some(reason) = failed_rx.recv() => Err(format!("error: {reason}")),
    };
    for forward in &forwards {
        forward.stop();
    }
    for task in tasks {
        task.abort();
    }
    outcome
}

/// kubectl's line per accepted connection.
async fn print_connections(
    mut events: broadcast::Receiver<porthole_core::forward::ConnectionEvent>,
) {
    loop {
        match events.recv().await {
            Ok(event) => say(&format!("Handling connection for {}", event.local_port)),
            // A burst outran the printing: the lines are best effort.
            Err(broadcast::error::RecvError::Lagged(_)) => {}
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Connection failures and heals, on stderr as they happen. kubectl ends
/// the whole forward on a connection's failure; this one reports it and
/// keeps listening.
async fn report_changes(
    mut status: watch::Receiver<ForwardStatus>,
    local: u16,
    remote: String,
    target: String,
) {
    let mut seen = status.borrow_and_update().clone();
    while status.changed().await.is_ok() {
        let now = status.borrow_and_update().clone();
        if now.last_error != seen.last_error
            && let Some(error) = &now.last_error
        {
            eprintln!("error: an error occurred forwarding {local} -> {remote}: {error}");
        }
        if now.state != seen.state {
            match (&seen.state, &now.state) {
                (ForwardState::Listening, ForwardState::Healing | ForwardState::WaitingForPod) => {
                    eprintln!(
                        "No ready pod for {target}: new connections to port {local} wait for one"
                    );
                }
                (ForwardState::Healing | ForwardState::WaitingForPod, ForwardState::Listening) => {
                    if let Some(pod) = &now.pod {
                        eprintln!("Port {local} now forwards to pod {pod}");
                    }
                }
                _ => {}
            }
        } else if let (Some(before), Some(after)) = (&seen.pod, &now.pod)
            && before != after
        {
            eprintln!("Pod {before} went away: port {local} now forwards to pod {after}");
        }
        if !now.state.is_active() {
            return;
        }
        seen = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    fn address(ip: IpAddr, from_localhost: bool) -> ListenAddress {
        ListenAddress {
            ip,
            text: ip.to_string(),
            from_localhost,
        }
    }

    const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
    const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);
    const ANY: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

    #[test]
    fn one_loopback_address_of_localhost_is_enough() {
        let localhost = [address(V4, true), address(V6, true)];
        assert_eq!(must_bind_failures(&localhost, &[V4]), None);
        assert_eq!(must_bind_failures(&localhost, &[V6]), None);
        assert_eq!(
            must_bind_failures(&localhost, &[]),
            Some("could not listen on localhost".into())
        );
    }

    #[test]
    fn an_address_named_on_its_own_must_bind() {
        let both = [address(ANY, false), address(V4, true), address(V6, true)];
        assert_eq!(must_bind_failures(&both, &[ANY, V6]), None);
        assert_eq!(
            must_bind_failures(&both, &[V4, V6]),
            Some("could not listen on 0.0.0.0".into())
        );
    }
}
