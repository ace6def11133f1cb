//! Instantiation: allocating a `VMContext`, linking imports, creating the module's memories,
//! tables and globals, applying segments.

use crate::module::Module;
use crate::store::{GlobalData, StoreOpaque};
use crate::vm::builtins::BUILTINS;
use crate::vm::const_eval::{self, ConstEnv};
use crate::vm::memory::VmMemory;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::{VMContext, VMFuncRef, VMGlobalDefinition, VMOpaqueContext};
use crate::Trap;
use anyhow::{anyhow, Result};
use wasmjit_compiler as c;
use wasmjit_compiler::vmoffsets::vmctx;

/// The runtime side of an instance. Boxed in the store; `VMContext::INSTANCE` points to it.
pub(crate) struct InstanceData {
    pub(crate) module: Module,
    /// Index of this instance in the store.
    pub(crate) index: usize,
    /// The `VMContext`, 8-byte words.
    vmctx: Box<[u64]>,
    /// Store index of every function (imported ones known up front, defined ones on demand).
    pub(crate) funcs: Vec<Option<usize>>,
    /// Store index of every memory, table and global, imported first.
    pub(crate) memories: Vec<usize>,
    pub(crate) tables: Vec<usize>,
    pub(crate) globals: Vec<usize>,
    /// Store index (identity) of every tag, imported first.
    pub(crate) tags: Vec<usize>,
    /// Passive data segments not yet dropped.
    pub(crate) data_dropped: Vec<bool>,
    /// Evaluated items of each element segment (empty once dropped or applied).
    pub(crate) elems: Vec<Vec<u64>>,
}

impl InstanceData {
    /// Address of the `VMContext`.
    pub(crate) fn vmctx_ptr(&self) -> *mut VMContext {
        self.vmctx.as_ptr() as *mut VMContext
    }

    fn write_word(&mut self, offset: u32, value: u64) {
        debug_assert_eq!(offset % 8, 0);
        self.vmctx[(offset / 8) as usize] = value;
    }

    /// Updates the context's copy of the store's epoch deadline (see
    /// `vmctx::EPOCH_DEADLINE`).
    pub(crate) fn set_epoch_deadline_copy(&mut self, deadline: u64) {
        self.write_word(vmctx::EPOCH_DEADLINE, deadline);
    }

    /// The inline funcref of defined function `defined_index`.
    pub(crate) fn defined_funcref(&self, defined_index: u32) -> *mut VMFuncRef {
        let off = self.module.inner.offsets.defined_funcref(defined_index);
        // SAFETY: the offset lies within the vmctx allocation (VMOffsets sized it).
        unsafe { self.vmctx_ptr().cast::<u8>().add(off as usize) as *mut VMFuncRef }
    }

    /// Whether `addr` points into this instance's `VMContext`.
    pub(crate) fn contains(&self, addr: usize) -> bool {
        let start = self.vmctx_ptr() as usize;
        addr >= start && addr < start + self.vmctx.len() * 8
    }

    /// The funcref word of function `index`.
    pub(crate) fn func_ref(&self, store: &StoreOpaque, index: u32) -> u64 {
        let info = &self.module.inner.info;
        if info.is_imported_func(index) {
            let f = self.funcs[index as usize].expect("imports are linked");
            store.funcs[f].funcref as u64
        } else {
            self.defined_funcref(index - info.num_imported_funcs) as u64
        }
    }
}

/// Reads the `InstanceData` behind a `VMContext`.
///
/// # Safety
/// `vmctx` must be the context of a live instance.
pub(crate) unsafe fn instance_of<'a>(vmctx_ptr: *mut VMContext) -> &'a mut InstanceData {
    // SAFETY: the caller guarantees a live vmctx; its INSTANCE word was set at allocation to the
    // boxed InstanceData, which lives as long as the store.
    unsafe {
        &mut *(*(vmctx_ptr.cast::<u8>().add(vmctx::INSTANCE as usize) as *const *mut InstanceData))
    }
}

/// Reads the store behind a `VMContext`.
///
/// # Safety
/// `vmctx` must be the context of a live instance.
pub(crate) unsafe fn store_of<'a>(vmctx_ptr: *mut VMContext) -> &'a mut StoreOpaque {
    // SAFETY: as for `instance_of`: the STORE word points to the owning store.
    unsafe {
        &mut *(*(vmctx_ptr.cast::<u8>().add(vmctx::STORE as usize) as *const *mut StoreOpaque))
    }
}

struct Env<'a> {
    store: &'a StoreOpaque,
    instance: &'a InstanceData,
}

impl ConstEnv for Env<'_> {
    fn global(&self, index: u32) -> u128 {
        let g = self.instance.globals[index as usize];
        u128::from_le_bytes(self.store.globals[g].def.bytes)
    }
    fn func_ref(&self, index: u32) -> u64 {
        self.instance.func_ref(self.store, index)
    }
}

