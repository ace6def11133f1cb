//! Public type descriptions: values, functions, memories, tables, globals, imports, exports.

use std::fmt;
use std::sync::Arc;
use wasmjit_compiler as c;

/// What a reference points to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HeapType {
    /// Any function.
    Func,
    /// Host values.
    Extern,
    /// Functions of one type (function-references proposal).
    ConcreteFunc(FuncType),
    /// The bottom of the function hierarchy: no function; only null has a type with it.
    NoFunc,
    /// The bottom of the extern hierarchy: only null.
    NoExtern,
    /// Exceptions (exception handling). Exception references do not cross into the host:
    /// the host reads every one as null.
    Exn,
    /// The bottom of the exception hierarchy: only null.
    NoExn,
    /// The top of the internal hierarchy (GC): structs, arrays, `i31` references and host
    /// values converted with `any.convert_extern`.
    Any,
    /// References `ref.eq` compares: structs, arrays and `i31`.
    Eq,
    /// Unboxed 31-bit integers.
    I31,
    /// Any struct.
    Struct,
    /// Any array.
    Array,
    /// The bottom of the internal hierarchy: only null.
    None,
    /// Structs of one type.
    ConcreteStruct(StructType),
    /// Arrays of one type.
    ConcreteArray(ArrayType),
}

impl HeapType {
    /// Whether this is `extern` or `noextern` (not a function heap type).
    pub fn is_extern(&self) -> bool {
        matches!(self, HeapType::Extern | HeapType::NoExtern)
    }

    /// Whether this is `exn` or `noexn`.
    pub fn is_exn(&self) -> bool {
        matches!(self, HeapType::Exn | HeapType::NoExn)
    }

    /// Whether this is in the function hierarchy (`func`, a concrete function type or
    /// `nofunc`).
    pub fn is_func(&self) -> bool {
        matches!(
            self,
            HeapType::Func | HeapType::ConcreteFunc(_) | HeapType::NoFunc
        )
    }

    /// Whether this is `nofunc`.
    pub fn is_no_func(&self) -> bool {
        matches!(self, HeapType::NoFunc)
    }

    /// Whether this is `noexn`.
    pub fn is_no_exn(&self) -> bool {
        matches!(self, HeapType::NoExn)
    }

    /// Whether this is a concrete function type.
    pub fn is_concrete_func(&self) -> bool {
        matches!(self, HeapType::ConcreteFunc(_))
    }

    /// The concrete function type; panics for any other heap type.
    pub fn unwrap_concrete_func(&self) -> &FuncType {
        self.as_concrete_func()
            .expect("HeapType::unwrap_concrete_func on a non-concrete-func type")
    }

