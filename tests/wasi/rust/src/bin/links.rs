//! Hard links and symlinks: made, read, followed or not, dangling, leading out.
use std::fs;
use std::io::ErrorKind;
use wasi_test_programs::{names, symlink as symlink_path, Checks};

fn main() {
    let mut c = Checks::new("rust links");
    c.ok(
        "hard link",
        fs::hard_link("/sandbox/given.txt", "/sandbox/hard"),
    );
    c.eq(
        "same contents",
        fs::read("/sandbox/hard").ok(),
        fs::read("/sandbox/given.txt").ok(),
    );
    c.ok(
        "write through the link",
        fs::write("/sandbox/hard", "changed\n"),
    );
    c.eq(
        "shared",
        fs::read_to_string("/sandbox/given.txt").ok(),
        Some("changed\n".into()),
    );
    c.err(
        "hard link exists",
        fs::hard_link("/sandbox/given.txt", "/sandbox/hard"),
        ErrorKind::AlreadyExists,
    );
    c.err(
        "hard link missing",
        fs::hard_link("/sandbox/missing", "/sandbox/h2"),
        ErrorKind::NotFound,
    );
    c.err(
        "hard link to a dir",
        fs::hard_link("/sandbox/given-dir", "/sandbox/h3"),
        ErrorKind::PermissionDenied,
    );

    c.ok("symlink", symlink_path("given.txt", "/sandbox/sym"));
    c.eq(
        "read_link",
        fs::read_link("/sandbox/sym").ok(),
        Some("given.txt".into()),
    );
    let lmeta = c.ok("symlink_metadata", fs::symlink_metadata("/sandbox/sym"));
    c.eq(
        "is symlink",
        lmeta.map(|m| m.file_type().is_symlink()),
        Some(true),
    );
    let meta = c.ok("metadata follows", fs::metadata("/sandbox/sym"));
    c.eq("followed len", meta.map(|m| m.len()), Some(8));
    c.eq(
        "read through",
        fs::read_to_string("/sandbox/sym").ok(),
        Some("changed\n".into()),
    );
    c.err(
        "read_link of a file",
        fs::read_link("/sandbox/given.txt"),
        ErrorKind::InvalidInput,
    );
    c.err(
        "symlink exists",
        symlink_path("x", "/sandbox/sym"),
        ErrorKind::AlreadyExists,
    );

    c.ok("dangling", symlink_path("nowhere", "/sandbox/dangling"));
    c.err(
        "follow dangling",
        fs::metadata("/sandbox/dangling"),
        ErrorKind::NotFound,
    );
    c.ok("lstat dangling", fs::symlink_metadata("/sandbox/dangling"));
    c.ok("dir symlink", symlink_path("given-dir", "/sandbox/dirlink"));
    c.eq(
        "list through",
        names("/sandbox/dirlink").ok(),
        Some(vec!["a".into()]),
    );
    c.ok("create through", fs::write("/sandbox/dirlink/b", "b"));
    c.eq(
        "landed",
        names("/sandbox/given-dir").ok(),
        Some(vec!["a".into(), "b".into()]),
    );
    c.err(
        "remove_dir a symlink",
        fs::remove_dir("/sandbox/dirlink"),
        ErrorKind::NotADirectory,
    );
    c.ok("remove a symlink", fs::remove_file("/sandbox/dirlink"));
    c.is("target stays", fs::metadata("/sandbox/given-dir").is_ok());

    c.ok("symlink out", symlink_path("../..", "/sandbox/out"));
    c.err(
        "through out",
        fs::read_dir("/sandbox/out").map(|_| ()),
        ErrorKind::PermissionDenied,
    );
    c.err(
        "absolute symlink",
        symlink_path("/etc", "/sandbox/abs"),
        ErrorKind::PermissionDenied,
    );
    c.ok("loop a", symlink_path("loop-b", "/sandbox/loop-a"));
    c.ok("loop b", symlink_path("loop-a", "/sandbox/loop-b"));
    c.errno("follow a loop", fs::metadata("/sandbox/loop-a"), 32);
    c.ok("remove out", fs::remove_file("/sandbox/out"));
    c.ok("remove loop b", fs::remove_file("/sandbox/loop-b"));
    c.ok(
        "rename a symlink",
        fs::rename("/sandbox/sym", "/sandbox/sym-kept"),
    );
    c.eq(
        "renamed link",
        fs::read_link("/sandbox/sym-kept").ok(),
        Some("given.txt".into()),
    );
    c.finish()
}
