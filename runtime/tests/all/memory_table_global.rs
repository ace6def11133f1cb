//! Host-side memories, tables and globals: creation, growth within and beyond limits, reads and
//! writes, and that wasm and the host see each other's changes when these objects are imported
//! into or exported from instances (including an imported mutable global).

use wasmjit::*;

const PAGE: usize = 65536;

fn engines() -> Vec<Engine> {
    // The default (4 GiB reservation, memories never move) and a small reservation where
    // memories grow by moving.
    let mut small = Config::new();
    small
        .memory_reservation(2 * PAGE as u64)
        .memory_guard_size(0);
    vec![Engine::default(), Engine::new(&small).unwrap()]
}

#[test]
fn memory_new_reports_size_and_type() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let memory = Memory::new(&mut store, MemoryType::new(2, Some(5))).unwrap();
        assert_eq!(memory.size(&store), 2);
        assert_eq!(memory.data_size(&store), 2 * PAGE);
        assert_eq!(memory.data(&store).len(), 2 * PAGE);
        assert!(memory.data(&store).iter().all(|&b| b == 0));
        let ty = memory.ty(&store);
        assert_eq!((ty.minimum(), ty.maximum()), (2, Some(5)));
        assert!(!ty.is_64());
        let empty = Memory::new(&mut store, MemoryType::new(0, None)).unwrap();
        assert_eq!(empty.size(&store), 0);
        assert_eq!(empty.data(&store).len(), 0);
    }
}

#[test]
fn memory_grow_returns_old_size_and_stops_at_the_maximum() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let memory = Memory::new(&mut store, MemoryType::new(1, Some(3))).unwrap();
        memory.write(&mut store, PAGE - 4, b"tail").unwrap();
        assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
        assert_eq!(memory.size(&store), 2);
        assert!(
            memory.grow(&mut store, 2).is_err(),
            "2 + 2 pages exceeds the max of 3"
        );
        assert_eq!(memory.size(&store), 2, "a failed grow changes nothing");
        assert_eq!(memory.grow(&mut store, 0).unwrap(), 2);
        assert_eq!(memory.grow(&mut store, 1).unwrap(), 2);
        assert_eq!(memory.size(&store), 3);
        assert!(memory.grow(&mut store, 1).is_err());
        assert_eq!(memory.data_size(&store), 3 * PAGE);
        // Old contents survive growth (even when the memory moves) and new pages are zero.
        assert_eq!(&memory.data(&store)[PAGE - 4..PAGE], b"tail");
        assert!(memory.data(&store)[PAGE..].iter().all(|&b| b == 0));
        memory.write(&mut store, 3 * PAGE - 1, &[9]).unwrap();

        let unbounded = Memory::new(&mut store, MemoryType::new(0, None)).unwrap();
        assert_eq!(unbounded.grow(&mut store, 4).unwrap(), 0);
        assert_eq!(unbounded.size(&store), 4);
        assert!(unbounded.grow(&mut store, 1 << 16).is_err(), "past 4 GiB");
        assert!(unbounded.grow(&mut store, u64::MAX).is_err());
        assert_eq!(unbounded.size(&store), 4);
    }
}

#[test]
fn memory_read_write_and_bounds() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    memory.write(&mut store, 100, b"abcdef").unwrap();
    let mut buf = [0u8; 4];
    memory.read(&store, 101, &mut buf).unwrap();
    assert_eq!(&buf, b"bcde");
    assert_eq!(&memory.data(&store)[100..106], b"abcdef");
    memory.data_mut(&mut store)[200] = 0x7f;
    memory.read(&store, 200, &mut buf[..1]).unwrap();
    assert_eq!(buf[0], 0x7f);
    // Exactly up to the end works; one byte further does not, and leaves memory unchanged.
    memory.write(&mut store, PAGE - 2, b"xy").unwrap();
    assert!(memory.write(&mut store, PAGE - 1, b"xy").is_err());
    assert_eq!(memory.data(&store)[PAGE - 1], b'y');
    assert!(memory.read(&store, PAGE - 1, &mut buf).is_err());
    assert!(memory.read(&store, usize::MAX, &mut buf).is_err());
    assert!(memory.write(&mut store, usize::MAX - 1, b"xyz").is_err());
    memory.read(&store, PAGE, &mut []).unwrap();
    let err = memory.read(&store, PAGE, &mut buf).unwrap_err();
    assert_eq!(err.to_string(), "out of bounds memory access");
}

