//! Programs written against Wasmtime's embedding API (hello, gcd, multi-value, dynamic
//! functions, types, exports, errors), compiled against wasmjit by renaming the crate.

use wasmjit as wasmtime;

use wasmtime::{
    AsContext, AsContextMut, Caller, Engine, Extern, Func, FuncType, Instance, Linker, Module,
    Store, Trap, TypedFunc, Val, ValType, WasmBacktrace,
};

struct HostState {
    greeted: Vec<String>,
    calls: u32,
}

#[test]
fn hello_with_a_host_import() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "greet" (func $greet (param i32 i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello, world")
            (func (export "run") (call $greet (i32.const 16) (i32.const 12))))"#,
    )?;
    let mut store = Store::new(
        &engine,
        HostState {
            greeted: Vec::new(),
            calls: 0,
        },
    );
    let greet = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> wasmtime::Result<()> {
            let memory = match caller.get_export("memory") {
                Some(Extern::Memory(m)) => m,
                _ => anyhow::bail!("no memory export"),
            };
            let bytes = memory
                .data(&caller)
                .get(ptr as usize..(ptr + len) as usize)
                .ok_or_else(|| anyhow::anyhow!("out of bounds"))?;
            let text = String::from_utf8(bytes.to_vec())?;
            caller.data_mut().greeted.push(text);
            caller.data_mut().calls += 1;
            Ok(())
        },
    );
    let instance = Instance::new(&mut store, &module, &[greet.into()])?;
    let run = instance.get_typed_func::<(), ()>(&mut store, "run")?;
    run.call(&mut store, ())?;
    run.call(&mut store, ())?;
    assert_eq!(store.data().calls, 2);
    let state = store.into_data();
    assert_eq!(state.greeted, vec!["hello, world", "hello, world"]);
    Ok(())
}

const GCD: &str = r#"(module
  (func $gcd (export "gcd") (param i32 i32) (result i32)
    (local i32)
    block
      block
        local.get 0
        br_if 0
        local.get 1
        local.set 2
        br 1
      end
      loop
        local.get 1
        local.get 0
        local.tee 2
        i32.rem_u
        local.set 0
        local.get 2
        local.set 1
        local.get 0
        br_if 0
      end
    end
    local.get 2))"#;

#[test]
fn gcd_through_a_typed_func() -> wasmtime::Result<()> {
    let mut store = Store::<()>::default();
    let module = Module::new(store.engine(), GCD)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let gcd: TypedFunc<(i32, i32), i32> = instance.get_typed_func(&mut store, "gcd")?;
    assert_eq!(gcd.call(&mut store, (6, 27))?, 3);
    assert_eq!(gcd.call(&mut store, (0, 5))?, 5);
    // The untyped way, and `Func::typed`.
    let f = instance.get_func(&mut store, "gcd").expect("export");
    let mut results = [Val::I32(0)];
    f.call(&mut store, &[Val::I32(48), Val::I32(18)], &mut results)?;
    assert_eq!(results[0].unwrap_i32(), 6);
    assert_eq!(results[0].i32(), Some(6));
    let again = f.typed::<(i32, i32), i32>(&store)?;
    assert_eq!(again.call(&mut store, (100, 75))?, 25);
    Ok(())
}

#[test]
fn multi_value_typed_and_dynamic() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "" "swap" (func $swap (param i32 i64) (result i64 i32)))
            (func (export "g") (param i32 i64) (result i64 i32)
              (call $swap (local.get 0) (local.get 1)))
            (func (export "round_trip") (param i64 i32 f32 f64) (result f64 f32 i32 i64)
              local.get 3 local.get 2 local.get 1 local.get 0))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let swap_ty = FuncType::new(
        &engine,
        [ValType::I32, ValType::I64],
        [ValType::I64, ValType::I32],
    );
    let swap = Func::new(&mut store, swap_ty, |_caller, params, results| {
        let a = params[0].unwrap_i32();
        let b = params[1].unwrap_i64();
        results[0] = Val::I64(b + 1);
        results[1] = Val::I32(a + 1);
        Ok(())
    });
    let instance = Instance::new(&mut store, &module, &[swap.into()])?;
    let g = instance.get_typed_func::<(i32, i64), (i64, i32)>(&mut store, "g")?;
    assert_eq!(g.call(&mut store, (1, 2))?, (3, 2));

    let rt = instance
        .get_typed_func::<(i64, i32, f32, f64), (f64, f32, i32, i64)>(&mut store, "round_trip")?;
    assert_eq!(rt.call(&mut store, (1, 2, 3.5, 4.25))?, (4.25, 3.5, 2, 1));

    let dynamic = instance.get_func(&mut store, "round_trip").unwrap();
    let ty = dynamic.ty(&store);
    assert_eq!(ty.params().len(), 4);
    assert_eq!(ty.results().len(), 4);
    assert!(matches!(ty.params().next(), Some(ValType::I64)));
    assert!(matches!(ty.results().next(), Some(ValType::F64)));
    let mut out = vec![Val::I32(0); 4];
    dynamic.call(
        &mut store,
        &[
            Val::I64(9),
            Val::I32(8),
            Val::F32(7.0f32.to_bits()),
            Val::F64(6.0f64.to_bits()),
        ],
        &mut out,
    )?;
    assert_eq!(out[0].unwrap_f64(), 6.0);
    assert_eq!(out[1].unwrap_f32(), 7.0);
    assert_eq!(out[2].unwrap_i32(), 8);
    assert_eq!(out[3].unwrap_i64(), 9);
    Ok(())
}

