//! Scrubbing of text that may carry secrets before it is shown anywhere.
//!
//! Parser messages quote the offending value ("invalid type: string \"…\"");
//! when a token sits in the wrong place that value is a secret, so quoted
//! values are dropped from any message that leaves the core. Backticks are
//! kept: parsers use them for field names ("missing field `cluster`").

/// Replaces every double-quoted run in `message` with `"…"`.
pub fn strip_quoted_values(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            // Skip to the matching quote; an unmatched quote drops the rest,
            // which errs on the side of not showing a value.
            for inner in chars.by_ref() {
                if inner == c {
                    break;
                }
            }
            out.push(c);
            out.push('…');
            out.push(c);
        } else {
            out.push(c);
        }
    }
    out
}

/// Removes `user:password@` from a URL's authority, if present.
pub fn url_without_userinfo(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}REDACTED@{}", &url[..scheme_end + 3], &rest[at + 1..]),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_values_are_removed_from_parser_messages() {
        let msg = r#"invalid type: string "s3cr3t-token", expected a sequence at line 4"#;
        let cleaned = strip_quoted_values(msg);
        assert!(!cleaned.contains("s3cr3t"), "{cleaned}");
        assert!(cleaned.contains("at line 4"));
    }

    #[test]
    fn unmatched_quote_hides_the_rest() {
        assert_eq!(strip_quoted_values("bad \"secret"), "bad \"…\"");
    }

    #[test]
    fn userinfo_is_dropped_from_server_urls() {
        assert_eq!(
            url_without_userinfo("https://admin:hunter2@k8s.example:6443/base"),
            "https://REDACTED@k8s.example:6443/base"
        );
        assert_eq!(
            url_without_userinfo("https://k8s.example:6443/a@b"),
            "https://k8s.example:6443/a@b"
        );
        assert_eq!(url_without_userinfo("not a url"), "not a url");
    }
}
