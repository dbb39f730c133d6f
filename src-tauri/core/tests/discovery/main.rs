//! Discovery, URLs and live lists against the real kube-apiserver of the
//! test control plane: every fixture shape opened through `portholectl
//! proxy`, the ways in from outside, per-kind degradation with the viewer,
//! live updates (latency printed), resuming after the connection to the
//! apiserver is cut, watches closed on drop, the portholectl verbs, and the
//! 10,000-service list time (printed).

mod cli;
mod degraded;
mod live;
mod scale;
mod support;
mod urls_through_the_proxy;
mod views;
mod workspace;
