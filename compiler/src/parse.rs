//! Validation and parsing of a module's sections into [`ModuleInfo`].
//!
//! Function bodies are not validated here: each one keeps its [`FuncToValidate`] so that the
//! translator validates it operator by operator while lowering it (in parallel).

use crate::module_info::*;
use crate::CompileConfig;
use anyhow::{bail, Context as _, Result};
use rayon::prelude::*;
use std::ops::Range;
use wasmparser::{
    AbstractHeapType, BinaryReader, BlockType, ExternalKind, FuncToValidate,
    FuncValidatorAllocations, FunctionBody, HeapType, KnownCustom, Name, Operator, Parser, Payload,
    RefType, TableInit, TypeRef, ValType, ValidPayload, Validator, ValidatorResources,
    WasmFeatures,
};

/// One function body, not yet validated.
#[derive(Debug)]
pub struct FunctionBodyData {
    /// Function index (imported functions included).
    pub index: FuncIndex,
    /// Byte range of the body (locals and operators) in [`ModuleInfo::wasm`].
    pub body: Range<usize>,
    /// Validator of the body, run during translation.
    pub validator: FuncToValidate<ValidatorResources>,
}

impl FunctionBodyData {
    /// The body, reading from the module binary `wasm` with offsets relative to its start.
    /// `features` must be the validator's: they decide how operators are decoded (for
    /// example whether `memory.grow`'s memory index may be a multi-byte LEB).
    pub fn reader<'a>(&self, wasm: &'a [u8], features: WasmFeatures) -> FunctionBody<'a> {
        FunctionBody::new(BinaryReader::new_features(
            &wasm[self.body.clone()],
            self.body.start as u64,
            features,
        ))
    }
}

/// Validates the module (function bodies included) without compiling it.
pub fn validate(bytes: &[u8], config: &CompileConfig) -> Result<()> {
    let (info, bodies) = parse(bytes, config)?;
    validate_bodies(&info, bodies, config)
        .map_err(|err| explain_disabled_feature(err, bytes, config))
}

/// Adds to a validation error of a function body the switch of the disabled feature the
/// module needs, if there is one (as [`parse`] does for the other sections). An error of a
/// module that validates (an unsupported operator, say) is left as it is.
pub(crate) fn explain_disabled_feature(
    err: anyhow::Error,
    bytes: &[u8],
    config: &CompileConfig,
) -> anyhow::Error {
    let validates = |config: &CompileConfig| {
        parse_module(bytes, config)
            .and_then(|(info, bodies)| validate_bodies(&info, bodies, config))
            .is_ok()
    };
    if validates(config) {
        return err;
    }
    match disabled_feature_by(config, validates) {
        Some(name) => err.context(format!(
            "the module uses a disabled feature: {name} (enable it with `Config::{name}`)"
        )),
        None => err,
    }
}

fn validate_bodies(
    info: &ModuleInfo,
    bodies: Vec<FunctionBodyData>,
    config: &CompileConfig,
) -> Result<()> {
    let check = |body: FunctionBodyData| -> Result<()> {
        let reader = body.reader(&info.wasm, config.features);
        let mut validator = body
            .validator
            .into_validator(FuncValidatorAllocations::default());
        validator.validate(&reader)?;
        check_body_types(&reader, config.features)
    };
    if config.parallel {
        bodies.into_par_iter().try_for_each(check)
    } else {
        bodies.into_iter().try_for_each(check)
    }
}

/// Validates the module's structure and reads its metadata. Function bodies are returned
/// unvalidated, with their validators.
///
/// A malformed name section is ignored (names are a debugging aid, not semantics).
pub fn parse(bytes: &[u8], config: &CompileConfig) -> Result<(ModuleInfo, Vec<FunctionBodyData>)> {
    parse_module(bytes, config).map_err(|err| match disabled_feature(bytes, config) {
        Some(name) => err.context(format!(
            "the module uses a disabled feature: {name} (enable it with `Config::{name}`)"
        )),
        None => err,
    })
}

