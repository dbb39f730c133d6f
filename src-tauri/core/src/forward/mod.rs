//! Port-forwards over the apiserver: every service, not only HTTP.
//!
//! A [`Forward`] listens on local addresses (loopback by default) and
//! carries each accepted connection to a Pod's port through the
//! `pods/portforward` subresource, over WebSocket or SPDY ([`dial`]). A
//! service forward heals: it follows the service's ready endpoints
//! ([`endpoints`]) and moves to another Pod when its Pod goes. Local ports
//! stay put across restarts ([`local_port`]).
//!
//! - [`target`]: `TYPE/NAME` and remote ports, resolved to a [`Route`].
//! - [`dial`]: one stream to one Pod port; [`websocket`], [`spdy`].
//! - [`forwarder`]: listeners, Pod choice, connections, counters.
//! - [`status`]: what the CLI, the app and the tray show.
//! - [`access`]: whether the user may forward at all (RBAC), asked up front.

pub mod access;
pub mod dial;
pub mod endpoints;
pub mod error;
pub mod forwarder;
pub mod local_port;
mod pump;
pub mod spdy;
pub mod status;
pub mod stream;
pub mod target;
pub mod websocket;

pub use dial::{Dialer, Transport};
pub use error::{DialError, ForwardError};
pub use forwarder::{ConnectionEvent, DEFAULT_READY_WAIT, Forward, ForwardOptions, ForwardRequest};
pub use status::{ForwardState, ForwardStatus};
pub use stream::PodStream;
pub use target::{RemotePort, Route, Target, TargetKind};
