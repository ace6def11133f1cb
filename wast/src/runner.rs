//! Runs WebAssembly spec-test scripts (`.wast` files) against the wasmjit runtime.
//!
//! Every file gets a fresh [`Engine`], [`Store`] and [`Linker`] with the standard `spectest`
//! module registered. Its directives run in order; the first one that does not behave as the
//! script says ends that file with a [`Failure`]. Files run on dedicated threads with large
//! stacks, so a panic in one file is reported as that file's failure and the run goes on.

use std::collections::HashMap;
use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

use crate::config_comments::config_from_comments;
use anyhow::{anyhow, bail, Context as _, Result};
use wasmjit::{
    Config, Engine, ExternRef, Global, GlobalType, Instance, Linker, Memory, MemoryType, Module,
    Mutability, Ref, RefType, Store, Table, TableType, ThrownException, Trap, Val, ValType,
};
use wast::core::{AbstractHeapType, HeapType, NanPattern, V128Pattern, WastArgCore, WastRetCore};
use wast::lexer::Lexer;
use wast::parser::{self, ParseBuffer};
use wast::token::{Id, Span, F32, F64};
use wast::{QuoteWat, Wast, WastArg, WastDirective, WastExecute, WastInvoke, WastRet};

/// Stack size of the thread that runs one file: deep guest recursion (`assert_exhaustion`)
/// and deeply nested scripts must hit the runtime's own limits, not the thread's guard page.
const FILE_THREAD_STACK: usize = 64 << 20;

/// The outcome of running one `.wast` file.
#[derive(Debug)]
pub struct FileReport {
    /// The file's name as given by the caller (its path).
    pub name: String,
    /// How many directives the file holds (0 if it could not be read or parsed).
    pub directives: usize,
    /// The first directive that failed, if any.
    pub failure: Option<Failure>,
}

/// Why and where a file failed.
#[derive(Debug)]
pub struct Failure {
    /// 1-based line of the failing directive (0 when the failure has no location).
    pub line: usize,
    /// 1-based column of the failing directive (0 when the failure has no location).
    pub col: usize,
    /// What went wrong, on one line.
    pub message: String,
}

impl FileReport {
    /// `true` when every directive of the file behaved as the script expects.
    pub fn passed(&self) -> bool {
        self.failure.is_none()
    }

    fn failed(name: &str, directives: usize, line: usize, col: usize, message: String) -> Self {
        FileReport {
            name: name.to_string(),
            directives,
            failure: Some(Failure { line, col, message }),
        }
    }
}

/// Formats the report as the runner's one-line verdict:
/// `ok NAME (N directives)` or `FAIL NAME: LINE:COL: what failed`.
impl fmt::Display for FileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.failure {
            None => write!(f, "ok {} ({} directives)", self.name, self.directives),
            Some(failure) => write!(
                f,
                "FAIL {}: {}:{}: {}",
                self.name, failure.line, failure.col, failure.message
            ),
        }
    }
}

/// Runs one `.wast` file on a dedicated thread with a large stack.
///
/// Never panics: unreadable files, parse errors and panics inside the runtime all come back
/// as a failed [`FileReport`].
pub fn run_file(path: &Path) -> FileReport {
    run_file_with(path, |_| {})
}

/// [`run_file`], with `adjust` applied to the configuration the script gets (to run a suite
/// under settings of the embedder's, say).
pub fn run_file_with(path: &Path, adjust: fn(&mut Config)) -> FileReport {
    let name = path.display().to_string();
    let owned: PathBuf = path.to_path_buf();
    let thread_name = name.clone();
    let spawned = std::thread::Builder::new()
        .name(format!("wast {thread_name}"))
        .stack_size(FILE_THREAD_STACK)
        .spawn(move || run_file_on_this_thread(&owned, &thread_name, adjust));
    match spawned {
        Ok(handle) => match handle.join() {
            Ok(report) => report,
            Err(payload) => FileReport::failed(
                &name,
                0,
                0,
                0,
                format!("panicked: {}", panic_message(payload.as_ref())),
            ),
        },
        Err(err) => FileReport::failed(&name, 0, 0, 0, format!("cannot spawn a thread: {err}")),
    }
}

/// Runs `paths` on up to `jobs` threads and calls `on_report` for each file, in the order of
/// `paths`, as soon as that file and all files before it are done. Returns every report in
/// the order of `paths`.
pub fn run_files(
    paths: &[PathBuf],
    jobs: usize,
    mut on_report: impl FnMut(&FileReport),
) -> Vec<FileReport> {
    let jobs = jobs.clamp(1, paths.len().max(1));
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::channel::<(usize, FileReport)>();
    let mut slots: Vec<Option<FileReport>> = paths.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(index) else { break };
                if sender.send((index, run_file(path))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let mut printed = 0;
        for (index, report) in receiver {
            slots[index] = Some(report);
            while let Some(Some(report)) = slots.get(printed) {
                on_report(report);
                printed += 1;
            }
        }
    });
    slots.into_iter().flatten().collect()
}

