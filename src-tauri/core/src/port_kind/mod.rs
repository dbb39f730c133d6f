//! What a service port speaks, as far as its name, `appProtocol` or number
//! tell: HTTP (opened in the browser through the apiserver's proxy, and
//! forwardable too) or something else — a database, a cache, gRPC, a queue
//! — that a browser cannot talk to, so the app offers a port-forward and
//! the command line of its usual client instead ([`commands`]).
//!
//! # The rule
//!
//! The first of these that says something decides:
//!
//! 1. `appProtocol` (any case; a `kubernetes.io/` prefix dropped): `http`,
//!    `https`, `ws`, `wss` are HTTP; `h2c` and `grpc` are gRPC; a known
//!    protocol name (`postgresql`, `redis`, `mysql`, `mongodb`, …) is that.
//! 2. The port's name, split into words at `-` and `_` (Istio names ports
//!    `<protocol>[-<suffix>]`): a word like `http`, `https`, `web`,
//!    `metrics` or `ui` makes it HTTP (`grpc-web` included); otherwise a
//!    word naming a protocol (`postgres`, `pg`, `redis`, `grpc`, `amqp`,
//!    `kafka`, …) makes it that, and `tcp` makes it plain TCP.
//! 3. The number, for the well-known ports of those protocols (5432
//!    postgres, 3306 mysql, 6379 redis, 27017 mongodb, 9090 and 50051 gRPC,
//!    5672 amqp, 9092 kafka, 11211 memcached, 4222 nats, …); 443 and the
//!    scheme rule of [`crate::urls::is_https`] make it HTTPS.
//!
//! Anything else is HTTP, as Porthole has always treated it: a port that
//! does not say is offered "Open" (and "Forward"), never hidden.
//!
//! The name wins over the number on purpose: Prometheus serves HTTP on
//! 9090 under the name `web`, and a database moved to 8080 still says
//! `postgres` in its port name.

pub mod commands;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::urls::is_https;

pub use commands::{ClientCommand, client_commands};

/// What a port speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub enum PortKind {
    /// HTTP (the default when nothing says otherwise).
    #[default]
    Http,
    /// HTTP over TLS (the scheme rule of [`crate::urls`]).
    Https,
    Postgres,
    Mysql,
    Redis,
    Mongodb,
    Grpc,
    Amqp,
    Kafka,
    Memcached,
    Nats,
    Mqtt,
    Cassandra,
    Mssql,
    Zookeeper,
    Ssh,
    Ldap,
    /// A TCP protocol Porthole has no client command for.
    Tcp,
}

impl PortKind {
    /// Opened in a browser (through the apiserver's proxy); everything
    /// else is reached by a port-forward.
    pub fn is_http(self) -> bool {
        matches!(self, Self::Http | Self::Https)
    }
}

/// Words in port names and `appProtocol` values that mean HTTP.
const HTTP_WORDS: &[&str] = &[
    "http",
    "http1",
    "http2",
    "https",
    "web",
    "www",
    "ui",
    "metrics",
    "dashboard",
    "ws",
    "wss",
    "websocket",
    "grpcweb",
];

