//! `Global`: a global variable owned by a store.

use crate::store::{AsContext, AsContextMut, GlobalData, Stored};
use crate::types::{GlobalType, Mutability};
use crate::values::Val;
use crate::vm::vmcontext::{VMGlobalDefinition, ValRaw};
use anyhow::{bail, Result};

/// A global.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Global(pub(crate) Stored);

impl Global {
    /// A new global of `ty` holding `val`.
    pub fn new(mut store: impl AsContextMut, ty: GlobalType, val: Val) -> Result<Global> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        if !crate::matching::val_matches(opaque, &val, ty.content().to_wasm()) {
            bail!(
                "value of type {} does not match the global's type {}",
                val.static_ty(),
                ty.content()
            );
        }
        let raw = val.to_raw_in(opaque)?;
        opaque.globals.push(GlobalData {
            def: Box::new(VMGlobalDefinition {
                bytes: raw.get_u128().to_le_bytes(),
            }),
            ty: ty.to_wasm(),
        });
        Ok(Global(Stored::new(opaque, opaque.globals.len() - 1)))
    }

    /// The type.
    pub fn ty(&self, store: impl AsContext) -> GlobalType {
        let store = store.as_context();
        GlobalType::from_wasm(&store.0.opaque.globals[self.0.check(&store.0.opaque)].ty)
    }

    /// The current value.
    pub fn get(&self, mut store: impl AsContextMut) -> Val {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let g = &opaque.globals[self.0.check(opaque)];
        let raw = ValRaw::u128(u128::from_le_bytes(g.def.bytes));
        let ty = GlobalType::from_wasm(&g.ty).content().clone();
        Val::from_raw_in(opaque, raw, ty)
    }

    /// Sets the value; errors for an immutable global or a value of another type.
    pub fn set(&self, mut store: impl AsContextMut, val: Val) -> Result<()> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let i = self.0.check(opaque);
        let ty = GlobalType::from_wasm(&opaque.globals[i].ty);
        if ty.mutability() != Mutability::Var {
            bail!("immutable global cannot be set");
        }
        if !crate::matching::val_matches(opaque, &val, opaque.globals[i].ty.content) {
            bail!(
                "value of type {} does not match the global's type {}",
                val.static_ty(),
                ty.content()
            );
        }
        let raw = val.to_raw_in(opaque)?;
        opaque.globals[i].def.bytes = raw.get_u128().to_le_bytes();
        Ok(())
    }
}
