//! The merged kubeconfig, the view (even a `--raw` one) and every error on
//! the way never show a zoo secret through `Debug` or `Display`: the types
//! redact themselves, so a stray `{:?}` in a log line cannot leak a token.

use std::path::{Path, PathBuf};

use porthole_core::kubeconfig::view::plan;
use porthole_core::kubeconfig::{
    KubeconfigSources, SourceOrigin, ViewOptions, config_view, load_merged,
};

const SECRET_MARK: &str = "zoo-secret-";

fn zoo(files: &[&str]) -> KubeconfigSources {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/kubeconfig-zoo");
    KubeconfigSources::files(
        SourceOrigin::EnvVar,
        files.iter().map(|f| dir.join(f)).collect::<Vec<PathBuf>>(),
    )
}

const READABLE: &[&[&str]] = &[
    &["every-auth/config.yaml"],
    &[
        "merge/first.yaml",
        "merge/sub/second.yaml",
        "merge/third.json",
    ],
    &["json/tabs.json"],
    &["extensions-unknown/config.yaml"],
    &["edge/config.yaml"],
    &["dangling/config.yaml"],
];

#[tokio::test]
async fn merged_config_debug_shows_no_secret() {
    for files in READABLE {
        let merged = load_merged(&zoo(files)).await.expect("zoo case loads");
        let debug = format!("{merged:?}");
        assert!(!debug.contains(SECRET_MARK), "{files:?}: {debug}");
        assert!(!format!("{merged:#?}").contains(SECRET_MARK), "{files:?}");
        let options = ViewOptions {
            raw: true,
            ..Default::default()
        };
        let plan = plan(&merged, &options).expect("plans");
        assert!(
            !format!("{plan:?}").contains(SECRET_MARK),
            "{files:?}: {plan:?}"
        );
    }
}

#[tokio::test]
async fn a_raw_view_prints_secrets_but_its_debug_does_not() {
    for files in READABLE {
        for flatten in [false, true] {
            let options = ViewOptions {
                raw: true,
                flatten,
                ..Default::default()
            };
            let view = config_view(&zoo(files), &options)
                .await
                .unwrap_or_else(|e| panic!("{files:?}: {e}"));
            let debug = format!("{view:?}");
            assert!(!debug.contains(SECRET_MARK), "{files:?}: {debug}");
            // edge/ is about empty values and holds no secret.
            if files[0] != "edge/config.yaml" {
                let printed = view.to_json().expect("encodes");
                assert!(
                    printed.contains(SECRET_MARK),
                    "{files:?}: the raw view should hold the secrets this test looks for"
                );
            }
        }
    }
}

#[tokio::test]
async fn errors_name_the_problem_but_show_no_secret() {
    for files in [
        &["duplicate/config.yaml"][..],
        &["bad-data/config.yaml"][..],
        &["broken-refs/config.yaml"][..],
    ] {
        let options = ViewOptions {
            flatten: true,
            ..Default::default()
        };
        let err = config_view(&zoo(files), &options)
            .await
            .expect_err("this zoo case cannot be viewed flattened");
        let shown = format!("{err} / {err:?}");
        assert!(!shown.contains(SECRET_MARK), "{files:?}: {shown}");
        assert!(
            shown.contains(files[0]),
            "{files:?}: names the file: {shown}"
        );
    }
}
