//! Host functions: `Func::wrap` over many signatures (no parameters, up to 16 mixed
//! parameters, multi-value results, a leading `Caller` reaching store data and the caller's
//! memory), `Func::new` with `Val`s, host errors and panics crossing wasm frames intact while
//! the store stays usable, re-entry into wasm from a host function, and the `Linker`
//! (`func_wrap`, `instance`, `instantiate_pre` across stores, shadowing rules).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex};
use wasmjit::*;

fn instantiate<T>(store: &mut Store<T>, wat: &str, imports: &[Extern]) -> Instance {
    let module = Module::new(store.engine(), wat).unwrap();
    Instance::new(store, &module, imports).unwrap()
}

#[test]
fn wrap_with_no_params_is_callable_from_host_and_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let answer = Func::wrap(&mut store, || 42i32);
    assert_eq!(answer.ty(&store), FuncType::from_types([], [ValType::I32]));
    let typed = answer.typed::<(), i32>(&store).unwrap();
    assert_eq!(typed.call(&mut store, ()).unwrap(), 42);

    let instance = instantiate(
        &mut store,
        r#"(module (import "" "answer" (func $a (result i32)))
            (func (export "twice") (result i32) call $a call $a i32.add))"#,
        &[answer.into()],
    );
    let twice = instance
        .get_typed_func::<(), i32>(&mut store, "twice")
        .unwrap();
    assert_eq!(twice.call(&mut store, ()).unwrap(), 84);
}

#[test]
fn wrap_with_no_params_and_no_results_runs_for_side_effects() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let hits = Arc::new(Mutex::new(0));
    let h = hits.clone();
    let bump = Func::wrap(&mut store, move || *h.lock().unwrap() += 1);
    let instance = instantiate(
        &mut store,
        r#"(module (import "" "bump" (func $b))
            (func (export "run") call $b call $b call $b))"#,
        &[bump.into()],
    );
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    assert_eq!(*hits.lock().unwrap(), 3);
}

#[test]
fn wrap_single_params_of_each_type_round_trip_through_wasm() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let imports = [
        Func::wrap(&mut store, |x: i32| x.wrapping_mul(3)).into(),
        Func::wrap(&mut store, |x: i64| x.wrapping_mul(3)).into(),
        Func::wrap(&mut store, |x: f32| x * 3.0).into(),
        Func::wrap(&mut store, |x: f64| x * 3.0).into(),
        Func::wrap(&mut store, |x: u32| x / 2).into(),
        Func::wrap(&mut store, |x: u64| x / 2).into(),
    ];
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "i32" (func $i32 (param i32) (result i32)))
            (import "" "i64" (func $i64 (param i64) (result i64)))
            (import "" "f32" (func $f32 (param f32) (result f32)))
            (import "" "f64" (func $f64 (param f64) (result f64)))
            (import "" "u32" (func $u32 (param i32) (result i32)))
            (import "" "u64" (func $u64 (param i64) (result i64)))
            (func (export "i32") (param i32) (result i32) local.get 0 call $i32)
            (func (export "i64") (param i64) (result i64) local.get 0 call $i64)
            (func (export "f32") (param f32) (result f32) local.get 0 call $f32)
            (func (export "f64") (param f64) (result f64) local.get 0 call $f64)
            (func (export "u32") (param i32) (result i32) local.get 0 call $u32)
            (func (export "u64") (param i64) (result i64) local.get 0 call $u64))"#,
        &imports,
    );
    let i32f = instance
        .get_typed_func::<i32, i32>(&mut store, "i32")
        .unwrap();
    let i64f = instance
        .get_typed_func::<i64, i64>(&mut store, "i64")
        .unwrap();
    let f32f = instance
        .get_typed_func::<f32, f32>(&mut store, "f32")
        .unwrap();
    let f64f = instance
        .get_typed_func::<f64, f64>(&mut store, "f64")
        .unwrap();
    let u32f = instance
        .get_typed_func::<u32, u32>(&mut store, "u32")
        .unwrap();
    let u64f = instance
        .get_typed_func::<u64, u64>(&mut store, "u64")
        .unwrap();
    assert_eq!(i32f.call(&mut store, -7).unwrap(), -21);
    assert_eq!(
        i32f.call(&mut store, i32::MAX).unwrap(),
        i32::MAX.wrapping_mul(3)
    );
    assert_eq!(i64f.call(&mut store, 1 << 40).unwrap(), 3 << 40);
    assert_eq!(f32f.call(&mut store, 1.5).unwrap(), 4.5);
    assert_eq!(f64f.call(&mut store, -0.25).unwrap(), -0.75);
    // Unsigned types see the full bit pattern, not a sign-extended one.
    assert_eq!(u32f.call(&mut store, u32::MAX).unwrap(), u32::MAX / 2);
    assert_eq!(u64f.call(&mut store, u64::MAX).unwrap(), u64::MAX / 2);
    // NaN payloads and negative zero pass unchanged.
    let nan = f64::from_bits(0x7ff4_0000_0000_0001);
    let out = f64f.call(&mut store, nan).unwrap();
    assert!(out.is_nan());
    assert_eq!(
        f32f.call(&mut store, -0.0).unwrap().to_bits(),
        (-0.0f32).to_bits()
    );
}