/// A module's imports, checked against it (by `crate::matching`): store indices of each kind, in import order.
#[derive(Debug, Default)]
pub(crate) struct ResolvedImports {
    pub(crate) funcs: Vec<usize>,
    pub(crate) memories: Vec<usize>,
    pub(crate) tables: Vec<usize>,
    pub(crate) globals: Vec<usize>,
    pub(crate) tags: Vec<usize>,
}

/// Creates an instance of `module` (without running `start`) from imports already checked
/// against it (`crate::matching::resolve_imports`). Returns the instance's index in the
/// store. Segment traps come back as `Trap` errors after the instance has been added to the
/// store (their effects stay, as the spec requires).
pub(crate) fn instantiate(
    store: &mut StoreOpaque,
    module: &Module,
    imports: ResolvedImports,
) -> Result<usize> {
    let m = &module.inner;
    let info = &m.info;
    // The resource limiter's say, before anything is made.
    let defined_memories = &info.memories[info.num_imported_memories as usize..];
    let defined_tables = &info.tables[info.num_imported_tables as usize..];
    store.check_counts(1, defined_memories.len(), defined_tables.len())?;
    for t in defined_memories {
        store.limit_new_memory(t)?;
    }
    for t in defined_tables {
        store.limit_new_table(t)?;
    }
    let mut inst = Box::new(InstanceData {
        module: module.clone(),
        index: store.instances.len(),
        vmctx: vec![0u64; m.offsets.size().div_ceil(8) as usize].into_boxed_slice(),
        funcs: vec![None; info.functions.len()],
        memories: Vec::with_capacity(info.memories.len()),
        tables: Vec::with_capacity(info.tables.len()),
        globals: Vec::with_capacity(info.globals.len()),
        tags: Vec::with_capacity(info.tags.len()),
        data_dropped: vec![false; info.data.len()],
        elems: Vec::new(),
    });

    // Imports: function slots, then the store indices of each kind.
    for (func_i, &f) in imports.funcs.iter().enumerate() {
        let off = m.offsets.imported_func(func_i as u32);
        inst.write_word(off, store.funcs[f].funcref as u64);
        inst.funcs[func_i] = Some(f);
    }
    inst.memories.extend(&imports.memories);
    inst.tables.extend(&imports.tables);
    inst.globals.extend(&imports.globals);
    inst.tags.extend(&imports.tags);

    // The header.
    let store_ptr = store as *mut StoreOpaque as u64;
    let inst_ptr = &mut *inst as *mut InstanceData as u64;
    inst.write_word(vmctx::RUNTIME_LIMITS, &*store.limits as *const _ as u64);
    inst.write_word(vmctx::BUILTINS, &BUILTINS as *const _ as u64);
    inst.write_word(
        vmctx::EPOCH_COUNTER,
        &*store.engine.inner.epoch as *const _ as u64,
    );
    inst.write_word(vmctx::STORE, store_ptr);
    inst.write_word(vmctx::INSTANCE, inst_ptr);
    inst.write_word(vmctx::SELF, inst.vmctx_ptr() as u64);
    // The module outlives the instance (`inst.module`), and its ids never change.
    inst.write_word(vmctx::TYPE_IDS, m.type_ids.as_ptr() as u64);
    // SAFETY: the limits are only accessed from the thread that holds the store.
    inst.set_epoch_deadline_copy(unsafe { *store.limits.epoch_deadline.get() });

    // Defined functions' funcrefs.
    let vmctx_ptr = inst.vmctx_ptr();
    for (i, f) in m.code.functions.iter().enumerate() {
        let func_index = info.num_imported_funcs + i as u32;
        let ty = &m.types[info.functions[func_index as usize] as usize];
        let fr = inst.defined_funcref(i as u32);
        // SAFETY: `fr` points into this instance's vmctx allocation.
        unsafe {
            *fr = VMFuncRef {
                wasm_call: f.ptr,
                array_call: ty.trampolines.array_to_wasm.ptr,
                vmctx: VMOpaqueContext::from_vmctx(vmctx_ptr),
                type_id: ty.id,
            };
        }
    }

    // Defined tags, and every tag's identity in the context.
    for &t in &info.tags[info.num_imported_tags as usize..] {
        let ty = crate::FuncType::from_wasm(m.types[t as usize].ty.clone());
        inst.tags.push(store.new_tag(ty));
    }
    for (i, &tag) in inst.tags.clone().iter().enumerate() {
        inst.write_word(m.offsets.tag(i as u32), tag as u64);
    }

    // Defined memories and tables.
    let cfg = &store.engine.inner.config;
    for t in &info.memories[info.num_imported_memories as usize..] {
        let mem = VmMemory::for_config(t, cfg)?;
        store.memories.push(Box::new(mem));
        inst.memories.push(store.memories.len() - 1);
    }
    for t in &info.tables[info.num_imported_tables as usize..] {
        store.tables.push(Box::new(VmTable::new(t, 0)?));
        inst.tables.push(store.tables.len() - 1);
    }
    for (i, &mi) in inst.memories.clone().iter().enumerate() {
        let def = &store.memories[mi].def as *const _ as u64;
        inst.write_word(m.offsets.memory(i as u32), def);
    }
    for (i, &ti) in inst.tables.clone().iter().enumerate() {
        let def = &store.tables[ti].def as *const _ as u64;
        inst.write_word(m.offsets.table(i as u32), def);
    }

    // Globals, in order: each initializer may read the ones before it.
    for (i, t) in info.globals.iter().enumerate() {
        if i >= info.num_imported_globals as usize {
            let init = &info.global_inits[i - info.num_imported_globals as usize];
            let v = const_eval::eval(
                init,
                &Env {
                    store,
                    instance: &inst,
                },
            )?;
            store.globals.push(GlobalData {
                def: Box::new(VMGlobalDefinition {
                    bytes: v.to_le_bytes(),
                }),
                ty: *t,
            });
            inst.globals.push(store.globals.len() - 1);
        }
        let def = &*store.globals[inst.globals[i]].def as *const _ as u64;
        inst.write_word(m.offsets.global(i as u32), def);
    }

    // Initial elements of defined tables that have an initializer (it may read globals).
    for (i, init) in info.table_inits.iter().enumerate() {
        if let Some(init) = init {
            let env = Env {
                store,
                instance: &inst,
            };
            let word = const_eval::eval(init, &env)? as u64;
            let ti = inst.tables[info.num_imported_tables as usize + i];
            store.tables[ti].elements_mut().fill(word);
        }
    }

    // Element items, evaluated now so that `table.init` only copies words.
    let mut elems = Vec::with_capacity(info.elems.len());
    for seg in &info.elems {
        let env = Env {
            store,
            instance: &inst,
        };
        let items: Vec<u64> = match &seg.items {
            c::ElemItems::Functions(fs) => fs.iter().map(|&f| env.func_ref(f)).collect(),
            c::ElemItems::Exprs(es) => es
                .iter()
                .map(|e| const_eval::eval(e, &env).map(|v| v as u64))
                .collect::<Result<_>>()?,
        };
        elems.push(items);
    }
    inst.elems = elems;

    let index = inst.index;
    store.instances.push(inst);
    apply_segments(store, index)?;
    Ok(index)
}

