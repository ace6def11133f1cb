//! Files: create, read, write, seek, truncate, append, metadata and times, copy, remove.
use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::time::{Duration, UNIX_EPOCH};
use wasi_test_programs::Checks;

fn main() {
    let mut c = Checks::new("rust files");
    let given = fs::read_to_string("/sandbox/given.txt");
    c.eq(
        "read given",
        given.ok(),
        Some("given by the host\n".to_string()),
    );

    let path = "/sandbox/f.txt";
    if let Some(mut f) = c.ok("create", File::create(path)) {
        c.ok("write", f.write_all(b"hello world"));
    }
    let meta = c.ok("metadata", fs::metadata(path));
    c.eq("len", meta.as_ref().map(|m| m.len()), Some(11));
    c.eq("is file", meta.as_ref().map(|m| m.is_file()), Some(true));
    c.eq("is dir", meta.as_ref().map(|m| m.is_dir()), Some(false));

    if let Some(mut f) = c.ok(
        "open rw",
        OpenOptions::new().read(true).write(true).open(path),
    ) {
        c.eq("seek start", f.seek(SeekFrom::Start(6)).ok(), Some(6));
        let mut word = [0u8; 5];
        c.ok("read word", f.read_exact(&mut word));
        c.eq("word", &word, b"world");
        c.eq("seek end", f.seek(SeekFrom::End(-5)).ok(), Some(6));
        c.eq("seek current", f.seek(SeekFrom::Current(-6)).ok(), Some(0));
        c.ok("overwrite", f.write_all(b"HE"));
        c.eq("position", f.stream_position().ok(), Some(2));
        c.err(
            "seek before start",
            f.seek(SeekFrom::Current(-3)),
            ErrorKind::InvalidInput,
        );
        c.ok("truncate", f.set_len(5));
        c.eq("truncated", fs::read(path).ok(), Some(b"HEllo".to_vec()));
        c.ok("extend", f.set_len(8));
        c.eq(
            "extended",
            fs::read(path).ok(),
            Some(b"HEllo\0\0\0".to_vec()),
        );
        c.eq("seek past end", f.seek(SeekFrom::Start(10)).ok(), Some(10));
        c.ok("write past end", f.write_all(b"!"));
        c.eq(
            "hole",
            fs::read(path).ok(),
            Some(b"HEllo\0\0\0\0\0!".to_vec()),
        );
        let when = UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        c.ok("set modified", f.set_modified(when));
        let meta = f.metadata();
        c.eq(
            "modified",
            meta.ok().and_then(|m| m.modified().ok()),
            Some(when),
        );
    }
    if let Some(mut f) = c.ok("open append", OpenOptions::new().append(true).open(path)) {
        c.ok("append", f.write_all(b"?"));
    }
    c.eq("appended", fs::read(path).map(|b| b.len()).ok(), Some(12));

    c.err(
        "create_new existing",
        OpenOptions::new().write(true).create_new(true).open(path),
        ErrorKind::AlreadyExists,
    );
    c.err(
        "open missing",
        File::open("/sandbox/missing"),
        ErrorKind::NotFound,
    );
    c.err(
        "open missing dir",
        File::open("/sandbox/nodir/x"),
        ErrorKind::NotFound,
    );
    if let Some(mut f) = c.ok("open read-only", File::open(path)) {
        c.is("write read-only", f.write_all(b"x").is_err());
    }
    c.err(
        "read_dir of a file",
        fs::read_dir(path).map(|_| ()),
        ErrorKind::NotADirectory,
    );
    c.err(
        "file under a file",
        File::create("/sandbox/f.txt/x"),
        ErrorKind::NotADirectory,
    );
    c.err(
        "open a dir for writing",
        File::create("/sandbox/given-dir"),
        ErrorKind::IsADirectory,
    );

    c.eq("copy", fs::copy(path, "/sandbox/copy.txt").ok(), Some(12));
    c.eq(
        "copied",
        fs::read("/sandbox/copy.txt").ok(),
        fs::read(path).ok(),
    );
    c.ok("write whole", fs::write("/sandbox/kept.txt", "kept\n"));
    c.ok("remove", fs::remove_file(path));
    c.err("removed", fs::metadata(path), ErrorKind::NotFound);
    c.err("remove again", fs::remove_file(path), ErrorKind::NotFound);
    c.err(
        "remove a dir",
        fs::remove_file("/sandbox/given-dir"),
        ErrorKind::IsADirectory,
    );
    c.err(
        "escape",
        File::open("/sandbox/../etc/passwd"),
        ErrorKind::PermissionDenied,
    );
    c.finish()
}