/// Runs a `.wast` script given as text on the current thread. `name` is used in the report.
///
/// Panics raised while running a directive are caught and reported as that directive's
/// failure; the caller's thread needs a stack big enough for the script (see [`run_file`]).
pub fn run_script(name: &str, text: &str) -> FileReport {
    run_script_with(name, text, |_| {})
}

/// [`run_script`], with `adjust` applied to the configuration the script gets.
pub fn run_script_with(name: &str, text: &str, adjust: fn(&mut Config)) -> FileReport {
    // The spec scripts test names made of bidi controls and other "trojan source" characters,
    // which the lexer refuses unless told otherwise.
    let mut lexer = Lexer::new(text);
    lexer.allow_confusing_unicode(true);
    let buffer = match ParseBuffer::new_with_lexer(lexer) {
        Ok(buffer) => buffer,
        Err(err) => return parse_failure(name, text, err),
    };
    let script = match parser::parse::<Wast>(&buffer) {
        Ok(script) => script,
        Err(err) => return parse_failure(name, text, err),
    };
    let directives = script.directives.len();
    let mut config = match config_from_comments(text) {
        Ok(Some(config)) => config,
        Ok(None) => config_for(name),
        Err(err) => return FileReport::failed(name, directives, err.line, 1, err.message),
    };
    adjust(&mut config);
    let mut runner = match Runner::new(&config) {
        Ok(runner) => runner,
        Err(err) => {
            let message = format!("cannot set up the spectest module: {err:#}");
            return FileReport::failed(name, directives, 0, 0, one_line(&message));
        }
    };
    for directive in script.directives {
        let span = directive.span();
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| runner.run(directive)));
        let message = match outcome {
            Ok(Ok(())) => continue,
            Ok(Err(err)) => format!("{err:#}"),
            Err(payload) => format!("panicked: {}", panic_message(payload.as_ref())),
        };
        let (line, col) = line_col(span, text);
        return FileReport::failed(name, directives, line, col, one_line(&message));
    }
    FileReport {
        name: name.to_string(),
        directives,
        failure: None,
    }
}

fn run_file_on_this_thread(path: &Path, name: &str, adjust: fn(&mut Config)) -> FileReport {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => return FileReport::failed(name, 0, 0, 0, format!("cannot read file: {err}")),
    };
    match std::str::from_utf8(&bytes) {
        Ok(text) => run_script_with(name, text, adjust),
        Err(err) => FileReport::failed(name, 0, 0, 0, format!("file is not UTF-8: {err}")),
    }
}

fn parse_failure(name: &str, text: &str, err: wast::Error) -> FileReport {
    let (line, col) = line_col(err.span(), text);
    let message = format!("cannot parse script: {}", err.message());
    FileReport::failed(name, 0, line, col, one_line(&message))
}

/// 1-based line and column of `span` in `text`.
fn line_col(span: Span, text: &str) -> (usize, usize) {
    let (line, col) = span.linecol_in(text);
    (line + 1, col + 1)
}

/// Folds a multi-line message (error chains, backtraces) onto one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_string()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "<non-string panic payload>".to_string()
    }
}

/// The engine configuration for the script at `path`, chosen by where it lives in the spec
/// suite (a script that opens with `;;!` configuration comments gets what they ask for
/// instead, see [`crate::config_comments`]). Scripts directly in a `v2` directory are the Wasm 2.0
/// suite: they check that the encodings of later features are rejected, so they run with Wasm
/// 2.0 features only. The `proposals/multi-memory` scripts predate Wasm 3.0's 64-bit memory
/// limits encoding and run without memory64; they and the `proposals/extended-const` ones also
/// predate Wasm 3.0's constant `global.get` of defined globals, which comes with function
/// references here, so they run without function references. The
/// `proposals/function-references` scripts predate multi-memory's memory index after
/// `memory.grow` and run without multi-memory. Everything else gets the engine's defaults,
/// with exception handling on (it is off by default).
pub fn config_for(path: &str) -> Config {
    let mut config = Config::new();
    config.wasm_exceptions(true).shared_memory(true);
    let path = Path::new(path);
    let parent = |p: &Path| {
        p.parent()
            .and_then(|d| d.file_name())
            .map(|n| n.to_string_lossy().into_owned())
    };
    match parent(path).as_deref() {
        Some("v2") => {
            config
                .wasm_relaxed_simd(false)
                .wasm_tail_call(false)
                .wasm_extended_const(false)
                .wasm_multi_memory(false)
                .wasm_memory64(false)
                .wasm_function_references(false)
                .wasm_exceptions(false);
        }
        Some("multi-memory") => {
            config.wasm_memory64(false).wasm_function_references(false);
        }
        Some("extended-const") => {
            config.wasm_function_references(false);
        }
        Some("function-references") | Some("exception-handling") => {
            config.wasm_multi_memory(false);
        }
        // The threads proposal's scripts start from Wasm 1.0 plus its own features: they
        // expect a second memory or table to be rejected.
        Some("threads") => {
            config
                .wasm_multi_memory(false)
                .wasm_function_references(false)
                .wasm_exceptions(false)
                .wasm_reference_types(false);
        }
        // The Wasm 3.0 suite and the memory64 proposal's copy of it: GC's types.
        Some("v3") | Some("memory64") => {
            config.wasm_gc(true);
        }
        _ => {}
    }
    config
}