const MEMORY_USER: &str = r#"(module
  (import "env" "memory" (memory 1 4))
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
  (func (export "size") (result i32) memory.size)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow))"#;

#[test]
fn wasm_and_host_see_each_others_memory_writes_and_growth() {
    for engine in engines() {
        let mut store = Store::new(&engine, ());
        let memory = Memory::new(&mut store, MemoryType::new(1, Some(4))).unwrap();
        let module = Module::new(&engine, MEMORY_USER).unwrap();
        let instance = Instance::new(&mut store, &module, &[memory.into()]).unwrap();
        let load = instance
            .get_typed_func::<i32, i32>(&mut store, "load")
            .unwrap();
        let store_fn = instance
            .get_typed_func::<(i32, i32), ()>(&mut store, "store")
            .unwrap();
        let size = instance
            .get_typed_func::<(), i32>(&mut store, "size")
            .unwrap();
        let grow = instance
            .get_typed_func::<i32, i32>(&mut store, "grow")
            .unwrap();

        memory
            .write(&mut store, 8, &0x1234_5678u32.to_le_bytes())
            .unwrap();
        assert_eq!(load.call(&mut store, 8).unwrap(), 0x1234_5678);
        store_fn.call(&mut store, (16, -2)).unwrap();
        assert_eq!(&memory.data(&store)[16..20], &(-2i32).to_le_bytes());

        // Growth on one side is seen on the other, including the new pages.
        assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
        assert_eq!(size.call(&mut store, ()).unwrap(), 2);
        store_fn.call(&mut store, (PAGE as i32 + 4, 77)).unwrap();
        assert_eq!(memory.data(&store)[PAGE + 4], 77);
        assert_eq!(grow.call(&mut store, 2).unwrap(), 2);
        assert_eq!(memory.size(&store), 4);
        memory
            .write(&mut store, 4 * PAGE - 4, &[1, 0, 0, 0])
            .unwrap();
        assert_eq!(load.call(&mut store, 4 * PAGE as i32 - 4).unwrap(), 1);
        // Wasm cannot grow past the maximum either: -1 and no change.
        assert_eq!(grow.call(&mut store, 1).unwrap(), -1);
        assert_eq!(memory.size(&store), 4);
        // Old data survived every growth.
        assert_eq!(load.call(&mut store, 8).unwrap(), 0x1234_5678);
    }
}

#[test]
fn importing_a_memory_smaller_than_required_fails() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, MEMORY_USER).unwrap();
    let too_small = Memory::new(&mut store, MemoryType::new(0, Some(4))).unwrap();
    assert!(Instance::new(&mut store, &module, &[too_small.into()]).is_err());
    let unbounded = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert!(
        Instance::new(&mut store, &module, &[unbounded.into()]).is_err(),
        "an import with max 4 needs a memory with a max of at most 4"
    );
}

#[test]
fn exported_memory_is_the_instances_memory() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module (memory (export "mem") 1 2) (data (i32.const 3) "\2a")
            (func (export "peek") (param i32) (result i32) local.get 0 i32.load8_u))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let mem = instance.get_memory(&mut store, "mem").unwrap();
    assert_eq!(mem.data(&store)[3], 42);
    mem.data_mut(&mut store)[5] = 9;
    let peek = instance
        .get_typed_func::<i32, i32>(&mut store, "peek")
        .unwrap();
    assert_eq!(peek.call(&mut store, 5).unwrap(), 9);
    assert_eq!(mem.ty(&store).maximum(), Some(2));
}

fn host_funcs(store: &mut Store<()>) -> (Func, Func) {
    (
        Func::wrap(&mut *store, |x: i32| x + 1),
        Func::wrap(&mut *store, |x: i32| x * 10),
    )
}

