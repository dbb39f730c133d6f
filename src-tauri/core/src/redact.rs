//! Scrubbing of text that may carry secrets before it is shown anywhere.
//!
//! Parser messages quote the offending value ("invalid type: string \"…\"");
//! when a token sits in the wrong place that value is a secret, so quoted
//! values are dropped from any message that leaves the core. Backticks are
//! kept: parsers use them for field names ("missing field `cluster`").

/// The last `-`/`_`/`.` separated word of a setting or flag name that marks
/// its value as a secret: `client-secret`, `id-token`, `refresh-token`,
/// `access-token`, `--oidc-client-secret`, `--password`. Only the last word
/// counts, so `token-key` (gcp's JSONPath to the token) and
/// `--token-cache-dir` stay readable.
const SECRET_LAST_WORDS: &[&str] = &["secret", "token", "password", "passwd"];

/// Any word of an environment variable name that marks its value as a
/// secret: `AWS_SECRET_ACCESS_KEY`, `AWS_ACCESS_KEY_ID`, `AWS_SESSION_TOKEN`,
/// `AZURE_CLIENT_SECRET`, `VAULT_TOKEN`, `GOOGLE_APPLICATION_CREDENTIALS`.
/// Environment names are freer than flag names, so any word counts; hiding
/// a harmless value is the cheaper mistake.
const SECRET_ENV_WORDS: &[&str] = &[
    "secret",
    "token",
    "password",
    "passwd",
    "key",
    "apikey",
    "credential",
    "credentials",
];

fn words(name: &str) -> impl Iterator<Item = String> + '_ {
    name.split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
}

/// Whether a setting or flag name (`client-secret`, `--id-token`) says its
/// value is a secret. Leading dashes are ignored.
pub fn is_secret_setting(name: &str) -> bool {
    words(name.trim_start_matches('-'))
        .last()
        .is_some_and(|w| SECRET_LAST_WORDS.contains(&w.as_str()))
}

/// Whether an environment variable name (`AWS_SECRET_ACCESS_KEY`) says its
/// value is a secret.
pub fn is_secret_env_name(name: &str) -> bool {
    words(name).any(|w| SECRET_ENV_WORDS.contains(&w.as_str()))
}

/// Replaces the password of a URL's `user:password@` with `REDACTED`,
/// keeping the user name (shown like a basic-auth `username`).
pub fn url_with_password_redacted(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let authority_start = scheme_end + 3;
    let rest = &url[authority_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let Some(colon) = rest[..at].find(':') else {
        return url.to_owned();
    };
    format!(
        "{}{}:REDACTED{}",
        &url[..authority_start],
        &rest[..colon],
        &rest[at..]
    )
}

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
    fn secret_settings_are_recognised_by_their_last_word() {
        for name in [
            "client-secret",
            "id-token",
            "refresh-token",
            "access-token",
            "--oidc-client-secret",
            "--password",
            "token",
        ] {
            assert!(is_secret_setting(name), "{name}");
        }
        for name in [
            "client-id",
            "idp-issuer-url",
            "token-key",
            "expiry-key",
            "--token-cache-dir",
            "cmd-path",
            "idp-certificate-authority-data",
        ] {
            assert!(!is_secret_setting(name), "{name}");
        }
    }

    #[test]
    fn secret_environment_names_are_recognised_by_any_word() {
        for name in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_ACCESS_KEY_ID",
            "AWS_SESSION_TOKEN",
            "AZURE_CLIENT_SECRET",
            "VAULT_TOKEN",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "DB_PASSWORD",
        ] {
            assert!(is_secret_env_name(name), "{name}");
        }
        for name in ["AWS_PROFILE", "AWS_REGION", "KUBECONFIG", "HOME", "MONKEY"] {
            assert!(!is_secret_env_name(name), "{name}");
        }
    }

    #[test]
    fn url_passwords_are_redacted_and_user_names_kept() {
        assert_eq!(
            url_with_password_redacted("http://proxy-user:hunter2@proxy.example:3128"),
            "http://proxy-user:REDACTED@proxy.example:3128"
        );
        assert_eq!(
            url_with_password_redacted("http://only-user@proxy.example:3128/p@th"),
            "http://only-user@proxy.example:3128/p@th"
        );
        assert_eq!(
            url_with_password_redacted("https://k8s.example:6443/a:b@c"),
            "https://k8s.example:6443/a:b@c"
        );
        assert_eq!(url_with_password_redacted("no url"), "no url");
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

/// Masks what looks like a secret in a line of free text (a plugin's
/// stderr): long token-like words (JWTs, hex or base64 runs mixing letters
/// and digits) and the word after `token`, `password`, `secret` or `key`
/// followed by `:` or `=`.
pub fn scrub_secret_words(line: &str) -> String {
    let mut out = Vec::new();
    let mut mask_next = false;
    for word in line.split(' ') {
        let (key, value) = match word.split_once(['=', ':']) {
            Some((k, v)) if !k.is_empty() => (k, Some(v)),
            _ => (word, None),
        };
        let names_secret = words(key.trim_matches(|c: char| !c.is_alphanumeric()))
            .any(|w| SECRET_SCRUB_WORDS.contains(&w.as_str()));
        if mask_next && !word.is_empty() {
            out.push("…".to_owned());
            mask_next = false;
            continue;
        }
        match value {
            Some(v) if names_secret && !v.is_empty() => out.push(format!("{key}=…")),
            Some(_) if names_secret => {
                out.push(word.to_owned());
                mask_next = true;
            }
            _ if looks_like_token(word) => out.push("…".to_owned()),
            _ => out.push(word.to_owned()),
        }
    }
    out.join(" ")
}

const SECRET_SCRUB_WORDS: &[&str] = &[
    "token",
    "password",
    "passwd",
    "secret",
    "key",
    "bearer",
    "authorization",
];

fn looks_like_token(word: &str) -> bool {
    let w = word.trim_matches(|c: char| matches!(c, '"' | '\'' | ',' | '.' | ';' | '(' | ')'));
    if w.len() < 20 {
        return false;
    }
    let allowed = w
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '=' | '+' | '/'));
    let digits = w.chars().any(|c| c.is_ascii_digit());
    let letters = w.chars().any(|c| c.is_ascii_alphabetic());
    allowed && digits && letters && !w.contains("//")
}

#[cfg(test)]
mod scrub_tests {
    use super::scrub_secret_words;

    #[test]
    fn tokens_and_values_after_secret_words_are_masked() {
        assert_eq!(
            scrub_secret_words("error: token=abc123 expired"),
            "error: token=… expired"
        );
        assert_eq!(
            scrub_secret_words("bad password: hunter2 given"),
            "bad password: … given"
        );
        assert_eq!(
            scrub_secret_words("got eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig123abc from issuer"),
            "got … from issuer"
        );
        assert_eq!(
            scrub_secret_words("could not reach https://sts.amazonaws.com/ in region eu-west-1"),
            "could not reach https://sts.amazonaws.com/ in region eu-west-1"
        );
    }
}
