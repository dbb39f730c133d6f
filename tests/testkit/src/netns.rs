//! The network namespace the backends live in: `porthole-<id>`, a veth pair
//! with the host side at 10.213.X.1/24 and the namespace side at
//! 10.213.X.2/24 plus one address per backend "pod". Only this machine is
//! involved: no default route inside the namespace, no NAT.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::{Error, IoContext, Result};
use crate::state::NetnsInfo;

pub const NAME_PREFIX: &str = "porthole-";
/// Interface name of the veth end inside the namespace.
pub const NS_INTERFACE: &str = "eth0";
const SUBNET_FIRST_OCTETS: [u8; 2] = [10, 213];

#[derive(Debug, Clone)]
pub struct Netns {
    pub name: String,
    pub host_interface: String,
    /// X in 10.213.X.0/24
    pub subnet: u8,
}

/// Path of the `ip` binary, or an error saying how to get it.
pub fn ip_binary() -> Result<PathBuf> {
    find_on_path("ip").ok_or_else(|| Error::MissingTool {
        tool: "ip".into(),
        how: "install iproute2 (Debian/Ubuntu: `apt-get install iproute2`)".into(),
    })
}

fn find_on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

/// Checks root and `ip netns` before anything is started.
pub fn preflight() -> Result<PathBuf> {
    let uid = crate::process::euid();
    if uid != 0 {
        return Err(Error::NotRoot {
            what: "the test control plane's backends".into(),
            uid,
        });
    }
    let ip = ip_binary()?;
    run(&ip, &["netns", "list"]).map_err(|e| Error::Netns {
        command: "ip netns list".into(),
        detail: format!("{e}; this iproute2 has no working `ip netns` (install iproute2)"),
    })?;
    Ok(ip)
}

/// Runs `ip args...`, returning stdout, or an error with stderr.
fn run(ip: &Path, args: &[&str]) -> Result<String> {
    let out = Command::new(ip)
        .args(args)
        .output()
        .ctx(|| format!("running ip {}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(Error::Netns {
            command: format!("ip {}", args.join(" ")),
            detail: format!(
                "{} ({})",
                String::from_utf8_lossy(&out.stderr).trim(),
                out.status
            ),
        })
    }
}

