//! Traps raised by real wasm code: every trap code comes back as an error that downcasts to the
//! right [`Trap`], carries a [`WasmBacktrace`] naming the wasm functions innermost first, and
//! leaves the store usable (other calls and the same trapping call work afterwards). Memory
//! bounds are checked both with the default 4 GiB reservation (guard pages) and with a small
//! reservation (explicit bounds checks), including accesses at the 4 GiB edge.

use crate::support::child::{child_output, in_child_for, run_in_child};

use wasmjit::*;

/// One module holding a function for every trap code plus a function that never traps.
const TRAPS_WAT: &str = r#"
(module
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $forty_two $identity)
  (func $forty_two (type $v_i) i32.const 42)
  (func $identity (type $i_i) local.get 0)

  (func (export "ok") (result i32) i32.const 7)
  (func $do_unreachable (export "unreachable") unreachable)
  (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
  (func (export "div_u") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_u)
  (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
  (func (export "i64_div_s") (param i64 i64) (result i64) local.get 0 local.get 1 i64.div_s)
  (func (export "i64_rem_u") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_u)
  (func (export "trunc_f32_s") (param f32) (result i32) local.get 0 i32.trunc_f32_s)
  (func (export "trunc_f64_u") (param f64) (result i32) local.get 0 i32.trunc_f64_u)
  (func (export "i64_trunc_f64_s") (param f64) (result i64) local.get 0 i64.trunc_f64_s)
  (func (export "load") (param i32) (result i32) local.get 0 i32.load)
  (func (export "load8") (param i32) (result i32) local.get 0 i32.load8_u)
  (func (export "load_max_offset") (param i32) (result i32)
    local.get 0 i32.load offset=0xffffffff)
  (func (export "load64_offset") (param i32) (result i64)
    local.get 0 i64.load offset=0xfffffff0)
  (func (export "store") (param i32) local.get 0 i32.const 0x01020304 i32.store)
  (func (export "store_max_offset") (param i32)
    local.get 0 i32.const 1 i32.store8 offset=0xffffffff)
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "fill") (param i32 i32) local.get 0 i32.const 0 local.get 1 memory.fill)
  (func (export "call_indirect") (param i32) (result i32)
    local.get 0 call_indirect $t (type $v_i))
  (func (export "table_get") (param i32) (result funcref) local.get 0 table.get $t)
  (func $recurse (export "recurse") (param i32) (result i32)
    local.get 0 i32.const 1 i32.add call $recurse)
  (func $count_down (export "count_down") (param i32) (result i32)
    local.get 0 i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get 0 i32.const 1 i32.sub call $count_down i32.const 1 i32.add
    end)
)
"#;

struct Fixture {
    store: Store<()>,
    instance: Instance,
}

impl Fixture {
    fn new(engine: &Engine) -> Self {
        let module = Module::new(engine, TRAPS_WAT).unwrap();
        let mut store = Store::new(engine, ());
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        Fixture { store, instance }
    }

    fn typed<P: WasmParams, R: WasmResults>(&mut self, name: &str) -> TypedFunc<P, R> {
        self.instance
            .get_typed_func::<P, R>(&mut self.store, name)
            .unwrap()
    }

    /// Calls the trap-free export, proving the store still works.
    fn assert_usable(&mut self) {
        let ok = self.typed::<(), i32>("ok");
        assert_eq!(ok.call(&mut self.store, ()).unwrap(), 7);
    }