#[test]
fn table_new_get_set_grow_with_funcrefs_and_null() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let (inc, times10) = host_funcs(&mut store);
    let ty = TableType::new(RefType::FUNCREF, 2, Some(4));
    let table = Table::new(&mut store, ty, Ref::Func(None)).unwrap();
    assert_eq!(table.size(&store), 2);
    assert!(table.get(&mut store, 0).unwrap().is_null());
    assert!(table.get(&mut store, 2).is_none());

    table.set(&mut store, 1, inc.into()).unwrap();
    let got = table.get(&mut store, 1).unwrap();
    assert_eq!(got.as_func(), Some(Some(&inc)));
    assert!(
        table.set(&mut store, 2, times10.into()).is_err(),
        "index past the end"
    );
    assert!(
        table.set(&mut store, 0, Ref::Extern(None)).is_err(),
        "externref into a funcref table"
    );

    assert_eq!(table.grow(&mut store, 1, times10.into()).unwrap(), 2);
    assert_eq!(table.size(&store), 3);
    assert_eq!(
        table.get(&mut store, 2).unwrap().as_func(),
        Some(Some(&times10))
    );
    assert!(
        table.grow(&mut store, 2, Ref::Func(None)).is_err(),
        "past the max of 4"
    );
    assert_eq!(table.size(&store), 3);
    assert_eq!(table.grow(&mut store, 1, Ref::Func(None)).unwrap(), 3);
    assert!(table.get(&mut store, 3).unwrap().is_null());
    // The type it was created with, as in Wasmtime.
    assert_eq!(table.ty(&store).minimum(), 2);
    assert_eq!(table.ty(&store).maximum(), Some(4));

    // Overwrite with null.
    table.set(&mut store, 1, Ref::Func(None)).unwrap();
    assert!(table.get(&mut store, 1).unwrap().is_null());

    // A table initialised with a function holds it everywhere.
    let full = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 3, None),
        inc.into(),
    )
    .unwrap();
    for i in 0..3 {
        assert_eq!(full.get(&mut store, i).unwrap().as_func(), Some(Some(&inc)));
    }
    assert!(Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 1, None),
        Ref::Extern(None)
    )
    .is_err());
}

#[test]
fn wasm_calls_through_a_host_table_and_writes_it() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let (inc, times10) = host_funcs(&mut store);
    let table = Table::new(
        &mut store,
        TableType::new(RefType::FUNCREF, 2, None),
        Ref::Func(None),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (type $i_i (func (param i32) (result i32)))
            (import "env" "table" (table $t 2 funcref))
            (elem declare func $square)
            (func $square (type $i_i) local.get 0 local.get 0 i32.mul)
            (func (export "call") (param i32 i32) (result i32)
              local.get 1 local.get 0 call_indirect $t (type $i_i))
            (func (export "install_square") (param i32)
              local.get 0 ref.func $square table.set $t)
            (func (export "size") (result i32) table.size $t)
            (func (export "grow") (param i32) (result i32)
              ref.null func local.get 0 table.grow $t))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[table.into()]).unwrap();
    let call = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "call")
        .unwrap();
    let install = instance
        .get_typed_func::<i32, ()>(&mut store, "install_square")
        .unwrap();
    let size = instance
        .get_typed_func::<(), i32>(&mut store, "size")
        .unwrap();
    let grow = instance
        .get_typed_func::<i32, i32>(&mut store, "grow")
        .unwrap();

    table.set(&mut store, 0, inc.into()).unwrap();
    table.set(&mut store, 1, times10.into()).unwrap();
    assert_eq!(call.call(&mut store, (0, 5)).unwrap(), 6);
    assert_eq!(call.call(&mut store, (1, 5)).unwrap(), 50);
    // The host swaps an entry; wasm's next call sees it.
    table.set(&mut store, 0, times10.into()).unwrap();
    assert_eq!(call.call(&mut store, (0, 5)).unwrap(), 50);
    // Wasm installs its own function; the host reads and calls it.
    install.call(&mut store, 1).unwrap();
    let square = table.get(&mut store, 1).unwrap();
    let square = *square.as_func().unwrap().unwrap();
    let square = square.typed::<i32, i32>(&store).unwrap();
    assert_eq!(square.call(&mut store, 9).unwrap(), 81);
    // Growth is shared too.
    assert_eq!(grow.call(&mut store, 3).unwrap(), 2);
    assert_eq!(table.size(&store), 5);
    assert_eq!(table.grow(&mut store, 1, inc.into()).unwrap(), 5);
    assert_eq!(size.call(&mut store, ()).unwrap(), 6);
    assert_eq!(call.call(&mut store, (5, 1)).unwrap(), 2);
    let err = call.call(&mut store, (4, 1)).unwrap_err();
    assert_eq!(err.downcast_ref::<Trap>(), Some(&Trap::IndirectCallToNull));
}