/// Held while a subnet is picked and configured, so concurrent harnesses
/// pick different ones. An abstract Unix socket: the kernel releases it when
/// the process dies and it leaves no file behind. (Not a flock on
/// /run/netns: `ip netns add` takes that lock itself.)
struct SubnetLock(#[allow(dead_code)] std::os::unix::net::UnixListener);

impl SubnetLock {
    fn acquire() -> Result<SubnetLock> {
        use std::os::linux::net::SocketAddrExt;
        let addr =
            std::os::unix::net::SocketAddr::from_abstract_name(b"porthole-netns-subnet-lock")
                .ctx(|| "making the subnet lock address")?;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            match std::os::unix::net::UnixListener::bind_addr(&addr) {
                Ok(l) => return Ok(SubnetLock(l)),
                Err(e)
                    if e.kind() == std::io::ErrorKind::AddrInUse
                        && std::time::Instant::now() < deadline =>
                {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                Err(e) => {
                    return Err(e).ctx(|| "taking the subnet lock (another harness holds it?)");
                }
            }
        }
    }
}

/// Third octets of 10.213.X.0/24 already in use on this host.
fn used_subnets(ip: &Path) -> Result<Vec<u8>> {
    let mut used = Vec::new();
    let text = run(ip, &["-4", "-o", "addr", "show"])? + &run(ip, &["-4", "route", "show"])?;
    for word in text.split_whitespace() {
        let addr = word.split('/').next().unwrap_or_default();
        if let Ok(a) = addr.parse::<Ipv4Addr>() {
            let o = a.octets();
            if o[..2] == SUBNET_FIRST_OCTETS {
                used.push(o[2]);
            }
        }
    }
    Ok(used)
}

/// Name of the namespace and host interface for harness `id`.
pub fn names(id: &str) -> (String, String) {
    (format!("{NAME_PREFIX}{id}"), format!("ph-{id}"))
}

impl Netns {
    /// Creates `porthole-<id>` with its veth pair and addresses, `hosts`
    /// being the last octets of the extra addresses inside (one per pod).
    /// On failure nothing is left behind.
    pub fn create(ip: &Path, id: &str, hosts: &[u8]) -> Result<Netns> {
        let _lock = SubnetLock::acquire()?;
        let used = used_subnets(ip)?;
        let free: Vec<u8> = (1..=254u8).filter(|x| !used.contains(x)).collect();
        if free.is_empty() {
            return Err(Error::Netns {
                command: "choosing a subnet".into(),
                detail: "every 10.213.X.0/24 is in use on this host; run \
                         `porthole-cluster down --all` to remove stale namespaces"
                    .into(),
            });
        }
        let pick = crate::random::below(u32::try_from(free.len()).unwrap_or(1))?;
        let subnet = free[usize::try_from(pick).unwrap_or(0)];
        let (name, host_interface) = names(id);
        let ns = Netns {
            name,
            host_interface,
            subnet,
        };
        if let Err(e) = ns.configure(ip, hosts) {
            let _ = delete(ip, &ns.name);
            let _ = run(ip, &["link", "del", &ns.host_interface]);
            return Err(e);
        }
        Ok(ns)
    }

    fn configure(&self, ip: &Path, hosts: &[u8]) -> Result<()> {
        let host_cidr = format!("{}/24", self.host_ip());
        run(ip, &["netns", "add", &self.name]).map_err(|e| Error::Netns {
            command: format!("ip netns add {}", self.name),
            detail: format!(
                "{e}; creating network namespaces needs root with CAP_SYS_ADMIN \
                 (in a container: --privileged)"
            ),
        })?;
        run(
            ip,
            &[
                "link",
                "add",
                &self.host_interface,
                "type",
                "veth",
                "peer",
                "name",
                NS_INTERFACE,
                "netns",
                &self.name,
            ],
        )?;
        run(
            ip,
            &["addr", "add", &host_cidr, "dev", &self.host_interface],
        )?;
        run(ip, &["link", "set", &self.host_interface, "up"])?;
        run(ip, &["-n", &self.name, "link", "set", "lo", "up"])?;
        for host in std::iter::once(2).chain(hosts.iter().copied()) {
            let cidr = format!("{}/24", self.ip(host));
            run(
                ip,
                &["-n", &self.name, "addr", "add", &cidr, "dev", NS_INTERFACE],
            )?;
        }
        run(ip, &["-n", &self.name, "link", "set", NS_INTERFACE, "up"])?;
        Ok(())
    }

    /// 10.213.X.`host`
    pub fn ip(&self, host: u8) -> Ipv4Addr {
        let [a, b] = SUBNET_FIRST_OCTETS;
        Ipv4Addr::new(a, b, self.subnet, host)
    }

    pub fn host_ip(&self) -> Ipv4Addr {
        self.ip(1)
    }

    pub fn info(&self) -> NetnsInfo {
        let [a, b] = SUBNET_FIRST_OCTETS;
        NetnsInfo {
            name: self.name.clone(),
            host_interface: self.host_interface.clone(),
            subnet: format!("{a}.{b}.{}.0/24", self.subnet),
            host_ip: self.host_ip().to_string(),
        }
    }
}

/// Whether a network namespace of that name exists.
pub fn exists(name: &str) -> bool {
    Path::new("/run/netns").join(name).exists()
}

/// Deletes the namespace (its veth pair goes with it). Missing is fine.
pub fn delete(ip: &Path, name: &str) -> Result<bool> {
    if !exists(name) {
        return Ok(false);
    }
    run(ip, &["netns", "del", name])?;
    Ok(true)
}

/// Names of all `porthole-*` namespaces and whether any process is inside.
pub fn list_ours(ip: &Path) -> Result<Vec<(String, bool)>> {
    let text = run(ip, &["netns", "list"])?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(name) = line.split_whitespace().next() else {
            continue;
        };
        if name.starts_with(NAME_PREFIX) {
            let busy = run(ip, &["netns", "pids", name])
                .map(|p| !p.trim().is_empty())
                .unwrap_or(true);
            out.push((name.to_owned(), busy));
        }
    }
    Ok(out)
}
