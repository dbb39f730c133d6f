//! Port-forward over WebSocket: the `v4.channel.k8s.io` subprotocol the
//! kubelet (and the apiserver in front of it) serves for
//! `pods/portforward`. One WebSocket carries one TCP connection: binary
//! messages start with a channel byte, 0 for data and 1 for errors, and the
//! server opens each channel with the port number (two bytes, little
//! endian). The client sends data on channel 0 without that prefix.
//!
//! The protocol has no half-close: after the local side stops sending, the
//! WebSocket stays open while the Pod keeps answering, and closes after
//! [`LINGER_AFTER_LOCAL_EOF`] of silence.

use std::time::Duration;

use bytes::{BufMut as _, Bytes, BytesMut};
use futures_util::{SinkExt as _, StreamExt as _};
use http::{HeaderValue, Request, StatusCode, header};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _, DuplexStream};
use tokio::sync::oneshot;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::client::generate_key;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use super::error::DialError;
use super::stream::{PIPE_BUFFER, PodStream, portforward_path, refusal};
use crate::cluster::client::ClusterClient;

pub const SUBPROTOCOL: &str = "v4.channel.k8s.io";
const DATA: u8 = 0;
const ERROR: u8 = 1;
/// How long a stream whose local side has finished sending waits for more
/// from the Pod before closing (the protocol cannot pass the half-close on).
pub const LINGER_AFTER_LOCAL_EOF: Duration = Duration::from_secs(5);
/// Largest message read from the local side at once.
const CHUNK: usize = 64 * 1024;

/// Opens a WebSocket to `port` of `namespace/pod`.
pub async fn dial(
    client: &ClusterClient,
    namespace: &str,
    pod: &str,
    port: u16,
) -> Result<PodStream, DialError> {
    let key = generate_key();
    let request = Request::get(portforward_path(namespace, pod, port))
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_VERSION, "13")
        .header(header::SEC_WEBSOCKET_KEY, &key)
        .header(header::SEC_WEBSOCKET_PROTOCOL, SUBPROTOCOL)
        .body(())
        .map_err(|e| DialError::Protocol(format!("building the request: {e}")))?;
    let (response, upgraded) = client.upgrade(request, true).await?;
    let Some(upgraded) = upgraded else {
        return Err(refusal(response, namespace, pod, "WebSocket").await);
    };
    debug_assert_eq!(response.status(), StatusCode::SWITCHING_PROTOCOLS);
    let accept = response.headers().get(header::SEC_WEBSOCKET_ACCEPT);
    if accept
        != HeaderValue::from_str(&derive_accept_key(key.as_bytes()))
            .ok()
            .as_ref()
    {
        return Err(DialError::Protocol(
            "the WebSocket handshake answer does not match the key sent".into(),
        ));
    }
    let protocol = response
        .headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok());
    if protocol != Some(SUBPROTOCOL) {
        return Err(DialError::TransportNotServed {
            transport: "WebSocket",
            message: format!("the server chose subprotocol {protocol:?}, not {SUBPROTOCOL}"),
        });
    }
    let mut config = WebSocketConfig::default();
    config.max_message_size = Some(16 << 20);
    let ws =
        WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Client, Some(config)).await;
    let (ours, theirs) = tokio::io::duplex(PIPE_BUFFER);
    let (error_tx, remote_error) = oneshot::channel();
    tokio::spawn(bridge(ws, theirs, error_tx));
    Ok(PodStream {
        io: ours,
        remote_error,
    })
}