#[test]
fn externref_table_holds_host_values() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let table = Table::new(
        &mut store,
        TableType::new(RefType::EXTERNREF, 2, None),
        Ref::Extern(None),
    )
    .unwrap();
    let r = ExternRef::new(&mut store, "in a table").unwrap();
    table.set(&mut store, 1, r.into()).unwrap();
    let back = table.get(&mut store, 1).unwrap();
    let back = *back.as_extern().unwrap().unwrap();
    assert_eq!(
        back.data(&store).unwrap().unwrap().downcast_ref::<&str>(),
        Some(&"in a table")
    );
    assert!(table.get(&mut store, 0).unwrap().is_null());
    let f = Func::wrap(&mut store, || {});
    assert!(
        table.set(&mut store, 0, f.into()).is_err(),
        "funcref into an externref table"
    );
}

#[test]
fn global_get_set_and_type_checks() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let var = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(1),
    )
    .unwrap();
    assert_eq!(var.get(&mut store).unwrap_i32(), 1);
    var.set(&mut store, Val::I32(-9)).unwrap();
    assert_eq!(var.get(&mut store).unwrap_i32(), -9);
    assert!(
        var.set(&mut store, Val::I64(1)).is_err(),
        "wrong value type"
    );
    assert_eq!(var.get(&mut store).unwrap_i32(), -9);

    let constant = Global::new(
        &mut store,
        GlobalType::new(ValType::F64, Mutability::Const),
        Val::from(2.5f64),
    )
    .unwrap();
    assert!(constant.set(&mut store, Val::from(3.0f64)).is_err());
    assert_eq!(constant.get(&mut store).unwrap_f64(), 2.5);
    assert_eq!(constant.ty(&store).mutability(), Mutability::Const);
    assert_eq!(*constant.ty(&store).content(), ValType::F64);

    assert!(Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::F32(0)
    )
    .is_err());

    // Every value type round trips, including full-width bit patterns.
    let cases = [
        Val::I64(i64::MIN),
        Val::F32(0x7fc0_1234),
        Val::F64(0xfff8_0000_dead_beef),
        Val::V128(V128::from(u128::MAX - 7)),
    ];
    for v in cases {
        let ty = v.ty(&store).unwrap();
        let g = Global::new(&mut store, GlobalType::new(ty, Mutability::Var), v).unwrap();
        let got = g.get(&mut store);
        assert_eq!(format!("{got:?}"), format!("{v:?}"));
    }
    let f = Func::wrap(&mut store, || 3i32);
    let gf = Global::new(
        &mut store,
        GlobalType::new(ValType::FUNCREF, Mutability::Var),
        Val::from(f),
    )
    .unwrap();
    assert_eq!(gf.get(&mut store).funcref(), Some(Some(&f)));
    gf.set(&mut store, Val::null_func_ref()).unwrap();
    assert_eq!(gf.get(&mut store).funcref(), Some(None));
}

#[test]
fn imported_mutable_global_is_shared_between_host_and_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let counter = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(10),
    )
    .unwrap();
    let limit = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(3),
    )
    .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "counter" (global $c (mut i64)))
            (import "env" "limit" (global $l i32))
            (global $copy (export "copy") i32 (global.get $l))
            (global (export "counter_again") (mut i64) (i64.const 0))
            (func (export "get") (result i64) global.get $c)
            (func (export "bump") (param i64) (result i64)
              global.get $c local.get 0 i64.add global.set $c global.get $c)
            (func (export "limit") (result i32) global.get $l))"#,
    )
    .unwrap();
    let instance = Instance::new(&mut store, &module, &[counter.into(), limit.into()]).unwrap();
    let get = instance
        .get_typed_func::<(), i64>(&mut store, "get")
        .unwrap();
    let bump = instance
        .get_typed_func::<i64, i64>(&mut store, "bump")
        .unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), 10);
    counter.set(&mut store, Val::I64(100)).unwrap();
    assert_eq!(get.call(&mut store, ()).unwrap(), 100);
    assert_eq!(bump.call(&mut store, 5).unwrap(), 105);
    assert_eq!(counter.get(&mut store).unwrap_i64(), 105);
    let limit_fn = instance
        .get_typed_func::<(), i32>(&mut store, "limit")
        .unwrap();
    assert_eq!(limit_fn.call(&mut store, ()).unwrap(), 3);
    // A defined global initialised from an imported one; immutable exports refuse set.
    let copy = instance.get_global(&mut store, "copy").unwrap();
    assert_eq!(copy.get(&mut store).unwrap_i32(), 3);
    assert!(copy.set(&mut store, Val::I32(4)).is_err());
    // A mutable defined global is writable through its export.
    let again = instance.get_global(&mut store, "counter_again").unwrap();
    again.set(&mut store, Val::I64(-1)).unwrap();
    assert_eq!(again.get(&mut store).unwrap_i64(), -1);
}

