//! Linking written against Wasmtime's `Linker` API.

use wasmjit as wasmtime;

use wasmtime::{Caller, Engine, Extern, Func, FuncType, Linker, Module, Store, Val, ValType};

#[test]
fn two_modules_through_a_linker() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "log", |mut caller: Caller<'_, u32>, x: i32| {
        *caller.data_mut() += x as u32;
    })?;
    let library = Module::new(
        &engine,
        r#"(module
            (import "host" "log" (func $log (param i32)))
            (memory (export "memory") 1)
            (global (export "counter") (mut i32) (i32.const 0))
            (func (export "double") (param i32) (result i32)
              (call $log (local.get 0))
              (global.set 0 (i32.add (global.get 0) (i32.const 1)))
              (i32.mul (local.get 0) (i32.const 2))))"#,
    )?;
    let lib = linker.instantiate(&mut store, &library)?;
    linker.instance(&mut store, "lib", lib)?;
    let user = Module::new(
        &engine,
        r#"(module
            (import "lib" "double" (func $double (param i32) (result i32)))
            (import "lib" "memory" (memory 1))
            (func (export "quad") (param i32) (result i32)
              (i32.store (i32.const 0) (i32.const 99))
              (call $double (call $double (local.get 0)))))"#,
    )?;
    let user_instance = linker.instantiate(&mut store, &user)?;
    let quad = user_instance.get_typed_func::<i32, i32>(&mut store, "quad")?;
    assert_eq!(quad.call(&mut store, 5)?, 20);
    assert_eq!(*store.data(), 5 + 10);
    let mem = lib.get_memory(&mut store, "memory").unwrap();
    assert_eq!(mem.data(&store)[0], 99);
    let counter = linker.get(&mut store, "lib", "counter").unwrap();
    assert_eq!(
        counter.into_global().unwrap().get(&mut store).i32(),
        Some(2)
    );
    assert!(linker.get(&mut store, "lib", "nothing").is_err());
    Ok(())
}

#[test]
fn linker_module_and_get_default() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let lib = Module::new(
        &engine,
        r#"(module (func (export "seven") (result i32) i32.const 7))"#,
    )?;
    linker.module(&mut store, "lib", &lib)?;
    let command = Module::new(
        &engine,
        r#"(module
            (import "lib" "seven" (func $seven (result i32)))
            (global $g (export "g") (mut i32) (i32.const 0))
            (func (export "_start") (global.set $g (call $seven))))"#,
    )?;
    // A command exporting a global is refused unless unknown exports are allowed.
    linker.allow_unknown_exports(true);
    linker.module(&mut store, "cmd", &command)?;
    let start = linker.get_default(&mut store, "cmd")?;
    start.typed::<(), ()>(&store)?.call(&mut store, ())?;
    // A reactor without `_start` has a default that does nothing.
    let default = linker.get_default(&mut store, "lib")?;
    default.call(&mut store, &[], &mut [])?;
    // So does an unknown name.
    let nothing = linker.get_default(&mut store, "unknown")?;
    assert_eq!(nothing.ty(&store).params().len(), 0);
    // alias_module makes a module's items visible under a second name.
    linker.alias_module("lib", "lib2")?;
    let seven = linker
        .get(&mut store, "lib2", "seven")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(seven.typed::<(), i32>(&store)?.call(&mut store, ())?, 7);
    Ok(())
}

#[test]
fn define_func_new_and_shadowing() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker: Linker<()> = Linker::new(&engine);
    let ty = FuncType::new(&engine, [ValType::I32], [ValType::I32]);
    linker.func_new("env", "inc", ty.clone(), |_caller, params, results| {
        results[0] = Val::I32(params[0].unwrap_i32() + 1);
        Ok(())
    })?;
    // Defining the same name twice is an error unless shadowing is allowed.
    let err = linker
        .func_new(
            "env",
            "inc",
            ty.clone(),
            |_caller, _params, _results| Ok(()),
        )
        .err();
    assert!(err.is_some());
    linker.allow_shadowing(true);
    linker.func_new("env", "inc", ty, |_caller, params, results| {
        results[0] = Val::I32(params[0].unwrap_i32() + 100);
        Ok(())
    })?;
    let g = wasmtime::Global::new(
        &mut store,
        wasmtime::GlobalType::new(ValType::I32, wasmtime::Mutability::Const),
        Val::I32(5),
    )?;
    linker.define(&store, "env", "five", g)?;
    let memory = wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(1, Some(2)))?;
    linker.define(&store, "env", "memory", Extern::Memory(memory))?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "inc" (func $inc (param i32) (result i32)))
            (import "env" "five" (global $five i32))
            (import "env" "memory" (memory 1))
            (func (export "run") (result i32)
              (i32.store (i32.const 8) (i32.const 1234))
              (call $inc (global.get $five))))"#,
    )?;
    let pre = linker.instantiate_pre(&module)?;
    let instance = pre.instantiate(&mut store)?;
    let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 105);
    let mut word = [0u8; 4];
    memory.read(&store, 8, &mut word)?;
    assert_eq!(i32::from_le_bytes(word), 1234);
    // An InstancePre whose imports are objects of one store cannot instantiate in another.
    let mut other = Store::new(&engine, ());
    assert!(pre.instantiate(&mut other).is_err());
    Ok(())
}

