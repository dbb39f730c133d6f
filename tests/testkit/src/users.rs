//! The users of the test control plane, one line each. To add a user, add a
//! line to [`default_users`] (and its RBAC in `rbac.rs` if it needs more than
//! a group gives it):
//!
//! ```
//! use porthole_testkit::users::{cert_user, token_user};
//! let ops = token_user("ops", &["porthole:viewers"]);
//! let robot = cert_user("robot", &[]).with_context("porthole-robot");
//! # let _ = (ops, robot);
//! ```

use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{IoContext, Result};
use crate::exec_credential::ExecApiVersion;
use crate::pki::{CertKey, Pki};
use crate::random;

/// How a user authenticates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Auth {
    /// Client certificate signed by the cluster CA (CN = user, O = groups).
    ClientCert,
    /// Bearer token from the apiserver's static token file.
    Token,
    /// The same, but the kubeconfig names a file holding the token
    /// (`tokenFile:`), which tests may rewrite.
    TokenFile,
    /// Exec plugin (`porthole-cluster exec-credential`) that hands out a
    /// static-file token with an expiry and counts its runs.
    Exec {
        ttl_secs: u64,
        #[serde(default)]
        api_version: ExecApiVersion,
    },
    /// Exec plugin that hands out a client certificate signed by the
    /// cluster CA (`clientCertificateData`/`clientKeyData`).
    ExecCert,
}

/// What a user is: name, groups, how it authenticates, its context name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserSpec {
    pub name: String,
    pub groups: Vec<String>,
    pub auth: Auth,
    pub context: String,
}

impl UserSpec {
    pub fn with_context(mut self, context: &str) -> Self {
        context.clone_into(&mut self.context);
        self
    }
}

fn spec(name: &str, groups: &[&str], auth: Auth) -> UserSpec {
    UserSpec {
        name: name.to_owned(),
        groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        auth,
        context: format!("porthole-{name}"),
    }
}

/// A user with a client certificate.
pub fn cert_user(name: &str, groups: &[&str]) -> UserSpec {
    spec(name, groups, Auth::ClientCert)
}

/// A user with a bearer token from the static token file.
pub fn token_user(name: &str, groups: &[&str]) -> UserSpec {
    spec(name, groups, Auth::Token)
}

/// A user whose kubeconfig reads the token from a file (`tokenFile:`).
pub fn token_file_user(name: &str, groups: &[&str]) -> UserSpec {
    spec(name, groups, Auth::TokenFile)
}

/// A user whose token comes from a v1 exec credential plugin.
pub fn exec_user(name: &str, groups: &[&str], ttl_secs: u64) -> UserSpec {
    exec_user_with(name, groups, ttl_secs, ExecApiVersion::V1)
}

/// A user whose token comes from an exec credential plugin speaking `version`.
pub fn exec_user_with(
    name: &str,
    groups: &[&str],
    ttl_secs: u64,
    api_version: ExecApiVersion,
) -> UserSpec {
    spec(
        name,
        groups,
        Auth::Exec {
            ttl_secs,
            api_version,
        },
    )
}

/// A user whose exec plugin returns a client certificate.
pub fn exec_cert_user(name: &str, groups: &[&str]) -> UserSpec {
    spec(name, groups, Auth::ExecCert)
}

pub const ADMIN: &str = "admin";
pub const VIEWER: &str = "viewer";
pub const EXEC_USER: &str = "exec-user";
/// Group the viewer is in; bound read-only in `team-a` and `monitoring`.
pub const VIEWERS_GROUP: &str = "porthole:viewers";
pub const EXEC_GROUP: &str = "porthole:exec-users";
/// Two static tokens; the first is handed to clients through `tokenFile:`.
pub const FILE_USER_1: &str = "file-user-1";
pub const FILE_USER_2: &str = "file-user-2";
pub const FILE_USERS_GROUP: &str = "porthole:file-users";
pub const TOKEN_FILE_CONTEXT: &str = "porthole-token-file";
pub const EXEC_V1BETA1_USER: &str = "exec-v1beta1";
pub const EXEC_CERT_USER: &str = "exec-cert-user";
/// May impersonate `alice` (see `impersonation.rs`).
pub const IMPERSONATOR: &str = "impersonator";

/// admin (cluster-admin through `system:masters`), viewer (read-only in a
/// few namespaces), exec-user (exec plugin, read-only cluster-wide), the
/// token-file pair, the v1beta1 and client-certificate exec plugins, and
/// the impersonator.
pub fn default_users() -> Vec<UserSpec> {
    vec![
        cert_user(ADMIN, &["system:masters"]),
        token_user(VIEWER, &[VIEWERS_GROUP]),
        exec_user(EXEC_USER, &[EXEC_GROUP], 300).with_context("porthole-exec"),
        token_file_user(FILE_USER_1, &[FILE_USERS_GROUP]).with_context(TOKEN_FILE_CONTEXT),
        token_user(FILE_USER_2, &[FILE_USERS_GROUP]),
        exec_user_with(
            EXEC_V1BETA1_USER,
            &[EXEC_GROUP],
            300,
            ExecApiVersion::V1beta1,
        )
        .with_context("porthole-exec-v1beta1"),
        exec_cert_user(EXEC_CERT_USER, &[EXEC_GROUP]).with_context("porthole-exec-cert"),
        token_user(IMPERSONATOR, &[]),
    ]
}

