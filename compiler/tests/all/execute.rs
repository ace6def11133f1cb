//! Runs compiled code through the trampolines with a hand-made `VMContext`, to check the
//! ABI (vmctx layout, calling conventions, trampolines) without a runtime. Only paths that do
//! not trap are exercised: there is no signal handler here.

use std::collections::HashMap;
use wasmjit_compiler::builtins::Builtin;
use wasmjit_compiler::vmoffsets::{
    funcref, global, host_ctx, limits, memory, table, vmctx, VMOffsets,
};
use wasmjit_compiler::*;

type ArrayToWasm = unsafe extern "C" fn(*mut u8, *mut u8, *const u8, *mut [u8; 16]);

// The runtime structures, sized from the one description of their layout.
const LIMITS_WORDS: usize = limits::SIZE as usize / 8;
const MEMORY_WORDS: usize = memory::SIZE as usize / 8;
const TABLE_WORDS: usize = table::SIZE as usize / 8;
const FUNCREF_WORDS: usize = funcref::SIZE as usize / 8;

/// A module instance built by hand: every runtime structure the code touches.
// Boxes inside vectors keep their addresses when the vector grows: the vmctx points to them.
#[allow(clippy::vec_box)]
struct TestInstance {
    info: ModuleInfo,
    code: CompiledCode,
    config: CompileConfig,
    vmctx: Vec<u64>,
    limits: Box<[u64; LIMITS_WORDS]>,
    _epoch: Box<u64>,
    _builtins: Box<[usize; Builtin::COUNT]>,
    _type_ids: Box<[u32]>,
    _memory: Box<[u64; MEMORY_WORDS]>,
    memory_bytes: Vec<u8>,
    _table: Box<[u64; TABLE_WORDS]>,
    table_elems: Vec<u64>,
    _globals: Vec<Box<[u8; 16]>>,
    _imports: Vec<Box<[u64; FUNCREF_WORDS]>>,
    _host_ctxs: Vec<Box<[usize; 1]>>,
    trampolines: HashMap<FuncType, Trampolines>,
}

extern "C" fn memory_grow(_vmctx: *mut u8, _mem: u32, _delta: u64) -> u64 {
    u64::MAX
}

static NEW_EPOCH_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

extern "C" fn new_epoch(_vmctx: *mut u8) -> u32 {
    NEW_EPOCH_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    1
}

static OUT_OF_FUEL_CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Refills 100 fuel, like a store with a reserve would.
extern "C" fn out_of_fuel(vmctx: *mut u8) -> u32 {
    OUT_OF_FUEL_CALLS.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    // SAFETY: `vmctx` is a test instance's context, whose `RUNTIME_LIMITS` slot points to
    // its live limits array.
    unsafe {
        let limits = *(vmctx.add(vmctx::RUNTIME_LIMITS as usize) as *const *mut i64);
        *limits.add(limits::FUEL_CONSUMED as usize / 8) -= 100;
    }
    1
}

/// A host function `(i32) -> i32` doubling its argument, in the array-call convention.
extern "C" fn host_double(
    _ctx: *mut u8,
    _caller: *mut u8,
    values: *mut [u8; 16],
    len: usize,
) -> bool {
    assert_eq!(len, 1);
    // SAFETY: the trampoline passes a buffer of `len` slots.
    let slot = unsafe { &mut *values };
    let x = i32::from_le_bytes(slot[..4].try_into().unwrap());
    slot[..4].copy_from_slice(&(x * 2).to_le_bytes());
    true
}

impl TestInstance {
    fn new(wat: &str) -> Self {
        // No reservation: every memory access is bounds-checked against the small buffer.
        Self::with_config(
            wat,
            CompileConfig {
                memory_reservation: 0,
                memory_guard_size: 0,
                ..CompileConfig::default()
            },
        )
    }

