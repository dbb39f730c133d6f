//! What the app shows of a port-forward (the Forwards view, the services
//! table after "Forward", the tray): where to connect, what it reaches,
//! its state and counters, and the client commands for its port. Serde
//! camelCase, TypeScript twins by ts-rs; nothing secret (names, addresses,
//! counts).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::forward::{ForwardStatus, RemotePort, Target, TargetKind};
use crate::port_kind::{ClientCommand, client_commands};
use crate::settings::SavedForward;

/// What to forward, as the UI asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ForwardTarget {
    pub context: String,
    pub namespace: String,
    pub kind: TargetKind,
    pub name: String,
    /// The service (or Pod) port: a number or a port name.
    pub remote: RemotePort,
}

impl ForwardTarget {
    /// A new saved forward for this target (blanks around names trimmed;
    /// the local port is chosen at its first start).
    pub fn to_saved(&self) -> SavedForward {
        SavedForward {
            context: self.context.trim().to_owned(),
            namespace: self.namespace.trim().to_owned(),
            kind: self.kind,
            name: self.name.trim().to_owned(),
            remote: match &self.remote {
                RemotePort::Name(n) => RemotePort::parse(n.trim()),
                number => number.clone(),
            },
            local_port: 0,
            restore: true,
            port_kind: Default::default(),
        }
    }
}

/// One forward, as the app shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ForwardView {
    /// Stable across restarts: `CONTEXT/NAMESPACE/KIND/NAME:PORT`.
    pub id: String,
    pub context: String,
    pub target: Target,
    pub remote: RemotePort,
    /// The remembered local port (0 until the first start picks one).
    pub local_port: u16,
    /// Where to connect: `127.0.0.1:PORT` (IPv4 loopback when it listens
    /// there, else the first address it listens on).
    pub address: String,
    /// Started when Porthole starts.
    pub restore: bool,
    pub port_kind: crate::port_kind::PortKind,
    /// Command lines that reach it (`psql -h 127.0.0.1 -p 15432`, …).
    pub commands: Vec<ClientCommand>,
    pub status: ForwardStatus,
}

/// The view of `saved` in `status`.
pub(super) fn view(saved: &SavedForward, status: ForwardStatus) -> ForwardView {
    let address = connect_address(&status.listening, saved.local_port);
    ForwardView {
        id: saved.id(),
        context: saved.context.clone(),
        target: Target {
            namespace: saved.namespace.clone(),
            kind: saved.kind,
            name: saved.name.clone(),
        },
        remote: saved.remote.clone(),
        local_port: saved.local_port,
        address: address.to_string(),
        restore: saved.restore,
        port_kind: saved.port_kind,
        commands: client_commands(saved.port_kind, address),
        status,
    }
}

/// The IPv4 loopback address among `listening`, else the first, else
/// 127.0.0.1 on the remembered port.
fn connect_address(listening: &[String], local_port: u16) -> SocketAddr {
    let parsed: Vec<SocketAddr> = listening.iter().filter_map(|a| a.parse().ok()).collect();
    parsed
        .iter()
        .find(|a| a.ip() == IpAddr::V4(Ipv4Addr::LOCALHOST))
        .or_else(|| parsed.first())
        .copied()
        .unwrap_or_else(|| SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), local_port))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forward::ForwardState;
    use crate::port_kind::PortKind;

    fn saved() -> SavedForward {
        ForwardTarget {
            context: " porthole-admin ".into(),
            namespace: "team-a".into(),
            kind: TargetKind::Service,
            name: "redis".into(),
            remote: RemotePort::Name("6379".into()),
        }
        .to_saved()
    }

    #[test]
    fn a_target_becomes_a_saved_forward_restored_by_default() {
        let s = saved();
        assert_eq!(s.context, "porthole-admin");
        assert_eq!(
            s.remote,
            RemotePort::Number(6379),
            "a number typed as a name"
        );
        assert!(s.restore);
        assert_eq!(s.local_port, 0);
        assert_eq!(s.id(), "porthole-admin/team-a/svc/redis:6379");
    }

    #[test]
    fn the_address_to_connect_to_prefers_ipv4_loopback() {
        let mut s = saved();
        s.local_port = 16379;
        s.port_kind = PortKind::Redis;
        let mut status = ForwardStatus::new(ForwardState::Listening);
        status.listening = vec!["[::1]:16379".into(), "127.0.0.1:16379".into()];
        let v = view(&s, status);
        assert_eq!(v.address, "127.0.0.1:16379");
        assert_eq!(v.commands[0].command, "redis-cli -h 127.0.0.1 -p 16379");
        let stopped = view(&s, ForwardStatus::new(ForwardState::Stopped));
        assert_eq!(stopped.address, "127.0.0.1:16379", "the remembered port");
        let mut v6 = ForwardStatus::new(ForwardState::Listening);
        v6.listening = vec!["[::1]:16379".into()];
        assert_eq!(view(&s, v6).address, "[::1]:16379");
    }
}
