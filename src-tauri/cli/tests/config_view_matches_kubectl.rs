//! `portholectl config view` against `kubectl config view`, the reference,
//! on the kubeconfig zoo (`tests/fixtures/kubeconfig-zoo/`, see its README).
//!
//! Every case runs every flag combination in every output format through
//! both programs, with only `KUBECONFIG` (or `--kubeconfig`) pointing at the
//! zoo and a throwaway HOME and working directory. Both must succeed or both
//! fail; when they succeed, the parsed outputs must be equal, except at the
//! spots where Porthole masks on purpose what kubectl prints in clear — and
//! there Porthole's value must be exactly the mask. Without `--raw`,
//! Porthole's stdout holds no `zoo-secret-` string; its stderr never does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn zoo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/fixtures/kubeconfig-zoo")
}

/// Every fake secret in the zoo contains this.
const SECRET_MARK: &str = "zoo-secret-";

const FLAG_SETS: &[&[&str]] = &[
    &[],
    &["--minify"],
    &["--flatten"],
    &["--minify", "--flatten"],
    &["--raw"],
    &["--flatten", "--raw"],
    &["--minify", "--flatten", "--raw"],
];

const FORMATS: &[&[&str]] = &[&[], &["-o", "json"], &["-o", "yaml"]];

/// Exec environment variables of the zoo whose values Porthole masks.
const SECRET_ENV_NAMES: &[&str] = &["AWS_SECRET_ACCESS_KEY", "ZOO_SESSION_TOKEN"];

/// auth-provider settings Porthole masks.
const SECRET_PROVIDER_KEYS: &[&str] =
    &["client-secret", "id-token", "refresh-token", "access-token"];

/// How the files are named to both programs.
enum Files<'a> {
    /// `KUBECONFIG=a:b:c` (zoo-relative paths made absolute).
    EnvList(&'a [&'a str]),
    /// `--kubeconfig FILE`.
    Flag(&'a str),
}

struct Outcome {
    ok: bool,
    stdout: String,
    stderr: String,
}

fn run(program: &str, args: &[&str], files: &Files, home: &Path) -> Outcome {
    let mut cmd = Command::new(program);
    cmd.env_remove("KUBECONFIG")
        .env("HOME", home)
        .current_dir(home);
    match files {
        Files::EnvList(list) => {
            let paths: Vec<PathBuf> = list.iter().map(|f| zoo().join(f)).collect();
            cmd.env(
                "KUBECONFIG",
                std::env::join_paths(paths).expect("paths join"),
            );
        }
        Files::Flag(file) => {
            cmd.arg("--kubeconfig").arg(zoo().join(file));
        }
    }
    let out = cmd.args(args).output().unwrap_or_else(|e| {
        panic!(
            "cannot run `{program}`: {e}. kubectl is the reference for this test and must be \
             installed and on PATH (a release binary from dl.k8s.io, apt or snap)"
        )
    });
    Outcome {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(out.stderr).expect("utf-8 stderr"),
    }
}

fn parse(text: &str, json: bool, who: &str) -> Value {
    if json {
        serde_json::from_str(text)
            .unwrap_or_else(|e| panic!("{who} printed invalid JSON: {e}\n{text}"))
    } else {
        serde_saphyr::from_str(text)
            .unwrap_or_else(|e| panic!("{who} printed invalid YAML: {e}\n{text}"))
    }
}

/// What Porthole prints at a spot where it masks on purpose.
#[derive(Debug)]
enum Mask {
    /// Exactly this text.
    Exact(&'static str),
    /// kubectl's URL with the password of `user:password@` masked.
    UrlPassword,
    /// kubectl's exec argument masked whole, or its `--flag=` value masked.
    Arg,
}

/// Where Porthole deliberately differs from kubectl (the table in
/// `src/kubeconfig/view.rs`), written out independently of the code.
fn deliberate_mask(path: &[String], raw: bool, flatten: bool) -> Option<Mask> {
    if raw {
        return None;
    }
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    match p.as_slice() {
        ["users", _, "user", "auth-provider", "config", key]
            if SECRET_PROVIDER_KEYS.contains(key) =>
        {
            Some(Mask::Exact("REDACTED"))
        }
        ["users", _, "user", "exec", "env", name, "value"] if SECRET_ENV_NAMES.contains(name) => {
            Some(Mask::Exact("REDACTED"))
        }
        ["users", _, "user", "exec", "args", _] => Some(Mask::Arg),
        ["clusters", _, "cluster", "server" | "proxy-url"] => Some(Mask::UrlPassword),
        ["clusters", _, "cluster", "certificate-authority-data"]
        | [
            "users",
            _,
            "user",
            "client-certificate-data" | "client-key-data",
        ] if flatten => Some(Mask::Exact("DATA+OMITTED")),
        ["users", _, "user", "token" | "password"] if flatten => Some(Mask::Exact("REDACTED")),
        _ => None,
    }
}

fn mask_matches(mask: &Mask, kubectl: &Value, ours: &Value) -> bool {
    let (Some(theirs), Some(ours)) = (kubectl.as_str(), ours.as_str()) else {
        return false;
    };
    match mask {
        Mask::Exact(text) => ours == *text,
        Mask::UrlPassword => {
            let Some((scheme, rest)) = theirs.split_once("://") else {
                return false;
            };
            let Some((userinfo, host)) = rest.split_once('@') else {
                return false;
            };
            let Some((user, _)) = userinfo.split_once(':') else {
                return false;
            };
            ours == format!("{scheme}://{user}:REDACTED@{host}")
        }
        Mask::Arg => {
            ours == "REDACTED"
                || theirs
                    .split_once('=')
                    .is_some_and(|(flag, _)| ours == format!("{flag}=REDACTED"))
        }
    }
}

/// The spots that differ, walked in step; array items are named by their
/// `name` field (users, clusters, env vars) or their index.
struct Comparison<'a> {
    raw: bool,
    flatten: bool,
    masked: &'a mut Vec<String>,
    mismatches: &'a mut Vec<String>,
}

