//! Why a forward, or one connection through it, failed: each case named so
//! the CLI and the app can say what to do about it.

use crate::cluster::client::ClientError;

/// Opening one stream to a Pod's port through the apiserver failed.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    /// The apiserver could not be reached or gave no answer.
    #[error("the apiserver did not answer: {0}")]
    Unreachable(#[from] ClientError),
    /// RBAC: the user may not create `pods/portforward` there.
    #[error("forbidden: {message}")]
    Forbidden { message: String },
    /// The Pod is not there (any more).
    #[error("pod {namespace}/{pod} not found")]
    PodGone { namespace: String, pod: String },
    /// Any other refusal of the upgrade (400, 500, a proxy in the way).
    #[error("the apiserver refused the port-forward ({status}): {message}")]
    Refused { status: u16, message: String },
    /// The upgrade was refused in a way that means this protocol is not
    /// served here (another transport may be).
    #[error("the apiserver does not serve port-forward over {transport}: {message}")]
    TransportNotServed {
        transport: &'static str,
        message: String,
    },
    /// The stream broke the protocol's rules.
    #[error("port-forward protocol error: {0}")]
    Protocol(String),
}

/// Why a forward could not start, or stopped for good.
#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("service {namespace}/{name} not found")]
    ServiceNotFound { namespace: String, name: String },
    #[error("pod {namespace}/{name} not found")]
    PodNotFound { namespace: String, name: String },
    #[error("{kind} {namespace}/{name} not found")]
    WorkloadNotFound {
        kind: String,
        namespace: String,
        name: String,
    },
    /// No Pod matches the selector at all (one that is there but not
    /// running is [`Self::PodNotRunning`]); kubectl waits for one to appear.
    #[error("{what} has no pod to forward to")]
    NoRunningPod { what: String },
    #[error("unable to forward port because pod is not running. Current status={phase}")]
    PodNotRunning { phase: String },
    #[error("service {namespace}/{name} has no selector, so there is no pod to forward to")]
    NoSelector { namespace: String, name: String },
    #[error(
        "service {namespace}/{name} is of type ExternalName: it has no pods to forward to (connect to its external name directly)"
    )]
    ExternalName { namespace: String, name: String },
    #[error("service {name} does not have a service port {port}")]
    NoSuchServicePort { name: String, port: String },
    #[error("pod {name} does not have a named port {port}")]
    NoSuchPodPort { name: String, port: String },
    #[error("{0} is a UDP port: port-forward carries TCP only")]
    Udp(String),
    #[error("resource type {0:?} cannot be forwarded to (use pod, svc, deploy, rs, sts or ds)")]
    UnsupportedKind(String),
    #[error("forbidden: {0}")]
    Forbidden(String),
    #[error("unable to listen on {address}: {reason}")]
    Listen { address: String, reason: String },
    #[error("the apiserver did not answer: {0}")]
    Unreachable(String),
    #[error("reading {what} from the apiserver failed: {detail}")]
    Api { what: String, detail: String },
    /// The one pod a pod forward (or a service forward without healing)
    /// used is gone; kubectl says "lost connection to pod".
    #[error("lost connection to pod {namespace}/{pod}: {reason}")]
    LostPod {
        namespace: String,
        pod: String,
        reason: String,
    },
}

impl From<DialError> for ForwardError {
    fn from(e: DialError) -> Self {
        match e {
            DialError::Forbidden { message } => ForwardError::Forbidden(message),
            DialError::PodGone { namespace, pod } => ForwardError::PodNotFound {
                namespace,
                name: pod,
            },
            DialError::Unreachable(e) => ForwardError::Unreachable(e.to_string()),
            other => ForwardError::Api {
                what: "a port-forward stream".into(),
                detail: other.to_string(),
            },
        }
    }
}
