//! What can stop a benchmark run, each saying what was being done.

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("test control plane: {0}")]
    Cluster(String),
    #[error("TLS setup: {0}")]
    Tls(String),
    #[error("connecting to {what}: {detail}")]
    Connect { what: String, detail: String },
    #[error("{what}: {detail}")]
    Request { what: String, detail: String },
    #[error("{what} timed out after {secs} s")]
    Timeout { what: String, secs: u64 },
    #[error("starting {what}: {detail}")]
    Spawn { what: String, detail: String },
    #[error("setting up the bench objects: {0}")]
    Fixture(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn request(what: impl Into<String>, detail: impl std::fmt::Display) -> Self {
        Error::Request {
            what: what.into(),
            detail: detail.to_string(),
        }
    }
}