/// The state one script runs against.
struct Runner {
    engine: Engine,
    store: Store<()>,
    linker: Linker<()>,
    /// The most recently instantiated module: the target of unnamed `invoke`, `get`, `register`.
    current: Option<Instance>,
    /// Instances bound to a `$name`.
    instances: HashMap<String, Instance>,
    /// Modules declared with `(module definition $name ...)`.
    definitions: HashMap<String, Module>,
    /// The most recent `(module definition ...)`, named or not.
    last_definition: Option<Module>,
}

/// Outcome of an invocation, instantiation or global read: the values it produced, or the
/// error (usually a trap) it failed with. Errors in *setting up* the action (unknown export,
/// module that does not compile...) are reported separately, as the outer `Result`.
type Outcome = Result<Vec<Val>>;

impl Runner {
    fn new(config: &Config) -> Result<Self> {
        let engine = Engine::new(config)?;
        let store = Store::new(&engine, ());
        let mut linker = Linker::new(&engine);
        // Scripts register several instances under the same name (e.g. "M" in linking.wast).
        linker.allow_shadowing(true);
        let mut runner = Runner {
            engine,
            store,
            linker,
            current: None,
            instances: HashMap::new(),
            definitions: HashMap::new(),
            last_definition: None,
        };
        runner.define_spectest()?;
        Ok(runner)
    }

    /// Registers the `spectest` module that the spec scripts import from.
    fn define_spectest(&mut self) -> Result<()> {
        let linker = &mut self.linker;
        linker.func_wrap("spectest", "print", || {})?;
        linker.func_wrap("spectest", "print_i32", |_: i32| {})?;
        linker.func_wrap("spectest", "print_i64", |_: i64| {})?;
        linker.func_wrap("spectest", "print_f32", |_: f32| {})?;
        linker.func_wrap("spectest", "print_f64", |_: f64| {})?;
        linker.func_wrap("spectest", "print_i32_f32", |_: i32, _: f32| {})?;
        linker.func_wrap("spectest", "print_f64_f64", |_: f64, _: f64| {})?;

        let globals = [
            ("global_i32", ValType::I32, Val::I32(666)),
            ("global_i64", ValType::I64, Val::I64(666)),
            ("global_f32", ValType::F32, Val::F32(666.6f32.to_bits())),
            ("global_f64", ValType::F64, Val::F64(666.6f64.to_bits())),
        ];
        for (name, ty, value) in globals {
            let global = Global::new(
                &mut self.store,
                GlobalType::new(ty, Mutability::Const),
                value,
            )?;
            self.linker.define(&self.store, "spectest", name, global)?;
        }

        let table = Table::new(
            &mut self.store,
            TableType::new(RefType::FUNCREF, 10, Some(20)),
            Ref::Func(None),
        )?;
        self.linker
            .define(&self.store, "spectest", "table", table)?;
        let table64 = Table::new(
            &mut self.store,
            TableType::new64(RefType::FUNCREF, 10, Some(20)),
            Ref::Func(None),
        )?;
        self.linker
            .define(&self.store, "spectest", "table64", table64)?;

        let memory = Memory::new(&mut self.store, MemoryType::new(1, Some(2)))?;
        self.linker
            .define(&self.store, "spectest", "memory", memory)?;
        if self.engine.get_shared_memory() {
            let shared = wasmjit::SharedMemory::new(&self.engine, MemoryType::shared(1, 2))?;
            self.linker
                .define(&self.store, "spectest", "shared_memory", shared)?;
        }
        Ok(())
    }

