//! The header of a serialized module: the version that wrote it and every setting its code
//! depends on, compared with the loading engine's before anything else is read.

use super::bytes::{Reader, Writer};
use crate::{Engine, ModuleVersionStrategy};
use anyhow::{bail, Result};
use std::fmt::Display;
use wasmparser::WasmFeatures;

/// What a serialized module's code was compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Header {
    /// `Config::module_version`'s string.
    version: String,
    /// Target triple, Cranelift's shared settings and the CPU features.
    target: wasmjit_compiler::TargetSettings,
    consume_fuel: bool,
    epoch_interruption: bool,
    signals_based_traps: bool,
    nan_canonicalization: bool,
    memory_reservation: u64,
    memory_guard_size: u64,
    features: u64,
}

/// Cranelift settings that change code but not what it may assume: code compiled with any
/// value runs with any other.
#[cfg(feature = "cranelift")]
const NEUTRAL_SHARED_SETTINGS: &[&str] = &["opt_level", "enable_verifier"];

impl Header {
    /// The header of modules `engine` compiles (worked out once per engine: it builds the
    /// target ISA).
    pub(super) fn for_engine(engine: &Engine) -> Result<Header> {
        if let Some(header) = engine.inner.header.get() {
            return Ok(header.clone());
        }
        let header = Header::new(engine)?;
        Ok(engine.inner.header.get_or_init(|| header).clone())
    }

    fn new(engine: &Engine) -> Result<Header> {
        let config = &engine.inner.compile_config;
        Ok(Header {
            version: engine.inner.config.module_version.as_str().to_string(),
            target: host_target(config)?,
            consume_fuel: config.consume_fuel,
            epoch_interruption: config.epoch_interruption,
            signals_based_traps: config.signals_based_traps,
            nan_canonicalization: config.nan_canonicalization,
            memory_reservation: config.memory_reservation,
            memory_guard_size: config.memory_guard_size,
            features: config.features.bits(),
        })
    }

    pub(super) fn write(&self, w: &mut Writer) {
        w.str(&self.version);
        w.str(&self.target.triple);
        w.pairs(&self.target.shared);
        w.pairs(&self.target.isa);
        for flag in [
            self.consume_fuel,
            self.epoch_interruption,
            self.signals_based_traps,
            self.nan_canonicalization,
        ] {
            w.u8(flag.into());
        }
        w.u64(self.memory_reservation);
        w.u64(self.memory_guard_size);
        w.u64(self.features);
    }

    pub(super) fn read(r: &mut Reader<'_>) -> Result<Header> {
        Ok(Header {
            version: r.str()?.to_string(),
            target: wasmjit_compiler::TargetSettings {
                triple: r.str()?.to_string(),
                shared: r.pairs()?,
                isa: r.pairs()?,
            },
            consume_fuel: r.bool()?,
            epoch_interruption: r.bool()?,
            signals_based_traps: r.bool()?,
            nan_canonicalization: r.bool()?,
            memory_reservation: r.u64()?,
            memory_guard_size: r.u64()?,
            features: r.u64()?,
        })
    }

    /// Fails, naming the first setting that differs, unless code compiled for `self` runs
    /// on an engine of header `host` (in Wasmtime's words where it has them).
    pub(super) fn check_compatible(&self, host: &Header, engine: &Engine) -> Result<()> {
        if engine.inner.config.module_version != ModuleVersionStrategy::None
            && self.version != host.version
        {
            bail!(
                "Module was compiled with incompatible version '{}'",
                self.version
            );
        }
        self.check_target(host)?;
        check_bool(self.consume_fuel, host.consume_fuel, "fuel support")?;
        check_bool(
            self.epoch_interruption,
            host.epoch_interruption,
            "epoch interruption",
        )?;
        check_bool(
            self.signals_based_traps,
            host.signals_based_traps,
            "Signals-based traps",
        )?;
        check_bool(
            self.nan_canonicalization,
            host.nan_canonicalization,
            "NaN canonicalization",
        )?;
        check_int(
            self.memory_reservation,
            host.memory_reservation,
            "memory reservation",
        )?;
        check_int(
            self.memory_guard_size,
            host.memory_guard_size,
            "memory guard size",
        )?;
        self.check_features(host)
    }

    fn check_target(&self, host: &Header) -> Result<()> {
        let arch = |triple: &str| triple.split('-').next().unwrap_or("").to_string();
        if arch(&self.target.triple) != arch(&host.target.triple) {
            bail!(
                "Module was compiled for architecture '{}'",
                arch(&self.target.triple)
            );
        }
        if self.target.triple != host.target.triple {
            bail!("Module was compiled for target '{}'", self.target.triple);
        }
        self.check_settings(host)
    }

    /// Cranelift's settings as recorded against the engine's.
    #[cfg(feature = "cranelift")]
    fn check_settings(&self, host: &Header) -> Result<()> {
        let incompatible = "compilation settings of module incompatible with native host";
        for (name, value) in &self.target.shared {
            if NEUTRAL_SHARED_SETTINGS.contains(&name.as_str()) {
                continue;
            }
            match host.target.shared.iter().find(|(n, _)| n == name) {
                None => bail!("{incompatible}: unknown shared setting {name:?} configured to {value:?}"),
                Some((_, ours)) if ours != value => bail!(
                    "{incompatible}: setting {name:?} is configured to {value:?} which is not supported"
                ),
                Some(_) => {}
            }
        }
        for (name, value) in &self.target.isa {
            // A CPU feature the code does not use is compatible with any host.
            if value == "false" {
                continue;
            }
            match host.target.isa.iter().find(|(n, _)| n == name) {
                Some((_, ours)) if ours == value => {}
                Some(_) if value == "true" => bail!(
                    "{incompatible}: the module uses CPU feature {name:?}, which this host lacks"
                ),
                _ => bail!(
                    "{incompatible}: isa-specific feature {name:?} configured to unknown value {value:?}"
                ),
            }
        }
        Ok(())
    }

