//! The command line of `wasmjit`, parsed with `clap` as Wasmtime's CLI parses its own:
//! `run` (with Wasmtime's `--dir`, `--env`, `--argv0`, `--invoke`, `-W` and `-S`), `wast`
//! and `compile`, each with its `--help`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{anyhow, bail, Result};
use clap::{Arg, ArgAction, ArgMatches, Command};

/// What `wasmjit` was asked to do.
pub enum Invocation {
    Run(RunArgs),
    Wast { jobs: usize, inputs: Vec<PathBuf> },
    Compile(CompileArgs),
}

/// The settings of `-W` that change compiled code, which `run` and `compile` share: a
/// precompiled module runs only with the settings it was compiled with.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CodeOptions {
    /// Fuel metering (`--fuel`, `-W fuel=N`).
    pub fuel: bool,
    /// Epoch interruption (`--timeout`, `-W timeout=DURATION`).
    pub epochs: bool,
    /// `-W exceptions[=y|n]`.
    pub exceptions: bool,
}

impl RunArgs {
    /// The code settings this run needs.
    pub fn code_options(&self) -> CodeOptions {
        CodeOptions {
            fuel: self.fuel.is_some(),
            epochs: self.timeout.is_some(),
            exceptions: self.exceptions,
        }
    }
}

/// Arguments of `wasmjit compile`.
#[derive(Debug)]
pub struct CompileArgs {
    pub file: PathBuf,
    /// `-o`: where the precompiled module goes (by default FILE with the extension `.cwasm`).
    pub output: PathBuf,
    pub code: CodeOptions,
}

/// Arguments of `wasmjit run`.
#[derive(Debug)]
pub struct RunArgs {
    pub file: PathBuf,
    pub invoke: Option<String>,
    /// `--fuel N` or `-W fuel=N`: the fuel the store starts with.
    pub fuel: Option<u64>,
    /// `--timeout DURATION` or `-W timeout=DURATION`.
    pub timeout: Option<Duration>,
    /// `--env`, for WASI guests: `NAME=VAL`, or `NAME` with the host's value.
    pub env: Vec<(String, String)>,
    /// `-S inherit-env`: the guest sees the host's whole environment (before `--env`).
    pub inherit_env: bool,
    /// `-S threads`: wasi-threads (`wasi::thread-spawn`) and the shared memory it needs.
    pub wasi_threads: bool,
    /// `--dir HOST[::GUEST]`, for WASI guests: (host, guest).
    pub dirs: Vec<(String, String)>,
    /// `--argv0`: the guest's `argv[0]` instead of the module's path.
    pub argv0: Option<String>,
    /// `-W exceptions[=y|n]`.
    pub exceptions: bool,
    /// Guest arguments (argv after `argv[0]`), or the `--invoke`d function's arguments.
    pub args: Vec<String>,
    /// `--allow-precompiled`: FILE may be a precompiled module (machine code run as is).
    pub allow_precompiled: bool,
}

const RUN_AFTER_HELP: &str = "\
A module importing `wasi_snapshot_preview1` gets WASI preview 1: the host's stdin, stdout and
stderr, FILE (or --argv0) and ARGS as its argv, and only the environment and directories
given; `proc_exit(N)` makes wasmjit exit with status N.

Exit status: 0 on success, 1 on an error (bad arguments, unreadable or invalid module), 134
when the called function traps (as for SIGABRT, like `wasmtime run`), N when a WASI guest
calls `proc_exit(N)`.";

const W_HELP: &str = "\
Wasm and execution options, as `-W NAME[=VAL]` (repeatable, or comma-separated):
exceptions[=y|n] enables the exception-handling proposal (off by default: with it on, every
call pays a check for a pending exception); fuel=N is --fuel; timeout=DURATION is --timeout;
threads[=y] (the threads proposal, on by default)";

const S_HELP: &str = "\
WASI options, as `-S NAME[=VAL]` (repeatable, or comma-separated): inherit-env[=y|n] gives
the guest the host's whole environment; threads[=y|n] runs a wasi-threads program (built for
wasm32-wasip1-threads: `wasi::thread-spawn` starts a host thread with its own instance sharing
the imported memory; proc_exit or a trap in any thread ends the program); cli[=y] (WASI is
always on for modules importing it)";

