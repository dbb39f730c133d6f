//! Finding the binaries the harness runs: kube-apiserver and etcd (built
//! from Go modules by tests/control-plane/build.sh into a cache),
//! `porthole-backends` and `porthole-cluster` (cargo builds of this
//! workspace).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::error::{Error, IoContext, Result};

/// Directory with `kube-apiserver` and `etcd`, instead of running build.sh.
pub const K8S_BIN_DIR_ENV: &str = "PORTHOLE_K8S_BIN_DIR";
pub const BACKENDS_BIN_ENV: &str = "PORTHOLE_BACKENDS_BIN";
pub const CLUSTER_BIN_ENV: &str = "PORTHOLE_CLUSTER_BIN";
pub const PORTHOLECTL_BIN_ENV: &str = "PORTHOLECTL_BIN";

#[derive(Debug, Clone)]
pub struct ControlPlaneBins {
    pub kube_apiserver: PathBuf,
    pub etcd: PathBuf,
    /// `porthole-node-agent`: the test stand-in for the kubelet.
    pub node_agent: PathBuf,
}

impl ControlPlaneBins {
    /// The binaries build.sh puts in `dir`.
    pub fn in_dir(dir: &Path) -> ControlPlaneBins {
        ControlPlaneBins {
            kube_apiserver: dir.join("kube-apiserver"),
            etcd: dir.join("etcd"),
            node_agent: dir.join("porthole-node-agent"),
        }
    }
}

/// The checkout's tests/control-plane/build.sh (path fixed at compile time).
pub fn build_script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../control-plane/build.sh")
}

/// kube-apiserver and etcd: from `$PORTHOLE_K8S_BIN_DIR`, else from
/// build.sh (instant when cached; a cold build takes minutes and needs Go).
pub fn control_plane() -> Result<ControlPlaneBins> {
    let dir = match std::env::var_os(K8S_BIN_DIR_ENV) {
        Some(dir) => PathBuf::from(dir),
        None => run_build_script()?,
    };
    let bins = ControlPlaneBins::in_dir(&dir);
    for b in [&bins.kube_apiserver, &bins.etcd, &bins.node_agent] {
        if !b.is_file() {
            return Err(Error::ControlPlaneBinaries {
                detail: format!(
                    "{} does not exist (tests/control-plane/build.sh builds it)",
                    b.display()
                ),
            });
        }
    }
    Ok(bins)
}

fn run_build_script() -> Result<PathBuf> {
    let script = build_script();
    if !script.is_file() {
        return Err(Error::ControlPlaneBinaries {
            detail: format!("{} is missing", script.display()),
        });
    }
    let mut child = Command::new("bash")
        .arg(&script)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ctx(|| format!("running {}", script.display()))?;
    // Pass build progress through (a cold build takes minutes) and keep the
    // end of it for the error message.
    let stderr = child.stderr.take();
    let relay = std::thread::spawn(move || {
        let mut kept: Vec<String> = Vec::new();
        if let Some(stderr) = stderr {
            for line in BufReader::new(stderr).lines().map_while(|l| l.ok()) {
                eprintln!("{line}");
                kept.push(line);
                if kept.len() > 80 {
                    kept.remove(0);
                }
            }
        }
        kept.join("\n")
    });
    let out = child
        .wait_with_output()
        .ctx(|| format!("waiting for {}", script.display()))?;
    let log = relay.join().unwrap_or_default();
    if !out.status.success() {
        let detail = if log.contains("'go' was not found on PATH") {
            format!("Go is missing and the binaries are not cached.\n{log}")
        } else {
            format!("{} failed ({}):\n{log}", script.display(), out.status)
        };
        return Err(Error::ControlPlaneBinaries { detail });
    }
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if dir.is_empty() {
        return Err(Error::ControlPlaneBinaries {
            detail: format!("{} printed no directory", script.display()),
        });
    }
    Ok(PathBuf::from(dir))
}

/// The cargo profile directory this process runs from (`target/debug`),
/// whether it is a binary there or a test in `target/debug/deps`.
fn profile_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let dir = exe.parent()?;
    if dir.file_name().is_some_and(|n| n == "deps") {
        dir.parent().map(Path::to_path_buf)
    } else {
        Some(dir.to_path_buf())
    }
}

/// Newest modification time of the files under `dir` (sources of a package).
fn newest_source(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).ok()?.flatten() {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                if path.file_name().is_some_and(|n| n != "target") {
                    stack.push(path);
                }
            } else if let Ok(m) = meta.modified() {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
}

