//! Ready-made command lines for reaching a forwarded port with the usual
//! client of what it speaks (`psql`, `redis-cli`, `grpcurl`, …), plus a
//! plain `nc` for anything TCP. Shown next to a forward's local address,
//! each with a copy button.

use std::net::{IpAddr, SocketAddr};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::PortKind;

/// One command line and the tool it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ClientCommand {
    /// The program (`psql`), as a label.
    pub tool: String,
    /// The whole command line, ready to paste into a shell.
    pub command: String,
}

/// The commands that reach `kind` on the local `address`: its own
/// client's first, then `nc` for every protocol that is not HTTP.
pub fn client_commands(kind: PortKind, address: SocketAddr) -> Vec<ClientCommand> {
    let host = address.ip().to_string();
    let port = address.port();
    // `[::1]:5432` where a client takes HOST:PORT or a URL.
    let host_port = SocketAddr::new(address.ip(), port).to_string();
    let url_host = match address.ip() {
        IpAddr::V4(_) => host.clone(),
        IpAddr::V6(_) => format!("[{host}]"),
    };
    let one = |tool: &str, command: String| ClientCommand {
        tool: tool.to_owned(),
        command,
    };
    let mut commands = match kind {
        PortKind::Http => vec![one("curl", format!("curl http://{host_port}/"))],
        PortKind::Https => vec![one("curl", format!("curl -k https://{host_port}/"))],
        PortKind::Postgres => vec![one("psql", format!("psql -h {host} -p {port}"))],
        PortKind::Mysql => vec![one("mysql", format!("mysql -h {host} -P {port}"))],
        PortKind::Redis => vec![one("redis-cli", format!("redis-cli -h {host} -p {port}"))],
        PortKind::Mongodb => vec![one("mongosh", format!("mongosh mongodb://{host_port}"))],
        PortKind::Grpc => vec![one(
            "grpcurl",
            format!("grpcurl -plaintext {host_port} list"),
        )],
        PortKind::Kafka => vec![one("kcat", format!("kcat -b {host_port} -L"))],
        PortKind::Nats => vec![one(
            "nats",
            format!("nats --server nats://{host_port} server check connection"),
        )],
        PortKind::Amqp => vec![one(
            "rabbitmqadmin",
            format!("rabbitmqadmin --host {host} --port {port} list queues"),
        )],
        PortKind::Memcached => vec![one(
            "memcached stats",
            format!("printf 'stats\\nquit\\n' | nc {host} {port}"),
        )],
        PortKind::Mqtt => vec![one(
            "mosquitto_sub",
            format!("mosquitto_sub -h {host} -p {port} -t '#' -v"),
        )],
        PortKind::Cassandra => vec![one("cqlsh", format!("cqlsh {host} {port}"))],
        PortKind::Mssql => vec![one("sqlcmd", format!("sqlcmd -S {host},{port}"))],
        PortKind::Zookeeper => vec![one("zkCli.sh", format!("zkCli.sh -server {host_port}"))],
        PortKind::Ssh => vec![one("ssh", format!("ssh -p {port} {host}"))],
        PortKind::Ldap => vec![one(
            "ldapsearch",
            format!("ldapsearch -x -H ldap://{url_host}:{port} -s base"),
        )],
        PortKind::Tcp => Vec::new(),
    };
    if !kind.is_http() {
        commands.push(one("nc", format!("nc {host} {port}")));
    }
    commands
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    fn lines(kind: PortKind, port: u16) -> Vec<String> {
        client_commands(kind, SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
            .into_iter()
            .map(|c| c.command)
            .collect()
    }

    #[test]
    fn each_kind_gets_its_client_then_nc() {
        assert_eq!(
            lines(PortKind::Postgres, 15432),
            ["psql -h 127.0.0.1 -p 15432", "nc 127.0.0.1 15432"]
        );
        assert_eq!(
            lines(PortKind::Redis, 6379),
            ["redis-cli -h 127.0.0.1 -p 6379", "nc 127.0.0.1 6379"]
        );
        assert_eq!(
            lines(PortKind::Grpc, 9090)[0],
            "grpcurl -plaintext 127.0.0.1:9090 list"
        );
        assert_eq!(
            lines(PortKind::Mysql, 3306)[0],
            "mysql -h 127.0.0.1 -P 3306"
        );
        assert_eq!(
            lines(PortKind::Mongodb, 27017)[0],
            "mongosh mongodb://127.0.0.1:27017"
        );
        assert_eq!(lines(PortKind::Tcp, 7000), ["nc 127.0.0.1 7000"]);
    }

    #[test]
    fn http_gets_curl_only() {
        assert_eq!(lines(PortKind::Http, 8080), ["curl http://127.0.0.1:8080/"]);
        assert_eq!(
            lines(PortKind::Https, 8443),
            ["curl -k https://127.0.0.1:8443/"]
        );
    }

    #[test]
    fn ipv6_hosts_are_bracketed_where_a_url_or_host_port_needs_it() {
        let v6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), 5432);
        let all: Vec<String> = client_commands(PortKind::Postgres, v6)
            .into_iter()
            .map(|c| c.command)
            .collect();
        assert_eq!(all, ["psql -h ::1 -p 5432", "nc ::1 5432"]);
        let grpc = client_commands(PortKind::Grpc, SocketAddr::new(v6.ip(), 9090));
        assert_eq!(grpc[0].command, "grpcurl -plaintext [::1]:9090 list");
        assert_eq!(grpc[0].tool, "grpcurl");
    }
}