    fn with_config(wat: &str, config: CompileConfig) -> Self {
        let bytes = wat::parse_str(wat).unwrap();
        let (info, bodies) = parse(&bytes, &config).unwrap();
        let code = compile(&info, bodies, &config).unwrap();
        let offsets = VMOffsets::new(&info);
        let mut vmctx = vec![0u64; offsets.size() as usize / 8];
        let base = vmctx.as_mut_ptr() as *mut u8;
        let set = |vmctx: &mut Vec<u64>, offset: u32, value: u64| {
            assert_eq!(offset % 8, 0);
            vmctx[offset as usize / 8] = value;
        };

        // Stack limit 0: never overflows. Epoch deadline far away.
        let mut limits = Box::new([0u64; LIMITS_WORDS]);
        limits[limits::EPOCH_DEADLINE as usize / 8] = u64::MAX;
        set(
            &mut vmctx,
            vmctx::RUNTIME_LIMITS,
            &*limits as *const _ as u64,
        );
        let epoch = Box::new(0u64);
        set(&mut vmctx, vmctx::EPOCH_COUNTER, &*epoch as *const _ as u64);
        // The context's copy of the deadline, which compiled code reads: never reached.
        set(&mut vmctx, vmctx::EPOCH_DEADLINE, u64::MAX);
        // The context's address, which the epoch slow path passes its stub.
        set(&mut vmctx, vmctx::SELF, base as u64);
        let mut builtins = Box::new([0usize; Builtin::COUNT]);
        builtins[Builtin::memory_grow().index() as usize] = memory_grow as *const () as usize;
        builtins[Builtin::new_epoch().index() as usize] = new_epoch as *const () as usize;
        builtins[Builtin::out_of_fuel().index() as usize] = out_of_fuel as *const () as usize;
        set(&mut vmctx, vmctx::BUILTINS, builtins.as_ptr() as u64);
        // Type ids: each module type is its own id, as funcrefs' `TYPE_ID`s below say.
        let type_ids: Box<[u32]> = (0..info.types.len() as u32).collect();
        set(&mut vmctx, vmctx::TYPE_IDS, type_ids.as_ptr() as u64);

        let mut memory_bytes = Vec::new();
        let mut memory_def = Box::new([0u64; MEMORY_WORDS]);
        if let Some(m) = info.memories.values().next() {
            memory_bytes = vec![0u8; m.minimum as usize * 65536];
            memory_def[(memory::BASE / 8) as usize] = memory_bytes.as_mut_ptr() as u64;
            memory_def[(memory::CURRENT_LENGTH / 8) as usize] = memory_bytes.len() as u64;
            set(
                &mut vmctx,
                offsets.memory(0),
                &*memory_def as *const _ as u64,
            );
        }
        let mut table_elems = Vec::new();
        let mut table_def = Box::new([0u64; TABLE_WORDS]);
        if let Some(t) = info.tables.values().next() {
            table_elems = vec![0u64; t.minimum as usize];
            table_def[(table::BASE / 8) as usize] = table_elems.as_mut_ptr() as u64;
            table_def[(table::CURRENT_ELEMENTS / 8) as usize] = table_elems.len() as u64;
            set(&mut vmctx, offsets.table(0), &*table_def as *const _ as u64);
        }
        let mut globals = Vec::new();
        for (defined, init) in info.global_inits.iter() {
            let mut g = Box::new([0u8; global::SIZE as usize]);
            match init.ops[..] {
                [ConstOp::I32Const(v)] => g[..4].copy_from_slice(&v.to_le_bytes()),
                [ConstOp::I64Const(v)] => g[..8].copy_from_slice(&v.to_le_bytes()),
                _ => panic!("unsupported global initializer in test"),
            }
            let index = info.global_index(defined);
            set(
                &mut vmctx,
                offsets.global(index.as_u32()),
                g.as_ptr() as u64,
            );
            globals.push(g);
        }
        for (i, f) in code.functions.iter().enumerate() {
            let at = offsets.defined_funcref(i as u32);
            let index = info.func_index(DefinedFuncIndex::new(i));
            set(&mut vmctx, at + funcref::WASM_CALL, f.ptr as u64);
            set(&mut vmctx, at + funcref::VMCTX, base as u64);
            set(
                &mut vmctx,
                at + funcref::TYPE_ID,
                u64::from(info.functions[index].as_u32()),
            );
        }

        let mut instance = Self {
            info,
            code,
            config,
            vmctx,
            limits,
            _epoch: epoch,
            _builtins: builtins,
            _type_ids: type_ids,
            _memory: memory_def,
            memory_bytes,
            _table: table_def,
            table_elems,
            _globals: globals,
            _imports: Vec::new(),
            _host_ctxs: Vec::new(),
            trampolines: HashMap::new(),
        };
        instance.link_imports(offsets);
        instance
    }