/// Records every argument of a 16-parameter host function as an f64.
type Log = Arc<Mutex<Vec<Vec<f64>>>>;

#[test]
fn wrap_sixteen_mixed_params_arrive_in_order() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let log: Log = Arc::default();
    let l = log.clone();
    let sixteen = Func::wrap(
        &mut store,
        move |a: i32,
              b: i64,
              c: f32,
              d: f64,
              e: i32,
              f: i64,
              g: f32,
              h: f64,
              i: i32,
              j: i64,
              k: f32,
              m: f64,
              n: i32,
              o: i64,
              p: f32,
              q: f64| {
            let all = vec![
                a as f64, b as f64, c as f64, d, e as f64, f as f64, g as f64, h, i as f64,
                j as f64, k as f64, m, n as f64, o as f64, p as f64, q,
            ];
            let weighted: f64 = all
                .iter()
                .enumerate()
                .map(|(i, v)| v * (i + 1) as f64)
                .sum();
            l.lock().unwrap().push(all);
            weighted
        },
    );
    let ty = sixteen.ty(&store);
    assert_eq!(ty.params().len(), 16);
    assert_eq!(ty.param(13), Some(ValType::I64));
    assert_eq!(ty.param(14), Some(ValType::F32));
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "sixteen" (func $s (param i32 i64 f32 f64 i32 i64 f32 f64
                                                i32 i64 f32 f64 i32 i64 f32 f64)
                                          (result f64)))
            (func (export "run") (result f64)
              i32.const 1 i64.const 2 f32.const 3 f64.const 4
              i32.const 5 i64.const 6 f32.const 7 f64.const 8
              i32.const 9 i64.const 10 f32.const 11 f64.const 12
              i32.const -13 i64.const -14 f32.const -15.5 f64.const -16.25
              call $s))"#,
        &[sixteen.into()],
    );
    let run = instance
        .get_typed_func::<(), f64>(&mut store, "run")
        .unwrap();
    let expected_args = [
        1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, -13.0, -14.0, -15.5, -16.25,
    ];
    let expected_sum: f64 = expected_args
        .iter()
        .enumerate()
        .map(|(i, v)| v * (i + 1) as f64)
        .sum();
    assert_eq!(run.call(&mut store, ()).unwrap(), expected_sum);
    assert_eq!(log.lock().unwrap().last().unwrap(), &expected_args);

    // The same function called directly from the host through a typed view.
    type P16 = (
        i32,
        i64,
        f32,
        f64,
        i32,
        i64,
        f32,
        f64,
        i32,
        i64,
        f32,
        f64,
        i32,
        i64,
        f32,
        f64,
    );
    let direct = sixteen.typed::<P16, f64>(&store).unwrap();
    let args: P16 = (
        1, 2, 3.0, 4.0, 5, 6, 7.0, 8.0, 9, 10, 11.0, 12.0, -13, -14, -15.5, -16.25,
    );
    assert_eq!(direct.call(&mut store, args).unwrap(), expected_sum);
    assert_eq!(log.lock().unwrap().len(), 2);
    assert_eq!(log.lock().unwrap()[1], expected_args);
}

