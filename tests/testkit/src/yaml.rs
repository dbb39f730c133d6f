//! A small YAML writer for JSON values, so generated kubeconfigs look like
//! the ones kubectl writes. Strings that could be misread are emitted as
//! JSON strings, which YAML reads the same way.

use serde_json::Value;

/// `value` as block YAML (objects and arrays), ending with a newline.
pub fn to_string(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(map) if !map.is_empty() => write_map(&mut out, map, 0),
        Value::Array(items) if !items.is_empty() => write_seq(&mut out, items, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn write_map(out: &mut String, map: &serde_json::Map<String, Value>, indent: usize) {
    for (i, (k, v)) in map.iter().enumerate() {
        // The first key of a map that is a sequence item follows "- " directly.
        if i > 0 || !out.ends_with("- ") {
            out.push_str(&" ".repeat(indent));
        }
        out.push_str(&string(k));
        out.push(':');
        write_value_after_key(out, v, indent);
    }
}

fn write_value_after_key(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent + 2);
        }
        // kubectl style: a sequence under a key starts at the key's column.
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            write_seq(out, items, indent);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, items: &[Value], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, indent + 2),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => string(s),
        Value::Object(m) if m.is_empty() => "{}".to_owned(),
        Value::Array(a) if a.is_empty() => "[]".to_owned(),
        // Non-empty nested arrays in arrays: JSON flow style is valid YAML.
        other => other.to_string(),
    }
}

/// A plain scalar when it cannot be misread, else a JSON (double-quoted) string.
fn string(s: &str) -> String {
    let safe_chars = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./:+=@".contains(c));
    let first_ok = s
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '.');
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
    );
    let numeric = s.parse::<f64>().is_ok() || s.starts_with("0x") || s.starts_with("0o");
    if safe_chars && first_ok && !reserved && !numeric && !s.ends_with(':') {
        s.to_owned()
    } else {
        Value::String(s.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_kubectl_style() {
        let v = json!({
            "apiVersion": "v1",
            "clusters": [{"cluster": {"server": "https://127.0.0.1:6443"}, "name": "c"}],
            "args": ["exec-credential", "300", "true"],
            "empty": {},
            "note": "a: b",
        });
        let y = to_string(&v);
        assert_eq!(
            y,
            "apiVersion: v1\n\
             args:\n- exec-credential\n- \"300\"\n- \"true\"\n\
             clusters:\n\
             - cluster:\n    server: https://127.0.0.1:6443\n  name: c\n\
             empty: {}\n\
             note: \"a: b\"\n"
        );
    }
}