    /// Runs one directive; `Err` means the directive did not behave as the script expects.
    fn run(&mut self, directive: WastDirective<'_>) -> Result<()> {
        match directive {
            WastDirective::Module(mut module) => {
                let name = module.name();
                let compiled = self.compile(&mut module)?;
                let instance = self
                    .linker
                    .instantiate(&mut self.store, &compiled)
                    .context("module failed to instantiate")?;
                self.bind(name, instance);
            }
            WastDirective::ModuleDefinition(mut module) => {
                let name = module.name();
                let compiled = self.compile(&mut module)?;
                if let Some(name) = name {
                    self.definitions
                        .insert(name.name().to_string(), compiled.clone());
                }
                self.last_definition = Some(compiled);
            }
            WastDirective::ModuleInstance {
                instance, module, ..
            } => {
                let definition = match module {
                    Some(id) => self
                        .definitions
                        .get(id.name())
                        .cloned()
                        .ok_or_else(|| anyhow!("no module definition named `{}`", id.name()))?,
                    None => self
                        .last_definition
                        .clone()
                        .ok_or_else(|| anyhow!("no module definition to instantiate"))?,
                };
                let created = self
                    .linker
                    .instantiate(&mut self.store, &definition)
                    .context("module failed to instantiate")?;
                self.bind(instance, created);
            }
            WastDirective::Register { name, module, .. } => {
                let instance = self.instance(module)?;
                self.linker
                    .instance(&mut self.store, name, instance)
                    .with_context(|| format!("cannot register instance as `{name}`"))?;
            }
            WastDirective::Invoke(invoke) => {
                self.invoke(&invoke)?
                    .with_context(|| format!("invoke `{}` failed", invoke.name))?;
            }
            WastDirective::AssertReturn { exec, results, .. } => {
                let values = self
                    .execute(exec)?
                    .context("expected values, got an error")?;
                self.check_results(&results, &values)?;
            }
            WastDirective::AssertTrap { exec, message, .. } => match self.execute(exec)? {
                Ok(values) => bail!(
                    "expected trap `{message}`, got {}",
                    self.format_values(&values)
                ),
                Err(err) => check_trap(&err, message)?,
            },
            WastDirective::AssertExhaustion { call, message, .. } => match self.invoke(&call)? {
                Ok(values) => bail!(
                    "expected exhaustion `{message}`, got {}",
                    self.format_values(&values)
                ),
                Err(err) => check_trap(&err, message)?,
            },
            WastDirective::AssertInvalid {
                module, message, ..
            }
            | WastDirective::AssertMalformed {
                module, message, ..
            } => self.assert_rejected(module, message)?,
            WastDirective::AssertInvalidCustom { .. }
            | WastDirective::AssertMalformedCustom { .. } => {
                // A bad custom section never stops a module from loading, so the runtime has
                // nothing to check here.
            }
            WastDirective::AssertUnlinkable {
                mut module,
                message,
                ..
            } => {
                let bytes = module.encode().context("cannot encode module")?;
                let compiled =
                    Module::new(&self.engine, &bytes).context("module failed to compile")?;
                if self.linker.instantiate(&mut self.store, &compiled).is_ok() {
                    bail!("expected link error `{message}`, but the module instantiated");
                }
            }
            WastDirective::AssertException { exec, .. } => match self.execute(exec)? {
                Ok(values) => bail!(
                    "expected an uncaught exception, got {}",
                    self.format_values(&values)
                ),
                Err(err) => {
                    if err.downcast_ref::<ThrownException>().is_none() {
                        bail!("expected an uncaught exception, got: {err:#}");
                    }
                }
            },
            WastDirective::AssertSuspension { .. } => {
                bail!("unsupported directive `assert_suspension`")
            }
            WastDirective::Thread(_) => bail!("unsupported directive `thread`"),
            WastDirective::Wait { .. } => bail!("unsupported directive `wait`"),
        }
        Ok(())
    }

    /// Encodes (text → binary if needed) and compiles a module that must be valid.
    fn compile(&self, module: &mut QuoteWat<'_>) -> Result<Module> {
        let bytes = module.encode().context("cannot parse module text")?;
        Module::new(&self.engine, &bytes).context("module failed to compile")
    }

    /// `assert_invalid` / `assert_malformed`: the module must be rejected, either by the text
    /// parser (quoted text that does not parse is malformed) or by the runtime.
    fn assert_rejected(&self, mut module: QuoteWat<'_>, message: &str) -> Result<()> {
        let Ok(bytes) = module.encode() else {
            return Ok(());
        };
        match Module::new(&self.engine, &bytes) {
            Ok(_) => bail!("expected module to be rejected (`{message}`), but it compiled"),
            Err(_) => Ok(()),
        }
    }

    fn bind(&mut self, name: Option<Id<'_>>, instance: Instance) {
        if let Some(name) = name {
            self.instances.insert(name.name().to_string(), instance);
        }
        self.current = Some(instance);
    }

