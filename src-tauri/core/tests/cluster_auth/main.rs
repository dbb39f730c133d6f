//! Every kubeconfig auth method through porthole-core's own client, against
//! the real kube-apiserver of the test control plane; each test checks the
//! identity the apiserver saw (SelfSubjectReview) or the precise failure.

mod certs_and_tokens;
mod exec_plugins;
mod failures;
mod harness_methods;
mod many_contexts;
mod support;
mod workspace_live;