#[test]
fn wrap_intermediate_arities() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let imports = [
        Func::wrap(&mut store, |a: i32, b: i64| a as i64 * 100 + b).into(),
        Func::wrap(&mut store, |a: f64, b: i32, c: f32| {
            a * 100.0 + b as f64 * 10.0 + c as f64
        })
        .into(),
        Func::wrap(
            &mut store,
            |a: i64, b: i64, c: i64, d: i64, e: i64, f: i64, g: i64| {
                [a, b, c, d, e, f, g]
                    .iter()
                    .fold(0i64, |acc, x| acc * 10 + x)
            },
        )
        .into(),
        Func::wrap(
            &mut store,
            |a: f32, b: f32, c: f32, d: f32, e: f32, f: f32, g: f32, h: f32, i: f32| {
                [a, b, c, d, e, f, g, h, i]
                    .iter()
                    .fold(0f64, |acc, x| acc * 10.0 + *x as f64)
            },
        )
        .into(),
    ];
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "two" (func $two (param i32 i64) (result i64)))
            (import "" "three" (func $three (param f64 i32 f32) (result f64)))
            (import "" "seven" (func $seven (param i64 i64 i64 i64 i64 i64 i64) (result i64)))
            (import "" "nine" (func $nine (param f32 f32 f32 f32 f32 f32 f32 f32 f32)
                                          (result f64)))
            (func (export "two") (result i64) i32.const 7 i64.const 3 call $two)
            (func (export "three") (result f64) f64.const 1 i32.const 2 f32.const 3 call $three)
            (func (export "seven") (result i64)
              i64.const 1 i64.const 2 i64.const 3 i64.const 4 i64.const 5 i64.const 6
              i64.const 7 call $seven)
            (func (export "nine") (result f64)
              f32.const 1 f32.const 2 f32.const 3 f32.const 4 f32.const 5 f32.const 6
              f32.const 7 f32.const 8 f32.const 9 call $nine))"#,
        &imports,
    );
    let call_i64 = |store: &mut Store<()>, name: &str| {
        let f = instance
            .get_typed_func::<(), i64>(&mut *store, name)
            .unwrap();
        f.call(store, ()).unwrap()
    };
    assert_eq!(call_i64(&mut store, "two"), 703);
    assert_eq!(call_i64(&mut store, "seven"), 1234567);
    let three = instance
        .get_typed_func::<(), f64>(&mut store, "three")
        .unwrap();
    assert_eq!(three.call(&mut store, ()).unwrap(), 123.0);
    let nine = instance
        .get_typed_func::<(), f64>(&mut store, "nine")
        .unwrap();
    assert_eq!(nine.call(&mut store, ()).unwrap(), 123456789.0);
}

#[test]
fn wrap_returns_multiple_values_as_a_tuple() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let split = Func::wrap(&mut store, |x: i64| {
        ((x >> 32) as i32, x as i32, x as f32, (x as f64) / 2.0)
    });
    assert_eq!(
        split.ty(&store),
        FuncType::from_types(
            [ValType::I64],
            [ValType::I32, ValType::I32, ValType::F32, ValType::F64]
        )
    );
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "split" (func $split (param i64) (result i32 i32 f32 f64)))
            (func (export "pass") (param i64) (result i32 i32 f32 f64)
              local.get 0 call $split)
            ;; Uses the results on the wasm side: hi - lo, dropping the floats.
            (func (export "diff") (param i64) (result i32)
              (local $lo i32)
              local.get 0 call $split drop drop local.set $lo local.get $lo i32.sub))"#,
        &[split.into()],
    );
    let pass = instance
        .get_typed_func::<i64, (i32, i32, f32, f64)>(&mut store, "pass")
        .unwrap();
    let x = (5i64 << 32) | 9;
    assert_eq!(
        pass.call(&mut store, x).unwrap(),
        (5, 9, x as f32, x as f64 / 2.0)
    );
    let diff = instance
        .get_typed_func::<i64, i32>(&mut store, "diff")
        .unwrap();
    assert_eq!(diff.call(&mut store, x).unwrap(), -4);
    // Untyped view of the host function itself.
    let mut out = [Val::I32(0), Val::I32(0), Val::F32(0), Val::F64(0)];
    split.call(&mut store, &[Val::I64(-1)], &mut out).unwrap();
    assert_eq!(out[0].unwrap_i32(), -1);
    assert_eq!(out[1].unwrap_i32(), -1);
    assert_eq!(out[2].unwrap_f32(), -1.0);
    assert_eq!(out[3].unwrap_f64(), -0.5);
}

