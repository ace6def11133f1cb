//! Exceptions as host values: `exnref` values ([`ExnRef`]), their types ([`ExnType`]), the
//! host creating them ([`ExnRefPre`], [`ExnRef::new`]), and exceptions crossing the host
//! boundary ([`ThrownException`], `Store::throw`/`take_pending_exception`), as in Wasmtime 48.
//!
//! An `ExnRef` names a slot of the store's exceptions (`tag.rs`). Wasmjit has no roots to
//! trace for host handles, which are `Copy`, so an exception the host is handed is *pinned*:
//! it lives as long as the store, like an externref of the Rust API. The exception a call
//! into wasm left uncaught waits in the store's `thrown_exception` slot (a root of the
//! exception collector, not pinned: once another replaces it without the host having taken
//! it, it is garbage) until the host takes it, or a host function returns the
//! `ThrownException` error to the wasm that called it, which then throws it there.

use crate::engine::Engine;
use crate::store::{AsContext, AsContextMut, Store, StoreContextMut, StoreOpaque, Stored};
use crate::tag::{Tag, TagType};
use crate::types::{FieldType, FuncType, HeapType, Mutability, StorageType, ValType};
use crate::values::Val;
use anyhow::{bail, ensure, Context, Result};
use std::fmt;

/// The error of a call whose exception was not caught: by wasm that the host called (the
/// exception is then the store's pending exception), or thrown by the host
/// ([`Store::throw`]). Take the exception with [`Store::take_pending_exception`].
#[derive(Debug)]
pub struct ThrownException;

impl fmt::Display for ThrownException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("thrown Wasm exception")
    }
}

impl std::error::Error for ThrownException {}

/// A reference to an exception object of a store (an `exnref` that is not null).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ExnRef(pub(crate) Stored);

/// The type of exception objects: the payload of a tag type.
#[derive(Debug, Clone)]
pub struct ExnType {
    engine: Engine,
    ty: FuncType,
}

impl fmt::Display for ExnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(exn {}", self.ty)?;
        for field in self.fields() {
            write!(f, " (field {field})")?;
        }
        f.write_str(")")
    }
}

/// The engine of the exception types made from tag types, which belong to no engine here:
/// one default engine, made once.
fn engine_for_types() -> &'static Engine {
    static ENGINE: std::sync::OnceLock<Engine> = std::sync::OnceLock::new();
    ENGINE.get_or_init(Engine::default)
}

impl ExnType {
    /// The type of exceptions whose payload has the types `fields`.
    pub fn new(engine: &Engine, fields: impl IntoIterator<Item = ValType>) -> Result<ExnType> {
        let ty = FuncType::try_new(engine, fields, [])?;
        Ok(ExnType {
            engine: engine.clone(),
            ty,
        })
    }

    /// The type of the exceptions thrown with tags of type `tag`.
    pub fn from_tag_type(tag: &TagType) -> Result<ExnType> {
        ensure!(
            tag.ty().results().len() == 0,
            "Cannot create an exception type from a tag type with results in the signature"
        );
        Ok(ExnType {
            engine: engine_for_types().clone(),
            ty: tag.ty().clone(),
        })
    }

    /// The tag type whose exceptions are of this type.
    pub fn tag_type(&self) -> TagType {
        TagType::new(self.ty.clone())
    }

    /// Payload field `i` (immutable).
    pub fn field(&self, i: usize) -> Option<FieldType> {
        let ty = self.ty.params().nth(i)?;
        Some(FieldType::new(Mutability::Const, StorageType::ValType(ty)))
    }

    /// The payload fields, in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = FieldType> + '_ {
        self.ty
            .params()
            .map(|ty| FieldType::new(Mutability::Const, StorageType::ValType(ty)))
    }

    /// The engine this type was made for.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether exceptions of this type are of `other`'s: exception types have no subtypes,
    /// so whether the two are the same.
    pub fn matches(&self, other: &ExnType) -> bool {
        self.ty == other.ty
    }
}

/// Creates exceptions of one type in one store ([`ExnRef::new`]).
pub struct ExnRefPre {
    store: Stored,
    ty: ExnType,
}

impl ExnRefPre {
    /// An allocator of exceptions of type `ty` in `store`.
    pub fn new(mut store: impl AsContextMut, ty: ExnType) -> Self {
        let opaque = &store.as_context_mut().0.opaque;
        ExnRefPre {
            store: Stored::new(opaque, 0),
            ty,
        }
    }
}

