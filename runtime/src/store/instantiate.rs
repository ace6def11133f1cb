//! Instantiation: allocating a `VMContext`, linking imports, creating the module's memories,
//! tables and globals, applying segments.

use crate::module::Module;
use crate::store::{GlobalData, StoreOpaque, BUILTINS};
use crate::vm::const_eval::{self, ConstEnv};
use crate::vm::instance::InstanceData;
use crate::vm::table::VmTable;
use crate::vm::vmcontext::{VMFuncRef, VMGlobalDefinition, VMOpaqueContext};
use crate::Trap;
use anyhow::{anyhow, Result};
use wasmjit_compiler as c;
use wasmjit_compiler::vmoffsets::vmctx;
use wasmjit_compiler::EntityRef;

struct Env<'a> {
    store: &'a StoreOpaque,
    instance: &'a InstanceData,
}

impl ConstEnv for Env<'_> {
    fn global(&self, index: c::GlobalIndex) -> u128 {
        let g = self.instance.globals[index.index()];
        u128::from_le_bytes(self.store.globals[g].def.bytes)
    }
    fn func_ref(&self, index: c::FuncIndex) -> u64 {
        self.instance.func_ref(index)
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
    let defined_memories = info.defined_memories().count();
    let defined_tables = info.defined_tables().count();
    store.check_counts(1, defined_memories, defined_tables)?;
    for (_, t) in info.defined_memories() {
        store.limit_new_memory(t)?;
    }
    for (_, t) in info.defined_tables() {
        store.limit_new_table(t)?;
    }
    let mut inst = Box::new(InstanceData::new(
        info.clone(),
        m.offsets,
        store.instances.len(),
    ));

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
    // The module outlives the instance (the store keeps it), and its ids never change.
    inst.write_word(vmctx::TYPE_IDS, m.type_ids.as_ptr() as u64);
    // SAFETY: the limits are only accessed from the thread that holds the store.
    inst.set_epoch_deadline_copy(unsafe { *store.limits.epoch_deadline.get() });

    // Defined functions' funcrefs.
    let vmctx_ptr = inst.vmctx_ptr();
    for (i, wasm_call) in module.defined_functions().enumerate() {
        let defined = c::DefinedFuncIndex::new(i);
        let ty = &m.types[info.functions[info.func_index(defined)].index()];
        let fr = inst.defined_funcref(defined.as_u32());
        // SAFETY: `fr` points into this instance's vmctx allocation.
        unsafe {
            *fr = VMFuncRef {
                wasm_call,
                array_call: ty.array_to_wasm(),
                vmctx: VMOpaqueContext::from_vmctx(vmctx_ptr),
                type_id: ty.id,
            };
        }
    }

    // Defined tags, and every tag's identity in the context.
    for &t in info.tags.values().skip(info.num_imported_tags as usize) {
        let ty = crate::FuncType::from_wasm(m.types[t.index()].ty.clone());
        inst.tags.push(store.new_tag(ty));
    }
    for (i, &tag) in inst.tags.clone().iter().enumerate() {
        inst.write_word(m.offsets.tag(i as u32), tag as u64);
    }

    // Defined memories and tables.
    // A memory that takes its module's image holds its segments' bytes already: they are
    // not copied (none of them can trap, so mapping them first changes nothing observable).
    let cfg = &store.engine.inner.config;
    let mut imaged = vec![false; info.memories.len()];
    for (defined, t) in info.defined_memories() {
        let mut mem = crate::host_memory::new_memory(t, cfg)?;
        if let Some(Some(image)) = m.memory_images().get(defined.index()) {
            imaged[info.memory_index(defined).index()] = mem.map_image(image);
        }
        store.memories.push(Box::new(mem));
        inst.memories.push(store.memories.len() - 1);
    }
    for (_, t) in info.defined_tables() {
        store.tables.push(Box::new(VmTable::new(t, 0)?));
        inst.tables.push(store.tables.len() - 1);
    }
    for (i, &mi) in inst.memories.clone().iter().enumerate() {
        let def = store.memories[mi].definition_ptr() as u64;
        inst.write_word(m.offsets.memory(i as u32), def);
    }
    for (i, &ti) in inst.tables.clone().iter().enumerate() {
        let def = &store.tables[ti].def as *const _ as u64;
        inst.write_word(m.offsets.table(i as u32), def);
    }

    // Globals, in order: each initializer may read the ones before it.
    for (i, t) in info.globals.iter() {
        if let Some(defined) = info.defined_global_index(i) {
            let init = &info.global_inits[defined];
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
        let def = &*store.globals[inst.globals[i.index()]].def as *const _ as u64;
        inst.write_word(m.offsets.global(i.as_u32()), def);
    }

    // Initial elements of defined tables that have an initializer (it may read globals).
    for (defined, init) in info.table_inits.iter() {
        if let Some(init) = init {
            let env = Env {
                store,
                instance: &inst,
            };
            let word = const_eval::eval(init, &env)? as u64;
            let ti = inst.tables[info.table_index(defined).index()];
            store.tables[ti].elements_mut().fill(word);
        }
    }

    // Element items, evaluated now so that `table.init` only copies words.
    let mut elems = Vec::with_capacity(info.elems.len());
    for seg in info.elems.values() {
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
    store.instance_modules.push(module.clone());
    apply_segments(store, index, &imaged)?;
    Ok(index)
}

/// Copies active element and data segments into their tables and memories, in order; the
/// data segments of memories in `imaged` (by memory index) are only marked dropped.
fn apply_segments(store: &mut StoreOpaque, index: usize, imaged: &[bool]) -> Result<()> {
    let info = store.instances[index].info.clone();
    for (i, seg) in info.elems.iter() {
        let i = i.index();
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
                let ti = store.instances[index].tables[table.index()];
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
    for (i, seg) in info.data.iter() {
        let i = i.index();
        if let Some((mem, offset)) = &seg.active {
            if imaged[mem.index()] {
                store.instances[index].data_dropped[i] = true;
                continue;
            }
            let inst = &store.instances[index];
            let mut offset = const_eval::eval(
                offset,
                &Env {
                    store,
                    instance: inst,
                },
            )? as u64;
            let mi = inst.memories[mem.index()];
            if !store.memories[mi].ty.memory64 {
                offset &= 0xffff_ffff;
            }
            let bytes = &info.wasm[seg.data.clone()];
            let (base, size) = store.memories[mi].raw();
            match offset.checked_add(bytes.len() as u64) {
                Some(end) if end <= size as u64 => {
                    // SAFETY: `offset..end` lies within the memory's accessible bytes
                    // (checked); a raw copy, since a shared memory may be in use on other
                    // threads (as in wasm, such racing writes are the program's business).
                    unsafe {
                        std::ptr::copy_nonoverlapping(
                            bytes.as_ptr(),
                            base.add(offset as usize),
                            bytes.len(),
                        )
                    };
                }
                _ => return Err(anyhow!(Trap::MemoryOutOfBounds)),
            }
            store.instances[index].data_dropped[i] = true;
        }
    }
    Ok(())
}
