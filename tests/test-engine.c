// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-engine.c: the I/O engines' timer operation (IO_OP_TIMEOUT), which
 * the I/O threads' idle rechecks use, under each engine this build has and,
 * for io_uring, on a restricted ring as the daemons run it: it completes
 * with -ETIME and not before its time, a cancelled one completes with
 * -ECANCELED at once, and a pending timer holds up no other completion.
 *
 * Then in_thread reads and writes of a file in memory (a memfd): their
 * results, and with io_uring where they are done, seen by whether the
 * kernel had to start an io-wq worker (iou-wrk) for them.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "tap.h"
#include "test-op.h"
#include "test-util.h"

static void timer_op(struct result *r, uint32_t ms)
{
	memset(r, 0, sizeof(*r));
	r->op.opcode = IO_OP_TIMEOUT;
	r->op.timeout_ms = ms;
	r->op.done = on_done;
}

/* Run e until r is done or limit_ms have passed; false on an engine error. */
static bool run_until(struct io_engine *e, struct result *r, long long limit_ms)
{
	long long end = now_ms() + limit_ms;

	while (!r->done && now_ms() < end) {
		if (io_engine_run(e, true) < 0)
			return false;
	}
	return true;
}

static void test_fires(struct io_engine *e, const char *name)
{
	struct result r;
	long long t0, took;
	bool ran;

	timer_op(&r, 50);
	t0 = now_ms();
	io_engine_queue(e, &r.op);
	ran = run_until(e, &r, 5000);
	took = now_ms() - t0;
	ok(ran && r.done && r.res == -ETIME,
	   "%s: a 50 ms timer completes with -ETIME (done %d, res %d)", name,
	   r.done, r.res);
	/* Only the lower bound is behaviour; how late it comes is not. */
	ok(took >= 49, "%s: the timer does not fire early (%lld ms)", name, took);
}

static void test_cancel(struct io_engine *e, const char *name)
{
	struct result r;
	bool ran;

	timer_op(&r, 60000);
	io_engine_queue(e, &r.op);
	io_engine_run(e, false);
	ok(!r.done, "%s: a 60 s timer is still pending after a run", name);
	io_engine_cancel(e, &r.op);
	ran = run_until(e, &r, 5000);
	ok(ran && r.done && r.res == -ECANCELED,
	   "%s: a cancelled timer completes with -ECANCELED (done %d, res %d)",
	   name, r.done, r.res);
}

/* An eventfd read completes while a long timer is pending. */
static void test_beside_other_ops(struct io_engine *e, const char *name, int evfd)
{
	struct result t, k;
	bool ran;

	timer_op(&t, 60000);
	io_engine_queue(e, &t.op);
	memset(&k, 0, sizeof(k));
	k.op.opcode = IO_OP_READ_EVENTFD;
	k.op.fd = evfd;
	k.op.done = on_done;
	io_engine_queue(e, &k.op);
	io_engine_run(e, false);
	eventfd_write(evfd, 3);
	ran = run_until(e, &k, 5000);
	ok(ran && k.done && k.res == 8 && k.op.evbuf == 3,
	   "%s: an eventfd read completes beside a pending timer (res %d)", name,
	   k.res);
	ok(!t.done, "%s: the timer is still pending", name);
	io_engine_cancel(e, &t.op);
	run_until(e, &t, 5000);
	ok(t.done && t.res == -ECANCELED, "%s: and is cancelled after (res %d)",
	   name, t.res);
}

/* ---- in_thread copies ------------------------------------------------ */

#define COPY_FILE	(1u << 20)

/* io_uring's worker threads in this process (of thread owner, if not 0). */
static int iou_workers_of(pid_t owner)
{
	char want[32];
	DIR *dir = opendir("/proc/self/task");
	struct dirent *de;
	int n = 0;

	if (!dir)
		return -1;
	snprintf(want, sizeof(want), owner ? "iou-wrk-%d\n" : "iou-wrk",
		 (int)owner);
	while ((de = readdir(dir))) {
		char path[300], comm[32] = "";
		FILE *f;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof(comm), f) &&
		    !strncmp(comm, want, strlen(want)))
			n++;
		fclose(f);
	}
	closedir(dir);
	return n;
}

static int iou_workers(void)
{
	return iou_workers_of(0);
}

struct copy {
	struct result r;
	struct iovec iov;
	uint8_t *buf;
};

/*
 * Queue n in_thread ops of len bytes each (reads, or writes of pattern
 * seed), at offsets len apart, as one pass; run until all are done.  True
 * when every one moved len bytes and none completed before run().
 */
