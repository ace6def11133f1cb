//! `wasmjit`: run WebAssembly modules and spec-test scripts from the command line.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context as _, Result};
use wasmjit::{Config, Engine, Func, Instance, Linker, Module, Store, Trap, Val, ValType};
use wasmjit_cli::wast_runner;
use wasmjit_wasi::{self as wasi, I32Exit, WasiCtx, WasiCtxBuilder};

const USAGE: &str = "\
wasmjit: a WebAssembly runtime built on Cranelift

USAGE:
    wasmjit run FILE [--invoke NAME] [--fuel N] [--timeout DURATION]
                [--env K=V]... [--dir HOST[::GUEST]]... [-W exceptions[=y|n]] [ARGS...]
        Instantiate FILE (.wasm or .wat) and call `_start`, or the export NAME with
        ARGS parsed by its parameter types; print each result on its own line.
        Put `--` before ARGS that start with `--`.
        A module importing `wasi_snapshot_preview1` gets WASI preview 1: the host's
        stdin/stdout/stderr, FILE and ARGS as its argv, and only the environment and
        directories given below; `proc_exit(N)` makes wasmjit exit with status N.
        --env K=V            set the guest's environment variable K (repeatable)
        --dir HOST[::GUEST]  give the guest the host directory HOST, named GUEST (by
                             default HOST); the guest cannot reach outside it
                             (repeatable)
        --fuel N             meter execution: trap once N units of fuel are consumed
                             (instantiation included); print `fuel consumed: M` on
                             stderr at exit
        --timeout DURATION   interrupt execution (instantiation included) after
                             DURATION, such as `500ms`, `2s` or `1.5s` (units: ns, us,
                             ms, s, m; a bare number is seconds)
        -W exceptions[=y|n]  enable the exception-handling proposal (off by default:
                             with it on, every call pays a check for a pending
                             exception)
    wasmjit wast [--jobs N] FILES_OR_DIRS...
        Run spec-test scripts (a directory means every .wast file in it).
        Prints `ok`/`FAIL` per file and a summary; exits 1 if any file failed.
    wasmjit compile FILE
        Validate and compile FILE without running it; print the time taken.
    wasmjit --help | --version

EXIT STATUS:
    0 success, 1 error (bad arguments, unreadable or invalid module, failed scripts),
    134 the called function trapped, N a WASI guest called `proc_exit(N)`.";

/// Exit status when guest code traps (the same as a process killed by SIGABRT, as Wasmtime's
/// CLI does).
const TRAP_EXIT: u8 = 134;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match dispatch(&args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {}", summarize(&err));
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: &[String]) -> Result<ExitCode> {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return Ok(ExitCode::FAILURE);
    };
    match command.as_str() {
        "run" => run(rest),
        "wast" => wast(rest),
        "compile" => compile(rest),
        "-h" | "--help" | "help" => {
            println!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        "-V" | "--version" => {
            println!("wasmjit {}", env!("CARGO_PKG_VERSION"));
            Ok(ExitCode::SUCCESS)
        }
        other => bail!("unknown command `{other}` (try `wasmjit --help`)"),
    }
}

/// Arguments of `wasmjit run`.
struct RunArgs {
    file: PathBuf,
    invoke: Option<String>,
    /// `--fuel N`: the fuel the store starts with.
    fuel: Option<u64>,
    /// `--timeout DURATION`.
    timeout: Option<Duration>,
    /// `--env K=V`, for WASI guests.
    env: Vec<(String, String)>,
    /// `--dir HOST[::GUEST]`, for WASI guests: (host, guest).
    dirs: Vec<(String, String)>,
    /// `-W exceptions[=y|n]` (Wasmtime's spelling).
    exceptions: bool,
    args: Vec<String>,
}