/// The feature switches of the engine's `Config`, by the validator feature each controls.
const FEATURE_SWITCHES: &[(WasmFeatures, &str)] = &[
    (WasmFeatures::SIMD, "wasm_simd"),
    (WasmFeatures::RELAXED_SIMD, "wasm_relaxed_simd"),
    (WasmFeatures::TAIL_CALL, "wasm_tail_call"),
    (WasmFeatures::EXTENDED_CONST, "wasm_extended_const"),
    (WasmFeatures::MULTI_MEMORY, "wasm_multi_memory"),
    (WasmFeatures::MEMORY64, "wasm_memory64"),
    (
        WasmFeatures::FUNCTION_REFERENCES,
        "wasm_function_references",
    ),
    (WasmFeatures::EXCEPTIONS, "wasm_exceptions"),
    (WasmFeatures::WIDE_ARITHMETIC, "wasm_wide_arithmetic"),
];

/// After a module failed to validate: the switch of the first disabled feature with which it
/// would validate. Some of wasmparser's messages do not say which feature is missing
/// (an `i32.add` in a constant expression without extended-const is a "non-constant
/// operator").
fn disabled_feature(bytes: &[u8], config: &CompileConfig) -> Option<&'static str> {
    disabled_feature_by(config, |config| parse_module(bytes, config).is_ok())
}

/// The switch of the first disabled feature with which `accepts` accepts the module.
fn disabled_feature_by(
    config: &CompileConfig,
    accepts: impl Fn(&CompileConfig) -> bool,
) -> Option<&'static str> {
    FEATURE_SWITCHES
        .iter()
        .filter(|(feature, _)| !config.features.contains(*feature))
        .find(|(feature, _)| {
            let mut features = config.features | *feature;
            if *feature == WasmFeatures::RELAXED_SIMD {
                features |= WasmFeatures::SIMD;
            }
            let config = CompileConfig {
                features,
                parallel: false,
                ..config.clone()
            };
            accepts(&config)
        })
        .map(|(_, name)| *name)
}

/// The message of wasmparser's error for a constant `global.get` of a defined global.
const DEFINED_GLOBAL_GET: &str = "global.get of locally defined global";

/// Wasm 3.0 lets a constant expression read any earlier immutable global, which wasmparser
/// accepts only with its GC feature. So when GC is off, a module that fails validation for
/// that reason alone, with function references on, is validated again with GC's rules; then
/// [`reject_gc_types`] and the translator reject what only GC brings (struct, array and
/// recursive types, subtypes, the internal hierarchy's heap types, GC operators).
fn parse_module(
    bytes: &[u8],
    config: &CompileConfig,
) -> Result<(ModuleInfo, Vec<FunctionBodyData>)> {
    let features = config.features;
    match parse_with_features(bytes, features) {
        Err(err)
            if features.contains(WasmFeatures::FUNCTION_REFERENCES)
                && !features.contains(WasmFeatures::GC)
                && err.to_string().contains(DEFINED_GLOBAL_GET) =>
        {
            let parsed = parse_with_features(bytes, features | WasmFeatures::GC)?;
            reject_gc_types(&parsed.0)?;
            Ok(parsed)
        }
        result => result,
    }
}

/// Fails for a value type of a function body (local, block or `select` type) that only GC
/// has, when GC is off (see [`parse_module`]).
pub(crate) fn check_body_type(ty: ValType, features: WasmFeatures) -> Result<()> {
    match ty {
        ValType::Ref(r) => check_body_heap_type(r.heap_type(), features),
        _ => Ok(()),
    }
}

/// Fails for a heap type of a function body that only GC has, when GC is off (concrete types
/// are then function types: [`parse_module`] admits no others).
pub(crate) fn check_body_heap_type(ty: HeapType, features: WasmFeatures) -> Result<()> {
    match ty {
        HeapType::Concrete(_)
        | HeapType::Abstract {
            shared: false,
            ty:
                AbstractHeapType::Func
                | AbstractHeapType::Extern
                | AbstractHeapType::NoFunc
                | AbstractHeapType::NoExtern
                | AbstractHeapType::Exn
                | AbstractHeapType::NoExn,
        } => Ok(()),
        HeapType::Abstract { shared: false, .. } if features.contains(WasmFeatures::GC) => {
            heap_kind(ty).map(drop)
        }
        other => bail!("unsupported heap type {other:?} (GC proposal)"),
    }
}