/// Protocol words and the kind they name.
const PROTOCOL_WORDS: &[(&str, PortKind)] = &[
    ("postgres", PortKind::Postgres),
    ("postgresql", PortKind::Postgres),
    ("pg", PortKind::Postgres),
    ("pgsql", PortKind::Postgres),
    ("psql", PortKind::Postgres),
    ("mysql", PortKind::Mysql),
    ("mariadb", PortKind::Mysql),
    ("redis", PortKind::Redis),
    ("valkey", PortKind::Redis),
    ("sentinel", PortKind::Redis),
    ("mongo", PortKind::Mongodb),
    ("mongodb", PortKind::Mongodb),
    ("grpc", PortKind::Grpc),
    ("h2c", PortKind::Grpc),
    ("amqp", PortKind::Amqp),
    ("amqps", PortKind::Amqp),
    ("rabbitmq", PortKind::Amqp),
    ("kafka", PortKind::Kafka),
    ("memcache", PortKind::Memcached),
    ("memcached", PortKind::Memcached),
    ("nats", PortKind::Nats),
    ("mqtt", PortKind::Mqtt),
    ("mqtts", PortKind::Mqtt),
    ("cql", PortKind::Cassandra),
    ("cassandra", PortKind::Cassandra),
    ("mssql", PortKind::Mssql),
    ("sqlserver", PortKind::Mssql),
    ("tds", PortKind::Mssql),
    ("zookeeper", PortKind::Zookeeper),
    ("zk", PortKind::Zookeeper),
    ("ssh", PortKind::Ssh),
    ("sftp", PortKind::Ssh),
    ("ldap", PortKind::Ldap),
    ("ldaps", PortKind::Ldap),
    ("tcp", PortKind::Tcp),
    ("tls", PortKind::Tcp),
];

/// Well-known port numbers of the protocols above.
const PROTOCOL_PORTS: &[(i32, PortKind)] = &[
    (5432, PortKind::Postgres),
    (3306, PortKind::Mysql),
    (6379, PortKind::Redis),
    (26379, PortKind::Redis),
    (27017, PortKind::Mongodb),
    (9090, PortKind::Grpc),
    (50051, PortKind::Grpc),
    (5672, PortKind::Amqp),
    (5671, PortKind::Amqp),
    (9092, PortKind::Kafka),
    (11211, PortKind::Memcached),
    (4222, PortKind::Nats),
    (1883, PortKind::Mqtt),
    (8883, PortKind::Mqtt),
    (9042, PortKind::Cassandra),
    (1433, PortKind::Mssql),
    (2181, PortKind::Zookeeper),
    (22, PortKind::Ssh),
    (389, PortKind::Ldap),
    (636, PortKind::Ldap),
];

/// See the module documentation.
pub fn classify(name: Option<&str>, port: i32, app_protocol: Option<&str>) -> PortKind {
    let https = is_https(name, port, app_protocol);
    let web = |kind: PortKind| {
        if kind == PortKind::Http && https {
            PortKind::Https
        } else {
            kind
        }
    };
    if let Some(kind) = app_protocol.and_then(by_app_protocol) {
        return web(kind);
    }
    if let Some(kind) = name.and_then(by_name) {
        return web(kind);
    }
    if https {
        return PortKind::Https;
    }
    PROTOCOL_PORTS
        .iter()
        .find(|(n, _)| *n == port)
        .map_or(PortKind::Http, |(_, kind)| *kind)
}

/// `appProtocol`: an IANA name, or `kubernetes.io/h2c` and friends.
fn by_app_protocol(value: &str) -> Option<PortKind> {
    let value = value.trim().to_ascii_lowercase();
    let bare = value.rsplit('/').next().unwrap_or_default();
    if bare.is_empty() {
        return None;
    }
    if HTTP_WORDS.contains(&bare) {
        return Some(PortKind::Http);
    }
    word_kind(bare)
}

/// A port name, word by word: an HTTP word anywhere wins (`http-metrics`,
/// `grpc-web`), else the first protocol word (`tcp` and `tls` last:
/// `tcp-postgres` is postgres).
fn by_name(name: &str) -> Option<PortKind> {
    let name = name.trim().to_ascii_lowercase();
    if name.is_empty() {
        return None;
    }
    if name.contains("grpc-web") || name.contains("grpcweb") {
        return Some(PortKind::Http);
    }
    let words: Vec<&str> = name
        .split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.iter().any(|w| HTTP_WORDS.contains(w)) {
        return Some(PortKind::Http);
    }
    let kinds: Vec<PortKind> = words.iter().filter_map(|w| word_kind(w)).collect();
    kinds
        .iter()
        .find(|k| **k != PortKind::Tcp)
        .or_else(|| kinds.first())
        .copied()
}