    /// Without a compiler the engine has no Cranelift settings to compare: the module's are
    /// taken as they are, but every CPU feature its code uses must be the host's (asked of
    /// the processor, as Wasmtime does without a compiler).
    #[cfg(not(feature = "cranelift"))]
    fn check_settings(&self, _host: &Header) -> Result<()> {
        let incompatible = "compilation settings of module incompatible with native host";
        for (name, value) in &self.target.isa {
            let Some(feature) = name.strip_prefix("has_") else {
                continue;
            };
            if value != "true" {
                continue;
            }
            match host_has_feature(feature) {
                Some(true) => {}
                Some(false) => bail!(
                    "{incompatible}: the module uses CPU feature {name:?}, which this host lacks"
                ),
                None => bail!(
                    "{incompatible}: cannot test for target-specific flag {name:?} available at runtime"
                ),
            }
        }
        Ok(())
    }

    fn check_features(&self, host: &Header) -> Result<()> {
        let module = WasmFeatures::from_bits_truncate(self.features);
        let host = WasmFeatures::from_bits_truncate(host.features);
        // Exceptions change the code of every call, whether the module throws or not.
        check_bool(
            module.contains(WasmFeatures::EXCEPTIONS),
            host.contains(WasmFeatures::EXCEPTIONS),
            "WebAssembly feature `exceptions`",
        )?;
        let missing = (host & module) ^ module;
        if let Some((name, _)) = missing.iter_names().next() {
            bail!(
                "Module was compiled with support for WebAssembly feature `{}` but it is not \
                 enabled for the host",
                name.to_ascii_lowercase()
            );
        }
        Ok(())
    }
}

fn check_bool(module: bool, host: bool, what: impl Display) -> Result<()> {
    if module != host {
        bail!(
            "Module was compiled {} {what} but it {} enabled for the host",
            if module { "with" } else { "without" },
            if host { "is" } else { "is not" }
        );
    }
    Ok(())
}

fn check_int(module: u64, host: u64, what: &str) -> Result<()> {
    if module != host {
        bail!(
            "Module was compiled with a {what} of '{module}' but '{host}' is expected for the host"
        );
    }
    Ok(())
}

/// The target the engine's code is for: the host's ISA as Cranelift builds it.
#[cfg(feature = "cranelift")]
fn host_target(
    config: &wasmjit_compiler::CompileConfig,
) -> Result<wasmjit_compiler::TargetSettings> {
    wasmjit_compiler::target_settings(config)
}

/// Without a compiler: the triple this runtime was built for (cargo's `TARGET`, as
/// Cranelift's host triple is), and no Cranelift settings.
#[cfg(not(feature = "cranelift"))]
fn host_target(_: &wasmjit_compiler::CompileConfig) -> Result<wasmjit_compiler::TargetSettings> {
    Ok(wasmjit_compiler::TargetSettings {
        triple: env!("WASMJIT_TARGET").to_string(),
        shared: Vec::new(),
        isa: Vec::new(),
    })
}

/// Whether the processor has the feature Cranelift calls `has_<feature>`; `None` for a
/// feature this build can't test.
#[cfg(all(not(feature = "cranelift"), target_arch = "x86_64"))]
fn host_has_feature(feature: &str) -> Option<bool> {
    use std::arch::is_x86_feature_detected as has;
    Some(match feature {
        "sse3" => has!("sse3"),
        "ssse3" => has!("ssse3"),
        "sse41" => has!("sse4.1"),
        "sse42" => has!("sse4.2"),
        "popcnt" => has!("popcnt"),
        "avx" => has!("avx"),
        "avx2" => has!("avx2"),
        "fma" => has!("fma"),
        "bmi1" => has!("bmi1"),
        "bmi2" => has!("bmi2"),
        "lzcnt" => has!("lzcnt"),
        "cmpxchg16b" => has!("cmpxchg16b"),
        "avx512bitalg" => has!("avx512bitalg"),
        "avx512dq" => has!("avx512dq"),
        "avx512f" => has!("avx512f"),
        "avx512vbmi" => has!("avx512vbmi"),
        "avx512vl" => has!("avx512vl"),
        "avx512vnni" => has!("avx512vnni"),
        "avx_vnni" => has!("avxvnni"),
        _ => return None,
    })
}

/// Whether the processor has the feature Cranelift calls `has_<feature>`; `None` for a
/// feature this build can't test.
#[cfg(all(not(feature = "cranelift"), target_arch = "aarch64"))]
fn host_has_feature(feature: &str) -> Option<bool> {
    use std::arch::is_aarch64_feature_detected as has;
    Some(match feature {
        "lse" => has!("lse"),
        "pauth" => has!("paca"),
        "fp16" => has!("fp16"),
        "dotprod" => has!("dotprod"),
        "i8mm" => has!("i8mm"),
        _ => return None,
    })
}

#[cfg(all(
    not(feature = "cranelift"),
    not(any(target_arch = "x86_64", target_arch = "aarch64"))
))]
fn host_has_feature(_feature: &str) -> Option<bool> {
    None
}