    fn instance(&self, name: Option<Id<'_>>) -> Result<Instance> {
        match name {
            Some(id) => self
                .instances
                .get(id.name())
                .copied()
                .ok_or_else(|| anyhow!("no instance named `{}`", id.name())),
            None => self
                .current
                .ok_or_else(|| anyhow!("no module has been instantiated yet")),
        }
    }

    /// Runs an action: an invocation, an instantiation or a global read.
    fn execute(&mut self, exec: WastExecute<'_>) -> Result<Outcome> {
        match exec {
            WastExecute::Invoke(invoke) => self.invoke(&invoke),
            WastExecute::Wat(mut module) => {
                let bytes = module.encode().context("cannot encode module")?;
                let compiled =
                    Module::new(&self.engine, &bytes).context("module failed to compile")?;
                Ok(self
                    .linker
                    .instantiate(&mut self.store, &compiled)
                    .map(|_| Vec::new()))
            }
            WastExecute::Get { module, global, .. } => {
                let instance = self.instance(module)?;
                let global = instance
                    .get_global(&mut self.store, global)
                    .ok_or_else(|| anyhow!("no global export `{global}`"))?;
                Ok(Ok(vec![global.get(&mut self.store)]))
            }
        }
    }

    fn invoke(&mut self, invoke: &WastInvoke<'_>) -> Result<Outcome> {
        let instance = self.instance(invoke.module)?;
        let func = instance
            .get_func(&mut self.store, invoke.name)
            .ok_or_else(|| anyhow!("no function export `{}`", invoke.name))?;
        let args = invoke
            .args
            .iter()
            .map(|arg| self.arg(arg))
            .collect::<Result<Vec<_>>>()?;
        let mut results: Vec<Val> = func.ty(&self.store).results().map(placeholder).collect();
        Ok(func
            .call(&mut self.store, &args, &mut results)
            .map(|()| results))
    }

    fn arg(&mut self, arg: &WastArg<'_>) -> Result<Val> {
        let WastArg::Core(arg) = arg else {
            bail!("component-model arguments are not supported")
        };
        Ok(match arg {
            WastArgCore::I32(x) => Val::I32(*x),
            WastArgCore::I64(x) => Val::I64(*x),
            WastArgCore::F32(x) => Val::F32(x.bits),
            WastArgCore::F64(x) => Val::F64(x.bits),
            WastArgCore::V128(x) => v128_val(x.to_le_bytes()),
            WastArgCore::RefNull(heap) => match ref_kind(heap) {
                Some(RefKind::Func) => Val::FuncRef(None),
                Some(RefKind::Exn) => Val::ExnRef(None),
                Some(RefKind::Extern) => Val::ExternRef(None),
                Some(RefKind::Any) => Val::AnyRef(None),
                None => bail!("unsupported null reference type {heap:?}"),
            },
            WastArgCore::RefExtern(payload) => {
                Val::ExternRef(Some(ExternRef::new(&mut self.store, *payload)?))
            }
            WastArgCore::RefHost(_) => bail!("`ref.host` arguments are not supported"),
        })
    }

