//! `porthole-cluster supervise`: the one process that owns a control plane.
//! It starts everything (PKI, network namespace, backends, etcd,
//! kube-apiserver, kubeconfigs, fixtures), reports `ready` or the error on
//! stdout (one JSON line), and tears everything down — processes, network
//! namespace, state directory — on SIGTERM/SIGINT/SIGHUP, when its stdin
//! closes (`--watch-stdin`: the owning test process exited, however it
//! exited), or when a component dies.
//!
//! Run it on a current-thread runtime: children get PR_SET_PDEATHSIG, which
//! is tied to the spawning thread.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::signal::unix::{SignalKind, signal};

use crate::apiserver::{self, Apiserver};
use crate::backends::{self, Backends};
use crate::bins::ControlPlaneBins;
use crate::error::{Error, IoContext, Result};
use crate::etcd::{self, Etcd};
use crate::fixtures;
use crate::fsutil;
use crate::kubeconfig::{self, Server};
use crate::netns::{self, Netns};
use crate::node_agent::{self, AgentPod, NodeAgent};
use crate::oidc;
use crate::pki::{self, Pki};
use crate::state::{ApiserverInfo, EtcdInfo, Phase, State, UserInfo};
use crate::users::{self, Credential, User};

/// Last octets of the Node objects' addresses inside the namespace.
const NODE_HOSTS: [u8; 3] = [3, 4, 5];

#[derive(Debug, Clone)]
pub struct Options {
    pub dir: PathBuf,
    pub id: String,
    pub scale: usize,
    pub watch_stdin: bool,
    pub backends_bin: PathBuf,
    /// This binary: the exec credential plugin named in kubeconfigs.
    pub plugin_bin: PathBuf,
    pub k8s: ControlPlaneBins,
    /// Where to write a report if a component dies after start.
    pub crash_report: Option<PathBuf>,
}

/// Everything started so far, so teardown finds it whatever failed.
#[derive(Default)]
struct Components {
    ip: Option<PathBuf>,
    netns: Option<Netns>,
    backends: Option<Backends>,
    node_agent: Option<NodeAgent>,
    etcd: Option<Etcd>,
    apiserver: Option<Apiserver>,
    oidc: Option<oidc::Issuer>,
}

/// The status line printed on stdout for the launching process.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct StatusLine {
    pub ready: bool,
    #[serde(default)]
    pub error: Option<String>,
}

