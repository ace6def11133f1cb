//! Async call overhead on every engine of the build, every future polled by hand with a
//! no-op waker, each engine in its default configuration plus what the case needs:
//! - `call_async` of a nop (and the sync `call` of the same nop, for scale);
//! - one suspend/resume through an async host function: a call whose host future is pending
//!   once vs. the same call with a ready future, and the same difference per host call inside
//!   a wasm loop of 1 000 calls (the `suspend/resume` row: (pending − ready) / 1 000);
//! - fuel yields every 10 000 units: a loop of 10^6 iterations with and without a yield
//!   interval (the `fuel yield` row: the difference per yield);
//! - an epoch yield: a short call whose epoch deadline has passed, so that it yields once
//!   (`epoch_deadline_callback` returning `Yield`), vs. the same call with a far deadline;
//! - wasmjit only: resident memory of 10 000 calls suspended at once on 64 KiB stacks (one
//!   measured run, printed to stdout).
//!
//! Prints ratio rows `wasmjit/wasmtime`; goals: call_async ≤ 0.60, suspend/resume ≤ 0.30.

#[macro_use]
mod common;

use common::{human_ns, median_ns, Goal, Ratios};
use criterion::{black_box, Criterion};
use std::future::Future;
use std::pin::{pin, Pin};
use std::sync::Mutex;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// A future that is pending `n` times before completing.
struct PendingN(u32);
impl Future for PendingN {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 == 0 {
            Poll::Ready(())
        } else {
            self.0 -= 1;
            Poll::Pending
        }
    }
}

/// Polls `fut` to completion with a no-op waker; returns the output and the pending count.
#[inline(always)]
fn drive<F: Future + ?Sized>(mut fut: Pin<&mut F>) -> (F::Output, u64) {
    let mut cx = Context::from_waker(Waker::noop());
    let mut pending = 0;
    loop {
        if let Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return (v, pending);
        }
        pending += 1;
    }
}

const WAT: &str = r#"(module
  (import "host" "wait" (func $wait (param i32)))
  (func (export "nop"))
  (func (export "call_host") (param i32) (call $wait (local.get 0)))
  ;; Calls the host `n` times with argument `p`.
  (func (export "call_host_loop") (param $n i32) (param $p i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (call $wait (local.get $p))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next))))
  ;; A counting loop of `n` iterations.
  (func (export "spin") (param $n i32)
    (local $i i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))"#;

/// Fuel yields per call of the spin loop, per engine (engines count fuel alike, but check).
static YIELDS: Mutex<Vec<(&str, u64)>> = Mutex::new(Vec::new());

const FUEL_INTERVAL: u64 = 10_000;
const FUEL_ITERS: i32 = 1_000_000;
const HOST_LOOP_CALLS: i32 = 1_000;

