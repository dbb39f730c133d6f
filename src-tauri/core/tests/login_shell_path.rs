//! The desktop PATH problem: an exec plugin that only the login profile puts
//! on PATH is found thanks to the login shell, and only thanks to it.
//!
//! Every shell here is a fake one in a temporary directory: a wrapper that
//! runs the real bash or sh with a throwaway HOME, or a script that checks
//! it is called as `-l -c SCRIPT` (no `-i`). The real user's profile is
//! never read.
#![cfg(unix)]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use porthole_core::shell_path::{LoginShellError, ResolvedPath, SearchPath};

const PLUGIN: &str = "porthole-fake-auth-plugin";

struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    fn write(&self, rel: &str, text: &str, executable: bool) -> PathBuf {
        let path = self.path(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("mkdir");
        }
        std::fs::write(&path, text).expect("write");
        if executable {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        path
    }

    /// The fake plugin, in a directory no PATH of this process contains.
    fn plugin_dir(&self) -> PathBuf {
        self.write(
            &format!("plugin-bin/{PLUGIN}"),
            "#!/bin/sh\necho '{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"fake\"}}'\n",
            true,
        );
        self.path("plugin-bin")
    }

    /// A "login shell" that is `real_shell` with HOME set to `home/` here.
    fn wrapper_shell(&self, real_shell: &str) -> PathBuf {
        let home = self.path("home");
        std::fs::create_dir_all(&home).expect("mkdir home");
        self.write(
            "fake-shell",
            &format!(
                "#!/bin/sh\nHOME='{}'\nexport HOME\nexec {real_shell} \"$@\"\n",
                home.display()
            ),
            true,
        )
    }
}

fn process_path() -> Option<OsString> {
    std::env::var_os("PATH")
}

#[tokio::test]
async fn a_plugin_on_the_login_profiles_path_is_found_only_through_the_login_shell() {
    let sandbox = Sandbox::new();
    let plugin_dir = sandbox.plugin_dir();
    let shell = sandbox.wrapper_shell("/bin/bash");
    sandbox.write(
        "home/.bash_profile",
        &format!(
            "echo 'Welcome to the zoo! PATH=/not/this'\nexport PATH=\"$PATH:{}\"\n",
            plugin_dir.display()
        ),
        false,
    );

    // (a) With the process PATH alone, the plugin is not found.
    let without = SearchPath::merge(process_path().as_deref(), None, &[]);
    assert!(!without.dirs().contains(&plugin_dir));
    assert_eq!(
        without.find_executable(PLUGIN).await,
        None,
        "searched {without}"
    );

    // (b) With the login shell's PATH merged in, it is.
    let resolved = ResolvedPath::resolve(process_path(), &shell, Duration::from_secs(10)).await;
    assert!(resolved.problem.is_none(), "{:?}", resolved.problem);
    let search = resolved.search_path(&[]);
    let found = search.find_executable(PLUGIN).await;
    assert_eq!(found, Some(plugin_dir.join(PLUGIN)), "searched {search}");
    // The process PATH comes first, the profile's directory after it.
    let process_dirs = SearchPath::merge(process_path().as_deref(), None, &[]);
    assert_eq!(
        &search.dirs()[..process_dirs.dirs().len()],
        process_dirs.dirs()
    );
    assert_eq!(search.dirs().last(), Some(&plugin_dir));
    assert!(
        !search.to_string().contains("/not/this"),
        "profile noise ignored"
    );

    // And a child given that PATH runs the plugin by its bare name.
    let out = tokio::process::Command::new(PLUGIN)
        .env("PATH", search.to_env_value().expect("PATH joins"))
        .output()
        .await
        .expect("the plugin runs by name on the resolved PATH");
    assert!(String::from_utf8_lossy(&out.stdout).contains("ExecCredential"));
}

#[tokio::test]
async fn the_shell_is_called_as_a_non_interactive_login_shell() {
    let sandbox = Sandbox::new();
    let plugin_dir = sandbox.plugin_dir();
    // Refuses anything but exactly `-l -c SCRIPT`, prints noise, then runs
    // the script with the plugin's directory on PATH.
    let shell = sandbox.write(
        "strict-shell",
        &format!(
            "#!/bin/sh\n\
             if [ \"$#\" -ne 3 ] || [ \"$1\" != -l ] || [ \"$2\" != -c ]; then echo \"called as: $*\" >&2; exit 64; fi\n\
             echo 'motd line'; echo '__PORTHOLE_PATH_BEGIN_fake__'\n\
             PATH=\"$PATH:{}\"; export PATH\n\
             exec /bin/sh -c \"$3\"\n",
            plugin_dir.display()
        ),
        true,
    );
    let resolved = ResolvedPath::resolve(process_path(), &shell, Duration::from_secs(10)).await;
    assert!(resolved.problem.is_none(), "{:?}", resolved.problem);
    assert!(
        resolved
            .search_path(&[])
            .find_executable(PLUGIN)
            .await
            .is_some()
    );
}

