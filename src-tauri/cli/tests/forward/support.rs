//! `kubectl port-forward` and `portholectl forward` as child processes on
//! the test cluster's kubeconfig: started with the same arguments, their
//! stdout and stderr read line by line, stopped with a signal, and their
//! transcripts normalised (random local ports) for comparison.

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, TcpListener, TcpStream};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

pub use porthole_testkit::cluster;

/// Bound on a forward's start (and on one failing run).
pub const START: Duration = Duration::from_secs(60);
/// Bound on one request through a forward.
pub const REQUEST: Duration = Duration::from_secs(20);

/// Which program runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Kubectl,
    Porthole,
}

pub const BOTH: [Tool; 2] = [Tool::Kubectl, Tool::Porthole];

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Kubectl => "kubectl port-forward",
            Tool::Porthole => "portholectl forward",
        }
    }

    /// The command with `args`, on the cluster's combined kubeconfig
    /// (current context: the admin).
    pub fn command(self, args: &[String]) -> Command {
        let (program, verb) = match self {
            Tool::Kubectl => ("kubectl", "port-forward"),
            Tool::Porthole => (env!("CARGO_BIN_EXE_portholectl"), "forward"),
        };
        let mut cmd = Command::new(program);
        cmd.arg("--kubeconfig")
            .arg(cluster().kubeconfig())
            .arg(verb)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }
}

/// `&["-n", "x"]` → owned strings.
pub fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| (*a).to_owned()).collect()
}

/// A running forward, killed on drop.
pub struct Forwarding {
    pub tool: Tool,
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    /// Every stdout line so far.
    pub lines: Vec<String>,
    /// The stderr lines read so far.
    stderr_lines: Vec<String>,
    args: Vec<String>,
}

fn lines_of(stream: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    rx
}

impl Forwarding {
    /// Starts `tool` with `args` and waits for `listeners` "Forwarding
    /// from" lines.
    pub fn start(tool: Tool, args: &[String], listeners: usize) -> Forwarding {
        let mut child = tool.command(args).spawn().unwrap_or_else(|e| {
            panic!(
                "cannot start {}: {e} (kubectl is the reference and must be on PATH)",
                tool.name()
            )
        });
        let stdout = lines_of(child.stdout.take().expect("piped stdout"));
        let stderr = lines_of(child.stderr.take().expect("piped stderr"));
        let mut f = Forwarding {
            tool,
            child,
            stdout,
            stderr,
            lines: Vec::new(),
            stderr_lines: Vec::new(),
            args: args.to_vec(),
        };
        for _ in 0..listeners {
            f.next_line("a `Forwarding from` line", |l| {
                l.starts_with("Forwarding from ")
            });
        }
        f
    }

    /// Waits for the next stdout line, which must satisfy `want`.
    pub fn next_line(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        match self.stdout.recv_timeout(START) {
            Ok(line) => {
                let stderr = self.stderr_now();
                assert!(
                    want(&line),
                    "{} {:?}: expected {what}, got {line:?}; stderr: {stderr}",
                    self.tool.name(),
                    self.args,
                );
                self.lines.push(line.clone());
                line
            }
            Err(e) => {
                let stderr = self.stderr_now();
                panic!(
                    "{} {:?}: no {what} within {START:?} ({e:?}); stdout so far {:?}; stderr: {stderr}",
                    self.tool.name(),
                    self.args,
                    self.lines,
                )
            }
        }
    }

    /// The local `ADDRESS:PORT` of the n-th "Forwarding from" line.
    pub fn local(&self, n: usize) -> String {
        let line = self
            .lines
            .iter()
            .filter(|l| l.starts_with("Forwarding from "))
            .nth(n)
            .unwrap_or_else(|| panic!("no Forwarding line {n} in {:?}", self.lines));
        line.split_whitespace()
            .nth(2)
            .unwrap_or_else(|| panic!("unexpected line {line:?}"))
            .to_owned()
    }

