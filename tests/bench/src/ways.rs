//! The three ways to the apiserver: direct (client certificate, the
//! limit), `kubectl proxy` and `portholectl proxy`, and how each one
//! spells an API GET and a service-proxy GET.

use std::sync::Arc;

use porthole_core::proxy::names::{ServiceTarget, service_host};

use crate::conn::{Endpoint, Get};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Direct,
    Kubectl,
    Porthole,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Direct => "direct",
            Kind::Kubectl => "kubectl proxy",
            Kind::Porthole => "portholectl proxy",
        }
    }
}

#[derive(Clone)]
pub struct Way {
    pub kind: Kind,
    pub endpoint: Arc<Endpoint>,
    /// The kubeconfig context the proxies serve (Porthole's host names carry it).
    context: String,
}

/// A service port behind the apiserver's service proxy.
#[derive(Debug, Clone, Copy)]
pub struct Service<'a> {
    pub namespace: &'a str,
    pub name: &'a str,
    pub port: &'a str,
}

impl Way {
    pub fn new(kind: Kind, endpoint: Endpoint, context: &str) -> Way {
        Way {
            kind,
            endpoint: Arc::new(endpoint),
            context: context.to_owned(),
        }
    }

    fn authority(&self) -> String {
        self.endpoint.addr().to_string()
    }

    /// An API path as is, with the listener's own address as Host (what
    /// both proxies' default host filter accepts).
    pub fn api(&self, path: &str) -> Get {
        Get {
            host: self.authority(),
            path: path.to_owned(),
        }
    }

    /// `inner` (starting with `/`) on a service: Porthole's service host
    /// for Porthole, the apiserver's proxy path URL for the others.
    pub fn service(&self, service: Service<'_>, inner: &str) -> Get {
        match self.kind {
            Kind::Porthole => {
                let target = ServiceTarget {
                    namespace: service.namespace.to_owned(),
                    service: service.name.to_owned(),
                    port: service.port.to_owned(),
                    https: false,
                };
                Get {
                    host: format!(
                        "{}:{}",
                        service_host(&self.context, &target),
                        self.endpoint.addr().port()
                    ),
                    path: inner.to_owned(),
                }
            }
            Kind::Direct | Kind::Kubectl => Get {
                host: self.authority(),
                path: format!(
                    "/api/v1/namespaces/{}/services/{}:{}/proxy{inner}",
                    service.namespace, service.name, service.port
                ),
            },
        }
    }
}
