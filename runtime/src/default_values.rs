//! Default values of types: zero for numbers, null for nullable references, and objects
//! built from those (what `Linker::define_unknown_imports_as_default_values` defines).

use crate::externals::Extern;
use crate::func::Func;
use crate::global::Global;
use crate::instance::Instance;
use crate::memory::Memory;
use crate::store::{AsContextMut, StoreOpaque};
use crate::table::Table;
use crate::tag::{Tag, TagType};
use crate::types::{ExternType, FuncType, GlobalType, MemoryType, TableType, ValType};
use crate::values::{Val, V128};
use crate::vm::vmcontext::ValRaw;
use anyhow::{anyhow, bail, Context, Result};
use std::sync::Arc;

impl ValType {
    /// Zero of a numeric type, null of a nullable reference type; `None` for a
    /// non-nullable reference type, which has no default.
    pub fn default_value(&self) -> Option<Val> {
        match self {
            ValType::I32 => Some(Val::I32(0)),
            ValType::I64 => Some(Val::I64(0)),
            ValType::F32 => Some(Val::F32(0)),
            ValType::F64 => Some(Val::F64(0)),
            ValType::V128 => Some(Val::V128(V128::from(0))),
            ValType::Ref(r) if r.is_nullable() => Some(Val::null_ref(r.heap_type())),
            ValType::Ref(_) => None,
        }
    }
}

impl FuncType {
    /// A host function of this type that ignores its arguments and returns the default
    /// value of each result type; an error when a result type has none.
    pub fn default_value(&self, mut store: impl AsContextMut) -> Result<Func> {
        if self.results().any(|t| t.default_value().is_none()) {
            bail!("function results do not have a default value");
        }
        // Zero and null are both all-zero raw slots.
        let results = self.results().len();
        let body = move |_: *mut StoreOpaque, _: Option<Instance>, raw: &mut [ValRaw]| {
            raw[..results].fill(ValRaw::default());
            Ok(())
        };
        Func::from_host_fn(&mut store.as_context_mut().0.opaque, self, Arc::new(body))
    }
}

impl GlobalType {
    /// A new global of this type holding its content type's default value.
    pub fn default_value(&self, store: impl AsContextMut) -> Result<Global> {
        let val = self
            .content()
            .default_value()
            .ok_or_else(|| anyhow!("global type has no default value"))?;
        Global::new(store, self.clone(), val)
    }
}

impl TableType {
    /// A new table of this type (its minimum size) holding null references.
    pub fn default_value(&self, store: impl AsContextMut) -> Result<Table> {
        let init = ValType::Ref(self.element().clone())
            .default_value()
            .and_then(Val::ref_)
            .context("table element type does not have a default value")?;
        Table::new(store, self.clone(), init)
    }
}

impl MemoryType {
    /// A new, zeroed memory of this type (a [`crate::SharedMemory`] for a shared type).
    pub fn default_value(&self, store: impl AsContextMut) -> Result<Extern> {
        if self.is_shared() {
            let engine = store.as_context().engine().clone();
            return Ok(Extern::SharedMemory(crate::SharedMemory::new(
                &engine,
                self.clone(),
            )?));
        }
        Ok(Extern::Memory(Memory::new(store, self.clone())?))
    }
}

impl TagType {
    /// A new tag of this type (a tag has no content besides its type).
    pub fn default_value(&self, store: impl AsContextMut) -> Result<Tag> {
        Tag::new(store, self)
    }
}

impl ExternType {
    /// The default value of the function, global, table or memory type (see each).
    pub fn default_value(&self, store: impl AsContextMut) -> Result<Extern> {
        Ok(match self {
            ExternType::Func(ty) => Extern::Func(ty.default_value(store)?),
            ExternType::Global(ty) => Extern::Global(ty.default_value(store)?),
            ExternType::Table(ty) => Extern::Table(ty.default_value(store)?),
            ExternType::Memory(ty) => ty.default_value(store)?,
            ExternType::Tag(ty) => Extern::Tag(ty.default_value(store)?),
        })
    }
}
