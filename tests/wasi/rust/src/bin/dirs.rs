//! Directories: create (one and all), list, remove, rename, and their errors.
use std::fs;
use std::io::ErrorKind;
use wasi_test_programs::{names, Checks};

fn main() {
    let mut c = Checks::new("rust dirs");
    c.eq(
        "given-dir",
        names("/sandbox/given-dir").ok(),
        Some(vec!["a".to_string()]),
    );
    c.ok("create_dir", fs::create_dir("/sandbox/d"));
    c.err(
        "create_dir again",
        fs::create_dir("/sandbox/d"),
        ErrorKind::AlreadyExists,
    );
    c.err(
        "create_dir missing parent",
        fs::create_dir("/sandbox/no/d"),
        ErrorKind::NotFound,
    );
    c.ok("create_dir_all", fs::create_dir_all("/sandbox/d/x/y/z"));
    c.ok(
        "create_dir_all again",
        fs::create_dir_all("/sandbox/d/x/y/z"),
    );
    c.is(
        "is dir",
        fs::metadata("/sandbox/d/x/y/z")
            .map(|m| m.is_dir())
            .unwrap_or(false),
    );
    c.ok("f1", fs::write("/sandbox/d/f1", "one"));
    c.ok("f2", fs::write("/sandbox/d/f2", "two"));
    c.eq(
        "list",
        names("/sandbox/d").ok(),
        Some(vec!["f1".into(), "f2".into(), "x".into()]),
    );
    let mut kinds = Vec::new();
    if let Some(entries) = c.ok("read_dir", fs::read_dir("/sandbox/d")) {
        for e in entries.flatten() {
            let t = e.file_type().unwrap();
            kinds.push((
                e.file_name().into_string().unwrap(),
                t.is_dir(),
                t.is_file(),
            ));
        }
    }
    kinds.sort();
    c.eq(
        "kinds",
        kinds,
        vec![
            ("f1".into(), false, true),
            ("f2".into(), false, true),
            ("x".into(), true, false),
        ],
    );
    // std's wasip1 target leaves ENOTEMPTY (55) uncategorized.
    c.errno("remove non-empty", fs::remove_dir("/sandbox/d"), 55);
    c.err(
        "remove_dir a file",
        fs::remove_dir("/sandbox/d/f1"),
        ErrorKind::NotADirectory,
    );
    c.err(
        "remove_dir missing",
        fs::remove_dir("/sandbox/nothing"),
        ErrorKind::NotFound,
    );
    c.ok(
        "rename file",
        fs::rename("/sandbox/d/f1", "/sandbox/d/x/moved"),
    );
    c.ok(
        "rename over a file",
        fs::rename("/sandbox/d/f2", "/sandbox/d/x/moved"),
    );
    c.eq(
        "replaced",
        fs::read_to_string("/sandbox/d/x/moved").ok(),
        Some("two".into()),
    );
    c.eq("d now", names("/sandbox/d").ok(), Some(vec!["x".into()]));
    c.ok("rename dir", fs::rename("/sandbox/d/x", "/sandbox/e"));
    c.eq(
        "e",
        names("/sandbox/e").ok(),
        Some(vec!["moved".into(), "y".into()]),
    );
    c.ok("mkdir empty", fs::create_dir("/sandbox/empty"));
    c.ok(
        "rename dir over empty dir",
        fs::rename("/sandbox/d", "/sandbox/empty"),
    );
    c.errno(
        "rename dir over non-empty",
        fs::rename("/sandbox/empty", "/sandbox/e"),
        55,
    );
    c.err(
        "rename file over dir",
        fs::rename("/sandbox/e/moved", "/sandbox/e/y"),
        ErrorKind::IsADirectory,
    );
    c.err(
        "rename dir over file",
        fs::rename("/sandbox/e/y", "/sandbox/given.txt"),
        ErrorKind::NotADirectory,
    );
    c.err(
        "rename dir into itself",
        fs::rename("/sandbox/e", "/sandbox/e/y/inside"),
        ErrorKind::InvalidInput,
    );
    c.ok("remove_dir_all", fs::remove_dir_all("/sandbox/e"));
    c.err("gone", fs::metadata("/sandbox/e"), ErrorKind::NotFound);
    c.ok("remove_dir", fs::remove_dir("/sandbox/empty"));
    c.ok("leave a tree", fs::create_dir_all("/sandbox/left/inner"));
    c.ok(
        "leave a file",
        fs::write("/sandbox/left/inner/file", "left"),
    );
    c.eq(
        "root",
        names("/sandbox").ok(),
        Some(vec!["given-dir".into(), "given.txt".into(), "left".into()]),
    );
    c.finish()
}