/// A user's secret material, generated for one control plane.
#[derive(Debug, Clone)]
pub enum Credential {
    /// The certificate, also written to `<name>.crt` / `<name>.key`.
    Cert {
        cert: CertKey,
        files: CertFiles,
    },
    Token(String),
    TokenFile {
        token: String,
        file: PathBuf,
    },
    Exec {
        token: String,
        token_file: PathBuf,
        counter_file: PathBuf,
        ttl_secs: u64,
        api_version: ExecApiVersion,
    },
    ExecCert {
        files: CertFiles,
        counter_file: PathBuf,
    },
}

/// Where a client certificate and its key were written (PEM, owner-only).
#[derive(Debug, Clone)]
pub struct CertFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug, Clone)]
pub struct User {
    pub spec: UserSpec,
    pub credential: Credential,
}

impl User {
    pub fn token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Token(t)
            | Credential::TokenFile { token: t, .. }
            | Credential::Exec { token: t, .. } => Some(t),
            Credential::Cert { .. } | Credential::ExecCert { .. } => None,
        }
    }

    /// The client certificate files (cert users and exec-cert users).
    pub fn cert_files(&self) -> Option<&CertFiles> {
        match &self.credential {
            Credential::Cert { files, .. } | Credential::ExecCert { files, .. } => Some(files),
            _ => None,
        }
    }

    /// The run counter of an exec plugin user.
    pub fn exec_counter(&self) -> Option<&Path> {
        match &self.credential {
            Credential::Exec { counter_file, .. } | Credential::ExecCert { counter_file, .. } => {
                Some(counter_file)
            }
            _ => None,
        }
    }
}

fn write_cert(dir: &Path, name: &str, ck: &CertKey) -> Result<CertFiles> {
    let files = CertFiles {
        cert: dir.join(format!("{name}.crt")),
        key: dir.join(format!("{name}.key")),
    };
    crate::fsutil::write_atomic(&files.cert, ck.cert_pem.as_bytes())?;
    crate::fsutil::write_private(&files.key, ck.key_pem.as_bytes())?;
    Ok(files)
}

fn new_counter(dir: &Path, name: &str) -> Result<PathBuf> {
    let counter_file = dir.join(format!("{name}.exec-count"));
    crate::fsutil::write_atomic(&counter_file, b"0\n")?;
    Ok(counter_file)
}

/// Generates certificates and tokens for `specs`; exec users get a token file
/// and a counter file (starting at 0) under `dir`.
pub fn provision(specs: &[UserSpec], pki: &Pki, dir: &Path) -> Result<Vec<User>> {
    fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    specs
        .iter()
        .map(|spec| {
            let credential = match &spec.auth {
                Auth::ClientCert => {
                    let cert = pki.client_cert(&spec.name, &spec.groups)?;
                    let files = write_cert(dir, &spec.name, &cert)?;
                    Credential::Cert { cert, files }
                }
                Auth::Token => Credential::Token(random::hex(24)?),
                Auth::TokenFile => {
                    let token = random::hex(24)?;
                    let file = dir.join(format!("{}.token", spec.name));
                    crate::fsutil::write_private(&file, token.as_bytes())?;
                    Credential::TokenFile { token, file }
                }
                Auth::Exec {
                    ttl_secs,
                    api_version,
                } => {
                    let token = random::hex(24)?;
                    let token_file = dir.join(format!("{}.token", spec.name));
                    crate::fsutil::write_private(&token_file, token.as_bytes())?;
                    Credential::Exec {
                        token,
                        token_file,
                        counter_file: new_counter(dir, &spec.name)?,
                        ttl_secs: *ttl_secs,
                        api_version: *api_version,
                    }
                }
                Auth::ExecCert => {
                    let cert = pki.client_cert(&spec.name, &spec.groups)?;
                    Credential::ExecCert {
                        files: write_cert(dir, &spec.name, &cert)?,
                        counter_file: new_counter(dir, &spec.name)?,
                    }
                }
            };
            Ok(User {
                spec: spec.clone(),
                credential,
            })
        })
        .collect()
}

/// The apiserver's `--token-auth-file`: `token,user,uid,"group1,group2"`.
pub fn static_token_file(users: &[User]) -> String {
    users
        .iter()
        .filter_map(|u| {
            let token = u.token()?;
            Some(format!(
                "{token},{name},{name},\"{groups}\"\n",
                name = u.spec.name,
                groups = u.spec.groups.join(",")
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_file_lists_token_and_exec_users() {
        let users = vec![
            User {
                spec: token_user("viewer", &["a", "b"]),
                credential: Credential::Token("t1".into()),
            },
            User {
                spec: cert_user("admin", &["system:masters"]),
                credential: Credential::Cert {
                    cert: CertKey {
                        cert_pem: String::new(),
                        key_pem: String::new(),
                    },
                    files: CertFiles {
                        cert: PathBuf::new(),
                        key: PathBuf::new(),
                    },
                },
            },
        ];
        assert_eq!(static_token_file(&users), "t1,viewer,viewer,\"a,b\"\n");
    }

    #[test]
    fn default_contexts() {
        let ctx: Vec<String> = default_users().into_iter().map(|u| u.context).collect();
        assert_eq!(
            ctx,
            [
                "porthole-admin",
                "porthole-viewer",
                "porthole-exec",
                "porthole-token-file",
                "porthole-file-user-2",
                "porthole-exec-v1beta1",
                "porthole-exec-cert",
                "porthole-impersonator",
            ]
        );
    }
}
