/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * test-case.h: the frame of the hostile suites (test-hostile-msg-proto,
 * test-hostile-msg-mem, test-hostile-ring): a case's daemon, its TAP line,
 * and the suite run twice, each case on a daemon of its own and then all
 * on one daemon.
 */
#ifndef VU_TEST_CASE_H
#define VU_TEST_CASE_H

#include <stdbool.h>

#include "harness.h"
#include "tap.h"

/*
 * The daemon a case runs on: shared, or own started with args (a start
 * that fails fails v, and NULL is returned).  Sets *base to its settled fd
 * count and *mark to the end of its log so far.
 */
static inline struct daemon *case_daemon(struct daemon *own, struct daemon *shared,
					 const char *const *args, struct verdict *v,
					 int *base, long *mark)
{
	struct daemon *d = shared ? shared : own;

	if (!shared && daemon_start(own, args) < 0) {
		verdict_check(v, false, "the daemon does not start");
		return NULL;
	}
	*base = daemon_settled_fd_count(d);
	*mark = daemon_log_mark(d);
	return d;
}

/* A case's TAP line; on a failure, why and the daemon's log since mark. */
static inline bool case_verdict(const struct verdict *v, const struct daemon *d,
				long mark, bool shared, const char *name)
{
	if (!ok(!v->fail[0], "%s%s", shared ? "again on one daemon: " : "", name)) {
		tap_diag("%s", v->fail);
		daemon_log_diag(d, mark);
	}
	return !v->fail[0];
}

/*
 * Runs case i: on shared, or on a daemon of its own when shared is NULL
 * (it may leave out a case that needs a daemon of its own).
 */
typedef void (*case_run_fn)(unsigned int i, struct daemon *shared);

/*
 * Every one of n cases on a daemon of its own, then on one daemon started
 * with args, which must keep its fds and serve I/O.  Ends the test: returns
 * main's exit status.
 */
static inline int case_suite(unsigned int n, case_run_fn run, const char *const *args)
{
	struct daemon shared;
	int base;

	for (unsigned int i = 0; i < n; i++)
		run(i, NULL);
	if (daemon_start(&shared, args) < 0) {
		ok(false, "a shared daemon starts");
	} else {
		base = daemon_settled_fd_count(&shared);
		for (unsigned int i = 0; i < n; i++)
			run(i, &shared);
		ok(daemon_wait_fds(&shared, base, 5000) == base && daemon_serves(&shared, 8),
		   "after all cases the shared daemon holds its %d fds and serves I/O", base);
		ok(daemon_stop(&shared) == 0, "the shared daemon exits 0 on SIGTERM");
	}
	harness_cleanup();
	return tap_done();
}

#endif
