//! The compiler's integration tests, one binary with a module per area.

mod execute;
mod spec_modules_compile;
mod trap_sites;
mod vmoffsets;