#[derive(Default)]
struct HostState {
    calls: u32,
    seen: Vec<String>,
}

#[test]
fn caller_reads_and_writes_store_data_and_the_callers_memory() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, HostState::default());
    // Reads the string at [ptr, ptr+len), records it, and upper-cases it in place.
    let shout = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, HostState>, ptr: i32, len: i32| -> Result<i32> {
            let memory = caller
                .get_export("memory")
                .and_then(Extern::into_memory)
                .ok_or_else(|| anyhow::anyhow!("no exported memory"))?;
            let mut buf = vec![0u8; len as usize];
            memory.read(&caller, ptr as usize, &mut buf)?;
            let text = String::from_utf8(buf)?;
            memory.write(&mut caller, ptr as usize, text.to_uppercase().as_bytes())?;
            let state = caller.data_mut();
            state.calls += 1;
            state.seen.push(text);
            Ok(state.calls as i32)
        },
    );
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "shout" (func $shout (param i32 i32) (result i32)))
            (memory (export "memory") 1)
            (data (i32.const 16) "hello")
            (data (i32.const 32) "wasm!")
            (func (export "run") (result i32)
              i32.const 16 i32.const 5 call $shout drop
              i32.const 32 i32.const 5 call $shout
              ;; The host's in-place write is visible to wasm right after the call.
              i32.const 100 i32.mul i32.const 16 i32.load8_u i32.add))"#,
        &[shout.into()],
    );
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, ()).unwrap(), 200 + b'H' as i32);
    assert_eq!(store.data().calls, 2);
    assert_eq!(store.data().seen, ["hello", "wasm!"]);
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    assert_eq!(&memory.data(&store)[16..21], b"HELLO");
    assert_eq!(&memory.data(&store)[32..37], b"WASM!");
}

#[test]
fn caller_get_export_is_none_for_missing_names_and_host_callers() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, Vec::<(bool, bool)>::new());
    let probe = Func::wrap(&mut store, |mut caller: Caller<'_, Vec<(bool, bool)>>| {
        let has_memory = caller.get_export("memory").is_some();
        let has_bogus = caller.get_export("no such export").is_some();
        caller.data_mut().push((has_memory, has_bogus));
    });
    let instance = instantiate(
        &mut store,
        r#"(module (import "" "probe" (func $p)) (memory (export "memory") 1)
            (func (export "run") call $p))"#,
        &[probe.into()],
    );
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    run.call(&mut store, ()).unwrap();
    // Called straight from the host there is no calling instance.
    probe.call(&mut store, &[], &mut []).unwrap();
    assert_eq!(store.data().as_slice(), [(true, false), (false, false)]);
}

#[test]
fn func_new_sees_and_produces_vals() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    let ty = FuncType::from_types([ValType::I32, ValType::F64], [ValType::I64, ValType::F32]);
    let f = Func::new(&mut store, ty.clone(), |mut caller, params, results| {
        *caller.data_mut() += 1;
        let a = params[0].unwrap_i32();
        let b = params[1].unwrap_f64();
        results[0] = Val::I64(a as i64 * 1000);
        results[1] = Val::from(b as f32 + 0.5);
        Ok(())
    });
    assert_eq!(f.ty(&store), ty);
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "f" (func $f (param i32 f64) (result i64 f32)))
            (func (export "run") (param i32 f64) (result i64 f32)
              local.get 0 local.get 1 call $f))"#,
        &[f.into()],
    );
    let run = instance
        .get_typed_func::<(i32, f64), (i64, f32)>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, (-3, 2.0)).unwrap(), (-3000, 2.5));
    let mut out = [Val::I64(0), Val::F32(0)];
    f.call(&mut store, &[Val::I32(4), Val::from(1.0f64)], &mut out)
        .unwrap();
    assert_eq!(out[0].unwrap_i64(), 4000);
    assert_eq!(out[1].unwrap_f32(), 1.5);
    assert_eq!(*store.data(), 2);
}

