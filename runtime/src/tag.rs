//! Exception tags and the exceptions thrown with them (exception-handling proposal).
//!
//! A tag is an object of the store, like a global: its store index is its identity, the
//! value an instance keeps in its `VMContext` tag slots and that `catch` clauses compare.
//! An exception is an object of the store too (its tag and payload); an `exnref` is a 1-based
//! index into the store's exceptions. Exceptions live as long as the store (there is no
//! collector), as externrefs do.

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
}

impl StoreOpaque {
    /// Adds a tag; returns its index (its identity).
    pub(crate) fn new_tag(&mut self, ty: FuncType) -> usize {
        self.tags.push(TagData { ty });
        self.tags.len() - 1
    }

    /// Takes the exception left pending by wasm that returned to the host, if any.
    pub(crate) fn take_pending_exception(&mut self) -> Option<UncaughtException> {
        // SAFETY: the limits are only touched by this thread while the store is borrowed.
        let exn = unsafe { std::mem::take(&mut *self.limits.pending_exception.get()) };
        if exn == 0 {
            return None;
        }
        let tag = self.exceptions.get(exn as usize - 1).map(|e| e.tag);
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