fn word_kind(word: &str) -> Option<PortKind> {
    PROTOCOL_WORDS
        .iter()
        .find(|(w, _)| *w == word)
        .map(|(_, kind)| *kind)
}

#[cfg(test)]
mod tests {
    use super::PortKind::*;
    use super::*;

    #[test]
    fn databases_caches_and_queues_are_known_by_name() {
        for (name, port, kind) in [
            ("postgres", 5432, Postgres),
            ("postgresql", 15432, Postgres),
            ("tcp-postgres", 5432, Postgres),
            ("pg", 6000, Postgres),
            ("mysql", 3306, Mysql),
            ("redis", 6379, Redis),
            ("redis-sentinel", 26379, Redis),
            ("mongodb", 27017, Mongodb),
            ("grpc", 9090, Grpc),
            ("grpc-api", 8081, Grpc),
            ("amqp", 5672, Amqp),
            ("kafka_broker", 9092, Kafka),
            ("memcache", 11211, Memcached),
            ("nats", 4222, Nats),
            ("client", 4222, Nats),
            ("tcp", 7000, Tcp),
            ("tls-passthrough", 8443, Tcp),
        ] {
            assert_eq!(classify(Some(name), port, None), kind, "{name}:{port}");
            assert!(!kind.is_http(), "{name}");
        }
    }

    #[test]
    fn an_http_word_in_the_name_wins_over_the_number_and_other_words() {
        for (name, port) in [
            ("web", 9090),
            ("http", 5432),
            ("http-metrics", 9090),
            ("grpc-web", 8080),
            ("redis-metrics", 9121),
            ("ui", 6379),
        ] {
            assert_eq!(classify(Some(name), port, None), Http, "{name}:{port}");
        }
        assert_eq!(classify(Some("https"), 8443, None), Https);
        assert_eq!(classify(Some("web-https"), 8443, None), Https);
    }

    #[test]
    fn the_number_decides_when_the_name_says_nothing() {
        assert_eq!(classify(None, 5432, None), Postgres);
        assert_eq!(classify(Some("db"), 3306, None), Mysql);
        assert_eq!(classify(Some(""), 6379, None), Redis);
        assert_eq!(classify(Some("api"), 9090, None), Grpc);
        assert_eq!(classify(None, 27017, None), Mongodb);
        assert_eq!(classify(None, 443, None), Https);
        assert_eq!(classify(None, 80, None), Http);
        assert_eq!(classify(Some("api"), 8086, None), Http, "unknown: HTTP");
    }

    #[test]
    fn app_protocol_comes_first() {
        assert_eq!(classify(Some("http"), 80, Some("kubernetes.io/h2c")), Grpc);
        assert_eq!(classify(Some("api"), 9000, Some("grpc")), Grpc);
        assert_eq!(classify(Some("db"), 5432, Some("http")), Http);
        assert_eq!(classify(None, 8443, Some("kubernetes.io/https")), Https);
        assert_eq!(classify(None, 8080, Some("kubernetes.io/ws")), Http);
        assert_eq!(classify(None, 1, Some("postgresql")), Postgres);
        assert_eq!(classify(Some("redis"), 6379, Some("something-else")), Redis);
        assert_eq!(classify(Some("x"), 5432, Some("")), Postgres);
    }

    #[test]
    fn only_http_and_https_open_in_the_browser() {
        assert!(Http.is_http());
        assert!(Https.is_http());
        for kind in [Postgres, Grpc, Tcp, Redis, Kafka] {
            assert!(!kind.is_http(), "{kind:?}");
        }
    }

    #[test]
    fn kinds_are_camel_case_for_the_ui() {
        assert_eq!(
            serde_json::to_string(&Mongodb).expect("json"),
            "\"mongodb\""
        );
        assert_eq!(serde_json::to_string(&Https).expect("json"), "\"https\"");
    }
}
