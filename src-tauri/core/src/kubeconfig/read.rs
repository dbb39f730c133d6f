//! Reading one kubeconfig file as written, and why it could not be used.
//!
//! kubectl refuses to run when any file is malformed. Porthole is a window
//! onto every cluster, so a broken file is reported (path and the parser's
//! reason) and the other files keep working: a [`FileProblem`] becomes the
//! file's [`super::SourceState`] in the context list.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::path::{Path, PathBuf};

use kube::config::{Kubeconfig, KubeconfigError};
use thiserror::Error;

use crate::redact::strip_quoted_values;

/// Why one file could not be used. Messages never carry file contents.
#[derive(Debug, Error)]
pub enum FileProblem {
    #[error("{path}: file not found")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Unreadable { path: PathBuf, source: io::Error },
    #[error("{path}: not a valid kubeconfig: {reason}")]
    Malformed { path: PathBuf, reason: String },
    #[error("{path}: the file reader stopped unexpectedly")]
    ReaderFailed { path: PathBuf },
}

/// Reads one file keeping every path in it exactly as written: what
/// `kubectl config view` shows (kubectl's `config` verbs never resolve
/// paths); connecting resolves them per entry (`cluster::build`).
///
/// JSON files are parsed as JSON (YAML parsers reject the tab indentation
/// that JSON allows); anything else as YAML.
pub(crate) async fn read_file_as_written(path: &Path) -> Result<Kubeconfig, FileProblem> {
    read_file_as_written_hashed(path)
        .await
        .map(|(config, _)| config)
}

/// [`read_file_as_written`], with a hash of the file's bytes so a reload can
/// tell whether anything changed.
pub(crate) async fn read_file_as_written_hashed(
    path: &Path,
) -> Result<(Kubeconfig, u64), FileProblem> {
    let owned = path.to_path_buf();
    let result = tokio::task::spawn_blocking(move || std::fs::read(&owned)).await;
    let path = path.to_path_buf();
    let bytes = match result {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(source)) if source.kind() == io::ErrorKind::NotFound => {
            return Err(FileProblem::NotFound { path });
        }
        Ok(Err(source)) => return Err(FileProblem::Unreadable { path, source }),
        Err(_) => return Err(FileProblem::ReaderFailed { path }),
    };
    let content_hash = hash_of(&bytes);
    let text = match decode_text(bytes) {
        Ok(text) => text,
        Err(reason) => {
            return Err(FileProblem::Malformed {
                path,
                reason: reason.to_owned(),
            });
        }
    };
    parse_text(&text)
        .map(|config| (config, content_hash))
        .map_err(|reason| FileProblem::Malformed {
            path,
            reason: strip_quoted_values(&reason),
        })
}

/// Text of a kubeconfig file: UTF-8, or UTF-16 with a byte-order mark, as
/// kube and kubectl accept.
fn decode_text(bytes: Vec<u8>) -> Result<String, &'static str> {
    let utf16 = |rest: &[u8], from: fn([u8; 2]) -> u16| {
        let units: Vec<u16> = rest
            .chunks(2)
            .map(|c| from([c[0], *c.get(1).unwrap_or(&0)]))
            .collect();
        String::from_utf16(&units).map_err(|_| "not valid UTF-16 text")
    };
    match bytes.as_slice() {
        [0xFF, 0xFE, rest @ ..] => utf16(rest, u16::from_le_bytes),
        [0xFE, 0xFF, rest @ ..] => utf16(rest, u16::from_be_bytes),
        [0xEF, 0xBB, 0xBF, rest @ ..] => {
            String::from_utf8(rest.to_vec()).map_err(|_| "not valid UTF-8 text")
        }
        _ => String::from_utf8(bytes).map_err(|_| "not valid UTF-8 text"),
    }
}

/// Parses kubeconfig text; the error is the parser's first line only.
fn parse_text(text: &str) -> Result<Kubeconfig, String> {
    if text.trim_start().starts_with('{') {
        return serde_json::from_str(text).map_err(|e| e.to_string());
    }
    Kubeconfig::from_yaml(text).map_err(|e| parse_reason(&e))
}

/// The parser's own words: its first line only, because the lines after it
/// quote the file around the error, and that may be a token or a key.
fn parse_reason(e: &KubeconfigError) -> String {
    let full = match e {
        KubeconfigError::Parse(inner) => inner.to_string(),
        other => other.to_string(),
    };
    let first = full.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_owned()
}

/// A hash for change detection within this process (not stored anywhere).
pub(crate) fn hash_of(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_order_marks_are_read_as_kube_reads_them() {
        let text = "kind: Config\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        let mut utf8 = vec![0xEF, 0xBB, 0xBF];
        utf8.extend_from_slice(text.as_bytes());
        for bytes in [le, be, utf8, text.as_bytes().to_vec()] {
            assert_eq!(decode_text(bytes).as_deref(), Ok(text));
        }
        assert!(decode_text(vec![0xC3, 0x28]).is_err());
    }

    #[test]
    fn json_indented_with_tabs_is_parsed_as_json() {
        let config = parse_text(
            "{\n\t\"kind\": \"Config\",\n\t\"contexts\": [{\"name\": \"a\", \"context\": {\"cluster\": \"c\"}}]\n}",
        )
        .expect("parses");
        assert_eq!(config.contexts.len(), 1);
    }

    #[tokio::test]
    async fn the_hash_follows_the_bytes_and_a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, "kind: Config\n").expect("write");
        let (_, first) = read_file_as_written_hashed(&path).await.expect("reads");
        let (_, again) = read_file_as_written_hashed(&path).await.expect("reads");
        assert_eq!(first, again);
        std::fs::write(&path, "kind: Config\ncurrent-context: a\n").expect("write");
        let (_, changed) = read_file_as_written_hashed(&path).await.expect("reads");
        assert_ne!(first, changed);

        let missing = read_file_as_written(&dir.path().join("nope")).await;
        assert!(matches!(missing, Err(FileProblem::NotFound { .. })));
    }
}