#[test]
fn wrong_types_are_errors_not_panics() -> wasmtime::Result<()> {
    let mut store = Store::<()>::default();
    let module = Module::new(store.engine(), GCD)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    assert!(instance
        .get_typed_func::<(i64, i64), i64>(&mut store, "gcd")
        .is_err());
    assert!(instance
        .get_typed_func::<i32, i32>(&mut store, "gcd")
        .is_err());
    assert!(instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "nope")
        .is_err());
    let f = instance.get_func(&mut store, "gcd").unwrap();
    let mut one = [Val::I32(0)];
    // Too few arguments, wrong argument type, too few result slots.
    assert!(f.call(&mut store, &[Val::I32(1)], &mut one).is_err());
    assert!(f
        .call(&mut store, &[Val::I32(1), Val::I64(2)], &mut one)
        .is_err());
    assert!(f
        .call(&mut store, &[Val::I32(1), Val::I32(2)], &mut [])
        .is_err());
    // Instantiation with a missing import is an error too.
    let importing = Module::new(store.engine(), r#"(module (import "m" "f" (func)))"#)?;
    assert!(Instance::new(&mut store, &importing, &[]).is_err());
    let wrong = Func::wrap(&mut store, |x: i32| x);
    assert!(Instance::new(&mut store, &importing, &[wrong.into()]).is_err());
    // Bad modules are errors.
    assert!(Module::new(store.engine(), "(module (func (result i32)))").is_err());
    assert!(Module::new(store.engine(), b"\0asm\x02\0\0\0").is_err());
    Ok(())
}

#[test]
fn traps_downcast_display_and_backtrace() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $m
            (func $inner (export "div") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.div_s)
            (func $outer (export "boom") unreachable)
            (func (export "host_fails") (call $fail))
            (import "host" "fail" (func $fail)))"#,
    );
    // Imports must come first: this module is invalid.
    assert!(module.is_err());
    let module = Module::new(
        &engine,
        r#"(module $m
            (import "host" "fail" (func $fail))
            (func $inner (export "div") (param i32 i32) (result i32)
              local.get 0 local.get 1 i32.div_s)
            (func $outer (export "boom") unreachable)
            (func $calls_host (export "host_fails") (call $fail)))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let mut linker = Linker::new(&engine);
    linker.func_wrap("host", "fail", || -> wasmtime::Result<()> {
        Err(anyhow::anyhow!("the host said no"))
    })?;
    let instance = linker.instantiate(&mut store, &module)?;

    let div = instance.get_typed_func::<(i32, i32), i32>(&mut store, "div")?;
    let err = div.call(&mut store, (1, 0)).unwrap_err();
    assert_eq!(
        err.downcast_ref::<Trap>(),
        Some(&Trap::IntegerDivisionByZero)
    );
    assert!(format!("{err:?}").contains("divide by zero"), "{err:?}");
    let bt = err.downcast_ref::<WasmBacktrace>().expect("backtrace");
    assert_eq!(bt.frames()[0].func_name(), Some("inner"));
    assert_eq!(bt.frames()[0].module_name(), Some("m"));
    assert_eq!(bt.frames()[0].module().name(), Some("m"));
    assert!(bt.frames()[0].func_offset().is_some());
    let err = div.call(&mut store, (i32::MIN, -1)).unwrap_err();
    assert_eq!(err.downcast::<Trap>()?, Trap::IntegerOverflow);

    let boom = instance.get_typed_func::<(), ()>(&mut store, "boom")?;
    let err = boom.call(&mut store, ()).unwrap_err();
    let trap = *err.downcast_ref::<Trap>().unwrap();
    assert_eq!(trap, Trap::UnreachableCodeReached);
    assert!(trap.to_string().contains("unreachable"));

    let host = instance.get_typed_func::<(), ()>(&mut store, "host_fails")?;
    let err = host.call(&mut store, ()).unwrap_err();
    assert!(err.downcast_ref::<Trap>().is_none());
    assert!(format!("{err:?}").contains("the host said no"));
    let frames: Vec<_> = err
        .downcast_ref::<WasmBacktrace>()
        .unwrap()
        .frames()
        .iter()
        .map(|f| f.func_name().map(str::to_string))
        .collect();
    assert!(
        frames.contains(&Some("calls_host".to_string())),
        "{frames:?}"
    );
    // The store stays usable after traps.
    assert_eq!(div.call(&mut store, (9, 3))?, 3);

    // The backtrace reads like Wasmtime's: `<module>!<function>`, `<unknown>` for a module
    // without a name, the message of the trap as the cause.
    let shown = format!("{:?}", div.call(&mut store, (1, 0)).unwrap_err());
    assert!(
        shown.starts_with("error while executing at wasm backtrace:\n"),
        "{shown}"
    );
    assert!(shown.contains(" - m!inner"), "{shown}");
    assert!(
        shown.contains("\n\nCaused by:\n    wasm trap: integer divide by zero"),
        "{shown}"
    );
    let unnamed = Module::new(&engine, r#"(module (func (export "f") unreachable))"#)?;
    let instance = Instance::new(&mut store, &unnamed, &[])?;
    let f = instance.get_typed_func::<(), ()>(&mut store, "f")?;
    let shown = format!("{:?}", f.call(&mut store, ()).unwrap_err());
    assert!(shown.contains(" - <unknown>!<wasm function 0>"), "{shown}");
    Ok(())
}

