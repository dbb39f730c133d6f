//! Porthole's service URLs in a real browser (issue #5): headless Chromium
//! (Debian's `chromium`, nothing downloaded) against `portholectl proxy` on
//! the test control plane.
//!
//! - [`spa`]: the SPA fixture loads completely from its service host
//!   (`PORT.SERVICE.NAMESPACE.CONTEXT.localhost`): stylesheet applied, script
//!   run, `/api/data` answered through the service's own origin.
//! - [`api_probe`]: the page cannot read `/api/v1/namespaces` with the user's
//!   credentials — not same-origin (that is the service), not on the API
//!   hosts (the CSP and CORS stop the browser, and Porthole's cross-site
//!   guard refuses the same request sent directly).
//! - [`backends`]: the HTTPS backend (`https--PORT…`) and Elasticsearch's
//!   `_cluster/health?pretty=true` load too.
//!
//! Screenshots and what the probe recorded go to `target/browser/`; the
//! record is also written to stderr (uncaptured).

mod api_probe;
mod backends;
mod chromium;
mod http;
mod spa;
mod support;
