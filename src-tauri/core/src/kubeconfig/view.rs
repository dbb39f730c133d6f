//! `config view`: the merged kubeconfig as `kubectl config view` prints it,
//! with secrets masked. Pure: the files `--flatten` inlines are read
//! beforehand (see [`super::view_io`]), so every rule here is testable
//! without a disk.
//!
//! kubectl's behaviour, kept: entries sorted by name; paths shown as written
//! (not resolved); `--minify` keeps the current context (or `--context`) and
//! what it names, and fails when there is none; `--flatten` replaces
//! `certificate-authority`, `client-certificate` and `client-key` paths by
//! the files' bytes as `*-data` (resolved against the file that named them),
//! and refuses an entry that has both a path and data; `tokenFile` and exec
//! `command` stay as written; unknown fields are dropped.
//!
//! Redaction, in one place (`Redactor` below); nothing is masked with
//! `--raw`. kubectl prints exec `env`, `args` and URLs in clear; Porthole
//! keeps that parity except where the name says the value is a secret:
//!
//! | value                                                  | kubectl        | Porthole       |
//! |--------------------------------------------------------|----------------|----------------|
//! | `certificate-authority-data`, `client-certificate-data`, `client-key-data` | `DATA+OMITTED` | `DATA+OMITTED` |
//! | `token`, `password`                                    | `REDACTED`     | `REDACTED`     |
//! | auth-provider `config` values whose key ends in `secret`/`token`/`password` (`client-secret`, `id-token`, `refresh-token`, `access-token`) | clear | `REDACTED` |
//! | exec `env` values whose name has a `SECRET`/`TOKEN`/`PASSWORD`/`KEY`/`CREDENTIALS` word | clear | `REDACTED` |
//! | exec `args` after or inside a `--…-secret`/`--…-token`/`--…-password` flag | clear | `REDACTED` |
//! | the password in `server` / `proxy-url` (`user:pw@`)    | clear          | `user:REDACTED@` |
//! | everything, with `--flatten` (kubectl's flatten is always raw) | clear | masked as above |
//!
//! Secrets appear only with `--raw`, also with `--flatten`: `--flatten
//! --raw` is the self-contained kubeconfig kubectl's `--flatten` prints.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use kube::config::{
    AuthInfo, Cluster, Context, ExecConfig, ExecInteractiveMode, NamedAuthInfo, NamedCluster,
    NamedContext, NamedExtension,
};
use secrecy::{ExposeSecret, SecretSlice};
use thiserror::Error;

use super::merge::MergedKubeconfig;
use super::view_model::{
    AuthProviderView, ClusterView, ConfigView, ContextView, ExecEnvView, ExecView, ExtensionView,
    Guarded, NamedClusterView, NamedContextView, NamedUserView, PreferencesView, UserView,
};
use crate::redact::{is_secret_env_name, is_secret_setting, url_with_password_redacted};

/// What to show, as `kubectl config view`'s flags say.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ViewOptions {
    /// Keep only the current context (or [`Self::context`]) and what it uses.
    pub minify: bool,
    /// Inline certificate and key files as `*-data`.
    pub flatten: bool,
    /// Show secrets and data instead of masks.
    pub raw: bool,
    /// With `minify`: the context to keep instead of the current one.
    pub context: Option<String>,
}

/// Which kind of named entry a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Cluster,
    User,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cluster => "cluster",
            Self::User => "user",
        })
    }
}

/// A named entry and the file that defined it: `FILE: user "NAME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub file: PathBuf,
    pub kind: EntryKind,
    pub name: String,
}

impl fmt::Display for EntryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {:?}", self.file.display(), self.kind, self.name)
    }
}

/// Why the view cannot be shown. Names files, entries and fields; never
/// shows a value.
#[derive(Debug, Error)]
pub enum ViewError {
    #[error(
        "--minify needs a current context and the kubeconfig sets none; name one with --context NAME (kubectl: \"current-context must exist in order to minify\")"
    )]
    NoCurrentContext,
    #[error("cannot minify: context {name:?} is not defined in the kubeconfig")]
    ContextNotFound { name: String },
    #[error("cannot minify: context {context:?} uses cluster {cluster:?}, which is not defined")]
    ClusterNotFound { context: String, cluster: String },
    #[error("cannot minify: context {context:?} uses user {user:?}, which is not defined")]
    UserNotFound { context: String, user: String },
    #[error(
        "{entry}: both {path_field} and {path_field}-data are set; --flatten cannot inline one over the other (remove one)"
    )]
    PathAndData {
        entry: EntryRef,
        path_field: &'static str,
    },
    #[error("{entry}: {field} is not valid base64 ({reason})")]
    InvalidBase64 {
        entry: EntryRef,
        field: &'static str,
        reason: String,
    },
    #[error("{entry}: {field}: cannot read {}: {source}", path.display())]
    InlineUnreadable {
        entry: EntryRef,
        field: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{entry}: {field}: {} was not read before rendering (a bug in Porthole)", path.display())]
    InlineMissing {
        entry: EntryRef,
        field: &'static str,
        path: PathBuf,
    },
}

