//! `Config::signals_based_traps(false)`: compiled code that never raises a signal.
//!
//! Every kind of trap gives the same `Trap` and the same backtrace as with signals on; an
//! engine with signals off works in a process where the runtime's handlers were never
//! installed and where any SIGSEGV, SIGILL, SIGFPE or SIGBUS aborts (a child process), and
//! leaves those handlers alone; the setting is part of code compatibility.

use crate::support::abort_on_fault;
use crate::support::child::{in_child_for, run_in_child};

use std::future::Future;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use wasmjit::*;

/// A function for every trap the code raises itself (`Builtin` traps and host errors
/// included), and some that must not trap.
const WAT: &str = r#"
(module
  (type $v_i (func (result i32)))
  (type $i_i (func (param i32) (result i32)))
  (import "host" "fail" (func $fail))
  (memory 1)
  (memory $m64 i64 1)
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $forty_two $identity)
  (func $forty_two (type $v_i) i32.const 42)
  (func $identity (type $i_i) local.get 0)
  (func (export "unreachable") (call $inner))
  (func $inner unreachable)
  (func (export "div_s") (param i32 i32) (result i32) (i32.div_s (local.get 0) (local.get 1)))
  (func (export "rem_s") (param i32 i32) (result i32) (i32.rem_s (local.get 0) (local.get 1)))
  (func (export "div_u64") (param i64 i64) (result i64) (i64.div_u (local.get 0) (local.get 1)))
  (func (export "rem_u") (param i32 i32) (result i32) (i32.rem_u (local.get 0) (local.get 1)))
  (func (export "div_s64") (param i64 i64) (result i64) (i64.div_s (local.get 0) (local.get 1)))
  (func (export "trunc_s") (param f32) (result i32) (i32.trunc_f32_s (local.get 0)))
  (func (export "trunc_u") (param f64) (result i32) (i32.trunc_f64_u (local.get 0)))
  (func (export "trunc_s64") (param f64) (result i64) (i64.trunc_f64_s (local.get 0)))
  (func (export "trunc_u64") (param f32) (result i64) (i64.trunc_f32_u (local.get 0)))
  (func (export "load") (param i32) (result i32) (i32.load offset=4 (local.get 0)))
  (func (export "store") (param i32) (i64.store (local.get 0) (i64.const 1)))
  (func (export "load64") (param i64) (result i32) (i32.load $m64 offset=16 (local.get 0)))
  (func (export "fill") (param i32 i32) (memory.fill (local.get 0) (i32.const 0) (local.get 1)))
  (func (export "indirect") (param i32) (result i32) (call_indirect $t (type $v_i) (local.get 0)))
  (func (export "table_get") (param i32) (result funcref) (table.get $t (local.get 0)))
  (func (export "call_ref_null") (result i32) (call_ref $v_i (ref.null $v_i)))
  (func (export "host_fails") (call $fail))
  (func $recurse (export "recurse") (param i32) (result i32)
    (call $recurse (i32.add (local.get 0) (i32.const 1))))
  (func (export "spin") (loop $l (br $l)))
)
"#;

/// A call of an export and its arguments.
struct Case {
    export: &'static str,
    args: Vec<Val>,
}

fn case(export: &'static str, args: &[Val]) -> Case {
    Case {
        export,
        args: args.to_vec(),
    }
}