    /// Imports are all `host_double`, called through a wasm-to-array trampoline.
    fn link_imports(&mut self, offsets: VMOffsets) {
        for i in 0..self.info.num_imported_funcs {
            let ty = self.info.func_type(FuncIndex::from_u32(i)).clone();
            assert_eq!(ty.params, [WasmType::I32]);
            let wasm_to_array = self.trampolines(&ty).wasm_to_array.ptr;
            let mut host = Box::new([0usize; 1]);
            host[(host_ctx::ARRAY_CALL / 8) as usize] = host_double as *const () as usize;
            let mut func_ref = Box::new([0u64; FUNCREF_WORDS]);
            func_ref[(funcref::WASM_CALL / 8) as usize] = wasm_to_array as u64;
            func_ref[(funcref::VMCTX / 8) as usize] = host.as_ptr() as u64;
            func_ref[(funcref::TYPE_ID / 8) as usize] =
                u64::from(self.info.functions[FuncIndex::from_u32(i)].as_u32());
            self.vmctx[(offsets.imported_func(i) / 8) as usize] = func_ref.as_ptr() as u64;
            self._imports.push(func_ref);
            self._host_ctxs.push(host);
        }
    }

    fn trampolines(&mut self, ty: &FuncType) -> &Trampolines {
        let config = &self.config;
        self.trampolines
            .entry(ty.clone())
            .or_insert_with(|| compile_trampolines(ty, config).unwrap())
    }

    /// Calls export `name` with raw 16-byte slots; returns the result slots.
    fn call_raw(&mut self, name: &str, args: &[[u8; 16]]) -> Vec<[u8; 16]> {
        let index = self
            .info
            .exports
            .iter()
            .find_map(|e| match e.index {
                EntityIndex::Function(i) if e.name == name => Some(i),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no export {name}"));
        let ty = self.info.func_type(index).clone();
        assert_eq!(args.len(), ty.params.len());
        let defined = self
            .info
            .defined_func_index(index)
            .expect("a defined function");
        let wasm_call = self.code.functions[defined.index()].ptr;
        let entry = self.trampolines(&ty).array_to_wasm.ptr;
        let mut values = vec![[0u8; 16]; ty.params.len().max(ty.results.len())];
        values[..args.len()].copy_from_slice(args);
        let vmctx = self.vmctx.as_mut_ptr() as *mut u8;
        // SAFETY: `entry` is the array-to-wasm trampoline of `ty`, `wasm_call` a function of
        // type `ty`, `vmctx` a complete context for this module, and `values` holds
        // `max(params, results)` slots.
        unsafe {
            let entry: ArrayToWasm = std::mem::transmute(entry);
            entry(vmctx, vmctx, wasm_call, values.as_mut_ptr());
        }
        values.truncate(ty.results.len());
        values
    }

    fn call_i64s(&mut self, name: &str, args: &[i64]) -> Vec<i64> {
        let args: Vec<[u8; 16]> = args.iter().map(|a| slot(&a.to_le_bytes())).collect();
        self.call_raw(name, &args)
            .iter()
            .map(|r| i64::from_le_bytes(r[..8].try_into().unwrap()))
            .collect()
    }

    fn call_i32s(&mut self, name: &str, args: &[i32]) -> Vec<i32> {
        let args: Vec<[u8; 16]> = args.iter().map(|a| slot(&a.to_le_bytes())).collect();
        self.call_raw(name, &args)
            .iter()
            .map(|r| i32::from_le_bytes(r[..4].try_into().unwrap()))
            .collect()
    }

    fn call_f64s(&mut self, name: &str, args: &[f64]) -> Vec<f64> {
        let args: Vec<[u8; 16]> = args.iter().map(|a| slot(&a.to_le_bytes())).collect();
        self.call_raw(name, &args)
            .iter()
            .map(|r| f64::from_le_bytes(r[..8].try_into().unwrap()))
            .collect()
    }
}

fn slot(bytes: &[u8]) -> [u8; 16] {
    let mut s = [0u8; 16];
    s[..bytes.len()].copy_from_slice(bytes);
    s
}

#[test]
fn add_returns_the_sum() {
    let mut i = TestInstance::new(
        r#"(module (func (export "add") (param i32 i32) (result i32)
            local.get 0 local.get 1 i32.add))"#,
    );
    assert_eq!(i.call_i32s("add", &[2, 40]), [42]);
    assert_eq!(i.call_i32s("add", &[i32::MAX, 1]), [i32::MIN]);
}

