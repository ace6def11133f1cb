//! Whether one type fits where another is expected: the one place that decides it for
//! instantiation (imports against the module's declarations), for `Linker` and `Func` typing
//! (function subtyping) and for values (`Val` against a value type).
//!
//! Mismatches are reported with Wasmtime's words ("incompatible import type for `m::n`",
//! with the detail as the error's cause).

use crate::externals::Extern;
use crate::module::Module;
use crate::store::instantiate::ResolvedImports;
use crate::store::StoreOpaque;
use crate::types::{canonical, FuncType};
use crate::values::Val;
use crate::vm::memory::VmMemory;
use crate::vm::shared_memory::VmSharedMemory;
use anyhow::{anyhow, bail, Result};
use wasmjit_compiler as c;
use wasmjit_compiler::EntityRef;

/// Checks `imports` (in the module's import order) against `module`'s declarations.
pub(crate) fn resolve_imports(
    store: &mut StoreOpaque,
    module: &Module,
    imports: &[Extern],
) -> Result<ResolvedImports> {
    let m = &module.inner;
    let info = &m.info;
    if !crate::Engine::same(&m.engine, &store.engine) {
        bail!("cross-`Engine` instantiation is not currently supported");
    }
    if imports.len() != info.imports.len() {
        bail!(
            "expected {} imports, found {}",
            info.imports.len(),
            imports.len()
        );
    }
    let mut resolved = ResolvedImports::default();
    for (import, ext) in info.imports.iter().zip(imports) {
        let desc = || format!("{}::{}", import.module, import.name);
        if let (c::EntityType::Memory(t), Extern::SharedMemory(shared)) = (&import.ty, ext) {
            let index = shared_memory_import(store, shared, t)
                .map_err(|detail| incompatible(&desc(), detail))?;
            resolved.memories.push(index);
            continue;
        }
        let owner = match (&import.ty, ext) {
            (c::EntityType::Function(_), Extern::Func(f)) => f.0,
            (c::EntityType::Memory(_), Extern::Memory(mem)) => mem.0,
            (c::EntityType::Table(_), Extern::Table(t)) => t.0,
            (c::EntityType::Global(_), Extern::Global(g)) => g.0,
            (c::EntityType::Tag(_), Extern::Tag(t)) => t.0,
            (expected, _) => return Err(kind_mismatch(&desc(), expected, ext)),
        };
        if !owner.belongs_to(store) {
            bail!("import {} belongs to another store", desc());
        }
        let index = owner.index;
        let fits = match &import.ty {
            c::EntityType::Function(t) => {
                let expected = &m.types[t.index()];
                let actual = &store.funcs[index].ty;
                if actual.id == expected.id
                    || canonical::is_subtype(canonical::id(&actual.ty), canonical::id(&expected.ty))
                {
                    Ok(())
                } else {
                    Err(anyhow!(
                        "types incompatible: expected type `{}`, found type `{}`",
                        FuncType::from_wasm(expected.ty.clone()),
                        FuncType::from_wasm(actual.ty.clone())
                    ))
                }
            }
            c::EntityType::Memory(t) => memory_fits(store, index, t),
            c::EntityType::Table(t) => table_fits(store, index, t),
            c::EntityType::Global(t) => global_fits(store.globals[index].ty, *t),
            c::EntityType::Tag(t) => {
                let expected = FuncType::from_wasm(m.types[t.index()].ty.clone());
                match store.tags[index].ty == expected {
                    true => Ok(()),
                    false => Err(anyhow!("incompatible tag types")),
                }
            }
        };
        fits.map_err(|detail| incompatible(&desc(), detail))?;
        let list = match ext {
            Extern::Func(_) => &mut resolved.funcs,
            Extern::Memory(_) | Extern::SharedMemory(_) => &mut resolved.memories,
            Extern::Table(_) => &mut resolved.tables,
            Extern::Tag(_) => &mut resolved.tags,
            Extern::Global(_) => &mut resolved.globals,
        };
        list.push(index);
    }
    Ok(resolved)
}

/// A shared memory against a memory import's type: the index of the store's view of it
/// (made on its first import into the store).
fn shared_memory_import(
    store: &mut StoreOpaque,
    shared: &crate::SharedMemory,
    t: &c::MemoryType,
) -> Result<usize> {
    if !crate::Engine::same(shared.engine(), &store.engine) {
        bail!("cross-engine shared memory");
    }
    let existing = store.memories.iter().position(|m| {
        m.as_shared()
            .is_some_and(|s| VmSharedMemory::same(s, &shared.vm))
    });
    let index = match existing {
        Some(index) => index,
        None => {
            store
                .memories
                .push(Box::new(VmMemory::shared(shared.vm.clone())));
            store.memories.len() - 1
        }
    };
    memory_fits(store, index, t)?;
    Ok(index)
}

/// A memory of the store against a memory import's type.
fn memory_fits(store: &StoreOpaque, index: usize, t: &c::MemoryType) -> Result<()> {
    let actual = &store.memories[index];
    if actual.ty.shared != t.shared {
        let kind = |s: bool| if s { "shared" } else { "non-shared" };
        bail!(
            "memory types incompatible: expected {} memory, found {} memory",
            kind(t.shared),
            kind(actual.ty.shared)
        );
    }
    if actual.ty.memory64 != t.memory64 {
        let bits = |b: bool| if b { "64-bit" } else { "32-bit" };
        bail!(
            "memory types incompatible: expected {} memory, found {} memory",
            bits(t.memory64),
            bits(actual.ty.memory64)
        );
    }
    limits_fit(
        "memory",
        actual.pages(),
        actual.ty.maximum,
        t.minimum,
        t.maximum,
    )
}