    /// Calls `name` with `params` twice, expecting `expected` both times and a working store
    /// in between and after.
    fn expect_trap<P, R>(&mut self, name: &str, params: P, expected: Trap)
    where
        P: WasmParams + Copy,
        R: WasmResults + std::fmt::Debug,
    {
        let f = self.typed::<P, R>(name);
        for attempt in 0..2 {
            let err = f
                .call(&mut self.store, params)
                .expect_err("call should trap");
            assert_eq!(
                trap_of(&err),
                expected,
                "{name}, attempt {attempt}: {err:?}"
            );
            self.assert_usable();
        }
    }
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

fn frame_names(err: &Error) -> Vec<Option<String>> {
    let bt = err
        .downcast_ref::<WasmBacktrace>()
        .unwrap_or_else(|| panic!("no backtrace: {err:?}"));
    bt.frames()
        .iter()
        .map(|f| f.func_name().map(str::to_string))
        .collect()
}

/// An engine whose memories use explicit bounds checks instead of guard pages.
fn bounds_checked_engine() -> Engine {
    let mut config = Config::new();
    config.memory_reservation(1 << 20).memory_guard_size(0);
    Engine::new(&config).unwrap()
}

#[test]
fn unreachable_traps_with_unreachable_code() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<(), ()>("unreachable", (), Trap::UnreachableCodeReached);
}

#[test]
fn division_by_zero_traps_for_div_and_rem() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<(i32, i32), i32>("div_s", (1, 0), Trap::IntegerDivisionByZero);
    fx.expect_trap::<(i32, i32), i32>("div_u", (1, 0), Trap::IntegerDivisionByZero);
    fx.expect_trap::<(i32, i32), i32>("rem_s", (1, 0), Trap::IntegerDivisionByZero);
    fx.expect_trap::<(i64, i64), i64>("i64_div_s", (1, 0), Trap::IntegerDivisionByZero);
    fx.expect_trap::<(i64, i64), i64>("i64_rem_u", (1, 0), Trap::IntegerDivisionByZero);
}

#[test]
fn signed_division_of_min_by_minus_one_overflows() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<(i32, i32), i32>("div_s", (i32::MIN, -1), Trap::IntegerOverflow);
    fx.expect_trap::<(i64, i64), i64>("i64_div_s", (i64::MIN, -1), Trap::IntegerOverflow);
}

#[test]
fn division_edge_cases_that_must_not_trap() {
    let mut fx = Fixture::new(&Engine::default());
    // rem_s of INT_MIN by -1 is defined as 0, not an overflow.
    let rem_s = fx.typed::<(i32, i32), i32>("rem_s");
    assert_eq!(rem_s.call(&mut fx.store, (i32::MIN, -1)).unwrap(), 0);
    let div_s = fx.typed::<(i32, i32), i32>("div_s");
    assert_eq!(div_s.call(&mut fx.store, (i32::MIN, 1)).unwrap(), i32::MIN);
    assert_eq!(div_s.call(&mut fx.store, (-7, 2)).unwrap(), -3);
}

#[test]
fn truncating_nan_is_an_invalid_conversion() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<f32, i32>("trunc_f32_s", f32::NAN, Trap::BadConversionToInteger);
    fx.expect_trap::<f64, i32>("trunc_f64_u", f64::NAN, Trap::BadConversionToInteger);
    fx.expect_trap::<f64, i64>("i64_trunc_f64_s", -f64::NAN, Trap::BadConversionToInteger);
}

#[test]
fn truncating_out_of_range_floats_overflows() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<f32, i32>("trunc_f32_s", 1e10, Trap::IntegerOverflow);
    fx.expect_trap::<f32, i32>("trunc_f32_s", -1e10, Trap::IntegerOverflow);
    fx.expect_trap::<f32, i32>("trunc_f32_s", f32::INFINITY, Trap::IntegerOverflow);
    fx.expect_trap::<f64, i32>("trunc_f64_u", -1.0, Trap::IntegerOverflow);
    fx.expect_trap::<f64, i32>("trunc_f64_u", 4294967296.0, Trap::IntegerOverflow);
    fx.expect_trap::<f64, i64>("i64_trunc_f64_s", 9.3e18, Trap::IntegerOverflow);
    // In-range values just inside the edges convert.
    let trunc = fx.typed::<f64, i32>("trunc_f64_u");
    assert_eq!(trunc.call(&mut fx.store, 4294967295.9).unwrap(), -1);
    assert_eq!(trunc.call(&mut fx.store, -0.9).unwrap(), 0);
}

