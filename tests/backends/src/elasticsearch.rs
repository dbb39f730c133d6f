//! `elasticsearch`: enough of Elasticsearch for the Kubernetes handbook's
//! "access services" walkthrough: `GET /_cluster/health` with the handbook's
//! fields in the handbook's order, `GET /_search?q=...` echoing the query,
//! and the banner at `/`. `?pretty` prints like Elasticsearch (Jackson's
//! pretty printer): two-space indent and `" : "` between key and value.

use std::io;

use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode, Uri};
use serde::Serialize;
use serde_json::ser::Formatter;

use crate::http::{self, Body};

const CONTENT_TYPE: &str = "application/json; charset=UTF-8";

#[derive(Serialize)]
struct ClusterHealth {
    cluster_name: &'static str,
    status: &'static str,
    timed_out: bool,
    number_of_nodes: u32,
    number_of_data_nodes: u32,
    active_primary_shards: u32,
    active_shards: u32,
    relocating_shards: u32,
    initializing_shards: u32,
    unassigned_shards: u32,
}

const HEALTH: ClusterHealth = ClusterHealth {
    cluster_name: "kubernetes_logging",
    status: "yellow",
    timed_out: false,
    number_of_nodes: 1,
    number_of_data_nodes: 1,
    active_primary_shards: 5,
    active_shards: 5,
    relocating_shards: 0,
    initializing_shards: 0,
    unassigned_shards: 5,
};

#[derive(Serialize)]
struct SearchResult {
    took: u32,
    timed_out: bool,
    hits: Hits,
    query: String,
}

#[derive(Serialize)]
struct Hits {
    total: u32,
    hits: [(); 0],
}

#[derive(Serialize)]
struct Banner {
    name: &'static str,
    cluster_name: &'static str,
    cluster_uuid: &'static str,
    version: Version,
    tagline: &'static str,
}

#[derive(Serialize)]
struct Version {
    number: &'static str,
    build_flavor: &'static str,
    build_type: &'static str,
    lucene_version: &'static str,
    minimum_wire_compatibility_version: &'static str,
    minimum_index_compatibility_version: &'static str,
}

const BANNER: Banner = Banner {
    name: "porthole-elasticsearch-0",
    cluster_name: "kubernetes_logging",
    cluster_uuid: "cG9ydGhvbGUtdGVzdC1lcw",
    version: Version {
        number: "7.10.2",
        build_flavor: "oss",
        build_type: "docker",
        lucene_version: "8.7.0",
        minimum_wire_compatibility_version: "6.8.0",
        minimum_index_compatibility_version: "6.0.0-beta1",
    },
    tagline: "You Know, for Search",
};

#[derive(Serialize)]
struct ErrorBody {
    error: ErrorDetail,
    status: u16,
}

#[derive(Serialize)]
struct ErrorDetail {
    #[serde(rename = "type")]
    kind: &'static str,
    reason: String,
}

pub fn handle(req: Request<Incoming>) -> Response<Body> {
    let uri = req.uri();
    let path = uri.path();
    let method = req.method();
    match path {
        "/" if http::is_get(method) => render(uri, StatusCode::OK, &BANNER),
        "/_cluster/health" if http::is_get(method) => render(uri, StatusCode::OK, &HEALTH),
        _ if is_search(path) && (http::is_get(method) || method == Method::POST) => {
            let query = http::query_value(uri, "q").unwrap_or_default();
            let result = SearchResult {
                took: 1,
                timed_out: false,
                hits: Hits { total: 0, hits: [] },
                query,
            };
            render(uri, StatusCode::OK, &result)
        }
        "/" | "/_cluster/health" => render(
            uri,
            StatusCode::METHOD_NOT_ALLOWED,
            &error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Incorrect HTTP method for uri [{path}] and method [{method}]"),
            ),
        ),
        _ => render(
            uri,
            StatusCode::NOT_FOUND,
            &error(
                StatusCode::NOT_FOUND,
                format!("no handler found for uri [{path}] and method [{method}]"),
            ),
        ),
    }
}

/// `/_search` and `/{index}/_search`.
fn is_search(path: &str) -> bool {
    path == "/_search" || path.ends_with("/_search")
}

fn error(status: StatusCode, reason: String) -> ErrorBody {
    ErrorBody {
        error: ErrorDetail {
            kind: "illegal_argument_exception",
            reason,
        },
        status: status.as_u16(),
    }
}

