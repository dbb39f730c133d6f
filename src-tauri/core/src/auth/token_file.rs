//! `tokenFile`: a bearer token read from a file that something else rotates
//! (a projected service-account token, a CI job). The file is checked on
//! every request (one `stat`) and re-read when it changed, so the request
//! after a rewrite already carries the new token.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use secrecy::SecretString;
use tokio::sync::Mutex;

use super::secret::SecretHeader;

/// Why the token file gave no token. Never holds the file's content.
#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty")]
    Empty { path: PathBuf },
    #[error("{path} holds characters a token cannot have")]
    Invalid { path: PathBuf },
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

pub struct TokenFile {
    path: PathBuf,
    cache: Mutex<Option<(Stamp, SecretHeader)>>,
}

impl TokenFile {
    pub fn new(path: PathBuf) -> Self {
        Self {
            path,
            cache: Mutex::new(None),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `Authorization` header from the file as it is now.
    pub async fn header(&self) -> Result<SecretHeader, TokenFileError> {
        let unreadable = |source| TokenFileError::Unreadable {
            path: self.path.clone(),
            source,
        };
        let meta = tokio::fs::metadata(&self.path).await.map_err(unreadable)?;
        let stamp = Stamp {
            modified: meta.modified().ok(),
            len: meta.len(),
        };
        let mut cache = self.cache.lock().await;
        if let Some((cached, header)) = cache.as_ref()
            && *cached == stamp
        {
            return Ok(header.clone());
        }
        let text = tokio::fs::read_to_string(&self.path)
            .await
            .map_err(unreadable)?;
        let token = text.trim();
        if token.is_empty() {
            return Err(TokenFileError::Empty {
                path: self.path.clone(),
            });
        }
        let header = SecretHeader::bearer(&SecretString::from(token)).ok_or_else(|| {
            TokenFileError::Invalid {
                path: self.path.clone(),
            }
        })?;
        *cache = Some((stamp, header.clone()));
        Ok(header)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_rewritten_file_gives_the_new_token_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        std::fs::write(&path, "first-token\n").expect("write");
        let file = TokenFile::new(path.clone());
        assert_eq!(
            file.header().await.expect("token").header_value(),
            "Bearer first-token"
        );
        std::fs::write(&path, "second-token-longer\n").expect("write");
        assert_eq!(
            file.header().await.expect("token").header_value(),
            "Bearer second-token-longer"
        );
    }

    #[tokio::test]
    async fn errors_name_the_file_and_never_the_content() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("token");
        let missing = TokenFile::new(path.clone())
            .header()
            .await
            .expect_err("missing");
        assert!(missing.to_string().contains("token"), "{missing}");
        std::fs::write(&path, "  \n").expect("write");
        let empty = TokenFile::new(path).header().await.expect_err("empty");
        assert!(empty.to_string().ends_with("is empty"), "{empty}");
    }
}