fn check_memory_bounds(engine: &Engine) {
    let mut fx = Fixture::new(engine);
    let load = fx.typed::<i32, i32>("load");
    let store = fx.typed::<i32, ()>("store");
    // The last in-bounds word works both ways.
    store.call(&mut fx.store, 65532).unwrap();
    assert_eq!(load.call(&mut fx.store, 65532).unwrap(), 0x01020304);
    // One byte past the end, straddling the end, far away and at the 4 GiB edge.
    for addr in [
        65536u32,
        65533,
        65535,
        0x10_0000,
        0x7fff_ffff,
        0xffff_fffc,
        0xffff_ffff,
    ] {
        fx.expect_trap::<i32, i32>("load", addr as i32, Trap::MemoryOutOfBounds);
        fx.expect_trap::<i32, ()>("store", addr as i32, Trap::MemoryOutOfBounds);
    }
    fx.expect_trap::<i32, i32>("load8", 65536, Trap::MemoryOutOfBounds);
    let load8 = fx.typed::<i32, i32>("load8");
    assert_eq!(load8.call(&mut fx.store, 65535).unwrap(), 1);
    // A large static offset: the effective address exceeds 4 GiB even from address 0, and
    // approaches 8 GiB from the top address, beyond any guard region.
    for addr in [0u32, 1, 0x8000_0000, 0xffff_ffff] {
        fx.expect_trap::<i32, i32>("load_max_offset", addr as i32, Trap::MemoryOutOfBounds);
        fx.expect_trap::<i32, ()>("store_max_offset", addr as i32, Trap::MemoryOutOfBounds);
        fx.expect_trap::<i32, i64>("load64_offset", addr as i32, Trap::MemoryOutOfBounds);
    }
    // Bulk operations check the whole range up front.
    fx.expect_trap::<(i32, i32), ()>("fill", (65000, 1000), Trap::MemoryOutOfBounds);
    fx.expect_trap::<(i32, i32), ()>("fill", (-1, 2), Trap::MemoryOutOfBounds);
    let fill = fx.typed::<(i32, i32), ()>("fill");
    fill.call(&mut fx.store, (65536, 0)).unwrap();
    // The failed stores did not change the last word.
    assert_eq!(load.call(&mut fx.store, 65532).unwrap(), 0x01020304);
    // After growing, the new end is where the bounds move to.
    let grow = fx.typed::<i32, i32>("grow");
    assert_eq!(grow.call(&mut fx.store, 2).unwrap(), 1);
    assert_eq!(load.call(&mut fx.store, 65532).unwrap(), 0x01020304);
    store.call(&mut fx.store, 3 * 65536 - 4).unwrap();
    assert_eq!(load.call(&mut fx.store, 3 * 65536 - 4).unwrap(), 0x01020304);
    fx.expect_trap::<i32, i32>("load", 3 * 65536 - 3, Trap::MemoryOutOfBounds);
    fx.expect_trap::<i32, ()>("store", 3 * 65536, Trap::MemoryOutOfBounds);
    fx.expect_trap::<i32, i32>("load_max_offset", 0, Trap::MemoryOutOfBounds);
}

#[test]
fn memory_out_of_bounds_with_guard_pages() {
    check_memory_bounds(&Engine::default());
}

#[test]
fn memory_out_of_bounds_with_explicit_bounds_checks() {
    check_memory_bounds(&bounds_checked_engine());
}

#[test]
fn memory_bounds_hold_for_every_reservation_and_guard_size() {
    const GIB: u64 = 1 << 30;
    let layouts = [
        (4 * GIB, 0),
        (4 * GIB, 64 * 1024),
        (8 * GIB, 0),
        (2 * GIB, 2 * GIB),
        (64 * 1024, 0),
        (0, 0),
    ];
    for (reservation, guard) in layouts {
        let mut config = Config::new();
        config
            .memory_reservation(reservation)
            .memory_guard_size(guard);
        check_memory_bounds(&Engine::new(&config).unwrap());
    }
}

