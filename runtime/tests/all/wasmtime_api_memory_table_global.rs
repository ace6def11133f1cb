//! Memories, tables, globals and resource limits through Wasmtime's API.

use wasmjit as wasmtime;

use wasmtime::{
    Engine, Func, Global, GlobalType, Instance, Memory, MemoryType, Module, Mutability, Ref,
    RefType, Store, Table, TableType, Trap, Val, ValType,
};

#[test]
fn memory_from_the_host_side() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 2 3)
            (func (export "size") (result i32) (memory.size))
            (func (export "load") (param i32) (result i32)
              local.get 0 i32.load8_s)
            (func (export "store") (param i32 i32)
              local.get 0 local.get 1 i32.store8)
            (data (i32.const 0x1000) "\01\02\03\04"))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let memory = instance
        .get_memory(&mut store, "memory")
        .ok_or(anyhow::format_err!("failed to find `memory` export"))?;
    let size = instance.get_typed_func::<(), i32>(&mut store, "size")?;
    let load = instance.get_typed_func::<i32, i32>(&mut store, "load")?;
    let store_fn = instance.get_typed_func::<(i32, i32), ()>(&mut store, "store")?;

    assert_eq!(memory.size(&store), 2);
    assert_eq!(memory.data_size(&store), 0x20000);
    assert_eq!(memory.data(&store)[0], 0);
    assert_eq!(memory.data(&store)[0x1000], 1);
    assert_eq!(memory.data(&store)[0x1003], 4);
    assert_eq!(size.call(&mut store, ())?, 2);
    assert_eq!(load.call(&mut store, 0x1002)?, 3);
    assert_eq!(load.call(&mut store, 0x1ffff)?, 0);
    let err = load.call(&mut store, 0x20000).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::MemoryOutOfBounds));

    memory.data_mut(&mut store)[0x1003] = 5;
    store_fn.call(&mut store, (0x1002, 6))?;
    assert_eq!(memory.data(&store)[0x1002], 6);
    assert_eq!(load.call(&mut store, 0x1003)?, 5);
    let err = store_fn.call(&mut store, (0x20000, 0)).unwrap_err();
    assert!(matches!(
        err.downcast_ref::<Trap>(),
        Some(Trap::MemoryOutOfBounds)
    ));

    let mut buf = [0u8; 4];
    memory.read(&store, 0x1000, &mut buf)?;
    assert_eq!(buf, [1, 2, 6, 5]);
    memory.write(&mut store, 0x10, b"abc")?;
    assert_eq!(&memory.data(&store)[0x10..0x13], b"abc");
    let err = memory.read(&store, 0x1ffff, &mut buf).unwrap_err();
    assert!(!err.to_string().is_empty());
    assert!(memory.write(&mut store, usize::MAX, b"x").is_err());

    assert_eq!(memory.grow(&mut store, 1)?, 2);
    assert_eq!(memory.size(&store), 3);
    assert_eq!(size.call(&mut store, ())?, 3);
    assert_eq!(load.call(&mut store, 0x20000)?, 0);
    assert!(memory.grow(&mut store, 1).is_err());
    assert_eq!(memory.grow(&mut store, 0)?, 3);
    assert!(load.call(&mut store, 0x30000).is_err());
    let ty = memory.ty(&store);
    assert_eq!(ty.maximum(), Some(3));

    // A host-made memory.
    let standalone = Memory::new(&mut store, MemoryType::new(5, Some(5)))?;
    assert_eq!(standalone.size(&store), 5);
    assert!(standalone.grow(&mut store, 1).is_err());
    assert!(!standalone.data_ptr(&store).is_null());
    Ok(())
}

