//! externref (with Wasmtime's rooting types) and module serialization through Wasmtime's API.

use wasmjit as wasmtime;

use wasmtime::{
    Caller, Config, Engine, ExternRef, Func, Instance, Linker, ManuallyRooted, Module, Ref,
    RefType, Rooted, Store, Table, TableType, Val,
};

#[test]
fn externrefs_round_trip_through_wasm() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let module = Module::new(
        &engine,
        r#"(module
            (table $t (export "table") 4 externref)
            (global $g (export "global") (mut externref) (ref.null extern))
            (func (export "id") (param externref) (result externref) local.get 0)
            (func (export "stash") (param externref)
              (table.set $t (i32.const 1) (local.get 0))
              (global.set $g (local.get 0)))
            (func (export "is_null") (param externref) (result i32)
              (ref.is_null (local.get 0))))"#,
    )?;
    let instance = Instance::new(&mut store, &module, &[])?;

    let hello: Rooted<ExternRef> = ExternRef::new(&mut store, "hello")?;
    let data = hello.data(&store)?.expect("host data");
    assert_eq!(data.downcast_ref::<&str>(), Some(&"hello"));

    let id = instance
        .get_typed_func::<Option<Rooted<ExternRef>>, Option<Rooted<ExternRef>>>(&mut store, "id")?;
    let back = id.call(&mut store, Some(hello))?.expect("non-null");
    assert_eq!(
        back.data(&store)?.unwrap().downcast_ref::<&str>(),
        Some(&"hello")
    );
    assert!(id.call(&mut store, None)?.is_none());

    let is_null = instance.get_func(&mut store, "is_null").unwrap();
    let mut out = [Val::I32(-1)];
    is_null.call(&mut store, &[Val::ExternRef(None)], &mut out)?;
    assert_eq!(out[0].unwrap_i32(), 1);
    is_null.call(&mut store, &[Val::ExternRef(Some(hello))], &mut out)?;
    assert_eq!(out[0].unwrap_i32(), 0);

    let counter = ExternRef::new(&mut store, 10usize)?;
    let stash = instance.get_typed_func::<Option<Rooted<ExternRef>>, ()>(&mut store, "stash")?;
    stash.call(&mut store, Some(counter))?;
    // Mutate the host data through the reference.
    *counter
        .data_mut(&mut store)?
        .unwrap()
        .downcast_mut::<usize>()
        .unwrap() += 5;
    let table = instance.get_table(&mut store, "table").unwrap();
    let elem = table.get(&mut store, 1).unwrap();
    let r = elem.as_extern().unwrap().unwrap();
    assert_eq!(r.data(&store)?.unwrap().downcast_ref::<usize>(), Some(&15));
    let global = instance.get_global(&mut store, "global").unwrap();
    match global.get(&mut store) {
        Val::ExternRef(Some(r)) => {
            assert_eq!(r.data(&store)?.unwrap().downcast_ref::<usize>(), Some(&15))
        }
        other => panic!("unexpected {other:?}"),
    }
    Ok(())
}

#[test]
fn host_functions_take_and_return_externrefs() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "make",
        |caller: Caller<'_, ()>, n: i32| -> wasmtime::Result<Rooted<ExternRef>> {
            ExternRef::new(caller, format!("item {n}"))
        },
    )?;
    linker.func_wrap(
        "host",
        "len",
        |caller: Caller<'_, ()>, r: Option<Rooted<ExternRef>>| -> wasmtime::Result<i32> {
            let Some(r) = r else { return Ok(-1) };
            let s = r
                .data(&caller)?
                .and_then(|d| d.downcast_ref::<String>())
                .ok_or_else(|| anyhow::anyhow!("not a string"))?;
            Ok(s.len() as i32)
        },
    )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "make" (func $make (param i32) (result externref)))
            (import "host" "len" (func $len (param externref) (result i32)))
            (func (export "run") (param i32) (result i32)
              (call $len (call $make (local.get 0))))
            (func (export "null_len") (result i32) (call $len (ref.null extern))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<i32, i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 7)?, "item 7".len() as i32);
    assert_eq!(run.call(&mut store, 1234)?, "item 1234".len() as i32);
    let null_len = instance.get_typed_func::<(), i32>(&mut store, "null_len")?;
    assert_eq!(null_len.call(&mut store, ())?, -1);
    Ok(())
}