    fn check_results(&self, expected: &[WastRet<'_>], actual: &[Val]) -> Result<()> {
        if expected.len() != actual.len() {
            bail!(
                "expected {} results, got {}",
                expected.len(),
                self.format_values(actual)
            );
        }
        for (index, (expected, actual)) in expected.iter().zip(actual).enumerate() {
            let WastRet::Core(expected) = expected else {
                bail!("component-model results are not supported")
            };
            if !self.matches(expected, actual) {
                bail!(
                    "result {index}: expected {}, got {}",
                    format_ret(expected),
                    self.format_value(actual)
                );
            }
        }
        Ok(())
    }

    fn matches(&self, expected: &WastRetCore<'_>, actual: &Val) -> bool {
        match (expected, actual) {
            (WastRetCore::I32(e), Val::I32(a)) => e == a,
            (WastRetCore::I64(e), Val::I64(a)) => e == a,
            (WastRetCore::F32(e), Val::F32(a)) => f32_matches(e, *a),
            (WastRetCore::F64(e), Val::F64(a)) => f64_matches(e, *a),
            (WastRetCore::V128(e), Val::V128(a)) => v128_matches(e, v128_bits(a)),
            (WastRetCore::RefNull(heap), Val::FuncRef(None)) => heap
                .as_ref()
                .is_none_or(|h| ref_kind(h) == Some(RefKind::Func)),
            (WastRetCore::RefNull(heap), Val::ExnRef(None)) => heap
                .as_ref()
                .is_none_or(|h| ref_kind(h) == Some(RefKind::Exn)),
            (WastRetCore::RefNull(heap), Val::ExternRef(None)) => heap
                .as_ref()
                .is_none_or(|h| ref_kind(h) == Some(RefKind::Extern)),
            (WastRetCore::RefNull(heap), Val::AnyRef(None)) => heap
                .as_ref()
                .is_none_or(|h| ref_kind(h) == Some(RefKind::Any)),
            (WastRetCore::RefExtern(None), Val::ExternRef(Some(_))) => true,
            (WastRetCore::RefExtern(Some(e)), Val::ExternRef(Some(a))) => {
                self.extern_payload(a) == Some(*e)
            }
            (WastRetCore::RefFunc(_), Val::FuncRef(Some(_))) => true,
            // Every non-null anyref is an `i31` until the GC heap exists.
            (
                WastRetCore::RefAny | WastRetCore::RefEq | WastRetCore::RefI31,
                Val::AnyRef(Some(_)),
            ) => true,
            (WastRetCore::Either(choices), _) => {
                choices.iter().any(|choice| self.matches(choice, actual))
            }
            _ => false,
        }
    }

    /// The `u32` a host externref created by `ref.extern N` wraps.
    fn extern_payload(&self, value: &ExternRef) -> Option<u32> {
        value
            .data(&self.store)
            .ok()??
            .downcast_ref::<u32>()
            .copied()
    }

    fn format_values(&self, values: &[Val]) -> String {
        let items: Vec<String> = values.iter().map(|v| self.format_value(v)).collect();
        format!("[{}]", items.join(", "))
    }

    fn format_value(&self, value: &Val) -> String {
        match value {
            Val::I32(x) => format!("i32 {x}"),
            Val::I64(x) => format!("i64 {x}"),
            Val::F32(bits) => format!("f32 {} (0x{bits:08x})", f32::from_bits(*bits)),
            Val::F64(bits) => format!("f64 {} (0x{bits:016x})", f64::from_bits(*bits)),
            Val::V128(x) => format!("v128 0x{:032x}", v128_bits(x)),
            Val::FuncRef(None) => "ref.null func".to_string(),
            Val::FuncRef(Some(_)) => "ref.func".to_string(),
            Val::ExternRef(None) => "ref.null extern".to_string(),
            Val::ExnRef(None) => "ref.null exn".to_string(),
            Val::ExnRef(Some(_)) => "ref.exn".to_string(),
            Val::AnyRef(None) => "ref.null any".to_string(),
            Val::AnyRef(Some(r)) => match r.as_i31(&self.store) {
                Ok(Some(v)) => format!("ref.i31 {}", v.get_u32()),
                _ => "ref.any".to_string(),
            },
            Val::ExternRef(Some(r)) => match self.extern_payload(r) {
                Some(payload) => format!("ref.extern {payload}"),
                None => "ref.extern <foreign>".to_string(),
            },
        }
    }
}

/// Slot for a result of type `ty`; `Func::call` overwrites it.
fn placeholder(ty: ValType) -> Val {
    Val::default_for_ty(&ty).unwrap_or(Val::I32(0))
}

fn v128_val(bytes: [u8; 16]) -> Val {
    Val::V128(u128::from_le_bytes(bytes).into())
}

fn v128_bits(value: &wasmjit::V128) -> u128 {
    value.as_u128()
}

/// The two reference kinds of the wasm 2.0 spec tests.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum RefKind {
    Func,
    Extern,
    Exn,
    Any,
}

fn ref_kind(heap: &HeapType<'_>) -> Option<RefKind> {
    match heap {
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Func | AbstractHeapType::NoFunc,
        } => Some(RefKind::Func),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Extern | AbstractHeapType::NoExtern,
        } => Some(RefKind::Extern),
        HeapType::Abstract {
            shared: false,
            ty: AbstractHeapType::Exn | AbstractHeapType::NoExn,
        } => Some(RefKind::Exn),
        HeapType::Abstract {
            shared: false,
            ty:
                AbstractHeapType::Any
                | AbstractHeapType::Eq
                | AbstractHeapType::I31
                | AbstractHeapType::Struct
                | AbstractHeapType::Array
                | AbstractHeapType::None,
        } => Some(RefKind::Any),
        _ => None,
    }
}

fn f32_matches(expected: &NanPattern<F32>, bits: u32) -> bool {
    match expected {
        NanPattern::CanonicalNan => bits & 0x7fff_ffff == 0x7fc0_0000,
        NanPattern::ArithmeticNan => bits & 0x7fc0_0000 == 0x7fc0_0000,
        NanPattern::Value(value) => value.bits == bits,
    }
}

fn f64_matches(expected: &NanPattern<F64>, bits: u64) -> bool {
    const QUIET_NAN: u64 = 0x7ff8_0000_0000_0000;
    match expected {
        NanPattern::CanonicalNan => bits & !(1 << 63) == QUIET_NAN,
        NanPattern::ArithmeticNan => bits & QUIET_NAN == QUIET_NAN,
        NanPattern::Value(value) => value.bits == bits,
    }
}

