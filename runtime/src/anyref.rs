//! References of the internal hierarchy (`anyref`, `eqref`, `i31ref`; GC).
//!
//! The raw form of an anyref, in compiled code and in raw slots, is 32 bits wide like an
//! externref's: 0 is null and an odd value is an `i31` (`value << 1 | 1`, no allocation).
//! Struct and array references, the even values, need the GC heap, which is not built yet,
//! so every non-null anyref the host can hold today is an `i31`.

use crate::store::{AsContext, AsContextMut};
use anyhow::{bail, Result};

/// A 31-bit integer as `i31ref` holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct I31(u32);

impl I31 {
    const MASK: u32 = (1 << 31) - 1;

    /// The low 31 bits of `value`.
    pub fn wrapping_u32(value: u32) -> I31 {
        I31(value & Self::MASK)
    }

    /// The low 31 bits of `value` (two's complement).
    pub fn wrapping_i32(value: i32) -> I31 {
        I31::wrapping_u32(value as u32)
    }

    /// `value` if it fits in 31 unsigned bits.
    pub fn new_u32(value: u32) -> Option<I31> {
        (value <= Self::MASK).then_some(I31(value))
    }

    /// `value` if it fits in 31 signed bits.
    pub fn new_i32(value: i32) -> Option<I31> {
        ((-(1 << 30)..(1 << 30)).contains(&value)).then(|| I31::wrapping_i32(value))
    }

    /// The value, zero-extended (`i31.get_u`).
    pub fn get_u32(&self) -> u32 {
        self.0
    }

    /// The value, sign-extended (`i31.get_s`).
    pub fn get_i32(&self) -> i32 {
        ((self.0 << 1) as i32) >> 1
    }
}

/// A non-null reference of the internal hierarchy (`anyref`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AnyRef {
    /// The raw form (non-zero; see the module docs).
    raw: u32,
}

/// A non-null reference `ref.eq` can compare (`eqref`). Every [`AnyRef`] the host can hold
/// is one today.
pub type EqRef = AnyRef;

impl AnyRef {
    /// The `i31ref` of `value`.
    pub fn from_i31(store: impl AsContextMut, value: I31) -> AnyRef {
        let _ = store;
        AnyRef {
            raw: (value.0 << 1) | 1,
        }
    }

    /// Whether this is an `i31ref`.
    pub fn is_i31(&self, store: impl AsContext) -> Result<bool> {
        let _ = store;
        Ok(self.raw & 1 == 1)
    }

    /// The `i31` value, if this is an `i31ref`.
    pub fn as_i31(&self, store: impl AsContext) -> Result<Option<I31>> {
        Ok(self.is_i31(store)?.then_some(I31(self.raw >> 1)))
    }

    /// The `i31` value; errors if this is not an `i31ref`.
    pub fn unwrap_i31(&self, store: impl AsContext) -> Result<I31> {
        match self.as_i31(store)? {
            Some(v) => Ok(v),
            None => bail!("AnyRef::unwrap_i31 on a non-i31 reference"),
        }
    }

    /// The raw form of the reference (see the module docs).
    pub fn to_raw(&self, store: impl AsContextMut) -> Result<u32> {
        let _ = store;
        Ok(self.raw)
    }

    /// The reference whose raw form is `raw`, or `None` for null.
    pub fn from_raw(store: impl AsContextMut, raw: u32) -> Option<AnyRef> {
        let _ = store;
        AnyRef::from_word(raw as u64)
    }

    /// [`AnyRef::from_raw`] without a store, for the C API's handles (an `i31` needs none).
    #[doc(hidden)]
    pub fn from_raw_unrooted(raw: u32) -> Option<AnyRef> {
        AnyRef::from_word(raw as u64)
    }

    /// [`AnyRef::to_raw`] without a store, for the C API's handles.
    #[doc(hidden)]
    pub fn to_raw_unrooted(&self) -> u32 {
        self.raw
    }

    /// The reference of a raw slot's word (its low 32 bits); `None` for null, and for an
    /// even (heap) reference, which no store can hold yet.
    pub(crate) fn from_word(word: u64) -> Option<AnyRef> {
        let raw = word as u32;
        (raw & 1 == 1).then_some(AnyRef { raw })
    }

    /// The raw slot's word of the reference.
    pub(crate) fn to_word(self) -> u64 {
        self.raw as u64
    }
}
