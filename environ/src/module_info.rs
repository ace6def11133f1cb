//! What the runtime needs to know about a module besides its code: types, imports, exports,
//! memories, tables, globals, segments. Filled by the compiler's `parse`.

use std::collections::HashMap;

/// A value type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmType {
    /// 32-bit integer.
    I32,
    /// 64-bit integer.
    I64,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
    /// 128-bit vector.
    V128,
    /// Nullable function reference.
    FuncRef,
    /// Nullable external reference.
    ExternRef,
    /// Any other reference type (function-references proposal). `funcref` and `externref`
    /// are always spelled [`WasmType::FuncRef`] and [`WasmType::ExternRef`]; build reference
    /// types with [`WasmType::reference`] to keep that so.
    Ref(WasmRefType),
}

impl WasmType {
    /// The reference type `(ref null? heap)`, normalized: nullable `func`/`extern` are
    /// [`WasmType::FuncRef`]/[`WasmType::ExternRef`].
    pub fn reference(nullable: bool, heap: WasmHeapType) -> WasmType {
        match (nullable, heap) {
            (true, WasmHeapType::Func) => WasmType::FuncRef,
            (true, WasmHeapType::Extern) => WasmType::ExternRef,
            _ => WasmType::Ref(WasmRefType { nullable, heap }),
        }
    }

    /// The reference type, if this is one.
    pub fn as_ref_type(&self) -> Option<WasmRefType> {
        match *self {
            WasmType::FuncRef => Some(WasmRefType {
                nullable: true,
                heap: WasmHeapType::Func,
            }),
            WasmType::ExternRef => Some(WasmRefType {
                nullable: true,
                heap: WasmHeapType::Extern,
            }),
            WasmType::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// Whether values of this type are external references (32-bit handles in raw slots).
    pub fn is_extern_ref(&self) -> bool {
        self.as_ref_type().is_some_and(|r| r.heap.is_extern())
    }
}

/// A reference type of the function-references proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WasmRefType {
    /// Whether null is a value of the type.
    pub nullable: bool,
    /// What the reference points to.
    pub heap: WasmHeapType,
}

/// What a reference points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WasmHeapType {
    /// Any function.
    Func,
    /// Any host value.
    Extern,
    /// The bottom of the function hierarchy (only null).
    NoFunc,
    /// The bottom of the extern hierarchy (only null).
    NoExtern,
    /// Any exception (exception-handling proposal).
    Exn,
    /// The bottom of the exception hierarchy (only null).
    NoExn,
    /// The top of the internal hierarchy (GC): structs, arrays, `i31`, and host values
    /// converted with `any.convert_extern`.
    Any,
    /// References that `ref.eq` compares: structs, arrays and `i31`.
    Eq,
    /// Unboxed 31-bit integers.
    I31,
    /// Any struct.
    Struct,
    /// Any array.
    Array,
    /// The bottom of the internal hierarchy (only null).
    None,
    /// Values of one defined type (a function, struct or array type). In a [`ModuleInfo`]
    /// from the compiler's `parse` the index is a module type index; embedders may rewrite it
    /// to an index of their own (the runtime uses process-wide canonical type ids) as long as
    /// they do so everywhere.
    Concrete(u32),
}

impl WasmHeapType {
    /// Whether this is `extern` or `noextern`.
    pub fn is_extern(&self) -> bool {
        matches!(self, WasmHeapType::Extern | WasmHeapType::NoExtern)
    }

    /// Whether this is an abstract type of the internal hierarchy (`any` and below; a
    /// concrete struct or array type is not abstract, so it answers `false`).
    pub fn is_abstract_any(&self) -> bool {
        matches!(
            self,
            WasmHeapType::Any
                | WasmHeapType::Eq
                | WasmHeapType::I31
                | WasmHeapType::Struct
                | WasmHeapType::Array
                | WasmHeapType::None
        )
    }
}

/// A function type.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct FuncType {
    /// Parameter types.
    pub params: Vec<WasmType>,
    /// Result types.
    pub results: Vec<WasmType>,
    /// What tells the type apart from structurally equal ones, when its structure alone does
    /// not: `None` for a final type without supertype alone in its recursion group (every
    /// type before GC, and every type a host makes), whose identity is its structure;
    /// otherwise an id the embedder sets for the type's place in its canonical recursion
    /// group (the runtime's canonical type id). The compiler's `parse` leaves it `None`: it
    /// only matters to those who compare types across modules.
    pub identity: Option<u32>,
}

/// A defined type beyond its signature (GC): what it is, its place in the subtyping
/// hierarchy and its recursion group.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TypeDef {
    /// A function, struct or array type.
    pub composite: CompositeType,
    /// Whether no type may declare this one its supertype.
    pub is_final: bool,
    /// The declared supertype, by type index (an earlier type).
    pub supertype: Option<TypeIndex>,
    /// The first type of its recursion group, and how many types the group holds.
    pub rec_group: (TypeIndex, u32),
}