per_engine! {
    fn engine(fuel: bool, epochs: bool) -> rt::Engine {
        let mut config = rt::Config::new();
        shim::async_support(&mut config);
        config.consume_fuel(fuel).epoch_interruption(epochs);
        rt::Engine::new(&config).expect("valid config")
    }

    /// A store of `engine` whose `host.wait(p)` is pending `p` times.
    fn setup(engine: &rt::Engine, fuel: bool) -> (rt::Store<()>, rt::Instance) {
        let module = rt::Module::new(engine, WAT).expect("valid module");
        let mut linker = rt::Linker::<()>::new(engine);
        linker
            .func_wrap_async("host", "wait", |_: rt::Caller<'_, ()>, (p,): (i32,)| {
                Box::new(PendingN(p as u32))
            })
            .expect("defines wait");
        let mut store = rt::Store::new(engine, ());
        if fuel {
            store.set_fuel(u64::MAX / 4).expect("fuel on");
        }
        let (instance, _) = drive(pin!(linker.instantiate_async(&mut store, &module)));
        (store, instance.expect("instantiates"))
    }

    pub fn call_async_nop(c: &mut Criterion) {
        let (mut store, instance) = setup(&engine(false, false), false);
        let nop: rt::TypedFunc<(), ()> = instance.get_typed_func(&mut store, "nop").unwrap();
        c.benchmark_group("async/call_async_nop").bench_function(ENGINE, |b| {
            b.iter(|| {
                let (r, pending) = drive(pin!(nop.call_async(&mut store, ())));
                r.unwrap();
                black_box(pending);
            })
        });

        let sync_engine = rt::Engine::default();
        let module = rt::Module::new(&sync_engine, r#"(module (func (export "nop")))"#).unwrap();
        let mut sync_store = rt::Store::new(&sync_engine, ());
        let instance = rt::Instance::new(&mut sync_store, &module, &[]).unwrap();
        let nop: rt::TypedFunc<(), ()> = instance.get_typed_func(&mut sync_store, "nop").unwrap();
        c.benchmark_group("async/sync_call_nop_for_scale")
            .bench_function(ENGINE, |b| b.iter(|| nop.call(&mut sync_store, ()).unwrap()));
    }

    pub fn host_suspend_resume(c: &mut Criterion) {
        let (mut store, instance) = setup(&engine(false, false), false);
        let call_host: rt::TypedFunc<i32, ()> =
            instance.get_typed_func(&mut store, "call_host").unwrap();
        for (group, p) in [
            ("async/host_call_ready", 0),
            ("async/host_call_pending_once", 1),
        ] {
            c.benchmark_group(group).bench_function(ENGINE, |b| {
                b.iter(|| {
                    let (r, pending) = drive(pin!(call_host.call_async(&mut store, p)));
                    r.unwrap();
                    assert_eq!(pending, p as u64);
                })
            });
        }

        // 1 000 host calls inside one wasm call: the per-host-call difference is one
        // suspend/resume with nothing else around it.
        let call_loop: rt::TypedFunc<(i32, i32), ()> = instance
            .get_typed_func(&mut store, "call_host_loop")
            .unwrap();
        for (group, p) in [
            ("async/host_loop_1000_ready", 0),
            ("async/host_loop_1000_pending_once", 1),
        ] {
            c.benchmark_group(group).bench_function(ENGINE, |b| {
                b.iter(|| {
                    let (r, pending) =
                        drive(pin!(call_loop.call_async(&mut store, (HOST_LOOP_CALLS, p))));
                    r.unwrap();
                    assert_eq!(pending, (HOST_LOOP_CALLS * p) as u64);
                })
            });
        }
    }

    pub fn fuel_yields(c: &mut Criterion) {
        let (mut store, instance) = setup(&engine(true, false), true);
        let spin: rt::TypedFunc<i32, ()> = instance.get_typed_func(&mut store, "spin").unwrap();

        // How many yields one call makes at this interval.
        store.fuel_async_yield_interval(Some(FUEL_INTERVAL)).unwrap();
        let (r, yields) = drive(pin!(spin.call_async(&mut store, FUEL_ITERS)));
        r.unwrap();
        assert!(yields > 0);
        YIELDS.lock().unwrap().push((ENGINE, yields));

        for (group, interval) in [
            ("async/fuel_spin_1m_no_yield", None),
            ("async/fuel_spin_1m_yield_every_10000", Some(FUEL_INTERVAL)),
        ] {
            store.fuel_async_yield_interval(interval).unwrap();
            c.benchmark_group(group).bench_function(ENGINE, |b| {
                b.iter(|| {
                    let (r, pending) = drive(pin!(spin.call_async(&mut store, FUEL_ITERS)));
                    r.unwrap();
                    black_box(pending);
                })
            });
        }
    }

    pub fn epoch_yield(c: &mut Criterion) {
        let (mut store, instance) = setup(&engine(false, true), false);
        let spin: rt::TypedFunc<i32, ()> = instance.get_typed_func(&mut store, "spin").unwrap();
        store.epoch_deadline_callback(|_| Ok(rt::UpdateDeadline::Yield(1)));
        for (group, deadline, yields) in [
            ("async/epoch_call_no_yield", u64::MAX / 2, 0),
            ("async/epoch_call_yield_once", 0, 1),
        ] {
            store.set_epoch_deadline(deadline);
            let (r, pending) = drive(pin!(spin.call_async(&mut store, 10)));
            r.unwrap();
            assert_eq!(pending, yields, "{group} on {ENGINE}");
            c.benchmark_group(group).bench_function(ENGINE, |b| {
                b.iter(|| {
                    store.set_epoch_deadline(deadline);
                    let (r, pending) = drive(pin!(spin.call_async(&mut store, 10)));
                    r.unwrap();
                    black_box(pending);
                })
            });
        }
    }
}

/// Resident set size of this process, in KiB.
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("procfs");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS line")
}