#[test]
fn tables_from_the_host_side() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = TableType::new(RefType::FUNCREF, 2, Some(10));
    let table = Table::new(&mut store, ty, Ref::Func(None))?;
    assert_eq!(table.size(&store), 2);
    let answer = Func::wrap(&mut store, || 42i32);
    table.set(&mut store, 1, answer.into())?;
    assert!(table.set(&mut store, 2, Ref::Func(None)).is_err());
    assert!(table.get(&mut store, 0).unwrap().is_null());
    let got = table.get(&mut store, 1).unwrap();
    let f = *got.as_func().unwrap().unwrap();
    assert_eq!(f.typed::<(), i32>(&store)?.call(&mut store, ())?, 42);
    assert!(table.get(&mut store, 2).is_none());
    assert_eq!(table.grow(&mut store, 3, Ref::Func(Some(answer)))?, 2);
    assert_eq!(table.size(&store), 5);
    assert!(table
        .get(&mut store, 4)
        .unwrap()
        .as_func()
        .unwrap()
        .is_some());
    assert!(table.grow(&mut store, 6, Ref::Func(None)).is_err());
    assert_eq!(table.ty(&store).maximum(), Some(10));
    assert!(table.ty(&store).element().matches(&RefType::FUNCREF));

    // Wasm sees what the host put there.
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "t" (table 2 funcref))
            (type $r (func (result i32)))
            (func (export "call") (param i32) (result i32)
              (call_indirect (type $r) (local.get 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[table.into()])?;
    let call = instance.get_typed_func::<i32, i32>(&mut store, "call")?;
    assert_eq!(call.call(&mut store, 1)?, 42);
    let err = call.call(&mut store, 0).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));
    let err = call.call(&mut store, 50).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::TableOutOfBounds));

    // A wrongly typed initial value is an error.
    let ext = TableType::new(RefType::EXTERNREF, 1, None);
    assert!(Table::new(&mut store, ext, Ref::Func(None)).is_err());
    Ok(())
}

#[test]
fn globals_from_the_host_side() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let var = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(10),
    )?;
    let constant = Global::new(
        &mut store,
        GlobalType::new(ValType::F32, Mutability::Const),
        Val::F32(1.5f32.to_bits()),
    )?;
    assert!(Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I64(0)
    )
    .is_err());
    assert_eq!(var.get(&mut store).unwrap_i64(), 10);
    var.set(&mut store, Val::I64(11))?;
    assert!(var.set(&mut store, Val::I32(1)).is_err());
    assert!(constant.set(&mut store, Val::F32(0)).is_err());
    assert_eq!(constant.get(&mut store).unwrap_f32(), 1.5);
    assert_eq!(var.ty(&store).mutability(), Mutability::Var);
    assert!(matches!(constant.ty(&store).content(), ValType::F32));

    let module = Module::new(
        &engine,
        r#"(module
            (import "" "g" (global $g (mut i64)))
            (global (export "mine") (mut i32) (i32.const 3))
            (func (export "bump") (global.set $g (i64.add (global.get $g) (i64.const 1)))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[var.into()])?;
    instance
        .get_typed_func::<(), ()>(&mut store, "bump")?
        .call(&mut store, ())?;
    assert_eq!(var.get(&mut store).i64(), Some(12));
    let mine = instance.get_global(&mut store, "mine").unwrap();
    mine.set(&mut store, Val::I32(9))?;
    assert_eq!(mine.get(&mut store).i32(), Some(9));
    // Importing a constant global where a mutable one is wanted fails.
    assert!(Instance::new(&mut store, &module, &[constant.into()]).is_err());
    Ok(())
}

struct Limited {
    limits: wasmtime::StoreLimits,
}