impl TypeDef {
    /// Whether this type is final, has no supertype and is alone in its recursion group:
    /// its structure is its identity.
    pub fn is_plain(&self) -> bool {
        self.is_final && self.supertype.is_none() && self.rec_group.1 == 1
    }
}

/// What a defined type describes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CompositeType {
    /// A function type: its signature is [`ModuleInfo::types`]' entry.
    Func,
    /// A struct type, with its fields in order.
    Struct(Vec<FieldType>),
    /// An array type, with its element.
    Array(FieldType),
}

/// A struct field or array element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldType {
    /// What it stores.
    pub storage: StorageType,
    /// Whether `struct.set`/`array.set` may change it.
    pub mutable: bool,
}

/// What a field stores: a packed integer or a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StorageType {
    /// 8-bit integer (read as `i32`).
    I8,
    /// 16-bit integer (read as `i32`).
    I16,
    /// A value type.
    Val(WasmType),
}

pub use crate::indices::*;
pub use cranelift_entity::{EntityRef, PrimaryMap};

/// A linear memory's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryType {
    /// Minimum size in pages (64 KiB).
    pub minimum: u64,
    /// Maximum size in pages.
    pub maximum: Option<u64>,
    /// 64-bit index type (memory64).
    pub memory64: bool,
    /// Shared (threads).
    pub shared: bool,
}

/// A table's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableType {
    /// Element type: a reference type.
    pub element: WasmType,
    /// Minimum number of elements.
    pub minimum: u64,
    /// Maximum number of elements.
    pub maximum: Option<u64>,
    /// 64-bit index type (memory64 proposal's table64).
    pub table64: bool,
}

/// A global's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GlobalType {
    /// Content type.
    pub content: WasmType,
    /// Whether `global.set` is allowed.
    pub mutable: bool,
}

/// A constant expression (global initializers, segment offsets, element items).
/// Evaluated by the runtime at instantiation; a small stack machine.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstExpr {
    /// Operators in order.
    pub ops: Vec<ConstOp>,
}

/// One operator of a constant expression.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ConstOp {
    /// `i32.const`.
    I32Const(i32),
    /// `i64.const`.
    I64Const(i64),
    /// `f32.const` (bits).
    F32Const(u32),
    /// `f64.const` (bits).
    F64Const(u64),
    /// `v128.const` (bits).
    V128Const(u128),
    /// `global.get` of a global index.
    GlobalGet(GlobalIndex),
    /// `ref.null` of the given type.
    RefNull(WasmType),
    /// `ref.func` of a function index.
    RefFunc(FuncIndex),
    /// `ref.i31` of the `i32` on the stack.
    RefI31,
    /// `i32.add`.
    I32Add,
    /// `i32.sub`.
    I32Sub,
    /// `i32.mul`.
    I32Mul,
    /// `i64.add`.
    I64Add,
    /// `i64.sub`.
    I64Sub,
    /// `i64.mul`.
    I64Mul,
}

/// What an import brings in.
#[derive(Debug, Clone, PartialEq)]
pub enum EntityType {
    /// A function of this module type index.
    Function(TypeIndex),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A global.
    Global(GlobalType),
    /// A tag whose parameters are those of this module type index.
    Tag(TypeIndex),
}

/// One import, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Import {
    /// Module name.
    pub module: String,
    /// Field name.
    pub name: String,
    /// What is imported; its index is the next index of that kind.
    pub ty: EntityType,
}

/// The kind and index of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntityIndex {
    /// Function index.
    Function(FuncIndex),
    /// Table index.
    Table(TableIndex),
    /// Memory index.
    Memory(MemoryIndex),
    /// Global index.
    Global(GlobalIndex),
    /// Tag index.
    Tag(TagIndex),
}

/// One export, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Export {
    /// Export name.
    pub name: String,
    /// What is exported.
    pub index: EntityIndex,
}

/// A data segment.
#[derive(Debug, Clone, PartialEq)]
pub struct DataSegment {
    /// `Some((memory, offset))` for an active segment, `None` for a passive one.
    pub active: Option<(MemoryIndex, ConstExpr)>,
    /// Range of the segment's bytes within the original wasm binary ([`ModuleInfo::wasm`]).
    pub data: std::ops::Range<usize>,
}

/// Items of an element segment.
#[derive(Debug, Clone, PartialEq)]
pub enum ElemItems {
    /// Function indices.
    Functions(Vec<FuncIndex>),
    /// Constant expressions of the element type.
    Exprs(Vec<ConstExpr>),
}

/// How an element segment is used.
#[derive(Debug, Clone, PartialEq)]
pub enum ElemMode {
    /// Copied into `table` at `offset` during instantiation, then dropped.
    Active {
        /// Table index.
        table: TableIndex,
        /// Offset expression.
        offset: ConstExpr,
    },
    /// Available to `table.init`.
    Passive,
    /// Only forward-declares functions for `ref.func`; dropped at instantiation.
    Declared,
}

