//! The directories exec plugins are looked up in, and the look-up itself.
//!
//! Order: the process's own PATH first (what the user started Porthole
//! with wins), then the login shell's directories it lacks, then the extra
//! directories from settings. Empty and relative entries are dropped: they
//! would search whatever directory Porthole happens to run in.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::path::{Path, PathBuf};

/// An ordered, duplicate-free list of absolute directories.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchPath(Vec<PathBuf>);

impl SearchPath {
    /// `process` first, then `login` entries it lacks, then `extra` ones.
    pub fn merge(process: Option<&OsStr>, login: Option<&OsStr>, extra: &[PathBuf]) -> Self {
        let mut path = Self::default();
        for list in [process, login].into_iter().flatten() {
            for dir in std::env::split_paths(list) {
                path.push(dir);
            }
        }
        for dir in extra {
            path.push(dir.clone());
        }
        path
    }

    fn push(&mut self, dir: PathBuf) {
        // Component-wise equality: `/usr/bin/` and `/usr/bin` are one entry.
        if dir.is_absolute() && !self.0.contains(&dir) {
            self.0.push(dir);
        }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.0
    }

    /// The value to give a child process as `PATH`.
    pub fn to_env_value(&self) -> Result<OsString, std::env::JoinPathsError> {
        std::env::join_paths(&self.0)
    }

    /// The first executable file called `name` on this path. A name with a
    /// path separator is taken as a path, as client-go does for an exec
    /// `command`.
    pub async fn find_executable(&self, name: &str) -> Option<PathBuf> {
        if name.is_empty() {
            return None;
        }
        if name.contains(std::path::MAIN_SEPARATOR) {
            let path = PathBuf::from(name);
            return is_executable_file(&path).await.then_some(path);
        }
        for dir in &self.0 {
            let candidate = dir.join(name);
            if is_executable_file(&candidate).await {
                return Some(candidate);
            }
        }
        None
    }
}

/// `a:b:c`, for messages such as "exec plugin not found: aws, PATH searched: …".
impl fmt::Display for SearchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if cfg!(windows) { ";" } else { ":" };
        for (i, dir) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(separator)?;
            }
            write!(f, "{}", dir.display())?;
        }
        Ok(())
    }
}

async fn is_executable_file(path: &Path) -> bool {
    let Ok(meta) = tokio::fs::metadata(path).await else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        meta.permissions().mode() & 0o111 != 0
    }
    #[cfg(not(unix))]
    {
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dirs(path: &SearchPath) -> Vec<&str> {
        path.dirs()
            .iter()
            .map(|d| d.to_str().expect("utf-8"))
            .collect()
    }

    #[test]
    fn process_first_then_login_then_extra_without_duplicates() {
        let path = SearchPath::merge(
            Some(OsStr::new("/usr/bin:/bin:/usr/bin/")),
            Some(OsStr::new("/home/u/.local/bin:/usr/bin:/opt/aws/bin")),
            &[
                PathBuf::from("/opt/extra"),
                PathBuf::from("/bin"),
                PathBuf::from("/opt/extra"),
            ],
        );
        assert_eq!(
            dirs(&path),
            [
                "/usr/bin",
                "/bin",
                "/home/u/.local/bin",
                "/opt/aws/bin",
                "/opt/extra"
            ]
        );
        assert_eq!(
            path.to_string(),
            "/usr/bin:/bin:/home/u/.local/bin:/opt/aws/bin:/opt/extra"
        );
    }

    #[test]
    fn empty_and_relative_entries_are_dropped() {
        let path = SearchPath::merge(
            Some(OsStr::new(":/usr/bin::.:bin")),
            None,
            &[PathBuf::from("relative/dir")],
        );
        assert_eq!(dirs(&path), ["/usr/bin"]);
    }

    #[test]
    fn missing_process_path_still_takes_login_and_extra() {
        let path = SearchPath::merge(None, Some(OsStr::new("/a")), &[PathBuf::from("/b")]);
        assert_eq!(dirs(&path), ["/a", "/b"]);
    }

    #[tokio::test]
    async fn finds_only_executable_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let plain = dir.path().join("not-executable");
        std::fs::write(&plain, "x").expect("write");
        std::fs::create_dir(dir.path().join("a-directory")).expect("mkdir");
        let path = SearchPath::merge(None, None, &[dir.path().to_path_buf()]);
        assert_eq!(path.find_executable("not-executable").await, None);
        assert_eq!(path.find_executable("a-directory").await, None);
        assert_eq!(path.find_executable("").await, None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let exe = dir.path().join("plugin");
            std::fs::write(&exe, "#!/bin/sh\n").expect("write");
            std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).expect("chmod");
            assert_eq!(path.find_executable("plugin").await, Some(exe.clone()));
            let by_path = exe.to_str().expect("utf-8");
            assert_eq!(
                SearchPath::default().find_executable(by_path).await,
                Some(exe)
            );
        }
    }
}
