//! `wasi.h`: WASI preview 1 configuration (`wasi_config_t`), moved into a store with
//! `wasmtime_context_set_wasi`; `wasmtime_linker_define_wasi` adds the functions.

use crate::linker::wasmtime_linker_t;
use crate::store::StoreData;
use crate::{wasm_byte_vec_t, wasmtime_context_t, CError};
use std::ffi::{c_char, CStr};
use std::fs::{File, OpenOptions};
use std::os::unix::ffi::OsStrExt;
use wasmjit_wasi::{self as wasi, DirPerms, FilePerms, MemoryInputPipe, WasiCtx, WasiCtxBuilder};

/// A WASI configuration being built.
pub struct wasi_config_t {
    args: Vec<String>,
    inherit_args: bool,
    env: Vec<(String, String)>,
    inherit_env: bool,
    /// Stdio and preopens (set as they come: files and directories open at once).
    builder: WasiCtxBuilder,
}

impl wasi_config_t {
    fn build(mut self) -> WasiCtx {
        let b = &mut self.builder;
        if self.inherit_args {
            b.inherit_args();
        } else {
            b.args(&self.args);
        }
        if self.inherit_env {
            b.inherit_env();
        } else {
            b.envs(&self.env);
        }
        b.build()
    }
}

/// A string from C (lossily decoded; NULL is the empty string).
///
/// # Safety
/// `s` is NULL or NUL-terminated.
unsafe fn string(s: *const c_char) -> String {
    if s.is_null() {
        return String::new();
    }
    // SAFETY: `s` is NUL-terminated (the caller's contract).
    unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned()
}

/// `n` strings from a C array.
///
/// # Safety
/// Unless `n` is 0, `list` points to `n` NULL-or-NUL-terminated strings.
unsafe fn strings(n: usize, list: *const *const c_char) -> Vec<String> {
    // SAFETY: the caller's contract.
    let ptrs = unsafe { crate::slice_from_raw(list, n) };
    // SAFETY: each element is NULL or NUL-terminated.
    ptrs.iter().map(|&p| unsafe { string(p) }).collect()
}

/// A new configuration: no arguments, no environment, no directories, empty stdin and
/// discarded stdout/stderr.
#[no_mangle]
pub extern "C" fn wasi_config_new() -> Box<wasi_config_t> {
    Box::new(wasi_config_t {
        args: Vec::new(),
        inherit_args: false,
        env: Vec::new(),
        inherit_env: false,
        builder: WasiCtxBuilder::new(),
    })
}

/// Frees a configuration.
#[no_mangle]
pub extern "C" fn wasi_config_delete(_config: Option<Box<wasi_config_t>>) {}

/// Sets the guest's argv (replacing earlier settings).
#[no_mangle]
pub unsafe extern "C" fn wasi_config_set_argv(
    config: &mut wasi_config_t,
    argc: usize,
    argv: *const *const c_char,
) -> bool {
    // SAFETY: C passes `argc` strings.
    let args = crate::abort_on_panic("wasi_config_set_argv", || unsafe { strings(argc, argv) });
    config.args = args;
    config.inherit_args = false;
    true
}

/// The guest's argv is the host process's.
#[no_mangle]
pub extern "C" fn wasi_config_inherit_argv(config: &mut wasi_config_t) {
    config.inherit_args = true;
}

/// Sets the guest's environment (replacing earlier settings).
#[no_mangle]
pub unsafe extern "C" fn wasi_config_set_env(
    config: &mut wasi_config_t,
    envc: usize,
    names: *const *const c_char,
    values: *const *const c_char,
) -> bool {
    let env = crate::abort_on_panic("wasi_config_set_env", || {
        // SAFETY: C passes `envc` names and `envc` values.
        let (names, values) = unsafe { (strings(envc, names), strings(envc, values)) };
        names.into_iter().zip(values).collect()
    });
    config.env = env;
    config.inherit_env = false;
    true
}

/// The guest's environment is the host process's.
#[no_mangle]
pub extern "C" fn wasi_config_inherit_env(config: &mut wasi_config_t) {
    config.inherit_env = true;
}

/// Opens `path` with `options`; `None` when it cannot be opened.
///
/// # Safety
/// `path` is NULL or NUL-terminated.
unsafe fn open(path: *const c_char, options: &OpenOptions) -> Option<File> {
    if path.is_null() {
        return None;
    }
    // SAFETY: the caller's contract.
    let path = unsafe { CStr::from_ptr(path) };
    let path: &std::ffi::OsStr = OsStrExt::from_bytes(path.to_bytes());
    options.open(path).ok()
}

