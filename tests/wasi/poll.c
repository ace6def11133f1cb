/* Clocks, poll_oneoff and timestamps: clock subscriptions (relative and absolute), fd
 * subscriptions on files (ready at once), a bad descriptor (EBADF for the call), no
 * subscriptions (EINVAL); path_filestat_set_times with NOW flags and the EINVAL of a value
 * together with NOW. */
#include "check.h"

static __wasi_timestamp_t now(__wasi_clockid_t id) {
  __wasi_timestamp_t t = 0;
  EXPECT_EQ("clock_time_get", __wasi_clock_time_get(id, 1, &t), 0);
  return t;
}

int main(void) {
  __wasi_timestamp_t res;
  EXPECT_EQ("res realtime", __wasi_clock_res_get(__WASI_CLOCKID_REALTIME, &res), 0);
  EXPECT_TRUE("res positive", res > 0);
  EXPECT_EQ("res monotonic", __wasi_clock_res_get(__WASI_CLOCKID_MONOTONIC, &res), 0);
  EXPECT_TRUE("realtime after 2020", now(__WASI_CLOCKID_REALTIME) > 1577836800ull * 1000000000ull);

  __wasi_subscription_t subs[3];
  __wasi_event_t events[3];
  __wasi_size_t n;
  memset(subs, 0, sizeof subs);
  EXPECT_EQ("no subscriptions", __wasi_poll_oneoff(subs, events, 0, &n), __WASI_ERRNO_INVAL);

  /* A relative 10 ms timeout. */
  subs[0].userdata = 42;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 10 * 1000000;
  __wasi_timestamp_t before = now(__WASI_CLOCKID_MONOTONIC);
  EXPECT_EQ("poll clock", __wasi_poll_oneoff(subs, events, 1, &n), 0);
  EXPECT_EQ("one event", n, 1);
  EXPECT_EQ("clock userdata", events[0].userdata, 42);
  EXPECT_EQ("clock error", events[0].error, 0);
  EXPECT_EQ("clock type", events[0].type, __WASI_EVENTTYPE_CLOCK);
  EXPECT_TRUE("slept 10 ms", now(__WASI_CLOCKID_MONOTONIC) - before >= 10 * 1000000);

  /* An absolute deadline already passed fires at once. */
  subs[0].u.u.clock.timeout = now(__WASI_CLOCKID_MONOTONIC);
  subs[0].u.u.clock.flags = __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME;
  EXPECT_EQ("poll absolute", __wasi_poll_oneoff(subs, events, 1, &n), 0);
  EXPECT_EQ("absolute event", n, 1);

  /* A file is always ready; a long timeout beside it does not fire. (One descriptor per
   * call: with several, Wasmtime reports those whose background I/O happened to be ready
   * first, which the scheduler decides.) */
  make_file("file", "abc");
  __wasi_fd_t fd;
  EXPECT_EQ("open", open_at("file", 0, __WASI_RIGHTS_FD_READ | __WASI_RIGHTS_POLL_FD_READWRITE,
                            0, &fd), 0);
  memset(subs, 0, sizeof subs);
  subs[0].userdata = 1;
  subs[0].u.tag = __WASI_EVENTTYPE_CLOCK;
  subs[0].u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
  subs[0].u.u.clock.timeout = 60ull * 1000000000ull;
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = fd;
  EXPECT_EQ("poll file", __wasi_poll_oneoff(subs, events, 2, &n), 0);
  EXPECT_EQ("one file event", n, 1);
  EXPECT_EQ("file event", events[0].userdata, 2);
  EXPECT_EQ("file event type", events[0].type, __WASI_EVENTTYPE_FD_READ);
  EXPECT_EQ("file event error", events[0].error, 0);
  EXPECT_EQ("file event bytes", events[0].fd_readwrite.nbytes, 1);
  EXPECT_EQ("file event flags", events[0].fd_readwrite.flags, 0);
  subs[1].userdata = 3;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_WRITE;
  subs[1].u.u.fd_write.file_descriptor = 1;
  EXPECT_EQ("poll stdout", __wasi_poll_oneoff(subs, events, 2, &n), 0);
  EXPECT_EQ("one stdout event", n, 1);
  EXPECT_EQ("stdout event", events[0].userdata, 3);
  EXPECT_EQ("stdout event type", events[0].type, __WASI_EVENTTYPE_FD_WRITE);
  subs[1].userdata = 2;
  subs[1].u.tag = __WASI_EVENTTYPE_FD_READ;
  subs[1].u.u.fd_read.file_descriptor = fd;

  /* At the end of the file the event says so. */
  __wasi_filesize_t end;
  EXPECT_EQ("seek to the end", __wasi_fd_seek(fd, 0, __WASI_WHENCE_END, &end), 0);
  EXPECT_EQ("poll at the end", __wasi_poll_oneoff(subs, events, 2, &n), 0);
  EXPECT_EQ("end event", n, 1);
  EXPECT_EQ("end event flags", events[0].fd_readwrite.flags,
            __WASI_EVENTRWFLAGS_FD_READWRITE_HANGUP);
  EXPECT_EQ("seek back", __wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &end), 0);

  /* A descriptor that is not open fails the whole call, as in Wasmtime. */
  subs[1].u.u.fd_read.file_descriptor = 77;
  n = 99;
  EXPECT_EQ("poll bad fd", __wasi_poll_oneoff(subs, events, 2, &n), __WASI_ERRNO_BADF);
  EXPECT_EQ("no events", n, 99);

  /* Timestamps. */
  const __wasi_timestamp_t when = 1000000000ull * 1000000000ull / 1000; /* 1e15 ns */
  EXPECT_EQ("set mtim, atim now",
            __wasi_path_filestat_set_times(DIR_FD, 0, "file", 0, when,
                                           __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM), 0);
  __wasi_filestat_t st;
  EXPECT_EQ("stat", __wasi_path_filestat_get(DIR_FD, 0, "file", &st), 0);
  EXPECT_EQ("mtim set", st.mtim, when);
  EXPECT_TRUE("atim is now", st.atim > 1577836800ull * 1000000000ull);
  EXPECT_EQ("set atim only", __wasi_path_filestat_set_times(DIR_FD, 0, "file", when, 0,
                                                            __WASI_FSTFLAGS_ATIM), 0);
  EXPECT_EQ("stat 2", __wasi_path_filestat_get(DIR_FD, 0, "file", &st), 0);
  EXPECT_EQ("atim set", st.atim, when);
  EXPECT_EQ("mtim kept", st.mtim, when);
  EXPECT_EQ("atim and atim_now",
            __wasi_path_filestat_set_times(DIR_FD, 0, "file", 0, 0,
                                           __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("mtim and mtim_now",
            __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
            __WASI_ERRNO_INVAL);
  EXPECT_EQ("fd mtim now", __wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0);
  EXPECT_EQ("fd stat", __wasi_fd_filestat_get(fd, &st), 0);
  EXPECT_TRUE("mtim now", st.mtim > when);
  EXPECT_EQ("close", __wasi_fd_close(fd), 0);
  EXPECT_EQ("unlink", __wasi_path_unlink_file(DIR_FD, "file"), 0);
  return finish("clocks, poll and times");
}
