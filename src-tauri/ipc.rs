//! The one door from the backend to the webview. Every command answer
//! ([`reply`]), every event ([`emit`]) and every channel message ([`send`])
//! passes through here, so errors are
//! worded the same way everywhere and, when `PORTHOLE_IPC_RECORD=FILE` is
//! set, everything the webview receives is appended to FILE as one JSON line
//! each — the record the end-to-end secret scan searches.

use std::fmt::Display;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use serde::Serialize;
use serde_json::json;
use tauri::ipc::{Channel, IpcResponse};
use tauri::{AppHandle, Emitter};

/// The environment variable naming the record file.
pub const RECORD_ENV: &str = "PORTHOLE_IPC_RECORD";

static RECORDER: OnceLock<Recorder> = OnceLock::new();

/// Appends what crosses IPC to a file, one JSON object per line.
pub struct Recorder {
    file: Mutex<File>,
    path: PathBuf,
}

impl Recorder {
    /// Opens (creating or appending to) `path`.
    pub fn open(path: &Path) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(path)?;
        Ok(Self {
            file: Mutex::new(file),
            path: path.to_owned(),
        })
    }

    /// Writes one line: `{"kind":"command"|"event","name":…,"ok":…,"payload":…}`.
    pub fn record<T: Serialize + ?Sized>(&self, kind: &str, name: &str, ok: bool, payload: &T) {
        let line = match serde_json::to_string(&json!({
            "kind": kind,
            "name": name,
            "ok": ok,
            "payload": payload,
        })) {
            Ok(line) => line + "\n",
            Err(e) => {
                tracing::warn!("IPC record: cannot serialise {kind} {name}: {e}");
                return;
            }
        };
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = file.write_all(line.as_bytes()) {
            tracing::warn!("IPC record: cannot write {}: {e}", self.path.display());
        }
    }
}

/// Starts recording when `PORTHOLE_IPC_RECORD` names a file. Call once at start.
pub fn init_recording() {
    let Some(path) = std::env::var_os(RECORD_ENV).filter(|p| !p.is_empty()) else {
        return;
    };
    let path = PathBuf::from(path);
    match Recorder::open(&path) {
        Ok(recorder) => {
            tracing::info!("recording IPC traffic to {}", path.display());
            let _ = RECORDER.set(recorder);
        }
        Err(e) => tracing::error!(
            "{RECORD_ENV}={}: cannot open it for writing ({e}); IPC is not recorded",
            path.display()
        ),
    }
}

fn record<T: Serialize + ?Sized>(kind: &str, name: &str, ok: bool, payload: &T) {
    if let Some(recorder) = RECORDER.get() {
        recorder.record(kind, name, ok, payload);
    }
}

/// A command's answer on its way to the webview: an error becomes the text
/// the UI shows (logged too), and the answer is recorded when recording.
pub fn reply<T: Serialize, E: Display>(command: &str, result: Result<T, E>) -> Result<T, String> {
    match result {
        Ok(value) => {
            record("command", command, true, &value);
            Ok(value)
        }
        Err(e) => {
            let text = e.to_string();
            tracing::warn!("{command}: {text}");
            record("command", command, false, &text);
            Err(text)
        }
    }
}

/// Sends an event to every webview (recorded when recording).
pub fn emit<T: Serialize + Clone>(app: &AppHandle, event: &str, payload: &T) {
    record("event", event, true, payload);
    if let Err(e) = app.emit(event, payload.clone()) {
        tracing::warn!("cannot send event {event} to the window: {e}");
    }
}

/// Sends a message on a channel the webview passed to a command
/// (recorded when recording). Channels carry large payloads better than
/// events: above a few KiB the page fetches the JSON instead of having it
/// evaluated as script. False when the webview no longer listens.
pub fn send<T: Serialize + IpcResponse>(channel: &Channel<T>, name: &str, payload: T) -> bool {
    record("channel", name, true, &payload);
    match channel.send(payload) {
        Ok(()) => true,
        Err(e) => {
            tracing::debug!("channel {name} closed: {e}");
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_one_json_line_per_message() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("ipc.jsonl");
        let recorder = Recorder::open(&path).expect("open record");
        recorder.record("command", "list_contexts", true, &json!({"contexts": []}));
        recorder.record("event", "context-status", true, &json!({"context": "a"}));
        let text = std::fs::read_to_string(&path).expect("read record");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("each line is JSON"))
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["kind"], "command");
        assert_eq!(lines[0]["name"], "list_contexts");
        assert_eq!(lines[1]["kind"], "event");
        assert_eq!(lines[1]["payload"]["context"], "a");
    }

    #[test]
    fn reply_maps_errors_to_their_text() {
        let answer: Result<u8, String> = reply("x", Err::<u8, _>("no context named \"a\""));
        assert_eq!(answer, Err("no context named \"a\"".to_owned()));
        assert_eq!(reply("x", Ok::<_, String>(3u8)), Ok(3));
    }
}