#[test]
fn call_indirect_past_the_table_end_is_table_out_of_bounds() {
    let mut fx = Fixture::new(&Engine::default());
    let f = fx.typed::<i32, i32>("call_indirect");
    assert_eq!(f.call(&mut fx.store, 0).unwrap(), 42);
    fx.expect_trap::<i32, i32>("call_indirect", 3, Trap::TableOutOfBounds);
    fx.expect_trap::<i32, i32>("call_indirect", -1, Trap::TableOutOfBounds);
    fx.expect_trap::<i32, Option<Func>>("table_get", 3, Trap::TableOutOfBounds);
}

#[test]
fn call_indirect_through_a_null_element_traps() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<i32, i32>("call_indirect", 2, Trap::IndirectCallToNull);
}

#[test]
fn call_indirect_with_the_wrong_type_is_a_signature_mismatch() {
    let mut fx = Fixture::new(&Engine::default());
    // Element 1 is `(param i32) (result i32)`, called as `(result i32)`.
    fx.expect_trap::<i32, i32>("call_indirect", 1, Trap::BadSignature);
}

#[test]
fn unbounded_recursion_is_a_stack_overflow() {
    let mut fx = Fixture::new(&Engine::default());
    fx.expect_trap::<i32, i32>("recurse", 0, Trap::StackOverflow);
    // Bounded recursion deeper than a handful of frames still works afterwards.
    let count_down = fx.typed::<i32, i32>("count_down");
    assert_eq!(count_down.call(&mut fx.store, 1000).unwrap(), 1000);
}

#[test]
fn stack_overflow_honours_a_small_max_wasm_stack() {
    let mut config = Config::new();
    config.max_wasm_stack(64 * 1024);
    let mut fx = Fixture::new(&Engine::new(&config).unwrap());
    let count_down = fx.typed::<i32, i32>("count_down");
    assert_eq!(count_down.call(&mut fx.store, 100).unwrap(), 100);
    fx.expect_trap::<i32, i32>("count_down", 1_000_000, Trap::StackOverflow);
    fx.expect_trap::<i32, i32>("recurse", 0, Trap::StackOverflow);
    assert_eq!(count_down.call(&mut fx.store, 100).unwrap(), 100);
}

#[test]
fn stack_overflow_backtrace_is_made_of_the_recursing_function() {
    let mut fx = Fixture::new(&Engine::default());
    let f = fx.typed::<i32, i32>("recurse");
    let err = f.call(&mut fx.store, 0).unwrap_err();
    let names = frame_names(&err);
    assert!(
        names.len() > 10,
        "expected many frames, got {}",
        names.len()
    );
    assert!(names.iter().all(|n| n.as_deref() == Some("recurse")));
}

#[test]
fn trap_display_names_the_reason() {
    let mut fx = Fixture::new(&Engine::default());
    let f = fx.typed::<(i32, i32), i32>("div_s");
    let err = f.call(&mut fx.store, (1, 0)).unwrap_err();
    let text = format!("{err:?}");
    assert!(text.contains("integer divide by zero"), "{text}");
}

