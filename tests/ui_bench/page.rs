//! What the benchmark measures inside the webview: the page's own clock
//! (`performance.now()`), so WebDriver's round trips are not counted.
//! "Painted" is the first task after the next animation frame, i.e. after
//! the frame that shows the change.

use std::time::Duration;

use serde::Deserialize;

use crate::driver::Session;

/// From a click on a context in the sidebar to its services on screen.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectTimes {
    /// Click → the first row of the new context painted.
    pub first_rows_ms: f64,
    /// Click → the table holds every service (its row count), painted.
    pub full_list_ms: f64,
    pub rows: u64,
    /// Click → the list's event reached the page's handler.
    pub received_ms: Option<f64>,
    /// Click → the rows asked for after it were applied.
    pub applied_ms: Option<f64>,
    /// The backend's figure: watch started → complete list in core.
    pub core_ms: Option<f64>,
}

/// Clicks the sidebar's `context` (the Services tab showing) and waits
/// until the table holds `want` services.
pub fn select_and_time(session: &Session, context: &str, want: usize) -> SelectTimes {
    let name = serde_json::to_string(context).expect("a JSON string");
    let script = format!(
        r#"
const done = arguments[arguments.length - 1];
const option = [...document.querySelectorAll('[data-testid=context-list] [role=option]')]
  .find((o) => o.dataset.name === {name});
if (!option) {{ done({{ error: 'no context ' + {name} + ' in the sidebar' }}); return; }}
const painted = (f) => requestAnimationFrame(() => setTimeout(f, 0));
const rowCount = () => {{
  const t = document.querySelector('[data-testid=service-table]');
  return t ? Number(t.getAttribute('aria-rowcount')) - 1 : 0;
}};
// Rows of the context shown before are not the new context's first rows.
const before = new Set(document.querySelectorAll('[data-testid=service-row]'));
const out = {{ firstRowsMs: null, fullListMs: null, rows: 0, receivedMs: null, appliedMs: null, coreMs: null }};
performance.clearMarks('porthole:reset-received');
let sawFirst = false;
let sawFull = false;
const t0 = performance.now();
const check = () => {{
  if (!sawFirst && [...document.querySelectorAll('[data-testid=service-row]')].some((r) => !before.has(r))) {{
    sawFirst = true;
    painted(() => {{ out.firstRowsMs = performance.now() - t0; finish(); }});
  }}
  if (!sawFull && rowCount() >= {want}) {{
    sawFull = true;
    painted(() => {{ out.fullListMs = performance.now() - t0; out.rows = rowCount(); finish(); }});
  }}
}};
const observer = new MutationObserver(check);
const finish = () => {{
  if (out.firstRowsMs !== null && out.fullListMs !== null) {{
    observer.disconnect();
    const marks = performance.getEntriesByName('porthole:reset-received');
    if (marks.length) out.receivedMs = marks[marks.length - 1].startTime - t0;
    // The rows applied after the complete list's notice.
    const applied = performance.getEntriesByName('porthole:rows:')
      .filter((m) => marks.length && m.startTime >= marks[marks.length - 1].startTime);
    if (applied.length) out.appliedMs = applied[0].startTime - t0;
    const count = document.querySelector('[data-testid=service-count]');
    const took = count ? parseFloat(count.getAttribute('title') || '') : NaN;
    if (!Number.isNaN(took)) out.coreMs = took;
    done(out);
  }}
}};
observer.observe(document.body, {{ subtree: true, childList: true, attributes: true, attributeFilter: ['aria-rowcount'] }});
option.click();
check();
"#
    );
    let value = session.execute_async(&script, Duration::from_secs(180));
    if let Some(error) = value.get("error") {
        panic!("selecting {context}: {error}");
    }
    serde_json::from_value(value.clone()).unwrap_or_else(|e| panic!("select times ({e}): {value}"))
}

/// Clicks the sidebar's `context` (to leave the measured one between rounds).
pub fn select(session: &Session, context: &str) {
    let name = serde_json::to_string(context).expect("a JSON string");
    session.execute(&format!(
        "[...document.querySelectorAll('[data-testid=context-list] [role=option]')].find((o) => o.dataset.name === {name}).click(); return '';"
    ));
}

/// The table's service count (its `aria-rowcount` minus the header).
pub fn row_count(session: &Session) -> i64 {
    session
        .execute(
            "const t = document.querySelector('[data-testid=service-table]'); \
             return String(t ? Number(t.getAttribute('aria-rowcount')) - 1 : -1);",
        )
        .parse()
        .unwrap_or(-1)
}

/// Starts recording, for every key pressed in the filter, the time from
/// the key event to the next painted frame.
pub fn record_keystrokes(session: &Session) {
    session.execute(
        r#"
const input = document.querySelector('[data-testid=service-filter]');
window.__portholeKeys = [];
input.addEventListener('keydown', (e) => {
  // Event.timeStamp shares performance.now()'s clock in WebKit; the event
  // may be queued a little before it runs, and that counts too.
  const t0 = e.timeStamp > 0 && e.timeStamp <= performance.now() ? e.timeStamp : performance.now();
  // Done when the rows for the new filter text are in (the app marks
  // `porthole:rows:<filter>`) and the next frame has been painted.
  const waitForRows = () => {
    const wanted = 'porthole:rows:' + input.value;
    const arrived = performance.getEntriesByName(wanted).some((m) => m.startTime >= t0);
    // Polled by timer, not by frame: a frame would add its own wait.
    if (!arrived && performance.now() - t0 < 5000) { setTimeout(waitForRows, 1); return; }
    requestAnimationFrame(() => setTimeout(() => {
      const t = document.querySelector('[data-testid=service-table]');
      const asked = performance.getEntriesByName('porthole:rows-asked:' + input.value).find((m) => m.startTime >= t0);
      const got = performance.getEntriesByName(wanted).find((m) => m.startTime >= t0);
      window.__portholeKeys.push({ key: e.key, ms: performance.now() - t0, arrived,
        askedMs: asked ? asked.startTime - t0 : null, gotMs: got ? got.startTime - t0 : null,
        rows: t ? Number(t.getAttribute('aria-rowcount')) - 1 : 0 });
    }, 0));
  };
  // After this key's input event (which follows keydown).
  setTimeout(waitForRows, 0);
});
input.focus();
return '';
"#,
    );
}

/// One recorded keystroke.
#[derive(Debug, Clone, Deserialize)]
pub struct Keystroke {
    pub key: String,
    pub ms: f64,
    pub rows: i64,
    /// The rows for the typed text came (else `ms` is the 5 s give-up).
    pub arrived: bool,
    /// Key → the app asked the backend for rows, and → they came.
    #[serde(rename = "askedMs")]
    pub asked_ms: Option<f64>,
    #[serde(rename = "gotMs")]
    pub got_ms: Option<f64>,
}

pub fn keystrokes(session: &Session) -> Vec<Keystroke> {
    let json = session.execute("return JSON.stringify(window.__portholeKeys || []);");
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("keystrokes ({e}): {json}"))
}
