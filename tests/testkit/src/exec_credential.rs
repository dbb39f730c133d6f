//! The exec credential plugin of `exec-user` (`porthole-cluster
//! exec-credential`): prints a `client.authentication.k8s.io/v1`
//! ExecCredential with the token from a file and an expiry, and counts its
//! runs in a file tests read.

use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::error::{Error, IoContext, Result};

/// Adds one to the number in `counter` (under an exclusive lock, written
/// atomically) and returns the new value.
pub fn increment(counter: &Path) -> Result<u64> {
    let mut lock_name = counter.as_os_str().to_owned();
    lock_name.push(".lock");
    let lock = fs::File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_name)
        .ctx(|| format!("opening {}", Path::new(&lock_name).display()))?;
    // SAFETY: flock on a descriptor we own; released when `lock` closes.
    if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) } != 0 {
        return Err(std::io::Error::last_os_error())
            .ctx(|| format!("locking {}", Path::new(&lock_name).display()));
    }
    let n = read_count(counter)? + 1;
    crate::fsutil::write_atomic(counter, format!("{n}\n").as_bytes())?;
    drop(lock);
    Ok(n)
}

/// The number in a counter file (0 when it does not exist yet).
pub fn read_count(counter: &Path) -> Result<u64> {
    match fs::read_to_string(counter) {
        Ok(s) => s.trim().parse().map_err(|_| Error::State {
            path: counter.to_owned(),
            detail: format!("not a number: {s:?}"),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e).ctx(|| format!("reading {}", counter.display())),
    }
}

/// The ExecCredential JSON for `token`, expiring `ttl` from now.
pub fn credential(token: &str, ttl: Duration) -> Result<serde_json::Value> {
    let ttl = time::Duration::try_from(ttl).unwrap_or(time::Duration::hours(1));
    let expiry = (time::OffsetDateTime::now_utc() + ttl)
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    let ts = expiry
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| Error::Usage(format!("formatting the expiry: {e}")))?;
    Ok(json!({
        "kind": "ExecCredential",
        "apiVersion": "client.authentication.k8s.io/v1",
        "status": { "token": token, "expirationTimestamp": ts },
    }))
}

/// What the plugin does: count, then print the credential.
pub fn run(token_file: &Path, counter: &Path, ttl: Duration) -> Result<String> {
    let token = fs::read_to_string(token_file)
        .ctx(|| format!("reading the token file {}", token_file.display()))?;
    increment(counter)?;
    let cred = credential(token.trim(), ttl)?;
    Ok(cred.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_formats() {
        let dir = std::env::temp_dir().join(format!("porthole-exec-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("mkdir");
        let counter = dir.join("count");
        assert_eq!(read_count(&counter).expect("read"), 0);
        assert_eq!(increment(&counter).expect("inc"), 1);
        assert_eq!(increment(&counter).expect("inc"), 2);
        let c = credential("t", Duration::from_secs(60)).expect("cred");
        assert_eq!(c["status"]["token"], "t");
        assert!(
            c["status"]["expirationTimestamp"]
                .as_str()
                .is_some_and(|s| s.ends_with('Z'))
        );
        fs::remove_dir_all(&dir).expect("cleanup");
    }
}