#[test]
fn importing_a_global_of_the_wrong_type_or_mutability_fails() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(&engine, r#"(module (import "env" "g" (global (mut i32))))"#).unwrap();
    let immutable = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Const),
        Val::I32(0),
    )
    .unwrap();
    assert!(Instance::new(&mut store, &module, &[immutable.into()]).is_err());
    let wrong_type = Global::new(
        &mut store,
        GlobalType::new(ValType::I64, Mutability::Var),
        Val::I64(0),
    )
    .unwrap();
    assert!(Instance::new(&mut store, &module, &[wrong_type.into()]).is_err());
    let right = Global::new(
        &mut store,
        GlobalType::new(ValType::I32, Mutability::Var),
        Val::I32(0),
    )
    .unwrap();
    Instance::new(&mut store, &module, &[right.into()]).unwrap();
}

/// `ty` reports the type an object was created with, as Wasmtime does: growing a memory or a
/// table changes its size, not its type's minimum; the same through a module's instance and
/// its import and export types.
#[test]
fn types_are_the_created_ones_after_growing() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let memory = Memory::new(&mut store, MemoryType::new(1, None)).unwrap();
    assert_eq!(memory.grow(&mut store, 1).unwrap(), 1);
    assert_eq!(memory.size(&store), 2);
    let ty = memory.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (1, None));
    assert_eq!(
        Extern::Memory(memory).ty(&store).unwrap_memory().minimum(),
        1
    );

    let table = Table::new(
        &mut store,
        TableType::new(RefType::EXTERNREF, 1, Some(9)),
        Ref::Extern(None),
    )
    .unwrap();
    table.grow(&mut store, 3, Ref::Extern(None)).unwrap();
    assert_eq!(table.size(&store), 4);
    let ty = table.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (1, Some(9)));
    assert!(ty.element().matches(&RefType::EXTERNREF));

    let module = Module::new(
        &engine,
        r#"(module
            (import "m" "mem" (memory 1))
            (memory (export "own") 2 7)
            (table (export "tab") 3 funcref)
            (global (export "g") (mut i64) (i64.const 5))
            (func (export "f") (param i32 f64) (result i64) i64.const 0)
            (func (export "grow") (result i32)
              (drop (memory.grow 0 (i32.const 2)))
              (drop (memory.grow 1 (i32.const 1)))
              (table.grow 0 (ref.null func) (i32.const 4))))"#,
    )
    .unwrap();
    let import = module.imports().next().unwrap();
    assert_eq!(import.ty().unwrap_memory().minimum(), 1);
    let instance = Instance::new(&mut store, &module, &[memory.into()]).unwrap();
    let grow = instance
        .get_typed_func::<(), i32>(&mut store, "grow")
        .unwrap();
    assert_eq!(grow.call(&mut store, ()).unwrap(), 3);
    assert_eq!(memory.size(&store), 4);
    assert_eq!(memory.ty(&store).minimum(), 1);
    let own = instance.get_memory(&mut store, "own").unwrap();
    assert_eq!(own.size(&store), 3);
    let ty = own.ty(&store);
    assert_eq!((ty.minimum(), ty.maximum()), (2, Some(7)));
    let tab = instance.get_table(&mut store, "tab").unwrap();
    assert_eq!(tab.size(&store), 7);
    assert_eq!(tab.ty(&store).minimum(), 3);
    let g = instance.get_global(&mut store, "g").unwrap().ty(&store);
    assert_eq!(g.mutability(), Mutability::Var);
    assert!(matches!(g.content(), ValType::I64));
    let f = instance.get_func(&mut store, "f").unwrap().ty(&store);
    assert!(matches!(
        f.params().collect::<Vec<_>>()[..],
        [ValType::I32, ValType::F64]
    ));
    assert!(matches!(
        f.results().collect::<Vec<_>>()[..],
        [ValType::I64]
    ));
    // The module's export types are the declared ones.
    let exports: Vec<(String, ExternType)> = module
        .exports()
        .map(|e| (e.name().to_string(), e.ty()))
        .collect();
    assert_eq!(exports[0].1.unwrap_memory().minimum(), 2);
    assert_eq!(exports[1].1.unwrap_table().minimum(), 3);
    // A grown memory still satisfies imports by its current size.
    let needs_4 = Module::new(&engine, r#"(module (import "m" "mem" (memory 4)))"#).unwrap();
    Instance::new(&mut store, &needs_4, &[memory.into()]).unwrap();
}