impl ExnRef {
    /// A new exception of `allocator`'s type thrown with `tag`, whose payload is `fields`.
    /// Errors when the tag's type is not the allocator's, the fields do not match it, or the
    /// store's limit on live exceptions is reached.
    pub fn new(
        mut store: impl AsContextMut,
        allocator: &ExnRefPre,
        tag: &Tag,
        fields: &[Val],
    ) -> Result<ExnRef> {
        let opaque = &mut store.as_context_mut().0.opaque;
        assert!(
            allocator.store.belongs_to(opaque),
            "attempted to use a `ExnRefPre` with the wrong store"
        );
        assert!(tag.0.belongs_to(opaque), "tag comes from the wrong store");
        ensure!(
            opaque.tags[tag.0.index].ty == allocator.ty.ty,
            "incorrect signature for tag when creating exception object"
        );
        let expected = allocator.ty.ty.params().len();
        ensure!(
            fields.len() == expected,
            "expected {expected} fields, got {}",
            fields.len()
        );
        let mut payload = Vec::with_capacity(expected);
        for (ty, val) in allocator.ty.ty.params().zip(fields) {
            if !crate::matching::val_matches(opaque, val, ty.to_wasm()) {
                let err =
                    anyhow::anyhow!("type mismatch: expected {ty}, found {}", val.static_ty());
                return Err(err.context("field type mismatch"));
            }
            payload.push(val.to_raw_in(opaque)?);
        }
        opaque.make_room_for_host_exception()?;
        let exn = opaque.new_exception(crate::tag::ExceptionData {
            tag: tag.0.index,
            payload: payload.into(),
            kept: true,
            pinned: true,
        });
        Ok(ExnRef(Stored::new(opaque, exn as usize - 1)))
    }

    /// [`ExnRef::new`], as Wasmtime's async allocation (nothing here waits: there is no GC
    /// heap to grow).
    pub async fn new_async(
        store: impl AsContextMut,
        allocator: &ExnRefPre,
        tag: &Tag,
        fields: &[Val],
    ) -> Result<ExnRef> {
        ExnRef::new(store, allocator, tag, fields)
    }

    /// The exception of a raw `exnref` (from [`ExnRef::to_raw`] or a raw slot): `None` for
    /// null and for values that name no live exception of this store.
    pub fn from_raw(mut store: impl AsContextMut, raw: u32) -> Option<ExnRef> {
        store
            .as_context_mut()
            .0
            .opaque
            .exnref_for_host(u64::from(raw))
    }

    /// The raw form of this reference, as compiled code and [`ValRaw`](crate::ValRaw) slots
    /// hold it (never 0, which is null).
    pub fn to_raw(&self, mut store: impl AsContextMut) -> Result<u32> {
        let opaque = &store.as_context_mut().0.opaque;
        self.check(opaque)?;
        u32::try_from(self.0.index + 1).context("too many exceptions")
    }

    /// The exception's type (its tag's payload).
    pub fn ty(&self, store: impl AsContext) -> Result<ExnType> {
        let cx = store.as_context();
        let opaque = &cx.0.opaque;
        self.check(opaque)?;
        let tag = opaque.exceptions[self.0.index].tag;
        Ok(ExnType {
            engine: opaque.engine.clone(),
            ty: opaque.tags[tag].ty.clone(),
        })
    }

    /// Whether the exception is of heap type `ty`: `exn`, its only supertype.
    pub fn matches_ty(&self, store: impl AsContext, ty: &HeapType) -> Result<bool> {
        self.check(&store.as_context().0.opaque)?;
        Ok(*ty == HeapType::Exn)
    }

    /// The tag the exception was thrown with.
    pub fn tag(&self, mut store: impl AsContextMut) -> Result<Tag> {
        let opaque = &store.as_context_mut().0.opaque;
        self.check(opaque)?;
        let tag = opaque.exceptions[self.0.index].tag;
        Ok(Tag(Stored::new(opaque, tag)))
    }

    /// Payload field `index`.
    pub fn field(&self, mut store: impl AsContextMut, index: usize) -> Result<Val> {
        let opaque = &mut store.as_context_mut().0.opaque;
        self.check(opaque)?;
        let data = &opaque.exceptions[self.0.index];
        let Some(ty) = opaque.tags[data.tag].ty.params().nth(index) else {
            let len = data.payload.len();
            bail!("cannot access field {index}: exn only has {len} fields");
        };
        let raw = data.payload[index];
        Ok(Val::from_raw_in(opaque, raw, ty))
    }