/// One file `--flatten` must read: the entry and field that name it, and
/// where it is (resolved against the file that named it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineRequest {
    pub entry: EntryRef,
    pub field: &'static str,
    pub path: PathBuf,
}

/// Contents of the files `--flatten` inlines, by resolved path. Key files
/// are secrets: `Debug` lists the paths only.
#[derive(Default)]
pub struct InlinedFiles(HashMap<PathBuf, SecretSlice<u8>>);

impl InlinedFiles {
    pub fn insert(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.0.insert(path, SecretSlice::from(bytes));
    }

    fn get(&self, path: &Path) -> Option<&[u8]> {
        self.0.get(path).map(|s| s.expose_secret())
    }
}

impl fmt::Debug for InlinedFiles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// The entries to show, chosen (and minified) but not yet rendered. Its
/// `Debug` lists names only (kube's entry types print secrets in `Debug`).
pub struct ViewPlan<'a> {
    merged: &'a MergedKubeconfig,
    options: ViewOptions,
    current_context: String,
    clusters: Vec<&'a NamedCluster>,
    users: Vec<&'a NamedAuthInfo>,
    contexts: Vec<&'a NamedContext>,
}

impl fmt::Debug for ViewPlan<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clusters: Vec<&str> = self.clusters.iter().map(|c| c.name.as_str()).collect();
        let users: Vec<&str> = self.users.iter().map(|u| u.name.as_str()).collect();
        let contexts: Vec<&str> = self.contexts.iter().map(|c| c.name.as_str()).collect();
        f.debug_struct("ViewPlan")
            .field("options", &self.options)
            .field("current_context", &self.current_context)
            .field("clusters", &clusters)
            .field("users", &users)
            .field("contexts", &contexts)
            .finish_non_exhaustive()
    }
}

/// Chooses the entries to show, as `kubectl config view` does.
pub fn plan<'a>(
    merged: &'a MergedKubeconfig,
    options: &ViewOptions,
) -> Result<ViewPlan<'a>, ViewError> {
    let config = merged.config();
    check_all_data(merged)?;
    let mut clusters: Vec<&NamedCluster> = config.clusters.iter().collect();
    let mut users: Vec<&NamedAuthInfo> = config.auth_infos.iter().collect();
    let mut contexts: Vec<&NamedContext> = config.contexts.iter().collect();
    let mut current_context = merged.current_context().unwrap_or_default().to_owned();

    if options.minify {
        if let Some(name) = options.context.as_deref().filter(|c| !c.is_empty()) {
            current_context = name.to_owned();
        }
        if current_context.is_empty() {
            return Err(ViewError::NoCurrentContext);
        }
        let context = contexts
            .iter()
            .copied()
            .find(|c| c.name == current_context)
            .ok_or_else(|| ViewError::ContextNotFound {
                name: current_context.clone(),
            })?;
        let body = context.context.as_ref();
        let cluster_name = body.map(|c| c.cluster.as_str()).unwrap_or_default();
        let user_name = body.and_then(|c| c.user.as_deref()).unwrap_or_default();
        clusters = keep_named(&clusters, cluster_name, |c| &c.name).ok_or_else(|| {
            ViewError::ClusterNotFound {
                context: current_context.clone(),
                cluster: cluster_name.to_owned(),
            }
        })?;
        users =
            keep_named(&users, user_name, |u| &u.name).ok_or_else(|| ViewError::UserNotFound {
                context: current_context.clone(),
                user: user_name.to_owned(),
            })?;
        contexts = vec![context];
    }

    clusters.sort_by(|a, b| a.name.cmp(&b.name));
    users.sort_by(|a, b| a.name.cmp(&b.name));
    contexts.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(ViewPlan {
        merged,
        options: options.clone(),
        current_context,
        clusters,
        users,
        contexts,
    })
}

