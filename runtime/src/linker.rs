//! `Linker`: names for host functions and instances' exports, resolved when instantiating.

use crate::externals::Extern;
use crate::func::{host_fn_from_raw, host_fn_from_vals, Caller, Func, HostFn, IntoFunc};
use crate::instance::Instance;
use crate::module::Module;
use crate::store::{AsContext, AsContextMut, StoreOpaque};
use crate::types::{ExternType, FuncType};
use crate::values::Val;
use crate::vm::vmcontext::ValRaw;
use crate::Engine;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::mem::MaybeUninit;
use std::sync::Arc;

/// A definition: an object of some store, or a host function not yet bound to a store.
#[derive(Clone)]
pub(crate) enum Definition {
    Extern(Extern),
    HostFunc(FuncType, Arc<HostFn>),
}

/// Resolves imports by `(module, name)`. Host functions defined here are created afresh in
/// each store they are instantiated into.
pub struct Linker<T> {
    engine: Engine,
    map: HashMap<(String, String), Definition>,
    allow_shadowing: bool,
    allow_unknown_exports: bool,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for Linker<T> {
    fn clone(&self) -> Self {
        Self {
            engine: self.engine.clone(),
            map: self.map.clone(),
            allow_shadowing: self.allow_shadowing,
            allow_unknown_exports: self.allow_unknown_exports,
            _marker: PhantomData,
        }
    }
}

impl<T: 'static> Linker<T> {
    /// An empty linker.
    pub fn new(engine: &Engine) -> Self {
        Self {
            engine: engine.clone(),
            map: HashMap::new(),
            allow_shadowing: false,
            allow_unknown_exports: false,
            _marker: PhantomData,
        }
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Whether a later definition of the same name replaces an earlier one (default: error).
    pub fn allow_shadowing(&mut self, allow: bool) -> &mut Self {
        self.allow_shadowing = allow;
        self
    }

    /// Whether [`Linker::module`] accepts a command module exporting something other than
    /// functions and the few items toolchains add (default: such a module is an error).
    pub fn allow_unknown_exports(&mut self, allow: bool) -> &mut Self {
        self.allow_unknown_exports = allow;
        self
    }

    pub(crate) fn insert(&mut self, module: &str, name: &str, def: Definition) -> Result<()> {
        let key = (module.to_string(), name.to_string());
        if !self.allow_shadowing && self.map.contains_key(&key) {
            bail!("import of `{module}::{name}` defined twice");
        }
        self.map.insert(key, def);
        Ok(())
    }

    /// Defines `module::name` as `item`.
    pub fn define(
        &mut self,
        _store: impl AsContext<Data = T>,
        module: &str,
        name: &str,
        item: impl Into<Extern>,
    ) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(item.into()))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function from a closure (see [`Func::wrap`]).
    pub fn func_wrap<Params, Args>(
        &mut self,
        module: &str,
        name: &str,
        func: impl IntoFunc<T, Params, Args>,
    ) -> Result<&mut Self> {
        let (ty, host) = func.into_host_fn();
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` (see [`Func::new`]).
    pub fn func_new(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &[Val], &mut [Val]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = host_fn_from_vals::<T>(ty.clone(), func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines `module::name` as a host function of type `ty` that reads its arguments from,
    /// and writes its results to, raw slots (see [`Func::new_unchecked`]).
    ///
    /// # Safety
    /// As [`Func::new_unchecked`]: `func` must write a value of the right type into each
    /// result slot.
    pub unsafe fn func_new_unchecked(
        &mut self,
        module: &str,
        name: &str,
        ty: FuncType,
        func: impl Fn(Caller<'_, T>, &mut [MaybeUninit<ValRaw>]) -> Result<()> + Send + Sync + 'static,
    ) -> Result<&mut Self> {
        let host = host_fn_from_raw::<T>(&ty, func);
        self.insert(module, name, Definition::HostFunc(ty, host))?;
        Ok(self)
    }

    /// Defines `module::name` as `tag` (as [`Linker::define`] with [`Extern::Tag`]).
    pub fn define_tag(&mut self, module: &str, name: &str, tag: crate::Tag) -> Result<&mut Self> {
        self.insert(module, name, Definition::Extern(Extern::Tag(tag)))?;
        Ok(self)
    }

    /// The tag defined as `module::name`, if any.
    pub fn get_tag(&self, module: &str, name: &str) -> Option<crate::Tag> {
        match self.map.get(&(module.to_string(), name.to_string()))? {
            Definition::Extern(Extern::Tag(tag)) => Some(*tag),
            _ => None,
        }
    }

    /// Defines every export of `instance` under `module_name`.
    pub fn instance(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        instance: Instance,
    ) -> Result<&mut Self> {
        let exports: Vec<(String, Extern)> = instance
            .exports(store.as_context_mut())
            .map(|e| (e.name().to_string(), e.into_extern()))
            .collect();
        for (name, ext) in exports {
            self.insert(module_name, &name, Definition::Extern(ext))?;
        }
        Ok(self)
    }

    /// Defines `module`'s exports under `module_name`, as Wasmtime does. A command (a module
    /// exporting `_start`) is not instantiated here: each of its exported functions is
    /// defined as a host function that instantiates the module afresh in the caller's store
    /// and calls the export there, so every run starts clean. A reactor (any other module) is
    /// instantiated once, its `_initialize` export (if any) is called, and its exports are
    /// defined.
    pub fn module(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self> {
        if self.define_command(module_name, module)? {
            return Ok(self);
        }
        let instance = self.instantiate(&mut store, module)?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.call(&mut store, &[], &mut [])?;
        }
        self.instance(store, module_name, instance)
    }

    /// If `module` is a command (exports `_start`), defines its exported functions as
    /// functions that each instantiate it afresh (see [`Linker::module`]) and returns true.
    fn define_command(&mut self, module_name: &str, module: &Module) -> Result<bool> {
        if module.get_export("_start").is_none() {
            return Ok(false);
        }
        if module.get_export("_initialize").is_some() {
            bail!("module exports both `_start` and `_initialize`: it is neither a command nor a reactor");
        }
        if !self.allow_unknown_exports {
            if let Some(e) = module
                .exports()
                .find(|e| e.ty().func().is_none() && !toolchain_export(e.name(), &e.ty()))
            {
                bail!("command export '{}' is not a function", e.name());
            }
        }
        let pre = self.instantiate_pre(module)?;
        let funcs: Vec<(String, FuncType)> = module
            .exports()
            .filter_map(|e| match e.ty() {
                ExternType::Func(ty) => Some((e.name().to_string(), ty)),
                _ => None,
            })
            .collect();
        for (name, ty) in funcs {
            let pre = pre.clone();
            let export = name.clone();
            self.func_new(
                module_name,
                &name,
                ty,
                move |mut caller, params, results| {
                    let instance = pre.instantiate_impl(&mut caller.as_context_mut().0.opaque)?;
                    let func = instance
                        .get_func(&mut caller, &export)
                        .ok_or_else(|| anyhow::anyhow!("command export `{export}` is missing"))?;
                    func.call(&mut caller, params, results)
                },
            )?;
        }
        Ok(true)
    }

    /// [`Linker::module`] with the instantiation on a fiber (for stores of an engine with
    /// `async_support`).
    pub async fn module_async(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module_name: &str,
        module: &Module,
    ) -> Result<&mut Self>
    where
        T: Send,
    {
        if self.define_command(module_name, module)? {
            return Ok(self);
        }
        let instance = self.instantiate_async(&mut store, module).await?;
        if let Some(init) = instance.get_func(&mut store, "_initialize") {
            init.call_async(&mut store, &[], &mut []).await?;
        }
        self.instance(store, module_name, instance)
    }

    /// The "default export" of the instance defined as `module`: its `""` function, else its
    /// `_start` function, else a function that does nothing.
    pub fn get_default(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
    ) -> Result<Func> {
        for name in ["", "_start"] {
            if let Ok(ext) = self.get(&mut store, module, name) {
                return ext.into_func().ok_or_else(|| {
                    anyhow::anyhow!("default export `{name}` in `{module}` is not a function")
                });
            }
        }
        Ok(Func::wrap(store, || {}))
    }

    /// Defines every function import of `module` that this linker lacks as a function that
    /// fails with an [`UnknownImportError`] when called.
    pub fn define_unknown_imports_as_traps(&mut self, module: &Module) -> Result<()> {
        for import in module.imports() {
            let Err(unknown) = self.lookup_import(&import) else {
                continue;
            };
            if let ExternType::Func(ty) = unknown.ty() {
                self.func_new(import.module(), import.name(), ty, move |_, _, _| {
                    Err(anyhow::Error::new(unknown.clone()))
                })?;
            }
        }
        Ok(())
    }

    /// Defines every import of `module` that this linker lacks as a default value of its
    /// type, created in `store`: functions that ignore their arguments and return zeros and
    /// nulls, globals and tables holding those, zeroed memories. An error names the first
    /// import whose type has no default (a non-nullable reference).
    pub fn define_unknown_imports_as_default_values(
        &mut self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<()> {
        for import in module.imports() {
            let Err(unknown) = self.lookup_import(&import) else {
                continue;
            };
            let value = unknown.ty().default_value(&mut store).with_context(|| {
                format!(
                    "no default value exists for `{}::{}` with type `{:?}`",
                    import.module(),
                    import.name(),
                    unknown.ty(),
                )
            })?;
            self.insert(import.module(), import.name(), Definition::Extern(value))?;
        }
        Ok(())
    }

    fn lookup_import(
        &self,
        import: &crate::ImportType<'_>,
    ) -> Result<&Definition, UnknownImportError> {
        let key = (import.module().to_string(), import.name().to_string());
        self.map
            .get(&key)
            .ok_or_else(|| UnknownImportError::new(import))
    }

    /// Defines `module::name`'s item as `as_module::as_name` too.
    pub fn alias(
        &mut self,
        module: &str,
        name: &str,
        as_module: &str,
        as_name: &str,
    ) -> Result<&mut Self> {
        let Some(def) = self
            .map
            .get(&(module.to_string(), name.to_string()))
            .cloned()
        else {
            bail!("no item named `{module}::{name}` defined");
        };
        self.insert(as_module, as_name, def)?;
        Ok(self)
    }

    /// Defines every item of `module` under `as_module` as well.
    pub fn alias_module(&mut self, module: &str, as_module: &str) -> Result<()> {
        let items: Vec<(String, Definition)> = self
            .map
            .iter()
            .filter(|((m, _), _)| m == module)
            .map(|((_, n), d)| (n.clone(), d.clone()))
            .collect();
        for (name, def) in items {
            self.insert(as_module, &name, def)?;
        }
        Ok(())
    }

    /// The definition of `module::name` in `store`.
    pub fn get(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &str,
        name: &str,
    ) -> Result<Extern> {
        let Some(def) = self.map.get(&(module.to_string(), name.to_string())) else {
            bail!("missing definition for `{module}::{name}`");
        };
        let ctx = store.as_context_mut();
        Self::materialize(&mut ctx.0.opaque, def)
    }

    /// The definition satisfying `import`, if any (by name; types are checked when
    /// instantiating).
    pub fn get_by_import(
        &self,
        store: impl AsContextMut<Data = T>,
        import: &crate::ImportType<'_>,
    ) -> Option<Extern> {
        self.get(store, import.module(), import.name()).ok()
    }

    /// The definition satisfying `import`, if any, as [`Linker::get_by_import`]; an error
    /// only when the definition cannot be made in `store`.
    pub fn try_get_by_import(
        &self,
        mut store: impl AsContextMut<Data = T>,
        import: &crate::ImportType<'_>,
    ) -> Result<Option<Extern>> {
        let Ok(def) = self.lookup_import(import) else {
            return Ok(None);
        };
        let ctx = store.as_context_mut();
        Self::materialize(&mut ctx.0.opaque, def).map(Some)
    }

    /// Every definition as `(module, name, item)`, in no particular order. Host functions
    /// become functions of `store`.
    pub fn iter<'a: 'p, 'p>(
        &'a self,
        mut store: impl AsContextMut<Data = T> + 'p,
    ) -> impl Iterator<Item = (&'a str, &'a str, Extern)> + 'p {
        self.map.iter().filter_map(move |((module, name), def)| {
            let ctx = store.as_context_mut();
            let ext = Self::materialize(&mut ctx.0.opaque, def).ok()?;
            Some((module.as_str(), name.as_str(), ext))
        })
    }

    fn materialize(store: &mut StoreOpaque, def: &Definition) -> Result<Extern> {
        Ok(match def {
            Definition::Extern(e) => e.clone(),
            Definition::HostFunc(ty, host) => {
                Extern::Func(Func::from_host_fn(store, ty, host.clone())?)
            }
        })
    }

    fn resolve(&self, module: &Module) -> Result<Vec<Definition>> {
        let info = &module.inner.info;
        info.imports
            .iter()
            .map(|import| {
                let key = (import.module.clone(), import.name.clone());
                match self.map.get(&key) {
                    Some(def) => {
                        let import_ty = module.entity_type(&import.ty);
                        if let (Definition::HostFunc(ty, host), ExternType::Func(expected)) =
                            (def, import_ty)
                        {
                            // A host function whose type is a subtype of the import's (say,
                            // it returns `(ref extern)` where `externref` is expected) serves
                            // as a function of the import's type: raw values are the same.
                            if *ty != expected && crate::matching::func_subtype(ty, &expected) {
                                return Ok(Definition::HostFunc(expected, host.clone()));
                            }
                            if *ty != expected {
                                // Wasmtime's message, the types as the cause.
                                return Err(anyhow::anyhow!(
                                    "types incompatible: expected type `{expected}`, found type `{ty}`"
                                )
                                .context(format!(
                                    "incompatible import type for `{}::{}`",
                                    key.0, key.1
                                )));
                            }
                        }
                        Ok(def.clone())
                    }
                    None => Err(anyhow::Error::new(UnknownImportError {
                        module: key.0,
                        name: key.1,
                        ty: module.entity_type(&import.ty),
                    })),
                }
            })
            .collect()
    }

    /// Instantiates `module`, resolving its imports by name.
    pub fn instantiate(
        &self,
        mut store: impl AsContextMut<Data = T>,
        module: &Module,
    ) -> Result<Instance> {
        self.instantiate_pre(module)?.instantiate(&mut store)
    }

    /// Resolves `module`'s imports once, for instantiating many times.
    pub fn instantiate_pre(&self, module: &Module) -> Result<InstancePre<T>> {
        let defs = self.resolve(module)?;
        Ok(InstancePre {
            module: module.clone(),
            defs: Arc::new(defs),
            _marker: PhantomData,
        })
    }
}

/// A module whose imports are resolved, ready to instantiate in any store of its engine.
pub struct InstancePre<T> {
    module: Module,
    defs: Arc<Vec<Definition>>,
    _marker: PhantomData<fn() -> T>,
}

impl<T> Clone for InstancePre<T> {
    fn clone(&self) -> Self {
        Self {
            module: self.module.clone(),
            defs: self.defs.clone(),
            _marker: PhantomData,
        }
    }
}

impl<T: 'static> InstancePre<T> {
    /// The module.
    pub fn module(&self) -> &Module {
        &self.module
    }

    /// Creates an instance in `store`.
    pub fn instantiate(&self, mut store: impl AsContextMut<Data = T>) -> Result<Instance> {
        let ctx = store.as_context_mut();
        let opaque = &mut ctx.0.opaque;
        opaque.check_sync_allowed()?;
        self.instantiate_impl(opaque)
    }

    /// `instantiate` without the sync check.
    pub(crate) fn instantiate_impl(&self, opaque: &mut StoreOpaque) -> Result<Instance> {
        let imports = self
            .defs
            .iter()
            .map(|d| Linker::<T>::materialize(opaque, d))
            .collect::<Result<Vec<_>>>()?;
        Instance::new_raw(opaque, &self.module, &imports)
    }
}

/// Whether a command module may export `name` besides its functions: the memory, table and
/// globals toolchains add (Wasmtime's list).
fn toolchain_export(name: &str, ty: &ExternType) -> bool {
    match ty {
        ExternType::Memory(_) => name == "memory",
        ExternType::Table(_) => matches!(name, "__indirect_function_table" | "table"),
        ExternType::Global(_) => matches!(
            name,
            "__data_end" | "__heap_base" | "__dso_handle" | "__rtti_base"
        ),
        ExternType::Func(_) => true,
        ExternType::Tag(_) => false,
    }
}

/// The error instantiating through a [`Linker`] gives for an import it has no definition
/// of (behind an `anyhow::Error`, which downcasts to it).
#[derive(Clone, Debug)]
pub struct UnknownImportError {
    module: String,
    name: String,
    ty: ExternType,
}

impl UnknownImportError {
    fn new(import: &crate::ImportType<'_>) -> Self {
        Self {
            module: import.module().to_string(),
            name: import.name().to_string(),
            ty: import.ty(),
        }
    }

    /// The module name of the import.
    pub fn module(&self) -> &str {
        &self.module
    }

    /// The field name of the import.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The import's type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

impl fmt::Display for UnknownImportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown import: `{}::{}` has not been defined",
            self.module, self.name
        )
    }
}

impl std::error::Error for UnknownImportError {}
