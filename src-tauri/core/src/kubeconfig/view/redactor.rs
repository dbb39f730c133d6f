//! What `config view` masks, and how (the table in [`super`]'s
//! documentation); nothing with `--raw`.

use base64::Engine;

use super::data::GO_STD_BASE64;
use crate::kubeconfig::view_model::Guarded;
use crate::redact::{is_secret_env_name, is_secret_setting, url_with_password_redacted};

/// The redaction rules of the table in the `view` module's documentation.
pub(super) struct Redactor {
    pub(super) raw: bool,
}

impl Redactor {
    fn masked(&self, text: &str, mask: &'static str) -> Guarded {
        if self.raw {
            Guarded::clear(text)
        } else {
            Guarded::Masked(mask)
        }
    }

    /// `token`, `password` and the like.
    pub(super) fn secret(&self, text: &str) -> Guarded {
        self.masked(text, Guarded::REDACTED)
    }

    /// Certificate and key bytes, printed base64-encoded; nothing when empty.
    pub(super) fn data(&self, bytes: &[u8]) -> Option<Guarded> {
        if bytes.is_empty() {
            return None;
        }
        if self.raw {
            Some(Guarded::clear(GO_STD_BASE64.encode(bytes)))
        } else {
            Some(Guarded::Masked(Guarded::DATA_OMITTED))
        }
    }

    /// An auth-provider setting: a secret when its key says so.
    pub(super) fn setting(&self, key: &str, value: &str) -> Guarded {
        if is_secret_setting(key) {
            self.secret(value)
        } else {
            Guarded::clear(value)
        }
    }

    /// An exec environment variable: a secret when its name says so.
    pub(super) fn env(&self, name: &str, value: &str) -> Guarded {
        if is_secret_env_name(name) {
            self.secret(value)
        } else {
            Guarded::clear(value)
        }
    }

    /// Exec arguments: the value of a secret-named flag is masked, whether
    /// written `--client-secret=VALUE` or `--client-secret VALUE`.
    pub(super) fn args(&self, args: &[String]) -> Vec<Guarded> {
        let mut out = Vec::with_capacity(args.len());
        let mut value_is_secret = false;
        for arg in args {
            if std::mem::take(&mut value_is_secret) && !arg.starts_with('-') {
                out.push(self.secret(arg));
                continue;
            }
            if !arg.starts_with('-') {
                out.push(Guarded::clear(arg.as_str()));
                continue;
            }
            match arg.split_once('=') {
                Some((flag, _)) if is_secret_setting(flag) => out.push(if self.raw {
                    Guarded::clear(arg.as_str())
                } else {
                    Guarded::clear(format!("{flag}={}", Guarded::REDACTED))
                }),
                Some(_) => out.push(Guarded::clear(arg.as_str())),
                None => {
                    value_is_secret = is_secret_setting(arg);
                    out.push(Guarded::clear(arg.as_str()));
                }
            }
        }
        out
    }

    /// A URL: the password of its `user:password@`, if any, is masked.
    pub(super) fn url(&self, url: &str) -> Guarded {
        if self.raw {
            Guarded::clear(url)
        } else {
            Guarded::clear(url_with_password_redacted(url))
        }
    }
}