/// kubectl decodes every `*-data` field when it loads the files, so bad
/// base64 anywhere fails the view, even in an entry `--minify` drops.
fn check_all_data(merged: &MergedKubeconfig) -> Result<(), ViewError> {
    let config = merged.config();
    for named in &config.clusters {
        let entry = cluster_ref(merged, named);
        let data = named
            .cluster
            .as_ref()
            .and_then(|c| c.certificate_authority_data.as_deref());
        decode_data(&entry, CA.data_field, data)?;
    }
    for named in &config.auth_infos {
        let entry = user_ref(merged, named);
        let user = named.auth_info.as_ref();
        let cert = user.and_then(|u| u.client_certificate_data.as_deref());
        decode_data(&entry, CLIENT_CERT.data_field, cert)?;
        let key = user
            .and_then(|u| u.client_key_data.as_ref())
            .map(|s| s.expose_secret());
        decode_data(&entry, CLIENT_KEY.data_field, key)?;
    }
    Ok(())
}

fn cluster_ref(merged: &MergedKubeconfig, named: &NamedCluster) -> EntryRef {
    EntryRef {
        file: merged
            .cluster_origin(&named.name)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        kind: EntryKind::Cluster,
        name: named.name.clone(),
    }
}

fn user_ref(merged: &MergedKubeconfig, named: &NamedAuthInfo) -> EntryRef {
    EntryRef {
        file: merged
            .user_origin(&named.name)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        kind: EntryKind::User,
        name: named.name.clone(),
    }
}

/// The entry called `name` alone; nothing when `name` is empty (a context
/// without a user); `None` when it does not exist.
fn keep_named<'a, T>(
    all: &[&'a T],
    name: &str,
    name_of: impl Fn(&T) -> &String,
) -> Option<Vec<&'a T>> {
    if name.is_empty() {
        return Some(Vec::new());
    }
    all.iter()
        .copied()
        .find(|e| name_of(e) == name)
        .map(|e| vec![e])
}

/// A certificate-like field: its path and data spellings.
#[derive(Clone, Copy)]
struct DataField {
    path_field: &'static str,
    data_field: &'static str,
}

const CA: DataField = DataField {
    path_field: "certificate-authority",
    data_field: "certificate-authority-data",
};
const CLIENT_CERT: DataField = DataField {
    path_field: "client-certificate",
    data_field: "client-certificate-data",
};
const CLIENT_KEY: DataField = DataField {
    path_field: "client-key",
    data_field: "client-key-data",
};

