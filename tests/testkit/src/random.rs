//! Random identifiers and secrets, from the kernel's CSPRNG.

use std::io::Read;

use crate::error::{IoContext, Result};

/// `bytes` random bytes as lowercase hex (2 × `bytes` characters).
pub fn hex(bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .ctx(|| "reading /dev/urandom")?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// A random number in `0..n` (n > 0), good enough for picking a subnet.
pub fn below(n: u32) -> Result<u32> {
    let mut buf = [0u8; 4];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut buf))
        .ctx(|| "reading /dev/urandom")?;
    Ok(u32::from_le_bytes(buf) % n.max(1))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_has_requested_length() {
        let h = super::hex(4).expect("random");
        assert_eq!(h.len(), 8);
        assert!(h.chars().all(|c| c.is_ascii_hexdigit()));
        assert!(super::below(10).expect("random") < 10);
    }
}