/// The `clap` command of `wasmjit`.
pub fn command() -> Command {
    let run = Command::new("run")
        .about("Run a WebAssembly module (.wasm or .wat)")
        .long_about(
            "Instantiate FILE and call `_start`, or the export NAME (--invoke) with ARGS \
             parsed by its parameter types; print each result on its own line.",
        )
        .after_help(RUN_AFTER_HELP)
        .arg(
            Arg::new("invoke")
                .long("invoke")
                .value_name("NAME")
                .help("Call the export NAME instead of `_start`, with ARGS as its arguments"),
        )
        .arg(
            Arg::new("dir")
                .long("dir")
                .value_name("HOST[::GUEST]")
                .action(ArgAction::Append)
                .help(
                    "Give the guest the host directory HOST, named GUEST (by default HOST); \
                     the guest cannot reach outside it",
                ),
        )
        .arg(
            Arg::new("env")
                .long("env")
                .value_name("NAME[=VAL]")
                .action(ArgAction::Append)
                .help("Set the guest's environment variable NAME (without =VAL: the host's value)"),
        )
        .arg(
            Arg::new("argv0")
                .long("argv0")
                .value_name("ARGV0")
                .help("The guest's argv[0] (by default FILE as given)"),
        )
        .arg(Arg::new("fuel").long("fuel").value_name("N").help(
            "Meter execution: trap once N units of fuel are consumed (instantiation \
                     included); print `fuel consumed: M` on stderr at exit",
        ))
        .arg(
            Arg::new("timeout")
                .long("timeout")
                .value_name("DURATION")
                .help(
                    "Interrupt execution (instantiation included) after DURATION, such as \
                     `500ms`, `2s` or `1.5s` (units: ns, us, ms, s, m; a bare number is seconds)",
                ),
        )
        .arg(wasm_option_arg())
        .arg(
            Arg::new("allow-precompiled")
                .long("allow-precompiled")
                .action(ArgAction::SetTrue)
                .help(
                    "Allow FILE to be a precompiled module (`wasmjit compile`): its machine \
                     code runs as is, so it must come from a trusted source",
                ),
        )
        .arg(
            Arg::new("wasi")
                .short('S')
                .value_name("OPT[=VAL]")
                .action(ArgAction::Append)
                .help(S_HELP),
        )
        .arg(
            Arg::new("file")
                .value_name("FILE")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf))
                .help("The module: binary (.wasm) or text (.wat)"),
        )
        .arg(
            Arg::new("args")
                .value_name("ARGS")
                .num_args(0..)
                .allow_negative_numbers(true)
                .help("The guest's arguments; put `--` before those that start with `-`"),
        );
    let wast = Command::new("wast")
        .about("Run spec-test scripts")
        .long_about(
            "Run spec-test scripts (a directory means every .wast file in it). Prints \
             `ok`/`FAIL` per file and a summary; exits 1 if any file failed.",
        )
        .arg(
            Arg::new("jobs")
                .short('j')
                .long("jobs")
                .value_name("N")
                .value_parser(clap::value_parser!(usize))
                .help("Scripts run at once (by default one per CPU)"),
        )
        .arg(
            Arg::new("inputs")
                .value_name("FILES_OR_DIRS")
                .num_args(1..)
                .required(true)
                .value_parser(clap::value_parser!(PathBuf)),
        );
    let compile = Command::new("compile")
        .about("Compile a module ahead of time into a precompiled .cwasm file")
        .long_about(
            "Validate and compile FILE, write the machine code to OUT (by default FILE with \
             the extension .cwasm) for `wasmjit run --allow-precompiled`, and print the time \
             taken. The -W options that change code must be those the module will run with.",
        )
        .arg(
            Arg::new("output")
                .short('o')
                .long("output")
                .value_name("OUT")
                .value_parser(clap::value_parser!(PathBuf))
                .help("Where to write the precompiled module"),
        )
        .arg(wasm_option_arg())
        .arg(
            Arg::new("file")
                .value_name("FILE")
                .required(true)
                .value_parser(clap::value_parser!(PathBuf)),
        );
    Command::new("wasmjit")
        .about("wasmjit: a WebAssembly runtime built on Cranelift")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(run)
        .subcommand(wast)
        .subcommand(compile)
}

/// Parses the command line (without the program name's handling: `args` includes it).
pub fn parse(args: impl IntoIterator<Item = String>) -> Result<Invocation, clap::Error> {
    let matches = command().try_get_matches_from(args)?;
    let invocation = match matches.subcommand() {
        Some(("run", m)) => run_args(m).map(Invocation::Run),
        Some(("wast", m)) => Ok(Invocation::Wast {
            jobs: m
                .get_one::<usize>("jobs")
                .copied()
                .filter(|&n| n > 0)
                .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
            inputs: m.get_many::<PathBuf>("inputs").unwrap().cloned().collect(),
        }),
        Some(("compile", m)) => compile_args(m).map(Invocation::Compile),
        _ => unreachable!("clap requires a subcommand"),
    };
    invocation
        .map_err(|e| command().error(clap::error::ErrorKind::ValueValidation, format!("{e:#}")))
}

fn strings(m: &ArgMatches, id: &str) -> Vec<String> {
    m.get_many::<String>(id)
        .map(|v| v.cloned().collect())
        .unwrap_or_default()
}

