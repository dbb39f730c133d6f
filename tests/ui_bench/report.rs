//! The UI section's table: each figure, its goal from issue #6, and
//! whether this run met it (reported, never asserted).

use std::fmt::Write as _;
use std::time::Duration;

use crate::core_list::CoreList;
use crate::memory::TreeMemory;
use crate::page::{Keystroke, SelectTimes};

#[derive(Debug, Default)]
pub struct Figures {
    pub services: usize,
    pub namespaces: usize,
    /// Select → first rows and complete list in core, per round.
    pub core: Vec<CoreList>,
    /// Select → rows painted in the app, per round.
    pub ui: Vec<SelectTimes>,
    pub keys: Vec<Keystroke>,
    pub app: TreeMemory,
    /// The same, [`crate::LATER`] later.
    pub app_later: TreeMemory,
    /// The app before the large context was selected (a few services).
    pub app_small: TreeMemory,
    pub bare: TreeMemory,
}

fn met(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

fn rounds(values: &[f64], goal: f64, unit: &str) -> String {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{v:.0} {unit} (round {}: {})", i + 1, met(*v <= goal)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Nearest-rank percentile of unsorted values.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1]
}

pub fn table(f: &Figures) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n## UI at scale: {} services in {} namespaces (porthole-admin)\n",
        f.services, f.namespaces
    );
    let _ = writeln!(out, "| figure | this run | goal |");
    let _ = writeln!(out, "|---|---|---|");
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let core_first: Vec<String> = f
        .core
        .iter()
        .map(|r| match r.first_rows {
            Some((d, n)) => format!("{:.0} ms ({n} rows)", ms(d)),
            None => "none".to_owned(),
        })
        .collect();
    let _ = writeln!(
        out,
        "| select context → first rows in core | {} | — |",
        core_first.join(", ")
    );
    let core: Vec<f64> = f.core.iter().map(|r| ms(r.complete)).collect();
    let _ = writeln!(
        out,
        "| select context → complete list in core | {} | ≤ 1000 ms |",
        rounds(&core, 1000.0, "ms")
    );
    let first: Vec<f64> = f.ui.iter().map(|t| t.first_rows_ms).collect();
    let _ = writeln!(
        out,
        "| select context → first rows painted (app) | {} | ≤ 300 ms |",
        rounds(&first, 300.0, "ms")
    );
    let full: Vec<f64> = f.ui.iter().map(|t| t.full_list_ms).collect();
    let _ = writeln!(
        out,
        "| select context → full list painted (app) | {} | — |",
        full.iter()
            .map(|v| format!("{v:.0} ms"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let keys: Vec<f64> = f.keys.iter().map(|k| k.ms).collect();
    let worst = keys.iter().copied().fold(f64::NAN, f64::max);
    let _ = writeln!(
        out,
        "| filter keystroke → painted, {} keys: p50 / p95 / max | {:.1} / {:.1} / {:.1} ms ({}) | ≤ 50 ms |",
        keys.len(),
        percentile(&keys, 50.0),
        percentile(&keys, 95.0),
        worst,
        met(worst <= 50.0)
    );
    let arrived: Vec<f64> = f.keys.iter().filter_map(|k| k.got_ms).collect();
    let _ = writeln!(
        out,
        "| filter keystroke → its rows in the page (asked, answered, applied; before paint): p50 / p95 / max | {:.1} / {:.1} / {:.1} ms | — |",
        percentile(&arrived, 50.0),
        percentile(&arrived, 95.0),
        arrived.iter().copied().fold(f64::NAN, f64::max),
    );
    let ratio = |a: u64, b: u64| {
        if b == 0 {
            f64::NAN
        } else {
            a as f64 / b as f64
        }
    };
    let mib = |k: u64| k as f64 / 1024.0;
    // (what, Porthole's KiB, the bare window's KiB, whether the goal applies)
    let memory = [
        ("RSS", f.app.rss_kib, f.bare.rss_kib, true),
        ("PSS", f.app.pss_kib, f.bare.pss_kib, true),
        ("RSS, 30 s later", f.app_later.rss_kib, f.bare.rss_kib, true),
        (
            "RSS, showing a few services (the floor)",
            f.app_small.rss_kib,
            f.bare.rss_kib,
            false,
        ),
    ];
    for (what, app, bare, goal) in memory {
        let r = ratio(app, bare);
        let verdict = if goal {
            format!(" ({})", met(r <= 1.15))
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| memory, app + WebKit, {what}: Porthole / bare window | {:.1} / {:.1} MiB = {r:.2}×{verdict} | {} |",
            mib(app),
            mib(bare),
            if goal { "≤ 1.15×" } else { "—" }
        );
    }
    let _ = writeln!(out, "\nkeystrokes (key → ms, rows shown):");
    for k in &f.keys {
        let key = if k.key == "Backspace" {
            "⌫"
        } else {
            k.key.as_str()
        };
        let _ = write!(
            out,
            " {key} {:.1} ({} rows; asked {:.0}, in {:.0})",
            k.ms,
            k.rows,
            k.asked_ms.unwrap_or(f64::NAN),
            k.got_ms.unwrap_or(f64::NAN)
        );
    }
    out.push('\n');
    out
}
