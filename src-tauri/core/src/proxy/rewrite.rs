//! Maps the links the apiserver rewrote back to the service's root, in
//! HTML as it streams: the apiserver's service proxy turns `href="/x"` into
//! `href="/api/v1/namespaces/NS/services/NAME:PORT/proxy/x"`; on a service
//! host that prefix means nothing to the user, so `PREFIX/` becomes `/`
//! again and the address bar shows the service's own paths. (Requests for
//! prefixed paths still work — the handler strips the prefix — this only
//! keeps URLs clean.) Bodies are rewritten chunk by chunk, holding back at
//! most the prefix's length, never the whole page.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use http_body::{Body, Frame, SizeHint};

/// A body with every `needle` replaced by `replacement`.
pub struct Replace<B> {
    inner: B,
    needle: Vec<u8>,
    replacement: Vec<u8>,
    /// Bytes that might be the start of a needle split across chunks.
    carry: BytesMut,
    done: bool,
}

impl<B> Replace<B> {
    pub fn new(inner: B, needle: impl Into<Vec<u8>>, replacement: impl Into<Vec<u8>>) -> Self {
        Self {
            inner,
            needle: needle.into(),
            replacement: replacement.into(),
            carry: BytesMut::new(),
            done: false,
        }
    }

    /// Rewrites `carry + chunk`; keeps the tail that could begin a needle.
    fn process(&mut self, chunk: &[u8], last: bool) -> Bytes {
        self.carry.extend_from_slice(chunk);
        let data = std::mem::take(&mut self.carry);
        let mut out = BytesMut::with_capacity(data.len());
        let n = self.needle.len();
        let mut i = 0;
        while i < data.len() {
            if n > 0 && data.len() - i >= n && data[i..i + n] == self.needle[..] {
                out.extend_from_slice(&self.replacement);
                i += n;
                continue;
            }
            // Fewer than n bytes left that match the needle's start: keep
            // them for the next chunk.
            if !last && n > 0 && data.len() - i < n && self.needle.starts_with(&data[i..]) {
                self.carry.extend_from_slice(&data[i..]);
                break;
            }
            out.extend_from_slice(&data[i..=i]);
            i += 1;
        }
        out.freeze()
    }
}

impl<B> Body for Replace<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        loop {
            if self.done {
                return Poll::Ready(None);
            }
            match Pin::new(&mut self.inner).poll_frame(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e))),
                Poll::Ready(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => {
                        let out = self.process(&data, false);
                        if !out.is_empty() {
                            return Poll::Ready(Some(Ok(Frame::data(out))));
                        }
                    }
                    Err(frame) => {
                        let rest = self.process(&[], true);
                        if !rest.is_empty() {
                            // Trailers after the data; rare for HTML.
                            tracing::debug!("trailers after rewritten HTML");
                        }
                        return Poll::Ready(Some(Ok(frame)));
                    }
                },
                Poll::Ready(None) => {
                    self.done = true;
                    let rest = self.process(&[], true);
                    if rest.is_empty() {
                        return Poll::Ready(None);
                    }
                    return Poll::Ready(Some(Ok(Frame::data(rest))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt as _, StreamBody};

    async fn run(chunks: &[&str]) -> String {
        let frames: Vec<Result<Frame<Bytes>, std::convert::Infallible>> = chunks
            .iter()
            .map(|c| Ok(Frame::data(Bytes::from(c.to_string()))))
            .collect();
        let body = StreamBody::new(futures_util::stream::iter(frames));
        let replaced = Replace::new(body, "/api/v1/namespaces/a/services/b:80/proxy/", "/");
        let bytes = replaced.collect().await.expect("body").to_bytes();
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[tokio::test]
    async fn prefixed_links_become_root_relative_even_across_chunks() {
        let html = r#"<a href="/api/v1/namespaces/a/services/b:80/proxy/page2">x</a><img src="/api/v1/namespaces/a/services/b:80/proxy/logo.svg">"#;
        let expected = r#"<a href="/page2">x</a><img src="/logo.svg">"#;
        assert_eq!(run(&[html]).await, expected);
        for split in 1..html.len() {
            let (a, b) = html.split_at(split);
            assert_eq!(run(&[a, b]).await, expected, "split at {split}");
        }
        assert_eq!(
            run(&["/api/v1/namespaces/a/serv"]).await,
            "/api/v1/namespaces/a/serv"
        );
        assert_eq!(run(&["no links here"]).await, "no links here");
    }
}
