//! Heal time: a forward to a service (a test workload with two ready
//! Pods) loses the Pod it forwards to; how long until a connection through
//! it is answered by the other Pod. Probes run while the Pod is deleted
//! (its process is stopped first), so the time is the gap a client sees.
//! kubectl's forward is put through the same round once: it ends.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitStatus;
use std::time::Duration;

use porthole_testkit::Cluster;
use porthole_testkit::workload::{Workload, WorkloadPort, unique_namespace};
use tokio::time::Instant;

use super::probe;
use super::process::{Forwarder, Programs, Tool};
use crate::error::{Error, Result};

const SERVICE: &str = "db";
const PORT: &str = "80";
/// A round that has neither healed nor died by then failed.
const ROUND_LIMIT: Duration = Duration::from_secs(30);
const PROBE_TIMEOUT: Duration = Duration::from_secs(3);
const PROBE_PAUSE: Duration = Duration::from_millis(10);

/// How one round ended.
pub enum Outcome {
    /// A connection was answered by another Pod this long after the delete began.
    Healed(Duration),
    /// The forward process ended (after `failed` failed connections).
    Died {
        status: ExitStatus,
        after: Duration,
        failed: usize,
        last_error: Option<String>,
    },
    /// Neither within [`ROUND_LIMIT`].
    Stuck { last_error: Option<String> },
}

impl Outcome {
    /// For the progress lines and errors.
    pub fn describe(&self) -> String {
        let ms = |d: &Duration| format!("{:.0} ms", d.as_secs_f64() * 1e3);
        let last = |e: &Option<String>| e.as_deref().unwrap_or("none").to_owned();
        match self {
            Outcome::Healed(took) => format!("healed: answered by another Pod after {}", ms(took)),
            Outcome::Died {
                status,
                after,
                failed,
                last_error,
            } => format!(
                "ended ({status}) {} after the delete began, after {failed} failed connections (the last: {})",
                ms(after),
                last(last_error)
            ),
            Outcome::Stuck { last_error } => format!(
                "neither healed nor ended within {} s (the last error: {})",
                ROUND_LIMIT.as_secs(),
                last(last_error)
            ),
        }
    }
}

/// What the heal measurement found.
pub struct Heal {
    pub kubectl: Outcome,
    pub porthole: Vec<Duration>,
}

fn progress(text: &str) {
    eprintln!("porthole-bench: {text}");
}

/// `rounds` heals of `portholectl forward svc/db`, one round of `kubectl
/// port-forward svc/db`; the workload is removed afterwards.
pub async fn measure(cluster: &Cluster, programs: &Programs, rounds: usize) -> Result<Heal> {
    let namespace = unique_namespace("bench-heal");
    let workload = Workload::create(
        cluster,
        &namespace,
        SERVICE,
        &[WorkloadPort::http_echo("http", 80, 8080)],
    )
    .await
    .map_err(|e| Error::Fixture(format!("the heal workload: {e}")))?;
    let mut pods = Pods {
        workload: &workload,
        added: 0,
    };
    let result = async {
        pods.add().await?;
        pods.add().await?;
        let mut kubectl = Forwarder::start(
            Tool::Kubectl,
            programs,
            &namespace,
            "svc/db",
            PORT,
            "kubectl-port-forward-heal",
        )
        .await?;
        let kubectl_outcome = round(&mut pods, &mut kubectl).await?;
        progress(&format!(
            "heal: kubectl port-forward: {}; its stderr: {}",
            kubectl_outcome.describe(),
            kubectl.stderr_tail()
        ));
        drop(kubectl);

        let mut porthole = Forwarder::start(
            Tool::Porthole,
            programs,
            &namespace,
            "svc/db",
            PORT,
            "portholectl-forward-heal",
        )
        .await?;
        let mut times = Vec::with_capacity(rounds);
        for n in 1..=rounds {
            match round(&mut pods, &mut porthole).await? {
                Outcome::Healed(took) => {
                    progress(&format!(
                        "heal: portholectl forward round {n}/{rounds}: {:.0} ms",
                        took.as_secs_f64() * 1e3
                    ));
                    times.push(took);
                }
                other => {
                    return Err(Error::request(
                        "healing portholectl forward svc/db",
                        format!(
                            "{}; its stderr ({}): {}",
                            other.describe(),
                            porthole.log().display(),
                            porthole.stderr_tail()
                        ),
                    ));
                }
            }
        }
        Ok(Heal {
            kubectl: kubectl_outcome,
            porthole: times,
        })
    }
    .await;
    if let Err(e) = workload.teardown().await {
        progress(&format!(
            "warning: removing the heal workload in {namespace}: {e}"
        ));
    }
    result
}

