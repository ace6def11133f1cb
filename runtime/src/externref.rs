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

    pub(crate) fn from_word(store: &StoreOpaque, word: u64) -> Option<ExternRef> {
        (word != 0).then(|| ExternRef(Stored::new(store, word as usize - 1)))
    }
}