    /// Whether `a` and `b` are the same type.
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &HeapType, b: &HeapType) -> bool {
        a == b
    }

    /// The top type of this type's hierarchy (`func`, `extern`, `exn` or `any`).
    pub fn top(&self) -> HeapType {
        match self {
            HeapType::Func | HeapType::ConcreteFunc(_) | HeapType::NoFunc => HeapType::Func,
            HeapType::Extern | HeapType::NoExtern => HeapType::Extern,
            HeapType::Exn | HeapType::NoExn => HeapType::Exn,
            HeapType::Any
            | HeapType::Eq
            | HeapType::I31
            | HeapType::Struct
            | HeapType::Array
            | HeapType::None
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_) => HeapType::Any,
        }
    }

    /// Whether this is the top type of its hierarchy.
    pub fn is_top(&self) -> bool {
        *self == self.top()
    }

    /// The bottom type of this type's hierarchy (`nofunc`, `noextern`, `noexn` or `none`).
    pub fn bottom(&self) -> HeapType {
        match self.top() {
            HeapType::Func => HeapType::NoFunc,
            HeapType::Extern => HeapType::NoExtern,
            HeapType::Any => HeapType::None,
            _ => HeapType::NoExn,
        }
    }

    /// Whether this is in the internal hierarchy (`any` and below).
    pub fn is_any(&self) -> bool {
        self.top() == HeapType::Any
    }

    /// Whether this is the bottom type of its hierarchy.
    pub fn is_bottom(&self) -> bool {
        *self == self.bottom()
    }

    /// Whether this is an abstract type (not a concrete function, struct or array type).
    pub fn is_abstract(&self) -> bool {
        !self.is_concrete()
    }

    /// Whether this is a concrete function, struct or array type.
    pub fn is_concrete(&self) -> bool {
        matches!(
            self,
            HeapType::ConcreteFunc(_) | HeapType::ConcreteStruct(_) | HeapType::ConcreteArray(_)
        )
    }

    /// The function type, if this is a concrete function heap type.
    pub fn as_concrete_func(&self) -> Option<&FuncType> {
        match self {
            HeapType::ConcreteFunc(t) => Some(t),
            _ => None,
        }
    }

    /// Whether every reference to `self` is a reference to `other` (declared supertypes
    /// included).
    pub fn matches(&self, other: &HeapType) -> bool {
        self == other || canonical::heap_matches(self.to_wasm(), other.to_wasm())
    }

    pub(crate) fn from_wasm(t: c::WasmHeapType) -> Self {
        match t {
            c::WasmHeapType::Func => HeapType::Func,
            c::WasmHeapType::Extern => HeapType::Extern,
            c::WasmHeapType::NoFunc => HeapType::NoFunc,
            c::WasmHeapType::NoExtern => HeapType::NoExtern,
            c::WasmHeapType::Exn => HeapType::Exn,
            c::WasmHeapType::NoExn => HeapType::NoExn,
            c::WasmHeapType::Any => HeapType::Any,
            c::WasmHeapType::Eq => HeapType::Eq,
            c::WasmHeapType::I31 => HeapType::I31,
            c::WasmHeapType::Struct => HeapType::Struct,
            c::WasmHeapType::Array => HeapType::Array,
            c::WasmHeapType::None => HeapType::None,
            c::WasmHeapType::Concrete(id) => match canonical::func_type(id) {
                Some(f) => HeapType::ConcreteFunc(FuncType::from_wasm(f)),
                None => match canonical::kind(id) {
                    canonical::Kind::Array => HeapType::ConcreteArray(ArrayType { id }),
                    _ => HeapType::ConcreteStruct(StructType { id }),
                },
            },
        }
    }

    pub(crate) fn to_wasm(&self) -> c::WasmHeapType {
        match self {
            HeapType::Func => c::WasmHeapType::Func,
            HeapType::Extern => c::WasmHeapType::Extern,
            HeapType::NoFunc => c::WasmHeapType::NoFunc,
            HeapType::NoExtern => c::WasmHeapType::NoExtern,
            HeapType::Exn => c::WasmHeapType::Exn,
            HeapType::NoExn => c::WasmHeapType::NoExn,
            HeapType::Any => c::WasmHeapType::Any,
            HeapType::Eq => c::WasmHeapType::Eq,
            HeapType::I31 => c::WasmHeapType::I31,
            HeapType::Struct => c::WasmHeapType::Struct,
            HeapType::Array => c::WasmHeapType::Array,
            HeapType::None => c::WasmHeapType::None,
            HeapType::ConcreteFunc(t) => c::WasmHeapType::Concrete(canonical::id(&t.inner)),
            HeapType::ConcreteStruct(t) => c::WasmHeapType::Concrete(t.id),
            HeapType::ConcreteArray(t) => c::WasmHeapType::Concrete(t.id),
        }
    }
}

/// A struct type (GC). Its identity is its canonical id: struct types from equal recursion
/// groups are equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct StructType {
    id: u32,
}

impl StructType {
    /// The fields, in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = FieldType> {
        canonical::fields(self.id).into_iter().map(field_from_wasm)
    }

    /// Whether structs of this type are structs of `other`'s (declared supertypes).
    pub fn matches(&self, other: &StructType) -> bool {
        canonical::is_subtype(self.id, other.id)
    }
}

impl fmt::Display for StructType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(struct")?;
        for field in self.fields() {
            write!(f, " (field {field})")?;
        }
        f.write_str(")")
    }
}

/// An array type (GC). Its identity is its canonical id, as for [`StructType`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ArrayType {
    id: u32,
}

impl ArrayType {
    /// The element type.
    pub fn field_type(&self) -> FieldType {
        let field = canonical::fields(self.id)[0];
        field_from_wasm(field)
    }

    /// Whether arrays of this type are arrays of `other`'s (declared supertypes).
    pub fn matches(&self, other: &ArrayType) -> bool {
        canonical::is_subtype(self.id, other.id)
    }
}

impl fmt::Display for ArrayType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "(array {})", self.field_type())
    }
}

/// A field type of the compiled form (canonical references).
fn field_from_wasm(f: c::FieldType) -> FieldType {
    let mutability = if f.mutable {
        Mutability::Var
    } else {
        Mutability::Const
    };
    let storage = match f.storage {
        c::StorageType::I8 => StorageType::I8,
        c::StorageType::I16 => StorageType::I16,
        c::StorageType::Val(t) => StorageType::ValType(ValType::from_wasm(t)),
    };
    FieldType::new(mutability, storage)
}