#[test]
fn store_limits_bound_memories_tables_and_instances() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let limits = wasmtime::StoreLimitsBuilder::new()
        .memory_size(3 << 16)
        .table_elements(5)
        .instances(2)
        .build();
    let mut store = Store::new(&engine, Limited { limits });
    store.limiter(|state| &mut state.limits);
    let module = Module::new(
        &engine,
        r#"(module
            (memory (export "m") 1)
            (table (export "t") 1 funcref)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
            (func (export "tgrow") (param i32) (result i32)
              (table.grow (ref.null func) (local.get 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 2)?, 1);
    // Beyond the limit, memory.grow returns -1 ...
    assert_eq!(grow.call(&mut store, 1)?, -1);
    // ... and Memory::grow fails.
    let m = instance.get_memory(&mut store, "m").unwrap();
    assert!(m.grow(&mut store, 1).is_err());
    assert_eq!(m.size(&store), 3);
    let tgrow = instance.get_typed_func::<i32, i32>(&mut store, "tgrow")?;
    assert_eq!(tgrow.call(&mut store, 4)?, 1);
    assert_eq!(tgrow.call(&mut store, 1)?, -1);
    // A memory whose minimum is over the limit cannot be made.
    assert!(Memory::new(&mut store, MemoryType::new(4, None)).is_err());
    // Instances are counted.
    Instance::new(&mut store, &module, &[])?;
    assert!(Instance::new(&mut store, &module, &[]).is_err());
    Ok(())
}

#[test]
fn trap_on_grow_failure_and_custom_limiters() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory 1)
            (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0))))"#,
    )?;
    let limits = wasmtime::StoreLimitsBuilder::new()
        .memory_size(2 << 16)
        .trap_on_grow_failure(true)
        .build();
    let mut store = Store::new(&engine, limits);
    store.limiter(|l| l);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 1)?, 1);
    // The limiter's error makes `memory.grow` trap, with the error as the cause.
    let err = grow.call(&mut store, 1).unwrap_err();
    assert!(format!("{err:?}").contains("forcing trap"), "{err:?}");
    assert!(err.downcast_ref::<wasmtime::WasmBacktrace>().is_some());
    // Growth within the limit still works afterwards.
    assert_eq!(grow.call(&mut store, 0)?, 2);
    let m = Memory::new(&mut store, MemoryType::new(1, None))?;
    let err = m.grow(&mut store, 5).unwrap_err();
    assert!(format!("{err:?}").contains("forcing"), "{err:?}");

    // `table.grow` likewise; without `trap_on_grow_failure` both give -1.
    let tables = Module::new(
        &engine,
        r#"(module
            (table 1 funcref)
            (memory 1)
            (func (export "grow_table") (param i32) (result i32)
                (table.grow (ref.null func) (local.get 0)))
            (func (export "grow_memory") (param i32) (result i32)
                (memory.grow (local.get 0))))"#,
    )?;
    for trap in [true, false] {
        let limits = wasmtime::StoreLimitsBuilder::new()
            .table_elements(3)
            .memory_size(2 << 16)
            .trap_on_grow_failure(trap)
            .build();
        let mut store = Store::new(&engine, limits);
        store.limiter(|l| l);
        let instance = Instance::new(&mut store, &tables, &[])?;
        let grow_table = instance.get_typed_func::<i32, i32>(&mut store, "grow_table")?;
        let grow_memory = instance.get_typed_func::<i32, i32>(&mut store, "grow_memory")?;
        assert_eq!(grow_table.call(&mut store, 2)?, 1);
        assert_eq!(grow_memory.call(&mut store, 1)?, 1);
        let table = grow_table.call(&mut store, 1);
        let memory = grow_memory.call(&mut store, 1);
        if trap {
            let err = table.unwrap_err();
            assert!(format!("{err:?}").contains("growing table"), "{err:?}");
            let err = memory.unwrap_err();
            assert!(format!("{err:?}").contains("growing memory"), "{err:?}");
        } else {
            assert_eq!(table?, -1);
            assert_eq!(memory?, -1);
        }
    }

    // A limiter of our own that records what it was asked.
    #[derive(Default)]
    struct Recorder {
        asked: Vec<(usize, usize, Option<usize>)>,
    }
    impl wasmtime::ResourceLimiter for Recorder {
        fn memory_growing(
            &mut self,
            current: usize,
            desired: usize,
            maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            self.asked.push((current, desired, maximum));
            Ok(desired <= 4 << 16)
        }
        fn table_growing(
            &mut self,
            _current: usize,
            _desired: usize,
            _maximum: Option<usize>,
        ) -> wasmtime::Result<bool> {
            Ok(true)
        }
    }
    let mut store = Store::new(&engine, Recorder::default());
    store.limiter(|r| r as &mut dyn wasmtime::ResourceLimiter);
    let instance = Instance::new(&mut store, &module, &[])?;
    let grow = instance.get_typed_func::<i32, i32>(&mut store, "grow")?;
    assert_eq!(grow.call(&mut store, 3)?, 1);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    let asked = &store.data().asked;
    assert_eq!(asked[0], (0, 1 << 16, None));
    assert_eq!(asked[1], (1 << 16, 4 << 16, None));
    assert_eq!(asked[2], (4 << 16, 5 << 16, None));
    Ok(())
}