#[test]
fn func_new_returning_a_wrongly_typed_value_is_an_error() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let ty = FuncType::from_types([], [ValType::I32]);
    let bad = Func::new(&mut store, ty, |_, _, results| {
        results[0] = Val::I64(1);
        Ok(())
    });
    let instance = instantiate(
        &mut store,
        r#"(module (import "" "bad" (func $b (result i32)))
            (func (export "run") (result i32) call $b)
            (func (export "ok") (result i32) i32.const 1))"#,
        &[bad.into()],
    );
    let run = instance
        .get_typed_func::<(), i32>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert!(format!("{err:?}").contains("incompatible"), "{err:?}");
    assert!(err.downcast_ref::<Trap>().is_none());
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 1);
}

#[derive(Debug, PartialEq)]
struct Custom(u32);

impl std::fmt::Display for Custom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "custom error {}", self.0)
    }
}

impl std::error::Error for Custom {}

const ERROR_WAT: &str = r#"(module
  (import "" "check" (func $check (param i32) (result i32)))
  (func $inner (param i32) (result i32) local.get 0 call $check i32.const 1 i32.add)
  (func (export "run") (param i32) (result i32) local.get 0 call $inner))"#;

#[test]
fn host_error_propagates_through_wasm_with_message_intact() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let check = Func::wrap(&mut store, |x: i32| -> Result<i32> {
        if x < 0 {
            anyhow::bail!("negative input: {x}");
        }
        if x == 99 {
            return Err(Custom(99).into());
        }
        Ok(x * 2)
    });
    let instance = instantiate(&mut store, ERROR_WAT, &[check.into()]);
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    for _ in 0..2 {
        let err = run.call(&mut store, -5).unwrap_err();
        assert_eq!(err.root_cause().to_string(), "negative input: -5");
        assert!(err.downcast_ref::<Trap>().is_none(), "{err:?}");
        assert_eq!(run.call(&mut store, 20).unwrap(), 41);
    }
    // A typed error survives and downcasts.
    let err = run.call(&mut store, 99).unwrap_err();
    assert_eq!(err.downcast_ref::<Custom>(), Some(&Custom(99)));
    // The error carries the wasm frames that were active.
    if let Some(bt) = err.downcast_ref::<WasmBacktrace>() {
        let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
        assert_eq!(names.first().copied().flatten(), Some("inner"), "{names:?}");
    }
    assert_eq!(run.call(&mut store, 1).unwrap(), 3);
}

#[test]
fn host_error_from_a_direct_host_call_is_returned_unchanged() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let fail = Func::wrap(&mut store, || -> Result<()> {
        anyhow::bail!("direct failure")
    });
    let err = fail.call(&mut store, &[], &mut []).unwrap_err();
    assert_eq!(err.to_string(), "direct failure");
    let typed = fail.typed::<(), ()>(&store).unwrap();
    assert_eq!(
        typed.call(&mut store, ()).unwrap_err().to_string(),
        "direct failure"
    );
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic>".to_string()
    }
}

#[test]
fn host_panic_resumes_in_the_caller_and_the_store_stays_usable() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let check = Func::wrap(&mut store, |x: i32| -> i32 {
        if x == 13 {
            panic!("host exploded on {x}");
        }
        x * 2
    });
    let instance = instantiate(&mut store, ERROR_WAT, &[check.into()]);
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    for _ in 0..2 {
        let payload = catch_unwind(AssertUnwindSafe(|| run.call(&mut store, 13)))
            .expect_err("the panic should reach the caller");
        assert_eq!(panic_message(&*payload), "host exploded on 13");
        assert_eq!(run.call(&mut store, 4).unwrap(), 9);
    }
    // A direct host call panics the same way.
    let payload = catch_unwind(AssertUnwindSafe(|| {
        check.call(&mut store, &[Val::I32(13)], &mut [Val::I32(0)])
    }))
    .expect_err("the panic should reach the caller");
    assert_eq!(panic_message(&*payload), "host exploded on 13");
    assert_eq!(run.call(&mut store, 0).unwrap(), 1);
}

