//! The portholectl verbs against the test cluster, with `portholectl proxy`
//! running: the issue's acceptance commands.

use std::process::{Command, Stdio};

use crate::support::*;

fn ctl(args: &[&str]) -> std::process::Output {
    Command::new(portholectl())
        .arg("--kubeconfig")
        .arg(cluster().kubeconfig())
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("portholectl runs")
}

fn text(out: &std::process::Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn cluster_info_lists_the_handbook_builtins_with_working_urls() {
    let proxy = ProxyChild::start("porthole-admin");
    let port = proxy.port.to_string();
    let out = ctl(&["cluster-info", "--proxy-port", &port]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    println!("{stdout}");
    assert!(stdout.starts_with(&format!(
        "Kubernetes control plane is running at {}\n",
        cluster().apiserver_url()
    )));
    let out = ctl(&["cluster-info", "--proxy-port", &port, "-o", "json"]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let services = info["services"].as_array().expect("services");
    for builtin in [
        "elasticsearch-logging",
        "kibana-logging",
        "kube-dns",
        "monitoring-grafana",
    ] {
        let entry = services
            .iter()
            .find(|s| s["title"] == builtin)
            .unwrap_or_else(|| panic!("{builtin} missing: {info}"));
        let porthole = entry["urls"]["portholeUrl"]
            .as_str()
            .expect("a Porthole URL");
        assert!(stdout_has(
            &ctl(&["cluster-info", "--proxy-port", &port]),
            porthole
        ));
        let answer = get(porthole).await;
        assert_eq!(answer.status, 200, "{builtin} at {porthole}: {answer:?}");
        let apiserver = entry["urls"]["apiserverUrl"]
            .as_str()
            .expect("an apiserver URL");
        assert!(
            apiserver.starts_with(cluster().apiserver_url()),
            "{apiserver}"
        );
    }
}

fn stdout_has(out: &std::process::Output, needle: &str) -> bool {
    String::from_utf8_lossy(&out.stdout).contains(needle)
}

#[tokio::test]
async fn curl_the_elasticsearch_health_through_the_url_portholectl_prints() {
    let proxy = ProxyChild::start("porthole-admin");
    // The handbook line, as a user types it.
    let line = format!(
        r#"curl -sS --max-time 20 "$({} --kubeconfig '{}' url kube-system/elasticsearch-logging --proxy-port {})_cluster/health?pretty=true""#,
        portholectl().display(),
        cluster().kubeconfig().display(),
        proxy.port
    );
    let out = Command::new("sh")
        .args(["-c", &line])
        .stdin(Stdio::null())
        .output()
        .expect("sh runs");
    let (stdout, stderr) = text(&out);
    println!("$ {line}\n{stdout}");
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains(r#""cluster_name" : "kubernetes_logging""#),
        "{stdout}"
    );
    assert!(stdout.contains(r#""status" : "yellow""#), "{stdout}");
}

#[test]
fn services_and_url_say_what_they_can_and_cannot_do() {
    let out = ctl(&["services", "-A", "-o", "json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let list: serde_json::Value = serde_json::from_str(&stdout).expect("JSON");
    let services = list["services"].as_array().expect("services");
    assert!(services.len() >= 35, "{}", services.len());
    let table = ctl(&["services", "-n", "team-a"]);
    let (stdout, _) = text(&table);
    assert!(
        stdout.starts_with("NAME"),
        "no namespace column with -n: {stdout}"
    );
    assert!(
        stdout.contains("http://http.web.team-a.porthole-admin.localhost:8001/"),
        "{stdout}"
    );
    // The context's namespace by default (viewer: team-a).
    let viewer = ctl(&["services", "--context", "porthole-viewer"]);
    assert!(viewer.status.success());
    assert!(stdout_has(&viewer, "porthole-viewer.localhost"));

    let ok = ctl(&["url", "team-a/api:grpc", "--proxy-port", "18001"]);
    assert_eq!(
        text(&ok).0,
        "http://grpc.api.team-a.porthole-admin.localhost:18001/\n"
    );
    let curl = ctl(&["url", "--curl", "default/secure"]);
    assert_eq!(
        text(&curl).0,
        "curl 'http://https--https.secure.default.porthole-admin.localhost:8001/'\n"
    );
    let apiserver = ctl(&["url", "--apiserver", "default/numeric-only"]);
    assert_eq!(
        text(&apiserver).0,
        format!(
            "{}/api/v1/namespaces/default/services/numeric-only:9200/proxy/\n",
            cluster().apiserver_url()
        )
    );
    let ext = ctl(&["url", "default/external-name"]);
    let (_, stderr) = text(&ext);
    assert!(!ext.status.success());
    assert!(
        stderr.contains("ExternalName") && stderr.contains("https://search.porthole.test/"),
        "{stderr}"
    );
    let udp = ctl(&["url", "kube-system/kube-dns:dns"]);
    assert!(!udp.status.success());
    assert!(
        text(&udp).1.contains("use the TCP port dns-tcp"),
        "{:?}",
        text(&udp)
    );
    let missing = ctl(&["url", "default/echo:nope"]);
    assert!(
        text(&missing).1.contains("has no port \"nope\""),
        "{:?}",
        text(&missing)
    );
    let gone = ctl(&["url", "default/no-such-service"]);
    assert!(
        text(&gone).1.contains("no service \"no-such-service\""),
        "{:?}",
        text(&gone)
    );
}

#[tokio::test]
async fn open_starts_the_proxy_when_none_runs_and_hands_the_url_to_the_browser() {
    let dir = cluster()
        .scratch_dir(&format!("discovery-open-{}", std::process::id()))
        .expect("scratch");
    let recorded = dir.join("opened.txt");
    let recorder = dir.join("browser.sh");
    std::fs::write(
        &recorder,
        format!("#!/bin/sh\necho \"$1\" >> '{}'\n", recorded.display()),
    )
    .expect("write recorder");
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&recorder, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    let port = free_port().to_string();
    let recorder_cmd = recorder.display().to_string();
    let out = ctl(&[
        "open",
        "team-a/web",
        "--proxy-port",
        &port,
        "--browser",
        &recorder_cmd,
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("started `portholectl proxy"), "{stderr}");
    let pid: i32 = stderr
        .split("(pid ")
        .nth(1)
        .and_then(|s| s.split(',').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a pid in: {stderr}"));
    struct Kill(i32);
    impl Drop for Kill {
        fn drop(&mut self) {
            // SAFETY: signalling the proxy this test started, by its pid.
            unsafe {
                libc::kill(self.0, libc::SIGTERM);
            }
        }
    }
    let _kill = Kill(pid);
    let url = format!("http://http.web.team-a.porthole-admin.localhost:{port}/");
    assert_eq!(stdout.trim(), url);
    let opened = std::fs::read_to_string(&recorded).expect("the browser was run");
    assert_eq!(opened.trim(), url);
    let answer = get(&url).await;
    assert_eq!(answer.status, 200, "{answer:?}");
    assert!(
        answer.body.contains("<html") || answer.body.contains("<!doctype"),
        "{}",
        answer.body
    );

    // Again: the proxy runs now, so none is started; `%s` and PORTHOLE_BROWSER work.
    let again = Command::new(portholectl())
        .arg("--kubeconfig")
        .arg(cluster().kubeconfig())
        .args(["open", "default/numeric-only", "--proxy-port", &port])
        .env("PORTHOLE_BROWSER", format!("{} %s", recorder.display()))
        .stdin(Stdio::null())
        .output()
        .expect("portholectl runs");
    let (stdout, stderr) = text(&again);
    assert!(again.status.success(), "{stdout}{stderr}");
    assert!(!stderr.contains("started"), "{stderr}");
    let opened = std::fs::read_to_string(&recorded).expect("recorded");
    assert!(
        opened
            .lines()
            .any(|l| l
                == format!("http://9200.numeric-only.default.porthole-admin.localhost:{port}/")),
        "{opened}"
    );
}