/// Whether `op` is one of the GC operators the translator implements (with GC on): those
/// that need no GC heap.
pub(crate) fn is_heap_free_gc_operator(op: &Operator<'_>) -> bool {
    matches!(
        op,
        Operator::RefEq
            | Operator::RefTestNonNull { .. }
            | Operator::RefTestNullable { .. }
            | Operator::RefCastNonNull { .. }
            | Operator::RefCastNullable { .. }
            | Operator::BrOnCast { .. }
            | Operator::BrOnCastFail { .. }
            | Operator::RefI31
            | Operator::I31GetS
            | Operator::I31GetU
    )
}

/// Whether `op` is a GC operator that the translator does not implement: with GC off any
/// of them (see [`parse_module`]), with GC on those that need the GC heap and the
/// conversions between `extern` and `any`.
fn is_unsupported_gc_operator(op: &Operator<'_>, features: WasmFeatures) -> bool {
    if is_heap_free_gc_operator(op) {
        return !features.contains(WasmFeatures::GC);
    }
    matches!(
        op,
        Operator::AnyConvertExtern
            | Operator::ExternConvertAny
            | Operator::StructNew { .. }
            | Operator::StructNewDefault { .. }
            | Operator::StructGet { .. }
            | Operator::StructGetS { .. }
            | Operator::StructGetU { .. }
            | Operator::StructSet { .. }
            | Operator::ArrayNew { .. }
            | Operator::ArrayNewDefault { .. }
            | Operator::ArrayNewFixed { .. }
            | Operator::ArrayNewData { .. }
            | Operator::ArrayNewElem { .. }
            | Operator::ArrayGet { .. }
            | Operator::ArrayGetS { .. }
            | Operator::ArrayGetU { .. }
            | Operator::ArraySet { .. }
            | Operator::ArrayLen
            | Operator::ArrayFill { .. }
            | Operator::ArrayCopy { .. }
            | Operator::ArrayInitData { .. }
            | Operator::ArrayInitElem { .. }
    )
}

/// After a module without GC was validated with GC's rules (see [`parse_module`]): fails if
/// it uses what only GC brings in its types (struct, array and recursive types, subtypes,
/// the internal hierarchy's heap types).
fn reject_gc_types(info: &ModuleInfo) -> Result<()> {
    for def in info.type_defs.values() {
        if def.rec_group.1 != 1 {
            bail!("unsupported: recursion groups (GC proposal)");
        }
        if !def.is_final || def.supertype.is_some() {
            bail!("unsupported: subtypes (GC proposal)");
        }
        if def.composite != CompositeType::Func {
            bail!("unsupported: non-function types (GC proposal)");
        }
    }
    // Without recursive types a type may only refer to earlier ones (GC's rules allow a
    // type to refer to itself).
    for (index, ty) in info.types.iter() {
        let refers_ahead = ty.params.iter().chain(&ty.results).any(|t| {
            matches!(
                t,
                WasmType::Ref(WasmRefType {
                    heap: WasmHeapType::Concrete(i),
                    ..
                }) if *i >= index.as_u32()
            )
        });
        if refers_ahead {
            bail!(
                "unknown type: type {} refers to itself or a later type",
                index.as_u32()
            );
        }
    }
    let imported = info.imports.iter().filter_map(|i| match &i.ty {
        EntityType::Global(g) => Some(g.content),
        EntityType::Table(t) => Some(t.element),
        _ => None,
    });
    let all = info
        .types
        .values()
        .flat_map(|t| t.params.iter().chain(&t.results).copied())
        .chain(info.globals.values().map(|g| g.content))
        .chain(info.tables.values().map(|t| t.element))
        .chain(info.elems.values().map(|e| e.element))
        .chain(imported);
    for ty in all {
        if ty.as_ref_type().is_some_and(|r| r.heap.is_abstract_any()) {
            bail!("unsupported heap type {ty:?} (GC proposal)");
        }
    }
    Ok(())
}

