/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * harness.h: helpers for tests that drive a real daemon: starting and
 * stopping it in a scratch directory, counting its fds, and synchronous
 * virtio-blk and virtio-scsi clients on top of the project's front end.
 */
#ifndef VU_HARNESS_H
#define VU_HARNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <linux/virtio_scsi.h>

#include "front.h"

struct daemon {
	pid_t pid;
	char dir[256];
	char sock[300];
	char log[300];
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
/* Wait up to timeout_ms for the daemon to hold n fds; the last count. */
int daemon_wait_fds(const struct daemon *d, int n, int timeout_ms);
/*
 * Is the daemon alive and does a fresh connection serve I/O: write a
 * pattern at sector, read it back through other buffers, compare.
 */
bool daemon_serves(struct daemon *d, uint64_t sector);
/* A sparse image file of size bytes (exits 99 if it cannot be made). */
void image_create(const char *path, uint64_t size);

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

/* Run the daemon binary to completion; returns exit status, stderr in buf. */
int run_daemon_cmd(const char *const *args, char *buf, size_t len);
/* The same with another daemon binary (e.g. scsi_daemon_binary()). */
int run_daemon_cmd_bin(const char *bin, const char *const *args, char *buf,
		       size_t len);

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

/* A synchronous virtio-blk client with scratch buffers in guest memory. */
struct blkc {
	struct front f;
	uint8_t *hdr;
	uint8_t *data;
	uint8_t *status;
	struct vring_desc *itable;
	size_t data_size;
};

#define BLKC_DATA_SIZE	(1u << 20)

/*
 * Connect, negotiate want (masked with what is offered; pf likewise), share
 * 16 MiB of guest memory and start nq queues of 128 entries.
 */
int blkc_open(struct blkc *c, const char *sock, unsigned int nq, uint64_t want,
	      uint64_t want_pf);
/* The same with guest memory announced as parts regions. */
int blkc_open_parts(struct blkc *c, const char *sock, unsigned int nq,
		    uint64_t want, uint64_t want_pf, unsigned int parts);
void blkc_close(struct blkc *c);

struct blkc_res {
	uint8_t status;
	uint32_t used_len;
};

/*
 * One request on queue q: header, len bytes of c->data (device-writable if
 * data_in), status byte.  Returns 0 when it completed, -errno otherwise.
 */
int blkc_req(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
	     size_t len, bool data_in, bool indirect, struct blkc_res *res);
/*
 * blkc_req() in two halves, with the data anywhere in guest memory: put
 * the request (one at a time per client: the header is shared) on queue q
 * and kick; then wait up to timeout_ms for it to complete.  The status
 * byte goes to status_gpa (0: c->status, which res->status then copies).
 */
int blkc_submit(struct blkc *c, unsigned int q, uint32_t type, uint64_t sector,
		uint64_t data_gpa, size_t len, bool data_in, uint64_t status_gpa);
int blkc_wait(struct blkc *c, unsigned int q, int timeout_ms,
	      struct blkc_res *res);

/*
 * A synchronous virtio-scsi client: vq 0 control, vq 1 event, vq 2.. the
 * request queues, each of SCSIC_QSIZE entries.  Request and response
 * headers live in SCSIC_SLOTS slots in guest memory (cdb 32, sense 96);
 * dout and din are SCSIC_DATA_SIZE scratch buffers for scsic_cmd().
 */
#define SCSIC_CTRL_VQ	0
#define SCSIC_EVENT_VQ	1
#define SCSIC_REQ_VQ	2
#define SCSIC_QSIZE	128
#define SCSIC_SLOTS	64
#define SCSIC_EVENTS	16
#define SCSIC_DATA_SIZE	(1u << 20)
#define SCSIC_RESP_SIZE	sizeof(struct virtio_scsi_cmd_resp)	/* 108 */

struct scsic {
	struct front f;
	unsigned int nreq;			/* request queues */
	unsigned int rq;			/* the one scsic_cmd() uses */
	struct virtio_scsi_cmd_req *req;	/* [SCSIC_SLOTS] */
	struct virtio_scsi_cmd_resp *resp;	/* [SCSIC_SLOTS] */
	uint8_t *dout;
	uint8_t *din;
	uint8_t *ctrl_req;			/* 64 bytes */
	uint8_t *ctrl_resp;			/* 64 bytes */
	struct virtio_scsi_event *ev;		/* [SCSIC_EVENTS] */
};

/* What the device answered, decoded from the response header. */
struct scsic_res {
	uint8_t response;	/* VIRTIO_SCSI_S_* */
	uint8_t status;		/* SAM status */
	uint32_t sense_len;
	uint8_t sense[VIRTIO_SCSI_SENSE_SIZE];
	uint32_t resid;
	uint32_t used_len;
};

/*
 * Connect, negotiate want (masked with what is offered) with MQ, REPLY_ACK,
 * CONFIG and CONFIGURE_MEM_SLOTS, share 64 MiB of guest memory, start the
 * control, event and nreq request queues; returns once the back end has
 * handled all of that (a GET_FEATURES round trip).
 */
int scsic_open(struct scsic *c, const char *sock, unsigned int nreq,
	       uint64_t want);
void scsic_close(struct scsic *c);

/* The 8-byte virtio-scsi address of a LUN on a target (single level). */
void scsic_lun(uint8_t *addr, unsigned int target, unsigned int lun);

/*
 * Queue a command in slot on request queue rq (not kicked): request header
 * (tag = slot), then dout_len bytes at dout, then the response header
 * (filled with 0xff first), then din_len bytes at din.  dout and din are in
 * guest memory.  Returns the head or -errno.
 */
int scsic_submit(struct scsic *c, unsigned int rq, unsigned int slot,
		 const uint8_t *lun, const uint8_t *cdb, unsigned int cdb_len,
		 const void *dout, uint32_t dout_len, void *din,
		 uint32_t din_len);
/* Kick vq (any vq index). */
void scsic_kick(struct scsic *c, unsigned int vq);
/*
 * Reap one used entry of vq, waiting up to timeout_ms: 1 with the cookie
 * (the slot for scsic_submit()) and used length, 0 on timeout, or -errno.
 */
int scsic_reap(struct scsic *c, unsigned int vq, int timeout_ms,
	       uintptr_t *cookie, uint32_t *used_len);
/* Decode slot's response header. */
void scsic_result(const struct scsic *c, unsigned int slot, uint32_t used_len,
		  struct scsic_res *res);
/* Put any chain on vq, kick, and wait for it (5 s).  0 or -errno. */
int scsic_run(struct scsic *c, unsigned int vq, const struct front_buf *bufs,
	      unsigned int n, uint32_t *used_len);

/*
 * One command on the first request queue, slot 0: dout_len bytes of
 * c->dout out, din_len bytes of c->din in.  0 when it completed, -errno.
 */
int scsic_cmd(struct scsic *c, const uint8_t *lun, const uint8_t *cdb,
	      unsigned int cdb_len, uint32_t dout_len, uint32_t din_len,
	      struct scsic_res *res);

/* Queue and kick a TMF (control queue, cookie SCSIC_TMF_COOKIE). */
#define SCSIC_TMF_COOKIE	0x7f00u
int scsic_tmf_submit(struct scsic *c, uint32_t subtype, const uint8_t *lun,
		     uint64_t tag);
/* A TMF, waited for: *response is the device's answer. */
int scsic_tmf(struct scsic *c, uint32_t subtype, const uint8_t *lun,
	      uint64_t tag, uint8_t *response);
/* AN_QUERY or AN_SUBSCRIBE: the answer and its used length. */
int scsic_an(struct scsic *c, uint32_t type, const uint8_t *lun,
	     uint32_t requested, struct virtio_scsi_ctrl_an_resp *an,
	     uint32_t *used_len);
/* Post n (up to SCSIC_EVENTS) event buffers, filled with 0xff; kick. */
int scsic_post_events(struct scsic *c, unsigned int n);

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
