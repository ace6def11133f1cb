//! Fuel metering: exact costs (Wasmtime's: entering a function costs 1; `nop`, `drop`,
//! `block`, `loop`, `unreachable`, `return`, `else`, `end` are free, every other operator costs
//! 1), running out at a known operator count, deterministic fuel after traps, host functions
//! that add fuel.

use wasmjit::*;

fn fuel_engine() -> Engine {
    let mut config = Config::new();
    config.consume_fuel(true);
    Engine::new(&config).unwrap()
}

fn instance(engine: &Engine, wat: &str) -> (Store<()>, Instance) {
    let module = Module::new(engine, wat).unwrap();
    let mut store = Store::new(engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    (store, instance)
}

fn trap_of(err: &Error) -> Trap {
    *err.downcast_ref::<Trap>()
        .unwrap_or_else(|| panic!("not a trap: {err:?}"))
}

#[test]
fn get_and_set_fuel_fail_when_fuel_is_not_configured() {
    let engine = Engine::default();
    let mut store = Store::new(&engine, ());
    assert!(store.get_fuel().is_err());
    assert!(store.set_fuel(10).is_err());
}

#[test]
fn a_new_store_has_no_fuel_and_traps_at_the_first_entry() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(&engine, r#"(module (func (export "f")))"#);
    assert_eq!(store.get_fuel().unwrap(), 0);
    let f = instance.get_typed_func::<(), ()>(&mut store, "f").unwrap();
    let err = f.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::OutOfFuel);
}

const COUNTED: &str = r#"(module
  (func $add (param i32 i32) (result i32)
    local.get 0         ;; 1
    local.get 1         ;; 1
    i32.add)            ;; 1   -> 3 per call
  (func (export "run") (param $n i32) (result i32)
    (local $acc i32)
    nop                 ;; 0
    i32.const 7         ;; 1
    drop                ;; 0
    block $done         ;; 0
      loop $l           ;; 0
        local.get $n    ;; 1
        i32.eqz         ;; 1
        br_if $done     ;; 1   -> 3 per test of n
        local.get $acc  ;; 1
        local.get $n    ;; 1
        call $add       ;; 1 (+3 in $add)
        local.set $acc  ;; 1
        local.get $n    ;; 1
        i32.const 1     ;; 1
        i32.sub         ;; 1
        local.set $n    ;; 1
        br $l           ;; 1   -> 9 + 3 after the test
      end
    end
    local.get $acc))    ;; 1"#;

#[test]
fn fuel_consumed_matches_the_hand_count() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(&engine, COUNTED);
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    for n in [0, 1, 10, 1000] {
        store.set_fuel(1_000_000).unwrap();
        assert_eq!(run.call(&mut store, n).unwrap(), n * (n + 1) / 2);
        // 1 (entry) + 1 (const) + n iterations of (3 + 12, and 1 for entering $add) + the
        // last test of n (3) + the final get (1).
        let expected = 1 + 1 + 16 * n as u64 + 3 + 1;
        assert_eq!(store.get_fuel().unwrap(), 1_000_000 - expected, "n = {n}");
    }
}

/// The cost of `fib(n)` in the module below: 6 for `n < 2`, else 14 plus both calls (each
/// counts 1 for its entry).
fn fib_cost(n: i32) -> u64 {
    if n < 2 {
        6
    } else {
        14 + fib_cost(n - 1) + fib_cost(n - 2)
    }
}

const FIB: &str = r#"(module
  (func $fib (export "fib") (param i32) (result i32)
    local.get 0 i32.const 2 i32.lt_s          ;; 3
    if (result i32)                           ;; 1
      local.get 0                             ;; 1
    else
      local.get 0 i32.const 1 i32.sub call $fib   ;; 4
      local.get 0 i32.const 2 i32.sub call $fib   ;; 4
      i32.add                                 ;; 1
    end))"#;

#[test]
fn recursion_consumes_exactly_and_identically_on_every_run() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(&engine, FIB);
    let fib = instance
        .get_typed_func::<i32, i32>(&mut store, "fib")
        .unwrap();
    let mut remaining = Vec::new();
    for _ in 0..10 {
        store.set_fuel(100_000_000).unwrap();
        assert_eq!(fib.call(&mut store, 20).unwrap(), 6765);
        remaining.push(store.get_fuel().unwrap());
    }
    assert!(
        remaining.iter().all(|&r| r == remaining[0]),
        "{remaining:?}"
    );
    assert_eq!(remaining[0], 100_000_000 - fib_cost(20));
}

const SPIN: &str = r#"(module
  (global $iters (export "iters") (mut i32) (i32.const 0))
  (func (export "spin")
    loop $l
      global.get $iters   ;; 1
      i32.const 1         ;; 1
      i32.add             ;; 1
      global.set $iters   ;; 1
      br $l               ;; 1   -> 5 per iteration
    end)
  (func (export "one") (result i32)
    i32.const 1))"#;