#[test]
fn backtrace_names_functions_innermost_first() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (func $inner (param i32) (result i32) local.get 0 i32.const 0 i32.div_u)
            (func $middle (param i32) (result i32) local.get 0 call $inner i32.const 1 i32.add)
            (func $outer (export "outer") (param i32) (result i32)
              local.get 0 call $middle i32.const 2 i32.mul))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let outer = instance
        .get_typed_func::<i32, i32>(&mut store, "outer")
        .unwrap();
    for _ in 0..2 {
        let err = outer.call(&mut store, 5).unwrap_err();
        assert_eq!(trap_of(&err), Trap::IntegerDivisionByZero);
        let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
        let names: Vec<_> = bt.frames().iter().map(|f| f.func_name()).collect();
        assert_eq!(names, [Some("inner"), Some("middle"), Some("outer")]);
        let indices: Vec<_> = bt.frames().iter().map(|f| f.func_index()).collect();
        assert_eq!(indices, [0, 1, 2]);
        // Offsets point into the module and grow from `inner` to `outer` (they are laid
        // out in that order).
        let offsets: Vec<usize> = bt
            .frames()
            .iter()
            .map(|f| f.module_offset().expect("frame has an offset"))
            .collect();
        assert!(offsets.windows(2).all(|w| w[0] < w[1]), "{offsets:?}");
        // Within its function, each trapping or calling instruction sits after `local.get 0`
        // (two bytes) and the empty local declarations (one byte) at least.
        for f in bt.frames() {
            let at = f.func_offset().expect("frame has a function offset");
            assert!((3..16).contains(&at), "{at}");
            assert!(at < f.module_offset().unwrap());
        }
    }
}

#[test]
fn backtrace_counts_imported_functions_in_indices_and_keeps_module_name() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module $my_module
            (import "env" "nop" (func $nop))
            (func $boom unreachable)
            (func (export "run") call $nop call $boom))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let nop = Func::wrap(&mut store, || {});
    let instance = Instance::new(&mut store, &module, &[nop.into()]).unwrap();
    let run = instance
        .get_typed_func::<(), ()>(&mut store, "run")
        .unwrap();
    let err = run.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    let bt = err.downcast_ref::<WasmBacktrace>().unwrap();
    assert_eq!(bt.frames()[0].func_index(), 1);
    assert_eq!(bt.frames()[0].func_name(), Some("boom"));
    assert_eq!(bt.frames()[0].module_name(), Some("my_module"));
    assert_eq!(bt.frames()[1].func_index(), 2);
    assert_eq!(bt.frames()[1].func_name(), None);
    let shown = bt.to_string();
    assert!(shown.contains("my_module!boom"), "{shown}");
    assert!(shown.contains("<wasm function 2>"), "{shown}");
}

#[test]
fn trap_in_wasm_called_from_a_host_function_called_from_wasm() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "reenter" (func $reenter (param i32) (result i32)))
            (func $crash (export "crash") (param i32) (result i32)
              local.get 0 i32.const 0 i32.div_s)
            (func $safe (export "safe") (param i32) (result i32)
              local.get 0 i32.const 3 i32.mul)
            (func $entry (export "entry") (param i32) (result i32)
              local.get 0 call $reenter i32.const 1 i32.add))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::<String>::new());
    // The host function calls back into `crash` when its argument is odd, `safe` otherwise,
    // and records what came back.
    let reenter = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, Vec<String>>, x: i32| -> Result<i32> {
            let name = if x % 2 == 1 { "crash" } else { "safe" };
            let f = caller
                .get_export(name)
                .and_then(Extern::into_func)
                .expect("export exists");
            let f = f.typed::<i32, i32>(&caller)?;
            match f.call(&mut caller, x) {
                Ok(v) => {
                    caller.data_mut().push(format!("ok {v}"));
                    Ok(v)
                }
                Err(e) => {
                    let code = e.downcast_ref::<Trap>().copied();
                    let names = e
                        .downcast_ref::<WasmBacktrace>()
                        .map(|bt| {
                            bt.frames()
                                .iter()
                                .filter_map(|f| f.func_name())
                                .collect::<Vec<_>>()
                        })
                        .unwrap_or_default()
                        .join(",");
                    caller
                        .data_mut()
                        .push(format!("trap {code:?} in [{names}]"));
                    Err(e)
                }
            }
        },
    );
    let instance = Instance::new(&mut store, &module, &[reenter.into()]).unwrap();
    let entry = instance
        .get_typed_func::<i32, i32>(&mut store, "entry")
        .unwrap();

    assert_eq!(entry.call(&mut store, 2).unwrap(), 7);
    let err = entry.call(&mut store, 3).unwrap_err();
    assert_eq!(trap_of(&err), Trap::IntegerDivisionByZero);
    assert_eq!(
        store.data().as_slice(),
        [
            "ok 6".to_string(),
            "trap Some(IntegerDivisionByZero) in [crash]".to_string()
        ]
    );
    // The outer error still names the outer frame somewhere in its backtrace context.
    let text = format!("{err:?}");
    assert!(text.contains("entry"), "{text}");
    // Both levels work again, and the same nested trap repeats.
    assert_eq!(entry.call(&mut store, 4).unwrap(), 13);
    let err = entry.call(&mut store, 5).unwrap_err();
    assert_eq!(trap_of(&err), Trap::IntegerDivisionByZero);
    let crash = instance
        .get_typed_func::<i32, i32>(&mut store, "crash")
        .unwrap();
    assert_eq!(
        trap_of(&crash.call(&mut store, 1).unwrap_err()),
        Trap::IntegerDivisionByZero
    );
}