impl fmt::Display for HeapType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeapType::Func => f.write_str("func"),
            HeapType::Extern => f.write_str("extern"),
            HeapType::NoFunc => f.write_str("nofunc"),
            HeapType::NoExtern => f.write_str("noextern"),
            HeapType::Exn => f.write_str("exn"),
            HeapType::NoExn => f.write_str("noexn"),
            HeapType::Any => f.write_str("any"),
            HeapType::Eq => f.write_str("eq"),
            HeapType::I31 => f.write_str("i31"),
            HeapType::Struct => f.write_str("struct"),
            HeapType::Array => f.write_str("array"),
            HeapType::None => f.write_str("none"),
            HeapType::ConcreteFunc(_)
            | HeapType::ConcreteStruct(_)
            | HeapType::ConcreteArray(_) => {
                // A type may refer to itself (GC's recursive types): types nested deeper than
                // a few levels are shown by their canonical id.
                let depth = NESTING.with(|n| n.get());
                if depth >= 3 {
                    return write!(f, "(type #{})", canonical_id(self));
                }
                NESTING.with(|n| n.set(depth + 1));
                let shown = match self {
                    HeapType::ConcreteFunc(t) => t.fmt(f),
                    HeapType::ConcreteStruct(t) => t.fmt(f),
                    HeapType::ConcreteArray(t) => t.fmt(f),
                    _ => Ok(()),
                };
                NESTING.with(|n| n.set(depth));
                shown
            }
        }
    }
}

thread_local! {
    /// How many concrete types the current `Display` of a heap type is inside.
    static NESTING: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// The canonical id of a concrete heap type.
fn canonical_id(t: &HeapType) -> u32 {
    match t.to_wasm() {
        c::WasmHeapType::Concrete(id) => id,
        _ => 0,
    }
}

/// A reference type.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RefType {
    nullable: bool,
    heap_type: HeapType,
}

impl RefType {
    /// `funcref`.
    pub const FUNCREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Func,
    };
    /// `externref`.
    pub const EXTERNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Extern,
    };
    /// `nullfuncref`: `(ref null nofunc)`.
    pub const NULLFUNCREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::NoFunc,
    };
    /// `nullexternref`: `(ref null noextern)`.
    pub const NULLEXTERNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::NoExtern,
    };
    /// `exnref`: `(ref null exn)`.
    pub const EXNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Exn,
    };
    /// `nullexnref`: `(ref null noexn)`.
    pub const NULLEXNREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::NoExn,
    };
    /// `anyref`: `(ref null any)`.
    pub const ANYREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Any,
    };
    /// `eqref`: `(ref null eq)`.
    pub const EQREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::Eq,
    };
    /// `i31ref`: `(ref null i31)`.
    pub const I31REF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::I31,
    };
    /// `nullref`: `(ref null none)`.
    pub const NULLREF: RefType = RefType {
        nullable: true,
        heap_type: HeapType::None,
    };

    /// A reference type.
    pub fn new(nullable: bool, heap_type: HeapType) -> Self {
        Self {
            nullable,
            heap_type,
        }
    }
    /// Whether `a` and `b` are the same type.
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &RefType, b: &RefType) -> bool {
        a == b
    }

    /// Whether null is a value of this type.
    pub fn is_nullable(&self) -> bool {
        self.nullable
    }
    /// What it points to.
    pub fn heap_type(&self) -> &HeapType {
        &self.heap_type
    }
    /// Whether `self` is a subtype of `other`: non-null matches nullable, a concrete function
    /// type matches `func`, the bottom types match their hierarchy.
    pub fn matches(&self, other: &RefType) -> bool {
        (!self.nullable || other.nullable) && self.heap_type.matches(&other.heap_type)
    }

    pub(crate) fn from_wasm(t: c::WasmRefType) -> Self {
        Self::new(t.nullable, HeapType::from_wasm(t.heap))
    }

    pub(crate) fn to_wasm(&self) -> c::WasmType {
        c::WasmType::reference(self.nullable, self.heap_type.to_wasm())
    }
}

impl fmt::Display for RefType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.nullable, &self.heap_type) {
            (true, HeapType::Func) => f.write_str("funcref"),
            (true, HeapType::Extern) => f.write_str("externref"),
            (true, HeapType::NoFunc) => f.write_str("nullfuncref"),
            (true, HeapType::NoExtern) => f.write_str("nullexternref"),
            (true, HeapType::Any) => f.write_str("anyref"),
            (true, HeapType::Eq) => f.write_str("eqref"),
            (true, HeapType::I31) => f.write_str("i31ref"),
            (true, HeapType::None) => f.write_str("nullref"),
            (true, heap) => write!(f, "(ref null {heap})"),
            (false, heap) => write!(f, "(ref {heap})"),
        }
    }
}

pub(crate) use crate::vm::type_canon as canonical;

/// The type of a value.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ValType {
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
    /// A reference.
    Ref(RefType),
}

