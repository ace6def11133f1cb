//! Async call overhead, every future polled by hand with a no-op waker:
//! - `call_async` of a nop on pooled stacks (and the sync `call` of the same nop, for scale);
//! - one suspend/resume through an async host function: a call whose host future is pending
//!   once vs. the same call with a ready future, and the same difference per host call inside
//!   a wasm loop of 1 000 calls;
//! - fuel yields every 10 000 units: a long loop with and without a yield interval, reported
//!   as time per yield minus the loop's own time;
//! - resident memory of 10 000 calls suspended at once on 64 KiB stacks (one measured run,
//!   printed to stdout).

use criterion::{black_box, criterion_group, Criterion};
use std::future::Future;
use std::pin::{pin, Pin};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};
use wasmjit::{Caller, Config, Engine, Instance, Linker, Module, Store, TypedFunc};

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

fn async_engine(fuel: bool) -> Engine {
    let mut config = Config::new();
    config.async_support(true).consume_fuel(fuel);
    Engine::new(&config).expect("valid config")
}

/// A store of `engine` whose `host.wait(p)` is pending `p` times.
fn setup(engine: &Engine, fuel: bool) -> (Store<()>, Instance) {
    let module = Module::new(engine, WAT).expect("valid module");
    let mut linker = Linker::<()>::new(engine);
    linker
        .func_wrap_async("host", "wait", |_: Caller<'_, ()>, (p,): (i32,)| {
            Box::new(PendingN(p as u32))
        })
        .expect("defines wait");
    let mut store = Store::new(engine, ());
    if fuel {
        store.set_fuel(u64::MAX / 4).expect("fuel on");
    }
    let (instance, _) = drive(pin!(linker.instantiate_async(&mut store, &module)));
    (store, instance.expect("instantiates"))
}

fn call_async_nop(c: &mut Criterion) {
    let engine = async_engine(false);
    let (mut store, instance) = setup(&engine, false);
    let nop: TypedFunc<(), ()> = instance.get_typed_func(&mut store, "nop").unwrap();
    c.bench_function("async/call_async_nop", |b| {
        b.iter(|| {
            let (r, pending) = drive(pin!(nop.call_async(&mut store, ())));
            r.unwrap();
            black_box(pending);
        })
    });

    let sync_engine = Engine::default();
    let module = Module::new(&sync_engine, r#"(module (func (export "nop")))"#).unwrap();
    let mut sync_store = Store::new(&sync_engine, ());
    let instance = Instance::new(&mut sync_store, &module, &[]).unwrap();
    let nop: TypedFunc<(), ()> = instance.get_typed_func(&mut sync_store, "nop").unwrap();
    c.bench_function("async/sync_call_nop_for_scale", |b| {
        b.iter(|| nop.call(&mut sync_store, ()).unwrap())
    });
}

fn host_suspend_resume(c: &mut Criterion) {
    let engine = async_engine(false);
    let (mut store, instance) = setup(&engine, false);
    let call_host: TypedFunc<i32, ()> = instance.get_typed_func(&mut store, "call_host").unwrap();
    for (name, p) in [
        ("async/host_call_ready", 0),
        ("async/host_call_pending_once", 1),
    ] {
        c.bench_function(name, |b| {
            b.iter(|| {
                let (r, pending) = drive(pin!(call_host.call_async(&mut store, p)));
                r.unwrap();
                assert_eq!(pending, p as u64);
            })
        });
    }

    // 1 000 host calls inside one wasm call: the per-host-call difference is one
    // suspend/resume with nothing else around it.
    const CALLS: i32 = 1_000;
    let call_loop: TypedFunc<(i32, i32), ()> = instance
        .get_typed_func(&mut store, "call_host_loop")
        .unwrap();
    let mut group = c.benchmark_group("async/host_loop_1000");
    group.throughput(criterion::Throughput::Elements(CALLS as u64));
    for (name, p) in [("ready", 0), ("pending_once", 1)] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let (r, pending) = drive(pin!(call_loop.call_async(&mut store, (CALLS, p))));
                r.unwrap();
                assert_eq!(pending, (CALLS * p) as u64);
            })
        });
    }
    group.finish();
}

fn fuel_yields(c: &mut Criterion) {
    const INTERVAL: u64 = 10_000;
    const ITERS: i32 = 1_000_000;
    let engine = async_engine(true);
    let (mut store, instance) = setup(&engine, true);
    let spin: TypedFunc<i32, ()> = instance.get_typed_func(&mut store, "spin").unwrap();

    // How many yields one call makes at this interval.
    store.fuel_async_yield_interval(Some(INTERVAL)).unwrap();
    let (r, yields) = drive(pin!(spin.call_async(&mut store, ITERS)));
    r.unwrap();
    assert!(yields > 0);

    let mut group = c.benchmark_group("async/fuel_spin_1m_iters");
    for (name, interval) in [("no_yield", None), ("yield_every_10000", Some(INTERVAL))] {
        store.fuel_async_yield_interval(interval).unwrap();
        group.bench_function(name, |b| {
            b.iter(|| {
                let (r, pending) = drive(pin!(spin.call_async(&mut store, ITERS)));
                r.unwrap();
                black_box(pending);
            })
        });
    }
    group.finish();

    // The difference per yield, measured directly: interleaved runs with and without yields.
    let per_yield = |store: &mut Store<()>| {
        let mut with = Duration::ZERO;
        let mut without = Duration::ZERO;
        for _ in 0..50 {
            store.fuel_async_yield_interval(None).unwrap();
            let t = Instant::now();
            drive(pin!(spin.call_async(&mut *store, ITERS))).0.unwrap();
            without += t.elapsed();
            store.fuel_async_yield_interval(Some(INTERVAL)).unwrap();
            let t = Instant::now();
            drive(pin!(spin.call_async(&mut *store, ITERS))).0.unwrap();
            with += t.elapsed();
        }
        (with.as_nanos() as f64 - without.as_nanos() as f64) / (50.0 * yields as f64)
    };
    let mut samples: Vec<f64> = (0..11).map(|_| per_yield(&mut store)).collect();
    samples.sort_by(f64::total_cmp);
    println!(
        "async/fuel_yield: {yields} yields per call of {ITERS} iterations; \
         median cost per yield (with - without) = {:.1} ns",
        samples[samples.len() / 2]
    );
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
    let mut config = Config::new();
    config
        .async_support(true)
        .async_stack_size(64 << 10)
        .max_wasm_stack(32 << 10);
    let engine = Engine::new(&config).expect("valid config");
    let module = Module::new(&engine, WAT).expect("valid module");
    let mut linker = Linker::<()>::new(&engine);
    linker
        .func_wrap_async("host", "wait", |_: Caller<'_, ()>, (p,): (i32,)| {
            Box::new(PendingN(p as u32))
        })
        .unwrap();
    let pre = linker.instantiate_pre(&module).unwrap();

    let mut stores: Vec<Store<()>> = Vec::with_capacity(CALLS);
    let mut funcs = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let mut store = Store::new(&engine, ());
        let (instance, _) = drive(pin!(pre.instantiate_async(&mut store)));
        let f: TypedFunc<i32, ()> = instance
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

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3));
    targets = call_async_nop, host_suspend_resume, fuel_yields
}

fn main() {
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
    benches();
    Criterion::default().configure_from_args().final_summary();
}
