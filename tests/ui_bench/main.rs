//! `make bench`'s UI section (issue #6, item 8): 10,000 services in 100
//! namespaces on a private control plane, and the figures a user feels —
//! selecting the context to the complete list in core; to the first rows
//! and the full list painted in the app; the filter's keystroke-to-paint
//! latency; the app's total memory (app + WebKit processes) next to a bare
//! Tauri window (tests/bare-window) measured in the same run. Figures and
//! goals are printed, never asserted; what is asserted is that the
//! measurement measured something (the table really held every service,
//! the filter really filtered).
//!
//! `PORTHOLE_BENCH_SMAPS=DIR` keeps /proc/PID/smaps of every process at
//! each memory reading, to see which mappings grew.
//!
//! Run by `make bench` (release builds, Xvfb, a D-Bus session):
//! `cargo test --release -p porthole --test ui_bench`. Not part of
//! `cargo test` (`test = false`): it needs minutes and a quiet machine.

#[allow(dead_code)]
#[path = "../e2e/driver.rs"]
mod driver;
#[allow(dead_code)]
#[path = "../e2e/setup.rs"]
mod setup;

mod core_list;
mod memory;
mod page;
mod report;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use porthole_testkit::cluster::{Launch as ClusterLaunch, launch};

use crate::driver::{Launch, Session};
use crate::memory::TreeMemory;
use crate::report::Figures;
use crate::setup::{WAIT, hermetic_env};

const SCALE: usize = 10_000;
/// The context measured (client certificate: sees every namespace).
const ADMIN: &str = "porthole-admin";
/// The context shown before each measured selection (a few services).
const OTHER: &str = "porthole-viewer";
/// Typed into the filter key by key, then erased key by key.
const QUERY: &str = "svc-01234";
/// Time for a window to finish loading before its memory is read.
const SETTLE: Duration = Duration::from_secs(5);
/// A second look at the app's memory, after WebKit's lazy collection.
const LATER: Duration = Duration::from_secs(30);

fn main() {
    driver::check_prerequisites();
    let bare = bare_window_binary();

    let started = Instant::now();
    let mut cluster = launch(&ClusterLaunch::owned(SCALE).expect("launch options"))
        .expect("a private control plane with the scale set");
    let kubeconfig = cluster.state.kubeconfig.clone();
    let (services, namespaces) = count_services(&kubeconfig);
    println!(
        "ui bench: a private control plane with {services} services in {namespaces} namespaces, ready in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let mut figures = Figures {
        services,
        namespaces,
        ..Figures::default()
    };
    figures.core = core_list::complete_list_times(&kubeconfig, ADMIN, 2);
    for round in &figures.core {
        assert!(
            round.services >= services,
            "core listed {} of {services} services",
            round.services
        );
        println!(
            "ui bench: select → complete list in core: {:?} ({} services); first rows: {:?}",
            round.complete, round.services, round.first_rows
        );
    }
    figures.bare = measure_bare_window(&bare);
    measure_app(&kubeconfig, services, &mut figures);

    println!("{}", report::table(&figures));
    drop(cluster.stdin.take());
    let _ = cluster.child.wait();
}

/// The bare window, built next to the app (`make bench` builds both).
fn bare_window_binary() -> PathBuf {
    let app = Path::new(env!("CARGO_BIN_EXE_porthole"));
    let bare = app.with_file_name("porthole-bare-window");
    assert!(
        bare.is_file(),
        "{} is missing: build it with `cargo build --release -p porthole-bare-window` (make bench does)",
        bare.display()
    );
    bare
}

/// (services, namespaces) in the cluster, as kubectl counts them.
fn count_services(kubeconfig: &Path) -> (usize, usize) {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args([
            "get",
            "services",
            "-A",
            "--no-headers",
            "-o",
            "custom-columns=NS:.metadata.namespace",
        ])
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl get services: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    let namespaces: std::collections::BTreeSet<&str> = text.lines().collect();
    (text.lines().count(), namespaces.len())
}

fn measure_bare_window(bare: &Path) -> TreeMemory {
    let home = tempfile::tempdir().expect("tempdir");
    let env = hermetic_env(home.path(), String::new(), "en");
    let session = Session::start_application(
        Launch {
            env,
            log_name: "bench-bare-window.log",
        },
        bare,
    );
    session.set_window_size(1280, 800);
    session.wait_for("[data-testid=bare]", 1, WAIT);
    sleep(SETTLE);
    session.screenshot("bench-bare-window.png");
    tree_memory_of(bare, "the bare window")
}

fn tree_memory_of(exe: &Path, what: &str) -> TreeMemory {
    let pid = memory::find_process(exe)
        .unwrap_or_else(|| panic!("{what} ({}) is not running", exe.display()));
    let mem = memory::tree_memory(pid);
    // Diagnosis: PORTHOLE_BENCH_SMAPS=DIR keeps each process's smaps.
    if let Some(dir) = std::env::var_os("PORTHOLE_BENCH_SMAPS") {
        memory::save_smaps(pid, Path::new(&dir), what);
    }
    for (name, m) in memory::per_process(pid) {
        println!(
            "ui bench:   {name}: RSS {:.1} MiB, PSS {:.1} MiB",
            m.rss_kib as f64 / 1024.0,
            m.pss_kib as f64 / 1024.0
        );
    }
    println!(
        "ui bench: {what}: {} processes ({}), RSS {:.1} MiB, PSS {:.1} MiB",
        mem.processes,
        memory::tree_names(pid).join(", "),
        mem.rss_kib as f64 / 1024.0,
        mem.pss_kib as f64 / 1024.0
    );
    mem
}

