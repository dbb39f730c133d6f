//! `--address`: the local addresses a forward listens on, read as
//! `kubectl port-forward` reads them. `localhost` is 127.0.0.1 and ::1,
//! and it is enough that one of those binds; an address named on its own
//! must bind. Addresses are taken in the order of their text, as kubectl
//! sorts them, which is the order of the "Forwarding from" lines.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// One address to listen on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenAddress {
    pub ip: IpAddr,
    /// As given (kubectl prints it as given).
    pub text: String,
    /// Came from `localhost`: failing to bind it is fine while the other
    /// loopback address binds.
    pub from_localhost: bool,
}

impl ListenAddress {
    /// `HOST:PORT` with IPv6 in brackets, as Go's `net.JoinHostPort`.
    pub fn with_port(&self, port: u16) -> String {
        if self.text.contains(':') {
            format!("[{}]:{port}", self.text)
        } else {
            format!("{}:{port}", self.text)
        }
    }
}

/// Reads the `--address` values (each may hold a comma-separated list).
pub fn parse(values: &[String]) -> Result<Vec<ListenAddress>, String> {
    let mut parsed: BTreeMap<String, ListenAddress> = BTreeMap::new();
    let loopback = |ip: IpAddr| ListenAddress {
        ip,
        text: ip.to_string(),
        from_localhost: true,
    };
    for text in values.iter().flat_map(|v| v.split(',')) {
        let text = text.trim();
        if text == "localhost" {
            for ip in [
                IpAddr::V4(Ipv4Addr::LOCALHOST),
                IpAddr::V6(Ipv6Addr::LOCALHOST),
            ] {
                parsed.entry(ip.to_string()).or_insert_with(|| loopback(ip));
            }
            continue;
        }
        let ip: IpAddr = text
            .parse()
            .map_err(|_| format!("{text} is not a valid IP"))?;
        parsed.insert(
            text.to_owned(),
            ListenAddress {
                ip,
                text: text.to_owned(),
                from_localhost: false,
            },
        );
    }
    if parsed.is_empty() {
        return Err("you must specify at least 1 address".into());
    }
    // One listener per IP, even when two spellings name it.
    let mut seen = Vec::new();
    Ok(parsed
        .into_values()
        .filter(|a| {
            let new = !seen.contains(&a.ip);
            seen.push(a.ip);
            new
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(values: &[&str]) -> Vec<(String, bool)> {
        let values: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        parse(&values)
            .expect("valid")
            .into_iter()
            .map(|a| (a.text, a.from_localhost))
            .collect()
    }

    #[test]
    fn localhost_is_both_loopback_addresses() {
        assert_eq!(
            texts(&["localhost"]),
            [("127.0.0.1".to_owned(), true), ("::1".to_owned(), true)]
        );
    }

    #[test]
    fn lists_and_repeats_are_merged_in_kubectls_order() {
        assert_eq!(
            texts(&["localhost", "0.0.0.0"]),
            [
                ("0.0.0.0".to_owned(), false),
                ("127.0.0.1".to_owned(), true),
                ("::1".to_owned(), true)
            ]
        );
        // Named on its own, 127.0.0.1 must bind (kubectl's "any" mode).
        assert_eq!(
            texts(&["localhost,127.0.0.1"]),
            [("127.0.0.1".to_owned(), false), ("::1".to_owned(), true)]
        );
    }

    #[test]
    fn a_name_is_not_an_address() {
        assert_eq!(
            parse(&["example.com".to_owned()]),
            Err("example.com is not a valid IP".to_owned())
        );
    }

    #[test]
    fn ipv6_is_bracketed_with_its_port() {
        let a = &parse(&["::1".to_owned()]).expect("valid")[0];
        assert_eq!(a.with_port(8080), "[::1]:8080");
    }
}
