//! kubectl proxy's request filter, with its flags, defaults, order and
//! answer (`403 Forbidden`), minus one bug: kubectl strips the port with
//! `SplitHostPort`, which also strips the brackets of `[::1]:8001`, so its
//! own default `^\[::1\]$` never matches. Porthole keeps the brackets.

use regex::Regex;

pub const DEFAULT_ACCEPT_HOSTS: &str = r"^localhost$,^127\.0\.0\.1$,^\[::1\]$";
pub const DEFAULT_ACCEPT_PATHS: &str = "^.*";
pub const DEFAULT_REJECT_PATHS: &str = r"^/api/.*/pods/.*/exec,^/api/.*/pods/.*/attach";
pub const DEFAULT_REJECT_METHODS: &str = "^$";

/// A flag's comma-separated regular expressions (kubectl's
/// `MakeRegexpArray`), matched anywhere in the text like Go's `MatchString`.
#[derive(Debug, Clone)]
pub struct Patterns(Vec<Regex>);

impl Patterns {
    /// Parses `a,b,c`; the error names the flag and the bad expression.
    pub fn parse(flag: &str, list: &str) -> Result<Self, String> {
        if list.is_empty() {
            return Ok(Self(Vec::new()));
        }
        list.split(',')
            .map(|re| {
                Regex::new(re)
                    .map_err(|e| format!("--{flag}: {re:?} is not a valid regular expression: {e}"))
            })
            .collect::<Result<_, _>>()
            .map(Self)
    }

    pub fn matches(&self, text: &str) -> bool {
        self.0.iter().any(|re| re.is_match(text))
    }
}

/// The four filter flags.
#[derive(Debug, Clone)]
pub struct Filter {
    pub accept_hosts: Patterns,
    pub accept_paths: Patterns,
    pub reject_paths: Patterns,
    pub reject_methods: Patterns,
}

impl Filter {
    /// kubectl proxy's defaults.
    pub fn kubectl_defaults() -> Self {
        Self::from_flags(
            DEFAULT_ACCEPT_HOSTS,
            DEFAULT_ACCEPT_PATHS,
            DEFAULT_REJECT_PATHS,
            DEFAULT_REJECT_METHODS,
        )
        .unwrap_or_else(|_| unreachable!("the default patterns are valid"))
    }

    pub fn from_flags(
        accept_hosts: &str,
        accept_paths: &str,
        reject_paths: &str,
        reject_methods: &str,
    ) -> Result<Self, String> {
        Ok(Self {
            accept_hosts: Patterns::parse("accept-hosts", accept_hosts)?,
            accept_paths: Patterns::parse("accept-paths", accept_paths)?,
            reject_paths: Patterns::parse("reject-paths", reject_paths)?,
            reject_methods: Patterns::parse("reject-methods", reject_methods)?,
        })
    }

    /// Whether the host (without port) may use the API at all.
    pub fn host_accepted(&self, host: &str) -> bool {
        self.accept_hosts.matches(host)
    }

    /// [`Self::accept`] for Porthole's own host names, which the host
    /// allow-list in `route` has already checked.
    pub fn accept_path(&self, method: &str, path: &str) -> bool {
        !self.reject_paths.matches(path)
            && !self.reject_methods.matches(method)
            && self.accept_paths.matches(path)
    }

    /// kubectl's `accept`: rejected paths, then rejected methods, then
    /// accepted paths and hosts.
    pub fn accept(&self, method: &str, path: &str, host: &str) -> bool {
        if self.reject_paths.matches(path) || self.reject_methods.matches(method) {
            return false;
        }
        self.accept_paths.matches(path) && self.accept_hosts.matches(host)
    }
}

/// The host of a `Host` header without its port, brackets of an IPv6
/// address kept: `[::1]:8001` → `[::1]`, `localhost:8001` → `localhost`.
pub fn host_without_port(host: &str) -> &str {
    if host.starts_with('[') {
        return match host.find(']') {
            Some(end) => &host[..=end],
            None => host,
        };
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_match_kubectl_proxy() {
        let f = Filter::kubectl_defaults();
        assert!(f.accept("GET", "/api/v1/namespaces", "localhost"));
        assert!(f.accept("GET", "/api/", "127.0.0.1"));
        assert!(
            f.accept("GET", "/api/", "[::1]"),
            "kubectl's bug is not copied"
        );
        assert!(!f.accept("GET", "/api/", "evil.example"));
        assert!(!f.accept("GET", "/api/", "localhost.evil.example"));
        assert!(!f.accept(
            "POST",
            "/api/v1/namespaces/default/pods/p/exec",
            "localhost"
        ));
        assert!(!f.accept(
            "GET",
            "/api/v1/namespaces/default/pods/p/attach",
            "localhost"
        ));
        assert!(f.accept("GET", "/api/v1/namespaces/default/pods/p/log", "localhost"));
    }

    #[test]
    fn ports_are_dropped_and_ipv6_brackets_kept() {
        assert_eq!(host_without_port("localhost:8001"), "localhost");
        assert_eq!(host_without_port("[::1]:8001"), "[::1]");
        assert_eq!(host_without_port("[::1]"), "[::1]");
        assert_eq!(host_without_port("localhost"), "localhost");
        assert_eq!(host_without_port("a.localhost:80"), "a.localhost");
    }

    #[test]
    fn a_bad_pattern_names_its_flag() {
        let err = Filter::from_flags("(", "", "", "").expect_err("bad regex");
        assert!(err.starts_with("--accept-hosts:"), "{err}");
        let none = Filter::from_flags("^x$", "", "", "").expect("valid");
        assert!(
            !none.accept("GET", "/", "x"),
            "no accepted path accepts nothing"
        );
    }
}
