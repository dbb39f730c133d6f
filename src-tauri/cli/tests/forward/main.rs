//! `portholectl forward` against `kubectl port-forward`, the reference,
//! on the real test control plane (its apiserver and node agent): the same
//! arguments give the same stdout lines (random ports normalised), a GET
//! through each listener works, and the failures give the same messages
//! and exit statuses. What differs on purpose is proven in `differences`.
//! `cargo test -p porthole-cli --test forward -- --nocapture` prints every
//! comparison side by side.

mod differences;
mod failures;
mod parity;
mod support;
mod workloads;
