//! The kubeconfig context a verb works in: its cluster client and its
//! default namespace, from `--kubeconfig`/`$KUBECONFIG` and `--context`.

use std::time::Duration;

use porthole_core::cluster::{ClusterClient, client_for_context};
use porthole_core::kubeconfig::{KubeconfigSources, load_snapshot};

/// A context, connected.
pub struct ContextClient {
    pub client: ClusterClient,
    /// The context's own namespace, when it names one.
    pub namespace: Option<String>,
}

/// The client of `context` (default: the current context), or a message
/// saying what is wrong. Broken kubeconfig files are warned about on stderr.
pub async fn connect(
    sources: &KubeconfigSources,
    context: Option<&str>,
    timeout: Duration,
) -> Result<ContextClient, String> {
    let snapshot = load_snapshot(sources).await;
    for problem in snapshot.list.problems() {
        eprintln!("warning: {}: {:?}", problem.path, problem.state);
    }
    let context = match context {
        Some(name) => name.to_owned(),
        None => snapshot
            .list
            .current_context
            .clone()
            .ok_or("the kubeconfig has no current context: pass --context")?,
    };
    let summary = snapshot
        .list
        .contexts
        .iter()
        .find(|c| c.name == context)
        .ok_or_else(|| format!("no context named {context:?} in the kubeconfig"))?;
    let env = super::client_env::client_env(timeout, &[]).await;
    let client = client_for_context(&snapshot.merged, &context, &env)
        .await
        .map_err(|problem| format!("context {context:?}: {problem}"))?;
    Ok(ContextClient {
        client,
        namespace: summary.namespace.clone(),
    })
}