/// A table of the store against a table import's type.
fn table_fits(store: &StoreOpaque, index: usize, t: &c::TableType) -> Result<()> {
    let actual = &store.tables[index];
    if actual.ty.element != t.element || actual.ty.table64 != t.table64 {
        bail!(
            "table types incompatible: expected table of type `{}`, found table of type `{}`",
            crate::TableType::from_wasm(t).element(),
            crate::TableType::from_wasm(&actual.ty).element()
        );
    }
    limits_fit(
        "table",
        actual.size(),
        actual.ty.maximum,
        t.minimum,
        t.maximum,
    )
}

/// A global's type against a global import's: an immutable global may have a subtype of the
/// declared content type; a mutable one must have the type itself.
fn global_fits(actual: c::GlobalType, t: c::GlobalType) -> Result<()> {
    let content_fits = if t.mutable {
        actual.content == t.content
    } else {
        wasm_type_matches(actual.content, t.content)
    };
    if actual.mutable != t.mutable {
        let kind = |m: bool| if m { "mutable" } else { "immutable" };
        bail!(
            "global types incompatible: expected {} global, found {} global",
            kind(t.mutable),
            kind(actual.mutable)
        );
    }
    if !content_fits {
        let ty = |t: c::GlobalType| crate::GlobalType::from_wasm(&t);
        bail!(
            "global types incompatible: expected global of type `{}`, found global of type `{}`",
            ty(t).content(),
            ty(actual).content()
        );
    }
    Ok(())
}

/// An import given an item of another kind, in Wasmtime's words for the kinds.
fn kind_mismatch(desc: &str, expected: &c::EntityType, ext: &Extern) -> anyhow::Error {
    let kind = match expected {
        c::EntityType::Function(_) => "func",
        c::EntityType::Memory(_) => "memory",
        c::EntityType::Table(_) => "table",
        c::EntityType::Global(_) => "global",
        c::EntityType::Tag(_) => "tag",
    };
    let found = match ext {
        Extern::Func(_) => "func",
        other => other.desc(),
    };
    incompatible(desc, format_args!("expected {kind}, but found {found}"))
}

/// An imported memory's or table's limits (`what`) against the import's, with Wasmtime's
/// message.
fn limits_fit(
    what: &str,
    actual_min: u64,
    actual_max: Option<u64>,
    min: u64,
    max: Option<u64>,
) -> Result<()> {
    let fits_max = match (max, actual_max) {
        (None, _) => true,
        (Some(max), Some(actual)) => actual <= max,
        (Some(_), None) => false,
    };
    if actual_min >= min && fits_max {
        return Ok(());
    }
    let limits = |min: u64, max: Option<u64>| match max {
        Some(max) => format!("min: {min}, max: {max}"),
        None => format!("min: {min}, max: none"),
    };
    bail!(
        "{what} types incompatible: expected {what} limits ({}) doesn't match provided {what} \
         limits ({})",
        limits(min, max),
        limits(actual_min, actual_max)
    )
}

/// The error of an import that does not match: Wasmtime's message, with `detail` as its cause.
fn incompatible(desc: &str, detail: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("{detail}").context(format!("incompatible import type for `{desc}`"))
}

/// Whether a function of type `sub` may be used where `sup` is expected: parameters are
/// contravariant, results covariant.
pub(crate) fn func_subtype(sub: &FuncType, sup: &FuncType) -> bool {
    sub.params().len() == sup.params().len()
        && sub.results().len() == sup.results().len()
        && sub.params().zip(sup.params()).all(|(a, b)| b.matches(&a))
        && sub.results().zip(sup.results()).all(|(a, b)| a.matches(&b))
}

/// Whether a value of compiled type `a` may be used where `b` is expected (both with canonical
/// concrete type ids).
pub(crate) fn wasm_type_matches(a: c::WasmType, b: c::WasmType) -> bool {
    canonical::type_matches(a, b)
}

/// Whether `val` is of compiled type `ty` (with canonical concrete type ids) or of a subtype: a
/// function matches `funcref` and its own concrete type, null matches every nullable reference
/// type of its hierarchy.
pub(crate) fn val_matches(store: &StoreOpaque, val: &Val, ty: c::WasmType) -> bool {
    let r = ty.as_ref_type();
    match val {
        Val::FuncRef(None) => r.is_some_and(|r| {
            r.nullable && canonical::heap_matches(c::WasmHeapType::NoFunc, r.heap)
        }),
        Val::FuncRef(Some(f)) => r.is_some_and(|r| match r.heap {
            c::WasmHeapType::Func => true,
            c::WasmHeapType::Concrete(id) => {
                f.0.belongs_to(store)
                    && canonical::is_subtype(canonical::id(&store.funcs[f.0.index].ty.ty), id)
            }
            _ => false,
        }),
        Val::ExternRef(None) => r.is_some_and(|r| r.nullable && r.heap.is_extern()),
        Val::ExternRef(Some(_)) => r.is_some_and(|r| r.heap == c::WasmHeapType::Extern),
        Val::ExnRef(None) => r.is_some_and(|r| {
            r.nullable && matches!(r.heap, c::WasmHeapType::Exn | c::WasmHeapType::NoExn)
        }),
        Val::ExnRef(Some(e)) => {
            e.0.belongs_to(store) && r.is_some_and(|r| r.heap == c::WasmHeapType::Exn)
        }
        Val::AnyRef(None) => {
            r.is_some_and(|r| r.nullable && canonical::heap_matches(c::WasmHeapType::None, r.heap))
        }
        Val::AnyRef(Some(_)) => {
            r.is_some_and(|r| canonical::heap_matches(c::WasmHeapType::I31, r.heap))
        }
        _ => val.static_ty().to_wasm() == ty,
    }
}
