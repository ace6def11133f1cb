//! The byte encoding of serialized modules: little-endian integers, length-prefixed byte
//! strings and lists. Reading checks every length against what is left, so truncated or
//! corrupt input is an error, never an out-of-bounds read or a huge allocation.

use anyhow::{bail, Result};

/// Appends to a byte vector.
#[derive(Default)]
pub(super) struct Writer {
    pub(super) out: Vec<u8>,
}

impl Writer {
    pub(super) fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    pub(super) fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    pub(super) fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).expect("serialized lengths fit in 32 bits"));
    }
    pub(super) fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.out.extend_from_slice(b);
    }
    pub(super) fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    pub(super) fn pairs(&mut self, pairs: &[(String, String)]) {
        self.len(pairs.len());
        for (a, b) in pairs {
            self.str(a);
            self.str(b);
        }
    }
}

/// Reads from a byte slice, failing at its end.
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

pub(super) fn truncated() -> anyhow::Error {
    anyhow::anyhow!("the serialized module is truncated or corrupt")
}

impl<'a> Reader<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        Self { rest: bytes }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    pub(super) fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if n > self.rest.len() {
            return Err(truncated());
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }
    pub(super) fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }
    pub(super) fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take(4)?.try_into().unwrap()))
    }
    pub(super) fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take(8)?.try_into().unwrap()))
    }
    pub(super) fn bool(&mut self) -> Result<bool> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(truncated()),
        }
    }
    /// A count of items each at least `min_size` bytes long, checked against what is left.
    pub(super) fn count(&mut self, min_size: usize) -> Result<usize> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.rest.len() {
            return Err(truncated());
        }
        Ok(n)
    }
    pub(super) fn bytes(&mut self) -> Result<&'a [u8]> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    pub(super) fn str(&mut self) -> Result<&'a str> {
        std::str::from_utf8(self.bytes()?).map_err(|_| truncated())
    }
    pub(super) fn pairs(&mut self) -> Result<Vec<(String, String)>> {
        let n = self.count(8)?;
        (0..n)
            .map(|_| Ok((self.str()?.to_string(), self.str()?.to_string())))
            .collect()
    }

    /// Bytes left to read.
    pub(super) fn remaining(&self) -> usize {
        self.rest.len()
    }
}

/// Fails unless `reader` is at its end.
pub(super) fn expect_end(reader: &Reader<'_>) -> Result<()> {
    if !reader.is_empty() {
        bail!("the serialized module has trailing bytes");
    }
    Ok(())
}