fn iters(store: &mut Store<()>, instance: &Instance) -> i32 {
    instance
        .get_global(&mut *store, "iters")
        .unwrap()
        .get(&mut *store)
        .unwrap_i32()
}

#[test]
fn out_of_fuel_at_an_exact_operator_count() {
    let engine = fuel_engine();
    // The check before iteration k sees 1 + 5 * (k - 1) consumed (the entry costs 1): with
    // fuel F the loop runs ceil((F - 1) / 5) iterations, then traps at the next loop header
    // (with 1, already at the entry).
    for (fuel, expected_iters) in [(1, 0), (2, 1), (6, 1), (7, 2), (1000, 200), (1003, 201)] {
        let (mut store, instance) = instance(&engine, SPIN);
        let spin = instance
            .get_typed_func::<(), ()>(&mut store, "spin")
            .unwrap();
        store.set_fuel(fuel).unwrap();
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_of(&err), Trap::OutOfFuel, "fuel {fuel}");
        assert_eq!(iters(&mut store, &instance), expected_iters, "fuel {fuel}");
        assert_eq!(store.get_fuel().unwrap(), 0);

        // The store stays usable.
        store.set_fuel(10).unwrap();
        let one = instance
            .get_typed_func::<(), i32>(&mut store, "one")
            .unwrap();
        assert_eq!(one.call(&mut store, ()).unwrap(), 1);
        assert_eq!(store.get_fuel().unwrap(), 8);
    }
}

#[test]
fn zero_fuel_traps_at_function_entry() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(&engine, SPIN);
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    store.set_fuel(0).unwrap();
    let err = spin.call(&mut store, ()).unwrap_err();
    assert_eq!(trap_of(&err), Trap::OutOfFuel);
    assert_eq!(iters(&mut store, &instance), 0);
}

/// Fuel at traps: the counter is stored before calls, `unreachable` and slow paths (it travels
/// in registers otherwise), not before every operator that may trap, so a trap leaves what
/// the last store wrote. That is deterministic: the same call leaves the same fuel on
/// every run; it never exceeds the operators executed; and what preceded the last call is
/// counted.
#[test]
fn fuel_left_by_a_trap_is_deterministic() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module
          (memory 1)
          (func $div (export "div") (param i32 i32) (result i32)
            local.get 0     ;; 1
            local.get 1     ;; 1
            i32.div_u       ;; 1 (traps when the divisor is 0)
            i32.const 1     ;; 1
            i32.add)        ;; 1
          (func (export "load") (param i32) (result i32)
            i32.const 5     ;; 1
            drop            ;; 0
            local.get 0     ;; 1
            i32.load        ;; 1 (traps out of bounds)
            i32.const 2     ;; 1
            i32.mul)        ;; 1
          (func (export "nested") (param i32) (result i32)
            i32.const 3     ;; 1
            i32.const 4     ;; 1
            i32.add         ;; 1
            drop            ;; 0
            i32.const 8     ;; 1
            local.get 0     ;; 1
            call $div)      ;; 1 (+ $div)
          (func (export "unreachable")
            i32.const 1     ;; 1
            drop            ;; 0
            unreachable))   ;; 0"#,
    );
    let div = instance
        .get_typed_func::<(i32, i32), i32>(&mut store, "div")
        .unwrap();
    let load = instance
        .get_typed_func::<i32, i32>(&mut store, "load")
        .unwrap();
    let nested = instance
        .get_typed_func::<i32, i32>(&mut store, "nested")
        .unwrap();
    let unreachable = instance
        .get_typed_func::<(), ()>(&mut store, "unreachable")
        .unwrap();

    // Without a trap every operator counts.
    store.set_fuel(1000).unwrap();
    assert_eq!(div.call(&mut store, (8, 2)).unwrap(), 5);
    assert_eq!(1000 - store.get_fuel().unwrap(), 6);
    store.set_fuel(1000).unwrap();
    assert_eq!(load.call(&mut store, 0).unwrap(), 0);
    assert_eq!(1000 - store.get_fuel().unwrap(), 6);

    // (name, call, trap, fuel charged up to and including the trapping operator (entries
    // cost 1), consumed at least: what the last store before the trap covers).
    type Call<'a> = Box<dyn Fn(&mut Store<()>) -> Error + 'a>;
    let cases: [(&str, Call<'_>, Trap, u64, u64); 4] = [
        (
            "div",
            Box::new(|s| div.call(s, (8, 0)).unwrap_err()),
            Trap::IntegerDivisionByZero,
            1 + 3,
            0,
        ),
        (
            "load",
            Box::new(|s| load.call(s, 65536).unwrap_err()),
            Trap::MemoryOutOfBounds,
            1 + 3,
            0,
        ),
        (
            "nested",
            Box::new(|s| nested.call(s, 0).unwrap_err()),
            Trap::IntegerDivisionByZero,
            1 + 6 + 1 + 3,
            1 + 6,
        ),
        (
            "unreachable",
            Box::new(|s| unreachable.call(s, ()).unwrap_err()),
            Trap::UnreachableCodeReached,
            1 + 1,
            1 + 1,
        ),
    ];
    for (name, call, trap, executed, at_least) in cases {
        let mut consumed = Vec::new();
        for _ in 0..5 {
            store.set_fuel(1000).unwrap();
            assert_eq!(trap_of(&call(&mut store)), trap, "{name}");
            consumed.push(1000 - store.get_fuel().unwrap());
            // The store stays usable, with exact counts again.
            store.set_fuel(1000).unwrap();
            assert_eq!(div.call(&mut store, (8, 2)).unwrap(), 5);
            assert_eq!(1000 - store.get_fuel().unwrap(), 6, "{name}");
        }
        assert!(
            consumed.iter().all(|&c| c == consumed[0]),
            "{name}: {consumed:?}"
        );
        assert!(
            (at_least..=executed).contains(&consumed[0]),
            "{name}: {} consumed, expected {at_least}..={executed}",
            consumed[0]
        );
    }
}