/// The guest's stdin reads the file `path`; false when it cannot be opened.
#[no_mangle]
pub unsafe extern "C" fn wasi_config_set_stdin_file(
    config: &mut wasi_config_t,
    path: *const c_char,
) -> bool {
    // SAFETY: C passes a NUL-terminated path.
    match unsafe { open(path, OpenOptions::new().read(true)) } {
        Some(f) => {
            config.builder.stdin(f);
            true
        }
        None => false,
    }
}

/// The guest's stdin yields `binary`'s bytes (the vector is taken and left empty).
#[no_mangle]
pub extern "C" fn wasi_config_set_stdin_bytes(
    config: &mut wasi_config_t,
    binary: &mut wasm_byte_vec_t,
) {
    let bytes = binary.take();
    config.builder.stdin(MemoryInputPipe::new(bytes));
}

/// The guest's stdin is the host process's.
#[no_mangle]
pub extern "C" fn wasi_config_inherit_stdin(config: &mut wasi_config_t) {
    config.builder.inherit_stdin();
}

fn output_options() -> OpenOptions {
    let mut o = OpenOptions::new();
    o.write(true).create(true).truncate(true);
    o
}

/// The guest's stdout goes to the file `path` (created or truncated); false when it cannot
/// be opened.
#[no_mangle]
pub unsafe extern "C" fn wasi_config_set_stdout_file(
    config: &mut wasi_config_t,
    path: *const c_char,
) -> bool {
    // SAFETY: C passes a NUL-terminated path.
    match unsafe { open(path, &output_options()) } {
        Some(f) => {
            config.builder.stdout(f);
            true
        }
        None => false,
    }
}

/// The guest's stdout is the host process's.
#[no_mangle]
pub extern "C" fn wasi_config_inherit_stdout(config: &mut wasi_config_t) {
    config.builder.inherit_stdout();
}

/// The guest's stderr goes to the file `path` (created or truncated); false when it cannot
/// be opened.
#[no_mangle]
pub unsafe extern "C" fn wasi_config_set_stderr_file(
    config: &mut wasi_config_t,
    path: *const c_char,
) -> bool {
    // SAFETY: C passes a NUL-terminated path.
    match unsafe { open(path, &output_options()) } {
        Some(f) => {
            config.builder.stderr(f);
            true
        }
        None => false,
    }
}

/// The guest's stderr is the host process's.
#[no_mangle]
pub extern "C" fn wasi_config_inherit_stderr(config: &mut wasi_config_t) {
    config.builder.inherit_stderr();
}

/// `wasi_dir_perms` flags.
const DIR_PERMS_READ: usize = 1;
const DIR_PERMS_WRITE: usize = 2;
/// `wasi_file_perms` flags.
const FILE_PERMS_READ: usize = 1;
const FILE_PERMS_WRITE: usize = 2;

/// Gives the guest the host directory `path` as `guest_path`, with the given permissions
/// for the directory tree and for its files. False when it cannot be opened.
#[no_mangle]
pub unsafe extern "C" fn wasi_config_preopen_dir(
    config: &mut wasi_config_t,
    path: *const c_char,
    guest_path: *const c_char,
    dir_perms: usize,
    file_perms: usize,
) -> bool {
    if path.is_null() || guest_path.is_null() {
        return false;
    }
    // SAFETY: C passes NUL-terminated strings.
    let (host, guest) = unsafe { (CStr::from_ptr(path), string(guest_path)) };
    let host: &std::ffi::OsStr = OsStrExt::from_bytes(host.to_bytes());
    let dir = DirPerms {
        read: dir_perms & DIR_PERMS_READ != 0,
        mutate: dir_perms & DIR_PERMS_WRITE != 0,
    };
    let file = FilePerms {
        read: file_perms & FILE_PERMS_READ != 0,
        write: file_perms & FILE_PERMS_WRITE != 0,
    };
    crate::catch_panic(|| {
        config
            .builder
            .preopened_dir_with_perms(host, guest, dir, file)
            .map(drop)
    })
    .is_ok()
}

/// Moves `wasi` into the store as its WASI context (replacing an earlier one).
#[no_mangle]
pub extern "C" fn wasmtime_context_set_wasi(
    context: &mut wasmtime_context_t,
    wasi: Box<wasi_config_t>,
) -> CError {
    crate::error::guard(|| {
        context.data_mut().wasi = Some(wasi.build());
        Ok(())
    })
}

/// Defines the `wasi_snapshot_preview1` functions in `linker`. They use the WASI context of
/// the store they run in (an empty one when none was set).
#[no_mangle]
pub extern "C" fn wasmtime_linker_define_wasi(linker: &mut wasmtime_linker_t) -> CError {
    crate::error::guard(|| {
        wasi::add_to_linker(&mut linker.linker, |data: &mut StoreData| {
            data.wasi
                .get_or_insert_with(|| WasiCtxBuilder::new().build())
        })
    })
}
