//! A desktop app's total memory: its own process and every descendant
//! (WebKitGTK's web and network processes), from /proc.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Memory of a process tree, in KiB.
#[derive(Debug, Clone, Copy, Default)]
pub struct TreeMemory {
    pub processes: usize,
    /// Sum of resident set sizes (shared pages counted in each process).
    pub rss_kib: u64,
    /// Sum of proportional set sizes (shared pages split between sharers).
    pub pss_kib: u64,
}

/// The pid of the process running `exe` (the newest when several do).
pub fn find_process(exe: &Path) -> Option<u32> {
    let wanted = std::fs::canonicalize(exe).ok()?;
    pids()
        .into_iter()
        .filter(|pid| std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|e| e == wanted))
        .max()
}

/// `root` and all its descendants, summed.
pub fn tree_memory(root: u32) -> TreeMemory {
    let mut total = TreeMemory::default();
    for pid in descendants(root) {
        if let Some((rss, pss)) = rollup(pid) {
            total.processes += 1;
            total.rss_kib += rss;
            total.pss_kib += pss;
        }
    }
    total
}

/// `root` and every process below it.
fn descendants(root: u32) -> BTreeSet<u32> {
    let mut children: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for pid in pids() {
        if let Some(ppid) = parent(pid) {
            children.entry(ppid).or_default().push(pid);
        }
    }
    let mut seen = BTreeSet::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        if seen.insert(pid) {
            todo.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    seen
}

/// Each process of `root`'s tree with its own figures.
pub fn per_process(root: u32) -> Vec<(String, TreeMemory)> {
    descendants(root)
        .into_iter()
        .filter_map(|pid| {
            let (rss_kib, pss_kib) = rollup(pid)?;
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
            Some((
                name.trim().to_owned(),
                TreeMemory {
                    processes: 1,
                    rss_kib,
                    pss_kib,
                },
            ))
        })
        .collect()
}

/// The names of `root`'s tree, for the report (`porthole`, `WebKitWebProcess`…).
pub fn tree_names(root: u32) -> Vec<String> {
    descendants(root)
        .into_iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/comm")).ok())
        .map(|name| name.trim().to_owned())
        .collect()
}

/// Copies /proc/PID/smaps of `root`'s tree into `dir` (for a diagnosis
/// of where memory went; `PORTHOLE_BENCH_SMAPS`).
pub fn save_smaps(root: u32, dir: &Path, label: &str) {
    let slug: String = label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let _ = std::fs::create_dir_all(dir);
    for pid in descendants(root) {
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) {
            let _ = std::fs::write(
                dir.join(format!("{slug}-{}-{pid}.smaps", name.trim())),
                text,
            );
        }
    }
}

fn pids() -> Vec<u32> {
    std::fs::read_dir("/proc")
        .map(|dir| {
            dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

fn parent(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: fields follow the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(1)?.parse().ok()
}

fn rollup(pid: u32) -> Option<(u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
    };
    Some((field("Rss:")?, field("Pss:")?))
}
