//! The externrefs C holds. Every `wasmtime_externref_t` (alone or in a `wasmtime_val_t`)
//! that the API hands out is a root, from the call that made it until C unroots it
//! (`wasmtime_externref_unroot`, `wasmtime_val_unroot`); cloning one adds a root. Collection
//! ([`collect`]) frees the store's externrefs that neither a root nor wasm (a global, a table,
//! an exception) holds, so a store that keeps making and unrooting externrefs stays bounded.

use crate::store::StoreRef;
use crate::wasmtime_context_t;
use std::collections::HashMap;
use wasmjit::ExternRef;

/// Live externrefs below which no automatic collection runs.
const MIN_COLLECTION: usize = 1024;

/// The C handles of a store's externrefs: a handle's index (1-based in `private1`) names a
/// slot; a slot counts the handles C holds to its externref.
pub(crate) struct ExternRefRoots {
    slots: Vec<Option<(ExternRef, u32)>>,
    by_ref: HashMap<ExternRef, usize>,
    free: Vec<usize>,
    /// Live externrefs of the store at which `wasmtime_externref_new` collects next.
    collect_at: usize,
}

impl Default for ExternRefRoots {
    fn default() -> Self {
        Self {
            slots: Vec::new(),
            by_ref: HashMap::new(),
            free: Vec::new(),
            collect_at: MIN_COLLECTION,
        }
    }
}

impl ExternRefRoots {
    /// Adds a root of `r`; returns the index of its handle slot.
    pub(crate) fn root(&mut self, r: ExternRef) -> usize {
        if let Some(&i) = self.by_ref.get(&r) {
            if let Some((_, count)) = &mut self.slots[i] {
                *count = count.saturating_add(1);
            }
            return i;
        }
        let i = match self.free.pop() {
            Some(i) => {
                self.slots[i] = Some((r, 1));
                i
            }
            None => {
                self.slots.push(Some((r, 1)));
                self.slots.len() - 1
            }
        };
        self.by_ref.insert(r, i);
        i
    }

    /// The externref of handle slot `i`, if it is rooted.
    pub(crate) fn get(&self, i: usize) -> Option<ExternRef> {
        self.slots.get(i)?.map(|(r, _)| r)
    }

    /// Removes one root from slot `i`; the slot is free once none is left. Unknown or
    /// already free slots are ignored (a handle unrooted twice).
    pub(crate) fn unroot(&mut self, i: usize) {
        let Some(Some((r, count))) = self.slots.get_mut(i) else {
            return;
        };
        *count -= 1;
        if *count == 0 {
            let r = *r;
            self.slots[i] = None;
            self.by_ref.remove(&r);
            self.free.push(i);
        }
    }

    fn is_rooted(&self, r: ExternRef) -> bool {
        self.by_ref.contains_key(&r)
    }
}

/// Roots `r` for the life of the store: `wasm.h` foreign objects have no unroot.
pub(crate) fn root_forever(store: &StoreRef, r: ExternRef) {
    store.with(|ctx| {
        ctx.data_mut().externrefs.root(r);
    });
}

/// Frees the store's externrefs that nothing holds (see the module docs); does nothing
/// while wasm of the store runs or is suspended. Returns how many were freed.
pub(crate) fn collect(context: &mut wasmtime_context_t) -> usize {
    let roots = std::mem::take(&mut context.data_mut().externrefs);
    let freed = context
        .store
        .collect_externrefs(|r| roots.is_rooted(r))
        .unwrap_or(0);
    let live = context.store.live_externrefs();
    let data = context.data_mut();
    data.externrefs = roots;
    data.externrefs.collect_at = (2 * live).max(MIN_COLLECTION);
    freed
}

/// Collects when the store's live externrefs have doubled since the last collection.
pub(crate) fn maybe_collect(context: &mut wasmtime_context_t) {
    if context.store.live_externrefs() >= context.data().externrefs.collect_at {
        collect(context);
    }
}