impl ValType {
    /// Whether `a` and `b` are the same type.
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &ValType, b: &ValType) -> bool {
        a == b
    }

    /// `funcref`.
    pub const FUNCREF: ValType = ValType::Ref(RefType::FUNCREF);
    /// `externref`.
    pub const EXTERNREF: ValType = ValType::Ref(RefType::EXTERNREF);

    /// Whether this is `i32`.
    pub fn is_i32(&self) -> bool {
        matches!(self, ValType::I32)
    }
    /// Whether this is `i64`.
    pub fn is_i64(&self) -> bool {
        matches!(self, ValType::I64)
    }
    /// Whether this is `f32`.
    pub fn is_f32(&self) -> bool {
        matches!(self, ValType::F32)
    }
    /// Whether this is `f64`.
    pub fn is_f64(&self) -> bool {
        matches!(self, ValType::F64)
    }
    /// Whether this is `v128`.
    pub fn is_v128(&self) -> bool {
        matches!(self, ValType::V128)
    }
    /// Whether this is `funcref` (`(ref null func)`).
    pub fn is_funcref(&self) -> bool {
        matches!(self, ValType::Ref(r) if r.is_nullable() && matches!(r.heap_type(), HeapType::Func))
    }
    /// Whether this is `externref` (`(ref null extern)`).
    pub fn is_externref(&self) -> bool {
        matches!(self, ValType::Ref(r) if r.is_nullable() && matches!(r.heap_type(), HeapType::Extern))
    }
    /// The reference type; panics for numeric and vector types.
    pub fn unwrap_ref(&self) -> &RefType {
        self.as_ref()
            .expect("ValType::unwrap_ref on a non-reference type")
    }

    /// Whether this is i32, i64, f32 or f64.
    pub fn is_num(&self) -> bool {
        matches!(
            self,
            ValType::I32 | ValType::I64 | ValType::F32 | ValType::F64
        )
    }
    /// Whether this is a reference type.
    pub fn is_ref(&self) -> bool {
        matches!(self, ValType::Ref(_))
    }
    /// The reference type, if this is one.
    pub fn as_ref(&self) -> Option<&RefType> {
        match self {
            ValType::Ref(r) => Some(r),
            _ => None,
        }
    }
    /// `nullfuncref`.
    pub const NULLFUNCREF: ValType = ValType::Ref(RefType::NULLFUNCREF);
    /// `nullexternref`.
    pub const NULLEXTERNREF: ValType = ValType::Ref(RefType::NULLEXTERNREF);
    /// `exnref`.
    pub const EXNREF: ValType = ValType::Ref(RefType::EXNREF);
    /// `nullexnref`.
    pub const NULLEXNREF: ValType = ValType::Ref(RefType::NULLEXNREF);
    /// `anyref`.
    pub const ANYREF: ValType = ValType::Ref(RefType::ANYREF);
    /// `eqref`.
    pub const EQREF: ValType = ValType::Ref(RefType::EQREF);
    /// `i31ref`.
    pub const I31REF: ValType = ValType::Ref(RefType::I31REF);
    /// `nullref`.
    pub const NULLREF: ValType = ValType::Ref(RefType::NULLREF);

    /// Whether values of `self` may be used where `other` is expected (subtyping).
    pub fn matches(&self, other: &ValType) -> bool {
        match (self, other) {
            (ValType::Ref(a), ValType::Ref(b)) => a.matches(b),
            (a, b) => a == b,
        }
    }

    pub(crate) fn from_wasm(t: c::WasmType) -> Self {
        match t {
            c::WasmType::I32 => ValType::I32,
            c::WasmType::I64 => ValType::I64,
            c::WasmType::F32 => ValType::F32,
            c::WasmType::F64 => ValType::F64,
            c::WasmType::V128 => ValType::V128,
            c::WasmType::FuncRef => ValType::FUNCREF,
            c::WasmType::ExternRef => ValType::EXTERNREF,
            c::WasmType::Ref(r) => ValType::Ref(RefType::from_wasm(r)),
        }
    }

    pub(crate) fn to_wasm(&self) -> c::WasmType {
        match self {
            ValType::I32 => c::WasmType::I32,
            ValType::I64 => c::WasmType::I64,
            ValType::F32 => c::WasmType::F32,
            ValType::F64 => c::WasmType::F64,
            ValType::V128 => c::WasmType::V128,
            ValType::Ref(r) => r.to_wasm(),
        }
    }
}

impl fmt::Display for ValType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ValType::I32 => f.write_str("i32"),
            ValType::I64 => f.write_str("i64"),
            ValType::F32 => f.write_str("f32"),
            ValType::F64 => f.write_str("f64"),
            ValType::V128 => f.write_str("v128"),
            ValType::Ref(r) => r.fmt(f),
        }
    }
}

