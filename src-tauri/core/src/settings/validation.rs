//! Checks on what the user types into settings: a namespace added by hand,
//! the proxy's listening address, a saved port-forward.

use std::net::IpAddr;

use thiserror::Error;

use super::SettingsError;
use super::model::SavedForward;
use crate::dns_label::DnsLabel;
use crate::forward::RemotePort;

/// Checks that `namespace` is a DNS-1123 label, as the apiserver requires
/// of namespace names.
pub fn check_namespace(namespace: &str) -> Result<(), SettingsError> {
    DnsLabel::check(namespace).map_err(|problem| SettingsError::InvalidNamespace {
        namespace: namespace.to_owned(),
        problem,
    })
}

/// Checks a saved forward's names: a context, a namespace that is a
/// DNS-1123 label, an object name and a port as Kubernetes spells them
/// (so its id stays unambiguous: see [`SavedForward::id`]).
pub fn check_forward(forward: &SavedForward) -> Result<(), SettingsError> {
    let invalid = |reason: String| SettingsError::InvalidForward {
        id: forward.id(),
        reason,
    };
    if forward.context.trim().is_empty() {
        return Err(invalid("no context given".into()));
    }
    check_namespace(&forward.namespace)?;
    let name = &forward.name;
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    if !name_ok {
        return Err(invalid(format!(
            "{name:?} is not an object name (lowercase letters, digits, '-' and '.')"
        )));
    }
    match &forward.remote {
        RemotePort::Number(0) => Err(invalid("port 0 is not a port".into())),
        RemotePort::Number(_) => Ok(()),
        RemotePort::Name(port) => {
            let ok = !port.is_empty()
                && port.len() <= 15
                && port
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if ok {
                Ok(())
            } else {
                Err(invalid(format!(
                    "{port:?} is not a port name (at most 15 lowercase letters, digits and '-')"
                )))
            }
        }
    }
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
    use crate::forward::TargetKind;
    use crate::port_kind::PortKind;

    fn forward(namespace: &str, name: &str, remote: RemotePort) -> SavedForward {
        SavedForward {
            context: "arn:aws:eks:eu-west-1:1:cluster/prod".into(),
            namespace: namespace.into(),
            kind: TargetKind::Service,
            name: name.into(),
            remote,
            local_port: 0,
            restore: true,
            port_kind: PortKind::Postgres,
        }
    }

    #[test]
    fn a_forward_names_a_namespace_an_object_and_a_port_as_kubernetes_spells_them() {
        check_forward(&forward("team-a", "postgres", RemotePort::Number(5432))).expect("fine");
        check_forward(&forward("team-a", "db-0.db", RemotePort::Name("pg".into())))
            .expect("a pod name with a dot, a named port");
        for (bad, says) in [
            (
                forward("Team-A", "db", RemotePort::Number(1)),
                "namespace \"Team-A\"",
            ),
            (
                forward("team-a", "a/b", RemotePort::Number(1)),
                "not an object name",
            ),
            (
                forward("team-a", "", RemotePort::Number(1)),
                "not an object name",
            ),
            (forward("team-a", "db", RemotePort::Number(0)), "port 0"),
            (
                forward("team-a", "db", RemotePort::Name("pg:1".into())),
                "not a port name",
            ),
        ] {
            let err = check_forward(&bad).expect_err(says);
            assert!(err.to_string().contains(says), "{err}");
        }
        let mut no_context = forward("team-a", "db", RemotePort::Number(1));
        no_context.context = " ".into();
        assert!(check_forward(&no_context).is_err());
    }

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
