//! `wasmjit`: run WebAssembly modules and spec-test scripts from the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use wasmjit::{Config, Engine, Func, Instance, Linker, Module, Store, Trap, Val, ValType};
use wasmjit_wasi::{self as wasi, I32Exit, WasiCtx, WasiCtxBuilder};
use wasmjit_wasi_threads::{self as wasi_threads, WasiThreadsCtx};

mod cli;

use cli::{CodeOptions, CompileArgs, Invocation, RunArgs};

/// Exit status when guest code traps (the same as a process killed by SIGABRT, as Wasmtime's
/// CLI does).
const TRAP_EXIT: u8 = 134;

fn main() -> ExitCode {
    let invocation = match cli::parse(std::env::args()) {
        Ok(invocation) => invocation,
        Err(err) => {
            // `--help` and `--version` come this way too, with status 0.
            let _ = err.print();
            if let Some(option) = cli::suggest(&err) {
                eprintln!("tip: did you mean `{option}`?");
            }
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(2));
        }
    };
    let result = match invocation {
        Invocation::Run(args) => run(args),
        Invocation::Wast { jobs, inputs } => wast(jobs, &inputs),
        Invocation::Compile(args) => compile(&args),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", summarize(&err));
            ExitCode::FAILURE
        }
    }
}

/// How often the `--timeout` ticker advances the engine's epoch.
const EPOCH_TICK: Duration = Duration::from_millis(10);

/// A thread that increments the engine's epoch every [`EPOCH_TICK`] until dropped.
struct EpochTicker {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    fn start(engine: &Engine) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let engine = engine.clone();
        let thread = std::thread::spawn(move || {
            while !flag.load(Ordering::Relaxed) {
                std::thread::sleep(EPOCH_TICK);
                engine.increment_epoch();
            }
        });
        Self {
            stop,
            thread: Some(thread),
        }
    }

    /// The epoch deadline (in ticks from now) that a call reaches once `timeout` has passed:
    /// tick `n` happens no earlier than `n` ticks after the ticker started.
    fn deadline_for(timeout: Duration) -> u64 {
        let ticks = timeout.as_nanos().div_ceil(EPOCH_TICK.as_nanos());
        u64::try_from(ticks).unwrap_or(u64::MAX).max(1)
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Formats a duration the way it is written on the command line.
fn format_duration(d: Duration) -> String {
    if d.subsec_nanos() == 0 {
        format!("{}s", d.as_secs())
    } else if d.subsec_nanos().is_multiple_of(1_000_000) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{:?}", d)
    }
}

/// The engine of `run` and `compile` for these code settings; `shared_memory` for
/// wasi-threads programs, whose memory is shared.
fn engine_for(code: CodeOptions, shared_memory: bool) -> Result<Engine> {
    let mut config = Config::new();
    config
        .consume_fuel(code.fuel)
        .epoch_interruption(code.epochs)
        .wasm_exceptions(code.exceptions)
        .shared_memory(shared_memory);
    Engine::new(&config)
}

/// The store data of a wasi-threads program: every thread's store holds a clone.
#[derive(Clone)]
struct ThreadsHost {
    wasi: Arc<Mutex<WasiCtx>>,
    /// Set once the linker is complete (spawning needs it).
    threads: Option<Arc<WasiThreadsCtx<ThreadsHost>>>,
}

/// Whether `import` is one that wasi-threads provides (`-S threads`): the spawn function, or
/// the shared memory.
fn is_wasi_threads_import(import: &wasmjit::ImportType<'_>) -> bool {
    (import.module() == wasi_threads::SPAWN_MODULE && import.name() == wasi_threads::SPAWN_NAME)
        || matches!(import.ty(), wasmjit::ExternType::Memory(ty) if ty.is_shared())
}

