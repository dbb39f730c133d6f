//! SPDY/3.1 frames on the wire (draft 3.1 §2.2, §2.6): an 8-byte header,
//! then the payload. Control frames start with the control bit, the
//! version and a type; data frames with a stream id. Header blocks stay
//! compressed here ([`super::headers`] reads and writes them), because
//! their zlib context spans the whole connection.

use bytes::{Buf as _, BufMut as _, Bytes, BytesMut};

pub const VERSION: u16 = 3;
/// The frame ends its sender's half of the stream.
pub const FLAG_FIN: u8 = 0x01;
const HEADER_LEN: usize = 8;
/// Lengths are 24 bits.
pub const MAX_LENGTH: usize = (1 << 24) - 1;
const STREAM_ID_MASK: u32 = 0x7fff_ffff;

const SYN_STREAM: u16 = 1;
const SYN_REPLY: u16 = 2;
const RST_STREAM: u16 = 3;
const SETTINGS: u16 = 4;
const PING: u16 = 6;
const GOAWAY: u16 = 7;
const HEADERS: u16 = 8;
const WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status codes (§2.6.3) this client sends or names.
pub mod status {
    pub const PROTOCOL_ERROR: u32 = 1;
    pub const REFUSED_STREAM: u32 = 3;
    pub const CANCEL: u32 = 5;

    /// The draft's name for a status code, for messages.
    pub fn name(code: u32) -> &'static str {
        match code {
            1 => "PROTOCOL_ERROR",
            2 => "INVALID_STREAM",
            3 => "REFUSED_STREAM",
            4 => "UNSUPPORTED_VERSION",
            5 => "CANCEL",
            6 => "INTERNAL_ERROR",
            7 => "FLOW_CONTROL_ERROR",
            8 => "STREAM_IN_USE",
            9 => "STREAM_ALREADY_CLOSED",
            10 => "INVALID_CREDENTIALS",
            11 => "FRAME_TOO_LARGE",
            _ => "unknown status",
        }
    }
}

/// One frame, header blocks still compressed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream: u32,
        fin: bool,
        data: Bytes,
    },
    SynStream {
        stream: u32,
        associated: u32,
        priority: u8,
        flags: u8,
        headers: Bytes,
    },
    SynReply {
        stream: u32,
        fin: bool,
        headers: Bytes,
    },
    RstStream {
        stream: u32,
        status: u32,
    },
    /// (flags, id, value) of each setting.
    Settings(Vec<(u8, u32, u32)>),
    Ping(u32),
    GoAway {
        last_good: u32,
        status: u32,
    },
    Headers {
        stream: u32,
        fin: bool,
        headers: Bytes,
    },
    WindowUpdate {
        stream: u32,
        delta: u32,
    },
    /// A control frame type this client has no use for (CREDENTIAL, or a
    /// type from a later draft): skipped, as the draft asks.
    Unknown(u16),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("a {len}-byte frame is larger than the {max} bytes accepted")]
    TooLarge { len: usize, max: usize },
    #[error("a control frame of SPDY version {0} (only 3 is spoken)")]
    Version(u16),
    #[error("a malformed {kind} frame ({len} bytes)")]
    Malformed { kind: &'static str, len: usize },
}

