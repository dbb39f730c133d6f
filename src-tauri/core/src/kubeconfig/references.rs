//! The files a merged kubeconfig points at (CA, client certificate and key,
//! token file), resolved the way client-go resolves them: a relative path
//! is relative to the directory of the file that names it.

use std::path::{Path, PathBuf};

use super::lines::EntryList;
use super::merge::MergedKubeconfig;

/// One path named by one entry of the merged config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReference {
    /// The path, resolved against `defined_in`'s directory.
    pub path: PathBuf,
    pub list: EntryList,
    /// The entry's name.
    pub name: String,
    /// The field under the entry, as written in the file
    /// (`user.client-certificate`).
    pub field: &'static str,
    /// The kubeconfig file that defined the entry.
    pub defined_in: PathBuf,
}

/// `path` as client-go reads it when `origin` names it.
pub fn resolve(origin: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    match origin.parent() {
        Some(dir) => dir.join(path),
        None => path.to_path_buf(),
    }
}

/// Every non-empty file path in the merged clusters and users.
pub fn referenced_files(merged: &MergedKubeconfig) -> Vec<FileReference> {
    let config = merged.config();
    let mut out = Vec::new();
    let mut push = |list, name: &str, field, value: Option<&String>, origin: Option<&Path>| {
        if let (Some(value), Some(origin)) = (value.filter(|v| !v.is_empty()), origin) {
            out.push(FileReference {
                path: resolve(origin, value),
                list,
                name: name.to_owned(),
                field,
                defined_in: origin.to_path_buf(),
            });
        }
    };
    for named in &config.clusters {
        let origin = merged.cluster_origin(&named.name);
        if let Some(cluster) = &named.cluster {
            push(
                EntryList::Clusters,
                &named.name,
                "cluster.certificate-authority",
                cluster.certificate_authority.as_ref(),
                origin,
            );
        }
    }
    for named in &config.auth_infos {
        let origin = merged.user_origin(&named.name);
        if let Some(user) = &named.auth_info {
            let fields = [
                ("user.client-certificate", user.client_certificate.as_ref()),
                ("user.client-key", user.client_key.as_ref()),
                ("user.tokenFile", user.token_file.as_ref()),
            ];
            for (field, value) in fields {
                push(EntryList::Users, &named.name, field, value, origin);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::merge::merge_files;
    use kube::config::Kubeconfig;

    #[test]
    fn relative_paths_resolve_against_the_file_that_names_them() {
        let a = Kubeconfig::from_yaml(
            "clusters:\n- name: c\n  cluster: {server: https://a, certificate-authority: ca.crt}\nusers:\n- name: u\n  user: {client-certificate: /abs/cert.pem, client-key: keys/k.pem, tokenFile: \"\"}\n",
        )
        .expect("parses");
        let b = Kubeconfig::from_yaml("users:\n- name: v\n  user: {tokenFile: ../t}\n")
            .expect("parses");
        let merged = merge_files(vec![
            ("/one/config".into(), a),
            ("/two/sub/config".into(), b),
        ])
        .expect("merges");
        let refs: Vec<(String, &str)> = referenced_files(&merged)
            .into_iter()
            .map(|r| (r.path.display().to_string(), r.field))
            .collect();
        assert_eq!(
            refs,
            [
                ("/one/ca.crt".to_owned(), "cluster.certificate-authority"),
                ("/abs/cert.pem".to_owned(), "user.client-certificate"),
                ("/one/keys/k.pem".to_owned(), "user.client-key"),
                ("/two/sub/../t".to_owned(), "user.tokenFile"),
            ]
        );
    }
}