fn run(args: RunArgs) -> Result<ExitCode> {
    let engine = engine_for(args.code_options(), args.wasi_threads)?;
    let module = load_module(&engine, &args.file, args.allow_precompiled).map_err(|e| {
        if !args.exceptions && format!("{e:#}").contains("Config::wasm_exceptions") {
            e.context("the module uses exception handling: run it with `-W exceptions=y`")
        } else {
            e
        }
    })?;
    let uses_wasi = module.imports().any(|i| i.module() == wasi::MODULE);
    let provided = |i: &wasmjit::ImportType<'_>| {
        i.module() == wasi::MODULE || (args.wasi_threads && is_wasi_threads_import(i))
    };
    if let Some(import) = module.imports().find(|i| !provided(i)) {
        if is_wasi_threads_import(&import) {
            bail!(
                "{}: module imports `{}.{}`: it is a wasi-threads program, run it with \
                 `-S threads`",
                args.file.display(),
                import.module(),
                import.name()
            );
        }
        bail!(
            "{}: module imports `{}.{}`, but `wasmjit run` provides only WASI \
             (`{}`)",
            args.file.display(),
            import.module(),
            import.name(),
            wasi::MODULE
        );
    }
    let mut builder = WasiCtxBuilder::new();
    if uses_wasi {
        if args.inherit_env {
            builder.inherit_env();
        }
        let argv0 = match &args.argv0 {
            Some(argv0) => argv0.clone(),
            None => args.file.to_string_lossy().into_owned(),
        };
        builder
            .inherit_stdio()
            .arg(argv0)
            .args(&args.args)
            .envs(&args.env);
        for (host, guest) in &args.dirs {
            builder.preopened_dir(host, guest)?;
        }
    }

    if args.wasi_threads {
        return run_threads(&args, builder.build(), &module, uses_wasi);
    }
    let mut store = Store::new(&engine, builder.build());
    let mut linker = Linker::new(&engine);
    if uses_wasi {
        wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
    }
    run_with_limits(&args, &mut store, &linker, &module, uses_wasi)
}

/// `run -S threads`: the WASI context is shared by the stores of every thread, and
/// `wasi::thread-spawn` starts threads with instances of the same module.
fn run_threads(
    args: &RunArgs,
    wasi_ctx: WasiCtx,
    module: &Module,
    uses_wasi: bool,
) -> Result<ExitCode> {
    let engine = module.engine();
    let host = ThreadsHost {
        wasi: Arc::new(Mutex::new(wasi_ctx)),
        threads: None,
    };
    let mut store = Store::new(engine, host);
    let mut linker = Linker::new(engine);
    if uses_wasi {
        wasi::add_to_linker_shared(&mut linker, |h: &mut ThreadsHost| &*h.wasi)?;
    }
    wasi_threads::add_to_linker(&mut linker, &store, module, |h: &ThreadsHost| {
        h.threads.as_ref()
    })?;
    let (fuel, timeout) = (args.fuel, args.timeout);
    let threads = WasiThreadsCtx::new(module.clone(), Arc::new(linker.clone()))?
        // Each thread gets the budget the first one started with.
        .with_store_setup(move |store| {
            if let Some(fuel) = fuel {
                store.set_fuel(fuel)?;
            }
            if let Some(timeout) = timeout {
                store.set_epoch_deadline(EpochTicker::deadline_for(timeout));
            }
            Ok(())
        });
    store.data_mut().threads = Some(Arc::new(threads));
    run_with_limits(args, &mut store, &linker, module, uses_wasi)
}

/// Runs the module in `store` with the fuel and timeout the command line asks for.
fn run_with_limits<T: 'static>(
    args: &RunArgs,
    store: &mut Store<T>,
    linker: &Linker<T>,
    module: &Module,
    uses_wasi: bool,
) -> Result<ExitCode> {
    if let Some(fuel) = args.fuel {
        store.set_fuel(fuel)?;
    }
    // Started before instantiation: the timeout covers the start function too.
    let _ticker = args.timeout.map(|timeout| {
        store.set_epoch_deadline(EpochTicker::deadline_for(timeout));
        EpochTicker::start(store.engine())
    });
    let code = run_in_store(args, store, linker, module, uses_wasi)?;
    // Whether the guest returned or trapped: it ran.
    if let Some(fuel) = args.fuel {
        let consumed = fuel - store.get_fuel()?;
        eprintln!("fuel consumed: {consumed}");
    }
    Ok(code)
}