#[test]
fn table_copy_and_fill() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let funcs: Vec<Func> = (0..4).map(|i| Func::wrap(&mut store, move || i)).collect();
    let ty = TableType::new(RefType::FUNCREF, 6, None);
    let a = Table::new(&mut store, ty.clone(), Ref::Func(None))?;
    let b = Table::new(&mut store, ty, Ref::Func(None))?;
    a.fill(&mut store, 1, Ref::Func(Some(funcs[0])), 3)?;
    a.set(&mut store, 4, Ref::Func(Some(funcs[1])))?;
    let ids = |store: &mut Store<()>, t: &Table| -> Vec<Option<i32>> {
        (0..t.size(&*store))
            .map(|i| {
                let r = t.get(&mut *store, i).unwrap();
                r.unwrap_func().map(|f| {
                    f.typed::<(), i32>(&*store)
                        .unwrap()
                        .call(&mut *store, ())
                        .unwrap()
                })
            })
            .collect()
    };
    assert_eq!(
        ids(&mut store, &a),
        [None, Some(0), Some(0), Some(0), Some(1), None]
    );
    // Between tables, and within one with overlapping ranges (both directions).
    Table::copy(&mut store, &b, 0, &a, 2, 3)?;
    assert_eq!(
        ids(&mut store, &b),
        [Some(0), Some(0), Some(1), None, None, None]
    );
    a.set(&mut store, 0, Ref::Func(Some(funcs[2])))?;
    Table::copy(&mut store, &a, 1, &a, 0, 5)?;
    assert_eq!(
        ids(&mut store, &a),
        [Some(2), Some(2), Some(0), Some(0), Some(0), Some(1)]
    );
    Table::copy(&mut store, &a, 0, &a, 4, 2)?;
    assert_eq!(
        ids(&mut store, &a),
        [Some(0), Some(1), Some(0), Some(0), Some(0), Some(1)]
    );
    // Out of bounds: a trap, and nothing written.
    let err = Table::copy(&mut store, &b, 4, &a, 0, 3).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::TableOutOfBounds));
    let err = a.fill(&mut store, 5, Ref::Func(None), 2).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::TableOutOfBounds));
    assert_eq!(ids(&mut store, &a)[5], Some(1));
    // Element types must match.
    let externs = Table::new(
        &mut store,
        TableType::new(RefType::EXTERNREF, 6, None),
        Ref::Extern(None),
    )?;
    assert!(Table::copy(&mut store, &externs, 0, &a, 0, 1).is_err());
    assert!(externs.fill(&mut store, 0, Ref::Func(None), 1).is_err());
    externs.fill(&mut store, 0, Ref::Extern(None), 6)?;
    Ok(())
}

#[test]
fn default_values_of_types() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    assert_eq!(ValType::I64.default_value().unwrap().unwrap_i64(), 0);
    assert!(ValType::EXTERNREF
        .default_value()
        .unwrap()
        .unwrap_externref()
        .is_none());
    let non_null = ValType::Ref(RefType::new(false, wasmtime::HeapType::Func));
    assert!(non_null.default_value().is_none());

    let global = GlobalType::new(ValType::F64, Mutability::Var).default_value(&mut store)?;
    assert_eq!(global.get(&mut store).unwrap_f64(), 0.0);
    assert_eq!(global.ty(&store).mutability(), Mutability::Var);
    let table = TableType::new(RefType::FUNCREF, 4, Some(9)).default_value(&mut store)?;
    assert_eq!(table.size(&store), 4);
    assert!(table.get(&mut store, 3).unwrap().is_null());
    let memory = MemoryType::new(2, None).default_value(&mut store)?;
    let memory = memory.into_memory().unwrap();
    assert_eq!(memory.size(&store), 2);
    let func_ty = wasmtime::FuncType::new(&engine, [ValType::I32], [ValType::I32, ValType::F32]);
    let func = func_ty.default_value(&mut store)?;
    let mut results = [Val::I32(5), Val::F32(7)];
    func.call(&mut store, &[Val::I32(3)], &mut results)?;
    assert_eq!(results[0].unwrap_i32(), 0);
    assert_eq!(results[1].unwrap_f32(), 0.0);
    let ext = wasmtime::ExternType::from(func_ty).default_value(&mut store)?;
    assert!(ext.into_func().is_some());
    let tag_ty = wasmtime::TagType::new(wasmtime::FuncType::new(&engine, [ValType::I32], []));
    let tag = tag_ty.default_value(&mut store)?;
    assert_eq!(tag.ty(&store).ty().params().len(), 1);
    Ok(())
}

#[test]
fn resources_required_counts_defined_memories_and_tables() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "m" (memory 100))
            (import "env" "t" (table 50 funcref))
            (memory 3) (memory 7 8)
            (table 2 funcref))"#,
    )?;
    let r = module.resources_required();
    assert_eq!(r.num_memories, 2);
    assert_eq!(r.max_initial_memory_size, Some(7));
    assert_eq!(r.num_tables, 1);
    assert_eq!(r.max_initial_table_size, Some(2));
    let r = Module::new(&engine, "(module)")?.resources_required();
    assert_eq!((r.num_memories, r.max_initial_memory_size), (0, None));
    assert_eq!((r.num_tables, r.max_initial_table_size), (0, None));
    Ok(())
}
