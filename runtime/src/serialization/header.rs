//! The header of a serialized module: the version that wrote it and every setting its code
//! depends on, compared with the loading engine's before anything else is read.

use super::bytes::{Reader, Writer};
use crate::{Engine, ModuleVersionStrategy};
use anyhow::{bail, Result};
use std::fmt::Display;
use wasmparser::WasmFeatures;

/// What a serialized module's code was compiled for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Header {
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
const NEUTRAL_SHARED_SETTINGS: &[&str] = &["opt_level", "enable_verifier"];

impl Header {
    /// The header of modules `engine` compiles.
    pub(super) fn for_engine(engine: &Engine) -> Result<Header> {
        let config = &engine.inner.compile_config;
        Ok(Header {
            version: engine.inner.config.module_version.as_str().to_string(),
            target: wasmjit_compiler::target_settings(config)?,
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