/// `-W threads`: the threads proposal is on by default (as in Wasmtime 48), so only `y`.
fn threads_proposal(flag: &str, name: &str, value: &str) -> Result<()> {
    if !boolean(flag, name, value)? {
        bail!("`-{flag} {name}={value}`: the threads proposal cannot be turned off");
    }
    Ok(())
}

/// Splits `-W`/`-S` values into `(name, value)`: comma-separated, `NAME` alone meaning `y`.
fn options(values: &[String]) -> Vec<(String, String)> {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|o| !o.is_empty())
        .map(|o| match o.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (o.to_string(), "y".to_string()),
        })
        .collect()
}

/// A `-W`/`-S` boolean as Wasmtime spells them.
fn boolean(flag: &str, name: &str, value: &str) -> Result<bool> {
    match value {
        "y" | "yes" | "true" => Ok(true),
        "n" | "no" | "false" => Ok(false),
        _ => bail!("`-{flag} {name}={value}`: expected y or n"),
    }
}

fn parse_fuel(text: &str) -> Result<u64> {
    text.replace('_', "")
        .parse::<u64>()
        .map_err(|_| anyhow!("fuel must be a non-negative integer, got `{text}`"))
}

fn run_args(m: &ArgMatches) -> Result<RunArgs> {
    let mut fuel = m
        .get_one::<String>("fuel")
        .map(|t| parse_fuel(t))
        .transpose()?;
    let mut timeout = m
        .get_one::<String>("timeout")
        .map(|t| parse_duration(t))
        .transpose()?;
    let mut exceptions = false;
    for (name, value) in options(&strings(m, "wasm")) {
        match name.as_str() {
            "exceptions" => exceptions = boolean("W", &name, &value)?,
            "fuel" => fuel = Some(parse_fuel(&value)?),
            "timeout" => timeout = Some(parse_duration(&value)?),
            "threads" => threads_proposal("W", &name, &value)?,
            _ => bail!(
                "`-W {name}`: wasmjit knows only `-W exceptions[=y|n]`, `-W fuel=N`, \
                 `-W timeout=DURATION` and `-W threads`"
            ),
        }
    }
    let mut inherit_env = false;
    let mut wasi_threads = false;
    for (name, value) in options(&strings(m, "wasi")) {
        match name.as_str() {
            "inherit-env" => inherit_env = boolean("S", &name, &value)?,
            "threads" => wasi_threads = boolean("S", &name, &value)?,
            "cli" if boolean("S", &name, &value)? => {}
            _ => bail!(
                "`-S {name}={value}`: wasmjit knows only `-S inherit-env[=y|n]` and \
                 `-S threads[=y|n]`"
            ),
        }
    }
    let env = strings(m, "env")
        .into_iter()
        .filter_map(|text| match text.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            // `--env NAME`: the host's value, if it has one.
            None => std::env::var(&text).ok().map(|v| (text, v)),
        })
        .collect();
    let dirs = strings(m, "dir")
        .into_iter()
        .map(|text| match text.split_once("::") {
            Some((host, guest)) => (host.to_string(), guest.to_string()),
            None => (text.clone(), text),
        })
        .collect();
    Ok(RunArgs {
        file: m.get_one::<PathBuf>("file").unwrap().clone(),
        invoke: m.get_one::<String>("invoke").cloned(),
        fuel,
        timeout,
        env,
        inherit_env,
        wasi_threads,
        dirs,
        argv0: m.get_one::<String>("argv0").cloned(),
        exceptions,
        args: strings(m, "args"),
        allow_precompiled: m.get_flag("allow-precompiled"),
    })
}

fn compile_args(m: &ArgMatches) -> Result<CompileArgs> {
    let file = m.get_one::<PathBuf>("file").unwrap().clone();
    let mut code = CodeOptions::default();
    for (name, value) in options(&strings(m, "wasm")) {
        match name.as_str() {
            "exceptions" => code.exceptions = boolean("W", &name, &value)?,
            "fuel" => code.fuel = parse_fuel(&value).map(|_| true)?,
            "timeout" => code.epochs = parse_duration(&value).map(|_| true)?,
            "threads" => threads_proposal("W", &name, &value)?,
            _ => bail!(
                "`-W {name}`: wasmjit knows only `-W exceptions[=y|n]`, `-W fuel=N`, \
                 `-W timeout=DURATION` and `-W threads`"
            ),
        }
    }
    let output = m
        .get_one::<PathBuf>("output")
        .cloned()
        .unwrap_or_else(|| file.with_extension("cwasm"));
    Ok(CompileArgs { file, output, code })
}

/// Parses a duration such as `500ms`, `2s`, `1.5s` or `3` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration> {
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