/// Instantiates the module and makes the call of `wasmjit run`.
fn run_in_store<T: 'static>(
    args: &RunArgs,
    store: &mut Store<T>,
    linker: &Linker<T>,
    module: &Module,
    uses_wasi: bool,
) -> Result<ExitCode> {
    let instance = match linker.instantiate(&mut *store, module) {
        Ok(instance) => instance,
        Err(err) if is_trap(&err) => {
            eprintln!(
                "error: instantiation of {} trapped: {}",
                args.file.display(),
                describe_failure(&err)
            );
            report_timeout(args, &err);
            return Ok(ExitCode::from(TRAP_EXIT));
        }
        Err(err) => return Err(err.context(format!("cannot instantiate {}", args.file.display()))),
    };

    let name = args.invoke.as_deref().unwrap_or("_start");
    let func = find_func(&mut *store, instance, name, args.invoke.is_some())?;
    let ty = func.ty(&*store);
    let param_types: Vec<ValType> = ty.params().collect();
    // A WASI command's ARGS are its argv, not `_start`'s parameters.
    let call_args: &[String] = if uses_wasi && args.invoke.is_none() {
        &[]
    } else {
        &args.args
    };
    if param_types.len() != call_args.len() {
        bail!(
            "`{name}` takes {} argument(s), {} given",
            param_types.len(),
            call_args.len()
        );
    }
    let params = param_types
        .iter()
        .zip(call_args)
        .enumerate()
        .map(|(index, (ty, text))| {
            parse_value(ty, text).with_context(|| format!("argument {} of `{name}`", index + 1))
        })
        .collect::<Result<Vec<_>>>()?;
    let mut results: Vec<Val> = ty
        .results()
        .map(|ty| Val::default_for_ty(&ty).unwrap_or(Val::I32(0)))
        .collect();

    if let Err(err) = func.call(&mut *store, &params, &mut results) {
        if let Some(exit) = err.downcast_ref::<I32Exit>() {
            // Exit statuses are 8 bits wide, as with the host's own `exit`.
            return Ok(ExitCode::from(exit.0 as u8));
        }
        let code = if is_trap(&err) { TRAP_EXIT } else { 1 };
        eprintln!("error: failed to run `{name}`: {}", describe_failure(&err));
        report_timeout(args, &err);
        return Ok(ExitCode::from(code));
    }
    for value in &results {
        print_line(&format_value(value));
    }
    Ok(ExitCode::SUCCESS)
}

/// Says so when a failure is the `--timeout` interrupting the guest.
fn report_timeout(args: &RunArgs, err: &anyhow::Error) {
    let interrupted = err
        .chain()
        .any(|c| c.downcast_ref() == Some(&Trap::Interrupt));
    if let (Some(timeout), true) = (args.timeout, interrupted) {
        eprintln!(
            "error: execution interrupted: timeout of {} reached",
            format_duration(timeout)
        );
    }
}

/// Finds the function export `name`; `explicit` says whether the user named it.
fn find_func<T: 'static>(
    store: &mut Store<T>,
    instance: Instance,
    name: &str,
    explicit: bool,
) -> Result<Func> {
    match instance.get_export(&mut *store, name) {
        Some(export) => export
            .into_func()
            .ok_or_else(|| anyhow!("export `{name}` is not a function")),
        None if explicit => bail!("module has no export named `{name}`"),
        None => bail!("module has no `_start` export; choose a function with `--invoke NAME`"),
    }
}