/// For [`validate`]: the type checks the translator makes of a validated body (see
/// [`parse_module`]).
fn check_body_types(body: &FunctionBody<'_>, features: WasmFeatures) -> Result<()> {
    for local in body.get_locals_reader()? {
        check_body_type(local?.1, features)?;
    }
    let mut ops = body.get_operators_reader()?;
    while !ops.eof() {
        match ops.read()? {
            Operator::Block { blockty } | Operator::Loop { blockty } | Operator::If { blockty } => {
                if let BlockType::Type(ty) = blockty {
                    check_body_type(ty, features)?;
                }
            }
            Operator::TryTable { try_table } => {
                if let BlockType::Type(ty) = try_table.ty {
                    check_body_type(ty, features)?;
                }
            }
            Operator::TypedSelect { ty } => check_body_type(ty, features)?,
            Operator::RefNull { hty } => check_body_heap_type(hty, features)?,
            op if is_unsupported_gc_operator(&op, features) => {
                bail!("unsupported operator {op:?} (GC proposal)")
            }
            _ => {}
        }
    }
    Ok(())
}

fn parse_with_features(
    bytes: &[u8],
    features: WasmFeatures,
) -> Result<(ModuleInfo, Vec<FunctionBodyData>)> {
    let mut validator = Validator::new_with_features(features);
    let mut info = ModuleInfo::default();
    let mut bodies = Vec::new();

    // The parser must decode with the same features as the validator: with memory64 on it
    // would read memory limits as u64 and accept overlong u32 encodings.
    let mut parser = Parser::new(0);
    parser.set_features(features);
    for payload in parser.parse_all(bytes) {
        let payload = payload?;
        match validator.payload(&payload)? {
            ValidPayload::Ok => {}
            ValidPayload::Func(validator, body) => {
                let range = body.range();
                bodies.push(FunctionBodyData {
                    index: FuncIndex::from_u32(validator.index),
                    body: range.start as usize..range.end as usize,
                    validator,
                });
                continue;
            }
            ValidPayload::Parser(_) => bail!("components are not supported"),
            ValidPayload::End(_) => break,
        }
        read_payload(&mut info, payload)?;
    }
    info.wasm = bytes.to_vec();
    Ok((info, bodies))
}

