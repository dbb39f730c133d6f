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
//! Redaction, in one place (`view/redactor.rs`); nothing is masked with
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
//!
//! The steps: [`plan`] chooses the entries (`view/plan.rs`), the
//! [`ViewPlan`] lists the files to inline and renders (`view/render.rs`).

mod data;
mod error;
mod plan;
mod redactor;
mod render;

pub use error::{EntryKind, EntryRef, ViewError};
pub use plan::{InlineRequest, InlinedFiles, ViewOptions, ViewPlan, plan};

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use kube::config::Kubeconfig;

    use super::*;
    use crate::kubeconfig::merge::{MergedKubeconfig, merge_files};
    use crate::kubeconfig::view_model::ConfigView;

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
