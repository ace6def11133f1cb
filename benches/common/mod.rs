//! What the benches share: running one case on every engine of the build (`per_engine!`),
//! the few calls whose form differs between wasmjit and Wasmtime (`wasmjit_shim`,
//! `wasmtime_shim`), the C kernels (`kernels`), and ratio rows computed from criterion's
//! medians.
//!
//! Without the `compare` feature only wasmjit runs and ratio rows against Wasmtime print as not
//! measured. Every bench includes this module and uses only part of it.
#![allow(dead_code)]

pub mod kernels;

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::SystemTime;

/// Expands its items once per engine: in a module `on_wasmjit` (and, with `--features
/// compare`, `on_wasmtime`) where `rt` is the engine's crate, `shim` its `*_shim` module and
/// `ENGINE` its name, which the items use as the criterion function id. `each_engine!` calls
/// one of those functions on every engine.
macro_rules! per_engine {
    ($($item:item)*) => {
        #[allow(unused_imports)]
        mod on_wasmjit {
            use super::*;
            use crate::common::wasmjit_shim as shim;
            use wasmjit as rt;
            pub const ENGINE: &str = "wasmjit";
            $($item)*
        }
        #[cfg(feature = "compare")]
        #[allow(unused_imports)]
        mod on_wasmtime {
            use super::*;
            use crate::common::wasmtime_shim as shim;
            use wasmtime as rt;
            pub const ENGINE: &str = "wasmtime";
            $($item)*
        }
    };
}

/// `each_engine!(f(a, b))` calls `on_wasmjit::f(a, b)` and, with `compare`, `on_wasmtime::f`.
macro_rules! each_engine {
    ($f:ident($($arg:expr),* $(,)?)) => {{
        on_wasmjit::$f($($arg),*);
        #[cfg(feature = "compare")]
        on_wasmtime::$f($($arg),*);
    }};
}

/// wasmjit's side of the calls that differ between the engines.
pub mod wasmjit_shim {
    use wasmjit::{AsContextMut, Config, Func, Linker, ValRaw};
    // Only the programs bench uses them.
    #[allow(unused_imports)]
    pub use wasmjit_wasi::{MemoryOutputPipe, WasiCtx, WasiCtxBuilder};

    /// Adds WASI preview 1 to `linker`, the context being `get`'s.
    pub fn add_wasi<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
    ) {
        wasmjit_wasi::add_to_linker(linker, get).expect("WASI functions defined");
    }

    /// Turns on async support (Wasmtime 48 has it always on).
    pub fn async_support(config: &mut Config) {
        config.async_support(true);
    }

    /// `Func::call_unchecked` with arguments and results in `slots`.
    ///
    /// # Safety
    /// `slots` must match `func`'s type, as for `Func::call_unchecked`.
    pub unsafe fn call_unchecked(
        func: &Func,
        store: impl AsContextMut,
        slots: &mut [ValRaw],
    ) -> anyhow::Result<()> {
        // SAFETY: the caller guarantees that `slots` holds `func`'s arguments and has room
        // for its results.
        unsafe { func.call_unchecked(store, std::ptr::from_mut(slots)) }
    }
}

/// Wasmtime's side of the calls that differ between the engines.
#[cfg(feature = "compare")]
pub mod wasmtime_shim {
    use wasmtime::{AsContextMut, Config, Func, Linker, ValRaw};
    // Only the programs bench uses them.
    #[allow(unused_imports)]
    pub use wasmtime_wasi::{p1::WasiP1Ctx as WasiCtx, p2::pipe::MemoryOutputPipe, WasiCtxBuilder};

    /// Adds WASI preview 1 (the synchronous one) to `linker`, the context being `get`'s.
    pub fn add_wasi<T: Send + 'static>(
        linker: &mut Linker<T>,
        get: impl Fn(&mut T) -> &mut WasiCtx + Copy + Send + Sync + 'static,
    ) {
        wasmtime_wasi::p1::add_to_linker_sync(linker, get).expect("WASI functions defined");
    }

    /// Nothing to do: async support is always on in Wasmtime 48.
    pub fn async_support(_config: &mut Config) {}

    /// `Func::call_unchecked` with arguments and results in `slots`.
    ///
    /// # Safety
    /// `slots` must match `func`'s type, as for `Func::call_unchecked`.
    pub unsafe fn call_unchecked(
        func: &Func,
        store: impl AsContextMut,
        slots: &mut [ValRaw],
    ) -> wasmtime::Result<()> {
        // SAFETY: the caller guarantees that `slots` holds `func`'s arguments and has room
        // for its results.
        unsafe { func.call_unchecked(store, std::ptr::from_mut(slots)) }
    }
}