/// An element segment.
#[derive(Debug, Clone, PartialEq)]
pub struct ElemSegment {
    /// Mode.
    pub mode: ElemMode,
    /// Element type (a reference type).
    pub element: WasmType,
    /// Items.
    pub items: ElemItems,
}

/// Everything about a module but its code.
#[derive(Debug, Clone, Default)]
pub struct ModuleInfo {
    /// The validated wasm binary (segments point into it).
    pub wasm: Vec<u8>,
    /// Function types, by type index. A struct or array type has an empty signature here
    /// (no function can have it: validation sees to that); [`ModuleInfo::type_defs`] says
    /// what each type is.
    pub types: PrimaryMap<TypeIndex, FuncType>,
    /// Every type's definition (kind, supertype, recursion group), by type index.
    pub type_defs: PrimaryMap<TypeIndex, TypeDef>,
    /// Imports in order.
    pub imports: Vec<Import>,
    /// Exports in order.
    pub exports: Vec<Export>,
    /// Type index of every function, imported first.
    pub functions: PrimaryMap<FuncIndex, TypeIndex>,
    /// Number of imported functions (the first entries of `functions`).
    pub num_imported_funcs: u32,
    /// Every table, imported first.
    pub tables: PrimaryMap<TableIndex, TableType>,
    /// Number of imported tables.
    pub num_imported_tables: u32,
    /// Every memory, imported first.
    pub memories: PrimaryMap<MemoryIndex, MemoryType>,
    /// Number of imported memories.
    pub num_imported_memories: u32,
    /// Every global, imported first.
    pub globals: PrimaryMap<GlobalIndex, GlobalType>,
    /// Number of imported globals.
    pub num_imported_globals: u32,
    /// Type index of every tag (its parameters are the exception's payload), imported first.
    pub tags: PrimaryMap<TagIndex, TypeIndex>,
    /// Number of imported tags.
    pub num_imported_tags: u32,
    /// Initializers of the defined globals.
    pub global_inits: PrimaryMap<DefinedGlobalIndex, ConstExpr>,
    /// Initial element of each defined table; `None` for null.
    pub table_inits: PrimaryMap<DefinedTableIndex, Option<ConstExpr>>,
    /// Data segments.
    pub data: PrimaryMap<DataIndex, DataSegment>,
    /// Element segments.
    pub elems: PrimaryMap<ElemIndex, ElemSegment>,
    /// Start function.
    pub start: Option<FuncIndex>,
    /// Function names from the name section.
    pub func_names: HashMap<FuncIndex, String>,
    /// The module's name from the name section.
    pub name: Option<String>,
}

/// The conversions between a module-wide index (imports first) and a defined one.
macro_rules! index_spaces {
    ($($all:ident / $defined:ident: $imported:ident, $is_imported:ident, $to_defined:ident, $to_all:ident;)*) => {
        impl ModuleInfo {
            $(
                /// Whether this index names an import.
                pub fn $is_imported(&self, index: $all) -> bool {
                    index.as_u32() < self.$imported
                }

                /// The definition this index names; `None` for an import.
                pub fn $to_defined(&self, index: $all) -> Option<$defined> {
                    let defined = index.as_u32().checked_sub(self.$imported)?;
                    Some($defined::from_u32(defined))
                }

                /// The module-wide index of a definition.
                pub fn $to_all(&self, defined: $defined) -> $all {
                    $all::from_u32(self.$imported + defined.as_u32())
                }
            )*
        }
    };
}

index_spaces! {
    FuncIndex / DefinedFuncIndex: num_imported_funcs, is_imported_func, defined_func_index, func_index;
    TableIndex / DefinedTableIndex: num_imported_tables, is_imported_table, defined_table_index, table_index;
    MemoryIndex / DefinedMemoryIndex: num_imported_memories, is_imported_memory, defined_memory_index, memory_index;
    GlobalIndex / DefinedGlobalIndex: num_imported_globals, is_imported_global, defined_global_index, global_index;
}

impl ModuleInfo {
    /// Type of function `index`.
    pub fn func_type(&self, index: FuncIndex) -> &FuncType {
        &self.types[self.functions[index]]
    }

    /// Number of functions the module defines.
    pub fn num_defined_funcs(&self) -> u32 {
        self.functions.len() as u32 - self.num_imported_funcs
    }

    /// The memories the module defines, with their indices.
    pub fn defined_memories(&self) -> impl Iterator<Item = (DefinedMemoryIndex, &MemoryType)> {
        let skip = self.num_imported_memories as usize;
        self.memories
            .values()
            .skip(skip)
            .enumerate()
            .map(|(i, t)| (DefinedMemoryIndex::new(i), t))
    }

    /// The tables the module defines, with their indices.
    pub fn defined_tables(&self) -> impl Iterator<Item = (DefinedTableIndex, &TableType)> {
        let skip = self.num_imported_tables as usize;
        self.tables
            .values()
            .skip(skip)
            .enumerate()
            .map(|(i, t)| (DefinedTableIndex::new(i), t))
    }
}