#[test]
fn host_panic_inside_nested_reentry_unwinds_every_level() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    // host `outer` re-enters wasm `leaf`, which calls host `boom`, which panics.
    let boom = Func::wrap(&mut store, |x: i32| -> i32 {
        if x > 0 {
            panic!("deep panic");
        }
        x
    });
    let outer = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, ()>, x: i32| -> Result<i32> {
            let leaf = caller
                .get_export("leaf")
                .and_then(Extern::into_func)
                .unwrap();
            let leaf = leaf.typed::<i32, i32>(&caller)?;
            Ok(leaf.call(&mut caller, x)? + 10)
        },
    );
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "boom" (func $boom (param i32) (result i32)))
            (import "" "outer" (func $outer (param i32) (result i32)))
            (func (export "leaf") (param i32) (result i32) local.get 0 call $boom)
            (func (export "entry") (param i32) (result i32) local.get 0 call $outer))"#,
        &[boom.into(), outer.into()],
    );
    let entry = instance
        .get_typed_func::<i32, i32>(&mut store, "entry")
        .unwrap();
    let payload = catch_unwind(AssertUnwindSafe(|| entry.call(&mut store, 1))).unwrap_err();
    assert_eq!(panic_message(&*payload), "deep panic");
    assert_eq!(entry.call(&mut store, 0).unwrap(), 10);
    assert_eq!(entry.call(&mut store, -5).unwrap(), 5);
}

#[test]
fn host_function_calls_back_into_wasm_of_the_same_store() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, 0u32);
    // countdown(n) = n == 0 ? 0 : host(n); host(n) = countdown(n - 1) + 1 — a ping-pong
    // between wasm and the host n levels deep.
    let host = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, u32>, n: i32| -> Result<i32> {
            *caller.data_mut() += 1;
            let countdown = caller
                .get_export("countdown")
                .and_then(Extern::into_func)
                .expect("countdown is exported");
            let mut out = [Val::I32(0)];
            countdown.call(&mut caller, &[Val::I32(n - 1)], &mut out)?;
            Ok(out[0].unwrap_i32() + 1)
        },
    );
    let instance = instantiate(
        &mut store,
        r#"(module
            (import "" "host" (func $host (param i32) (result i32)))
            (func (export "countdown") (param i32) (result i32)
              local.get 0 i32.eqz
              if (result i32) i32.const 0 else local.get 0 call $host end))"#,
        &[host.into()],
    );
    let countdown = instance
        .get_typed_func::<i32, i32>(&mut store, "countdown")
        .unwrap();
    assert_eq!(countdown.call(&mut store, 1).unwrap(), 1);
    assert_eq!(countdown.call(&mut store, 20).unwrap(), 20);
    assert_eq!(*store.data(), 21);
}

#[test]
fn linker_func_wrap_satisfies_imports_by_name() {
    let engine = Engine::default();
    let mut linker = Linker::<Vec<i32>>::new(&engine);
    linker
        .func_wrap("env", "add", |a: i32, b: i32| a + b)
        .unwrap()
        .func_wrap("env", "log", |mut caller: Caller<'_, Vec<i32>>, v: i32| {
            caller.data_mut().push(v)
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "add" (func $add (param i32 i32) (result i32)))
            (import "env" "log" (func $log (param i32)))
            (func (export "run") (param i32) (result i32)
              local.get 0 i32.const 10 call $add call $log
              local.get 0 local.get 0 call $add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::new());
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    assert_eq!(run.call(&mut store, 5).unwrap(), 10);
    assert_eq!(run.call(&mut store, 7).unwrap(), 14);
    assert_eq!(store.data().as_slice(), [15, 17]);
    // The linker hands out the definition too.
    let add = linker
        .get(&mut store, "env", "add")
        .unwrap()
        .into_func()
        .unwrap();
    let add = add.typed::<(i32, i32), i32>(&store).unwrap();
    assert_eq!(add.call(&mut store, (2, 2)).unwrap(), 4);
}

#[test]
fn linker_reports_missing_and_mistyped_imports() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "f", |x: i64| x).unwrap();
    let mut store = Store::new(&engine, ());
    let missing = Module::new(&engine, r#"(module (import "env" "g" (func)))"#).unwrap();
    let err = linker.instantiate(&mut store, &missing).unwrap_err();
    assert!(err.to_string().contains("env::g"), "{err}");
    let mistyped = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i32) (result i32))))"#,
    )
    .unwrap();
    let err = linker.instantiate(&mut store, &mistyped).unwrap_err();
    assert!(err.to_string().contains("env::f"), "{err}");
    let fine = Module::new(
        &engine,
        r#"(module (import "env" "f" (func (param i64) (result i64))))"#,
    )
    .unwrap();
    linker.instantiate(&mut store, &fine).unwrap();
}