#[test]
fn missing_and_mismatched_imports_are_errors() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32))) (func (export "g")))"#,
    )?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert!(err.to_string().contains("env"), "{err}");
    linker.func_wrap("env", "f", |x: i64| x)?;
    assert!(linker.instantiate(&mut store, &module).is_err());
    // define_unknown_imports_as_traps fills the gaps with trapping functions.
    let mut fresh = Linker::new(&engine);
    fresh.define_unknown_imports_as_traps(&module)?;
    let instance = fresh.instantiate(&mut store, &module)?;
    instance
        .get_typed_func::<(), ()>(&mut store, "g")?
        .call(&mut store, ())?;
    let f = fresh
        .get(&mut store, "env", "f")
        .unwrap()
        .into_func()
        .unwrap();
    let err = f.call(&mut store, &[Val::I32(1)], &mut []).unwrap_err();
    assert!(err.to_string().contains("unknown import"), "{err}");
    Ok(())
}

#[test]
fn func_wrap_with_many_shapes() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, String::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("m", "none", || {})?
        .func_wrap("m", "pair", |a: i32, b: i64| (b, a))?
        .func_wrap("m", "fallible", |x: f64| -> wasmtime::Result<f64> {
            if x < 0.0 {
                anyhow::bail!("negative")
            }
            Ok(x.sqrt())
        })?
        .func_wrap(
            "m",
            "record",
            |mut caller: Caller<'_, String>, x: u32| -> wasmtime::Result<()> {
                caller.data_mut().push_str(&x.to_string());
                Ok(())
            },
        )?;
    let module = Module::new(
        &engine,
        r#"(module
            (import "m" "none" (func $none))
            (import "m" "pair" (func $pair (param i32 i64) (result i64 i32)))
            (import "m" "fallible" (func $fallible (param f64) (result f64)))
            (import "m" "record" (func $record (param i32)))
            (func (export "run") (param f64) (result f64)
              call $none
              (call $pair (i32.const 4) (i64.const 2))
              call $record
              drop
              (call $fallible (local.get 0))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<f64, f64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, 16.0)?, 4.0);
    assert_eq!(store.data(), "4");
    let err = run.call(&mut store, -1.0).unwrap_err();
    assert!(format!("{err:?}").contains("negative"));
    let f: Func = linker
        .get(&mut store, "m", "pair")
        .unwrap()
        .into_func()
        .unwrap();
    assert_eq!(
        f.typed::<(i32, i64), (i64, i32)>(&store)?
            .call(&mut store, (1, 2))?,
        (2, 1)
    );
    Ok(())
}

#[test]
fn linker_iter_and_get_by_import() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("a", "f", || 1i32)?;
    linker.func_wrap("b", "g", |x: i64| x)?;
    let mut seen: Vec<(String, String, bool)> = linker
        .iter(&mut store)
        .map(|(m, n, e)| (m.to_string(), n.to_string(), e.into_func().is_some()))
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("a".to_string(), "f".to_string(), true),
            ("b".to_string(), "g".to_string(), true)
        ]
    );
    let module = Module::new(
        &engine,
        r#"(module (import "a" "f" (func (result i32))) (import "x" "y" (func)))"#,
    )?;
    let imports: Vec<_> = module.imports().collect();
    let f = linker.get_by_import(&mut store, &imports[0]).unwrap();
    assert_eq!(
        f.into_func()
            .unwrap()
            .typed::<(), i32>(&store)?
            .call(&mut store, ())?,
        1
    );
    assert!(linker.get_by_import(&mut store, &imports[1]).is_none());
    // WasmBacktrace::capture is callable from host functions.
    let bt = wasmtime::WasmBacktrace::capture(&store);
    assert!(bt.frames().is_empty());
    Ok(())
}

