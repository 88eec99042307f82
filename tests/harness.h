/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * harness.h: helpers for tests that drive a real daemon: starting and
 * stopping it in a scratch directory, counting its fds, running other
 * programs, and canaries in guest memory.  The synchronous virtio-blk and
 * virtio-scsi clients (blkc_*, scsic_*) are the front-end library's.
 */
#ifndef VU_HARNESS_H
#define VU_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "front.h"
#include "front_blk.h"
#include "front_scsi.h"
#include "json.h"

struct daemon {
	pid_t pid;
	char dir[256];
	char sock[300];
	char log[300];
	char ctl[300];		/* its control socket, or "" */
};

/* Was the daemon built with this engine?  Missing engines skip their runs. */
bool engine_built(const char *aio);

/* A scratch directory removed by harness_cleanup(). */
const char *harness_dir(void);
void harness_cleanup(void);

/*
 * Start the daemon named by $VHOST_URING_BLK (default ./vhost-uring-blk)
 * with --socket-path in the scratch dir plus args (NULL-terminated).
 * Waits for the socket.  Returns 0 or -1.
 */
int daemon_start(struct daemon *d, const char *const *args);
/* The same with another daemon binary (e.g. scsi_daemon_binary()). */
int daemon_start_bin(struct daemon *d, const char *bin, const char *const *args);
/* The same with --control-socket at d->ctl in the scratch directory. */
int daemon_start_ctl(struct daemon *d, const char *bin,
		     const char *const *args);
/* $VHOST_URING_BLK, default ./vhost-uring-blk. */
const char *blk_daemon_binary(void);
/* $VHOST_URING_SCSI, default ./vhost-uring-scsi. */
const char *scsi_daemon_binary(void);
/* SIGTERM, wait; the exit status, or -1 if it died from a signal. */
int daemon_stop(struct daemon *d);
bool daemon_alive(struct daemon *d);
int daemon_fd_count(const struct daemon *d);
/* The fd count once it has stayed the same for 100 ms (up to 3 s). */
int daemon_settled_fd_count(const struct daemon *d);
/* The daemon's own threads (io_uring's iou-* workers not counted), or -1. */
int daemon_thread_count(const struct daemon *d);
/* The daemon's resident memory (VmRSS) in KiB, or -1. */
long daemon_rss_kib(const struct daemon *d);
/* Does the daemon's log contain s? */
bool daemon_log_has(const struct daemon *d, const char *s);
/* The end of the daemon's log so far, to look at what it logs next. */
long daemon_log_mark(const struct daemon *d);
/* How many lines logged since mark contain s. */
int daemon_log_count(const struct daemon *d, long mark, const char *s);
/* Wait up to timeout_ms for a line containing s logged since mark. */
bool daemon_wait_log(const struct daemon *d, long mark, const char *s,
		     int timeout_ms);
/* Print what the daemon logged since mark as TAP diagnostics ("# ..."). */
void daemon_log_diag(const struct daemon *d, long mark);
/*
 * The first line of the file at path, from offset from on, that contains s,
 * into line (without its newline); false when there is none.
 */
bool file_line(const char *path, long from, const char *s, char *line,
	       size_t len);
/* Wait up to timeout_ms for the daemon to hold n fds; the last count. */
int daemon_wait_fds(const struct daemon *d, int n, int timeout_ms);
/*
 * Is the daemon alive and does a fresh connection serve I/O: write a
 * pattern at sector, read it back through other buffers, compare.
 */
bool daemon_serves(struct daemon *d, uint64_t sector);
/* A sparse image file of size bytes (exits 99 if it cannot be made). */
void image_create(const char *path, uint64_t size);
/* An image file of size bytes of pseudo-random data from seed (or exit 99). */
void image_create_random(const char *path, uint64_t size, unsigned int seed);
/* Write len bytes at off into the file at path, made if need be (or exit 99). */
void file_put(const char *path, uint64_t off, const void *buf, size_t len);
/*
 * qemu-img create -f fmt [opts...] path size: its exit status, what it
 * printed in out.  opts is NULL-terminated (or NULL).
 */
int qemu_img_create(const char *path, const char *fmt, const char *size,
		    const char *const *opts, char *out, size_t len);

/*
 * Loop devices (root): attach img and put the device's path in dev (0, or
 * -1 when no loop device can be set up); read the backing file's size
 * again (losetup -c); detach.
 */
int loop_attach(const char *img, char *dev, size_t len);
int loop_set_capacity(const char *dev);
void loop_detach(const char *dev);

/* What a daemon test starts from: an engine and an image. */
struct test_env {
	const char *aio;	/* $TEST_AIO, default io_uring */
	char aio_arg[64];	/* --aio=... */
	char img[300];		/* a fresh image in the scratch directory */
	char img_arg[320];	/* --blk-file=... */
};

/*
 * Fill e and create the image.  Returns false, after printing a TAP plan
 * that skips everything, when this build lacks the engine.
 */