#[tokio::test]
async fn posix_sh_as_a_login_shell_reads_dot_profile() {
    let sandbox = Sandbox::new();
    let plugin_dir = sandbox.plugin_dir();
    let shell = sandbox.wrapper_shell("/bin/sh");
    sandbox.write(
        "home/.profile",
        &format!("PATH=\"$PATH:{}\"; export PATH\n", plugin_dir.display()),
        false,
    );
    let resolved = ResolvedPath::resolve(process_path(), &shell, Duration::from_secs(10)).await;
    assert!(resolved.problem.is_none(), "{:?}", resolved.problem);
    assert!(
        resolved
            .search_path(&[])
            .find_executable(PLUGIN)
            .await
            .is_some()
    );
}

/// Whether a process is gone (or a zombie nobody reaped yet).
fn is_dead(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[tokio::test]
async fn a_hanging_profile_is_stopped_at_the_timeout_with_everything_it_started() {
    let sandbox = Sandbox::new();
    let shell = sandbox.wrapper_shell("/bin/bash");
    let pid_file = sandbox.path("sleep.pid");
    sandbox.write(
        "home/.bash_profile",
        &format!("sleep 30 &\necho $! > '{}'\nwait\n", pid_file.display()),
        false,
    );
    let timeout = Duration::from_secs(1);
    let started = Instant::now();
    let resolved = ResolvedPath::resolve(process_path(), &shell, timeout).await;
    let took = started.elapsed();

    assert!(took < timeout + Duration::from_secs(2), "took {took:?}");
    assert!(
        matches!(resolved.problem, Some(LoginShellError::TimedOut { .. })),
        "{:?}",
        resolved.problem
    );
    assert!(resolved.login.is_none());
    assert_eq!(
        resolved.search_path(&[]),
        SearchPath::merge(process_path().as_deref(), None, &[]),
        "falls back to the process PATH"
    );
    let message = resolved.problem.map(|p| p.to_string()).unwrap_or_default();
    assert!(
        message.contains("fake-shell") && message.contains("1.0 s"),
        "{message}"
    );

    let pid = std::fs::read_to_string(&pid_file).expect("the profile started its sleep");
    let deadline = Instant::now() + Duration::from_secs(3);
    while !is_dead(pid.trim()) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        is_dead(pid.trim()),
        "the profile's sleep {} outlived the timeout",
        pid.trim()
    );
}

#[tokio::test]
async fn a_shell_that_does_not_exist_is_a_typed_error() {
    let missing = Path::new("/nonexistent/porthole/zsh");
    let resolved = ResolvedPath::resolve(process_path(), missing, Duration::from_secs(3)).await;
    match &resolved.problem {
        Some(LoginShellError::ShellNotFound { shell }) => assert_eq!(shell, missing),
        other => panic!("expected ShellNotFound, got {other:?}"),
    }
    assert_eq!(
        resolved.search_path(&[]),
        SearchPath::merge(process_path().as_deref(), None, &[])
    );
}

#[tokio::test]
async fn a_shell_that_prints_nothing_and_fails_is_a_typed_error() {
    let sandbox = Sandbox::new();
    let shell = sandbox.write(
        "broken-shell",
        "#!/bin/sh\necho 'profile error' >&2\nexit 3\n",
        true,
    );
    let resolved = ResolvedPath::resolve(process_path(), &shell, Duration::from_secs(5)).await;
    match &resolved.problem {
        Some(LoginShellError::NoPath { status, .. }) => assert_eq!(status.code(), Some(3)),
        other => panic!("expected NoPath, got {other:?}"),
    }
    assert!(resolved.login.is_none());
}

#[tokio::test]
async fn extra_directories_come_last_without_duplicates() {
    let sandbox = Sandbox::new();
    let plugin_dir = sandbox.plugin_dir();
    let shell = sandbox.wrapper_shell("/bin/sh");
    sandbox.write(
        "home/.profile",
        "PATH=\"$PATH:/opt/from-profile\"; export PATH\n",
        false,
    );
    let resolved = ResolvedPath::resolve(process_path(), &shell, Duration::from_secs(10)).await;
    assert!(resolved.problem.is_none(), "{:?}", resolved.problem);

    assert_eq!(
        resolved.search_path(&[]).find_executable(PLUGIN).await,
        None
    );
    let extra = [
        plugin_dir.clone(),
        PathBuf::from("/opt/from-profile"),
        plugin_dir.clone(),
    ];
    let search = resolved.search_path(&extra);
    let dirs = search.dirs();
    assert_eq!(
        dirs.last(),
        Some(&plugin_dir),
        "extra directory appended: {search}"
    );
    assert_eq!(dirs.iter().filter(|d| **d == plugin_dir).count(), 1);
    assert_eq!(
        dirs.iter()
            .filter(|d| d.as_path() == Path::new("/opt/from-profile"))
            .count(),
        1
    );
    assert_eq!(
        search.find_executable(PLUGIN).await,
        Some(plugin_dir.join(PLUGIN))
    );
}