fn v128_matches(expected: &V128Pattern, bits: u128) -> bool {
    let bytes = bits.to_le_bytes();
    let lane = |size: usize, index: usize| -> u64 {
        let mut buf = [0u8; 8];
        buf[..size].copy_from_slice(&bytes[index * size..(index + 1) * size]);
        u64::from_le_bytes(buf)
    };
    match expected {
        V128Pattern::I8x16(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| lane(1, i) == u64::from(*e as u8)),
        V128Pattern::I16x8(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| lane(2, i) == u64::from(*e as u16)),
        V128Pattern::I32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| lane(4, i) == u64::from(*e as u32)),
        V128Pattern::I64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| lane(8, i) == *e as u64),
        V128Pattern::F32x4(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| f32_matches(e, lane(4, i) as u32)),
        V128Pattern::F64x2(lanes) => lanes
            .iter()
            .enumerate()
            .all(|(i, e)| f64_matches(e, lane(8, i))),
    }
}

/// The spec-test phrases a trap of this kind satisfies.
fn spec_phrases(trap: &Trap) -> &'static [&'static str] {
    match trap {
        Trap::StackOverflow => &["call stack exhausted"],
        Trap::MemoryOutOfBounds => &["out of bounds memory access"],
        Trap::HeapMisaligned => &["misaligned memory access", "unaligned atomic"],
        // An index past the end of the table in `call_indirect` is "undefined element" in the
        // spec; every other out-of-range table access is "out of bounds table access".
        Trap::TableOutOfBounds => &["out of bounds table access", "undefined element"],
        Trap::IndirectCallToNull => &["uninitialized element"],
        Trap::BadSignature => &["indirect call type mismatch"],
        Trap::IntegerOverflow => &["integer overflow"],
        Trap::IntegerDivisionByZero => &["integer divide by zero"],
        Trap::BadConversionToInteger => &["invalid conversion to integer"],
        Trap::UnreachableCodeReached => &["unreachable"],
        Trap::Interrupt => &["interrupt"],
        Trap::OutOfFuel => &["all fuel consumed"],
        Trap::NullReference => &[
            "null reference",
            "null function reference",
            "null i31 reference",
        ],
        Trap::CastFailure => &["cast failure"],
        Trap::AtomicWaitNonSharedMemory => &["expected shared memory"],
        // A kind this runner does not know yet: its `Display` text is still compared.
        _ => &[],
    }
}

/// Checks that `err` is the trap (or host error) the script expects.
fn check_trap(err: &anyhow::Error, expected: &str) -> Result<()> {
    let trap = err
        .downcast_ref::<Trap>()
        .or_else(|| err.chain().find_map(|cause| cause.downcast_ref::<Trap>()));
    if let Some(trap) = trap {
        let matched = spec_phrases(trap)
            .iter()
            .any(|phrase| expected.contains(phrase))
            || trap.to_string().contains(expected);
        if matched {
            return Ok(());
        }
        bail!("expected trap `{expected}`, got `{trap}`");
    }
    // Not a trap: a host function's error, or the runtime refusing the action. Accept it only
    // when its text says what the script expects.
    let text = format!("{err:#}");
    if text.contains(expected) {
        Ok(())
    } else {
        bail!("expected trap `{expected}`, got a non-trap error: {text}")
    }
}

