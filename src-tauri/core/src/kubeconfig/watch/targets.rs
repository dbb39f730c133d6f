//! What the watcher watches, and which file events are worth a reload.
//!
//! Directories are watched, not files: editors and tools such as
//! `aws eks update-kubeconfig` write a temporary file and rename it over the
//! old one, which a watch on the old file's inode would never see.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use notify::EventKind;
use notify::event::AccessKind;

use super::super::locate::KubeconfigSources;
use super::super::references::FileReference;

/// The files whose changes matter and the directories to watch for them.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct Targets {
    /// Absolute paths of every source and referenced file, plus the real
    /// path behind each one that is a symlink.
    pub files: HashSet<PathBuf>,
    /// For each file, the nearest existing directory on its path: its own
    /// directory, or an ancestor while that does not exist yet.
    pub dirs: HashSet<PathBuf>,
}

/// The files a reload depends on, as written (not yet absolute).
pub(super) fn files_to_watch(
    sources: &KubeconfigSources,
    references: &[FileReference],
) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = sources.all_files().map(Path::to_path_buf).collect();
    if let Some(in_cluster) = &sources.in_cluster {
        files.extend(in_cluster.files());
    }
    files.extend(references.iter().map(|r| r.path.clone()));
    files
}

/// Works out [`Targets`] for `files`. Touches the file system (symlinks,
/// existing directories): call it off the async workers.
pub(super) fn plan(files: &[PathBuf]) -> Targets {
    let mut targets = Targets::default();
    for file in files {
        let Ok(absolute) = std::path::absolute(file) else {
            continue;
        };
        // A symlinked kubeconfig (dotfiles repos) changes where it points to.
        if let Ok(real) = std::fs::canonicalize(&absolute)
            && real != absolute
        {
            targets.files.insert(real);
        }
        targets.files.insert(absolute);
    }
    for file in &targets.files {
        if let Some(dir) = file.parent().and_then(nearest_existing_dir) {
            targets.dirs.insert(dir);
        }
    }
    targets
}

fn nearest_existing_dir(start: &Path) -> Option<PathBuf> {
    start
        .ancestors()
        .find(|dir| dir.is_dir())
        .map(Path::to_path_buf)
}

/// Whether an event may change a snapshot. Opening and reading files (our
/// own reloads do that) is not a change.
pub(super) fn is_relevant(event: &notify::Event, files: &HashSet<PathBuf>) -> bool {
    if event.need_rescan() {
        return true;
    }
    match event.kind {
        EventKind::Access(AccessKind::Close(notify::event::AccessMode::Write)) => {}
        EventKind::Access(_) => return false,
        _ => {}
    }
    event.paths.iter().any(|path| touches(path, files))
}

fn touches(path: &Path, files: &HashSet<PathBuf>) -> bool {
    files.contains(path)
        // Kubernetes' atomic writer (service-account tokens, mounted
        // secrets) swaps a `..data` symlink instead of touching the files.
        || path
            .file_name()
            .and_then(OsStr::to_str)
            .is_some_and(|name| name.starts_with(".."))
        // A directory on the way to a file appeared, moved or went away.
        || files.iter().any(|file| file != path && file.starts_with(path))
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, ModifyKind, RenameMode};

    fn event(kind: EventKind, path: &str) -> notify::Event {
        notify::Event::new(kind).add_path(PathBuf::from(path))
    }

    #[test]
    fn only_changes_to_watched_files_or_their_directories_count() {
        let files: HashSet<PathBuf> = [PathBuf::from("/home/u/.kube/config")].into();
        let modify = EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Any));
        assert!(is_relevant(&event(modify, "/home/u/.kube/config"), &files));
        assert!(!is_relevant(&event(modify, "/home/u/.kube/other"), &files));
        assert!(is_relevant(
            &event(EventKind::Create(CreateKind::Folder), "/home/u/.kube"),
            &files
        ));
        assert!(is_relevant(
            &event(
                EventKind::Modify(ModifyKind::Name(RenameMode::To)),
                "/home/u/.kube/config"
            ),
            &files
        ));
        assert!(is_relevant(
            &event(
                EventKind::Create(CreateKind::Any),
                "/var/run/secrets/kubernetes.io/serviceaccount/..data"
            ),
            &files
        ));
        let open = EventKind::Access(AccessKind::Open(notify::event::AccessMode::Any));
        assert!(!is_relevant(&event(open, "/home/u/.kube/config"), &files));
    }

    #[test]
    fn a_missing_directory_is_watched_through_its_nearest_ancestor() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("not/yet/config");
        let targets = plan(std::slice::from_ref(&file));
        assert!(targets.files.contains(&file));
        assert_eq!(targets.dirs, [dir.path().to_path_buf()].into());
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_is_followed_to_its_real_directory() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("real")).expect("mkdir");
        std::fs::write(dir.path().join("real/config"), "").expect("write");
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(dir.path().join("real/config"), &link).expect("symlink");
        let targets = plan(std::slice::from_ref(&link));
        let real = std::fs::canonicalize(dir.path().join("real")).expect("canonical");
        assert!(targets.dirs.contains(&real), "{targets:?}");
        assert!(targets.dirs.contains(dir.path()), "{targets:?}");
    }
}