fn report(line: &StatusLine) {
    let mut out = std::io::stdout().lock();
    let _ = serde_json::to_writer(&mut out, line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// Runs the supervisor to the end; returns the process exit code.
pub async fn run(opts: Options) -> i32 {
    let mut comps = Components::default();
    let mut state = State::new(&opts.id, &opts.dir);
    let mut shutdown = Box::pin(shutdown_requested(opts.watch_stdin));

    let started = tokio::select! {
        r = start(&opts, &mut state, &mut comps) => Some(r),
        why = &mut shutdown => {
            tracing::info!("shutdown requested during start: {why}");
            None
        }
    };
    match started {
        Some(Ok(())) => {
            report(&StatusLine {
                ready: true,
                error: None,
            });
            let why = tokio::select! {
                why = &mut shutdown => why,
                why = component_died(&mut comps) => {
                    write_crash_report(&opts, &why);
                    why
                }
            };
            tracing::info!("stopping: {why}");
            teardown(&mut state, &mut comps).await;
            0
        }
        Some(Err(e)) => {
            tracing::error!("start failed: {e}");
            report(&StatusLine {
                ready: false,
                error: Some(e.to_string()),
            });
            teardown(&mut state, &mut comps).await;
            1
        }
        None => {
            report(&StatusLine {
                ready: false,
                error: Some("stopped before the control plane was ready".into()),
            });
            teardown(&mut state, &mut comps).await;
            1
        }
    }
}

fn ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

async fn start(opts: &Options, state: &mut State, comps: &mut Components) -> Result<()> {
    let t0 = Instant::now();
    let dir = &opts.dir;
    let logs = dir.join("logs");
    fsutil::create_private_dir(&logs)?;
    state.save()?;

    let ip = netns::preflight()?;
    comps.ip = Some(ip.clone());

    // PKI, users and the files kube-apiserver reads.
    let t = Instant::now();
    let pki = Pki::generate(apiserver::SERVICE_IP)?;
    let pki_dir = dir.join("pki");
    fsutil::create_private_dir(&pki_dir)?;
    let files = apiserver::Files {
        ca_cert: pki_dir.join("ca.crt"),
        serving_cert: pki_dir.join("apiserver.crt"),
        serving_key: pki_dir.join("apiserver.key"),
        sa_public: pki_dir.join("sa.pub"),
        sa_private: pki_dir.join("sa.key"),
        token_file: pki_dir.join("tokens.csv"),
    };
    fsutil::write_atomic(&files.ca_cert, pki.ca_cert_pem.as_bytes())?;
    fsutil::write_atomic(&files.serving_cert, pki.serving.cert_pem.as_bytes())?;
    fsutil::write_private(&files.serving_key, pki.serving.key_pem.as_bytes())?;
    fsutil::write_atomic(&files.sa_public, pki.sa_public_pem.as_bytes())?;
    fsutil::write_private(&files.sa_private, pki.sa_private_pem.as_bytes())?;
    let users = users::provision(&users::default_users(), &pki, &dir.join("users"))?;
    fsutil::write_private(
        &files.token_file,
        users::static_token_file(&users).as_bytes(),
    )?;
    state.timings_ms.insert("pki".into(), ms(t.elapsed()));

    // The OIDC issuer before the apiserver, which fetches its discovery
    // document and keys at start.
    let (issuer, oidc_info) = oidc::start(dir, &pki, &files.ca_cert)?;
    comps.oidc = Some(issuer);

    // Network namespace first (recorded at once so `down` can remove it).
    let t = Instant::now();
    let mut hosts = backends::hosts();
    hosts.extend(NODE_HOSTS);
    // Record the name before creating it: a supervisor killed in the middle
    // leaves `down` enough to remove it.
    let (ns_name, ns_if) = netns::names(&opts.id);
    state.netns = Some(crate::state::NetnsInfo {
        name: ns_name,
        host_interface: ns_if,
        subnet: String::new(),
        host_ip: String::new(),
    });
    state.save()?;
    let ns = Netns::create(&ip, &opts.id, &hosts)?;
    state.netns = Some(ns.info());
    comps.netns = Some(ns.clone());
    state.save()?;
    state.timings_ms.insert("netns".into(), ms(t.elapsed()));

    // Backends, the node agent and etcd in parallel.
    let t = Instant::now();
    let node_ips: Vec<_> = NODE_HOSTS.iter().map(|h| ns.ip(*h)).collect();
    let agent_pods = agent_pods(&ns);
    let agent = node_agent::Spec {
        bin: &opts.k8s.node_agent,
        node_ips: &node_ips,
        pods: &agent_pods,
    };
    let (b, a, e) = tokio::join!(
        backends::start(&ip, &opts.backends_bin, &ns, dir, &logs),
        node_agent::start(&ip, &ns, &agent, &pki, dir, &logs),
        etcd::start(&opts.k8s.etcd, dir, &logs),
    );
    if let Ok(b) = b.as_ref() {
        state.backends = Some(b.info.clone());
    }
    if let Ok(a) = a.as_ref() {
        state.node_agent = Some(a.info.clone());
    }
    if let Ok(e) = e.as_ref() {
        state.etcd = Some(EtcdInfo {
            pid: e.proc.pid,
            client_url: e.client_url.clone(),
            data_dir: e.data_dir.clone(),
        });
    }
    let (b, a, e) = (
        b.map(|b| comps.backends.insert(b)),
        a.map(|a| comps.node_agent.insert(a)),
        e.map(|e| comps.etcd.insert(e)),
    );
    state.save()?;
    let backends_info = b?.info.clone();
    let mut apiserver_args = a?.apiserver_args.clone();
    apiserver_args.extend(oidc::apiserver_args(&oidc_info));
    let etcd_url = e?.client_url.clone();
    state
        .timings_ms
        .insert("backends_and_etcd".into(), ms(t.elapsed()));

    // kube-apiserver.
    let t = Instant::now();
    let admin = users
        .first()
        .ok_or_else(|| Error::Supervisor("no users defined".into()))?;
    let api = apiserver::start(
        &opts.k8s.kube_apiserver,
        &files,
        &etcd_url,
        admin,
        &pki.ca_cert_pem,
        &apiserver_args,
        &logs,
    )
    .await?;
    let server = Server {
        url: api.url.clone(),
        ca_pem: pki.ca_cert_pem.clone(),
        sni_name: pki::SNI_ONLY_NAME.to_owned(),
    };
    let (api_pid, api_port) = (api.proc.pid, api.port);
    comps.apiserver = Some(api);
    state.timings_ms.insert("apiserver".into(), ms(t.elapsed()));

    // Kubeconfigs.
    state.exec_plugin = Some(opts.plugin_bin.clone());
    state.users = write_kubeconfigs(dir, &server, &users, &opts.plugin_bin)?;
    let mut extras = crate::impersonation::extras(&users)?;
    let oidc_extra = oidc::kubeconfig_extra(&oidc_info, &pki.ca_cert_pem)?;
    kubeconfig::write(&oidc_info.kubeconfig, &oidc_extra.document(&server))?;
    extras.push(oidc_extra);
    kubeconfig::write(
        &state.kubeconfig,
        &kubeconfig::combined(&server, &users, &extras, &opts.plugin_bin),
    )?;
    state.oidc = Some(oidc_info);
    state.impersonation = crate::impersonation::infos();
    state.basic_auth = Some(crate::basic_auth::setup(dir, &backends_info)?);
    let admin_kc = state
        .user(users::ADMIN)
        .map(|u| u.kubeconfig.clone())
        .ok_or_else(|| Error::Supervisor("admin kubeconfig missing".into()))?;
    let client = crate::client::from_file(&admin_kc).await?;
    let version = apiserver::version(&client).await?;
    state.apiserver = Some(ApiserverInfo {
        pid: api_pid,
        url: server.url.clone(),
        port: api_port,
        ca_file: files.ca_cert.clone(),
        sni_name: pki::SNI_ONLY_NAME.to_owned(),
        version,
    });
    state.save()?;

    // Fixtures.
    let t = Instant::now();
    let input = fixtures::Input {
        backends: &backends_info,
        host_ip: ns.host_ip().to_string(),
        node_ips: NODE_HOSTS.iter().map(|h| ns.ip(*h).to_string()).collect(),
        pki: &pki,
        scale: opts.scale,
    };
    let summary = fixtures::create_all(&client, &input).await?;
    state.timings_ms.insert("fixtures".into(), ms(t.elapsed()));
    if summary.scale_services > 0 {
        state
            .timings_ms
            .insert("scale_set".into(), summary.scale_ms);
    }
    state.fixtures = Some(summary);
    state.timings_ms.insert("total".into(), ms(t0.elapsed()));
    state.phase = Phase::Ready;
    state.save()?;
    tracing::info!(
        "ready in {} ms: {} ({})",
        ms(t0.elapsed()),
        server.url,
        dir.display()
    );
    Ok(())
}

/// The fixture Pods with a backend, as the node agent sees them: the
/// backend's address in `ns` and its one container (named after it).
fn agent_pods(ns: &Netns) -> Vec<AgentPod> {
    fixtures::backed_pods()
        .into_iter()
        .filter_map(|(namespace, name, backend)| {
            let inst = backends::INSTANCES.iter().find(|i| i.name == backend)?;
            Some(AgentPod {
                namespace: namespace.to_owned(),
                name,
                ip: ns.ip(inst.host),
                container: backend.to_owned(),
            })
        })
        .collect()
}

fn write_kubeconfigs(
    dir: &Path,
    server: &Server,
    users: &[User],
    plugin: &Path,
) -> Result<Vec<UserInfo>> {
    users
        .iter()
        .map(|u| {
            let path = dir.join(format!("{}.kubeconfig", u.spec.name));
            kubeconfig::write(&path, &kubeconfig::for_user(server, u, plugin))?;
            Ok(UserInfo {
                name: u.spec.name.clone(),
                context: u.spec.context.clone(),
                groups: u.spec.groups.clone(),
                auth: u.spec.auth.clone(),
                kubeconfig: path,
                token: u.token().map(str::to_owned),
                exec_counter: u.exec_counter().map(Path::to_path_buf),
                token_file: match &u.credential {
                    Credential::TokenFile { file, .. } => Some(file.clone()),
                    _ => None,
                },
                client_cert: u.cert_files().map(|f| f.cert.clone()),
                client_key: u.cert_files().map(|f| f.key.clone()),
            })
        })
        .collect()
}

/// Resolves with the reason once a signal arrives or stdin reaches EOF.
async fn shutdown_requested(watch_stdin: bool) -> String {
    let mut term = signal(SignalKind::terminate()).ok();
    let mut int = signal(SignalKind::interrupt()).ok();
    let mut hup = signal(SignalKind::hangup()).ok();
    let stdin_closed = async {
        if !watch_stdin {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buf = [0u8; 64];
        loop {
            match stdin.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    async fn recv(s: &mut Option<tokio::signal::unix::Signal>) {
        match s {
            Some(s) => {
                s.recv().await;
            }
            None => std::future::pending::<()>().await,
        }
    }
    tokio::select! {
        () = recv(&mut term) => "SIGTERM".into(),
        () = recv(&mut int) => "SIGINT".into(),
        () = recv(&mut hup) => "SIGHUP".into(),
        () = stdin_closed => "the owning process exited (stdin closed)".into(),
    }
}

/// Resolves when a component exits on its own, with its log tail.
async fn component_died(comps: &mut Components) -> String {
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let procs = [
            comps.apiserver.as_mut().map(|a| &mut a.proc),
            comps.etcd.as_mut().map(|e| &mut e.proc),
            comps.backends.as_mut().map(|b| &mut b.proc),
            comps.node_agent.as_mut().map(|a| &mut a.proc),
        ];
        for p in procs.into_iter().flatten() {
            if let Some(status) = p.exited() {
                return p.exited_early(status).to_string();
            }
        }
    }
}

fn write_crash_report(opts: &Options, why: &str) {
    let text = format!(
        "porthole-cluster: a component of the control plane in {} died; everything was torn down.\n{why}\n",
        opts.dir.display()
    );
    eprint!("{text}");
    if let Some(path) = &opts.crash_report {
        let _ = std::fs::write(path, &text);
    }
}

/// Stops everything in reverse order and removes the namespace and the
/// state directory. Best effort: every step runs even if one fails.
async fn teardown(state: &mut State, comps: &mut Components) {
    state.phase = Phase::Stopping;
    let _ = state.save();
    if let Some(b) = comps.backends.take() {
        tracing::info!("{}", b.proc.stop(Duration::from_secs(5)).await);
    }
    if let Some(a) = comps.node_agent.take() {
        tracing::info!("{}", a.proc.stop(Duration::from_secs(5)).await);
    }
    if let Some(a) = comps.apiserver.take() {
        tracing::info!("{}", a.proc.stop(Duration::from_secs(15)).await);
    }
    if let Some(e) = comps.etcd.take() {
        tracing::info!("{}", e.proc.stop(Duration::from_secs(10)).await);
    }
    if comps.oidc.take().is_some() {
        tracing::info!("stopped the OIDC issuer");
    }
    if let (Some(ip), Some(ns)) = (comps.ip.as_ref(), comps.netns.take()) {
        match netns::delete(ip, &ns.name) {
            Ok(_) => tracing::info!("deleted network namespace {}", ns.name),
            Err(e) => tracing::error!("deleting network namespace {}: {e}", ns.name),
        }
    }
    if let Err(e) =
        std::fs::remove_dir_all(&state.dir).ctx(|| format!("removing {}", state.dir.display()))
    {
        tracing::error!("{e}");
    }
}