fn measure_app(kubeconfig: &Path, services: usize, figures: &mut Figures) {
    let home = tempfile::tempdir().expect("tempdir");
    let kube = home.path().join("kube/config");
    std::fs::create_dir_all(kube.parent().expect("a parent")).expect("create kube dir");
    std::fs::copy(kubeconfig, &kube).expect("copy the cluster's kubeconfig");
    let settings = home.path().join(".config/porthole/settings.json");
    std::fs::create_dir_all(settings.parent().expect("a parent")).expect("create settings dir");
    std::fs::write(&settings, r#"{"proxy": {"startWithApp": false}}"#).expect("write settings");
    let mut env = hermetic_env(home.path(), kube.display().to_string(), "en");
    env.push(("PORTHOLE_LOG", "info,porthole_app=debug".to_owned()));
    let session = Session::start(Launch {
        env,
        log_name: "bench-app.log",
    });
    session.set_window_size(1280, 800);

    // Both contexts reachable, the other one's services on screen.
    for name in [ADMIN, OTHER] {
        session.wait_for(
            &format!(
                "[role=option][data-name='{name}'] [data-testid=status-dot][data-state=reachable]"
            ),
            1,
            Duration::from_secs(60),
        );
    }
    page::select(&session, OTHER);
    let tab = session.wait_for("[data-testid=tab-services]", 1, WAIT);
    session.click(&tab[0]);
    // The floor: Porthole showing a context with a few services.
    wait_for_other_context(&session, services);
    sleep(SETTLE);
    figures.app_small = tree_memory_of(
        Path::new(env!("CARGO_BIN_EXE_porthole")),
        "Porthole showing a few services",
    );
    for round in 0..2 {
        wait_for_other_context(&session, services);
        let times = page::select_and_time(&session, ADMIN, services);
        println!(
            "ui bench: round {}: select → first rows painted {:.0} ms, full list painted {:.0} ms ({} rows); list complete in core after {:?} ms of its watch, its event in the page after {:?} ms, its rows applied after {:?} ms",
            round + 1,
            times.first_rows_ms,
            times.full_list_ms,
            times.rows,
            times.core_ms,
            times.received_ms.map(|ms| ms.round()),
            times.applied_ms.map(|ms| ms.round()),
        );
        assert!(
            times.rows as usize >= services,
            "the table held {} of {services}",
            times.rows
        );
        figures.ui.push(times);
        tree_memory_of(
            Path::new(env!("CARGO_BIN_EXE_porthole")),
            &format!("Porthole after round {}", round + 1),
        );
        if round == 0 {
            session.screenshot("bench-app-10k.png");
            page::select(&session, OTHER);
        }
    }

    // What the table's height costs: the same with one row shown.
    {
        let input = session.wait_for("[data-testid=service-filter]", 1, WAIT);
        session.send_keys(&input[0], QUERY);
        sleep(SETTLE);
        tree_memory_of(
            Path::new(env!("CARGO_BIN_EXE_porthole")),
            "Porthole with one row shown",
        );
        session.execute(
            "const i = document.querySelector('[data-testid=service-filter]'); i.value = ''; i.dispatchEvent(new Event('input', {bubbles: true})); return '';",
        );
        sleep(Duration::from_secs(1));
    }
    // The filter, key by key, then erased key by key.
    page::record_keystrokes(&session);
    let input = session.wait_for("[data-testid=service-filter]", 1, WAIT);
    for key in QUERY
        .chars()
        .map(String::from)
        .chain(QUERY.chars().map(|_| "\u{E003}".to_owned()))
    {
        session.send_keys(&input[0], &key);
        sleep(Duration::from_millis(250));
    }
    sleep(Duration::from_millis(500));
    let keys = page::keystrokes(&session);
    assert_eq!(keys.len(), 2 * QUERY.len(), "keystrokes recorded: {keys:?}");
    assert!(
        keys.iter().all(|k| k.arrived),
        "the rows of every filter text arrived: {keys:?}"
    );
    let narrowest = keys[QUERY.len() - 1].rows;
    assert!(
        (1..=2).contains(&narrowest),
        "`{QUERY}` left {narrowest} rows"
    );
    assert_eq!(
        page::row_count(&session),
        services as i64,
        "erasing the filter shows every service"
    );
    figures.keys = keys;

    sleep(SETTLE);
    tree_memory_of(
        Path::new(env!("CARGO_BIN_EXE_porthole")),
        "Porthole after the keystrokes",
    );
    session.screenshot("bench-app-filtered.png");
    figures.app = tree_memory_of(Path::new(env!("CARGO_BIN_EXE_porthole")), "Porthole");
    // WebKit collects garbage and returns pages lazily: the same, later.
    sleep(LATER);
    figures.app_later = tree_memory_of(
        Path::new(env!("CARGO_BIN_EXE_porthole")),
        "Porthole, 30 s later",
    );
}

/// Waits until the table shows the other context's few services.
fn wait_for_other_context(session: &Session, services: usize) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let rows = page::row_count(session);
        if rows > 0 && (rows as usize) < services / 2 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{OTHER}'s services did not show (rows: {rows})"
        );
        sleep(Duration::from_millis(100));
    }
}
