//! Port-forwards in porthole-core against the real kube-apiserver and the
//! node agent (the kubelet's stand-in) of the test control plane: pod and
//! service forwards, named failures, many connections, and service
//! forwards that heal when their Pod goes (heal time printed).

mod basics;
mod heal;
mod many;
mod support;
