//! An instance as compiled code sees it: its `VMContext`, and the store indices of the
//! objects it uses. Instantiation itself (making those objects) is the store's
//! (`store::instantiate`).

use crate::vm::store::VMStore;
use crate::vm::vmcontext::{VMContext, VMFuncRef};
use std::sync::Arc;
use wasmjit_compiler::vmoffsets::{vmctx, VMOffsets};
use wasmjit_compiler::{FuncIndex, ModuleInfo};

/// The runtime side of an instance. Boxed in the store; `VMContext::INSTANCE` points to it.
pub(crate) struct InstanceData {
    /// The module's metadata.
    pub(crate) info: Arc<ModuleInfo>,
    /// The layout of this instance's `VMContext`.
    pub(crate) offsets: VMOffsets,
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
    /// An instance of a module with `info` and context layout `offsets`, to be the store's
    /// `index`-th: a zeroed context, no objects yet.
    pub(crate) fn new(info: Arc<ModuleInfo>, offsets: VMOffsets, index: usize) -> Self {
        InstanceData {
            vmctx: vec![0u64; offsets.size().div_ceil(8) as usize].into_boxed_slice(),
            funcs: vec![None; info.functions.len()],
            memories: Vec::with_capacity(info.memories.len()),
            tables: Vec::with_capacity(info.tables.len()),
            globals: Vec::with_capacity(info.globals.len()),
            tags: Vec::with_capacity(info.tags.len()),
            data_dropped: vec![false; info.data.len()],
            elems: Vec::new(),
            info,
            offsets,
            index,
        }
    }

    /// Address of the `VMContext`.
    pub(crate) fn vmctx_ptr(&self) -> *mut VMContext {
        self.vmctx.as_ptr() as *mut VMContext
    }

    /// Writes the context word at byte `offset`.
    pub(crate) fn write_word(&mut self, offset: u32, value: u64) {
        debug_assert_eq!(offset % 8, 0);
        self.vmctx[(offset / 8) as usize] = value;
    }

    fn read_word(&self, offset: u32) -> u64 {
        debug_assert_eq!(offset % 8, 0);
        self.vmctx[(offset / 8) as usize]
    }

    /// Updates the context's copy of the store's epoch deadline (see
    /// `vmctx::EPOCH_DEADLINE`).
    pub(crate) fn set_epoch_deadline_copy(&mut self, deadline: u64) {
        self.write_word(vmctx::EPOCH_DEADLINE, deadline);
    }

    /// The inline funcref of defined function `defined_index`.
    pub(crate) fn defined_funcref(&self, defined_index: u32) -> *mut VMFuncRef {
        let off = self.offsets.defined_funcref(defined_index);
        // SAFETY: the offset lies within the vmctx allocation (VMOffsets sized it).
        unsafe { self.vmctx_ptr().cast::<u8>().add(off as usize) as *mut VMFuncRef }
    }

    /// Whether `addr` points into this instance's `VMContext`.
    pub(crate) fn contains(&self, addr: usize) -> bool {
        let start = self.vmctx_ptr() as usize;
        addr >= start && addr < start + self.vmctx.len() * 8
    }

    /// The funcref word of function `index`: an import's, as linked into the context, or a
    /// defined function's inline one.
    pub(crate) fn func_ref(&self, index: FuncIndex) -> u64 {
        match self.info.defined_func_index(index) {
            None => self.read_word(self.offsets.imported_func(index.as_u32())),
            Some(defined) => self.defined_funcref(defined.as_u32()) as u64,
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
/// `vmctx` must be the context of a live instance of a store of type `S`.
pub(crate) unsafe fn store_of<'a, S: VMStore>(vmctx_ptr: *mut VMContext) -> &'a mut S {
    // SAFETY: as for `instance_of`: the STORE word points to the owning store, whose type the
    // caller names.
    unsafe { &mut *(*(vmctx_ptr.cast::<u8>().add(vmctx::STORE as usize) as *const *mut S)) }
}