    /// `GET path` through the n-th listener; then the "Handling
    /// connection" line it causes. The response body.
    pub fn get(&mut self, n: usize, path: &str) -> String {
        let local = self.local(n);
        let body = http_get(&local, path).unwrap_or_else(|e| {
            panic!(
                "{} {:?}: GET {path} via {local}: {e}",
                self.tool.name(),
                self.args
            )
        });
        self.next_line("a `Handling connection for` line", |l| {
            l.starts_with("Handling connection for ")
        });
        body
    }

    /// The stderr lines so far.
    pub fn stderr_now(&mut self) -> String {
        self.stderr_lines.extend(self.stderr.try_iter());
        self.stderr_lines.join("\n")
    }

    /// Waits for a stderr line satisfying `want` (among those so far, or
    /// the next ones).
    pub fn wait_stderr(&mut self, what: &str, want: impl Fn(&str) -> bool) -> String {
        self.stderr_now();
        if let Some(line) = self.stderr_lines.iter().find(|l| want(l)) {
            return line.clone();
        }
        let deadline = Instant::now() + START;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) => {
                    self.stderr_lines.push(line.clone());
                    if want(&line) {
                        return line;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => panic!(
                    "{} {:?}: no {what} on stderr; it said: {}",
                    self.tool.name(),
                    self.args,
                    self.stderr_lines.join("\n")
                ),
            }
        }
    }

    /// Waits up to `within` for the process to end by itself.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Sends `signal` and returns the exit status, the whole stdout and the
    /// stderr (everything left).
    pub fn stop_with(mut self, signal: i32) -> (ExitStatus, Vec<String>, String) {
        let pid = libc::pid_t::try_from(self.child.id()).expect("pid fits");
        // SAFETY: signalling our own child by its pid.
        unsafe { libc::kill(pid, signal) };
        let status = self
            .wait_exit(Duration::from_secs(15))
            .unwrap_or_else(|| panic!("{} did not stop on signal {signal}", self.tool.name()));
        self.finish(status)
    }

    /// Collects what is left once the process has ended.
    pub fn finish(mut self, status: ExitStatus) -> (ExitStatus, Vec<String>, String) {
        while let Ok(line) = self.stdout.recv_timeout(Duration::from_secs(2)) {
            self.lines.push(line);
        }
        while let Ok(line) = self.stderr.recv_timeout(Duration::from_secs(2)) {
            self.stderr_lines.push(line);
        }
        (
            status,
            std::mem::take(&mut self.lines),
            self.stderr_lines.join("\n"),
        )
    }
}