fn read_payload(info: &mut ModuleInfo, payload: Payload<'_>) -> Result<()> {
    match payload {
        Payload::TypeSection(section) => {
            for group in section {
                let group = group?;
                let first = TypeIndex::from_u32(info.types.len() as u32);
                let types = group.into_types().collect::<Vec<_>>();
                let rec_group = (first, types.len() as u32);
                for sub in types {
                    read_sub_type(info, sub, rec_group)?;
                }
            }
        }
        Payload::ImportSection(section) => {
            for import in section.into_imports() {
                let import = import?;
                let ty = match import.ty {
                    TypeRef::Func(t) => {
                        let t = TypeIndex::from_u32(t);
                        info.functions.push(t);
                        info.num_imported_funcs += 1;
                        EntityType::Function(t)
                    }
                    TypeRef::Table(t) => {
                        let t = table_type(&t)?;
                        info.tables.push(t);
                        info.num_imported_tables += 1;
                        EntityType::Table(t)
                    }
                    TypeRef::Memory(m) => {
                        let m = memory_type(&m)?;
                        info.memories.push(m);
                        info.num_imported_memories += 1;
                        EntityType::Memory(m)
                    }
                    TypeRef::Global(g) => {
                        let g = global_type(&g)?;
                        info.globals.push(g);
                        info.num_imported_globals += 1;
                        EntityType::Global(g)
                    }
                    TypeRef::Tag(t) => {
                        let t = TypeIndex::from_u32(t.func_type_idx);
                        info.tags.push(t);
                        info.num_imported_tags += 1;
                        EntityType::Tag(t)
                    }
                    TypeRef::FuncExact(_) => {
                        bail!("unsupported import kind of `{}`", import.name)
                    }
                };
                info.imports.push(Import {
                    module: import.module.to_string(),
                    name: import.name.to_string(),
                    ty,
                });
            }
        }
        Payload::FunctionSection(section) => {
            for ty in section {
                info.functions.push(TypeIndex::from_u32(ty?));
            }
        }
        Payload::TableSection(section) => {
            for table in section {
                let table = table?;
                let init = match table.init {
                    TableInit::RefNull => None,
                    TableInit::Expr(expr) => Some(const_expr(&expr)?),
                };
                info.tables.push(table_type(&table.ty)?);
                info.table_inits.push(init);
            }
        }
        Payload::MemorySection(section) => {
            for memory in section {
                info.memories.push(memory_type(&memory?)?);
            }
        }
        Payload::GlobalSection(section) => {
            for global in section {
                let global = global?;
                info.globals.push(global_type(&global.ty)?);
                info.global_inits.push(const_expr(&global.init_expr)?);
            }
        }
        Payload::ExportSection(section) => {
            for export in section {
                let export = export?;
                let index = match export.kind {
                    ExternalKind::Func | ExternalKind::FuncExact => {
                        EntityIndex::Function(FuncIndex::from_u32(export.index))
                    }
                    ExternalKind::Table => EntityIndex::Table(TableIndex::from_u32(export.index)),
                    ExternalKind::Memory => {
                        EntityIndex::Memory(MemoryIndex::from_u32(export.index))
                    }
                    ExternalKind::Global => {
                        EntityIndex::Global(GlobalIndex::from_u32(export.index))
                    }
                    ExternalKind::Tag => EntityIndex::Tag(TagIndex::from_u32(export.index)),
                };
                info.exports.push(Export {
                    name: export.name.to_string(),
                    index,
                });
            }
        }
        Payload::TagSection(section) => {
            for tag in section {
                info.tags.push(TypeIndex::from_u32(tag?.func_type_idx));
            }
        }
        Payload::StartSection { func, .. } => info.start = Some(FuncIndex::from_u32(func)),
        Payload::ElementSection(section) => {
            for elem in section {
                info.elems.push(elem_segment(elem?)?);
            }
        }
        Payload::DataSection(section) => {
            for data in section {
                let data = data?;
                let active = match data.kind {
                    wasmparser::DataKind::Passive => None,
                    wasmparser::DataKind::Active {
                        memory_index,
                        offset_expr,
                    } => Some((
                        MemoryIndex::from_u32(memory_index),
                        const_expr(&offset_expr)?,
                    )),
                };
                // The segment's bytes end its encoding.
                let end = data.range.end as usize;
                info.data.push(DataSegment {
                    active,
                    data: end - data.data.len()..end,
                });
            }
        }
        Payload::CustomSection(section) => {
            if let KnownCustom::Name(names) = section.as_known() {
                // Names are only a debugging aid: a malformed section is ignored, keeping
                // whatever was read before the error.
                let _ = read_names(info, names);
            }
        }
        _ => {}
    }
    Ok(())
}

/// Reads one defined type (the validator has checked it against its supertype).
fn read_sub_type(
    info: &mut ModuleInfo,
    sub: wasmparser::SubType,
    rec_group: (TypeIndex, u32),
) -> Result<()> {
    let composite = &sub.composite_type;
    if composite.shared || composite.descriptor_idx.is_some() || composite.describes_idx.is_some() {
        bail!("unsupported: shared or custom-descriptor types");
    }
    let supertype = match sub.supertype_idxs.as_slice() {
        [] => None,
        [index] => match index.as_module_index() {
            Some(index) => Some(TypeIndex::from_u32(index)),
            None => bail!("unsupported supertype {index:?}"),
        },
        _ => bail!("unsupported: more than one supertype"),
    };
    let (signature, composite) = match &composite.inner {
        wasmparser::CompositeInnerType::Func(f) => {
            let ty = FuncType {
                params: f
                    .params()
                    .iter()
                    .map(|t| wasm_type(*t))
                    .collect::<Result<_>>()?,
                results: f
                    .results()
                    .iter()
                    .map(|t| wasm_type(*t))
                    .collect::<Result<_>>()?,
                identity: None,
            };
            (ty, CompositeType::Func)
        }
        wasmparser::CompositeInnerType::Struct(s) => {
            let fields = s
                .fields
                .iter()
                .map(|f| field_type(*f))
                .collect::<Result<_>>()?;
            (FuncType::default(), CompositeType::Struct(fields))
        }
        wasmparser::CompositeInnerType::Array(a) => {
            (FuncType::default(), CompositeType::Array(field_type(a.0)?))
        }
        wasmparser::CompositeInnerType::Cont(_) => bail!("unsupported: continuation types"),
    };
    info.types.push(signature);
    info.type_defs.push(TypeDef {
        composite,
        is_final: sub.is_final,
        supertype,
        rec_group,
    });
    Ok(())
}