/// `?pretty`, `?pretty=` and `?pretty=true` ask for pretty output.
fn wants_pretty(uri: &Uri) -> bool {
    http::query_pairs(uri)
        .iter()
        .any(|(k, v)| k == "pretty" && (v.is_empty() || v == "true"))
}

fn render<T: Serialize>(uri: &Uri, status: StatusCode, value: &T) -> Response<Body> {
    let encoded = if wants_pretty(uri) {
        to_pretty(value)
    } else {
        serde_json::to_vec(value)
    };
    match encoded {
        Ok(body) => http::response(status, CONTENT_TYPE, http::full(body)),
        Err(err) => http::text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot encode JSON: {err}\n"),
        ),
    }
}

/// Elasticsearch's pretty JSON, with the trailing newline it prints.
pub fn to_pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, EsPretty::default());
    value.serialize(&mut serializer)?;
    out.push(b'\n');
    Ok(out)
}

/// Jackson's `DefaultPrettyPrinter`, which Elasticsearch uses: objects put
/// each entry on its own line indented by two spaces per object level, with
/// `" : "` after the key; arrays stay on one line (`[ 1, 2 ]`, `[ ]`); an
/// empty object is `{ }`.
#[derive(Default)]
struct EsPretty {
    /// Nesting depth of objects (arrays do not indent).
    object_depth: usize,
    /// For each open object or array: has it had a value yet?
    has_value: Vec<bool>,
}

impl EsPretty {
    fn indent<W: ?Sized + io::Write>(&self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b"\n")?;
        for _ in 0..self.object_depth {
            writer.write_all(b"  ")?;
        }
        Ok(())
    }

    fn mark_value(&mut self) {
        if let Some(last) = self.has_value.last_mut() {
            *last = true;
        }
    }
}

impl Formatter for EsPretty {
    fn begin_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.object_depth += 1;
        self.has_value.push(false);
        writer.write_all(b"{")
    }

    fn end_object<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.object_depth = self.object_depth.saturating_sub(1);
        if self.has_value.pop().unwrap_or(false) {
            self.indent(writer)?;
            writer.write_all(b"}")
        } else {
            writer.write_all(b" }")
        }
    }

    fn begin_object_key<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        if !first {
            writer.write_all(b",")?;
        }
        self.indent(writer)
    }

    fn begin_object_value<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        writer.write_all(b" : ")
    }

    fn end_object_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.mark_value();
        Ok(())
    }

    fn begin_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.has_value.push(false);
        writer.write_all(b"[")
    }

    fn end_array<W: ?Sized + io::Write>(&mut self, writer: &mut W) -> io::Result<()> {
        self.has_value.pop();
        writer.write_all(b" ]")
    }

    fn begin_array_value<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        first: bool,
    ) -> io::Result<()> {
        writer.write_all(if first { b" " } else { b", " })
    }

    fn end_array_value<W: ?Sized + io::Write>(&mut self, _writer: &mut W) -> io::Result<()> {
        self.mark_value();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pretty_health_matches_the_kubernetes_handbook() {
        let pretty = to_pretty(&HEALTH).expect("health encodes");
        let expected = r#"{
  "cluster_name" : "kubernetes_logging",
  "status" : "yellow",
  "timed_out" : false,
  "number_of_nodes" : 1,
  "number_of_data_nodes" : 1,
  "active_primary_shards" : 5,
  "active_shards" : 5,
  "relocating_shards" : 0,
  "initializing_shards" : 0,
  "unassigned_shards" : 5
}
"#;
        assert_eq!(String::from_utf8_lossy(&pretty), expected);
    }

    #[test]
    fn pretty_prints_nested_objects_and_arrays_like_jackson() {
        let value = serde_json::json!({"a": {"b": [1, 2], "c": []}, "d": {}, "e": [{"f": 1}]});
        let pretty = to_pretty(&value).expect("value encodes");
        let expected = "{\n  \"a\" : {\n    \"b\" : [ 1, 2 ],\n    \"c\" : [ ]\n  },\n  \"d\" : { },\n  \"e\" : [ {\n    \"f\" : 1\n  } ]\n}\n";
        assert_eq!(String::from_utf8_lossy(&pretty), expected);
    }
}