/// Whether `bin` is missing or older than the `src/` or Cargo.toml of any
/// of `package_dirs` (its package and the workspace crates it links).
fn stale(bin: &Path, package_dirs: &[&Path]) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return true;
    };
    package_dirs.iter().any(|dir| {
        let manifest = std::fs::metadata(dir.join("Cargo.toml"))
            .and_then(|m| m.modified())
            .ok();
        newest_source(&dir.join("src"))
            .max(manifest)
            .is_some_and(|src| src > built)
    })
}

/// A workspace binary: `$env_var`, else the file next to this executable
/// (`target/<profile>/`), built first with cargo when it is missing or older
/// than the sources in `source_dirs` (its package first, then the workspace
/// crates it links; cargo must be at hand: `$CARGO`, set under
/// `cargo test`/`cargo run`, else `cargo` on PATH).
pub fn workspace_binary(
    name: &str,
    package: &str,
    source_dirs: &[&Path],
    env_var: &str,
) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(Error::BinaryNotFound {
                name: name.into(),
                hint: format!("{env_var}={} is not a file", p.display()),
            })
        };
    }
    let not_found = |looked: &str| Error::BinaryNotFound {
        name: name.into(),
        hint: format!(
            "build it with `cargo build -p {package}` (looked in {looked}), or set {env_var}"
        ),
    };
    let profile = profile_dir().ok_or_else(|| not_found("the target directory"))?;
    let bin = profile.join(name);
    if stale(&bin, source_dirs) {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        cargo_build(Path::new(&cargo), &profile, name, package)?;
    }
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(not_found(&profile.display().to_string()))
    }
}

fn cargo_build(cargo: &Path, profile_dir: &Path, name: &str, package: &str) -> Result<()> {
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--bin", name]);
    match profile_dir.file_name().and_then(|n| n.to_str()) {
        Some("debug") | None => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
    }
    // target/<profile> or target/<triple>/<profile>: the target dir is the
    // ancestor cargo marked with CACHEDIR.TAG.
    if let Some(target) = profile_dir
        .ancestors()
        .skip(1)
        .take(2)
        .find(|d| d.join("CACHEDIR.TAG").is_file())
    {
        cmd.env("CARGO_TARGET_DIR", target);
    }
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::BinaryNotFound {
            name: name.into(),
            hint: format!(
                "it is missing or out of date and `{} build -p {package}` could not run: {e}",
                cargo.display()
            ),
        })?;
    if !out.status.success() {
        return Err(Error::BuildFailed {
            what: format!("cargo build -p {package} --bin {name}"),
            output: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(())
}

/// The `porthole-backends` binary.
pub fn backends() -> Result<PathBuf> {
    workspace_binary(
        "porthole-backends",
        "porthole-test-backends",
        &[&Path::new(env!("CARGO_MANIFEST_DIR")).join("../backends")],
        BACKENDS_BIN_ENV,
    )
}

/// The `porthole-cluster` binary (supervisor and exec credential plugin).
pub fn cluster() -> Result<PathBuf> {
    // When we are porthole-cluster ourselves, that is the answer.
    if let Ok(exe) = std::env::current_exe()
        && exe.file_name().is_some_and(|n| n == "porthole-cluster")
        && std::env::var_os(CLUSTER_BIN_ENV).is_none()
    {
        return Ok(exe);
    }
    workspace_binary(
        "porthole-cluster",
        "porthole-testkit",
        &[Path::new(env!("CARGO_MANIFEST_DIR"))],
        CLUSTER_BIN_ENV,
    )
}

/// `portholectl` (crate porthole-cli), for tests outside that crate that
/// drive it (porthole-core's discovery tests); rebuilt when its sources or
/// porthole-core's changed. Looked up once per process: the staleness check
/// walks both crates' sources.
pub fn portholectl() -> Result<PathBuf> {
    static FOUND: std::sync::OnceLock<std::result::Result<PathBuf, String>> =
        std::sync::OnceLock::new();
    FOUND
        .get_or_init(|| {
            let src_tauri = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../src-tauri");
            workspace_binary(
                "portholectl",
                "porthole-cli",
                &[&src_tauri.join("cli"), &src_tauri.join("core")],
                PORTHOLECTL_BIN_ENV,
            )
            .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|hint| Error::BinaryNotFound {
            name: "portholectl".into(),
            hint,
        })
}
