//! The command line and the ready file of `porthole-backends`.
//!
//! ```text
//! porthole-backends --serve MODE=ADDR:PORT [--serve MODE=ADDR:PORT ...] [--ready-file PATH]
//! ```

use std::ffi::OsString;
use std::fs;
use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Mode;

pub const USAGE: &str = "\
usage: porthole-backends --serve MODE=ADDR:PORT [--serve MODE=ADDR:PORT ...] [--ready-file PATH]

Binds every listener, then writes PATH (JSON, atomically) listing the bound
addresses, and serves until SIGTERM or SIGINT (exit status 0).

modes: spa, echo, elasticsearch, https, stream, websocket, download,
       tcp-echo (raw TCP: every byte echoed back)
ADDR is an IP address (IPv6 in brackets); PORT 0 picks a free port.
";

/// One `--serve` flag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listen {
    pub mode: Mode,
    pub addr: SocketAddr,
}

/// Parsed arguments of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Args {
    pub listeners: Vec<Listen>,
    pub ready_file: Option<PathBuf>,
}

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Run(Args),
    Help,
}

/// Parses the arguments after the program name.
pub fn parse_args<I: IntoIterator<Item = OsString>>(args: I) -> Result<Command, String> {
    let mut listeners = Vec::new();
    let mut ready_file: Option<PathBuf> = None;
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let text = arg.to_str();
        match text {
            Some("-h" | "--help") => return Ok(Command::Help),
            Some("--serve") => {
                let value = args.next().ok_or("--serve needs a value MODE=ADDR:PORT")?;
                let value = value
                    .into_string()
                    .map_err(|v| format!("invalid --serve value {v:?}"))?;
                listeners.push(parse_listen(&value)?);
            }
            Some(s) if s.starts_with("--serve=") => {
                listeners.push(parse_listen(&s["--serve=".len()..])?);
            }
            Some("--ready-file") => {
                let value = args.next().ok_or("--ready-file needs a path")?;
                set_ready_file(&mut ready_file, PathBuf::from(value))?;
            }
            Some(s) if s.starts_with("--ready-file=") => {
                set_ready_file(&mut ready_file, PathBuf::from(&s["--ready-file=".len()..]))?;
            }
            _ => return Err(format!("unexpected argument {arg:?}")),
        }
    }
    if listeners.is_empty() {
        return Err("at least one --serve MODE=ADDR:PORT is needed".to_owned());
    }
    Ok(Command::Run(Args {
        listeners,
        ready_file,
    }))
}

fn set_ready_file(slot: &mut Option<PathBuf>, path: PathBuf) -> Result<(), String> {
    if path.as_os_str().is_empty() {
        return Err("--ready-file needs a path".to_owned());
    }
    if slot.replace(path).is_some() {
        return Err("--ready-file given more than once".to_owned());
    }
    Ok(())
}

/// Parses `MODE=ADDR:PORT`.
pub fn parse_listen(value: &str) -> Result<Listen, String> {
    let (mode, addr) = value
        .split_once('=')
        .ok_or_else(|| format!("invalid --serve value {value:?}: expected MODE=ADDR:PORT"))?;
    let mode: Mode = mode
        .parse()
        .map_err(|err| format!("invalid --serve value {value:?}: {err}"))?;
    let addr: SocketAddr = addr.parse().map_err(|_| {
        format!("invalid --serve value {value:?}: {addr:?} is not IP:PORT (IPv6 as [::1]:PORT)")
    })?;
    Ok(Listen { mode, addr })
}

/// The ready file: every listener with its real address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ready {
    pub listeners: Vec<ReadyListener>,
    /// The process id of the server (to signal it).
    pub pid: u32,
}

/// One bound listener in the ready file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyListener {
    pub mode: String,
    /// `IP:PORT` as bound (IPv6 in brackets), with the real port.
    pub addr: String,
    /// For `https`: the self-signed certificate, PEM.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cert_pem: Option<String>,
}

/// Writes `ready` to `path` atomically: a temporary file in the same
/// directory, synced, then renamed over `path`.
pub fn write_ready_file(path: &Path, ready: &Ready) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "ready file path has no file name",
        )
    })?;
    let mut tmp_name = OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp.{}", std::process::id()));
    let tmp = path.with_file_name(tmp_name);

    let mut body = serde_json::to_vec(ready).map_err(io::Error::other)?;
    body.push(b'\n');
    let written = (|| {
        let mut file = fs::File::create(&tmp)?;
        file.write_all(&body)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn parses_several_serve_flags_and_a_ready_file() {
        let parsed = parse_args(args(&[
            "--serve",
            "spa=10.0.0.2:8080",
            "--serve=websocket=[::1]:0",
            "--serve",
            "tcp-echo=10.0.0.2:5432",
            "--ready-file",
            "/tmp/ready.json",
        ]))
        .expect("valid arguments");
        let expected = Command::Run(Args {
            listeners: vec![
                Listen {
                    mode: Mode::Spa,
                    addr: "10.0.0.2:8080".parse().expect("literal address"),
                },
                Listen {
                    mode: Mode::Websocket,
                    addr: "[::1]:0".parse().expect("literal address"),
                },
                Listen {
                    mode: Mode::TcpEcho,
                    addr: "10.0.0.2:5432".parse().expect("literal address"),
                },
            ],
            ready_file: Some(PathBuf::from("/tmp/ready.json")),
        });
        assert_eq!(parsed, expected);
    }

    #[test]
    fn rejects_unknown_modes_bad_addresses_and_missing_serve() {
        let unknown = parse_args(args(&["--serve", "ftp=127.0.0.1:0"])).expect_err("unknown mode");
        assert!(unknown.contains("unknown mode \"ftp\""), "{unknown}");
        let bad = parse_args(args(&["--serve", "echo=localhost"])).expect_err("bad address");
        assert!(bad.contains("not IP:PORT"), "{bad}");
        assert!(parse_args(args(&[])).is_err());
        assert!(parse_args(args(&["--serve"])).is_err());
        assert!(parse_args(args(&["--bogus"])).is_err());
        assert_eq!(parse_args(args(&["--help"])), Ok(Command::Help));
    }

    #[test]
    fn ready_file_is_written_atomically_as_json() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("ready.json");
        let ready = Ready {
            listeners: vec![ReadyListener {
                mode: "spa".to_owned(),
                addr: "10.0.0.2:8080".to_owned(),
                cert_pem: None,
            }],
            pid: 42,
        };
        write_ready_file(&path, &ready).expect("write ready file");
        let text = fs::read_to_string(&path).expect("read ready file");
        assert_eq!(
            text,
            "{\"listeners\":[{\"mode\":\"spa\",\"addr\":\"10.0.0.2:8080\"}],\"pid\":42}\n"
        );
        let leftovers: Vec<_> = fs::read_dir(dir.path())
            .expect("list dir")
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(leftovers, vec![OsString::from("ready.json")]);
    }
}