/// Takes one whole frame off the front of `buf`; `None` until all of it
/// has arrived. Frames longer than `max_len` are refused.
pub fn decode(buf: &mut BytesMut, max_len: usize) -> Result<Option<Frame>, FrameError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let first = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]);
    let flags = buf[4];
    let len = usize::from(buf[5]) << 16 | usize::from(buf[6]) << 8 | usize::from(buf[7]);
    if len > max_len {
        return Err(FrameError::TooLarge { len, max: max_len });
    }
    if buf.len() < HEADER_LEN + len {
        buf.reserve(HEADER_LEN + len - buf.len());
        return Ok(None);
    }
    buf.advance(HEADER_LEN);
    let mut body = buf.split_to(len).freeze();
    let fin = flags & FLAG_FIN != 0;
    if first & 0x8000_0000 == 0 {
        return Ok(Some(Frame::Data {
            stream: first & STREAM_ID_MASK,
            fin,
            data: body,
        }));
    }
    let version = ((first >> 16) & 0x7fff) as u16;
    if version != VERSION {
        return Err(FrameError::Version(version));
    }
    let kind = (first & 0xffff) as u16;
    let malformed = |kind| FrameError::Malformed { kind, len };
    let frame = match kind {
        SYN_STREAM => {
            if len < 10 {
                return Err(malformed("SYN_STREAM"));
            }
            let stream = body.get_u32() & STREAM_ID_MASK;
            let associated = body.get_u32() & STREAM_ID_MASK;
            let priority = body.get_u8() >> 5;
            body.advance(1); // credential slot
            Frame::SynStream {
                stream,
                associated,
                priority,
                flags,
                headers: body,
            }
        }
        SYN_REPLY | HEADERS => {
            if len < 4 {
                return Err(malformed(if kind == SYN_REPLY {
                    "SYN_REPLY"
                } else {
                    "HEADERS"
                }));
            }
            let stream = body.get_u32() & STREAM_ID_MASK;
            if kind == SYN_REPLY {
                Frame::SynReply {
                    stream,
                    fin,
                    headers: body,
                }
            } else {
                Frame::Headers {
                    stream,
                    fin,
                    headers: body,
                }
            }
        }
        RST_STREAM => {
            if len != 8 {
                return Err(malformed("RST_STREAM"));
            }
            Frame::RstStream {
                stream: body.get_u32() & STREAM_ID_MASK,
                status: body.get_u32(),
            }
        }
        SETTINGS => {
            if len < 4 {
                return Err(malformed("SETTINGS"));
            }
            let count = body.get_u32() as usize;
            if count.checked_mul(8) != Some(len - 4) {
                return Err(malformed("SETTINGS"));
            }
            let entries = (0..count)
                .map(|_| {
                    let id = body.get_u32();
                    ((id >> 24) as u8, id & 0x00ff_ffff, body.get_u32())
                })
                .collect();
            Frame::Settings(entries)
        }
        PING => {
            if len != 4 {
                return Err(malformed("PING"));
            }
            Frame::Ping(body.get_u32())
        }
        GOAWAY => {
            // SPDY/3 sent only the stream id; 3.1 adds a status.
            if len != 8 && len != 4 {
                return Err(malformed("GOAWAY"));
            }
            let last_good = body.get_u32() & STREAM_ID_MASK;
            let status = if len == 8 { body.get_u32() } else { 0 };
            Frame::GoAway { last_good, status }
        }
        WINDOW_UPDATE => {
            if len != 8 {
                return Err(malformed("WINDOW_UPDATE"));
            }
            Frame::WindowUpdate {
                stream: body.get_u32() & STREAM_ID_MASK,
                delta: body.get_u32() & STREAM_ID_MASK,
            }
        }
        other => Frame::Unknown(other),
    };
    Ok(Some(frame))
}

