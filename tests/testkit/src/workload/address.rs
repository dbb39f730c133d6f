//! Pod addresses for test workloads: claimed from a range of the cluster's
//! subnet that the fixtures never use, race-free across test processes
//! that share one cluster, and added to (removed from) the network
//! namespace's interface.
//!
//! A claim is an exclusive `flock` on `<claims dir>/<ip>.lock`: the kernel
//! drops it when the file is closed or the process dies however it dies, so
//! a crashed test leaves no claim behind (only, at worst, the address on the
//! interface, which the next owner takes over).

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::netns::NS_INTERFACE;

/// Last octets handed to workload Pods (the fixtures use .1–.20).
const HOSTS: std::ops::RangeInclusive<u8> = 100..=254;

/// An address held by this process until dropped (then free for others;
/// take it off the interface first with [`Network::remove`]).
#[derive(Debug)]
pub(super) struct Claim {
    pub ip: Ipv4Addr,
    _lock: File,
}

/// Where the cluster's network is: enough to claim and configure addresses.
#[derive(Debug, Clone)]
pub(super) struct Network {
    pub ip_bin: PathBuf,
    pub netns: String,
    /// The first three octets of the cluster's /24.
    pub prefix: [u8; 3],
    pub claims_dir: PathBuf,
}

impl Network {
    /// Claims the first free address of the workload range.
    pub fn claim(&self) -> Result<Claim> {
        std::fs::create_dir_all(&self.claims_dir)
            .ctx(|| format!("creating {}", self.claims_dir.display()))?;
        for host in HOSTS {
            let [a, b, c] = self.prefix;
            let ip = Ipv4Addr::new(a, b, c, host);
            let path = self.claims_dir.join(format!("{ip}.lock"));
            if let Some(lock) = try_lock(&path)? {
                return Ok(Claim { ip, _lock: lock });
            }
        }
        Err(Error::Workload(format!(
            "every workload address ({}.{}.{}.{}–{}) is claimed by a live test process \
             (claims in {})",
            self.prefix[0],
            self.prefix[1],
            self.prefix[2],
            HOSTS.start(),
            HOSTS.end(),
            self.claims_dir.display()
        )))
    }

    fn cidr(ip: Ipv4Addr) -> String {
        // /32: a host address, never the subnet's primary, so removing it
        // never takes other addresses with it.
        format!("{ip}/32")
    }

    /// Adds the claimed address to the namespace's interface (`replace`:
    /// one a crashed owner left there is taken over).
    pub async fn add(&self, claim: &Claim) -> Result<()> {
        let cidr = Self::cidr(claim.ip);
        let args = [
            "-n",
            &self.netns,
            "addr",
            "replace",
            &cidr,
            "dev",
            NS_INTERFACE,
        ];
        run_ip(&self.ip_bin, &args).await
    }

    /// Removes the address from the interface (gone already is fine).
    pub async fn remove(&self, ip: Ipv4Addr) -> Result<()> {
        let cidr = Self::cidr(ip);
        let args = ["-n", &self.netns, "addr", "del", &cidr, "dev", NS_INTERFACE];
        match run_ip(&self.ip_bin, &args).await {
            Err(Error::Netns { detail, .. })
                if detail.contains("Cannot assign requested address") =>
            {
                Ok(())
            }
            other => other,
        }
    }

    /// [`Self::remove`] for `Drop`, where nothing may be awaited.
    pub fn remove_blocking(&self, ip: Ipv4Addr) {
        let cidr = Self::cidr(ip);
        let _ = std::process::Command::new(&self.ip_bin)
            .args(["-n", &self.netns, "addr", "del", &cidr, "dev", NS_INTERFACE])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

/// An exclusive, non-blocking flock on `path` (created if missing), or None
/// when another open file holds it.
fn try_lock(path: &Path) -> Result<Option<File>> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .ctx(|| format!("opening {}", path.display()))?;
    // SAFETY: flock on a descriptor we own, kept open in the returned File.
    let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if rc == 0 {
        return Ok(Some(file));
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(None)
    } else {
        Err(err).ctx(|| format!("locking {}", path.display()))
    }
}

async fn run_ip(ip_bin: &Path, args: &[&str]) -> Result<()> {
    let command = format!("ip {}", args.join(" "));
    let out = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        tokio::process::Command::new(ip_bin)
            .args(args)
            .stdin(std::process::Stdio::null())
            .output(),
    )
    .await
    .map_err(|_| Error::Netns {
        command: command.clone(),
        detail: "no answer within 10 s".into(),
    })?
    .ctx(|| format!("running {command}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(Error::Netns {
            command,
            detail: format!(
                "{} ({})",
                String::from_utf8_lossy(&out.stderr).trim(),
                out.status
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_claim_excludes_others_until_dropped() {
        let dir = std::env::temp_dir().join(format!("porthole-claims-{}", std::process::id()));
        let net = Network {
            ip_bin: PathBuf::from("ip"),
            netns: "unused".into(),
            prefix: [10, 213, 99],
            claims_dir: dir.clone(),
        };
        let first = net.claim().expect("first claim");
        let second = net.claim().expect("second claim");
        assert_eq!(first.ip, Ipv4Addr::new(10, 213, 99, 100));
        assert_eq!(second.ip, Ipv4Addr::new(10, 213, 99, 101));
        drop(first);
        let third = net.claim().expect("third claim");
        assert_eq!(
            third.ip,
            Ipv4Addr::new(10, 213, 99, 100),
            "released, taken again"
        );
        drop((second, third));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