#[test]
fn recursive_fib_uses_direct_calls() {
    let mut i = TestInstance::new(
        r#"(module
          (func $fib (export "fib") (param i32) (result i32)
            local.get 0 i32.const 2 i32.lt_u
            if (result i32) local.get 0
            else
              local.get 0 i32.const 1 i32.sub call $fib
              local.get 0 i32.const 2 i32.sub call $fib
              i32.add
            end)
          (func (export "fib_loop") (param i64) (result i64) (local i64 i64 i64)
            i64.const 1 local.set 2
            block $done
              loop $next
                local.get 0 i64.eqz br_if $done
                local.get 1 local.get 2 i64.add local.set 3
                local.get 2 local.set 1
                local.get 3 local.set 2
                local.get 0 i64.const 1 i64.sub local.set 0
                br $next
              end
            end
            local.get 1))"#,
    );
    assert_eq!(i.call_i32s("fib", &[20]), [6765]);
    assert_eq!(i.call_i64s("fib_loop", &[90]), [2880067194370816120]);
}

#[test]
fn many_results_go_through_calls_and_trampolines() {
    let results = "i64 ".repeat(20);
    let body: String = (0..20)
        .map(|k| format!("local.get 0 i64.const {k} i64.add\n"))
        .collect();
    let sum = "i64.add\n".repeat(19);
    let wat = format!(
        r#"(module
          (func $many (export "many") (param i64) (result {results}) {body})
          (func (export "sum") (param i64) (result i64) local.get 0 call $many {sum}))"#
    );
    let mut i = TestInstance::new(&wat);
    let expected: Vec<i64> = (0..20).map(|k| 100 + k).collect();
    assert_eq!(i.call_i64s("many", &[100]), expected);
    assert_eq!(i.call_i64s("sum", &[100]), [expected.iter().sum::<i64>()]);
}

#[test]
fn multi_value_blocks_br_table_and_if_without_else() {
    let mut i = TestInstance::new(
        r#"(module
          (func (export "pick") (param i32) (result i32 i32)
            i32.const 10 i32.const 20
            block $b2 (param i32 i32) (result i32 i32)
              block $b1 (param i32 i32) (result i32 i32)
                local.get 0
                br_table $b1 $b2 2
              end
              i32.add i32.const 1
              return
            end
            i32.mul i32.const 2)
          (func (export "if_params") (param i32) (result i32)
            i32.const 5
            local.get 0
            if (param i32) (result i32) i32.const 100 i32.add end)
          (func (export "loop_params") (param i32) (result i32)
            i32.const 0 local.get 0
            loop $l (param i32 i32) (result i32)
              local.tee 0 i32.add local.get 0
              i32.const 1 i32.sub local.tee 0
              local.get 0 br_if $l
              drop
            end))"#,
    );
    assert_eq!(i.call_i32s("pick", &[0]), [30, 1]);
    assert_eq!(i.call_i32s("pick", &[1]), [200, 2]);
    assert_eq!(i.call_i32s("pick", &[7]), [10, 20]);
    assert_eq!(i.call_i32s("if_params", &[1]), [105]);
    assert_eq!(i.call_i32s("if_params", &[0]), [5]);
    assert_eq!(i.call_i32s("loop_params", &[4]), [10]);
}

const MEMORY_WAT: &str = r#"(module (memory 1)
          (func (export "roundtrip") (param i32 i64) (result i64)
            local.get 0 local.get 1 i64.store offset=8
            local.get 0 i64.load offset=8)
          (func (export "load8_s") (param i32) (result i32) local.get 0 i32.load8_s)
          (func (export "store16") (param i32 i32) local.get 0 local.get 1 i32.store16)
          (func (export "size") (result i32) memory.size)
          (func (export "grow") (result i32) i32.const 1 memory.grow))"#;

fn check_memory_accesses(mut i: TestInstance) {
    assert_eq!(i.call_i64s("roundtrip", &[100, -5]), [-5]);
    assert_eq!(&i.memory_bytes[108..116], &(-5i64).to_le_bytes());
    i.call_i32s("store16", &[65534, 0x80ff]);
    assert_eq!(i.call_i32s("load8_s", &[65534]), [-1]);
    assert_eq!(i.call_i32s("load8_s", &[65535]), [-128]);
    assert_eq!(i.call_i32s("size", &[]), [1]);
    assert_eq!(i.call_i32s("grow", &[]), [-1]);
}

