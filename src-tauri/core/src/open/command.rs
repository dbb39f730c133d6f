//! The browser command: split into words like a shell would, never run by
//! one, and the URL put where `{url}` (or `%s`) says.

use std::fmt;

use thiserror::Error;

/// The environment variable naming a browser command; it wins over the
/// setting (scripts and tests).
pub const BROWSER_ENV: &str = "PORTHOLE_BROWSER";

/// Where a browser command came from: its errors name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BrowserCommandOrigin {
    /// The `browserCommand` setting.
    Setting,
    /// `$PORTHOLE_BROWSER`.
    Environment,
    /// `portholectl open --browser` (or `$PORTHOLE_BROWSER`).
    Flag,
}

impl fmt::Display for BrowserCommandOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Setting => f.write_str("browserCommand"),
            Self::Environment => write!(f, "${BROWSER_ENV}"),
            Self::Flag => write!(f, "--browser (or ${BROWSER_ENV})"),
        }
    }
}

/// Why a browser command does not split into words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum BrowserCommandError {
    #[error(
        "{origin}: the {quote} quote at character {at} is never closed (close it, or escape it with a backslash)"
    )]
    UnclosedQuote {
        origin: BrowserCommandOrigin,
        /// `'` or `"`.
        quote: char,
        /// Where it opened, counted in characters from 1.
        at: usize,
    },
    #[error("{origin}: ends with a lone backslash (write \\\\ for a backslash, or remove it)")]
    TrailingBackslash { origin: BrowserCommandOrigin },
    #[error("{origin}: names no program to run")]
    NoProgram { origin: BrowserCommandOrigin },
}

/// Splits a command into words the way a POSIX shell does, without
/// running one: blanks separate words; `'…'` keeps everything as is;
/// `"…"` keeps everything but `\"`, `\\`, `\$` and `` \` ``; outside
/// quotes a backslash keeps the next character. No variables, globs or
/// other expansions.
///
/// Hand-written rather than `shlex::split` on purpose: shlex reports a
/// failure as a bare `None` (its `Shlex` iterator only sets `had_error`),
/// so it cannot say which quote is unclosed, where it opened, or that the
/// command ends in a lone backslash, which these errors tell the user. It
/// also drops a word starting with `#` and everything after it as a
/// comment, where a browser argument may well start with one.
pub fn split_command(
    command: &str,
    origin: BrowserCommandOrigin,
) -> Result<Vec<String>, BrowserCommandError> {
    let mut words = Vec::new();
    // The word being built; `None` between words (so `''` is a word).
    let mut word: Option<String> = None;
    let mut chars = command.chars().enumerate().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\\' => match chars.next() {
                Some((_, next)) => word.get_or_insert_default().push(next),
                None => return Err(BrowserCommandError::TrailingBackslash { origin }),
            },
            '\'' | '"' => {
                let w = word.get_or_insert_default();
                let mut closed = false;
                while let Some((_, q)) = chars.next() {
                    if q == c {
                        closed = true;
                        break;
                    }
                    if c == '"'
                        && q == '\\'
                        && let Some((_, next)) =
                            chars.next_if(|(_, n)| matches!(n, '"' | '\\' | '$' | '`'))
                    {
                        w.push(next);
                        continue;
                    }
                    w.push(q);
                }
                if !closed {
                    return Err(BrowserCommandError::UnclosedQuote {
                        origin,
                        quote: c,
                        at: i + 1,
                    });
                }
            }
            c => word.get_or_insert_default().push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// The program and arguments that open `url`: the command's words with
