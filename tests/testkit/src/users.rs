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
    /// `client.authentication.k8s.io/v1` exec plugin (`porthole-cluster
    /// exec-credential`) that hands out a static-file token with an expiry
    /// and counts its runs.
    Exec { ttl_secs: u64 },
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

/// A user whose token comes from an exec credential plugin.
pub fn exec_user(name: &str, groups: &[&str], ttl_secs: u64) -> UserSpec {
    spec(name, groups, Auth::Exec { ttl_secs })
}

pub const ADMIN: &str = "admin";
pub const VIEWER: &str = "viewer";
pub const EXEC_USER: &str = "exec-user";
/// Group the viewer is in; bound read-only in `team-a` and `monitoring`.
pub const VIEWERS_GROUP: &str = "porthole:viewers";
pub const EXEC_GROUP: &str = "porthole:exec-users";

/// admin (cluster-admin through `system:masters`), viewer (read-only in a
/// few namespaces), exec-user (exec plugin, read-only cluster-wide).
pub fn default_users() -> Vec<UserSpec> {
    vec![
        cert_user(ADMIN, &["system:masters"]),
        token_user(VIEWER, &[VIEWERS_GROUP]),
        exec_user(EXEC_USER, &[EXEC_GROUP], 300).with_context("porthole-exec"),
    ]
}

/// A user's secret material, generated for one control plane.
#[derive(Debug, Clone)]
pub enum Credential {
    Cert(CertKey),
    Token(String),
    Exec {
        token: String,
        token_file: PathBuf,
        counter_file: PathBuf,
        ttl_secs: u64,
    },
}

#[derive(Debug, Clone)]
pub struct User {
    pub spec: UserSpec,
    pub credential: Credential,
}

impl User {
    pub fn token(&self) -> Option<&str> {
        match &self.credential {
            Credential::Token(t) | Credential::Exec { token: t, .. } => Some(t),
            Credential::Cert(_) => None,
        }
    }
}

/// Generates certificates and tokens for `specs`; exec users get a token file
/// and a counter file (starting at 0) under `dir`.
pub fn provision(specs: &[UserSpec], pki: &Pki, dir: &Path) -> Result<Vec<User>> {
    fs::create_dir_all(dir).ctx(|| format!("creating {}", dir.display()))?;
    specs
        .iter()
        .map(|spec| {
            let credential = match &spec.auth {
                Auth::ClientCert => Credential::Cert(pki.client_cert(&spec.name, &spec.groups)?),
                Auth::Token => Credential::Token(random::hex(24)?),
                Auth::Exec { ttl_secs } => {
                    let token = random::hex(24)?;
                    let token_file = dir.join(format!("{}.token", spec.name));
                    let counter_file = dir.join(format!("{}.exec-count", spec.name));
                    crate::fsutil::write_private(&token_file, token.as_bytes())?;
                    crate::fsutil::write_atomic(&counter_file, b"0\n")?;
                    Credential::Exec {
                        token,
                        token_file,
                        counter_file,
                        ttl_secs: *ttl_secs,
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
                credential: Credential::Cert(CertKey {
                    cert_pem: String::new(),
                    key_pem: String::new(),
                }),
            },
        ];
        assert_eq!(static_token_file(&users), "t1,viewer,viewer,\"a,b\"\n");
    }

    #[test]
    fn default_contexts() {
        let ctx: Vec<String> = default_users().into_iter().map(|u| u.context).collect();
        assert_eq!(ctx, ["porthole-admin", "porthole-viewer", "porthole-exec"]);
    }
}
