//! `Instance`: an instantiated module in a store.

use crate::externals::Extern;
use crate::func::{Func, TypedFunc, WasmParams, WasmResults};
use crate::global::Global;
use crate::memory::Memory;
use crate::module::Module;
use crate::store::{AsContextMut, StoreOpaque, Stored};
use crate::table::Table;
use crate::tag::Tag;
use crate::types::ExternType;
use anyhow::{anyhow, Context, Result};
use std::borrow::Cow;
use wasmjit_compiler::EntityIndex;
use wasmjit_compiler::{EntityRef, FuncIndex};

/// An instance of a module.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Instance(pub(crate) Stored);

/// One export of an instance.
#[derive(Debug, Clone)]
pub struct Export<'a> {
    name: &'a str,
    definition: Extern,
}

impl<'a> Export<'a> {
    /// The export's name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// What is exported.
    pub fn into_extern(self) -> Extern {
        self.definition
    }
    /// The function, if one is exported.
    pub fn into_func(self) -> Option<Func> {
        self.definition.into_func()
    }
    /// The memory, if one is exported.
    pub fn into_memory(self) -> Option<Memory> {
        self.definition.into_memory()
    }
    /// The shared memory, if one is exported.
    pub fn into_shared_memory(self) -> Option<crate::SharedMemory> {
        self.definition.into_shared_memory()
    }
    /// The table, if one is exported.
    pub fn into_table(self) -> Option<Table> {
        self.definition.into_table()
    }
    /// The global, if one is exported.
    pub fn into_global(self) -> Option<Global> {
        self.definition.into_global()
    }
    /// The tag, if one is exported.
    pub fn into_tag(self) -> Option<Tag> {
        self.definition.into_tag()
    }
    /// The type of what is exported.
    pub fn ty(&self, store: impl crate::AsContext) -> crate::ExternType {
        self.definition.ty(store)
    }
}

impl Instance {
    /// Instantiates `module` with `imports` given in the module's import order, and runs its
    /// start function.
    pub fn new(
        mut store: impl AsContextMut,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let ctx = store.as_context_mut();
        ctx.0.opaque.check_sync_allowed()?;
        Self::new_raw(&mut ctx.0.opaque, module, imports)
    }

    pub(crate) fn new_raw(
        store: &mut StoreOpaque,
        module: &Module,
        imports: &[Extern],
    ) -> Result<Instance> {
        let imports = retype_host_funcs(store, module, imports)?;
        let resolved = crate::matching::resolve_imports(store, module, &imports)?;
        let index = crate::store::instantiate::instantiate(store, module, resolved)?;
        let instance = Instance(Stored::new(store, index));
        if let Some(start) = module.inner.info.start {
            store.charge_start_call()?;
            let f = instance.func_at(store, start);
            let mut raw = [crate::vm::vmcontext::ValRaw::default(); 1];
            // SAFETY: the start function takes and returns nothing (validated).
            unsafe { crate::func::call_raw(store, f.0.index, &mut raw) }?;
        }
        Ok(instance)
    }

    /// The `Func` for function `index` of this instance.
    pub(crate) fn func_at(&self, store: &mut StoreOpaque, index: FuncIndex) -> Func {
        let inst = &store.instances[self.0.index];
        if let Some(f) = inst.funcs[index.index()] {
            return Func(Stored::new(store, f));
        }
        let word = inst.func_ref(index);
        let f = Func::from_funcref_word(store, word).expect("functions are never null");
        store.instances[self.0.index].funcs[index.index()] = Some(f.0.index);
        f
    }

    /// The export of `index`.
    fn entity(&self, store: &mut StoreOpaque, index: EntityIndex) -> Extern {
        let inst = &store.instances[self.0.index];
        match index {
            EntityIndex::Function(i) => Extern::Func(self.func_at(store, i)),
            EntityIndex::Memory(i) => {
                let mi = inst.memories[i.index()];
                match store.memories[mi].as_shared() {
                    Some(shared) => Extern::SharedMemory(crate::SharedMemory::from_vm(
                        shared.clone(),
                        &store.engine,
                    )),
                    None => Extern::Memory(Memory(Stored::new(store, mi))),
                }
            }
            EntityIndex::Table(i) => {
                Extern::Table(Table(Stored::new(store, inst.tables[i.index()])))
            }
            EntityIndex::Global(i) => {
                Extern::Global(Global(Stored::new(store, inst.globals[i.index()])))
            }
            EntityIndex::Tag(i) => Extern::Tag(Tag(Stored::new(store, inst.tags[i.index()]))),
        }
    }

    /// The exported tag `name`.
    pub fn get_tag(&self, store: impl AsContextMut, name: &str) -> Option<Tag> {
        self.get_export(store, name)?.into_tag()
    }