/// Copies active element and data segments into their tables and memories, in order.
fn apply_segments(store: &mut StoreOpaque, index: usize) -> Result<()> {
    let module = store.instances[index].module.clone();
    let info = &module.inner.info;
    for (i, seg) in info.elems.iter().enumerate() {
        match &seg.mode {
            c::ElemMode::Active { table, offset } => {
                let inst = &store.instances[index];
                let offset = const_eval::eval(
                    offset,
                    &Env {
                        store,
                        instance: inst,
                    },
                )? as u64;
                let items = std::mem::take(&mut store.instances[index].elems[i]);
                let ti = store.instances[index].tables[*table as usize];
                let tab = store.tables[ti].elements_mut();
                let end = offset.checked_add(items.len() as u64);
                match end {
                    Some(end) if end <= tab.len() as u64 => {
                        tab[offset as usize..end as usize].copy_from_slice(&items);
                    }
                    _ => return Err(anyhow!(Trap::TableOutOfBounds)),
                }
            }
            c::ElemMode::Declared => store.instances[index].elems[i].clear(),
            c::ElemMode::Passive => {}
        }
    }
    for (i, seg) in info.data.iter().enumerate() {
        if let Some((mem, offset)) = &seg.active {
            let inst = &store.instances[index];
            let mut offset = const_eval::eval(
                offset,
                &Env {
                    store,
                    instance: inst,
                },
            )? as u64;
            let mi = inst.memories[*mem as usize];
            if !store.memories[mi].ty.memory64 {
                offset &= 0xffff_ffff;
            }
            let bytes = &info.wasm[seg.data.clone()];
            let memory = store.memories[mi].data_mut();
            match offset.checked_add(bytes.len() as u64) {
                Some(end) if end <= memory.len() as u64 => {
                    memory[offset as usize..end as usize].copy_from_slice(bytes);
                }
                _ => return Err(anyhow!(Trap::MemoryOutOfBounds)),
            }
            store.instances[index].data_dropped[i] = true;
        }
    }
    Ok(())
}
