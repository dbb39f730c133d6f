//! porthole-core: everything in Porthole that is not GUI.
//!
//! The desktop shell (`src-tauri/`) and the headless `portholectl`
//! (`src-tauri/cli/`) are thin adapters over this crate, which is a library
//! only. It must never depend on tauri, GTK or WebKit.

pub mod auth;
mod child;
pub mod cluster;
pub mod discovery;
pub mod dns_label;
pub mod forward;
pub mod kubeconfig;
pub mod open;
pub mod port_kind;
pub mod proxy;
pub mod redact;
pub mod settings;
pub mod shell_path;
pub mod urls;
pub mod workspace;
