//! Test helpers: start a backend in-process and talk to it with hyper's
//! HTTP/1 client.

#![allow(dead_code)]

use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::HeaderMap;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use porthole_test_backends::{Backend, Mode};
use tokio::net::{TcpListener, TcpStream};

/// A backend running in this process on 127.0.0.1 with a free port.
pub struct Started {
    pub addr: SocketAddr,
    pub cert_der: Option<Vec<u8>>,
}

pub async fn start(mode: Mode) -> Started {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let backend = Backend::new(mode, listener).expect("prepare backend");
    let started = Started {
        addr: backend.local_addr(),
        cert_der: backend.certificate_der().map(<[u8]>::to_vec),
    };
    tokio::spawn(backend.run(std::future::pending()));
    started
}

/// A response with its body read completely.
pub struct Collected {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Collected {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("response body is JSON")
    }

    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .unwrap_or_else(|| panic!("response has no {name} header"))
            .to_str()
            .expect("header is ASCII")
    }
}

/// Sends `req` on a fresh HTTP/1.1 connection and returns the response head
/// with the body still streaming.
pub async fn send_streaming(addr: SocketAddr, req: Request<Full<Bytes>>) -> Response<Incoming> {
    let tcp = TcpStream::connect(addr).await.expect("connect to backend");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp))
        .await
        .expect("HTTP/1 handshake");
    tokio::spawn(conn);
    sender.send_request(req).await.expect("send request")
}

/// Sends `req` and reads the whole response.
pub async fn send(addr: SocketAddr, req: Request<Full<Bytes>>) -> Collected {
    collect(send_streaming(addr, req).await).await
}

pub async fn collect(response: Response<Incoming>) -> Collected {
    let (parts, body) = response.into_parts();
    let body = body.collect().await.expect("read body").to_bytes();
    Collected {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// A GET request for `path` with a Host header.
pub fn get_request(addr: SocketAddr, path: &str) -> Request<Full<Bytes>> {
    Request::get(path)
        .header("host", addr.to_string())
        .body(Full::new(Bytes::new()))
        .expect("valid request")
}

pub async fn get(addr: SocketAddr, path: &str) -> Collected {
    send(addr, get_request(addr, path)).await
}
