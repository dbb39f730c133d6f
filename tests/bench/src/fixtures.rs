//! The bench's own objects: a namespace with 1,000 ConfigMaps (the list
//! cell) and the ConfigMaps the watch cell creates. Everything is removed
//! at the end (the test control plane runs no namespace controller, so the
//! namespace is emptied and finalized here).

use std::time::Duration;

use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{DeleteParams, ListParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use tokio::task::JoinSet;

use crate::error::{Error, Result};

pub const LIST_ITEMS: usize = 1000;
const CREATORS: usize = 16;
const CALL_TIMEOUT: Duration = Duration::from_secs(30);
pub const LIST_LABEL: &str = "porthole.test/bench-list";
pub const WATCH_LABEL: &str = "porthole.test/bench-watch";

async fn timed<T, E: std::fmt::Display>(
    what: &str,
    work: impl std::future::Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    match tokio::time::timeout(CALL_TIMEOUT, work).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(Error::Fixture(format!("{what}: {e}"))),
        Err(_) => Err(Error::Timeout {
            what: what.to_owned(),
            secs: CALL_TIMEOUT.as_secs(),
        }),
    }
}

/// The bench namespace of this run.
pub struct BenchNamespace {
    pub name: String,
    client: Client,
}

impl BenchNamespace {
    /// Creates `porthole-bench-<pid>` (then [`Self::fill`] it).
    pub async fn create(client: Client) -> Result<BenchNamespace> {
        let name = format!("porthole-bench-{}", std::process::id());
        let namespaces: Api<Namespace> = Api::all(client.clone());
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": { "name": name, "labels": { "porthole.test/bench": "true" } }
        }))
        .map_err(|e| Error::Fixture(e.to_string()))?;
        timed(
            &format!("creating namespace {name}"),
            namespaces.create(&PostParams::default(), &ns),
        )
        .await?;
        Ok(BenchNamespace { name, client })
    }

    pub fn config_maps(&self) -> Api<ConfigMap> {
        Api::namespaced(self.client.clone(), &self.name)
    }

    /// Creates the [`LIST_ITEMS`] ConfigMaps of the list cell.
    pub async fn fill(&self) -> Result<()> {
        let mut creators = JoinSet::new();
        for first in 0..CREATORS {
            let api = self.config_maps();
            creators.spawn(async move {
                for i in (first..LIST_ITEMS).step_by(CREATORS) {
                    let cm = config_map(&format!("item-{i:04}"), LIST_LABEL)?;
                    timed(
                        &format!("creating ConfigMap item-{i:04}"),
                        api.create(&PostParams::default(), &cm),
                    )
                    .await?;
                }
                Ok::<(), Error>(())
            });
        }
        while let Some(joined) = creators.join_next().await {
            joined.map_err(|e| Error::Fixture(e.to_string()))??;
        }
        Ok(())
    }

    /// Deletes every ConfigMap, the namespace, and finalizes it.
    pub async fn remove(self) -> Result<()> {
        let what = format!("emptying namespace {}", self.name);
        timed(
            &what,
            self.config_maps()
                .delete_collection(&DeleteParams::default(), &ListParams::default()),
        )
        .await?;
        let namespaces: Api<Namespace> = Api::all(self.client.clone());
        timed(
            &format!("deleting namespace {}", self.name),
            namespaces.delete(&self.name, &DeleteParams::default()),
        )
        .await?;
        let body = serde_json::to_vec(&json!({
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": { "name": self.name },
            "spec": { "finalizers": [] },
        }))
        .map_err(|e| Error::Fixture(e.to_string()))?;
        let request = http::Request::put(format!("/api/v1/namespaces/{}/finalize", self.name))
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .map_err(|e| Error::Fixture(e.to_string()))?;
        timed(
            &format!("finalizing namespace {}", self.name),
            self.client.request_text(request),
        )
        .await?;
        Ok(())
    }
}

/// A small ConfigMap with `label=true` and a few hundred bytes of data.
pub fn config_map(name: &str, label: &str) -> Result<ConfigMap> {
    serde_json::from_value(json!({
        "metadata": { "name": name, "labels": { label: "true" } },
        "data": {
            "app.properties": "color=blue\nsize=medium\nreplicas=3\n",
            "note": "x".repeat(200),
        }
    }))
    .map_err(|e| Error::Fixture(e.to_string()))
}