fn suspended_calls_memory() {
    const CALLS: usize = 10_000;
    let mut config = wasmjit::Config::new();
    config
        .async_support(true)
        .async_stack_size(64 << 10)
        .max_wasm_stack(32 << 10);
    let engine = wasmjit::Engine::new(&config).expect("valid config");
    let module = wasmjit::Module::new(&engine, WAT).expect("valid module");
    let mut linker = wasmjit::Linker::<()>::new(&engine);
    linker
        .func_wrap_async(
            "host",
            "wait",
            |_: wasmjit::Caller<'_, ()>, (p,): (i32,)| Box::new(PendingN(p as u32)),
        )
        .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();

    let mut stores: Vec<wasmjit::Store<()>> = Vec::with_capacity(CALLS);
    let mut funcs = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let mut store = wasmjit::Store::new(&engine, ());
        let (instance, _) = drive(pin!(pre.instantiate_async(&mut store)));
        let f: wasmjit::TypedFunc<i32, ()> = instance
            .unwrap()
            .get_typed_func(&mut store, "call_host")
            .unwrap();
        funcs.push(f);
        stores.push(store);
    }
    let before = vm_rss_kib();
    let start = Instant::now();
    let mut cx = Context::from_waker(Waker::noop());
    let mut futures: Vec<_> = stores
        .iter_mut()
        .zip(&funcs)
        .map(|(store, f)| Box::pin(f.call_async(store, 1)))
        .collect();
    for fut in &mut futures {
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    let suspend_time = start.elapsed();
    let after = vm_rss_kib();
    let start = Instant::now();
    drop(futures);
    let drop_time = start.elapsed();
    let after_drop = vm_rss_kib();
    println!(
        "async/suspended_10k: {CALLS} calls suspended on 64 KiB stacks: VmRSS {before} KiB -> \
         {after} KiB (+{} KiB, {:.1} KiB per call); suspending took {suspend_time:?}, dropping \
         {drop_time:?}; VmRSS after drop {after_drop} KiB",
        after - before,
        (after - before) as f64 / CALLS as f64
    );
    drop(stores);
}

fn main() {
    common::mark_start();
    // `cargo bench --bench async_calls -- <filter>`: run the memory measurement unless a
    // filter excludes it.
    let filter = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-') && a != "--bench");
    if filter
        .as_deref()
        .is_none_or(|f| "async/suspended_10k".contains(f))
    {
        suspended_calls_memory();
    }
    let mut c = Criterion::default()
        .measurement_time(Duration::from_secs(3))
        .configure_from_args();
    each_engine!(call_async_nop(&mut c));
    each_engine!(host_suspend_resume(&mut c));
    each_engine!(fuel_yields(&mut c));
    each_engine!(epoch_yield(&mut c));
    c.final_summary();

    let mut table = Ratios::new("async");
    let both = |case: &str| (median_ns(case, "wasmjit"), median_ns(case, "wasmtime"));
    for (case, goal) in [
        ("async/call_async_nop", Some(Goal(0.60))),
        ("async/sync_call_nop_for_scale", None),
        ("async/host_call_ready", None),
        ("async/host_call_pending_once", None),
    ] {
        let (a, b) = both(case);
        table.row(case, "wasmjit/wasmtime", a, b, goal);
    }
    // Differences of medians: the cost of one suspend/resume, of one fuel yield, of one epoch
    // yield, on each engine.
    let diff = |with: &str, without: &str, engine: &str, per: f64| {
        Some((median_ns(with, engine)? - median_ns(without, engine)?) / per)
    };
    let yields = YIELDS.lock().unwrap().clone();
    let per_yield = |engine: &str| {
        let n = yields.iter().find(|(e, _)| *e == engine)?.1;
        diff(
            "async/fuel_spin_1m_yield_every_10000",
            "async/fuel_spin_1m_no_yield",
            engine,
            n as f64,
        )
    };
    let suspend = |engine: &str| {
        diff(
            "async/host_loop_1000_pending_once",
            "async/host_loop_1000_ready",
            engine,
            f64::from(HOST_LOOP_CALLS),
        )
    };
    let epoch = |engine: &str| {
        diff(
            "async/epoch_call_yield_once",
            "async/epoch_call_no_yield",
            engine,
            1.0,
        )
    };
    for (case, cost, goal) in [
        (
            "async suspend/resume (host loop: pending_once − ready, per call)",
            &suspend as &dyn Fn(&str) -> Option<f64>,
            Some(Goal(0.30)),
        ),
        (
            "async fuel yield (yield − no_yield, per yield)",
            &per_yield,
            None,
        ),
        ("async epoch yield (yield_once − no_yield)", &epoch, None),
    ] {
        let (a, b) = (cost("wasmjit"), cost("wasmtime"));
        table.push(
            case,
            "wasmjit/wasmtime",
            a.map(human_ns),
            b.map(human_ns),
            a.zip(b).map(|(a, b)| a / b),
            goal,
        );
    }
    table.print();
    if !common::test_mode() {
        println!("fuel yields per call of {FUEL_ITERS} iterations: {yields:?}");
    }
}
