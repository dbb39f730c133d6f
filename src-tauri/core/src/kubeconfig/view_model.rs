//! What `config view` prints: client-go's `v1.Config` as kubectl writes it.
//!
//! Field names, field order and presence follow client-go's JSON tags, so the
//! output parses to the same value as kubectl's: `server`, `cluster`, `user`,
//! exec `command`/`args`/`env`/`provideClusterInfo` are always present;
//! the top-level lists are `null` when empty; `preferences: {}` and
//! `current-context: ""` are always written; empty strings, `false` and
//! empty lists are left out everywhere else.
//!
//! Every value that may be a secret is a [`Guarded`]: its `Debug` never shows
//! the text, even in a `--raw` view, so a stray `{:?}` cannot leak it.

use std::collections::BTreeMap;
use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, Serializer};
use serde_json::Value;
use thiserror::Error;

/// A printed value that may be a secret: the text itself (only when the user
/// asked for it with `--raw`, or when it is not a secret) or a mask.
#[derive(Clone)]
pub enum Guarded {
    Clear(SecretString),
    Masked(&'static str),
}

impl Guarded {
    /// kubectl's mask for secrets (`token`, `password`).
    pub const REDACTED: &'static str = "REDACTED";
    /// kubectl's mask for certificate and key data.
    pub const DATA_OMITTED: &'static str = "DATA+OMITTED";

    pub fn clear(text: impl Into<String>) -> Self {
        Self::Clear(SecretString::from(text.into()))
    }

    /// The text as printed: the value, or its mask.
    pub fn printed(&self) -> &str {
        match self {
            Self::Clear(secret) => secret.expose_secret(),
            Self::Masked(mask) => mask,
        }
    }

    pub fn is_masked(&self) -> bool {
        matches!(self, Self::Masked(_))
    }
}

impl fmt::Debug for Guarded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Clear(_) => f.write_str("Guarded(..)"),
            Self::Masked(mask) => write!(f, "Masked({mask})"),
        }
    }
}

impl Serialize for Guarded {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.printed())
    }
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// The whole printed config (client-go `v1.Config`).
#[derive(Debug, Serialize)]
pub struct ConfigView {
    pub kind: &'static str,
    #[serde(rename = "apiVersion")]
    pub api_version: &'static str,
    pub preferences: PreferencesView,
    /// `None` prints `null`, as kubectl does for an empty list.
    pub clusters: Option<Vec<NamedClusterView>>,
    pub users: Option<Vec<NamedUserView>>,
    pub contexts: Option<Vec<NamedContextView>>,
    #[serde(rename = "current-context")]
    pub current_context: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionView>,
}

#[derive(Debug, Default, Serialize)]
pub struct PreferencesView {
    #[serde(skip_serializing_if = "is_false")]
    pub colors: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionView>,
}

/// An extension is free-form; kubectl prints it as is, and so does Porthole.
#[derive(Debug, Serialize)]
pub struct ExtensionView {
    pub name: String,
    pub extension: Value,
}

#[derive(Debug, Serialize)]
pub struct NamedClusterView {
    pub name: String,
    pub cluster: ClusterView,
}

#[derive(Debug, Serialize)]
pub struct ClusterView {
    /// A URL's `user:password@` would be a secret.
    pub server: Guarded,
    #[serde(rename = "tls-server-name", skip_serializing_if = "String::is_empty")]
    pub tls_server_name: String,
    #[serde(rename = "insecure-skip-tls-verify", skip_serializing_if = "is_false")]
    pub insecure_skip_tls_verify: bool,
    #[serde(
        rename = "certificate-authority",
        skip_serializing_if = "String::is_empty"
    )]
    pub certificate_authority: String,
    #[serde(
        rename = "certificate-authority-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub certificate_authority_data: Option<Guarded>,
    #[serde(rename = "proxy-url", skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<Guarded>,
    #[serde(rename = "disable-compression", skip_serializing_if = "is_false")]
    pub disable_compression: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionView>,
}

#[derive(Debug, Serialize)]
pub struct NamedUserView {
    pub name: String,
    pub user: UserView,
}

