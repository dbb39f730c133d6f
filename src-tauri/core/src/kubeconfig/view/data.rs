//! Certificate and key fields: their path and `*-data` spellings, the
//! base64 kubectl reads and prints, and which entry of which file names
//! them.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use kube::config::{NamedAuthInfo, NamedCluster};

use super::error::{EntryKind, EntryRef, ViewError};
use crate::kubeconfig::merge::MergedKubeconfig;

/// A certificate-like field: its path and data spellings.
#[derive(Clone, Copy)]
pub(super) struct DataField {
    pub(super) path_field: &'static str,
    pub(super) data_field: &'static str,
}

pub(super) const CA: DataField = DataField {
    path_field: "certificate-authority",
    data_field: "certificate-authority-data",
};
pub(super) const CLIENT_CERT: DataField = DataField {
    path_field: "client-certificate",
    data_field: "client-certificate-data",
};
pub(super) const CLIENT_KEY: DataField = DataField {
    path_field: "client-key",
    data_field: "client-key-data",
};

pub(super) fn cluster_ref(merged: &MergedKubeconfig, named: &NamedCluster) -> EntryRef {
    EntryRef {
        file: merged
            .cluster_origin(&named.name)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        kind: EntryKind::Cluster,
        name: named.name.clone(),
    }
}

pub(super) fn user_ref(merged: &MergedKubeconfig, named: &NamedAuthInfo) -> EntryRef {
    EntryRef {
        file: merged
            .user_origin(&named.name)
            .map(Path::to_path_buf)
            .unwrap_or_default(),
        kind: EntryKind::User,
        name: named.name.clone(),
    }
}

/// A relative path names a file beside the kubeconfig that wrote it.
pub(super) fn resolve_against(kubeconfig: &Path, path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    let file = std::path::absolute(kubeconfig).unwrap_or_else(|_| kubeconfig.to_path_buf());
    file.parent().unwrap_or(Path::new("/")).join(path)
}

/// Go's `base64.StdEncoding`, which kubectl uses: line breaks ignored,
/// padding required, stray low bits tolerated.
pub(super) const GO_STD_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireCanonical),
);

/// Decodes a `*-data` field (kubectl rejects a file whose data is not
/// base64, and prints data re-encoded).
pub(super) fn decode_data(
    entry: &EntryRef,
    field: &'static str,
    data: Option<&str>,
) -> Result<Vec<u8>, ViewError> {
    let Some(data) = data.filter(|d| !d.is_empty()) else {
        return Ok(Vec::new());
    };
    let compact: String = data.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    GO_STD_BASE64
        .decode(compact)
        .map_err(|e| ViewError::InvalidBase64 {
            entry: entry.clone(),
            field,
            reason: describe_base64_error(&e),
        })
}

/// The decoder's reason without the offending byte (it may be part of a key).
fn describe_base64_error(e: &base64::DecodeError) -> String {
    match e {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("invalid character at offset {offset}")
        }
        base64::DecodeError::InvalidLength(len) => format!("invalid length {len}"),
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("invalid last character at offset {offset}")
        }
        base64::DecodeError::InvalidPadding => "invalid padding".to_owned(),
    }
}