#[test]
fn stack_overflow_through_host_reentry_is_caught() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "env" "again" (func $again (param i32) (result i32)))
            (func (export "dive") (param i32) (result i32)
              local.get 0 i32.const 1 i32.add call $again)
            (func (export "ok") (result i32) i32.const 7))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let again = Func::wrap(
        &mut store,
        |mut caller: Caller<'_, ()>, depth: i32| -> Result<i32> {
            let dive = caller
                .get_export("dive")
                .and_then(Extern::into_func)
                .unwrap()
                .typed::<i32, i32>(&caller)?;
            dive.call(&mut caller, depth)
        },
    );
    let instance = Instance::new(&mut store, &module, &[again.into()]).unwrap();
    let dive = instance
        .get_typed_func::<i32, i32>(&mut store, "dive")
        .unwrap();
    let err = dive.call(&mut store, 0).unwrap_err();
    assert_eq!(trap_of(&err), Trap::StackOverflow);
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 7);
    let err = dive.call(&mut store, 0).unwrap_err();
    assert_eq!(trap_of(&err), Trap::StackOverflow);
}

#[test]
fn trap_in_start_function_fails_instantiation_and_store_survives() {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module (func $start unreachable) (start $start))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let err = Instance::new(&mut store, &module, &[]).unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    let ok_module = Module::new(&engine, TRAPS_WAT).unwrap();
    let instance = Instance::new(&mut store, &ok_module, &[]).unwrap();
    let ok = instance
        .get_typed_func::<(), i32>(&mut store, "ok")
        .unwrap();
    assert_eq!(ok.call(&mut store, ()).unwrap(), 7);
}

// ---------------------------------------------------------------------------------------------
// Hosts that own signals. Each case runs in a child process: where the handling is wrong the
// process dies.

/// The signal handler that was installed before `forward_signal`, per signal.
static FORWARD_TO: [std::sync::atomic::AtomicUsize; 2] = [
    std::sync::atomic::AtomicUsize::new(0),
    std::sync::atomic::AtomicUsize::new(0),
];
static FORWARDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A handler like a JVM's libjsig or a crash reporter installs on top of others: it runs with
/// its signal blocked (no SA_NODEFER) and hands the signal to the handler it replaced.
extern "C" fn forward_signal(signal: i32, info: *mut libc::siginfo_t, context: *mut libc::c_void) {
    use std::sync::atomic::Ordering::SeqCst;
    let slot = usize::from(signal == libc::SIGILL);
    FORWARDED.fetch_add(1, SeqCst);
    let previous = FORWARD_TO[slot].load(SeqCst);
    // SAFETY: `previous` is the SA_SIGINFO handler `install_forwarder` replaced (checked
    // there), called with the kernel's own arguments.
    unsafe {
        let previous: extern "C" fn(i32, *mut libc::siginfo_t, *mut libc::c_void) =
            std::mem::transmute(previous);
        previous(signal, info, context);
    }
}