#[derive(Debug, Default, Serialize)]
pub struct UserView {
    #[serde(
        rename = "client-certificate",
        skip_serializing_if = "String::is_empty"
    )]
    pub client_certificate: String,
    #[serde(
        rename = "client-certificate-data",
        skip_serializing_if = "Option::is_none"
    )]
    pub client_certificate_data: Option<Guarded>,
    #[serde(rename = "client-key", skip_serializing_if = "String::is_empty")]
    pub client_key: String,
    #[serde(rename = "client-key-data", skip_serializing_if = "Option::is_none")]
    pub client_key_data: Option<Guarded>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token: Option<Guarded>,
    #[serde(rename = "tokenFile", skip_serializing_if = "String::is_empty")]
    pub token_file: String,
    #[serde(rename = "as", skip_serializing_if = "String::is_empty")]
    pub impersonate: String,
    #[serde(rename = "as-uid", skip_serializing_if = "String::is_empty")]
    pub impersonate_uid: String,
    #[serde(rename = "as-groups", skip_serializing_if = "Vec::is_empty")]
    pub impersonate_groups: Vec<String>,
    #[serde(rename = "as-user-extra", skip_serializing_if = "BTreeMap::is_empty")]
    pub impersonate_user_extra: BTreeMap<String, Vec<String>>,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub password: Option<Guarded>,
    #[serde(rename = "auth-provider", skip_serializing_if = "Option::is_none")]
    pub auth_provider: Option<AuthProviderView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exec: Option<ExecView>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionView>,
}

#[derive(Debug, Serialize)]
pub struct AuthProviderView {
    pub name: String,
    /// `None` prints `null`, as kubectl does for a provider without config.
    pub config: Option<BTreeMap<String, Guarded>>,
}

#[derive(Debug, Serialize)]
pub struct ExecView {
    pub command: String,
    /// `None` prints `null`; an empty list prints `[]` (kubectl keeps the
    /// difference).
    pub args: Option<Vec<Guarded>>,
    pub env: Option<Vec<ExecEnvView>>,
    #[serde(rename = "apiVersion", skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    #[serde(rename = "installHint", skip_serializing_if = "String::is_empty")]
    pub install_hint: String,
    #[serde(rename = "provideClusterInfo")]
    pub provide_cluster_info: bool,
    #[serde(rename = "interactiveMode", skip_serializing_if = "Option::is_none")]
    pub interactive_mode: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ExecEnvView {
    pub name: String,
    pub value: Guarded,
}

#[derive(Debug, Serialize)]
pub struct NamedContextView {
    pub name: String,
    pub context: ContextView,
}

#[derive(Debug, Serialize)]
pub struct ContextView {
    pub cluster: String,
    pub user: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub extensions: Vec<ExtensionView>,
}

/// The view could not be encoded (never expected; reported rather than
/// unwrapped).
#[derive(Debug, Error)]
#[error("cannot encode the kubeconfig view as {format}: {reason}")]
pub struct EncodeError {
    format: &'static str,
    reason: String,
}

impl ConfigView {
    /// JSON as kubectl prints it: client-go's field order, four-space indent.
    pub fn to_json(&self) -> Result<String, EncodeError> {
        let mut out = Vec::new();
        let formatter = serde_json::ser::PrettyFormatter::with_indent(b"    ");
        let mut serializer = serde_json::Serializer::with_formatter(&mut out, formatter);
        self.serialize(&mut serializer).map_err(|e| EncodeError {
            format: "JSON",
            reason: e.to_string(),
        })?;
        let mut text = String::from_utf8(out).map_err(|e| EncodeError {
            format: "JSON",
            reason: e.to_string(),
        })?;
        text.push('\n');
        Ok(text)
    }

    /// YAML as kubectl prints it: keys sorted, lists not indented under
    /// their key, long strings on one line.
    pub fn to_yaml(&self) -> Result<String, EncodeError> {
        let value = serde_json::to_value(self).map_err(|e| EncodeError {
            format: "YAML",
            reason: e.to_string(),
        })?;
        let mut options = serde_saphyr::SerializerOptions::default();
        options.prefer_block_scalars = false;
        serde_saphyr::to_string_with_options(&sorted(value), options).map_err(|e| EncodeError {
            format: "YAML",
            reason: e.to_string(),
        })
    }
}

/// Keys in byte order at every level, whatever map type serde_json uses.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}
