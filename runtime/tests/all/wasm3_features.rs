//! SIMD and the Wasm 3.0 features without GC: each `Config` switch, and behaviour the spec
//! scripts do not cover (deep tail recursion, v128 through the embedding API, 64-bit and
//! multiple memories from the host's side).

use wasmjit::*;

fn engine_with(f: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    f(&mut config);
    Engine::new(&config).unwrap()
}

/// Compiles `wat` with the defaults (must succeed) and with `disable` applied (must fail
/// with a message containing one of `names`).
fn feature_switch(wat: &str, disable: impl FnOnce(&mut Config), names: &[&str]) {
    Module::new(&Engine::default(), wat).expect("compiles with the default features");
    let engine = engine_with(disable);
    let err = match Module::new(&engine, wat) {
        Ok(_) => panic!("compiled with the feature disabled"),
        Err(err) => format!("{err:#}"),
    };
    let lower = err.to_lowercase();
    assert!(
        names.iter().any(|n| lower.contains(n)),
        "message does not name the feature: {err}"
    );
}

#[test]
fn simd_switch() {
    feature_switch(
        r#"(module (func (result v128) v128.const i32x4 1 2 3 4 v128.const i32x4 1 1 1 1 i32x4.add))"#,
        |c| {
            c.wasm_simd(false).wasm_relaxed_simd(false);
        },
        &["simd"],
    );
}

#[test]
fn relaxed_simd_switch() {
    feature_switch(
        r#"(module (func (param v128 v128) (result v128)
              local.get 0 local.get 1 i8x16.relaxed_swizzle))"#,
        |c| {
            c.wasm_relaxed_simd(false);
        },
        &["relaxed simd", "relaxed-simd", "relaxed_simd"],
    );
}

#[test]
fn tail_call_switch() {
    feature_switch(
        r#"(module (func $f (result i32) return_call $f))"#,
        |c| {
            c.wasm_tail_call(false);
        },
        &["tail call", "tail-call", "tail_call"],
    );
}

#[test]
fn extended_const_switch() {
    feature_switch(
        r#"(module (global i32 (i32.add (i32.const 1) (i32.const 2))))"#,
        |c| {
            c.wasm_extended_const(false);
        },
        &["extended const", "extended-const", "extended_const"],
    );
}

#[test]
fn multi_memory_switch() {
    feature_switch(
        r#"(module (memory 1) (memory 1))"#,
        |c| {
            c.wasm_multi_memory(false);
        },
        &["multi-memory", "multi_memory", "multiple memories"],
    );
}

#[test]
fn memory64_switch() {
    feature_switch(
        r#"(module (memory i64 1))"#,
        |c| {
            c.wasm_memory64(false);
        },
        &["memory64"],
    );
}

/// `is_even`/`is_odd` calling each other with `return_call` ten million times: far more
/// frames than `max_wasm_stack` holds, so this only returns if tail calls reuse the frame.
#[test]
fn mutual_tail_recursion_runs_in_constant_stack() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (type $t (func (param i64) (result i32)))
            (table 2 funcref)
            (elem (i32.const 0) $even_i $odd_i)
            (func $even (export "even") (param i64) (result i32)
              local.get 0 i64.eqz if (result i32) i32.const 1
              else local.get 0 i64.const 1 i64.sub return_call $odd end)
            (func $odd (param i64) (result i32)
              local.get 0 i64.eqz if (result i32) i32.const 0
              else local.get 0 i64.const 1 i64.sub return_call $even end)
            (func $even_i (export "even_indirect") (param i64) (result i32)
              local.get 0 i64.eqz if (result i32) i32.const 1
              else local.get 0 i64.const 1 i64.sub i32.const 1 return_call_indirect (type $t) end)
            (func $odd_i (param i64) (result i32)
              local.get 0 i64.eqz if (result i32) i32.const 0
              else local.get 0 i64.const 1 i64.sub i32.const 0 return_call_indirect (type $t) end))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let even = instance.get_typed_func::<i64, i32>(&mut store, "even")?;
    assert_eq!(even.call(&mut store, 10_000_000)?, 1);
    assert_eq!(even.call(&mut store, 10_000_001)?, 0);
    let even = instance.get_typed_func::<i64, i32>(&mut store, "even_indirect")?;
    assert_eq!(even.call(&mut store, 10_000_000)?, 1);
    assert_eq!(even.call(&mut store, 9_999_999)?, 0);
    Ok(())
}

#[test]
fn v128_params_results_and_globals() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (global $g (export "g") (mut v128) (v128.const i32x4 1 2 3 4))
            (func (export "add") (param v128 v128) (result v128)
              local.get 0 local.get 1 i32x4.add)
            (func (export "acc") (param v128) (result v128)
              global.get $g local.get 0 i32x4.add global.set $g global.get $g)
            (func (export "dot") (param v128 v128) (result f32)
              (local v128)
              local.get 0 local.get 1 f32x4.mul local.tee 2
              local.get 2 local.get 2 i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7
              f32x4.add local.tee 2
              local.get 2 local.get 2 i8x16.shuffle 4 5 6 7 0 1 2 3 4 5 6 7 0 1 2 3
              f32x4.add f32x4.extract_lane 0))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let lanes = |l: [u32; 4]| -> V128 {
        let mut v = 0u128;
        for (i, x) in l.iter().enumerate() {
            v |= u128::from(*x) << (32 * i);
        }
        V128::from(v)
    };
    let add = instance.get_typed_func::<(V128, V128), V128>(&mut store, "add")?;
    let r = add.call(
        &mut store,
        (lanes([1, 2, 3, u32::MAX]), lanes([10, 20, 30, 2])),
    )?;
    assert_eq!(u128::from(r), u128::from(lanes([11, 22, 33, 1])));

    let acc = instance.get_func(&mut store, "acc").unwrap();
    let mut out = [Val::I32(0)];
    acc.call(&mut store, &[Val::V128(lanes([1, 1, 1, 1]))], &mut out)?;
    assert_eq!(
        u128::from(out[0].v128().unwrap()),
        u128::from(lanes([2, 3, 4, 5]))
    );
    let g = instance.get_global(&mut store, "g").unwrap();
    assert_eq!(
        u128::from(g.get(&mut store).v128().unwrap()),
        u128::from(lanes([2, 3, 4, 5]))
    );

    let dot = instance.get_typed_func::<(V128, V128), f32>(&mut store, "dot")?;
    let f = |l: [f32; 4]| lanes(l.map(f32::to_bits));
    let r = dot.call(
        &mut store,
        (f([1.0, 2.0, 3.0, 4.0]), f([5.0, 6.0, 7.0, 8.0])),
    )?;
    assert_eq!(r, 70.0);
    Ok(())
}

