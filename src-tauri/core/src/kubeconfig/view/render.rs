//! A [`ViewPlan`] rendered: the entries as kubectl prints them, masked by
//! the [`Redactor`].

use std::collections::BTreeMap;

use kube::config::{AuthInfo, Cluster, Context, ExecConfig, ExecInteractiveMode, NamedExtension};
use secrecy::ExposeSecret;

use super::data::{CA, CLIENT_CERT, CLIENT_KEY, DataField, decode_data, resolve_against};
use super::error::{EntryRef, ViewError};
use super::plan::{InlinedFiles, ViewPlan};
use super::redactor::Redactor;
use crate::kubeconfig::view_model::{
    AuthProviderView, ClusterView, ConfigView, ContextView, ExecEnvView, ExecView, ExtensionView,
    Guarded, NamedClusterView, NamedContextView, NamedUserView, PreferencesView, UserView,
};

impl ViewPlan<'_> {
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
