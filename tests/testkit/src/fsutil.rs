//! File writes the harness relies on: atomic replacement (readers never see
//! half a file) and owner-only permissions for keys and tokens.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

use crate::error::{IoContext, Result};

fn tmp_name(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".tmp.{}", std::process::id()));
    path.with_file_name(name)
}

/// Writes `bytes` to `path` through a temp file and a rename (mode 0600).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = tmp_name(path);
    {
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .ctx(|| format!("creating {}", tmp.display()))?;
        f.write_all(bytes)
            .and_then(|()| f.sync_all())
            .ctx(|| format!("writing {}", tmp.display()))?;
    }
    fs::rename(&tmp, path).ctx(|| format!("renaming {} to {}", tmp.display(), path.display()))
}

/// Writes a secret (key, token) readable by the owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes)
}

/// Creates `path` (and parents) with mode 0700.
pub fn create_private_dir(path: &Path) -> Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
        .ctx(|| format!("creating directory {}", path.display()))
}
