//! Handing a link to a browser: the browser command (`$PORTHOLE_BROWSER`,
//! the `browserCommand` setting or `portholectl open --browser`), split into
//! words like a shell would but never run by one, or the system's opener
//! (xdg-open, open, start).

use std::process::{Command, Stdio};

use super::OpenError;
use super::command::{BrowserCommandOrigin, browser_argv};

/// How a link is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Launcher {
    /// A browser command's program and arguments (the URL in them).
    Command(Vec<String>),
    /// The system's opener.
    System,
}

impl Launcher {
    /// `command` (blank: the system's opener) with `url` filled in. A
    /// command that does not split into words is an error naming `origin`.
    pub fn for_command(
        command: Option<&str>,
        origin: BrowserCommandOrigin,
        url: &str,
    ) -> Result<Self, OpenError> {
        match command.map(str::trim).filter(|c| !c.is_empty()) {
            Some(command) => Ok(Self::Command(browser_argv(command, url, origin)?)),
            None => Ok(Self::System),
        }
    }

    /// The app's choice: `$PORTHOLE_BROWSER` (scripts and tests) wins over
    /// the setting; blank means unset; neither: the system's opener.
    pub fn for_app(env: Option<&str>, setting: &str, url: &str) -> Result<Self, OpenError> {
        match chosen_command(env, setting) {
            Some((command, origin)) => Self::for_command(Some(command), origin, url),
            None => Ok(Self::System),
        }
    }

    /// Starts the browser and returns at once (the app: a browser may run
    /// for long; the child is reaped in the background).
    pub fn spawn(self, url: &str) -> Result<(), OpenError> {
        match self {
            Self::Command(argv) => {
                let mut child = command(&argv)?.spawn().map_err(|e| cannot_run(&argv, &e))?;
                std::thread::spawn(move || child.wait());
                Ok(())
            }
            Self::System => open::that_detached(url).map_err(|e| OpenError::SystemBrowser {
                reason: e.to_string(),
            }),
        }
    }

    /// Runs the browser command to its end and fails when it fails
    /// (`portholectl open`: a launcher returns at once; a recorder in tests
    /// writes and exits). Blocking: call it off the async threads.
    pub fn run_to_end(self, url: &str) -> Result<(), OpenError> {
        match self {
            Self::Command(argv) => {
                let status = command(&argv)?
                    .status()
                    .map_err(|e| cannot_run(&argv, &e))?;
                if status.success() {
                    Ok(())
                } else {
                    Err(OpenError::BrowserFailed {
                        command: argv.join(" "),
                        status: status.to_string(),
                    })
                }
            }
            Self::System => open::that_detached(url).map_err(|e| OpenError::SystemBrowser {
                reason: e.to_string(),
            }),
        }
    }
}

/// `$PORTHOLE_BROWSER` wins over the setting; blank means unset.
fn chosen_command<'a>(
    env: Option<&'a str>,
    setting: &'a str,
) -> Option<(&'a str, BrowserCommandOrigin)> {
    env.map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| (c, BrowserCommandOrigin::Environment))
        .or_else(|| {
            Some(setting.trim())
                .filter(|c| !c.is_empty())
                .map(|c| (c, BrowserCommandOrigin::Setting))
        })
}

fn command(argv: &[String]) -> Result<Command, OpenError> {
    let (program, args) = argv.split_first().ok_or(OpenError::EmptyCommand)?;
    let mut cmd = Command::new(program);
    cmd.args(args).stdin(Stdio::null());
    Ok(cmd)
}

fn cannot_run(argv: &[String], e: &std::io::Error) -> OpenError {
    OpenError::CannotRun {
        program: argv.first().cloned().unwrap_or_default(),
        reason: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_environment_beats_the_setting_and_blank_means_the_system_browser() {
        use BrowserCommandOrigin::{Environment, Setting};
        assert_eq!(
            chosen_command(Some("rec {url}"), "firefox"),
            Some(("rec {url}", Environment))
        );
        assert_eq!(
            chosen_command(Some("  "), "firefox"),
            Some(("firefox", Setting))
        );
        assert_eq!(chosen_command(None, "  "), None);
        assert_eq!(
            Launcher::for_app(None, "", "http://a/"),
            Ok(Launcher::System)
        );
    }

    #[test]
    fn a_quoted_browser_command_keeps_its_words_and_a_broken_one_names_its_source() {
        assert_eq!(
            Launcher::for_app(
                None,
                "'/opt/My Browser/browser' --profile \"a b\"",
                "http://a/"
            ),
            Ok(Launcher::Command(vec![
                "/opt/My Browser/browser".into(),
                "--profile".into(),
                "a b".into(),
                "http://a/".into()
            ]))
        );
        let err = Launcher::for_app(None, "'/opt/My Browser/browser {url}", "http://a/")
            .expect_err("open quote")
            .to_string();
        assert!(err.starts_with("browserCommand: the ' quote"), "{err}");
        let err = Launcher::for_app(Some("rec \"{url}"), "firefox", "http://a/")
            .expect_err("open quote")
            .to_string();
        assert!(err.starts_with("$PORTHOLE_BROWSER: the \" quote"), "{err}");
    }

    #[test]
    fn a_command_that_fails_is_an_error_naming_it_and_one_that_succeeds_is_not() {
        let ok = Launcher::for_command(Some("true"), BrowserCommandOrigin::Flag, "http://a/")
            .expect("splits");
        assert_eq!(ok.run_to_end("http://a/"), Ok(()));
        let failing = Launcher::for_command(Some("false"), BrowserCommandOrigin::Flag, "http://a/")
            .expect("splits");
        let err = failing.run_to_end("http://a/").expect_err("false fails");
        assert!(err.to_string().contains("failed"), "{err}");
        let missing = Launcher::Command(vec!["/nonexistent/porthole-browser".into()]);
        let err = missing.spawn("http://a/").expect_err("no such program");
        assert!(
            err.to_string()
                .starts_with("cannot run the browser command \"/nonexistent/porthole-browser\""),
            "{err}"
        );
    }
}