    /// The module this is an instance of.
    pub fn module<'a, T: 'a>(&self, store: impl Into<crate::StoreContext<'a, T>>) -> &'a Module {
        let store = store.into();
        &store.0.opaque.instance_modules[self.0.check(&store.0.opaque)]
    }

    /// The export `name`.
    pub fn get_export(&self, mut store: impl AsContextMut, name: &str) -> Option<Extern> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        let inst = &opaque.instances[self.0.check(opaque)];
        let info = inst.info.clone();
        let export = info.exports.iter().find(|e| e.name == name)?;
        Some(self.entity(opaque, export.index))
    }

    /// The export `export` locates ([`Module::get_export_index`]); `None` when this is not
    /// an instance of the module it came from.
    pub fn get_module_export(
        &self,
        mut store: impl AsContextMut,
        export: &crate::ModuleExport,
    ) -> Option<Extern> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        if opaque.instance_modules[self.0.check(opaque)].inner.id != export.module {
            return None;
        }
        Some(self.entity(opaque, export.entity))
    }

    /// Every export, in order.
    pub fn exports<'a, T: 'a>(
        &self,
        store: impl Into<crate::StoreContextMut<'a, T>>,
    ) -> impl ExactSizeIterator<Item = Export<'a>> + 'a {
        let store = store.into();
        let opaque = &mut store.0.opaque;
        let module = opaque.instance_modules[self.0.check(opaque)].clone();
        let defs: Vec<Extern> = module
            .inner
            .info
            .exports
            .iter()
            .map(|e| self.entity(opaque, e.index))
            .collect();
        let module: &'a Module = &opaque.instance_modules[self.0.index];
        module
            .inner
            .info
            .exports
            .iter()
            .zip(defs)
            .map(|(e, definition)| Export {
                name: &e.name,
                definition,
            })
            .collect::<Vec<_>>()
            .into_iter()
    }

    /// The exported function `name`.
    pub fn get_func(&self, store: impl AsContextMut, name: &str) -> Option<Func> {
        self.get_export(store, name)?.into_func()
    }

    /// The exported function `name` as a typed function.
    pub fn get_typed_func<Params: WasmParams, Results: WasmResults>(
        &self,
        mut store: impl AsContextMut,
        name: &str,
    ) -> Result<TypedFunc<Params, Results>> {
        let f = self
            .get_func(&mut store, name)
            .ok_or_else(|| anyhow!("failed to find function export `{name}`"))?;
        f.typed(&store)
            .with_context(|| format!("failed to convert function `{name}` to given type"))
    }

    /// The exported memory `name`.
    pub fn get_memory(&self, store: impl AsContextMut, name: &str) -> Option<Memory> {
        self.get_export(store, name)?.into_memory()
    }

    /// The exported shared memory `name`.
    pub fn get_shared_memory(
        &self,
        store: impl AsContextMut,
        name: &str,
    ) -> Option<crate::SharedMemory> {
        self.get_export(store, name)?.into_shared_memory()
    }

    /// The exported table `name`.
    pub fn get_table(&self, store: impl AsContextMut, name: &str) -> Option<Table> {
        self.get_export(store, name)?.into_table()
    }

    /// The exported global `name`.
    pub fn get_global(&self, store: impl AsContextMut, name: &str) -> Option<Global> {
        self.get_export(store, name)?.into_global()
    }
}

/// `imports`, where a host function whose type is a proper subtype of its import's (say, it
/// returns `(ref extern)` where `externref` is expected) is replaced by the same host function
/// with the import's type, as the linker does: Wasmtime accepts such functions, while
/// instantiation here matches function types exactly. Raw values are the same for both types.
fn retype_host_funcs<'a>(
    store: &mut StoreOpaque,
    module: &Module,
    imports: &'a [Extern],
) -> Result<Cow<'a, [Extern]>> {
    let mut out = Cow::Borrowed(imports);
    for (i, import) in module.imports().enumerate() {
        let (ExternType::Func(expected), Some(Extern::Func(f))) = (import.ty(), imports.get(i))
        else {
            continue;
        };
        if !f.0.belongs_to(store) {
            continue; // instantiation reports the foreign handle
        }
        let Some(host) = f.host_fn(store) else {
            continue;
        };
        let ty = crate::types::FuncType::from_wasm(store.funcs[f.0.index].ty.ty.clone());
        if ty != expected && crate::matching::func_subtype(&ty, &expected) {
            let retyped = Func::from_host_fn(store, &expected, host)?;
            out.to_mut()[i] = Extern::Func(retyped);
        }
    }
    Ok(out)
}