/// The type of a function.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FuncType {
    /// Shared, so that `Func::ty` of a registered function costs no allocation.
    pub(crate) inner: Arc<c::FuncType>,
}

impl FuncType {
    /// Whether `a` and `b` are the same type (structurally: wasmjit's function types are
    /// canonical).
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &FuncType, b: &FuncType) -> bool {
        a == b
    }

    /// A function type from its parameters and results, for use in `engine` (Wasmtime's
    /// signature; function types here are canonical process-wide, so they are valid in any
    /// engine).
    pub fn new(
        engine: &crate::Engine,
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        let _ = engine;
        Self::from_types(params, results)
    }

    /// [`FuncType::new`] as a `Result`, as in Wasmtime (where allocation may fail); always
    /// `Ok` here.
    pub fn try_new(
        engine: &crate::Engine,
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> anyhow::Result<Self> {
        Ok(Self::new(engine, params, results))
    }

    /// Whether a function of this type can be used where `other` is expected: the same
    /// parameters, and each result a subtype of `other`'s.
    pub fn matches(&self, other: &FuncType) -> bool {
        self.params().len() == other.params().len()
            && self.results().len() == other.results().len()
            && self.params().zip(other.params()).all(|(a, b)| a == b)
            && self
                .results()
                .zip(other.results())
                .all(|(a, b)| a.matches(&b))
    }

    /// [`FuncType::new`] without an engine (wasmjit only).
    pub fn from_types(
        params: impl IntoIterator<Item = ValType>,
        results: impl IntoIterator<Item = ValType>,
    ) -> Self {
        Self {
            inner: Arc::new(canonical::host_func_type(
                params.into_iter().map(|t| t.to_wasm()).collect(),
                results.into_iter().map(|t| t.to_wasm()).collect(),
            )),
        }
    }
    /// Parameter types.
    pub fn params(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.inner.params.iter().map(|t| ValType::from_wasm(*t))
    }
    /// Result types.
    pub fn results(&self) -> impl ExactSizeIterator<Item = ValType> + '_ {
        self.inner.results.iter().map(|t| ValType::from_wasm(*t))
    }
    /// Parameter `i`.
    pub fn param(&self, i: usize) -> Option<ValType> {
        self.inner.params.get(i).map(|t| ValType::from_wasm(*t))
    }
    /// Result `i`.
    pub fn result(&self, i: usize) -> Option<ValType> {
        self.inner.results.get(i).map(|t| ValType::from_wasm(*t))
    }
    pub(crate) fn from_wasm(inner: impl Into<Arc<c::FuncType>>) -> Self {
        Self {
            inner: inner.into(),
        }
    }
}

impl fmt::Display for FuncType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("(func")?;
        if !self.inner.params.is_empty() {
            f.write_str(" (param")?;
            for p in self.params() {
                write!(f, " {p}")?;
            }
            f.write_str(")")?;
        }
        if !self.inner.results.is_empty() {
            f.write_str(" (result")?;
            for r in self.results() {
                write!(f, " {r}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(")")
    }
}

/// Whether a global may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutability {
    /// Immutable.
    Const,
    /// Mutable.
    Var,
}

impl Mutability {
    /// Whether this is [`Mutability::Const`].
    pub fn is_const(&self) -> bool {
        *self == Mutability::Const
    }

    /// Whether this is [`Mutability::Var`].
    pub fn is_var(&self) -> bool {
        *self == Mutability::Var
    }
}

/// The type of a global.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GlobalType {
    content: ValType,
    mutability: Mutability,
}

impl GlobalType {
    /// A global type.
    pub fn new(content: ValType, mutability: Mutability) -> Self {
        Self {
            content,
            mutability,
        }
    }
    /// Value type.
    pub fn content(&self) -> &ValType {
        &self.content
    }
    /// Mutability.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
    pub(crate) fn from_wasm(t: &c::GlobalType) -> Self {
        Self::new(
            ValType::from_wasm(t.content),
            if t.mutable {
                Mutability::Var
            } else {
                Mutability::Const
            },
        )
    }
    pub(crate) fn to_wasm(&self) -> c::GlobalType {
        c::GlobalType {
            content: self.content.to_wasm(),
            mutable: self.mutability == Mutability::Var,
        }
    }
}

/// The type of a table.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TableType {
    element: RefType,
    minimum: u64,
    maximum: Option<u64>,
    table64: bool,
}