#[test]
fn exports_imports_and_extern_conversions() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "f" (func (param i32)))
            (import "env" "mem" (memory 1))
            (import "env" "g" (global (mut i64)))
            (import "env" "t" (table 2 funcref))
            (func (export "run") (result i32) i32.const 7)
            (global (export "answer") i32 (i32.const 42))
            (table (export "tab") 3 funcref)
            (memory (export "own") 2 5))"#,
    )?;
    let imports: Vec<(String, String)> = module
        .imports()
        .map(|i| (i.module().to_string(), i.name().to_string()))
        .collect();
    assert_eq!(imports.len(), 4);
    assert_eq!(imports[1], ("env".to_string(), "mem".to_string()));
    let kinds: Vec<bool> = module.imports().map(|i| i.ty().func().is_some()).collect();
    assert_eq!(kinds, [true, false, false, false]);
    let mem_import = module.imports().nth(1).unwrap().ty();
    assert_eq!(mem_import.unwrap_memory().minimum(), 1);
    let exports: Vec<&str> = module.exports().map(|e| e.name()).collect();
    assert_eq!(exports, ["run", "answer", "tab", "own"]);
    let own = module.get_export("own").unwrap();
    assert_eq!(own.memory().unwrap().maximum(), Some(5));
    match module.get_export("answer") {
        Some(wasmtime::ExternType::Global(g)) => {
            assert!(matches!(g.content(), ValType::I32));
            assert_eq!(g.mutability(), wasmtime::Mutability::Const);
        }
        other => panic!("unexpected {other:?}"),
    }

    // Satisfy the imports by hand and look at the instance's exports.
    let mut store = Store::new(&engine, ());
    let f = Func::wrap(&mut store, |_: i32| {});
    let mem = wasmtime::Memory::new(&mut store, wasmtime::MemoryType::new(1, None))?;
    let g = wasmtime::Global::new(
        &mut store,
        wasmtime::GlobalType::new(ValType::I64, wasmtime::Mutability::Var),
        Val::I64(0),
    )?;
    let t = wasmtime::Table::new(
        &mut store,
        wasmtime::TableType::new(wasmtime::RefType::FUNCREF, 2, None),
        wasmtime::Ref::Func(None),
    )?;
    let instance = Instance::new(
        &mut store,
        &module,
        &[f.into(), mem.into(), g.into(), t.into()],
    )?;
    let names: Vec<String> = instance
        .exports(&mut store)
        .map(|e| e.name().to_string())
        .collect();
    assert_eq!(names, ["run", "answer", "tab", "own"]);
    let run = instance.get_export(&mut store, "run").unwrap();
    assert!(instance
        .get_export(&mut store, "run")
        .unwrap()
        .into_memory()
        .is_none());
    let run = run.into_func().unwrap();
    assert_eq!(run.typed::<(), i32>(&store)?.call(&mut store, ())?, 7);
    let answer = instance
        .get_export(&mut store, "answer")
        .and_then(Extern::into_global)
        .unwrap();
    assert_eq!(answer.get(&mut store).i32(), Some(42));
    assert!(instance.get_export(&mut store, "missing").is_none());
    let tab = instance.get_table(&mut store, "tab").unwrap();
    assert_eq!(tab.size(&store), 3);
    let own = instance.get_memory(&mut store, "own").unwrap();
    assert_eq!(own.size(&store), 2);
    assert!(matches!(
        instance.get_export(&mut store, "own").unwrap().ty(&store),
        wasmtime::ExternType::Memory(_)
    ));
    Ok(())
}

