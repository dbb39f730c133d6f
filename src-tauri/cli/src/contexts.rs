//! `portholectl contexts`: the merged kubeconfig's contexts as a table or JSON.

use std::io::Write;
use std::process::ExitCode;

use crate::output::Output;
use porthole_core::kubeconfig::{ContextList, KubeconfigSources, SourceState, load_contexts};

pub(super) async fn run(sources: &KubeconfigSources, output: Output) -> ExitCode {
    let list = load_contexts(sources).await;
    let text = match output {
        Output::Json => match serde_json::to_string_pretty(&list) {
            Ok(json) => json + "\n",
            Err(e) => {
                eprintln!("error: cannot encode the context list as JSON: {e}");
                return ExitCode::FAILURE;
            }
        },
        Output::Table => table(&list),
    };
    if let Err(e) = std::io::stdout().lock().write_all(text.as_bytes()) {
        // A closed pipe (`| head`) is not worth a message.
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: cannot write output: {e}");
        }
        return ExitCode::FAILURE;
    }
    report_problems(&list)
}

/// Problems go to stderr so that stdout stays machine-readable.
fn report_problems(list: &ContextList) -> ExitCode {
    let mut failed = false;
    for source in list.problems() {
        failed = true;
        match &source.state {
            SourceState::Missing => eprintln!("error: {}: file not found", source.path),
            SourceState::Unreadable { reason } => {
                eprintln!("error: {}: cannot read: {reason}", source.path)
            }
            SourceState::Malformed { reason } => {
                eprintln!("error: {}: not a valid kubeconfig: {reason}", source.path)
            }
            SourceState::Loaded { .. } => {}
        }
    }
    if list.contexts.is_empty() && !failed {
        let looked: Vec<&str> = list.sources.iter().map(|s| s.path.as_str()).collect();
        if looked.is_empty() {
            eprintln!("no kubeconfig: $KUBECONFIG is unset and there is no home directory");
        } else {
            eprintln!("no contexts found in: {}", looked.join(", "));
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// kubectl's `get-contexts` columns, plus the server URL.
fn table(list: &ContextList) -> String {
    let header = [
        "CURRENT",
        "NAME",
        "CLUSTER",
        "AUTHINFO",
        "NAMESPACE",
        "SERVER",
    ];
    let rows: Vec<[String; 6]> = list
        .contexts
        .iter()
        .map(|c| {
            [
                if c.current { "*".into() } else { String::new() },
                c.name.clone(),
                c.cluster.clone(),
                c.user.clone().unwrap_or_default(),
                c.namespace.clone().unwrap_or_default(),
                c.server.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut push_row = |cells: &[&str]| {
        let line: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(line.join("   ").trim_end());
        out.push('\n');
    };
    push_row(&header);
    for row in &rows {
        push_row(&row.each_ref().map(String::as_str));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use porthole_core::kubeconfig::{ContextSummary, SourceOrigin};

    #[test]
    fn table_marks_the_current_context_and_aligns_columns() {
        let ctx = |name: &str, current| ContextSummary {
            name: name.into(),
            cluster: "c".into(),
            server: Some("https://x:6443".into()),
            user: Some("u".into()),
            namespace: None,
            current,
            source: "/f".into(),
            stale: false,
        };
        let list = ContextList {
            origin: SourceOrigin::EnvVar,
            sources: vec![],
            contexts: vec![ctx("a-long-name", false), ctx("b", true)],
            current_context: Some("b".into()),
        };
        let text = table(&list);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("CURRENT   NAME"));
        assert!(lines[2].starts_with("*         b    "), "{text}");
        assert_eq!(lines[1].find("c "), lines[2].find("c "));
    }
}
