//! Where a kubeconfig problem is (its file and field path, for the
//! message), and what a field names: a file resolved against the directory
//! of the kubeconfig that names it, or base64 data.

use std::path::{Path, PathBuf};

use base64::Engine as _;

use crate::cluster::status::ClusterProblem;

/// Where a problem is: the file and field path, for the message.
pub(super) struct At<'a> {
    pub(super) file: Option<&'a Path>,
    pub(super) field: String,
}

impl At<'_> {
    pub(super) fn problem(&self, reason: impl Into<String>) -> ClusterProblem {
        ClusterProblem::Kubeconfig {
            file: self.file.map(|f| f.display().to_string()),
            line: None,
            field: self.field.clone(),
            reason: reason.into(),
        }
    }

    pub(super) fn sub(&self, field: &str) -> Self {
        At {
            file: self.file,
            field: format!("{}.{field}", self.field),
        }
    }
}

/// The directory relative paths of `file` are resolved against.
pub(super) fn dir_of(file: Option<&Path>) -> PathBuf {
    file.and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// A path from the kubeconfig, resolved against the directory of its file.
pub(super) fn resolve(dir: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() || dir.as_os_str().is_empty() {
        p.to_path_buf()
    } else {
        dir.join(p)
    }
}

pub(super) async fn read(dir: &Path, path: &str, at: &At<'_>) -> Result<Vec<u8>, ClusterProblem> {
    let full = resolve(dir, path);
    tokio::fs::read(&full)
        .await
        .map_err(|e| at.problem(format!("cannot read {}: {e}", full.display())))
}

pub(super) fn decode(data: &str, at: &At<'_>) -> Result<Vec<u8>, ClusterProblem> {
    base64::engine::general_purpose::STANDARD
        .decode(data.trim())
        .map_err(|_| at.problem("is not valid base64"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_the_file_and_the_dotted_field_path() {
        let file = Path::new("/home/me/.kube/config");
        let at = At {
            file: Some(file),
            field: r#"users["dev"].user"#.into(),
        };
        let ClusterProblem::Kubeconfig {
            file, line, field, ..
        } = at.sub("exec").sub("command").problem("no command")
        else {
            panic!("a kubeconfig problem");
        };
        assert_eq!(file.as_deref(), Some("/home/me/.kube/config"));
        assert_eq!(line, None, "the line is filled in later, from the file");
        assert_eq!(field, r#"users["dev"].user.exec.command"#);
    }

    #[test]
    fn relative_paths_resolve_against_the_kubeconfig_directory() {
        let dir = dir_of(Some(Path::new("/home/me/.kube/config")));
        assert_eq!(dir, Path::new("/home/me/.kube"));
        assert_eq!(
            resolve(&dir, "certs/ca.crt"),
            Path::new("/home/me/.kube/certs/ca.crt")
        );
        assert_eq!(resolve(&dir, "/etc/ca.crt"), Path::new("/etc/ca.crt"));
        // No file (an entry built in memory): the path stays as written.
        assert_eq!(resolve(&dir_of(None), "ca.crt"), Path::new("ca.crt"));
    }

    #[test]
    fn base64_data_may_have_surrounding_whitespace_but_not_garbage() {
        let at = At {
            file: None,
            field: "certificate-authority-data".into(),
        };
        assert_eq!(decode(" aGk=\n", &at).ok(), Some(b"hi".to_vec()));
        assert!(decode("not base64!", &at).is_err());
    }
}