impl Frame {
    /// Appends the frame to `out`. Payloads must fit in 24 bits (callers
    /// split data; header blocks here are small).
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Frame::Data { stream, fin, data } => {
                debug_assert!(data.len() <= MAX_LENGTH);
                out.put_u32(stream & STREAM_ID_MASK);
                put_flags_len(out, flag(*fin), data.len());
                out.put_slice(data);
            }
            Frame::SynStream {
                stream,
                associated,
                priority,
                flags,
                headers,
            } => {
                control(out, SYN_STREAM, *flags, 10 + headers.len());
                out.put_u32(stream & STREAM_ID_MASK);
                out.put_u32(associated & STREAM_ID_MASK);
                out.put_u8((priority & 0x07) << 5);
                out.put_u8(0);
                out.put_slice(headers);
            }
            Frame::SynReply {
                stream,
                fin,
                headers,
            } => {
                control(out, SYN_REPLY, flag(*fin), 4 + headers.len());
                out.put_u32(stream & STREAM_ID_MASK);
                out.put_slice(headers);
            }
            Frame::Headers {
                stream,
                fin,
                headers,
            } => {
                control(out, HEADERS, flag(*fin), 4 + headers.len());
                out.put_u32(stream & STREAM_ID_MASK);
                out.put_slice(headers);
            }
            Frame::RstStream { stream, status } => {
                control(out, RST_STREAM, 0, 8);
                out.put_u32(stream & STREAM_ID_MASK);
                out.put_u32(*status);
            }
            Frame::Settings(entries) => {
                control(out, SETTINGS, 0, 4 + 8 * entries.len());
                out.put_u32(entries.len() as u32);
                for (flags, id, value) in entries {
                    out.put_u32(u32::from(*flags) << 24 | (id & 0x00ff_ffff));
                    out.put_u32(*value);
                }
            }
            Frame::Ping(id) => {
                control(out, PING, 0, 4);
                out.put_u32(*id);
            }
            Frame::GoAway { last_good, status } => {
                control(out, GOAWAY, 0, 8);
                out.put_u32(last_good & STREAM_ID_MASK);
                out.put_u32(*status);
            }
            Frame::WindowUpdate { stream, delta } => {
                control(out, WINDOW_UPDATE, 0, 8);
                out.put_u32(stream & STREAM_ID_MASK);
                out.put_u32(delta & STREAM_ID_MASK);
            }
            Frame::Unknown(_) => {}
        }
    }
}

fn flag(fin: bool) -> u8 {
    if fin { FLAG_FIN } else { 0 }
}

fn control(out: &mut BytesMut, kind: u16, flags: u8, len: usize) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(kind);
    put_flags_len(out, flags, len);
}

