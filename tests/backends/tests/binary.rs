//! The `porthole-backends` binary: ready file, signals, bind errors.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use porthole_test_backends::cli::Ready;

const BIN: &str = env!("CARGO_BIN_EXE_porthole-backends");

fn wait_for_ready_file(path: &Path, child: &mut Child) -> Ready {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(text) = std::fs::read_to_string(path) {
            return serde_json::from_str(&text).expect("ready file is valid JSON");
        }
        if let Some(status) = child.try_wait().expect("poll child") {
            panic!("porthole-backends exited early: {status}");
        }
        assert!(Instant::now() < deadline, "no ready file after 20 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_with_timeout(child: &mut Child, timeout: Duration) -> ExitStatus {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().expect("poll child") {
            return status;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            panic!("porthole-backends did not exit within {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn healthz(addr: SocketAddr) -> String {
    let mut tcp = TcpStream::connect(addr).expect("connect");
    tcp.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("set timeout");
    write!(
        tcp,
        "GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send request");
    let mut response = String::new();
    tcp.read_to_string(&mut response).expect("read response");
    response
}

#[test]
fn binary_writes_the_ready_file_with_real_ports_and_exits_zero_on_sigterm() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ready_path = dir.path().join("ready.json");
    let mut child = Command::new(BIN)
        .args(["--serve", "echo=127.0.0.1:0", "--serve", "spa=127.0.0.1:0"])
        .arg("--ready-file")
        .arg(&ready_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start porthole-backends");

    let ready = wait_for_ready_file(&ready_path, &mut child);
    assert_eq!(ready.pid, child.id());
    let modes: Vec<&str> = ready.listeners.iter().map(|l| l.mode.as_str()).collect();
    assert_eq!(modes, ["echo", "spa"]);
    for listener in &ready.listeners {
        let addr: SocketAddr = listener.addr.parse().expect("addr is IP:PORT");
        assert_eq!(addr.ip().to_string(), "127.0.0.1");
        assert_ne!(addr.port(), 0, "the real port is listed");
        let response = healthz(addr);
        assert!(response.starts_with("HTTP/1.1 200"), "{response}");
        assert!(response.ends_with("\r\n\r\nok"), "{response}");
    }

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("run kill");
    assert!(killed.success());
    let status = wait_with_timeout(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0), "exit status {status}");
}

#[test]
fn binary_lists_the_https_certificate_in_the_ready_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ready_path = dir.path().join("ready.json");
    let mut child = Command::new(BIN)
        .args(["--serve", "https=127.0.0.1:0", "--ready-file"])
        .arg(&ready_path)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start porthole-backends");
    let ready = wait_for_ready_file(&ready_path, &mut child);
    let pem = ready.listeners[0].cert_pem.as_deref().expect("certPem");
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn binary_bind_failure_exits_non_zero_naming_mode_and_address() {
    let taken = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = taken.local_addr().expect("local addr");
    let output = Command::new(BIN)
        .args(["--serve", "echo=127.0.0.1:0"])
        .args(["--serve", &format!("websocket={addr}")])
        .output()
        .expect("run porthole-backends");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("websocket listener on {addr}")),
        "{stderr}"
    );
}

#[test]
fn binary_rejects_bad_arguments_with_usage() {
    let output = Command::new(BIN)
        .args(["--serve", "gopher=127.0.0.1:0"])
        .output()
        .expect("run porthole-backends");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("unknown mode"), "{stderr}");
    assert!(stderr.contains("usage: porthole-backends"), "{stderr}");
}