#[cfg(test)]
mod tests {
    use crate::val::{
        wasmtime_externref_clone, wasmtime_externref_data, wasmtime_externref_new,
        wasmtime_externref_unroot,
    };
    use crate::{wasm_engine_new, wasmtime_externref_t, wasmtime_store_new};
    use std::ffi::c_void;
    use std::ptr;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use wasmjit::{Global, GlobalType, Mutability, Val, ValType};

    /// Finalizer calls of the externrefs made by `externrefs_made_and_unrooted_are_freed`.
    static FINALIZED: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn count_finalized(_data: *mut c_void) {
        FINALIZED.fetch_add(1, Ordering::SeqCst);
    }

    fn new_externref(ctx: &mut crate::wasmtime_context_t, data: usize) -> wasmtime_externref_t {
        let mut r = wasmtime_externref_t {
            store_id: 0,
            private1: 0,
            private2: 0,
        };
        // SAFETY: `r` is writable.
        assert!(unsafe {
            wasmtime_externref_new(ctx, data as *mut c_void, Some(count_finalized), &mut r)
        });
        r
    }

    /// A long-lived store making and unrooting externrefs in a loop keeps a bounded number
    /// alive; what C still holds (directly, through a clone) or wasm holds (a global) stays.
    #[test]
    fn externrefs_made_and_unrooted_are_freed() {
        let engine = wasm_engine_new().unwrap();
        let mut store = wasmtime_store_new(&engine, ptr::null_mut(), None);
        let ctx = &mut store.context;
        let mut kept = new_externref(ctx, 1);
        let in_global = new_externref(ctx, 2);
        let e = ctx.data().externref_from_c(&in_global).unwrap();
        let global = Global::new(
            &mut ctx.store,
            GlobalType::new(ValType::EXTERNREF, Mutability::Var),
            Val::ExternRef(e),
        )
        .unwrap();
        let mut in_global = in_global;
        // SAFETY: a handle of this store.
        unsafe { wasmtime_externref_unroot(ctx, &mut in_global) };
        let mut clone = wasmtime_externref_t {
            store_id: 0,
            private1: 0,
            private2: 0,
        };
        let mut original = new_externref(ctx, 3);
        // SAFETY: handles of this store.
        unsafe {
            wasmtime_externref_clone(ctx, &original, &mut clone);
            wasmtime_externref_unroot(ctx, &mut original);
        }

        const MADE: usize = 20_000;
        for i in 0..MADE {
            let mut r = new_externref(ctx, 100 + i);
            // SAFETY: a handle of this store.
            unsafe { wasmtime_externref_unroot(ctx, &mut r) };
        }
        let live = ctx.store.live_externrefs();
        assert!(
            live <= 2 * super::MIN_COLLECTION + 3,
            "{live} externrefs alive"
        );
        assert!(FINALIZED.load(Ordering::SeqCst) >= MADE - 2 * super::MIN_COLLECTION);

        crate::wasmtime_context_gc(ctx);
        assert_eq!(ctx.store.live_externrefs(), 3);
        assert_eq!(wasmtime_externref_data(ctx, &kept) as usize, 1);
        assert_eq!(wasmtime_externref_data(ctx, &clone) as usize, 3);
        let held = global.get(&mut ctx.store);
        let held = held.externref().unwrap().copied().unwrap();
        let any = held.data(&ctx.store).unwrap().expect("kept by the global");
        assert!(any.downcast_ref::<crate::val::CExternRefData>().is_some());

        // Dropped by the global and unrooted by C: freed.
        global.set(&mut ctx.store, Val::ExternRef(None)).unwrap();
        // SAFETY: handles of this store.
        unsafe {
            wasmtime_externref_unroot(ctx, &mut kept);
            wasmtime_externref_unroot(ctx, &mut clone);
        }
        crate::wasmtime_context_gc(ctx);
        assert_eq!(ctx.store.live_externrefs(), 0);
        assert_eq!(FINALIZED.load(Ordering::SeqCst), MADE + 3);
    }
}