/// The option of `wasmjit run` closest to a mistyped one, for a suggestion (clap's own needs
/// a crate this build does not have).
pub fn suggest(error: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if error.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let ContextValue::String(given) = error.get(ContextKind::InvalidArg)? else {
        return None;
    };
    let given = given.split('=').next().unwrap_or(given);
    let known = [
        "--invoke",
        "--dir",
        "--env",
        "--argv0",
        "--fuel",
        "--timeout",
        "--jobs",
        "--help",
        "--version",
    ];
    known
        .iter()
        .map(|k| (edit_distance(given, k), *k))
        .filter(|&(d, _)| d <= 2)
        .min()
        .map(|(_, k)| k.to_string())
}

/// Levenshtein distance between two short strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, &cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// `-W OPT[=VAL]`, the code-generation and wasm-feature options `run` and `compile` share.
fn wasm_option_arg() -> Arg {
    Arg::new("wasm")
        .short('W')
        .value_name("OPT[=VAL]")
        .action(ArgAction::Append)
        .help(W_HELP)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str]) -> Result<RunArgs, clap::Error> {
        let all = ["wasmjit", "run"].iter().chain(args).map(|s| s.to_string());
        match parse(all)? {
            Invocation::Run(r) => Ok(r),
            _ => unreachable!(),
        }
    }

    #[test]
    fn run_flags_may_come_before_or_after_the_file() {
        let parsed = run(&["--invoke", "fib", "f.wat", "25"]).expect("valid");
        assert_eq!(parsed.invoke.as_deref(), Some("fib"));
        assert_eq!(parsed.file, PathBuf::from("f.wat"));
        assert_eq!(parsed.args, vec!["25".to_string()]);
        let parsed = run(&["f.wat", "--invoke", "neg", "-5"]).expect("valid");
        assert_eq!(parsed.args, vec!["-5".to_string()]);
        assert!(run(&["f.wat", "--fuel"]).is_err());
        let parsed = run(&["--env", "A=1", "f.wasm", "x", "--", "--y"]).expect("valid");
        assert_eq!(parsed.args, vec!["x".to_string(), "--y".to_string()]);
        assert_eq!(parsed.env, vec![("A".to_string(), "1".to_string())]);
    }

    #[test]
    fn wasmtime_options_parse() {
        std::env::set_var("WASMJIT_CLI_TEST_VAR", "inherited");
        let parsed = run(&[
            "--dir",
            "/tmp::/sandbox",
            "--dir=.",
            "--env",
            "WASMJIT_CLI_TEST_VAR",
            "--env",
            "WASMJIT_CLI_TEST_MISSING",
            "--argv0",
            "prog",
            "-W",
            "exceptions,fuel=10",
            "-W",
            "timeout=2s",
            "-S",
            "inherit-env=y,threads",
            "-W",
            "threads",
            "f.wasm",
        ])
        .expect("valid");
        assert_eq!(
            parsed.dirs,
            vec![
                ("/tmp".to_string(), "/sandbox".to_string()),
                (".".to_string(), ".".to_string())
            ]
        );
        assert_eq!(
            parsed.env,
            vec![("WASMJIT_CLI_TEST_VAR".to_string(), "inherited".to_string())]
        );
        assert_eq!(parsed.argv0.as_deref(), Some("prog"));
        assert!(parsed.exceptions && parsed.inherit_env && parsed.wasi_threads);
        assert_eq!(parsed.fuel, Some(10));
        assert_eq!(parsed.timeout, Some(Duration::from_secs(2)));
        assert!(run(&["-W", "gc=y", "f.wasm"]).is_err());
        assert!(run(&["-S", "inherit-network", "f.wasm"]).is_err());
        assert!(run(&["-W", "threads=n", "f.wasm"]).is_err());
        assert!(!run(&["f.wasm"]).expect("valid").wasi_threads);
    }

    #[test]
    fn fuel_and_timeout_flags_parse() {
        let parsed = run(&["f.wat", "--fuel", "1000", "--timeout=200ms", "1"]).expect("valid");
        assert_eq!(parsed.fuel, Some(1000));
        assert_eq!(parsed.timeout, Some(Duration::from_millis(200)));
        assert_eq!(parsed.args, vec!["1".to_string()]);
        assert!(run(&["f.wat", "--fuel=-1"]).is_err());
        assert!(run(&["f.wat", "--timeout", "soon"]).is_err());
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
    }

    #[test]
    fn mistyped_options_get_a_suggestion() {
        let err = run(&["--dri", "x", "f.wasm"]).expect_err("unknown option");
        assert_eq!(suggest(&err).as_deref(), Some("--dir"));
        let err = run(&["--invok=f", "f.wasm"]).expect_err("unknown option");
        assert_eq!(suggest(&err).as_deref(), Some("--invoke"));
        let err = run(&["--zzzzzzz", "f.wasm"]).expect_err("unknown option");
        assert_eq!(suggest(&err), None);
        command().debug_assert();
    }
}
