//! `wasm_externtype_t`: the type of a function, global, table or memory.

use crate::types::functype::CFuncType;
use crate::types::globaltype::CGlobalType;
use crate::types::memorytype::CMemoryType;
use crate::types::tabletype::CTableType;
use wasmjit::ExternType;

/// `wasm_externkind_t` values.
pub const WASM_EXTERN_FUNC: u8 = 0;
pub const WASM_EXTERN_GLOBAL: u8 = 1;
pub const WASM_EXTERN_TABLE: u8 = 2;
pub const WASM_EXTERN_MEMORY: u8 = 3;

#[derive(Clone)]
pub(crate) enum CExternType {
    Func(CFuncType),
    Global(CGlobalType),
    Table(CTableType),
    Memory(CMemoryType),
}

/// An extern type; also what a `wasm_functype_t`, `wasm_globaltype_t`, `wasm_tabletype_t` or
/// `wasm_memorytype_t` pointer points to.
#[derive(Clone)]
pub struct wasm_externtype_t {
    pub(crate) which: CExternType,
}

impl wasm_externtype_t {
    pub(crate) fn new(which: CExternType) -> Self {
        Self { which }
    }

    pub(crate) fn from_ty(ty: &ExternType) -> Self {
        Self::new(match ty {
            ExternType::Func(f) => CExternType::Func(CFuncType::new(f)),
            ExternType::Global(g) => CExternType::Global(CGlobalType::new(g)),
            ExternType::Table(t) => CExternType::Table(CTableType::new(t)),
            ExternType::Memory(m) => CExternType::Memory(CMemoryType::new(m)),
            ExternType::Tag(_) => unreachable!("tags are never handed to C"),
        })
    }

    pub(crate) fn kind(&self) -> u8 {
        match self.which {
            CExternType::Func(_) => WASM_EXTERN_FUNC,
            CExternType::Global(_) => WASM_EXTERN_GLOBAL,
            CExternType::Table(_) => WASM_EXTERN_TABLE,
            CExternType::Memory(_) => WASM_EXTERN_MEMORY,
        }
    }
}

/// The kind of an extern type.
#[no_mangle]
pub extern "C" fn wasm_externtype_kind(ty: &wasm_externtype_t) -> u8 {
    ty.kind()
}

/// A copy of an extern type.
#[no_mangle]
pub extern "C" fn wasm_externtype_copy(ty: &wasm_externtype_t) -> Box<wasm_externtype_t> {
    Box::new(ty.clone())
}

/// Frees an extern type.
#[no_mangle]
pub extern "C" fn wasm_externtype_delete(_ty: Option<Box<wasm_externtype_t>>) {}

macro_rules! externtype_casts {
    ($($kind:ident: $to_ext:ident, $to_ext_const:ident, $from_ext:ident, $from_ext_const:ident;)*) => {
        $(
            /// The same type viewed as an extern type.
            #[no_mangle]
            pub extern "C" fn $to_ext(ty: &mut wasm_externtype_t) -> &mut wasm_externtype_t {
                ty
            }

            /// The same type viewed as an extern type.
            #[no_mangle]
            pub extern "C" fn $to_ext_const(ty: &wasm_externtype_t) -> &wasm_externtype_t {
                ty
            }

            /// The extern type viewed as this kind of type; NULL for another kind.
            #[no_mangle]
            pub extern "C" fn $from_ext(ty: &mut wasm_externtype_t) -> Option<&mut wasm_externtype_t> {
                matches!(ty.which, CExternType::$kind(_)).then_some(ty)
            }

            /// The extern type viewed as this kind of type; NULL for another kind.
            #[no_mangle]
            pub extern "C" fn $from_ext_const(ty: &wasm_externtype_t) -> Option<&wasm_externtype_t> {
                matches!(ty.which, CExternType::$kind(_)).then_some(ty)
            }
        )*
    };
}

externtype_casts! {
    Func: wasm_functype_as_externtype, wasm_functype_as_externtype_const,
        wasm_externtype_as_functype, wasm_externtype_as_functype_const;
    Global: wasm_globaltype_as_externtype, wasm_globaltype_as_externtype_const,
        wasm_externtype_as_globaltype, wasm_externtype_as_globaltype_const;
    Table: wasm_tabletype_as_externtype, wasm_tabletype_as_externtype_const,
        wasm_externtype_as_tabletype, wasm_externtype_as_tabletype_const;
    Memory: wasm_memorytype_as_externtype, wasm_memorytype_as_externtype_const,
        wasm_externtype_as_memorytype, wasm_externtype_as_memorytype_const;
}
