//! External references: host values that wasm can hold and pass around but not inspect.

use crate::store::{AsContext, AsContextMut, StoreContext, StoreContextMut, StoreOpaque, Stored};
use anyhow::{bail, Result};
use std::any::Any;

/// A reference to a host value owned by a store. The value lives as long as the store,
/// unless an embedder tracking its roots frees it
/// ([`Store::collect_externrefs`](crate::Store::collect_externrefs)).
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

    /// [`ExternRef::new`], as Wasmtime's async allocation (nothing here waits: externrefs
    /// are not bounded by a GC heap).
    pub async fn new_async<T>(store: impl AsContextMut, value: T) -> Result<ExternRef>
    where
        T: 'static + Any + Send + Sync,
    {
        ExternRef::new(store, value)
    }

    /// Like [`ExternRef::new`]; externrefs live as long as their store, so "manual" rooting
    /// changes nothing but the type.
    pub fn new_manually_rooted<T>(
        store: impl AsContextMut,
        value: T,
    ) -> Result<ManuallyRooted<ExternRef>>
    where
        T: 'static + Any + Send + Sync,
    {
        Ok(ManuallyRooted(ExternRef::new(store, value)?))
    }

    /// The host value, as in Wasmtime (27 and later): always `Some` here, since every
    /// externref has host data (Wasmtime gives `None` for references wasm made with
    /// `extern.convert_any`, which needs GC). Errors for another store's reference.
    pub fn data<'a, T: 'a>(
        &self,
        store: impl Into<StoreContext<'a, T>>,
    ) -> Result<Option<&'a (dyn Any + Send + Sync)>> {
        let store = store.into();
        let opaque = &store.0.opaque;
        if !self.0.belongs_to(opaque) {
            bail!("externref used with the wrong store");
        }
        Ok(opaque.externrefs.get(self.0.index))
    }

    /// The host value, mutably, as in Wasmtime: always `Some` here, since every externref has
    /// host data. Errors for another store's reference.
    pub fn data_mut<'a, T: 'a>(
        &self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Result<Option<&'a mut (dyn Any + Send + Sync)>> {
        let store = store.into();
        let opaque = &mut store.0.opaque;
        if !self.0.belongs_to(opaque) {
            bail!("externref used with the wrong store");
        }
        Ok(opaque.externrefs.get_mut(self.0.index))
    }

    /// This reference as a [`ManuallyRooted`] one.
    pub fn to_manually_rooted(
        &self,
        store: impl AsContextMut,
    ) -> Result<ManuallyRooted<ExternRef>> {
        self.check(&store.as_context().0.opaque)?;
        Ok(ManuallyRooted(*self))
    }

    /// Whether `a` and `b` are the same reference (not merely equal host values).
    pub fn ref_eq(store: impl AsContext, a: &ExternRef, b: &ExternRef) -> Result<bool> {
        let cx = store.as_context();
        a.check(&cx.0.opaque)?;
        b.check(&cx.0.opaque)?;
        Ok(a == b)
    }

    fn check(&self, store: &StoreOpaque) -> Result<()> {
        if !self.0.belongs_to(store) {
            bail!("externref used with the wrong store");
        }
        Ok(())
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
        let live = opaque.externrefs.get(index).is_some();
        live.then(|| ExternRef(Stored::new(opaque, index)))
    }

    pub(crate) fn from_word(store: &StoreOpaque, word: u64) -> Option<ExternRef> {
        (word != 0).then(|| ExternRef(Stored::new(store, word as usize - 1)))
    }
}

/// Wasmtime's handle for a GC reference rooted in the current [`RootScope`]. Externrefs here
/// live as long as their store (there is no collector), so a rooted reference is the reference
/// itself: `Rooted<ExternRef>` is `ExternRef`.
pub type Rooted<T> = T;

/// Wasmtime's handle for a GC reference that stays rooted until [`ManuallyRooted::unroot`].
/// Here it wraps the reference, which lives as long as its store anyway.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ManuallyRooted<T>(pub(crate) T);

impl ManuallyRooted<ExternRef> {
    /// A second handle to the same reference.
    pub fn clone(&self, _store: impl AsContextMut) -> Self {
        ManuallyRooted(self.0)
    }

    /// The reference as a [`Rooted`] one.
    pub fn to_rooted(&self, _store: impl AsContextMut) -> Rooted<ExternRef> {
        self.0
    }