fn install_forwarder(signal: i32) {
    let slot = usize::from(signal == libc::SIGILL);
    // SAFETY: installs a valid SA_SIGINFO handler; the old one is kept for it to call.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = forward_signal as *const () as libc::sighandler_t;
        action.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        libc::sigemptyset(&mut action.sa_mask);
        let mut previous: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, &action, &mut previous), 0);
        assert_ne!(
            previous.sa_flags & libc::SA_SIGINFO,
            0,
            "wasmjit's handler is not installed"
        );
        FORWARD_TO[slot].store(previous.sa_sigaction, std::sync::atomic::Ordering::SeqCst);
    }
}

fn blocked(signal: i32) -> bool {
    // SAFETY: an all-zero sigset is valid storage; a null new set only reads the mask.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        assert_eq!(
            libc::pthread_sigmask(libc::SIG_BLOCK, std::ptr::null(), &mut set),
            0
        );
        libc::sigismember(&set, signal) == 1
    }
}

#[test]
fn traps_survive_a_later_handler_that_forwards_to_ours() {
    run_in_child(module_path!(), "child_traps_forwarded_by_a_later_handler");
}

#[test]
#[ignore = "run in a child process by traps_survive_a_later_handler_that_forwards_to_ours"]
fn child_traps_forwarded_by_a_later_handler() {
    const NAME: &str = "child_traps_forwarded_by_a_later_handler";
    if !in_child_for(NAME) {
        return;
    }
    let engine = Engine::default(); // installs wasmjit's handlers
    let mut fixture = Fixture::new(&engine);
    install_forwarder(libc::SIGSEGV);
    install_forwarder(libc::SIGILL);
    let load = fixture.typed::<i32, i32>("load");
    for attempt in 0..3 {
        let err = load.call(&mut fixture.store, -4).unwrap_err();
        assert_eq!(trap_of(&err), Trap::MemoryOutOfBounds, "attempt {attempt}");
        assert!(
            !blocked(libc::SIGSEGV),
            "SIGSEGV blocked after trap {attempt}"
        );
    }
    let unreachable = fixture.typed::<(), ()>("unreachable");
    let err = unreachable.call(&mut fixture.store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::UnreachableCodeReached);
    fixture.assert_usable();
    assert!(!blocked(libc::SIGSEGV) && !blocked(libc::SIGILL));
    assert_eq!(FORWARDED.load(std::sync::atomic::Ordering::SeqCst), 4);
}

#[test]
fn host_code_overflowing_its_fiber_stack_is_reported() {
    use std::os::unix::process::ExitStatusExt;
    let out = child_output(module_path!(), "child_host_overflows_its_fiber_stack");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.signal(),
        Some(libc::SIGABRT),
        "{}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("wasmjit: host code overflowed its async stack"),
        "{stderr}"
    );
}

/// Uses about 1 KiB of stack per level, forever (the condition only hides that from the
/// compiler).
#[inline(never)]
fn use_stack(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 128]);
    if std::hint::black_box(depth) == u64::MAX {
        return 0;
    }
    use_stack(depth + 1).wrapping_add(frame[1])
}

#[test]
#[ignore = "run in a child process by host_code_overflowing_its_fiber_stack_is_reported"]
fn child_host_overflows_its_fiber_stack() {
    const NAME: &str = "child_host_overflows_its_fiber_stack";
    if !in_child_for(NAME) {
        return;
    }
    let mut config = Config::new();
    config.async_support(true);
    let engine = Engine::new(&config).unwrap();
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap("host", "deep", |_: Caller<'_, ()>| use_stack(0) as i64)
        .unwrap();
    let module = Module::new(
        &engine,
        r#"(module (import "host" "deep" (func $deep (result i64)))
             (func (export "run") (result i64) call $deep))"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, ());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let instance = linker.instantiate_async(&mut store, &module).await.unwrap();
        let run = instance
            .get_typed_func::<(), i64>(&mut store, "run")
            .unwrap();
        let _ = run.call_async(&mut store, ()).await;
    });
    unreachable!("the host function returned from an endless recursion");
}