fn parse_run_args(args: &[String]) -> Result<RunArgs> {
    let mut file = None;
    let mut invoke = None;
    let mut fuel = None;
    let mut timeout = None;
    let mut env = Vec::new();
    let mut dirs = Vec::new();
    let mut exceptions = false;
    let mut rest = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        // `--flag value` or `--flag=value`.
        let (flag, inline_value) = match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = |what: &str| -> Result<String> {
            match &inline_value {
                Some(v) => Ok(v.clone()),
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| anyhow!("`{flag}` needs {what}")),
            }
        };
        match flag {
            "--" if inline_value.is_none() => {
                rest.extend(iter.by_ref().cloned());
                break;
            }
            "--invoke" => invoke = Some(value("an export name")?),
            "--fuel" => {
                let text = value("an amount of fuel")?;
                let amount = text
                    .replace('_', "")
                    .parse::<u64>()
                    .map_err(|_| anyhow!("`--fuel` needs a non-negative integer, got `{text}`"))?;
                fuel = Some(amount);
            }
            "--timeout" => timeout = Some(parse_duration(&value("a duration")?)?),
            "--env" => {
                let text = value("K=V")?;
                let (k, v) = text
                    .split_once('=')
                    .ok_or_else(|| anyhow!("`--env` needs K=V, got `{text}`"))?;
                env.push((k.to_string(), v.to_string()));
            }
            "--dir" => {
                let text = value("a directory")?;
                let (host, guest) = match text.split_once("::") {
                    Some((host, guest)) => (host.to_string(), guest.to_string()),
                    None => (text.clone(), text.clone()),
                };
                dirs.push((host, guest));
            }
            "-W" => {
                let text = value("a wasm feature, as in `-W exceptions=y`")?;
                exceptions = match text.as_str() {
                    "exceptions" | "exceptions=y" | "exceptions=yes" | "exceptions=true" => true,
                    "exceptions=n" | "exceptions=no" | "exceptions=false" => false,
                    _ => bail!("`-W {text}`: wasmjit knows only `-W exceptions[=y|n]`"),
                };
            }
            flag if flag.starts_with("--") => bail!("unknown option `{flag}` for `wasmjit run`"),
            _ if file.is_none() => file = Some(PathBuf::from(arg)),
            _ => rest.push(arg.clone()),
        }
    }
    let file = file.ok_or_else(|| anyhow!("`wasmjit run` needs a FILE (try `wasmjit --help`)"))?;
    Ok(RunArgs {
        file,
        invoke,
        fuel,
        timeout,
        env,
        dirs,
        exceptions,
        args: rest,
    })
}

