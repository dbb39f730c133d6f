//! `porthole-cluster down`: stop a control plane from outside its
//! supervisor, then sweep whatever is left (a supervisor killed with
//! SIGKILL cannot clean up). Safe to run twice.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::Result;
use crate::netns;
use crate::process;
use crate::state::{self, State};

/// Stops the cluster in `dir`; returns one line per thing it stopped or
/// removed (empty when there was nothing).
pub async fn down(dir: &Path) -> Result<Vec<String>> {
    let mut report = Vec::new();
    if !dir.exists() {
        return Ok(report);
    }
    let state = State::load(dir).ok();
    let netns_name = state
        .as_ref()
        .and_then(|s| s.netns.as_ref().map(|n| n.name.clone()));
    let components: Vec<(&'static str, u32)> = state
        .as_ref()
        .map(State::component_pids)
        .unwrap_or_default();

    let ns_existed = netns_name.as_deref().is_some_and(netns::exists);
    let mut by_supervisor = "";

    if let Some(s) = &state
        && s.supervisor_alive()
    {
        let pids: Vec<String> = components.iter().map(|(n, p)| format!("{n} {p}")).collect();
        process::signal(s.supervisor_pid, libc::SIGTERM);
        if process::wait_gone(s.supervisor_pid, Duration::from_secs(60)).await {
            report.push(format!(
                "stopped supervisor (pid {}), which stopped {}",
                s.supervisor_pid,
                if pids.is_empty() {
                    "nothing else".into()
                } else {
                    pids.join(", ")
                }
            ));
            by_supervisor = " (by the supervisor)";
        } else {
            process::signal(s.supervisor_pid, libc::SIGKILL);
            report.push(format!(
                "killed supervisor (pid {}): it did not stop within 60 s",
                s.supervisor_pid
            ));
        }
    }
    for (name, pid) in components {
        if process::alive_as(pid, name) {
            process::signal(pid, libc::SIGKILL);
            let _ = process::wait_gone(pid, Duration::from_secs(5)).await;
            report.push(format!("killed leftover {name} (pid {pid})"));
        }
    }
    if let Some(name) = netns_name {
        if netns::exists(&name) {
            let ip = netns::ip_binary()?;
            netns::delete(&ip, &name)?;
            report.push(format!("removed network namespace {name}"));
        } else if ns_existed {
            report.push(format!("removed network namespace {name}{by_supervisor}"));
        }
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| crate::error::Error::Io {
            context: format!("removing {}", dir.display()),
            source: e,
        })?;
        report.push(format!("removed {}", dir.display()));
    } else {
        report.push(format!("removed {}{by_supervisor}", dir.display()));
    }
    Ok(report)
}

/// State directories of control planes under the base directory.
pub fn all_dirs() -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(state::base_dir()) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with(state::DIR_PREFIX))
                && p.join(state::STATE_FILE).exists()
        })
        .collect();
    dirs.sort();
    dirs
}

/// `down --all`: every control plane under the base directory, then every
/// `porthole-*` network namespace with no process inside.
pub async fn down_all() -> Result<Vec<String>> {
    let mut report = Vec::new();
    for dir in all_dirs() {
        report.extend(down(&dir).await?);
    }
    if let Ok(ip) = netns::ip_binary() {
        for (name, busy) in netns::list_ours(&ip)? {
            if !busy {
                netns::delete(&ip, &name)?;
                report.push(format!("removed stale network namespace {name}"));
            }
        }
    }
    Ok(report)
}