    /// The payload, field by field.
    pub fn fields<'a, T: 'static>(
        &'a self,
        store: impl Into<StoreContextMut<'a, T>>,
    ) -> Result<impl ExactSizeIterator<Item = Val> + 'a> {
        let mut store = store.into();
        self.check(&store.0.opaque)?;
        let len = store.0.opaque.exceptions[self.0.index].payload.len();
        let fields = (0..len)
            .map(|i| self.field(&mut store, i))
            .collect::<Result<Vec<_>>>()?;
        Ok(fields.into_iter())
    }

    fn check(&self, store: &StoreOpaque) -> Result<()> {
        ensure!(self.0.belongs_to(store), "exnref used with the wrong store");
        Ok(())
    }
}

impl StoreOpaque {
    /// The host's handle of exnref `word`, pinning the exception (see the module docs);
    /// `None` for null and for words that name no live exception.
    pub(crate) fn exnref_for_host(&mut self, word: u64) -> Option<ExnRef> {
        let i = usize::try_from(word).ok()?.checked_sub(1)?;
        let data = self
            .exceptions
            .get_mut(i)
            .filter(|d| d.tag != crate::tag::FREED_TAG)?;
        data.kept = true;
        data.pinned = true;
        Some(ExnRef(Stored::new(self, i)))
    }

    /// Wasm returned to the host with exception `exn` uncaught: it becomes the store's
    /// pending exception (replacing one the host did not take).
    pub(crate) fn exception_escaped(&mut self, exn: u64) {
        let i = exn as usize - 1;
        match self.exceptions.get_mut(i) {
            Some(data) if data.tag != crate::tag::FREED_TAG => {
                data.kept = true;
                self.thrown_exception = exn;
            }
            // A stale exnref thrown again with `throw_ref`: nothing to hand out.
            _ => self.thrown_exception = 0,
        }
    }

    /// Whether the engine compiles exception handling (then compiled code checks for an
    /// exception after every call).
    pub(crate) fn exceptions_enabled(&self) -> bool {
        self.engine
            .config()
            .features
            .contains(wasmparser::WasmFeatures::EXCEPTIONS)
    }

    /// Moves the store's pending exception to wasm's, so that wasm throws it when the host
    /// function it called returns; false when there is none.
    pub(crate) fn rethrow_into_wasm(&mut self) -> bool {
        let exn = std::mem::take(&mut self.thrown_exception);
        if exn == 0 {
            return false;
        }
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        unsafe { *self.limits.pending_exception.get() = exn };
        true
    }

    fn take_thrown_exception(&mut self) -> Option<ExnRef> {
        let exn = std::mem::take(&mut self.thrown_exception);
        self.exnref_for_host(exn)
    }

    fn throw_exception<R>(&mut self, exn: ExnRef) -> Result<R> {
        exn.check(self)?;
        self.thrown_exception = exn.0.index as u64 + 1;
        Err(ThrownException.into())
    }
}

impl<T> Store<T> {
    /// Makes `exception` the store's pending exception and returns the [`ThrownException`]
    /// error: returned by a host function that wasm called, it throws the exception in that
    /// wasm (where a `try_table` may catch it); returned to the host, it is the error of the
    /// call. Replaces an earlier pending exception. Always an `Err`.
    pub fn throw<R>(&mut self, exception: ExnRef) -> Result<R> {
        self.inner.opaque.throw_exception(exception)
    }

    /// Takes the store's pending exception (see [`ThrownException`]), if any.
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        self.inner.opaque.take_thrown_exception()
    }

    /// Whether the store has a pending exception.
    pub fn has_pending_exception(&self) -> bool {
        self.inner.opaque.thrown_exception != 0
    }
}

impl<T> StoreContextMut<'_, T> {
    /// As [`Store::throw`].
    pub fn throw<R>(&mut self, exception: ExnRef) -> Result<R> {
        self.0.opaque.throw_exception(exception)
    }

    /// As [`Store::take_pending_exception`].
    pub fn take_pending_exception(&mut self) -> Option<ExnRef> {
        self.0.opaque.take_thrown_exception()
    }

    /// As [`Store::has_pending_exception`].
    pub fn has_pending_exception(&self) -> bool {
        self.0.opaque.thrown_exception != 0
    }
}