/// The workload's Pods, named in order.
struct Pods<'a> {
    workload: &'a Workload,
    added: usize,
}

impl Pods<'_> {
    async fn add(&mut self) -> Result<()> {
        let name = format!("{SERVICE}-{}", self.added);
        self.added += 1;
        self.workload
            .add_pod(&name)
            .await
            .map(drop)
            .map_err(|e| Error::Fixture(format!("adding pod {name}: {e}")))
    }

    fn named_by_ip(&self, ip: IpAddr) -> Option<String> {
        self.workload
            .pods()
            .into_iter()
            .find(|p| IpAddr::V4(p.ip) == ip)
            .map(|p| p.name)
    }
}

/// The Pod address in a `/whoami` answer (`IP:PORT`).
fn answering_ip(body: &str) -> Option<IpAddr> {
    body.trim().parse::<SocketAddr>().ok().map(|a| a.ip())
}

/// Deletes the Pod `forward` reaches (another one is ready) while probing
/// through it; then adds a Pod, so the next round has two again.
async fn round(pods: &mut Pods<'_>, forward: &mut Forwarder) -> Result<Outcome> {
    let what = || format!("GET /whoami through {}", forward.tool.name());
    let answer = probe::get(forward.addr, "/whoami", PROBE_TIMEOUT)
        .await
        .map_err(|e| Error::request(what(), e))?;
    let serving = answering_ip(&answer.body)
        .ok_or_else(|| Error::request(what(), format!("unexpected answer {:?}", answer.body)))?;
    let name = pods.named_by_ip(serving).ok_or_else(|| {
        Error::request(what(), format!("{serving} is none of the workload's Pods"))
    })?;

    let start = Instant::now();
    let delete = async {
        pods.workload
            .delete_pod(&name)
            .await
            .map_err(|e| Error::Fixture(format!("deleting pod {name}: {e}")))
    };
    let (deleted, outcome) = tokio::join!(delete, probe_until_healed(forward, serving, start));
    deleted?;
    pods.add().await?;
    Ok(outcome)
}

async fn probe_until_healed(forward: &mut Forwarder, gone: IpAddr, start: Instant) -> Outcome {
    let mut failed = 0;
    let mut last_error = None;
    loop {
        if let Some(status) = forward.exited() {
            return Outcome::Died {
                status,
                after: start.elapsed(),
                failed,
                last_error,
            };
        }
        match probe::get(forward.addr, "/whoami", PROBE_TIMEOUT).await {
            Ok(a) if a.status == 200 && answering_ip(&a.body).is_some_and(|ip| ip != gone) => {
                return Outcome::Healed(start.elapsed());
            }
            // The old Pod, not stopped yet.
            Ok(a) if a.status == 200 => {}
            Ok(a) => {
                failed += 1;
                last_error = Some(format!("status {}", a.status));
            }
            Err(e) => {
                failed += 1;
                last_error = Some(e);
            }
        }
        if start.elapsed() > ROUND_LIMIT {
            return Outcome::Stuck { last_error };
        }
        tokio::time::sleep(PROBE_PAUSE).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whoami_names_the_pod_address() {
        assert_eq!(
            answering_ip("10.213.7.100:8080\n"),
            Some("10.213.7.100".parse().expect("ip"))
        );
        assert_eq!(answering_ip("{\"not\": \"whoami\"}"), None);
    }
}