#[test]
fn linker_instance_links_two_modules_sharing_memory_global_and_functions() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    let provider = Module::new(
        &engine,
        r#"(module
            (memory (export "mem") 1)
            (global (export "counter") (mut i32) (i32.const 0))
            (func (export "sum") (param i32 i32) (result i32)
              (local $acc i32)
              block $done
                loop $next
                  local.get 1 i32.eqz br_if $done
                  local.get $acc local.get 0 i32.load8_u i32.add local.set $acc
                  local.get 0 i32.const 1 i32.add local.set 0
                  local.get 1 i32.const 1 i32.sub local.set 1
                  br $next
                end
              end
              local.get $acc))"#,
    )
    .unwrap();
    let consumer = Module::new(
        &engine,
        r#"(module
            (import "lib" "mem" (memory 1))
            (import "lib" "counter" (global $counter (mut i32)))
            (import "lib" "sum" (func $sum (param i32 i32) (result i32)))
            (func (export "go") (result i32)
              i32.const 0 i32.const 3 i32.store8
              i32.const 1 i32.const 4 i32.store8
              i32.const 2 i32.const 5 i32.store8
              global.get $counter i32.const 1 i32.add global.set $counter
              i32.const 0 i32.const 3 call $sum))"#,
    )
    .unwrap();
    let lib = Instance::new(&mut store, &provider, &[]).unwrap();
    let mut linker = Linker::new(&engine);
    linker.instance(&mut store, "lib", lib).unwrap();
    let app = linker.instantiate(&mut store, &consumer).unwrap();
    let go = app.get_typed_func::<(), i32>(&mut store, "go").unwrap();
    assert_eq!(go.call(&mut store, ()).unwrap(), 12);
    go.call(&mut store, ()).unwrap();
    let counter = lib.get_global(&mut store, "counter").unwrap();
    assert_eq!(counter.get(&mut store).unwrap_i32(), 2);
    let mem = lib.get_memory(&mut store, "mem").unwrap();
    assert_eq!(&mem.data(&store)[..3], [3, 4, 5]);
}

#[test]
fn instantiate_pre_instantiates_into_independent_stores() {
    let engine = Engine::default();
    let mut linker = Linker::<u64>::new(&engine);
    linker
        .func_wrap("host", "bump", |mut caller: Caller<'_, u64>, by: i64| {
            *caller.data_mut() += by as u64;
            *caller.data() as i64
        })
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "bump" (func $bump (param i64) (result i64)))
            (global $calls (mut i32) (i32.const 0))
            (func (export "run") (param i64) (result i64)
              global.get $calls i32.const 1 i32.add global.set $calls
              local.get 0 call $bump)
            (func (export "calls") (result i32) global.get $calls))"#,
    )
    .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();
    let mut a = Store::new(&engine, 0u64);
    let mut b = Store::new(&engine, 1000u64);
    let ia = pre.instantiate(&mut a).unwrap();
    let ib = pre.instantiate(&mut b).unwrap();
    let run_a = ia.get_typed_func::<i64, i64>(&mut a, "run").unwrap();
    let run_b = ib.get_typed_func::<i64, i64>(&mut b, "run").unwrap();
    assert_eq!(run_a.call(&mut a, 5).unwrap(), 5);
    assert_eq!(run_a.call(&mut a, 5).unwrap(), 10);
    assert_eq!(run_b.call(&mut b, 1).unwrap(), 1001);
    assert_eq!((*a.data(), *b.data()), (10, 1001));
    let calls_a = ia.get_typed_func::<(), i32>(&mut a, "calls").unwrap();
    let calls_b = ib.get_typed_func::<(), i32>(&mut b, "calls").unwrap();
    assert_eq!(calls_a.call(&mut a, ()).unwrap(), 2);
    assert_eq!(calls_b.call(&mut b, ()).unwrap(), 1);
    // A function of one store cannot be called with another.
    assert!(run_a.call(&mut b, 1).is_err());
    assert_eq!(*b.data(), 1001);
    // A second instance in the same store gets its own globals but shares the store data.
    let ia2 = pre.instantiate(&mut a).unwrap();
    let run_a2 = ia2.get_typed_func::<i64, i64>(&mut a, "run").unwrap();
    assert_eq!(run_a2.call(&mut a, 1).unwrap(), 11);
    let calls_a2 = ia2.get_typed_func::<(), i32>(&mut a, "calls").unwrap();
    assert_eq!(calls_a2.call(&mut a, ()).unwrap(), 1);
}