impl Drop for Forwarding {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A run that should fail at start: (exit code, stdout, stderr).
pub struct Outcome {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `tool` with `args` to its end (killed and failed after [`START`]).
pub fn run_to_end(tool: Tool, args: &[String]) -> Outcome {
    let mut child = tool
        .command(args)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", tool.name()));
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + START;
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {args:?} still runs after {START:?}", tool.name());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Outcome {
        code: status.code().unwrap_or(-1),
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    }
}

/// One HTTP/1.1 GET on a fresh connection: the body, or what went wrong.
/// The body is read by its Content-Length: a forward need not pass the
/// server's close on at once (kubectl's does not).
pub fn http_get(addr: &str, path: &str) -> Result<String, String> {
    let mut tcp = TcpStream::connect(addr).map_err(|e| format!("connect: {e}"))?;
    tcp.set_read_timeout(Some(REQUEST))
        .map_err(|e| e.to_string())?;
    write!(
        tcp,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| format!("send: {e}"))?;
    let mut reader = BufReader::new(tcp);
    let mut status = String::new();
    reader
        .read_line(&mut status)
        .map_err(|e| format!("read: {e}"))?;
    if status.is_empty() {
        return Err("closed without a response".into());
    }
    if !status.starts_with("HTTP/1.1 200") {
        return Err(format!("not 200: {status:?}"));
    }
    let mut length = None;
    loop {
        let mut line = String::new();
        reader
            .read_line(&mut line)
            .map_err(|e| format!("read: {e}"))?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse::<usize>().ok();
        }
    }
    let length = length.ok_or("no Content-Length")?;
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .map_err(|e| format!("read the body: {e}"))?;
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// A local port free on 127.0.0.1 and ::1 now.
pub fn free_port() -> u16 {
    for _ in 0..50 {
        let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
        let port = v4.local_addr().expect("addr").port();
        if TcpListener::bind((Ipv6Addr::LOCALHOST, port)).is_ok() {
            return port;
        }
    }
    panic!("no port free on both 127.0.0.1 and ::1");
}

/// Holds `port` on both loopback addresses until dropped.
pub fn hold_port() -> (u16, Vec<TcpListener>) {
    let port = free_port();
    let held = [
        IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(Ipv6Addr::LOCALHOST),
    ]
    .into_iter()
    .map(|ip| TcpListener::bind((ip, port)).expect("hold the port"))
    .collect();
    (port, held)
}

/// Replaces each local port not in `fixed` by `PORT1`, `PORT2`… in order
/// of first appearance (random ports differ between runs).
pub fn normalise(lines: &[String], fixed: &[u16]) -> Vec<String> {
    let mut names: HashMap<String, String> = HashMap::new();
    lines
        .iter()
        .map(|line| {
            let port = if let Some(rest) = line.strip_prefix("Forwarding from ") {
                rest.split_whitespace()
                    .next()
                    .and_then(|addr| addr.rsplit(':').next())
                    .map(str::to_owned)
            } else {
                line.strip_prefix("Handling connection for ")
                    .map(str::to_owned)
            };
            let Some(port) = port.filter(|p| p.parse::<u16>().is_ok_and(|n| !fixed.contains(&n)))
            else {
                return line.clone();
            };
            let next = format!("PORT{}", names.len() + 1);
            let name = names.entry(port.clone()).or_insert(next).clone();
            if let Some(rest) = line.strip_prefix("Forwarding from ") {
                let (addr, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let host = addr.rsplit_once(':').map_or(addr, |(h, _)| h);
                format!("Forwarding from {host}:{name} {tail}")
            } else {
                format!("Handling connection for {name}")
            }
        })
        .collect()
}

/// Prints two transcripts side by side under a title (shown with
/// `--nocapture`: the comparison the tests make).
pub fn show(title: &str, kubectl: &[String], porthole: &[String]) {
    let width = kubectl.iter().map(String::len).max().unwrap_or(0).max(20);
    eprintln!("\n== {title}");
    eprintln!(
        "   {:<width$} | portholectl forward",
        "kubectl port-forward"
    );
    for i in 0..kubectl.len().max(porthole.len()) {
        let k = kubectl.get(i).map_or("", String::as_str);
        let p = porthole.get(i).map_or("", String::as_str);
        let mark = if k == p { ' ' } else { '≠' };
        eprintln!(" {mark} {k:<width$} | {p}");
    }
}

#[test]
fn random_ports_are_normalised_in_order_and_fixed_ones_kept() {
    let lines = strings(&[
        "Forwarding from 127.0.0.1:40001 -> 8080",
        "Forwarding from [::1]:40001 -> 8080",
        "Forwarding from 127.0.0.1:18080 -> 80",
        "Handling connection for 40001",
        "Handling connection for 18080",
    ]);
    assert_eq!(
        normalise(&lines, &[18080]),
        strings(&[
            "Forwarding from 127.0.0.1:PORT1 -> 8080",
            "Forwarding from [::1]:PORT1 -> 8080",
            "Forwarding from 127.0.0.1:18080 -> 80",
            "Handling connection for PORT1",
            "Handling connection for 18080",
        ])
    );
}
