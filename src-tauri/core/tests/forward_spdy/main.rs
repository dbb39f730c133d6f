//! Port-forward over SPDY/3.1 against the real kube-apiserver and the
//! node agent (the kubelet's own streaming code): plain requests, large
//! transfers both ways with every byte checked, the node's errors, RBAC,
//! many streams at once, and a `Forward` that uses SPDY. Throughput and
//! set-up latency are printed next to WebSocket's (and, in the ignored
//! benchmark, next to kubectl's).

mod bench;
mod dial;
mod forward;
mod support;