fn format_ret(expected: &WastRetCore<'_>) -> String {
    fn nan<T>(pattern: &NanPattern<T>, value: impl Fn(&T) -> String) -> String {
        match pattern {
            NanPattern::CanonicalNan => "nan:canonical".to_string(),
            NanPattern::ArithmeticNan => "nan:arithmetic".to_string(),
            NanPattern::Value(v) => value(v),
        }
    }
    match expected {
        WastRetCore::I32(x) => format!("i32 {x}"),
        WastRetCore::I64(x) => format!("i64 {x}"),
        WastRetCore::F32(p) => format!(
            "f32 {}",
            nan(p, |v| format!(
                "{} (0x{:08x})",
                f32::from_bits(v.bits),
                v.bits
            ))
        ),
        WastRetCore::F64(p) => format!(
            "f64 {}",
            nan(p, |v| format!(
                "{} (0x{:016x})",
                f64::from_bits(v.bits),
                v.bits
            ))
        ),
        WastRetCore::RefNull(heap) => match heap.as_ref().map(ref_kind) {
            Some(Some(RefKind::Func)) => "ref.null func".to_string(),
            Some(Some(RefKind::Extern)) => "ref.null extern".to_string(),
            Some(Some(RefKind::Exn)) => "ref.null exn".to_string(),
            Some(Some(RefKind::Any)) => "ref.null any".to_string(),
            _ => "ref.null".to_string(),
        },
        WastRetCore::RefExtern(Some(n)) => format!("ref.extern {n}"),
        WastRetCore::RefExtern(None) => "ref.extern".to_string(),
        WastRetCore::RefFunc(_) => "ref.func".to_string(),
        WastRetCore::RefI31 => "ref.i31".to_string(),
        WastRetCore::RefAny => "ref.any".to_string(),
        WastRetCore::RefEq => "ref.eq".to_string(),
        WastRetCore::Either(choices) => {
            let items: Vec<String> = choices.iter().map(format_ret).collect();
            format!("either({})", items.join(" | "))
        }
        other => format!("{other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_patterns_follow_the_spec() {
        assert!(f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0000));
        assert!(f32_matches(&NanPattern::CanonicalNan, 0xffc0_0000));
        assert!(!f32_matches(&NanPattern::CanonicalNan, 0x7fc0_0001));
        assert!(f32_matches(&NanPattern::ArithmeticNan, 0x7fc0_0001));
        assert!(!f32_matches(&NanPattern::ArithmeticNan, 0x7f80_0001));
        assert!(f64_matches(
            &NanPattern::CanonicalNan,
            0xfff8_0000_0000_0000
        ));
        assert!(!f64_matches(
            &NanPattern::CanonicalNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff8_0000_0000_0001
        ));
        assert!(!f64_matches(
            &NanPattern::ArithmeticNan,
            0x7ff0_0000_0000_0001
        ));
    }

    #[test]
    fn v128_lanes_are_little_endian() {
        let bits =
            u128::from_le_bytes([1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(v128_matches(&V128Pattern::I32x4([1, 2, 3, -1]), bits));
        assert!(!v128_matches(&V128Pattern::I32x4([1, 2, 3, 4]), bits));
    }

    #[test]
    fn unparsable_script_is_a_failure_with_location() {
        let report = run_script("bad.wast", "(module)\n(assert_return (invoke \"f\"");
        let failure = report.failure.as_ref().expect("must fail");
        assert_eq!(failure.line, 2);
        assert!(report.to_string().starts_with("FAIL bad.wast: 2:"));
    }

    #[test]
    fn script_directives_run_and_report() {
        let script = r#"
            (module
              (func (export "add") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.add)
              (func (export "div") (param i32 i32) (result i32)
                local.get 0 local.get 1 i32.div_s))
            (assert_return (invoke "add" (i32.const 2) (i32.const 3)) (i32.const 5))
            (assert_trap (invoke "div" (i32.const 1) (i32.const 0)) "integer divide by zero")
            (assert_invalid (module (func (result i32))) "type mismatch")
            (assert_malformed (module quote "(func") "unexpected end")
        "#;
        let report = run_script("small.wast", script);
        assert!(report.passed(), "{report}");
        assert_eq!(report.to_string(), "ok small.wast (5 directives)");

        let wrong = "(module (func (export \"one\") (result i32) i32.const 1))\n\
                     (assert_return (invoke \"one\") (i32.const 2))";
        let report = run_script("wrong.wast", wrong);
        assert_eq!(report.failure.as_ref().map(|f| f.line), Some(2), "{report}");
    }

    /// A NaN with a payload, plus 1: x86 and aarch64 keep the (quieted) payload unless NaNs
    /// are canonicalized.
    const NAN_SCRIPT: &str = r#"
        (module (func (export "f") (result i32)
          (i32.reinterpret_f32 (f32.add (f32.reinterpret_i32 (i32.const 0x7fa00000))
                                        (f32.const 1)))))
        (assert_return (invoke "f") (i32.const 0x7fc00000))"#;

    #[test]
    fn configuration_comments_configure_the_engine() {
        let canonical = format!(
            ";;! nan_canonicalization = true
{NAN_SCRIPT}"
        );
        let report = run_script("canonical.wast", &canonical);
        assert!(report.passed(), "{report}");
        // The same script without the comment sees the payload.
        assert!(!run_script("payload.wast", NAN_SCRIPT).passed());

        let off = ";;! multi_memory = false
(module (memory 1) (memory 1))";
        let report = run_script("off.wast", off);
        assert!(!report.passed(), "{report}");
        let on = ";;! multi_memory = true
(module (memory 1) (memory 1))";
        assert!(run_script("on.wast", on).passed());
    }

    #[test]
    fn bad_configuration_comments_fail_the_file_at_their_line() {
        let report = run_script(
            "bad.wast",
            ";;! simd = true
;;! warp_drive = true
(module)",
        );
        let failure = report
            .failure
            .as_ref()
            .expect("an unknown key fails the file");
        assert_eq!(failure.line, 2);
        assert!(
            failure.message.contains("unknown key `warp_drive`"),
            "{report}"
        );
    }
}