impl Comparison<'_> {
    fn walk(&mut self, path: &mut Vec<String>, kubectl: &Value, ours: &Value) {
        match (kubectl, ours) {
            (Value::Object(a), Value::Object(b)) => {
                let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
                for key in keys {
                    path.push(key.clone());
                    match (a.get(key), b.get(key)) {
                        (Some(x), Some(y)) => self.walk(path, x, y),
                        (x, y) => self.mismatches.push(format!(
                            "{}: kubectl {} / porthole {}",
                            path.join("."),
                            x.map_or("absent".into(), Value::to_string),
                            y.map_or("absent".into(), Value::to_string)
                        )),
                    }
                    path.pop();
                }
            }
            (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
                for (i, (x, y)) in a.iter().zip(b).enumerate() {
                    let label = x
                        .get("name")
                        .and_then(Value::as_str)
                        .map_or_else(|| i.to_string(), str::to_owned);
                    path.push(label);
                    self.walk(path, x, y);
                    path.pop();
                }
            }
            (x, y) if x == y => {}
            (x, y) => match deliberate_mask(path, self.raw, self.flatten) {
                Some(mask) if mask_matches(&mask, x, y) => self.masked.push(path.join(".")),
                mask => self.mismatches.push(format!(
                    "{}: kubectl {x} / porthole {y} (expected mask: {mask:?})",
                    path.join(".")
                )),
            },
        }
    }
}

#[derive(Default, Debug)]
struct Tally {
    compared: usize,
    both_failed: usize,
    masked: BTreeMap<String, usize>,
}

