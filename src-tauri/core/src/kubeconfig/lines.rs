//! Where an entry (or one of its fields) sits in a kubeconfig file, for
//! error messages like `~/.kube/config:14: users["dev"].user.client-key: …`.
//!
//! Best effort: the file is parsed again with a YAML event parser that
//! keeps positions (JSON is parsed as YAML); anything not found is `None`.

use std::fmt;
use std::path::Path;

use granit_parser::{Event, Parser};

/// The three named lists of a kubeconfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntryList {
    Clusters,
    Users,
    Contexts,
}

impl EntryList {
    /// The list's key in the file.
    pub fn key(self) -> &'static str {
        match self {
            Self::Clusters => "clusters",
            Self::Users => "users",
            Self::Contexts => "contexts",
        }
    }

    /// The key of an entry's body (`cluster`, `user`, `context`).
    pub fn body_key(self) -> &'static str {
        match self {
            Self::Clusters => "cluster",
            Self::Users => "user",
            Self::Contexts => "context",
        }
    }
}

impl fmt::Display for EntryList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// `users["dev"].user.client-key`: how messages name an entry or field.
pub fn entry_label(list: EntryList, name: &str, field: Option<&str>) -> String {
    match field {
        Some(field) => format!("{list}[{name:?}].{field}"),
        None => format!("{list}[{name:?}]"),
    }
}

/// The 1-based line of entry `name` of `list` in kubeconfig `text`, or of
/// `field` under it: a dotted path from the entry (`user.client-key`; the
/// body key may be left out: `client-key`). Only the first document counts.
pub fn line_of(text: &str, list: EntryList, name: &str, field: Option<&str>) -> Option<usize> {
    let root = parse_first_document(text)?;
    let entries = root.get(list.key())?;
    let Node::Seq(items) = entries else {
        return None;
    };
    let entry = items.iter().find_map(|item| match item {
        Node::Map(map) => map
            .iter()
            .find(|(key, value)| key.text == "name" && value.scalar() == Some(name))
            .map(|(key, _)| (item, key.line)),
        _ => None,
    });
    let (item, name_line) = entry?;
    let Some(field) = field.filter(|f| !f.is_empty()) else {
        return Some(name_line);
    };
    let segments: Vec<&str> = field.split('.').collect();
    item.find_key(&segments).or_else(|| {
        let body = item.get(list.body_key())?;
        body.find_key(&segments)
    })
}

/// [`line_of`] for a file on disk (read off the async workers).
pub async fn line_in_file(
    path: &Path,
    list: EntryList,
    name: &str,
    field: Option<&str>,
) -> Option<usize> {
    let text = tokio::fs::read_to_string(path).await.ok()?;
    line_of(&text, list, name, field)
}

/// `FILE:LINE: users["dev"].user.client-key` (or `FILE: …` without a line):
/// the start of an error message about that entry.
pub async fn entry_location(
    path: &Path,
    list: EntryList,
    name: &str,
    field: Option<&str>,
) -> String {
    let label = entry_label(list, name, field);
    match line_in_file(path, list, name, field).await {
        Some(line) => format!("{}:{line}: {label}", path.display()),
        None => format!("{}: {label}", path.display()),
    }
}

struct Key {
    text: String,
    line: usize,
}

/// A parsed YAML node; keys keep the line they are on.
enum Node {
    Scalar(String),
    Seq(Vec<Node>),
    Map(Vec<(Key, Node)>),
    /// Aliases, and anything nested too deep to matter.
    Other,
}

impl Node {
    fn scalar(&self) -> Option<&str> {
        match self {
            Node::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(map) => map.iter().find(|(k, _)| k.text == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The line of the key at the end of `path`.
    fn find_key(&self, path: &[&str]) -> Option<usize> {
        let (first, rest) = path.split_first()?;
        let Node::Map(map) = self else {
            return None;
        };
        let (key, value) = map.iter().find(|(k, _)| k.text == *first)?;
        if rest.is_empty() {
            Some(key.line)
        } else {
            value.find_key(rest)
        }
    }
}

/// Deeper than any kubeconfig field; bounds the recursion on hostile input.
const MAX_DEPTH: usize = 32;

fn parse_first_document(text: &str) -> Option<Node> {
    // Raw tabs in JSON can only be whitespace between tokens (inside strings
    // they must be escaped), and YAML refuses them as indentation.
    let owned;
    let text = if text.trim_start().starts_with('{') {
        owned = text.replace('\t', " ");
        owned.as_str()
    } else {
        text
    };
    let mut events = Parser::new_from_str(text)
        .map_while(Result::ok)
        .filter(|(e, _)| {
            !matches!(
                e,
                Event::StreamStart
                    | Event::DocumentStart(..)
                    | Event::Comment(..)
                    | Event::Anchor(..)
            )
        });
    let (event, _) = events.next()?;
    read_node(event, &mut events, 0)
}

/// Builds the node that starts with `event`, consuming its children.
fn read_node<'a>(
    event: Event<'a>,
    events: &mut impl Iterator<Item = (Event<'a>, granit_parser::Span)>,
    depth: usize,
) -> Option<Node> {
    let node = match event {
        Event::Scalar(value, ..) => Node::Scalar(value.into_owned()),
        Event::SequenceStart(..) if depth >= MAX_DEPTH => skip_rest(events, 1),
        Event::MappingStart(..) if depth >= MAX_DEPTH => skip_rest(events, 1),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                let (event, _) = events.next()?;
                if matches!(event, Event::SequenceEnd) {
                    break;
                }
                items.push(read_node(event, events, depth + 1)?);
            }
            Node::Seq(items)
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                let (event, span) = events.next()?;
                if matches!(event, Event::MappingEnd) {
                    break;
                }
                let key_line = span.start.line();
                let key = read_node(event, events, depth + 1)?;
                let (event, _) = events.next()?;
                let value = read_node(event, events, depth + 1)?;
                let text = key.scalar().unwrap_or_default().to_owned();
                entries.push((
                    Key {
                        text,
                        line: key_line,
                    },
                    value,
                ));
            }
            Node::Map(entries)
        }
        Event::SequenceEnd | Event::MappingEnd | Event::StreamEnd | Event::DocumentEnd => {
            return None;
        }
        _ => Node::Other,
    };
    Some(node)
}

