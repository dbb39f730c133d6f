//! The one door from the backend to the webview. Every command answer
//! ([`answer!`]), every event ([`emit`]) and every channel message ([`send`])
//! passes through here, so errors are
//! worded the same way everywhere and, when `PORTHOLE_IPC_RECORD=FILE` is
//! set, everything the webview receives is appended to FILE as one JSON line
//! each — the record the end-to-end secret scan searches.
//!
//! A command returns [`Answer<T>`] and wraps its body in `answer!`, so `?`
//! works on any error (its text is what the UI shows) and the answer is
//! recorded under the command's own function name — the name Tauri routes
//! by, written nowhere else.

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

/// What a command answers: its value, or the error the UI shows.
pub type Answer<T> = Result<T, IpcError>;

/// A command's error as the webview receives it: the error's text, which
/// says what to do (core's errors are worded for users). Made from any
/// error or message with `?`; serialised as a plain string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpcError(String);

impl IpcError {
    pub fn message(&self) -> &str {
        &self.0
    }
}

// IpcError itself is not Display, so this does not overlap `From<T> for T`.
impl<E: Display> From<E> for IpcError {
    fn from(e: E) -> Self {
        Self(e.to_string())
    }
}

impl Serialize for IpcError {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

/// The function a macro was expanded in, from the type name of an item
/// declared there (`app::commands::reload::{{closure}}::here` → `reload`).
pub fn enclosing_fn(type_name: &'static str) -> &'static str {
    let mut path = type_name.strip_suffix("::here").unwrap_or(type_name);
    while let Some(outer) = path.strip_suffix("::{{closure}}") {
        path = outer;
    }
    path.rsplit("::").next().unwrap_or(path)
}

/// The name of the function this is expanded in: a command's IPC name.
macro_rules! command_name {
    () => {{
        fn here() {}
        $crate::ipc::enclosing_fn(::std::any::type_name_of_val(&here))
    }};
}
pub(crate) use command_name;

/// A command's body, answered and recorded under the command's name:
/// `answer!({ … Ok(value) })` in a sync command, `answer!(async { … })` in
/// an async one. `?` inside turns any error into an [`IpcError`].
macro_rules! answer {
    (async $body:block) => {
        $crate::ipc::reply(
            $crate::ipc::command_name!(),
            $crate::ipc::typed(async $body).await,
        )
    };
    ($body:block) => {{
        // A closure, so `return` and `?` leave the body, not the command.
        #[allow(clippy::redundant_closure_call)]
        let result = (|| $body)();
        $crate::ipc::reply($crate::ipc::command_name!(), result)
    }};
}
pub(crate) use answer;

/// Gives an async block its output type, so `?` inside it knows the error.
pub fn typed<T, F: std::future::Future<Output = Answer<T>>>(future: F) -> F {
    future
}

/// A command's answer on its way to the webview: an error is logged, and
/// the answer is recorded when recording.
pub fn reply<T: Serialize>(command: &str, result: Answer<T>) -> Answer<T> {
    match &result {
        Ok(value) => record("command", command, true, value),
        Err(e) => {
            tracing::warn!("{command}: {}", e.message());
            record("command", command, false, e.message());
        }
    }
    result
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
        let answer: Answer<u8> = reply("x", Err(IpcError::from("no context named \"a\"")));
        assert_eq!(
            answer.map_err(|e| e.message().to_owned()),
            Err("no context named \"a\"".to_owned())
        );
        assert_eq!(reply("x", Ok(3u8)), Ok(3));
        let json = serde_json::to_string(&IpcError::from("bad")).expect("serialises");
        assert_eq!(json, "\"bad\"", "the webview gets the text, as before");
    }

    fn sync_command() -> &'static str {
        command_name!()
    }

    async fn async_command() -> &'static str {
        async { command_name!() }.await
    }

    #[test]
    fn a_command_is_recorded_under_its_own_function_name() {
        assert_eq!(sync_command(), "sync_command");
        let name = tauri::async_runtime::block_on(async_command());
        assert_eq!(name, "async_command");
    }

    fn answers_with_question_marks(n: &str) -> Answer<u16> {
        answer!({
            let n: u16 = n.parse()?;
            if n == 0 {
                return Err("zero is not a port".into());
            }
            Ok(n)
        })
    }

    #[test]
    fn question_marks_turn_any_error_into_its_text() {
        assert_eq!(answers_with_question_marks("8001"), Ok(8001));
        let err = answers_with_question_marks("x").expect_err("not a number");
        assert_eq!(err.message(), "invalid digit found in string");
        let err = answers_with_question_marks("0").expect_err("zero");
        assert_eq!(err.message(), "zero is not a port");
    }
}