// Generic helpers over contexts, as Wasmtime users write them.
fn bump_counter(mut store: impl AsContextMut<Data = HostState>) -> u32 {
    let mut cx = store.as_context_mut();
    cx.data_mut().calls += 1;
    cx.data().calls
}

fn read_counter(store: impl AsContext<Data = HostState>) -> u32 {
    store.as_context().data().calls
}

fn call_gcd<T>(mut store: impl AsContextMut<Data = T>, f: Func, a: i32, b: i32) -> i32 {
    let typed = f.typed::<(i32, i32), i32>(&store).unwrap();
    typed.call(&mut store, (a, b)).unwrap()
}

#[test]
fn context_traits_in_generic_code() -> wasmtime::Result<()> {
    let engine = Engine::default();
    let mut store = Store::new(
        &engine,
        HostState {
            greeted: vec![],
            calls: 0,
        },
    );
    assert_eq!(bump_counter(&mut store), 1);
    assert_eq!(bump_counter(store.as_context_mut()), 2);
    assert_eq!(read_counter(&store), 2);
    assert_eq!(read_counter(store.as_context()), 2);

    let module = Module::new(&engine, GCD)?;
    let instance = Instance::new(&mut store, &module, &[])?;
    let gcd = instance.get_func(&mut store, "gcd").unwrap();
    assert_eq!(call_gcd(&mut store, gcd, 12, 18), 6);

    // Host functions can use the helpers with their caller.
    let counting = Func::wrap(&mut store, |mut caller: Caller<'_, HostState>| -> u32 {
        bump_counter(&mut caller);
        read_counter(&caller)
    });
    let f = counting.typed::<(), u32>(&store)?;
    assert_eq!(f.call(&mut store, ())?, 3);
    assert_eq!(store.data().calls, 3);
    Ok(())
}

#[test]
fn vals_and_valtypes() -> wasmtime::Result<()> {
    let mut store = Store::<()>::default();
    let v = Val::from(5i32);
    assert!(matches!(v.ty(&store).unwrap(), ValType::I32));
    assert_eq!(Val::from(1.5f32).unwrap_f32(), 1.5);
    assert_eq!(Val::from(2.5f64).f64(), Some(2.5));
    assert_eq!(Val::I64(3).i32(), None);
    assert!(ValType::I32.is_num());
    assert!(ValType::EXTERNREF.is_ref());
    assert!(ValType::FUNCREF.is_ref());
    assert_eq!(ValType::FUNCREF.to_string(), "funcref");
    let rt = wasmtime::RefType::new(false, wasmtime::HeapType::Func);
    assert!(!rt.is_nullable());
    assert!(rt.matches(&wasmtime::RefType::FUNCREF));
    assert!(!wasmtime::RefType::FUNCREF.matches(&rt));
    assert!(matches!(rt.heap_type(), wasmtime::HeapType::Func));
    assert!(Val::null_func_ref().funcref().unwrap().is_none());
    assert!(Val::null_extern_ref().externref().unwrap().is_none());
    let f = Func::wrap(&mut store, || 1i64);
    let fv = Val::FuncRef(Some(f));
    assert!(fv.matches_ty(&store, &ValType::FUNCREF)?);
    assert!(!fv.matches_ty(&store, &ValType::I64)?);
    assert!(Val::default_for_ty(&ValType::I64).unwrap().i64() == Some(0));
    let ty = f.ty(&store);
    assert!(matches!(ty.results().next(), Some(ValType::I64)));
    assert_eq!(ty.to_string(), "(func (result i64))");
    Ok(())
}

#[test]
fn module_validate_name_and_engine() -> wasmtime::Result<()> {
    let engine =
        Engine::new(wasmtime::Config::new().cranelift_opt_level(wasmtime::OptLevel::Speed))?;
    let wasm = wat::parse_str("(module $named (func (export \"f\")))")?;
    Module::validate(&engine, &wasm)?;
    assert!(Module::validate(&engine, b"garbage").is_err());
    let module = Module::from_binary(&engine, &wasm)?;
    assert_eq!(module.name(), Some("named"));
    assert!(Engine::same(module.engine(), &engine));
    let clone = engine.clone();
    assert!(Engine::same(&clone, &engine));
    Ok(())
}