/// Runs one zoo case through every flag set (plus `extra` ones) and format.
fn check_case(name: &str, files: Files, extra: &[&[&str]]) -> Tally {
    let home = tempfile::tempdir().expect("tempdir");
    let portholectl = env!("CARGO_BIN_EXE_portholectl");
    let mut tally = Tally::default();
    let mut failures = Vec::new();

    for flags in FLAG_SETS.iter().chain(extra) {
        for format in FORMATS {
            let args: Vec<&str> = ["config", "view"]
                .into_iter()
                .chain(flags.iter().copied())
                .chain(format.iter().copied())
                .collect();
            let shown = format!("{name}: config view {}", args[2..].join(" "));
            let theirs = run("kubectl", &args, &files, home.path());
            let ours = run(portholectl, &args, &files, home.path());

            assert!(
                !ours.stderr.contains(SECRET_MARK),
                "{shown}: a secret in portholectl's stderr:\n{}",
                ours.stderr
            );
            let raw = flags.contains(&"--raw");
            if !raw {
                assert!(
                    !ours.stdout.contains(SECRET_MARK),
                    "{shown}: a secret in portholectl's output without --raw:\n{}",
                    ours.stdout
                );
            }
            match (theirs.ok, ours.ok) {
                (false, false) => {
                    tally.both_failed += 1;
                    continue;
                }
                (true, true) => {}
                _ => {
                    failures.push(format!(
                        "{shown}: kubectl ok={} porthole ok={}\n  kubectl stderr: {}\n  porthole stderr: {}",
                        theirs.ok,
                        ours.ok,
                        theirs.stderr.trim(),
                        ours.stderr.trim()
                    ));
                    continue;
                }
            }
            let json = format.contains(&"json");
            let kubectl_value = parse(&theirs.stdout, json, "kubectl");
            let our_value = parse(&ours.stdout, json, "portholectl");
            let mut masked = Vec::new();
            let mut mismatches = Vec::new();
            Comparison {
                raw,
                flatten: flags.contains(&"--flatten"),
                masked: &mut masked,
                mismatches: &mut mismatches,
            }
            .walk(&mut Vec::new(), &kubectl_value, &our_value);
            if !mismatches.is_empty() {
                failures.push(format!("{shown}:\n  {}", mismatches.join("\n  ")));
            }
            tally.compared += 1;
            for spot in masked {
                *tally.masked.entry(spot).or_default() += 1;
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} differences from kubectl:\n{}",
        failures.len(),
        failures.join("\n")
    );
    eprintln!(
        "{name}: {} outputs equal to kubectl's, {} failed in both, {} masked spots",
        tally.compared,
        tally.both_failed,
        tally.masked.values().sum::<usize>()
    );
    tally
}

#[test]
fn every_auth_kind_and_cluster_option() {
    let tally = check_case(
        "every-auth",
        Files::EnvList(&["every-auth/config.yaml"]),
        &[
            &["--minify", "--context", "oidc"],
            &["--minify", "--context", "exec-v1", "--flatten"],
        ],
    );
    // The masks Porthole adds over kubectl were all exercised.
    for spot in [
        "users.oidc.user.auth-provider.config.client-secret",
        "users.oidc.user.auth-provider.config.id-token",
        "users.oidc.user.auth-provider.config.refresh-token",
        "users.azure.user.auth-provider.config.access-token",
        "users.exec-v1.user.exec.env.AWS_SECRET_ACCESS_KEY.value",
        "users.exec-v1.user.exec.env.ZOO_SESSION_TOKEN.value",
        "users.exec-v1.user.exec.args.2",
        "users.exec-v1.user.exec.args.4",
        "clusters.behind-proxy.cluster.proxy-url",
        "users.token.user.token",
        "users.basic.user.password",
        "users.cert-data.user.client-key-data",
        "clusters.files.cluster.certificate-authority-data",
    ] {
        assert!(
            tally.masked.contains_key(spot),
            "never masked: {spot}; masked: {:?}",
            tally.masked.keys()
        );
    }
}

#[test]
fn every_auth_named_with_the_kubeconfig_flag() {
    check_case(
        "every-auth --kubeconfig",
        Files::Flag("every-auth/config.yaml"),
        &[],
    );
}

#[test]
fn three_files_merged_first_wins_with_missing_and_json_files() {
    check_case(
        "merge",
        Files::EnvList(&[
            "merge/first.yaml",
            "merge/missing.yaml",
            "merge/sub/second.yaml",
            "merge/third.json",
        ]),
        &[
            &["--minify", "--context", "first-only", "--flatten"],
            &["--minify", "--context", "third-ctx"],
        ],
    );
}

#[test]
fn three_files_merged_in_reverse_order() {
    check_case(
        "merge reversed",
        Files::EnvList(&[
            "merge/third.json",
            "merge/sub/second.yaml",
            "merge/first.yaml",
        ]),
        &[&["--minify", "--context", "second-ctx", "--flatten", "--raw"]],
    );
}

#[test]
fn json_file_with_tabs() {
    check_case("json", Files::EnvList(&["json/tabs.json"]), &[]);
}

#[test]
fn empty_file_alone_and_before_another() {
    check_case("empty", Files::EnvList(&["empty/empty.yaml"]), &[]);
    check_case(
        "empty + every-auth",
        Files::EnvList(&["empty/empty.yaml", "every-auth/config.yaml"]),
        &[],
    );
}

#[test]
fn extensions_everywhere_and_unknown_fields() {
    check_case(
        "extensions-unknown",
        Files::EnvList(&["extensions-unknown/config.yaml"]),
        &[],
    );
}

#[test]
fn empty_and_default_values() {
    check_case(
        "edge",
        Files::EnvList(&["edge/config.yaml"]),
        &[
            &["--minify", "--context", "empty-namespace"],
            &["--minify", "--context", "no-body"],
        ],
    );
}

#[test]
fn references_flatten_cannot_inline() {
    let tally = check_case(
        "broken-refs",
        Files::EnvList(&["broken-refs/config.yaml"]),
        &[&["--minify", "--context", "bad", "--flatten"]],
    );
    assert!(tally.both_failed > 0, "--flatten must fail in both");
}

#[test]
fn dangling_current_context_and_references() {
    let tally = check_case(
        "dangling",
        Files::EnvList(&["dangling/config.yaml"]),
        &[
            &["--minify", "--context", "ok"],
            &["--minify", "--context", "missing-user"],
            &["--minify", "--context", "missing-cluster"],
            &["--context", "ok"],
        ],
    );
    assert!(tally.both_failed > 0 && tally.compared > 0);
}

#[test]
fn files_kubectl_refuses() {
    for (name, file) in [
        ("bad-data", "bad-data/config.yaml"),
        ("duplicate", "duplicate/config.yaml"),
    ] {
        let tally = check_case(name, Files::EnvList(&[file]), &[]);
        assert_eq!(
            tally.compared, 0,
            "{name}: kubectl refuses this file, so must Porthole"
        );
    }
}
