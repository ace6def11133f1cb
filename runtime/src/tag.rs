//! Exception tags and the exceptions thrown with them (exception-handling proposal).
//!
//! A tag is an object of the store, like a global: its store index is its identity, the
//! value an instance keeps in its `VMContext` tag slots and that `catch` clauses compare.
//! An exception is an object of the store too (its tag and payload); an `exnref` is a 1-based
//! index into the store's exceptions. There is no collector: an exception that wasm ever held
//! as an `exnref` (caught by a `_ref` clause) lives as long as the store, as externrefs do;
//! one that was only thrown and caught (or reached the host) is freed then, since nothing can
//! refer to it any more, and its slot is reused.

use crate::store::{AsContext, AsContextMut, StoreOpaque, Stored};
use crate::types::FuncType;
use crate::vm::vmcontext::ValRaw;
use anyhow::{bail, Result};
use std::fmt;

/// The type of a tag: the parameters of its function type are the payload of its
/// exceptions; it has no results.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagType {
    ty: FuncType,
}

impl TagType {
    /// The tag type whose payload is `ty`'s parameters. `ty` must have no results.
    pub fn new(ty: FuncType) -> Self {
        Self { ty }
    }

    /// The function type (parameters = payload).
    pub fn ty(&self) -> &FuncType {
        &self.ty
    }
}

impl fmt::Display for TagType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tag {}", self.ty)
    }
}

/// A tag of a store: defined by an instance, exported, imported by others (which then share
/// its identity: an exception thrown with it is caught by a `catch` of either).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Tag(pub(crate) Stored);

impl Tag {
    /// A new tag of type `ty`, distinct from every other.
    pub fn new(mut store: impl AsContextMut, ty: &TagType) -> Result<Tag> {
        if ty.ty.results().len() != 0 {
            bail!("non-empty tag result type");
        }
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let index = opaque.new_tag(ty.ty.clone());
        Ok(Tag(Stored::new(opaque, index)))
    }

    /// The tag's type.
    pub fn ty(&self, store: impl AsContext) -> TagType {
        let ctx = store.as_context();
        let opaque = &ctx.0.opaque;
        TagType::new(opaque.tags[self.0.check(opaque)].ty.clone())
    }

    /// Whether `a` and `b` are the same tag.
    pub fn eq(a: &Tag, b: &Tag, _store: impl AsContext) -> bool {
        a == b
    }
}

/// A tag's data in its store.
pub(crate) struct TagData {
    pub(crate) ty: FuncType,
}

/// A thrown exception: its tag (store index) and payload, one raw slot per tag parameter.
pub(crate) struct ExceptionData {
    pub(crate) tag: usize,
    pub(crate) payload: Box<[ValRaw]>,
    /// Whether wasm ever received it as an `exnref` (then it is never freed).
    pub(crate) kept: bool,
}

impl StoreOpaque {
    /// Adds a tag; returns its index (its identity).
    pub(crate) fn new_tag(&mut self, ty: FuncType) -> usize {
        self.tags.push(TagData { ty });
        self.tags.len() - 1
    }

    /// Adds an exception (in a free slot if there is one); returns its exnref.
    pub(crate) fn new_exception(&mut self, exn: ExceptionData) -> u64 {
        match self.free_exceptions.pop() {
            Some(i) => {
                self.exceptions[i] = exn;
                i as u64 + 1
            }
            None => {
                self.exceptions.push(exn);
                self.exceptions.len() as u64
            }
        }
    }

    /// A `catch` clause took the pending exception `exn`: clears it, and frees it unless wasm
    /// holds (`keep`) or ever held it.
    pub(crate) fn exception_caught(&mut self, exn: u64, keep: bool) {
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        unsafe { *self.limits.pending_exception.get() = 0 };
        self.release_exception(exn, keep);
    }

    fn release_exception(&mut self, exn: u64, keep: bool) {
        let i = exn as usize - 1;
        let data = &mut self.exceptions[i];
        data.kept |= keep;
        if !data.kept {
            data.payload = Box::default();
            self.free_exceptions.push(i);
        }
    }

    /// Takes the exception left pending by wasm that returned to the host, if any.
    pub(crate) fn take_pending_exception(&mut self) -> Option<UncaughtException> {
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        let exn = unsafe { std::mem::take(&mut *self.limits.pending_exception.get()) };
        if exn == 0 {
            return None;
        }
        let tag = self.exceptions.get(exn as usize - 1).map(|e| e.tag);
        self.release_exception(exn, false);
        Some(UncaughtException { tag })
    }
}

/// The error of a call into wasm that threw an exception no `try_table` caught.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UncaughtException {
    tag: Option<usize>,
}

impl fmt::Display for UncaughtException {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.tag {
            Some(tag) => write!(f, "uncaught wasm exception (tag {tag} of the store)"),
            None => f.write_str("uncaught wasm exception"),
        }
    }
}

impl std::error::Error for UncaughtException {}

#[cfg(test)]
mod tests {
    use crate::{Config, Engine, Instance, Module, Store};

    #[test]
    fn exceptions_caught_without_ref_are_freed_and_reused() {
        let mut config = Config::new();
        config.wasm_exceptions(true);
        let engine = Engine::new(&config).unwrap();
        let module = Module::new(
            &engine,
            r#"(module
              (tag $e (param i32))
              (func $throw (param i32) local.get 0 throw $e)
              ;; Throws and catches `n` times; returns the sum of the payloads.
              (func (export "plain") (param $n i32) (result i32)
                (local $sum i32)
                (loop $l
                  (block $h (result i32)
                    (try_table (catch $e $h) local.get $n call $throw)
                    unreachable)
                  local.get $sum i32.add local.set $sum
                  local.get $n i32.const 1 i32.sub local.tee $n
                  br_if $l)
                local.get $sum)
              ;; The same with `catch_ref`: wasm holds each exnref, so none is freed.
              (func (export "with_ref") (param $n i32)
                (loop $l
                  (block $h (result i32 exnref)
                    (try_table (catch_ref $e $h) local.get $n call $throw)
                    unreachable)
                  drop drop
                  local.get $n i32.const 1 i32.sub local.tee $n
                  br_if $l))
              (func (export "uncaught") i32.const 0 call $throw))"#,
        )
        .unwrap();
        let mut store = Store::new(&engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let plain = instance
            .get_typed_func::<i32, i32>(&mut store, "plain")
            .unwrap();
        assert_eq!(plain.call(&mut store, 1000).unwrap(), 500500);
        assert_eq!(store.inner.opaque.exceptions.len(), 1, "one slot, reused");
        let uncaught = instance
            .get_typed_func::<(), ()>(&mut store, "uncaught")
            .unwrap();
        assert!(uncaught.call(&mut store, ()).is_err());
        assert_eq!(store.inner.opaque.exceptions.len(), 1, "freed at the host");
        let with_ref = instance
            .get_typed_func::<i32, ()>(&mut store, "with_ref")
            .unwrap();
        with_ref.call(&mut store, 10).unwrap();
        assert_eq!(store.inner.opaque.exceptions.len(), 10);
        assert!(store.inner.opaque.exceptions.iter().all(|e| e.kept));
    }
}