/// Every case: traps of every kind, and values at the edges that must not trap.
fn cases() -> Vec<Case> {
    use Val::{F32, F64, I32, I64};
    let f32 = |v: f32| F32(v.to_bits());
    let f64 = |v: f64| F64(v.to_bits());
    vec![
        case("unreachable", &[]),
        case("div_s", &[I32(1), I32(0)]),
        case("div_s", &[I32(i32::MIN), I32(-1)]),
        case("div_s", &[I32(i32::MIN), I32(1)]),
        case("rem_s", &[I32(i32::MIN), I32(-1)]),
        case("rem_s", &[I32(5), I32(0)]),
        case("rem_u", &[I32(5), I32(0)]),
        case("rem_u", &[I32(-1), I32(7)]),
        case("div_u64", &[I64(1), I64(0)]),
        case("div_s64", &[I64(i64::MIN), I64(-1)]),
        case("div_s64", &[I64(i64::MIN), I64(2)]),
        case("trunc_s", &[f32(f32::NAN)]),
        case("trunc_s", &[f32(2147483648.0)]),
        case("trunc_s", &[f32(-2147483648.0)]),
        case("trunc_s", &[f32(-2147483904.0)]),
        case("trunc_u", &[f64(-1.0)]),
        case("trunc_u", &[f64(-0.99)]),
        case("trunc_u", &[f64(4294967295.9)]),
        case("trunc_u", &[f64(4294967296.0)]),
        case("trunc_s64", &[f64(9223372036854775807.0)]),
        case("trunc_s64", &[f64(-9223372036854775808.0)]),
        case("trunc_s64", &[f64(f64::NEG_INFINITY)]),
        case("trunc_u64", &[f32(18446744073709551615.0)]),
        case("trunc_u64", &[f32(-0.5)]),
        case("load", &[I32(65528)]),
        case("load", &[I32(65529)]),
        case("load", &[I32(-1)]),
        case("store", &[I32(65528)]),
        case("store", &[I32(65529)]),
        case("load64", &[I64(65520)]),
        case("load64", &[I64(65521)]),
        case("load64", &[I64(-8)]),
        case("fill", &[I32(65535), I32(2)]),
        case("indirect", &[I32(0)]),
        case("indirect", &[I32(1)]),
        case("indirect", &[I32(2)]),
        case("indirect", &[I32(3)]),
        case("table_get", &[I32(3)]),
        case("call_ref_null", &[]),
        case("host_fails", &[]),
        case("recurse", &[I32(0)]),
    ]
}

/// What a call gave: its results, or its trap (or error message) and the (function index,
/// offset) of each frame, innermost first.
#[derive(Debug, PartialEq)]
enum Outcome {
    Returned(Vec<String>),
    Trapped(Trap, Vec<(u32, Option<usize>)>),
    Failed(String),
}

fn engine(signals: bool, configure: impl FnOnce(&mut Config)) -> Engine {
    let mut config = Config::new();
    config.signals_based_traps(signals);
    configure(&mut config);
    Engine::new(&config).unwrap()
}

struct Fixture {
    store: Store<()>,
    instance: Instance,
}

impl Fixture {
    fn new(engine: &Engine) -> Fixture {
        let module = Module::new(engine, WAT).unwrap();
        let mut store = Store::new(engine, ());
        let fail = Func::wrap(&mut store, || -> Result<()> {
            Err(Error::msg("host failed"))
        });
        let instance = Instance::new(&mut store, &module, &[fail.into()]).unwrap();
        Fixture { store, instance }
    }

    fn run(&mut self, case: &Case) -> Outcome {
        let f = self
            .instance
            .get_func(&mut self.store, case.export)
            .unwrap();
        let mut results = vec![Val::I32(0); f.ty(&self.store).results().len()];
        match f.call(&mut self.store, &case.args, &mut results) {
            Ok(()) => Outcome::Returned(results.iter().map(|v| format!("{v:?}")).collect()),
            Err(err) => outcome_of(&err),
        }
    }
}

fn outcome_of(err: &Error) -> Outcome {
    let Some(trap) = err.downcast_ref::<Trap>() else {
        return Outcome::Failed(format!("{err:#}"));
    };
    let frames = err
        .downcast_ref::<WasmBacktrace>()
        .expect("a trap has a backtrace")
        .frames()
        .iter()
        .map(|f| (f.func_index(), f.func_offset()))
        .collect::<Vec<_>>();
    // A stack overflow's depth depends on frame sizes, which differ: compare the top.
    let frames = if *trap == Trap::StackOverflow {
        frames.into_iter().take(4).collect()
    } else {
        frames
    };
    Outcome::Trapped(*trap, frames)
}

#[test]
fn traps_and_backtraces_are_the_same_with_signals_off() {
    let mut on = Fixture::new(&engine(true, |_| {}));
    let mut off = Fixture::new(&engine(false, |_| {}));
    let mut traps = 0;
    for case in cases() {
        let expected = on.run(&case);
        traps += usize::from(matches!(expected, Outcome::Trapped(..)));
        assert_eq!(off.run(&case), expected, "{} {:?}", case.export, case.args);
    }
    assert!(traps >= 25, "only {traps} traps");
}

