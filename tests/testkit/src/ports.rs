//! Free loopback ports. A port found free can be taken by someone else before
//! our child binds it, so callers retry a start with fresh ports when the
//! child reports `address already in use` ([`is_addr_in_use`]).

use std::net::{Ipv4Addr, SocketAddrV4, TcpListener};

use crate::error::{IoContext, Result};

/// `count` distinct ports that were free on 127.0.0.1 a moment ago. All
/// listeners are held until every port is picked, so the ports differ.
pub fn free_loopback_ports(count: usize) -> Result<Vec<u16>> {
    let mut held = Vec::with_capacity(count);
    let mut ports = Vec::with_capacity(count);
    for _ in 0..count {
        let listener = TcpListener::bind(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 0))
            .ctx(|| "binding 127.0.0.1:0 to find a free port")?;
        let port = listener
            .local_addr()
            .ctx(|| "reading the address of a fresh listener")?
            .port();
        ports.push(port);
        held.push(listener);
    }
    Ok(ports)
}

/// Whether a child's log says it could not bind its port (Go's message).
pub fn is_addr_in_use(log: &str) -> bool {
    log.contains("address already in use")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_are_distinct_and_nonzero() {
        let ports = free_loopback_ports(8).expect("free ports");
        let mut sorted = ports.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), 8);
        assert!(ports.iter().all(|p| *p != 0));
    }

    #[test]
    fn recognises_go_bind_error() {
        assert!(is_addr_in_use(
            "listen tcp 127.0.0.1:2379: bind: address already in use"
        ));
        assert!(!is_addr_in_use("connection refused"));
    }
}