fn field_type(field: wasmparser::FieldType) -> Result<FieldType> {
    Ok(FieldType {
        storage: match field.element_type {
            wasmparser::StorageType::I8 => StorageType::I8,
            wasmparser::StorageType::I16 => StorageType::I16,
            wasmparser::StorageType::Val(t) => StorageType::Val(wasm_type(t)?),
        },
        mutable: field.mutable,
    })
}

fn read_names(info: &mut ModuleInfo, names: wasmparser::NameSectionReader<'_>) -> Result<()> {
    for subsection in names {
        match subsection? {
            Name::Module { name, .. } => info.name = Some(name.to_string()),
            Name::Function(map) => {
                for naming in map {
                    let naming = naming?;
                    info.func_names
                        .insert(FuncIndex::from_u32(naming.index), naming.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn elem_segment(elem: wasmparser::Element<'_>) -> Result<ElemSegment> {
    let mode = match elem.kind {
        wasmparser::ElementKind::Passive => ElemMode::Passive,
        wasmparser::ElementKind::Declared => ElemMode::Declared,
        wasmparser::ElementKind::Active {
            table_index,
            offset_expr,
        } => ElemMode::Active {
            table: TableIndex::from_u32(table_index.unwrap_or(0)),
            offset: const_expr(&offset_expr)?,
        },
    };
    let (element, items) = match elem.items {
        wasmparser::ElementItems::Functions(funcs) => (
            WasmType::FuncRef,
            ElemItems::Functions(
                funcs
                    .into_iter()
                    .map(|f| f.map(FuncIndex::from_u32))
                    .collect::<Result<_, _>>()?,
            ),
        ),
        wasmparser::ElementItems::Expressions(ty, exprs) => {
            let exprs = exprs
                .into_iter()
                .map(|e| const_expr(&e?))
                .collect::<Result<_>>()?;
            (ref_type(ty)?, ElemItems::Exprs(exprs))
        }
    };
    Ok(ElemSegment {
        mode,
        element,
        items,
    })
}

/// Converts a validated constant expression.
fn const_expr(expr: &wasmparser::ConstExpr<'_>) -> Result<ConstExpr> {
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    loop {
        let op = match reader.read()? {
            Operator::End => break,
            Operator::I32Const { value } => ConstOp::I32Const(value),
            Operator::I64Const { value } => ConstOp::I64Const(value),
            Operator::F32Const { value } => ConstOp::F32Const(value.bits()),
            Operator::F64Const { value } => ConstOp::F64Const(value.bits()),
            Operator::V128Const { value } => ConstOp::V128Const(value.i128() as u128),
            Operator::GlobalGet { global_index } => {
                ConstOp::GlobalGet(GlobalIndex::from_u32(global_index))
            }
            Operator::RefNull { hty } => ConstOp::RefNull(heap_type(hty)?),
            Operator::RefFunc { function_index } => {
                ConstOp::RefFunc(FuncIndex::from_u32(function_index))
            }
            Operator::RefI31 => ConstOp::RefI31,
            Operator::I32Add => ConstOp::I32Add,
            Operator::I32Sub => ConstOp::I32Sub,
            Operator::I32Mul => ConstOp::I32Mul,
            Operator::I64Add => ConstOp::I64Add,
            Operator::I64Sub => ConstOp::I64Sub,
            Operator::I64Mul => ConstOp::I64Mul,
            other => bail!("unsupported operator in constant expression: {other:?}"),
        };
        ops.push(op);
    }
    Ok(ConstExpr { ops })
}

/// Converts a value type; only the types of the supported proposals have a [`WasmType`].
pub(crate) fn wasm_type(ty: ValType) -> Result<WasmType> {
    Ok(match ty {
        ValType::I32 => WasmType::I32,
        ValType::I64 => WasmType::I64,
        ValType::F32 => WasmType::F32,
        ValType::F64 => WasmType::F64,
        ValType::V128 => WasmType::V128,
        ValType::Ref(r) => ref_type(r)?,
    })
}

fn ref_type(ty: RefType) -> Result<WasmType> {
    Ok(WasmType::reference(
        ty.is_nullable(),
        heap_kind(ty.heap_type())?,
    ))
}

pub(crate) fn heap_type(ty: HeapType) -> Result<WasmType> {
    // `ref.null` produces a nullable reference of its heap type.
    Ok(WasmType::reference(true, heap_kind(ty)?))
}

fn heap_kind(ty: HeapType) -> Result<WasmHeapType> {
    Ok(match ty {
        HeapType::Abstract { shared: false, ty } => match ty {
            AbstractHeapType::Func => WasmHeapType::Func,
            AbstractHeapType::Extern => WasmHeapType::Extern,
            AbstractHeapType::NoFunc => WasmHeapType::NoFunc,
            AbstractHeapType::NoExtern => WasmHeapType::NoExtern,
            AbstractHeapType::Exn => WasmHeapType::Exn,
            AbstractHeapType::NoExn => WasmHeapType::NoExn,
            AbstractHeapType::Any => WasmHeapType::Any,
            AbstractHeapType::Eq => WasmHeapType::Eq,
            AbstractHeapType::I31 => WasmHeapType::I31,
            AbstractHeapType::Struct => WasmHeapType::Struct,
            AbstractHeapType::Array => WasmHeapType::Array,
            AbstractHeapType::None => WasmHeapType::None,
            other => bail!("unsupported heap type {other:?}"),
        },
        HeapType::Concrete(index) => match index.as_module_index() {
            Some(index) => WasmHeapType::Concrete(index),
            None => bail!("unsupported heap type {ty:?}"),
        },
        other => bail!("unsupported heap type {other:?}"),
    })
}

fn table_type(ty: &wasmparser::TableType) -> Result<TableType> {
    Ok(TableType {
        element: ref_type(ty.element_type).context("table element type")?,
        minimum: ty.initial,
        maximum: ty.maximum,
        table64: ty.table64,
    })
}

fn memory_type(ty: &wasmparser::MemoryType) -> Result<MemoryType> {
    if ty.page_size_log2.is_some_and(|log2| log2 != 16) {
        bail!("unsupported: custom page sizes");
    }
    Ok(MemoryType {
        minimum: ty.initial,
        maximum: ty.maximum,
        memory64: ty.memory64,
        shared: ty.shared,
    })
}

fn global_type(ty: &wasmparser::GlobalType) -> Result<GlobalType> {
    Ok(GlobalType {
        content: wasm_type(ty.content_type)?,
        mutable: ty.mutable,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> CompileConfig {
        CompileConfig::default()
    }

    #[test]
    fn malformed_name_section_is_ignored() {
        // A module with only a custom "name" section whose function-name subsection claims
        // more bytes than it has.
        let mut wasm = b"\0asm\x01\0\0\0".to_vec();
        let payload = [&[4u8][..], b"name", &[1, 10, 1, 0]].concat();
        wasm.push(0);
        wasm.push(payload.len() as u8);
        wasm.extend_from_slice(&payload);
        let (info, bodies) = parse(&wasm, &config()).unwrap();
        assert!(info.func_names.is_empty());
        assert!(bodies.is_empty());
    }

    #[test]
    fn invalid_module_reports_wasmparser_message() {
        let err = parse(b"\0asm\x02\0\0\0", &config()).unwrap_err();
        assert!(err.to_string().contains("version"), "{err}");
    }
}
