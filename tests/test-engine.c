// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * test-engine.c: the I/O engines' timer operation (IO_OP_TIMEOUT), which
 * the I/O threads' idle rechecks use, under each engine this build has and,
 * for io_uring, on a restricted ring as the daemons run it: it completes
 * with -ETIME and not before its time, a cancelled one completes with
 * -ECANCELED at once, and a pending timer holds up no other completion.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
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
