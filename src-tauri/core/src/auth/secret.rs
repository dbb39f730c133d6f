//! Secret values on their way into request headers. Their `Debug` never
//! shows the value, and the header they become is marked sensitive so
//! hyper's own debug output and HPACK indexing leave it out too.

use std::fmt;

use http::HeaderValue;
use secrecy::{ExposeSecret, SecretString};

/// An `Authorization` header value (`Bearer …` or `Basic …`).
#[derive(Clone)]
pub struct SecretHeader(HeaderValue);

impl SecretHeader {
    /// `Bearer TOKEN`; `None` when the token cannot be a header value
    /// (control characters), so the caller reports a bad token.
    pub fn bearer(token: &SecretString) -> Option<Self> {
        Self::from_text(&format!("Bearer {}", token.expose_secret().trim()))
    }

    /// `Basic base64(user:password)`.
    pub fn basic(user: &str, password: &SecretString) -> Option<Self> {
        use base64::Engine as _;
        let raw = format!("{user}:{}", password.expose_secret());
        Self::from_text(&format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        ))
    }

    fn from_text(text: &str) -> Option<Self> {
        let mut value = HeaderValue::from_str(text).ok()?;
        value.set_sensitive(true);
        Some(Self(value))
    }

    /// The header value, marked sensitive.
    pub fn header_value(&self) -> HeaderValue {
        self.0.clone()
    }
}

impl fmt::Debug for SecretHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHeader(REDACTED)")
    }
}

impl PartialEq for SecretHeader {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_token() {
        let h = SecretHeader::bearer(&SecretString::from("s3cr3t-token")).expect("valid");
        assert_eq!(format!("{h:?}"), "SecretHeader(REDACTED)");
        assert!(h.header_value().is_sensitive());
        assert_eq!(h.header_value(), "Bearer s3cr3t-token");
    }

    #[test]
    fn basic_encodes_user_and_password() {
        let h = SecretHeader::basic("alice", &SecretString::from("pw")).expect("valid");
        assert_eq!(h.header_value(), "Basic YWxpY2U6cHc=");
    }

    #[test]
    fn a_token_with_a_newline_inside_is_refused() {
        assert!(SecretHeader::bearer(&SecretString::from("a\nb")).is_none());
    }
}