impl TableType {
    /// A table type with 32-bit indices.
    pub fn new(element: RefType, min: u32, max: Option<u32>) -> Self {
        Self {
            element,
            minimum: min.into(),
            maximum: max.map(Into::into),
            table64: false,
        }
    }
    /// A table type with 64-bit indices.
    pub fn new64(element: RefType, min: u64, max: Option<u64>) -> Self {
        Self {
            element,
            minimum: min,
            maximum: max,
            table64: true,
        }
    }
    /// Element type.
    pub fn element(&self) -> &RefType {
        &self.element
    }
    /// Minimum number of elements.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    /// Maximum number of elements.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
    /// Whether indices are 64-bit.
    pub fn is_64(&self) -> bool {
        self.table64
    }
    pub(crate) fn from_wasm(t: &c::TableType) -> Self {
        let element = match ValType::from_wasm(t.element) {
            ValType::Ref(r) => r,
            _ => RefType::FUNCREF,
        };
        Self {
            element,
            minimum: t.minimum,
            maximum: t.maximum,
            table64: t.table64,
        }
    }
    pub(crate) fn to_wasm(&self) -> c::TableType {
        c::TableType {
            element: self.element.to_wasm(),
            minimum: self.minimum,
            maximum: self.maximum,
            table64: self.table64,
        }
    }
}

/// The type of a linear memory (sizes in 64 KiB pages).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemoryType {
    minimum: u64,
    maximum: Option<u64>,
    memory64: bool,
    shared: bool,
}

impl MemoryType {
    /// A 32-bit memory type.
    pub fn new(minimum: u32, maximum: Option<u32>) -> Self {
        Self {
            minimum: minimum.into(),
            maximum: maximum.map(Into::into),
            memory64: false,
            shared: false,
        }
    }
    /// A 32-bit shared memory type (shared memories need a maximum).
    pub fn shared(minimum: u32, maximum: u32) -> Self {
        Self {
            minimum: minimum.into(),
            maximum: Some(maximum.into()),
            memory64: false,
            shared: true,
        }
    }
    /// A 64-bit memory type.
    pub fn new64(minimum: u64, maximum: Option<u64>) -> Self {
        Self {
            minimum,
            maximum,
            memory64: true,
            shared: false,
        }
    }
    /// Minimum pages.
    pub fn minimum(&self) -> u64 {
        self.minimum
    }
    /// Maximum pages.
    pub fn maximum(&self) -> Option<u64> {
        self.maximum
    }
    /// Whether indices are 64-bit.
    pub fn is_64(&self) -> bool {
        self.memory64
    }
    /// Whether the memory is shared between threads.
    pub fn is_shared(&self) -> bool {
        self.shared
    }
    /// Page size in bytes.
    pub fn page_size(&self) -> u64 {
        crate::vm::memory::WASM_PAGE_SIZE as u64
    }
    /// Log2 of [`MemoryType::page_size`] (16: wasmjit has 64 KiB pages only).
    pub fn page_size_log2(&self) -> u8 {
        self.page_size().trailing_zeros() as u8
    }
    /// A builder, starting from a 32-bit memory of 0 pages with no maximum.
    pub fn builder() -> MemoryTypeBuilder {
        MemoryTypeBuilder::new()
    }
    pub(crate) fn from_wasm(t: &c::MemoryType) -> Self {
        Self {
            minimum: t.minimum,
            maximum: t.maximum,
            memory64: t.memory64,
            shared: t.shared,
        }
    }
    pub(crate) fn to_wasm(&self) -> c::MemoryType {
        c::MemoryType {
            minimum: self.minimum,
            maximum: self.maximum,
            memory64: self.memory64,
            shared: self.shared,
        }
    }
}

/// Builds a [`MemoryType`] setting by setting, checked when built.
#[derive(Debug, Clone)]
pub struct MemoryTypeBuilder {
    ty: MemoryType,
    page_size_log2: u8,
}

impl Default for MemoryTypeBuilder {
    fn default() -> Self {
        Self {
            ty: MemoryType::new(0, None),
            page_size_log2: 16,
        }
    }
}

impl MemoryTypeBuilder {
    /// A 32-bit memory of 0 pages with no maximum, unshared, with 64 KiB pages.
    pub fn new() -> MemoryTypeBuilder {
        MemoryTypeBuilder::default()
    }

    /// The minimum size in pages.
    pub fn min(&mut self, minimum: u64) -> &mut Self {
        self.ty.minimum = minimum;
        self
    }

    /// The maximum size in pages, if any.
    pub fn max(&mut self, maximum: Option<u64>) -> &mut Self {
        self.ty.maximum = maximum;
        self
    }

    /// Whether indices are 64-bit.
    pub fn memory64(&mut self, memory64: bool) -> &mut Self {
        self.ty.memory64 = memory64;
        self
    }

    /// Whether the memory is shared between threads (a shared memory needs a maximum).
    pub fn shared(&mut self, shared: bool) -> &mut Self {
        self.ty.shared = shared;
        self
    }