fn put_flags_len(out: &mut BytesMut, flags: u8, len: usize) {
    out.put_u32(u32::from(flags) << 24 | (len as u32 & 0x00ff_ffff));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(frame: &Frame) -> Vec<u8> {
        let mut out = BytesMut::new();
        frame.encode(&mut out);
        out.to_vec()
    }

    fn decoded(bytes: &[u8]) -> Frame {
        let mut buf = BytesMut::from(bytes);
        let frame = decode(&mut buf, MAX_LENGTH).expect("valid").expect("whole");
        assert!(buf.is_empty(), "the frame used every byte");
        frame
    }

    #[test]
    fn a_data_frame_is_stream_id_flags_length_payload() {
        let frame = Frame::Data {
            stream: 3,
            fin: true,
            data: Bytes::from_static(b"hi"),
        };
        let bytes = [0, 0, 0, 3, 0x01, 0, 0, 2, b'h', b'i'];
        assert_eq!(encoded(&frame), bytes);
        assert_eq!(decoded(&bytes), frame);
    }

    #[test]
    fn a_syn_stream_carries_ids_priority_and_the_header_block() {
        let frame = Frame::SynStream {
            stream: 1,
            associated: 0,
            priority: 0,
            flags: FLAG_FIN,
            headers: Bytes::from_static(b"\x78\xbb"),
        };
        // 0x8003 0x0001 | flags 1, length 12 | stream 1 | assoc 0 | pri/slot | block
        let bytes = [
            0x80, 0x03, 0x00, 0x01, 0x01, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0x78, 0xbb,
        ];
        assert_eq!(encoded(&frame), bytes);
        assert_eq!(decoded(&bytes), frame);
    }

    #[test]
    fn a_syn_stream_priority_is_the_top_three_bits() {
        let frame = Frame::SynStream {
            stream: 5,
            associated: 0,
            priority: 7,
            flags: 0,
            headers: Bytes::new(),
        };
        assert_eq!(encoded(&frame)[16], 0xe0);
        assert_eq!(decoded(&encoded(&frame)), frame);
    }

    #[test]
    fn control_frames_round_trip_with_the_draft_layout() {
        let cases: Vec<(Frame, Vec<u8>)> = vec![
            (
                Frame::SynReply {
                    stream: 1,
                    fin: false,
                    headers: Bytes::from_static(b"x"),
                },
                vec![0x80, 3, 0, 2, 0, 0, 0, 5, 0, 0, 0, 1, b'x'],
            ),
            (
                Frame::RstStream {
                    stream: 3,
                    status: status::CANCEL,
                },
                vec![0x80, 3, 0, 3, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0, 5],
            ),
            (
                Frame::Settings(vec![(0, 7, 65536)]),
                vec![
                    0x80, 3, 0, 4, 0, 0, 0, 12, 0, 0, 0, 1, 0, 0, 0, 7, 0, 1, 0, 0,
                ],
            ),
            (Frame::Ping(1), vec![0x80, 3, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1]),
            (
                Frame::GoAway {
                    last_good: 0,
                    status: 0,
                },
                vec![0x80, 3, 0, 7, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                Frame::Headers {
                    stream: 7,
                    fin: true,
                    headers: Bytes::new(),
                },
                vec![0x80, 3, 0, 8, 1, 0, 0, 4, 0, 0, 0, 7],
            ),
            (
                Frame::WindowUpdate {
                    stream: 3,
                    delta: 32768,
                },
                vec![0x80, 3, 0, 9, 0, 0, 0, 8, 0, 0, 0, 3, 0, 0, 0x80, 0],
            ),
        ];
        for (frame, bytes) in cases {
            assert_eq!(encoded(&frame), bytes, "{frame:?}");
            assert_eq!(decoded(&bytes), frame);
        }
    }

    #[test]
    fn a_frame_is_decoded_only_once_all_of_it_arrived() {
        let bytes = [0, 0, 0, 1, 0, 0, 0, 3, b'a', b'b', b'c', 0, 0];
        let mut buf = BytesMut::from(&bytes[..10]);
        assert_eq!(decode(&mut buf, MAX_LENGTH), Ok(None));
        buf.extend_from_slice(&bytes[10..]);
        assert!(matches!(
            decode(&mut buf, MAX_LENGTH),
            Ok(Some(Frame::Data {
                stream: 1,
                fin: false,
                ..
            }))
        ));
        assert_eq!(&buf[..], [0, 0], "the next frame's start stays");
    }

    #[test]
    fn the_reserved_bit_of_stream_ids_is_ignored() {
        let bytes = [0x80, 3, 0, 3, 0, 0, 0, 8, 0x80, 0, 0, 3, 0, 0, 0, 1];
        assert_eq!(
            decoded(&bytes),
            Frame::RstStream {
                stream: 3,
                status: status::PROTOCOL_ERROR
            }
        );
    }

    #[test]
    fn bad_frames_are_named() {
        let mut too_big = BytesMut::from(&[0, 0, 0, 1, 0, 0x10, 0, 0][..]);
        assert_eq!(
            decode(&mut too_big, 1024),
            Err(FrameError::TooLarge {
                len: 0x10_0000,
                max: 1024
            })
        );
        let mut spdy2 = BytesMut::from(&[0x80, 2, 0, 6, 0, 0, 0, 4, 0, 0, 0, 1][..]);
        assert_eq!(decode(&mut spdy2, MAX_LENGTH), Err(FrameError::Version(2)));
        let mut short_ping = BytesMut::from(&[0x80, 3, 0, 6, 0, 0, 0, 2, 0, 1][..]);
        assert!(matches!(
            decode(&mut short_ping, MAX_LENGTH),
            Err(FrameError::Malformed { kind: "PING", .. })
        ));
        let mut lying_settings = BytesMut::from(&[0x80, 3, 0, 4, 0, 0, 0, 4, 0, 0, 0, 9][..]);
        assert!(matches!(
            decode(&mut lying_settings, MAX_LENGTH),
            Err(FrameError::Malformed {
                kind: "SETTINGS",
                ..
            })
        ));
    }

    #[test]
    fn unknown_control_frames_are_skipped_whole() {
        let bytes = [0x80, 3, 0, 10, 0, 0, 0, 2, 9, 9];
        assert_eq!(decoded(&bytes), Frame::Unknown(10));
    }
}
