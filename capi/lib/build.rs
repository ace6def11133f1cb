//! Gives the shared library its soname, `libwasmjit.so.<compatible version>`, from the crate
//! version: `0.MINOR` while the major version is 0 (semver: every 0.y release may break),
//! `MAJOR` from 1.0 on. Programs linked against it then name that file, so an install can keep
//! several incompatible versions side by side (see `scripts/install.sh`).
//!
//! A program linked straight from the build tree (`-L target/release -lwasmjit`) also asks the
//! loader for the soname, so the soname is made a link to `libwasmjit.so` next to where cargo
//! puts the library: in the profile directory and its `deps/`.

use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() != Ok("linux") {
        return;
    }
    let soname = soname();
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
    if let Some(profile_dir) = profile_dir() {
        for dir in [profile_dir.join("deps"), profile_dir] {
            link_soname(&dir, &soname);
        }
    }
}

fn soname() -> String {
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").expect("cargo sets the version");
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").expect("cargo sets the version");
    if major == "0" {
        format!("libwasmjit.so.0.{minor}")
    } else {
        format!("libwasmjit.so.{major}")
    }
}

/// `target/[<triple>/]<profile>`: three levels above `OUT_DIR`
/// (`<profile>/build/<package>-<hash>/out`).
fn profile_dir() -> Option<PathBuf> {
    let out = PathBuf::from(std::env::var_os("OUT_DIR")?);
    Some(out.ancestors().nth(3)?.to_path_buf())
}

/// `dir/<soname>` → `libwasmjit.so` (relative, dangling until the library is linked).
fn link_soname(dir: &Path, soname: &str) {
    let link = dir.join(soname);
    if std::fs::symlink_metadata(&link).is_ok() || std::fs::create_dir_all(dir).is_err() {
        return;
    }
    // Best effort: without the link only programs run straight from the build tree miss it.
    #[cfg(unix)]
    let _ = std::os::unix::fs::symlink("libwasmjit.so", &link);
}