    /// Log2 of the page size: 16 (64 KiB), or 0 (one byte, the custom-page-sizes proposal,
    /// which wasmjit does not implement: `build` refuses it).
    pub fn page_size_log2(&mut self, page_size_log2: u8) -> &mut Self {
        self.page_size_log2 = page_size_log2;
        self
    }

    /// The memory type; an error when the settings contradict each other or exceed what
    /// the index type can address, with Wasmtime's messages.
    pub fn build(&self) -> anyhow::Result<MemoryType> {
        let ty = &self.ty;
        if ty.maximum.is_some_and(|max| max < ty.minimum) {
            anyhow::bail!("maximum page size cannot be smaller than the minimum page size");
        }
        match self.page_size_log2 {
            16 => {}
            0 => anyhow::bail!("custom page sizes are not supported by wasmjit"),
            x => anyhow::bail!(
                "page size must be 2**16 or 2**0, but was given 2**{x}; note \
                 that future Wasm extensions might allow any power of two page \
                 size, but only 2**16 and 2**0 are currently valid",
            ),
        }
        if ty.shared && ty.maximum.is_none() {
            anyhow::bail!("shared memories must have a maximum size");
        }
        // The most bytes the index type can address: 2^32, or 2^64 (one more than a u64).
        let absolute_max: u128 = if ty.memory64 { 1 << 64 } else { 1 << 32 };
        let bytes = |pages: u64| u128::from(pages) << self.page_size_log2;
        if bytes(ty.minimum) > absolute_max {
            anyhow::bail!("minimum size is too large for this memory type's index type");
        }
        if ty.maximum.is_some_and(|max| bytes(max) > absolute_max) {
            anyhow::bail!("maximum size is too large for this memory type's index type");
        }
        Ok(ty.clone())
    }
}

/// The type of an import or export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExternType {
    /// A function.
    Func(FuncType),
    /// A global.
    Global(GlobalType),
    /// A table.
    Table(TableType),
    /// A memory.
    Memory(MemoryType),
    /// A tag (exception handling).
    Tag(crate::TagType),
}

impl ExternType {
    /// The tag type, if this is one.
    pub fn tag(&self) -> Option<&crate::TagType> {
        match self {
            ExternType::Tag(t) => Some(t),
            _ => None,
        }
    }
    /// The tag type, or a panic.
    pub fn unwrap_tag(&self) -> &crate::TagType {
        self.tag().expect("not a tag type")
    }
    /// The function type, if this is one.
    pub fn func(&self) -> Option<&FuncType> {
        match self {
            ExternType::Func(t) => Some(t),
            _ => None,
        }
    }
    /// The global type, if this is one.
    pub fn global(&self) -> Option<&GlobalType> {
        match self {
            ExternType::Global(t) => Some(t),
            _ => None,
        }
    }
    /// The table type, if this is one.
    pub fn table(&self) -> Option<&TableType> {
        match self {
            ExternType::Table(t) => Some(t),
            _ => None,
        }
    }
    /// The memory type, if this is one.
    pub fn memory(&self) -> Option<&MemoryType> {
        match self {
            ExternType::Memory(t) => Some(t),
            _ => None,
        }
    }
    /// The function type, or a panic.
    pub fn unwrap_func(&self) -> &FuncType {
        self.func().expect("not a function type")
    }
    /// The global type, or a panic.
    pub fn unwrap_global(&self) -> &GlobalType {
        self.global().expect("not a global type")
    }
    /// The table type, or a panic.
    pub fn unwrap_table(&self) -> &TableType {
        self.table().expect("not a table type")
    }
    /// The memory type, or a panic.
    pub fn unwrap_memory(&self) -> &MemoryType {
        self.memory().expect("not a memory type")
    }
}

impl From<FuncType> for ExternType {
    fn from(t: FuncType) -> Self {
        ExternType::Func(t)
    }
}
impl From<GlobalType> for ExternType {
    fn from(t: GlobalType) -> Self {
        ExternType::Global(t)
    }
}
impl From<TableType> for ExternType {
    fn from(t: TableType) -> Self {
        ExternType::Table(t)
    }
}
impl From<MemoryType> for ExternType {
    fn from(t: MemoryType) -> Self {
        ExternType::Memory(t)
    }
}
impl From<crate::TagType> for ExternType {
    fn from(t: crate::TagType) -> Self {
        ExternType::Tag(t)
    }
}

/// One import of a module.
#[derive(Debug, Clone)]
pub struct ImportType<'a> {
    module: &'a str,
    name: &'a str,
    ty: ExternType,
}