/// A loop calling a function: running out of fuel at the callee's entry check or at the loop
/// header happens at exactly the hand-computed point.
#[test]
fn out_of_fuel_at_a_callee_entry_at_an_exact_count() {
    let engine = fuel_engine();
    let (mut store, instance) = instance(
        &engine,
        r#"(module
          (global $n (export "iters") (mut i32) (i32.const 0))
          (func $leaf (result i32)
            i32.const 1)        ;; 1
          (func (export "spin")
            loop $l
              call $leaf        ;; 1 (+1 in $leaf)
              global.get $n     ;; 1
              i32.add           ;; 1
              global.set $n     ;; 1
              br $l             ;; 1  -> 6 per iteration
            end))"#,
    );
    let spin = instance
        .get_typed_func::<(), ()>(&mut store, "spin")
        .unwrap();
    // Entries cost 1, so an iteration costs 7. Before iteration k the header sees
    // 1 + 7 (k - 1) consumed and `$leaf`'s entry 7 (k - 1) + 3: iteration k completes iff
    // 7 (k - 1) + 3 < F.
    for fuel in [1u64, 2, 3, 4, 10, 11, 600, 601, 602] {
        store.set_fuel(fuel).unwrap();
        instance
            .get_global(&mut store, "iters")
            .unwrap()
            .set(&mut store, Val::I32(0))
            .unwrap();
        let err = spin.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_of(&err), Trap::OutOfFuel, "fuel {fuel}");
        let expected = fuel.saturating_sub(3).div_ceil(7) as i32;
        assert_eq!(iters(&mut store, &instance), expected, "fuel {fuel}");
        assert_eq!(store.get_fuel().unwrap(), 0, "fuel {fuel}");
    }
}

#[test]
fn host_functions_see_exact_fuel_and_can_add_some() {
    let engine = fuel_engine();
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "refuel" (func $refuel))
          (func (export "run") (param $n i32)
            loop $l
              call $refuel      ;; 1
              local.get $n      ;; 1
              i32.const 1       ;; 1
              i32.sub           ;; 1
              local.tee $n      ;; 1
              br_if $l          ;; 1  -> 6 per iteration
            end))"#,
    )
    .unwrap();
    // The fuel each host call sees, in order.
    let mut store = Store::new(&engine, Vec::<u64>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap("host", "refuel", |mut caller: Caller<'_, Vec<u64>>| {
            let fuel = caller.get_fuel()?;
            caller.data_mut().push(fuel);
            caller.set_fuel(fuel + 10)
        })
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, ()>(&mut store, "run")
        .unwrap();

    // 20 fuel alone would last 4 iterations; each host call adds 10.
    store.set_fuel(20).unwrap();
    run.call(&mut store, 100).unwrap();
    // The entry (1) and the call operator are charged before the host runs: iteration k
    // sees 20 - 1 - 6 * (k - 1) + 10 * (k - 1) - 1.
    let expected: Vec<u64> = (0..100).map(|k| 18 + 4 * k).collect();
    assert_eq!(store.data(), &expected);
    assert_eq!(store.get_fuel().unwrap(), 20 - 1 + 100 * 10 - 100 * 6);
}