impl ViewPlan<'_> {
    /// The files `--flatten` must read (none without `--flatten`).
    pub fn files_to_inline(&self) -> Result<Vec<InlineRequest>, ViewError> {
        let mut requests = Vec::new();
        if !self.options.flatten {
            return Ok(requests);
        }
        for named in &self.clusters {
            let entry = self.cluster_ref(named);
            let cluster = named.cluster.as_ref();
            let path = cluster.and_then(|c| c.certificate_authority.as_deref());
            let data = cluster.and_then(|c| c.certificate_authority_data.as_deref());
            requests.extend(self.inline_request(&entry, CA, path, data)?);
        }
        for named in &self.users {
            let entry = self.user_ref(named);
            let user = named.auth_info.as_ref();
            let cert = user.and_then(|u| u.client_certificate.as_deref());
            let cert_data = user.and_then(|u| u.client_certificate_data.as_deref());
            requests.extend(self.inline_request(&entry, CLIENT_CERT, cert, cert_data)?);
            let key = user.and_then(|u| u.client_key.as_deref());
            let key_data = user
                .and_then(|u| u.client_key_data.as_ref())
                .map(|s| s.expose_secret());
            requests.extend(self.inline_request(&entry, CLIENT_KEY, key, key_data)?);
        }
        Ok(requests)
    }

    fn inline_request(
        &self,
        entry: &EntryRef,
        field: DataField,
        path: Option<&str>,
        data: Option<&str>,
    ) -> Result<Option<InlineRequest>, ViewError> {
        let Some(path) = path.filter(|p| !p.is_empty()) else {
            return Ok(None);
        };
        if !decode_data(entry, field.data_field, data)?.is_empty() {
            return Err(ViewError::PathAndData {
                entry: entry.clone(),
                path_field: field.path_field,
            });
        }
        Ok(Some(InlineRequest {
            entry: entry.clone(),
            field: field.path_field,
            path: resolve_against(&entry.file, path),
        }))
    }

    /// The printed view. `inlined` holds the files [`Self::files_to_inline`]
    /// asked for.
    pub fn render(&self, inlined: &InlinedFiles) -> Result<ConfigView, ViewError> {
        let redactor = Redactor {
            raw: self.options.raw,
        };
        let config = self.merged.config();
        let preferences = config
            .preferences
            .as_ref()
            .map(|p| PreferencesView {
                colors: p.colors == Some(true),
                extensions: extensions(p.extensions.as_ref()),
            })
            .unwrap_or_default();

        let clusters = self
            .clusters
            .iter()
            .map(|named| {
                let entry = self.cluster_ref(named);
                let cluster = self.cluster(&entry, named.cluster.as_ref(), &redactor, inlined)?;
                Ok(NamedClusterView {
                    name: named.name.clone(),
                    cluster,
                })
            })
            .collect::<Result<Vec<_>, ViewError>>()?;
        let users = self
            .users
            .iter()
            .map(|named| {
                let entry = self.user_ref(named);
                let user = self.user(&entry, named.auth_info.as_ref(), &redactor, inlined)?;
                Ok(NamedUserView {
                    name: named.name.clone(),
                    user,
                })
            })
            .collect::<Result<Vec<_>, ViewError>>()?;
        let contexts = self
            .contexts
            .iter()
            .map(|named| NamedContextView {
                name: named.name.clone(),
                context: context(named.context.as_ref()),
            })
            .collect::<Vec<_>>();

        Ok(ConfigView {
            kind: "Config",
            api_version: "v1",
            preferences,
            clusters: non_empty(clusters),
            users: non_empty(users),
            contexts: non_empty(contexts),
            current_context: self.current_context.clone(),
            extensions: extensions(config.extensions.as_ref()),
        })
    }

    fn cluster_ref(&self, named: &NamedCluster) -> EntryRef {
        cluster_ref(self.merged, named)
    }

    fn user_ref(&self, named: &NamedAuthInfo) -> EntryRef {
        user_ref(self.merged, named)
    }

    /// A path field and its data field, after `--flatten`: `(path, data)`.
    fn path_and_data(
        &self,
        entry: &EntryRef,
        field: DataField,
        path: Option<&str>,
        data: Option<&str>,
        inlined: &InlinedFiles,
    ) -> Result<(String, Vec<u8>), ViewError> {
        let path = path.unwrap_or_default();
        if self.options.flatten && !path.is_empty() {
            let resolved = resolve_against(&entry.file, path);
            let bytes = inlined
                .get(&resolved)
                .ok_or_else(|| ViewError::InlineMissing {
                    entry: entry.clone(),
                    field: field.path_field,
                    path: resolved.clone(),
                })?;
            return Ok((String::new(), bytes.to_vec()));
        }
        Ok((path.to_owned(), decode_data(entry, field.data_field, data)?))
    }

    fn cluster(
        &self,
        entry: &EntryRef,
        cluster: Option<&Cluster>,
        redactor: &Redactor,
        inlined: &InlinedFiles,
    ) -> Result<ClusterView, ViewError> {
        let default = Cluster::default();
        let c = cluster.unwrap_or(&default);
        let (ca_path, ca_data) = self.path_and_data(
            entry,
            CA,
            c.certificate_authority.as_deref(),
            c.certificate_authority_data.as_deref(),
            inlined,
        )?;
        Ok(ClusterView {
            server: redactor.url(c.server.as_deref().unwrap_or_default()),
            tls_server_name: c.tls_server_name.clone().unwrap_or_default(),
            insecure_skip_tls_verify: c.insecure_skip_tls_verify == Some(true),
            certificate_authority: ca_path,
            certificate_authority_data: redactor.data(&ca_data),
            proxy_url: c
                .proxy_url
                .as_deref()
                .filter(|u| !u.is_empty())
                .map(|u| redactor.url(u)),
            disable_compression: c.disable_compression == Some(true),
            extensions: extensions(c.extensions.as_ref()),
        })
    }

    fn user(
        &self,
        entry: &EntryRef,
        user: Option<&AuthInfo>,
        redactor: &Redactor,
        inlined: &InlinedFiles,
    ) -> Result<UserView, ViewError> {
        let Some(u) = user else {
            return Ok(UserView::default());
        };
        let (cert_path, cert_data) = self.path_and_data(
            entry,
            CLIENT_CERT,
            u.client_certificate.as_deref(),
            u.client_certificate_data.as_deref(),
            inlined,
        )?;
        let (key_path, key_data) = self.path_and_data(
            entry,
            CLIENT_KEY,
            u.client_key.as_deref(),
            u.client_key_data.as_ref().map(|s| s.expose_secret()),
            inlined,
        )?;
        let secret = |s: &Option<secrecy::SecretString>| {
            s.as_ref()
                .map(|s| s.expose_secret())
                .filter(|s| !s.is_empty())
                .map(|s| redactor.secret(s))
        };
        Ok(UserView {
            client_certificate: cert_path,
            client_certificate_data: redactor.data(&cert_data),
            client_key: key_path,
            client_key_data: redactor.data(&key_data).or_else(|| {
                // kubectl's quirk, kept: a `client-key-data: ""` that is
                // present prints as DATA+OMITTED in its masked view.
                let present = u.client_key_data.is_some() && key_data.is_empty();
                (present && !self.options.raw && !self.options.flatten)
                    .then_some(Guarded::Masked(Guarded::DATA_OMITTED))
            }),
            token: secret(&u.token),
            token_file: u.token_file.clone().unwrap_or_default(),
            impersonate: u.impersonate.clone().unwrap_or_default(),
            impersonate_uid: u.impersonate_uid.clone().unwrap_or_default(),
            impersonate_groups: u.impersonate_groups.clone().unwrap_or_default(),
            impersonate_user_extra: u
                .impersonate_user_extra
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            username: u.username.clone().unwrap_or_default(),
            password: secret(&u.password),
            auth_provider: u.auth_provider.as_ref().map(|p| AuthProviderView {
                name: p.name.clone(),
                config: (!p.config.is_empty()).then(|| {
                    p.config
                        .iter()
                        .map(|(k, v)| (k.clone(), redactor.setting(k, v)))
                        .collect::<BTreeMap<_, _>>()
                }),
            }),
            exec: u.exec.as_ref().map(|e| exec(e, redactor)),
            extensions: extensions(u.extensions.as_ref()),
        })
    }
}

