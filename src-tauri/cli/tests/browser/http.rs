//! One HTTP/1.1 request to the proxy with the `Host` and headers a test
//! chooses: how a browser's request looks on the wire, without the browser
//! (so the proxy's own answer is seen, not what CSP or CORS made of it).

use std::time::Duration;

use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;

pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

impl Answer {
    /// Whether the body is (or contains) the Kubernetes namespace list.
    pub fn has_namespace_list(&self) -> bool {
        self.body.contains("\"NamespaceList\"")
    }

    /// One line for the record.
    pub fn summary(&self) -> String {
        let start: String = self
            .body
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .take(160)
            .collect();
        format!("status {}, body: {start}", self.status)
    }
}

/// `GET path` on 127.0.0.1:`port` with `Host: host` and `headers`.
pub fn get(port: u16, host: &str, path: &str, headers: &[(&str, &str)]) -> Answer {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .expect("connect to the proxy");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1.1 handshake");
        tokio::spawn(conn);
        let mut request = Request::get(path).header("host", host);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Empty::<Bytes>::new()).expect("request");
        let response = sender.send_request(request).await.expect("response head");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("response body")
            .to_bytes();
        Answer {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        }
    };
    runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(30), exchange).await })
        .unwrap_or_else(|_| panic!("GET http://{host}{path}: no answer within 30 s"))
}
