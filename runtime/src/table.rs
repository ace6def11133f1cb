//! `Table`: a table of references owned by a store.

use crate::store::StoreOpaque;
use crate::store::{AsContext, AsContextMut, Stored};
use crate::types::TableType;
use crate::values::{Ref, Val};
use crate::vm::table::VmTable;
use anyhow::{anyhow, bail, Context, Result};

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
        Table::new_in(&mut store.as_context_mut().0.opaque, ty, init)
    }

    /// [`Table::new`] on a fiber, so that an async resource limiter can be awaited.
    pub async fn new_async(
        mut store: impl AsContextMut,
        ty: TableType,
        init: Ref,
    ) -> Result<Table> {
        let opaque = &mut store.as_context_mut().0.opaque;
        crate::async_::on_fiber(opaque, move |s| Table::new_in(s, ty, init)).await
    }

    fn new_in(opaque: &mut StoreOpaque, ty: TableType, init: Ref) -> Result<Table> {
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
        self.grow_in(&mut store.as_context_mut().0.opaque, delta, init)
    }

    /// [`Table::grow`] on a fiber, so that an async resource limiter can be awaited.
    pub async fn grow_async(
        &self,
        mut store: impl AsContextMut,
        delta: u64,
        init: Ref,
    ) -> Result<u64> {
        let opaque = &mut store.as_context_mut().0.opaque;
        let table = *self;
        crate::async_::on_fiber(opaque, move |s| table.grow_in(s, delta, init)).await
    }

    fn grow_in(&self, opaque: &mut StoreOpaque, delta: u64, init: Ref) -> Result<u64> {
        let i = self.0.check(opaque);
        check_ref(opaque, &TableType::from_wasm(&opaque.tables[i].ty), &init)?;
        let word = init.to_word(opaque)?;
        opaque.grow_table(i, delta, word).map_err(|e| e.error)
    }

    /// Copies `len` elements of `src_table` from `src_index` to `dst_table` at `dst_index`
    /// (the same table or another of the store; overlapping ranges copy as if through a
    /// buffer). Out-of-bounds ranges fail with [`Trap::TableOutOfBounds`](crate::Trap)
    /// before anything is copied; the source's elements must match the destination's
    /// element type.
    pub fn copy(
        mut store: impl AsContextMut,
        dst_table: &Table,
        dst_index: u64,
        src_table: &Table,
        src_index: u64,
        len: u64,
    ) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let (dst, src) = (dst_table.0.check(opaque), src_table.0.check(opaque));
        let range = |start: u64, size: u64| {
            start
                .checked_add(len)
                .filter(|&end| end <= size)
                .map(|end| start as usize..end as usize)
                .ok_or(crate::Trap::TableOutOfBounds)
        };
        let src_range = range(src_index, opaque.tables[src].size())?;
        let dst_range = range(dst_index, opaque.tables[dst].size())?;
        let src_ty = TableType::from_wasm(&opaque.tables[src].ty);
        let dst_ty = TableType::from_wasm(&opaque.tables[dst].ty);
        if !src_ty.element().matches(dst_ty.element()) {
            bail!(
                "type mismatch: source table's element type does not match destination \
                 table's element type"
            );
        }
        // Both tables hold elements of one hierarchy, whose words mean the same in each.
        if src == dst {
            let elements = opaque.tables[dst].elements_mut();
            elements.copy_within(src_range, dst_range.start);
        } else {
            let words = opaque.tables[src].elements()[src_range].to_vec();
            opaque.tables[dst].elements_mut()[dst_range].copy_from_slice(&words);
        }
        Ok(())
    }

    /// Sets the `len` elements from `dst` to `val`. An out-of-bounds range fails with
    /// [`Trap::TableOutOfBounds`](crate::Trap) before anything is written.
    pub fn fill(&self, mut store: impl AsContextMut, dst: u64, val: Ref, len: u64) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let i = self.0.check(opaque);
        check_ref(opaque, &TableType::from_wasm(&opaque.tables[i].ty), &val)
            .context("type mismatch: value does not match table element type")?;
        let word = val.to_word(opaque)?;
        let end = dst
            .checked_add(len)
            .filter(|&end| end <= opaque.tables[i].size())
            .ok_or(crate::Trap::TableOutOfBounds)?;
        opaque.tables[i].elements_mut()[dst as usize..end as usize].fill(word);
        Ok(())
    }
}
