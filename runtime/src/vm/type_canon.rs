//! Process-wide canonical ids of defined types (function, struct and array types).
//!
//! Types are equal when they sit at the same place in equal recursion groups (the GC
//! proposal's isorecursive equality). Every recursion group is interned once, keyed by its
//! types with references inside the group written relative to the group and references
//! outside it written as the canonical ids of their targets (which exist: a group refers only
//! to itself and earlier groups); its types get consecutive ids. A compiled type refers to a
//! defined type by this id ([`c::WasmHeapType::Concrete`]), so that equal types, from whatever
//! module or engine, are equal as keys and in comparisons, and subtyping is a walk up the
//! declared supertypes. Entries are never freed (a process sees few distinct groups).
//!
//! Every function type the runtime holds carries its id as [`c::FuncType::identity`]; a
//! function type a host makes is a final type without supertype alone in its group.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use wasmjit_compiler as c;
use wasmjit_compiler::EntityRef;

/// Marks a reference, in a group's key, to a type of the same group (by its position).
const IN_GROUP: u32 = 1 << 31;

/// What a defined type describes, with its references written as in a key or resolved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Composite {
    Func(Vec<c::WasmType>, Vec<c::WasmType>),
    Struct(Vec<c::FieldType>),
    Array(c::FieldType),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Def {
    composite: Composite,
    is_final: bool,
    supertype: Option<u32>,
}

/// The kind of a defined type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Func,
    Struct,
    Array,
}

struct Entry {
    /// The definition, references resolved to canonical ids.
    def: Def,
    /// The function type with its identity, for function types.
    func: Option<Arc<c::FuncType>>,
}

#[derive(Default)]
struct Registry {
    /// Each interned group's key and the id of its first type.
    groups: HashMap<Vec<Def>, u32>,
    entries: Vec<Entry>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Default::default);

fn registry() -> std::sync::MutexGuard<'static, Registry> {
    REGISTRY.lock().unwrap_or_else(|e| e.into_inner())
}

/// Rewrites the concrete references of a value type with `map`.
fn map_type(t: c::WasmType, map: &impl Fn(u32) -> u32) -> c::WasmType {
    match t {
        c::WasmType::Ref(c::WasmRefType {
            nullable,
            heap: c::WasmHeapType::Concrete(i),
        }) => c::WasmType::Ref(c::WasmRefType {
            nullable,
            heap: c::WasmHeapType::Concrete(map(i)),
        }),
        other => other,
    }
}

fn map_field(f: c::FieldType, map: &impl Fn(u32) -> u32) -> c::FieldType {
    c::FieldType {
        storage: match f.storage {
            c::StorageType::Val(t) => c::StorageType::Val(map_type(t, map)),
            packed => packed,
        },
        mutable: f.mutable,
    }
}

impl Def {
    fn map(&self, map: &impl Fn(u32) -> u32) -> Def {
        let types = |ts: &[c::WasmType]| ts.iter().map(|t| map_type(*t, map)).collect();
        Def {
            composite: match &self.composite {
                Composite::Func(p, r) => Composite::Func(types(p), types(r)),
                Composite::Struct(fs) => {
                    Composite::Struct(fs.iter().map(|f| map_field(*f, map)).collect())
                }
                Composite::Array(f) => Composite::Array(map_field(*f, map)),
            },
            is_final: self.is_final,
            supertype: self.supertype.map(map),
        }
    }
}

impl Registry {
    /// The id of the first type of the group `key`, interning it.
    fn intern(&mut self, key: Vec<Def>) -> u32 {
        if let Some(&first) = self.groups.get(&key) {
            return first;
        }
        let first = self.entries.len() as u32;
        let resolve = |i: u32| {
            if i & IN_GROUP != 0 {
                first + (i & !IN_GROUP)
            } else {
                i
            }
        };
        for (k, def) in key.iter().enumerate() {
            let def = def.map(&resolve);
            let func = match &def.composite {
                Composite::Func(params, results) => Some(Arc::new(c::FuncType {
                    params: params.clone(),
                    results: results.clone(),
                    identity: Some(first + k as u32),
                })),
                _ => None,
            };
            self.entries.push(Entry { def, func });
        }
        self.groups.insert(key, first);
        first
    }

    fn is_subtype(&self, mut a: u32, b: u32) -> bool {
        loop {
            if a == b {
                return true;
            }
            match self.entries[a as usize].def.supertype {
                Some(sup) => a = sup,
                None => return false,
            }
        }
    }
}

/// The id of a function type whose references are canonical: its identity, or, for a type
/// without one (a host's), that of the final type without supertype alone in its group.
pub(crate) fn id(ty: &c::FuncType) -> u32 {
    match ty.identity {
        Some(id) => id,
        None => {
            let def = Def {
                composite: Composite::Func(ty.params.clone(), ty.results.clone()),
                is_final: true,
                supertype: None,
            };
            registry().intern(vec![def])
        }
    }
}

/// A host's function type: `params` and `results` (with canonical references) and its
/// identity.
pub(crate) fn host_func_type(params: Vec<c::WasmType>, results: Vec<c::WasmType>) -> c::FuncType {
    let mut ty = c::FuncType {
        params,
        results,
        identity: None,
    };
    ty.identity = Some(id(&ty));
    ty
}

/// The function type of `id`; `None` if `id` is a struct or array type.
pub(crate) fn func_type(id: u32) -> Option<Arc<c::FuncType>> {
    registry().entries[id as usize].func.clone()
}

/// The kind of the type `id`.
pub(crate) fn kind(id: u32) -> Kind {
    match registry().entries[id as usize].def.composite {
        Composite::Func(..) => Kind::Func,
        Composite::Struct(_) => Kind::Struct,
        Composite::Array(_) => Kind::Array,
    }
}