/// Loop checks sit on the edges into the loop: the entry and every branch back, whether a
/// `br`, the taken side of a `br_if`, or a `br_table` entry. Each runs out at the same exact
/// count as a check at the loop header would.
#[test]
fn every_kind_of_back_edge_is_checked_exactly() {
    let engine = fuel_engine();
    let wat = r#"(module
      (global $iters (export "iters") (mut i32) (i32.const 0))
      (func (export "br_if")
        loop $l
          global.get $iters i32.const 1 i32.add global.set $iters   ;; 4
          i32.const 1
          br_if $l                                                   ;; 2 -> 6
        end)
      (func (export "br_table")
        block $out
          loop $l
            global.get $iters i32.const 1 i32.add global.set $iters ;; 4
            i32.const 0
            br_table $l $out                                         ;; 2 -> 6
          end
        end)
      (func (export "br_table_default")
        block $out
          loop $l
            global.get $iters i32.const 1 i32.add global.set $iters ;; 4
            i32.const 7
            br_table $out $out $l                                    ;; 2 -> 6
          end
        end)
      (func (export "one") (result i32)
        i32.const 1))"#;
    for name in ["br_if", "br_table", "br_table_default"] {
        // The check before iteration k sees 1 + 6 * (k - 1) consumed (the entry costs 1):
        // with fuel F the loop runs ceil((F - 1) / 6) iterations, then traps on the back edge.
        for (fuel, expected_iters) in [(1, 0), (2, 1), (7, 1), (8, 2), (601, 100), (602, 101)] {
            let (mut store, instance) = instance(&engine, wat);
            let spin = instance.get_typed_func::<(), ()>(&mut store, name).unwrap();
            store.set_fuel(fuel).unwrap();
            let err = spin.call(&mut store, ()).unwrap_err();
            assert_eq!(trap_of(&err), Trap::OutOfFuel, "{name}, fuel {fuel}");
            assert_eq!(
                iters(&mut store, &instance),
                expected_iters,
                "{name}, fuel {fuel}"
            );
            assert_eq!(store.get_fuel().unwrap(), 0, "{name}, fuel {fuel}");

            store.set_fuel(10).unwrap();
            let one = instance
                .get_typed_func::<(), i32>(&mut store, "one")
                .unwrap();
            assert_eq!(one.call(&mut store, ()).unwrap(), 1);
            assert_eq!(store.get_fuel().unwrap(), 8, "{name}, fuel {fuel}");
        }
    }
}

/// The counter travels in registers between wasm functions; indirect calls, tail calls and
/// host functions (called directly, indirectly and by a tail call) still see and leave the
/// exact count.
#[test]
fn fuel_is_exact_through_indirect_tail_and_host_calls() {
    let engine = fuel_engine();
    let module = Module::new(
        &engine,
        r#"(module
          (import "host" "inc" (func $h (param i32) (result i32)))
          (type $t (func (param i32) (result i32)))
          (table 2 funcref)
          (elem (i32.const 0) $inc $h)
          (func $inc (param i32) (result i32)
            local.get 0 i32.const 1 i32.add)                    ;; 1 + 3 (entry, body)
          (func $tail (param i32) (result i32)
            local.get 0 return_call $inc)                       ;; 1 + 2 + 4
          (func $tail_host (param i32) (result i32)
            local.get 0 i32.const 1
            return_call_indirect (type $t))                     ;; 1 + 3 + host
          (func (export "run") (param i32) (result i32)
            ;; 1 (entry)
            local.get 0 i32.const 0 call_indirect (type $t)     ;; 3 + 4
            call $tail                                          ;; 1 + 7
            call $tail_host                                     ;; 1 + 4
            call $h))                                           ;; 1"#,
    )
    .unwrap();
    let mut store = Store::new(&engine, Vec::<u64>::new());
    let mut linker = Linker::new(&engine);
    linker
        .func_wrap(
            "host",
            "inc",
            |mut caller: Caller<'_, Vec<u64>>, x: i32| -> Result<i32> {
                let fuel = caller.get_fuel()?;
                caller.data_mut().push(fuel);
                caller.set_fuel(fuel + 10)?;
                Ok(x + 1)
            },
        )
        .unwrap();
    let instance = linker.instantiate(&mut store, &module).unwrap();
    let run = instance
        .get_typed_func::<i32, i32>(&mut store, "run")
        .unwrap();
    for _ in 0..3 {
        store.data_mut().clear();
        store.set_fuel(1000).unwrap();
        assert_eq!(run.call(&mut store, 5).unwrap(), 9);
        // The tail-called host function sees 21 consumed, the last one 22 (and 10 added).
        assert_eq!(store.data(), &[1000 - 21, 1000 - 22 + 10]);
        assert_eq!(store.get_fuel().unwrap(), 1000 - 22 + 20);
    }
}