#[test]
fn memory_loads_stores_and_size_with_bounds_checks() {
    check_memory_accesses(TestInstance::new(MEMORY_WAT));
}

#[test]
fn memory_loads_stores_and_size_with_guard_pages() {
    // In-bounds accesses only: the small buffer stands in for the 4 GiB reservation.
    let i = TestInstance::with_config(MEMORY_WAT, CompileConfig::default());
    check_memory_accesses(i);
}

#[test]
fn integer_edge_cases_do_not_trap() {
    let mut i = TestInstance::new(
        r#"(module
          (func (export "rem_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rem_s)
          (func (export "rem_s64") (param i64 i64) (result i64) local.get 0 local.get 1 i64.rem_s)
          (func (export "div_s") (param i32 i32) (result i32) local.get 0 local.get 1 i32.div_s)
          (func (export "rotl") (param i32 i32) (result i32) local.get 0 local.get 1 i32.rotl)
          (func (export "bits") (param i64) (result i64 i64 i64)
            local.get 0 i64.clz local.get 0 i64.ctz local.get 0 i64.popcnt)
          (func (export "ext") (param i32) (result i32) local.get 0 i32.extend8_s))"#,
    );
    assert_eq!(i.call_i32s("rem_s", &[i32::MIN, -1]), [0]);
    assert_eq!(i.call_i32s("rem_s", &[-7, 2]), [-1]);
    assert_eq!(i.call_i64s("rem_s64", &[i64::MIN, -1]), [0]);
    assert_eq!(i.call_i32s("div_s", &[-7, 2]), [-3]);
    assert_eq!(i.call_i32s("rotl", &[0x8000_0001u32 as i32, 33]), [3]);
    assert_eq!(i.call_i64s("bits", &[0x00f0]), [56, 4, 4]);
    assert_eq!(i.call_i32s("ext", &[0x80]), [-128]);
}

#[test]
fn float_operators_follow_wasm() {
    let mut i = TestInstance::new(
        r#"(module
          (func (export "nearest") (param f64) (result f64) local.get 0 f64.nearest)
          (func (export "min") (param f64 f64) (result f64) local.get 0 local.get 1 f64.min)
          (func (export "copysign") (param f64 f64) (result f64)
            local.get 0 local.get 1 f64.copysign)
          (func (export "sat") (param f64) (result i32) local.get 0 i32.trunc_sat_f64_s)
          (func (export "trunc") (param f64) (result i64) local.get 0 i64.trunc_f64_u)
          (func (export "f32") (param f32) (result f32) local.get 0 f32.sqrt))"#,
    );
    assert_eq!(i.call_f64s("nearest", &[2.5]), [2.0]);
    assert_eq!(i.call_f64s("nearest", &[-3.5]), [-4.0]);
    assert_eq!(
        i.call_f64s("min", &[0.0, -0.0])[0].to_bits(),
        (-0.0f64).to_bits()
    );
    assert!(i.call_f64s("min", &[f64::NAN, 1.0])[0].is_nan());
    assert_eq!(i.call_f64s("copysign", &[3.0, -1.0]), [-3.0]);
    let sat = |i: &mut TestInstance, x: f64| {
        let r = i.call_raw("sat", &[slot(&x.to_le_bytes())]);
        i32::from_le_bytes(r[0][..4].try_into().unwrap())
    };
    assert_eq!(sat(&mut i, 1e20), i32::MAX);
    assert_eq!(sat(&mut i, f64::NAN), 0);
    let r = i.call_raw("trunc", &[slot(&1e19f64.to_le_bytes())]);
    assert_eq!(
        u64::from_le_bytes(r[0][..8].try_into().unwrap()),
        10_000_000_000_000_000_000
    );
    let r = i.call_raw("f32", &[slot(&16f32.to_le_bytes())]);
    assert_eq!(f32::from_le_bytes(r[0][..4].try_into().unwrap()), 4.0);
}

