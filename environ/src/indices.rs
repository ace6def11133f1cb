//! Typed indices into a module's index spaces, so that a function index cannot be used where
//! a defined-function index (or a memory index) is meant. Each index space with imports has
//! two kinds: the module-wide index (imports first) and the index among the module's own
//! definitions; `ModuleInfo` converts between them.

use cranelift_entity::entity_impl;

/// Declares u32-backed index types with `cranelift_entity`'s `EntityRef` machinery.
macro_rules! indices {
    ($($(#[$doc:meta])* $name:ident($display:literal);)*) => {
        $(
            $(#[$doc])*
            #[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
            pub struct $name(u32);
            entity_impl!($name, $display);
        )*
    };
}

indices! {
    /// A function type of the type section.
    TypeIndex("type");
    /// A function, imported ones first.
    FuncIndex("func");
    /// A function the module defines (the code section's order).
    DefinedFuncIndex("defined_func");
    /// A table, imported ones first.
    TableIndex("table");
    /// A table the module defines.
    DefinedTableIndex("defined_table");
    /// A linear memory, imported ones first.
    MemoryIndex("memory");
    /// A linear memory the module defines.
    DefinedMemoryIndex("defined_memory");
    /// A global, imported ones first.
    GlobalIndex("global");
    /// A global the module defines.
    DefinedGlobalIndex("defined_global");
    /// A tag, imported ones first.
    TagIndex("tag");
    /// A data segment.
    DataIndex("data");
    /// An element segment.
    ElemIndex("elem");
}