fn wast(jobs: usize, inputs: &[PathBuf]) -> Result<ExitCode> {
    let mut files = Vec::new();
    for input in inputs {
        if input.is_dir() {
            files.extend(wast_files_in(input)?);
        } else {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        bail!("`wasmjit wast` needs at least one .wast file (try `wasmjit --help`)");
    }

    let reports = wasmjit_wast::run_files(&files, jobs, |report| print_line(&report.to_string()));
    let failed = reports.iter().filter(|r| !r.passed()).count();
    print_line(&format!(
        "{} passed, {failed} failed",
        reports.len() - failed
    ));
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// The `.wast` files directly inside `dir`, sorted by name.
fn wast_files_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read directory {}", dir.display()))?;
    let mut files = Vec::new();
    for entry in entries {
        let path = entry
            .with_context(|| format!("cannot read directory {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|ext| ext == "wast") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

fn compile(args: &CompileArgs) -> Result<ExitCode> {
    let path = &args.file;
    let bytes = read_wasm(path)?;
    let engine = engine_for(args.code, false)?;

    let start = Instant::now();
    Module::validate(&engine, &bytes)
        .with_context(|| format!("{} is not valid", path.display()))?;
    let validated = start.elapsed();
    let module = Module::new(&engine, &bytes)
        .with_context(|| format!("cannot compile {}", path.display()))?;
    let total = start.elapsed();
    std::fs::write(&args.output, module.serialize()?)
        .with_context(|| format!("cannot write {}", args.output.display()))?;

    println!(
        "compiled {} ({} bytes) in {:.3} ms (validation {:.3} ms) into {}",
        path.display(),
        bytes.len(),
        total.as_secs_f64() * 1e3,
        validated.as_secs_f64() * 1e3,
        args.output.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Reads a module file, translating the text format to binary.
fn read_wasm(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let binary = wat::parse_bytes(&bytes).map_err(|mut err| {
        err.set_path(path);
        anyhow!(err)
    })?;
    Ok(binary.into_owned())
}

/// The module of `path`: wasm or text compiled, or a precompiled module (`wasmjit
/// compile`) loaded when `allow_precompiled`, as `wasmtime run` does.
fn load_module(engine: &Engine, path: &Path, allow_precompiled: bool) -> Result<Module> {
    if Engine::detect_precompiled_file(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .is_some()
    {
        if !allow_precompiled {
            bail!(
                "{}: running a precompiled module requires the `--allow-precompiled` flag",
                path.display()
            );
        }
        // SAFETY: the user vouched for the file's code with `--allow-precompiled`; its
        // framing and settings are checked.
        return unsafe { Module::deserialize_file(engine, path) }
            .with_context(|| format!("cannot load {}", path.display()));
    }
    let bytes = read_wasm(path)?;
    Module::new(engine, &bytes).with_context(|| format!("cannot compile {}", path.display()))
}

fn is_trap(err: &anyhow::Error) -> bool {
    err.downcast_ref::<Trap>().is_some() || err.chain().any(|cause| cause.is::<Trap>())
}

/// Parses a command-line argument as a value of type `ty`. Integers may be written in decimal
/// (signed or unsigned range) or as `0x` hex; floats accept `inf` and `nan` as Rust does.
fn parse_value(ty: &ValType, text: &str) -> Result<Val> {
    let bad = || anyhow!("cannot parse `{text}` as {}", type_name(ty));
    Ok(match ty {
        ValType::I32 => Val::I32(parse_int(text, 32).ok_or_else(bad)? as u32 as i32),
        ValType::I64 => Val::I64(parse_int(text, 64).ok_or_else(bad)? as u64 as i64),
        ValType::F32 => Val::F32(text.parse::<f32>().map_err(|_| bad())?.to_bits()),
        ValType::F64 => Val::F64(text.parse::<f64>().map_err(|_| bad())?.to_bits()),
        ValType::V128 | ValType::Ref(_) => {
            bail!(
                "arguments of type {} cannot be given on the command line",
                type_name(ty)
            )
        }
    })
}

/// Parses a `bits`-wide integer written signed, unsigned or as hex; returns its bit pattern.
fn parse_int(text: &str, bits: u32) -> Option<i128> {
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let digits = digits.replace('_', "");
    let magnitude = match digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        Some(hex) => i128::from_str_radix(hex, 16).ok()?,
        None => digits.parse::<i128>().ok()?,
    };
    let value = if negative { -magnitude } else { magnitude };
    let min = -(1i128 << (bits - 1));
    let max = (1i128 << bits) - 1;
    (min..=max).contains(&value).then_some(value)
}

fn type_name(ty: &ValType) -> &'static str {
    match ty {
        ValType::I32 => "i32",
        ValType::I64 => "i64",
        ValType::F32 => "f32",
        ValType::F64 => "f64",
        ValType::V128 => "v128",
        ValType::Ref(_) => "a reference",
    }
}

fn format_value(value: &Val) -> String {
    match value {
        Val::I32(x) => x.to_string(),
        Val::I64(x) => x.to_string(),
        Val::F32(bits) => f32::from_bits(*bits).to_string(),
        Val::F64(bits) => f64::from_bits(*bits).to_string(),
        Val::V128(x) => format!("0x{:032x}", x.as_u128()),
        Val::FuncRef(None) => "ref.null func".to_string(),
        Val::FuncRef(Some(_)) => "ref.func".to_string(),
        Val::ExternRef(None) => "ref.null extern".to_string(),
        Val::ExternRef(Some(_)) => "ref.extern".to_string(),
        Val::ExnRef(None) => "ref.null exn".to_string(),
        Val::ExnRef(Some(_)) => "ref.exn".to_string(),
        Val::AnyRef(None) => "ref.null any".to_string(),
        Val::AnyRef(Some(_)) => "ref.any".to_string(),
    }
}

/// Prints a line on stdout. A closed stdout (`wasmjit ... | head -1`) is not an error worth a
/// panic: the rest of the output is dropped.
fn print_line(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// A failed call for the user: the root cause (the trap) first, then the context around it,
/// such as the runtime's wasm backtrace. Rust-side backtraces are left out.
fn describe_failure(err: &anyhow::Error) -> String {
    let root = err.root_cause().to_string();
    let mut text = root.clone();
    for cause in err.chain() {
        let message = cause.to_string();
        if message != root {
            text.push('\n');
            text.push_str(message.trim_end());
        }
    }
    text
}

/// One line for an error: the chain of messages, plus the source location of a text-format
/// error instead of its multi-line source excerpt.
fn summarize(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    let mut lines = text.lines();
    let mut summary = lines.next().unwrap_or_default().trim().to_string();
    if let Some(location) = lines.find_map(|line| line.trim().strip_prefix("--> ")) {
        summary.push_str(&format!(" (at {location})"));
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_parse_in_signed_unsigned_and_hex_forms() {
        assert_eq!(parse_int("-1", 32), Some(-1));
        assert_eq!(
            parse_int("4294967295", 32).map(|v| v as u32 as i32),
            Some(-1)
        );
        assert_eq!(parse_int("0x10", 32), Some(16));
        assert_eq!(parse_int("4294967296", 32), None);
        assert_eq!(parse_int("-2147483649", 32), None);
        assert_eq!(parse_int("abc", 64), None);
    }

    #[test]
    fn epoch_deadlines_and_durations_format() {
        assert_eq!(EpochTicker::deadline_for(Duration::from_millis(200)), 20);
        assert_eq!(EpochTicker::deadline_for(Duration::from_millis(1)), 1);
        assert_eq!(EpochTicker::deadline_for(Duration::ZERO), 1);
        assert_eq!(format_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
    }
}
