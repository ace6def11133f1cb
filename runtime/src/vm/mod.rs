//! The runtime's machinery below the public API: the structures compiled code touches,
//! memories, tables, instances' contexts, builtins, trap handling. It knows the store only
//! through `store::VMStore`; nothing here names an API type (`scripts/module-deps.py`
//! checks it).

pub(crate) mod builtins;
pub(crate) mod code_memory;
pub(crate) mod code_object;
pub(crate) mod code_registry;
pub(crate) mod const_eval;
pub(crate) mod instance;
pub(crate) mod memory;
pub(crate) mod memory_image;
pub(crate) mod parking_lot;
pub(crate) mod shared_memory;
pub(crate) mod stack_scan;
pub(crate) mod store;
pub(crate) mod table;
pub mod traphandlers;
pub(crate) mod type_canon;
pub(crate) mod type_registry;
pub(crate) mod vmcontext;
pub(crate) mod wake_timer;