fn exec(e: &ExecConfig, redactor: &Redactor) -> ExecView {
    let api_version = e.api_version.clone().unwrap_or_default();
    // client-go defaults interactiveMode for the older plugin APIs only.
    let interactive_mode = match &e.interactive_mode {
        Some(ExecInteractiveMode::Never) => Some("Never"),
        Some(ExecInteractiveMode::IfAvailable) => Some("IfAvailable"),
        Some(ExecInteractiveMode::Always) => Some("Always"),
        None if matches!(
            api_version.as_str(),
            "client.authentication.k8s.io/v1beta1" | "client.authentication.k8s.io/v1alpha1"
        ) =>
        {
            Some("IfAvailable")
        }
        None => None,
    };
    ExecView {
        command: e.command.clone().unwrap_or_default(),
        args: e.args.as_deref().map(|args| redactor.args(args)),
        env: e.env.as_ref().map(|vars| {
            vars.iter()
                .map(|var| {
                    let name = var.get("name").cloned().unwrap_or_default();
                    let value = var.get("value").map(String::as_str).unwrap_or_default();
                    ExecEnvView {
                        value: redactor.env(&name, value),
                        name,
                    }
                })
                .collect()
        }),
        api_version,
        install_hint: e.install_hint.clone().unwrap_or_default(),
        provide_cluster_info: e.provide_cluster_info,
        interactive_mode: interactive_mode.map(str::to_owned),
    }
}

fn context(context: Option<&Context>) -> ContextView {
    ContextView {
        cluster: context.map(|c| c.cluster.clone()).unwrap_or_default(),
        user: context.and_then(|c| c.user.clone()).unwrap_or_default(),
        namespace: context
            .and_then(|c| c.namespace.clone())
            .unwrap_or_default(),
        extensions: extensions(context.and_then(|c| c.extensions.as_ref())),
    }
}