static bool copy_pass(struct io_engine *e, int fd, uint8_t op, unsigned int n,
		      size_t len, unsigned int seed, uint8_t *bufs)
{
	struct copy c[16];
	bool early = false, good = true;
	long end = now_ms() + 5000;
	unsigned int left = n;

	for (unsigned int i = 0; i < n; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].buf = bufs + i * len;
		if (op == IO_OP_WRITEV)
			pattern(c[i].buf, len, seed + i);
		c[i].iov = (struct iovec){ c[i].buf, len };
		c[i].r.op = (struct io_op){
			.done = on_done, .opcode = op, .fd = fd, .iovcnt = 1,
			.iov = &c[i].iov, .off = (uint64_t)i * len, .len = len,
			.in_thread = true,
		};
		io_engine_queue(e, &c[i].r.op);
	}
	for (unsigned int i = 0; i < n; i++)
		early |= c[i].r.done;
	while (left && now_ms() < end) {
		if (io_engine_run(e, true) < 0)
			return false;
		left = 0;
		for (unsigned int i = 0; i < n; i++)
			left += !c[i].r.done;
	}
	for (unsigned int i = 0; i < n; i++)
		good &= c[i].r.done && c[i].r.res == (int)len;
	return good && !early;
}

/* The file holds pattern seed + i in each of n blocks of len bytes. */
static bool file_holds(int fd, unsigned int n, size_t len, unsigned int seed,
		       uint8_t *buf)
{
	for (unsigned int i = 0; i < n; i++) {
		if (pread(fd, buf, len, (off_t)(i * len)) != (ssize_t)len ||
		    !is_pattern(buf, len, seed + i))
			return false;
	}
	return true;
}

static void fill_file(int fd, unsigned int n, size_t len, unsigned int seed,
		      uint8_t *buf)
{
	for (unsigned int i = 0; i < n; i++) {
		pattern(buf, len, seed + i);
		if (pwrite(fd, buf, len, (off_t)(i * len)) != (ssize_t)len)
			exit(99);
	}
}

