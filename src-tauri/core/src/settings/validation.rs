//! Checks on what the user types into settings: a namespace added by hand,
//! the proxy's listening address.

use std::net::IpAddr;

use thiserror::Error;

use super::SettingsError;
use crate::dns_label::DnsLabel;

/// Checks that `namespace` is a DNS-1123 label, as the apiserver requires
/// of namespace names.
pub fn check_namespace(namespace: &str) -> Result<(), SettingsError> {
    DnsLabel::check(namespace).map_err(|problem| SettingsError::InvalidNamespace {
        namespace: namespace.to_owned(),
        problem,
    })
}

/// Why a proxy address is not one Porthole's proxy listens on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LoopbackError {
    #[error(
        "{ip} is not a loopback address: the proxy only listens on this computer (127.0.0.1 or ::1)"
    )]
    NotLoopback { ip: IpAddr },
    #[error("{text:?} is not an IP address: use 127.0.0.1 or ::1")]
    NotAnIp {
        /// What was given, blanks trimmed.
        text: String,
    },
}

/// The loopback address in `text`: `127.0.0.1`, `::1` or `[::1]`, blanks
/// around it ignored. The proxy holds the user's cluster credentials, so it
/// never listens where another machine can reach it.
pub fn parse_loopback(text: &str) -> Result<IpAddr, LoopbackError> {
    let text = text.trim();
    let bare = text
        .strip_prefix('[')
        .and_then(|a| a.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<IpAddr>() {
        Ok(ip) if ip.is_loopback() => Ok(ip),
        Ok(ip) => Err(LoopbackError::NotLoopback { ip }),
        Err(_) => Err(LoopbackError::NotAnIp {
            text: text.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use super::*;

    #[test]
    fn loopback_addresses_parse_with_or_without_brackets_and_blanks() {
        for (text, ip) in [
            ("127.0.0.1", IpAddr::V4(Ipv4Addr::LOCALHOST)),
            (" 127.0.0.1 ", IpAddr::V4(Ipv4Addr::LOCALHOST)),
            ("127.0.0.2", IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2))),
            ("::1", IpAddr::V6(Ipv6Addr::LOCALHOST)),
            ("[::1]", IpAddr::V6(Ipv6Addr::LOCALHOST)),
            (" [::1] ", IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ] {
            assert_eq!(parse_loopback(text), Ok(ip), "{text:?}");
        }
    }

    #[test]
    fn other_addresses_are_refused_in_words() {
        let err = parse_loopback("0.0.0.0").expect_err("not loopback");
        assert_eq!(
            err.to_string(),
            "0.0.0.0 is not a loopback address: the proxy only listens on this computer (127.0.0.1 or ::1)"
        );
        assert_eq!(
            parse_loopback("[::2]"),
            Err(LoopbackError::NotLoopback {
                ip: "::2".parse().expect("ip")
            })
        );
        let err = parse_loopback(" localhost ").expect_err("a name");
        assert_eq!(
            err.to_string(),
            "\"localhost\" is not an IP address: use 127.0.0.1 or ::1"
        );
        for text in ["", "[::1", "::1]", "[[::1]]", "127.0.0.1:8001"] {
            assert!(
                matches!(parse_loopback(text), Err(LoopbackError::NotAnIp { .. })),
                "{text:?}"
            );
        }
    }
}