#[test]
fn memory64_and_multi_memory_from_the_host() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (memory $a (export "a") 1)
            (memory $b (export "b") i64 1 3)
            (func (export "copy") (param i32 i64)
              local.get 1 local.get 0 i32.load8_u $a i32.store8 $b)
            (func (export "load_b") (param i64) (result i64) local.get 0 i64.load $b)
            (func (export "v128_b") (param i64) (result v128) local.get 0 v128.load $b offset=8)
            (func (export "grow_b") (param i64) (result i64) local.get 0 memory.grow $b)
            (func (export "size_b") (result i64) memory.size $b))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[])?;
    let a = instance.get_memory(&mut store, "a").unwrap();
    a.data_mut(&mut store)[100] = 0xab;
    let copy = instance.get_typed_func::<(i32, i64), ()>(&mut store, "copy")?;
    copy.call(&mut store, (100, 65535))?;
    let b = instance.get_memory(&mut store, "b").unwrap();
    assert_eq!(b.data(&store)[65535], 0xab);

    let load = instance.get_typed_func::<i64, i64>(&mut store, "load_b")?;
    assert_eq!(load.call(&mut store, 65528)?, 0xab << 56);
    // Past the end, and indices that only a 64-bit memory can express.
    for index in [65529, 1 << 32, -8, i64::MAX] {
        let err = load.call(&mut store, index).unwrap_err();
        assert_eq!(
            err.downcast_ref::<Trap>(),
            Some(&Trap::MemoryOutOfBounds),
            "{index}"
        );
    }
    let v128 = instance.get_typed_func::<i64, V128>(&mut store, "v128_b")?;
    assert_eq!(u128::from(v128.call(&mut store, 65512)?), 0xab << 120);
    assert!(v128.call(&mut store, 65513).is_err());
    // Offset + index overflowing 64 bits traps rather than wrapping.
    assert!(v128.call(&mut store, -8).is_err());

    let grow = instance.get_typed_func::<i64, i64>(&mut store, "grow_b")?;
    let size = instance.get_typed_func::<(), i64>(&mut store, "size_b")?;
    assert_eq!(grow.call(&mut store, 2)?, 1);
    assert_eq!(size.call(&mut store, ())?, 3);
    assert_eq!(grow.call(&mut store, 1)?, -1);
    assert_eq!(grow.call(&mut store, i64::MAX)?, -1);
    assert_eq!(load.call(&mut store, 3 * 65536 - 8)?, 0);
    Ok(())
}

/// v128 through `select`, block results, many results (returned through memory), and host
/// functions (the wasm→host trampoline).
#[test]
fn v128_through_select_blocks_many_results_and_host_calls() -> Result<()> {
    let engine = Engine::default();
    let module = Module::new(
        &engine,
        r#"(module
            (import "host" "twice" (func $twice (param i32 v128) (result v128)))
            (func $many (param v128) (result v128 v128 v128 v128 v128 v128 v128 v128 v128 i32)
              (local $zero v128)
              local.get 0 local.get 0 local.get 0 local.get 0 local.get 0
              local.get 0 local.get 0 local.get $zero local.get 0 i32.const 7)
            (func (export "run") (param v128 i32) (result v128)
              (local $acc v128)
              local.get 0
              call $many
              drop
              i8x16.add i8x16.add i8x16.add i8x16.add i8x16.add i8x16.add i8x16.add i8x16.add
              local.set $acc
              local.get $acc
              v128.const i64x2 0 0
              local.get 1 select (result v128)
              block (param v128) (result v128)
                local.get 1
                if (param v128) (result v128)
                  i32.const 3 local.get $acc call $twice i8x16.add
                end
              end))"#,
    )?;
    let mut store = Store::new(&engine, ());
    let twice = Func::wrap(&mut store, |k: i32, v: V128| -> V128 {
        let bytes = u128::from(v)
            .to_le_bytes()
            .map(|b| b.wrapping_mul(2 * k as u8));
        V128::from(u128::from_le_bytes(bytes))
    });
    let instance = Instance::new(&mut store, &module, &[twice.into()])?;
    let run = instance.get_typed_func::<(V128, i32), V128>(&mut store, "run")?;
    let ones = V128::from(u128::from_le_bytes([1; 16]));
    // 8 copies of 1 (one lane of the nine is zero) = 8, plus 8 * 6 from the host: 56.
    assert_eq!(
        u128::from(run.call(&mut store, (ones, 1))?),
        u128::from_le_bytes([56; 16])
    );
    assert_eq!(u128::from(run.call(&mut store, (ones, 0))?), 0);
    Ok(())
}
