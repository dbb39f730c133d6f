//! Why `config view` cannot be shown, naming the entry and its file.

use std::fmt;
use std::path::PathBuf;

use thiserror::Error;

/// Which kind of named entry a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Cluster,
    User,
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Cluster => "cluster",
            Self::User => "user",
        })
    }
}

/// A named entry and the file that defined it: `FILE: user "NAME"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRef {
    pub file: PathBuf,
    pub kind: EntryKind,
    pub name: String,
}

impl fmt::Display for EntryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} {:?}", self.file.display(), self.kind, self.name)
    }
}

/// Why the view cannot be shown. Names files, entries and fields; never
/// shows a value.
#[derive(Debug, Error)]
pub enum ViewError {
    #[error(
        "--minify needs a current context and the kubeconfig sets none; name one with --context NAME (kubectl: \"current-context must exist in order to minify\")"
    )]
    NoCurrentContext,
    #[error("cannot minify: context {name:?} is not defined in the kubeconfig")]
    ContextNotFound { name: String },
    #[error("cannot minify: context {context:?} uses cluster {cluster:?}, which is not defined")]
    ClusterNotFound { context: String, cluster: String },
    #[error("cannot minify: context {context:?} uses user {user:?}, which is not defined")]
    UserNotFound { context: String, user: String },
    #[error(
        "{entry}: both {path_field} and {path_field}-data are set; --flatten cannot inline one over the other (remove one)"
    )]
    PathAndData {
        entry: EntryRef,
        path_field: &'static str,
    },
    #[error("{entry}: {field} is not valid base64 ({reason})")]
    InvalidBase64 {
        entry: EntryRef,
        field: &'static str,
        reason: String,
    },
    #[error("{entry}: {field}: cannot read {}: {source}", path.display())]
    InlineUnreadable {
        entry: EntryRef,
        field: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{entry}: {field}: {} was not read before rendering (a bug in Porthole)", path.display())]
    InlineMissing {
        entry: EntryRef,
        field: &'static str,
        path: PathBuf,
    },
}