/// Names of the engines this build runs.
pub fn engines() -> &'static [&'static str] {
    if cfg!(feature = "compare") {
        &["wasmjit", "wasmtime"]
    } else {
        &["wasmjit"]
    }
}

/// True when the bench runs in `cargo test --benches` mode (each case once, no tables).
pub fn test_mode() -> bool {
    std::env::args().any(|a| a == "--test")
}

/// When this bench process started: medians older than that are from another run.
fn started() -> SystemTime {
    static START: OnceLock<SystemTime> = OnceLock::new();
    *START.get_or_init(SystemTime::now)
}

/// Call first thing in `main`, so that `median_ns` ignores results of earlier runs.
pub fn mark_start() {
    started();
}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `<target dir>/criterion` (the
/// bench binary lives in `<target dir>/<profile>/deps`).
fn criterion_dir() -> Option<PathBuf> {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return Some(home.into());
    }
    let exe = std::env::current_exe().ok()?;
    Some(exe.parent()?.parent()?.parent()?.join("criterion"))
}

/// Criterion's directory name for a group or function id.
fn file_safe(id: &str) -> String {
    id.replace(['?', '"', '/', '\\', '*', '<', '>', ':', '|', '^'], "_")
}

/// Criterion's median (ns) for `group/function`, measured by this process.
pub fn median_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir()?
        .join(file_safe(group))
        .join(file_safe(function))
        .join("new/estimates.json");
    if std::fs::metadata(&path).ok()?.modified().ok()? < started() {
        return None;
    }
    let json = std::fs::read_to_string(path).ok()?;
    // `"median":{"confidence_interval":{...},"point_estimate":<ns>,...}`: no JSON parser needed.
    let median = &json[json.find("\"median\"")?..];
    let key = "\"point_estimate\":";
    let value = &median[median.find(key)? + key.len()..];
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// A goal on a ratio: met when the ratio is at most `max`.
#[derive(Clone, Copy)]
pub struct Goal(pub f64);

/// Formats nanoseconds with a unit that keeps three or four significant digits.
pub fn human_ns(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.3} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.3} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.3} µs", ns / 1e3)
    } else {
        format!("{ns:.2} ns")
    }
}

/// Collects ratio rows and prints them as one Markdown table (`benches/compare.sh` gathers
/// the tables of every bench into `docs/benchmarks.md`'s).
pub struct Ratios {
    title: String,
    rows: Vec<String>,
}

impl Ratios {
    pub fn new(title: &str) -> Self {
        Self {
            title: title.to_string(),
            rows: Vec::new(),
        }
    }

    /// A row `case | what | a | b | a/b | goal | met?` from two medians (ns); a missing
    /// median (not measured in this run) prints as `n/a`.
    pub fn row(
        &mut self,
        case: &str,
        what: &str,
        a: Option<f64>,
        b: Option<f64>,
        goal: Option<Goal>,
    ) {
        let ratio = a.zip(b).map(|(a, b)| a / b);
        self.push(case, what, a.map(human_ns), b.map(human_ns), ratio, goal);
    }

    /// A row whose ratio is computed elsewhere (a geometric mean, a difference of medians).
    pub fn push(
        &mut self,
        case: &str,
        what: &str,
        a: Option<String>,
        b: Option<String>,
        ratio: Option<f64>,
        goal: Option<Goal>,
    ) {
        let na = || "n/a".to_string();
        let (goal_text, verdict) = match (goal, ratio) {
            (Some(Goal(max)), Some(r)) => (
                format!("≤ {max:.2}"),
                if r <= max { "met" } else { "**missed**" },
            ),
            (Some(Goal(max)), None) => (format!("≤ {max:.2}"), "not measured"),
            (None, _) => (String::new(), ""),
        };
        self.rows.push(format!(
            "| {case} | {what} | {} | {} | {} | {goal_text} | {verdict} |",
            a.unwrap_or_else(na),
            b.unwrap_or_else(na),
            ratio.map_or_else(na, |r| format!("{r:.3}")),
        ));
    }

    /// Prints the table (nothing in `--test` mode, where criterion measures nothing).
    pub fn print(&self) {
        if test_mode() {
            return;
        }
        println!();
        println!("### {}", self.title);
        println!();
        println!("| case | ratio | numerator | denominator | value | goal | |");
        println!("|---|---|---|---|---|---|---|");
        for row in &self.rows {
            println!("{row}");
        }
        println!();
    }
}

/// Geometric mean of `values`, `None` if any is missing or there are none.
pub fn geomean(values: &[Option<f64>]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let logs: Option<Vec<f64>> = values.iter().map(|v| v.map(f64::ln)).collect();
    let logs = logs?;
    Some((logs.iter().sum::<f64>() / logs.len() as f64).exp())
}
