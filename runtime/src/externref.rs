//! External references: host values that wasm can hold and pass around but not inspect.

use crate::store::{AsContextMut, StoreContext, StoreOpaque, Stored};
use anyhow::{bail, Result};
use std::any::Any;

/// A reference to a host value owned by a store. The value lives as long as the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExternRef(pub(crate) Stored);

impl ExternRef {
    /// Wraps `value` in a new externref of `store`.
    pub fn new<T>(mut store: impl AsContextMut, value: T) -> Result<ExternRef>
    where
        T: 'static + Any + Send + Sync,
    {
        let opaque = &mut store.as_context_mut().0.opaque;
        let word = opaque.add_externref(Box::new(value));
        Ok(ExternRef(Stored::new(opaque, word as usize - 1)))
    }

    /// The host value.
    pub fn data<'a, T: 'a>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Result<&'a (dyn Any + Send + Sync)> {
        let store = store.into();
        let opaque = &store.0.opaque;
        if !self.0.belongs_to(opaque) {
            bail!("externref used with the wrong store");
        }
        Ok(&*opaque.externrefs[self.0.index])
    }

    /// The raw form of this reference, as compiled code and [`ValRaw`](crate::ValRaw) slots hold
    /// it (never 0, which is null). Errors for another store's reference.
    pub fn to_raw(&self, mut store: impl AsContextMut) -> Result<u32> {
        let opaque = &store.as_context_mut().0.opaque;
        if !self.0.belongs_to(opaque) {
            bail!("externref used with the wrong store");
        }
        u32::try_from(self.0.index + 1).map_err(|_| anyhow::anyhow!("too many externrefs"))
    }

    /// The reference of a raw value from [`ExternRef::to_raw`] or a raw slot: `None` for 0 and
    /// for values that are no externref of this store.
    pub fn from_raw(mut store: impl AsContextMut, raw: u32) -> Option<ExternRef> {
        let opaque = &store.as_context_mut().0.opaque;
        let index = (raw as usize).checked_sub(1)?;
        (index < opaque.externrefs.len()).then(|| ExternRef(Stored::new(opaque, index)))
    }

    pub(crate) fn from_word(store: &StoreOpaque, word: u64) -> Option<ExternRef> {
        (word != 0).then(|| ExternRef(Stored::new(store, word as usize - 1)))
    }
}