    /// The reference as a [`Rooted`] one, consuming this handle.
    pub fn into_rooted(self, _store: impl AsContextMut) -> Rooted<ExternRef> {
        self.0
    }

    /// Ends this root.
    pub fn unroot(self, _store: impl AsContextMut) {}

    /// Whether `a` and `b` are the same reference.
    pub fn ref_eq(
        store: impl AsContext,
        a: &ManuallyRooted<ExternRef>,
        b: &ManuallyRooted<ExternRef>,
    ) -> Result<bool> {
        ExternRef::ref_eq(store, &a.0, &b.0)
    }
}

impl std::ops::Deref for ManuallyRooted<ExternRef> {
    type Target = ExternRef;
    fn deref(&self) -> &ExternRef {
        &self.0
    }
}

impl From<ManuallyRooted<ExternRef>> for crate::Val {
    fn from(r: ManuallyRooted<ExternRef>) -> crate::Val {
        crate::Val::ExternRef(Some(r.0))
    }
}

impl From<ManuallyRooted<ExternRef>> for crate::Ref {
    fn from(r: ManuallyRooted<ExternRef>) -> crate::Ref {
        crate::Ref::Extern(Some(r.0))
    }
}

/// Wasmtime's scope for [`Rooted`] references: the references rooted while it lives are
/// unrooted when it is dropped. Here it is only a wrapper of the store context it borrows.
pub struct RootScope<C: AsContextMut> {
    store: C,
}

impl<C: AsContextMut> RootScope<C> {
    /// A scope over `store`.
    pub fn new(store: C) -> Self {
        RootScope { store }
    }

    /// Reserves room for `additional` roots (nothing to do here).
    pub fn reserve(&mut self, additional: usize) {
        let _ = additional;
    }
}

impl<C: AsContextMut> AsContext for RootScope<C> {
    type Data = C::Data;
    fn as_context(&self) -> StoreContext<'_, C::Data> {
        self.store.as_context()
    }
}

impl<C: AsContextMut> AsContextMut for RootScope<C> {
    fn as_context_mut(&mut self) -> StoreContextMut<'_, C::Data> {
        self.store.as_context_mut()
    }
}

/// Wasmtime's error for a GC heap that could not fit an allocation. wasmjit has no GC heap
/// and never returns it; it exists for [`Store::gc`](crate::Store::gc)'s signature.
#[derive(Debug)]
pub struct GcHeapOutOfMemory<T> {
    inner: T,
    bytes_needed: u64,
}

impl<T> GcHeapOutOfMemory<T> {
    /// The value whose allocation failed.
    pub fn inner(&self) -> &T {
        &self.inner
    }
    /// The value whose allocation failed.
    pub fn into_inner(self) -> T {
        self.inner
    }
    /// Bytes the allocation needed.
    pub fn bytes_needed(&self) -> u64 {
        self.bytes_needed
    }
}

impl<T> std::fmt::Display for GcHeapOutOfMemory<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GC heap out of memory")
    }
}

impl<T: std::fmt::Debug> std::error::Error for GcHeapOutOfMemory<T> {}

impl<T> crate::Store<T> {
    /// Collects garbage. Externrefs here live as long as their store (there is no collector),
    /// so there is nothing to do.
    pub fn gc(&mut self, why: Option<&GcHeapOutOfMemory<()>>) -> Result<()> {
        let _ = why;
        Ok(())
    }

    /// [`Store::gc`](crate::Store::gc) for async stores: nothing to do either.
    pub async fn gc_async(&mut self, why: Option<&GcHeapOutOfMemory<()>>) -> Result<()>
    where
        T: Send + 'static,
    {
        self.gc(why)
    }
}

impl<T> crate::StoreContextMut<'_, T> {
    /// Collects garbage: nothing to do (see [`Store::gc`](crate::Store::gc)).
    pub fn gc(&mut self, why: Option<&GcHeapOutOfMemory<()>>) -> Result<()> {
        let _ = why;
        Ok(())
    }
}

impl<T> crate::Caller<'_, T> {
    /// Collects garbage: nothing to do (see [`Store::gc`](crate::Store::gc)).
    pub fn gc(&mut self, why: Option<&GcHeapOutOfMemory<()>>) -> Result<()> {
        let _ = why;
        Ok(())
    }
}