/// `Linker::module` as in Wasmtime: a command's exports each run in a fresh instance; a
/// reactor is instantiated once and initialized through `_initialize`.
#[test]
fn linker_module_commands_and_reactors() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Vec::<i32>::new());
    let mut linker = Linker::new(&engine);
    linker.func_wrap(
        "host",
        "record",
        |mut caller: Caller<'_, Vec<i32>>, v: i32| {
            caller.data_mut().push(v);
        },
    )?;
    // A reactor: `_initialize` runs once, at definition; its state persists across calls.
    let reactor = Module::new(
        &engine,
        r#"(module
            (global $g (mut i32) (i32.const 0))
            (func (export "_initialize") (global.set $g (i32.const 40)))
            (func (export "next") (result i32)
              (global.set $g (i32.add (global.get $g) (i32.const 1)))
              (global.get $g)))"#,
    )?;
    linker.module(&mut store, "reactor", &reactor)?;
    let next = linker
        .get(&mut store, "reactor", "next")
        .unwrap()
        .into_func()
        .unwrap()
        .typed::<(), i32>(&store)?;
    assert_eq!(next.call(&mut store, ())?, 41);
    assert_eq!(next.call(&mut store, ())?, 42);

    // A command: every call of an export starts from a fresh instance.
    let command = Module::new(
        &engine,
        r#"(module
            (import "host" "record" (func $record (param i32)))
            (import "reactor" "next" (func $next (result i32)))
            (global $runs (mut i32) (i32.const 0))
            (func (export "_start")
              (global.set $runs (i32.add (global.get $runs) (i32.const 1)))
              (call $record (global.get $runs))
              (call $record (call $next))))"#,
    )?;
    linker.module(&mut store, "cmd", &command)?;
    let start = linker
        .get_default(&mut store, "cmd")?
        .typed::<(), ()>(&store)?;
    start.call(&mut store, ())?;
    start.call(&mut store, ())?;
    assert_eq!(store.data().as_slice(), [1, 43, 1, 44]);

    // A module that is both is refused.
    let both = Module::new(
        &engine,
        r#"(module (func (export "_start")) (func (export "_initialize")))"#,
    )?;
    assert!(linker.module(&mut store, "both", &both).is_err());
    Ok(())
}

#[test]
fn unknown_imports_are_unknown_import_errors() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "f" (func (param i32) (result i64)))
            (import "env" "g" (global i32)))"#,
    )?;
    let linker = Linker::new(&engine);
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unknown import: `env::f` has not been defined"
    );
    let unknown = err
        .downcast_ref::<wasmtime::UnknownImportError>()
        .expect("an UnknownImportError");
    assert_eq!(unknown.module(), "env");
    assert_eq!(unknown.name(), "f");
    let ty = unknown.ty();
    let ty = ty.unwrap_func();
    assert_eq!(ty.params().collect::<Vec<_>>(), [ValType::I32]);
    assert_eq!(ty.results().collect::<Vec<_>>(), [ValType::I64]);

    // Traps for functions: calling one fails with the same error.
    let mut linker = Linker::new(&engine);
    linker.define_unknown_imports_as_traps(&module)?;
    let err = linker.instantiate(&mut store, &module).unwrap_err();
    assert_eq!(
        err.downcast_ref::<wasmtime::UnknownImportError>()
            .unwrap()
            .name(),
        "g"
    );
    let g_ty = wasmtime::GlobalType::new(ValType::I32, wasmtime::Mutability::Const);
    let g = wasmtime::Global::new(&mut store, g_ty, Val::I32(1))?;
    linker.define(&store, "env", "g", g)?;
    linker.instantiate(&mut store, &module)?;
    let f = linker.get(&mut store, "env", "f")?.into_func().unwrap();
    let err = f
        .call(&mut store, &[Val::I32(1)], &mut [Val::I64(0)])
        .unwrap_err();
    let unknown = err.downcast_ref::<wasmtime::UnknownImportError>().unwrap();
    assert_eq!((unknown.module(), unknown.name()), ("env", "f"));
    Ok(())
}

#[test]
fn unknown_imports_as_default_values() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "f" (func $f (param i32) (result i32 f64 funcref)))
            (import "env" "g" (global $g (mut i64)))
            (import "env" "t" (table $t 3 funcref))
            (import "env" "m" (memory $m 2))
            (func (export "run") (result i32 f64 i32 i64 i32 i32)
              (call $f (i32.const 9))
              ref.is_null
              global.get $g
              table.size $t
              memory.size))"#,
    )?;
    let mut linker = Linker::new(&engine);
    linker.define_unknown_imports_as_default_values(&mut store, &module)?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), (i32, f64, i32, i64, i32, i32)>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, (0, 0.0, 1, 0, 3, 2));

    // A non-nullable result has no default.
    let module = Module::new(
        &engine,
        r#"(module (type $t (func)) (import "env" "h" (func (result (ref $t)))))"#,
    )?;
    let err = Linker::new(&engine)
        .define_unknown_imports_as_default_values(&mut store, &module)
        .unwrap_err();
    assert!(
        format!("{err:?}").contains("function results do not have a default value"),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .starts_with("no default value exists for `env::h`"),
        "{err}"
    );
    Ok(())
}

