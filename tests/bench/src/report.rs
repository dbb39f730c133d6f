//! A table: one row per figure, the three ways (direct, kubectl's,
//! Porthole's), the ratios porthole/kubectl and porthole/direct, and the
//! issue's goals (reported, never asserted).

use std::fmt::Write as _;

/// A goal of issue #5 for one row.
#[derive(Debug, Clone, Copy)]
pub enum Goal {
    /// porthole ≥ k × kubectl (throughput).
    MinTimesKubectl(f64),
    /// porthole ≤ k × kubectl (latency, memory).
    MaxTimesKubectl(f64),
    /// porthole ≥ share × direct.
    MinShareOfDirect(f64),
}

impl Goal {
    fn text(self) -> String {
        match self {
            Goal::MinTimesKubectl(k) => format!("≥ {k}× kubectl"),
            Goal::MaxTimesKubectl(k) => format!("≤ {k}× kubectl"),
            Goal::MinShareOfDirect(s) => format!("≥ {:.0} % of direct", s * 100.0),
        }
    }

    fn met(self, row: &Row) -> Option<bool> {
        let porthole = row.porthole?;
        Some(match self {
            Goal::MinTimesKubectl(k) => porthole >= k * row.kubectl?,
            Goal::MaxTimesKubectl(k) => porthole <= k * row.kubectl?,
            Goal::MinShareOfDirect(s) => porthole >= s * row.direct?,
        })
    }
}

#[derive(Debug, Clone)]
pub struct Row {
    pub label: String,
    pub direct: Option<f64>,
    pub kubectl: Option<f64>,
    pub porthole: Option<f64>,
    /// Shown in the kubectl column when it has no figure ("dies").
    pub kubectl_note: Option<String>,
    pub goal: Option<Goal>,
}

/// The names of a table's three ways.
#[derive(Debug, Clone, Copy)]
pub struct Columns {
    pub direct: &'static str,
    pub kubectl: &'static str,
    pub porthole: &'static str,
}

pub const PROXY_COLUMNS: Columns = Columns {
    direct: "direct",
    kubectl: "kubectl proxy",
    porthole: "portholectl proxy",
};

pub const FORWARD_COLUMNS: Columns = Columns {
    direct: "direct (pod address)",
    kubectl: "kubectl port-forward",
    porthole: "portholectl forward",
};

impl Row {
    pub fn new(label: impl Into<String>, values: [Option<f64>; 3]) -> Row {
        let [direct, kubectl, porthole] = values;
        Row {
            label: label.into(),
            direct,
            kubectl,
            porthole,
            kubectl_note: None,
            goal: None,
        }
    }

    /// What the kubectl column says instead of a figure.
    pub fn kubectl_note(mut self, note: impl Into<String>) -> Row {
        self.kubectl_note = Some(note.into());
        self
    }

    pub fn goal(mut self, goal: Goal) -> Row {
        self.goal = Some(goal);
        self
    }
}

fn number(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.abs() >= 100.0 => format!("{v:.0}"),
        Some(v) if v.abs() >= 10.0 => format!("{v:.1}"),
        Some(v) => format!("{v:.2}"),
    }
}

fn ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}×", a / b),
        _ => "—".into(),
    }
}

/// The table as text (a Markdown table, readable as is in a terminal);
/// the goal column only when a row has a goal.
pub fn render(columns: Columns, rows: &[Row]) -> String {
    let shown = if rows.iter().any(|r| r.goal.is_some()) {
        7
    } else {
        6
    };
    let header = [
        "",
        columns.direct,
        columns.kubectl,
        columns.porthole,
        "porthole/kubectl",
        "porthole/direct",
        "goal",
    ];
    let mut cells: Vec<[String; 7]> = vec![header.map(str::to_owned)];
    for row in rows {
        let goal = match row.goal {
            None => String::new(),
            Some(g) => match g.met(row) {
                Some(true) => format!("{}: met", g.text()),
                Some(false) => format!("{}: NOT met", g.text()),
                None => format!("{}: not measured", g.text()),
            },
        };
        cells.push([
            row.label.clone(),
            number(row.direct),
            match (&row.kubectl, &row.kubectl_note) {
                (None, Some(note)) => note.clone(),
                (v, _) => number(*v),
            },
            number(row.porthole),
            ratio(row.porthole, row.kubectl),
            ratio(row.porthole, row.direct),
            goal,
        ]);
    }
    let mut widths = [0usize; 7];
    for line in &cells {
        for (w, c) in widths.iter_mut().zip(line) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for (n, line) in cells.iter().enumerate() {
        out.push('|');
        for (i, (w, c)) in widths.iter().zip(line).enumerate().take(shown) {
            let pad = w - c.chars().count();
            if i == 0 || i == 6 {
                let _ = write!(out, " {c}{} |", " ".repeat(pad));
            } else {
                let _ = write!(out, " {}{c} |", " ".repeat(pad));
            }
        }
        out.push('\n');
        if n == 0 {
            out.push('|');
            for (i, w) in widths.iter().enumerate().take(shown) {
                let dashes = "-".repeat(*w);
                if i == 0 || i == 6 {
                    let _ = write!(out, " {dashes} |");
                } else {
                    let _ = write!(out, "{dashes}: |");
                }
            }
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goals_are_judged_against_the_right_column() {
        let row = Row::new("req/s", [Some(1000.0), Some(100.0), Some(160.0)])
            .goal(Goal::MinTimesKubectl(1.5));
        assert_eq!(row.goal.and_then(|g| g.met(&row)), Some(true));
        let row = Row::new("MiB/s", [Some(100.0), Some(50.0), Some(80.0)])
            .goal(Goal::MinShareOfDirect(0.9));
        assert_eq!(row.goal.and_then(|g| g.met(&row)), Some(false));
        let table = render(PROXY_COLUMNS, &[row]);
        assert!(table.contains("NOT met"), "{table}");
        assert!(table.contains("0.80×"), "{table}");
    }

    #[test]
    fn a_note_stands_in_the_kubectl_column_without_a_ratio() {
        let row = Row::new("heal ms", [None, None, Some(120.0)]).kubectl_note("dies");
        let table = render(FORWARD_COLUMNS, &[row]);
        let line = table.lines().nth(2).unwrap_or_default();
        assert!(line.contains(" dies |"), "{table}");
        assert!(line.contains(" 120 |"), "{table}");
        assert!(table.contains("portholectl forward"), "{table}");
        assert!(!table.contains("goal"), "no goals, no goal column: {table}");
    }
}
