//! Local ports that stay put: the same service port gets the same local
//! port across restarts (the remembered one; else the upstream number when
//! it is free; else a pick derived from the forward's key, so it is the
//! same pick next time), and a busy port names the process holding it.

use std::net::{IpAddr, SocketAddr, TcpListener};

/// Where derived picks land: above the well-known ports, below the
/// kernel's ephemeral range (32768+), so they do not collide with
/// outgoing connections.
const DERIVED_FIRST: u16 = 20000;
const DERIVED_SPAN: u16 = 10000;
/// How many neighbours of a derived pick are tried.
const DERIVED_PROBES: u16 = 64;

/// The local port for a forward known by `key` (context, namespace,
/// service, port), listening on `address`.
pub fn stable_port(key: &str, remembered: Option<u16>, upstream: u16, address: IpAddr) -> u16 {
    stable_port_avoiding(key, remembered, upstream, address, &[])
}

/// [`stable_port`], never picking a port in `taken` (the ones other saved
/// forwards remember, free now but theirs when they start).
pub fn stable_port_avoiding(
    key: &str,
    remembered: Option<u16>,
    upstream: u16,
    address: IpAddr,
    taken: &[u16],
) -> u16 {
    let usable = |p: u16| p != 0 && !taken.contains(&p) && is_free(address, p);
    if let Some(port) = remembered.filter(|p| usable(*p)) {
        return port;
    }
    if usable(upstream) {
        return upstream;
    }
    let start = derived_start(key);
    (0..DERIVED_PROBES)
        .map(|i| DERIVED_FIRST + (start - DERIVED_FIRST + i) % DERIVED_SPAN)
        .find(|p| usable(*p))
        .unwrap_or(0)
}

/// Where the derived picks for `key` begin (FNV-1a: stable across builds
/// and platforms, unlike the standard library's hasher).
fn derived_start(key: &str) -> u16 {
    let mut hash: u32 = 0x811c_9dc5;
    for b in key.bytes() {
        hash ^= u32::from(b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    DERIVED_FIRST + u16::try_from(hash % u32::from(DERIVED_SPAN)).unwrap_or(0)
}

/// Whether `port` can be bound on `address` now (a bind, not a probe:
/// the listener is closed at once).
pub fn is_free(address: IpAddr, port: u16) -> bool {
    TcpListener::bind(SocketAddr::new(address, port)).is_ok()
}

/// A bind error in words, naming the process that holds the port when
/// this system says.
pub fn describe_bind_error(e: &std::io::Error, addr: SocketAddr) -> String {
    match e.kind() {
        std::io::ErrorKind::AddrInUse => match holder(addr.port()) {
            Some(h) => format!("port {} is in use by {h}", addr.port()),
            None => format!("port {} is in use by another program", addr.port()),
        },
        std::io::ErrorKind::PermissionDenied => format!(
            "port {} needs privileges to listen on (ports below 1024 do): pick another local port",
            addr.port()
        ),
        std::io::ErrorKind::AddrNotAvailable => {
            format!("{} is not an address of this machine", addr.ip())
        }
        _ => e.to_string(),
    }
}

/// `name (pid N)` of the process listening on TCP `port`, from /proc
/// (Linux); None elsewhere or when the process belongs to another user.
pub fn holder(port: u16) -> Option<String> {
    let inodes = listening_inodes(port);
    if inodes.is_empty() {
        return None;
    }
    let procs = std::fs::read_dir("/proc").ok()?;
    for entry in procs.flatten() {
        let pid = entry.file_name().to_string_lossy().into_owned();
        if !pid.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(fds) = std::fs::read_dir(entry.path().join("fd")) else {
            continue;
        };
        for fd in fds.flatten() {
            let Ok(link) = std::fs::read_link(fd.path()) else {
                continue;
            };
            let link = link.to_string_lossy();
            let holds = link
                .strip_prefix("socket:[")
                .and_then(|s| s.strip_suffix(']'))
                .is_some_and(|inode| inodes.iter().any(|i| i == inode));
            if holds {
                let name = std::fs::read_to_string(entry.path().join("comm"))
                    .map(|s| s.trim().to_owned())
                    .unwrap_or_else(|_| "a process".into());
                return Some(format!("{name} (pid {pid})"));
            }
        }
    }
    None
}

/// Socket inodes listening on `port` (IPv4 and IPv6 tables).
fn listening_inodes(port: u16) -> Vec<String> {
    let mut out = Vec::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        if let Ok(text) = std::fs::read_to_string(table) {
            out.extend(inodes_in(&text, port));
        }
    }
    out
}

/// Parses one /proc/net/tcp table: `sl local rem st ... inode`, state 0A
/// is LISTEN, the local address ends in `:PORT` in hex.
fn inodes_in(table: &str, port: u16) -> Vec<String> {
    let suffix = format!(":{port:04X}");
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local = fields.get(1)?;
            let state = fields.get(3)?;
            let inode = fields.get(9)?;
            (local.ends_with(&suffix) && *state == "0A").then(|| (*inode).to_owned())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const LOOPBACK: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    #[test]
    fn the_upstream_port_is_used_when_free() {
        let probe = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let free = probe.local_addr().expect("addr").port();
        drop(probe);
        assert_eq!(stable_port("k", None, free, LOOPBACK), free);
    }

    #[test]
    fn a_busy_upstream_port_gives_the_same_derived_pick_each_time() {
        let busy = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let port = busy.local_addr().expect("addr").port();
        let first = stable_port("ctx/ns/db/5432", None, port, LOOPBACK);
        let second = stable_port("ctx/ns/db/5432", None, port, LOOPBACK);
        assert_ne!(first, port);
        assert_eq!(first, second);
        assert!((DERIVED_FIRST..DERIVED_FIRST + DERIVED_SPAN).contains(&first));
    }

    #[test]
    fn a_remembered_port_wins_over_the_upstream_number() {
        let probe = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let remembered = probe.local_addr().expect("addr").port();
        drop(probe);
        assert_eq!(stable_port("k", Some(remembered), 1, LOOPBACK), remembered);
    }

    #[test]
    fn a_port_another_forward_remembers_is_not_picked() {
        let probe = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let free = probe.local_addr().expect("addr").port();
        drop(probe);
        let picked = stable_port_avoiding("k", None, free, LOOPBACK, &[free]);
        assert_ne!(picked, free);
        assert!((DERIVED_FIRST..DERIVED_FIRST + DERIVED_SPAN).contains(&picked));
        let derived = stable_port("k", None, 0, LOOPBACK);
        assert_ne!(
            stable_port_avoiding("k", None, 0, LOOPBACK, &[derived]),
            derived
        );
    }

    #[test]
    fn a_busy_port_names_this_process() {
        let busy = TcpListener::bind((LOOPBACK, 0)).expect("bind");
        let addr = busy.local_addr().expect("addr");
        let e = TcpListener::bind(addr).expect_err("in use");
        let text = describe_bind_error(&e, addr);
        assert!(
            text.contains(&format!("pid {}", std::process::id())),
            "{text}"
        );
    }

    #[test]
    fn proc_net_tcp_lines_are_read_for_listening_sockets_only() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1\n\
   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 4343 1\n";
        assert_eq!(inodes_in(table, 8080), vec!["4242".to_owned()]);
    }
}