/// Moves bytes between the WebSocket and the pipe until either ends.
async fn bridge<S>(ws: WebSocketStream<S>, pipe: DuplexStream, error_tx: oneshot::Sender<String>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut ws_tx, mut ws_rx) = ws.split();
    let (mut pipe_rx, mut pipe_tx) = tokio::io::split(pipe);
    let mut frames = Frames::default();
    let mut buf = BytesMut::with_capacity(CHUNK + 1);
    let mut local_done = false;
    loop {
        let linger = async {
            if local_done {
                tokio::time::sleep(LINGER_AFTER_LOCAL_EOF).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            message = ws_rx.next() => {
                let Some(Ok(message)) = message else { break };
                let data = match message {
                    Message::Binary(data) => data,
                    Message::Close(_) => break,
                    _ => continue,
                };
                match frames.accept(&data) {
                    Ok(Some((DATA, payload))) if !payload.is_empty() => {
                        if pipe_tx.write_all(payload).await.is_err() {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        frames.error.push_str(&e);
                        break;
                    }
                }
            }
            read = read_chunk(&mut pipe_rx, &mut buf), if !local_done => {
                match read {
                    Ok(Some(frame)) => {
                        if ws_tx.send(Message::Binary(frame)).await.is_err() {
                            break;
                        }
                    }
                    // Local side finished sending (or failed): wait for
                    // the rest of the Pod's answer.
                    Ok(None) | Err(_) => local_done = true,
                }
            }
            () = linger => break,
        }
    }
    let _ = pipe_tx.shutdown().await;
    let _ = ws_tx.close().await;
    if !frames.error.is_empty() {
        let _ = error_tx.send(frames.error);
    }
}

/// Reads what the local side has and frames it for the data channel.
async fn read_chunk(
    pipe: &mut tokio::io::ReadHalf<DuplexStream>,
    buf: &mut BytesMut,
) -> std::io::Result<Option<Bytes>> {
    buf.clear();
    buf.put_u8(DATA);
    buf.resize(CHUNK + 1, 0);
    let n = pipe.read(&mut buf[1..]).await?;
    if n == 0 {
        return Ok(None);
    }
    buf.truncate(n + 1);
    Ok(Some(buf.split().freeze()))
}

/// The server side of the framing: strips each channel's port prefix and
/// collects the error channel's text.
#[derive(Default)]
struct Frames {
    /// Port prefix bytes still to skip per channel (None = not seen yet).
    prefix_left: [Option<usize>; 2],
    error: String,
}

impl Frames {
    /// The channel and payload of one message, with the port prefix gone;
    /// error text is kept in `self.error` (and returned as an empty payload).
    fn accept<'a>(&mut self, message: &'a [u8]) -> Result<Option<(u8, &'a [u8])>, String> {
        let Some((&channel, mut payload)) = message.split_first() else {
            return Ok(None);
        };
        if channel > ERROR {
            return Err(format!("message on unknown channel {channel}"));
        }
        let left = self.prefix_left[usize::from(channel)].get_or_insert(2);
        let skip = (*left).min(payload.len());
        payload = &payload[skip..];
        *left -= skip;
        if channel == ERROR {
            self.error.push_str(&String::from_utf8_lossy(payload));
            return Ok(Some((ERROR, &[])));
        }
        Ok(Some((channel, payload)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_port_prefix_of_each_channel_is_skipped_once() {
        let mut f = Frames::default();
        assert_eq!(f.accept(&[0, 0x90, 0x1f]), Ok(Some((0, &[][..]))));
        assert_eq!(f.accept(&[1, 0x90, 0x1f]), Ok(Some((1, &[][..]))));
        assert_eq!(f.accept(&[0, b'h', b'i']), Ok(Some((0, &b"hi"[..]))));
        assert_eq!(f.accept(&[1, b'n', b'o']), Ok(Some((1, &[][..]))));
        assert_eq!(f.error, "no");
    }

    #[test]
    fn a_port_prefix_split_across_messages_is_still_skipped() {
        let mut f = Frames::default();
        assert_eq!(f.accept(&[0, 0x90]), Ok(Some((0, &[][..]))));
        assert_eq!(f.accept(&[0, 0x1f, b'x']), Ok(Some((0, &b"x"[..]))));
    }

    #[test]
    fn an_unknown_channel_is_a_protocol_error() {
        assert!(Frames::default().accept(&[7, 1, 2]).is_err());
        assert_eq!(Frames::default().accept(&[]), Ok(None));
    }
}