/// `{url}` (or `%s`, as in `$BROWSER`) replaced in every word that holds
/// it, else the URL added as the last argument. Never given to a shell.
pub fn browser_argv(
    command: &str,
    url: &str,
    origin: BrowserCommandOrigin,
) -> Result<Vec<String>, BrowserCommandError> {
    let mut words = split_command(command, origin)?;
    if words.first().is_none_or(String::is_empty) {
        return Err(BrowserCommandError::NoProgram { origin });
    }
    let placeholder = ["{url}", "%s"]
        .into_iter()
        .find(|p| words.iter().any(|w| w.contains(p)));
    if let Some(placeholder) = placeholder {
        for w in &mut words {
            *w = w.replace(placeholder, url);
        }
    } else {
        words.push(url.to_owned());
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(command: &str) -> Result<Vec<String>, BrowserCommandError> {
        split_command(command, BrowserCommandOrigin::Setting)
    }

    #[test]
    fn browser_commands_split_like_a_shell() {
        assert_eq!(
            split("  firefox   -new-tab ").expect("ok"),
            ["firefox", "-new-tab"]
        );
        assert_eq!(
            split(r#"'/opt/My Browser/bin/browser' --profile "Work Stuff" {url}"#).expect("ok"),
            [
                "/opt/My Browser/bin/browser",
                "--profile",
                "Work Stuff",
                "{url}"
            ]
        );
        assert_eq!(
            split(r"/opt/My\ Browser/run it\'s").expect("ok"),
            ["/opt/My Browser/run", "it's"]
        );
        assert_eq!(
            split(r#"a"b c"'d e'f "" '' "\"\\\$\`\n""#).expect("ok"),
            ["ab cd ef", "", "", "\"\\$`\\n"]
        );
        assert_eq!(split(r"'no \ escapes\'").expect("ok"), [r"no \ escapes\"]);
        assert_eq!(
            split("$HOME *").expect("ok"),
            ["$HOME", "*"],
            "no expansion"
        );
        assert_eq!(split("   ").expect("ok"), [] as [String; 0]);
    }

    #[test]
    fn a_hash_starts_no_comment() {
        assert_eq!(
            split("rec #fragment 'a b'").expect("ok"),
            ["rec", "#fragment", "a b"]
        );
    }

    #[test]
    fn unbalanced_quotes_name_the_setting_and_where() {
        let err = split(r#"firefox "--new-tab {url}"#).expect_err("unclosed");
        assert_eq!(
            err,
            BrowserCommandError::UnclosedQuote {
                origin: BrowserCommandOrigin::Setting,
                quote: '"',
                at: 9
            }
        );
        assert!(
            err.to_string()
                .starts_with("browserCommand: the \" quote at character 9 is never closed"),
            "{err}"
        );
        let err = split_command("rec 'x", BrowserCommandOrigin::Environment).expect_err("unclosed");
        assert!(
            err.to_string()
                .starts_with("$PORTHOLE_BROWSER: the ' quote at character 5"),
            "{err}"
        );
        let err = split("rec \\").expect_err("lone backslash");
        assert!(
            err.to_string()
                .starts_with("browserCommand: ends with a lone backslash"),
            "{err}"
        );
        assert!(split(r#""a\""#).is_err(), "an escaped quote does not close");
    }

    #[test]
    fn the_url_replaces_every_placeholder_or_comes_last() {
        let argv = |c: &str| browser_argv(c, "http://a/?q=1&b", BrowserCommandOrigin::Setting);
        assert_eq!(
            argv("/bin/rec --to {url} x").expect("ok"),
            ["/bin/rec", "--to", "http://a/?q=1&b", "x"]
        );
        assert_eq!(
            argv("chromium '--app={url}'").expect("ok"),
            ["chromium", "--app=http://a/?q=1&b"]
        );
        assert_eq!(
            argv("'/opt/My Browser/browser' -new-tab").expect("ok"),
            ["/opt/My Browser/browser", "-new-tab", "http://a/?q=1&b"]
        );
        // `%s`, as `$BROWSER` has it (portholectl open accepted it first).
        assert_eq!(
            argv("firefox --new-tab %s").expect("ok"),
            ["firefox", "--new-tab", "http://a/?q=1&b"]
        );
        let flag = browser_argv("rec 'unclosed", "u", BrowserCommandOrigin::Flag)
            .expect_err("an unbalanced quote");
        assert!(
            flag.to_string()
                .contains("--browser (or $PORTHOLE_BROWSER)"),
            "{flag}"
        );
        for empty in ["", "''", "  "] {
            assert_eq!(
                argv(empty),
                Err(BrowserCommandError::NoProgram {
                    origin: BrowserCommandOrigin::Setting
                }),
                "{empty:?}"
            );
        }
    }
}