/// Extensions sorted by name, as kubectl prints its name-keyed map.
fn extensions(list: Option<&Vec<NamedExtension>>) -> Vec<ExtensionView> {
    let mut out: Vec<ExtensionView> = list
        .into_iter()
        .flatten()
        .map(|e| ExtensionView {
            name: e.name.clone(),
            extension: e.extension.clone(),
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn non_empty<T>(list: Vec<T>) -> Option<Vec<T>> {
    (!list.is_empty()).then_some(list)
}

/// A relative path names a file beside the kubeconfig that wrote it.
fn resolve_against(kubeconfig: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let file = std::path::absolute(kubeconfig).unwrap_or_else(|_| kubeconfig.to_path_buf());
    file.parent().unwrap_or(Path::new("/")).join(path)
}

/// Go's `base64.StdEncoding`, which kubectl uses: line breaks ignored,
/// padding required, stray low bits tolerated.
const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes a `*-data` field (kubectl rejects a file whose data is not
/// base64, and prints data re-encoded).
fn decode_data(
    entry: &EntryRef,
    field: &'static str,
    data: Option<&str>,
) -> Result<Vec<u8>, ViewError> {
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    let compact: String = data.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    GO_STD_BASE64
        .decode(compact)
        .map_err(|e| ViewError::InvalidBase64 {
            entry: entry.clone(),
            field,
            reason: describe_base64_error(&e),
        })
}

/// The decoder's reason without the offending byte (it may be part of a key).
fn describe_base64_error(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("invalid character at offset {offset}")
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last character at offset {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}

/// The redaction rules of the table at the top of this module.
struct Redactor {
    raw: bool,
}

impl Redactor {
    fn masked(&self, text: &str, mask: &'static str) -> Guarded {
        if self.raw {
            Guarded::clear(text)
        } else {
            Guarded::Masked(mask)
        }
    }

    /// `token`, `password` and the like.
    fn secret(&self, text: &str) -> Guarded {
        self.masked(text, Guarded::REDACTED)
    }

    /// Certificate and key bytes, printed base64-encoded; nothing when empty.
    fn data(&self, bytes: &[u8]) -> Option<Guarded> {
        if bytes.is_empty() {
            return None;
        }
        if self.raw {
            Some(Guarded::clear(GO_STD_BASE64.encode(bytes)))
        } else {
            Some(Guarded::Masked(Guarded::DATA_OMITTED))
        }
    }

    /// An auth-provider setting: a secret when its key says so.
    fn setting(&self, key: &str, value: &str) -> Guarded {
        if is_secret_setting(key) {
            self.secret(value)
        } else {
            Guarded::clear(value)
        }
    }

    /// An exec environment variable: a secret when its name says so.
    fn env(&self, name: &str, value: &str) -> Guarded {
        if is_secret_env_name(name) {
            self.secret(value)
        } else {
            Guarded::clear(value)
        }
    }

    /// Exec arguments: the value of a secret-named flag is masked, whether
    /// written `--client-secret=VALUE` or `--client-secret VALUE`.
    fn args(&self, args: &[String]) -> Vec<Guarded> {
        let mut out = Vec::with_capacity(args.len());
        let mut value_is_secret = false;
        for arg in args {
            if std::mem::take(&mut value_is_secret) && !arg.starts_with('-') {
                out.push(self.secret(arg));
                continue;
            }
            if !arg.starts_with('-') {
                out.push(Guarded::clear(arg.as_str()));
                continue;
            }
            match arg.split_once('=') {
                Some((flag, _)) if is_secret_setting(flag) => out.push(if self.raw {
                    Guarded::clear(arg.as_str())
                } else {
                    Guarded::clear(format!("{flag}={}", Guarded::REDACTED))
                }),
                Some(_) => out.push(Guarded::clear(arg.as_str())),
                None => {
                    value_is_secret = is_secret_setting(arg);
                    out.push(Guarded::clear(arg.as_str()));
                }
            }
        }
        out
    }

    /// A URL: the password of its `user:password@`, if any, is masked.
    fn url(&self, url: &str) -> Guarded {
        if self.raw {
            Guarded::clear(url)
        } else {
            Guarded::clear(url_with_password_redacted(url))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kubeconfig::merge::merge_files;
    use kube::config::Kubeconfig;

    fn merged(text: &str) -> MergedKubeconfig {
        let config = Kubeconfig::from_yaml(text).expect("test kubeconfig parses");
        merge_files(vec![("/zoo/dir/config".into(), config)]).expect("merges")
    }

    fn json(view: &ConfigView) -> serde_json::Value {
        serde_json::to_value(view).expect("view encodes")
    }

    fn render(
        merged: &MergedKubeconfig,
        options: ViewOptions,
    ) -> Result<serde_json::Value, ViewError> {
        let plan = plan(merged, &options)?;
        let mut files = InlinedFiles::default();
        for request in plan.files_to_inline()? {
            let contents = format!("contents of {}\n", request.path.display());
            files.insert(request.path, contents.into_bytes());
        }
        Ok(json(&plan.render(&files)?))
    }

    #[test]
    fn an_empty_config_prints_like_kubectl() {
        let view = render(&merged(""), ViewOptions::default()).expect("renders");
        assert_eq!(
            view,
            serde_json::json!({
                "kind": "Config", "apiVersion": "v1", "preferences": {},
                "clusters": null, "users": null, "contexts": null, "current-context": ""
            })
        );
    }

    #[test]
    fn secrets_are_masked_unless_raw() {
        let m = merged(
            r#"
users:
- name: u
  user:
    token: zoo-secret-token
    password: zoo-secret-password
    username: alice
    client-key-data: em9vLXNlY3JldC1rZXk=
    auth-provider:
      name: oidc
      config: {client-id: kube, client-secret: zoo-secret-cs, refresh-token: zoo-secret-rt}
    exec:
      command: kubelogin
      args: [get-token, --oidc-client-secret=zoo-secret-arg, --password, zoo-secret-arg2, --token-cache-dir, /tmp/c]
      env: [{name: AWS_PROFILE, value: dev}, {name: AWS_SECRET_ACCESS_KEY, value: zoo-secret-env}]
clusters:
- name: c
  cluster: {server: "https://k8s", proxy-url: "http://pu:zoo-secret-proxy@proxy:3128"}
"#,
        );
        let masked = render(&m, ViewOptions::default()).expect("renders");
        let text = masked.to_string();
        assert!(!text.contains("zoo-secret"), "{text}");
        let user = &masked["users"][0]["user"];
        assert_eq!(user["token"], "REDACTED");
        assert_eq!(user["password"], "REDACTED");
        assert_eq!(user["username"], "alice");
        assert_eq!(user["client-key-data"], "DATA+OMITTED");
        assert_eq!(user["auth-provider"]["config"]["client-id"], "kube");
        assert_eq!(user["auth-provider"]["config"]["client-secret"], "REDACTED");
        assert_eq!(
            user["exec"]["args"],
            serde_json::json!([
                "get-token",
                "--oidc-client-secret=REDACTED",
                "--password",
                "REDACTED",
                "--token-cache-dir",
                "/tmp/c"
            ])
        );
        assert_eq!(user["exec"]["env"][0]["value"], "dev");
        assert_eq!(user["exec"]["env"][1]["value"], "REDACTED");
        assert_eq!(
            masked["clusters"][0]["cluster"]["proxy-url"],
            "http://pu:REDACTED@proxy:3128"
        );

        let raw = render(
            &m,
            ViewOptions {
                raw: true,
                ..Default::default()
            },
        )
        .expect("renders");
        let user = &raw["users"][0]["user"];
        assert_eq!(user["token"], "zoo-secret-token");
        assert_eq!(user["client-key-data"], "em9vLXNlY3JldC1rZXk=");
        assert_eq!(
            user["auth-provider"]["config"]["refresh-token"],
            "zoo-secret-rt"
        );
        assert_eq!(
            user["exec"]["args"][1],
            "--oidc-client-secret=zoo-secret-arg"
        );
    }

    #[test]
    fn debug_of_a_raw_view_shows_no_secret() {
        let m = merged("users:\n- name: u\n  user: {token: zoo-secret-token}\n");
        let plan = plan(
            &m,
            &ViewOptions {
                raw: true,
                ..Default::default()
            },
        )
        .expect("plans");
        let view = plan.render(&InlinedFiles::default()).expect("renders");
        assert!(!format!("{view:?}").contains("zoo-secret"));
        assert!(view.to_json().expect("json").contains("zoo-secret-token"));
    }

    #[test]
    fn minify_keeps_the_context_and_what_it_uses() {
        let m = merged(
            "current-context: a\nclusters:\n- {name: ca, cluster: {server: https://a}}\n- {name: cb, cluster: {server: https://b}}\nusers:\n- {name: ua, user: {}}\n- {name: ub, user: {}}\ncontexts:\n- {name: a, context: {cluster: ca, user: ua}}\n- {name: b, context: {cluster: cb}}\n",
        );
        let a = render(
            &m,
            ViewOptions {
                minify: true,
                ..Default::default()
            },
        )
        .expect("renders");
        assert_eq!(a["clusters"][0]["name"], "ca");
        assert_eq!(a["users"].as_array().map(Vec::len), Some(1));
        let b = render(
            &m,
            ViewOptions {
                minify: true,
                context: Some("b".into()),
                ..Default::default()
            },
        )
        .expect("renders");
        assert_eq!(b["current-context"], "b");
        assert_eq!(b["clusters"][0]["name"], "cb");
        assert_eq!(b["users"], serde_json::Value::Null);
        let err = render(
            &m,
            ViewOptions {
                minify: true,
                context: Some("nope".into()),
                ..Default::default()
            },
        )
        .expect_err("unknown context");
        assert!(matches!(err, ViewError::ContextNotFound { .. }), "{err}");
        let err = render(
            &merged(""),
            ViewOptions {
                minify: true,
                ..Default::default()
            },
        )
        .expect_err("nothing to minify");
        assert!(matches!(err, ViewError::NoCurrentContext), "{err}");
    }

    #[test]
    fn flatten_inlines_files_relative_to_their_kubeconfig() {
        let m = merged(
            "clusters:\n- {name: c, cluster: {server: https://c, certificate-authority: certs/ca.crt}}\nusers:\n- {name: u, user: {client-certificate: /abs/u.crt, client-key: ../u.key, tokenFile: t}}\n",
        );
        let plan = plan(
            &m,
            &ViewOptions {
                flatten: true,
                raw: true,
                ..Default::default()
            },
        )
        .expect("plans");
        let paths: Vec<PathBuf> = plan
            .files_to_inline()
            .expect("requests")
            .into_iter()
            .map(|r| r.path)
            .collect();
        assert_eq!(
            paths,
            [
                PathBuf::from("/zoo/dir/certs/ca.crt"),
                PathBuf::from("/abs/u.crt"),
                PathBuf::from("/zoo/dir/../u.key"),
            ]
        );
        let mut files = InlinedFiles::default();
        for p in paths {
            files.insert(p, b"x\n".to_vec());
        }
        let view = json(&plan.render(&files).expect("renders"));
        let cluster = &view["clusters"][0]["cluster"];
        assert_eq!(cluster["certificate-authority-data"], "eAo=");
        assert!(cluster.get("certificate-authority").is_none());
        assert_eq!(view["users"][0]["user"]["tokenFile"], "t");
    }

    #[test]
    fn flatten_refuses_path_and_data_together_naming_the_entry() {
        let m = merged(
            "clusters:\n- {name: both, cluster: {server: https://c, certificate-authority: ca.crt, certificate-authority-data: eAo=}}\n",
        );
        let err = render(
            &m,
            ViewOptions {
                flatten: true,
                ..Default::default()
            },
        )
        .expect_err("path and data");
        let text = err.to_string();
        assert!(
            text.contains("/zoo/dir/config: cluster \"both\"")
                && text.contains("certificate-authority"),
            "{text}"
        );
    }

    #[test]
    fn invalid_base64_names_the_field_but_not_the_value() {
        let m = merged("users:\n- {name: u, user: {client-key-data: \"zoo-secret key!\"}}\n");
        let err = render(&m, ViewOptions::default()).expect_err("bad base64");
        let text = err.to_string();
        assert!(
            text.contains("client-key-data") && text.contains("user \"u\""),
            "{text}"
        );
        assert!(!text.contains("zoo-secret"), "{text}");
    }

    #[test]
    fn data_is_printed_re_encoded_like_kubectl() {
        let m = merged(
            "clusters:\n- {name: c, cluster: {server: s, certificate-authority-data: \"em9v\\nLWNh\"}}\n",
        );
        let view = render(
            &m,
            ViewOptions {
                raw: true,
                ..Default::default()
            },
        )
        .expect("renders");
        assert_eq!(
            view["clusters"][0]["cluster"]["certificate-authority-data"],
            "em9vLWNh"
        );
    }

    #[test]
    fn exec_defaults_follow_client_go() {
        let m = merged(
            "users:\n- {name: a, user: {exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: aws}}}\n- {name: b, user: {exec: {apiVersion: client.authentication.k8s.io/v1, command: x, args: []}}}\n",
        );
        let view = render(&m, ViewOptions::default()).expect("renders");
        let a = &view["users"][0]["user"]["exec"];
        assert_eq!(a["interactiveMode"], "IfAvailable");
        assert_eq!(a["args"], serde_json::Value::Null);
        assert_eq!(a["env"], serde_json::Value::Null);
        assert_eq!(a["provideClusterInfo"], false);
        let b = &view["users"][1]["user"]["exec"];
        assert!(b.get("interactiveMode").is_none());
        assert_eq!(b["args"], serde_json::json!([]));
    }
}
