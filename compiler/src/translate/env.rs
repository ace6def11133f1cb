//! What the translator knows about the module and the target, shared by all functions.

use crate::module_info::ModuleInfo;
use crate::vmoffsets::VMOffsets;
use crate::CompileConfig;
use cranelift_codegen::isa::{CallConv, TargetFrontendConfig, TargetIsa};

/// Module-wide context of a translation; shared (read-only) by parallel translations.
pub(crate) struct ModuleEnv<'a> {
    /// The module's metadata (and binary).
    pub(crate) info: &'a ModuleInfo,
    /// Layout of this module's `VMContext`.
    pub(crate) offsets: VMOffsets,
    /// The compile configuration.
    pub(crate) config: &'a CompileConfig,
    /// Calling convention of builtins (the host's C convention).
    pub(crate) host_call_conv: CallConv,
    /// Target properties cranelift-frontend needs.
    pub(crate) frontend_config: TargetFrontendConfig,
    /// Explicit memory bounds checks also steer the address with `select_spectre_guard`
    /// (Cranelift's `enable_heap_access_spectre_mitigation`, on unless the embedder turns it off).
    pub(crate) spectre_heap: bool,
    /// The same for table element accesses (`enable_table_access_spectre_mitigation`).
    pub(crate) spectre_table: bool,
}

impl<'a> ModuleEnv<'a> {
    /// The context for translating `info`'s functions for `isa`.
    pub(crate) fn new(
        info: &'a ModuleInfo,
        config: &'a CompileConfig,
        isa: &dyn TargetIsa,
    ) -> Self {
        Self {
            info,
            offsets: VMOffsets::new(info),
            config,
            host_call_conv: isa.default_call_conv(),
            frontend_config: isa.frontend_config(),
            spectre_heap: isa.flags().enable_heap_access_spectre_mitigation(),
            spectre_table: isa.flags().enable_table_access_spectre_mitigation(),
        }
    }
}
