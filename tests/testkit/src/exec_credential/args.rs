//! [`PluginArgs`]: the kubeconfig `exec` section (and command line) of a
//! `porthole-cluster exec-credential` variant, for the harness's users and
//! for tests composing odd plugins.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use super::{ExecApiVersion, Options, StdinExpectation};

/// Builds an `exec` user. `program` is the `porthole-cluster` binary
/// (`State::exec_plugin`), `counter` a file that counts runs (created on the
/// first run).
#[derive(Debug, Clone)]
pub struct PluginArgs {
    program: PathBuf,
    opts: Options,
    interactive_mode: String,
    provide_cluster_info: bool,
    env: Vec<(String, String)>,
}

impl PluginArgs {
    pub fn new(program: impl Into<PathBuf>, counter: impl Into<PathBuf>) -> PluginArgs {
        PluginArgs {
            program: program.into(),
            opts: Options {
                counter: counter.into(),
                ttl_secs: 300,
                ..Options::default()
            },
            interactive_mode: "Never".into(),
            provide_cluster_info: false,
            env: Vec::new(),
        }
    }

    pub fn token_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.opts.token_file = Some(path.into());
        self
    }

    /// One token per line; run n prints line n, the last line repeats.
    pub fn tokens_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.opts.tokens_file = Some(path.into());
        self
    }

    pub fn api_version(mut self, v: ExecApiVersion) -> Self {
        self.opts.api_version = v;
        self
    }

    pub fn ttl_secs(mut self, secs: u64) -> Self {
        self.opts.ttl_secs = secs;
        self
    }

    /// A plugin that hangs this long before answering.
    pub fn sleep_secs(mut self, secs: u64) -> Self {
        self.opts.sleep_secs = secs;
        self
    }

    /// Exit with `code` (after writing [`Self::stderr`], if any).
    pub fn fail_with(mut self, code: u8) -> Self {
        self.opts.fail_with = Some(code);
        self
    }

    pub fn stderr(mut self, text: &str) -> Self {
        self.opts.stderr = Some(text.to_owned());
        self
    }

    /// The plugin fails unless `name=value` is in its environment.
    pub fn require_env(mut self, name: &str, value: &str) -> Self {
        self.opts.require_env.push(format!("{name}={value}"));
        self
    }

    /// The plugin fails unless KUBERNETES_EXEC_INFO carries the cluster
    /// (sets `provideClusterInfo: true` too; undo with
    /// [`Self::provide_cluster_info`]`(false)` to see the failure).
    pub fn expect_cluster_info(mut self) -> Self {
        self.opts.expect_cluster_info = true;
        self.provide_cluster_info = true;
        self
    }

    pub fn check_stdin(mut self, want: StdinExpectation) -> Self {
        self.opts.check_stdin = Some(want);
        self
    }

    /// Hand out this client certificate instead of a token.
    pub fn client_cert(mut self, cert: &Path, key: &Path) -> Self {
        self.opts.client_cert = Some(cert.to_owned());
        self.opts.client_key = Some(key.to_owned());
        self
    }

    /// kubeconfig `interactiveMode`: `Never` (default), `IfAvailable`, `Always`.
    pub fn interactive_mode(mut self, mode: &str) -> Self {
        mode.clone_into(&mut self.interactive_mode);
        self
    }

    pub fn provide_cluster_info(mut self, yes: bool) -> Self {
        self.provide_cluster_info = yes;
        self
    }

    /// kubeconfig `env` entry.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn counter(&self) -> &Path {
        &self.opts.counter
    }

    /// The arguments after the program.
    pub fn args(&self) -> Vec<String> {
        let o = &self.opts;
        let p = |p: &Path| p.display().to_string();
        let mut a = vec![
            "exec-credential".to_owned(),
            "--counter".into(),
            p(&o.counter),
            "--ttl-secs".into(),
            o.ttl_secs.to_string(),
        ];
        if o.api_version != ExecApiVersion::V1 {
            a.extend(["--api-version".into(), o.api_version.as_str().into()]);
        }
        let mut push = |flag: &str, v: String| a.extend([flag.to_owned(), v]);
        if let Some(f) = &o.token_file {
            push("--token-file", p(f));
        }
        if let Some(f) = &o.tokens_file {
            push("--tokens-file", p(f));
        }
        if o.sleep_secs > 0 {
            push("--sleep-secs", o.sleep_secs.to_string());
        }
        if let Some(code) = o.fail_with {
            push("--fail-with", code.to_string());
        }
        if let Some(text) = &o.stderr {
            push("--stderr", text.clone());
        }
        for spec in &o.require_env {
            push("--require-env", spec.clone());
        }
        if let Some(want) = o.check_stdin {
            let v = match want {
                StdinExpectation::Closed => "closed",
                StdinExpectation::Open => "open",
            };
            push("--check-stdin", v.into());
        }
        if let (Some(c), Some(k)) = (&o.client_cert, &o.client_key) {
            push("--client-cert", p(c));
            push("--client-key", p(k));
        }
        if o.expect_cluster_info {
            a.push("--expect-cluster-info".into());
        }
        a
    }

    /// The kubeconfig `exec` map.
    pub fn exec(&self) -> Value {
        let env: Vec<Value> = self
            .env
            .iter()
            .map(|(n, v)| json!({ "name": n, "value": v }))
            .collect();
        let mut exec = json!({
            "apiVersion": self.opts.api_version.as_str(),
            "command": self.program.display().to_string(),
            "args": self.args(),
            "interactiveMode": self.interactive_mode,
            "provideClusterInfo": self.provide_cluster_info,
        });
        if !env.is_empty() {
            exec["env"] = Value::Array(env);
        }
        exec
    }

    /// A kubeconfig `user` map: `{"exec": …}`.
    pub fn user(&self) -> Value {
        json!({ "exec": self.exec() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_args_and_exec_section() {
        let p = PluginArgs::new("/bin/plugin", "/tmp/c")
            .tokens_file("/tmp/t")
            .api_version(ExecApiVersion::V1beta1)
            .fail_with(7)
            .stderr("boom")
            .require_env("A", "b")
            .check_stdin(StdinExpectation::Closed)
            .expect_cluster_info()
            .env("A", "b");
        let exec = p.exec();
        assert_eq!(exec["apiVersion"], "client.authentication.k8s.io/v1beta1");
        assert_eq!(exec["provideClusterInfo"], true);
        assert_eq!(exec["env"][0]["name"], "A");
        let args = p.args().join(" ");
        for part in [
            "--api-version client.authentication.k8s.io/v1beta1",
            "--tokens-file /tmp/t",
            "--fail-with 7",
            "--stderr boom",
            "--require-env A=b",
            "--check-stdin closed",
            "--expect-cluster-info",
        ] {
            assert!(args.contains(part), "{args} lacks {part}");
        }
    }
}
