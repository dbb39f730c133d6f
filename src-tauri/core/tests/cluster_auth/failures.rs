//! Failures that say what to do: refused, DNS.

use porthole_core::cluster::{ClusterProblem, ContextStatus};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn nothing_listening_is_connection_refused_with_the_address() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = scratch("refused");
    let mut entry = cluster_entry();
    entry["server"] = json!(format!("https://127.0.0.1:{port}"));
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::ConnectionRefused { address },
        } => assert_eq!(address, format!("127.0.0.1:{port}")),
        other => panic!("expected connection refused, got {other:?}"),
    }
}

#[tokio::test]
async fn an_unresolvable_host_is_a_dns_failure_naming_it() {
    let dir = scratch("dns");
    let mut entry = cluster_entry();
    entry["server"] = json!("https://no-such-cluster.invalid:6443");
    let path = write(&dir, &single(entry, user_entry("admin")));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem: ClusterProblem::Dns { host, .. },
        } => assert_eq!(host, "no-such-cluster.invalid"),
        other => panic!("expected a DNS failure, got {other:?}"),
    }
}

/// Fault injector: a TLS server presenting an expired certificate. A real
/// apiserver cannot be asked to serve an expired certificate on demand, so
/// this stub completes the handshake with one and nothing more.
struct ExpiredCertTlsStub {
    url: String,
    ca_pem: String,
    _task: tokio::task::JoinHandle<()>,
}

impl ExpiredCertTlsStub {
    async fn start() -> Self {
        use rustls::pki_types::pem::PemObject as _;
        let key = rcgen::KeyPair::generate().expect("key");
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned()]).expect("params");
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(30);
        params.not_after = now - time::Duration::days(1);
        let cert = params.self_signed(&key).expect("cert");
        let chain = vec![cert.der().clone()];
        let private =
            rustls::pki_types::PrivateKeyDer::from_pem_slice(key.serialize_pem().as_bytes())
                .expect("key pem");
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(chain, private)
            .expect("server config");
        let acceptor = tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!("https://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let _ = acceptor.accept(stream).await;
                });
            }
        });
        Self {
            url,
            ca_pem: cert.pem(),
            _task: task,
        }
    }
}

#[tokio::test]
async fn an_expired_server_certificate_is_named_as_expired() {
    use base64::Engine as _;
    let stub = ExpiredCertTlsStub::start().await;
    let dir = scratch("expired");
    let entry = json!({
        "server": stub.url,
        "certificate-authority-data": base64::engine::general_purpose::STANDARD.encode(&stub.ca_pem),
    });
    let path = write(&dir, &single(entry, json!({ "token": "irrelevant-here" })));
    match status(&client(&path, "ctx").await).await {
        ContextStatus::Failed {
            problem:
                ClusterProblem::Tls {
                    problem: porthole_core::cluster::TlsProblem::Expired,
                },
        } => {}
        other => panic!("expected an expired certificate, got {other:?}"),
    }
}

#[tokio::test]
async fn a_broken_kubeconfig_entry_names_file_line_and_field() {
    let dir = scratch("broken-entry");
    let path = dir.join("config.yaml");
    let server = cluster_entry()["server"]
        .as_str()
        .expect("server")
        .to_owned();
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\nusers:\n- name: u\n  user:\n    client-certificate: missing.crt\n    client-key: missing.key\ncontexts:\n- name: ctx\n  context:\n    cluster: c\n    user: u\ncurrent-context: ctx\n"
        ),
    )
    .expect("write");
    let merged = porthole_core::kubeconfig::load_merged(
        &porthole_core::kubeconfig::KubeconfigSources::explicit(&path),
    )
    .await
    .expect("loads");
    let problem = porthole_core::cluster::client_for_context(&merged, "ctx", &env())
        .await
        .expect_err("the certificate file is missing");
    match &problem {
        ClusterProblem::Kubeconfig {
            file,
            line,
            field,
            reason,
        } => {
            assert_eq!(file.as_deref(), Some(path.display().to_string().as_str()));
            assert_eq!(*line, Some(10), "{problem}");
            assert_eq!(field, "users[\"u\"].user.client-certificate");
            assert!(reason.contains("missing.crt"), "{reason}");
        }
        other => panic!("expected a kubeconfig problem, got {other:?}"),
    }
    println!("{problem}");
}
