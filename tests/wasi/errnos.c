/* The errno paths the other programs leave out, with raw calls: fd_advise and fd_allocate
 * on every kind of descriptor and with bad advice, path_filestat_set_times and
 * fd_filestat_set_times with NOW flags and unknown flags, fd_readdir with tiny buffers and
 * cookies, poll_oneoff with descriptor subscriptions on every kind of descriptor, proc_raise,
 * fd_renumber, fd_fdstat_set_rights shrinking and growing, the CPU-time clocks,
 * fd_prestat_dir_name, fd_seek/fd_tell, fd_sync/fd_datasync. (Arguments outside their
 * types trap, as in Wasmtime: raw.c checks those.) */
#include "check.h"

__attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")))
int32_t raw_proc_raise(int32_t signal);
__attribute__((import_module("wasi_snapshot_preview1"), import_name("fd_seek")))
int32_t raw_fd_seek(int32_t fd, int64_t offset, int32_t whence, uint64_t *out);

static void advise_and_allocate(__wasi_fd_t file, __wasi_fd_t dir) {
  EXPECT_EQ("advise file", __wasi_fd_advise(file, 0, 10, __WASI_ADVICE_WILLNEED), 0);
  EXPECT_EQ("advise file dontneed", __wasi_fd_advise(file, 5, 0, __WASI_ADVICE_DONTNEED), 0);
  EXPECT_EQ("advise closed", __wasi_fd_advise(99, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
  EXPECT_EQ("advise stdout", __wasi_fd_advise(1, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
  EXPECT_EQ("advise dir", __wasi_fd_advise(dir, 0, 0, __WASI_ADVICE_NORMAL), __WASI_ERRNO_BADF);
  EXPECT_EQ("allocate file", __wasi_fd_allocate(file, 0, 100), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("allocate stdout", __wasi_fd_allocate(1, 0, 1), __WASI_ERRNO_BADF);
  EXPECT_EQ("allocate closed", __wasi_fd_allocate(99, 0, 1), __WASI_ERRNO_BADF);
  EXPECT_EQ("allocate preopen", __wasi_fd_allocate(DIR_FD, 0, 1), __WASI_ERRNO_BADF);
}

static void times(__wasi_fd_t file, __wasi_fd_t dir) {
  const __wasi_fstflags_t BOTH_NOW = __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW;
  __wasi_filestat_t st;
  EXPECT_EQ("set times at", __wasi_path_filestat_set_times(DIR_FD, 0, "file", 1000000000ull,
                                                           2000000000ull,
                                                           __WASI_FSTFLAGS_ATIM |
                                                               __WASI_FSTFLAGS_MTIM), 0);
  EXPECT_EQ("no flags", __wasi_path_filestat_set_times(DIR_FD, 0, "file", 5, 5, 0), 0);
  EXPECT_EQ("stat", __wasi_path_filestat_get(DIR_FD, 0, "file", &st), 0);
  EXPECT_EQ("atim kept", st.atim, 1000000000ull);
  EXPECT_EQ("mtim kept", st.mtim, 2000000000ull);
  EXPECT_EQ("both now", __wasi_path_filestat_set_times(DIR_FD, 0, "file", 0, 0, BOTH_NOW), 0);
  EXPECT_EQ("stat 2", __wasi_path_filestat_get(DIR_FD, 0, "file", &st), 0);
  EXPECT_TRUE("atim now", st.atim > 1577836800ull * 1000000000ull);
  EXPECT_TRUE("mtim now", st.mtim > 1577836800ull * 1000000000ull);
  EXPECT_EQ("times missing", __wasi_path_filestat_set_times(DIR_FD, 0, "nope", 0, 0, BOTH_NOW),
            __WASI_ERRNO_NOENT);
  EXPECT_EQ("times dir now", __wasi_path_filestat_set_times(DIR_FD, 0, "dir", 0, 0, BOTH_NOW), 0);
  EXPECT_EQ("fd times dir", __wasi_fd_filestat_set_times(dir, 0, 0, BOTH_NOW), 0);
  EXPECT_EQ("fd times file", __wasi_fd_filestat_set_times(file, 7, 0, __WASI_FSTFLAGS_ATIM), 0);
  EXPECT_EQ("fd stat", __wasi_fd_filestat_get(file, &st), 0);
  EXPECT_EQ("fd atim", st.atim, 7);
  EXPECT_EQ("fd times stdout", __wasi_fd_filestat_set_times(1, 0, 0, BOTH_NOW), __WASI_ERRNO_BADF);
  EXPECT_EQ("fd times closed", __wasi_fd_filestat_set_times(99, 0, 0, BOTH_NOW),
            __WASI_ERRNO_BADF);
  EXPECT_EQ("fd times atim+now", __wasi_fd_filestat_set_times(file, 0, 0, __WASI_FSTFLAGS_ATIM |
                                                                          __WASI_FSTFLAGS_ATIM_NOW),
            __WASI_ERRNO_INVAL);
}

static void readdir(__wasi_fd_t file, __wasi_fd_t dir) {
  uint8_t buf[64];
  __wasi_size_t used = 99;
  EXPECT_EQ("readdir zero buffer", __wasi_fd_readdir(dir, buf, 0, 0, &used), 0);
  EXPECT_EQ("zero buffer used", used, 0);
  /* "." is a 24-byte header and one byte of name. */
  EXPECT_EQ("readdir 25", __wasi_fd_readdir(dir, buf, 25, 0, &used), 0);
  EXPECT_EQ("25 used", used, 25);
  EXPECT_EQ("first name", buf[24], '.');
  EXPECT_EQ("readdir 26 at cookie 1", __wasi_fd_readdir(dir, buf, 26, 1, &used), 0);
  EXPECT_EQ("26 used", used, 26);
  EXPECT_EQ("second cookie", buf[0], 2);
  EXPECT_EQ("readdir 20 at cookie 2", __wasi_fd_readdir(dir, buf, 20, 2, &used), 0);
  EXPECT_EQ("20 used", used, 20);
  /* The directory holds one entry, "inner": cookie 3 is the end. */
  EXPECT_EQ("readdir at the end", __wasi_fd_readdir(dir, buf, sizeof buf, 3, &used), 0);
  EXPECT_EQ("end used", used, 0);
  EXPECT_EQ("readdir all", __wasi_fd_readdir(dir, buf, sizeof buf, 2, &used), 0);
  EXPECT_EQ("all used", used, 24 + 5);
  EXPECT_EQ("readdir file", __wasi_fd_readdir(file, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);
  EXPECT_EQ("readdir closed", __wasi_fd_readdir(99, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);
  EXPECT_EQ("readdir stdin", __wasi_fd_readdir(0, buf, sizeof buf, 0, &used), __WASI_ERRNO_BADF);
}

static __wasi_errno_t poll_fd(__wasi_eventtype_t type, __wasi_fd_t fd, __wasi_event_t *event,
                              __wasi_size_t *n) {
  __wasi_subscription_t subs[2];
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 5;
  subs[0].u.tag = type;
  subs[0].u.u.fd_read.file_descriptor = fd;
  /* A clock beside it, so this is never the single-clock fast path. */
  subs[1].userdata = 6;
  subs[1].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[1].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[1].u.u.clock.timeout = 10ull * 1000000000ull;
  *n = 0;
  return __wasi_poll_oneoff(subs, event, 2, n);
}

static void poll(__wasi_fd_t file, __wasi_fd_t dir) {
  __wasi_event_t ev[2];
  __wasi_size_t n;
  EXPECT_EQ("poll read file", poll_fd(__WASI_EVENTTYPE_FD_READ, file, ev, &n), 0);
  EXPECT_EQ("file events", n, 1);
  EXPECT_EQ("file event", ev[0].userdata, 5);
  EXPECT_EQ("file event type", ev[0].type, __WASI_EVENTTYPE_FD_READ);
  EXPECT_EQ("file event error", ev[0].error, 0);
  EXPECT_EQ("poll write file", poll_fd(__WASI_EVENTTYPE_FD_WRITE, file, ev, &n), 0);
  EXPECT_EQ("write file events", n, 1);
  EXPECT_EQ("poll write stderr", poll_fd(__WASI_EVENTTYPE_FD_WRITE, 2, ev, &n), 0);
  EXPECT_EQ("stderr events", n, 1);
  EXPECT_EQ("poll read dir", poll_fd(__WASI_EVENTTYPE_FD_READ, dir, ev, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("poll write dir", poll_fd(__WASI_EVENTTYPE_FD_WRITE, dir, ev, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("poll read stdout", poll_fd(__WASI_EVENTTYPE_FD_READ, 1, ev, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("poll write stdin", poll_fd(__WASI_EVENTTYPE_FD_WRITE, 0, ev, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("poll read closed", poll_fd(__WASI_EVENTTYPE_FD_READ, 99, ev, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("poll bad tag", poll_fd(7, 1, ev, &n), __WASI_ERRNO_INVAL);

  __wasi_subscription_t sub;
  memset(&sub, 0, sizeof sub);
  sub.u.tag = __WASI_EVENTTYPE_CLOCK;
  sub.u.u.clock.id = __WASI_CLOCKID_PROCESS_CPUTIME_ID;
  sub.u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  EXPECT_EQ("poll cputime clock", __wasi_poll_oneoff(&sub, ev, 1, &n), __WASI_ERRNO_INVAL);
  sub.u.u.clock.id = __WASI_CLOCKID_REALTIME;
  EXPECT_EQ("poll realtime absolute", __wasi_poll_oneoff(&sub, ev, 1, &n), 0);
  EXPECT_EQ("realtime absolute events", n, 1);
  EXPECT_EQ("realtime absolute type", ev[0].type, __WASI_EVENTTYPE_CLOCK);
}

static void renumber(void) {
  __wasi_fd_t a, b;
  __wasi_fdstat_t st;
  EXPECT_EQ("open a", open_at("file", 0, __WASI_RIGHTS_FD_READ, 0, &a), 0);
  EXPECT_EQ("open b", open_at("dir", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &b), 0);
  EXPECT_EQ("renumber to itself", __wasi_fd_renumber(a, a), 0);
  EXPECT_EQ("still open", __wasi_fd_fdstat_get(a, &st), 0);
  EXPECT_EQ("renumber from closed", __wasi_fd_renumber(99, a), __WASI_ERRNO_BADF);
  EXPECT_EQ("renumber to closed", __wasi_fd_renumber(a, 99), __WASI_ERRNO_BADF);
  EXPECT_EQ("renumber closed to itself", __wasi_fd_renumber(99, 99), __WASI_ERRNO_BADF);
  EXPECT_EQ("renumber file over dir", __wasi_fd_renumber(a, b), 0);
  EXPECT_EQ("old number closed", __wasi_fd_fdstat_get(a, &st), __WASI_ERRNO_BADF);
  EXPECT_EQ("new number a file", __wasi_fd_fdstat_get(b, &st), 0);
  EXPECT_EQ("new number type", st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
  EXPECT_EQ("renumber over stderr", __wasi_fd_renumber(b, 2), 0);
  EXPECT_EQ("stderr is the file", __wasi_fd_fdstat_get(2, &st), 0);
  EXPECT_EQ("stderr type", st.fs_filetype, __WASI_FILETYPE_REGULAR_FILE);
  uint8_t byte = 0;
  __wasi_iovec_t iov = {&byte, 1};
  __wasi_size_t n;
  EXPECT_EQ("read through 2", __wasi_fd_read(2, &iov, 1, &n), 0);
  EXPECT_EQ("read byte", byte, 'h');
  /* The next one opened takes the highest number freed (4 and 5 were, by the renumbering). */
  EXPECT_EQ("open c", open_at("file", 0, __WASI_RIGHTS_FD_READ, 0, &a), 0);
  EXPECT_EQ("highest freed number", a, 5);
  EXPECT_EQ("close c", __wasi_fd_close(a), 0);
  EXPECT_EQ("close 2", __wasi_fd_close(2), 0);
  EXPECT_EQ("close 2 again", __wasi_fd_close(2), __WASI_ERRNO_BADF);
}

static void rights(__wasi_fd_t file, __wasi_fd_t dir) {
  __wasi_fdstat_t before, after;
  EXPECT_EQ("fdstat", __wasi_fd_fdstat_get(file, &before), 0);
  EXPECT_EQ("shrink file", __wasi_fd_fdstat_set_rights(file, __WASI_RIGHTS_FD_READ, 0),
            __WASI_ERRNO_NOTSUP);
  const __wasi_rights_t ALL = (1ull << 30) - 1;
  EXPECT_EQ("grow file", __wasi_fd_fdstat_set_rights(file, ALL, ALL), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("same file", __wasi_fd_fdstat_set_rights(file, before.fs_rights_base,
                                                     before.fs_rights_inheriting),
            __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("fdstat after", __wasi_fd_fdstat_get(file, &after), 0);
  EXPECT_EQ("rights unchanged", after.fs_rights_base, before.fs_rights_base);
  EXPECT_EQ("shrink dir", __wasi_fd_fdstat_set_rights(dir, 0, 0), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("shrink preopen", __wasi_fd_fdstat_set_rights(DIR_FD, 0, 0), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("set rights stdout", __wasi_fd_fdstat_set_rights(1, 0, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("set rights closed", __wasi_fd_fdstat_set_rights(99, 0, 0), __WASI_ERRNO_BADF);
}

static void misc(__wasi_fd_t file, __wasi_fd_t dir) {
  __wasi_timestamp_t t;
  EXPECT_EQ("res process cputime", __wasi_clock_res_get(__WASI_CLOCKID_PROCESS_CPUTIME_ID, &t),
            __WASI_ERRNO_BADF);
  EXPECT_EQ("time thread cputime",
            __wasi_clock_time_get(__WASI_CLOCKID_THREAD_CPUTIME_ID, 1, &t), __WASI_ERRNO_BADF);

  EXPECT_EQ("proc_raise 0", raw_proc_raise(0), __WASI_ERRNO_NOTSUP);
  EXPECT_EQ("proc_raise SIGKILL", raw_proc_raise(9), __WASI_ERRNO_NOTSUP);

  char name[16];
  EXPECT_EQ("dir name", __wasi_fd_prestat_dir_name(DIR_FD, (uint8_t *)name, 8), 0);
  EXPECT_EQ("dir name short", __wasi_fd_prestat_dir_name(DIR_FD, (uint8_t *)name, 7),
            __WASI_ERRNO_NAMETOOLONG);
  EXPECT_EQ("dir name of a dir", __wasi_fd_prestat_dir_name(dir, (uint8_t *)name, 16),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("dir name of a file", __wasi_fd_prestat_dir_name(file, (uint8_t *)name, 16),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("dir name of stdout", __wasi_fd_prestat_dir_name(1, (uint8_t *)name, 16),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("dir name closed", __wasi_fd_prestat_dir_name(99, (uint8_t *)name, 16),
            __WASI_ERRNO_BADF);
  __wasi_prestat_t pre;
  EXPECT_EQ("prestat of a dir", __wasi_fd_prestat_get(dir, &pre), __WASI_ERRNO_BADF);

  uint64_t pos;
  EXPECT_EQ("seek before start", raw_fd_seek(file, -1, __WASI_WHENCE_SET, &pos),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("seek past end", raw_fd_seek(file, 100, __WASI_WHENCE_END, &pos), 0);
  EXPECT_EQ("seek past end position", pos, 105);
  EXPECT_EQ("tell", __wasi_fd_tell(file, &pos), 0);
  EXPECT_EQ("tell position", pos, 105);
  EXPECT_EQ("tell stdout", __wasi_fd_tell(1, &pos), __WASI_ERRNO_SPIPE);
  EXPECT_EQ("tell closed", __wasi_fd_tell(99, &pos), __WASI_ERRNO_BADF);
  EXPECT_EQ("seek closed", __wasi_fd_seek(99, 0, __WASI_WHENCE_SET, &pos), __WASI_ERRNO_BADF);

  EXPECT_EQ("sync file", __wasi_fd_sync(file), 0);
  EXPECT_EQ("datasync file", __wasi_fd_datasync(file), 0);
  EXPECT_EQ("sync stdout", __wasi_fd_sync(1), __WASI_ERRNO_BADF);
  EXPECT_EQ("datasync stdout", __wasi_fd_datasync(1), __WASI_ERRNO_BADF);
  EXPECT_EQ("sync closed", __wasi_fd_sync(99), __WASI_ERRNO_BADF);
  EXPECT_EQ("sync dir", __wasi_fd_sync(dir), __WASI_ERRNO_BADF);
  EXPECT_EQ("datasync dir", __wasi_fd_datasync(dir), __WASI_ERRNO_BADF);

  __wasi_fd_t fd;
  EXPECT_EQ("open from a file", __wasi_path_open(file, 0, "x", 0, 0, 0, 0, &fd),
            __WASI_ERRNO_NOTDIR);
  EXPECT_EQ("open from stdout", __wasi_path_open(1, 0, "x", 0, 0, 0, 0, &fd), __WASI_ERRNO_BADF);
  EXPECT_EQ("mkdir from a file", __wasi_path_create_directory(file, "x"), __WASI_ERRNO_BADF);
  __wasi_filestat_t st;
  EXPECT_EQ("stat from a file", __wasi_path_filestat_get(file, 0, "x", &st), __WASI_ERRNO_BADF);
  EXPECT_EQ("filestat stdout", __wasi_fd_filestat_get(1, &st), 0);
  EXPECT_EQ("filestat closed", __wasi_fd_filestat_get(99, &st), __WASI_ERRNO_BADF);
  EXPECT_EQ("set size stdout", __wasi_fd_filestat_set_size(1, 0), __WASI_ERRNO_BADF);
  EXPECT_EQ("set size read-only", __wasi_fd_filestat_set_size(file, 0), __WASI_ERRNO_INVAL);
}

int main(void) {
  make_file("file", "hello");
  EXPECT_EQ("mkdir", __wasi_path_create_directory(DIR_FD, "dir"), 0);
  make_file("dir/inner", "x");
  __wasi_fd_t file, dir;
  EXPECT_EQ("open file", open_at("file", 0, __WASI_RIGHTS_FD_READ, 0, &file), 0);
  EXPECT_EQ("open dir", open_at("dir", __WASI_OFLAGS_DIRECTORY, __WASI_RIGHTS_FD_READDIR, 0, &dir),
            0);
  advise_and_allocate(file, dir);
  times(file, dir);
  readdir(file, dir);
  poll(file, dir);
  rights(file, dir);
  misc(file, dir);
  EXPECT_EQ("close file", __wasi_fd_close(file), 0);
  EXPECT_EQ("close dir", __wasi_fd_close(dir), 0);
  renumber();
  EXPECT_EQ("unlink inner", __wasi_path_unlink_file(DIR_FD, "dir/inner"), 0);
  EXPECT_EQ("rmdir", __wasi_path_remove_directory(DIR_FD, "dir"), 0);
  EXPECT_EQ("unlink", __wasi_path_unlink_file(DIR_FD, "file"), 0);
  return finish("errnos");
}