/// Consumes events up to the end of the collection already opened.
fn skip_rest<'a>(
    events: &mut impl Iterator<Item = (Event<'a>, granit_parser::Span)>,
    mut open: usize,
) -> Node {
    while open > 0 {
        match events.next() {
            Some((Event::SequenceStart(..) | Event::MappingStart(..), _)) => open += 1,
            Some((Event::SequenceEnd | Event::MappingEnd, _)) => open -= 1,
            Some(_) => {}
            None => break,
        }
    }
    Node::Other
}

#[cfg(test)]
mod tests {
    use super::*;

    const YAML: &str = "\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster:
    server: https://prod
    certificate-authority: ca.crt
users:
- user:
    token: zoo-secret-x
  name: other
- name: dev
  user:
    client-certificate: dev.crt
    client-key: dev.key
contexts:
- {name: dev, context: {cluster: prod, user: dev}}
";

    #[test]
    fn finds_entries_and_fields_in_yaml() {
        assert_eq!(line_of(YAML, EntryList::Clusters, "prod", None), Some(4));
        assert_eq!(
            line_of(
                YAML,
                EntryList::Clusters,
                "prod",
                Some("cluster.certificate-authority")
            ),
            Some(7)
        );
        assert_eq!(line_of(YAML, EntryList::Users, "other", None), Some(11));
        assert_eq!(line_of(YAML, EntryList::Users, "dev", None), Some(12));
        assert_eq!(
            line_of(YAML, EntryList::Users, "dev", Some("user.client-key")),
            Some(15)
        );
        assert_eq!(
            line_of(YAML, EntryList::Users, "dev", Some("client-key")),
            Some(15),
            "the body key may be left out"
        );
        assert_eq!(
            line_of(YAML, EntryList::Contexts, "dev", Some("context.user")),
            Some(17)
        );
    }

    #[test]
    fn finds_entries_and_fields_in_json_even_with_tabs() {
        let json = "{\n\t\"kind\": \"Config\",\n\t\"users\": [\n\t\t{\n\t\t\t\"name\": \"dev\",\n\t\t\t\"user\": {\n\t\t\t\t\"tokenFile\": \"/t\"\n\t\t\t}\n\t\t}\n\t]\n}\n";
        assert_eq!(line_of(json, EntryList::Users, "dev", None), Some(5));
        assert_eq!(
            line_of(json, EntryList::Users, "dev", Some("user.tokenFile")),
            Some(7)
        );
    }

    #[test]
    fn anything_not_found_is_none() {
        assert_eq!(line_of(YAML, EntryList::Users, "nobody", None), None);
        assert_eq!(
            line_of(YAML, EntryList::Users, "dev", Some("user.tokenFile")),
            None
        );
        assert_eq!(line_of("users: [", EntryList::Users, "dev", None), None);
        assert_eq!(line_of("", EntryList::Users, "dev", None), None);
        assert_eq!(line_of("users: 3", EntryList::Users, "dev", None), None);
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let deep = format!(
            "users:\n- name: dev\n  user: {}{}\n",
            "[".repeat(60),
            "]".repeat(60)
        );
        assert_eq!(line_of(&deep, EntryList::Users, "dev", None), Some(2));
    }

    #[test]
    fn labels_name_list_entry_and_field() {
        assert_eq!(
            entry_label(EntryList::Users, "dev", Some("user.client-certificate")),
            "users[\"dev\"].user.client-certificate"
        );
    }

    #[tokio::test]
    async fn location_names_file_line_and_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, YAML).expect("write");
        let text = entry_location(&path, EntryList::Users, "dev", Some("user.client-key")).await;
        assert_eq!(
            text,
            format!("{}:15: users[\"dev\"].user.client-key", path.display())
        );
    }
}