/// The host values of a store's externrefs (its room of `StoreOpaque`); a handle is an
/// index + 1.
#[derive(Default)]
pub(crate) struct ExternRefTable {
    /// `None`: freed by a collection.
    values: Vec<Option<Box<dyn Any + Send + Sync>>>,
    /// Indices of freed entries, for reuse.
    free: Vec<usize>,
}

impl ExternRefTable {
    /// The value at `index`; `None` once freed or never made.
    pub(crate) fn get(&self, index: usize) -> Option<&(dyn Any + Send + Sync)> {
        self.values.get(index)?.as_deref()
    }

    /// The value at `index`, mutably.
    pub(crate) fn get_mut(&mut self, index: usize) -> Option<&mut (dyn Any + Send + Sync)> {
        self.values.get_mut(index)?.as_deref_mut()
    }

    /// Slots made so far, freed ones included.
    fn slots(&self) -> usize {
        self.values.len()
    }

    /// How many values are held (made and not freed).
    fn live(&self) -> usize {
        self.values.len() - self.free.len()
    }

    /// Frees slot `i`, dropping its value.
    fn free_slot(&mut self, i: usize) {
        self.values[i] = None;
        self.free.push(i);
    }
}

impl StoreOpaque {
    /// Registers a host value as an externref; its handle is never 0 (0 is null).
    pub(crate) fn add_externref(&mut self, value: Box<dyn Any + Send + Sync>) -> u64 {
        let table = &mut self.externrefs;
        match table.free.pop() {
            Some(i) => {
                table.values[i] = Some(value);
                i as u64 + 1
            }
            None => {
                table.values.push(Some(value));
                table.values.len() as u64
            }
        }
    }

    /// Frees the externrefs that neither wasm nor `rooted` can reach (see
    /// [`Store::collect_externrefs`](crate::Store::collect_externrefs)); returns how many, or
    /// `None` while wasm of the store runs or is suspended.
    fn collect_externrefs(&mut self, rooted: &dyn Fn(ExternRef) -> bool) -> Option<usize> {
        if self.wasm_entries > 0 || self.has_parked_calls() {
            return None;
        }
        let mut reached = vec![false; self.externrefs.slots()];
        let mut reach = |word: u64| {
            // An externref is 32 bits wide in raw form; the rest of a slot is not ours.
            if let Some(i) = (word as u32 as usize).checked_sub(1) {
                if let Some(r) = reached.get_mut(i) {
                    *r = true;
                }
            }
        };
        self.visit_held_references(|ty| ty.is_extern_ref(), &mut reach);
        for exception in self.exceptions.iter() {
            let Some(tag) = self.tags.get(exception.tag) else {
                continue; // freed
            };
            for (ty, value) in tag.ty.params().zip(exception.payload.iter()) {
                if ty.to_wasm().is_extern_ref() {
                    reach(value.get_reference());
                }
            }
        }
        let mut freed = 0;
        for (i, reached) in reached.into_iter().enumerate() {
            if reached || self.externrefs.get(i).is_none() {
                continue;
            }
            if rooted(ExternRef(Stored::new(self, i))) {
                continue;
            }
            // The value's destructor is the host's: it may panic, but runs outside wasm.
            self.externrefs.free_slot(i);
            freed += 1;
        }
        Some(freed)
    }
}

impl<T> crate::Store<T> {
    /// Frees the externrefs of this store that no global, table or exception payload holds
    /// and for which `rooted` returns false, and returns how many were freed; their slots are
    /// reused. Does nothing and returns `None` while wasm of the store runs or is suspended
    /// (its frames may hold any externref).
    ///
    /// For embedders that track which externrefs they hold (the C API, whose handles are
    /// rooted until unrooted); an `ExternRef` kept past its collection reads as freed
    /// (`data` is `None`) until its slot is reused, when it names the new value.
    #[doc(hidden)]
    pub fn collect_externrefs(&mut self, rooted: impl Fn(ExternRef) -> bool) -> Option<usize> {
        self.inner.opaque.collect_externrefs(&rooted)
    }

    /// How many externrefs this store holds (made and not freed).
    #[doc(hidden)]
    pub fn live_externrefs(&self) -> usize {
        self.inner.opaque.externrefs.live()
    }
}
