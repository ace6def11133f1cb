//! Helpers shared by the integration tests (each test file is its own crate and includes this
//! module with `mod support;`; not every file uses every helper).
#![allow(dead_code)]

pub mod abort_on_fault;
pub mod child;
