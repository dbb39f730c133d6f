//! Forward proxies (kubeconfig `proxy-url`) and the status probe's fault
//! injectors, with kubectl as the client.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use porthole_testkit::faults::{Blackhole, StallingTlsStub, refused_addr};
use porthole_testkit::kubeconfig::{Builder, ClusterEntry};
use porthole_testkit::proxies::{HttpConnectProxy, ProxyHandle, Socks5Proxy};
use porthole_testkit::users::ADMIN;
use serde_json::json;

use crate::support::{cluster, ok, run};

/// A kubeconfig for admin (certificate files) at `cluster`.
fn admin_kubeconfig(name: &str, cluster_entry: ClusterEntry) -> PathBuf {
    let c = cluster();
    let (cert, key) = c.state.client_cert_files(ADMIN).expect("admin cert files");
    let dir = c.scratch_dir("network").expect("scratch");
    Builder::new(cluster_entry)
        .user(json!({
            "client-certificate": cert.display().to_string(),
            "client-key": key.display().to_string(),
        }))
        .write_yaml(&dir.join(name))
        .expect("kubeconfig")
}

fn readyz(kubeconfig: &PathBuf, timeout: &str) -> std::process::Output {
    let mut k = Command::new("kubectl");
    k.arg("--kubeconfig")
        .arg(kubeconfig)
        .args(["--request-timeout", timeout, "get", "--raw", "/readyz"])
        .stdin(Stdio::null());
    run(k)
}

fn through(proxy: &ProxyHandle, proxy_url: &str, server: &str, name: &str) -> std::process::Output {
    let state = &cluster().state;
    let entry = ClusterEntry::new(server)
        .ca_pem(&state.ca_pem().expect("ca"))
        .proxy_url(proxy_url);
    let before = proxy.tunnels();
    let out = readyz(&admin_kubeconfig(name, entry), "20s");
    if out.status.success() {
        assert!(proxy.tunnels() > before, "the proxy opened a tunnel");
    }
    out
}

#[test]
fn kubectl_reaches_the_apiserver_through_an_http_connect_proxy() {
    let state = &cluster().state;
    let proxy = HttpConnectProxy::start().expect("proxy");
    let server = state.server_url().expect("url");
    let out = through(&proxy, &proxy.url(), server, "http-proxy");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "ok");
    let port = state.apiserver.as_ref().expect("apiserver").port;
    assert!(
        proxy.targets().contains(&format!("127.0.0.1:{port}")),
        "{:?}",
        proxy.targets()
    );
}

#[test]
fn http_proxy_with_basic_credentials() {
    let server = cluster().state.server_url().expect("url").to_owned();
    let proxy = HttpConnectProxy::start_with_basic_auth("pxuser", "pxpass").expect("proxy");
    let good = format!("http://pxuser:pxpass@{}", proxy.addr());
    let out = through(&proxy, &good, &server, "auth-proxy-good");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let refused = proxy.refused();
    let bad = format!("http://pxuser:wrong@{}", proxy.addr());
    let out = through(&proxy, &bad, &server, "auth-proxy-bad");
    assert!(!out.status.success(), "wrong proxy credentials must fail");
    assert!(proxy.refused() > refused);
}

#[test]
fn kubectl_reaches_the_apiserver_through_socks5_by_ip_and_by_name() {
    let state = &cluster().state;
    let proxy = Socks5Proxy::start().expect("proxy");
    let port = state.apiserver.as_ref().expect("apiserver").port;
    let out = through(
        &proxy,
        &proxy.url(),
        state.server_url().expect("url"),
        "socks-ip",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A host name goes to the proxy as a domain (address type 3).
    let by_name = format!("https://localhost:{port}");
    let out = through(&proxy, &proxy.url(), &by_name, "socks-name");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let targets = proxy.targets();
    assert!(
        targets.contains(&format!("127.0.0.1:{port}")),
        "{targets:?}"
    );
    assert!(
        targets.contains(&format!("localhost:{port}")),
        "{targets:?}"
    );
    assert!(proxy.tunnels() >= 2);
}

#[test]
fn socks5_ipv6_target_and_unsupported_command() {
    use std::io::{Read, Write};
    let Ok(v6) = std::net::TcpListener::bind("[::1]:0") else {
        panic!("IPv6 loopback is not available on this machine; the SOCKS5 IPv6 case needs it");
    };
    let target = v6.local_addr().expect("addr");
    let proxy = Socks5Proxy::start().expect("proxy");
    let mut s = std::net::TcpStream::connect(proxy.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(&[5, 1, 0]).expect("greeting");
    let mut reply = [0u8; 2];
    s.read_exact(&mut reply).expect("method reply");
    assert_eq!(reply, [5, 0]);
    let mut req = vec![5, 1, 0, 4];
    req.extend_from_slice(&std::net::Ipv6Addr::LOCALHOST.octets());
    req.extend_from_slice(&target.port().to_be_bytes());
    s.write_all(&req).expect("request");
    let mut rep = [0u8; 10];
    s.read_exact(&mut rep).expect("reply");
    assert_eq!(rep[1], 0, "CONNECT to [::1] succeeded");
    let (mut accepted, _) = v6.accept().expect("the proxy connected to the target");
    s.write_all(b"ping").expect("send");
    let mut buf = [0u8; 4];
    accepted.read_exact(&mut buf).expect("tunnelled bytes");
    assert_eq!(&buf, b"ping");
    assert!(
        proxy
            .targets()
            .contains(&format!("[::1]:{}", target.port()))
    );

    // BIND (2) is refused with "command not supported".
    let mut s = std::net::TcpStream::connect(proxy.addr()).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    s.write_all(&[5, 1, 0]).expect("greeting");
    s.read_exact(&mut reply).expect("method reply");
    s.write_all(&[5, 2, 0, 1, 127, 0, 0, 1, 0, 80])
        .expect("request");
    s.read_exact(&mut rep).expect("reply");
    assert_eq!(rep[1], 7);
}

#[test]
fn probe_faults_stall_hang_and_refuse() {
    let state = &cluster().state;
    let ca = state.ca_pem().expect("ca");

    let stub = StallingTlsStub::start().expect("stub");
    let kc = admin_kubeconfig("stall", ClusterEntry::new(&stub.url()).ca_pem(&ca));
    let t = Instant::now();
    let out = readyz(&kc, "2s");
    assert!(!out.status.success());
    assert!(stub.accepted() >= 1, "TCP was accepted");
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "it hung until the timeout"
    );

    let hole = Blackhole::new().expect("blackhole");
    let kc = admin_kubeconfig("blackhole", ClusterEntry::new(&hole.url()).ca_pem(&ca));
    let t = Instant::now();
    let out = readyz(&kc, "2s");
    assert!(!out.status.success());
    assert!(
        t.elapsed() >= Duration::from_secs(2),
        "connect hung until the timeout"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("refused"), "{err}");

    let refused = refused_addr().expect("port");
    let kc = admin_kubeconfig(
        "refused",
        ClusterEntry::new(&format!("https://{refused}")).ca_pem(&ca),
    );
    let out = readyz(&kc, "10s");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("refused"), "{err}");
    // The real apiserver still answers (ok() is the control).
    let good = admin_kubeconfig("good", ClusterEntry::for_state(state).expect("entry"));
    let mut k = Command::new("kubectl");
    k.arg("--kubeconfig")
        .arg(&good)
        .args(["get", "--raw", "/readyz"]);
    assert_eq!(ok(k).trim(), "ok");
}