#[test]
fn alias_and_unknown_exports_of_commands() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let mut linker = Linker::new(&engine);
    linker.func_wrap("a", "seven", || 7i32)?;
    linker.alias("a", "seven", "b", "sept")?;
    let seven = linker.get(&mut store, "b", "sept")?.into_func().unwrap();
    assert_eq!(seven.typed::<(), i32>(&store)?.call(&mut store, ())?, 7);
    let err = linker.alias("a", "eight", "b", "huit").err().unwrap();
    assert_eq!(err.to_string(), "no item named `a::eight` defined");
    assert!(
        linker.alias("a", "seven", "b", "sept").is_err(),
        "shadowing"
    );

    let command = Module::new(
        &engine,
        r#"(module
            (memory (export "memory") 1)
            (global (export "answer") i32 (i32.const 42))
            (func (export "_start")))"#,
    )?;
    let err = linker.module(&mut store, "cmd", &command).err().unwrap();
    assert_eq!(err.to_string(), "command export 'answer' is not a function");
    linker.allow_unknown_exports(true);
    linker.module(&mut store, "cmd", &command)?;
    assert!(linker.get(&mut store, "cmd", "_start").is_ok());
    Ok(())
}

#[test]
fn unchecked_host_functions_use_raw_slots() -> wasmtime::Result<()> {
    use std::mem::MaybeUninit;
    use wasmtime::ValRaw;
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let ty = FuncType::new(&engine, [ValType::I32, ValType::I64], [ValType::I64]);
    let mut linker = Linker::new(&engine);
    // SAFETY: writes an i64 into the one result slot.
    unsafe {
        linker.func_new_unchecked(
            "host",
            "add",
            ty.clone(),
            |mut caller: Caller<'_, u32>, slots: &mut [MaybeUninit<ValRaw>]| {
                assert_eq!(slots.len(), 2);
                *caller.data_mut() += 1;
                let a = slots[0].assume_init().get_i32() as i64;
                let b = slots[1].assume_init().get_i64();
                slots[0].write(ValRaw::i64(a + b));
                Ok(())
            },
        )?;
    }
    let module = Module::new(
        &engine,
        r#"(module (import "host" "add" (func $add (param i32 i64) (result i64)))
            (func (export "run") (result i64) (call $add (i32.const 40) (i64.const 2))))"#,
    )?;
    let instance = linker.instantiate(&mut store, &module)?;
    let run = instance.get_typed_func::<(), i64>(&mut store, "run")?;
    assert_eq!(run.call(&mut store, ())?, 42);
    assert_eq!(*store.data(), 1);

    // SAFETY: writes an i64 into the one result slot.
    let neg = unsafe {
        Func::new_unchecked(&mut store, ty, |_, slots| {
            let a = slots[0].assume_init().get_i32() as i64;
            slots[0].write(ValRaw::i64(-a - slots[1].assume_init().get_i64()));
            Ok(())
        })
    };
    let typed = neg.typed::<(i32, i64), i64>(&store)?;
    assert_eq!(typed.call(&mut store, (3, 4))?, -7);
    Ok(())
}

#[test]
fn module_exports_located_once() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let wat = r#"(module
        (import "host" "peek" (func $peek))
        (global (export "g") i32 (i32.const 5))
        (memory (export "m") 1)
        (func (export "f") (result i32) (call $peek) (i32.const 1)))"#;
    let module = Module::new(&engine, wat)?;
    let g = module.get_export_index("g").unwrap();
    let f = module.get_export_index("f").unwrap();
    assert!(module.get_export_index("nope").is_none());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "peek", move |mut caller: Caller<'_, u32>| {
        let global = caller.get_module_export(&g).unwrap().into_global().unwrap();
        *caller.data_mut() = global.get(&mut caller).unwrap_i32() as u32;
    })?;
    let a = linker.instantiate(&mut store, &module)?;
    let b = linker.instantiate(&mut store, &module)?;
    let fa = a
        .get_module_export(&mut store, &f)
        .unwrap()
        .into_func()
        .unwrap();
    let fb = b
        .get_module_export(&mut store, &f)
        .unwrap()
        .into_func()
        .unwrap();
    assert_ne!(fa, fb);
    assert_eq!(fa.typed::<(), i32>(&store)?.call(&mut store, ())?, 1);
    assert_eq!(*store.data(), 5);
    // An export of the same text compiled again is another module's.
    let other = Module::new(&engine, wat)?;
    let c = linker.instantiate(&mut store, &other)?;
    assert!(c.get_module_export(&mut store, &f).is_none());
    assert!(c
        .get_module_export(&mut store, &other.get_export_index("m").unwrap())
        .unwrap()
        .into_memory()
        .is_some());
    Ok(())
}
