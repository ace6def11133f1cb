//! Naming compiled code for profilers: with `Config::profiler(ProfilingStrategy::PerfMap)`
//! every compiled wasm function gets a line in `/tmp/perf-<pid>.map`, which `perf report`
//! reads to name samples in JIT code.

use crate::vm::code_object::CodeObject;
use std::fs::File;
use std::io::Write;
use std::sync::Mutex;
use wasmjit_compiler as c;
use wasmjit_compiler::EntityRef;

/// Which profiler to tell about compiled code, as in Wasmtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProfilingStrategy {
    /// None (the default).
    #[default]
    None,
    /// `perf`'s map file, `/tmp/perf-<pid>.map`.
    PerfMap,
    /// `perf`'s jitdump format: not supported by wasmjit (engine creation fails).
    JitDump,
    /// Intel VTune: not supported by wasmjit (engine creation fails).
    VTune,
}

/// The map file, opened on first use and appended to for the life of the process.
static PERF_MAP: Mutex<Option<File>> = Mutex::new(None);

/// Appends a line per compiled function of a module to the perf map. Failing to write only
/// costs the names: it is reported once on stderr and compilation goes on.
pub(crate) fn perf_map_module(info: &c::ModuleInfo, code: &CodeObject) {
    let mut text = String::new();
    let module = info.name.as_deref().unwrap_or("");
    let defined = info.functions.len() - info.num_imported_funcs as usize;
    for (i, &(_, len)) in code.layout.ranges.iter().enumerate().take(defined) {
        let index = info.func_index(c::DefinedFuncIndex::new(i));
        let name = match info.func_names.get(&index) {
            Some(n) => format!("wasm[{module}]::{n}"),
            None => format!("wasm[{module}]::function[{index}]"),
        };
        // perf splits lines on whitespace after the size; keep the name on one line.
        let name = name.replace(['\n', '\r'], " ");
        text += &format!("{:x} {len:x} {name}\n", code.function(i) as usize);
    }
    let mut map = PERF_MAP.lock().unwrap_or_else(|e| e.into_inner());
    if map.is_none() {
        let path = format!("/tmp/perf-{}.map", std::process::id());
        match File::options().create(true).append(true).open(&path) {
            Ok(f) => *map = Some(f),
            Err(e) => {
                eprintln!("wasmjit: cannot open {path} for the perf map: {e}");
                return;
            }
        }
    }
    if let Some(f) = map.as_mut() {
        if let Err(e) = f.write_all(text.as_bytes()) {
            eprintln!("wasmjit: cannot write the perf map: {e}");
            *map = None;
        }
    }
}
