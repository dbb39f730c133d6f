//! What `portholectl forward` says when a forward cannot start: kubectl's
//! words for the failures kubectl has, Porthole's for the rest.

use porthole_core::forward::{ForwardError, RemotePort, TargetKind};

/// The line printed on stderr (with its `error: ` or `Error from server`
/// prefix) for `e`; `remote` is the port argument's remote part.
pub fn start_failure(e: &ForwardError, remote: &RemotePort) -> String {
    match e {
        ForwardError::PodNotFound { name, .. } => not_found("pods", name),
        ForwardError::ServiceNotFound { name, .. } => not_found("services", name),
        ForwardError::WorkloadNotFound { kind, name, .. } => {
            let resource = TargetKind::parse(kind).map_or("pods", resource_name);
            not_found(resource, name)
        }
        ForwardError::NoSelector { name, .. } => {
            format!(
                "error: cannot attach to *v1.Service: invalid service '{name}': Service is defined without a selector"
            )
        }
        ForwardError::NoSuchServicePort { name, port } => match remote {
            RemotePort::Number(_) => {
                format!("error: Service {name} does not have a service port {port}")
            }
            RemotePort::Name(_) => {
                format!("error: Service '{name}' does not have a named port '{port}'")
            }
        },
        ForwardError::NoSuchPodPort { name, port } => {
            format!("error: Pod '{name}' does not have a named port '{port}'")
        }
        ForwardError::Udp(_) => format!("error: UDP protocol is not supported for {remote}"),
        ForwardError::Forbidden(message) => format!("Error from server (Forbidden): {message}"),
        ForwardError::Unreachable(detail) => {
            format!("Unable to connect to the server: {detail}")
        }
        other => format!("error: {other}"),
    }
}

fn not_found(resource: &str, name: &str) -> String {
    format!("Error from server (NotFound): {resource} {name:?} not found")
}

/// The resource as the apiserver names it in a NotFound.
fn resource_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Pod => "pods",
        TargetKind::Service => "services",
        TargetKind::Deployment => "deployments.apps",
        TargetKind::ReplicaSet => "replicasets.apps",
        TargetKind::StatefulSet => "statefulsets.apps",
        TargetKind::DaemonSet => "daemonsets.apps",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_objects_read_like_the_apiservers_not_found() {
        let e = ForwardError::WorkloadNotFound {
            kind: "deploy".into(),
            namespace: "team-a".into(),
            name: "nope".into(),
        };
        assert_eq!(
            start_failure(&e, &RemotePort::Number(80)),
            "Error from server (NotFound): deployments.apps \"nope\" not found"
        );
        let e = ForwardError::PodNotFound {
            namespace: "team-a".into(),
            name: "nope".into(),
        };
        assert_eq!(
            start_failure(&e, &RemotePort::Number(80)),
            "Error from server (NotFound): pods \"nope\" not found"
        );
    }

    #[test]
    fn a_missing_service_port_is_worded_by_how_it_was_named() {
        let e = |port: &str| ForwardError::NoSuchServicePort {
            name: "echo".into(),
            port: port.into(),
        };
        assert_eq!(
            start_failure(&e("81"), &RemotePort::Number(81)),
            "error: Service echo does not have a service port 81"
        );
        assert_eq!(
            start_failure(&e("foo"), &RemotePort::Name("foo".into())),
            "error: Service 'echo' does not have a named port 'foo'"
        );
    }
}
