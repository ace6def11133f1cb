//! Tables: vectors of 8-byte reference words (funcref pointers or externref handles).

use crate::vm::vmcontext::VMTableDefinition;
use anyhow::{bail, Result};
use wasmjit_compiler::TableType;

/// Most elements any table may hold, whatever its declared maximum.
const MAX_TABLE_ELEMENTS: u64 = 10_000_000;

/// One table. Boxed by the store so that its definition has a stable address.
pub(crate) struct VmTable {
    pub(crate) def: VMTableDefinition,
    pub(crate) ty: TableType,
    elements: Vec<u64>,
}

// SAFETY: `def.base` points into `elements`, owned by this value.
unsafe impl Send for VmTable {}
// SAFETY: shared references only read; mutation goes through `&mut`.
unsafe impl Sync for VmTable {}

impl VmTable {
    /// A table of `ty.minimum` elements, each `init`.
    pub(crate) fn new(ty: &TableType, init: u64) -> Result<Self> {
        if ty.minimum > MAX_TABLE_ELEMENTS {
            bail!(
                "table minimum size of {} elements exceeds table limits",
                ty.minimum
            );
        }
        let mut elements = vec![init; ty.minimum as usize];
        Ok(Self {
            def: VMTableDefinition {
                base: elements.as_mut_ptr(),
                current_elements: ty.minimum,
            },
            ty: *ty,
            elements,
        })
    }

    /// Number of elements.
    pub(crate) fn size(&self) -> u64 {
        self.elements.len() as u64
    }

    /// Grows by `delta` elements set to `init`; the old size, or `None`.
    pub(crate) fn grow(&mut self, delta: u64, init: u64) -> Option<u64> {
        let old = self.size();
        let new = old.checked_add(delta)?;
        let max = self.ty.maximum.unwrap_or(u64::MAX).min(MAX_TABLE_ELEMENTS);
        if new > max {
            return None;
        }
        self.elements.resize(new as usize, init);
        self.def.base = self.elements.as_mut_ptr();
        self.def.current_elements = new;
        Some(old)
    }

    /// The elements.
    pub(crate) fn elements(&self) -> &[u64] {
        &self.elements
    }

    /// The elements, mutably.
    pub(crate) fn elements_mut(&mut self) -> &mut [u64] {
        &mut self.elements
    }
}
