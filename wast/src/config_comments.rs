//! The configuration comments of a `.wast` script, as Wasmtime's test suites write them.
//!
//! A script may open with lines starting `;;!`, together a TOML table of booleans that name
//! the engine features it needs, for example
//!
//! ```text
//! ;;! multi_memory = true
//! ;;! nan_canonicalization = true
//! ```
//!
//! A script with such lines runs on an engine with wasmjit's default configuration plus the
//! settings it names (a script without them keeps the configuration its place in the spec
//! suite implies, see [`crate::config_for`]). A setting wasmjit has no machinery
//! for can be turned off but not on; an unknown key is an error, as in Wasmtime's runner.
//! Only booleans appear in these comments, so they are parsed here rather than with a TOML
//! crate.

use anyhow::{bail, Result};
use wasmjit::Config;

/// The prefix of a configuration line.
const PREFIX: &str = ";;!";

/// A configuration line that could not be used: its 1-based line number and why.
#[derive(Debug)]
pub struct ConfigError {
    /// 1-based line of the comment.
    pub line: usize,
    /// What is wrong with it.
    pub message: String,
}

/// What a key does to the engine configuration.
enum Setting {
    /// Sets a switch wasmjit implements.
    Apply(fn(&mut Config, bool)),
    /// Describes the test, not the engine (Wasmtime uses it to pick runs): nothing to set.
    Informational,
    /// A proposal or mode wasmjit does not implement: `false` is fine, `true` is refused.
    Unsupported,
}

/// Every key Wasmtime's runner knows, and what it means here.
fn setting(key: &str) -> Option<Setting> {
    use Setting::*;
    let apply = |f: fn(&mut Config, bool)| Some(Apply(f));
    match key {
        "bulk_memory" => apply(|c, on| {
            c.wasm_bulk_memory(on);
        }),
        "reference_types" => apply(|c, on| {
            c.wasm_reference_types(on);
        }),
        "simd" => apply(|c, on| {
            c.wasm_simd(on);
        }),
        "relaxed_simd" => apply(|c, on| {
            c.wasm_relaxed_simd(on);
        }),
        "multi_memory" => apply(|c, on| {
            c.wasm_multi_memory(on);
        }),
        "memory64" => apply(|c, on| {
            c.wasm_memory64(on);
        }),
        "tail_call" => apply(|c, on| {
            c.wasm_tail_call(on);
        }),
        "extended_const" => apply(|c, on| {
            c.wasm_extended_const(on);
        }),
        "function_references" => apply(|c, on| {
            c.wasm_function_references(on);
        }),
        "exceptions" => apply(|c, on| {
            c.wasm_exceptions(on);
        }),
        "nan_canonicalization" => apply(|c, on| {
            c.cranelift_nan_canonicalization(on);
        }),
        "threads" => apply(|c, on| {
            c.wasm_threads(on).shared_memory(on);
        }),
        "wide_arithmetic" => apply(|c, on| {
            c.wasm_wide_arithmetic(on);
        }),
        "hogs_memory" | "spec_test" => Some(Informational),
        "custom_page_sizes"
        | "shared_everything_threads"
        | "gc"
        | "gc_types"
        | "legacy_exceptions"
        | "stack_switching"
        | "custom_descriptors"
        | "component_model_async"
        | "component_model_more_async_builtins"
        | "component_model_async_stackful"
        | "component_model_threading"
        | "component_model_error_context"
        | "component_model_gc"
        | "component_model_map"
        | "component_model_fixed_length_lists" => Some(Unsupported),
        _ => None,
    }
}

/// The configuration `text` asks for with its leading `;;!` lines, or `None` when it has none.
pub fn config_from_comments(text: &str) -> Result<Option<Config>, ConfigError> {
    let mut config = None;
    for (index, line) in text.lines().enumerate() {
        let Some(body) = line.strip_prefix(PREFIX) else {
            break;
        };
        let config = config.get_or_insert_with(Config::new);
        apply_line(config, body).map_err(|err| ConfigError {
            line: index + 1,
            message: format!(
                "`;;!` configuration line {} (`{}`): {err}",
                index + 1,
                line.trim_end()
            ),
        })?;
    }
    Ok(config)
}

/// Applies one `key = true|false` line (blank lines and `#` comments are allowed).
fn apply_line(config: &mut Config, body: &str) -> Result<()> {
    let body = body.split('#').next().unwrap_or("").trim();
    if body.is_empty() {
        return Ok(());
    }
    let Some((key, value)) = body.split_once('=') else {
        bail!("expected `key = true` or `key = false`");
    };
    let key = key.trim();
    let on = match value.trim() {
        "true" => true,
        "false" => false,
        other => bail!("`{key}` must be `true` or `false`, not `{other}`"),
    };
    match setting(key) {
        Some(Setting::Apply(set)) => set(config, on),
        Some(Setting::Informational) => {}
        Some(Setting::Unsupported) if !on => {}
        Some(Setting::Unsupported) => bail!("`{key}` is not supported by wasmjit"),
        None => bail!("unknown key `{key}`"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_without_comments_has_no_configuration() {
        let config = config_from_comments("(module)\n;;! simd = true\n").unwrap();
        assert!(config.is_none());
    }

    #[test]
    fn leading_comments_are_read_until_the_first_other_line() {
        let text = ";;! multi_memory = false\n;;!\n;;! exceptions = true # needed\n(module)\n";
        assert!(config_from_comments(text).unwrap().is_some());
    }

    #[test]
    fn unknown_keys_unsupported_features_and_bad_values_are_errors_with_their_line() {
        let cases = [
            (
                ";;! no_such_feature = true\n",
                1,
                "unknown key `no_such_feature`",
            ),
            (
                ";;! simd = true\n;;! gc = true\n",
                2,
                "`gc` is not supported",
            ),
            (";;! simd = yes\n", 1, "must be `true` or `false`"),
            (";;! simd\n", 1, "expected `key = true`"),
        ];
        for (text, line, message) in cases {
            let err = config_from_comments(text).unwrap_err();
            assert_eq!(err.line, line, "{text}");
            assert!(err.message.contains(message), "{text}: {}", err.message);
        }
    }

    #[test]
    fn unsupported_features_may_be_turned_off() {
        assert!(
            config_from_comments(";;! gc = false\n;;! threads = false\n")
                .unwrap()
                .is_some()
        );
    }
}
