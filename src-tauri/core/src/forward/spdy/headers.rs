//! SPDY/3 name/value header blocks (draft 3.1 §2.6.10): a 32-bit count,
//! then each name and value after its 32-bit length, all compressed with
//! zlib and the [`DICTIONARY`]. Each direction of a connection is one zlib
//! stream (every block ends with a sync flush), so a connection has one
//! [`Compressor`] for what it sends and one [`Decompressor`] for what it
//! reads, and every block must pass through them in wire order, including
//! blocks of frames nobody looks at.

use bytes::{BufMut as _, Bytes};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress};

use super::dictionary::DICTIONARY;

/// Largest decompressed block accepted: port-forward's blocks are a few
/// dozen bytes, so this only guards against a runaway peer.
const MAX_BLOCK: usize = 256 * 1024;

/// A header block's (name, value) pairs; several values of one name are
/// joined by NUL bytes, as on the wire.
pub type Headers = Vec<(String, String)>;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("header compression failed: {0}")]
    Zlib(String),
    #[error("a header block larger than {MAX_BLOCK} bytes")]
    TooLarge,
    #[error("a malformed header block: {0}")]
    Malformed(&'static str),
}

/// Compresses the blocks this end sends.
pub struct Compressor {
    z: Compress,
    primed: bool,
}

impl Default for Compressor {
    fn default() -> Self {
        Self {
            z: Compress::new(Compression::default(), true),
            primed: false,
        }
    }
}

impl Compressor {
    /// The compressed block for `headers` (names are lowercased, as SPDY/3
    /// requires).
    pub fn compress(&mut self, headers: &[(&str, &str)]) -> Result<Bytes, HeaderError> {
        if !self.primed {
            self.z
                .set_dictionary(DICTIONARY)
                .map_err(|e| HeaderError::Zlib(e.to_string()))?;
            self.primed = true;
        }
        let raw = encode_block(headers);
        let start = self.z.total_in();
        let mut out = Vec::with_capacity(raw.len() + 64);
        loop {
            let done = consumed(self.z.total_in(), start);
            out.reserve(256);
            self.z
                .compress_vec(&raw[done..], &mut out, FlushCompress::Sync)
                .map_err(|e| HeaderError::Zlib(e.to_string()))?;
            // A sync flush is complete once all input is in and the
            // output was not filled to the brim.
            if consumed(self.z.total_in(), start) == raw.len() && out.len() < out.capacity() {
                return Ok(out.into());
            }
        }
    }
}

/// Decompresses the blocks the peer sends.
pub struct Decompressor {
    z: Decompress,
}

impl Default for Decompressor {
    fn default() -> Self {
        Self {
            z: Decompress::new(true),
        }
    }
}

impl Decompressor {
    /// The (name, value) pairs of one compressed block.
    pub fn decompress(&mut self, block: &[u8]) -> Result<Headers, HeaderError> {
        let start = self.z.total_in();
        let mut out = Vec::with_capacity(block.len() * 4 + 64);
        loop {
            let done = consumed(self.z.total_in(), start);
            let before = (self.z.total_in(), self.z.total_out());
            out.reserve(1024);
            match self
                .z
                .decompress_vec(&block[done..], &mut out, FlushDecompress::Sync)
            {
                Ok(_) => {}
                // The first block asks for the dictionary once its zlib
                // header has been read.
                Err(e) if e.needs_dictionary().is_some() => {
                    self.z
                        .set_dictionary(DICTIONARY)
                        .map_err(|e| HeaderError::Zlib(e.to_string()))?;
                    continue;
                }
                Err(e) => return Err(HeaderError::Zlib(e.to_string())),
            }
            if out.len() > MAX_BLOCK {
                return Err(HeaderError::TooLarge);
            }
            let all_in = consumed(self.z.total_in(), start) == block.len();
            if all_in && out.len() < out.capacity() {
                break;
            }
            if before == (self.z.total_in(), self.z.total_out()) {
                return Err(HeaderError::Malformed("the compressed block stops short"));
            }
        }
        parse_block(&out)
    }
}

fn consumed(total: u64, start: u64) -> usize {
    usize::try_from(total - start).unwrap_or(usize::MAX)
}

/// The uncompressed block: count, then length-prefixed names and values.
fn encode_block(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(
        4 + headers
            .iter()
            .map(|(n, v)| 8 + n.len() + v.len())
            .sum::<usize>(),
    );
    raw.put_u32(headers.len() as u32);
    for (name, value) in headers {
        raw.put_u32(name.len() as u32);
        raw.extend(name.bytes().map(|b| b.to_ascii_lowercase()));
        raw.put_u32(value.len() as u32);
        raw.put_slice(value.as_bytes());
    }
    raw
}

fn parse_block(mut raw: &[u8]) -> Result<Headers, HeaderError> {
    let count = take_u32(&mut raw)?;
    // Each pair takes at least 8 bytes: a count beyond that is a lie.
    if count > raw.len() / 8 {
        return Err(HeaderError::Malformed("more pairs counted than present"));
    }
    let mut headers = Vec::with_capacity(count);
    for _ in 0..count {
        let name = take_string(&mut raw)?;
        let value = take_string(&mut raw)?;
        headers.push((name, value));
    }
    if !raw.is_empty() {
        return Err(HeaderError::Malformed("bytes after the last pair"));
    }
    Ok(headers)
}

