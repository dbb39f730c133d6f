//! `--www DIR --www-prefix /static/`: static files next to the API, as
//! kubectl proxy serves them (GET and HEAD; a directory gives its
//! index.html).

use std::path::{Component, Path, PathBuf};

use http::{HeaderValue, Method, Response, StatusCode, header};

use super::respond::{self, ProxyBody};

#[derive(Debug, Clone)]
pub struct Www {
    pub dir: PathBuf,
    /// Always starts and ends with `/`.
    pub prefix: String,
}

impl Www {
    pub fn new(dir: PathBuf, prefix: &str) -> Self {
        let mut prefix = prefix.to_owned();
        if !prefix.starts_with('/') {
            prefix.insert(0, '/');
        }
        if !prefix.ends_with('/') {
            prefix.push('/');
        }
        Self { dir, prefix }
    }

    /// The answer for `path`, or `None` when it is not under the prefix.
    pub async fn serve(&self, method: &Method, path: &str) -> Option<Response<ProxyBody>> {
        let rest = path.strip_prefix(&self.prefix)?;
        if *method != Method::GET && *method != Method::HEAD {
            return Some(plain(
                StatusCode::METHOD_NOT_ALLOWED,
                "405 method not allowed",
            ));
        }
        let relative = Path::new(rest);
        if relative
            .components()
            .any(|c| !matches!(c, Component::Normal(_)))
        {
            return Some(plain(StatusCode::NOT_FOUND, "404 page not found"));
        }
        let mut file = self.dir.join(relative);
        if tokio::fs::metadata(&file).await.is_ok_and(|m| m.is_dir()) {
            file = file.join("index.html");
        }
        match tokio::fs::read(&file).await {
            Ok(bytes) => {
                let mut response = Response::new(if *method == Method::HEAD {
                    respond::body(Vec::new())
                } else {
                    respond::body(bytes)
                });
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static(content_type(&file)),
                );
                Some(response)
            }
            Err(_) => Some(plain(StatusCode::NOT_FOUND, "404 page not found")),
        }
    }
}

fn plain(status: StatusCode, text: &'static str) -> Response<ProxyBody> {
    let mut response = Response::new(respond::body(text));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn content_type(path: &Path) -> &'static str {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
    {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}
