//! `portholectl open NS/SVC[:PORT]`: opens the service's Porthole URL in
//! the browser — the system's (the `open` crate: xdg-open, open, start),
//! or `--browser CMD` / `$PORTHOLE_BROWSER`. When nothing listens on the
//! proxy port, `portholectl proxy` is started for the context in the
//! background first, and the user is told (with its pid and log).

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use clap::Args;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use crate::url::{ContextArgs, ServiceRef, discovery, resolve};
use porthole_core::kubeconfig::KubeconfigSources;
use porthole_core::open::{BrowserCommandOrigin, Launcher, OpenError};
use porthole_core::proxy::names::context_host;

/// How long the background proxy gets to start listening.
const PROXY_START: Duration = Duration::from_secs(15);
const CONNECT: Duration = Duration::from_millis(500);

#[derive(Debug, Args)]
pub struct OpenArgs {
    /// NAMESPACE/SERVICE[:PORT] — PORT is a port name or number (default:
    /// the service's first TCP port).
    pub target: ServiceRef,
    #[command(flatten)]
    pub context: ContextArgs,
    /// The browser command, split like a shell would (quotes, backslashes)
    /// but not run by one; `{url}` or `%s` stands for the URL, else it is
    /// added last. Default: the system's browser.
    #[arg(long, env = "PORTHOLE_BROWSER", value_name = "CMD")]
    pub browser: Option<String>,
    /// Do not start a proxy when none listens; just open the URL.
    #[arg(long)]
    pub no_start_proxy: bool,
}

pub(super) async fn run(
    sources: &KubeconfigSources,
    kubeconfig: Option<&PathBuf>,
    args: OpenArgs,
) -> ExitCode {
    match open(sources, kubeconfig, &args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn open(
    sources: &KubeconfigSources,
    kubeconfig: Option<&PathBuf>,
    args: &OpenArgs,
) -> Result<(), String> {
    let discovery = discovery(sources, &args.context).await?;
    let urls = resolve(&discovery, &args.target).await?;
    let port = args.context.proxy_port;
    let context = discovery.base().context.clone();
    match proxy_state(port, &context).await {
        ProxyState::Serving => {}
        ProxyState::Other(what) => eprintln!(
            "warning: something listens on 127.0.0.1:{port} but does not serve Porthole's host for context {context} ({what}); the URL may not open — use --proxy-port"
        ),
        ProxyState::Nothing if args.no_start_proxy => eprintln!(
            "warning: nothing listens on 127.0.0.1:{port}: start `portholectl proxy --port {port}` (or the app) for the URL to work"
        ),
        ProxyState::Nothing => start_proxy(kubeconfig, &context, port, args).await?,
    }
    println!("{}", urls.porthole_url);
    // The browser command runs to its end (a launcher returns at once; a
    // recorder in tests writes and exits): off the async threads.
    let browser = args.browser.clone();
    let url = urls.porthole_url.clone();
    tokio::task::spawn_blocking(move || launch(browser.as_deref(), &url))
        .await
        .map_err(|e| format!("opening the browser: {e}"))?
}

enum ProxyState {
    /// Answers for `CONTEXT.localhost`.
    Serving,
    /// Something else (kubectl proxy refuses Porthole's hosts).
    Other(String),
    Nothing,
}

/// Asks the proxy port for `/version` under the context's host name.
async fn proxy_state(port: u16, context: &str) -> ProxyState {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let Ok(Ok(mut stream)) = tokio::time::timeout(CONNECT, TcpStream::connect(addr)).await else {
        return ProxyState::Nothing;
    };
    let host = context_host(context);
    let request =
        format!("GET /version HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n");
    let exchange = async {
        stream.write_all(request.as_bytes()).await?;
        let mut head = vec![0u8; 64];
        let n = stream.read(&mut head).await?;
        head.truncate(n);
        Ok::<_, std::io::Error>(String::from_utf8_lossy(&head).into_owned())
    };
    match tokio::time::timeout(Duration::from_secs(10), exchange).await {
        Ok(Ok(head)) => {
            let status = head.lines().next().unwrap_or_default().to_owned();
            if status.starts_with("HTTP/1.1 200") || status.starts_with("HTTP/1.0 200") {
                ProxyState::Serving
            } else {
                ProxyState::Other(status)
            }
        }
        Ok(Err(e)) => ProxyState::Other(e.to_string()),
        Err(_) => ProxyState::Other("no answer within 10 s".to_owned()),
    }
}

/// `portholectl proxy --port P --context C` in its own session, logging
/// to a file; returns once it listens.
async fn start_proxy(
    kubeconfig: Option<&PathBuf>,
    context: &str,
    port: u16,
    args: &OpenArgs,
) -> Result<(), String> {
    let me = std::env::current_exe().map_err(|e| format!("cannot find portholectl itself: {e}"))?;
    let log_dir = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let log = log_dir.join(format!("portholectl-proxy-{port}.log"));
    let file = std::fs::File::create(&log)
        .map_err(|e| format!("cannot write the proxy's log {}: {e}", log.display()))?;
    let err_file = file
        .try_clone()
        .map_err(|e| format!("cannot write the proxy's log {}: {e}", log.display()))?;
    let mut cmd = std::process::Command::new(me);
    if let Some(k) = kubeconfig {
        cmd.arg("--kubeconfig").arg(k);
    }
    cmd.args(["proxy", "--port", &port.to_string(), "--context", context])
        .args(["--timeout", &args.context.timeout.to_string()])
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err_file);
    detach(&mut cmd);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start portholectl proxy: {e}"))?;
    let pid = child.id();
    let started = Instant::now();
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            return Err(format!(
                "portholectl proxy exited ({status}): {}",
                text.trim()
            ));
        }
        if matches!(proxy_state(port, context).await, ProxyState::Serving) {
            break;
        }
        if started.elapsed() > PROXY_START {
            return Err(format!(
                "portholectl proxy (pid {pid}) did not answer on 127.0.0.1:{port} within {} s; see {}",
                PROXY_START.as_secs(),
                log.display()
            ));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    eprintln!(
        "Nothing listened on 127.0.0.1:{port}: started `portholectl proxy --port {port} --context {context}` in the background (pid {pid}, log {}). Stop it with: kill {pid}",
        log.display()
    );
    Ok(())
}

/// The proxy outlives this command: its own session, no terminal signals.
fn detach(cmd: &mut std::process::Command) {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: setsid is async-signal-safe and touches no memory.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
    }
    #[cfg(not(unix))]
    let _ = cmd;
}

/// Opens `url` with `browser` (split like a shell would, never run by one;
/// `{url}` or `%s` stands for the URL, else it is added last — the app's
/// rule), waiting for the command to end, or the system's browser.
fn launch(browser: Option<&str>, url: &str) -> Result<(), String> {
    Launcher::for_command(browser, BrowserCommandOrigin::Flag, url)
        .and_then(|launcher| launcher.run_to_end(url))
        .map_err(|e| match e {
            OpenError::SystemBrowser { reason } => {
                format!("cannot open the browser: {reason}; open {url} yourself or pass --browser")
            }
            other => other.to_string(),
        })
}