/* Does the kernel hand io_uring's reads of fd to a worker?  (tmpfs: yes.) */
static bool kernel_punts(int fd)
{
	uint8_t b[512];
	struct iovec iov = { b, sizeof(b) };

	return preadv2(fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
}

/* Each buffer's bytes are pattern seed + i. */
static bool bufs_hold(const uint8_t *bufs, unsigned int n, size_t len,
		      unsigned int seed)
{
	for (unsigned int i = 0; i < n; i++) {
		if (!is_pattern(bufs + i * len, len, seed + i))
			return false;
	}
	return true;
}

/* n blocks of len written to the file come back through in_thread reads. */
static bool reads_back(struct io_engine *e, int fd, unsigned int n, size_t len,
		       unsigned int seed, uint8_t *bufs)
{
	fill_file(fd, n, len, seed, bufs);
	return copy_pass(e, fd, IO_OP_READV, n, len, 0, bufs) &&
	       bufs_hold(bufs, n, len, seed);
}

/* n blocks of len written by in_thread writes are in the file. */
static bool writes_land(struct io_engine *e, int fd, unsigned int n, size_t len,
			unsigned int seed, uint8_t *bufs)
{
	return copy_pass(e, fd, IO_OP_WRITEV, n, len, seed, bufs) &&
	       file_holds(fd, n, len, seed, bufs);
}

/* An engine of kind on fd for the copy cases, or NULL (a failed check). */
static struct io_engine *copy_engine(enum io_engine_kind kind, int fd)
{
	struct io_engine_opts o = { .depth = 16, .files = &fd, .nfiles = 1 };
	struct io_engine *e = NULL;

	if (!ok(io_engine_create(kind, &o, &e) == 0,
		"%s: the engine starts for in_thread copies",
		io_engine_kind_name(kind)))
		return NULL;
	return e;
}

/*
 * io_uring: a lone op and large ops are copied by the thread (no worker
 * is started), many small ones in one pass go to the kernel's worker.
 * Runs first, while this thread has no worker yet.
 */
static void test_copies_uring(int fd, uint8_t *bufs)
{
	struct io_engine *e = copy_engine(IO_ENGINE_URING, fd);
	bool punts = kernel_punts(fd);

	if (!e)
		return;
	ok(reads_back(e, fd, 1, 4096, 10, bufs),
	   "io_uring: a lone in_thread read returns the file's data from run()");
	ok(writes_land(e, fd, 1, 4096, 20, bufs),
	   "io_uring: a lone in_thread write puts its data in the file");
	ok(reads_back(e, fd, 4, 64 << 10, 30, bufs),
	   "io_uring: four 64 KiB in_thread reads in one pass return the data");
	if (punts) {
		ok(iou_workers() == 0,
		   "io_uring: the lone ops and the large ones were copied by the thread (%d io-wq workers)",
		   iou_workers());
	} else {
		tap_skip("this kernel reads a memfd without blocking: io_uring starts no worker to avoid");
	}
	ok(reads_back(e, fd, 8, 4096, 40, bufs),
	   "io_uring: eight 4 KiB in_thread reads in one pass return the data");
	if (punts)
		ok(iou_workers() > 0,
		   "io_uring: those went to the kernel's worker (%d io-wq workers)",
		   iou_workers());
	io_engine_destroy(e);
}

struct beside {
	int fd;
	uint8_t *bufs;
	bool punts;
};

/*
 * In a thread of its own (io_uring's workers are per thread): a lone
 * in_thread read while another file op of the thread waits in the kernel
 * (a read of an empty pipe) is not copied but goes to the ring, whose
 * worker takes it.
 */
static void *lone_beside_pending(void *arg)
{
	struct beside *b = arg;
	struct io_engine *e = copy_engine(IO_ENGINE_URING, b->fd);
	struct result pend;
	struct iovec iov;
	uint64_t word = 0;
	int p[2];

	if (!e)
		return NULL;
	if (pipe(p) < 0)
		exit(99);
	memset(&pend, 0, sizeof(pend));
	iov = (struct iovec){ &word, sizeof(word) };
	pend.op = (struct io_op){ .done = on_done, .opcode = IO_OP_READV,
				  .fd = p[0], .iovcnt = 1, .iov = &iov };
	io_engine_queue(e, &pend.op);
	io_engine_run(e, false);
	ok(reads_back(e, b->fd, 1, 4096, 70, b->bufs) && !pend.done,
	   "io_uring: a lone in_thread read beside a pending file op returns the data");
	if (b->punts)
		ok(iou_workers_of(gettid()) > 0,
		   "io_uring: and went to the kernel's worker, not copied (%d io-wq workers)",
		   iou_workers_of(gettid()));
	if (write(p[1], &word, sizeof(word)) != sizeof(word))
		exit(99);
	for (long end = now_ms() + 5000; !pend.done && now_ms() < end;)
		io_engine_run(e, true);
	ok(pend.done && pend.res == (int)sizeof(word),
	   "io_uring: the pending op completes after (res %d)", pend.res);
	io_engine_destroy(e);
	close(p[0]);
	close(p[1]);
	return NULL;
}

static void test_lone_beside_pending(int fd, uint8_t *bufs)
{
	struct beside b = { fd, bufs, kernel_punts(fd) };
	pthread_t t;

	if (pthread_create(&t, NULL, lone_beside_pending, &b))
		exit(99);
	pthread_join(t, NULL);
}

/* libaio takes the hint as a plain op: io_submit() copies it anyway. */
static void test_copies_aio(int fd, uint8_t *bufs)
{
	struct io_engine *e = copy_engine(IO_ENGINE_AIO, fd);

	if (!e)
		return;
	ok(reads_back(e, fd, 8, 4096, 50, bufs),
	   "libaio: in_thread reads return the file's data");
	ok(writes_land(e, fd, 2, 4096, 60, bufs),
	   "libaio: in_thread writes put their data in the file");
	io_engine_destroy(e);
}

static void test_copies(void)
{
	int fd = memfd_create("vu-test-engine", MFD_CLOEXEC);
	uint8_t *bufs = malloc(16 * (64 << 10));

	if (fd < 0 || !bufs || ftruncate(fd, COPY_FILE) < 0)
		exit(99);
#ifdef HAVE_LIBURING
	if (uring_engine_probe() == 0) {
		test_copies_uring(fd, bufs);
		test_lone_beside_pending(fd, bufs);
	}
#endif
#ifdef HAVE_LIBAIO
	test_copies_aio(fd, bufs);
#endif
	free(bufs);
	close(fd);
}

/* ---- timers ------------------------------------------------------------ */

static void test_engine(enum io_engine_kind kind, bool restrict_ops)
{
	int evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	struct io_engine_opts o = {
		.depth = 8, .files = &evfd, .nfiles = 1, .max_wait_fds = 1,
		.restrict_ops = restrict_ops,
	};
	struct io_engine *e = NULL;
	char name[64];
	int ret = io_engine_create(kind, &o, &e);

	snprintf(name, sizeof(name), "%s%s", io_engine_kind_name(kind),
		 restrict_ops ? " (restricted)" : "");
	if (!ok(ret == 0, "%s: the engine starts (%s)", name, strerror(-ret))) {
		close(evfd);
		return;
	}
	test_fires(e, name);
	test_cancel(e, name);
	test_beside_other_ops(e, name, evfd);
	io_engine_destroy(e);
	close(evfd);
}

int main(void)
{
	test_copies();
#ifdef HAVE_LIBURING
	if (uring_engine_probe() == 0) {
		test_engine(IO_ENGINE_URING, false);
		test_engine(IO_ENGINE_URING, true);
	} else {
		tap_skip("io_uring is not available on this host");
	}
#endif
#ifdef HAVE_LIBAIO
	test_engine(IO_ENGINE_AIO, false);
#endif
	return tap_done();
}