bool test_env_init(struct test_env *e, uint64_t img_size);

/* The outcome of a test case made of many checks: the first that failed. */
struct verdict {
	char fail[320];
};

/* Record cond; the first false one keeps its message.  Returns cond. */
bool verdict_check(struct verdict *v, bool cond, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * After a hostile case, is the daemon well?  It must hold base_fds again,
 * have logged a line containing log since mark (log NULL: not checked),
 * be alive, serve a fresh connection at sector, hold base_fds again and,
 * when stop is set, exit 0 on SIGTERM (under ASan: without leaks).
 */
void daemon_aftermath(struct verdict *v, struct daemon *d, int base_fds,
		      long mark, const char *log, uint64_t sector, bool stop);

/*
 * Run argv (a program found in $PATH, or a path) to completion: its exit
 * status, or -1 if a signal ended it; what it wrote to stdout and stderr
 * in buf.
 */
int run_cmd(const char *const *argv, char *buf, size_t len);
/*
 * Start argv in the background, stdout and stderr to log; with in, *in is
 * the write end of a pipe to its stdin.  It dies with the test.  Returns
 * its pid or -1.  cmd_stop() kills it (SIGTERM) and reaps it.
 */
pid_t spawn_cmd(const char *const *argv, const char *log, int *in);
void cmd_stop(pid_t pid);
/* Is there a program of that name in $PATH? */
bool have_program(const char *name);

/*
 * Run a daemon binary whose start-up must fail, with --socket-path in the
 * scratch directory plus args, killed if it still runs after 20 s: its
 * exit status (-1 when it had to be killed), stderr in buf.
 */
int run_daemon_refused(const char *bin, const char *const *args, char *buf,
		       size_t len);
/* Run the daemon binary to completion; returns exit status, stderr in buf. */
int run_daemon_cmd(const char *const *args, char *buf, size_t len);
/* The same with another daemon binary (e.g. scsi_daemon_binary()). */
int run_daemon_cmd_bin(const char *bin, const char *const *args, char *buf,
		       size_t len);

/* ---- the control socket ------------------------------------------------ */

/* Connect to the control socket at path: the fd, or -1. */
int ctl_connect(const char *path);
/*
 * Send line (an LF is added) on fd, then read one response line (its LF
 * dropped) into reply within timeout_ms: its length, or -1.
 */
int ctl_exchange(int fd, const char *line, char *reply, size_t len,
		 int timeout_ms);
/* Only the reading half of ctl_exchange(). */
int ctl_read_line(int fd, char *reply, size_t len, int timeout_ms);
/* Both on a fresh connection to d's control socket: the length, or -1. */
int ctl_request(const struct daemon *d, const char *line, char *reply,
		size_t len);

/* A reply parsed (json.h), for looking values up by path. */
struct ctl_json {
	struct json_doc doc;
	const struct json_node *root;	/* NULL: not JSON (doc.err says why) */
	char *text;
};

/* Parse text (copied); ctl_json_free() frees it. */
struct ctl_json *ctl_json_parse(const char *text);
void ctl_json_free(struct ctl_json *j);
/*
 * The value at path under n: member names and array indices separated by
 * dots ("result.luns.1.read_ops"); NULL when there is none.
 */
const struct json_node *json_at(const struct json_node *n, const char *path);
/* The integer at path, or UINT64_MAX when there is none. */
uint64_t json_u64_at(const struct json_node *n, const char *path);
/* The string at path, or "" when there is none. */
const char *json_str_at(const struct json_node *n, const char *path);

/*
 * Run vhost-uring-ctl ($VHOST_URING_CTL, default ./vhost-uring-ctl) with
 * --socket=d->ctl and args (NULL-terminated): its exit status, stdout in
 * out and stderr in err, its newlines made spaces (either may be NULL).
 */
int run_ctl(const struct daemon *d, const char *const *args, char *out,
	    size_t out_len, char *err, size_t err_len);

/*
 * The host page cache over len bytes at off of the file at path, in pages
 * (cachestat(2)): what a write left behind tells whether it went through
 * the page cache and whether it was durable when it completed.  Returns 0,
 * or -1 where that cannot be seen (a kernel before 6.5, tmpfs).
 */
struct page_state {
	uint64_t cached;
	uint64_t dirty;
	uint64_t writeback;
};

int page_state(const char *path, uint64_t off, uint64_t len,
	       struct page_state *ps);

/*
 * Canaries: a copy of all of guest memory, then a check that nothing
 * changed outside the ranges the device was allowed to write.
 */
struct range {
	const void *p;
	size_t len;
};

uint8_t *guest_snapshot(const struct front *f);
/* Offset of the first byte changed outside ok[], or -1 if none. */
long guest_changed_outside(const struct front *f, const uint8_t *snap,
			   const struct range *ok, unsigned int n);
/* Fill guest memory with a pattern that no device write reproduces. */
void guest_fill_pattern(void *p, size_t len, unsigned int seed);

#endif