/// An out-of-fuel trap and an epoch interrupt, on an engine with signals `signals`.
fn fuel_and_epoch(signals: bool) -> (Outcome, Outcome) {
    let engine = engine(signals, |c| {
        c.consume_fuel(true).epoch_interruption(true);
    });
    let mut fx = Fixture::new(&engine);
    fx.store.set_fuel(1000).unwrap();
    fx.store.set_epoch_deadline(1_000_000);
    let spin = case("spin", &[]);
    let out_of_fuel = fx.run(&spin);
    fx.store.set_fuel(u64::MAX / 2).unwrap();
    fx.store.set_epoch_deadline(0);
    let interrupted = fx.run(&spin);
    (out_of_fuel, interrupted)
}

#[test]
fn fuel_and_epoch_traps_are_the_same_with_signals_off() {
    let (fuel, epoch) = fuel_and_epoch(false);
    assert!(
        matches!(fuel, Outcome::Trapped(Trap::OutOfFuel, _)),
        "{fuel:?}"
    );
    assert!(
        matches!(epoch, Outcome::Trapped(Trap::Interrupt, _)),
        "{epoch:?}"
    );
    assert_eq!((fuel, epoch), fuel_and_epoch(true));
}

fn compatibility_hash(engine: &Engine) -> u64 {
    let mut hasher = DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.finish()
}

#[test]
fn code_compiled_with_signals_is_not_compatible_without() {
    let on = engine(true, |_| {});
    let off = engine(false, |_| {});
    assert!(on.get_signals_based_traps() && !off.get_signals_based_traps());
    assert_ne!(compatibility_hash(&on), compatibility_hash(&off));
    assert_eq!(
        compatibility_hash(&on),
        compatibility_hash(&engine(true, |_| {}))
    );
}

#[test]
fn no_signal_is_raised_without_signals_based_traps() {
    run_in_child(module_path!(), "child_no_signal_is_raised");
}

/// Every case, fuel and epochs, an async call and its stack overflow, with signals off, in a
/// process where the runtime never installed its handlers and any fault aborts.
#[test]
#[ignore = "run in a child process by the test above"]
fn child_no_signal_is_raised() {
    if !in_child_for("child_no_signal_is_raised") {
        return;
    }
    abort_on_fault::install();

    let mut fx = Fixture::new(&engine(false, |_| {}));
    let mut traps = 0;
    for case in cases() {
        traps += usize::from(matches!(fx.run(&case), Outcome::Trapped(..)));
    }
    assert!(traps >= 25, "only {traps} traps");
    let (fuel, epoch) = fuel_and_epoch(false);
    assert!(
        matches!(fuel, Outcome::Trapped(Trap::OutOfFuel, _)),
        "{fuel:?}"
    );
    assert!(
        matches!(epoch, Outcome::Trapped(Trap::Interrupt, _)),
        "{epoch:?}"
    );

    // On a fiber, with explicit bounds checks on a memory of the default reservation.
    let engine = engine(false, |c| {
        c.async_support(true);
    });
    let mut fx = Fixture::new_async(&engine);
    for (export, expected) in [
        ("recurse", Trap::StackOverflow),
        ("unreachable", Trap::UnreachableCodeReached),
    ] {
        let f = fx.instance.get_func(&mut fx.store, export).unwrap();
        let mut results = vec![Val::I32(0); f.ty(&fx.store).results().len()];
        let args = vec![Val::I32(0); f.ty(&fx.store).params().len()];
        let call = pin!(f.call_async(&mut fx.store, &args, &mut results));
        let Poll::Ready(result) = call.poll(&mut Context::from_waker(Waker::noop())) else {
            panic!("the call does not suspend");
        };
        let err = result.unwrap_err();
        assert_eq!(err.downcast_ref::<Trap>(), Some(&expected), "{err:?}");
    }

    if let Some(signal) = abort_on_fault::replaced() {
        panic!("the handler of signal {signal} was replaced");
    }
}

impl Fixture {
    /// [`Fixture::new`] for an engine with async support.
    fn new_async(engine: &Engine) -> Fixture {
        let module = Module::new(engine, WAT).unwrap();
        let mut store = Store::new(engine, ());
        let fail = Func::wrap(&mut store, || -> Result<()> {
            Err(Error::msg("host failed"))
        });
        let imports = [fail.into()];
        let instance = {
            let instantiate = pin!(Instance::new_async(&mut store, &module, &imports));
            match instantiate.poll(&mut Context::from_waker(Waker::noop())) {
                Poll::Ready(instance) => instance.unwrap(),
                Poll::Pending => panic!("instantiation does not suspend"),
            }
        };
        Fixture { instance, store }
    }
}
