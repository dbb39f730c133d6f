//! Start and teardown of separate control planes (not the shared one):
//! `down` and the owner's end both leave no process, namespace or directory.

use std::time::Duration;

use porthole_testkit::cluster::{Launch, launch};
use porthole_testkit::state::State;
use porthole_testkit::{down, netns, process};

use crate::support::block_on;

fn assert_all_gone(state: &State) {
    for (name, pid) in state.component_pids() {
        assert!(
            !process::alive_as(pid, name),
            "{name} (pid {pid}) still runs"
        );
    }
    assert!(!process::alive_as(state.supervisor_pid, "supervise"));
    let ns = state.netns.as_ref().expect("netns recorded");
    assert!(
        !netns::exists(&ns.name),
        "network namespace {} is left",
        ns.name
    );
    assert!(!state.dir.exists(), "{} is left", state.dir.display());
}

#[test]
fn down_leaves_no_process_namespace_or_directory() {
    let launched =
        launch(&Launch::owned(0).expect("launch options")).expect("second control plane");
    let state = launched.state.clone();
    assert!(netns::exists(&state.netns.as_ref().expect("netns").name));
    let report = block_on(down::down(&state.dir)).expect("down");
    println!("{}", report.join("\n"));
    assert!(
        report.iter().any(|l| l.contains("stopped supervisor")),
        "{report:?}"
    );
    assert_all_gone(&state);
    // Twice is fine.
    assert!(
        block_on(down::down(&state.dir))
            .expect("down again")
            .is_empty()
    );
    drop(launched);
}

#[test]
fn the_owner_going_away_tears_everything_down() {
    let launched = launch(&Launch::owned(0).expect("launch options")).expect("third control plane");
    let state = launched.state.clone();
    let mut child = launched.child;
    // What a test process that panics or is killed does: its end of the
    // pipe closes.
    drop(launched.stdin);
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while matches!(child.try_wait(), Ok(None)) {
        assert!(
            std::time::Instant::now() < deadline,
            "supervisor did not stop"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_all_gone(&state);
}

fn porthole_cluster() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_porthole-cluster"));
    cmd.stdin(std::process::Stdio::null())
        .env_remove(porthole_testkit::state::DIR_ENV)
        .env_remove(porthole_testkit::bins::K8S_BIN_DIR_ENV);
    cmd
}

#[test]
fn without_root_it_says_so() {
    let setpriv = std::path::Path::new("/usr/bin/setpriv");
    if !setpriv.exists() {
        eprintln!("skipped: no /usr/bin/setpriv (util-linux) to drop root");
        return;
    }
    let dir = std::env::temp_dir().join("porthole-cluster-test-nonroot");
    let mut cmd = std::process::Command::new(setpriv);
    cmd.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_porthole-cluster"))
        .arg("up")
        .arg("--dir")
        .arg(&dir)
        .env_remove(porthole_testkit::state::DIR_ENV);
    let out = cmd.output().expect("run setpriv");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("needs root") && err.contains("sudo"), "{err}");
    assert!(!dir.exists(), "nothing is created before the checks");
}

#[test]
fn without_go_and_without_cached_binaries_it_says_so() {
    let path = "/usr/sbin:/usr/bin:/sbin:/bin";
    if path
        .split(':')
        .any(|d| std::path::Path::new(d).join("go").exists())
    {
        eprintln!("skipped: go is installed in a system directory");
        return;
    }
    let cache = std::env::temp_dir().join(format!("porthole-empty-cache-{}", std::process::id()));
    let dir = std::env::temp_dir().join("porthole-cluster-test-nogo");
    let out = porthole_cluster()
        .arg("up")
        .arg("--dir")
        .arg(&dir)
        .env("PATH", path)
        .env("PORTHOLE_CACHE_DIR", &cache)
        .output()
        .expect("run porthole-cluster");
    let _ = std::fs::remove_dir_all(&cache);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("'go' was not found"), "{err}");
    assert!(err.contains("tests/control-plane/build.sh"), "{err}");
    assert!(!dir.exists());
}
