//! Building the Cranelift target ISA from a [`CompileConfig`].

use crate::{CompileConfig, OptLevel, TargetSettings};
use anyhow::{anyhow, Result};
use cranelift_codegen::isa::OwnedTargetIsa;
use cranelift_codegen::settings::{self, Configurable};

/// The ISA for `triple`, or for the host (with its detected CPU features) when `None`.
pub(crate) fn build_isa(config: &CompileConfig, triple: Option<&str>) -> Result<OwnedTargetIsa> {
    let mut flags = settings::builder();
    let opt_level = match config.opt_level {
        OptLevel::None => "none",
        OptLevel::Speed => "speed",
        OptLevel::SpeedAndSize => "speed_and_size",
    };
    let set = |flags: &mut settings::Builder, name: &str, value: &str| {
        flags
            .set(name, value)
            .map_err(|e| anyhow!("cranelift setting {name}={value}: {e}"))
    };
    set(&mut flags, "opt_level", opt_level)?;
    // The runtime walks frame-pointer chains for backtraces.
    set(&mut flags, "preserve_frame_pointers", "true")?;
    set(
        &mut flags,
        "enable_verifier",
        if cfg!(debug_assertions) {
            "true"
        } else {
            "false"
        },
    )?;
    // JIT code is placed at arbitrary addresses: absolute relocations for libcalls.
    set(&mut flags, "is_pic", "false")?;
    set(&mut flags, "use_colocated_libcalls", "false")?;
    // Wasm functions may return more values than there are return registers.
    set(&mut flags, "enable_multi_ret_implicit_sret", "true")?;
    // Unwinding walks frame pointers; no unwind tables are registered.
    set(&mut flags, "unwind_info", "false")?;
    // A frame larger than a guard page touches every page it allocates, top down, so it
    // cannot step over a stack's guard into whatever lies below.
    set(&mut flags, "enable_probestack", "true")?;
    set(&mut flags, "probestack_strategy", "inline")?;
    if config.nan_canonicalization {
        set(&mut flags, "enable_nan_canonicalization", "true")?;
    }
    for (name, value) in &config.cranelift_flags {
        set(&mut flags, name, value)?;
    }
    let flags = settings::Flags::new(flags);

    let builder = match triple {
        None => cranelift_native::builder().map_err(|e| anyhow!("host ISA: {e}"))?,
        Some(triple) => cranelift_codegen::isa::lookup_by_name(triple)
            .map_err(|e| anyhow!("ISA for target `{triple}`: {e}"))?,
    };
    builder
        .finish(flags)
        .map_err(|e| anyhow!("building the target ISA: {e}"))
}

/// The settings of the ISA [`crate::compile`] builds for `config` on this host.
pub fn target_settings(config: &CompileConfig) -> Result<TargetSettings> {
    let isa = build_isa(config, None)?;
    let pairs = |values: Vec<settings::Value>| {
        values
            .into_iter()
            .map(|v| (v.name.to_string(), v.value_string()))
            .collect()
    };
    Ok(TargetSettings {
        triple: isa.triple().to_string(),
        shared: pairs(isa.flags().iter().collect()),
        isa: pairs(isa.isa_flags()),
    })
}
