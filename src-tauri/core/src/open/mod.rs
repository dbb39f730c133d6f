//! Opening a Porthole URL in a browser.

pub mod command;

pub use command::{
    BROWSER_ENV, BrowserCommandError, BrowserCommandOrigin, browser_argv, split_command,
};