/// `Instance::new` takes host functions whose types are subtypes of the imports' (here a
/// `(ref extern)` result for an `externref` import), as `Linker` does and as Wasmtime does.
#[test]
fn instance_new_accepts_subtyped_host_funcs() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let make = Func::wrap(
        &mut store,
        |caller: Caller<'_, ()>, n: i32| -> wasmtime::Result<Rooted<ExternRef>> {
            ExternRef::new(caller, n * 2)
        },
    );
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "make" (func $make (param i32) (result externref)))
            (func (export "run") (param i32) (result externref)
              (call $make (local.get 0))))"#,
    )?;
    let import_ty = module.imports().next().unwrap().ty();
    let import_ty = import_ty.unwrap_func();
    assert_ne!(&make.ty(&store), import_ty);
    assert!(make.matches_ty(&store, import_ty));
    let instance = Instance::new(&mut store, &module, &[make.into()])?;
    let run = instance.get_typed_func::<i32, Option<Rooted<ExternRef>>>(&mut store, "run")?;
    let r = run.call(&mut store, 21)?.expect("non-null");
    assert_eq!(r.data(&store)?.unwrap().downcast_ref::<i32>(), Some(&42));

    // A function that is not a subtype is still refused.
    let wrong = Func::wrap(&mut store, |n: i32| n);
    assert!(!wrong.matches_ty(&store, import_ty));
    assert!(Instance::new(&mut store, &module, &[wrong.into()]).is_err());
    Ok(())
}

#[test]
fn manually_rooted_externrefs() -> wasmtime::Result<()> {
    let mut store = Store::<()>::default();
    let rooted = ExternRef::new(&mut store, 99u32)?;
    let manual: ManuallyRooted<ExternRef> = rooted.to_manually_rooted(&mut store)?;
    let again = manual.to_rooted(&mut store);
    assert_eq!(
        again.data(&store)?.unwrap().downcast_ref::<u32>(),
        Some(&99)
    );
    let other = ExternRef::new_manually_rooted(&mut store, 1u8)?;
    assert_eq!(other.data(&store)?.unwrap().downcast_ref::<u8>(), Some(&1));
    let cloned = manual.clone(&mut store);
    assert!(ManuallyRooted::ref_eq(&store, &manual, &cloned)?);
    manual.unroot(&mut store);
    cloned.unroot(&mut store);
    let table = Table::new(
        &mut store,
        TableType::new(RefType::EXTERNREF, 1, None),
        Ref::Extern(Some(again)),
    )?;
    assert!(!table.get(&mut store, 0).unwrap().is_null());
    let other_rooted = other.to_rooted(&mut store);
    assert!(!ExternRef::ref_eq(&store, &again, &other_rooted)?);
    other.unroot(&mut store);
    // A RootScope is a context like any other.
    let mut scope = wasmtime::RootScope::new(&mut store);
    let scoped = ExternRef::new(&mut scope, "scoped")?;
    assert!(Val::from(scoped).externref().unwrap().is_some());
    assert!(ExternRef::ref_eq(&store, &again, &again)?);

    Ok(())
}

#[test]
fn serialize_and_deserialize_modules() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let wat = r#"(module (func (export "answer") (result i32) i32.const 42))"#;
    let module = Module::new(&engine, wat)?;
    let bytes = module.serialize()?;
    let precompiled = engine.precompile_module(&wat::parse_str(wat)?)?;

    // SAFETY: the bytes came from `serialize`/`precompile_module` of this engine's config.
    let from_bytes = unsafe { Module::deserialize(&engine, &bytes)? };
    // SAFETY: as above.
    let from_precompiled = unsafe { Module::deserialize(&engine, &precompiled)? };
    let dir = std::env::temp_dir().join(format!("wasmjit-api-ser-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("answer.cwasm");
    std::fs::write(&path, &bytes)?;
    // SAFETY: as above.
    let from_file = unsafe { Module::deserialize_file(&engine, &path)? };
    std::fs::remove_dir_all(&dir)?;

    let mut store = Store::new(&engine, ());
    for m in [&from_bytes, &from_precompiled, &from_file] {
        let instance = Instance::new(&mut store, m, &[])?;
        let f = instance.get_typed_func::<(), i32>(&mut store, "answer")?;
        assert_eq!(f.call(&mut store, ())?, 42);
    }
    // Garbage and truncated artifacts are errors, not crashes.
    // SAFETY: deserialize checks the header before trusting anything.
    assert!(unsafe { Module::deserialize(&engine, b"not a module") }.is_err());
    // SAFETY: as above.
    assert!(unsafe { Module::deserialize(&engine, &bytes[..bytes.len() / 2]) }.is_err());
    // Artifacts of an engine with other code settings are refused, as in Wasmtime.
    let fuel = Engine::new(Config::new().consume_fuel(true))?;
    // SAFETY: refused before any code is placed.
    assert!(unsafe { Module::deserialize(&fuel, &bytes) }.is_err());
    let _ = Func::wrap(&mut store, || {});
    Ok(())
}