/// Parses a duration such as `500ms`, `2s`, `1.5s` or `3` (seconds).
fn parse_duration(text: &str) -> Result<Duration> {
    let bad = || anyhow!("cannot parse `{text}` as a duration (e.g. `500ms`, `2s`)");
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds_per_unit = match unit.trim() {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        _ => return Err(bad()),
    };
    Duration::try_from_secs_f64(number * seconds_per_unit).map_err(|_| bad())
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

fn run(args: &[String]) -> Result<ExitCode> {
    let args = parse_run_args(args)?;
    let mut config = Config::new();
    config
        .consume_fuel(args.fuel.is_some())
        .epoch_interruption(args.timeout.is_some())
        .wasm_exceptions(args.exceptions);
    let engine = Engine::new(&config)?;
    let module = load_module(&engine, &args.file).map_err(|e| {
        if !args.exceptions && format!("{e:#}").contains("Config::wasm_exceptions") {
            e.context("the module uses exception handling: run it with `-W exceptions=y`")
        } else {
            e
        }
    })?;
    let uses_wasi = module.imports().any(|i| i.module() == wasi::MODULE);
    if let Some(import) = module.imports().find(|i| i.module() != wasi::MODULE) {
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
        builder
            .inherit_stdio()
            .arg(args.file.to_string_lossy())
            .args(&args.args)
            .envs(&args.env);
        for (host, guest) in &args.dirs {
            builder.preopened_dir(host, guest)?;
        }
    }

    let mut store = Store::new(&engine, builder.build());
    if let Some(fuel) = args.fuel {
        store.set_fuel(fuel)?;
    }
    // Started before instantiation: the timeout covers the start function too.
    let _ticker = args.timeout.map(|timeout| {
        store.set_epoch_deadline(EpochTicker::deadline_for(timeout));
        EpochTicker::start(&engine)
    });
    let code = run_in_store(&args, &mut store, &module, uses_wasi)?;
    // Whether the guest returned or trapped: it ran.
    if let Some(fuel) = args.fuel {
        let consumed = fuel - store.get_fuel()?;
        eprintln!("fuel consumed: {consumed}");
    }
    Ok(code)
}

/// Instantiates the module and makes the call of `wasmjit run`.
fn run_in_store(
    args: &RunArgs,
    store: &mut Store<WasiCtx>,
    module: &Module,
    uses_wasi: bool,
) -> Result<ExitCode> {
    let mut linker = Linker::new(store.engine());
    if uses_wasi {
        wasi::add_to_linker(&mut linker, |cx: &mut WasiCtx| cx)?;
    }
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
fn find_func(
    store: &mut Store<WasiCtx>,
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

fn wast(args: &[String]) -> Result<ExitCode> {
    let mut jobs = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut inputs = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--jobs" | "-j" => {
                let value = iter
                    .next()
                    .ok_or_else(|| anyhow!("`{arg}` needs a number"))?;
                jobs = value
                    .parse()
                    .ok()
                    .filter(|&n| n > 0)
                    .ok_or_else(|| anyhow!("`{arg}` needs a positive number, got `{value}`"))?;
            }
            flag if flag.starts_with("--") => bail!("unknown option `{flag}` for `wasmjit wast`"),
            _ => inputs.push(PathBuf::from(arg)),
        }
    }
    let mut files = Vec::new();
    for input in &inputs {
        if input.is_dir() {
            files.extend(wast_files_in(input)?);
        } else {
            files.push(input.clone());
        }
    }
    if files.is_empty() {
        bail!("`wasmjit wast` needs at least one .wast file (try `wasmjit --help`)");
    }

    let reports = wast_runner::run_files(&files, jobs, |report| print_line(&report.to_string()));
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

fn compile(args: &[String]) -> Result<ExitCode> {
    let [file] = args else {
        bail!("`wasmjit compile` takes exactly one FILE (try `wasmjit --help`)");
    };
    let path = Path::new(file);
    let bytes = read_wasm(path)?;
    let engine = Engine::default();

    let start = Instant::now();
    Module::validate(&engine, &bytes)
        .with_context(|| format!("{} is not valid", path.display()))?;
    let validated = start.elapsed();
    Module::new(&engine, &bytes).with_context(|| format!("cannot compile {}", path.display()))?;
    let total = start.elapsed();

    println!(
        "compiled {} ({} bytes) in {:.3} ms (validation {:.3} ms)",
        path.display(),
        bytes.len(),
        total.as_secs_f64() * 1e3,
        validated.as_secs_f64() * 1e3
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

fn load_module(engine: &Engine, path: &Path) -> Result<Module> {
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
    fn run_flags_may_come_before_or_after_the_file() {
        let args: Vec<String> = ["--invoke", "fib", "f.wat", "25"]
            .map(String::from)
            .to_vec();
        let parsed = parse_run_args(&args).expect("valid");
        assert_eq!(parsed.invoke.as_deref(), Some("fib"));
        assert_eq!(parsed.file, PathBuf::from("f.wat"));
        assert_eq!(parsed.args, vec!["25".to_string()]);

        let args: Vec<String> = ["f.wat", "--invoke", "neg", "-5"]
            .map(String::from)
            .to_vec();
        assert_eq!(
            parse_run_args(&args).expect("valid").args,
            vec!["-5".to_string()]
        );
        assert!(parse_run_args(&["f.wat".into(), "--fuel".into()]).is_err());
    }

    #[test]
    fn fuel_and_timeout_flags_parse() {
        let args: Vec<String> = ["f.wat", "--fuel", "1000", "--timeout=200ms", "1"]
            .map(String::from)
            .to_vec();
        let parsed = parse_run_args(&args).expect("valid");
        assert_eq!(parsed.fuel, Some(1000));
        assert_eq!(parsed.timeout, Some(Duration::from_millis(200)));
        assert_eq!(parsed.args, vec!["1".to_string()]);
        assert!(parse_run_args(&["f.wat".into(), "--fuel=-1".into()]).is_err());
        assert!(parse_run_args(&["f.wat".into(), "--timeout".into(), "soon".into()]).is_err());
    }

    #[test]
    fn durations_parse_with_units() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2s").unwrap(), Duration::from_secs(2));
        assert_eq!(parse_duration("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert_eq!(parse_duration("1m").unwrap(), Duration::from_secs(60));
        assert_eq!(parse_duration("250us").unwrap(), Duration::from_micros(250));
        assert!(parse_duration("ms").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(EpochTicker::deadline_for(Duration::from_millis(200)), 20);
        assert_eq!(EpochTicker::deadline_for(Duration::from_millis(1)), 1);
        assert_eq!(EpochTicker::deadline_for(Duration::ZERO), 1);
        assert_eq!(format_duration(Duration::from_millis(200)), "200ms");
        assert_eq!(format_duration(Duration::from_secs(2)), "2s");
    }
}