#[test]
fn duplicate_definitions_error_unless_shadowing_is_allowed() {
    let engine = Engine::default();
    let mut linker = Linker::<()>::new(&engine);
    linker.func_wrap("env", "f", || 1i32).unwrap();
    let err = linker
        .func_wrap("env", "f", || 2i32)
        .err()
        .expect("duplicate");
    assert!(err.to_string().contains("env::f"), "{err}");
    // Another name in the same module, or the same name in another module, is fine.
    linker.func_wrap("env", "g", || 3i32).unwrap();
    linker.func_wrap("other", "f", || 4i32).unwrap();
    // Duplicates through `define` are refused too.
    let mut store = Store::new(&engine, ());
    let func = Func::wrap(&mut store, || 5i32);
    assert!(linker.define(&store, "env", "g", func).is_err());

    let module = Module::new(
        &engine,
        r#"(module (import "env" "f" (func $f (result i32)))
            (func (export "run") (result i32) call $f))"#,
    )
    .unwrap();
    let run = |linker: &Linker<()>, store: &mut Store<()>| {
        let instance = linker.instantiate(&mut *store, &module).unwrap();
        let run = instance
            .get_typed_func::<(), i32>(&mut *store, "run")
            .unwrap();
        run.call(store, ()).unwrap()
    };
    assert_eq!(run(&linker, &mut store), 1, "the first definition stays");

    linker.allow_shadowing(true);
    linker.func_wrap("env", "f", || 2i32).unwrap();
    assert_eq!(run(&linker, &mut store), 2, "the later definition wins");
    linker.define(&store, "env", "f", func).unwrap();
    assert_eq!(run(&linker, &mut store), 5);
}

#[test]
fn instantiation_rejects_imports_of_another_store_or_of_the_wrong_shape() {
    let engine = Engine::default();
    let mut a = Store::new(&engine, ());
    let mut b = Store::new(&engine, ());
    let func_a = Func::wrap(&mut a, |x: i32| x);
    let memory_a = Memory::new(&mut a, MemoryType::new(1, None)).unwrap();
    let func_module = Module::new(
        &engine,
        r#"(module (import "" "f" (func (param i32) (result i32))))"#,
    )
    .unwrap();
    let memory_module = Module::new(&engine, r#"(module (import "" "m" (memory 1)))"#).unwrap();
    // Objects of store `a` cannot satisfy imports of an instance in store `b`, directly or
    // through a linker.
    assert!(Instance::new(&mut b, &func_module, &[func_a.into()]).is_err());
    assert!(Instance::new(&mut b, &memory_module, &[memory_a.into()]).is_err());
    let mut linker = Linker::new(&engine);
    linker.define(&a, "", "f", func_a).unwrap();
    assert!(linker.instantiate(&mut b, &func_module).is_err());
    assert!(linker.instantiate(&mut a, &func_module).is_ok());
    // Wrong number, kind or type of imports.
    let func_b = Func::wrap(&mut b, |x: i32| x);
    let memory_b = Memory::new(&mut b, MemoryType::new(1, None)).unwrap();
    assert!(Instance::new(&mut b, &func_module, &[]).is_err());
    assert!(Instance::new(&mut b, &func_module, &[func_b.into(), func_b.into()]).is_err());
    assert!(Instance::new(&mut b, &func_module, &[memory_b.into()]).is_err());
    assert!(Instance::new(&mut b, &memory_module, &[func_b.into()]).is_err());
    let wide = Func::wrap(&mut b, |x: i64| x);
    assert!(Instance::new(&mut b, &func_module, &[wide.into()]).is_err());
    // A module of another engine.
    let foreign = Module::new(&Engine::default(), "(module)").unwrap();
    assert!(Instance::new(&mut b, &foreign, &[]).is_err());
    // And the right imports still work in both stores.
    Instance::new(&mut b, &func_module, &[func_b.into()]).unwrap();
    Instance::new(&mut b, &memory_module, &[memory_b.into()]).unwrap();
    Instance::new(&mut a, &memory_module, &[memory_a.into()]).unwrap();
}