/// The fields of the struct type `id` (one for an array type: its element), with canonical
/// references; empty for a function type.
pub(crate) fn fields(id: u32) -> Vec<c::FieldType> {
    match &registry().entries[id as usize].def.composite {
        Composite::Func(..) => Vec::new(),
        Composite::Struct(fields) => fields.clone(),
        Composite::Array(field) => vec![*field],
    }
}

/// Whether the type `a` is `b` or declares it as a (transitive) supertype.
pub(crate) fn is_subtype(a: u32, b: u32) -> bool {
    a == b || registry().is_subtype(a, b)
}

/// Whether every reference to heap type `a` is a reference to `b` (concrete types by
/// canonical id): `none <: concrete struct/array <: struct/array <: eq <: any`, `i31 <: eq`,
/// `nofunc <: concrete function <: func`, `noextern <: extern`, `noexn <: exn`, and concrete
/// types by their declared supertypes.
pub(crate) fn heap_matches(a: c::WasmHeapType, b: c::WasmHeapType) -> bool {
    use c::WasmHeapType as H;
    if a == b {
        return true;
    }
    match (a, b) {
        (H::Concrete(x), H::Concrete(y)) => is_subtype(x, y),
        (H::Concrete(x), H::Func) => kind(x) == Kind::Func,
        (H::Concrete(x), H::Any | H::Eq) => kind(x) != Kind::Func,
        (H::Concrete(x), H::Struct) => kind(x) == Kind::Struct,
        (H::Concrete(x), H::Array) => kind(x) == Kind::Array,
        (H::NoFunc, H::Func) => true,
        (H::NoFunc, H::Concrete(y)) => kind(y) == Kind::Func,
        (H::None, H::Concrete(y)) => kind(y) != Kind::Func,
        (H::None, H::Any | H::Eq | H::I31 | H::Struct | H::Array) => true,
        (H::I31 | H::Struct | H::Array, H::Any | H::Eq) => true,
        (H::Eq, H::Any) => true,
        (H::NoExtern, H::Extern) => true,
        (H::NoExn, H::Exn) => true,
        _ => false,
    }
}

/// Whether a value of compiled type `a` may be used where `b` is expected (both with canonical
/// references).
pub(crate) fn type_matches(a: c::WasmType, b: c::WasmType) -> bool {
    if a == b {
        return true;
    }
    match (a.as_ref_type(), b.as_ref_type()) {
        (Some(a), Some(b)) => (!a.nullable || b.nullable) && heap_matches(a.heap, b.heap),
        _ => false,
    }
}

/// Rewrites the module-local type indices of `info`'s concrete reference types to canonical
/// ids, everywhere they occur (types, imports, globals, tables, segments), and gives every
/// function type its identity.
pub(crate) fn canonicalize(info: &mut c::ModuleInfo) {
    let count = info.types.len();
    let mut ids: Vec<u32> = Vec::with_capacity(count);
    let mut start = 0;
    while start < count {
        let (first, len) = info.type_defs[c::TypeIndex::new(start)].rec_group;
        debug_assert_eq!(first.index(), start);
        let end = start + len as usize;
        let key: Vec<Def> = {
            let ids = &ids;
            let to_key = |i: u32| {
                let i = i as usize;
                if i >= start {
                    IN_GROUP | (i - start) as u32
                } else {
                    ids[i]
                }
            };
            (start..end)
                .map(|i| module_def(info, c::TypeIndex::new(i)).map(&to_key))
                .collect()
        };
        let first_id = registry().intern(key);
        ids.extend((0..len).map(|k| first_id + k));
        start = end;
    }
    let map = |i: u32| ids[i as usize];
    for (i, ty) in info.types.iter_mut() {
        ty.params = ty.params.iter().map(|t| map_type(*t, &map)).collect();
        ty.results = ty.results.iter().map(|t| map_type(*t, &map)).collect();
        ty.identity = Some(ids[i.index()]);
    }
    for def in info.type_defs.values_mut() {
        def.composite = match &def.composite {
            c::CompositeType::Func => c::CompositeType::Func,
            c::CompositeType::Struct(fs) => {
                c::CompositeType::Struct(fs.iter().map(|f| map_field(*f, &map)).collect())
            }
            c::CompositeType::Array(f) => c::CompositeType::Array(map_field(*f, &map)),
        };
    }
    let fix = |t: &mut c::WasmType| *t = map_type(*t, &map);
    for g in info.globals.values_mut() {
        fix(&mut g.content);
    }
    for t in info.tables.values_mut() {
        fix(&mut t.element);
    }
    for import in &mut info.imports {
        match &mut import.ty {
            c::EntityType::Global(g) => fix(&mut g.content),
            c::EntityType::Table(t) => fix(&mut t.element),
            _ => {}
        }
    }
    for seg in info.elems.values_mut() {
        fix(&mut seg.element);
    }
}

/// Type `i` of a parsed module, with module type indices as references.
fn module_def(info: &c::ModuleInfo, i: c::TypeIndex) -> Def {
    let def = &info.type_defs[i];
    let composite = match &def.composite {
        c::CompositeType::Func => {
            let f = &info.types[i];
            Composite::Func(f.params.clone(), f.results.clone())
        }
        c::CompositeType::Struct(fields) => Composite::Struct(fields.clone()),
        c::CompositeType::Array(field) => Composite::Array(*field),
    };
    Def {
        composite,
        is_final: def.is_final,
        supertype: def.supertype.map(|s| s.as_u32()),
    }
}
