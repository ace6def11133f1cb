//! `Table`: a table of references owned by a store.

use crate::store::StoreOpaque;
use crate::store::{AsContext, AsContextMut, Stored};
use crate::types::TableType;
use crate::values::{Ref, Val};
use crate::vm::table::VmTable;
use anyhow::{anyhow, bail, Result};

/// A table of funcrefs or externrefs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Table(pub(crate) Stored);

fn check_ref(store: &StoreOpaque, ty: &TableType, init: &Ref) -> Result<()> {
    if !crate::matching::val_matches(store, &Val::from(*init), ty.element().to_wasm()) {
        bail!(
            "value does not match the table's element type {}",
            ty.element()
        );
    }
    Ok(())
}

impl Table {
    /// A new table of `ty` with every element set to `init`.
    pub fn new(mut store: impl AsContextMut, ty: TableType, init: Ref) -> Result<Table> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        check_ref(opaque, &ty, &init)?;
        let word = init.to_word(opaque)?;
        opaque.check_counts(0, 0, 1)?;
        opaque.limit_new_table(&ty.to_wasm())?;
        let table = VmTable::new(&ty.to_wasm(), word)?;
        opaque.tables.push(Box::new(table));
        Ok(Table(Stored::new(opaque, opaque.tables.len() - 1)))
    }

    /// The type it was created with (its minimum is not the current size after growing).
    pub fn ty(&self, store: impl AsContext) -> TableType {
        let store = store.as_context();
        // The type it was created with, as Wasmtime reports it (see `Memory::ty`).
        TableType::from_wasm(&store.0.opaque.tables[self.0.check(&store.0.opaque)].ty)
    }

    /// Number of elements.
    pub fn size(&self, store: impl AsContext) -> u64 {
        let store = store.as_context();
        store.0.opaque.tables[self.0.check(&store.0.opaque)].size()
    }

    /// Element `index`, or `None` when out of bounds.
    pub fn get(&self, mut store: impl AsContextMut, index: u64) -> Option<Ref> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let vm = &opaque.tables[self.0.check(opaque)];
        let word = *vm.elements().get(usize::try_from(index).ok()?)?;
        let heap = TableType::from_wasm(&vm.ty).element().heap_type().clone();
        Some(Ref::from_word(opaque, &heap, word))
    }

    /// Sets element `index`.
    pub fn set(&self, mut store: impl AsContextMut, index: u64, val: Ref) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let i = self.0.check(opaque);
        check_ref(opaque, &TableType::from_wasm(&opaque.tables[i].ty), &val)?;
        let word = val.to_word(opaque)?;
        let slot = usize::try_from(index)
            .ok()
            .and_then(|idx| opaque.tables[i].elements_mut().get_mut(idx))
            .ok_or_else(|| anyhow!("table element index out of bounds"))?;
        *slot = word;
        Ok(())
    }

    /// Grows by `delta` elements set to `init`, returning the old size.
    pub fn grow(&self, mut store: impl AsContextMut, delta: u64, init: Ref) -> Result<u64> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let i = self.0.check(opaque);
        check_ref(opaque, &TableType::from_wasm(&opaque.tables[i].ty), &init)?;
        let word = init.to_word(opaque)?;
        opaque.grow_table(i, delta, word).map_err(|e| e.error)
    }
}