#[test]
fn call_indirect_through_table_with_ref_func() {
    let mut i = TestInstance::new(
        r#"(module
          (type $t (func (param i32) (result i32)))
          (table 4 funcref)
          (func $inc (type $t) local.get 0 i32.const 1 i32.add)
          (func $neg (type $t) i32.const 0 local.get 0 i32.sub)
          (elem declare func $inc $neg)
          (func (export "setup")
            i32.const 1 ref.func $inc table.set
            i32.const 2 ref.func $neg table.set)
          (func (export "call") (param i32 i32) (result i32)
            local.get 1 local.get 0 call_indirect (type $t))
          (func (export "is_null") (param i32) (result i32)
            local.get 0 table.get ref.is_null)
          (func (export "size") (result i32) table.size))"#,
    );
    i.call_i32s("setup", &[]);
    assert_ne!(i.table_elems[1], 0);
    assert_eq!(i.call_i32s("call", &[1, 41]), [42]);
    assert_eq!(i.call_i32s("call", &[2, 41]), [-41]);
    assert_eq!(i.call_i32s("is_null", &[0]), [1]);
    assert_eq!(i.call_i32s("is_null", &[2]), [0]);
    assert_eq!(i.call_i32s("size", &[]), [4]);
}

#[test]
fn imported_function_runs_through_wasm_to_array() {
    let mut i = TestInstance::new(
        r#"(module
          (import "env" "double" (func $double (param i32) (result i32)))
          (func (export "quad") (param i32) (result i32)
            local.get 0 call $double call $double)
          (func (export "tail") (param i32) (result i32)
            local.get 0 return_call $double))"#,
    );
    assert_eq!(i.call_i32s("quad", &[5]), [20]);
    assert_eq!(i.call_i32s("tail", &[21]), [42]);
}

#[test]
fn mutable_globals_hold_values() {
    let mut i = TestInstance::new(
        r#"(module
          (global $g (mut i64) (i64.const 7))
          (global $c i32 (i32.const 3))
          (func (export "bump") (result i64)
            global.get $g global.get $c i64.extend_i32_u i64.add global.set $g
            global.get $g))"#,
    );
    assert_eq!(i.call_i64s("bump", &[]), [10]);
    assert_eq!(i.call_i64s("bump", &[]), [13]);
}

#[test]
fn epoch_deadline_calls_the_new_epoch_builtin_at_entry_and_loop_headers() {
    use std::sync::atomic::Ordering::SeqCst;
    let config = CompileConfig {
        epoch_interruption: true,
        ..CompileConfig::default()
    };
    let mut i = TestInstance::with_config(
        r#"(module (func (export "count") (param i32) (result i32)
            loop $l
              local.get 0 i32.const 1 i32.sub local.tee 0 br_if $l
            end
            local.get 0))"#,
        config,
    );
    assert_eq!(i.call_i32s("count", &[3]), [0]);
    assert_eq!(NEW_EPOCH_CALLS.load(SeqCst), 0, "deadline not reached");
    i.vmctx[(vmctx::EPOCH_DEADLINE / 8) as usize] = 0;
    assert_eq!(i.call_i32s("count", &[3]), [0]);
    // At the entry and once per loop iteration, as Wasmtime checks.
    assert_eq!(NEW_EPOCH_CALLS.load(SeqCst), 4);
}

#[test]
fn fuel_is_counted_exactly_and_refilled_through_the_out_of_fuel_builtin() {
    use std::sync::atomic::Ordering::SeqCst;
    let config = CompileConfig {
        consume_fuel: true,
        ..CompileConfig::default()
    };
    let mut i = TestInstance::with_config(
        r#"(module (func (export "count") (param i32) (result i32)
            loop $l
              local.get 0 i32.const 1 i32.sub local.tee 0 br_if $l
            end
            local.get 0))"#,
        config,
    );
    let fuel = (limits::FUEL_CONSUMED / 8) as usize;
    i.limits[fuel] = (-1000i64) as u64;
    assert_eq!(i.call_i32s("count", &[3]), [0]);
    // 1 on entry (as Wasmtime charges), 5 per iteration, 1 for the final `local.get`.
    assert_eq!(i.limits[fuel] as i64, -1000 + 1 + 3 * 5 + 1);
    assert_eq!(OUT_OF_FUEL_CALLS.load(SeqCst), 0);

    // 10 fuel: loop header checks find it spent and the builtin refills 100, three times in
    // all (50 iterations: 252, with the entry and the final `local.get`).
    i.limits[fuel] = (-10i64) as u64;
    assert_eq!(i.call_i32s("count", &[50]), [0]);
    assert_eq!(i.limits[fuel] as i64, -10 - 300 + 252);
    assert_eq!(OUT_OF_FUEL_CALLS.load(SeqCst), 3);
    // The stub reported "continue".
    assert_eq!(i.limits[(limits::SLOW_PATH_STATUS / 8) as usize], 1);
}