fn take_u32(raw: &mut &[u8]) -> Result<usize, HeaderError> {
    let Some((len, rest)) = raw.split_first_chunk::<4>() else {
        return Err(HeaderError::Malformed("a length cut short"));
    };
    *raw = rest;
    Ok(u32::from_be_bytes(*len) as usize)
}

fn take_string(raw: &mut &[u8]) -> Result<String, HeaderError> {
    let len = take_u32(raw)?;
    if len > raw.len() {
        return Err(HeaderError::Malformed("a name or value cut short"));
    }
    let (text, rest) = raw.split_at(len);
    *raw = rest;
    Ok(String::from_utf8_lossy(text).into_owned())
}

/// The value of `name` in `headers`.
pub fn get<'a>(headers: &'a Headers, name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::super::frame;
    use super::*;

    fn owned(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn blocks_round_trip_through_one_context_per_direction() {
        let mut tx = Compressor::default();
        let mut rx = Decompressor::default();
        let first = [
            ("streamtype", "error"),
            ("port", "8080"),
            ("requestid", "0"),
        ];
        let second = [("streamtype", "data"), ("port", "8080"), ("requestid", "0")];
        let a = tx.compress(&first).expect("compress");
        let b = tx.compress(&second).expect("compress");
        // The zlib header (with FDICT) only starts the stream.
        assert_eq!(a[0], 0x78);
        assert_eq!(a[1] & 0x20, 0x20, "FDICT is set");
        assert_eq!(
            &a[2..6],
            [0xe3, 0xc6, 0xa7, 0xc2],
            "the SPDY/3 dictionary id"
        );
        assert_ne!(b[0], 0x78);
        assert_eq!(rx.decompress(&a).expect("first"), owned(&first));
        assert_eq!(rx.decompress(&b).expect("second"), owned(&second));
        assert_eq!(rx.decompress(&tx.compress(&[]).expect("empty")), Ok(vec![]));
    }

    #[test]
    fn names_go_out_lowercased() {
        let mut tx = Compressor::default();
        let mut rx = Decompressor::default();
        let block = tx.compress(&[("StreamType", "data")]).expect("compress");
        assert_eq!(
            rx.decompress(&block).expect("decompress"),
            owned(&[("streamtype", "data")])
        );
    }

    /// Two SYN_REPLY frames as Go's SPDY framer (github.com/moby/spdystream,
    /// the kubelet's) writes them one after the other, the way the kubelet
    /// answers a port-forward's two streams: the first with no headers,
    /// the second with `x-probe: 1`.
    const GO_SYN_REPLIES: [&[u8]; 2] = [
        &[
            0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x01, 0x78, 0xf9,
            0xe3, 0xc6, 0xa7, 0xc2, 0x62, 0x60, 0x60, 0x60, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff,
        ],
        &[
            0x80, 0x03, 0x00, 0x02, 0x00, 0x00, 0x00, 0x1b, 0x00, 0x00, 0x00, 0x03, 0x62, 0x60,
            0x60, 0x60, 0x04, 0xa5, 0xc9, 0x0a, 0xdd, 0x82, 0xa2, 0xfc, 0x24, 0x50, 0xd2, 0x62,
            0x34, 0x04, 0x00, 0x00, 0x00, 0xff, 0xff,
        ],
    ];

    #[test]
    fn replies_written_by_the_kubelets_framer_are_read() {
        let mut rx = Decompressor::default();
        let mut wire = bytes::BytesMut::new();
        wire.extend_from_slice(GO_SYN_REPLIES[0]);
        wire.extend_from_slice(GO_SYN_REPLIES[1]);
        let mut read = |stream_wanted: u32| {
            let frame = frame::decode(&mut wire, frame::MAX_LENGTH)
                .expect("valid")
                .expect("whole");
            let frame::Frame::SynReply {
                stream,
                fin,
                headers,
            } = frame
            else {
                panic!("a SYN_REPLY, got {frame:?}");
            };
            assert_eq!((stream, fin), (stream_wanted, false));
            rx.decompress(&headers).expect("decompress")
        };
        assert_eq!(read(1), vec![]);
        assert_eq!(read(3), owned(&[("x-probe", "1")]));
    }

    #[test]
    fn a_garbled_block_is_an_error_not_a_panic() {
        let mut rx = Decompressor::default();
        assert!(rx.decompress(&[0x78, 0xbb, 1, 2, 3, 4, 5, 6, 7]).is_err());
        assert!(matches!(
            parse_block(&[0, 0, 0, 9, 0, 0]),
            Err(HeaderError::Malformed(_))
        ));
        assert!(matches!(
            parse_block(&[0, 0, 0, 1, 0, 0, 0, 9, b'a', 0, 0, 0, 0]),
            Err(HeaderError::Malformed(_))
        ));
    }

    #[test]
    fn get_finds_a_value_by_name() {
        let headers = owned(&[("port", "8080")]);
        assert_eq!(get(&headers, "Port"), Some("8080"));
        assert_eq!(get(&headers, "streamtype"), None);
    }
}