impl<'a> ImportType<'a> {
    pub(crate) fn new(module: &'a str, name: &'a str, ty: ExternType) -> Self {
        Self { module, name, ty }
    }
    /// Module name.
    pub fn module(&self) -> &'a str {
        self.module
    }
    /// Field name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// Expected type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// One export of a module.
#[derive(Debug, Clone)]
pub struct ExportType<'a> {
    name: &'a str,
    ty: ExternType,
}

impl<'a> ExportType<'a> {
    pub(crate) fn new(name: &'a str, ty: ExternType) -> Self {
        Self { name, ty }
    }
    /// Export name.
    pub fn name(&self) -> &'a str {
        self.name
    }
    /// Type.
    pub fn ty(&self) -> ExternType {
        self.ty.clone()
    }
}

/// What a field of an aggregate holds: a packed integer or a value. Wasmjit has no GC
/// structs or arrays; exception payloads ([`crate::ExnType::fields`]) are its fields.
#[derive(Debug, Clone, Hash)]
pub enum StorageType {
    /// An 8-bit integer, unpacked to `i32`.
    I8,
    /// A 16-bit integer, unpacked to `i32`.
    I16,
    /// A value of a value type.
    ValType(ValType),
}

impl fmt::Display for StorageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageType::I8 => f.write_str("i8"),
            StorageType::I16 => f.write_str("i16"),
            StorageType::ValType(ty) => fmt::Display::fmt(ty, f),
        }
    }
}

impl From<ValType> for StorageType {
    fn from(ty: ValType) -> Self {
        StorageType::ValType(ty)
    }
}

impl From<RefType> for StorageType {
    fn from(ty: RefType) -> Self {
        StorageType::ValType(ValType::Ref(ty))
    }
}

impl StorageType {
    /// Whether this is `i8`.
    pub fn is_i8(&self) -> bool {
        matches!(self, StorageType::I8)
    }
    /// Whether this is `i16`.
    pub fn is_i16(&self) -> bool {
        matches!(self, StorageType::I16)
    }
    /// Whether this is a value type.
    pub fn is_val_type(&self) -> bool {
        matches!(self, StorageType::ValType(_))
    }
    /// The value type, if this is one.
    pub fn as_val_type(&self) -> Option<&ValType> {
        match self {
            StorageType::ValType(ty) => Some(ty),
            _ => None,
        }
    }
    /// The value type, or a panic.
    pub fn unwrap_val_type(&self) -> &ValType {
        self.as_val_type().expect("expected a value type")
    }
    /// The type of the values read from such a field (`i32` for packed integers).
    pub fn unpack(&self) -> &ValType {
        match self {
            StorageType::I8 | StorageType::I16 => &ValType::I32,
            StorageType::ValType(ty) => ty,
        }
    }
    /// Whether this is `other` or, for value types, a subtype of it.
    pub fn matches(&self, other: &Self) -> bool {
        match (self, other) {
            (StorageType::ValType(a), StorageType::ValType(b)) => a.matches(b),
            (a, b) => a.is_i8() && b.is_i8() || a.is_i16() && b.is_i16(),
        }
    }
    /// Whether `a` and `b` are the same type.
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &Self, b: &Self) -> bool {
        a.matches(b) && b.matches(a)
    }
}

/// The type of a field: what it holds, and whether it may change.
#[derive(Debug, Clone, Hash)]
pub struct FieldType {
    mutability: Mutability,
    element_type: StorageType,
}

impl fmt::Display for FieldType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mutability.is_var() {
            write!(f, "(mut {})", self.element_type)
        } else {
            fmt::Display::fmt(&self.element_type, f)
        }
    }
}

impl FieldType {
    /// A field of `element_type` with `mutability`.
    pub fn new(mutability: Mutability, element_type: StorageType) -> Self {
        FieldType {
            mutability,
            element_type,
        }
    }
    /// Whether the field may change.
    pub fn mutability(&self) -> Mutability {
        self.mutability
    }
    /// What the field holds.
    pub fn element_type(&self) -> &StorageType {
        &self.element_type
    }
    /// Whether this field type is `other`'s or a subtype: immutable fields are covariant,
    /// mutable ones invariant.
    pub fn matches(&self, other: &Self) -> bool {
        match (self.mutability, other.mutability) {
            (Mutability::Const, Mutability::Const) => {
                self.element_type.matches(&other.element_type)
            }
            (Mutability::Var, Mutability::Var) => {
                StorageType::eq(&self.element_type, &other.element_type)
            }
            _ => false,
        }
    }
    /// Whether `a` and `b` are the same field type.
    #[allow(clippy::should_implement_trait)] // Wasmtime's name: an associated function
    pub fn eq(a: &Self, b: &Self) -> bool {
        a.matches(b) && b.matches(a)
    }
}
